/* dialog — per-user ordering, dedupe + session in Redis, saving; routing is
 * dialog_route.c. */
#include "dvcbot/dialog.h"
#include "dvcbot/dialog_internal.h"
#include "dvcbot/clock.h"
#include "dvcbot/fcall_group.h"
#include "dvcbot/json_print.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/metrics.h"
#include "dvcbot/outbox_entry.h"
#include "dvcbot/store_fire.h"
#include "dvcbot/strfmt.h"
#include "dvcbot/strmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One round trip per loop turn (dialog_mark + MGET, send_load): marks the event id
 * in the user's index dd:{<user>} (returning the mark that was there: a
 * redelivered event is dropped), refreshes the user record and loads the
 * session. The loads of several users share one call: one Redis, not
 * Cluster (as outbox_store). A stored turn (dialog_handle_stored) marks its
 * event OUTBOX_MARK_IN_HAND for a short while; its commit marks it
 * OUTBOX_MARK_DONE for the dedupe TTL, so an event whose turn died before
 * its commit is handled again once the mark is stale, and a redelivery that
 * meets the mark meanwhile is refused for now (the channel sends it again
 * later). Every DEDUPE_TRIM_EVERY-th load also drops the index's marks
 * older than the dedupe TTL (redis/dvcbot.lua, "Event marks"). */
#define DEDUPE_IN_HAND "p"       /* the mark dialog_mark returns for one in hand */
#define DEDUPE_IN_HAND_TTL_S 60
#define DEDUPE_TRIM_EVERY 16
/* dialog_mark_idx's keys (the user's index and record: the function makes
 * the others from the index's name when it needs them, library 23), the
 * arguments shared by the loads of a loop turn (sent once:
 * fcall_group_share), and keys + arguments (redis/dvcbot.lua). */
#define LOAD_KEYS 2
#define LOAD_SHARED 6
#define LOAD_ARGS 15

struct user_queue {
    struct dialog_turn *head, *tail;
    size_t len;
};

static void turn_start(struct dialog_turn *t);
static void turn_free(struct dialog_turn *t);
static void on_loaded(redisReply *r, void *ud);
static int send_load(struct dialog_turn *t);
static void read_sessions(void *ud);
static void read_sessions_dropped(void *ud);

/* ===== Set-up ===== */

