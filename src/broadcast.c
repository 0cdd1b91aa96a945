/* broadcast — create broadcasts (resolve the segment); following and
 * cancelling one is broadcast_item.c. */
#include "dvcbot/broadcast.h"
#include "dvcbot/admin_auth.h"
#include "dvcbot/broadcast_item.h"
#include "dvcbot/broadcast_spec.h"
#include "dvcbot/buf.h"
#include "dvcbot/clock.h"
#include "dvcbot/commune_check.h"
#include "dvcbot/crypto.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/refs.h"
#include "dvcbot/metrics.h"
#include "dvcbot/recipient.h"
#include "dvcbot/strmap.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define USER_KEY_MAX (BOT_ID_MAX + 8)






struct broadcast_api {
    const struct config *cfg;
    const struct commune_list *communes;
    struct store *store;
    struct outbox *ob;
    struct broadcast_worker *worker;
};

/* One POST /admin/broadcasts from parse to answer. */
struct create {
    struct broadcast_api *api;
    struct http_request *req;
    struct broadcast_spec spec;
    char id[BROADCAST_ID_MAX];
    char idem[32 + CRYPTO_SHA256_HEX];   /* "bc:idem:<sha256>" or "" */
    char body_sha[CRYPTO_SHA256_HEX];
    char cursor[32];
    int64_t now;
    char **page;                         /* user keys of the current SCAN page */
    size_t n_page;
    struct strmap seen;                  /* user keys matched so far */
    size_t recipients;
    unsigned batches;
    unsigned writes;                     /* replies still due for the page's writes */
    bool write_failed;
    bool dry_run;                        /* count the segment, write nothing */
    int fail_status;                     /* answer once an abort is cleaned up */
    char fail_msg[BROADCAST_ERR_MAX];
};

static void scan_page(struct create *c);

/* ===== Small helpers ===== */

static void log_store_error(const char *what, const redisReply *r)
{
    log_fmt(LOG_WARN, what, "\"error\":%s", log_q(store_reply_error(r)));
}

static unsigned enabled_channels(const struct broadcast_api *api)
{
    unsigned bits = 0;
    for (int ch = 0; ch < BOT_CH_COUNT; ch++)
        if ((BROADCAST_CHANNELS & (1u << ch)) && outbox_has_driver(api->ob, (enum bot_channel)ch))
            bits |= 1u << ch;
    return bits;
}

static void page_clear(struct create *c)
{
    for (size_t i = 0; i < c->n_page; i++)
        free(c->page[i]);
    free(c->page);
    c->page = NULL;
    c->n_page = 0;
}

static void create_free(struct create *c)
{
    page_clear(c);
    strmap_free(&c->seen);
    broadcast_spec_free(&c->spec);
    free(c);
}

static void respond_created(struct create *c, const char *id, long long recipients, const char *status,
                            bool replayed)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"id\":");
    buf_json_str(&b, id);
    buf_printf(&b, ",\"recipients\":%lld,\"status\":", recipients);
    buf_json_str(&b, status);
    buf_putc(&b, '}');
    http_respond(c->req, 202, "application/json", b.data, b.len,
                 replayed ? "Idempotent-Replayed: true\r\n" : NULL);
    buf_free(&b);
    create_free(c);
}

static void respond_error(struct create *c, int status, const char *msg)
{
    http_respond_error(c->req, status, msg);
    create_free(c);
}

/* ===== Aborting a half-resolved broadcast ===== */

static void on_aborted(redisReply *r, void *ud)
{
    struct create *c = ud;
    if (store_reply_failed(r))
        log_store_error("broadcast abort not stored", r);
    respond_error(c, c->fail_status, c->fail_msg);
}

