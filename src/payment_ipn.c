/* payment_ipn — the gateway's IPN, checked, confirmed and recorded. */
#include "dvcbot/payment_ipn.h"
#include "dvcbot/clock.h"
#include "dvcbot/crypto.h"
#include "dvcbot/dossier.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/payment.h"
#include "dvcbot/redis_script.h"
#include "dvcbot/vnpay.h"
#include "dvcbot/vnpay_query.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


struct payment_ipn {
    struct payment_ipn_deps deps;
};

/* One IPN in flight; owns the parsed parameters. */
struct ipn_call {
    struct payment_ipn *pi;
    struct http_request *req;
    struct vnpay_params v;
    const char *ref;  /* points into v */
    time_t paid_at;   /* vnp_PayDate */
    time_t created;   /* the order's link, read before a query */
};

static const char *param(const struct vnpay_params *v, const char *name)
{
    const char *s = vnpay_params_get(v, name);
    return s ? s : "";
}

static void respond(struct http_request *req, const char *code, const char *message)
{
    char body[128];
    snprintf(body, sizeof body, "{\"RspCode\":\"%s\",\"Message\":\"%s\"}", code, message);
    payment_count("ipn", code);
    http_respond_json(req, 200, body);
}

/* Answers the gateway and frees the call. */
static void finish(struct ipn_call *c, const char *code, const char *message)
{
    respond(c->req, code, message);
    vnpay_params_free(&c->v);
    free(c);
}

static bool is_success(const struct ipn_call *c)
{
    return strcmp(param(&c->v, "vnp_ResponseCode"), "00") == 0 &&
           strcmp(param(&c->v, "vnp_TransactionStatus"), "00") == 0;
}

/* ===== Telling the payer ===== */

static const char *notice_name(const char *outcome, char *buf, size_t len)
{
    if (strcmp(outcome, "paid") == 0)
        return "payment_done";
    if (strcmp(outcome, "failed") == 0)
        return "payment_failed";
    snprintf(buf, len, "payment_not_applied_%s", outcome);
    return buf;
}

static void tell_payer(struct payment_ipn *pi, const redisReply *r, const char *ref)
{
    const char *outcome = r->element[1]->str, *code = r->element[2]->str, *payer = r->element[3]->str;
    if (!*payer)
        return;
    char amount[32], fee[32], name[TPL_NAME_MAX];
    dossier_format_vnd(strtoll(r->element[4]->str, NULL, 10), amount, sizeof amount);
    dossier_format_vnd(strtoll(r->element[5]->str, NULL, 10), fee, sizeof fee);
    const struct tpl_var vars[] = {{"amount", amount}, {"code", code}, {"fee", fee}, {"txn", ref}};
    notify_user_tpl(pi->deps.notify, payer, notice_name(outcome, name, sizeof name), vars, 4);
}

/* ===== Recording ===== */

static bool record_reply_ok(const redisReply *r)
{
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 1)
        return false;
    for (size_t i = 0; i < r->elements; i++)
        if (r->element[i]->type != REDIS_REPLY_STRING)
            return false;
    return r->elements == 1 || r->elements == 6;
}

static void on_recorded(redisReply *r, void *ud)
{
    struct ipn_call *c = ud;
    if (!record_reply_ok(r)) {
        if (r && r->type == REDIS_REPLY_ERROR)
            log_fmt(LOG_ERROR, "ipn script failed", "\"error\":%s", log_q(r->str));
        finish(c, "99", "Unknown error");
        return;
    }
    const char *rc = r->element[0]->str;
    if (strcmp(rc, "00") == 0) {
        const char *outcome = r->element[1]->str;
        log_fmt(strcmp(outcome, "paid") == 0 || strcmp(outcome, "failed") == 0 ? LOG_INFO : LOG_WARN,
                "payment recorded", "\"txn\":%s,\"outcome\":%s", log_q(c->ref), log_q(outcome));
        payment_count("applied", outcome);
        tell_payer(c->pi, r, c->ref);
        finish(c, "00", "Confirm Success");
    } else if (strcmp(rc, "01") == 0) {
        finish(c, "01", "Order not found");
    } else if (strcmp(rc, "04") == 0) {
        finish(c, "04", "Invalid amount");
    } else {
        finish(c, "02", "Order already confirmed");
    }
}

static void record(struct ipn_call *c)
{
    char key[PAYMENT_TXN_REF_MAX + 8], now[24], paid_at[24], keep[16];
    snprintf(key, sizeof key, "pay:%s", c->ref);
    snprintf(now, sizeof now, "%lld", (long long)clock_now());
    snprintf(paid_at, sizeof paid_at, "%lld", (long long)c->paid_at);
    snprintf(keep, sizeof keep, "%u", c->pi->deps.cfg->user_ttl_s);
    const char *args[] = {key, PAYMENT_UNAPPLIED_KEY, param(&c->v, "vnp_Amount"), param(&c->v, "vnp_ResponseCode"),
                          param(&c->v, "vnp_TransactionStatus"), param(&c->v, "vnp_TransactionNo"),
                          param(&c->v, "vnp_BankCode"), now, paid_at, keep};
    if (redis_fcall(c->pi->deps.store, "payment_ipn_record", on_recorded, c, 2, 10, args, NULL) != 0)
        finish(c, "99", "Unknown error");
}

/* ===== Confirming a success with the gateway (PAY_QUERY_URL) ===== */

