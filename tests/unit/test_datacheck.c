/* Unit tests: datacheck (what `dvcbot check` runs). The repo's intents/ and
 * templates/ pass once every registry template exists; orphan templates,
 * unknown variables and broken intent files are reported. Run from the repo
 * root. Templates owned by other modules are stubbed in a temporary dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/datacheck.h"
#include "dvcbot/file.h"
#include "dvcbot/replies.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct collected {
    int n;
    char all[32768];
};

static void collect(void *ud, const char *file, const char *field, const char *reason)
{
    struct collected *p = ud;
    size_t len = strlen(p->all);
    p->n++;
    snprintf(p->all + len, sizeof p->all - len, "%s|%s|%s\n", file, field, reason);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A new data dir (dir: a mkdtemp template) with empty intents/ and
 * templates/, their paths into in and tpl. */
static void new_data_dir(char *dir, char *in, char *tpl)
{
    assert_non_null(mkdtemp(dir));
    snprintf(in, PATH_MAX, "%s/intents", dir);
    assert_int_equal(mkdir(in, 0700), 0);
    snprintf(tpl, PATH_MAX, "%s/templates", dir);
    assert_int_equal(mkdir(tpl, 0700), 0);
}

static void remove_dir(const char *dir)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* tmp/intents -> repo intents; tmp/templates: repo templates + stubs, and
 * tmp/templates/console -> the repo's. */
static int setup(void **state)
{
    static char dir[] = "/tmp/dvcbot_check_XXXXXX";
    char cwd[PATH_MAX / 2], path[PATH_MAX], tdir[PATH_MAX];
    if (!mkdtemp(dir) || !getcwd(cwd, sizeof cwd))
        return -1;
    snprintf(path, sizeof path, "%s/intents", cwd);
    snprintf(tdir, sizeof tdir, "%s/intents", dir);
    if (symlink(path, tdir) != 0)
        return -1;
    snprintf(tdir, sizeof tdir, "%s/templates", dir);
    if (mkdir(tdir, 0700) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/templates/console", cwd); /* upload_texts.json */
    snprintf(tdir, sizeof tdir, "%s/templates/console", dir);
    if (symlink(path, tdir) != 0)
        return -1;
    snprintf(tdir, sizeof tdir, "%s/templates", dir);
    size_t n;
    const struct reply_spec *specs = replies_specs(&n);
    for (size_t i = 0; i < n; i++) {
        char name[128];
        snprintf(name, sizeof name, "%s.txt", specs[i].name);
        snprintf(path, sizeof path, "%s/templates/%s", cwd, name);
        char *text = file_read(path, NULL);
        write_file(tdir, name, text ? text : "stub\n");
        free(text);
    }
    /* the data templates: replies named by intents, help screens */
    snprintf(path, sizeof path, "%s/templates", cwd);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(strlen(de->d_name) > 4 ? strlen(de->d_name) - 4 : 0),
                 de->d_name);
        if (de->d_name[0] == '.' || replies_find(name))
            continue;
        snprintf(path, sizeof path, "%s/templates/%s", cwd, de->d_name);
        char *text = file_read(path, NULL);
        if (text)
            write_file(tdir, de->d_name, text);
        free(text);
    }
    closedir(d);
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", (char *)*state);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_repo_data_passes_when_all_templates_exist(void **state)
{
    struct collected p = {0, ""};
    struct datacheck_stats st;
    int n = datacheck_run(*state, collect, &p, &st);
    if (n)
        fail_msg("unexpected problems:\n%s", p.all);
    assert_int_equal(st.intents, 50);
    assert_int_equal(st.procedures, 36);
}

static void test_orphan_template_and_unknown_variable_are_reported(void **state)
{
    char tdir[PATH_MAX];
    snprintf(tdir, sizeof tdir, "%s/templates", (char *)*state);
    write_file(tdir, "orphan.txt", "nobody renders me\n");
    write_file(tdir, "ask_which.txt", "Chọn {{a_name}} hay {{secret}}?\n---\nA | i:{{a_id}}\n");
    struct collected p = {0, ""};
    assert_int_equal(datacheck_run(*state, collect, &p, NULL), 2);
    assert_non_null(strstr(p.all, "templates/orphan.txt"));
    assert_non_null(strstr(p.all, "{{secret}}"));
}

