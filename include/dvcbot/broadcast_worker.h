/* broadcast_worker — sends the broadcasts queued in Redis at the channels'
 * rate limits, behind user replies.
 *
 * The app's cron calls broadcast_worker_tick every
 * BROADCAST_WORKER_TICK_MS. About every second the worker lists the due broadcasts (bc:active scored
 * by not_before), marks them running and takes batches from each one's
 * stream bc:<id>:q in consumer group "bcw": first its own pending entries
 * (left by an earlier process with the same DVCBOT_WORKER_ID), then new
 * entries, then entries another worker left idle for longer than
 * DVCBOT_BROADCAST_CLAIM_MS (XAUTOCLAIM). Each recipient goes through
 * recipient.h (the user record, the channel's rule, the outbox) as
 * OUTBOX_BULK — only while the channel's bulk queue and the recipients on
 * their way are fewer than twice its rate, so user replies go first and the
 * rate limit holds. The outbox's final verdict is recorded by one script: the
 * user key leaves the batch set, a counter and the reason are incremented;
 * the stream entry is acked and deleted when its batch is empty, and the
 * broadcast is done when its stream is empty.
 *
 * Delivery is at least once: a recipient whose verdict was not recorded
 * (process killed, Redis lost) is sent again by whoever takes the batch;
 * counts stay exact because only the first removal of a user key counts.
 *
 * Ownership: the worker owns its runs, batches and recipients.
 * broadcast_worker_stop stops taking work (sends already handed to the
 * outbox finish and are recorded); broadcast_worker_busy tells whether any
 * are left. broadcast_worker_close must come after outbox_close and
 * store_close, which call back with what was left; it frees the worker. */
#ifndef DVCBOT_BROADCAST_WORKER_H
#define DVCBOT_BROADCAST_WORKER_H

#include "dvcbot/config.h"
#include "dvcbot/outbox.h"
#include "dvcbot/recipient.h"
#include "dvcbot/store.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define BROADCAST_WORKER_TICK_MS 100

struct broadcast_worker;

/* The worker does nothing while the store is down. */
struct broadcast_worker *broadcast_worker_new(uv_loop_t *loop, const struct config *cfg,
                                              struct store *store, struct outbox *ob,
                                              struct recipients *recipients);
/* Lists due broadcasts (about every second) and starts what the channels
 * have room for. */
void broadcast_worker_tick(struct broadcast_worker *w, int64_t now);
/* Looks for due broadcasts at the next tick instead of within a second. */
void broadcast_worker_wake(struct broadcast_worker *w);
void broadcast_worker_stop(struct broadcast_worker *w);
bool broadcast_worker_busy(const struct broadcast_worker *w);
/* Sets the gauge dvcbot_broadcast_runs: broadcasts this process holds work
 * of (0 once a cancelled one has nothing left on its way). */
void broadcast_worker_update_metrics(const struct broadcast_worker *w);
void broadcast_worker_close(struct broadcast_worker *w);

#endif