/* Removes what was written (batches may name users) and answers. */
static void abort_create(struct create *c, int status, const char *msg)
{
    if (c->dry_run) {
        respond_error(c, status, msg); /* nothing was written */
        return;
    }
    c->fail_status = status;
    snprintf(c->fail_msg, sizeof c->fail_msg, "%s", msg);
    log_fmt(LOG_WARN, "broadcast not created", "\"id\":%s,\"status\":%d,\"reason\":%s", log_q(c->id),
            status, log_q(msg));
    char hkey[BROADCAST_KEY_MAX], qkey[BROADCAST_KEY_MAX], now[24], keep[16], batches[16];
    broadcast_key(hkey, sizeof hkey, c->id, "");
    broadcast_key(qkey, sizeof qkey, c->id, ":q");
    snprintf(now, sizeof now, "%lld", (long long)c->now);
    snprintf(keep, sizeof keep, "%d", BROADCAST_KEEP_S);
    snprintf(batches, sizeof batches, "%u", c->batches);
    if (store_command(c->api->store, on_aborted, c, "FCALL broadcast_stop 2 %s %s abort failed %s %s %s",
                      hkey, qkey, now, keep, batches) != 0)
        respond_error(c, status, msg);
}

static void store_failed(struct create *c, const char *what, const redisReply *r)
{
    log_store_error(what, r);
    abort_create(c, 503, "store unavailable; the broadcast was not created");
}

/* ===== Resolving the segment ===== */

static void on_final(redisReply *r, void *ud)
{
    struct create *c = ud;
    const char *status = store_reply_str(r);
    if (store_reply_failed(r) || !status || strcmp(status, "gone") == 0) {
        store_failed(c, "broadcast not scheduled", r);
        return;
    }
    metrics_inc("dvcbot_broadcasts_created_total", "", 1);
    log_fmt(LOG_INFO, "broadcast created", "\"id\":%s,\"recipients\":%zu,\"batches\":%u",
            log_q(c->id), c->recipients, c->batches);
    broadcast_worker_wake(c->api->worker);
    char id[BROADCAST_ID_MAX];
    snprintf(id, sizeof id, "%s", c->id);
    respond_created(c, id, (long long)c->recipients, status, false);
}

/* A dry run answers how many users the segment holds now. */
static void respond_count(struct create *c)
{
    char body[96];
    snprintf(body, sizeof body, "{\"recipients\":%zu,\"dry_run\":true}", c->recipients);
    http_respond_json(c->req, 200, body);
    create_free(c);
}

static void finalize(struct create *c)
{
    if (c->dry_run) {
        respond_count(c);
        return;
    }
    char hkey[BROADCAST_KEY_MAX], qkey[BROADCAST_KEY_MAX], n[24], batches[16], score[24], now[24],
        keep[16];
    broadcast_key(hkey, sizeof hkey, c->id, "");
    broadcast_key(qkey, sizeof qkey, c->id, ":q");
    snprintf(n, sizeof n, "%zu", c->recipients);
    snprintf(batches, sizeof batches, "%u", c->batches);
    snprintf(score, sizeof score, "%lld", (long long)(c->spec.not_before ? c->spec.not_before : c->now));
    snprintf(now, sizeof now, "%lld", (long long)clock_now());
    snprintf(keep, sizeof keep, "%d", BROADCAST_KEEP_S);
    if (store_command(c->api->store, on_final, c,
                      "FCALL broadcast_resolved 3 %s %s bc:active %s %s %s %s %s %s", hkey, qkey, n,
                      batches, score, c->id, now, keep) != 0)
        abort_create(c, 503, "store unavailable; the broadcast was not created");
}

static void next_page(struct create *c)
{
    if (strcmp(c->cursor, "0") == 0)
        finalize(c);
    else
        scan_page(c);
}

static void on_written(redisReply *r, void *ud)
{
    struct create *c = ud;
    if (store_reply_failed(r)) {
        if (!c->write_failed)
            log_store_error("broadcast batch not written", r);
        c->write_failed = true;
    }
    if (--c->writes > 0)
        return;
    if (c->write_failed)
        abort_create(c, 503, "store unavailable; the broadcast was not created");
    else
        next_page(c);
}

