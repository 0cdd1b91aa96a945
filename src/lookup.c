/* lookup — dossier lookup dialogue, verification, follow, pay. */
#include "dvcbot/lookup.h"
#include "dvcbot/clock.h"
#include "dvcbot/dossier.h"
#include "dvcbot/dossier_reply.h"
#include "dvcbot/followup.h"
#include "dvcbot/log.h"
#include "dvcbot/lookup_guard.h"
#include "dvcbot/mem.h"
#include "dvcbot/procedure_fee.h"
#include "dvcbot/metrics.h"
#include "dvcbot/procedure_reply.h"
#include "dvcbot/redis_script.h"
#include "dvcbot/refs.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MODE "lookup"


struct lookup {
    const struct dialog_deps *deps;
    struct payment *payment;
    struct lookup_limits limits;
    lookup_followed_fn followed;
    void *followed_ud;
    lookup_question_fn question;
    void *question_ud;
    lookup_cancel_fn cancel;
    void *cancel_ud;
};

/* One Redis round trip of a turn. */
struct call {
    struct lookup *l;
    struct dialog_turn *t;
    char code[DOSSIER_CODE_MAX + 1];
    char then[8];   /* "show", "pay" or "sub" */
};

static void count(const char *result)
{
    char labels[48];
    snprintf(labels, sizeof labels, "result=\"%s\"", result);
    metrics_inc("dvcbot_dossier_lookups_total", labels, 1);
}

/* ===== Session state: {"hs": {"step", "code", "then", "ok": {code: until}, "last", "wait"}} ===== */

static cJSON *hs(struct dialog_turn *t)
{
    cJSON *h = cJSON_GetObjectItemCaseSensitive(t->session, "hs");
    if (cJSON_IsObject(h))
        return h;
    cJSON_DeleteItemFromObjectCaseSensitive(t->session, "hs");
    return cJSON_AddObjectToObject(t->session, "hs");
}

