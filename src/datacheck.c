/* datacheck — everything `dvcbot check` verifies, as a library call. */
#include "dvcbot/datacheck.h"
#include "dvcbot/buf.h"
#include "dvcbot/commune_list.h"
#include "dvcbot/facets.h"
#include "dvcbot/flowdef.h"
#include "dvcbot/matcher.h"
#include "dvcbot/nothing_asked.h"
#include "dvcbot/outside.h"
#include "dvcbot/dialog.h"
#include "dvcbot/dossier_input.h"
#include "dvcbot/replies.h"
#include "dvcbot/served.h"
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

/* Returns the catalog (caller frees) when it loaded, and its flows in
 * *flows when they did. */
static struct catalog *check_intents(const char *dir, struct prefixed *p,
                                     struct datacheck_stats *st, struct flow_set **flows)
{
    *flows = NULL;
    struct catalog *cat = catalog_load_report(dir, report_prefixed, p);
    if (!cat)
        return NULL;
    st->intents = catalog_size(cat);
    for (size_t i = 0; i < st->intents; i++)
        st->procedures += catalog_at(cat, i)->kind == INTENT_PROCEDURE;
    matcher_free(matcher_new_report(cat, report_prefixed, p));
    *flows = flow_set_load(cat, report_prefixed, p);
    commune_list_free(commune_list_load(cat, report_prefixed, p));
    facets_free(facets_load(cat, report_prefixed, p));
    dossier_status_check(cat, report_prefixed, p);
    return cat;
}

/* The help screen a readiness check shows on "no". */
static bool is_check_screen(const struct flow_set *flows, const char *name)
{
    for (size_t i = 0; flows && i < flow_set_n_checks(flows); i++)
        if (strcmp(flow_set_check(flows, i)->screen, name) == 0)
            return true;
    return false;
}

/* Every check's screen is a help screen that exists. */
static void check_check_screens(const struct flow_set *flows, const struct tpl_set *set,
                                struct prefixed *p)
{
    for (size_t i = 0; flows && i < flow_set_n_checks(flows); i++) {
        const struct flow_check *chk = flow_set_check(flows, i);
        if (dialog_is_screen(chk->screen) && tpl_exists(set, chk->screen))
            continue;
        char why[160];
        snprintf(why, sizeof why, "check %s shows no help screen (want %s<name> of an existing "
                 "template)", chk->name, DIALOG_SCREEN_PREFIX);
        p->prefix = "intents/";
        report_prefixed(p, "_flow.json", "checks", why);
        p->prefix = "templates/";
    }
}

/* ===== Every catalog id is answered ===== */

/* The template answering some intent ("reply"), or NULL. */
static const struct intent *reply_owner(const struct catalog *cat, const char *tpl_name)
{
    for (size_t i = 0; cat && i < catalog_size(cat); i++) {
        const struct intent *in = catalog_at(cat, i);
        if (in->reply && strcmp(in->reply, tpl_name) == 0)
            return in;
    }
    return NULL;
}

static void check_answered(const struct catalog *cat, const struct tpl_set *set, struct prefixed *p)
{
    for (size_t i = 0; i < catalog_size(cat); i++) {
        const struct intent *in = catalog_at(cat, i);
        char file[80];
        snprintf(file, sizeof file, "%s.json", in->id);
        if (in->kind == INTENT_PROCEDURE || served_by_code(in->id))
            continue;
        if (!in->reply)
            report_prefixed(p, file, "", "no dialog handler serves it: give it a \"reply\" template, "
                                         "or register a handler and list the id in src/served.c");
        else if (!tpl_exists(set, in->reply))
            report_prefixed(p, file, "reply", "names a template that does not exist");
    }
}

struct data_tpl {
    bool uses_vars;
};

static void note_var(const char *var, void *ud)
{
    (void)var;
    ((struct data_tpl *)ud)->uses_vars = true;
}

/* Calls fn for every "r:" button of template name, when it uses no
 * variables (the only templates a help screen can be linked from). */
static void each_screen_link(const struct tpl_set *set, const char *name,
                             void (*fn)(const char *screen, void *ud), void *ud)
{
    struct data_tpl d = {false};
    tpl_each_var(set, name, note_var, &d);
    if (d.uses_vars)
        return;
    struct bot_replies out;
    bot_replies_init(&out);
    const struct bot_reply *r = tpl_render(set, name, NULL, 0, &out);
    size_t plen = strlen(DIALOG_SCREEN_PAYLOAD);
    for (size_t b = 0; r && b < r->n_buttons; b++)
        if (strncmp(r->buttons[b].payload, DIALOG_SCREEN_PAYLOAD, plen) == 0)
            fn(r->buttons[b].payload + plen, ud);
    bot_replies_free(&out);
}