static void write_one(struct create *c, int rc)
{
    if (rc == 0)
        c->writes++;
    else
        c->write_failed = true;
}

/* Writes members[0..n) as the next batch: refs first, so a user key never
 * sits in a shared key that erase-my-data cannot find. */
static void write_batch(struct create *c, char **members, size_t n)
{
    struct store *s = c->api->store;
    char bkey[BROADCAST_KEY_MAX], qkey[BROADCAST_KEY_MAX], suffix[24], no[16];
    c->batches++;
    snprintf(no, sizeof no, "%u", c->batches);
    snprintf(suffix, sizeof suffix, ":b:%u", c->batches);
    broadcast_key(bkey, sizeof bkey, c->id, suffix);
    broadcast_key(qkey, sizeof qkey, c->id, ":q");
    for (size_t i = 0; i < n; i++) {
        write_one(c, store_command(s, on_written, c, "SADD refs:{%s} %s", members[i], bkey));
        if (refs_keep(s, c->api->cfg->user_ttl_s, members[i]) != 0)
            c->write_failed = true;
    }
    const char **argv = xcalloc(n + 2, sizeof *argv);
    argv[0] = "SADD";
    argv[1] = bkey;
    for (size_t i = 0; i < n; i++)
        argv[i + 2] = members[i];
    write_one(c, store_command_argv(s, on_written, c, (int)(n + 2), argv, NULL));
    free(argv);
    write_one(c, store_command(s, on_written, c, "XADD %s * b %s", qkey, no));
}

/* reply: broadcast_user_fields [[seen, commune] | nil, ...] for c->page */
static void on_fetched(redisReply *r, void *ud)
{
    struct create *c = ud;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY || r->elements != c->n_page) {
        store_failed(c, "user records not read", r);
        return;
    }
    char **matched = xcalloc(c->n_page, sizeof *matched);
    size_t n = 0;
    for (size_t i = 0; i < c->n_page; i++) {
        const redisReply *rec = r->element[i];
        if (rec->type != REDIS_REPLY_ARRAY || rec->elements != 4)
            continue;
        const char *commune = broadcast_user_commune(store_reply_str(rec->element[1]),
                                                     store_reply_str(rec->element[2]),
                                                     store_reply_str(rec->element[3]));
        if (!broadcast_segment_match(&c->spec.segment, c->page[i], store_reply_str(rec->element[0]),
                                     commune, c->now))
            continue;
        if (strmap_has(&c->seen, c->page[i]))
            continue; /* SCAN may return a key twice */
        strmap_put(&c->seen, c->page[i], c);
        matched[n++] = c->page[i];
    }
    unsigned max = c->api->cfg->broadcast_max_recipients;
    if (c->recipients + n > max) {
        free(matched);
        char msg[BROADCAST_ERR_MAX];
        snprintf(msg, sizeof msg, "segment matches more than %u users; narrow it (communes, "
                 "seen_within_days)", max);
        abort_create(c, 422, msg);
        return;
    }
    c->recipients += n;
    if (c->dry_run) {
        free(matched);
        next_page(c);
        return;
    }
    c->write_failed = false;
    for (size_t at = 0; at < n; at += BROADCAST_BATCH)
        write_batch(c, matched + at, n - at < BROADCAST_BATCH ? n - at : BROADCAST_BATCH);
    free(matched);
    if (c->writes == 0 && c->write_failed)
        abort_create(c, 503, "store unavailable; the broadcast was not created");
    else if (c->writes == 0)
        next_page(c);
}

