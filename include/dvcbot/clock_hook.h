/* clock_hook — moves the clock of a running `dvcbot serve` forward, for
 * end-to-end tests of time-dependent behaviour (reminders, scheduled
 * broadcasts, flow expiry) without sleeping.
 *
 * Enabled only by DVCBOT_TEST_CLOCK=<path of a file>. The file holds one
 * integer: how many seconds the clock runs ahead of the system clock. It is
 * read at start and again on each SIGUSR2; after a read the offset is in
 * force (clock_set_offset), every cron job runs at once, and the gauge
 * dvcbot_test_clock_offset_seconds in /metrics shows the offset, which is
 * how a test knows its change was taken.
 *
 * Nothing of this is reachable over the network: moving the clock takes
 * writing that file and signalling the process, i.e. local access as the
 * service's user. Unset (production), no signal handler is installed and
 * the clock is the system clock. When set, a warning is logged at start.
 *
 * Lifetime: clock_hook_close closes the signal handle (the loop must run on
 * for the struct to be freed). */
#ifndef DVCBOT_CLOCK_HOOK_H
#define DVCBOT_CLOCK_HOOK_H

#include "dvcbot/cron.h"

#include <uv.h>

struct clock_hook;

/* Reads path once and installs the SIGUSR2 handler. Returns NULL with a
 * message in *err (caller frees) when the file cannot be read. */
struct clock_hook *clock_hook_start(uv_loop_t *loop, const char *path, struct cron *cron, char **err);
void clock_hook_close(struct clock_hook *tc);

#endif