struct dialog *dialog_new(const struct dialog_deps *deps)
{
    struct dialog *d = xcalloc(1, sizeof *d);
    d->deps = *deps;
    d->loads = fcall_group_new(deps->store, "dialog_mark_idx", "dialog_mark_many_idx", LOAD_KEYS, LOAD_ARGS, 0);
    fcall_group_share(d->loads, LOAD_SHARED);
    d->read_sessions = (struct store_deferred){.fn = read_sessions, .dropped = read_sessions_dropped, .ud = d};
    strmap_init(&d->users);
    strmap_init(&d->intents);
    strmap_init(&d->modes);
    static const double secs[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
    metrics_declare("dvcbot_handle_seconds", METRIC_HISTOGRAM,
                    "Time from a message's arrival to its replies being ready.", secs, 12);
    metrics_declare("dvcbot_messages_total", METRIC_COUNTER, "Messages handled, by channel.", NULL, 0);
    metrics_declare("dvcbot_intents_total", METRIC_COUNTER, "Typed messages by matched intent.", NULL, 0);
    metrics_declare("dvcbot_duplicates_total", METRIC_COUNTER, "Redelivered events dropped.", NULL, 0);
    metrics_declare("dvcbot_handed_again_total", METRIC_COUNTER,
                    "Redelivered events whose kept reply was handed over again (dialog_handle_handed).",
                    NULL, 0);
    metrics_declare("dvcbot_dropped_messages_total", METRIC_COUNTER,
                    "Messages dropped because one user had too many waiting.", NULL, 0);
    metrics_declare("dvcbot_degraded_turns_total", METRIC_COUNTER,
                    "Messages answered without Redis.", NULL, 0);
    return d;
}

static void free_handler_map(struct strmap *m)
{
    size_t pos = 0;
    const char *key;
    void *value;
    while (strmap_next(m, &pos, &key, &value)) {
        struct handler *h = value;
        free(h->key);
        free(h);
    }
    strmap_free(m);
}

void dialog_free(struct dialog *d)
{
    if (!d)
        return;
    free_handler_map(&d->intents);
    free_handler_map(&d->modes);
    for (size_t i = 0; i < d->n_payloads; i++)
        free(d->payloads[i].key);
    free(d->payloads);
    free(d->filters);
    free(d->observers);
    fcall_group_free(d->loads);
    free(d->reading);
    free(d->readers);
    strmap_free(&d->users);
    free(d);
}

const struct dialog_deps *dialog_deps(const struct dialog *d)
{
    return &d->deps;
}

size_t dialog_pending(const struct dialog *d)
{
    return d->pending;
}

bool dialog_full(const struct dialog *d)
{
    return d->pending + outbox_backlog(d->deps.outbox) >= d->deps.cfg->max_backlog;
}

static struct handler *handler_new(const char *key, dialog_action_fn a, dialog_mode_fn m, void *ud)
{
    struct handler *h = xcalloc(1, sizeof *h);
    h->key = xstrdup(key);
    h->action = a;
    h->mode = m;
    h->ud = ud;
    return h;
}

static void put_handler(struct strmap *m, struct handler *h)
{
    struct handler *old = strmap_put(m, h->key, h);
    if (old) {
        free(old->key);
        free(old);
    }
}

void dialog_on_intent(struct dialog *d, const char *intent_id, dialog_action_fn fn, void *ud)
{
    put_handler(&d->intents, handler_new(intent_id, fn, NULL, ud));
}

void dialog_on_mode(struct dialog *d, const char *mode, dialog_mode_fn fn, void *ud)
{
    put_handler(&d->modes, handler_new(mode, NULL, fn, ud));
}

void dialog_on_payload(struct dialog *d, const char *prefix, dialog_action_fn fn, void *ud)
{
    d->payloads = xrealloc(d->payloads, (d->n_payloads + 1) * sizeof *d->payloads);
    struct handler *h = &d->payloads[d->n_payloads++];
    h->key = xstrdup(prefix);
    h->action = fn;
    h->mode = NULL;
    h->observe = NULL;
    h->ud = ud;
}

void dialog_on_message(struct dialog *d, dialog_mode_fn fn, void *ud)
{
    d->filters = xrealloc(d->filters, (d->n_filters + 1) * sizeof *d->filters);
    d->filters[d->n_filters++] = (struct handler){.key = NULL, .action = NULL, .mode = fn, .ud = ud};
}

void dialog_on_text(struct dialog *d, dialog_mode_fn fn, void *ud)
{
    d->readers = xrealloc(d->readers, (d->n_readers + 1) * sizeof *d->readers);
    d->readers[d->n_readers++] = (struct handler){.key = NULL, .mode = fn, .ud = ud};
}

void dialog_on_matched(struct dialog *d, dialog_observe_fn fn, void *ud)
{
    d->observers = xrealloc(d->observers, (d->n_observers + 1) * sizeof *d->observers);
    d->observers[d->n_observers++] = (struct handler){.key = NULL, .observe = fn, .ud = ud};
}

void dialog_user_redis_key(char *out, size_t len, const char *prefix, const char *user_key,
                           const char *suffix)
{
    STR_CAT(out, len, prefix, "{", user_key, "}", suffix);
}

/* ===== Per-user queues ===== */

static void turn_answer(struct dialog_turn *t);

static int handle(struct dialog *d, struct bot_msg *msg, dialog_reply_cb cb, dialog_stored_cb scb,
                  const struct dialog_hand *hand, const char *quote_ref, void *ud)
{
    struct dialog_turn *t = xcalloc(1, sizeof *t);
    t->in = xcalloc(1, sizeof *t->in);
    t->dialog = d;
    t->deps = &d->deps;
    t->msg = msg;
    t->in->cb = cb;
    t->in->stored_cb = scb;
    t->in->hand = hand;
    t->in->outcome = DIALOG_IN_MEMORY;
    if (quote_ref)
        STR_CAT(t->in->quote, sizeof t->in->quote, quote_ref);
    t->in->ud = ud;
    t->in->start_ns = uv_hrtime();
    bot_replies_init(&t->replies);
    bot_msg_user_key(msg, t->user_key, sizeof t->user_key);
    d->pending++;
    char labels[48];
    STR_CAT(labels, sizeof labels, "channel=\"", bot_channel_name(msg->channel), "\"");
    metrics_inc("dvcbot_messages_total", labels, 1);

    struct user_queue *q = strmap_get(&d->users, t->user_key);
    if (q && q->len >= DIALOG_USER_QUEUE_MAX) {
        /* One user flooding: answer nothing rather than grow without bound. */
        metrics_inc("dvcbot_dropped_messages_total", labels, 1);
        t->in->outcome = DIALOG_REFUSED;
        turn_answer(t);
        turn_free(t);
        d->pending--;
        return 0;
    }
    if (q) {
        q->tail->in->next = t;
        q->tail = t;
        q->len++;
        return 0;
    }
    q = xcalloc(1, sizeof *q);
    q->head = q->tail = t;
    q->len = 1;
    strmap_put(&d->users, t->user_key, q);
    turn_start(t);
    return 0;
}

int dialog_handle(struct dialog *d, struct bot_msg *msg, dialog_reply_cb cb, void *ud)
{
    return handle(d, msg, cb, NULL, NULL, NULL, ud);
}

int dialog_handle_stored(struct dialog *d, struct bot_msg *msg, const char *quote_ref,
                         dialog_stored_cb cb, void *ud)
{
    return handle(d, msg, NULL, cb, NULL, quote_ref, ud);
}

int dialog_handle_handed(struct dialog *d, struct bot_msg *msg, const struct dialog_hand *h, void *ud)
{
    return handle(d, msg, NULL, NULL, h, NULL, ud);
}

/* The turn's replies are stored (dialog_handle_stored, dialog_handle_handed). */
static bool stored_turn(const struct dialog_turn *t)
{
    return t->in->stored_cb || t->in->hand;
}

/* Replies that could not be stored go out from memory. */
static void queue_in_memory(struct dialog_turn *t)
{
    const struct bot_msg *m = t->msg;
    for (size_t i = 0; i < t->replies.n; i++)
        if (outbox_send(t->deps->outbox, m->channel, m->chat, &t->replies.items[i],
                        t->in->quote[0] ? t->in->quote : NULL, OUTBOX_REPLY, NULL, NULL) != 0)
            log_msg(LOG_INFO, "reply not queued: chat blocked or channel off");
}

/* Tells the channel: the replies themselves, or (stored turns) where they went. */
static void turn_answer(struct dialog_turn *t)
{
    if (!stored_turn(t)) {
        t->in->cb(t->msg, &t->replies, t->in->ud);
        return;
    }
    if (t->in->outcome == DIALOG_IN_MEMORY)
        queue_in_memory(t);
    if (t->in->hand)
        t->in->hand->done(t->msg, t->in->outcome, t->in->handed, t->in->ud);
    else
        t->in->stored_cb(t->msg, t->in->outcome, t->in->ud);
}

static void turn_free(struct dialog_turn *t)
{
    cJSON_Delete(t->session);
    free(t->line);
    bot_replies_free(&t->replies);
    bot_msg_free(t->msg);
    free(t->in->loaded);
    free(t->in->session_json);
    free(t->in);
    free(t);
}

/* Delivers the replies, frees the turn and starts the user's next message. */
static void turn_finish(struct dialog_turn *t)
{
    struct dialog *d = t->dialog;
    double secs = (double)(uv_hrtime() - t->in->start_ns) / 1e9;
    metrics_observe("dvcbot_handle_seconds", "", secs);
    if (t->degraded && t->replies.n && !t->in->said_busy)
        dialog_turn_render(t, "degraded_note", NULL, 0); /* say so, politely */
    turn_answer(t);

    struct user_queue *q = strmap_get(&d->users, t->user_key);
    struct dialog_turn *next = t->in->next;
    if (next) {
        q->head = next;
        q->len--;
    } else {
        strmap_del(&d->users, t->user_key);
        free(q);
    }
    turn_free(t);
    d->pending--;
    if (next)
        turn_start(next);
}

/* ===== Loading ===== */

static void session_adopt(struct dialog_turn *t, const char *json, size_t len)
{
    cJSON *s = json ? cJSON_ParseWithLength(json, len) : NULL;
    if (json && !cJSON_IsObject(s)) {
        log_msg(LOG_WARN, "session unreadable, starting fresh");
        cJSON_Delete(s);
        s = NULL;
    }
    if (s)
        t->in->loaded = xstrndup(json, len);
    t->session = s ? s : cJSON_CreateObject();
}

/* A web chat page load (/start) stores nothing: ids cost nothing there. */
static bool page_load(const struct dialog_turn *t)
{
    return t->msg->channel == BOT_CH_WEBCHAT && dialog_is_start(t->msg);
}

static bool dedupes(const struct dialog_turn *t)
{
    return t->msg->event_id[0] != '\0' && !page_load(t);
}

/* ===== Handed replies (dialog.h) ===== */

static void on_kept(redisReply *r, void *ud)
{
    struct dialog_turn *t = ud;
    if (r && r->type == REDIS_REPLY_STRING) {
        t->in->handed = outbox_entry_kept(&t->replies, r->str, r->len);
        if (!t->in->handed)
            log_msg(LOG_WARN, "kept reply unreadable");
        else
            metrics_inc("dvcbot_handed_again_total", "", 1);
    } else if (store_reply_failed(r)) {
        log_fmt(LOG_ERROR, "kept reply not read", "\"error\":%s", log_q(store_reply_error(r)));
    }
    turn_finish(t);
}

/* A redelivered event: its reply kept for the response, if it was, is
 * handed over again. Returns false (nothing asked) without Redis. */
static bool read_kept(struct dialog_turn *t)
{
    char key[sizeof t->in->dedupe_key + sizeof OUTBOX_KEPT_SUFFIX];
    STR_CAT(key, sizeof key, t->in->dedupe_key, OUTBOX_KEPT_SUFFIX);
    const char *argv[] = {"GET", key};
    return store_command_argv(t->deps->store, on_kept, t, 2, argv, NULL) == 0;
}

/* Both replies of the load are in (load_waiting 0): the mark (on_loaded)
 * and the session (on_sessions, adopted there). */
static void load_step(struct dialog_turn *t)
{
    if (--t->in->load_waiting > 0)
        return;
    if (t->in->duplicate) {
        metrics_inc("dvcbot_duplicates_total", "", 1);
        if (t->in->hand && t->in->outcome == DIALOG_DUPLICATE && read_kept(t))
            return;
        turn_finish(t);
        return;
    }
    if (t->degraded || !t->session) { /* a load that failed: no session (as when it was one call) */
        cJSON_Delete(t->session);
        t->session = NULL;
        free(t->in->loaded);
        t->in->loaded = NULL;
        session_adopt(t, NULL, 0);
    }
    dialog_route_turn(t);
}

static void on_loaded(redisReply *r, void *ud)
{
    struct dialog_turn *t = ud;
    /* dialog_mark: {the mark found or nil} */
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 1) {
        log_fmt(LOG_ERROR, "session load failed", "\"error\":%s", log_q(store_reply_error(r)));
        t->degraded = true;
    } else {
        const redisReply *mark = dedupes(t) ? r->element[0] : NULL;
        if (mark && mark->type == REDIS_REPLY_STRING) {
            t->in->duplicate = true;
            t->in->outcome = strcmp(mark->str, DEDUPE_IN_HAND) == 0 ? DIALOG_IN_HAND : DIALOG_DUPLICATE;
        }
    }
    load_step(t);
}

