/* console_feedback — the Feedback and complaints section.
 *
 *   GET  /admin/ui/feedback           comments (gop_y, ratings with a comment)
 *                                     and complaints (khieu_nai), newest first
 *   POST /admin/ui/feedback/handled   {"id", "handled": true|false}
 *
 * Where they live (feedback.h): each user's lines in fb:{<user>} (JSON:
 * procedure, commune, kind FEEDBACK_KIND_COMMENT | FEEDBACK_KIND_COMPLAINT,
 * stars, at, comment) and
 * the users by their last comment in the zset {stats}:comments. The console
 * reads the CONSOLE_FEEDBACK_USERS most recent users. A line is named by
 * "<user key>|<first 16 hex of its SHA-256>"; marking it handled sets that
 * hash in fbh:{<user>} (a hash: line hash → unix time handled), which carries
 * the user's tag, so erase-my-data removes it with the rest. A line without
 * a commune takes the user's (u:{..}, or their profile when they consented);
 * a commune sign-in sees and marks its commune's lines only. */
#include "dvcbot/broadcast_spec.h"
#include "dvcbot/buf.h"
#include "dvcbot/clock.h"
#include "dvcbot/console_ui.h"
#include "dvcbot/crypto.h"
#include "dvcbot/feedback.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/recipient.h"
#include "dvcbot/stats.h"
#include "dvcbot/volunteer.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONSOLE_FEEDBACK_USERS 300
#define LINE_HASH_HEX 16

struct item {
    char *json;          /* the rendered item */
    long long at;
};

struct listing {
    struct console_ctx *ctx;
    struct http_request *req;
    char **users;
    size_t n_users;
};

static void line_hash(const char *line, char out[LINE_HASH_HEX + 1])
{
    char sha[CRYPTO_SHA256_HEX];
    crypto_sha256_hex(line, strlen(line), sha);
    memcpy(out, sha, LINE_HASH_HEX);
    out[LINE_HASH_HEX] = '\0';
}

static const char *str_of(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static long long num_of(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? (long long)v->valuedouble : 0;
}

static const char *hash_field(const redisReply *h, const char *name)
{
    for (size_t i = 0; h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2)
        if (store_reply_str(h->element[i]) && strcmp(h->element[i]->str, name) == 0)
            return store_reply_str(h->element[i + 1]);
    return NULL;
}

/* The commune of a line: its own, else the user's. */
static const char *line_commune(const cJSON *line, const redisReply *u)
{
    const char *c = str_of(line, "commune");
    if (*c)
        return c;
    const char *user = broadcast_user_commune(store_reply_str(u->element[2]),
                                              store_reply_str(u->element[3]),
                                              store_reply_str(u->element[4]));
    return user ? user : "";
}

static void render_item(struct listing *ls, const char *user, const char *raw, const cJSON *line,
                        const char *commune, const char *handled, struct buf *b)
{
    char hash[LINE_HASH_HEX + 1];
    line_hash(raw, hash);
    int ch = recipient_channel(user);
    const char *proc = str_of(line, "procedure");
    const struct intent *in = catalog_find(ls->ctx->deps.catalog, proc);
    buf_puts(b, "{\"id\":");
    struct buf id;
    buf_init(&id);
    buf_printf(&id, "%s|%s", user, hash);
    buf_json_str(b, id.data);
    buf_free(&id);
    buf_puts(b, ",\"channel\":");
    buf_json_str(b, ch >= 0 ? bot_channel_name((enum bot_channel)ch) : "");
    buf_puts(b, ",\"kind\":");
    bool complaint = strcmp(str_of(line, "kind"), FEEDBACK_KIND_COMPLAINT) == 0;
    buf_json_str(b, complaint ? FEEDBACK_KIND_COMPLAINT : FEEDBACK_KIND_COMMENT);
    buf_printf(b, ",\"stars\":%lld,\"at\":%lld,\"procedure\":", num_of(line, "stars"),
               num_of(line, "at"));
    buf_json_str(b, proc);
    buf_puts(b, ",\"procedure_name\":");
    buf_json_str(b, in ? in->name : "");
    buf_puts(b, ",\"commune\":");
    buf_json_str(b, commune);
    buf_puts(b, ",\"comment\":");
    buf_json_str(b, str_of(line, "comment"));
    buf_printf(b, ",\"handled_at\":%s}", handled ? handled : "null");
}

static int cmp_items(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    return (y->at > x->at) - (y->at < x->at);
}

static void add_user_items(struct listing *ls, const char *user, const redisReply *u,
                           struct item **items, size_t *n, size_t *cap)
{
    const char *scope = console_scope(ls->req);
    const redisReply *lines = u->element[0];
    for (size_t j = 0; lines->type == REDIS_REPLY_ARRAY && j < lines->elements; j++) {
        const char *raw = store_reply_str(lines->element[j]);
        cJSON *line = raw ? cJSON_Parse(raw) : NULL;
        if (!cJSON_IsObject(line)) {
            cJSON_Delete(line);
            continue;
        }
        const char *commune = line_commune(line, u);
        if (console_in_scope(scope, commune)) {
            char hash[LINE_HASH_HEX + 1];
            line_hash(raw, hash);
            struct buf b;
            buf_init(&b);
            render_item(ls, user, raw, line, commune, hash_field(u->element[1], hash), &b);
            if (*n == *cap) {
                *cap = *cap ? 2 * *cap : 64;
                *items = xrealloc(*items, *cap * sizeof **items);
            }
            (*items)[*n].json = buf_steal(&b);
            (*items)[(*n)++].at = num_of(line, "at");
        }
        cJSON_Delete(line);
    }
}

static void listing_free(struct listing *ls)
{
    for (size_t i = 0; i < ls->n_users; i++)
        free(ls->users[i]);
    free(ls->users);
    free(ls);
}

static void on_read(redisReply *r, void *ud)
{
    struct listing *ls = ud;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY || r->elements != ls->n_users) {
        http_respond_error(ls->req, 503, "store unavailable");
        listing_free(ls);
        return;
    }
    struct item *items = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < r->elements; i++)
        if (r->element[i]->type == REDIS_REPLY_ARRAY && r->element[i]->elements == 5)
            add_user_items(ls, ls->users[i], r->element[i], &items, &n, &cap);
    if (n)
        qsort(items, n, sizeof *items, cmp_items);
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"items\":[");
    for (size_t i = 0; i < n; i++) {
        buf_puts(&b, i ? "," : "");
        buf_puts(&b, items[i].json);
        free(items[i].json);
    }
    free(items);
    buf_puts(&b, "]}");
    http_respond_json(ls->req, 200, b.data);
    buf_free(&b);
    listing_free(ls);
}

