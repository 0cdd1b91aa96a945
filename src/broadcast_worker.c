/* broadcast_worker — from the Redis stream of each broadcast to the outbox.
 *
 * Objects: a run is one broadcast this process works on; it holds batches
 * (one stream entry each, with the user keys still to send); a recipient is
 * one user key on its way (user record lookup → outbox → recorded verdict).
 * Every callback holds a count on its batch or run (`pending`); they are
 * freed only when nothing points at them any more. */
#include "dvcbot/broadcast_worker.h"
#include "dvcbot/broadcast_spec.h"
#include "dvcbot/buf.h"
#include "dvcbot/clock.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REFRESH_MS 1000
#define IDLE_READ_MS 1000
#define RUNS_MAX 16
#define HELD_BATCHES_MAX 4
#define LOOKUPS_MIN 4
#define LOOKUPS_MAX 256
#define ENTRY_ID_MAX 48



#define FINISH_COUNTED 1
#define FINISH_DONE 2
#define FINISH_STOPPED 4

enum run_state { RUN_LOADING, RUN_ACTIVE, RUN_GONE };
enum read_phase { READ_OWN, READ_NEW, READ_CLAIM };

struct run;

struct batch {
    struct run *run;
    struct batch *next;
    char entry[ENTRY_ID_MAX];
    char key[BROADCAST_KEY_MAX];  /* bc:<id>:b:<n> */
    char **members;
    size_t n, pos;                /* pos: next member to start */
    unsigned pending;             /* callbacks that will touch this batch */
    bool loaded;
    bool broken;                  /* a verdict was not recorded: leave the entry to a later claim */
};

struct run {
    struct broadcast_worker *w;
    struct run *next;
    char id[BROADCAST_ID_MAX];
    enum run_state state;
    enum read_phase phase;
    char own_cursor[ENTRY_ID_MAX];
    struct bot_reply reply;
    struct batch *batches;
    unsigned pending;             /* load or read in flight */
    bool reading;
    bool listed;                  /* seen in the last bc:active listing */
    uint64_t next_read_ms;
};

struct rcpt {
    struct broadcast_worker *w;
    struct batch *batch;
    enum bot_channel ch;
    bool sending;                 /* counted in w->sending[ch] */
    char *user_key;
};

struct broadcast_worker {
    uv_loop_t *loop;
    const struct config *cfg;
    struct store *store;
    struct outbox *ob;
    struct recipients *recipients;
    char consumer[128];
    struct run *runs;
    size_t busy;                  /* Redis commands and outbox items in flight */
    size_t sending[BOT_CH_COUNT]; /* recipients between their batch and their verdict */
    uint64_t next_refresh_ms;
    bool refreshing;
    bool stopping;
};

static void pump(struct broadcast_worker *w);
static void sweep(struct broadcast_worker *w);

/* ===== Small helpers ===== */

static void log_store_error(const char *what, const redisReply *r)
{
    log_fmt(LOG_WARN, what, "\"error\":%s", log_q(store_reply_error(r)));
}

static void count_metric(enum bot_channel ch, const char *result)
{
    char labels[96];
    snprintf(labels, sizeof labels, "channel=\"%s\",result=\"%s\"", bot_channel_name(ch), result);
    metrics_inc("dvcbot_broadcast_messages_total", labels, 1);
}

static size_t lookup_limit(const struct broadcast_worker *w, enum bot_channel ch)
{
    double lim = 2 * outbox_rate(w->ob, ch);
    if (lim < LOOKUPS_MIN)
        return LOOKUPS_MIN;
    return lim > LOOKUPS_MAX ? LOOKUPS_MAX : (size_t)lim;
}

/* The channel's bulk queue (with recipients on their way to it) has room. */
static bool channel_room(const struct broadcast_worker *w, enum bot_channel ch)
{
    return outbox_queued(w->ob, ch, OUTBOX_BULK) + w->sending[ch] < lookup_limit(w, ch);
}

/* ===== Lifetimes ===== */

/* Runs and batches are freed only here, at the end of a callback or tick,
 * so no loop ever holds a pointer to one that was freed under it. */