static void on_query(const struct http_client_response *res, void *ud)
{
    struct ipn_call *c = ud;
    const struct config *cfg = c->pi->deps.cfg;
    enum vnpay_query_verdict v = VNPAY_QUERY_INVALID;
    if (!res->error && res->status == 200)
        v = vnpay_query_read(res->body, res->body_len, cfg->pay_hash_secret, cfg->pay_tmn_code,
                             c->ref, param(&c->v, "vnp_Amount"));
    if (v == VNPAY_QUERY_PAID) {
        record(c);
        return;
    }
    log_fmt(LOG_WARN, "ipn not confirmed by the gateway", "\"txn\":%s,\"status\":%ld,\"answer\":%s",
            log_q(c->ref), res->status, log_q(v == VNPAY_QUERY_NOT_PAID ? "not paid" : "invalid"));
    payment_count("query", v == VNPAY_QUERY_NOT_PAID ? "not_paid" : "invalid");
    finish(c, "99", "Unknown error");
}

static void query(struct ipn_call *c)
{
    const struct config *cfg = c->pi->deps.cfg;
    char request_id[33];
    if (crypto_random_hex(request_id, 16) != 0) {
        finish(c, "99", "Unknown error");
        return;
    }
    struct vnpay_query q = {
        .tmn_code = cfg->pay_tmn_code, .txn_ref = c->ref, .request_id = request_id,
        .order_info = "querydr", .ip_addr = cfg->pay_server_ip ? cfg->pay_server_ip : PAYMENT_IP_ADDR, .txn_created = c->created,
        .now = (time_t)clock_now(),
    };
    struct buf body;
    buf_init(&body);
    static const char *const headers[] = {"Content-Type: application/json", NULL};
    struct http_client_request hr = {.method = "POST", .url = cfg->pay_query_url,
                                     .headers = headers, .timeout_ms = PAYMENT_QUERY_TIMEOUT_MS};
    int rc = vnpay_query_body(&body, cfg->pay_hash_secret, &q);
    if (rc == 0) {
        hr.body = body.data;
        hr.body_len = body.len;
        rc = c->pi->deps.http ? http_client_request(c->pi->deps.http, &hr, on_query, c) : -1;
    }
    buf_free(&body);
    if (rc != 0) {
        log_fmt(LOG_ERROR, "transaction query not sent", "\"txn\":%s", log_q(c->ref));
        finish(c, "99", "Unknown error");
    }
}

/* HMGET amount status created of the order: unknown, mismatched or settled
 * orders are answered without asking the gateway. */
static void on_order(redisReply *r, void *ud)
{
    struct ipn_call *c = ud;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3) {
        finish(c, "99", "Unknown error");
        return;
    }
    const redisReply *amount = r->element[0], *status = r->element[1], *created = r->element[2];
    if (amount->type != REDIS_REPLY_STRING) {
        finish(c, "01", "Order not found");
        return;
    }
    char want[40];
    snprintf(want, sizeof want, "%s00", amount->str);
    if (strcmp(want, param(&c->v, "vnp_Amount")) != 0) {
        finish(c, "04", "Invalid amount");
        return;
    }
    if (status->type == REDIS_REPLY_STRING && strcmp(status->str, "paid") == 0) {
        finish(c, "02", "Order already confirmed");
        return;
    }
    c->created = created->type == REDIS_REPLY_STRING ? (time_t)strtoll(created->str, NULL, 10) : 0;
    query(c);
}

static void confirm_then_record(struct ipn_call *c)
{
    char key[PAYMENT_TXN_REF_MAX + 8];
    snprintf(key, sizeof key, "pay:%s", c->ref);
    if (store_command(c->pi->deps.store, on_order, c, "HMGET %s amount status created", key) != 0)
        finish(c, "99", "Unknown error");
}

/* ===== The request ===== */

void payment_ipn_handle(struct http_request *req, void *ud)
{
    struct payment_ipn *pi = ud;
    const struct config *cfg = pi->deps.cfg;
    req->route = "pay_ipn";
    struct ipn_call *c = xcalloc(1, sizeof *c);
    c->pi = pi;
    c->req = req;
    bool configured = cfg->pay_tmn_code && cfg->pay_hash_secret;
    if (vnpay_parse_query(req->query, &c->v) != 0 || !configured ||
        !vnpay_verify(&c->v, cfg->pay_hash_secret)) {
        log_msg(LOG_WARN, "ipn refused: bad signature");
        finish(c, "97", "Invalid signature");
        return;
    }
    if (!vnpay_is_gateway_answer(&c->v, cfg->pay_tmn_code) ||
        vnpay_parse_time(param(&c->v, "vnp_PayDate"), &c->paid_at) != 0) {
        log_msg(LOG_WARN, "ipn refused: signed but not the gateway's answer");
        finish(c, "97", "Invalid request");
        return;
    }
    c->ref = param(&c->v, "vnp_TxnRef");
    if (!payment_ref_valid(c->ref)) {
        finish(c, "01", "Order not found");
        return;
    }
    if (is_success(c) && cfg->pay_query_url)
        confirm_then_record(c);
    else
        record(c);
}

/* ===== Set-up ===== */

struct payment_ipn *payment_ipn_new(const struct payment_ipn_deps *deps)
{
    struct payment_ipn *pi = xcalloc(1, sizeof *pi);
    pi->deps = *deps;
    if (deps->cfg->pay_query_url && !deps->cfg->pay_server_ip)
        log_msg(LOG_WARN, "PAY_QUERY_URL without PAY_SERVER_IP: querydr sends vnp_IpAddr " PAYMENT_IP_ADDR);
    return pi;
}

void payment_ipn_free(struct payment_ipn *pi)
{
    free(pi);
}
