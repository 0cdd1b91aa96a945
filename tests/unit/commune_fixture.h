/* commune_fixture — the real catalog and 2025 commune list (intents/,
 * intents/_communes.json) loaded once per test group, for the tests of what
 * is matched against the list. Header-only (each test program is one .c
 * file); run from the repo root.
 *
 *   cmocka_run_group_tests(tests, cfx_setup, cfx_teardown)
 *   cfx_list(state)   the loaded list
 *
 * Any problem reported while loading the list fails the group. */
#ifndef DVCBOT_TEST_COMMUNE_FIXTURE_H
#define DVCBOT_TEST_COMMUNE_FIXTURE_H

#include "dvcbot/catalog.h"
#include "dvcbot/commune_list.h"

#include <stdlib.h>

struct commune_fixture {
    struct catalog *cat;
    struct commune_list *list;
};

static inline void cfx_no_problem(void *ud, const char *file, const char *field, const char *reason)
{
    (void)ud;
    (void)file;
    (void)field;
    fail_msg("unexpected problem: %s", reason);
}

static inline int cfx_setup(void **state)
{
    char *err = NULL;
    struct commune_fixture *f = calloc(1, sizeof *f);
    f->cat = catalog_load("intents", &err);
    free(err);
    if (!f->cat)
        return -1;
    f->list = commune_list_load(f->cat, cfx_no_problem, NULL);
    *state = f;
    return f->list ? 0 : -1;
}

static inline int cfx_teardown(void **state)
{
    struct commune_fixture *f = *state;
    commune_list_free(f->list);
    catalog_free(f->cat);
    free(f);
    return 0;
}

static inline struct commune_list *cfx_list(void **state)
{
    return ((struct commune_fixture *)*state)->list;
}

#endif