/* One MGET's turns, in the order of its keys. */
struct session_read {
    size_t n;
    struct dialog_turn *t[];
};

/* The MGET of the sessions: each turn's element (a string, or nil: no
 * session); NULL or an error fails each of its loads. */
static void on_sessions(redisReply *r, void *ud)
{
    struct session_read *b = ud;
    bool ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == b->n;
    if (!ok)
        log_fmt(LOG_ERROR, "session load failed", "\"error\":%s", log_q(store_reply_error(r)));
    for (size_t i = 0; i < b->n; i++) {
        struct dialog_turn *t = b->t[i];
        if (!ok) {
            t->degraded = true;
        } else if (!t->in->duplicate && !t->degraded && !t->session) {
            const redisReply *sess = r->element[i];
            if (sess->type == REDIS_REPLY_STRING)
                session_adopt(t, sess->str, sess->len);
            else
                session_adopt(t, NULL, 0);
        }
        load_step(t);
    }
    free(b);
}

/* store_defer, queued before the loads' group (LIFO: runs after it, so the
 * MGET follows their FCALLs in the same write): the sessions of this loop
 * turn's loads in one plain command (redis/dvcbot.lua, dialog_mark: a plain
 * read costs Redis less than a GET inside the function). */
static void read_sessions(void *ud)
{
    struct dialog *d = ud;
    while (d->n_reading > 0) {
        size_t n = d->n_reading;
        struct session_read *b = xmalloc(sizeof *b + n * sizeof b->t[0]);
        const char **argv = xmalloc((n + 1) * sizeof *argv);
        b->n = n;
        argv[0] = "MGET";
        for (size_t i = 0; i < n; i++) {
            b->t[i] = d->reading[i];
            argv[i + 1] = b->t[i]->in->skey;
        }
        d->n_reading = 0; /* a failure's callbacks may queue more: the loop sends them */
        int rc = store_command_argv(d->deps.store, on_sessions, b, (int)n + 1, argv, NULL);
        free(argv);
        if (rc != 0)
            on_sessions(NULL, b);
    }
}

