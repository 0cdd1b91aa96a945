/* clock: the system clock without a loop, one "now" per loop turn with
 * one, and the test offset that moves every reading forward.
 *
 * The bounds are read with clock_gettime(CLOCK_REALTIME), as the clock
 * reads it: time(NULL) is glibc's coarse clock (vDSO), up to a kernel tick
 * behind, so across a second boundary it may still say the second before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/clock.h"

#include <time.h>
#include <uv.h>

/* Waits at least ms of CLOCK_MONOTONIC, counted in nanoseconds: a
 * millisecond count of (sec, nsec) differences rounds a negative nsec part
 * towards zero and stopped up to 1 ms early (then the loop's reading could
 * move 19 ms for "20"). */
static void busy_wait_ms(int ms)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int64_t elapsed_ns;
    do {
        clock_gettime(CLOCK_MONOTONIC, &now);
        elapsed_ns = (int64_t)(now.tv_sec - start.tv_sec) * 1000000000 + (now.tv_nsec - start.tv_nsec);
    } while (elapsed_ns < (int64_t)ms * 1000000);
}

static int64_t wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

/* Each test starts with no loop and no offset, whatever the last one left. */
static int reset_clock(void **state)
{
    (void)state;
    clock_set_offset(0);
    clock_attach(NULL);
    return 0;
}

static void test_without_a_loop_it_is_the_system_clock(void **state)
{
    (void)state;
    int64_t before = wall_s();
    int64_t now = clock_now();
    int64_t after = wall_s();
    assert_in_range(now, before, after);
    int64_t ms = clock_now_ms();
    assert_in_range(ms / 1000, before, wall_s());
}

static void test_the_offset_moves_seconds_and_milliseconds_forward(void **state)
{
    (void)state;
    assert_int_equal(clock_set_offset(3600), 3600);
    assert_int_equal(clock_offset(), 3600);
    int64_t before = wall_s() + 3600;
    assert_in_range(clock_now(), before, wall_s() + 3600);
    assert_in_range(clock_now_ms() / 1000, before, wall_s() + 3600);
    clock_set_offset(0);
    before = wall_s();
    assert_in_range(clock_now(), before, wall_s());
}

static void test_on_a_loop_one_turn_sees_one_now(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    clock_attach(&loop);
    int64_t first = clock_now_ms();
    busy_wait_ms(20); /* the loop has not turned: its time stands still */
    assert_int_equal(clock_now_ms(), first);
    uv_update_time(&loop); /* what the loop does on each turn */
    assert_true(clock_now_ms() >= first + 20);
    /* Stays with the system clock. */
    clock_refresh();
    int64_t sys = wall_s();
    assert_in_range(clock_now(), sys - 1, sys + 1);
    clock_set_offset(60);
    assert_in_range(clock_now(), sys + 59, sys + 61);
    clock_set_offset(0);
    clock_attach(NULL);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_without_a_loop_it_is_the_system_clock, reset_clock),
        cmocka_unit_test_setup(test_the_offset_moves_seconds_and_milliseconds_forward, reset_clock),
        cmocka_unit_test_setup(test_on_a_loop_one_turn_sees_one_now, reset_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
