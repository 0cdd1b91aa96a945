/* outbox_store — durable replies in Redis streams. The entry format and
 * outbox_commit's arguments are in outbox_entry.c, the failure record in
 * outbox_failed.c, reading back and claiming stored replies in
 * outbox_recover.c (struct outbox_store: outbox_store_internal.h). */
#include "dvcbot/outbox_store.h"
#include "dvcbot/outbox_store_internal.h"
#include "dvcbot/outbox_recover.h"
#include "dvcbot/outbox_entry.h"
#include "dvcbot/clock.h"
#include "dvcbot/fcall_group.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/metrics.h"
#include "dvcbot/redis_script.h"
#include "dvcbot/strfmt.h"
#include "dvcbot/strmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACK_BATCH 256

struct settle_batch {
    struct outbox_store *os;
    enum bot_channel ch;
    struct settle *items;
    size_t n;
};

struct commit_call {
    struct outbox_store *os;
    const struct outbox_commit *c;
    outbox_commit_cb cb;
    void *ud;
};

#define COMMIT_BATCH 64   /* commits written in one call at most */
#define COMMIT_ARGS_ON_STACK 32

static void flush_settles(void *ud);

/* This process's stream of the channel. */
void outbox_store_stream_key(const struct outbox_store *os, char *out, size_t len, enum bot_channel ch)
{
    outbox_entry_stream_key(out, len, ch, os->consumer);
}

/* ===== FCALL with any number of arguments ===== */

int outbox_store_run_script(struct outbox_store *os, const char *fn, int nkeys, size_t nargs,
                      const char *const *args, const size_t *lens, store_reply_cb cb, void *ud)
{
    int rc = redis_fcall(os->store, fn, cb, ud, nkeys, (int)nargs, args, lens);
    if (rc == 0)
        os->inflight++;
    return rc;
}

/* ===== Commit ===== */

/* The id outbox_commit gives a reply it kept instead of streaming
 * ("Handed replies"); a stream id is "<ms>-<seq>". */
static bool first_kept(const redisReply *id)
{
    return id->type == REDIS_REPLY_STRING && strcmp(id->str, "k") == 0;
}

/* fcall_group: one commit's answer, r being outbox_commit's reply ({1,
 * gated, first seq - 1, has seq, id...}) or NULL / an error when it did
 * not run. */
static void on_committed(redisReply *r, void *ud)
{
    struct commit_call *cc = ud;
    struct outbox_store *os = cc->os;
    const struct outbox_commit *c = cc->c;
    os->inflight--;
    enum outbox_commit_result res = OUTBOX_COMMIT_FAILED;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 4 + c->replies->n)
        res = OUTBOX_COMMIT_STORED;
    else
        log_fmt(LOG_ERROR, "outbox commit failed", "\"error\":%s", log_q(store_reply_error(r)));
    if (r && r->type == REDIS_REPLY_ARRAY && res == OUTBOX_COMMIT_FAILED) /* a reply not understood */
        outbox_ledger_distrust(&os->ch[c->channel].ledger);
    if (res == OUTBOX_COMMIT_STORED) {
        bool gated = r->element[1]->integer != 0, has = r->element[3]->integer != 0;
        uint64_t q = (uint64_t)r->element[2]->integer;
        size_t from = 0;
        if (c->keep_first_s && c->replies->n && first_kept(r->element[4])) {
            res = OUTBOX_COMMIT_KEPT; /* the caller hands it over */
            from = 1;
        }
        for (size_t i = from; i < c->replies->n; i++) {
            outbox_ledger_add(&os->ch[c->channel].ledger, r->element[4 + i]->str);
            struct outbox_stored st = {
                .id = r->element[4 + i]->str, .seq_key = has ? c->user_key : NULL,
                .seq = has ? q + i + 1 : 0, .gated = gated,
            };
            if (outbox_send_stored(os->ob, c->channel, c->chat, &c->replies->items[i], c->reply_ref, &st) != 0)
                outbox_store_settle_add(os, c->channel, st.id, st.seq_key, st.seq); /* blocked chat: nothing to send */
        }
    }
    if (cc->cb)
        cc->cb(res, cc->ud);
    free(cc);
    outbox_store_shutdown_maybe_done(os);
}

