/* outbox — per-channel send queues with token-bucket rate limits and retries.
 *
 * Every message dvcbot sends (replies, notifications, broadcasts) goes
 * through here. Each channel has a driver (telegram.c, zalo.c, webchat.c)
 * that knows the wire format; the outbox decides when: two queues per channel
 * (replies before broadcasts), a token bucket per channel, at most one item
 * per chat at a time so a chat's messages arrive in order, retries with
 * exponential backoff on RETRY (5xx, timeouts), the channel's own delay on
 * RETRY_AFTER (Telegram 429 retry_after), and no more sending to a chat that
 * blocked the bot (403).
 *
 * Ownership: outbox_send copies the reply. Items belong to the outbox; a
 * driver may read an item and keep driver state in item->part between
 * retries (outbox_progress makes it durable for stored items), and must call
 * outbox_delivered exactly once per deliver call.
 * Done callbacks fire once per item, after its final verdict (also on
 * outbox_close, with OUTBOX_FAILED). */
#ifndef DVCBOT_OUTBOX_H
#define DVCBOT_OUTBOX_H

#include "dvcbot/msg.h"
#include "dvcbot/outbox_retry.h"  /* struct outbox_retry, the retry policy and its defaults */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* How often the cron calls outbox_tick. */
#define OUTBOX_TICK_MS 1000

enum outbox_verdict {
    OUTBOX_SENT,
    OUTBOX_RETRY,        /* transient: backoff and try again */
    OUTBOX_RETRY_AFTER,  /* throttled: the channel said when (retry_after_ms; 0 = not said) */
    OUTBOX_BLOCKED,      /* the user blocked the bot: stop sending to this chat */
    OUTBOX_FAILED,       /* permanent: drop */
};

enum outbox_priority { OUTBOX_REPLY = 0, OUTBOX_BULK = 1 };

enum outbox_kind {
    OUTBOX_MESSAGE,   /* deliver reply to chat */
    OUTBOX_ACK,       /* acknowledge a button press (Telegram answerCallbackQuery) */
};

struct outbox;
struct outbox_item;

#define OUTBOX_STORED_ID_MAX 48   /* a Redis stream entry id, "<ms>-<seq>" */

typedef void (*outbox_done_cb)(const struct outbox_item *item, enum outbox_verdict verdict, void *ud);

struct outbox_item {
    enum bot_channel channel;
    enum outbox_kind kind;
    enum outbox_priority priority;
    char chat[BOT_ID_MAX];
    char reply_ref[BOT_ID_MAX];  /* callback query id, Zalo msg_id to quote; "" = none */
    struct bot_reply reply;
    unsigned part;               /* driver progress (e.g. parts of a split text) */
    unsigned attempts;           /* transient failures so far (throttles do not count) */
    unsigned throttled;          /* throttles so far */
    int last_error;              /* driver's error code for the last failure (e.g. Zalo -211, HTTP 502) */
    const char *reason;          /* why it was not sent, at a final verdict other than SENT:
                                    "gave_up", "expired", "failed", "blocked" (static text) */
    /* Internal to the outbox. */
    int64_t queued_ms;           /* clock_now_ms() when queued */
    int64_t not_before_ms;       /* clock_now_ms() before which it is not tried again */
    outbox_done_cb done;
    void *done_ud;
    bool held;                   /* waits behind an earlier item of its chat */
    char lane_key[BOT_ID_MAX + 16]; /* "<priority>:<channel prefix>:<chat>", made once when queued;
                                       its chat's key ("<prefix>:<chat>") from lane_key + 2 */
    bool inflight;               /* handed to the driver (or to the persist gate) */
    /* Durable items (outbox_send_stored): the entry in Redis that keeps the
     * message until its final verdict, and its place in the user's order. */
    char stored_id[OUTBOX_STORED_ID_MAX]; /* "" when only in memory */
    char seq_key[BOT_ID_MAX + 8];         /* user key whose sequence it is in, "" = none */
    uint64_t seq;                         /* 0 = none */
    bool gated;                           /* ask persist->gate before sending */
    unsigned gate_waits;                  /* gate answers "wait" so far */
    struct outbox_item *prev, *next;
};

