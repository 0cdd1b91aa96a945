/* reminder — take due dossiers from remind:due, decide, record, send.
 *
 * Objects: a round is one batch taken by reminder_take; a job is one dossier of
 * it (read → plan → commit → deliver); a recipient is one subscriber on the
 * way to the outbox. Each holds a count on the struct reminder (inflight,
 * sending) until its callback has come back. */
#include "dvcbot/reminder.h"
#include "dvcbot/clock.h"
#include "dvcbot/dialog.h"
#include "dvcbot/dossier.h"
#include "dvcbot/dossier_reply.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/metrics.h"
#include "dvcbot/redis_script.h"
#include "dvcbot/reminder_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>




struct reminder {
    struct reminder_deps deps;
    struct reminder_rules rules;
    bool running;       /* takes batches on ticks */
    bool closed;
    bool in_round;      /* a batch is being worked on */
    bool round_full;    /* it was a whole batch: take the next one soon */
    size_t round_left;  /* jobs of the batch not finished */
    size_t inflight;    /* Redis callbacks owed to us */
    size_t sending;     /* outbox callbacks owed to us */
};

struct job {
    struct reminder *r;
    char code[DOSSIER_CODE_MAX + 1];
    char lease[24];
    int64_t now;
    struct dossier d;          /* empty when the dossier is gone */
    char status_at[24];        /* as read: the commit checks it did not move */
    char **members;
    size_t n_members;
    struct reminder_plan plan;
};

struct rcpt {
    struct reminder *r;
    enum reminder_kind kind;
};

static void round_done(struct reminder *r);

/* ===== Small helpers ===== */

static void count_message(enum reminder_kind kind, const char *result)
{
    char labels[80];
    snprintf(labels, sizeof labels, "kind=\"%s\",result=\"%s\"", reminder_kind_name(kind), result);
    metrics_inc("dvcbot_reminder_messages_total", labels, 1);
}

static void maybe_free(struct reminder *r)
{
    if (r->closed && r->inflight == 0 && r->sending == 0)
        free(r);
}

static const char *hash_field(const redisReply *h, const char *name)
{
    for (size_t i = 0; i + 1 < h->elements; i += 2)
        if (store_reply_str(h->element[i]) && strcmp(h->element[i]->str, name) == 0)
            return store_reply_str(h->element[i + 1]);
    return NULL;
}

static int64_t num(const char *s)
{
    return s ? strtoll(s, NULL, 10) : 0;
}

static size_t bulk_queued(const struct reminder *r)
{
    size_t n = 0;
    for (int c = 0; c < BOT_CH_COUNT; c++)
        n += outbox_queued(r->deps.outbox, (enum bot_channel)c, OUTBOX_BULK);
    return n;
}

/* ===== One recipient ===== */

static void on_verdict(const struct recipient_result *res, void *ud)
{
    struct rcpt *rc = ud;
    struct reminder *r = rc->r;
    r->sending--;
    /* Redis lost on the way counts as failed, as everything not sent. */
    count_message(rc->kind, res->verdict == RECIPIENT_UNKNOWN ? "failed" : recipient_verdict_name(res->verdict));
    free(rc);
    maybe_free(r);
}

static void send_to(struct reminder *r, enum reminder_kind kind, const char *user_key,
                    const struct bot_reply *reply)
{
    struct rcpt *rc = xcalloc(1, sizeof *rc);
    rc->r = r;
    rc->kind = kind;
    int err = recipient_send(r->deps.recipients, user_key, reply, OUTBOX_BULK, RECIPIENT_UNTIL_DELIVERED,
                             on_verdict, rc);
    if (err != 0) {
        count_message(kind, err == RECIPIENT_BAD_KEY ? "skipped" : "failed");
        free(rc);
        return;
    }
    r->sending++;
}

/* ===== One dossier ===== */

static void job_free(struct job *j)
{
    for (size_t i = 0; i < j->n_members; i++)
        free(j->members[i]);
    free(j->members);
    dossier_clear(&j->d);
    free(j);
}

static void job_done(struct job *j)
{
    struct reminder *r = j->r;
    job_free(j);
    round_done(r);
    maybe_free(r);
}

