/* console_payments — the payments staff must settle by hand.
 *
 *   GET /admin/ui/payments/unapplied   payments the gateway confirmed (IPN
 *        00) that were not applied to their dossier (payment_ipn.h:
 *        applied=0), newest first: {"payments":[{ref, code, amount, reason
 *        (fee_changed, expired, already_paid, not_due, no_dossier), paid_at,
 *        transaction_no, bank_code, commune, procedure, procedure_name}]}
 *
 *   POST /admin/ui/payments/settled    {"ref", "how": "refunded" | "applied"}:
 *        staff settled one by hand — the money went back to the payer, or the
 *        payment is accepted for its dossier (then marked paid, as the IPN
 *        would have; 409 when the dossier is gone or already paid). The
 *        record keeps applied=<how>, settled_at and settled_by (the token's
 *        fingerprint, cut), leaves the list, and the payer is told in their
 *        chat (templates payment_settled_<how>). 404 for a payment not in the
 *        list or outside the staff's commune.
 *
 * The index PAYMENT_UNAPPLIED_KEY names them; the CONSOLE_PAYMENTS_READ most
 * recent are read by one script, with their dossier's commune. A commune
 * sign-in sees its commune's only (a payment whose dossier is gone has no
 * commune: province staff only). No payer is shown: the record names them
 * by user key only, and staff find the applicant from the dossier code. */
#include "dvcbot/admin_auth.h"
#include "dvcbot/buf.h"
#include "dvcbot/clock.h"
#include "dvcbot/console_ui.h"
#include "dvcbot/dossier.h"
#include "dvcbot/mem.h"
#include "dvcbot/notify.h"
#include "dvcbot/payment.h"
#include "dvcbot/payment_ipn.h"
#include "dvcbot/redis_script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONSOLE_PAYMENTS_READ 500
#define PAY_KEY_MAX 80

struct listing {
    struct console_ctx *ctx;
    struct http_request *req;
};

static void render(struct listing *ls, const redisReply *p, bool first, struct buf *b)
{
    const char *v[9];
    for (size_t i = 0; i < 9; i++)
        v[i] = store_reply_str(p->element[i]) ? p->element[i]->str : "";
    const struct intent *in = catalog_find(ls->ctx->deps.catalog, v[8]);
    buf_puts(b, first ? "{\"ref\":" : ",{\"ref\":");
    buf_json_str(b, v[0]);
    buf_printf(b, ",\"amount\":%lld,\"code\":", atoll(v[1]));
    buf_json_str(b, v[2]);
    buf_puts(b, ",\"reason\":");
    buf_json_str(b, v[3]);
    buf_printf(b, ",\"paid_at\":%lld,\"transaction_no\":", atoll(v[4]));
    buf_json_str(b, v[5]);
    buf_puts(b, ",\"bank_code\":");
    buf_json_str(b, v[6]);
    buf_puts(b, ",\"commune\":");
    buf_json_str(b, v[7]);
    buf_puts(b, ",\"procedure\":");
    buf_json_str(b, v[8]);
    buf_puts(b, ",\"procedure_name\":");
    buf_json_str(b, in ? in->name : "");
    buf_putc(b, '}');
}

static void respond(struct listing *ls, const redisReply *r)
{
    const char *scope = console_scope(ls->req);
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"payments\":[");
    size_t n = 0;
    for (size_t i = 0; r && i < r->elements; i++) {
        const redisReply *p = r->element[i];
        if (p->type != REDIS_REPLY_ARRAY || p->elements != 9)
            continue;
        const char *commune = store_reply_str(p->element[7]);
        if (console_in_scope(scope, commune ? commune : ""))
            render(ls, p, n++ == 0, &b);
    }
    buf_puts(&b, "]}");
    http_respond_json(ls->req, 200, b.data);
    buf_free(&b);
    free(ls);
}

static void fail(struct listing *ls)
{
    http_respond_error(ls->req, 503, "store unavailable");
    free(ls);
}

/* reply: the script's records, newest first */
static void on_records(redisReply *r, void *ud)
{
    struct listing *ls = ud;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY)
        fail(ls);
    else
        respond(ls, r);
}

/* reply: ZREVRANGE of the index — txn refs */
static void on_refs(redisReply *r, void *ud)
{
    struct listing *ls = ud;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY) {
        fail(ls);
        return;
    }
    if (r->elements == 0) {
        respond(ls, NULL);
        return;
    }
    char(*keys)[PAY_KEY_MAX] = xcalloc(r->elements, sizeof *keys);
    const char **argv = xcalloc(r->elements + 3, sizeof *argv);
    size_t n = 0;
    for (size_t i = 0; i < r->elements; i++) {
        const char *ref = store_reply_str(r->element[i]);
        if (!ref || strlen(ref) + 5 > PAY_KEY_MAX)
            continue;
        snprintf(keys[n], PAY_KEY_MAX, "pay:%s", ref);
        argv[3 + n] = keys[n];
        n++;
    }
    char nkeys[24];
    snprintf(nkeys, sizeof nkeys, "%zu", n);
    argv[0] = "FCALL";
    argv[1] = "console_payments_unapplied";
    argv[2] = nkeys;
    int rc = store_command_argv(ls->ctx->deps.store, on_records, ls, (int)(n + 3), argv, NULL);
    free(argv);
    free(keys);
    if (rc != 0)
        fail(ls);
}

