/* datacheck — everything `dvcbot check` verifies, as a library call. */
#include "dvcbot/datacheck.h"
#include "dvcbot/buf.h"
#include "dvcbot/flowdef.h"
#include "dvcbot/matcher.h"
#include "dvcbot/replies.h"
#include "dvcbot/tpl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct prefixed {
    catalog_report_fn report;
    void *ud;
    const char *prefix; /* "intents/" or "templates/" */
    int problems;
};

static void report_prefixed(void *ud, const char *file, const char *field, const char *reason)
{
    struct prefixed *p = ud;
    struct buf f;
    buf_init(&f);
    buf_printf(&f, "%s%s", p->prefix, file);
    p->problems++;
    p->report(p->ud, buf_cstr(&f), field, reason);
    buf_free(&f);
}

static void check_intents(const char *dir, struct prefixed *p, struct datacheck_stats *st)
{
    struct catalog *cat = catalog_load_report(dir, report_prefixed, p);
    if (!cat)
        return;
    st->intents = catalog_size(cat);
    for (size_t i = 0; i < st->intents; i++)
        st->procedures += catalog_at(cat, i)->kind == INTENT_PROCEDURE;
    matcher_free(matcher_new_report(cat, report_prefixed, p));
    flow_set_free(flow_set_load(cat, report_prefixed, p));
    catalog_free(cat);
}

struct var_check {
    struct prefixed *p;
    const struct reply_spec *spec;
    char file[80];
};

static void check_var(const char *var, void *ud)
{
    struct var_check *vc = ud;
    if (replies_var_allowed(vc->spec, var))
        return;
    struct buf why;
    buf_init(&why);
    buf_printf(&why, "variable {{%s}} is not supplied by the code (replies.c allows: %s)", var,
               *vc->spec->vars ? vc->spec->vars : "none");
    report_prefixed(vc->p, vc->file, "", why.data);
    buf_free(&why);
}

static void check_templates(const char *dir, struct prefixed *p, struct datacheck_stats *st)
{
    char *err = NULL;
    struct tpl_set *set = tpl_set_load(dir, &err);
    if (!set) {
        report_prefixed(p, "", "", err ? err : "cannot load");
        free(err);
        return;
    }
    size_t n_specs;
    const struct reply_spec *specs = replies_specs(&n_specs);
    for (size_t i = 0; i < n_specs; i++) {
        struct var_check vc = {.p = p, .spec = &specs[i]};
        snprintf(vc.file, sizeof vc.file, "%s.txt", specs[i].name);
        if (!tpl_exists(set, specs[i].name))
            report_prefixed(p, vc.file, "", "missing (listed in the registry in src/replies.c)");
        else
            tpl_each_var(set, specs[i].name, check_var, &vc);
    }
    st->templates = tpl_count(set);
    for (size_t i = 0; i < st->templates; i++) {
        const char *name = tpl_name_at(set, i);
        char file[80];
        snprintf(file, sizeof file, "%s.txt", name);
        if (!replies_find(name))
            report_prefixed(p, file, "", "nobody renders it (not in the registry in src/replies.c)");
    }
    tpl_set_free(set);
}

int datacheck_run(const char *data_dir, catalog_report_fn report, void *ud,
                  struct datacheck_stats *stats)
{
    struct datacheck_stats st = {0, 0, 0};
    struct prefixed p = {.report = report, .ud = ud, .prefix = "intents/", .problems = 0};
    struct buf dir;
    buf_init(&dir);
    buf_printf(&dir, "%s/intents", data_dir);
    check_intents(dir.data, &p, &st);
    buf_reset(&dir);
    buf_printf(&dir, "%s/templates", data_dir);
    p.prefix = "templates/";
    check_templates(dir.data, &p, &st);
    buf_free(&dir);
    if (stats)
        *stats = st;
    return p.problems;
}
