/* zalo_token — access/refresh token pair in Redis, refresh under a lock. */
#include "dvcbot/zalo_token.h"
#include "dvcbot/buf.h"
#include "dvcbot/clock.h"
#include "dvcbot/crypto.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/metrics.h"
#include "dvcbot/store_fire.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOAD_RETRY_MS 100



enum refresh_why { WHY_ERROR, WHY_TIMER };

struct waiter {
    zalo_token_cb cb;
    void *ud;
    struct waiter *next;
};

struct zalo_token {
    uv_loop_t *loop;
    const struct config *cfg;
    struct store *store;
    struct http_client *http;
    char *access;                 /* in memory; NULL when none */
    char *refresh;
    int64_t expires_at;           /* unix seconds; 0 = unknown */
    char seed[CRYPTO_SHA256_HEX]; /* identifies the environment's pair */
    bool loaded;                  /* the hash was read at least once */
    bool loading;
    bool save_pending;            /* a refreshed pair not yet in Redis */
    /* The refresh in progress. */
    bool refreshing;
    enum refresh_why why;
    char *used;                   /* the token the API refused */
    char owner[33];               /* our lock value */
    bool have_lock;
    uint64_t lock_deadline;       /* uv_now() after which we stop waiting */
    uint64_t next_allowed;        /* uv_now() before which no refresh starts */
    unsigned backoff_ms;
    struct waiter *head, *tail;
    uv_timer_t load_timer;        /* load and save retries */
    uv_timer_t refresh_timer;     /* refresh ahead of expiry */
    uv_timer_t poll_timer;        /* waiting for another process's lock */
    int handles_open;
    bool closed;
};

static void start_refresh(struct zalo_token *zt, enum refresh_why why, const char *used);

/* ===== Pure helpers ===== */

static void form_escape(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            buf_putc(b, (char)c);
        } else {
            buf_putc(b, '%');
            buf_putc(b, hex[c >> 4]);
            buf_putc(b, hex[c & 15]);
        }
    }
}

char *zalo_token_refresh_body(const char *refresh_token, const char *app_id)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "refresh_token=");
    form_escape(&b, refresh_token);
    buf_puts(&b, "&app_id=");
    form_escape(&b, app_id);
    buf_puts(&b, "&grant_type=refresh_token");
    return buf_steal(&b);
}

/* expires_in comes as a string of seconds ("90000"); accept a number too. */
static int64_t seconds_of(const cJSON *n)
{
    double v = 0;
    if (cJSON_IsNumber(n)) {
        v = n->valuedouble;
    } else if (cJSON_IsString(n)) {
        char *end;
        errno = 0;
        long long x = strtoll(n->valuestring, &end, 10);
        if (errno || end == n->valuestring || *end)
            return 0;
        v = (double)x;
    }
    if (!isfinite(v) || v <= 0 || v > 400.0 * 24 * 3600)
        return 0;
    return (int64_t)v;
}

static bool token_ok(const cJSON *n)
{
    return cJSON_IsString(n) && n->valuestring[0] && strlen(n->valuestring) < ZALO_TOKEN_MAX &&
           !strpbrk(n->valuestring, "\r\n");
}

int zalo_token_parse_response(const char *body, char **access, char **refresh,
                              int64_t *expires_in, int *error_code)
{
    *access = *refresh = NULL;
    *expires_in = 0;
    *error_code = 0;
    cJSON *root = cJSON_Parse(body ? body : "");
    int rc = -1;
    if (!cJSON_IsObject(root))
        goto out;
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(root, "error");
    if (cJSON_IsNumber(err))
        *error_code = (int)err->valuedouble;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "access_token");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "refresh_token");
    if (*error_code != 0 || !token_ok(a) || !token_ok(r))
        goto out;
    *access = xstrdup(a->valuestring);
    *refresh = xstrdup(r->valuestring);
    *expires_in = seconds_of(cJSON_GetObjectItemCaseSensitive(root, "expires_in"));
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

uint64_t zalo_token_refresh_delay_ms(int64_t expires_in)
{
    if (expires_in <= 2)
        return 1000;
    int64_t ahead = expires_in / 2 < ZALO_REFRESH_AHEAD_S ? expires_in / 2 : ZALO_REFRESH_AHEAD_S;
    return (uint64_t)(expires_in - ahead) * 1000;
}

/* ===== Small helpers ===== */

static int64_t now_s(void)
{
    return clock_now();
}

