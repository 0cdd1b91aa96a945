/* datacheck — everything `dvcbot check` verifies, as a library call. */
#include "dvcbot/datacheck.h"
#include "dvcbot/upload_texts.h"
#include "dvcbot/buf.h"
#include "dvcbot/commune_list.h"
#include "dvcbot/facets.h"
#include "dvcbot/flowdef.h"
#include "dvcbot/matcher.h"
#include "dvcbot/nothing_asked.h"
#include "dvcbot/outside.h"
#include "dvcbot/dialog.h"
#include "dvcbot/dossier_input.h"
#include "dvcbot/clock.h"
#include "dvcbot/followup.h"
#include "dvcbot/procedure_fee.h"
#include "dvcbot/procedure_reply.h"
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

/* ===== Every reply about a procedure fits one phone screen ===== */

/* The field a fact reply shows whole, and how a user asks for it. */
struct fact_field {
    enum facet facet;
    const char *asked; /* the question, for the message */
};

static const struct fact_field fact_fields[] = {
    {FACET_FEE, "phí bao nhiêu"},       {FACET_DOCUMENTS, "cần giấy tờ gì"},
    {FACET_TIME, "bao lâu thì có"},     {FACET_PLACE, "nộp ở đâu"},
    {FACET_ONLINE, "làm online được không"}, {FACET_AUDIENCE, "ai được làm"},
};

/* The field of p a fact reply shows at now ("procedure.fee_periods[1].fee_text"),
 * its text into *text (NULL: a field made of several). */
static void fact_field_name(const struct procedure_info *p, enum facet facet, int64_t now,
                            char *field, size_t size, const char **text)
{
    *text = NULL;
    int k = procedure_fee_period_at(p, now);
    switch (facet) {
    case FACET_FEE:
        if (k >= 0)
            snprintf(field, size, "procedure.fee_periods[%d].fee_text", k);
        else
            snprintf(field, size, "procedure.fee_text");
        *text = procedure_fee_at(p, now).text;
        return;
    case FACET_TIME:
        *text = p->processing_time;
        snprintf(field, size, "procedure.processing_time");
        return;
    case FACET_PLACE:
        *text = p->agency;
        snprintf(field, size, "procedure.agency");
        return;
    case FACET_AUDIENCE:
        *text = p->audience;
        snprintf(field, size, "procedure.audience");
        return;
    case FACET_ONLINE:
        snprintf(field, size, "procedure.online_note");
        return;
    default:
        snprintf(field, size, "procedure.documents");
        return;
    }
}

/* "đến hết 31/12/2026" / "từ 01/01/2027" of the fee in force at now, for
 * the message ("" when it is the fee of today and lasts). */
static void when_said(const struct procedure_info *p, int64_t now, int64_t today, char *out,
                      size_t size)
{
    int k = procedure_fee_period_at(p, now);
    out[0] = '\0';
    if (now != today && k >= 0)
        snprintf(out, size, " (with the fee in force until %s)", p->fee_periods[k].until);
    else if (now != today)
        snprintf(out, size, " (with the lasting fee, after the last fee period)");
}

/* "612 characters" / "27 rows" / both, when r is past one phone screen
 * (PROCEDURE_REPLY_SCREEN_CHARS, PROCEDURE_REPLY_SCREEN_ROWS): true. */
static bool past_one_screen(const struct bot_reply *r, char *out, size_t size)
{
    size_t chars = procedure_reply_screen_chars(r), rows = procedure_reply_screen_rows(r);
    bool wide = chars > PROCEDURE_REPLY_SCREEN_CHARS, tall = rows > PROCEDURE_REPLY_SCREEN_ROWS;
    if (wide && tall)
        snprintf(out, size, "%zu characters in %zu rows", chars, rows);
    else if (wide)
        snprintf(out, size, "%zu characters", chars);
    else if (tall)
        snprintf(out, size, "%zu rows", rows);
    return wide || tall;
}

