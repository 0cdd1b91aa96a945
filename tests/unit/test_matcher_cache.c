/* Unit tests: matcher_cache — a model restored from the cache is the model
 * training makes (the same bytes, the same readings of every test line);
 * a damaged, cut or foreign file is ignored, the model trained and the file
 * written again; without DVCBOT_CACHE_DIR nothing is written. Run from the
 * repo root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/buf.h"
#include "dvcbot/catalog.h"
#include "dvcbot/file.h"
#include "dvcbot/matcher.h"
#include "dvcbot/matcher_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[64];
static struct catalog *cat;

/* Lines read with every model: the bench lines and the test sets' lines. */
static const char *const files[] = {
    "bench/matcher_lines.txt", "tests/data/intents_train.tsv", "tests/data/intents_heldout.tsv",
    "tests/data/offtopic.tsv", "tests/data/followups.tsv", "tests/data/realistic_villager.tsv",
};

/* How m reads every line of the first n files, as `classify --explain`
 * prints it. */
static char *readings(const struct matcher *m, size_t n)
{
    struct buf out;
    buf_init(&out);
    for (size_t i = 0; i < n && i < sizeof files / sizeof files[0]; i++) {
        char *text = file_read(files[i], NULL);
        assert_non_null(text);
        for (char *line = text, *next; *line; line = next) {
            next = line + strcspn(line, "\n");
            size_t len = strcspn(line, "\t\n");
            matcher_explain(m, line, len, &out);
            buf_putc(&out, '\n');
            next += *next == '\n';
        }
        free(text);
    }
    return buf_steal(&out);
}

/* The one cache file in dir (its path into path), or false. */
static bool cache_file(char *path, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)))
        if (strncmp(e->d_name, "matcher-", 8) == 0) {
            snprintf(path, cap, "%s/%s", dir, e->d_name);
            n++;
        }
    closedir(d);
    return n == 1;
}

static char *file_bytes(const char *path, size_t *len)
{
    char *b = file_read(path, len);
    assert_non_null(b);
    return b;
}