/* Frees a string holding a secret after wiping it. */
static void secret_free(char **p)
{
    if (!*p)
        return;
    explicit_bzero(*p, strlen(*p));
    free(*p);
    *p = NULL;
}

static void set_str(char **dst, const char *src)
{
    secret_free(dst);
    *dst = src && *src ? xstrdup(src) : NULL;
}

static const char *element_str(const redisReply *r, size_t i)
{
    if (!r || r->type != REDIS_REPLY_ARRAY || i >= r->elements)
        return NULL;
    const redisReply *e = r->element[i];
    return e->type == REDIS_REPLY_STRING && e->len > 0 && e->len < ZALO_TOKEN_MAX ? e->str : NULL;
}

/* Takes what the hash holds (access, refresh, expires_at); empty values do
 * not overwrite what we know. */
static void adopt_stored(struct zalo_token *zt, const redisReply *r)
{
    const char *a = element_str(r, 0), *f = element_str(r, 1), *e = element_str(r, 2);
    if (a) {
        set_str(&zt->access, a);
        zt->expires_at = e ? strtoll(e, NULL, 10) : 0;
    }
    if (f)
        set_str(&zt->refresh, f);
}

static void resolve(struct zalo_token *zt, const char *token)
{
    struct waiter *w = zt->head;
    zt->head = zt->tail = NULL;
    char *copy = token ? xstrdup(token) : NULL;
    while (w) {
        struct waiter *next = w->next;
        w->cb(copy, w->ud);
        free(w);
        w = next;
    }
    free(copy);
}

static void enqueue(struct zalo_token *zt, zalo_token_cb cb, void *ud)
{
    struct waiter *w = xcalloc(1, sizeof *w);
    w->cb = cb;
    w->ud = ud;
    if (zt->tail)
        zt->tail->next = w;
    else
        zt->head = w;
    zt->tail = w;
}

static unsigned lock_ttl_ms(const struct zalo_token *zt)
{
    return zt->cfg->send_timeout_ms + 5000;
}

static void timer_start(uv_timer_t *t, uv_timer_cb cb, uint64_t ms)
{
    if (uv_timer_start(t, cb, ms, 0) != 0)
        log_msg(LOG_ERROR, "zalo timer not started");
}

/* ===== Refresh ahead of expiry ===== */

static void on_refresh_timer(uv_timer_t *t)
{
    struct zalo_token *zt = t->data;
    if (zt->closed || zt->refreshing)
        return; /* a running refresh reschedules when it ends */
    uint64_t now = uv_now(zt->loop);
    if (now < zt->next_allowed) {
        timer_start(&zt->refresh_timer, on_refresh_timer, zt->next_allowed - now);
        return;
    }
    log_msg(LOG_INFO, "zalo token expires soon, refreshing");
    start_refresh(zt, WHY_TIMER, zt->access);
}

static void schedule_refresh(struct zalo_token *zt)
{
    if (zt->closed)
        return;
    if (zt->expires_at <= 0) {
        uv_timer_stop(&zt->refresh_timer);
        return;
    }
    timer_start(&zt->refresh_timer, on_refresh_timer,
                zalo_token_refresh_delay_ms(zt->expires_at - now_s()));
}

/* ===== Ending a refresh ===== */

static void release_lock(struct zalo_token *zt)
{
    if (!zt->have_lock)
        return;
    zt->have_lock = false;
    store_fire(zt->store, "zalo_token_unlock", "FCALL zalo_token_unlock 1 %s %s", ZALO_LOCK_KEY,
                  zt->owner);
}

static void refresh_end(struct zalo_token *zt)
{
    zt->refreshing = false;
    secret_free(&zt->used);
    uv_timer_stop(&zt->poll_timer);
}

static void refresh_succeeded(struct zalo_token *zt)
{
    refresh_end(zt);
    zt->backoff_ms = 0;
    zt->next_allowed = 0;
    schedule_refresh(zt);
    resolve(zt, zt->access);
}

static void refresh_failed(struct zalo_token *zt, const char *reason, int code)
{
    release_lock(zt);
    enum refresh_why why = zt->why;
    refresh_end(zt);
    char labels[48];
    snprintf(labels, sizeof labels, "reason=\"%s\"", reason);
    metrics_inc("dvcbot_zalo_token_refresh_failures_total", labels, 1);
    zt->backoff_ms = zt->backoff_ms ? zt->backoff_ms * 2 : ZALO_REFRESH_BACKOFF_MIN_MS;
    if (zt->backoff_ms > ZALO_REFRESH_BACKOFF_MAX_MS)
        zt->backoff_ms = ZALO_REFRESH_BACKOFF_MAX_MS;
    zt->next_allowed = uv_now(zt->loop) + zt->backoff_ms;
    log_fmt(LOG_ERROR, "zalo token refresh failed",
            "\"reason\":%s,\"error\":%d,\"retry_in_ms\":%u", log_q(reason), code, zt->backoff_ms);
    if (why == WHY_TIMER && !zt->closed)
        timer_start(&zt->refresh_timer, on_refresh_timer, zt->backoff_ms);
    /* Ahead of expiry the old token still works; after a refusal it does not. */
    resolve(zt, why == WHY_TIMER ? zt->access : NULL);
}

