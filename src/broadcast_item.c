/* broadcast_item — follow and cancel one broadcast (broadcast_item.h). */
#include "dvcbot/broadcast_item.h"
#include "dvcbot/broadcast_spec.h"
#include "dvcbot/buf.h"
#include "dvcbot/clock.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ITEM_PREFIX "/admin/broadcasts/"

static void log_store_error(const char *what, const redisReply *r)
{
    log_fmt(LOG_WARN, what, "\"error\":%s", log_q(store_reply_error(r)));
}

/* ===== GET /admin/broadcasts/{id} ===== */

struct status_req {
    struct store *store;
    struct http_request *req;
    char id[BROADCAST_ID_MAX];
    struct buf out;
};

static void status_free(struct status_req *s)
{
    buf_free(&s->out);
    free(s);
}

static void status_fail(struct status_req *s, int code, const char *msg)
{
    http_respond_error(s->req, code, msg);
    status_free(s);
}

static const char *field(const redisReply *hash, const char *name)
{
    for (size_t i = 0; i + 1 < hash->elements; i += 2)
        if (store_reply_str(hash->element[i]) && strcmp(hash->element[i]->str, name) == 0)
            return store_reply_str(hash->element[i + 1]);
    return NULL;
}

static long long field_num(const redisReply *hash, const char *name)
{
    const char *v = field(hash, name);
    return v ? atoll(v) : 0;
}

static void put_time(struct buf *b, const char *name, const redisReply *hash)
{
    long long t = field_num(hash, name);
    buf_printf(b, ",\"%s\":", name);
    if (t <= 0) {
        buf_puts(b, "null");
        return;
    }
    char iso[32];
    broadcast_format_time(t, iso);
    buf_json_str(b, iso);
}

/* Our own JSON from the record, or null if it does not parse. */
static void put_json(struct buf *b, const char *name, const char *json)
{
    cJSON *v = json ? cJSON_Parse(json) : NULL;
    buf_printf(b, ",\"%s\":", name);
    buf_puts(b, v ? json : "null");
    cJSON_Delete(v);
}

static void render_record(struct buf *b, const char *id, const redisReply *h)
{
    static const char *const counters[] = {"sent", "failed", "blocked", "skipped"};
    buf_puts(b, "{\"id\":");
    buf_json_str(b, id);
    buf_puts(b, ",\"status\":");
    buf_json_str(b, field(h, "status") ? field(h, "status") : "");
    buf_puts(b, ",\"text\":");
    buf_json_str(b, field(h, "text") ? field(h, "text") : "");
    put_json(b, "buttons", field(h, "buttons"));
    put_json(b, "segment", field(h, "segment"));
    put_time(b, "created", h);
    put_time(b, "not_before", h);
    put_time(b, "started", h);
    put_time(b, "finished", h);
    long long recipients = field_num(h, "recipients"), left = recipients;
    buf_printf(b, ",\"recipients\":%lld,\"counts\":{", recipients);
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
        long long n = field_num(h, counters[i]);
        left -= n;
        buf_printf(b, "%s\"%s\":%lld", i ? "," : "", counters[i], n);
    }
    buf_printf(b, ",\"remaining\":%lld},\"reasons\":{", left > 0 ? left : 0);
    bool first = true;
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        const char *k = store_reply_str(h->element[i]), *v = store_reply_str(h->element[i + 1]);
        if (!k || !v || strncmp(k, "reason:", 7) != 0)
            continue;
        buf_puts(b, first ? "" : ",");
        buf_json_str(b, k + 7);
        buf_printf(b, ":%lld", atoll(v));
        first = false;
    }
    buf_putc(b, '}');
}

/* reply: HGETALL bc:<id>:fail */
static void on_failures(redisReply *r, void *ud)
{
    struct status_req *s = ud;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY) {
        status_fail(s, 503, "store unavailable");
        return;
    }
    size_t total = r->elements / 2, shown = 0;
    buf_puts(&s->out, ",\"failures\":[");
    for (size_t i = 0; i + 1 < r->elements && shown < BROADCAST_FAILURES_SHOWN; i += 2) {
        const char *user = store_reply_str(r->element[i]), *reason = store_reply_str(r->element[i + 1]);
        if (!user || !reason)
            continue;
        buf_puts(&s->out, shown++ ? ",{\"user\":" : "{\"user\":");
        buf_json_str(&s->out, user);
        buf_puts(&s->out, ",\"reason\":");
        buf_json_str(&s->out, reason);
        buf_putc(&s->out, '}');
    }
    buf_printf(&s->out, "],\"failures_recorded\":%zu}", total);
    http_respond(s->req, 200, "application/json", s->out.data, s->out.len, NULL);
    status_free(s);
}