static void batch_free(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->members[i]);
    free(b->members);
    free(b);
}

static void run_free(struct run *run)
{
    while (run->batches) {
        struct batch *b = run->batches;
        run->batches = b->next;
        batch_free(b);
    }
    bot_reply_clear(&run->reply);
    free(run);
}

/* Every member has a recorded verdict, or the batch can make no progress
 * here (broken, broadcast gone). */
static bool batch_over(const struct batch *b)
{
    if (b->pending || !b->loaded)
        return false;
    return b->pos >= b->n || b->run->state != RUN_ACTIVE || b->broken;
}

static void sweep(struct broadcast_worker *w)
{
    if (w->stopping)
        return; /* broadcast_worker_close frees everything */
    for (struct run **rp = &w->runs; *rp;) {
        struct run *run = *rp;
        for (struct batch **bp = &run->batches; *bp;) {
            struct batch *b = *bp;
            if (batch_over(b)) {
                *bp = b->next;
                batch_free(b);
            } else {
                bp = &b->next;
            }
        }
        if (run->state == RUN_GONE && !run->pending && !run->batches) {
            *rp = run->next;
            run_free(run);
        } else {
            rp = &run->next;
        }
    }
}

/* Wraps store_command for the worker's bookkeeping. */
static int command(struct broadcast_worker *w, store_reply_cb cb, void *ud, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int command(struct broadcast_worker *w, store_reply_cb cb, void *ud, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = store_commandv(w->store, cb, ud, fmt, ap);
    va_end(ap);
    if (rc == 0)
        w->busy++;
    return rc;
}

static void ignore_reply(redisReply *r, void *ud)
{
    struct broadcast_worker *w = ud;
    (void)r;
    w->busy--;
}

static void forget_active(struct broadcast_worker *w, const char *id)
{
    if (command(w, ignore_reply, w, "ZREM bc:active %s", id) != 0)
        log_msg(LOG_WARN, "broadcast not removed from bc:active: redis unavailable");
}

/* End of every callback and tick: start what can start, free what is over. */
static void settle(struct broadcast_worker *w)
{
    pump(w);
    sweep(w);
}

/* ===== Recording verdicts ===== */

static void rcpt_done(struct rcpt *r)
{
    if (r->sending)
        r->w->sending[r->ch]--;
    r->batch->pending--;
    free(r->user_key);
    free(r);
}

/* The batch could not be finished here: its entry stays pending until a
 * worker claims it again (after DVCBOT_BROADCAST_CLAIM_MS). */
static void rcpt_abandon(struct rcpt *r)
{
    if (!r->w->stopping)
        r->batch->broken = true;
    rcpt_done(r);
}

/* What broadcast_verdict said about the broadcast as a whole. */
static void finished(struct run *run, long long bits)
{
    if (bits & FINISH_DONE) {
        log_fmt(LOG_INFO, "broadcast done", "\"id\":%s", log_q(run->id));
        forget_active(run->w, run->id);
    }
    if ((bits & (FINISH_DONE | FINISH_STOPPED)) && run->state == RUN_ACTIVE)
        run->state = RUN_GONE;
}

static void on_recorded(redisReply *reply, void *ud)
{
    struct rcpt *r = ud;
    struct broadcast_worker *w = r->w;
    w->busy--;
    if (store_reply_failed(reply) || reply->type != REDIS_REPLY_INTEGER) {
        if (!w->stopping)
            log_store_error("broadcast verdict not recorded", reply);
        rcpt_abandon(r);
    } else {
        finished(r->batch->run, reply->integer);
        rcpt_done(r);
    }
    settle(w);
}

/* Runs broadcast_verdict for a member of b (or, with user "", for b itself). */
static int finish(struct broadcast_worker *w, struct batch *b, const char *user, const char *counter,
                  const char *reason, store_reply_cb cb, void *ud)
{
    const char *id = b->run->id;
    char hkey[BROADCAST_KEY_MAX], fkey[BROADCAST_KEY_MAX], qkey[BROADCAST_KEY_MAX];
    char cap[16], now[24], keep[16], refs_ttl[16];
    struct buf rkey;
    broadcast_key(hkey, sizeof hkey, id, "");
    broadcast_key(fkey, sizeof fkey, id, ":fail");
    broadcast_key(qkey, sizeof qkey, id, ":q");
    buf_init(&rkey);
    buf_printf(&rkey, "refs:{%s}", user);
    snprintf(cap, sizeof cap, "%d", BROADCAST_FAIL_KEEP);
    snprintf(now, sizeof now, "%lld", (long long)clock_now());
    snprintf(keep, sizeof keep, "%d", BROADCAST_KEEP_S);
    snprintf(refs_ttl, sizeof refs_ttl, "%u", w->cfg->user_ttl_s);
    int rc = command(w, cb, ud, "FCALL broadcast_verdict 5 %s %s %s %s %s %s %s %s %s %s %s %s %s %s",
                     hkey, b->key, fkey, qkey, buf_cstr(&rkey), user, counter, reason, b->entry,
                     w->consumer, cap, now, keep, refs_ttl);
    buf_free(&rkey);
    return rc;
}

/* counter: sent, failed, blocked or skipped; reason "" when sent. */
static void record(struct rcpt *r, const char *counter, const char *reason)
{
    struct broadcast_worker *w = r->w;
    count_metric(r->ch, counter);
    if (r->sending) {
        w->sending[r->ch]--;
        r->sending = false;
    }
    /* Also while stopping: a send that finished must not be repeated. */
    if (finish(w, r->batch, r->user_key, counter, reason, on_recorded, r) != 0)
        rcpt_abandon(r);
}

/* ===== One recipient ===== */

static void on_verdict(const struct recipient_result *res, void *ud)
{
    struct rcpt *r = ud;
    struct broadcast_worker *w = r->w;
    w->busy--;
    if (res->verdict == RECIPIENT_UNKNOWN || (w->stopping && res->verdict == RECIPIENT_FAILED))
        rcpt_abandon(r); /* nothing decided, or dropped at shutdown: sent by whoever takes the batch */
    else
        record(r, recipient_verdict_name(res->verdict), res->reason);
    settle(w);
}

/* Starts the next member of b. Returns false when it cannot now. */
static bool start_next(struct broadcast_worker *w, struct batch *b)
{
    const char *user = b->members[b->pos];
    int ch = recipient_channel(user);
    if (ch >= 0 && !channel_room(w, (enum bot_channel)ch))
        return false;
    struct rcpt *r = xcalloc(1, sizeof *r);
    r->w = w;
    r->batch = b;
    r->ch = ch >= 0 ? (enum bot_channel)ch : BOT_CH_CLI;
    r->user_key = xstrdup(user);
    b->pending++;
    b->pos++;
    int err = recipient_send(w->recipients, user, &b->run->reply, OUTBOX_BULK, RECIPIENT_UNTIL_DELIVERED,
                             on_verdict, r);
    if (err == RECIPIENT_BAD_KEY) {
        record(r, "skipped", "bad_user_key");
        return true;
    }
    if (err != 0) {
        b->pos--;
        rcpt_done(r);
        return false;
    }
    w->busy++;
    r->sending = true;
    w->sending[r->ch]++;
    return true;
}

/* ===== Batches ===== */

static void on_batch_closed(redisReply *reply, void *ud)
{
    struct batch *b = ud;
    struct broadcast_worker *w = b->run->w;
    w->busy--;
    b->pending--;
    if (store_reply_failed(reply)) {
        if (!w->stopping)
            log_store_error("broadcast batch not closed", reply);
        b->broken = true;
    } else if (reply->type == REDIS_REPLY_INTEGER) {
        finished(b->run, reply->integer);
    }
    settle(w);
}

/* reply: SMEMBERS bc:<id>:b:<n> */
static void on_members(redisReply *reply, void *ud)
{
    struct batch *b = ud;
    struct broadcast_worker *w = b->run->w;
    w->busy--;
    b->pending--;
    b->loaded = true;
    if (store_reply_failed(reply) || reply->type != REDIS_REPLY_ARRAY) {
        if (!w->stopping)
            log_store_error("broadcast batch not read", reply);
        b->broken = true;
        settle(w);
        return;
    }
    b->members = xcalloc(reply->elements ? reply->elements : 1, sizeof *b->members);
    for (size_t i = 0; i < reply->elements; i++)
        if (store_reply_str(reply->element[i]))
            b->members[b->n++] = xstrdup(reply->element[i]->str);
    /* Every member recorded (or erased) already: close the entry. */
    if (b->n == 0 && !w->stopping) {
        if (finish(w, b, "", "sent", "", on_batch_closed, b) == 0)
            b->pending++;
        else
            b->broken = true;
    }
    settle(w);
}

static bool batch_held(const struct run *run, const char *entry)
{
    for (const struct batch *b = run->batches; b; b = b->next)
        if (strcmp(b->entry, entry) == 0)
            return true;
    return false;
}

static const char *entry_id(const redisReply *entry)
{
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2)
        return NULL;
    return store_reply_str(entry->element[0]);
}

