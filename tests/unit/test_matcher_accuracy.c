/* Accuracy of the matcher on the labelled sets tests/data/intents_train.tsv
 * (the data is tuned on it) and tests/data/intents_heldout.tsv (written
 * before tuning, never tuned on). Prints top-1 accuracy and the confusion
 * pairs of each; fails below ACCURACY_MIN on either. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/catalog.h"
#include "dvcbot/file.h"
#include "dvcbot/matcher.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACCURACY_MIN 0.95

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
        if (!catalog_find(cat, want))
            fail_msg("%s: unknown id '%s'", path, want);
        struct match_result r;
        matcher_classify(m, line, strlen(line), &r);
        total++;
        if (strcmp(r.id, want) == 0)
            right++;
        else
            printf("   confusion: %s -> %s (%.2f)  \"%s\"\n", want, r.id, r.score, line);
    }
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_set_accuracy_at_least_95_percent),
        cmocka_unit_test(test_heldout_set_accuracy_at_least_95_percent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