/* store_close before the MGET went out: each of its loads fails. */
static void read_sessions_dropped(void *ud)
{
    struct dialog *d = ud;
    while (d->n_reading > 0) {
        size_t n = d->n_reading;
        struct session_read *b = xmalloc(sizeof *b + n * sizeof b->t[0]);
        b->n = n;
        memcpy(b->t, d->reading, n * sizeof b->t[0]);
        d->n_reading = 0;
        on_sessions(NULL, b);
    }
}

/* A user who writes again has unblocked the bot. */
static void unblock_if_needed(struct dialog_turn *t)
{
    const struct bot_msg *m = t->msg;
    if (!outbox_is_blocked(t->deps->outbox, m->channel, m->chat))
        return;
    outbox_mark_blocked(t->deps->outbox, m->channel, m->chat, false);
    char key[48];
    snprintf(key, sizeof key, "blocked:%s", bot_channel_name(m->channel));
    store_fire(t->deps->store, "unblock", "SREM %s %s", key, m->chat);
}

/* How the load renews the user's TTLs (redis/dvcbot.lua, "A user's TTLs"):
 * "0" not at all (a web chat page load), "2" every time, leaving the record
 * due again (an event without id; a chat that is not the user's own, e.g. a
 * staff group), else "1" when due. */
static const char *renewal(const struct dialog_turn *t)
{
    if (page_load(t))
        return "0";
    return !dedupes(t) || strcmp(t->msg->chat, t->msg->user) != 0 ? "2" : "1";
}

