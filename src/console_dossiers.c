/* console_dossiers — the Dossiers section.
 *
 *   POST /admin/ui/dossiers          an export (CSV with a header row, JSON or
 *                                    NDJSON) → POST /admin/dossiers: the same
 *                                    parser and answer, per-record errors
 *                                    included; a commune sign-in stores its
 *                                    commune's records only (admin_dossiers.h)
 *   GET  /admin/ui/dossiers/<code>   one dossier, for the search box: what
 *                                    staff need to answer a resident, with the
 *                                    applicant's name masked and only the last
 *                                    4 digits of the phone; 404 when absent or
 *                                    in another commune than the sign-in's */
#include "dvcbot/admin_dossiers.h"
#include "dvcbot/buf.h"
#include "dvcbot/clock.h"
#include "dvcbot/console_ui.h"
#include "dvcbot/dossier.h"
#include "dvcbot/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UI_DOSSIER_PREFIX CONSOLE_UI_PREFIX "dossiers/"

static void handle_upload(struct http_request *req, void *ud)
{
    struct console_ctx *ctx = ud;
    admin_dossiers_handle(req, ctx->deps.dossiers);
}

/* ===== One dossier ===== */

struct find_call {
    struct console_ctx *ctx;
    struct http_request *req;
};

static void put_str(struct buf *b, const char *name, const char *value)
{
    buf_printf(b, ",\"%s\":", name);
    buf_json_str(b, value);
}

static void put_bool(struct buf *b, const char *name, bool v)
{
    buf_printf(b, ",\"%s\":%s", name, v ? "true" : "false");
}

/* The last 4 digits of a phone number ("" without 4 digits). */
static void phone_tail(const char *phone, char out[8])
{
    char digits[40];
    size_t n = 0;
    for (const char *p = phone; *p && n + 1 < sizeof digits; p++)
        if (*p >= '0' && *p <= '9')
            digits[n++] = *p;
    digits[n] = '\0';
    snprintf(out, 8, "%s", n >= 4 ? digits + n - 4 : "");
}

static void render_dossier(struct console_ctx *ctx, const struct dossier *d, struct buf *b)
{
    static const enum dossier_field plain[] = {DF_PROCEDURE, DF_COMMUNE, DF_AGENCY, DF_STATUS,
                                               DF_RECEIVED_AT, DF_DUE_AT, DF_FINISHED_AT,
                                               DF_NOTE};
    buf_puts(b, "{\"code\":");
    buf_json_str(b, dossier_get(d, DF_CODE));
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        put_str(b, dossier_field_name(plain[i]), dossier_get(d, plain[i]));
    const struct intent *in = catalog_find(ctx->deps.catalog, dossier_get(d, DF_PROCEDURE));
    put_str(b, "procedure_name", in ? in->name : "");
    char masked[DOSSIER_TEXT_MAX + 8], tail[8];
    dossier_mask_name(dossier_get(d, DF_APPLICANT_NAME), masked, sizeof masked);
    phone_tail(dossier_get(d, DF_PHONE), tail);
    put_str(b, "applicant", masked);
    put_str(b, "phone_last4", tail);
    buf_printf(b, ",\"fee\":%lld", dossier_fee(d));
    put_bool(b, "paid", dossier_flag(d, DF_PAID));
    put_bool(b, "submitted_online", dossier_flag(d, DF_SUBMITTED_ONLINE));
    put_bool(b, "paid_online", dossier_flag(d, DF_PAID_ONLINE));
    buf_printf(b, ",\"days_late\":%ld}", dossier_days_late(d, (time_t)clock_now()));
}

static void on_dossier(redisReply *r, void *ud)
{
    struct find_call *fc = ud;
    struct dossier d;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY) {
        http_respond_error(fc->req, 503, "store unavailable");
    } else if (dossier_from_hash(r, &d) != 0) {
        http_respond_error(fc->req, 404, "no such dossier");
    } else {
        if (!console_in_scope(console_scope(fc->req), dossier_get(&d, DF_COMMUNE))) {
            http_respond_error(fc->req, 404, "no such dossier");
        } else {
            struct buf b;
            buf_init(&b);
            render_dossier(fc->ctx, &d, &b);
            http_respond_json(fc->req, 200, b.data);
            buf_free(&b);
        }
        dossier_clear(&d);
    }
    free(fc);
}

static void handle_find(struct http_request *req, void *ud)
{
    struct console_ctx *ctx = ud;
    const char *raw = req->path + strlen(UI_DOSSIER_PREFIX);
    char *given = http_url_decode(raw, strlen(raw));
    char code[DOSSIER_CODE_MAX + 1], key[DOSSIER_KEY_MAX];
    bool ok = dossier_code_normalize(given, strlen(given), code);
    free(given);
    if (!ok) {
        http_respond_error(req, 404, "no such dossier");
        return;
    }
    dossier_key(key, sizeof key, code);
    struct find_call *fc = xcalloc(1, sizeof *fc);
    fc->ctx = ctx;
    fc->req = req;
    if (store_command(ctx->deps.store, on_dossier, fc, "HGETALL %s", key) != 0) {
        free(fc);
        http_respond_error(req, 503, "store unavailable");
    }
}

void console_dossiers_routes(struct router *ui, struct console_ctx *ctx)
{
    router_add(ui, "POST", CONSOLE_UI_PREFIX "dossiers", false, "console_dossiers",
               handle_upload, ctx);
    router_add(ui, "GET", UI_DOSSIER_PREFIX, true, "console_dossier", handle_find, ctx);
}
