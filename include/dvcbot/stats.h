/* stats — usage counters kept in Redis, so every dvcbot process adds to the
 * same numbers, and the report staff read (GET /admin/stats, admin_api.c).
 *
 * Every count also goes to the day's counters of stats_day.h, from which the
 * staff console adds up any reporting period.
 *
 * What is counted: typed messages per intent; per procedure the guided flows
 * started, finished and abandoned and the duration of the last
 * STATS_DURATIONS finished ones (median and 90th percentile are computed on
 * request); ratings per procedure and commune; per commune the finished
 * flows, ratings and volunteer assists; hand-offs, erasures, comments.
 *
 * Keys all carry the hash tag {stats} (one cluster slot, so the Lua scripts
 * may touch several): {stats}:intents, {stats}:flows, {stats}:dur:<proc>,
 * {stats}:codedur:<proc>,
 * {stats}:ratings, {stats}:communes, {stats}:commune_names, {stats}:misc.
 * Three hold user keys and are therefore listed in refs:{<user key>} for
 * erase-my-data: {stats}:active (zset of users in a flow, by last activity),
 * {stats}:active_proc (hash user → procedure) and {stats}:assists_volunteer
 * (hash user → assists). A flow that stays idle past DVCBOT_FLOW_IDLE is
 * counted abandoned by the sweep (stats_tick, on the app's cron) in whichever
 * process sees it first.
 *
 * The same events also feed process-local Prometheus series (/metrics):
 * dvcbot_flows_total{procedure,event}, dvcbot_flow_duration_seconds,
 * dvcbot_ratings_total{procedure,stars}, dvcbot_handoffs_total{event},
 * dvcbot_erasures_total, dvcbot_assists_total.
 *
 * Recording functions send their Redis commands and return (nothing waits for
 * them; Redis down → logged and lost). Typed messages (stats_intent) are
 * added up in memory over a loop turn and written at its end (store_defer),
 * a few commands for all the turn's messages, ahead of anything a later
 * turn reads. stats_close frees the struct; call it
 * after store_close so no Redis callback of its own can fire late. */
#ifndef DVCBOT_STATS_H
#define DVCBOT_STATS_H

#include "dvcbot/catalog.h"
#include "dvcbot/config.h"
#include "dvcbot/store.h"

#include <stddef.h>
#include <stdint.h>

#define STATS_DURATIONS 1000
#define STATS_KEY_ACTIVE "{stats}:active"
#define STATS_KEY_ACTIVE_PROC "{stats}:active_proc"
#define STATS_KEY_ASSISTS "{stats}:assists_volunteer"
#define STATS_KEY_COMMENTS "{stats}:comments"
/* Stands for "no commune given" in per-commune counts. */
#define STATS_NO_COMMUNE "khong_ro"
/* The procedure a general rating (intent gop_y) is filed under. */
#define STATS_GENERAL "chung"

struct stats;

struct stats *stats_new(struct store *store, const struct config *cfg, const struct catalog *cat);
/* The abandoned-flow sweep (dvcbot serve runs it on its cron, every
 * stats_sweep_period_ms): flows idle since now - DVCBOT_FLOW_IDLE. */
void stats_tick(struct stats *st, int64_t now);
unsigned stats_sweep_period_ms(const struct config *cfg);
void stats_close(struct stats *st);

void stats_intent(struct stats *st, const char *intent_id);
void stats_flow_started(struct stats *st, const char *proc, const char *user_key);
/* The user did something in the flow (keeps the sweep away). */
void stats_flow_touch(struct stats *st, const char *user_key);
void stats_flow_finished(struct stats *st, const char *proc, const char *user_key, long seconds,
                         const char *commune);
void stats_flow_abandoned(struct stats *st, const char *proc, const char *user_key);
/* A cancelled flow taken back within FLOW_UNDO_S (flow_undo.c), or a flow
 * set aside while its user assisted a resident back (flows_unhold, flow.h):
 * in progress again and its abandonment at the cancel or the set-aside taken
 * back, so it ends counted once, finished or abandoned;
 * dvcbot_flows_total{event="undone"} counts these (a counter cannot go down:
 * abandoned minus undone is the figure). */
void stats_flow_undone(struct stats *st, const char *proc, const char *user_key);
void stats_rating(struct stats *st, const char *proc, const char *commune, int stars);
/* A flow a volunteer ran for a resident reached its end: per volunteer,
 * per commune, and per procedure ("assisted" in /admin/stats flows: of
 * its finished flows, those no rating is asked for, feedback.h). */
void stats_assist(struct stats *st, const char *volunteer_key, const char *proc, const char *commune);
/* Adds one to a named counter of {stats}:misc ("handoff_opened", ...). */
void stats_count(struct stats *st, const char *what);
/* A guided flow ended with the user giving their dossier code, `seconds`
 * after the flow started (called by flow.c): the "time to a dossier code"
 * indicator of the staff console, and in /admin/stats per procedure
 * code_given, code_median_s, code_p90_s and code_under_5min (of the last
 * STATS_DURATIONS, {stats}:codedur:<proc>). commune may be NULL or "". */
void stats_record_code_given(struct stats *st, const char *proc, const char *commune, long seconds);

/* The commune as a stats field: folded (no case, no diacritics), or
 * STATS_NO_COMMUNE when empty. */
void stats_commune_key(const char *commune, char *out, size_t cap);

/* Everything staff see of the statistics (admin_api.c serves it as GET
 * /admin/stats): cb gets the JSON document (valid during the call), or NULL
 * when Redis is unavailable; exactly once, possibly before stats_report
 * returns. */
typedef void (*stats_report_cb)(const char *json, void *ud);
void stats_report(struct stats *st, stats_report_cb cb, void *ud);

/* Linear-interpolated quantile q (0..1) of n sorted values; 0 when n == 0. */
double stats_quantile(const long *sorted, size_t n, double q);

#endif