struct link_search {
    const char *screen;
    bool found;
};

static void note_link(const char *screen, void *ud)
{
    struct link_search *ls = ud;
    ls->found |= strcmp(screen, ls->screen) == 0;
}

/* A help screen named by some "r:" button of another template. */
static bool screen_is_linked(const struct tpl_set *set, const char *screen)
{
    struct link_search ls = {screen, false};
    for (size_t i = 0; i < tpl_count(set) && !ls.found; i++)
        if (strcmp(tpl_name_at(set, i), screen) != 0)
            each_screen_link(set, tpl_name_at(set, i), note_link, &ls);
    return ls.found;
}

struct link_check {
    const struct tpl_set *set;
    struct prefixed *p;
    const char *from;
};

static void check_link(const char *screen, void *ud)
{
    struct link_check *lc = ud;
    if (dialog_is_screen(screen) && tpl_exists(lc->set, screen))
        return;
    char file[80], why[160];
    snprintf(file, sizeof file, "%s.txt", lc->from);
    snprintf(why, sizeof why, "button %s%s shows no help screen (want r:%s<name> of an existing template)",
             DIALOG_SCREEN_PAYLOAD, screen, DIALOG_SCREEN_PREFIX);
    report_prefixed(lc->p, file, "", why);
}

/* Every "r:" button names an existing help screen. */
static void check_screen_links(const struct tpl_set *set, struct prefixed *p)
{
    for (size_t i = 0; i < tpl_count(set); i++) {
        struct link_check lc = {set, p, tpl_name_at(set, i)};
        each_screen_link(set, lc.from, check_link, &lc);
    }
}

/* A template no code renders is data when an intent names it as its reply
 * or a button shows it as a help screen; data templates get no variables. */
static bool is_data_template(const struct catalog *cat, const struct flow_set *flows,
                             const struct tpl_set *set, const char *name, struct prefixed *p)
{
    const struct intent *fallback = cat ? catalog_find(cat, CATALOG_FALLBACK_ID) : NULL;
    bool data = reply_owner(cat, name) || outside_names_template(fallback, name) ||
                nothing_asked_names_template(fallback, name) ||
                is_check_screen(flows, name) ||
                (dialog_is_screen(name) && screen_is_linked(set, name));
    if (!data)
        return false;
    struct data_tpl d = {false};
    tpl_each_var(set, name, note_var, &d);
    if (d.uses_vars) {
        char file[80];
        snprintf(file, sizeof file, "%s.txt", name);
        report_prefixed(p, file, "", "a reply or help screen gets no variables");
    }
    return true;
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

static void check_templates(const char *dir, const struct catalog *cat,
                            const struct flow_set *flows, struct prefixed *p,
                            struct datacheck_stats *st)
{
    char *err = NULL;
    struct tpl_set *set = tpl_set_load(dir, &err);
    if (!set) {
        report_prefixed(p, "", "", err ? err : "cannot load");
        free(err);
        return;
    }
    replies_fill_settings(set, NULL);
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
        if (!replies_find(name) && !is_data_template(cat, flows, set, name, p))
            report_prefixed(p, file, "", "nobody renders it (not in the registry in src/replies.c, "
                                         "no intent's reply, no r: button shows it)");
    }
    check_screen_links(set, p);
    check_check_screens(flows, set, p);
    if (cat) {
        p->prefix = "intents/";
        check_answered(cat, set, p);
        outside_check(catalog_find(cat, CATALOG_FALLBACK_ID), set, report_prefixed, p);
        nothing_asked_check(catalog_find(cat, CATALOG_FALLBACK_ID), set, report_prefixed, p);
        p->prefix = "templates/";
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
    struct flow_set *flows;
    struct catalog *cat = check_intents(dir.data, &p, &st, &flows);
    buf_reset(&dir);
    buf_printf(&dir, "%s/templates", data_dir);
    p.prefix = "templates/";
    check_templates(dir.data, cat, flows, &p, &st);
    flow_set_free(flows);
    catalog_free(cat);
    buf_free(&dir);
    if (stats)
        *stats = st;
    return p.problems;
}
