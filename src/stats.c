/* stats — counters in Redis, the abandoned-flow sweep and GET /admin/stats. */
#include "dvcbot/stats.h"
#include "dvcbot/buf.h"
#include "dvcbot/clock.h"
#include "dvcbot/dict.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/metrics.h"
#include "dvcbot/normalize.h"
#include "dvcbot/refs.h"
#include "dvcbot/stats_day.h"
#include "dvcbot/strmap.h"
#include "dvcbot/strfmt.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define K_INTENTS "{stats}:intents"
#define K_FLOWS "{stats}:flows"
#define K_DUR "{stats}:dur:"
#define K_CODE_DUR "{stats}:codedur:"
#define UNDER_5_MIN 300
#define K_RATINGS "{stats}:ratings"
#define K_COMMUNES "{stats}:communes"
#define K_NAMES "{stats}:commune_names"
#define K_MISC "{stats}:misc"
#define COMMUNE_KEY_MAX 128
#define STATS_INTENTS_KEPT 1024 /* intent ids kept between flushes, at most */

struct stats {
    struct store *store;
    const struct config *cfg;
    const struct catalog *cat;
    /* Typed messages counted during this loop turn, written at its end in
     * a few commands (store_defer) instead of three or four per message. */
    /* intent id → count (v.i). Entries stay after a flush (count 0), so a
     * turn's count neither copies the id nor makes the table again; the ids
     * counted since the flush (the table's own copies) are in due_ids. */
    struct dict intents_due;
    const char **due_ids;
    size_t n_due_ids, cap_due_ids;
    unsigned long msgs_due, khac_due;
    struct store_deferred flush;
};

static void flush_counts(void *ud);

/* ===== Set-up ===== */

struct stats *stats_new(struct store *store, const struct config *cfg, const struct catalog *cat)
{
    struct stats *st = xcalloc(1, sizeof *st);
    st->store = store;
    st->cfg = cfg;
    st->cat = cat;
    dict_init(&st->intents_due, NULL);
    st->flush = (struct store_deferred){.fn = flush_counts, .ud = st};
    static const double secs[] = {30, 60, 120, 180, 300, 450, 600, 900, 1800, 3600};
    metrics_declare("dvcbot_flows_total", METRIC_COUNTER,
                    "Guided flows by procedure and event (started, finished, abandoned; undone: abandoned by a cancel taken back).", NULL, 0);
    metrics_declare("dvcbot_flow_duration_seconds", METRIC_HISTOGRAM,
                    "Time from a flow's first step to its end, by procedure.", secs, 10);
    metrics_declare("dvcbot_ratings_total", METRIC_COUNTER, "Ratings by procedure and stars.", NULL, 0);
    metrics_declare("dvcbot_handoffs_total", METRIC_COUNTER, "Staff hand-off tickets by event.", NULL, 0);
    metrics_declare("dvcbot_erasures_total", METRIC_COUNTER, "Erase-my-data requests carried out.", NULL, 0);
    metrics_declare("dvcbot_assists_total", METRIC_COUNTER, "Flows run by volunteers for residents.", NULL, 0);
    return st;
}

void stats_close(struct stats *st)
{
    if (!st)
        return;
    dict_free(&st->intents_due);
    free(st->due_ids);
    free(st);
}

/* ===== Recording ===== */

static void on_written(redisReply *r, void *ud)
{
    (void)ud;
    if (!r || r->type == REDIS_REPLY_ERROR)
        log_fmt(LOG_WARN, "stats not recorded", "\"error\":%s",
                log_q(r && r->str ? r->str : "no reply"));
}

static void sent(int rc, const char *what)
{
    if (rc != 0)
        log_fmt(LOG_WARN, "stats not recorded: redis unavailable", "\"what\":%s", log_q(what));
}

static void count_flow_metric(const char *proc, const char *event)
{
    char labels[128];
    snprintf(labels, sizeof labels, "procedure=\"%s\",event=\"%s\"", proc, event);
    metrics_inc("dvcbot_flows_total", labels, 1);
}

