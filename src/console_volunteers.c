/* console_volunteers — the Volunteers section.
 *
 *   GET  /admin/ui/volunteers    each volunteer: commune, since when, households
 *                                closed in the chat (residents helped) and
 *                                flows finished for residents
 *   POST /admin/ui/volunteers    {"user", "commune"} adds (or moves), with
 *                                "remove": true removes (volunteer_register)
 *   GET  /admin/ui/coverage      per village and commune: households (target),
 *                                visits, VNeID, submitted and paid online, all
 *                                three (the target met) and the coverage
 *   POST /admin/ui/villages      {"commune", "village", "households"} sets a
 *                                village up with its number of households
 *
 * A commune sign-in sees, adds and sets up villages for its own commune only
 * (its commune is used whatever the page sent). Layout: volunteer.h and
 * volunteer_household.h. */
#include "dvcbot/admin_tokens.h"
#include "dvcbot/buf.h"
#include "dvcbot/commune.h"
#include "dvcbot/commune_check.h"
#include "dvcbot/console_ui.h"
#include "dvcbot/mem.h"
#include "dvcbot/stats.h"
#include "dvcbot/strmap.h"
#include "dvcbot/volunteer.h"
#include "dvcbot/volunteer_household.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOUSEHOLDS_MAX 100000


/* ===== The list ===== */

struct list_call {
    struct console_ctx *ctx;
    struct http_request *req;
    char **users;
    size_t n;
};

static void list_free(struct list_call *lc)
{
    for (size_t i = 0; i < lc->n; i++)
        free(lc->users[i]);
    free(lc->users);
    free(lc);
}

static void on_details(redisReply *r, void *ud)
{
    struct list_call *lc = ud;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY || r->elements != lc->n) {
        http_respond_error(lc->req, 503, "store unavailable");
        list_free(lc);
        return;
    }
    const char *scope = console_scope(lc->req);
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"volunteers\":[");
    bool first = true;
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *v = r->element[i];
        if (v->type != REDIS_REPLY_ARRAY || v->elements != 4)
            continue;
        const char *commune = store_reply_str(v->element[0]);
        if (!console_in_scope(scope, commune ? commune : ""))
            continue;
        buf_puts(&b, first ? "{\"user\":" : ",{\"user\":");
        first = false;
        buf_json_str(&b, lc->users[i]);
        buf_puts(&b, ",\"commune\":");
        buf_json_str(&b, commune ? commune : "");
        buf_printf(&b, ",\"added_at\":%lld,\"households\":%lld,\"flows\":%lld}",
                   atoll(store_reply_str(v->element[1]) ? v->element[1]->str : "0"),
                   atoll(store_reply_str(v->element[2]) ? v->element[2]->str : "0"),
                   atoll(store_reply_str(v->element[3]) ? v->element[3]->str : "0"));
    }
    buf_puts(&b, "]}");
    http_respond_json(lc->req, 200, b.data);
    buf_free(&b);
    list_free(lc);
}

static void on_members(redisReply *r, void *ud)
{
    struct list_call *lc = ud;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY) {
        http_respond_error(lc->req, 503, "store unavailable");
        list_free(lc);
        return;
    }
    lc->users = console_user_keys(r, &lc->n);
    size_t argc = 4 + 2 * lc->n;
    const char **argv = xcalloc(argc, sizeof *argv);
    char **keys = xcalloc(lc->n + 1, sizeof *keys);
    char nkeys[24];
    snprintf(nkeys, sizeof nkeys, "%zu", lc->n + 1);
    argv[0] = "FCALL";
    argv[1] = "console_volunteer_list";
    argv[2] = nkeys;
    argv[3] = STATS_KEY_ASSISTS;
    for (size_t i = 0; i < lc->n; i++) {
        struct buf k;
        buf_init(&k);
        buf_printf(&k, "vol:{%s}", lc->users[i]);
        keys[i] = buf_steal(&k);
        argv[4 + i] = keys[i];
        argv[4 + lc->n + i] = lc->users[i];
    }
    int rc = store_command_argv(lc->ctx->deps.store, on_details, lc, (int)argc, argv, NULL);
    for (size_t i = 0; i < lc->n; i++)
        free(keys[i]);
    free(keys);
    free(argv);
    if (rc != 0) {
        http_respond_error(lc->req, 503, "store unavailable");
        list_free(lc);
    }
}

static void handle_list(struct http_request *req, void *ud)
{
    struct console_ctx *ctx = ud;
    struct list_call *lc = xcalloc(1, sizeof *lc);
    lc->ctx = ctx;
    lc->req = req;
    if (store_command(ctx->deps.store, on_members, lc, "SMEMBERS %s", VOLUNTEER_SET) != 0) {
        http_respond_error(req, 503, "store unavailable");
        list_free(lc);
    }
}

/* ===== Adding and removing ===== */