/* Marks the event (when it has an id) in the user's index dd:{user} (a
 * sorted set that erase-my-data deletes), renews the user's TTLs when due
 * in one call of the function dialog_mark_idx (one command and one reply: a
 * MULTI of seven commands cost dvcbot some 20 000 instructions more per
 * message, in hiredis and our own records), then reads the session with a
 * plain MGET sent right after it (read_sessions: a GET inside the function
 * cost Redis more). The loads of one loop turn share one call,
 * dialog_mark_many_idx (fcall_group.h), and one MGET: each command costs
 * Redis some microseconds of its own.
 * That keeps a user's order: a user's next load is only made once the
 * previous turn has finished, its writes answered. A web chat page load
 * only reads the session. */
static int send_load(struct dialog_turn *t)
{
    char ukey[128], xkey[128], ttl[16], now[24], uttl[16], sttl[16];
    char old[24], mark[24], live[24], renew[16];
    const struct config *cfg = t->deps->cfg;
    long long at = (long long)clock_now();
    const char *mode = renewal(t);
    char core[DIALOG_USER_KEY_MAX + 2]; /* "{<user>}" once for the keys dialog_user_redis_key makes */
    size_t clen = STR_CAT(core, sizeof core, "{", t->user_key, "}");
    str_concat2(t->in->skey, sizeof t->in->skey, "s:", 2, core, clen);
    str_concat2(ukey, sizeof ukey, "u:", 2, core, clen);
    str_concat2(xkey, sizeof xkey, "dd:", 3, core, clen);
    size_t dlen = str_concat2(t->in->dedupe_key, sizeof t->in->dedupe_key, "dd:", 3, core, clen);
    STR_CAT(t->in->dedupe_key + dlen, sizeof t->in->dedupe_key - dlen, ":", t->msg->event_id);
    str_udecimal(ttl, sizeof ttl, cfg->dedupe_ttl_s + DIALOG_TTL_RENEW_S);
    str_decimal(now, sizeof now, at);
    str_udecimal(uttl, sizeof uttl, cfg->user_ttl_s + DIALOG_TTL_RENEW_S);
    str_udecimal(sttl, sizeof sttl, cfg->session_ttl_s + DIALOG_TTL_RENEW_S);
    str_udecimal(renew, sizeof renew, DIALOG_TTL_RENEW_S);
    old[0] = '\0';
    if (dedupes(t) && ++t->dialog->n_loads % DEDUPE_TRIM_EVERY == 0)
        str_decimal(old, sizeof old, at - (long long)cfg->dedupe_ttl_s);
    bool stored = stored_turn(t);
    str_decimal(mark, sizeof mark, OUTBOX_MARK_SCORE(at, stored ? OUTBOX_MARK_IN_HAND : OUTBOX_MARK_DONE));
    str_decimal(live, sizeof live, OUTBOX_MARK_SCORE(at - DEDUPE_IN_HAND_TTL_S, OUTBOX_MARK_IN_HAND));
    const char *args[LOAD_ARGS] = {
        xkey, ukey,
        live, now, ttl, uttl, sttl, renew,
        dedupes(t) ? "1" : "0", mark, t->msg->event_id, old, mode, bot_channel_name(t->msg->channel), t->msg->chat,
    };
    struct dialog *d = t->dialog;
    store_defer(d->deps.store, &d->read_sessions); /* before the group's: runs after it */
    int rc = fcall_group_call(d->loads, args, on_loaded, t);
    if (rc != 0)
        return rc;
    t->in->load_waiting = 2;
    d->reading = xreserve(d->reading, &d->cap_reading, d->n_reading + 1, sizeof *d->reading, 16);
    d->reading[d->n_reading++] = t;
    return 0;
}

