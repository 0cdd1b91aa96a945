/* stats_day — the bot's own records per Vietnam day, so the staff console can
 * add them up over any reporting period (indicator.h) next to the dossiers.
 *
 * Keys (hash tag {stats}, the slot of the other counters):
 *   {stats}:day:<YYYYMMDD>   hash of counters:
 *       msg                            typed messages the matcher classified
 *       msg_khac                       of which not understood (intent khac)
 *       rate|<proc>|<ckey>|<stars>     ratings (proc "chung" for general ones)
 *       assist|<ckey>                  flows a volunteer finished for a resident
 *       count|<what>                   named events of stats_count
 *                                      (handoff_opened, comments, complaints, ...)
 *       code|<proc>|<ckey>             dossier codes given at the end of a flow
 *   {stats}:code:<YYYYMMDD>  list of "<proc>|<ckey>|<seconds>": the time from a
 *                            guided flow's start to its dossier code
 *                            (stats_record_code_given), newest first, at most
 *                            STATS_CODE_KEEP per day
 * <ckey> is stats_commune_key (folded, "khong_ro" when unknown). Both keys
 * expire STATS_DAY_KEEP_S after their last write. Nothing here names a user.
 *
 * Writes are fire and forget (Redis down: logged and lost), like stats.h. */
#ifndef DVCBOT_STATS_DAY_H
#define DVCBOT_STATS_DAY_H

#include "dvcbot/store.h"

#include <stddef.h>
#include <stdint.h>

#define STATS_DAY_PREFIX "{stats}:day:"
#define STATS_CODE_PREFIX "{stats}:code:"
#define STATS_DAY_KEEP_S (800 * 24 * 3600)
#define STATS_CODE_KEEP 20000
#define STATS_DAY_KEY_MAX 32
#define STATS_DAY_ADD_MAX 8   /* fields of one stats_day_add */

/* prefix + the Vietnam date of t as YYYYMMDD. */
void stats_day_key(int64_t t, const char *prefix, char *out, size_t cap);
/* Adds one to a counter of today's hash. */
void stats_day_incr(struct store *s, const char *field);
/* Adds counts to today's hash: n fields and their amounts (zeros skipped),
 * in one call. */
void stats_day_add(struct store *s, size_t n, const char *const *fields, const unsigned long *amounts);
/* Records one time to a dossier code in today's list and counter. */
void stats_day_code(struct store *s, const char *proc, const char *ckey, long seconds);

#endif