void stats_commune_key(const char *commune, char *out, size_t cap)
{
    char *f = commune && *commune ? norm_fold(commune, strlen(commune), NULL) : NULL;
    snprintf(out, cap, "%s", f && *f ? f : STATS_NO_COMMUNE);
    free(f);
}

/* The counts of the turn: one HINCRBY per intent seen, one call for the
 * day's counters. */
static void flush_counts(void *ud)
{
    struct stats *st = ud;
    for (size_t i = 0; i < st->n_due_ids; i++) {
        const char *id = st->due_ids[i];
        struct dict_entry *e = dict_find(&st->intents_due, id, strlen(id));
        char num[24];
        str_udecimal(num, sizeof num, (uint64_t)e->v.i);
        e->v.i = 0;
        const char *argv[] = {"HINCRBY", K_INTENTS, id, num}; /* no format string to read */
        sent(store_command_argv(st->store, on_written, NULL, 4, argv, NULL), "intent");
    }
    st->n_due_ids = 0;
    if (st->intents_due.len > STATS_INTENTS_KEPT) /* ids are the catalog's: this is a bound, not a case */
        dict_free(&st->intents_due);
    const char *fields[] = {"msg", "msg_khac"};
    const unsigned long amounts[] = {st->msgs_due, st->khac_due};
    stats_day_add(st->store, 2, fields, amounts);
    st->msgs_due = st->khac_due = 0;
}

void stats_intent(struct stats *st, const char *intent_id)
{
    bool added;
    struct dict_entry *e = dict_add(&st->intents_due, intent_id, strlen(intent_id), &added);
    if (e->v.i++ == 0) { /* first since the flush */
        if (st->n_due_ids == st->cap_due_ids) {
            st->cap_due_ids = st->cap_due_ids ? 2 * st->cap_due_ids : 16;
            st->due_ids = xrealloc(st->due_ids, st->cap_due_ids * sizeof *st->due_ids);
        }
        st->due_ids[st->n_due_ids++] = e->key; /* the table's copy: entries stay until a flush */
    }
    st->msgs_due++;
    if (strcmp(intent_id, "khac") == 0)
        st->khac_due++;
    store_defer(st->store, &st->flush);
}

static void add_refs(struct stats *st, const char *user_key, const char *k1, const char *k2)
{
    char refs[160];
    snprintf(refs, sizeof refs, "refs:{%s}", user_key);
    if (k2)
        sent(store_command(st->store, on_written, NULL, "SADD %s %s %s", refs, k1, k2), "refs");
    else
        sent(store_command(st->store, on_written, NULL, "SADD %s %s", refs, k1), "refs");
    sent(refs_keep(st->store, st->cfg->user_ttl_s, user_key), "refs");
}

void stats_flow_started(struct stats *st, const char *proc, const char *user_key)
{
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)clock_now());
    add_refs(st, user_key, STATS_KEY_ACTIVE, STATS_KEY_ACTIVE_PROC);
    sent(store_command(st->store, on_written, NULL, "FCALL stats_flow_start 3 %s %s %s %s %s %s",
                       STATS_KEY_ACTIVE, STATS_KEY_ACTIVE_PROC, K_FLOWS, user_key,
                       proc, now),
         "flow started");
    count_flow_metric(proc, "started");
}

void stats_flow_touch(struct stats *st, const char *user_key)
{
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)clock_now());
    sent(store_command(st->store, on_written, NULL, "ZADD %s XX %s %s", STATS_KEY_ACTIVE,
                       now, user_key),
         "flow touch");
}

void stats_flow_finished(struct stats *st, const char *proc, const char *user_key, long seconds,
                         const char *commune)
{
    char dur_key[96], secs[24], ckey[COMMUNE_KEY_MAX], keep[16];
    snprintf(dur_key, sizeof dur_key, "%s%s", K_DUR, proc);
    snprintf(secs, sizeof secs, "%ld", seconds < 0 ? 0 : seconds);
    snprintf(keep, sizeof keep, "%d", STATS_DURATIONS);
    stats_commune_key(commune, ckey, sizeof ckey);
    sent(store_command(st->store, on_written, NULL,
                       "FCALL stats_flow_finish 6 %s %s %s %s %s %s %s %s %s %s %s %s",
                       STATS_KEY_ACTIVE, STATS_KEY_ACTIVE_PROC, K_FLOWS, dur_key, K_COMMUNES, K_NAMES,
                       user_key, proc, secs, ckey, commune && *commune ? commune : ckey,
                       keep),
         "flow finished");
    count_flow_metric(proc, "finished");
    char labels[96];
    snprintf(labels, sizeof labels, "procedure=\"%s\"", proc);
    metrics_observe("dvcbot_flow_duration_seconds", labels, (double)seconds);
}