static void read_users(struct listing *ls)
{
    static const char *const prefixes[] = {"fb:", "fbh:", "u:", "p:"};
    size_t nkeys = 4 * ls->n_users;
    const char **argv = xcalloc(nkeys + 3, sizeof *argv);
    char **keys = xcalloc(nkeys ? nkeys : 1, sizeof *keys);
    char n[24];
    snprintf(n, sizeof n, "%zu", nkeys);
    argv[0] = "FCALL";
    argv[1] = "console_feedback_read";
    argv[2] = n;
    for (size_t i = 0; i < nkeys; i++) {
        struct buf k;
        buf_init(&k);
        buf_printf(&k, "%s{%s}", prefixes[i % 4], ls->users[i / 4]);
        keys[i] = buf_steal(&k);
        argv[3 + i] = keys[i];
    }
    int rc = store_command_argv(ls->ctx->deps.store, on_read, ls, (int)(nkeys + 3), argv, NULL);
    for (size_t i = 0; i < nkeys; i++)
        free(keys[i]);
    free(keys);
    free(argv);
    if (rc != 0) {
        http_respond_error(ls->req, 503, "store unavailable");
        listing_free(ls);
    }
}

/* reply: ZREVRANGE {stats}:comments — the users */
static void on_users(redisReply *r, void *ud)
{
    struct listing *ls = ud;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY) {
        http_respond_error(ls->req, 503, "store unavailable");
        listing_free(ls);
        return;
    }
    ls->users = console_user_keys(r, &ls->n_users);
    read_users(ls);
}

static void handle_list(struct http_request *req, void *ud)
{
    struct console_ctx *ctx = ud;
    struct listing *ls = xcalloc(1, sizeof *ls);
    ls->ctx = ctx;
    ls->req = req;
    if (store_command(ctx->deps.store, on_users, ls, "ZREVRANGE %s 0 %d", STATS_KEY_COMMENTS,
                      CONSOLE_FEEDBACK_USERS - 1) != 0) {
        http_respond_error(req, 503, "store unavailable");
        listing_free(ls);
    }
}

/* ===== Marking handled ===== */