static bool trusted(const struct outbox_store *os)
{
    for (int c = 0; c < BOT_CH_COUNT; c++)
        if (os->ch[c].enabled && !os->ch[c].recovered)
            return false;
    return true;
}

/* Queues the commit in the group of the loop turn (fcall_group.h): its
 * arguments, trust included, are made now. */
int outbox_store_commit(struct outbox_store *os, const struct outbox_commit *c, outbox_commit_cb cb,
                        void *ud)
{
    if (os->closing || !os->ch[c->channel].enabled || !store_connected(os->store))
        return -1;
    size_t nargs = outbox_commit_nargs(c);
    const char *on_stack[COMMIT_ARGS_ON_STACK];
    const char **args = nargs <= COMMIT_ARGS_ON_STACK ? on_stack : xmalloc(nargs * sizeof *args);
    struct outbox_commit_args sc;
    outbox_commit_args_make(c, os->consumer, trusted(os), &sc, args);
    struct commit_call *cc = xmalloc(sizeof *cc);
    *cc = (struct commit_call){.os = os, .c = c, .cb = cb, .ud = ud};
    int rc = fcall_group_callv(os->commits, args, nargs, on_committed, cc);
    outbox_commit_args_free(&sc);
    if (args != on_stack)
        free(args);
    if (rc != 0) {
        free(cc);
        return -1;
    }
    os->inflight++;
    return 0;
}

/* ===== Settling ===== */

void outbox_store_settle_add(struct outbox_store *os, enum bot_channel ch, const char *id, const char *user,
                       uint64_t seq)
{
    struct channel_log *cl = &os->ch[ch];
    if (cl->n_settles == cl->cap_settles) {
        cl->cap_settles = cl->cap_settles ? cl->cap_settles * 2 : 64;
        cl->settles = xrealloc(cl->settles, cl->cap_settles * sizeof *cl->settles);
    }
    struct settle *s = &cl->settles[cl->n_settles++];
    s->sid_ok = outbox_stream_id_parse(id, &s->sid);
    if (s->sid_ok)
        outbox_ledger_settled_id(&cl->ledger, s->sid);
    STR_CAT(s->id, sizeof s->id, id);
    STR_CAT(s->user, sizeof s->user, user);
    s->seq = seq;
    char key[OUTBOX_STORED_ID_MAX + 8];
    STR_CAT(key, sizeof key, bot_channel_prefix(ch), ":", id);
    strmap_put(&os->settling, key, os);
    /* At the end of this loop turn, in the same write as the turn's other
     * commands: no loop turn of its own. */
    if (!os->closing)
        store_defer(os->store, &os->settle_flush);
}

static void on_settled(redisReply *r, void *ud)
{
    struct settle_batch *b = ud;
    struct outbox_store *os = b->os;
    os->inflight--;
    if (store_reply_failed(r)) {
        /* Keep them: settled on the next tick (and never read back meanwhile). */
        log_fmt(LOG_WARN, "outbox settle failed", "\"error\":%s,\"entries\":%zu",
                log_q(store_reply_error(r)), b->n);
        struct channel_log *cl = &os->ch[b->ch];
        for (size_t i = 0; i < b->n; i++) {
            if (cl->n_settles == cl->cap_settles) {
                cl->cap_settles = cl->cap_settles ? cl->cap_settles * 2 : 64;
                cl->settles = xrealloc(cl->settles, cl->cap_settles * sizeof *cl->settles);
            }
            cl->settles[cl->n_settles++] = b->items[i];
        }
    } else {
        char key[OUTBOX_STORED_ID_MAX + 8];
        for (size_t i = 0; i < b->n; i++) {
            STR_CAT(key, sizeof key, bot_channel_prefix(b->ch), ":", b->items[i].id);
            strmap_del(&os->settling, key);
        }
    }
    free(b->items);
    free(b);
    outbox_store_shutdown_maybe_done(os);
}