/* One stream entry [id, [field, value, ...]] → a batch being loaded. */
static void batch_add(struct run *run, const redisReply *entry)
{
    struct broadcast_worker *w = run->w;
    const char *id = entry_id(entry);
    if (!id)
        return;
    const redisReply *fields = entry->element[1];
    const char *n = NULL;
    if (fields->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i + 1 < fields->elements; i += 2)
            if (store_reply_str(fields->element[i]) && strcmp(fields->element[i]->str, "b") == 0)
                n = store_reply_str(fields->element[i + 1]);
    if (!n || strlen(id) >= ENTRY_ID_MAX || strlen(n) > 12 || batch_held(run, id))
        return;
    struct batch *b = xcalloc(1, sizeof *b);
    b->run = run;
    snprintf(b->entry, sizeof b->entry, "%s", id);
    char suffix[24];
    snprintf(suffix, sizeof suffix, ":b:%s", n);
    broadcast_key(b->key, sizeof b->key, run->id, suffix);
    b->next = run->batches;
    run->batches = b;
    if (command(w, on_members, b, "SMEMBERS %s", b->key) == 0) {
        b->pending++;
    } else {
        b->loaded = true;
        b->broken = true;
    }
}

/* ===== Reading the stream ===== */

/* XREADGROUP reply: [[stream, [entry...]]] or nil. */
static const redisReply *read_entries(const redisReply *r)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1)
        return NULL;
    const redisReply *stream = r->element[0];
    if (stream->type != REDIS_REPLY_ARRAY || stream->elements != 2 ||
        stream->element[1]->type != REDIS_REPLY_ARRAY)
        return NULL;
    return stream->element[1];
}