static void fetch_page(struct create *c)
{
    size_t nkeys = 2 * c->n_page, argc = 3 + nkeys;
    const char **argv = xcalloc(argc, sizeof *argv);
    char **keys = xcalloc(nkeys, sizeof *keys);
    char n[24];
    snprintf(n, sizeof n, "%zu", nkeys);
    argv[0] = "FCALL";
    argv[1] = "broadcast_user_fields";
    argv[2] = n;
    for (size_t i = 0; i < nkeys; i++) {
        const char *user = c->page[i / 2];
        size_t len = strlen(user) + 8;
        keys[i] = xmalloc(len);
        snprintf(keys[i], len, "%s{%s}", i % 2 ? "p:" : "u:", user); /* record, profile */
        argv[3 + i] = keys[i];
    }
    int rc = store_command_argv(c->api->store, on_fetched, c, (int)argc, argv, NULL);
    for (size_t i = 0; i < nkeys; i++)
        free(keys[i]);
    free(keys);
    free(argv);
    if (rc != 0)
        abort_create(c, 503, "store unavailable; the broadcast was not created");
}

/* Keeps a user key for the page when its channel is in the segment (no
 * need to read the records of other channels). */
static void page_add(struct create *c, const char *user)
{
    int ch = recipient_channel(user);
    if (ch >= 0 && (c->spec.segment.channels & (1u << ch)) && strlen(user) < USER_KEY_MAX)
        c->page[c->n_page++] = xstrdup(user);
}

static void page_start(struct create *c, size_t cap)
{
    page_clear(c);
    c->page = xcalloc(cap ? cap : 1, sizeof *c->page);
}

static void page_done(struct create *c)
{
    if (c->n_page)
        fetch_page(c);
    else
        next_page(c);
}

/* reply: broadcast_subscribers [user key...] */
static void on_subscribers(redisReply *r, void *ud)
{
    struct create *c = ud;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY) {
        store_failed(c, "dossier subscribers not read", r);
        return;
    }
    page_start(c, r->elements);
    for (size_t i = 0; i < r->elements; i++)
        if (store_reply_str(r->element[i]))
            page_add(c, r->element[i]->str);
    page_done(c);
}

/* One SCAN page of sub:<CODE> keys → their subscribers, if the dossier is
 * in the segment's status. */
static void subscribers_page(struct create *c, const redisReply *keys)
{
    size_t n = 0;
    const char **argv = xcalloc(keys->elements + 4, sizeof *argv);
    char nkeys[24];
    argv[0] = "FCALL";
    argv[1] = "broadcast_subscribers";
    for (size_t i = 0; i < keys->elements; i++)
        if (store_reply_str(keys->element[i]) && strncmp(keys->element[i]->str, "sub:", 4) == 0)
            argv[3 + n++] = keys->element[i]->str;
    snprintf(nkeys, sizeof nkeys, "%zu", n);
    argv[2] = nkeys;
    argv[3 + n] = c->spec.segment.dossier_status;
    int rc = n ? store_command_argv(c->api->store, on_subscribers, c, (int)(n + 4), argv, NULL) : 0;
    free(argv);
    if (rc != 0)
        abort_create(c, 503, "store unavailable; the broadcast was not created");
    else if (!n)
        next_page(c);
}

/* reply: SCAN's [cursor, [key...]] */
static void on_scanned(redisReply *r, void *ud)
{
    struct create *c = ud;
    const redisReply *keys = store_scan_items(r, c->cursor, sizeof c->cursor);
    if (!keys) {
        store_failed(c, "user records not listed", r);
        return;
    }
    if (c->spec.segment.dossier_status[0]) {
        subscribers_page(c, keys);
        return;
    }
    page_start(c, keys->elements);
    char user[USER_KEY_MAX];
    for (size_t i = 0; i < keys->elements; i++)
        if (store_reply_str(keys->element[i]) &&
            broadcast_user_key(keys->element[i]->str, user, sizeof user))
            page_add(c, user);
    page_done(c);
}

static void scan_page(struct create *c)
{
    char count[16];
    snprintf(count, sizeof count, "%d", BROADCAST_SCAN_COUNT);
    /* Users, or (for a dossier status) the subscriber sets of dossiers. */
    const char *match = c->spec.segment.dossier_status[0] ? "sub:*" : "u:{*";
    if (store_command(c->api->store, on_scanned, c, "SCAN %s MATCH %s COUNT %s", c->cursor, match,
                      count) != 0)
        abort_create(c, 503, "store unavailable; the broadcast was not created");
}