static void on_abandoned(redisReply *r, void *ud)
{
    char *proc = ud;
    if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 1)
        count_flow_metric(proc, "abandoned");
    else if (!r || r->type == REDIS_REPLY_ERROR)
        log_msg(LOG_WARN, "stats not recorded: flow abandoned");
    free(proc);
}

void stats_flow_abandoned(struct stats *st, const char *proc, const char *user_key)
{
    char *ud = xstrdup(proc);
    if (store_command(st->store, on_abandoned, ud, "FCALL stats_flow_abandon 3 %s %s %s %s %s",
                      STATS_KEY_ACTIVE, STATS_KEY_ACTIVE_PROC, K_FLOWS, user_key, proc) != 0) {
        free(ud);
        sent(-1, "flow abandoned");
    }
}

static void on_undone(redisReply *r, void *ud)
{
    char *proc = ud;
    if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 1)
        count_flow_metric(proc, "undone");
    else if (!r || r->type == REDIS_REPLY_ERROR)
        log_msg(LOG_WARN, "stats not recorded: flow undone");
    free(proc);
}

void stats_flow_undone(struct stats *st, const char *proc, const char *user_key)
{
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)clock_now());
    add_refs(st, user_key, STATS_KEY_ACTIVE, STATS_KEY_ACTIVE_PROC);
    char *ud = xstrdup(proc);
    if (store_command(st->store, on_undone, ud, "FCALL stats_flow_undo 3 %s %s %s %s %s %s",
                      STATS_KEY_ACTIVE, STATS_KEY_ACTIVE_PROC, K_FLOWS, user_key, proc, now) != 0) {
        free(ud);
        sent(-1, "flow undone");
    }
}

void stats_rating(struct stats *st, const char *proc, const char *commune, int stars)
{
    char ckey[COMMUNE_KEY_MAX], s[8], labels[128];
    stats_commune_key(commune, ckey, sizeof ckey);
    snprintf(s, sizeof s, "%d", stars);
    sent(store_command(st->store, on_written, NULL, "FCALL stats_rating 3 %s %s %s %s %s %s %s",
                       K_RATINGS, K_COMMUNES, K_NAMES, proc, ckey, s,
                       commune && *commune ? commune : ckey),
         "rating");
    snprintf(labels, sizeof labels, "procedure=\"%s\",stars=\"%d\"", proc, stars);
    metrics_inc("dvcbot_ratings_total", labels, 1);
    char field[COMMUNE_KEY_MAX + 96];
    snprintf(field, sizeof field, "rate|%s|%s|%d", proc, ckey, stars);
    stats_day_incr(st->store, field);
}

void stats_assist(struct stats *st, const char *volunteer_key, const char *proc, const char *commune)
{
    char ckey[COMMUNE_KEY_MAX];
    stats_commune_key(commune, ckey, sizeof ckey);
    add_refs(st, volunteer_key, STATS_KEY_ASSISTS, NULL);
    sent(store_command(st->store, on_written, NULL, "FCALL stats_assist 5 %s %s %s %s %s %s %s %s %s",
                       STATS_KEY_ASSISTS, K_COMMUNES, K_NAMES, K_MISC, K_FLOWS,
                       volunteer_key, ckey, commune && *commune ? commune : ckey, proc),
         "assist");
    metrics_inc("dvcbot_assists_total", "", 1);
    char field[COMMUNE_KEY_MAX + 16];
    snprintf(field, sizeof field, "assist|%s", ckey);
    stats_day_incr(st->store, field);
}