static void test_missing_template_is_reported(void **state)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/templates/procedure_summary.txt", (char *)*state);
    assert_int_equal(remove(path), 0);
    snprintf(path, sizeof path, "%s/templates/orphan.txt", (char *)*state);
    remove(path);
    snprintf(path, sizeof path, "%s/templates/ask_which.txt", (char *)*state);
    remove(path);
    struct collected p = {0, ""};
    assert_true(datacheck_run(*state, collect, &p, NULL) >= 2);
    assert_non_null(strstr(p.all, "templates/procedure_summary.txt"));
    assert_non_null(strstr(p.all, "templates/ask_which.txt"));
}

/* An id whose answer would be "I did not understand" is refused, and so are
 * a reply template that does not exist and a button to no help screen. */
static void test_an_id_nobody_answers_is_refused(void **state)
{
    (void)state;
    char dir[] = "/tmp/dvcbot_served_XXXXXX", sub[PATH_MAX], tpl[PATH_MAX];
    new_data_dir(dir, sub, tpl);
    write_file(sub, "_catalog.tsv", "vui_ve\tchat\tVui vẻ\tx\nhoi_tham\tchat\tHỏi thăm\tx\n"
                                    "gop_y\taction\tGóp ý\tx\nkhac\tfallback\tKhác\tx\n");
    write_file(sub, "vui_ve.json", "{\"id\":\"vui_ve\",\"kind\":\"chat\",\"name\":\"Vui vẻ\","
                                   "\"short_name\":\"Vui\",\"match\":{}}");
    write_file(sub, "hoi_tham.json", "{\"id\":\"hoi_tham\",\"kind\":\"chat\",\"name\":\"Hỏi\","
                                     "\"short_name\":\"Hỏi\",\"reply\":\"khong_co\",\"match\":{}}");
    write_file(sub, "gop_y.json", "{\"id\":\"gop_y\",\"kind\":\"action\",\"name\":\"Góp ý\","
                                  "\"short_name\":\"Góp ý\",\"match\":{}}");
    write_file(sub, "khac.json", "{\"id\":\"khac\",\"kind\":\"fallback\",\"name\":\"Khác\","
                                 "\"short_name\":\"Khác\",\"reply\":\"unknown\",\"match\":{}}");
    write_file(tpl, "unknown.txt", "Chưa hiểu.\n---\nXem | r:help_khong_co\n");
    struct collected p = {0, ""};
    assert_true(datacheck_run(dir, collect, &p, NULL) > 0);
    assert_non_null(strstr(p.all, "intents/vui_ve.json||no dialog handler serves it"));
    assert_non_null(strstr(p.all, "intents/hoi_tham.json|reply|"));
    assert_non_null(strstr(p.all, "templates/unknown.txt||button r:help_khong_co"));
    assert_null(strstr(p.all, "gop_y.json|"));   /* answered by code (served.h) */
    assert_null(strstr(p.all, "intents/khac.json|")); /* answered by its reply */
    remove_dir(dir);
}

/* A reply-answered file may carry "source" and "last_reviewed"; when it
 * does they must be filled in, a real date, and not on a procedure's top. */
static void test_a_reply_source_is_checked(void **state)
{
    (void)state;
    char dir[] = "/tmp/dvcbot_source_XXXXXX", sub[PATH_MAX], tpl[PATH_MAX];
    new_data_dir(dir, sub, tpl);
    write_file(sub, "_catalog.tsv", "co_nguon\tchat\tCó nguồn\tx\nsai_ngay\tchat\tSai\tx\n"
                                    "khong_nguon\tchat\tKhông\tx\nkhac\tfallback\tKhác\tx\n");
    write_file(sub, "co_nguon.json", "{\"id\":\"co_nguon\",\"kind\":\"chat\",\"name\":\"C\","
                                     "\"short_name\":\"C\",\"reply\":\"unknown\",\"source\":"
                                     "\"Điều 10 NQ 190/2025/QH15\",\"last_reviewed\":\"2026-12-02\","
                                     "\"match\":{}}");
    write_file(sub, "sai_ngay.json", "{\"id\":\"sai_ngay\",\"kind\":\"chat\",\"name\":\"S\","
                                     "\"short_name\":\"S\",\"reply\":\"unknown\",\"source\":\"x\","
                                     "\"last_reviewed\":\"2026-13-02\",\"match\":{}}");
    write_file(sub, "khong_nguon.json", "{\"id\":\"khong_nguon\",\"kind\":\"chat\",\"name\":"
                                        "\"K\",\"short_name\":\"K\",\"reply\":\"unknown\","
                                        "\"source\":\"\",\"match\":{}}");
    write_file(sub, "khac.json", "{\"id\":\"khac\",\"kind\":\"fallback\",\"name\":\"Khác\","
                                 "\"short_name\":\"Khác\",\"reply\":\"unknown\",\"match\":{}}");
    write_file(tpl, "unknown.txt", "Chưa hiểu.\n---\nMenu | menu\n");
    struct collected p = {0, ""};
    assert_true(datacheck_run(dir, collect, &p, NULL) > 0);
    assert_null(strstr(p.all, "intents/co_nguon.json|"));
    assert_non_null(strstr(p.all, "intents/sai_ngay.json|last_reviewed|"));
    assert_non_null(strstr(p.all, "intents/khong_nguon.json|source|"));
    remove_dir(dir);
}

