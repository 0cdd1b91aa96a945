/* store — the Redis connection: hiredis 0.14 async on the libuv loop.
 *
 * Lifecycle of one connection: conn_start makes a context → on_connect sends
 * the handshake (SELECT db, or PING) → on_handshake marks the store up. Any
 * failure, disconnect or timeout ends in conn_lost, which forgets the context
 * and arms the backoff timer; the timer starts a fresh context.
 *
 * hiredis 0.14 facts this file relies on (async.c):
 * - the context frees itself after a failed connect (on_connect with
 *   REDIS_ERR, no on_disconnect) and after any disconnect; before freeing it
 *   calls every pending reply callback with reply == NULL, then on_disconnect
 *   if it had connected. A NULL reply therefore always means "context dying".
 * - on_connect and on_disconnect run without REDIS_IN_CALLBACK, so freeing the
 *   context there would free it twice; we never do, and never run user code
 *   from on_connect. Inside reply callbacks redisAsyncFree only sets a flag
 *   and the free happens when the callback returns.
 * - a reply with no callback waiting aborts the process (assert) unless it
 *   is an error; so commands that break "one reply per command" are refused.
 * - commands are sent with write(2): the process must ignore SIGPIPE.
 * - redisAsyncDisconnect waits for pending replies, which a hung server never
 *   sends, so timeouts use redisAsyncFree.
 * - the libuv adapter drops poll errors; store_poll.c attaches it with
 *   hooks that do not (and clears them after a failed attach).
 *
 * Commands in flight (sending, deadlines, replies) are store_cmd.c; they are
 * formatted and checked in store_resp.c; replies are read with store_reply.c;
 * store_fire.c sends the writes nobody waits for. struct store is in
 * store_internal.h, shared with store_cmd.c.
 *
 * Lifetime of struct store: it is freed once store_close was called, its
 * three timers and two flush handles are closed, and no hiredis context or
 * command record that points at it is left (maybe_free). */
#include "dvcbot/store_internal.h"
#include "dvcbot/store_cmd.h"
#include "dvcbot/buf.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/metrics.h"
#include "dvcbot/redis_library.h"
#include "dvcbot/store_poll.h"
#include "dvcbot/reply_pool.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STORE_BACKOFF_MIN_MS 100
#define STORE_BACKOFF_MAX_MS 5000

static void conn_start(struct store *s);
static void on_flush_check(uv_check_t *h);
static void on_flush_idle(uv_idle_t *h);

/* ===== Lifetime ========================================================== */

static void maybe_free(struct store *s)
{
    if (!s->closing || s->open_handles > 0 || s->live_ctx > 0 || s->live_cmds > 0)
        return;
    free(s->host);
    free(s->path);
    free(s->target);
    free(s->library);
    buf_free(&s->resp);
    free(s);
}

static void on_timer_closed(uv_handle_t *h)
{
    struct store *s = h->data;
    s->open_handles--;
    maybe_free(s);
}

/* hiredis will not call back with this context any more. */
static void ctx_release(struct store *s)
{
    s->live_ctx--;
    maybe_free(s);
}

/* Frees a context we gave up on. Its pending commands get reply == NULL. A
 * connected context is released by on_disconnect; one that never connected
 * calls nothing back (and is never inside its own callback), so it is
 * released here. */
void store_ctx_abort(struct store *s, redisAsyncContext *ac)
{
    bool connected = ac->c.flags & REDIS_CONNECTED;
    redisAsyncFree(ac);
    if (!connected)
        ctx_release(s);
}

const char *store_ctx_reason(const redisAsyncContext *ac)
{
    return ac->c.err && ac->c.errstr[0] ? ac->c.errstr : "connection closed";
}

static void timer_init(struct store *s, uv_timer_t *t)
{
    /* uv_timer_init cannot fail in libuv 1.x; treat it like OOM if it does. */
    if (uv_timer_init(s->loop, t) != 0) {
        log_msg(LOG_ERROR, "uv_timer_init failed");
        abort();
    }
    t->data = s;
    s->open_handles++;
}

/* The write flush (see poll_add_write). */
static void flush_handles_init(struct store *s)
{
    if (uv_check_init(s->loop, &s->flush_check) != 0 || uv_idle_init(s->loop, &s->flush_idle) != 0) {
        log_msg(LOG_ERROR, "uv_check_init failed");
        abort();
    }
    s->flush_check.data = s;
    s->flush_idle.data = s;
    s->open_handles += 2;
}

