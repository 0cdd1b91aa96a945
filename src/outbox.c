/* outbox — queues, token buckets, per-chat ordering and verdicts. The item
 * lists themselves are outbox_queue.c; when to retry, outbox_retry.c. */
#include "dvcbot/outbox.h"
#include "dvcbot/outbox_queue.h"
#include "dvcbot/outbox_retry.h"
#include "dvcbot/clock.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/metrics.h"
#include "dvcbot/strfmt.h"
#include "dvcbot/strmap.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define START_BATCH 64
/* Items looked at per queue and dispatch: bounds the work of one dispatch
 * when a backlog builds up (later items wait for the next round). */
#define MAX_SCAN 256

/* The items of one chat and priority behind the one that goes next (queued
 * or in flight): only that one sits in the channel queue, so a long backlog
 * for one chat costs a dispatch one look, not one per item. */
struct lane {
    struct outbox_queue held;
};

struct channel_state {
    struct outbox_driver drv;
    bool has_driver;
    struct outbox_queue q[2];
    size_t n_held[2];            /* items in this channel's lanes */
    double tokens;
    uint64_t refill_ms;
    unsigned inflight;
};

struct outbox {
    uv_loop_t *loop;
    uv_timer_t timer;
    uv_timer_t flush_timer;
    uint64_t timer_due;          /* 0 when the timer is idle */
    struct outbox_retry retry;
    struct channel_state ch[BOT_CH_COUNT];
    struct strmap busy;          /* "ch:chat" of chats with an item in flight */
    struct strmap pending;       /* "ch:chat" → items queued or in flight (as uintptr_t) */
    struct strmap blocked;       /* "ch:chat" of chats that blocked the bot */
    struct strmap lanes;         /* "prio:ch:chat" → struct lane, while it has an item */
    struct strmap stored;        /* "ch:stored id" → item, for durable items in memory */
    struct outbox_queue flying;         /* items handed to a driver or to the gate */
    struct outbox_persist persist;
    outbox_blocked_cb blocked_cb;
    void *blocked_ud;
    outbox_failed_cb failed_cb;
    void *failed_ud;
    size_t inflight;
    void (*flush_done)(void *ud);
    void *flush_ud;
    int handles_open;
    bool closing;
};

static void schedule(struct outbox *ob, uint64_t delay_ms);
static void maybe_flushed(struct outbox *ob);
static size_t total_queued(const struct outbox *ob);
static void land(struct outbox *ob, struct outbox_item *it);

/* ===== Keys ===== */

/* "<channel prefix>:<id>" (a chat, or a stored entry's id), cut to fit
 * (keys are built several times per message: no printf). */
static void channel_key(char *out, size_t len, enum bot_channel ch, const char *id)
{
    STR_CAT(out, len, bot_channel_prefix(ch), ":", id);
}

static void lane_key(char *out, size_t len, const struct outbox_item *it)
{
    char prio[2] = {(char)('0' + (int)it->priority), '\0'};
    char ck[BOT_ID_MAX + 8];
    channel_key(ck, sizeof ck, it->channel, it->chat);
    STR_CAT(out, len, prio, ":", ck);
}

/* The item that went first in its lane is over: the next one may go. */
static void lane_advance(struct outbox *ob, const struct outbox_item *it)
{
    const char *key = it->lane_key;
    struct lane *l = strmap_get(&ob->lanes, key);
    if (!l)
        return;
    struct outbox_item *next = l->held.head;
    if (!next) {
        strmap_del(&ob->lanes, key);
        free(l);
        return;
    }
    outbox_queue_remove(&l->held, next);
    next->held = false;
    ob->ch[next->channel].n_held[next->priority]--;
    outbox_queue_push_tail(&ob->ch[next->channel].q[next->priority], next);
}

/* The key of the chat of a queued item: "<channel prefix>:<chat>". */
static const char *chat_key(const struct outbox_item *it)
{
    return it->lane_key + 2;
}

