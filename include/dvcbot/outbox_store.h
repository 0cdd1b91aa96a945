/* outbox_store — the outbox's durable replies in Redis (the entry format:
 * outbox_entry.h; the messages it gave up on: outbox_failed.h).
 *
 * Durable replies. A reply to an acknowledged webhook is written to Redis in
 * the same script that saves the user's session and marks the webhook's
 * event id done (outbox_store_commit), before the webhook is answered; only
 * then is it queued in memory (outbox_send_stored), the in-memory queue
 * being a cache in front of Redis. Each process has its own stream per
 * channel, OUTBOX_STREAM_PREFIX<channel>:<consumer> (consumer =
 * DVCBOT_WORKER_ID, listed in the set OUTBOX_STREAM_PREFIX<channel>:processes):
 * the commit adds the entry there, and it stays until its final verdict
 * (sent, blocked, gave up), when it is deleted in a batch (one script per
 * loop turn).
 *   - A restart with the same consumer name reads its stream back
 *     (outbox_store_connected) and sends what is there.
 *   - A process that died for good stops refreshing its heartbeat key
 *     OUTBOX_ALIVE_PREFIX<consumer> (PX claim_ms); any other process then
 *     moves its entries, in order, into its own stream (from the cron).
 *   - Replies of one user keep their order across restarts and processes:
 *     the user record u:{<user>} counts replies committed (field oq), the
 *     last one settled (od) and who committed last (oo). A reply whose
 *     earlier ones may be held by another process or a previous run is
 *     "gated": before it is sent, od must have reached seq - 1 (seq <= od:
 *     it went already, it is only settled).
 *   - SIGTERM: outbox_store_shutdown settles what was delivered and saves
 *     what is only in memory (replies accepted while Redis was away,
 *     hand-off and notification messages) into this process's stream; done
 *     learns whether everything was saved.
 * Delivery is at least once: a message delivered but not yet settled when
 * the process dies is sent again. A message its driver sends in several
 * calls records each part sent (outbox_progress): its entry is written again
 * with the field p (XADD of the new, XDEL of the old, in one MULTI; its id
 * changes, outbox_stored_renamed), read back at a restart or a claim, so
 * only the part in flight at a crash may go twice. A rewrite whose answer
 * was lost (Redis gone meanwhile) may leave the new entry unknown to the
 * item: that message's remaining parts are then sent again by the next start.
 *
 * Failures: messages the outbox gave up on are recorded for staff by
 * outbox_failed.h.
 *
 * The scripts touch keys of several users and the channel's stream: one
 * Redis (or Sentinel), not Redis Cluster.
 *
 * Group commit: the commits of one loop turn go to Redis together at its
 * end, as one call of outbox_commit_many_flat (fcall_group.h).
 *
 * Handed replies (DVCBOT_TELEGRAM_INLINE_REPLY): a commit may ask to keep
 * its first reply for the caller to hand over itself, in the webhook's
 * response (keep_first_s). The script keeps it only when none of the user's
 * earlier replies can still be unsent (their last one settled, od = oq):
 * it is then written, in the same script, to the event's kept reply
 * <dedupe_key>OUTBOX_KEPT_SUFFIX (expiring after keep_first_s) instead of the
 * stream, and counts as settled; the commit answers OUTBOX_COMMIT_KEPT and
 * queues only the replies after it. Nothing sends a kept reply but its
 * caller: it is the answer to a webhook that is not acknowledged until it
 * carries it, and a redelivered event finds it (dialog.h, "Handed replies").
 * erase_user_keys deletes the kept replies of the events in the user's index.
 *
 * Lifetime: commit callbacks fire exactly once (with OUTBOX_COMMIT_FAILED on
 * timeout, disconnect or store_close, which fails the commits still queued),
 * never after store_close has returned. outbox_store_free after store_close. */
#ifndef DVCBOT_OUTBOX_STORE_H
#define DVCBOT_OUTBOX_STORE_H

#include "dvcbot/msg.h"
#include "dvcbot/outbox.h"
#include "dvcbot/store.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define OUTBOX_STREAM_PREFIX "outbox:"      /* + channel name + ":" + consumer */
/* A webhook event's mark in the user's index dd:{<user>} (redis/dvcbot.lua,
 * "Event marks"): scored -(4 x the unix time it was marked + its state), the
 * newest first (OUTBOX_MARK_STATE reads the state back). */
