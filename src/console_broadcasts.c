/* console_broadcasts — the Broadcasts section: the recent list, and create /
 * count / follow / cancel forwarded to the broadcast API (broadcast.h) so
 * the rules are the same, with the scope of a commune token applied first.
 *
 *   GET  /admin/ui/broadcasts              the last CONSOLE_BROADCASTS_LISTED
 *   POST /admin/ui/broadcasts              → POST /admin/broadcasts
 *   POST /admin/ui/broadcasts/count        → POST /admin/broadcasts?dry_run=1
 *   GET  /admin/ui/broadcasts/<id>         → GET /admin/broadcasts/<id>
 *   POST /admin/ui/broadcasts/<id>/cancel  → POST /admin/broadcasts/<id>/cancel
 *
 * A commune officer's segment always names their commune only (whatever the
 * page sent), and they see only broadcasts whose segment is that commune.
 * Province staff name communes of the 2025 list: the API checks them
 * (commune_check.h, 422 with the nearest names) but leaves the commune an
 * officer's segment was forced to alone. */
#include "dvcbot/broadcast.h"
#include "dvcbot/broadcast_spec.h"
#include "dvcbot/buf.h"
#include "dvcbot/console_ui.h"
#include "dvcbot/mem.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONSOLE_BROADCASTS_LISTED 50
#define UI_ITEM_PREFIX CONSOLE_UI_PREFIX "broadcasts/"
#define API_ITEM_PREFIX "/admin/broadcasts/"


static const char *const list_fields[] = {"id", "status", "text", "segment", "created",
                                          "not_before", "finished", "recipients", "sent",
                                          "failed", "blocked", "skipped"};
#define N_LIST_FIELDS (sizeof list_fields / sizeof list_fields[0])

/* ===== Scope ===== */

/* Whether a stored segment (JSON as given) is exactly the scope's commune. */
static bool segment_in_scope(const char *scope, const char *segment_json)
{
    if (!scope[0])
        return true;
    cJSON *seg = segment_json ? cJSON_Parse(segment_json) : NULL;
    const cJSON *communes = cJSON_GetObjectItemCaseSensitive(seg, "communes");
    bool ok = cJSON_GetArraySize(communes) == 1 &&
              cJSON_IsString(cJSON_GetArrayItem(communes, 0)) &&
              console_in_scope(scope, cJSON_GetArrayItem(communes, 0)->valuestring);
    cJSON_Delete(seg);
    return ok;
}

/* Rewrites the body so the segment names the scope's commune only. A body
 * that is not a JSON object is left for the API to refuse. */
static void force_scope(struct http_request *req, const char *scope)
{
    if (!scope[0])
        return;
    cJSON *root = cJSON_ParseWithLength(req->body.data ? req->body.data : "", req->body.len);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return;
    }
    cJSON *seg = cJSON_GetObjectItemCaseSensitive(root, "segment");
    if (!cJSON_IsObject(seg)) {
        cJSON_DeleteItemFromObjectCaseSensitive(root, "segment");
        seg = cJSON_AddObjectToObject(root, "segment");
    }
    cJSON_DeleteItemFromObjectCaseSensitive(seg, "communes");
    cJSON *communes = cJSON_AddArrayToObject(seg, "communes");
    cJSON_AddItemToArray(communes, cJSON_CreateString(scope));
    char *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!json)
        return;
    buf_reset(&req->body);
    buf_puts(&req->body, json);
    free(json);
}

/* Hands the request to the API handler as if sent to path?query. */
static void forward(struct http_request *req, const char *path, const char *query,
                    http_handler_fn fn, void *ud)
{
    free(req->path);
    req->path = xstrdup(path);
    if (query) {
        free(req->query);
        req->query = xstrdup(query);
    }
    fn(req, ud);
}

/* ===== The list ===== */