static void pending_add(struct outbox *ob, const struct outbox_item *it, int delta)
{
    const char *key = chat_key(it);
    uintptr_t n = (uintptr_t)strmap_get(&ob->pending, key) + (uintptr_t)(intptr_t)delta;
    if (n)
        strmap_put(&ob->pending, key, (void *)n);
    else
        strmap_del(&ob->pending, key);
}

/* it is in no queue any more (held items: out of their lane already). */
static void item_finish(struct outbox *ob, struct outbox_item *it, enum outbox_verdict v)
{
    if (!it->held)
        lane_advance(ob, it);
    pending_add(ob, it, -1);
    if (it->stored_id[0]) {
        char key[OUTBOX_STORED_ID_MAX + 8];
        channel_key(key, sizeof key, it->channel, it->stored_id);
        strmap_del(&ob->stored, key);
        /* Dropped at close: the entry stays in Redis for the next start. */
        if (!ob->closing && ob->persist.settled)
            ob->persist.settled(ob->persist.ud, it);
    }
    if (it->done)
        it->done(it, v, it->done_ud);
    bot_reply_clear(&it->reply);
    free(it);
}

static void count(const char *metric, const struct outbox_item *it, const char *reason)
{
    char labels[96];
    if (reason)
        STR_CAT(labels, sizeof labels, "channel=\"", bot_channel_name(it->channel), "\",reason=\"", reason, "\"");
    else
        STR_CAT(labels, sizeof labels, "channel=\"", bot_channel_name(it->channel), "\"");
    metrics_inc(metric, labels, 1);
}

/* ===== Dispatch ===== */

static void refill(struct channel_state *cs, uint64_t now)
{
    if (cs->refill_ms == 0) {
        cs->tokens = cs->drv.burst;
    } else if (now > cs->refill_ms) {
        cs->tokens += (double)(now - cs->refill_ms) * cs->drv.rate_per_s / 1000.0;
        if (cs->tokens > cs->drv.burst)
            cs->tokens = cs->drv.burst;
    }
    cs->refill_ms = now;
}

/* Picks startable items of one queue into batch; returns false when the
 * channel can start nothing more now. *wake gets the earliest time worth
 * looking again. */
static bool pick_from(struct outbox *ob, struct channel_state *cs, struct outbox_queue *q, int64_t now,
                      struct outbox_item **batch, size_t *n, int64_t *wake)
{
    struct strmap seen;
    strmap_init(&seen);
    bool more = true;
    size_t scanned = 0;
    for (struct outbox_item *it = q->head, *next; it && *n < START_BATCH; it = next) {
        next = it->next;
        if (++scanned > MAX_SCAN) {
            if (now < *wake)
                *wake = now + 1;
            break;
        }
        const char *key = chat_key(it);
        if (strmap_has(&ob->busy, key) || strmap_has(&seen, key))
            continue; /* an earlier message to this chat goes first */
        /* A picked item's chat is busy from now on; seen holds the chats
         * of items left waiting (a lane puts one item per chat in q, so
         * it stays empty but for those: no allocation per dispatch). */
        if (it->not_before_ms > now) {
            strmap_put(&seen, key, it);
            if (it->not_before_ms < *wake)
                *wake = it->not_before_ms;
            continue;
        }
        if (cs->inflight >= cs->drv.max_inflight) {
            more = false;
            break;
        }
        if (cs->tokens < 1.0) {
            int64_t wait = (int64_t)((1.0 - cs->tokens) * 1000.0 / cs->drv.rate_per_s) + 1;
            if (now + wait < *wake)
                *wake = now + wait;
            more = false;
            break;
        }
        cs->tokens -= 1.0;
        cs->inflight++;
        ob->inflight++;
        strmap_put(&ob->busy, key, it);
        outbox_queue_remove(q, it);
        it->inflight = true;
        outbox_queue_push_tail(&ob->flying, it);
        batch[(*n)++] = it;
    }
    strmap_free(&seen);
    return more;
}

static void start(struct outbox *ob, struct outbox_item *it)
{
    if (it->gated && ob->persist.gate) {
        ob->persist.gate(ob->persist.ud, it); /* answers with outbox_gate_answer */
        return;
    }
    struct channel_state *cs = &ob->ch[it->channel];
    if (cs->drv.deliver(cs->drv.ctx, it) != 0)
        outbox_delivered(ob, it, OUTBOX_RETRY, 0);
}