static void check_one_screen(const struct tpl_set *set, const struct intent *in, int64_t now,
                             int64_t today, struct prefixed *p)
{
    char size[64];
    const struct procedure_info *pi = in->proc;
    char file[80], field[64], why[320], when[64];
    snprintf(file, sizeof file, "%s.json", in->id);
    when_said(pi, now, today, when, sizeof when);
    struct bot_replies out;
    bot_replies_init(&out);
    if (procedure_reply_summary_at(set, in, now, &out) == 0 && out.n &&
        past_one_screen(&out.items[0], size, sizeof size)) {
        snprintf(why, sizeof why, "the summary would be %s with its buttons%s, over one "
                 "phone screen (%d characters, %d rows): shorten the documents, fee, time, agency "
                 "or online_note (amounts first, the rest in notes)",
                 size, when, PROCEDURE_REPLY_SCREEN_CHARS, PROCEDURE_REPLY_SCREEN_ROWS);
        report_prefixed(p, file, "procedure", why);
    }
    bot_replies_free(&out);
    for (size_t f = 0; f < sizeof fact_fields / sizeof fact_fields[0]; f++) {
        const char *text;
        fact_field_name(pi, fact_fields[f].facet, now, field, sizeof field, &text);
        if (text && strlen(text) > FOLLOWUP_FIELD_BYTES) {
            snprintf(why, sizeof why, "%zu bytes%s: the reply to \"%s\" shows at most %d and cuts "
                     "the rest; shorten it (amounts first, details in notes)",
                     strlen(text), when, fact_fields[f].asked, FOLLOWUP_FIELD_BYTES);
            report_prefixed(p, file, field, why);
            continue;
        }
        bot_replies_init(&out);
        if (followup_reply_fact(set, in, fact_fields[f].facet, now, &out) == 0 && out.n &&
            past_one_screen(&out.items[0], size, sizeof size)) {
            snprintf(why, sizeof why, "the reply to \"%s\" would be %s with its "
                     "buttons%s, over one phone screen (%d characters, %d rows): shorten it",
                     fact_fields[f].asked, size, when, PROCEDURE_REPLY_SCREEN_CHARS,
                     PROCEDURE_REPLY_SCREEN_ROWS);
            report_prefixed(p, file, field, why);
        }
        bot_replies_free(&out);
    }
}

/* Every procedure's summary and fact replies (fee, documents, time, place,
 * online, who), today and in every fee period still to come, fit one phone
 * screen, and no fact is cut. Needs every template (reported otherwise). */
static void check_screens(const struct catalog *cat, const struct tpl_set *set, struct prefixed *p)
{
    if (!tpl_exists(set, "procedure_summary"))
        return;
    int64_t today = clock_now();
    for (size_t i = 0; i < catalog_size(cat); i++) {
        const struct intent *in = catalog_at(cat, i);
        if (in->kind != INTENT_PROCEDURE || !in->proc)
            continue;
        check_one_screen(set, in, today, today, p);
        for (size_t k = 0; k < in->proc->n_fee_periods; k++)
            if (in->proc->fee_periods[k].ends > today)
                check_one_screen(set, in, in->proc->fee_periods[k].ends, today, p);
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
static bool is_shown_screen(const struct flow_set *flows, const struct tpl_set *set,
                            const char *name)
{
    return is_check_screen(flows, name) || (dialog_is_screen(name) && screen_is_linked(set, name));
}

/* "help_vneid_muc2_assist": a shown help screen's variant for a volunteer
 * assisting a resident (dialog_route.c and flow_view.c pick it). */
static bool is_assist_screen(const struct flow_set *flows, const struct tpl_set *set,
                             const char *name)
{
    char base[TPL_NAME_MAX];
    size_t n = strlen(name), k = strlen(PROCEDURE_REPLY_ASSIST);
    if (n <= k || n - k >= sizeof base || strcmp(name + n - k, PROCEDURE_REPLY_ASSIST) != 0)
        return false;
    memcpy(base, name, n - k);
    base[n - k] = '\0';
    return is_shown_screen(flows, set, base);
}

static bool is_data_template(const struct catalog *cat, const struct flow_set *flows,
                             const struct tpl_set *set, const char *name, struct prefixed *p)
{
    const struct intent *fallback = cat ? catalog_find(cat, CATALOG_FALLBACK_ID) : NULL;
    bool data = reply_owner(cat, name) || outside_names_template(fallback, name) ||
                nothing_asked_names_template(fallback, name) || is_shown_screen(flows, set, name) ||
                is_assist_screen(flows, set, name);
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
        check_screens(cat, set, p);
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
    char *err = NULL;
    struct upload_texts *ut = upload_texts_load(data_dir, &err);
    if (!ut) {
        p.prefix = "";
        report_prefixed(&p, UPLOAD_TEXTS_FILE, "", err);
        free(err);
    }
    upload_texts_free(ut);
    flow_set_free(flows);
    catalog_free(cat);
    buf_free(&dir);
    if (stats)
        *stats = st;
    return p.problems;
}
