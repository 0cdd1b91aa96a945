/* followup — the conversation's procedure and follow-up questions about it. */
#include "dvcbot/followup.h"
#include "dvcbot/buf.h"
#include "dvcbot/clock.h"
#include "dvcbot/facets.h"
#include "dvcbot/mem.h"
#include "dvcbot/metrics.h"
#include "dvcbot/procedure_fee.h"
#include "dvcbot/procedure_reply.h"
#include "dvcbot/strfmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FOLLOWUP_MAX_DOCS 8
#define FOLLOWUP_DOC_BYTES 160
/* The rewritten line (abbreviations expanded) of a follow-up question. */
#define FOLLOWUP_LINE_MAX 2048

struct followup {
    struct facets *facets;
};

/* ===== The conversation's procedure, in the session ===== */

void followup_remember(cJSON *session, const char *procedure_id, int64_t now)
{
    if (!session || !procedure_id)
        return;
    cJSON *ctx = cJSON_CreateObject();
    if (!ctx)
        return;
    cJSON_AddStringToObject(ctx, "p", procedure_id);
    cJSON_AddNumberToObject(ctx, "at", (double)now);
    cJSON_DeleteItemFromObjectCaseSensitive(session, FOLLOWUP_SESSION_KEY);
    cJSON_AddItemToObject(session, FOLLOWUP_SESSION_KEY, ctx);
}

const char *followup_context(const cJSON *session, int64_t now, unsigned ttl_s)
{
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(session, FOLLOWUP_SESSION_KEY);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(ctx, "p");
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(ctx, "at");
    if (!cJSON_IsString(p) || !cJSON_IsNumber(at))
        return NULL;
    double age = (double)now - at->valuedouble;
    return age >= 0 && age <= (double)ttl_s ? p->valuestring : NULL;
}

/* The facet a "which procedure?" asked about (ctx.ask), while it lasts;
 * showing any procedure replaces it (followup_remember). */
static enum facet pending_facet(const cJSON *session, int64_t now, unsigned ttl_s)
{
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(session, FOLLOWUP_SESSION_KEY);
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ctx, "ask"));
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(ctx, "at");
    if (!name || !cJSON_IsNumber(at) || (double)now - at->valuedouble > (double)ttl_s ||
        (double)now < at->valuedouble)
        return FACET_NONE;
    for (int k = 0; k < FACET_COUNT; k++)
        if (strcmp(facet_name((enum facet)k), name) == 0)
            return (enum facet)k;
    return FACET_NONE;
}

static void note_pending(cJSON *session, enum facet facet, int64_t now)
{
    cJSON *ctx = cJSON_CreateObject();
    if (!session || !ctx) {
        cJSON_Delete(ctx);
        return;
    }
    cJSON_AddStringToObject(ctx, "ask", facet_name(facet));
    cJSON_AddNumberToObject(ctx, "at", (double)now);
    cJSON_DeleteItemFromObjectCaseSensitive(session, FOLLOWUP_SESSION_KEY);
    cJSON_AddItemToObject(session, FOLLOWUP_SESSION_KEY, ctx);
}

/* ===== Replies ===== */

static void count(enum facet facet, const char *how)
{
    char labels[64];
    const char *fname = facet_name(facet);
    STR_CAT(labels, sizeof labels, "facet=\"", fname ? fname : "(null)", "\",how=\"", how, "\"");
    metrics_inc("dvcbot_followups_total", labels, 1);
}