/* One settle call: KEYS the stream and each entry's user record; ARGV the
 * MINID when the ledger is whole (library 22: the entries below it go by
 * one XTRIM, their ids sent as ""), then each entry's id and seq (the ids
 * not sent as "" are deleted one by one, XDEL). */
static int settle_call(struct outbox_store *os, enum bot_channel ch, struct settle_batch *b)
{
    size_t n = b->n;
    struct outbox_stream_id min;
    bool trim = outbox_ledger_minid(&os->ch[ch].ledger, &min);
    char skey[OUTBOX_STREAM_KEY_MAX], minid[48];
    outbox_store_stream_key(os, skey, sizeof skey, ch);
    size_t a = 1 + n + (trim ? 1 : 0), nargs = a + 2 * n;
    const char **args = xmalloc(nargs * sizeof *args);
    char (*ukeys)[OUTBOX_USER_KEY_MAX + 8] = xmalloc(n * sizeof *ukeys);
    char (*seqs)[24] = xmalloc(n * sizeof *seqs);
    args[0] = skey;
    if (trim) {
        size_t len = str_udecimal(minid, sizeof minid - 24, min.ms);
        minid[len] = '-';
        str_udecimal(minid + len + 1, sizeof minid - len - 1, min.seq);
        args[1 + n] = minid;
    }
    for (size_t i = 0; i < n; i++) {
        outbox_entry_user_key(ukeys[i], sizeof ukeys[i], b->items[i].user);
        str_udecimal(seqs[i], sizeof seqs[i], b->items[i].seq);
        args[1 + i] = ukeys[i];
        bool below = trim && b->items[i].sid_ok && outbox_stream_id_cmp(b->items[i].sid, min) < 0;
        args[a + 2 * i] = below ? "" : b->items[i].id;
        args[a + 1 + 2 * i] = seqs[i];
    }
    int rc = outbox_store_run_script(os, "outbox_settle", (int)(1 + n), nargs, args, NULL, on_settled, b);
    free(args);
    free(ukeys);
    free(seqs);
    return rc;
}

static void send_settles(struct outbox_store *os, enum bot_channel ch)
{
    struct channel_log *cl = &os->ch[ch];
    while (cl->n_settles && store_connected(os->store)) {
        size_t n = cl->n_settles < ACK_BATCH ? cl->n_settles : ACK_BATCH;
        struct settle_batch *b = xcalloc(1, sizeof *b);
        b->os = os;
        b->ch = ch;
        b->n = n;
        b->items = xmalloc(n * sizeof *b->items);
        memcpy(b->items, cl->settles + cl->n_settles - n, n * sizeof *b->items);
        if (settle_call(os, ch, b) != 0) {
            free(b->items);
            free(b);
            return;
        }
        cl->n_settles -= n;
    }
}

static void flush_settles(void *ud)
{
    struct outbox_store *os = ud;
    for (int c = 0; c < BOT_CH_COUNT; c++)
        send_settles(os, (enum bot_channel)c);
}

/* outbox_persist.settled */
static void on_item_settled(void *ud, const struct outbox_item *it)
{
    outbox_store_settle_add(ud, it->channel, it->stored_id, it->seq_key, it->seq);
}

/* ===== Progress: the parts of a reply already sent ===== */

/* An entry being written again with its item's progress: XADD of the entry
 * with the field p, XDEL of the old one, in one MULTI (atomic, also in the
 * append-only file: never both entries, never neither). Its id changes; the
 * item in memory takes the new one (outbox_stored_renamed). One rewrite per
 * entry at a time: a later part sent meanwhile is written once it is back
 * (again), or the new entry would be left behind. */
struct rewrite {
    struct outbox_store *os;
    enum bot_channel ch;
    char old_id[OUTBOX_STORED_ID_MAX];
    bool again;
};

static void rewrite_start(struct outbox_store *os, const struct outbox_item *it);