/* ===== Creating the record ===== */

static void on_init(redisReply *r, void *ud)
{
    struct create *c = ud;
    if (store_reply_failed(r)) {
        store_failed(c, "broadcast record not created", r);
        return;
    }
    snprintf(c->cursor, sizeof c->cursor, "0"); /* SCAN starts at 0 and says 0 when done */
    scan_page(c);
}

static void init_record(struct create *c)
{
    char hkey[BROADCAST_KEY_MAX], qkey[BROADCAST_KEY_MAX], created[24], nb[24];
    broadcast_key(hkey, sizeof hkey, c->id, "");
    broadcast_key(qkey, sizeof qkey, c->id, ":q");
    snprintf(created, sizeof created, "%lld", (long long)c->now);
    snprintf(nb, sizeof nb, "%lld", (long long)c->spec.not_before);
    const char *argv[] = {
        "FCALL", "broadcast_init", "2", hkey, qkey,
        "text", c->spec.reply.text, "buttons", c->spec.buttons_json,
        "segment", c->spec.segment_json, "created", created, "not_before", nb,
        "status", "resolving", "body_sha", c->body_sha, "recipients", "0", "batches", "0",
        "sent", "0", "failed", "0", "blocked", "0", "skipped", "0",
    };
    if (store_command_argv(c->api->store, on_init, c, (int)(sizeof argv / sizeof argv[0]), argv, NULL) != 0)
        respond_error(c, 503, "store unavailable; the broadcast was not created");
}

/* reply: HMGET bc:<earlier id> status recipients body_sha */
static void on_earlier(redisReply *r, void *ud)
{
    struct create *c = ud;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY || r->elements != 3) {
        respond_error(c, 503, "store unavailable");
        return;
    }
    const char *status = store_reply_str(r->element[0]), *recipients = store_reply_str(r->element[1]);
    const char *sha = store_reply_str(r->element[2]);
    if (!status)
        respond_error(c, 409, "Idempotency-Key names a broadcast that no longer exists; use a new key");
    else if (!sha || strcmp(sha, c->body_sha) != 0)
        respond_error(c, 422, "Idempotency-Key was already used with a different body");
    else if (strcmp(status, "resolving") == 0)
        respond_error(c, 409, "the broadcast with this Idempotency-Key is still being prepared; retry");
    else if (strcmp(status, "failed") == 0)
        respond_error(c, 409, "the broadcast with this Idempotency-Key failed; use a new key");
    else
        respond_created(c, c->id, recipients ? atoll(recipients) : 0, status, true);
}

/* reply: SET <idem> <id> NX GET — nil when the key is new */
static void on_idem(redisReply *r, void *ud)
{
    struct create *c = ud;
    if (store_reply_failed(r)) {
        log_store_error("idempotency key not stored", r);
        respond_error(c, 503, "store unavailable");
        return;
    }
    const char *earlier = store_reply_str(r);
    if (!earlier) {
        init_record(c);
        return;
    }
    if (!broadcast_id_valid(earlier)) {
        respond_error(c, 409, "Idempotency-Key is in use; use a new key");
        return;
    }
    snprintf(c->id, sizeof c->id, "%s", earlier);
    char hkey[BROADCAST_KEY_MAX];
    broadcast_key(hkey, sizeof hkey, c->id, "");
    if (store_command(c->api->store, on_earlier, c, "HMGET %s status recipients body_sha", hkey) != 0)
        respond_error(c, 503, "store unavailable");
}