/* The out-of-scope topics of khac.json ("outside"): each names phrases
 * written lower case without diacritics and a template that exists; the
 * topic's template is data (no "nobody renders it"). */
static void test_outside_topics_are_checked(void **state)
{
    (void)state;
    char dir[] = "/tmp/dvcbot_outside_XXXXXX", sub[PATH_MAX], tpl[PATH_MAX];
    new_data_dir(dir, sub, tpl);
    write_file(sub, "_catalog.tsv", "khac\tfallback\tKhác\tx\n");
    write_file(sub, "khac.json", "{\"id\":\"khac\",\"kind\":\"fallback\",\"name\":\"Khác\","
                                 "\"short_name\":\"Khác\",\"reply\":\"unknown\",\"outside\":["
                                 "{\"phrases\":[\"vssid\"],\"reply\":\"outside_a\"},"
                                 "{\"phrases\":[\"Bảo hiểm\"],\"reply\":\"outside_b\"},"
                                 "{\"phrases\":[],\"reply\":\"outside_c\"}],\"match\":{}}");
    write_file(tpl, "unknown.txt", "Chưa hiểu.\n---\nMenu | menu\n");
    write_file(tpl, "outside_a.txt", "Hỏi Bảo hiểm xã hội.\n---\nMenu | menu\n");
    write_file(tpl, "outside_b.txt", "Hỏi nơi khác.\n---\nMenu | menu\n");
    struct collected p = {0, ""};
    assert_true(datacheck_run(dir, collect, &p, NULL) > 0); /* the rest of a catalog is missing */
    assert_non_null(strstr(p.all, "intents/khac.json|outside[1]|a phrase must be lower case"));
    assert_non_null(strstr(p.all, "intents/khac.json|outside[2]|\"phrases\""));
    assert_non_null(strstr(p.all, "intents/khac.json|outside[2]|\"reply\" names no existing"));
    assert_null(strstr(p.all, "outside[0]"));
    assert_null(strstr(p.all, "outside_a.txt")); /* rendered as data */
    remove_dir(dir);
}

/* "nothing_asked" of khac.json: lists of single words and a template that
 * exists; its template is data. */
static void test_nothing_asked_is_checked(void **state)
{
    (void)state;
    char dir[] = "/tmp/dvcbot_asked_XXXXXX", sub[PATH_MAX], tpl[PATH_MAX];
    new_data_dir(dir, sub, tpl);
    write_file(sub, "_catalog.tsv", "khac\tfallback\tKhác\tx\n");
    write_file(sub, "khac.json", "{\"id\":\"khac\",\"kind\":\"fallback\",\"name\":\"Khác\","
                                 "\"short_name\":\"Khác\",\"reply\":\"unknown\",\"nothing_asked\":"
                                 "{\"particles\":[\"ạ\",\"hai từ\"],\"places\":\"bản\","
                                 "\"reply\":\"ask_need\"},\"match\":{}}");
    write_file(tpl, "unknown.txt", "Chưa hiểu.\n---\nMenu | menu\n");
    write_file(tpl, "ask_need.txt", "Cần gì ạ?\n---\nMenu | menu\n");
    struct collected p = {0, ""};
    assert_true(datacheck_run(dir, collect, &p, NULL) > 0);
    assert_non_null(strstr(p.all, "intents/khac.json|nothing_asked.particles|every item must be one word"));
    assert_non_null(strstr(p.all, "intents/khac.json|nothing_asked.places|want an array"));
    assert_null(strstr(p.all, "nothing_asked.reply"));
    assert_null(strstr(p.all, "ask_need.txt")); /* rendered as data */
    remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repo_data_passes_when_all_templates_exist),
        cmocka_unit_test(test_orphan_template_and_unknown_variable_are_reported),
        cmocka_unit_test(test_missing_template_is_reported),
        cmocka_unit_test(test_an_id_nobody_answers_is_refused),
        cmocka_unit_test(test_a_reply_source_is_checked),
        cmocka_unit_test(test_outside_topics_are_checked),
        cmocka_unit_test(test_nothing_asked_is_checked),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