/* The fact itself, as the template followup_<facet> shows it (caller frees). */
static char *fact_text(const struct tpl_set *tpl, const struct procedure_info *p, enum facet facet,
                       int64_t now)
{
    bool cut = false;
    switch (facet) {
    case FACET_FEE:
        return procedure_reply_shorten(procedure_fee_at(p, now).text, FOLLOWUP_FIELD_BYTES);
    case FACET_DOCUMENTS:
        return procedure_reply_documents(tpl, p, FOLLOWUP_MAX_DOCS, FOLLOWUP_DOC_BYTES, &cut);
    case FACET_TIME:
        return procedure_reply_shorten(p->processing_time, FOLLOWUP_FIELD_BYTES);
    case FACET_PLACE:
        return procedure_reply_shorten(p->agency, FOLLOWUP_FIELD_BYTES);
    case FACET_AUDIENCE:
        return procedure_reply_shorten(p->audience, FOLLOWUP_FIELD_BYTES);
    case FACET_PAPERS: /* the same for every procedure: the template says it */
    case FACET_ONLINE:
    case FACET_NONE:
    case FACET_COUNT:
        break;
    }
    return xstrdup("");
}

/* The variables of a fact's template followup_<facet>: id, name, fact,
 * online, url, pay. fact_vars_free frees what fact_vars_make made. */
struct fact_vars {
    char tpl[TPL_NAME_MAX];
    char *fact, *online;
    char pay[BOT_PAYLOAD_MAX + 1];
    struct tpl_var v[6];
};

static void fact_vars_make(struct fact_vars *fv, const struct tpl_set *tpl, const struct intent *in,
                           enum facet facet, int64_t now)
{
    const struct procedure_info *p = in->proc;
    /* followup_<facet>_<online> when there is one (at the office only:
     * no portal page, no log-in to name, the flow button named for the
     * visit), else followup_<facet> */
    char base[TPL_NAME_MAX];
    const char *fname = facet_name(facet);
    STR_CAT(base, sizeof base, "followup_", fname ? fname : "(null)");
    procedure_reply_variant(tpl, base, p, fv->tpl, sizeof fv->tpl);
    fv->fact = fact_text(tpl, p, facet, now);
    fv->online = procedure_reply_online(tpl, p);
    fv->pay[0] = '\0';
    if (facet == FACET_FEE && procedure_fee_at(p, now).vnd != 0)
        STR_CAT(fv->pay, sizeof fv->pay, FOLLOWUP_ACT_PAYLOAD, "thanh_toan:", in->id);
    const struct tpl_var v[] = {
        {"id", in->id},        {"name", in->name}, {"fact", fv->fact}, {"online", fv->online},
        {"url", p->portal_url ? p->portal_url : ""},                   {"pay", fv->pay},
    };
    memcpy(fv->v, v, sizeof v);
}

static void fact_vars_free(struct fact_vars *fv)
{
    free(fv->fact);
    free(fv->online);
}

int followup_reply_fact(const struct tpl_set *tpl, const struct intent *in, enum facet facet,
                        int64_t now, struct bot_replies *out)
{
    if (!in || !in->proc || !facet_name(facet))
        return -1;
    struct fact_vars fv;
    fact_vars_make(&fv, tpl, in, facet, now);
    struct bot_reply *r = tpl_render(tpl, fv.tpl, fv.v, sizeof fv.v / sizeof fv.v[0], out);
    fact_vars_free(&fv);
    return r ? 0 : -1;
}

/* One short reply with the fact of in, its name and the next steps. */
static void answer(struct dialog_turn *t, const struct intent *in, enum facet facet, const char *how)
{
    struct fact_vars fv;
    fact_vars_make(&fv, t->deps->tpl, in, facet, clock_now());
    dialog_turn_render(t, fv.tpl, fv.v, sizeof fv.v / sizeof fv.v[0]);
    fact_vars_free(&fv);
    followup_remember(t->session, in->id, clock_now());
    count(facet, how);
    dialog_turn_done(t);
}

/* No procedure in the conversation: which one? (the topic menu) */
static void ask_which(struct dialog_turn *t, const struct followup *fu, enum facet facet)
{
    const struct tpl_var vars[] = {{"label", facets_label(fu->facets, facet)}};
    procedure_reply_topics(t->deps->tpl, t->deps->catalog, "followup_ask", vars, 1, &t->replies);
    note_pending(t->session, facet, clock_now()); /* "khai sinh" typed next gets that fact */
    count(facet, "ask");
    dialog_turn_done(t);
}

/* ===== Reading the line ===== */