/* reply: INCR bc:next */
static void on_id(redisReply *r, void *ud)
{
    struct create *c = ud;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_INTEGER || r->integer <= 0) {
        log_store_error("broadcast id not allocated", r);
        respond_error(c, 503, "store unavailable");
        return;
    }
    snprintf(c->id, sizeof c->id, "%lld", r->integer);
    if (!c->idem[0]) {
        init_record(c);
        return;
    }
    char ttl[16];
    snprintf(ttl, sizeof ttl, "%d", BROADCAST_IDEM_TTL_S);
    if (store_command(c->api->store, on_idem, c, "SET %s %s NX GET EX %s", c->idem, c->id, ttl) != 0)
        respond_error(c, 503, "store unavailable");
}

/* Whether every commune the segment names (as given) is in the 2025 list;
 * else the request is answered 422 with the nearest names. A console
 * officer's segment names their own commune, put there by the console: it is
 * theirs whatever the list says. */
static bool segment_communes_known(const struct broadcast_api *api, struct http_request *req,
                                   const struct broadcast_spec *spec)
{
    const struct admin_principal *p = admin_auth_principal(req);
    if ((p && p->commune[0]) || !spec->segment.n_communes)
        return true;
    cJSON *seg = cJSON_Parse(spec->segment_json ? spec->segment_json : "");
    const cJSON *c;
    bool known = true;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(seg, "communes"))
    {
        if (cJSON_IsString(c) && !commune_check_request(api->communes, req, c->valuestring)) {
            known = false;
            break;
        }
    }
    cJSON_Delete(seg);
    return known;
}

void broadcast_handle_create(struct http_request *req, void *ud)
{
    struct broadcast_api *api = ud;
    req->route = "admin_broadcasts";
    if (!admin_auth_check(req, api->cfg->admin_tokens))
        return;
    const char *idem = http_request_header(req, "Idempotency-Key");
    if (idem && !broadcast_idem_key_valid(idem)) {
        http_respond_error(req, 400, "Idempotency-Key must be 1-200 printable ASCII characters");
        return;
    }
    struct create *c = xcalloc(1, sizeof *c);
    c->api = api;
    c->req = req;
    c->now = clock_now();
    strmap_init(&c->seen);
    char err[BROADCAST_ERR_MAX];
    if (broadcast_spec_parse(req->body.data, req->body.len, enabled_channels(api), c->now, &c->spec,
                             err) != 0) {
        respond_error(c, 400, err);
        return;
    }
    if (!segment_communes_known(api, req, &c->spec)) {
        create_free(c);
        return;
    }
    char *dry = http_request_query_param(req, "dry_run");
    c->dry_run = dry && (strcmp(dry, "1") == 0 || strcmp(dry, "true") == 0);
    free(dry);
    if (c->dry_run) {
        snprintf(c->cursor, sizeof c->cursor, "0");
        scan_page(c);
        return;
    }
    crypto_sha256_hex(req->body.data ? req->body.data : "", req->body.len, c->body_sha);
    if (idem) {
        char sha[CRYPTO_SHA256_HEX];
        crypto_sha256_hex(idem, strlen(idem), sha);
        snprintf(c->idem, sizeof c->idem, "bc:idem:%s", sha);
    }
    if (store_command(api->store, on_id, c, "INCR bc:next") != 0)
        respond_error(c, 503, "store unavailable");
}

void broadcast_handle_item(struct http_request *req, void *ud)
{
    struct broadcast_api *api = ud;
    req->route = "admin_broadcast";
    if (admin_auth_check(req, api->cfg->admin_tokens))
        broadcast_item_handle(req, api->store);
}


/* ===== Set-up ===== */

struct broadcast_api *broadcast_api_new(const struct config *cfg, const struct commune_list *communes,
                                        struct store *store, struct outbox *ob,
                                        struct broadcast_worker *worker)
{
    struct broadcast_api *api = xcalloc(1, sizeof *api);
    api->cfg = cfg;
    api->communes = communes;
    api->store = store;
    api->ob = ob;
    api->worker = worker;
    metrics_declare("dvcbot_broadcasts_created_total", METRIC_COUNTER, "Broadcasts created.", NULL, 0);
    return api;
}

void broadcast_api_free(struct broadcast_api *api)
{
    free(api);
}