struct outbox_driver {
    /* Starts delivering item; calls outbox_delivered later (or now). A
     * non-zero return means it could not start: treated as OUTBOX_RETRY. */
    int (*deliver)(void *ctx, struct outbox_item *item);
    void *ctx;
    double rate_per_s;      /* sustained sends per second for this channel */
    double burst;           /* bucket size */
    unsigned max_inflight;  /* concurrent deliveries */
    /* Messages dvcbot sends on its own (recipient.h) ask the channel's rule:
     * user_fields names the fields of the user record it reads (NULL-
     * terminated, at most RECIPIENT_CHANNEL_FIELDS_MAX; NULL = none);
     * proactive_refusal gets their values in that order (NULL when absent)
     * and returns NULL when the user may be written to now, else why not
     * (static text), with *blocked true when they left the channel for good.
     * NULL hook: always. */
    const char *const *user_fields;
    const char *(*proactive_refusal)(void *ctx, int64_t now, const char *const *values, bool *blocked);
    /* A short name for the driver's error code (item->last_error), e.g. Zalo
     * -211 → "quota"; NULL hook: none. */
    const char *(*error_name)(int code);
};

/* Called when a chat blocks the bot, so the owner can persist it. */
typedef void (*outbox_blocked_cb)(enum bot_channel ch, const char *chat, void *ud);

/* retry_base_ms 0: OUTBOX_RETRY_BASE_MS; the other settings take their
 * defaults until outbox_set_retry. */
struct outbox *outbox_new(uv_loop_t *loop, unsigned retry_base_ms);
/* Zero fields keep their current value. */
void outbox_set_retry(struct outbox *ob, const struct outbox_retry *r);
/* Told of every item that ends without being sent for another reason than
 * a block (item->reason says why), e.g. to record it for staff. */
typedef void (*outbox_failed_cb)(const struct outbox_item *item, void *ud);
void outbox_on_failed(struct outbox *ob, outbox_failed_cb cb, void *ud);
/* Looks again at what is due, by clock_now_ms() (the cron calls it, so a
 * test clock moved forward releases long backoffs at once). */
void outbox_tick(struct outbox *ob);
void outbox_set_driver(struct outbox *ob, enum bot_channel ch, const struct outbox_driver *drv);
bool outbox_has_driver(const struct outbox *ob, enum bot_channel ch);
/* The channel's driver, or NULL. */
const struct outbox_driver *outbox_driver_of(const struct outbox *ob, enum bot_channel ch);
void outbox_on_blocked(struct outbox *ob, outbox_blocked_cb cb, void *ud);

/* Queues a message. Returns 0, or -1 when the channel has no driver or the
 * chat is blocked (done is then never called). */
int outbox_send(struct outbox *ob, enum bot_channel ch, const char *chat, const struct bot_reply *reply,
                const char *reply_ref, enum outbox_priority prio, outbox_done_cb done, void *ud);
/* Where a durable message is kept until its final verdict (outbox_store.c). */
struct outbox_stored {
    const char *id;        /* stream entry id */
    const char *seq_key;   /* user key of the sequence, or NULL */
    uint64_t seq;          /* place in that user's order, 0 = none */
    bool gated;            /* an earlier message of the user may be elsewhere: ask the gate */
    unsigned part;         /* the driver's progress recorded with it (outbox_progress) */
};
/* Queues a message kept in Redis (see outbox_store.h): as outbox_send, with
 * no done callback, REPLY priority. Returns 0 or -1 (as outbox_send; the
 * stored entry is then the caller's to settle). */
int outbox_send_stored(struct outbox *ob, enum bot_channel ch, const char *chat,
                       const struct bot_reply *reply, const char *reply_ref,
                       const struct outbox_stored *st);
/* True when an item with this stored id is in memory (queued or in flight). */
bool outbox_has_stored(const struct outbox *ob, enum bot_channel ch, const char *id);

