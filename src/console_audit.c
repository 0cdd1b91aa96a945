/* console_audit — who signed in to the staff console, and who failed to. */
#include "dvcbot/console_audit.h"
#include "dvcbot/buf.h"
#include "dvcbot/clock.h"
#include "dvcbot/crypto.h"
#include "dvcbot/mem.h"
#include "dvcbot/netaddr.h"
#include "dvcbot/stats_day.h"
#include "dvcbot/store_fire.h"
#include "dvcbot/store_reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_S 86400
#define DAY_KEY_MAX (sizeof CONSOLE_AUDIT_FAILED_PREFIX + 16)

void console_audit_event(struct store *store, const char *event, const struct admin_principal *who,
                         const char *addr)
{
    console_audit_event_about(store, event, who, addr, NULL);
}

void console_audit_event_about(struct store *store, const char *event, const struct admin_principal *who,
                               const char *addr, const char *user_key)
{
    char from[NETADDR_TEXT_MAX], keep[16];
    netaddr_mask(addr, from);
    snprintf(keep, sizeof keep, "%d", CONSOLE_AUDIT_KEEP);
    struct buf e;
    buf_init(&e);
    buf_printf(&e, "{\"at\":%lld,\"event\":", (long long)clock_now());
    buf_json_str(&e, event);
    buf_printf(&e, ",\"token\":\"%.*s\",\"label\":", CONSOLE_AUDIT_TOKEN_ID, who->fp);
    buf_json_str(&e, who->commune);
    buf_puts(&e, ",\"from\":");
    buf_json_str(&e, from);
    if (user_key) {
        char h[CRYPTO_SHA256_HEX];
        crypto_sha256_hex(user_key, strlen(user_key), h);
        buf_printf(&e, ",\"user\":\"%.*s\"", CONSOLE_AUDIT_USER_ID, h);
    }
    buf_putc(&e, '}');
    store_fire(store, "console_audit", "FCALL console_audit_push 1 %s %s %s", CONSOLE_AUDIT_KEY,
               e.data, keep);
    buf_free(&e);
}

void console_audit_failed(struct store *store, const char *addr)
{
    char from[NETADDR_TEXT_MAX], key[DAY_KEY_MAX], ttl[16], addrs[16];
    netaddr_mask(addr, from);
    stats_day_key(clock_now(), CONSOLE_AUDIT_FAILED_PREFIX, key, sizeof key);
    snprintf(ttl, sizeof ttl, "%d", CONSOLE_AUDIT_DAYS * DAY_S);
    snprintf(addrs, sizeof addrs, "%d", CONSOLE_AUDIT_ADDRS);
    store_fire(store, "console_audit", "FCALL console_audit_failed 1 %s %s %s %s", key,
               from[0] ? from : "?", ttl, addrs);
}

/* ===== GET /admin/ui/audit ===== */

struct audit_read {
    struct http_request *req;
    char days[CONSOLE_AUDIT_DAYS_SHOWN][DAY_KEY_MAX];
};

static void put_events(struct buf *b, const redisReply *list)
{
    bool first = true;
    for (size_t i = 0; list->type == REDIS_REPLY_ARRAY && i < list->elements; i++) {
        const char *e = store_reply_str(list->element[i]);
        if (!e || e[0] != '{')
            continue;
        buf_puts(b, first ? "" : ",");
        buf_puts(b, e); /* written by console_audit_event: JSON */
        first = false;
    }
}

static void put_failed(struct buf *b, const struct audit_read *ar, const redisReply *r)
{
    bool first = true;
    size_t prefix = strlen(CONSOLE_AUDIT_FAILED_PREFIX);
    for (size_t d = 0; d < CONSOLE_AUDIT_DAYS_SHOWN && d + 1 < r->elements; d++) {
        const redisReply *h = r->element[d + 1];
        for (size_t i = 0; h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2) {
            const char *from = store_reply_str(h->element[i]);
            const char *n = store_reply_str(h->element[i + 1]);
            if (!from || !n)
                continue;
            buf_puts(b, first ? "{\"day\":" : ",{\"day\":");
            buf_json_str(b, ar->days[d] + prefix);
            buf_puts(b, ",\"from\":");
            buf_json_str(b, from);
            buf_printf(b, ",\"count\":%lld}", atoll(n));
            first = false;
        }
    }
}

static void on_read(redisReply *r, void *ud)
{
    struct audit_read *ar = ud;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY ||
        r->elements != CONSOLE_AUDIT_DAYS_SHOWN + 1) {
        http_respond_error(ar->req, 503, "store unavailable");
        free(ar);
        return;
    }
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"events\":[");
    put_events(&b, r->element[0]);
    buf_puts(&b, "],\"failed\":[");
    put_failed(&b, ar, r);
    buf_puts(&b, "]}");
    http_respond_json(ar->req, 200, b.data);
    buf_free(&b);
    free(ar);
}

static void handle_audit(struct http_request *req, void *ud)
{
    struct console_ctx *ctx = ud;
    if (console_scope(req)[0]) {
        http_respond_error(req, 403, "the sign-in trail is for province staff");
        return;
    }
    struct audit_read *ar = xcalloc(1, sizeof *ar);
    ar->req = req;
    char last[16];
    snprintf(last, sizeof last, "%d", CONSOLE_AUDIT_SHOWN - 1);
    const char *lrange[] = {"LRANGE", CONSOLE_AUDIT_KEY, "0", last};
    struct store_cmdv cmds[CONSOLE_AUDIT_DAYS_SHOWN + 1];
    const char *hget[CONSOLE_AUDIT_DAYS_SHOWN][2];
    cmds[0] = (struct store_cmdv){4, lrange, NULL};
    for (int d = 0; d < CONSOLE_AUDIT_DAYS_SHOWN; d++) {
        stats_day_key(clock_now() - (int64_t)d * DAY_S, CONSOLE_AUDIT_FAILED_PREFIX, ar->days[d],
                      DAY_KEY_MAX);
        hget[d][0] = "HGETALL";
        hget[d][1] = ar->days[d];
        cmds[d + 1] = (struct store_cmdv){2, hget[d], NULL};
    }
    if (store_multi(ctx->deps.store, on_read, ar, cmds, CONSOLE_AUDIT_DAYS_SHOWN + 1) != 0) {
        http_respond_error(req, 503, "store unavailable");
        free(ar);
    }
}

void console_audit_routes(struct router *ui, struct console_ctx *ctx)
{
    router_add(ui, "GET", CONSOLE_UI_PREFIX "audit", false, "console_audit", handle_audit, ctx);
}