/* XAUTOCLAIM reply: [next, [entry...], [deleted...]]. */
static const redisReply *claim_entries(const redisReply *r)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 || r->element[1]->type != REDIS_REPLY_ARRAY)
        return NULL;
    return r->element[1];
}

static void next_phase(struct run *run, size_t got, const char *last, uint64_t now)
{
    switch (run->phase) {
    case READ_OWN:
        /* Pending entries of this consumer name, left by an earlier process. */
        if (got && last)
            snprintf(run->own_cursor, sizeof run->own_cursor, "%s", last);
        else
            run->phase = READ_NEW;
        break;
    case READ_NEW:
        if (!got)
            run->phase = READ_CLAIM;
        break;
    case READ_CLAIM:
        run->phase = READ_NEW;
        if (!got)
            run->next_read_ms = now + IDLE_READ_MS;
        break;
    }
}

static void on_read(redisReply *reply, void *ud)
{
    struct run *run = ud;
    struct broadcast_worker *w = run->w;
    w->busy--;
    run->pending--;
    run->reading = false;
    if (w->stopping || run->state != RUN_ACTIVE) {
        sweep(w);
        return;
    }
    uint64_t now = uv_now(w->loop);
    if (store_reply_failed(reply)) {
        if (reply)
            log_store_error("broadcast stream not read", reply); /* NOGROUP once cancelled */
        run->next_read_ms = now + IDLE_READ_MS;
        settle(w);
        return;
    }
    const redisReply *entries = run->phase == READ_CLAIM ? claim_entries(reply) : read_entries(reply);
    size_t got = entries ? entries->elements : 0;
    for (size_t i = 0; i < got; i++)
        batch_add(run, entries->element[i]);
    next_phase(run, got, got ? entry_id(entries->element[got - 1]) : NULL, now);
    settle(w);
}