void stats_count(struct stats *st, const char *what)
{
    sent(store_command(st->store, on_written, NULL, "HINCRBY %s %s 1", K_MISC, what), what);
    char field[96];
    snprintf(field, sizeof field, "count|%s", what);
    stats_day_incr(st->store, field);
}

void stats_record_code_given(struct stats *st, const char *proc, const char *commune, long seconds)
{
    char ckey[COMMUNE_KEY_MAX], key[96], field[96], secs[24];
    stats_commune_key(commune, ckey, sizeof ckey);
    stats_day_code(st->store, proc, ckey, seconds);
    /* /admin/stats per procedure: how many, and the last STATS_DURATIONS times */
    snprintf(key, sizeof key, "%s%s", K_CODE_DUR, proc);
    snprintf(field, sizeof field, "%s|code_given", proc);
    snprintf(secs, sizeof secs, "%ld", seconds < 0 ? 0 : seconds);
    sent(store_command(st->store, on_written, NULL, "HINCRBY %s %s 1", K_FLOWS, field), "code given");
    sent(store_command(st->store, on_written, NULL, "LPUSH %s %s", key, secs), "code time");
    sent(store_command(st->store, on_written, NULL, "LTRIM %s 0 %d", key, STATS_DURATIONS - 1),
         "code time");
}

/* ===== Sweep ===== */

static void on_swept(redisReply *r, void *ud)
{
    (void)ud;
    if (!r || r->type != REDIS_REPLY_ARRAY)
        return;
    for (size_t i = 0; i < r->elements; i++)
        if (r->element[i]->type == REDIS_REPLY_STRING)
            count_flow_metric(r->element[i]->str, "abandoned");
    if (r->elements)
        log_fmt(LOG_INFO, "idle flows abandoned", "\"count\":%zu", r->elements);
}

void stats_tick(struct stats *st, int64_t now)
{
    char cutoff[24];
    snprintf(cutoff, sizeof cutoff, "%lld", (long long)now - st->cfg->flow_idle_s);
    if (!store_connected(st->store))
        return;
    /* A sweep not sent is done by the next tick. */
    (void)store_command(st->store, on_swept, st, "FCALL stats_flow_sweep 3 %s %s %s %s", STATS_KEY_ACTIVE,
                        STATS_KEY_ACTIVE_PROC, K_FLOWS, cutoff);
}

unsigned stats_sweep_period_ms(const struct config *cfg)
{
    unsigned every = cfg->flow_idle_s / 2;
    every = every < 1 ? 1 : every > 60 ? 60 : every;
    return every * 1000u;
}

/* ===== GET /admin/stats ===== */

double stats_quantile(const long *sorted, size_t n, double q)
{
    if (n == 0)
        return 0;
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return (double)sorted[n - 1];
    return (double)sorted[lo] + (h - (double)lo) * (double)(sorted[lo + 1] - sorted[lo]);
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

struct gather {
    struct stats *st;
    stats_report_cb cb;
    void *ud;
    cJSON *out;
    int pending;
    bool failed;
};

/* Looks up "field" in a flat HGETALL reply. */
static long hash_long(const redisReply *h, const char *field)
{
    for (size_t i = 0; h && h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2)
        if (strcmp(h->element[i]->str, field) == 0)
            return strtol(h->element[i + 1]->str, NULL, 10);
    return 0;
}

static cJSON *object_at(cJSON *parent, const char *name)
{
    cJSON *o = cJSON_GetObjectItemCaseSensitive(parent, name);
    return o ? o : cJSON_AddObjectToObject(parent, name);
}

static void add_flat_numbers(cJSON *obj, const redisReply *h)
{
    for (size_t i = 0; h && h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2)
        cJSON_AddNumberToObject(obj, h->element[i]->str,
                                (double)strtol(h->element[i + 1]->str, NULL, 10));
}

/* "<prefix>durations|median_s|p90_s" of a list of seconds; with under, how
 * many took at most UNDER_5_MIN. */
static void add_durations(cJSON *flow, const redisReply *list, const char *prefix, bool under)
{
    size_t n = list && list->type == REDIS_REPLY_ARRAY ? list->elements : 0, fast = 0;
    long *v = xcalloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        v[i] = strtol(list->element[i]->str, NULL, 10);
        fast += v[i] <= UNDER_5_MIN;
    }
    qsort(v, n, sizeof *v, cmp_long);
    char name[32];
    snprintf(name, sizeof name, "%s%s", prefix, "durations");
    cJSON_AddNumberToObject(flow, name, (double)n);
    snprintf(name, sizeof name, "%s%s", prefix, "median_s");
    cJSON_AddNumberToObject(flow, name, stats_quantile(v, n, 0.5));
    snprintf(name, sizeof name, "%s%s", prefix, "p90_s");
    cJSON_AddNumberToObject(flow, name, stats_quantile(v, n, 0.9));
    if (under) {
        snprintf(name, sizeof name, "%s%s", prefix, "under_5min");
        cJSON_AddNumberToObject(flow, name, (double)fast);
    }
    free(v);
}