/* Due times are by clock_now_ms() (a test clock moves them); the token
 * buckets refill by the loop's monotonic time. */
static void dispatch(struct outbox *ob)
{
    int64_t now = clock_now_ms(), wake = INT64_MAX;
    uint64_t mono = uv_now(ob->loop);
    struct outbox_item *batch[START_BATCH];
    size_t n = 0;
    for (int c = 0; c < BOT_CH_COUNT; c++) {
        struct channel_state *cs = &ob->ch[c];
        if (!cs->has_driver)
            continue;
        refill(cs, mono);
        for (int p = 0; p < 2 && n < START_BATCH; p++)
            if (!pick_from(ob, cs, &cs->q[p], now, batch, &n, &wake))
                break;
    }
    if (n == START_BATCH)
        wake = now;
    /* Start after picking: a driver may report a verdict synchronously. */
    for (size_t i = 0; i < n; i++)
        start(ob, batch[i]);
    if (wake != INT64_MAX)
        schedule(ob, wake > now ? (uint64_t)(wake - now) : 0);
}

void outbox_tick(struct outbox *ob)
{
    if (!ob->closing)
        dispatch(ob);
}

static void on_timer(uv_timer_t *t)
{
    struct outbox *ob = t->data;
    ob->timer_due = 0;
    if (!ob->closing)
        dispatch(ob);
}

static void schedule(struct outbox *ob, uint64_t delay_ms)
{
    if (ob->closing)
        return;
    uint64_t due = uv_now(ob->loop) + delay_ms;
    if (ob->timer_due && ob->timer_due <= due)
        return;
    if (uv_timer_start(&ob->timer, on_timer, delay_ms, 0) == 0)
        ob->timer_due = due;
}

/* ===== Public API ===== */

struct outbox *outbox_new(uv_loop_t *loop, unsigned retry_base_ms)
{
    struct outbox *ob = xcalloc(1, sizeof *ob);
    ob->loop = loop;
    ob->retry = outbox_retry_defaults(retry_base_ms);
    strmap_init(&ob->busy);
    strmap_init(&ob->pending);
    strmap_init(&ob->blocked);
    strmap_init(&ob->lanes);
    strmap_init(&ob->stored);
    if (uv_timer_init(loop, &ob->timer) != 0 || uv_timer_init(loop, &ob->flush_timer) != 0)
        abort(); /* uv_timer_init cannot fail on a valid loop */
    ob->timer.data = ob;
    ob->flush_timer.data = ob;
    ob->handles_open = 2;
    return ob;
}

void outbox_set_retry(struct outbox *ob, const struct outbox_retry *r)
{
    outbox_retry_update(&ob->retry, r);
}

void outbox_on_failed(struct outbox *ob, outbox_failed_cb cb, void *ud)
{
    ob->failed_cb = cb;
    ob->failed_ud = ud;
}

void outbox_set_driver(struct outbox *ob, enum bot_channel ch, const struct outbox_driver *drv)
{
    ob->ch[ch].drv = *drv;
    if (ob->ch[ch].drv.max_inflight == 0)
        ob->ch[ch].drv.max_inflight = 8;
    if (ob->ch[ch].drv.rate_per_s <= 0)
        ob->ch[ch].drv.rate_per_s = 30;
    if (ob->ch[ch].drv.burst < 1)
        ob->ch[ch].drv.burst = ob->ch[ch].drv.rate_per_s;
    ob->ch[ch].has_driver = true;
}

bool outbox_has_driver(const struct outbox *ob, enum bot_channel ch)
{
    return ob->ch[ch].has_driver;
}

const struct outbox_driver *outbox_driver_of(const struct outbox *ob, enum bot_channel ch)
{
    return outbox_has_driver(ob, ch) ? &ob->ch[ch].drv : NULL;
}