static void run_read(struct run *run)
{
    struct broadcast_worker *w = run->w;
    char qkey[BROADCAST_KEY_MAX], idle[16];
    broadcast_key(qkey, sizeof qkey, run->id, ":q");
    int rc;
    if (run->phase == READ_CLAIM) {
        snprintf(idle, sizeof idle, "%u", w->cfg->broadcast_claim_ms);
        rc = command(w, on_read, run, "XAUTOCLAIM %s %s %s %s 0-0 COUNT 1", qkey, BROADCAST_GROUP,
                     w->consumer, idle);
    } else {
        rc = command(w, on_read, run, "XREADGROUP GROUP %s %s COUNT 1 STREAMS %s %s", BROADCAST_GROUP,
                     w->consumer, qkey, run->phase == READ_OWN ? run->own_cursor : ">");
    }
    if (rc == 0) {
        run->pending++;
        run->reading = true;
    }
}

/* ===== Pump: start what the channels have room for ===== */

static void pump_run(struct broadcast_worker *w, struct run *run, uint64_t now)
{
    size_t held = 0;
    bool waiting = false; /* members that could not start yet */
    for (struct batch *b = run->batches; b; b = b->next) {
        held++;
        if (!b->loaded || b->broken)
            continue;
        while (b->pos < b->n && start_next(w, b))
            ;
        if (b->pos < b->n)
            waiting = true;
    }
    if (!waiting && !run->reading && held < HELD_BATCHES_MAX && now >= run->next_read_ms)
        run_read(run);
}

static void pump(struct broadcast_worker *w)
{
    if (w->stopping || !store_connected(w->store))
        return;
    uint64_t now = uv_now(w->loop);
    for (struct run *run = w->runs; run; run = run->next)
        if (run->state == RUN_ACTIVE)
            pump_run(w, run, now);
}

/* ===== Which broadcasts are due ===== */

/* reply: broadcast_start {status, text, buttons} */
static void on_started(redisReply *reply, void *ud)
{
    struct run *run = ud;
    struct broadcast_worker *w = run->w;
    w->busy--;
    run->pending--;
    const char *status = NULL;
    if (w->stopping || run->state != RUN_LOADING) {
        /* listed no more, or shutting down */
    } else if (store_reply_failed(reply) || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) {
        log_store_error("broadcast not started", reply);
        run->state = RUN_GONE;
    } else if (!(status = store_reply_str(reply->element[0])) || strcmp(status, "running") != 0) {
        /* Done, cancelled or expired: forget it. Still being resolved: the
         * next listing tries again. */
        if (!status || strcmp(status, "resolving") != 0)
            forget_active(w, run->id);
        run->state = RUN_GONE;
    } else {
        if (broadcast_reply_from_record(store_reply_str(reply->element[1]), store_reply_str(reply->element[2]),
                                        &run->reply) != 0)
            log_fmt(LOG_WARN, "broadcast buttons unreadable, sending the text only", "\"id\":%s",
                    log_q(run->id));
        run->state = RUN_ACTIVE;
        log_fmt(LOG_INFO, "broadcast running", "\"id\":%s,\"consumer\":%s", log_q(run->id),
                log_q(w->consumer));
    }
    settle(w);
}

static struct run *run_find(struct broadcast_worker *w, const char *id)
{
    for (struct run *run = w->runs; run; run = run->next)
        if (run->state != RUN_GONE && strcmp(run->id, id) == 0)
            return run;
    return NULL;
}

