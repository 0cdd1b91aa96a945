/* store_internal — what store.c (the connection: connect, handshake,
 * backoff, the write flush, deferred work, the store's lifetime) and
 * store_cmd.c (the commands in flight) share. Not for other modules: they
 * use store.h.
 *
 * struct store is owned by its creator through store_new / store_close and
 * freed by store.c (maybe_free) once store_close was called, its handles
 * are closed and no hiredis context or command record points at it.
 * struct store_cmd records are made and freed by store_cmd.c. */
#ifndef DVCBOT_STORE_INTERNAL_H
#define DVCBOT_STORE_INTERNAL_H

#include "dvcbot/buf.h"
#include "dvcbot/store.h"

#include <hiredis/async.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* One in-flight command; hiredis holds it as privdata until on_cmd_reply. */
struct store_cmd {
    struct store *s;
    store_reply_cb cb;             /* may be NULL: the caller ignores the reply */
    void *ud;
    uint64_t deadline;             /* uv_now() milliseconds */
    bool queued;                   /* in the pending list: the caller is still owed a call */
    struct store_cmd *prev, *next; /* pending list links while queued */
};

struct store {
    uv_loop_t *loop;
    char *host;                    /* TCP, or NULL */
    int port;
    char *path;                    /* unix socket, or NULL */
    int db;
    char *target;                  /* "host:port" or "unix:/path", for logs */
    struct buf resp;               /* store_command_argv formats here (hiredis copies it) */
    unsigned timeout_ms;
    char *library;                 /* Lua library loaded at each connect, or NULL */
    long library_version;          /* what it declares (redis_library.h) */

    redisAsyncContext *ac;         /* the current context; NULL while waiting to retry */
    bool up;                       /* handshake answered: commands are accepted */
    bool fail_logged;              /* a failure was logged since the last success */
    bool closing;                  /* store_close was called */
    unsigned backoff_ms;

    uv_timer_t retry_timer;        /* backoff before the next conn_start */
    uv_timer_t connect_timer;      /* bounds connect + handshake */
    uv_timer_t cmd_timer;          /* fires at the oldest pending deadline */
    uv_check_t flush_check;        /* writes what this loop turn queued */
    uv_idle_t flush_idle;          /* no blocking poll while a write is due */
    bool flush_armed;
    bool flushing;                 /* inside on_flush_check */
    struct store_deferred *deferred; /* run before the flush (store_defer), LIFO */
    int open_handles;
    int live_ctx;                  /* contexts that may still call us back */
    size_t live_cmds;              /* command records hiredis still holds */

    struct store_cmd *head, *tail; /* pending, oldest first (so by deadline) */

    store_state_cb state_cb;
    void *state_ud;
};

/* ===== store.c, for store_cmd.c ===== */

/* ac failed or is going away: the store forgets it, logs the transition,
 * arms the retry and tells the owner (which may run user code, even
 * store_close). Only the current context counts; idempotent. */
void store_conn_lost(struct store *s, const redisAsyncContext *ac, const char *reason);
/* What to log for a context that failed. */
const char *store_ctx_reason(const redisAsyncContext *ac);
/* Frees a context we gave up on; its pending commands get reply == NULL. */
void store_ctx_abort(struct store *s, redisAsyncContext *ac);
/* Starts a one-shot timer; a failure is logged. */
void store_timer_start(uv_timer_t *t, uv_timer_cb cb, uint64_t ms);

#endif