static void deliver(struct job *j)
{
    struct reminder *r = j->r;
    enum reminder_kind kind = j->plan.send;
    char name[TPL_NAME_MAX];
    snprintf(name, sizeof name, "reminder_%s", reminder_kind_name(kind));
    struct bot_replies out;
    bot_replies_init(&out);
    char labels[48];
    snprintf(labels, sizeof labels, "kind=\"%s\"", reminder_kind_name(kind));
    metrics_inc("dvcbot_reminders_total", labels, 1);
    log_fmt(LOG_DEBUG, "reminder due", "\"code\":%s,\"kind\":%s,\"subscribers\":%zu",
            log_q(j->code), log_q(reminder_kind_name(kind)), j->n_members);
    if (dossier_reply_notice(r->deps.tpl, r->deps.catalog, &j->d, name, &out) == 0 && out.n == 1) {
        for (size_t i = 0; i < j->n_members; i++)
            send_to(r, kind, j->members[i], &out.items[0]);
    }
    bot_replies_free(&out);
}

static void on_commit(redisReply *reply, void *ud)
{
    struct job *j = ud;
    struct reminder *r = j->r;
    r->inflight--;
    if (store_reply_failed(reply) || reply->type != REDIS_REPLY_INTEGER) {
        if (reply && !r->closed)
            log_fmt(LOG_WARN, "reminder not recorded", "\"error\":%s", log_q(store_reply_error(reply)));
    } else if (reply->integer == 1 && j->plan.send != REMINDER_NONE && !r->closed) {
        deliver(j);
    }
    job_done(j);
}

static void commit(struct job *j)
{
    struct reminder *r = j->r;
    const struct reminder_plan *p = &j->plan;
    char dkey[DOSSIER_KEY_MAX], cycle[24], count[16], last[24], next[24];
    dossier_key(dkey, sizeof dkey, j->code);
    snprintf(cycle, sizeof cycle, "%lld", (long long)p->cycle);
    snprintf(count, sizeof count, "%u", p->count);
    snprintf(last, sizeof last, "%lld", (long long)p->last);
    snprintf(next, sizeof next, "%lld", (long long)p->next);
    const char *args[] = {
        dkey, DOSSIER_REMIND_KEY, j->code, j->lease, dossier_get(&j->d, DF_STATUS), j->status_at,
        cycle, count, last, p->late_told ? dossier_get(&j->d, DF_DUE_AT) : "", p->next ? next : "",
    };
    if (redis_fcall(r->deps.store, "reminder_commit", on_commit, j, 2, 11, args, NULL) != 0) {
        job_done(j);
        return;
    }
    r->inflight++;
}

static void make_plan(struct job *j, const redisReply *hash)
{
    struct reminder_state s = {.status = dossier_status(&j->d), .fee_due = dossier_reply_fee_due(&j->d)};
    const char *status_at = hash_field(hash, "status_at");
    snprintf(j->status_at, sizeof j->status_at, "%s", status_at ? status_at : "");
    s.cycle = num(status_at);
    s.counted = num(hash_field(hash, "remind_at"));
    s.count = (unsigned)num(hash_field(hash, "remind_n"));
    s.last = num(hash_field(hash, "remind_last"));
    time_t due;
    if (dossier_due_end(&j->d, &due))
        s.late_at = (int64_t)due + 1;
    const char *late_for = hash_field(hash, "late_for");
    s.late_told = late_for && strcmp(late_for, dossier_get(&j->d, DF_DUE_AT)) == 0;
    reminder_plan(&j->r->rules, &s, j->now, &j->plan);
}

/* reply: dossier_with_subscribers {HGETALL dossier:<code>, SMEMBERS sub:<code>} */
static void on_read(redisReply *reply, void *ud)
{
    struct job *j = ud;
    struct reminder *r = j->r;
    r->inflight--;
    if (r->closed || store_reply_failed(reply) || reply->type != REDIS_REPLY_ARRAY ||
        reply->elements != 2 || reply->element[1]->type != REDIS_REPLY_ARRAY) {
        job_done(j); /* the code comes back when the lease ends */
        return;
    }
    if (dossier_from_hash(reply->element[0], &j->d) == 0) {
        make_plan(j, reply->element[0]);
        const redisReply *m = reply->element[1];
        j->members = xcalloc(m->elements ? m->elements : 1, sizeof *j->members);
        for (size_t i = 0; i < m->elements; i++)
            if (store_reply_str(m->element[i]))
                j->members[j->n_members++] = xstrdup(m->element[i]->str);
    } else {
        dossier_clear(&j->d); /* gone: an empty plan takes the code out */
    }
    commit(j);
}