static void on_list(redisReply *r, void *ud)
{
    struct http_request *req = ud;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY) {
        http_respond_error(req, 503, "store unavailable");
        return;
    }
    const char *scope = console_scope(req);
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"broadcasts\":[");
    bool first = true;
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *h = r->element[i];
        if (h->type != REDIS_REPLY_ARRAY || h->elements != N_LIST_FIELDS ||
            !segment_in_scope(scope, store_reply_str(h->element[3])))
            continue;
        buf_puts(&b, first ? "{" : ",{");
        first = false;
        for (size_t f = 0; f < N_LIST_FIELDS; f++) {
            const char *v = store_reply_str(h->element[f]);
            buf_printf(&b, "%s\"%s\":", f ? "," : "", list_fields[f]);
            if (f == 3 && v) /* segment: our own JSON */
                buf_puts(&b, v);
            else
                buf_json_str(&b, v ? v : "");
        }
        buf_putc(&b, '}');
    }
    buf_puts(&b, "]}");
    http_respond_json(req, 200, b.data);
    buf_free(&b);
}

static void handle_list(struct http_request *req, void *ud)
{
    struct console_ctx *ctx = ud;
    char n[16];
    snprintf(n, sizeof n, "%d", CONSOLE_BROADCASTS_LISTED);
    if (store_command(ctx->deps.store, on_list, req, "FCALL console_broadcast_list 0 %s", n) != 0)
        http_respond_error(req, 503, "store unavailable");
}

/* ===== Create and count ===== */

/* The console's broadcast, scoped, to the API as path?query. */
static void create(struct http_request *req, struct console_ctx *ctx, const char *query)
{
    force_scope(req, console_scope(req));
    forward(req, "/admin/broadcasts", query, broadcast_handle_create, ctx->deps.broadcasts);
}

static void handle_create(struct http_request *req, void *ud)
{
    create(req, ud, "");
}

static void handle_count(struct http_request *req, void *ud)
{
    create(req, ud, "dry_run=1");
}

/* ===== One broadcast ===== */

struct item_call {
    struct console_ctx *ctx;
    struct http_request *req;
    char path[BROADCAST_KEY_MAX];
};

static void forward_item(struct item_call *ic)
{
    forward(ic->req, ic->path, NULL, broadcast_handle_item, ic->ctx->deps.broadcasts);
    free(ic);
}

static void on_item_segment(redisReply *r, void *ud)
{
    struct item_call *ic = ud;
    if (store_reply_failed(r)) {
        http_respond_error(ic->req, 503, "store unavailable");
        free(ic);
    } else if (!segment_in_scope(console_scope(ic->req), store_reply_str(r))) {
        http_respond_error(ic->req, 404, "no such broadcast");
        free(ic);
    } else {
        forward_item(ic);
    }
}

static void handle_item(struct http_request *req, void *ud)
{
    struct console_ctx *ctx = ud;
    const char *rest = req->path + strlen(UI_ITEM_PREFIX);
    if (strcmp(rest, "count") == 0) {
        if (strcmp(req->method_name, "POST") == 0)
            handle_count(req, ud);
        else
            http_respond_error(req, 405, "use POST");
        return;
    }
    char id[BROADCAST_ID_MAX];
    size_t idlen = strcspn(rest, "/");
    if (idlen == 0 || idlen >= sizeof id) {
        http_respond_error(req, 404, "no such broadcast");
        return;
    }
    memcpy(id, rest, idlen);
    id[idlen] = '\0';
    struct item_call *ic = xcalloc(1, sizeof *ic);
    ic->ctx = ctx;
    ic->req = req;
    snprintf(ic->path, sizeof ic->path, "%s%s", API_ITEM_PREFIX, rest);
    if (!console_scope(req)[0] || !broadcast_id_valid(id)) {
        forward_item(ic); /* the API answers, 404 for a bad id */
        return;
    }
    char key[BROADCAST_KEY_MAX];
    broadcast_key(key, sizeof key, id, "");
    if (store_command(ctx->deps.store, on_item_segment, ic, "HGET %s segment", key) != 0) {
        http_respond_error(req, 503, "store unavailable");
        free(ic);
    }
}

void console_broadcasts_routes(struct router *ui, struct console_ctx *ctx)
{
    router_add(ui, "GET", CONSOLE_UI_PREFIX "broadcasts", false, "console_broadcasts",
               handle_list, ctx);
    router_add(ui, "POST", CONSOLE_UI_PREFIX "broadcasts", false, "console_broadcasts",
               handle_create, ctx);
    router_add(ui, NULL, UI_ITEM_PREFIX, true, "console_broadcast", handle_item, ctx);
}