/* The persistence side of durable items (outbox_store.c):
 * gate(item): an item marked gated is next in its lane; the owner looks up
 *   whether the user's earlier messages are done and answers with
 *   outbox_gate_answer (now or later) exactly once.
 * settled(item): a durable item reached its final verdict (sent, failed,
 *   blocked, or found already sent by the gate): its entry may go. Not
 *   called for items dropped by outbox_close, whose entries stay for the next
 *   start.
 * progress(item): a durable item's driver sent one part of it and more
 *   remain (outbox_progress): item->part is recorded with its entry, so a
 *   restart resumes there (the entry's id may change: outbox_stored_renamed). */
enum outbox_gate { OUTBOX_GATE_GO, OUTBOX_GATE_DONE, OUTBOX_GATE_WAIT };
struct outbox_persist {
    void (*gate)(void *ud, struct outbox_item *item);
    void (*settled)(void *ud, const struct outbox_item *item);
    void (*progress)(void *ud, const struct outbox_item *item);
    void *ud;
};
void outbox_set_persist(struct outbox *ob, const struct outbox_persist *p);
void outbox_gate_answer(struct outbox *ob, struct outbox_item *item, enum outbox_gate g);

/* A durable item's entry now has the id new_id (its progress rewrote it):
 * the item in memory with old_id takes it. Returns that item, or NULL when
 * none of the channel has old_id (it has settled or was dropped). */
struct outbox_item *outbox_stored_renamed(struct outbox *ob, enum bot_channel ch, const char *old_id,
                                          const char *new_id);

/* Messages in memory: queued, held and in flight, all channels. */
size_t outbox_backlog(const struct outbox *ob);
/* Calls fn for every message in memory that is neither kept in Redis nor
 * owned by a done callback (replies sent while Redis was away, hand-off and
 * notification messages), queued or in flight, so shutdown can save them. */
void outbox_each_unsaved(const struct outbox *ob,
                         void (*fn)(const struct outbox_item *item, void *ud), void *ud);
/* Messages kept in Redis that are still in memory. */
size_t outbox_stored_pending(const struct outbox *ob);

/* Queues an acknowledgement of a button press (reply_ref = callback id). */
int outbox_ack(struct outbox *ob, enum bot_channel ch, const char *chat, const char *reply_ref);

/* For drivers of messages sent in several calls: the call for item->part
 * went out and item->part now names the next one; a durable item records
 * it (outbox_persist.progress) so that a restart does not send the parts
 * already sent again. Call between the parts of one delivery. */
void outbox_progress(struct outbox *ob, const struct outbox_item *item);

/* For drivers: the verdict on one delivery attempt. */
void outbox_delivered(struct outbox *ob, struct outbox_item *item, enum outbox_verdict v,
                      unsigned retry_after_ms);

bool outbox_is_blocked(const struct outbox *ob, enum bot_channel ch, const char *chat);
void outbox_mark_blocked(struct outbox *ob, enum bot_channel ch, const char *chat, bool blocked);
/* Items queued (not in flight) for a channel and priority. */
size_t outbox_queued(const struct outbox *ob, enum bot_channel ch, enum outbox_priority prio);
size_t outbox_inflight(const struct outbox *ob);
/* The channel's sustained rate in sends per second; 0 without a driver. */
double outbox_rate(const struct outbox *ob, enum bot_channel ch);
/* True when nothing is queued or in flight for the chat, so a message sent
 * by another path (e.g. in a webhook response) cannot overtake one. */
bool outbox_chat_idle(const struct outbox *ob, enum bot_channel ch, const char *chat);

/* Calls done once every queue is empty and nothing is in flight, or when
 * timeout_ms passes (then what is left is dropped and logged). */
void outbox_flush(struct outbox *ob, unsigned timeout_ms, void (*done)(void *ud), void *ud);
/* Drops everything (done callbacks with OUTBOX_FAILED) and frees the outbox
 * once its timer is closed. Drivers must have finished their in-flight
 * deliveries first (close the HTTP client before, which fails them). */
void outbox_close(struct outbox *ob);

#endif