static void add_satisfaction(cJSON *sat, const char *proc, const redisReply *ratings)
{
    char f[96];
    snprintf(f, sizeof f, "%s|n", proc);
    long n = hash_long(ratings, f);
    if (n == 0)
        return;
    snprintf(f, sizeof f, "%s|sum", proc);
    long sum = hash_long(ratings, f);
    cJSON *o = cJSON_AddObjectToObject(sat, proc);
    cJSON_AddNumberToObject(o, "count", (double)n);
    cJSON_AddNumberToObject(o, "average", round((double)sum / (double)n * 100) / 100);
    cJSON *stars = cJSON_AddObjectToObject(o, "stars");
    for (int s = 1; s <= 5; s++) {
        char k[16];
        snprintf(f, sizeof f, "%s|%d", proc, s);
        snprintf(k, sizeof k, "%d", s);
        cJSON_AddNumberToObject(stars, k, (double)hash_long(ratings, f));
    }
}

static void add_communes(cJSON *out, const redisReply *communes, const redisReply *names)
{
    cJSON *obj = cJSON_AddObjectToObject(out, "communes");
    for (size_t i = 0; communes && communes->type == REDIS_REPLY_ARRAY && i + 1 < communes->elements; i += 2) {
        char key[COMMUNE_KEY_MAX];
        const char *field = communes->element[i]->str, *bar = strrchr(field, '|');
        if (!bar || (size_t)(bar - field) >= sizeof key)
            continue;
        snprintf(key, sizeof key, "%.*s", (int)(bar - field), field);
        cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, key);
        if (!c) {
            c = cJSON_AddObjectToObject(obj, key);
            for (size_t j = 0; names && names->type == REDIS_REPLY_ARRAY && j + 1 < names->elements; j += 2)
                if (strcmp(names->element[j]->str, key) == 0)
                    cJSON_AddStringToObject(c, "name", names->element[j + 1]->str);
        }
        cJSON_AddNumberToObject(c, bar + 1, (double)strtol(communes->element[i + 1]->str, NULL, 10));
    }
    cJSON *c;
    cJSON_ArrayForEach(c, obj) {
        cJSON *n = cJSON_GetObjectItemCaseSensitive(c, "ratings");
        cJSON *sum = cJSON_GetObjectItemCaseSensitive(c, "rating_sum");
        if (cJSON_IsNumber(n) && n->valuedouble > 0 && cJSON_IsNumber(sum))
            cJSON_AddNumberToObject(c, "rating_average",
                                    round(sum->valuedouble / n->valuedouble * 100) / 100);
    }
}

