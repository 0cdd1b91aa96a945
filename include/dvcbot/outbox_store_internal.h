/* outbox_store_internal — what outbox_store.c (commits, settling, progress,
 * the gate, shutdown) and outbox_recover.c (reading back and claiming stored
 * replies) share. Not for other modules: they use outbox_store.h.
 *
 * struct outbox_store is made by outbox_store_new and freed by
 * outbox_store_free (in its lifetime handle's close callback). */
#ifndef DVCBOT_OUTBOX_STORE_INTERNAL_H
#define DVCBOT_OUTBOX_STORE_INTERNAL_H

#include "dvcbot/fcall_group.h"
#include "dvcbot/outbox_entry.h"
#include "dvcbot/outbox_ledger.h"
#include "dvcbot/outbox_store.h"
#include "dvcbot/strmap.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct settle {
    char id[OUTBOX_STORED_ID_MAX];
    char user[OUTBOX_USER_KEY_MAX];
    uint64_t seq;
    struct outbox_stream_id sid; /* id read (sid_ok) */
    bool sid_ok;
};

struct channel_log {
    bool enabled;
    bool reading;                /* a read-back is in flight */
    bool recovered;              /* every own pending entry has been read back */
    char cursor[OUTBOX_STORED_ID_MAX]; /* read-back position */
    struct settle *settles;      /* waiting to be settled */
    size_t n_settles, cap_settles;
    struct outbox_ledger ledger; /* its stream's entries known and not settled */
};

struct outbox_store {
    uv_loop_t *loop;
    struct store *store;
    struct outbox *ob;
    char *consumer;
    unsigned claim_ms;
    size_t max_backlog;
    struct channel_log ch[BOT_CH_COUNT];
    struct strmap settling;      /* "ch:id" being settled: not read back again */
    struct strmap rewriting;     /* "ch:id" → struct rewrite, an entry being written again */
    uv_timer_t lifetime;         /* never started: os is freed in its close callback */
    struct store_deferred settle_flush; /* the turn's settles, written with its commands */
    int64_t next_claim_ms;
    size_t inflight;             /* our commands awaiting a reply */
    void (*shutdown_done)(bool saved_all, void *ud);
    void *shutdown_ud;
    size_t unsaved;              /* shutdown: messages that could not be saved */
    bool closing;
    /* The commits of a loop turn, written together at its end (group commit) */
    struct fcall_group *commits;
};

/* ===== outbox_store.c, for outbox_recover.c ===== */

/* Queues the settling of entry id (user's reply seq; "" and 0 when not
 * known) for the end of this loop turn; it is not read back meanwhile. */
void outbox_store_settle_add(struct outbox_store *os, enum bot_channel ch, const char *id, const char *user,
                             uint64_t seq);
/* FCALL fn; counted in inflight when sent (0), as the reply callback must
 * uncount it. Returns redis_fcall's code. */
int outbox_store_run_script(struct outbox_store *os, const char *fn, int nkeys, size_t nargs,
                            const char *const *args, const size_t *lens, store_reply_cb cb, void *ud);
/* This process's stream of the channel. */
void outbox_store_stream_key(const struct outbox_store *os, char *out, size_t len, enum bot_channel ch);
/* Shutdown: calls its done callback once nothing is in flight any more. */
void outbox_store_shutdown_maybe_done(struct outbox_store *os);

#endif
