/* outbox_recover — reading back this process's stored replies and claiming
 * those of a stopped process. See include/dvcbot/outbox_recover.h. */
#include "dvcbot/outbox_recover.h"
#include "dvcbot/outbox_store_internal.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "outbox:<channel>:" — the channel's streams, one per process. */
static void stream_prefix(char *out, size_t len, enum bot_channel ch)
{
    snprintf(out, len, "%s%s:", OUTBOX_STREAM_PREFIX, bot_channel_name(ch));
}
/* The set of processes that have a stream on the channel. */
static void consumers_key(char *out, size_t len, enum bot_channel ch)
{
    snprintf(out, len, "%s%s:%s", OUTBOX_STREAM_PREFIX, bot_channel_name(ch), "processes");
}
static void count_recovered(enum bot_channel ch, const char *how, size_t n)
{
    char labels[64];
    snprintf(labels, sizeof labels, "channel=\"%s\",how=\"%s\"", bot_channel_name(ch), how);
    metrics_inc("dvcbot_outbox_recovered_total", labels, (double)n);
}


/* Queues one entry read back from Redis ([id, [field, value...]]); `how`
 * names where it came from in the metrics. Returns false when it is not
 * an entry. */
static bool adopt_entry(struct outbox_store *os, enum bot_channel ch, const redisReply *e)
{
    if (!e || e->type != REDIS_REPLY_ARRAY || e->elements < 2 || e->element[0]->type != REDIS_REPLY_STRING)
        return false;
    const char *id = e->element[0]->str;
    const redisReply *fields = e->element[1];
    char key[OUTBOX_STORED_ID_MAX + 8];
    snprintf(key, sizeof key, "%s:%s", bot_channel_prefix(ch), id);
    if (strmap_has(&os->settling, key))
        return true; /* delivered: being settled */
    outbox_ledger_add(&os->ch[ch].ledger, id);
    if (outbox_has_stored(os->ob, ch, id))
        return true; /* in memory already */
    if (fields->type != REDIS_REPLY_ARRAY) {
        outbox_store_settle_add(os, ch, id, "", 0); /* deleted but still pending: just settle it */
        return true;
    }
    struct bot_replies rs;
    bot_replies_init(&rs);
    struct bot_reply *r = bot_replies_add(&rs, outbox_entry_str(fields, "t"));
    const redisReply *b = outbox_entry_field(fields, "b");
    if (b && b->type == REDIS_REPLY_STRING)
        outbox_entry_buttons(r, b->str, b->len);
    const char *user = outbox_entry_str(fields, "u");
    struct outbox_stored st = {
        .id = id, .seq_key = user, .seq = strtoull(outbox_entry_str(fields, "q"), NULL, 10), .gated = true,
        .part = (unsigned)strtoul(outbox_entry_str(fields, OUTBOX_ENTRY_PART), NULL, 10),
    };
    const char *ref = outbox_entry_str(fields, "r");
    if (outbox_send_stored(os->ob, ch, outbox_entry_str(fields, "c"), r, ref[0] ? ref : NULL, &st) != 0) {
        log_msg(LOG_WARN, "stored reply not queued: chat blocked or channel off");
        outbox_store_settle_add(os, ch, id, user, st.seq);
    }
    bot_replies_free(&rs);
    return true;
}

/* ===== Reading back and claiming ===== */

struct read_call {
    struct outbox_store *os;
    enum bot_channel ch;
};

static void on_read_back(redisReply *r, void *ud)
{
    struct read_call *rc = ud;
    struct outbox_store *os = rc->os;
    enum bot_channel ch = rc->ch;
    struct channel_log *cl = &os->ch[ch];
    free(rc);
    os->inflight--;
    cl->reading = false;
    if (store_reply_failed(r) || os->closing || r->type != REDIS_REPLY_ARRAY) {
        outbox_store_shutdown_maybe_done(os);
        return; /* again on the next connect or tick */
    }
    if (r->elements == 0) {
        outbox_ledger_read_back(&cl->ledger); /* every entry is known now */
        if (!cl->recovered)
            log_fmt(LOG_INFO, "outbox read back", "\"channel\":%s", log_q(bot_channel_name(ch)));
        cl->recovered = true;
        outbox_store_shutdown_maybe_done(os);
        return;
    }
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if (adopt_entry(os, ch, e))
            snprintf(cl->cursor, sizeof cl->cursor, "(%s", e->element[0]->str);
    }
    count_recovered(ch, "own", r->elements);
    outbox_recover_read_back(os, ch);
    outbox_store_shutdown_maybe_done(os);
}