static void turn_start(struct dialog_turn *t)
{
    unblock_if_needed(t);
    if (send_load(t) != 0) {
        t->degraded = true;
        session_adopt(t, NULL, 0);
        dialog_route_turn(t);
    }
}

/* ===== Saving ===== */

static void on_saved(redisReply *r, void *ud)
{
    struct dialog_turn *t = ud;
    if (!r || r->type == REDIS_REPLY_ERROR)
        log_msg(LOG_ERROR, "session save failed");
    turn_finish(t);
}

/* What the turn does to the session: nothing (unchanged), delete, or set
 * *json (caller frees). */
static enum outbox_session_op session_change(struct dialog_turn *t, char **json)
{
    *json = NULL;
    if (t->erase_session)
        return OUTBOX_SESSION_DEL;
    char *s = json_print(t->session); /* cJSON_PrintUnformatted's text, the loaded one compared */
    if (!s || (t->in->loaded && strcmp(s, t->in->loaded) == 0) || (!t->in->loaded && strcmp(s, "{}") == 0)) {
        free(s);
        return OUTBOX_SESSION_KEEP;
    }
    *json = s;
    return OUTBOX_SESSION_SET;
}

static void on_committed(enum outbox_commit_result r, void *ud)
{
    struct dialog_turn *t = ud;
    if (r == OUTBOX_COMMIT_STORED || r == OUTBOX_COMMIT_KEPT) {
        t->in->outcome = DIALOG_STORED;
        if (r == OUTBOX_COMMIT_KEPT)
            t->in->handed = &t->replies.items[0];
    } else {
        log_msg(LOG_ERROR, "turn not stored, replies kept in memory");
    }
    turn_finish(t);
}