static void on_rewritten(redisReply *r, void *ud)
{
    struct rewrite *rw = ud;
    struct outbox_store *os = rw->os;
    os->inflight--;
    char key[OUTBOX_STORED_ID_MAX + 8];
    STR_CAT(key, sizeof key, bot_channel_prefix(rw->ch), ":", rw->old_id);
    strmap_del(&os->rewriting, key);
    const redisReply *id = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 ? r->element[0] : NULL;
    if (!id || id->type != REDIS_REPLY_STRING) {
        /* Not written (or not known): the entry keeps its id and part 0 (a
         * restart sends the parts again, as before progress was kept). */
        log_fmt(LOG_WARN, "outbox progress not saved", "\"error\":%s", log_q(store_reply_error(r)));
    } else if (os->closing) {
        /* the new entry stays for the next start */
    } else {
        const struct outbox_item *it = outbox_stored_renamed(os->ob, rw->ch, rw->old_id, id->str);
        if (it) { /* the old entry is gone (XDEL in the MULTI) */
            outbox_ledger_add(&os->ch[rw->ch].ledger, id->str);
            outbox_ledger_settled(&os->ch[rw->ch].ledger, rw->old_id);
        }
        if (it && rw->again)
            rewrite_start(os, it);
        else if (!it && strmap_has(&os->settling, key))
            outbox_store_settle_add(os, rw->ch, id->str, "", 0); /* it settled meanwhile: the new entry goes too */
        /* neither: dropped at a stop, the new entry is read back at the next start */
    }
    free(rw);
    outbox_store_shutdown_maybe_done(os);
}

static void rewrite_start(struct outbox_store *os, const struct outbox_item *it)
{
    char key[OUTBOX_STORED_ID_MAX + 8];
    STR_CAT(key, sizeof key, bot_channel_prefix(it->channel), ":", it->stored_id);
    struct rewrite *busy = strmap_get(&os->rewriting, key);
    if (busy) {
        busy->again = true;
        return;
    }
    if (!os->ch[it->channel].enabled)
        return;
    char skey[OUTBOX_STREAM_KEY_MAX];
    outbox_store_stream_key(os, skey, sizeof skey, it->channel);
    const char *xadd[OUTBOX_ENTRY_XADD_MAX];
    struct outbox_entry_args ea;
    int n = outbox_entry_xadd_args(it, skey, &ea, xadd);
    const char *xdel[] = {"XDEL", skey, it->stored_id};
    struct store_cmdv cmds[] = {{.argc = n, .argv = xadd}, {.argc = 3, .argv = xdel}};
    struct rewrite *rw = xcalloc(1, sizeof *rw);
    rw->os = os;
    rw->ch = it->channel;
    STR_CAT(rw->old_id, sizeof rw->old_id, it->stored_id);
    int rc = store_multi(os->store, on_rewritten, rw, cmds, 2);
    outbox_entry_args_free(&ea);
    if (rc != 0) {
        free(rw);
        return; /* Redis away: part 0 stays recorded */
    }
    os->inflight++;
    strmap_put(&os->rewriting, key, rw);
}

/* outbox_persist.progress */
static void on_item_progress(void *ud, const struct outbox_item *it)
{
    struct outbox_store *os = ud;
    if (!os->closing)
        rewrite_start(os, it);
}

/* ===== The gate: are the user's earlier replies done? ===== */

struct gate_call {
    struct outbox_store *os;
    struct outbox_item *item;
};

static void on_gate(redisReply *r, void *ud)
{
    struct gate_call *g = ud;
    struct outbox_store *os = g->os;
    struct outbox_item *it = g->item;
    os->inflight--;
    free(g);
    enum outbox_gate answer = OUTBOX_GATE_WAIT;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
        const redisReply *od = r->element[0], *ch = r->element[1];
        if (ch->type != REDIS_REPLY_STRING) {
            answer = OUTBOX_GATE_GO; /* no user record (erased, or Redis lost it): nothing to wait for */
        } else {
            uint64_t done = od->type == REDIS_REPLY_STRING ? strtoull(od->str, NULL, 10) : 0;
            answer = done >= it->seq       ? OUTBOX_GATE_DONE
                     : done + 1 == it->seq ? OUTBOX_GATE_GO
                                           : OUTBOX_GATE_WAIT;
        }
    }
    /* An earlier reply that never settles (its entry deleted by hand) must
     * not hold the user's replies for ever: past twice the claim time, go. */
    if (answer == OUTBOX_GATE_WAIT && clock_now_ms() - it->queued_ms > 2 * (int64_t)os->claim_ms + 5000) {
        log_msg(LOG_WARN, "outbox gate gave up waiting, sending out of order");
        answer = OUTBOX_GATE_GO;
    }
    outbox_gate_answer(os->ob, it, answer);
    outbox_store_shutdown_maybe_done(os);
}

