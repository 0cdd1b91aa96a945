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
 * retries, and must call outbox_delivered exactly once per deliver call.
 * Done callbacks fire once per item, after its final verdict (also on
 * outbox_close, with OUTBOX_FAILED). */
#ifndef DVCBOT_OUTBOX_H
#define DVCBOT_OUTBOX_H

#include "dvcbot/msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#define OUTBOX_MAX_ATTEMPTS 6

enum outbox_verdict {
    OUTBOX_SENT,
    OUTBOX_RETRY,        /* transient: backoff and try again */
    OUTBOX_RETRY_AFTER,  /* the channel said when (retry_after_ms) */
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

typedef void (*outbox_done_cb)(const struct outbox_item *item, enum outbox_verdict verdict, void *ud);

struct outbox_item {
    enum bot_channel channel;
    enum outbox_kind kind;
    enum outbox_priority priority;
    char chat[BOT_ID_MAX];
    char reply_ref[BOT_ID_MAX];  /* callback query id, Zalo msg_id to quote; "" = none */
    struct bot_reply reply;
    unsigned part;               /* driver progress (e.g. parts of a split text) */
    unsigned attempts;
    int last_error;              /* driver's error code for the last failure (e.g. Zalo -211) */
    /* Internal to the outbox. */
    uint64_t not_before_ms;
    outbox_done_cb done;
    void *done_ud;
    bool held;                   /* waits behind an earlier item of its chat */
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
};

/* Called when a chat blocks the bot, so the owner can persist it. */
typedef void (*outbox_blocked_cb)(enum bot_channel ch, const char *chat, void *ud);

struct outbox *outbox_new(uv_loop_t *loop, unsigned retry_base_ms);
void outbox_set_driver(struct outbox *ob, enum bot_channel ch, const struct outbox_driver *drv);
bool outbox_has_driver(const struct outbox *ob, enum bot_channel ch);
void outbox_on_blocked(struct outbox *ob, outbox_blocked_cb cb, void *ud);

/* Queues a message. Returns 0, or -1 when the channel has no driver or the
 * chat is blocked (done is then never called). */
int outbox_send(struct outbox *ob, enum bot_channel ch, const char *chat, const struct bot_reply *reply,
                const char *reply_ref, enum outbox_priority prio, outbox_done_cb done, void *ud);
/* Queues an acknowledgement of a button press (reply_ref = callback id). */
int outbox_ack(struct outbox *ob, enum bot_channel ch, const char *chat, const char *reply_ref);

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