/* A stored turn: session, event id and replies in one script. Returns
 * false when it cannot be sent (the turn then goes on in memory). */
static bool commit_turn(struct dialog_turn *t, enum outbox_session_op op, char *json, const char *skey)
{
    const struct bot_msg *m = t->msg;
    struct outbox_store *os = t->deps->obstore;
    if (!os || !outbox_store_enabled(os, m->channel)) {
        free(json);
        return false;
    }
    t->in->session_json = json;
    t->in->commit = (struct outbox_commit){
        .channel = m->channel, .user_key = t->user_key, .chat = m->chat,
        .reply_ref = t->in->quote[0] ? t->in->quote : NULL, .replies = &t->replies,
        .dedupe_key = m->event_id[0] ? t->in->dedupe_key : NULL,
        /* An erasure leaves no key naming the user (erasing twice is harmless). */
        .forget_event = t->erase_session,
        .session_key = skey, .session_op = op,
        .session_json = json, .session_ttl_s = t->deps->cfg->session_ttl_s + DIALOG_TTL_RENEW_S,
    };
    const struct dialog_hand *h = t->in->hand;
    if (h && !t->erase_session && t->replies.n && h->may(m, &t->replies, t->in->ud))
        t->in->commit.keep_first_s = h->keep_s;
    return outbox_store_commit(os, &t->in->commit, on_committed, t) == 0;
}

/* The buttons of this answer, in order, while no mode runs: a number typed
 * next presses one (dialog_route.c). Rides in the session write of the
 * turn's commit (no Redis call of its own), and only in a session kept for
 * something else or under the greeting and the main menu ("2" right after
 * "xin chào" is Tra cứu hồ sơ): a one-off question or a web chat page load
 * still stores nothing. */
