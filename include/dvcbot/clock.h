/* clock — the process's one notion of "now" (wall clock, unix time).
 *
 * Every time-dependent decision (reminders, broadcasts due, flow expiry,
 * rate limits, Zalo windows, timestamps written to Redis) asks clock_now()
 * or clock_now_ms() instead of time(NULL), so that one test hook can move
 * time forward for all of them at once.
 *
 * Like Redis's cached server.unixtime: once clock_attach(loop) has been
 * called (the cron does it when it starts), the time is the wall clock read
 * at the last clock_refresh() plus the loop's own monotonic time elapsed
 * since, so one turn of the loop sees one "now" and reading it costs no
 * system call. The cron refreshes it on every run (a stepped system clock
 * is followed within a second). Without a loop (`dvcbot import`, unit
 * tests) every call reads the system clock.
 *
 * Test hook: clock_set_offset() moves the clock forward by a number of
 * seconds. The only way to reach it from outside the process is the test
 * clock of `dvcbot serve` (DVCBOT_TEST_CLOCK, see clock_hook.h); nothing else sets
 * it. Log lines keep the real time.
 *
 * Not thread-safe: the loop's thread only (which is every thread we have). */
#ifndef DVCBOT_CLOCK_H
#define DVCBOT_CLOCK_H

#include <stdint.h>
#include <uv.h>

/* Unix time in seconds, and in milliseconds. */
int64_t clock_now(void);
int64_t clock_now_ms(void);

/* Takes the time from loop from now on; NULL goes back to the system clock. */
void clock_attach(uv_loop_t *loop);
/* Reads the system clock again. */
void clock_refresh(void);

/* Test hook: the clock runs offset_s seconds ahead of the system clock
 * (0 = real time). Returns the offset now in force. */
int64_t clock_set_offset(int64_t offset_s);
int64_t clock_offset(void);

#endif
