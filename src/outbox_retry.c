/* outbox_retry — the outbox's retry policy and backoff. */
#include "dvcbot/outbox_retry.h"
#include "dvcbot/outbox.h"

#include <stdlib.h>

struct outbox_retry outbox_retry_defaults(unsigned base_ms)
{
    return (struct outbox_retry){
        .base_ms = base_ms ? base_ms : OUTBOX_RETRY_BASE_MS,
        .max_ms = OUTBOX_RETRY_MAX_MS,
        .max_attempts = OUTBOX_MAX_ATTEMPTS,
        .max_age_ms = OUTBOX_MAX_AGE_MS,
    };
}

void outbox_retry_update(struct outbox_retry *policy, const struct outbox_retry *r)
{
    if (r->base_ms)
        policy->base_ms = r->base_ms;
    if (r->max_ms)
        policy->max_ms = r->max_ms;
    if (r->max_attempts)
        policy->max_attempts = r->max_attempts;
    if (r->max_age_ms)
        policy->max_age_ms = r->max_age_ms;
    if (policy->max_ms < policy->base_ms)
        policy->max_ms = policy->base_ms;
}

uint64_t outbox_backoff_ms(uint64_t base, uint64_t cap, unsigned n)
{
    uint64_t d = base;
    for (unsigned i = 1; i < n && d < cap; i++)
        d *= 2;
    if (d > cap)
        d = cap;
    return d / 2 + (uint64_t)rand() % (d / 2 + 1);
}

int64_t outbox_retry_delay(const struct outbox_retry *policy, struct outbox_item *it, bool throttled,
                           unsigned retry_after_ms, int64_t now)
{
    int64_t delay;
    if (throttled) {
        it->throttled++;
        delay = retry_after_ms ? retry_after_ms
                               : (int64_t)outbox_backoff_ms(OUTBOX_THROTTLE_MIN_MS, OUTBOX_THROTTLE_MAX_MS,
                                                            it->throttled);
    } else {
        if (++it->attempts >= policy->max_attempts) {
            it->reason = "gave_up";
            return -1;
        }
        delay = (int64_t)outbox_backoff_ms(policy->base_ms, policy->max_ms, it->attempts);
    }
    if (now + delay - it->queued_ms > (int64_t)policy->max_age_ms) {
        it->reason = "expired";
        return -1;
    }
    return delay;
}