/* reply: HGETALL bc:<id> */
static void on_record(redisReply *r, void *ud)
{
    struct status_req *s = ud;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY) {
        status_fail(s, 503, "store unavailable");
        return;
    }
    if (r->elements == 0) {
        status_fail(s, 404, "no such broadcast");
        return;
    }
    render_record(&s->out, s->id, r);
    char fkey[BROADCAST_KEY_MAX];
    broadcast_key(fkey, sizeof fkey, s->id, ":fail");
    if (store_command(s->store, on_failures, s, "HGETALL %s", fkey) != 0)
        status_fail(s, 503, "store unavailable");
}

static void get_status(struct store *store, struct http_request *req, const char *id)
{
    struct status_req *s = xcalloc(1, sizeof *s);
    s->store = store;
    s->req = req;
    snprintf(s->id, sizeof s->id, "%s", id);
    buf_init(&s->out);
    char hkey[BROADCAST_KEY_MAX];
    broadcast_key(hkey, sizeof hkey, id, "");
    if (store_command(store, on_record, s, "HGETALL %s", hkey) != 0)
        status_fail(s, 503, "store unavailable");
}

/* ===== POST /admin/broadcasts/{id}/cancel ===== */

struct cancel_req {
    struct store *store;
    struct http_request *req;
    char id[BROADCAST_ID_MAX];
};

static void on_unlisted(redisReply *r, void *ud)
{
    struct cancel_req *k = ud;
    if (store_reply_failed(r))
        log_store_error("cancelled broadcast not removed from bc:active", r); /* the worker drops it */
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"id\":");
    buf_json_str(&b, k->id);
    buf_puts(&b, ",\"status\":\"cancelled\"}");
    http_respond(k->req, 200, "application/json", b.data, b.len, NULL);
    buf_free(&b);
    free(k);
}

/* reply: broadcast_stop — the status found */
static void on_cancelled(redisReply *r, void *ud)
{
    struct cancel_req *k = ud;
    const char *was = store_reply_str(r);
    if (store_reply_failed(r) || !was) {
        http_respond_error(k->req, 503, "store unavailable");
        free(k);
        return;
    }
    if (!was[0]) {
        http_respond_error(k->req, 404, "no such broadcast");
        free(k);
        return;
    }
    if (strcmp(was, "scheduled") != 0 && strcmp(was, "running") != 0) {
        char msg[BROADCAST_ERR_MAX];
        snprintf(msg, sizeof msg, "broadcast is %.20s; only a scheduled or running one can be cancelled",
                 was);
        http_respond_error(k->req, 409, msg);
        free(k);
        return;
    }
    log_fmt(LOG_INFO, "broadcast cancelled", "\"id\":%s", log_q(k->id));
    if (store_command(k->store, on_unlisted, k, "ZREM bc:active %s", k->id) != 0)
        on_unlisted(NULL, k);
}

static void cancel(struct store *store, struct http_request *req, const char *id)
{
    struct cancel_req *k = xcalloc(1, sizeof *k);
    k->store = store;
    k->req = req;
    snprintf(k->id, sizeof k->id, "%s", id);
    char hkey[BROADCAST_KEY_MAX], qkey[BROADCAST_KEY_MAX], now[24], keep[16];
    broadcast_key(hkey, sizeof hkey, id, "");
    broadcast_key(qkey, sizeof qkey, id, ":q");
    snprintf(now, sizeof now, "%lld", (long long)clock_now());
    snprintf(keep, sizeof keep, "%d", BROADCAST_KEEP_S);
    if (store_command(store, on_cancelled, k, "FCALL broadcast_stop 2 %s %s cancel cancelled %s %s 0",
                      hkey, qkey, now, keep) != 0) {
        http_respond_error(req, 503, "store unavailable");
        free(k);
    }
}

void broadcast_item_handle(struct http_request *req, struct store *store)
{
    const char *rest = req->path + strlen(ITEM_PREFIX);
    const char *slash = strchr(rest, '/');
    char id[BROADCAST_ID_MAX];
    size_t idlen = slash ? (size_t)(slash - rest) : strlen(rest);
    if (idlen == 0 || idlen >= sizeof id) {
        http_respond_error(req, 404, "no such broadcast");
        return;
    }
    memcpy(id, rest, idlen);
    id[idlen] = '\0';
    if (!broadcast_id_valid(id)) {
        http_respond_error(req, 404, "no such broadcast");
        return;
    }
    const char *tail = slash ? slash + 1 : "";
    if (strcmp(tail, "") == 0 && strcmp(req->method_name, "GET") == 0)
        get_status(store, req, id);
    else if (strcmp(tail, "cancel") == 0 && strcmp(req->method_name, "POST") == 0)
        cancel(store, req, id);
    else if (strcmp(tail, "") == 0 || strcmp(tail, "cancel") == 0)
        http_respond_error(req, 405, strcmp(tail, "") == 0 ? "use GET" : "use POST");
    else
        http_respond_error(req, 404, "not found");
}