/* outbox_persist.gate */
static void on_item_gate(void *ud, struct outbox_item *it)
{
    struct outbox_store *os = ud;
    if (!it->seq || !it->seq_key[0]) {
        outbox_gate_answer(os->ob, it, OUTBOX_GATE_GO);
        return;
    }
    char ukey[OUTBOX_USER_KEY_MAX];
    outbox_entry_user_key(ukey, sizeof ukey, it->seq_key);
    struct gate_call *g = xcalloc(1, sizeof *g);
    g->os = os;
    g->item = it;
    const char *argv[] = {"HMGET", ukey, "od", "ch"};
    if (store_command_argv(os->store, on_gate, g, 4, argv, NULL) != 0) {
        free(g);
        outbox_gate_answer(os->ob, it, OUTBOX_GATE_WAIT);
        return;
    }
    os->inflight++;
}

/* ===== Life cycle ===== */

struct outbox_store *outbox_store_new(const struct outbox_store_deps *d)
{
    struct outbox_store *os = xcalloc(1, sizeof *os);
    os->loop = d->loop;
    os->store = d->store;
    os->ob = d->outbox;
    os->consumer = xstrdup(d->consumer);
    os->claim_ms = d->claim_ms ? d->claim_ms : OUTBOX_CLAIM_MS_DEFAULT;
    os->max_backlog = d->max_backlog ? d->max_backlog : OUTBOX_MAX_BACKLOG_DEFAULT;
    strmap_init(&os->settling);
    strmap_init(&os->rewriting);
    os->commits = fcall_group_new(d->store, "outbox_commit", "outbox_commit_many_flat", OUTBOX_COMMIT_KEYS,
                                  FCALL_GROUP_VARYING, COMMIT_BATCH);
    fcall_group_share(os->commits, OUTBOX_COMMIT_SHARED);
    os->settle_flush = (struct store_deferred){.fn = flush_settles, .ud = os};
    if (uv_timer_init(d->loop, &os->lifetime) != 0)
        abort(); /* cannot fail on a valid loop */
    os->lifetime.data = os;
    metrics_declare("dvcbot_outbox_recovered_total", METRIC_COUNTER,
                    "Stored replies read back after a restart (own) or taken over from a stopped process (claimed).",
                    NULL, 0);
    struct outbox_persist p = {.gate = on_item_gate, .settled = on_item_settled, .progress = on_item_progress,
                               .ud = os};
    outbox_set_persist(d->outbox, &p);
    return os;
}

void outbox_store_enable(struct outbox_store *os, enum bot_channel ch)
{
    os->ch[ch].enabled = true;
}

bool outbox_store_enabled(const struct outbox_store *os, enum bot_channel ch)
{
    return os && os->ch[ch].enabled;
}

void outbox_store_connected(struct outbox_store *os)
{
    if (os->closing)
        return;
    outbox_recover_heartbeat(os);
    for (int c = 0; c < BOT_CH_COUNT; c++) {
        outbox_ledger_reset(&os->ch[c].ledger); /* a new connection: known again once read back */
        if (os->ch[c].enabled)
            outbox_recover_start(os, (enum bot_channel)c);
    }
    flush_settles(os);
}

void outbox_store_tick(struct outbox_store *os)
{
    if (os->closing || !store_connected(os->store))
        return;
    flush_settles(os);
    if (os->shutdown_done)
        return; /* stopping: take no more work */
    int64_t now = clock_now_ms();
    bool claim_due = now >= os->next_claim_ms;
    if (claim_due) {
        os->next_claim_ms = now + os->claim_ms / 3;
        outbox_recover_heartbeat(os);
    }
    for (int c = 0; c < BOT_CH_COUNT; c++) {
        if (!os->ch[c].enabled)
            continue;
        outbox_recover_read_back(os, (enum bot_channel)c);
        if (claim_due && os->ch[c].recovered && outbox_backlog(os->ob) < os->max_backlog)
            outbox_recover_claim(os, (enum bot_channel)c);
    }
}