static const struct intent *procedure_of(const struct catalog *cat, const char *id)
{
    const struct intent *in = id ? catalog_find(cat, id) : NULL;
    return in && in->kind == INTENT_PROCEDURE && in->proc ? in : NULL;
}

static void read_for(const struct followup *fu, const char *line, const struct intent *in,
                     bool discount, struct facet_reading *r)
{
    facets_read(fu->facets, line, facets_words_of(fu->facets, in), discount, r);
}

/* With no procedure in the conversation, "which procedure?" answers a
 * clear facet question the matcher took for nothing, a procedure, or an
 * act that would ask for a dossier code; other acts keep the line. */
static bool asks_which(const struct followup *fu, const struct dialog_turn *t,
                       const struct facet_reading *r)
{
    if (r->score < facets_named_min(fu->facets))
        return false;
    const struct intent *in = catalog_find(t->deps->catalog, t->match.id);
    return !in || in->kind == INTENT_FALLBACK || in->kind == INTENT_PROCEDURE ||
           facets_ask_over(fu->facets, in);
}

/* "lệ phí khai sinh bao nhiêu": the matcher reads a payment (an ask_over
 * act) about a procedure; a question of how much (amount_words) is the fee
 * of that procedure (the fee reply offers the payment as a button); "trả
 * tiền bằng cách nào" stays a payment. */
static const struct intent *fee_asked_as_payment(const struct followup *fu,
                                                 const struct dialog_turn *t)
{
    const struct catalog *cat = t->deps->catalog;
    if (t->match.ambiguous || !t->match.procedure ||
        !facets_ask_over(fu->facets, catalog_find(cat, t->match.id)))
        return NULL;
    return procedure_of(cat, t->match.procedure);
}

/* What a typed line asks of one fact: of which procedure (in; NULL with
 * which set: "which procedure?"), and how it was known. */
struct plan {
    const struct intent *in;
    enum facet facet;
    const char *how;
    bool which;
    bool question; /* a question word or '?' in the line */
};

/* The procedure the line names: the matcher's pick, or, when it names none
 * (ambiguous, an act, nothing) and the line asks about a fact, the line
 * without its facet words classified alone ("khai sinh" of "khai sinh phí
 * bao nhiêu", which the facet words pull towards other procedures) when
 * every word left is one of that procedure's own (its names, mentions). */
static const struct intent *named_procedure(const struct followup *fu,
                                            const struct dialog_turn *t, const char *line,
                                            const struct facet_reading *r, bool question)
{
    const struct catalog *cat = t->deps->catalog;
    const struct intent *in = t->match.ambiguous ? NULL : procedure_of(cat, t->match.id);
    if (in)
        return in;
    if (!question || r->facet == FACET_NONE || r->unknown == 0 || facets_rest_min(fu->facets) > 1)
        return NULL;
    struct buf rest;
    buf_init(&rest);
    if (facets_rest(fu->facets, line, &rest)) {
        struct match_result m;
        matcher_classify(t->deps->matcher, rest.data, rest.len, &m);
        if (!m.ambiguous && m.score >= facets_rest_min(fu->facets))
            in = procedure_of(cat, m.id);
        if (in && !facets_all_procedure_words(fu->facets, rest.data, in))
            in = NULL; /* "giá vàng": words the procedure is not named by */
    }
    buf_free(&rest);
    return in;
}

/* "bao nhiêu tiền một trang" after chứng thực bản sao, which names no
 * procedure: a clear question about one fact of the conversation's
 * procedure when every other word is one its questions are asked with
 * (facets_vocabulary_of: "trang"). */
static bool asks_in_its_words(const struct followup *fu, const char *line,
                              const struct intent *ctx, struct plan *p)
{
    if (!ctx)
        return false;
    struct facet_reading r;
    facets_read(fu->facets, line, facets_vocabulary_of(fu->facets, ctx), false, &r);
    *p = (struct plan){.in = ctx, .facet = r.facet, .how = "context", .question = true};
    return r.facet != FACET_NONE && r.unknown == 0 && r.score >= facets_named_min(fu->facets);
}