#define OUTBOX_MARK_DONE 1     /* its turn is stored */
#define OUTBOX_MARK_IN_HAND 2  /* its turn is being handled */
#define OUTBOX_MARK_SCORE(now, state) (-(4 * (long long)(now) + (state)))
#define OUTBOX_MARK_STATE(score) (-(score) % 4)
#define OUTBOX_ALIVE_PREFIX "outbox:alive:" /* + consumer */
#define OUTBOX_CLAIM_MS_DEFAULT 30000
#define OUTBOX_READ_BATCH 200               /* entries read back or claimed per call */
#define OUTBOX_MAX_BACKLOG_DEFAULT 5000

struct outbox_store;

struct outbox_store_deps {
    uv_loop_t *loop;
    struct store *store;
    struct outbox *outbox;
    const char *consumer;     /* this process in the consumer group (copied) */
    unsigned claim_ms;        /* heartbeat lifetime; 0 = OUTBOX_CLAIM_MS_DEFAULT */
    size_t max_backlog;       /* no reading back or claiming past this many in memory */
};

struct outbox_store *outbox_store_new(const struct outbox_store_deps *d);
/* Replies of this channel are durable (its stream and group are made). */
void outbox_store_enable(struct outbox_store *os, enum bot_channel ch);
bool outbox_store_enabled(const struct outbox_store *os, enum bot_channel ch);
/* Call when the store (re)connects (its functions are loaded by then):
 * makes the groups and reads this consumer's pending entries back. */
void outbox_store_connected(struct outbox_store *os);
/* From the cron: heartbeat, claims of dead consumers' entries, settles
 * that failed earlier, reading back that stopped at the backlog bound. */
void outbox_store_tick(struct outbox_store *os);
/* Stops; the struct is freed once its handle has closed (call after
 * store_close: its callbacks have run). */
void outbox_store_free(struct outbox_store *os);

enum outbox_session_op { OUTBOX_SESSION_KEEP, OUTBOX_SESSION_SET, OUTBOX_SESSION_DEL };

/* One turn's replies and the dialog's writes that go with them. */
struct outbox_commit {
    enum bot_channel channel;
    const char *user_key;       /* "tg:123": whose order the replies take */
    const char *chat;
    const char *reply_ref;      /* what the channel quotes, or NULL */
    const struct bot_replies *replies;
    const char *dedupe_key;     /* the webhook's event dd:{<user>}:<id>: its mark in the
                                   index dd:{<user>} becomes OUTBOX_MARK_DONE; NULL = none */
    bool forget_event;          /* remove the event's mark instead (the turn erased the user) */
    const char *session_key;
    enum outbox_session_op session_op;
    const char *session_json;   /* for OUTBOX_SESSION_SET */
    unsigned session_ttl_s;
    unsigned keep_first_s;      /* > 0 (with dedupe_key, not forget_event): keep the first
                                   reply this many seconds for the caller to hand over, when
                                   nothing of the user's may be before it ("Handed replies") */
};

enum outbox_commit_result {
    OUTBOX_COMMIT_STORED,     /* written, and the replies queued in the outbox */
    OUTBOX_COMMIT_KEPT,       /* written; the first reply kept for the caller (keep_first_s),
                                 the others queued */
    OUTBOX_COMMIT_FAILED,     /* Redis refused or did not answer: nothing queued */
};
typedef void (*outbox_commit_cb)(enum outbox_commit_result r, void *ud);

/* Writes the turn in one script (with the loop turn's other commits) and,
 * once stored, queues the replies (outbox_send_stored). The arguments are
 * made now; c and what it points to must stay valid until cb. Returns 0
 * (cb follows exactly once) or -1 (not connected; cb never). */
int outbox_store_commit(struct outbox_store *os, const struct outbox_commit *c, outbox_commit_cb cb,
                        void *ud);

/* Settles delivered entries and saves what is only in memory; then
 * done(saved_all). Call once the outbox is flushed or its time is up. */
void outbox_store_shutdown(struct outbox_store *os, void (*done)(bool saved_all, void *ud), void *ud);

#endif