void outbox_on_blocked(struct outbox *ob, outbox_blocked_cb cb, void *ud)
{
    ob->blocked_cb = cb;
    ob->blocked_ud = ud;
}

bool outbox_is_blocked(const struct outbox *ob, enum bot_channel ch, const char *chat)
{
    char key[BOT_ID_MAX + 8];
    channel_key(key, sizeof key, ch, chat);
    return strmap_has(&ob->blocked, key);
}

void outbox_mark_blocked(struct outbox *ob, enum bot_channel ch, const char *chat, bool blocked)
{
    char key[BOT_ID_MAX + 8];
    channel_key(key, sizeof key, ch, chat);
    if (blocked)
        strmap_put(&ob->blocked, key, ob);
    else
        strmap_del(&ob->blocked, key);
}

static int enqueue(struct outbox *ob, struct outbox_item *it)
{
    struct channel_state *cs = &ob->ch[it->channel];
    lane_key(it->lane_key, sizeof it->lane_key, it);
    if (ob->closing || !cs->has_driver || strmap_has(&ob->blocked, chat_key(it))) {
        bot_reply_clear(&it->reply);
        free(it);
        return -1;
    }
    const char *key = it->lane_key;
    struct lane *l = strmap_get(&ob->lanes, key);
    if (l) {
        it->held = true;
        outbox_queue_push_tail(&l->held, it);
        cs->n_held[it->priority]++;
    } else {
        strmap_put(&ob->lanes, key, xcalloc(1, sizeof *l));
        outbox_queue_push_tail(&cs->q[it->priority], it);
    }
    it->queued_ms = clock_now_ms();
    pending_add(ob, it, 1);
    schedule(ob, 0);
    return 0;
}

int outbox_send(struct outbox *ob, enum bot_channel ch, const char *chat, const struct bot_reply *reply,
                const char *reply_ref, enum outbox_priority prio, outbox_done_cb done, void *ud)
{
    struct outbox_item *it = xcalloc(1, sizeof *it);
    it->channel = ch;
    it->kind = OUTBOX_MESSAGE;
    it->priority = prio == OUTBOX_BULK ? OUTBOX_BULK : OUTBOX_REPLY;
    if (!bot_id_set(it->chat, chat) || (reply_ref && !bot_id_set(it->reply_ref, reply_ref))) {
        free(it);
        return -1;
    }
    bot_reply_copy(&it->reply, reply);
    it->done = done;
    it->done_ud = ud;
    return enqueue(ob, it);
}

int outbox_send_stored(struct outbox *ob, enum bot_channel ch, const char *chat,
                       const struct bot_reply *reply, const char *reply_ref,
                       const struct outbox_stored *st)
{
    struct outbox_item *it = xcalloc(1, sizeof *it);
    it->channel = ch;
    it->kind = OUTBOX_MESSAGE;
    it->priority = OUTBOX_REPLY;
    if (!bot_id_set(it->chat, chat) || (reply_ref && !bot_id_set(it->reply_ref, reply_ref)) ||
        !st->id || strlen(st->id) >= sizeof it->stored_id ||
        (st->seq_key && strlen(st->seq_key) >= sizeof it->seq_key)) {
        free(it);
        return -1;
    }
    STR_CAT(it->stored_id, sizeof it->stored_id, st->id);
    STR_CAT(it->seq_key, sizeof it->seq_key, st->seq_key);
    it->seq = st->seq;
    it->gated = st->gated;
    it->part = st->part;
    bot_reply_copy(&it->reply, reply);
    char key[OUTBOX_STORED_ID_MAX + 8];
    channel_key(key, sizeof key, ch, it->stored_id);
    if (strmap_has(&ob->stored, key)) {
        bot_reply_clear(&it->reply);
        free(it);
        return -1;
    }
    if (enqueue(ob, it) != 0)
        return -1;
    strmap_put(&ob->stored, key, it);
    return 0;
}

bool outbox_has_stored(const struct outbox *ob, enum bot_channel ch, const char *id)
{
    char key[OUTBOX_STORED_ID_MAX + 8];
    channel_key(key, sizeof key, ch, id);
    return strmap_has(&ob->stored, key);
}