struct mark {
    struct console_ctx *ctx;
    struct http_request *req;
    char user[CONSOLE_USER_KEY_MAX];
    char hash[LINE_HASH_HEX + 1];
    bool handled;
};

static void on_marked(redisReply *r, void *ud)
{
    struct mark *m = ud;
    if (store_reply_failed(r))
        http_respond_error(m->req, 503, "store unavailable");
    else
        http_respond_json(m->req, 200, m->handled ? "{\"handled\":true}" : "{\"handled\":false}");
    free(m);
}

/* reply: console_feedback_read for one user */
static void on_lines(redisReply *r, void *ud)
{
    struct mark *m = ud;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY || r->elements != 1 ||
        r->element[0]->type != REDIS_REPLY_ARRAY || r->element[0]->elements != 5) {
        http_respond_error(m->req, 503, "store unavailable");
        free(m);
        return;
    }
    const redisReply *u = r->element[0], *lines = u->element[0];
    bool found = false;
    for (size_t j = 0; !found && lines->type == REDIS_REPLY_ARRAY && j < lines->elements; j++) {
        const char *raw = store_reply_str(lines->element[j]);
        char hash[LINE_HASH_HEX + 1];
        if (!raw)
            continue;
        line_hash(raw, hash);
        if (strcmp(hash, m->hash) != 0)
            continue;
        cJSON *line = cJSON_Parse(raw);
        found = console_in_scope(console_scope(m->req), line_commune(line, u));
        cJSON_Delete(line);
    }
    if (!found) {
        http_respond_error(m->req, 404, "no such comment");
        free(m);
        return;
    }
    char key[CONSOLE_USER_KEY_MAX + 8], now[24];
    snprintf(key, sizeof key, "fbh:{%s}", m->user);
    snprintf(now, sizeof now, "%lld", (long long)clock_now());
    int rc = m->handled ? store_command(m->ctx->deps.store, on_marked, m, "HSET %s %s %s", key,
                                        m->hash, now)
                        : store_command(m->ctx->deps.store, on_marked, m, "HDEL %s %s", key,
                                        m->hash);
    if (rc != 0) {
        http_respond_error(m->req, 503, "store unavailable");
        free(m);
    }
}

/* "<user key>|<16 hex>" into m; false when malformed. */
static bool parse_id(const char *id, struct mark *m)
{
    const char *bar = id ? strrchr(id, '|') : NULL;
    if (!bar || (size_t)(bar - id) >= sizeof m->user || strlen(bar + 1) != LINE_HASH_HEX)
        return false;
    memcpy(m->user, id, (size_t)(bar - id));
    m->user[bar - id] = '\0';
    for (const char *p = bar + 1; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    memcpy(m->hash, bar + 1, LINE_HASH_HEX + 1);
    return volunteer_user_key_valid(m->user);
}

static void handle_mark(struct http_request *req, void *ud)
{
    struct console_ctx *ctx = ud;
    cJSON *root = cJSON_ParseWithLength(req->body.data ? req->body.data : "", req->body.len);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
    const cJSON *handled = cJSON_GetObjectItemCaseSensitive(root, "handled");
    struct mark *m = xcalloc(1, sizeof *m);
    m->ctx = ctx;
    m->req = req;
    m->handled = !cJSON_IsFalse(handled);
    bool ok = cJSON_IsString(id) && parse_id(id->valuestring, m);
    cJSON_Delete(root);
    if (!ok) {
        http_respond_error(req, 400, "want {\"id\": \"<id of a comment>\", \"handled\": true}");
        free(m);
        return;
    }
    const char *keys[4];
    char bufs[4][CONSOLE_USER_KEY_MAX + 8];
    static const char *const prefixes[] = {"fb:", "fbh:", "u:", "p:"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(bufs[i], sizeof bufs[i], "%s{%s}", prefixes[i], m->user);
        keys[i] = bufs[i];
    }
    if (store_command(ctx->deps.store, on_lines, m, "FCALL console_feedback_read 4 %s %s %s %s", keys[0],
                      keys[1], keys[2], keys[3]) != 0) {
        http_respond_error(req, 503, "store unavailable");
        free(m);
    }
}

void console_feedback_routes(struct router *ui, struct console_ctx *ctx)
{
    router_add(ui, "GET", CONSOLE_UI_PREFIX "feedback", false, "console_feedback", handle_list,
               ctx);
    router_add(ui, "POST", CONSOLE_UI_PREFIX "feedback/handled", false, "console_feedback",
               handle_mark, ctx);
}
