/* Accuracy of the matcher's label (not the reply: tests/e2e/test_understanding.py
 * judges that) on the labelled sets tests/data/intents_train.tsv (the data is
 * tuned on it), tests/data/intents_heldout.tsv (written before tuning) and the
 * DEV parts of the blind realistic sets (tests/data/README.md; the SEALED parts
 * are never read here). A line is right when the matcher picks one of its
 * ids ("a|b"). Prints top-1 accuracy and the confusions; fails below
 * ACCURACY_MIN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/catalog.h"
#include "dvcbot/file.h"
#include "dvcbot/matcher.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACCURACY_MIN 0.95

/* Whether id is one of the "|"-separated ids of want (each must exist). */
static bool label_has(const struct catalog *cat, const char *path, const char *want, const char *id)
{
    bool found = false;
    for (const char *p = want; *p;) {
        size_t n = strcspn(p, "|");
        char one[64];
        snprintf(one, sizeof one, "%.*s", (int)n, p);
        if (!catalog_find(cat, one))
            fail_msg("%s: unknown id '%s'", path, one);
        found = found || strcmp(one, id) == 0;
        p += n + (p[n] == '|');
    }
    return found;
}

static size_t set_right, set_total; /* of the last run_set */

static double run_set(const char *path)
{
    char *err = NULL;
    struct catalog *cat = catalog_load("intents", &err);
    struct matcher *m = cat ? matcher_new(cat, &err) : NULL;
    if (!m)
        fail_msg("cannot load: %s", err ? err : "?");
    char *text = file_read(path, NULL);
    if (!text)
        fail_msg("cannot read %s", path);
    size_t total = 0, right = 0;
    printf("== %s\n", path);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *tab = strrchr(line, '\t');
        if (line[0] == '#' || !tab)
            continue;
        *tab = '\0';
        const char *want = tab + 1;
        struct match_result r;
        matcher_classify(m, line, strlen(line), &r);
        total++;
        if (label_has(cat, path, want, r.id))
            right++;
        else
            printf("   confusion: %s -> %s (%.2f)  \"%s\"\n", want, r.id, r.score, line);
    }
    set_right = right;
    set_total = total;
    double acc = total ? (double)right / (double)total : 0;
    printf("   top-1 accuracy %zu/%zu = %.1f%%\n", right, total, acc * 100);
    free(text);
    matcher_free(m);
    catalog_free(cat);
    return acc;
}

static void test_train_set_accuracy_at_least_95_percent(void **state)
{
    (void)state;
    assert_true(run_set("tests/data/intents_train.tsv") >= ACCURACY_MIN);
}

static void test_heldout_set_accuracy_at_least_95_percent(void **state)
{
    (void)state;
    assert_true(run_set("tests/data/intents_heldout.tsv") >= ACCURACY_MIN);
}

static void test_realistic_dev_sets_accuracy_at_least_95_percent(void **state)
{
    static const char *const sets[] = {
        "tests/data/realistic_villager.tsv", "tests/data/realistic_teen.tsv",
        "tests/data/realistic_elder_volunteer.tsv", "tests/data/offtopic.tsv",
    };
    size_t right = 0, total = 0;
    (void)state;
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        run_set(sets[i]);
        right += set_right;
        total += set_total;
    }
    printf("== all DEV sets: %zu/%zu = %.1f%%\n", right, total, 100.0 * (double)right / (double)total);
    assert_true((double)right >= ACCURACY_MIN * (double)total);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_set_accuracy_at_least_95_percent),
        cmocka_unit_test(test_heldout_set_accuracy_at_least_95_percent),
        cmocka_unit_test(test_realistic_dev_sets_accuracy_at_least_95_percent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
