/* console_payments — the payments staff must settle by hand.
 *
 *   GET /admin/ui/payments/unapplied   payments the gateway confirmed (IPN
 *        00) that were not applied to their dossier (payment_ipn.h:
 *        applied=0), newest first: {"payments":[{ref, code, amount, reason
 *        (fee_changed, expired, already_paid, not_due, no_dossier), paid_at,
 *        transaction_no, bank_code, commune, procedure, procedure_name}]}
 *
 * The index PAYMENT_UNAPPLIED_KEY names them; the CONSOLE_PAYMENTS_READ most
 * recent are read by one script, with their dossier's commune. A commune
 * sign-in sees its commune's only (a payment whose dossier is gone has no
 * commune: province staff only). No payer is shown: the record names them
 * by user key only, and staff find the applicant from the dossier code. */
#include "dvcbot/buf.h"
#include "dvcbot/console_ui.h"
#include "dvcbot/mem.h"
#include "dvcbot/payment_ipn.h"

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

void console_payments_routes(struct router *ui, struct console_ctx *ctx)
{
    router_add(ui, "GET", CONSOLE_UI_PREFIX "payments/unapplied", false, "console_payments",
               handle_unapplied, ctx);
}
