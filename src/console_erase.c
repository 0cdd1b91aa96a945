/* console_erase — the desk-side erasure section.
 *
 *   POST /admin/ui/erase   {"code": "123456"} (spaces between digits allowed):
 *                          the one-time code a resident read out from their
 *                          own chat (erase_desk.h). 200 once their erasure
 *                          has run, with what was erased and nothing about
 *                          the person: {"erased": true, "items": 7, "lists": 2,
 *                          "kinds": ["s", "u", "p"]} (items deleted, shared
 *                          lists they were taken out of, the kinds of data as
 *                          erase_kind_<kind> names them; the page says them in
 *                          words); 500 when the erasure failed midway; 422 for a wrong, expired or
 *                          used code, all alike; 429 past the wrong tries of
 *                          this token or address; 403 for a province sign-in.
 *
 * Only a commune officer's sign-in (token@commune) may: the resident stands
 * at their desk, and the trail then names the desk. Province staff see the
 * trail (console:audit, event erase_desk: token id, commune, masked address,
 * the resident as 12 hex digits of the SHA-256 of their user key). Any
 * commune's officer may erase any resident: services no longer depend on
 * where one lives. */
#include "dvcbot/buf.h"
#include "dvcbot/console_audit.h"
#include "dvcbot/console_session.h"
#include "dvcbot/console_ui.h"
#include "dvcbot/erase_desk.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/netaddr.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct erase_call {
    struct console_ctx *ctx;
    struct http_request *req;
    struct admin_principal who;
    char addr[NETADDR_TEXT_MAX];
};

/* The 200's body: counts and kind names (erase.h: [a-z0-9_] only). */
static void respond_erased(struct http_request *req, const struct erase_summary *what)
{
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "{\"erased\":true,\"items\":%ld,\"lists\":%ld,\"kinds\":[", what->deleted,
               what->refs_removed);
    for (size_t i = 0; i < what->n_kinds; i++)
        buf_printf(&b, "%s\"%s\"", i ? "," : "", what->kinds[i]);
    buf_puts(&b, "]}");
    http_respond_json(req, 200, buf_cstr(&b));
    buf_free(&b);
}

static void on_taken(enum erase_desk_result res, const char *user_key, const struct erase_summary *what,
                     void *ud)
{
    struct erase_call *ec = ud;
    char from[NETADDR_TEXT_MAX];
    netaddr_mask(ec->addr, from);
    switch (res) {
    case ERASE_DESK_ORDERED:
        console_audit_event_about(ec->ctx->deps.store, "erase_desk", &ec->who, ec->addr, user_key);
        log_fmt(LOG_INFO, "desk erasure done", "\"token\":\"%.12s\",\"from\":%s", ec->who.fp, log_q(from));
        respond_erased(ec->req, what);
        break;
    case ERASE_DESK_UNKNOWN:
        log_fmt(LOG_INFO, "desk erasure code refused", "\"token\":\"%.12s\",\"from\":%s", ec->who.fp,
                log_q(from));
        http_respond_error(ec->req, 422, "no such code: wrong, expired or already used");
        break;
    case ERASE_DESK_WAIT:
        http_respond_error(ec->req, 429, "too many wrong codes: wait 15 minutes");
        break;
    case ERASE_DESK_FAILED:
        http_respond_error(ec->req, 500, "the erasure could not be ordered");
        break;
    case ERASE_DESK_STORE_DOWN:
    default:
        http_respond_error(ec->req, 503, "store unavailable");
        break;
    }
    free(ec);
}

static void handle_erase(struct http_request *req, void *ud)
{
    struct console_ctx *ctx = ud;
    const struct admin_principal *who = admin_auth_principal(req);
    if (!who || !who->commune[0]) {
        http_respond_error(req, 403, "desk erasure is for commune desk officers");
        return;
    }
    cJSON *root = cJSON_ParseWithLength(req->body.data ? req->body.data : "", req->body.len);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(root, "code");
    char code[ERASE_DESK_DIGITS + 1];
    bool ok = cJSON_IsString(c) && erase_desk_code_read(c->valuestring, code);
    cJSON_Delete(root);
    if (!ok) {
        http_respond_error(req, 400, "want {\"code\": \"123456\"} (six digits)");
        return;
    }
    struct erase_call *ec = xcalloc(1, sizeof *ec);
    ec->ctx = ctx;
    ec->req = req;
    ec->who = *who;
    console_client_addr(ctx->sessions, req, ec->addr, sizeof ec->addr);
    if (erase_desk_take(ctx->deps.dialog, code, who->fp, ec->addr, ctx->deps.cfg->console_login_limit,
                        on_taken, ec) != 0) {
        free(ec);
        http_respond_error(req, 503, "store unavailable");
    }
}

void console_erase_routes(struct router *ui, struct console_ctx *ctx)
{
    router_add(ui, "POST", CONSOLE_UI_PREFIX "erase", false, "console_erase", handle_erase, ctx);
}