/* A clear question about one fact (line rewritten, t->match set; ctx the
 * conversation's procedure or NULL), decided without touching the turn. */
static bool plan_fact(const struct followup *fu, const struct dialog_turn *t, const char *line,
                      const struct intent *ctx, struct plan *p)
{
    struct facet_reading r;
    read_for(fu, line, ctx, false, &r);
    bool question = r.question || strchr(t->msg->text, '?');
    *p = (struct plan){.in = ctx, .facet = r.facet, .how = "context", .question = question};
    if (r.facet != FACET_NONE && r.unknown == 0) {
        /* only facet words: about the conversation's procedure, if any;
         * old papers in general are don_vi_hanh_chinh's (commune_answer) */
        p->which = !ctx && question && r.facet != FACET_PAPERS && asks_which(fu, t, &r);
        return ctx || p->which;
    }
    /* a line naming a procedure and asking one fact of it */
    const struct intent *named = named_procedure(fu, t, line, &r, question);
    if (named && question) {
        read_for(fu, line, named, true, &r);
        *p = (struct plan){.in = named, .facet = r.facet, .how = "named", .question = true};
        return r.facet != FACET_NONE && r.score >= facets_named_min(fu->facets);
    }
    if (question && (named = fee_asked_as_payment(fu, t)) != NULL) {
        read_for(fu, line, named, true, &r);
        *p = (struct plan){.in = named, .facet = FACET_FEE, .how = "named", .question = true};
        return r.facet == FACET_FEE && r.amount && r.score >= facets_named_min(fu->facets);
    }
    return question && asks_in_its_words(fu, line, ctx, p);
}

static const struct intent *context_of(const struct followup *fu, const struct dialog_turn *t)
{
    return procedure_of(t->deps->catalog,
                        followup_context(t->session, clock_now(), facets_context_ttl(fu->facets)));
}

/* The line as the matcher read it: the turn's when it was classified (then
 * *own stays NULL), else read now into *own, which the caller frees. NULL
 * when the matcher rejects the text. */
static const char *line_read(const struct dialog_turn *t, char **own)
{
    *own = NULL;
    if (t->line)
        return t->line;
    char *line = xmalloc(FOLLOWUP_LINE_MAX);
    if (matcher_rewrite(t->deps->matcher, t->msg->text, strlen(t->msg->text), line,
                        FOLLOWUP_LINE_MAX))
        return *own = line;
    free(line);
    return NULL;
}

bool followup_asks_fact(const struct followup *fu, const struct dialog_turn *t)
{
    if (!fu || t->msg->kind != BOT_MSG_TEXT || !t->msg->text)
        return false;
    char *own;
    const char *line = line_read(t, &own);
    struct plan p;
    bool asks = line && plan_fact(fu, t, line, context_of(fu, t), &p);
    free(own);
    return asks;
}

char *followup_fact_text(const struct followup *fu, const struct dialog_turn *t,
                         const struct intent *about, bool need_question)
{
    if (!fu || t->msg->kind != BOT_MSG_TEXT || !t->line)
        return NULL;
    struct plan p;
    if (!plan_fact(fu, t, t->line, about, &p) || p.which || !p.in || (need_question && !p.question))
        return NULL;
    struct fact_vars fv;
    fact_vars_make(&fv, t->deps->tpl, p.in, p.facet, clock_now());
    char *text = tpl_render_text(t->deps->tpl, fv.tpl, fv.v, sizeof fv.v / sizeof fv.v[0]);
    fact_vars_free(&fv);
    if (text)
        count(p.facet, "flow");
    return text;
}