static const char *hs_str(struct dialog_turn *t, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(hs(t), name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double hs_num(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void hs_set(struct dialog_turn *t, const char *name, const char *value)
{
    cJSON *h = hs(t);
    cJSON_DeleteItemFromObjectCaseSensitive(h, name);
    if (value)
        cJSON_AddStringToObject(h, name, value);
}

static void hs_expect(struct dialog_turn *t, const char *step, const char *code, const char *then)
{
    dialog_turn_set_mode(t, MODE);
    hs_set(t, "step", step);
    hs_set(t, "code", code);
    hs_set(t, "then", then);
}

static void hs_finish(struct dialog_turn *t)
{
    const char *mode = dialog_turn_mode(t);
    if (mode && strcmp(mode, MODE) == 0)
        dialog_turn_set_mode(t, NULL);
    hs_set(t, "step", NULL);
    hs_set(t, "code", NULL);
    hs_set(t, "then", NULL);
}

static bool hs_verified(struct dialog_turn *t, const char *code, time_t now)
{
    return hs_num(cJSON_GetObjectItemCaseSensitive(hs(t), "ok"), code) > (double)now;
}

/* Remembers code as verified; drops expired entries and, past the limit,
 * the one that expires first. */
static void hs_remember(struct dialog_turn *t, const char *code, time_t now)
{
    cJSON *h = hs(t);
    cJSON *ok = cJSON_GetObjectItemCaseSensitive(h, "ok");
    if (!cJSON_IsObject(ok)) {
        cJSON_DeleteItemFromObjectCaseSensitive(h, "ok");
        ok = cJSON_AddObjectToObject(h, "ok");
    }
    cJSON_DeleteItemFromObjectCaseSensitive(ok, code);
    for (;;) {
        cJSON *oldest = NULL, *it;
        int n = 0;
        cJSON_ArrayForEach(it, ok) {
            n++;
            if (!oldest || it->valuedouble < oldest->valuedouble)
                oldest = it;
        }
        if (!oldest || (n < LOOKUP_SESSION_CODES && oldest->valuedouble > (double)now))
            break;
        cJSON_Delete(cJSON_DetachItemViaPointer(ok, oldest));
    }
    cJSON_AddNumberToObject(ok, code, (double)(now + LOOKUP_VERIFIED_S));
    hs_set(t, "last", code);
}

/* ===== Replies ===== */

static void render_code(struct dialog_turn *t, const char *name, const char *code)
{
    const struct tpl_var vars[] = {{"code", code}};
    dialog_turn_render(t, name, vars, 1);
}

static void reply_limited(struct dialog_turn *t, const char *name, long wait_s)
{
    char minutes[24];
    snprintf(minutes, sizeof minutes, "%ld", wait_s > 0 ? (wait_s + 59) / 60 : 1);
    const struct tpl_var vars[] = {{"minutes", minutes}};
    dialog_turn_render(t, name, vars, 1);
}

static void fail_busy(struct call *c)
{
    hs_finish(c->t);
    dialog_reply_busy_store(c->t);
    dialog_turn_done(c->t);
    free(c);
}

static struct call *call_new(struct lookup *l, struct dialog_turn *t, const char *code,
                             const char *then)
{
    struct call *c = xcalloc(1, sizeof *c);
    c->l = l;
    c->t = t;
    snprintf(c->code, sizeof c->code, "%s", code);
    snprintf(c->then, sizeof c->then, "%s", then ? then : "show");
    return c;
}

/* ===== Following ===== */

static void on_follow_done(redisReply *r, void *ud)
{
    struct call *c = ud;
    if (!r || r->type == REDIS_REPLY_ERROR) {
        fail_busy(c);
        return;
    }
    bool on = strcmp(c->then, "unsub") != 0;
    render_code(c->t, on ? "lookup_subscribed" : "lookup_unsubscribed", c->code);
    if (on && c->l->followed)
        c->l->followed(c->t, c->code, c->l->followed_ud);
    dialog_turn_done(c->t);
    free(c);
}

/* SADD/SREM of sub:<code> in refs:{<user>}, then of the user in
 * sub:<code>: a follower is always listed in refs:{} (ref_sweep.h takes out
 * of sub:<code> whoever is not). */
static void follow(struct call *c, bool on)
{
    char skey[DOSSIER_CODE_MAX + 8], rkey[DIALOG_USER_KEY_MAX + 16];
    snprintf(skey, sizeof skey, "sub:%s", c->code);
    dialog_user_redis_key(rkey, sizeof rkey, "refs:", c->t->user_key, NULL);
    const char *verb = on ? "SADD" : "SREM";
    struct store *st = c->l->deps->store;
    if (store_command(st, NULL, NULL, "%s %s %s", verb, rkey, skey) != 0 ||
        (on && refs_keep(st, c->t->deps->cfg->user_ttl_s, c->t->user_key) != 0) ||
        store_command(st, on_follow_done, c, "%s %s %s", verb, skey, c->t->user_key) != 0)
        fail_busy(c);
}

/* ===== Acting on a verified dossier ===== */

static void act(struct call *c, const struct dossier *d, bool subscribed)
{
    struct dialog_turn *t = c->t;
    if (strcmp(c->then, "pay") == 0) {
        payment_offer(c->l->payment, t, d);
        free(c);
    } else if (strcmp(c->then, "sub") == 0) {
        follow(c, true);
    } else {
        dossier_reply_details(t->deps->tpl, t->deps->catalog, d, (time_t)clock_now(), subscribed,
                              &t->replies);
        const char *proc = dossier_get(d, DF_PROCEDURE);
        if (proc && catalog_find(t->deps->catalog, proc))
            followup_remember(t->session, proc, clock_now()); /* "phí bao nhiêu" is about it */
        dialog_turn_done(t);
        free(c);
    }
}

static void on_read(redisReply *r, void *ud)
{
    struct call *c = ud;
    struct dossier d;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
        fail_busy(c);
        return;
    }
    if (dossier_from_hash(r->element[0], &d) != 0) {
        dialog_turn_render(c->t, "lookup_failed", NULL, 0); /* gone since it was verified */
        dialog_turn_done(c->t);
        free(c);
        return;
    }
    act(c, &d, r->element[1]->type == REDIS_REPLY_INTEGER && r->element[1]->integer == 1);
    dossier_clear(&d);
}

static void read_and_act(struct call *c)
{
    char dkey[DOSSIER_KEY_MAX], skey[DOSSIER_CODE_MAX + 8];
    dossier_key(dkey, sizeof dkey, c->code);
    snprintf(skey, sizeof skey, "sub:%s", c->code);
    const char *args[] = {dkey, skey, c->t->user_key};
    if (redis_fcall(c->l->deps->store, "lookup_read", on_read, c, 2, 3, args, NULL) != 0)
        fail_busy(c);
}

/* ===== Verification ===== */

static const char *const limited_names[] = {"limited_source", "limited_dossier", "limited_new",
                                            "limited_global"};

/* The 4-digit check is paused for this dossier (or for new accounts, or for
 * everyone): the whole number still works, so the step stays. */
static void reply_use_full_number(struct call *c)
{
    hs_expect(c->t, "pin", c->code, c->then);
    render_code(c->t, "lookup_use_full_number", c->code);
}

static void on_limited(struct call *c, const struct lookup_verdict *v, time_t now)
{
    struct dialog_turn *t = c->t;
    count(limited_names[v->by]);
    if (v->by == LOOKUP_BY_DOSSIER || v->by == LOOKUP_BY_GLOBAL) {
        reply_use_full_number(c);
        return;
    }
    /* this source (or every new account): refuse at once until then */
    cJSON_DeleteItemFromObjectCaseSensitive(hs(t), "wait");
    cJSON_AddNumberToObject(hs(t), "wait", (double)(now + v->wait_s));
    cJSON_DeleteItemFromObjectCaseSensitive(hs(t), "wait_new");
    if (v->by == LOOKUP_BY_NEW_ID)
        cJSON_AddTrueToObject(hs(t), "wait_new");
    reply_limited(t, v->by == LOOKUP_BY_NEW_ID ? "lookup_limited_new" : "lookup_limited", v->wait_s);
}

static void on_verified(redisReply *r, void *ud)
{
    struct call *c = ud;
    struct dialog_turn *t = c->t;
    struct lookup_verdict v;
    if (lookup_guard_read(r, &v) != 0) {
        if (r && r->type == REDIS_REPLY_ERROR)
            log_fmt(LOG_ERROR, "lookup script failed", "\"error\":%s", log_q(r->str));
        fail_busy(c);
        return;
    }
    time_t now = (time_t)clock_now();
    hs_finish(t);
    struct dossier d;
    if (v.outcome == LOOKUP_OK && dossier_from_hash(v.dossier, &d) == 0) {
        count("ok");
        hs_remember(t, c->code, now);
        act(c, &d, v.subscribed);
        dossier_clear(&d);
        return;
    }
    if (v.outcome == LOOKUP_PENDING) {
        count("pending");
        render_code(t, "lookup_pending", c->code);
        if (c->l->followed)
            c->l->followed(t, c->code, c->l->followed_ud);
    } else if (v.outcome == LOOKUP_LIMITED) {
        on_limited(c, &v, now);
    } else {
        count("fail");
        hs_expect(t, "pin", c->code, c->then); /* the digits typed again: another try */
        dialog_turn_render(t, "lookup_failed_retry", NULL, 0);
    }
    dialog_turn_done(t);
    free(c);
}

static void verify(struct lookup *l, struct dialog_turn *t, const char *code,
                   enum lookup_proof proof, const char *digits, const char *then)
{
    struct call *c = call_new(l, t, code, then);
    struct lookup_attempt a = {
        .code = code, .proof = proof, .digits = digits, .user_key = t->user_key,
        .source = t->msg->source, .now = (long long)clock_now(),
        .may_wait = strcmp(then, "sub") == 0,
    };
    struct lookup_guard_call g;
    lookup_guard_prepare(&l->limits, &a, &g);
    if (redis_fcall(l->deps->store, "lookup_guard", on_verified, c, g.nkeys, g.nargs, g.args,
                          NULL) != 0)
        fail_busy(c);
}

/* ===== Starting ===== */

/* The user failed too often lately (remembered from the last refusal):
 * refuses at once, without asking for anything. */
static bool refuse_limited(struct dialog_turn *t, time_t now)
{
    double wait = hs_num(hs(t), "wait");
    if (wait <= (double)now)
        return false;
    hs_finish(t);
    bool new_account = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(hs(t), "wait_new"));
    reply_limited(t, new_account ? "lookup_limited_new" : "lookup_limited", (long)(wait - (double)now));
    dialog_turn_done(t);
    return true;
}

/* The user named a dossier: act at once if verified in this session, else
 * ask for the 4 digits. */
static void start(struct lookup *l, struct dialog_turn *t, const char *code, const char *then)
{
    time_t now = (time_t)clock_now();
    if (refuse_limited(t, now))
        return;
    if (hs_verified(t, code, now)) {
        hs_finish(t);
        read_and_act(call_new(l, t, code, then));
        return;
    }
    hs_expect(t, "pin", code, then);
    render_code(t, "lookup_ask_pin", code);
    dialog_turn_done(t);
}

static bool refuse_degraded(struct dialog_turn *t)
{
    if (!t->degraded)
        return false;
    hs_finish(t);
    dialog_reply_busy_store(t);
    dialog_turn_done(t);
    return true;
}

static bool code_in_text(const struct dialog_turn *t, char *code)
{
    return t->msg->kind == BOT_MSG_TEXT && dossier_code_find(t->msg->text, code);
}

/* Asks for the code; with the procedure the user named (t->match.procedure),
 * the prompt names it and the payment prompt gives its fee first. */
static void ask_code(struct dialog_turn *t, const char *then)
{
    bool pay = strcmp(then, "pay") == 0;
    const struct intent *in = t->match.procedure ? catalog_find(t->deps->catalog, t->match.procedure)
                                                 : NULL;
    hs_expect(t, "code", NULL, then);
    if (!in || !in->proc) {
        dialog_turn_render(t, pay ? "lookup_ask_code_pay" : "lookup_ask_code", NULL, 0);
        dialog_turn_done(t);
        return;
    }
    char *fee = procedure_reply_shorten(procedure_fee_at(in->proc, clock_now()).text,
                                        PROCEDURE_REPLY_FIELD_BYTES);
    char quoted[256];
    snprintf(quoted, sizeof quoted, "\u201c%s\u201d", in->name);
    const struct tpl_var vars[] = {{"procedure", quoted}, {"short_name", in->short_name},
                                   {"id", in->id}, {"fee", fee}};
    dialog_turn_render(t, pay ? "lookup_ask_code_pay_for" : "lookup_ask_code_for", vars,
                       pay ? 4 : 3);
    free(fee);
    dialog_turn_done(t);
}

static void on_lookup_intent(struct dialog_turn *t, void *ud)
{
    char code[DOSSIER_CODE_MAX + 1];
    if (refuse_degraded(t))
        return;
    if (code_in_text(t, code)) {
        start(ud, t, code, "show");
        return;
    }
    if (refuse_limited(t, (time_t)clock_now()))
        return;
    ask_code(t, "show");
}

static void on_pay_intent(struct dialog_turn *t, void *ud)
{
    char code[DOSSIER_CODE_MAX + 1];
    if (refuse_degraded(t))
        return;
    if (code_in_text(t, code)) {
        start(ud, t, code, "pay");
        return;
    }
    const char *last = hs_str(t, "last");
    if (last && hs_verified(t, last, (time_t)clock_now())) {
        snprintf(code, sizeof code, "%s", last);
        start(ud, t, code, "pay"); /* the dossier looked up a moment ago */
        return;
    }
    if (refuse_limited(t, (time_t)clock_now()))
        return;
    ask_code(t, "pay");
}

/* ===== Buttons ===== */

static bool button_code(struct dialog_turn *t, char *code)
{
    if (dossier_code_normalize(t->arg, strlen(t->arg), code))
        return true;
    dialog_turn_render(t, "help", NULL, 0); /* a forged or mangled button */
    dialog_turn_done(t);
    return false;
}

static void on_button(struct dialog_turn *t, struct lookup *l, const char *then)
{
    char code[DOSSIER_CODE_MAX + 1];
    if (!button_code(t, code) || refuse_degraded(t))
        return;
    if (strcmp(then, "unsub") == 0) {
        hs_finish(t);
        follow(call_new(l, t, code, then), false);
        return;
    }
    start(l, t, code, then);
}

static void on_show_button(struct dialog_turn *t, void *ud)
{
    on_button(t, ud, "show");
}

static void on_pay_button(struct dialog_turn *t, void *ud)
{
    on_button(t, ud, "pay");
}

static void on_sub_button(struct dialog_turn *t, void *ud)
{
    on_button(t, ud, "sub");
}

static void on_unsub_button(struct dialog_turn *t, void *ud)
{
    on_button(t, ud, "unsub");
}

/* ===== Mode: waiting for a code or the 4 digits ===== */

static bool has_non_digit(const char *code)
{
    for (; *code; code++)
        if (!isdigit((unsigned char)*code))
            return true;
    return false;
}

static bool has_digit(const char *text)
{
    for (; *text; text++)
        if (isdigit((unsigned char)*text))
            return true;
    return false;
}

/* The message is about something else: another intent (a procedure, the
 * menu...), or, holding no digit (no try at a code or the 4 digits), a
 * question another reader answers ("phí bao nhiêu") or, at the code, the
 * lookup or the payment asked again ("thanh toán": asked afresh; at the 4
 * digits it gets "type the 4 digits").
 * Classifies into t->match, which the dialog's routing uses when the lookup
 * declines. */
static bool asks_something_else(const struct lookup *l, struct dialog_turn *t)
{
    dialog_turn_classify(t);
    const char *id = t->match.id;
    if (strcmp(id, CATALOG_FALLBACK_ID) == 0)
        return l->question && !has_digit(t->msg->text) && l->question(t, l->question_ud);
    bool again = strcmp(id, "tra_cuu_ho_so") == 0 || strcmp(id, "thanh_toan") == 0;
    const char *step = hs_str(t, "step");
    return !again || (!has_digit(t->msg->text) && step && strcmp(step, "code") == 0);
}

static bool on_mode(struct dialog_turn *t, void *ud)
{
    struct lookup *l = ud;
    const char *step = hs_str(t, "step");
    if (t->msg->kind != BOT_MSG_TEXT || !step) {
        hs_finish(t); /* a button or anything else ends the lookup */
        return false;
    }
    if (l->cancel && l->cancel(t->msg->text, l->cancel_ud)) {
        hs_finish(t);
        dialog_turn_render(t, "lookup_cancelled", NULL, 0);
        dialog_turn_done(t);
        return true;
    }
    if (refuse_degraded(t))
        return true;
    char code[DOSSIER_CODE_MAX + 1], digits[LOOKUP_PROOF_MAX + 1], then[8];
    snprintf(then, sizeof then, "%s", hs_str(t, "then") ? hs_str(t, "then") : "show");
    const char *text = t->msg->text;
    if (strcmp(step, "pin") == 0 && hs_str(t, "code")) {
        enum lookup_proof proof = lookup_proof_parse(text, digits);
        if (proof != LOOKUP_PROOF_NONE) {
            snprintf(code, sizeof code, "%s", hs_str(t, "code"));
            verify(l, t, code, proof, digits, then);
            return true;
        }
        if (dossier_code_find(text, code) && has_non_digit(code)) {
            start(l, t, code, then); /* another code instead */
            return true;
        }
    } else if (dossier_code_find(text, code)) {
        start(l, t, code, then);
        return true;
    }
    if (asks_something_else(l, t)) {
        hs_finish(t);
        return false;
    }
    if (strcmp(step, "pin") == 0)
        render_code(t, "lookup_bad_pin", hs_str(t, "code") ? hs_str(t, "code") : "");
    else
        dialog_turn_render(t, "lookup_bad_code", NULL, 0);
    dialog_turn_done(t);
    return true;
}

/* ===== Set-up ===== */

struct lookup *lookup_new(struct dialog *d, struct payment *payment)
{
    struct lookup *l = xcalloc(1, sizeof *l);
    l->deps = dialog_deps(d);
    l->payment = payment;
    lookup_limits_from_config(l->deps->cfg, &l->limits);
    metrics_declare("dvcbot_dossier_lookups_total", METRIC_COUNTER,
                    "Dossier verifications by result (ok, fail, pending, limited_source, "
                    "limited_dossier, limited_new, limited_global).", NULL, 0);
    dialog_on_intent(d, "tra_cuu_ho_so", on_lookup_intent, l);
    dialog_on_intent(d, "thanh_toan", on_pay_intent, l);
    dialog_on_mode(d, MODE, on_mode, l);
    dialog_on_payload(d, DOSSIER_PAYLOAD_CODE, on_show_button, l);
    dialog_on_payload(d, DOSSIER_PAYLOAD_PAY, on_pay_button, l);
    dialog_on_payload(d, DOSSIER_PAYLOAD_SUB, on_sub_button, l);
    dialog_on_payload(d, DOSSIER_PAYLOAD_UNSUB, on_unsub_button, l);
    return l;
}

void lookup_on_followed(struct lookup *l, lookup_followed_fn fn, void *ud)
{
    l->followed = fn;
    l->followed_ud = ud;
}

void lookup_on_question(struct lookup *l, lookup_question_fn fn, void *ud)
{
    l->question = fn;
    l->question_ud = ud;
}

void lookup_on_cancel(struct lookup *l, lookup_cancel_fn fn, void *ud)
{
    l->cancel = fn;
    l->cancel_ud = ud;
}

void lookup_free(struct lookup *l)
{
    free(l);
}
