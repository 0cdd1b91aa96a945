/* payment — links in Redis, IPN, return page. */
#include "dvcbot/payment.h"
#include "dvcbot/buf.h"
#include "dvcbot/clock.h"
#include "dvcbot/crypto.h"
#include "dvcbot/dossier_reply.h"
#include "dvcbot/file.h"
#include "dvcbot/html_escape.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/metrics.h"
#include "dvcbot/normalize.h"
#include "dvcbot/redis_script.h"
#include "dvcbot/refs.h"
#include "dvcbot/vnpay.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ORDER_INFO_MAX 255


struct payment {
    struct payment_deps deps;
    char *page;          /* templates/pay_return.html */
    char *return_url;
};

struct offer {
    struct payment *p;
    struct dialog_turn *t;
    char code[DOSSIER_CODE_MAX + 1];
    long long amount;
    char ref[PAYMENT_TXN_REF_MAX];
    time_t created;
};

void payment_count(const char *what, const char *result)
{
    char labels[64];
    snprintf(labels, sizeof labels, "step=\"%s\",result=\"%s\"", what, result);
    metrics_inc("dvcbot_payments_total", labels, 1);
}

bool payment_configured(const struct payment *p)
{
    const struct config *c = p->deps.cfg;
    return c->pay_base_url && c->pay_tmn_code && c->pay_hash_secret && p->return_url;
}

/* ===== Links ===== */

static void render_code(struct dialog_turn *t, const char *name, const char *code)
{
    const struct tpl_var vars[] = {{"code", code}};
    dialog_turn_render(t, name, vars, 1);
}

/* "Thanh toán lệ phí hồ sơ X" folded to ASCII words, as the gateway wants. */
static char *order_info(const struct payment *p, const char *code)
{
    const struct tpl_var vars[] = {{"code", code}};
    char *text = tpl_render_text(p->deps.tpl, "payment_order_info", vars, 1);
    char *folded = text ? norm_fold(text, strlen(text), NULL) : NULL;
    free(text);
    if (folded && strlen(folded) > ORDER_INFO_MAX)
        folded[ORDER_INFO_MAX] = '\0';
    return folded ? folded : xstrdup("thanh toan le phi");
}

static void reply_link(struct offer *o)
{
    struct payment *p = o->p;
    const struct config *c = p->deps.cfg;
    char *info = order_info(p, o->code);
    struct vnpay_order vo = {
        .tmn_code = c->pay_tmn_code, .amount_vnd = o->amount, .txn_ref = o->ref,
        .order_info = info, .order_type = PAYMENT_ORDER_TYPE, .return_url = p->return_url,
        .ip_addr = PAYMENT_IP_ADDR, .created = o->created, .expire_s = VNPAY_EXPIRE_S,
    };
    struct buf url;
    buf_init(&url);
    if (vnpay_build_url(&url, c->pay_base_url, c->pay_hash_secret, &vo) != 0) {
        log_msg(LOG_ERROR, "payment link not signed");
        dialog_reply_busy_store(o->t);
    } else {
        char amount[32], expires[24];
        dossier_format_vnd(o->amount, amount, sizeof amount);
        dossier_format_datetime(o->created + VNPAY_EXPIRE_S, expires);
        const struct tpl_var vars[] = {
            {"amount", amount}, {"code", o->code}, {"expires", expires}, {"url", buf_cstr(&url)},
        };
        dialog_turn_render(o->t, "payment_link", vars, sizeof vars / sizeof vars[0]);
        payment_count("link", "issued");
    }
    buf_free(&url);
    free(info);
}

static void on_created(redisReply *r, void *ud)
{
    struct offer *o = ud;
    if (!r || r->type == REDIS_REPLY_ERROR) {
        log_msg(LOG_ERROR, "payment record not stored");
        dialog_reply_busy_store(o->t);
    } else {
        reply_link(o);
    }
    dialog_turn_done(o->t);
    free(o);
}