static void handle_unapplied(struct http_request *req, void *ud)
{
    struct listing *ls = xcalloc(1, sizeof *ls);
    ls->ctx = ud;
    ls->req = req;
    if (store_command(ls->ctx->deps.store, on_refs, ls, "ZREVRANGE %s 0 %d", PAYMENT_UNAPPLIED_KEY,
                      CONSOLE_PAYMENTS_READ - 1) != 0)
        fail(ls);
}

/* ===== Settling one by hand ===== */

#define SETTLED_BY_HEX 12 /* of the token's fingerprint: enough to tell staff apart */

struct settle {
    struct console_ctx *ctx;
    struct http_request *req;
    char key[PAY_KEY_MAX];
    char how[16];
};

static void settle_fail(struct settle *st, int status, const char *why)
{
    http_respond_error(st->req, status, why);
    free(st);
}

static void tell_payer(struct settle *st, const redisReply *r)
{
    const char *payer = store_reply_str(r->element[3]);
    if (!payer || !*payer || !st->ctx->deps.notify)
        return;
    char amount[32], name[TPL_NAME_MAX];
    dossier_format_vnd(atoll(store_reply_str(r->element[2])), amount, sizeof amount);
    snprintf(name, sizeof name, "payment_settled_%s", st->how);
    const struct tpl_var vars[] = {{"amount", amount},
                                   {"code", store_reply_str(r->element[1])},
                                   {"txn", st->key + 4}};
    notify_user_tpl(st->ctx->deps.notify, payer, name, vars, 3);
}

/* reply: payment_settle_by_hand's {1, code, amount, payer} | {0} | {-1} */
static void on_settled(redisReply *r, void *ud)
{
    struct settle *st = ud;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
        r->element[0]->type != REDIS_REPLY_INTEGER) {
        settle_fail(st, 503, "store unavailable");
        return;
    }
    long long done = r->element[0]->integer;
    if (done == 0) {
        settle_fail(st, 404, "no such payment to settle (settled already?)");
        return;
    }
    if (done < 0 || r->elements != 4 || !store_reply_str(r->element[1]) ||
        !store_reply_str(r->element[2])) {
        settle_fail(st, 409, "the dossier is gone or already paid: refund the payment");
        return;
    }
    tell_payer(st, r);
    char body[48];
    snprintf(body, sizeof body, "{\"settled\":\"%s\"}", st->how);
    http_respond_json(st->req, 200, body);
    free(st);
}

/* reply: console_payments_unapplied for the one record */
static void on_record(redisReply *r, void *ud)
{
    struct settle *st = ud;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY) {
        settle_fail(st, 503, "store unavailable");
        return;
    }
    const redisReply *p = r->elements == 1 ? r->element[0] : NULL;
    const char *commune = p && p->type == REDIS_REPLY_ARRAY && p->elements == 9
                              ? store_reply_str(p->element[7])
                              : NULL;
    if (!commune || !console_in_scope(console_scope(st->req), commune)) {
        settle_fail(st, 404, "no such payment to settle");
        return;
    }
    const struct admin_principal *who = admin_auth_principal(st->req);
    char by[SETTLED_BY_HEX + 1] = "";
    if (who && strlen(who->fp) >= SETTLED_BY_HEX)
        memcpy(by, who->fp, SETTLED_BY_HEX);
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)clock_now());
    const char *args[] = {st->key, PAYMENT_UNAPPLIED_KEY, st->how, now, by};
    if (redis_fcall(st->ctx->deps.store, "payment_settle_by_hand", on_settled, st, 2, 5, args,
                    NULL) != 0)
        settle_fail(st, 503, "store unavailable");
}

static void handle_settle(struct http_request *req, void *ud)
{
    cJSON *root = cJSON_ParseWithLength(req->body.data ? req->body.data : "", req->body.len);
    const char *ref = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "ref"));
    const char *how = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "how"));
    struct settle *st = xcalloc(1, sizeof *st);
    st->ctx = ud;
    st->req = req;
    bool ok = ref && how && payment_ref_valid(ref) &&
              (strcmp(how, "refunded") == 0 || strcmp(how, "applied") == 0);
    if (ok) {
        snprintf(st->key, sizeof st->key, "pay:%s", ref);
        snprintf(st->how, sizeof st->how, "%s", how);
    }
    cJSON_Delete(root);
    if (!ok) {
        settle_fail(st, 400, "want {\"ref\": \"<payment ref>\", \"how\": \"refunded\" or \"applied\"}");
        return;
    }
    if (store_command(st->ctx->deps.store, on_record, st, "FCALL console_payments_unapplied 1 %s",
                      st->key) != 0)
        settle_fail(st, 503, "store unavailable");
}

void console_payments_routes(struct router *ui, struct console_ctx *ctx)
{
    router_add(ui, "POST", CONSOLE_UI_PREFIX "payments/settled", false, "console_payments",
               handle_settle, ctx);
    router_add(ui, "GET", CONSOLE_UI_PREFIX "payments/unapplied", false, "console_payments",
               handle_unapplied, ctx);
}