static void build_report(struct gather *g, const redisReply *r)
{
    const struct catalog *cat = g->st->cat;
    cJSON *out = g->out;
    add_flat_numbers(cJSON_AddObjectToObject(out, "intents"), r->element[0]);
    cJSON *flows = cJSON_AddObjectToObject(out, "flows");
    cJSON *sat = cJSON_AddObjectToObject(out, "satisfaction");
    size_t k = 8;
    for (size_t i = 0; i < catalog_size(cat); i++) {
        const struct intent *in = catalog_at(cat, i);
        if (in->kind != INTENT_PROCEDURE)
            continue;
        cJSON *f = cJSON_AddObjectToObject(flows, in->id);
        static const char *const events[] = {"started", "finished", "abandoned", "code_given",
                                             "assisted"};
        for (size_t e = 0; e < sizeof events / sizeof events[0]; e++) {
            char field[96];
            snprintf(field, sizeof field, "%s|%s", in->id, events[e]);
            cJSON_AddNumberToObject(f, events[e], (double)hash_long(r->element[1], field));
        }
        add_durations(f, k < r->elements ? r->element[k] : NULL, "", false);
        add_durations(f, k + 1 < r->elements ? r->element[k + 1] : NULL, "code_", true);
        k += 2;
        add_satisfaction(sat, in->id, r->element[2]);
    }
    add_satisfaction(sat, STATS_GENERAL, r->element[2]);
    cJSON_AddNumberToObject(out, "flows_in_progress", (double)r->element[7]->integer);
    add_communes(out, r->element[3], r->element[4]);
    add_flat_numbers(object_at(out, "counters"), r->element[5]);
    cJSON *vol = object_at(out, "volunteers");
    add_flat_numbers(cJSON_AddObjectToObject(vol, "assists_by_volunteer"), r->element[6]);
}

static void gather_done(struct gather *g)
{
    if (--g->pending > 0)
        return;
    if (g->failed) {
        g->cb(NULL, g->ud);
    } else {
        char *json = cJSON_PrintUnformatted(g->out);
        g->cb(json ? json : "{}", g->ud);
        free(json);
    }
    cJSON_Delete(g->out);
    free(g);
}

static void on_gathered(redisReply *r, void *ud)
{
    struct gather *g = ud;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 8)
        g->failed = true;
    else
        build_report(g, r);
    gather_done(g);
}

static void on_volunteers(redisReply *r, void *ud)
{
    struct gather *g = ud;
    if (!r || r->type != REDIS_REPLY_INTEGER)
        g->failed = true;
    else
        cJSON_AddNumberToObject(object_at(g->out, "volunteers"), "registered", (double)r->integer);
    gather_done(g);
}

void stats_report(struct stats *st, stats_report_cb cb, void *ud)
{
    flush_counts(st); /* this turn's counts go ahead of the read */
    size_t n = catalog_size(st->cat), nk = 8;
    const char **argv = xcalloc(2 * n + 16, sizeof *argv);
    char **owned = xcalloc(2 * n + 1, sizeof *owned);
    size_t no = 0;
    argv[0] = "FCALL";
    argv[1] = "stats_gather";
    static const char *const fixed[] = {K_INTENTS, K_FLOWS, K_RATINGS, K_COMMUNES, K_NAMES,
                                        K_MISC, STATS_KEY_ASSISTS, STATS_KEY_ACTIVE};
    for (size_t i = 0; i < 8; i++)
        argv[3 + i] = fixed[i];
    for (size_t i = 0; i < n; i++) {
        const struct intent *in = catalog_at(st->cat, i);
        if (in->kind != INTENT_PROCEDURE)
            continue;
        for (int kind = 0; kind < 2; kind++) { /* flow durations, then code times */
            struct buf b;
            buf_init(&b);
            buf_printf(&b, "%s%s", kind ? K_CODE_DUR : K_DUR, in->id);
            owned[no++] = buf_steal(&b);
            argv[3 + nk++] = owned[no - 1];
        }
    }
    char nkeys[16];
    snprintf(nkeys, sizeof nkeys, "%zu", nk);
    argv[2] = nkeys;
    struct gather *g = xcalloc(1, sizeof *g);
    g->st = st;
    g->cb = cb;
    g->ud = ud;
    g->out = cJSON_CreateObject();
    g->pending = 2;
    if (store_command_argv(st->store, on_gathered, g, (int)(3 + nk), argv, NULL) != 0) {
        g->failed = true;
        g->pending--;
    }
    if (store_command(st->store, on_volunteers, g, "SCARD volunteers") != 0) {
        g->failed = true;
        gather_done(g);
    }
    for (size_t i = 0; i < no; i++)
        free(owned[i]);
    free(owned);
    free(argv);
}