struct outbox_item *outbox_stored_renamed(struct outbox *ob, enum bot_channel ch, const char *old_id,
                                          const char *new_id)
{
    char key[OUTBOX_STORED_ID_MAX + 8];
    channel_key(key, sizeof key, ch, old_id);
    struct outbox_item *it = strmap_get(&ob->stored, key);
    if (!it || strlen(new_id) >= sizeof it->stored_id)
        return NULL;
    strmap_del(&ob->stored, key);
    STR_CAT(it->stored_id, sizeof it->stored_id, new_id);
    channel_key(key, sizeof key, ch, new_id);
    strmap_put(&ob->stored, key, it);
    return it;
}

void outbox_progress(struct outbox *ob, const struct outbox_item *it)
{
    if (it->stored_id[0] && !ob->closing && ob->persist.progress)
        ob->persist.progress(ob->persist.ud, it);
}

size_t outbox_stored_pending(const struct outbox *ob)
{
    return strmap_len(&ob->stored);
}

void outbox_set_persist(struct outbox *ob, const struct outbox_persist *p)
{
    ob->persist = *p;
}

void outbox_gate_answer(struct outbox *ob, struct outbox_item *it, enum outbox_gate g)
{
    switch (g) {
    case OUTBOX_GATE_GO:
        it->gated = false;
        if (ob->closing) {
            outbox_delivered(ob, it, OUTBOX_RETRY, 0);
            return;
        }
        start(ob, it);
        return;
    case OUTBOX_GATE_DONE: /* delivered before (by another process, or before a restart) */
        land(ob, it);
        item_finish(ob, it, OUTBOX_SENT);
        break;
    case OUTBOX_GATE_WAIT: /* an earlier message of the user is still on its way elsewhere */
        land(ob, it);
        it->gate_waits++;
        it->not_before_ms = clock_now_ms() +
                            (int64_t)outbox_backoff_ms(OUTBOX_GATE_MIN_MS, OUTBOX_GATE_MAX_MS, it->gate_waits);
        if (ob->closing)
            item_finish(ob, it, OUTBOX_FAILED);
        else
            outbox_queue_push_head(&ob->ch[it->channel].q[it->priority], it);
        break;
    }
    schedule(ob, 0);
    maybe_flushed(ob);
}

size_t outbox_backlog(const struct outbox *ob)
{
    return total_queued(ob) + ob->inflight;
}

static void each_unsaved_in(const struct outbox_queue *q, void (*fn)(const struct outbox_item *, void *),
                            void *ud)
{
    for (const struct outbox_item *it = q->head; it; it = it->next)
        if (!it->stored_id[0] && !it->done && it->kind == OUTBOX_MESSAGE)
            fn(it, ud);
}

void outbox_each_unsaved(const struct outbox *ob, void (*fn)(const struct outbox_item *item, void *ud),
                         void *ud)
{
    each_unsaved_in(&ob->flying, fn, ud);
    for (int c = 0; c < BOT_CH_COUNT; c++)
        for (int p = 0; p < 2; p++)
            each_unsaved_in(&ob->ch[c].q[p], fn, ud);
    size_t pos = 0;
    const char *key;
    void *value;
    while (strmap_next(&ob->lanes, &pos, &key, &value))
        each_unsaved_in(&((const struct lane *)value)->held, fn, ud);
}

int outbox_ack(struct outbox *ob, enum bot_channel ch, const char *chat, const char *reply_ref)
{
    struct outbox_item *it = xcalloc(1, sizeof *it);
    it->channel = ch;
    it->kind = OUTBOX_ACK;
    it->priority = OUTBOX_REPLY;
    if (!bot_id_set(it->chat, chat) || !bot_id_set(it->reply_ref, reply_ref)) {
        free(it);
        return -1;
    }
    return enqueue(ob, it);
}