static const char *body_str(const cJSON *root, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void on_registered(redisReply *r, void *ud)
{
    struct http_request *req = ud;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_INTEGER)
        http_respond_error(req, 503, "store unavailable");
    else
        http_respond_json(req, 200, r->integer ? "{\"changed\":true}" : "{\"changed\":false}");
}

struct removal {
    struct console_ctx *ctx;
    struct http_request *req;
    char user[CONSOLE_USER_KEY_MAX];
};

static void on_commune_of(redisReply *r, void *ud)
{
    struct removal *rm = ud;
    const char *commune = store_reply_str(r);
    if (store_reply_failed(r)) {
        http_respond_error(rm->req, 503, "store unavailable");
    } else if (!console_in_scope(console_scope(rm->req), commune ? commune : "")) {
        http_respond_error(rm->req, 404, "no such volunteer in this commune");
    } else if (volunteer_register(rm->ctx->deps.store, rm->user, NULL, false,
                                  rm->ctx->deps.cfg->user_ttl_s, on_registered, rm->req) != 0) {
        http_respond_error(rm->req, 503, "store unavailable");
    }
    free(rm);
}

static void handle_change(struct http_request *req, void *ud)
{
    struct console_ctx *ctx = ud;
    cJSON *root = cJSON_ParseWithLength(req->body.data ? req->body.data : "", req->body.len);
    const char *user = body_str(root, "user"), *scope = console_scope(req);
    const char *commune = scope[0] ? scope : body_str(root, "commune");
    bool remove = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "remove"));
    int rc = 0;
    if (!volunteer_user_key_valid(user) || strlen(commune) > ADMIN_COMMUNE_MAX) {
        http_respond_error(req, 400, "want {\"user\": \"tg:123456789\", \"commune\": \"...\"} "
                                     "(\"remove\": true to remove)");
    } else if (!remove && !scope[0] && !commune_check_request(ctx->deps.communes, req, commune)) {
        /* answered: not a commune of the 2025 list */
    } else if (remove) {
        struct removal *rm = xcalloc(1, sizeof *rm);
        rm->ctx = ctx;
        rm->req = req;
        snprintf(rm->user, sizeof rm->user, "%s", user);
        rc = store_command(ctx->deps.store, on_commune_of, rm, "HGET vol:{%s} commune", user);
        if (rc != 0)
            free(rm);
    } else {
        rc = volunteer_register(ctx->deps.store, user, commune, true, ctx->deps.cfg->user_ttl_s,
                                on_registered, req);
    }
    cJSON_Delete(root);
    if (rc != 0)
        http_respond_error(req, 503, "store unavailable");
}

/* ===== Coverage ===== */

struct village {
    char *commune, *village;
    long households, visits, vneid, online, paid, met, refused;
};

static struct village *village_at(struct strmap *m, const char *field)
{
    struct village *v = strmap_get(m, field);
    if (!v) {
        v = xcalloc(1, sizeof *v);
        strmap_put(m, field, v);
    }
    return v;
}

static void set_names(struct village *v, const char *json)
{
    cJSON *o = cJSON_Parse(json);
    const char *c = body_str(o, "commune"), *name = body_str(o, "village");
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "households");
    if (!v->commune || *c) {
        free(v->commune);
        v->commune = xstrdup(c);
    }
    if (!v->village || *name) {
        free(v->village);
        v->village = xstrdup(name);
    }
    if (cJSON_IsNumber(h))
        v->households = (long)h->valuedouble;
    cJSON_Delete(o);
}

/* "<commune key>|<village key>|<what>" → its village and counter. */
static void add_done(struct strmap *m, const char *field, long n)
{
    const char *bar = strrchr(field, '|');
    if (!bar || bar == field)
        return;
    char *key = xstrndup(field, (size_t)(bar - field));
    struct village *v = village_at(m, key);
    free(key);
    const char *what = bar + 1;
    long *slot = strcmp(what, "visits") == 0   ? &v->visits
                 : strcmp(what, "vneid") == 0  ? &v->vneid
                 : strcmp(what, "online") == 0 ? &v->online
                 : strcmp(what, "paid") == 0   ? &v->paid
                 : strcmp(what, "met") == 0    ? &v->met
                 : strcmp(what, "refused") == 0 ? &v->refused
                                                : NULL;
    if (slot)
        *slot += n;
}

static void put_village(struct buf *b, const char *key, const struct village *v)
{
    const char *bar = strchr(key, '|');
    buf_puts(b, "{\"commune\":");
    buf_json_str(b, v->commune && *v->commune ? v->commune : "");
    buf_puts(b, ",\"commune_key\":");
    buf_json_strn(b, key, bar ? (size_t)(bar - key) : strlen(key));
    buf_puts(b, ",\"village\":");
    buf_json_str(b, v->village ? v->village : "");
    buf_printf(b, ",\"households\":%ld,\"visits\":%ld,\"vneid\":%ld,\"online\":%ld,\"paid\":%ld,"
                  "\"met\":%ld,\"refused\":%ld,\"coverage_pct\":",
               v->households, v->visits, v->vneid, v->online, v->paid, v->met, v->refused);
    if (v->households > 0)
        buf_printf(b, "%.1f}", 100.0 * (double)v->met / (double)v->households);
    else
        buf_puts(b, "null}");
}