static bool on_text(struct dialog_turn *t, void *ud)
{
    const struct followup *fu = ud;
    if (t->msg->kind != BOT_MSG_TEXT || !t->msg->text)
        return false;
    bool took = false;
    char *own; /* line is t's: used only before a reply can finish (free) t */
    const char *line = line_read(t, &own);
    if (!line)
        goto out_free_line;
    const struct catalog *cat = t->deps->catalog;
    const struct intent *ctx = context_of(fu, t);
    /* nothing below touches t once a reply finished the turn (it may be freed) */
    enum facet asked = pending_facet(t->session, clock_now(), facets_context_ttl(fu->facets));
    struct plan p;
    took = plan_fact(fu, t, line, ctx, &p);
    if (took && p.which)
        ask_which(t, fu, p.facet);
    else if (took)
        answer(t, p.in, p.facet, p.how);
    if (took)
        goto out_free_line;
    /* the procedure the line named (or paid for, asking its fee) */
    const struct intent *named = strcmp(p.how, "named") == 0 ? p.in
                                 : t->match.ambiguous      ? NULL
                                                           : procedure_of(cat, t->match.id);
    if (!ctx && named && asked != FACET_NONE) {
        answer(t, named, asked, "asked"); /* the answer to "which procedure?" */
        took = true;
        goto out_free_line;
    }
    if (asked != FACET_NONE) /* the question was for the next message only */
        cJSON_DeleteItemFromObjectCaseSensitive(t->session, FOLLOWUP_SESSION_KEY);
    if (ctx && !t->match.procedure && facets_context_act(fu->facets, catalog_find(cat, t->match.id)))
        t->match.procedure = ctx->id; /* "tra cứu hồ sơ" after khai sinh: its code */
out_free_line:
    free(own);
    return took;
}

/* A procedure button ("i:<id>", from the topic menu of "which procedure?")
 * pressed while the question is noted gets the fact asked, not the summary. */
static bool on_button(struct dialog_turn *t, void *ud)
{
    const struct followup *fu = ud;
    const char *payload = t->msg->text;
    if (t->msg->kind != BOT_MSG_BUTTON || !payload || strncmp(payload, "i:", 2) != 0 ||
        dialog_turn_mode(t))
        return false;
    enum facet asked = pending_facet(t->session, clock_now(), facets_context_ttl(fu->facets));
    const struct intent *in = procedure_of(t->deps->catalog, payload + 2);
    if (asked == FACET_NONE || !in)
        return false;
    answer(t, in, asked, "asked");
    return true;
}

/* "fu:<act>:<procedure>": the act (a context_act) about that procedure. */
static void on_act_button(struct dialog_turn *t, void *ud)
{
    const struct followup *fu = ud;
    char act[BOT_PAYLOAD_MAX + 1];
    const char *colon = strchr(t->arg, ':');
    size_t n = colon ? (size_t)(colon - t->arg) : 0;
    snprintf(act, sizeof act, "%.*s", (int)n, t->arg);
    const struct catalog *cat = t->deps->catalog;
    const struct intent *in = colon ? procedure_of(cat, colon + 1) : NULL;
    const struct intent *a = catalog_find(cat, act);
    if (!in || !a || !facets_context_act(fu->facets, a)) {
        dialog_turn_reply(t, "help", NULL, 0); /* a forged or stale button */
        return;
    }
    t->match.procedure = in->id;
    followup_remember(t->session, in->id, clock_now());
    dialog_turn_route_intent(t, a->id);
}

/* ===== Set-up ===== */

struct followup *followup_new(struct dialog *d, char **err)
{
    *err = NULL;
    struct facets *f = facets_load(dialog_deps(d)->catalog, catalog_report_keep_first, err);
    if (!f)
        return NULL;
    struct followup *fu = xcalloc(1, sizeof *fu);
    fu->facets = f;
    metrics_declare("dvcbot_followups_total", METRIC_COUNTER,
                    "Follow-up questions about one fact of a procedure, by facet and how the "
                    "procedure was known (context, named, ask).", NULL, 0);
    dialog_on_text(d, on_text, fu);
    dialog_on_message(d, on_button, fu);
    dialog_on_payload(d, FOLLOWUP_ACT_PAYLOAD, on_act_button, fu);
    return fu;
}

void followup_free(struct followup *fu)
{
    if (!fu)
        return;
    facets_free(fu->facets);
    free(fu);
}
