/* notify — drain dossier:changes, find subscribers, queue messages. */
#include "dvcbot/notify.h"
#include "dvcbot/dialog.h"
#include "dvcbot/dossier.h"
#include "dvcbot/dossier_reply.h"
#include "dvcbot/clock.h"
#include "dvcbot/log.h"
#include "dvcbot/lookup_guard.h"
#include "dvcbot/mem.h"
#include "dvcbot/metrics.h"
#include "dvcbot/redis_script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


struct notify {
    struct notify_deps deps;
    struct lookup_limits limits;
    bool running;       /* draining on ticks */
    bool busy;          /* a batch is being handled */
    bool closed;
    size_t inflight;    /* Redis callbacks still owed to us */
    size_t batch_left;  /* changes of the current batch not finished */
    bool batch_full;    /* the last pop returned a whole batch: pop again */
};

struct change {
    struct notify *n;
    char code[DOSSIER_CODE_MAX + 1];
    char status[32];
};

static void drain(struct notify *n);

static void count(const char *result)
{
    char labels[48];
    snprintf(labels, sizeof labels, "result=\"%s\"", result);
    metrics_inc("dvcbot_notifications_total", labels, 1);
}

static void maybe_free(struct notify *n)
{
    if (n->closed && n->inflight == 0)
        free(n);
}

/* ===== One user ===== */

static void on_verdict(const struct recipient_result *res, void *ud)
{
    struct notify *n = ud;
    n->inflight--;
    count(recipient_verdict_name(res->verdict));
    maybe_free(n);
}

int notify_user(struct notify *n, const char *user_key, const struct bot_reply *reply)
{
    if (n->closed)
        return -1;
    int rc = recipient_send(n->deps.recipients, user_key, reply, OUTBOX_REPLY, RECIPIENT_UNTIL_DELIVERED,
                            on_verdict, n);
    if (rc != 0) {
        count(rc == RECIPIENT_BAD_KEY ? "skipped" : "unknown");
        return -1;
    }
    n->inflight++;
    return 0;
}

int notify_user_tpl(struct notify *n, const char *user_key, const char *name,
                    const struct tpl_var *vars, size_t n_vars)
{
    struct bot_replies out;
    bot_replies_init(&out);
    int rc = -1;
    if (tpl_render(n->deps.tpl, name, vars, n_vars, &out) && out.n)
        rc = notify_user(n, user_key, &out.items[0]);
    else
        log_fmt(LOG_ERROR, "notice template missing", "\"template\":%s", log_q(name));
    bot_replies_free(&out);
    return rc;
}

/* ===== Status changes ===== */

static void change_done(struct notify *n)
{
    if (--n->batch_left > 0)
        return;
    n->busy = false;
    if (n->batch_full && n->running)
        drain(n);
}

static void send_to_members(struct notify *n, const struct dossier *d, const redisReply *members)
{
    struct bot_replies out;
    bot_replies_init(&out);
    if (dossier_reply_changed(n->deps.tpl, n->deps.catalog, d, &out) == 0 && out.n == 1) {
        for (size_t i = 0; i < members->elements; i++)
            if (members->element[i]->type == REDIS_REPLY_STRING)
                notify_user(n, members->element[i]->str, &out.items[0]);
    }
    bot_replies_free(&out);
}

static void on_change_read(redisReply *r, void *ud)
{
    struct change *c = ud;
    struct notify *n = c->n;
    n->inflight--;
    struct dossier d;
    if (!n->closed && r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        r->element[1]->type == REDIS_REPLY_ARRAY && r->element[1]->elements > 0 &&
        dossier_from_hash(r->element[0], &d) == 0) {
        if (strcmp(dossier_get(&d, DF_STATUS), c->status) == 0)
            send_to_members(n, &d, r->element[1]);
        else
            count("superseded");
        dossier_clear(&d);
    }
    free(c);
    change_done(n);
    maybe_free(n);
}

static bool start_change(struct notify *n, const char *entry, size_t len)
{
    const char *sp = memchr(entry, ' ', len);
    struct change *c = xcalloc(1, sizeof *c);
    c->n = n;
    size_t clen = sp ? (size_t)(sp - entry) : 0, slen = sp ? len - clen - 1 : 0;
    if (!sp || clen > DOSSIER_CODE_MAX || slen >= sizeof c->status) {
        free(c);
        return false;
    }
    memcpy(c->code, entry, clen);
    memcpy(c->status, sp + 1, slen);
    struct lookup_settle_call call;
    lookup_settle_prepare(&n->limits, c->code, (long long)clock_now(), &call);
    if (redis_fcall(n->deps.store, "dossier_settle_read", on_change_read, c, call.nkeys, call.nargs,
                    call.args, NULL) != 0) {
        free(c);
        return false;
    }
    n->inflight++;
    return true;
}

static void on_popped(redisReply *r, void *ud)
{
    struct notify *n = ud;
    n->inflight--;
    n->busy = false;
    if (n->closed || !r || r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
        maybe_free(n);
        return;
    }
    n->busy = true;
    n->batch_full = r->elements >= NOTIFY_BATCH;
    n->batch_left = 1; /* held until every change is started */
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if (e->type == REDIS_REPLY_STRING && start_change(n, e->str, e->len))
            n->batch_left++;
    }
    change_done(n);
}

static void drain(struct notify *n)
{
    if (n->busy || n->closed || !store_connected(n->deps.store))
        return;
    char batch[16];
    snprintf(batch, sizeof batch, "%d", NOTIFY_BATCH);
    if (store_command(n->deps.store, on_popped, n, "LPOP %s %s", DOSSIER_CHANGES_KEY, batch) == 0) {
        n->busy = true;
        n->inflight++;
    }
}

/* ===== Set-up ===== */

struct notify *notify_new(const struct notify_deps *deps)
{
    struct notify *n = xcalloc(1, sizeof *n);
    n->deps = *deps;
    lookup_limits_from_config(deps->cfg, &n->limits);
    metrics_declare("dvcbot_notifications_total", METRIC_COUNTER,
                    "Notifications by result (sent, failed, blocked, skipped, unknown; superseded).",
                    NULL, 0);
    return n;
}

void notify_start(struct notify *n)
{
    n->running = true;
}

void notify_stop(struct notify *n)
{
    n->running = false;
}

void notify_tick(struct notify *n, int64_t now)
{
    (void)now;
    if (n->running)
        drain(n);
}

void notify_kick(struct notify *n)
{
    if (n->running)
        drain(n);
}

void notify_free(struct notify *n)
{
    if (!n)
        return;
    n->closed = true;
    n->running = false;
    maybe_free(n);
}
