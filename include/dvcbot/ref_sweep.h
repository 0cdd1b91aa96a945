/* ref_sweep — takes out of the shared structures that never expire the
 * users whose link to them did.
 *
 * A user who follows a dossier is in sub:<CODE>, one who left a comment in
 * the zset {stats}:comments (STATS_KEY_COMMENTS), a volunteer in the set
 * volunteers (VOLUNTEER_SET); all are listed in
 * refs:{<user key>}, which erase-my-data walks (erase.h). refs:{} expires
 * DVCBOT_USER_TTL after the user's last message (refs.h); sub:<CODE> and the
 * comment index do not, so without this sweep the user key would stay in
 * them for ever, where erase-my-data cannot find it. A user key in one of
 * them whose refs:{} does not list that structure (any more) is removed:
 * the follow and the comment's index entry expire with the user. The
 * writers add to refs:{} first (lookup.c, feedback.c, the guard scripts).
 *
 * Every REF_SWEEP_PERIOD_MS the app's cron calls ref_sweep_tick: one pass,
 * SCAN MATCH sub:* pages (REF_SWEEP_SCAN_COUNT) each handed to the script
 * ref_sweep_sets, then ZSCAN pages of the comment index to ref_sweep_zset,
 * then the volunteers set, whole, to ref_sweep_sets.
 * One pass at a time; a pass a Redis failure cut short is started again on
 * the next tick. The scripts read refs:{} keys of other slots: one Redis,
 * not a cluster.
 *
 * Metrics: dvcbot_ref_sweep_passes_total (passes finished),
 * dvcbot_ref_sweep_removed_total (user keys removed).
 *
 * Lifetime: ref_sweep_free once store_close has returned (every pending
 * callback has been called, with NULL). Nothing is sent after it. */
#ifndef DVCBOT_REF_SWEEP_H
#define DVCBOT_REF_SWEEP_H

#include "dvcbot/store.h"

#include <stdint.h>

#define REF_SWEEP_PERIOD_MS (3600u * 1000u)
#define REF_SWEEP_SCAN_COUNT 200

struct ref_sweep;

struct ref_sweep *ref_sweep_new(struct store *st);
void ref_sweep_free(struct ref_sweep *rs);
/* Starts a pass unless one is under way (now is unused: the test is
 * membership in refs:{}, not time). */
void ref_sweep_tick(struct ref_sweep *rs, int64_t now);

#endif