/* Finishes the held items of the lane of it (not it). */
static void drop_held(struct outbox *ob, const struct outbox_item *it, enum outbox_verdict v)
{
    char key[BOT_ID_MAX + 16];
    lane_key(key, sizeof key, it);
    struct lane *l = strmap_get(&ob->lanes, key);
    while (l && l->held.head) {
        struct outbox_item *h = l->held.head;
        outbox_queue_remove(&l->held, h);
        ob->ch[h->channel].n_held[h->priority]--;
        item_finish(ob, h, v);
    }
}

static void drop_chat(struct outbox *ob, enum bot_channel ch, const char *chat)
{
    struct outbox_item probe = {.channel = ch};
    snprintf(probe.chat, sizeof probe.chat, "%s", chat);
    for (int p = 0; p < 2; p++) {
        probe.priority = (enum outbox_priority)p;
        drop_held(ob, &probe, OUTBOX_BLOCKED);
        struct outbox_queue *q = &ob->ch[ch].q[p];
        for (struct outbox_item *it = q->head, *next; it; it = next) {
            next = it->next;
            if (strcmp(it->chat, chat) == 0) {
                outbox_queue_remove(q, it);
                item_finish(ob, it, OUTBOX_BLOCKED);
            }
        }
    }
}

static void report_failed(struct outbox *ob, struct outbox_item *it)
{
    if (!it->reason)
        it->reason = "failed";
    log_fmt(LOG_WARN, "send gave up", "\"channel\":%s,\"reason\":%s,\"attempts\":%u,\"throttled\":%u,"
            "\"error\":%d", log_q(bot_channel_name(it->channel)), log_q(it->reason), it->attempts,
            it->throttled, it->last_error);
    count("dvcbot_send_errors_total", it, it->reason);
    if (ob->failed_cb)
        ob->failed_cb(it, ob->failed_ud);
}

/* it is back from its driver or gate. */
static void land(struct outbox *ob, struct outbox_item *it)
{
    strmap_del(&ob->busy, chat_key(it));
    ob->ch[it->channel].inflight--;
    ob->inflight--;
    outbox_queue_remove(&ob->flying, it);
    it->inflight = false;
}

void outbox_delivered(struct outbox *ob, struct outbox_item *it, enum outbox_verdict v,
                      unsigned retry_after_ms)
{
    struct channel_state *cs = &ob->ch[it->channel];
    land(ob, it);
    int64_t delay = 0;
    if (v == OUTBOX_RETRY || v == OUTBOX_RETRY_AFTER) {
        delay = outbox_retry_delay(&ob->retry, it, v == OUTBOX_RETRY_AFTER, retry_after_ms, clock_now_ms());
        if (delay < 0)
            v = OUTBOX_FAILED;
    }
    switch (v) {
    case OUTBOX_SENT:
        if (it->kind == OUTBOX_MESSAGE)
            count("dvcbot_replies_sent_total", it, NULL);
        item_finish(ob, it, v);
        break;
    case OUTBOX_RETRY:
    case OUTBOX_RETRY_AFTER:
        count(v == OUTBOX_RETRY ? "dvcbot_send_retries_total" : "dvcbot_send_throttled_total", it, NULL);
        it->not_before_ms = clock_now_ms() + delay;
        if (ob->closing)
            item_finish(ob, it, OUTBOX_FAILED);
        else
            outbox_queue_push_head(&cs->q[it->priority], it);
        break;
    case OUTBOX_BLOCKED:
        it->reason = "blocked";
        count("dvcbot_send_errors_total", it, "blocked");
        outbox_mark_blocked(ob, it->channel, it->chat, true);
        if (ob->blocked_cb)
            ob->blocked_cb(it->channel, it->chat, ob->blocked_ud);
        drop_chat(ob, it->channel, it->chat);
        item_finish(ob, it, v);
        break;
    case OUTBOX_FAILED:
        report_failed(ob, it);
        item_finish(ob, it, v);
        break;
    }
    schedule(ob, 0);
    maybe_flushed(ob);
}

size_t outbox_queued(const struct outbox *ob, enum bot_channel ch, enum outbox_priority prio)
{
    return ob->ch[ch].q[prio].len + ob->ch[ch].n_held[prio];
}