static void write_bytes(const char *path, const char *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static struct matcher *build(void)
{
    char *err = NULL;
    struct matcher *m = matcher_new(cat, &err);
    if (!m)
        fail_msg("matcher_new: %s", err ? err : "?");
    return m;
}

static int setup(void **state)
{
    char *err = NULL;
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/dvcbot-matcher-cache-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    cat = catalog_load("intents", &err);
    free(err);
    return cat ? 0 : -1;
}

static int teardown(void **state)
{
    char path[512];
    (void)state;
    while (cache_file(path, sizeof path))
        unlink(path);
    rmdir(dir);
    catalog_free(cat);
    return 0;
}

static void test_no_cache_dir_writes_nothing(void **state)
{
    char path[512];
    (void)state;
    unsetenv("DVCBOT_CACHE_DIR");
    matcher_free(build());
    assert_false(cache_file(path, sizeof path));
}

/* Trained, then restored: the restored model saves to the same bytes and
 * reads every line the same. */
static void test_restored_model_is_the_trained_model(void **state)
{
    char path[512];
    size_t len1, len2;
    (void)state;
    setenv("DVCBOT_CACHE_DIR", dir, 1);
    struct matcher *trained = build();
    assert_true(cache_file(path, sizeof path));
    char *written = file_bytes(path, &len1);
    struct matcher *restored = build();
    unlink(path);
    matcher_cache_save(restored);
    char *again = file_bytes(path, &len2);
    assert_int_equal(len1, len2);
    assert_memory_equal(written, again, len1);
    char *a = readings(trained, SIZE_MAX), *b = readings(restored, SIZE_MAX);
    assert_string_equal(a, b);
    free(a);
    free(b);
    free(written);
    free(again);
    matcher_free(trained);
    matcher_free(restored);
}

/* Each way a file can be bad: the matcher trains, reads as the trained one
 * does, and the file is good again afterwards. */
static void test_damaged_cache_is_ignored_and_rewritten(void **state)
{
    char path[512];
    size_t len;
    (void)state;
    setenv("DVCBOT_CACHE_DIR", dir, 1);
    struct matcher *trained = build();
    assert_true(cache_file(path, sizeof path));
    char *good = file_bytes(path, &len), *want = readings(trained, 1);
    char *bad = malloc(len + 8);
    assert_non_null(bad);
    for (int how = 0; how < 6; how++) {
        size_t n = len;
        memcpy(bad, good, len);
        if (how == 0)
            bad[len / 2] ^= 0x40;     /* a flipped bit: the checksum */
        else if (how == 1)
            n = len / 3;              /* cut short */
        else if (how == 2)
            n = 10;                   /* not even a header */
        else if (how == 3)
            bad[9] ^= 1;              /* another data set's key */
        else if (how == 4)
            memcpy(bad + len, "trailing", 8), n = len + 8;
        else
            n = 0;                    /* empty */
        write_bytes(path, bad, n);
        struct matcher *m = build();
        char *got = readings(m, 1);
        assert_string_equal(got, want);
        size_t len2;
        char *now = file_bytes(path, &len2);
        assert_int_equal(len2, len);
        assert_memory_equal(now, good, len);
        free(now);
        free(got);
        matcher_free(m);
    }
    free(bad);
    free(good);
    free(want);
    matcher_free(trained);
}

/* Valid bytes of a model that does not fit (its checksum made right): the
 * structure checks refuse it; nothing is read outside the file. */
static void test_inconsistent_model_is_refused(void **state)
{
    char path[512];
    size_t len;
    (void)state;
    setenv("DVCBOT_CACHE_DIR", dir, 1);
    matcher_free(build());
    assert_true(cache_file(path, sizeof path));
    char *good = file_bytes(path, &len);
    /* the naive Bayes header's capacity (after 32 bytes of header and the
     * model count) set to 3: not a power of two */
    uint64_t cap = 3, sum = 14695981039346656037u, w;
    memcpy(good + 40, &cap, 8);
    size_t i = 32;
    for (; i + 8 <= len; i += 8) {
        memcpy(&w, good + i, 8);
        sum = (sum ^ w) * 1099511628211u;
    }
    for (; i < len; i++)
        sum = (sum ^ (unsigned char)good[i]) * 1099511628211u;
    memcpy(good + 24, &sum, 8);
    write_bytes(path, good, len);
    struct matcher *m = build();
    struct match_result r;
    matcher_classify(m, "làm giấy khai sinh cho con", strlen("làm giấy khai sinh cho con"), &r);
    assert_string_equal(r.id, "khai_sinh");
    matcher_free(m);
    free(good);
}

/* A file in dir dated `age` seconds ago. */
static void old_file(const char *name, time_t age)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    write_bytes(path, "x", 1);
    struct timespec t[2] = {{time(NULL) - age, 0}, {time(NULL) - age, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

static bool exists(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static time_t age_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return time(NULL) - st.st_mtim.tv_sec;
}

/* A write keeps the MATCHER_CACHE_KEEP newest files and any younger than
 * MATCHER_CACHE_MIN_AGE, removes the other cache files and old temporaries
 * (nothing else); a load dates its file, so a file in use is never the
 * oldest. Before, the directory only grew (~26 MB after one suite). */
static void test_old_files_are_pruned_and_a_used_one_kept(void **state)
{
    char name[64], path[512];
    (void)state;
    assert_int_equal(MATCHER_CACHE_KEEP, 4);
    setenv("DVCBOT_CACHE_DIR", dir, 1);
    while (cache_file(path, sizeof path)) /* an earlier test's file would be loaded */
        unlink(path);
    for (int i = 0; i < 4; i++) { /* young: may be in use elsewhere */
        snprintf(name, sizeof name, "matcher-young%02d.bin", i);
        old_file(name, 60 + i);
    }
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "matcher-old%02d.bin", i);
        old_file(name, MATCHER_CACHE_MIN_AGE + 60 + i);
    }
    old_file("matcher-old.bin.4242.tmp", MATCHER_CACHE_MIN_AGE + 60);
    old_file("matcher-young.bin.4243.tmp", 10);
    old_file("notes.txt", MATCHER_CACHE_MIN_AGE * 10);
    struct matcher *m = build(); /* no file for this data: trained, written */
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "matcher-young%02d.bin", i);
        assert_true(exists(name)); /* the 4th is not among the 4 newest, but young */
    }
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "matcher-old%02d.bin", i);
        assert_false(exists(name));
    }
    assert_false(exists("matcher-old.bin.4242.tmp"));
    assert_true(exists("matcher-young.bin.4243.tmp"));
    assert_true(exists("notes.txt"));
    /* the file just written is one of the newest; now make it look old */
    DIR *d = opendir(dir);
    struct dirent *e;
    path[0] = '\0';
    assert_non_null(d);
    while ((e = readdir(d)))
        if (strncmp(e->d_name, "matcher-", 8) == 0 && !strstr(e->d_name, "young"))
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    closedir(d);
    assert_true(path[0] != '\0');
    struct timespec t[2] = {{time(NULL) - 7200, 0}, {time(NULL) - 7200, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
    matcher_free(m);
    m = build(); /* loaded from it: dated now */
    assert_true(age_of(path) < 60);
    matcher_free(m);
    unlink(path);
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "matcher-young%02d.bin", i);
        snprintf(path, sizeof path, "%s/%s", dir, name);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/matcher-young.bin.4243.tmp", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_cache_dir_writes_nothing),
        cmocka_unit_test(test_restored_model_is_the_trained_model),
        cmocka_unit_test(test_damaged_cache_is_ignored_and_rewritten),
        cmocka_unit_test(test_inconsistent_model_is_refused),
        cmocka_unit_test(test_old_files_are_pruned_and_a_used_one_kept),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
