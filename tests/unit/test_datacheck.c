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

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct problems {
    int n;
    char all[2048];
};

static void collect(void *ud, const char *file, const char *field, const char *reason)
{
    struct problems *p = ud;
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

/* tmp/intents -> repo intents; tmp/templates: repo templates + stubs. */
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
    struct problems p = {0, ""};
    struct datacheck_stats st;
    int n = datacheck_run(*state, collect, &p, &st);
    if (n)
        fail_msg("unexpected problems:\n%s", p.all);
    assert_int_equal(st.intents, 47);
    assert_int_equal(st.procedures, 36);
}

static void test_orphan_template_and_unknown_variable_are_reported(void **state)
{
    char tdir[PATH_MAX];
    snprintf(tdir, sizeof tdir, "%s/templates", (char *)*state);
    write_file(tdir, "orphan.txt", "nobody renders me\n");
    write_file(tdir, "ask_which.txt", "Chọn {{a_name}} hay {{secret}}?\n---\nA | i:{{a_id}}\n");
    struct problems p = {0, ""};
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
    struct problems p = {0, ""};
    assert_true(datacheck_run(*state, collect, &p, NULL) >= 2);
    assert_non_null(strstr(p.all, "templates/procedure_summary.txt"));
    assert_non_null(strstr(p.all, "templates/ask_which.txt"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repo_data_passes_when_all_templates_exist),
        cmocka_unit_test(test_orphan_template_and_unknown_variable_are_reported),
        cmocka_unit_test(test_missing_template_is_reported),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
