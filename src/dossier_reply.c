/* dossier_reply — details and status-change notices from templates. */
#include "dvcbot/dossier_reply.h"
#include "dvcbot/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Values shared by every dossier template; strings owned here. */
struct view {
    char code[DOSSIER_CODE_MAX + 1];
    const char *procedure;
    const char *agency;          /* "—" when the record names none (a field of the details) */
    char *agency_said;           /* in a sentence: the agency, or dossier_agency_unknown */
    const char *note;
    char fee[32];
    char due[16];
    char received[16];
    char applicant[96];
    char pay[BOT_PAYLOAD_MAX + 1];
    char *status_text;
};

bool dossier_reply_fee_due(const struct dossier *d)
{
    return dossier_fee(d) > 0 && !dossier_flag(d, DF_PAID) && dossier_status(d) != DOSSIER_TU_CHOI;
}

static void format_date_field(const struct dossier *d, enum dossier_field f, char out[16])
{
    time_t t;
    const char *s = dossier_get(d, f);
    if (*s && dossier_time_parse(s, &t) == 0)
        dossier_format_date(t, out);
    else
        snprintf(out, 16, "—");
}

static void view_init(struct view *v, const struct tpl_set *t, const struct catalog *cat,
                      const struct dossier *d)
{
    memset(v, 0, sizeof *v);
    snprintf(v->code, sizeof v->code, "%s", dossier_get(d, DF_CODE));
    const struct intent *in = catalog_find(cat, dossier_get(d, DF_PROCEDURE));
    v->procedure = in ? in->name : dossier_get(d, DF_PROCEDURE);
    v->agency = *dossier_get(d, DF_AGENCY) ? dossier_get(d, DF_AGENCY) : "—";
    v->agency_said = *dossier_get(d, DF_AGENCY) ? xstrdup(dossier_get(d, DF_AGENCY))
                                                : tpl_render_text(t, "dossier_agency_unknown", NULL, 0);
    v->note = dossier_get(d, DF_NOTE);
    dossier_format_vnd(dossier_fee(d), v->fee, sizeof v->fee);
    format_date_field(d, DF_DUE_AT, v->due);
    format_date_field(d, DF_RECEIVED_AT, v->received);
    dossier_mask_name(dossier_get(d, DF_APPLICANT_NAME), v->applicant, sizeof v->applicant);
    if (!v->applicant[0])
        snprintf(v->applicant, sizeof v->applicant, "—");
    if (dossier_reply_fee_due(d))
        snprintf(v->pay, sizeof v->pay, "%s%s", DOSSIER_PAYLOAD_PAY, v->code);

    int st = dossier_status(d);
    char name[TPL_NAME_MAX];
    /* Waiting for a fee that is paid already: never "Chờ nộp lệ phí" beside "đã thanh toán";
     * a refusal the office gave no reason for: never "Lý do:" and nothing. */
    bool paid = st == DOSSIER_CHO_THANH_TOAN && dossier_flag(d, DF_PAID);
    bool no_reason = st == DOSSIER_TU_CHOI && !*v->note;
    snprintf(name, sizeof name, "dossier_status_%s%s", st >= 0 ? dossier_status_name(st) : "da_tiep_nhan",
             paid ? "_paid" : no_reason ? "_no_note" : "");
    const struct tpl_var vars[] = {
        {"agency", v->agency_said ? v->agency_said : v->agency}, {"due", v->due}, {"fee", v->fee},
        {"note", v->note},
    };
    v->status_text = tpl_render_text(t, name, vars, sizeof vars / sizeof vars[0]);
}

static void view_free(struct view *v)
{
    free(v->status_text);
    free(v->agency_said);
}

static char *render_fee(const struct tpl_set *t, const struct dossier *d, const char *fee)
{
    const char *name = dossier_fee(d) <= 0 ? "dossier_fee_none"
                       : dossier_flag(d, DF_PAID) ? "dossier_fee_paid" : "dossier_fee_unpaid";
    const struct tpl_var vars[] = {{"fee", fee}};
    return tpl_render_text(t, name, vars, 1);
}

static char *render_late(const struct tpl_set *t, const struct dossier *d, time_t now)
{
    long days = dossier_days_late(d, now);
    if (days <= 0)
        return xstrdup("");
    char n[24];
    snprintf(n, sizeof n, "%ld", days);
    const struct tpl_var vars[] = {{"days", n}};
    return tpl_render_text(t, "dossier_late", vars, 1);
}

int dossier_reply_details(const struct tpl_set *t, const struct catalog *cat,
                          const struct dossier *d, time_t now, bool subscribed,
                          struct bot_replies *out)
{
    struct view v;
    view_init(&v, t, cat, d);
    char *fee = render_fee(t, d, v.fee), *late = render_late(t, d, now);
    char sub[BOT_PAYLOAD_MAX + 1], unsub[BOT_PAYLOAD_MAX + 1];
    snprintf(sub, sizeof sub, "%s%s", subscribed ? "" : DOSSIER_PAYLOAD_SUB, subscribed ? "" : v.code);
    snprintf(unsub, sizeof unsub, "%s%s", subscribed ? DOSSIER_PAYLOAD_UNSUB : "", subscribed ? v.code : "");
    const struct tpl_var vars[] = {
        {"agency", v.agency}, {"applicant", v.applicant}, {"code", v.code},
        {"due", v.due}, {"fee_text", fee ? fee : ""}, {"late", late ? late : ""},
        {"pay_payload", v.pay}, {"procedure", v.procedure}, {"received", v.received},
        {"status_text", v.status_text ? v.status_text : ""}, {"sub_payload", sub},
        {"unsub_payload", unsub},
    };
    struct bot_reply *r = tpl_render(t, "dossier_details", vars, sizeof vars / sizeof vars[0], out);
    int rc = r && v.status_text && fee && late ? 0 : -1;
    free(fee);
    free(late);
    view_free(&v);
    return rc;
}

int dossier_reply_notice(const struct tpl_set *t, const struct catalog *cat,
                         const struct dossier *d, const char *name, struct bot_replies *out)
{
    struct view v;
    view_init(&v, t, cat, d);
    const struct tpl_var vars[] = {
        {"agency", v.agency_said ? v.agency_said : v.agency}, {"code", v.code}, {"due", v.due},
        {"pay_payload", v.pay},
        {"procedure", v.procedure}, {"status_text", v.status_text ? v.status_text : ""},
    };
    struct bot_reply *r = tpl_render(t, name, vars, sizeof vars / sizeof vars[0], out);
    int rc = r && v.status_text ? 0 : -1;
    view_free(&v);
    return rc;
}

int dossier_reply_changed(const struct tpl_set *t, const struct catalog *cat,
                          const struct dossier *d, struct bot_replies *out)
{
    return dossier_reply_notice(t, cat, d, "dossier_changed", out);
}