/* ===== Shutdown ===== */

void outbox_store_shutdown_maybe_done(struct outbox_store *os)
{
    if (!os->shutdown_done || os->inflight > 0)
        return;
    size_t unsettled = 0;
    for (int c = 0; c < BOT_CH_COUNT; c++)
        unsettled += os->ch[c].n_settles;
    if (unsettled) /* delivered, but still pending in Redis: sent again after the restart */
        log_fmt(LOG_WARN, "outbox entries not settled", "\"messages\":%zu", unsettled);
    void (*done)(bool, void *) = os->shutdown_done;
    os->shutdown_done = NULL;
    if (os->unsaved)
        log_fmt(LOG_ERROR, "outbox not saved", "\"messages\":%zu", os->unsaved);
    done(os->unsaved == 0, os->shutdown_ud);
}

struct saving {
    struct outbox_store *os;
    struct outbox_commit c;
    struct bot_replies replies;
    char user_key[BOT_ID_MAX + 8];
    char chat[BOT_ID_MAX];
    char reply_ref[BOT_ID_MAX];
};

static void on_save_committed(enum outbox_commit_result r, void *ud)
{
    struct saving *sv = ud;
    if (r != OUTBOX_COMMIT_STORED)
        sv->os->unsaved++;
    bot_replies_free(&sv->replies);
    free(sv);
}

/* A message only in memory goes to this consumer's pending list, in its
 * user's order. */
static void save_item(const struct outbox_item *it, void *ud)
{
    struct outbox_store *os = ud;
    if (!os->ch[it->channel].enabled || !store_connected(os->store)) {
        os->unsaved++;
        return;
    }
    struct saving *sv = xcalloc(1, sizeof *sv);
    sv->os = os;
    bot_replies_init(&sv->replies);
    struct bot_reply *copy = bot_replies_add(&sv->replies, "");
    bot_reply_clear(copy);
    bot_reply_copy(copy, &it->reply);
    snprintf(sv->user_key, sizeof sv->user_key, "%s:%s", bot_channel_prefix(it->channel), it->chat);
    snprintf(sv->chat, sizeof sv->chat, "%s", it->chat);
    snprintf(sv->reply_ref, sizeof sv->reply_ref, "%s", it->reply_ref);
    sv->c = (struct outbox_commit){
        .channel = it->channel, .user_key = sv->user_key, .chat = sv->chat,
        .reply_ref = sv->reply_ref[0] ? sv->reply_ref : NULL, .replies = &sv->replies,
        .session_op = OUTBOX_SESSION_KEEP,
    };
    if (outbox_store_commit(os, &sv->c, on_save_committed, sv) != 0) {
        os->unsaved++;
        bot_replies_free(&sv->replies);
        free(sv);
    }
}

void outbox_store_shutdown(struct outbox_store *os, void (*done)(bool saved_all, void *ud), void *ud)
{
    os->shutdown_done = done;
    os->shutdown_ud = ud;
    flush_settles(os);
    outbox_each_unsaved(os->ob, save_item, os);
    outbox_store_shutdown_maybe_done(os);
}

static void on_lifetime_closed(uv_handle_t *h)
{
    struct outbox_store *os = h->data;
    for (int c = 0; c < BOT_CH_COUNT; c++) {
        free(os->ch[c].settles);
        outbox_ledger_free(&os->ch[c].ledger);
    }
    strmap_free(&os->settling);
    strmap_free(&os->rewriting);
    fcall_group_free(os->commits); /* here: a commit's callback may have called outbox_store_free */
    free(os->consumer);
    free(os);
}

void outbox_store_free(struct outbox_store *os)
{
    if (!os)
        return;
    os->closing = true;
    uv_close((uv_handle_t *)&os->lifetime, on_lifetime_closed);
}