static void flush_disarm(struct store *s)
{
    if (!s->flush_armed)
        return;
    s->flush_armed = false;
    uv_idle_stop(&s->flush_idle);
    uv_check_stop(&s->flush_check);
}

static void on_flush_idle(uv_idle_t *h)
{
    (void)h;
}

static void flush_arm(struct store *s)
{
    if (s->flush_armed)
        return;
    /* The idle handle keeps the next poll from blocking (a command queued
     * by a timer or a close callback); the check handle writes after this
     * turn's I/O callbacks. */
    if (uv_idle_start(&s->flush_idle, on_flush_idle) != 0 ||
        uv_check_start(&s->flush_check, on_flush_check) != 0) {
        log_msg(LOG_ERROR, "uv_check_start failed");
        abort();
    }
    s->flush_armed = true;
}

/* Runs what store_defer queued; what they queue in turn runs too. While
 * this runs the flush is still armed: their commands join this write. */
static void run_deferred(struct store *s)
{
    while (s->deferred) {
        struct store_deferred *d = s->deferred;
        s->deferred = d->next;
        d->next = NULL;
        d->queued = false;
        d->fn(d->ud);
    }
}

/* store_close: what was queued never runs; those who asked are told. */
static void drop_deferred(struct store *s)
{
    while (s->deferred) {
        struct store_deferred *d = s->deferred;
        s->deferred = d->next;
        d->next = NULL;
        d->queued = false;
        if (d->dropped)
            d->dropped(d->ud);
    }
}

void store_defer(struct store *s, struct store_deferred *d)
{
    if (!s || s->closing || d->queued)
        return;
    d->queued = true;
    d->next = s->deferred;
    s->deferred = d;
    flush_arm(s);
}

/* Writes what hiredis buffered during this loop turn. A failed write
 * frees the context the usual way (callbacks with NULL, on_disconnect). */
static void on_flush_check(uv_check_t *h)
{
    struct store *s = h->data;

    run_deferred(s);
    redisAsyncContext *ac = s->ac;
    flush_disarm(s);
    if (!ac || !(ac->c.flags & REDIS_CONNECTED))
        return;
    s->flushing = true;
    redisAsyncHandleWrite(ac);
    s->flushing = false;
}

void store_timer_start(uv_timer_t *t, uv_timer_cb cb, uint64_t ms)
{
    int rc = uv_timer_start(t, cb, ms, 0);
    if (rc != 0)
        log_fmt(LOG_ERROR, "uv_timer_start failed", "\"error\":%s", log_q(uv_strerror(rc)));
}

/* ===== Event hooks ======================================================= */

/* Commands are written once per loop turn (on_flush_check), all that the
 * turn produced in one write(2), instead of waking the loop for
 * "writable" after each. Only while connecting, or when a write left
 * something behind (the socket is full), does hiredis wait for writable. */
static void poll_add_write(void *privdata)
{
    redisAsyncContext *ac = store_poll_context(privdata);
    struct store *s = ac ? ac->data : NULL;

    if (!s || s->flushing || s->ac != ac || !(ac->c.flags & REDIS_CONNECTED)) {
        store_poll_want_write(privdata);
        return;
    }
    flush_arm(s);
}

/* ===== Connection state ================================================== */

static void on_retry_timer(uv_timer_t *t)
{
    struct store *s = t->data;
    if (!s->closing && !s->ac)
        conn_start(s);
}

static void schedule_retry(struct store *s)
{
    if (s->closing)
        return;
    store_timer_start(&s->retry_timer, on_retry_timer, s->backoff_ms);
    s->backoff_ms = s->backoff_ms * 2 > STORE_BACKOFF_MAX_MS ? STORE_BACKOFF_MAX_MS : s->backoff_ms * 2;
}

/* The store has no usable context any more (s->ac is already NULL). Logs the
 * transition once, arms the retry, then tells the owner if it was up. */
static void conn_down(struct store *s, const char *reason)
{
    bool was_up = s->up;

    s->up = false;
    uv_timer_stop(&s->connect_timer);
    if (was_up)
        log_fmt(LOG_WARN, "redis connection lost", "\"target\":%s,\"reason\":%s",
                log_q(s->target), log_q(reason));
    else if (!s->fail_logged)
        log_fmt(LOG_WARN, "redis connect failed", "\"target\":%s,\"reason\":%s",
                log_q(s->target), log_q(reason));
    s->fail_logged = true;
    schedule_retry(s);
    if (was_up && !s->closing && s->state_cb)
        s->state_cb(false, s->state_ud);
}