/* ===== Saving a new pair ===== */

static void try_save(struct zalo_token *zt);
static void on_load_tick(uv_timer_t *t);

static void on_saved(redisReply *r, void *ud)
{
    struct zalo_token *zt = ud;
    if (r && r->type != REDIS_REPLY_ERROR) {
        zt->save_pending = false;
        return;
    }
    log_msg(LOG_ERROR, "zalo tokens not stored: redis failed, will retry");
    zt->save_pending = true;
    if (!zt->closed)
        timer_start(&zt->load_timer, on_load_tick, LOAD_RETRY_MS);
}

/* One HSET: the pair is never half written. */
static void try_save(struct zalo_token *zt)
{
    char exp[24], now[24];
    snprintf(exp, sizeof exp, "%" PRId64, zt->expires_at);
    snprintf(now, sizeof now, "%" PRId64, now_s());
    int rc = store_command(zt->store, on_saved, zt, "HSET %s access %s refresh %s expires_at %s updated_at %s",
                           ZALO_TOKEN_KEY, zt->access, zt->refresh, exp, now);
    if (rc != 0)
        on_saved(NULL, zt);
}

/* ===== The refresh call ===== */

static void on_oauth(const struct http_client_response *res, void *ud)
{
    struct zalo_token *zt = ud;
    if (zt->closed)
        return;
    char *access, *refresh;
    int64_t expires_in;
    int code;
    if (res->status == 0) {
        refresh_failed(zt, "http", 0);
        return;
    }
    if (zalo_token_parse_response(res->body, &access, &refresh, &expires_in, &code) != 0) {
        refresh_failed(zt, "oauth", code ? code : (int)res->status);
        return;
    }
    set_str(&zt->access, access);
    set_str(&zt->refresh, refresh);
    secret_free(&access);
    secret_free(&refresh);
    zt->expires_at = expires_in > 0 ? now_s() + expires_in : 0;
    metrics_inc("dvcbot_zalo_token_refreshes_total", "", 1);
    log_fmt(LOG_INFO, "zalo token refreshed", "\"expires_in\":%" PRId64, expires_in);
    try_save(zt);
    release_lock(zt); /* after the HSET on the same connection */
    refresh_succeeded(zt);
}

static void call_oauth(struct zalo_token *zt, const char *refresh)
{
    const struct config *cfg = zt->cfg;
    if (!cfg->zalo_app_secret || !cfg->zalo_app_id) {
        refresh_failed(zt, "config", 0);
        return;
    }
    struct buf url, secret;
    buf_init(&url);
    buf_init(&secret);
    buf_printf(&url, "%s/v4/oa/access_token", cfg->zalo_oauth_base);
    buf_printf(&secret, "secret_key: %s", cfg->zalo_app_secret);
    const char *headers[] = {"Content-Type: application/x-www-form-urlencoded", buf_cstr(&secret), NULL};
    char *body = zalo_token_refresh_body(refresh, cfg->zalo_app_id);
    struct http_client_request req = {
        .method = "POST", .url = buf_cstr(&url), .headers = headers, .body = body,
        .body_len = strlen(body), .timeout_ms = cfg->send_timeout_ms,
    };
    int rc = http_client_request(zt->http, &req, on_oauth, zt);
    secret_free(&body);
    if (secret.data)
        explicit_bzero(secret.data, secret.len);
    buf_free(&secret);
    buf_free(&url);
    if (rc != 0)
        refresh_failed(zt, "http", rc);
}

/* ===== Lock, re-read, decide ===== */

static void try_lock(struct zalo_token *zt);

static void on_poll(uv_timer_t *t)
{
    struct zalo_token *zt = t->data;
    if (!zt->closed && zt->refreshing)
        try_lock(zt);
}