static void remember_buttons(struct dialog_turn *t)
{
    cJSON_DeleteItemFromObjectCaseSensitive(t->session, DIALOG_BUTTONS_KEY);
    if (t->erase_session || (dialog_turn_mode(t) && !t->in->keep_buttons) ||
        (!t->session->child && !t->in->menu_shown))
        return;
    cJSON *kept = NULL;
    size_t n = 0;
    for (size_t i = 0; i < t->replies.n; i++) {
        const struct bot_reply *r = &t->replies.items[i];
        for (size_t b = 0; b < r->n_buttons && n < DIALOG_BUTTONS_KEPT; b++, n++) {
            if (!kept)
                kept = cJSON_AddArrayToObject(t->session, DIALOG_BUTTONS_KEY);
            cJSON_AddItemToArray(kept, cJSON_CreateString(r->buttons[b].payload));
        }
    }
}

void dialog_turn_done(struct dialog_turn *t)
{
    if (t->in->done) {
        log_msg(LOG_ERROR, "dialog turn finished twice");
        return;
    }
    t->in->done = true;
    if (t->degraded) {
        metrics_inc("dvcbot_degraded_turns_total", "", 1);
        turn_finish(t);
        return;
    }
    remember_buttons(t);
    const char *skey = t->in->skey;
    if (!skey[0]) /* send_load made it, or the turn never loaded */
        dialog_user_redis_key(t->in->skey, sizeof t->in->skey, "s:", t->user_key, NULL);
    char *json;
    enum outbox_session_op op = session_change(t, &json);
    if (stored_turn(t)) {
        if (!commit_turn(t, op, json, t->in->skey)) {
            log_msg(LOG_WARN, "turn not stored: redis unavailable");
            turn_finish(t);
        }
        return;
    }
    int rc = 0;
    if (op == OUTBOX_SESSION_DEL)
        rc = store_command(t->deps->store, on_saved, t, "DEL %s", skey);
    else if (op == OUTBOX_SESSION_SET)
        rc = store_command(t->deps->store, on_saved, t, "SET %s %s EX %u", skey, json,
                           t->deps->cfg->session_ttl_s + DIALOG_TTL_RENEW_S);
    free(json);
    if (op == OUTBOX_SESSION_KEEP) {
        turn_finish(t);
        return;
    }
    if (rc != 0) {
        log_msg(LOG_WARN, "session not saved: redis unavailable");
        turn_finish(t);
    }
}

/* ===== Built-in replies ===== */

struct bot_reply *dialog_turn_render(struct dialog_turn *t, const char *name,
                                     const struct tpl_var *vars, size_t nvars)
{
    return tpl_render(t->deps->tpl, name, vars, nvars, &t->replies);
}

void dialog_reply_menu(struct dialog_turn *t)
{
    t->in->menu_shown = true;
    dialog_turn_render(t, "menu", NULL, 0);
}

void dialog_turn_keep_buttons(struct dialog_turn *t)
{
    t->in->keep_buttons = true;
}

void dialog_turn_greet(struct dialog_turn *t)
{
    t->in->menu_shown = !(t->msg->channel == BOT_CH_WEBCHAT && dialog_is_start(t->msg));
    dialog_turn_render(t, DIALOG_GREETING, NULL, 0);
}

void dialog_reply_busy_store(struct dialog_turn *t)
{
    t->in->said_busy = true;
    dialog_turn_render(t, "busy_store", NULL, 0);
}

void dialog_turn_reply(struct dialog_turn *t, const char *name, const struct tpl_var *vars,
                       size_t nvars)
{
    dialog_turn_render(t, name, vars, nvars);
    dialog_turn_done(t);
}

bool dialog_turn_refuse_degraded(struct dialog_turn *t)
{
    if (!t->degraded)
        return false;
    dialog_reply_busy_store(t);
    dialog_turn_done(t);
    return true;
}

const char *dialog_turn_mode(const struct dialog_turn *t)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(t->session, "mode");
    return cJSON_IsString(m) ? m->valuestring : NULL;
}

void dialog_turn_set_mode(struct dialog_turn *t, const char *mode)
{
    cJSON_DeleteItemFromObjectCaseSensitive(t->session, "mode");
    if (mode)
        cJSON_AddStringToObject(t->session, "mode", mode);
}