static void on_coverage(redisReply *r, void *ud)
{
    struct http_request *req = ud;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_ARRAY || r->element[1]->type != REDIS_REPLY_ARRAY) {
        http_respond_error(req, 503, "store unavailable");
        return;
    }
    struct strmap m;
    strmap_init(&m);
    const redisReply *villages = r->element[0], *done = r->element[1];
    for (size_t i = 0; i + 1 < villages->elements; i += 2)
        if (store_reply_str(villages->element[i]) && store_reply_str(villages->element[i + 1]))
            set_names(village_at(&m, villages->element[i]->str), villages->element[i + 1]->str);
    for (size_t i = 0; i + 1 < done->elements; i += 2)
        if (store_reply_str(done->element[i]) && store_reply_str(done->element[i + 1]))
            add_done(&m, done->element[i]->str, atol(done->element[i + 1]->str));
    char scope_key[COMMUNE_KEY_MAX];
    commune_key(console_scope(req), scope_key, sizeof scope_key);
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"villages\":[");
    size_t pos = 0;
    const char *key;
    void *val;
    bool first = true;
    while (strmap_next(&m, &pos, &key, &val)) {
        struct village *v = val;
        size_t klen = strcspn(key, "|");
        bool mine = !scope_key[0] || (strlen(scope_key) == klen && strncmp(key, scope_key, klen) == 0);
        if (mine) {
            buf_puts(&b, first ? "" : ",");
            first = false;
            put_village(&b, key, v);
        }
        free(v->commune);
        free(v->village);
        free(v);
    }
    strmap_free(&m);
    buf_puts(&b, "]}");
    http_respond_json(req, 200, b.data);
    buf_free(&b);
}

static void handle_coverage(struct http_request *req, void *ud)
{
    struct console_ctx *ctx = ud;
    if (store_command(ctx->deps.store, on_coverage, req, "FCALL console_household_coverage 2 %s %s",
                      HOUSEHOLD_VILLAGES_KEY, HOUSEHOLD_DONE_KEY) != 0)
        http_respond_error(req, 503, "store unavailable");
}

static void on_village_set(redisReply *r, void *ud)
{
    struct http_request *req = ud;
    if (store_reply_failed(r))
        http_respond_error(req, 503, "store unavailable");
    else
        http_respond_json(req, 200, "{\"saved\":true}");
}

static void handle_village(struct http_request *req, void *ud)
{
    struct console_ctx *ctx = ud;
    cJSON *root = cJSON_ParseWithLength(req->body.data ? req->body.data : "", req->body.len);
    const char *scope = console_scope(req);
    const char *commune = scope[0] ? scope : body_str(root, "commune");
    const char *village = body_str(root, "village");
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(root, "households");
    char field[2 * COMMUNE_KEY_MAX + 4];
    household_village_field(commune, village, field, sizeof field);
    bool ok = *commune && *village && strlen(commune) <= ADMIN_COMMUNE_MAX &&
              strlen(village) <= 4 * HOUSEHOLD_VILLAGE_MAX && cJSON_IsNumber(h) &&
              h->valuedouble >= 0 && h->valuedouble <= HOUSEHOLDS_MAX &&
              field[0] != '|' && field[strlen(field) - 1] != '|';
    if (!ok) {
        cJSON_Delete(root);
        http_respond_error(req, 400, "want {\"commune\", \"village\", \"households\": 0-100000}");
        return;
    }
    if (!scope[0] && !commune_check_request(ctx->deps.communes, req, commune)) {
        cJSON_Delete(root);
        return;
    }
    struct buf json;
    buf_init(&json);
    buf_puts(&json, "{\"commune\":");
    buf_json_str(&json, commune);
    buf_puts(&json, ",\"village\":");
    buf_json_str(&json, village);
    buf_printf(&json, ",\"households\":%ld}", (long)h->valuedouble);
    cJSON_Delete(root);
    if (store_command(ctx->deps.store, on_village_set, req, "HSET %s %s %s",
                      HOUSEHOLD_VILLAGES_KEY, field, json.data) != 0)
        http_respond_error(req, 503, "store unavailable");
    buf_free(&json);
}

void console_volunteers_routes(struct router *ui, struct console_ctx *ctx)
{
    router_add(ui, "GET", CONSOLE_UI_PREFIX "volunteers", false, "console_volunteers",
               handle_list, ctx);
    router_add(ui, "POST", CONSOLE_UI_PREFIX "volunteers", false, "console_volunteers",
               handle_change, ctx);
    router_add(ui, "GET", CONSOLE_UI_PREFIX "coverage", false, "console_coverage",
               handle_coverage, ctx);
    router_add(ui, "POST", CONSOLE_UI_PREFIX "villages", false, "console_villages",
               handle_village, ctx);
}