static bool job_start(struct reminder *r, const char *code, const char *lease, int64_t now)
{
    struct job *j = xcalloc(1, sizeof *j);
    j->r = r;
    j->now = now;
    snprintf(j->lease, sizeof j->lease, "%s", lease);
    if (!dossier_code_normalize(code, strlen(code), j->code) || strcmp(j->code, code) != 0) {
        /* not written by the upsert script: drop it */
        if (store_command(r->deps.store, NULL, NULL, "ZREM %s %s", DOSSIER_REMIND_KEY, code) != 0)
            log_msg(LOG_WARN, "bad reminder entry not removed: redis unavailable");
        free(j);
        return false;
    }
    char dkey[DOSSIER_KEY_MAX], skey[DOSSIER_CODE_MAX + 8];
    dossier_key(dkey, sizeof dkey, j->code);
    snprintf(skey, sizeof skey, "sub:%s", j->code);
    const char *args[] = {dkey, skey};
    if (redis_fcall(r->deps.store, "dossier_with_subscribers", on_read, j, 2, 2, args, NULL) != 0) {
        free(j);
        return false;
    }
    r->inflight++;
    return true;
}

/* ===== Rounds ===== */

static void round_done(struct reminder *r)
{
    if (--r->round_left > 0)
        return;
    r->in_round = false;
    /* More may be due: look again now instead of a whole tick later. */
    if (r->round_full)
        reminder_tick(r, clock_now());
}

struct take {
    struct reminder *r;
    char lease[24];
    int64_t now;
};

/* reply: the codes reminder_take leased */
static void on_taken(redisReply *reply, void *ud)
{
    struct take *t = ud;
    struct reminder *r = t->r;
    r->inflight--;
    r->round_full = false;
    r->round_left = 1; /* held until every job is started */
    if (!r->closed && !store_reply_failed(reply) && reply->type == REDIS_REPLY_ARRAY) {
        r->round_full = reply->elements >= REMINDER_BATCH;
        for (size_t i = 0; i < reply->elements; i++)
            if (store_reply_str(reply->element[i]) && job_start(r, reply->element[i]->str, t->lease, t->now))
                r->round_left++;
    } else if (reply && reply->type == REDIS_REPLY_ERROR) {
        log_fmt(LOG_ERROR, "reminder batch not taken", "\"error\":%s", log_q(reply->str));
    }
    free(t);
    round_done(r);
    maybe_free(r);
}

static void take(struct reminder *r, int64_t now)
{
    struct take *t = xcalloc(1, sizeof *t);
    t->r = r;
    t->now = now;
    char now_s[24], batch[16];
    snprintf(now_s, sizeof now_s, "%lld", (long long)t->now);
    snprintf(batch, sizeof batch, "%d", REMINDER_BATCH);
    snprintf(t->lease, sizeof t->lease, "%lld", (long long)(t->now + REMINDER_LEASE_S));
    const char *args[] = {DOSSIER_REMIND_KEY, now_s, batch, t->lease};
    if (redis_fcall(r->deps.store, "reminder_take", on_taken, t, 1, 4, args, NULL) != 0) {
        free(t);
        return;
    }
    r->inflight++;
    r->in_round = true;
}

void reminder_tick(struct reminder *r, int64_t now)
{
    if (!r->running || r->closed || r->in_round || !store_connected(r->deps.store))
        return;
    if (bulk_queued(r) >= REMINDER_BULK_ROOM)
        return; /* broadcasts or the last batch still sending */
    take(r, now);
}

/* ===== Set-up ===== */

struct reminder *reminder_new(const struct reminder_deps *deps)
{
    struct reminder *r = xcalloc(1, sizeof *r);
    r->deps = *deps;
    r->rules = (struct reminder_rules){
        .every_s = deps->cfg->remind_every_s, .max = deps->cfg->remind_max,
        .quiet_from = deps->cfg->quiet_from, .quiet_to = deps->cfg->quiet_to,
    };
    metrics_declare("dvcbot_reminders_total", METRIC_COUNTER,
                    "Dossier reminders due, by kind (can_bo_sung, cho_thanh_toan, late).", NULL, 0);
    metrics_declare("dvcbot_reminder_messages_total", METRIC_COUNTER,
                    "Reminder messages by kind and result (sent, failed, blocked, skipped).", NULL, 0);
    return r;
}

void reminder_start(struct reminder *r)
{
    r->running = true;
}

void reminder_stop(struct reminder *r)
{
    if (r)
        r->running = false;
}

bool reminder_busy(const struct reminder *r)
{
    return r && r->inflight > 0;
}

void reminder_close(struct reminder *r)
{
    if (!r)
        return;
    reminder_stop(r);
    r->closed = true;
    maybe_free(r);
}