/* ac failed or is going away. Idempotent: only the current context counts. */
void store_conn_lost(struct store *s, const redisAsyncContext *ac, const char *reason)
{
    if (s->ac != ac)
        return;
    s->ac = NULL;
    conn_down(s, reason);
}

static void conn_up(struct store *s)
{
    uv_timer_stop(&s->connect_timer);
    s->up = true;
    s->backoff_ms = STORE_BACKOFF_MIN_MS;
    s->fail_logged = false;
    log_fmt(LOG_INFO, "redis connected", "\"target\":%s,\"db\":%d", log_q(s->target), s->db);
    if (s->state_cb)
        s->state_cb(true, s->state_ud);
}

/* A handshake step answered: true when it went well (else the context is
 * given up). */
static bool handshake_ok(struct store *s, redisAsyncContext *ac, const redisReply *reply)
{
    if (!reply) {
        store_conn_lost(s, ac, store_ctx_reason(ac));
        return false;
    }
    if (s->ac != ac)
        return false;
    if (reply->type == REDIS_REPLY_ERROR) {
        store_conn_lost(s, ac, reply->str);
        redisAsyncFree(ac); /* deferred by hiredis until we return */
        return false;
    }
    return true;
}

/* A refused library fails the connection ("redis connect failed" with
 * Redis's error, e.g. an old server that has no FUNCTION), and it is retried. */
static void on_library(redisAsyncContext *ac, void *r, void *privdata)
{
    struct store *s = privdata;
    if (handshake_ok(s, ac, r))
        conn_up(s);
}

/* Redis told which version of the library it holds (an error: none, or
 * one from before versions): ours goes in unless that one is newer. */
static void on_library_version(redisAsyncContext *ac, void *r, void *privdata)
{
    struct store *s = privdata;
    const redisReply *reply = r;
    if (!reply) {
        store_conn_lost(s, ac, store_ctx_reason(ac));
        return;
    }
    if (s->ac != ac)
        return;
    if (!redis_library_should_load(reply, s->library_version)) {
        log_fmt(LOG_WARN, "redis holds a newer function library: kept", "\"loaded\":%lld,\"ours\":%ld",
                reply->integer, s->library_version);
        conn_up(s);
        return;
    }
    if (redisAsyncCommand(ac, on_library, s, "FUNCTION LOAD REPLACE %s", s->library) != REDIS_OK)
        log_msg(LOG_ERROR, "redis function library not sent"); /* the connect timer gives up */
}

static void on_handshake(redisAsyncContext *ac, void *r, void *privdata)
{
    struct store *s = privdata;
    if (!handshake_ok(s, ac, r))
        return;
    if (!s->library) {
        conn_up(s);
        return;
    }
    /* Before anything the owner sends: every FCALL finds its function. */
    if (redisAsyncCommand(ac, on_library_version, s, REDIS_LIBRARY_VERSION_CALL) != REDIS_OK)
        log_msg(LOG_ERROR, "redis function library not sent"); /* the connect timer gives up */
}

/* hiredis: the socket connected (or failed to). Runs no user code. */
static void on_connect(const redisAsyncContext *cac, int status)
{
    redisAsyncContext *ac = (redisAsyncContext *)cac; /* hiredis passes its own context */
    struct store *s = ac->data;
    int rc;

    if (status != REDIS_OK) {
        /* hiredis frees ac when we return; no on_disconnect follows */
        store_conn_lost(s, ac, store_ctx_reason(ac));
        ctx_release(s);
        return;
    }
    /* The handshake is the first command on the wire; SELECT must precede
     * anything the owner sends, and store_command refuses until it answers. */
    if (s->db != 0)
        rc = redisAsyncCommand(ac, on_handshake, s, "SELECT %d", s->db);
    else
        rc = redisAsyncCommand(ac, on_handshake, s, "PING");
    if (rc != REDIS_OK)
        log_msg(LOG_ERROR, "redis handshake not sent"); /* the connect timer gives up */
}

/* hiredis: a connected context is being freed; its last call to us. */
static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct store *s = ac->data;
    store_conn_lost(s, ac, status == REDIS_OK ? "connection closed" : store_ctx_reason(ac));
    ctx_release(s);
}