static void on_seq(redisReply *r, void *ud)
{
    struct offer *o = ud;
    char rnd[9];
    if (!r || r->type != REDIS_REPLY_INTEGER || crypto_random_hex(rnd, 4) != 0) {
        dialog_reply_busy_store(o->t);
        dialog_turn_done(o->t);
        free(o);
        return;
    }
    for (char *c = rnd; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    /* An R between the parts keeps digit runs short (the logger masks 9+). */
    snprintf(o->ref, sizeof o->ref, "DVC%08lldR%s", r->integer, rnd);
    o->created = (time_t)clock_now();
    char pkey[PAYMENT_TXN_REF_MAX + 8], rkey[DIALOG_USER_KEY_MAX + 16];
    char amount[24], created[24], expires[24], ttl[16];
    snprintf(pkey, sizeof pkey, "pay:%s", o->ref);
    dialog_user_redis_key(rkey, sizeof rkey, "refs:", o->t->user_key, NULL);
    snprintf(amount, sizeof amount, "%lld", o->amount);
    snprintf(created, sizeof created, "%lld", (long long)o->created);
    snprintf(expires, sizeof expires, "%lld", (long long)(o->created + VNPAY_EXPIRE_S));
    snprintf(ttl, sizeof ttl, "%d", PAYMENT_RECORD_TTL_S);
    const char *args[] = {pkey, rkey, amount, o->code, created, expires, o->t->user_key, ttl};
    if (redis_fcall(o->p->deps.store, "payment_create", on_created, o, 2, 8, args, NULL) != 0) {
        dialog_reply_busy_store(o->t);
        dialog_turn_done(o->t);
        free(o);
        return;
    }
    /* after the SADD on the same connection; on_created has not run yet */
    if (refs_keep(o->p->deps.store, o->t->deps->cfg->user_ttl_s, o->t->user_key) != 0)
        log_msg(LOG_WARN, "refs ttl not set: redis unavailable");
}

void payment_offer(struct payment *p, struct dialog_turn *t, const struct dossier *d)
{
    const char *code = dossier_get(d, DF_CODE);
    if (!dossier_reply_fee_due(d)) {
        render_code(t, dossier_flag(d, DF_PAID) ? "payment_already_paid" : "payment_no_fee", code);
        dialog_turn_done(t);
        return;
    }
    if (!payment_configured(p)) {
        render_code(t, "payment_unavailable", code);
        payment_count("link", "unconfigured");
        dialog_turn_done(t);
        return;
    }
    struct offer *o = xcalloc(1, sizeof *o);
    o->p = p;
    o->t = t;
    o->amount = dossier_fee(d);
    snprintf(o->code, sizeof o->code, "%s", code);
    if (store_command(p->deps.store, on_seq, o, "INCR pay:seq") != 0) {
        free(o);
        dialog_reply_busy_store(t);
        dialog_turn_done(t);
    }
}

/* ===== Return page ===== */

static const char *param(const struct vnpay_params *v, const char *name)
{
    const char *s = vnpay_params_get(v, name);
    return s ? s : "";
}

void payment_handle_return(struct http_request *req, void *ud)
{
    struct payment *p = ud;
    req->route = "pay_return";
    struct vnpay_params v;
    bool valid = vnpay_parse_query(req->query, &v) == 0 && payment_configured(p) &&
                 vnpay_verify(&v, p->deps.cfg->pay_hash_secret);
    bool paid = valid && strcmp(param(&v, "vnp_ResponseCode"), "00") == 0 &&
                strcmp(param(&v, "vnp_TransactionStatus"), "00") == 0;
    char amount[32];
    dossier_format_vnd(valid ? strtoll(param(&v, "vnp_Amount"), NULL, 10) / 100 : 0, amount,
                       sizeof amount);
    const struct tpl_var vars[] = {{"amount", amount}, {"txn", valid ? param(&v, "vnp_TxnRef") : ""}};
    const char *name = !valid ? "pay_return_invalid" : paid ? "pay_return_paid" : "pay_return_unpaid";
    char *text = tpl_render_text(p->deps.tpl, name, vars, 2);
    vnpay_params_free(&v);

    struct buf page;
    buf_init(&page);
    const char *slot = strstr(p->page, "{{message}}");
    buf_append(&page, p->page, slot ? (size_t)(slot - p->page) : strlen(p->page));
    html_escape_lines(&page, text ? text : "");
    if (slot)
        buf_puts(&page, slot + strlen("{{message}}"));
    free(text);
    http_respond(req, valid ? 200 : 400, "text/html; charset=utf-8", page.data, page.len,
                 "Cache-Control: no-store\r\nContent-Security-Policy: default-src 'none'; "
                 "style-src 'unsafe-inline'\r\n");
    buf_free(&page);
}

/* ===== Set-up ===== */

struct payment *payment_new(const struct payment_deps *deps, char **err)
{
    char *path = config_data_path(deps->cfg, "templates/pay_return.html");
    char *page = file_read_explained(path, NULL, err);
    free(path);
    if (!page)
        return NULL;
    struct payment *p = xcalloc(1, sizeof *p);
    p->deps = *deps;
    p->page = page;
    const char *base = deps->cfg->public_base_url;
    if (base && *base) {
        size_t n = strlen(base);
        while (n && base[n - 1] == '/')
            n--;
        struct buf u;
        buf_init(&u);
        buf_append(&u, base, n);
        buf_puts(&u, "/pay/return");
        p->return_url = buf_steal(&u);
    }
    metrics_declare("dvcbot_payments_total", METRIC_COUNTER,
                    "Payment links issued and IPN answers by code.", NULL, 0);
    return p;
}

void payment_free(struct payment *p)
{
    if (!p)
        return;
    free(p->page);
    free(p->return_url);
    free(p);
}

bool payment_ref_valid(const char *ref)
{
    size_t n = strlen(ref);
    if (n == 0 || n >= PAYMENT_TXN_REF_MAX)
        return false;
    for (; *ref; ref++)
        if (!isalnum((unsigned char)*ref))
            return false;
    return true;
}