/* Reads this process's stream from the cursor on, a page at a time, while
 * the backlog has room. */
void outbox_recover_read_back(struct outbox_store *os, enum bot_channel ch)
{
    struct channel_log *cl = &os->ch[ch];
    if (cl->reading || cl->recovered || os->closing || os->shutdown_done ||
        outbox_backlog(os->ob) >= os->max_backlog)
        return;
    char skey[OUTBOX_STREAM_KEY_MAX], count[16];
    outbox_store_stream_key(os, skey, sizeof skey, ch);
    snprintf(count, sizeof count, "%d", OUTBOX_READ_BATCH);
    const char *argv[] = {"XRANGE", skey, cl->cursor, "+", "COUNT", count};
    struct read_call *rc = xcalloc(1, sizeof *rc);
    rc->os = os;
    rc->ch = ch;
    if (store_command_argv(os->store, on_read_back, rc, 6, argv, NULL) != 0) {
        free(rc);
        return;
    }
    os->inflight++;
    cl->reading = true;
}

static void on_claimed(redisReply *r, void *ud)
{
    struct read_call *rc = ud;
    struct outbox_store *os = rc->os;
    os->inflight--;
    if (!store_reply_failed(r) && !os->closing && r->type == REDIS_REPLY_ARRAY && r->elements) {
        size_t n = 0;
        for (size_t i = 0; i < r->elements; i++)
            n += adopt_entry(os, rc->ch, r->element[i]);
        log_fmt(LOG_WARN, "outbox claimed a stopped process's replies", "\"channel\":%s,\"entries\":%zu",
                log_q(bot_channel_name(rc->ch)), n);
        count_recovered(rc->ch, "claimed", n);
    } else if (store_reply_failed(r)) {
        /* an error after some entries moved: ours now, their ids unknown */
        if (r)
            outbox_ledger_distrust(&os->ch[rc->ch].ledger);
        log_fmt(LOG_WARN, "outbox claim failed", "\"error\":%s", log_q(store_reply_error(r)));
    }
    free(rc);
    outbox_store_shutdown_maybe_done(os);
}

void outbox_recover_claim(struct outbox_store *os, enum bot_channel ch)
{
    char set[OUTBOX_STREAM_KEY_MAX], skey[OUTBOX_STREAM_KEY_MAX], prefix[OUTBOX_STREAM_KEY_MAX], count[16];
    consumers_key(set, sizeof set, ch);
    outbox_store_stream_key(os, skey, sizeof skey, ch);
    stream_prefix(prefix, sizeof prefix, ch);
    snprintf(count, sizeof count, "%d", OUTBOX_READ_BATCH);
    const char *args[] = {set, skey, os->consumer, OUTBOX_ALIVE_PREFIX, prefix, count};
    struct read_call *rc = xcalloc(1, sizeof *rc);
    rc->os = os;
    rc->ch = ch;
    if (outbox_store_run_script(os, "outbox_claim", 2, 6, args, NULL, on_claimed, rc) != 0)
        free(rc);
}

void outbox_recover_heartbeat(struct outbox_store *os)
{
    char key[256], px[16];
    snprintf(key, sizeof key, "%s%s", OUTBOX_ALIVE_PREFIX, os->consumer);
    snprintf(px, sizeof px, "%u", os->claim_ms);
    const char *argv[] = {"SET", key, "1", "PX", px};
    store_command_argv(os->store, NULL, NULL, 5, argv, NULL);
}

static void ignore_reply(redisReply *r, void *ud)
{
    (void)r;
    (void)ud;
}

void outbox_recover_start(struct outbox_store *os, enum bot_channel ch)
{
    struct channel_log *cl = &os->ch[ch];
    char set[OUTBOX_STREAM_KEY_MAX];
    consumers_key(set, sizeof set, ch);
    const char *argv[] = {"SADD", set, os->consumer};
    store_command_argv(os->store, ignore_reply, NULL, 3, argv, NULL);
    /* Read everything pending for us again: what is in memory is skipped. */
    snprintf(cl->cursor, sizeof cl->cursor, "-");
    cl->recovered = false;
    outbox_recover_read_back(os, ch);
}