static void on_stored(redisReply *r, void *ud)
{
    struct zalo_token *zt = ud;
    if (zt->closed)
        return;
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        refresh_failed(zt, "redis", 0);
        return;
    }
    const char *stored = element_str(r, 0);
    if (stored && (!zt->used || strcmp(stored, zt->used) != 0)) {
        /* Another process (or an operator) replaced the token meanwhile. */
        adopt_stored(zt, r);
        release_lock(zt);
        log_msg(LOG_INFO, "zalo token taken from redis");
        refresh_succeeded(zt);
        return;
    }
    if (!zt->have_lock) {
        if (uv_now(zt->loop) > zt->lock_deadline) {
            refresh_failed(zt, "lock", 0);
            return;
        }
        timer_start(&zt->poll_timer, on_poll, ZALO_LOCK_POLL_MS);
        return;
    }
    const char *refresh = element_str(r, 1);
    if (!refresh)
        refresh = zt->refresh;
    if (!refresh) {
        refresh_failed(zt, "no_refresh_token", 0);
        return;
    }
    char *copy = xstrdup(refresh);
    call_oauth(zt, copy);
    secret_free(&copy);
}

static void on_lock(redisReply *r, void *ud)
{
    struct zalo_token *zt = ud;
    if (zt->closed)
        return;
    if (!r || r->type == REDIS_REPLY_ERROR) {
        refresh_failed(zt, "redis", 0);
        return;
    }
    zt->have_lock = r->type == REDIS_REPLY_STATUS;
    if (store_command(zt->store, on_stored, zt, "HMGET %s access refresh expires_at", ZALO_TOKEN_KEY) != 0)
        refresh_failed(zt, "redis", 0);
}

static void try_lock(struct zalo_token *zt)
{
    if (crypto_random_hex(zt->owner, 16) != 0) {
        refresh_failed(zt, "random", 0);
        return;
    }
    if (store_command(zt->store, on_lock, zt, "SET %s %s NX PX %u", ZALO_LOCK_KEY, zt->owner,
                      lock_ttl_ms(zt)) != 0)
        refresh_failed(zt, "redis", 0); /* no refresh we could not keep */
}

static void try_load(struct zalo_token *zt);

/* A refresh before the first load would work from a pair the environment
 * may be about to replace: load first, on_loaded goes on. */
static void start_refresh(struct zalo_token *zt, enum refresh_why why, const char *used)
{
    zt->refreshing = true;
    zt->why = why;
    zt->have_lock = false;
    set_str(&zt->used, used);
    zt->lock_deadline = uv_now(zt->loop) + 2 * (uint64_t)lock_ttl_ms(zt);
    if (!zt->loaded) {
        if (!zt->loading)
            try_load(zt);
        return;
    }
    try_lock(zt);
}

/* ===== Loading ===== */

/* The first read of a process seeds the hash from the environment (once:
 * later reads must not bring back a pair that may be spent by now). */
static int seed_and_read(struct zalo_token *zt, store_reply_cb cb)
{
    const struct config *cfg = zt->cfg;
    char now[24];
    snprintf(now, sizeof now, "%" PRId64, now_s());
    return store_command(zt->store, cb, zt, "FCALL zalo_token_seed 1 %s %s %s %s %s", ZALO_TOKEN_KEY,
                         cfg->zalo_access_token ? cfg->zalo_access_token : "",
                         cfg->zalo_refresh_token ? cfg->zalo_refresh_token : "", zt->seed, now);
}

static void on_loaded(redisReply *r, void *ud)
{
    struct zalo_token *zt = ud;
    zt->loading = false;
    if (zt->closed)
        return;
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        log_msg(LOG_WARN, "zalo tokens not loaded from redis, will retry");
        timer_start(&zt->load_timer, on_load_tick, LOAD_RETRY_MS);
        if (zt->refreshing)
            refresh_failed(zt, "redis", 0);
        else
            resolve(zt, zt->access);
        return;
    }
    zt->loaded = true;
    adopt_stored(zt, r);
    schedule_refresh(zt);
    if (zt->refreshing) {
        try_lock(zt); /* a refresh waited for the load */
        return;
    }
    if (zt->access)
        resolve(zt, zt->access);
    else if (zt->refresh)
        start_refresh(zt, WHY_ERROR, NULL);
    else
        resolve(zt, NULL);
}

static void try_load(struct zalo_token *zt)
{
    zt->loading = true;
    if (seed_and_read(zt, on_loaded) != 0) {
        zt->loading = false;
        timer_start(&zt->load_timer, on_load_tick, LOAD_RETRY_MS);
        if (zt->refreshing)
            refresh_failed(zt, "redis", 0);
        else
            resolve(zt, zt->access); /* without Redis: what the environment gave */
    }
}