bool outbox_chat_idle(const struct outbox *ob, enum bot_channel ch, const char *chat)
{
    char key[BOT_ID_MAX + 8];
    channel_key(key, sizeof key, ch, chat);
    return !strmap_has(&ob->pending, key);
}

size_t outbox_inflight(const struct outbox *ob)
{
    return ob->inflight;
}

double outbox_rate(const struct outbox *ob, enum bot_channel ch)
{
    return ob->ch[ch].has_driver ? ob->ch[ch].drv.rate_per_s : 0;
}

/* ===== Flush and close ===== */

static size_t total_queued(const struct outbox *ob)
{
    size_t n = 0;
    for (int c = 0; c < BOT_CH_COUNT; c++)
        n += outbox_queued(ob, (enum bot_channel)c, OUTBOX_REPLY) +
             outbox_queued(ob, (enum bot_channel)c, OUTBOX_BULK);
    return n;
}

static void flush_finish(struct outbox *ob)
{
    void (*done)(void *) = ob->flush_done;
    ob->flush_done = NULL;
    uv_timer_stop(&ob->flush_timer);
    if (done)
        done(ob->flush_ud);
}

static void maybe_flushed(struct outbox *ob)
{
    if (ob->flush_done && ob->inflight == 0 && total_queued(ob) == 0)
        flush_finish(ob);
}

static void on_flush_timeout(uv_timer_t *t)
{
    struct outbox *ob = t->data;
    log_fmt(LOG_WARN, "outbox flush timed out", "\"queued\":%zu,\"inflight\":%zu",
            total_queued(ob), ob->inflight);
    flush_finish(ob);
}

void outbox_flush(struct outbox *ob, unsigned timeout_ms, void (*done)(void *ud), void *ud)
{
    ob->flush_done = done;
    ob->flush_ud = ud;
    if (ob->inflight == 0 && total_queued(ob) == 0) {
        flush_finish(ob);
        return;
    }
    if (uv_timer_start(&ob->flush_timer, on_flush_timeout, timeout_ms, 0) != 0)
        flush_finish(ob);
}

static void on_closed(uv_handle_t *h)
{
    struct outbox *ob = h->data;
    if (--ob->handles_open > 0)
        return;
    size_t pos = 0;
    const char *key;
    void *lane;
    while (strmap_next(&ob->lanes, &pos, &key, &lane))
        free(lane); /* of items still in flight at close */
    strmap_free(&ob->lanes);
    strmap_free(&ob->stored);
    strmap_free(&ob->busy);
    strmap_free(&ob->pending);
    strmap_free(&ob->blocked);
    free(ob);
}

/* Collects every held item (to finish them outside the map walk). */
static void take_all_held(struct outbox *ob, struct outbox_queue *out)
{
    size_t pos = 0;
    const char *key;
    void *value;
    while (strmap_next(&ob->lanes, &pos, &key, &value)) {
        struct lane *l = value;
        while (l->held.head) {
            struct outbox_item *it = l->held.head;
            outbox_queue_remove(&l->held, it);
            ob->ch[it->channel].n_held[it->priority]--;
            outbox_queue_push_tail(out, it);
        }
    }
}

void outbox_close(struct outbox *ob)
{
    ob->closing = true;
    /* Queued items first: finishing one moves the next of its lane in. */
    for (int c = 0; c < BOT_CH_COUNT; c++)
        for (int p = 0; p < 2; p++) {
            struct outbox_queue *q = &ob->ch[c].q[p];
            while (q->head) {
                struct outbox_item *it = q->head;
                outbox_queue_remove(q, it);
                item_finish(ob, it, OUTBOX_FAILED);
            }
        }
    struct outbox_queue rest = {0};
    take_all_held(ob, &rest); /* behind items still in flight */
    while (rest.head) {
        struct outbox_item *it = rest.head;
        outbox_queue_remove(&rest, it);
        item_finish(ob, it, OUTBOX_FAILED);
    }
    ob->flush_done = NULL;
    uv_close((uv_handle_t *)&ob->timer, on_closed);
    uv_close((uv_handle_t *)&ob->flush_timer, on_closed);
}
