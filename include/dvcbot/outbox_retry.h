/* outbox_retry — when the outbox tries a failed item again, and when it
 * gives up: the retry policy, its defaults and the backoff (outbox.c asks
 * it after each verdict other than SENT).
 *
 * A transient failure (5xx, timeout, connection refused) waits a capped
 * exponential backoff with jitter: base, 2 base, 4 base ... up to max, each
 * drawn in [d/2, d]; after max_attempts such failures the item gives up. A
 * throttle (Telegram 429 with retry_after, Zalo -32) waits what the channel
 * said, or a throttle backoff of its own (1 s doubling to
 * OUTBOX_THROTTLE_MAX_MS) when it said nothing, and never uses up an
 * attempt; an item still not sent max_age_ms after it was queued gives up
 * ("expired").
 *
 * Pure policy: no state, no allocation, no callbacks; the item stays its
 * caller's (only its counters and reason are written). */
#ifndef DVCBOT_OUTBOX_RETRY_H
#define DVCBOT_OUTBOX_RETRY_H

#include <stdbool.h>
#include <stdint.h>

/* Retry policy defaults (outbox_set_retry). */
#define OUTBOX_MAX_ATTEMPTS 10
#define OUTBOX_RETRY_BASE_MS 5000
#define OUTBOX_RETRY_MAX_MS (5 * 60 * 1000)
#define OUTBOX_MAX_AGE_MS (24u * 3600 * 1000)
#define OUTBOX_THROTTLE_MIN_MS 1000
#define OUTBOX_THROTTLE_MAX_MS 60000
/* A gated item whose user's earlier message is still elsewhere looks again
 * after this wait, doubling (with jitter) up to the max. */
#define OUTBOX_GATE_MIN_MS 50
#define OUTBOX_GATE_MAX_MS 2000

struct outbox_item;

struct outbox_retry {
    unsigned base_ms;       /* first backoff after a transient failure */
    unsigned max_ms;        /* backoff cap */
    unsigned max_attempts;  /* transient failures before giving up */
    unsigned max_age_ms;    /* give up on an item queued longer ago than this */
};

/* The defaults, with base_ms (0: OUTBOX_RETRY_BASE_MS). */
struct outbox_retry outbox_retry_defaults(unsigned base_ms);
/* Takes the non-zero fields of r into policy; max_ms is kept >= base_ms. */
void outbox_retry_update(struct outbox_retry *policy, const struct outbox_retry *r);

/* The n-th (from 1) capped exponential backoff from base, with jitter in
 * [d/2, d]: retries of many items that failed together (an API outage)
 * spread out. */
uint64_t outbox_backoff_ms(uint64_t base, uint64_t cap, unsigned n);

/* How long item waits after a failure at now (clock_now_ms()), a throttle
 * when throttled (retry_after_ms: what the channel said, 0 = nothing), or
 * -1 when it gives up (item->reason is then "gave_up" or "expired"). Counts
 * the failure in item->attempts or item->throttled. */
int64_t outbox_retry_delay(const struct outbox_retry *policy, struct outbox_item *item, bool throttled,
                           unsigned retry_after_ms, int64_t now);

#endif