static void run_start(struct broadcast_worker *w, const char *id)
{
    struct run *run = xcalloc(1, sizeof *run);
    run->w = w;
    run->state = RUN_LOADING;
    run->phase = READ_OWN;
    run->listed = true;
    snprintf(run->id, sizeof run->id, "%s", id);
    snprintf(run->own_cursor, sizeof run->own_cursor, "0");
    run->next = w->runs;
    w->runs = run;
    char key[BROADCAST_KEY_MAX], now[24];
    broadcast_key(key, sizeof key, id, "");
    snprintf(now, sizeof now, "%lld", (long long)clock_now());
    if (command(w, on_started, run, "FCALL broadcast_start 1 %s %s", key, now) == 0)
        run->pending++;
    else
        run->state = RUN_GONE;
}

/* reply: ZRANGEBYSCORE bc:active -inf <now> */
static void on_active(redisReply *reply, void *ud)
{
    struct broadcast_worker *w = ud;
    w->busy--;
    w->refreshing = false;
    w->next_refresh_ms = uv_now(w->loop) + REFRESH_MS;
    if (w->stopping || store_reply_failed(reply) || reply->type != REDIS_REPLY_ARRAY)
        return;
    for (struct run *run = w->runs; run; run = run->next)
        run->listed = false;
    for (size_t i = 0; i < reply->elements; i++) {
        const char *id = store_reply_str(reply->element[i]);
        if (!id || !broadcast_id_valid(id))
            continue;
        struct run *run = run_find(w, id);
        if (run)
            run->listed = true;
        else
            run_start(w, id);
    }
    /* Done or cancelled (here or by another process): stop sending. */
    for (struct run *run = w->runs; run; run = run->next)
        if (!run->listed)
            run->state = RUN_GONE;
    settle(w);
}

static void refresh(struct broadcast_worker *w, int64_t unix_now)
{
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)unix_now);
    if (command(w, on_active, w, "ZRANGEBYSCORE bc:active -inf %s LIMIT 0 %d", now, RUNS_MAX) == 0)
        w->refreshing = true;
}

void broadcast_worker_tick(struct broadcast_worker *w, int64_t now)
{
    if (w->stopping || !store_connected(w->store))
        return;
    if (!w->refreshing && uv_now(w->loop) >= w->next_refresh_ms)
        refresh(w, now);
    settle(w);
}

/* ===== Public API ===== */

static void consumer_name(struct broadcast_worker *w)
{
    config_worker_name(w->cfg, w->consumer, sizeof w->consumer);
}

struct broadcast_worker *broadcast_worker_new(uv_loop_t *loop, const struct config *cfg,
                                              struct store *store, struct outbox *ob,
                                              struct recipients *recipients)
{
    struct broadcast_worker *w = xcalloc(1, sizeof *w);
    w->loop = loop;
    w->cfg = cfg;
    w->store = store;
    w->ob = ob;
    w->recipients = recipients;
    consumer_name(w);
    metrics_declare("dvcbot_broadcast_messages_total", METRIC_COUNTER,
                    "Broadcast messages by channel and result (sent, failed, blocked, skipped).",
                    NULL, 0);
    metrics_declare("dvcbot_broadcast_runs", METRIC_GAUGE,
                    "Broadcasts this process holds work of (running, or finishing sends).", NULL, 0);
    return w;
}

void broadcast_worker_wake(struct broadcast_worker *w)
{
    w->next_refresh_ms = 0;
}

void broadcast_worker_stop(struct broadcast_worker *w)
{
    w->stopping = true;
}

bool broadcast_worker_busy(const struct broadcast_worker *w)
{
    return w->busy > 0;
}

void broadcast_worker_update_metrics(const struct broadcast_worker *w)
{
    size_t n = 0;
    for (const struct run *run = w->runs; run; run = run->next)
        n++;
    metrics_set("dvcbot_broadcast_runs", "", (double)n);
}

void broadcast_worker_close(struct broadcast_worker *w)
{
    if (!w)
        return;
    broadcast_worker_stop(w);
    if (w->busy)
        log_fmt(LOG_WARN, "broadcast worker closed with work in flight", "\"busy\":%zu", w->busy);
    while (w->runs) {
        struct run *run = w->runs;
        w->runs = run->next;
        run_free(run);
    }
    free(w);
}