static void on_connect_timer(uv_timer_t *t)
{
    struct store *s = t->data;
    redisAsyncContext *ac = s->ac;

    if (!ac || s->up)
        return;
    store_conn_lost(s, ac, "connect timed out");
    store_ctx_abort(s, ac);
}

/* A fresh context that failed before it was registered. */
static void conn_start_failed(struct store *s, redisAsyncContext *ac, const char *reason)
{
    conn_down(s, reason);
    if (ac)
        redisAsyncFree(ac);
}

static void conn_start(struct store *s)
{
    redisAsyncContext *ac;

    if (s->path)
        ac = redisAsyncConnectUnix(s->path);
    else
        ac = redisAsyncConnect(s->host, s->port);
    if (!ac) {
        conn_start_failed(s, NULL, "out of memory");
        return;
    }
    if (ac->err) {
        conn_start_failed(s, ac, ac->errstr);
        return;
    }
    /* keepalive notices a peer that vanished while the connection is idle */
    if (!s->path && redisEnableKeepAlive(&ac->c) != REDIS_OK) {
        conn_start_failed(s, ac, ac->c.errstr);
        return;
    }
    ac->data = s;
    ac->c.reader->fn = &reply_pool_fns;
    if (store_poll_attach(ac, s->loop, poll_add_write) != REDIS_OK) {
        conn_start_failed(s, ac, "cannot attach to the event loop");
        return;
    }
    if (redisAsyncSetConnectCallback(ac, on_connect) != REDIS_OK
        || redisAsyncSetDisconnectCallback(ac, on_disconnect) != REDIS_OK) {
        conn_start_failed(s, ac, "cannot set callbacks");
        return;
    }
    s->ac = ac;
    s->live_ctx++;
    store_timer_start(&s->connect_timer, on_connect_timer, s->timeout_ms);
}

/* ===== Public lifecycle ================================================== */

static char *target_name(const char *host, int port, const char *path)
{
    struct buf b;

    buf_init(&b);
    if (path)
        buf_printf(&b, "unix:%s", path);
    else if (strchr(host, ':'))
        buf_printf(&b, "[%s]:%d", host, port);
    else
        buf_printf(&b, "%s:%d", host, port);
    return buf_steal(&b);
}

struct store *store_new(uv_loop_t *loop, const char *url, unsigned timeout_ms)
{
    struct store *s;
    char *host, *path;
    int port, db;

    if (!loop || store_parse_url(url, &host, &port, &path, &db) != 0)
        return NULL;
    s = xcalloc(1, sizeof *s);
    s->loop = loop;
    s->host = host;
    s->port = port;
    s->path = path;
    s->db = db;
    s->target = target_name(host, port, path);
    s->timeout_ms = timeout_ms ? timeout_ms : STORE_DEFAULT_TIMEOUT_MS;
    s->backoff_ms = STORE_BACKOFF_MIN_MS;
    metrics_declare("dvcbot_redis_writes_lost_total", METRIC_COUNTER,
                    "Writes nobody waits for (store_fire) that Redis did not take, by what.", NULL, 0);
    timer_init(s, &s->retry_timer);
    timer_init(s, &s->connect_timer);
    timer_init(s, &s->cmd_timer);
    flush_handles_init(s);
    conn_start(s);
    return s;
}

void store_set_library(struct store *s, const char *lua)
{
    free(s->library);
    s->library = lua ? xstrdup(lua) : NULL;
    s->library_version = redis_library_version(lua);
}

void store_on_state(struct store *s, store_state_cb cb, void *ud)
{
    if (!s || s->closing)
        return;
    s->state_cb = cb;
    s->state_ud = ud;
}

void store_close(struct store *s)
{
    redisAsyncContext *ac;

    if (!s || s->closing)
        return;
    s->closing = true;
    s->up = false;
    s->state_cb = NULL;
    store_cmd_fail_all(s);
    drop_deferred(s);
    ac = s->ac;
    s->ac = NULL;
    if (ac)
        store_ctx_abort(s, ac); /* inside one of its reply callbacks hiredis defers this */
    uv_close((uv_handle_t *)&s->retry_timer, on_timer_closed);
    uv_close((uv_handle_t *)&s->connect_timer, on_timer_closed);
    uv_close((uv_handle_t *)&s->cmd_timer, on_timer_closed);
    flush_disarm(s);
    uv_close((uv_handle_t *)&s->flush_check, on_timer_closed);
    uv_close((uv_handle_t *)&s->flush_idle, on_timer_closed);
}