static void on_load_tick(uv_timer_t *t)
{
    struct zalo_token *zt = t->data;
    if (zt->closed)
        return;
    if (!zt->loaded && !zt->loading)
        try_load(zt);
    else if (zt->loaded && zt->save_pending)
        try_save(zt);
}

/* ===== Public API ===== */

struct zalo_token *zalo_token_new(uv_loop_t *loop, const struct config *cfg, struct store *store,
                                  struct http_client *http)
{
    struct zalo_token *zt = xcalloc(1, sizeof *zt);
    zt->loop = loop;
    zt->cfg = cfg;
    zt->store = store;
    zt->http = http;
    set_str(&zt->access, cfg->zalo_access_token);
    set_str(&zt->refresh, cfg->zalo_refresh_token);
    struct buf pair;
    buf_init(&pair);
    buf_printf(&pair, "%s\n%s", cfg->zalo_access_token ? cfg->zalo_access_token : "",
               cfg->zalo_refresh_token ? cfg->zalo_refresh_token : "");
    crypto_sha256_hex(pair.data, pair.len, zt->seed);
    explicit_bzero(pair.data, pair.len);
    buf_free(&pair);
    uv_timer_t *timers[] = {&zt->load_timer, &zt->refresh_timer, &zt->poll_timer};
    for (size_t i = 0; i < 3; i++) {
        if (uv_timer_init(loop, timers[i]) != 0)
            abort(); /* cannot fail on a valid loop */
        timers[i]->data = zt;
    }
    zt->handles_open = 3;
    metrics_declare("dvcbot_zalo_token_refreshes_total", METRIC_COUNTER,
                    "Zalo access tokens refreshed by this process.", NULL, 0);
    metrics_declare("dvcbot_zalo_token_refresh_failures_total", METRIC_COUNTER,
                    "Zalo token refreshes that failed, by reason (oauth, http, redis, lock, config).",
                    NULL, 0);
    if (!cfg->zalo_app_secret)
        log_msg(LOG_WARN, "ZALO_APP_SECRET is not set: zalo tokens cannot be refreshed");
    timer_start(&zt->load_timer, on_load_tick, 0);
    return zt;
}

void zalo_token_get(struct zalo_token *zt, zalo_token_cb cb, void *ud)
{
    if (zt->closed) {
        cb(NULL, ud);
    } else if (zt->refreshing) {
        enqueue(zt, cb, ud);
    } else if (!zt->loaded && store_connected(zt->store)) {
        enqueue(zt, cb, ud); /* the load answers: Redis may know a newer token */
        if (!zt->loading)
            try_load(zt);
    } else if (zt->access) {
        cb(zt->access, ud);
    } else if (zt->refresh) {
        zalo_token_refresh(zt, NULL, cb, ud);
    } else {
        cb(NULL, ud);
    }
}

void zalo_token_refresh(struct zalo_token *zt, const char *used, zalo_token_cb cb, void *ud)
{
    if (zt->closed) {
        cb(NULL, ud);
        return;
    }
    if (zt->refreshing) {
        enqueue(zt, cb, ud);
        return;
    }
    if (zt->access && used && strcmp(zt->access, used) != 0) {
        cb(zt->access, ud); /* already replaced */
        return;
    }
    if (uv_now(zt->loop) < zt->next_allowed) {
        log_msg(LOG_DEBUG, "zalo token refresh postponed: backoff after a failure");
        cb(NULL, ud);
        return;
    }
    enqueue(zt, cb, ud);
    start_refresh(zt, WHY_ERROR, used);
}

int64_t zalo_token_expires_in(const struct zalo_token *zt)
{
    if (!zt || zt->expires_at <= 0 || !zt->access)
        return -1;
    int64_t left = zt->expires_at - now_s();
    return left > 0 ? left : 0;
}

static void on_closed(uv_handle_t *h)
{
    struct zalo_token *zt = h->data;
    if (--zt->handles_open > 0)
        return;
    secret_free(&zt->access);
    secret_free(&zt->refresh);
    secret_free(&zt->used);
    free(zt);
}

void zalo_token_close(struct zalo_token *zt)
{
    if (!zt || zt->closed)
        return;
    zt->closed = true;
    resolve(zt, NULL);
    uv_close((uv_handle_t *)&zt->load_timer, on_closed);
    uv_close((uv_handle_t *)&zt->refresh_timer, on_closed);
    uv_close((uv_handle_t *)&zt->poll_timer, on_closed);
}
