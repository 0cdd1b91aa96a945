/* cron: jobs run on their periods and never early, a job that fell behind
 * runs once (no catch-up burst), cron_run_all runs every job at once,
 * cancel and close from inside a job, and every job of a run sees the same
 * now as the clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/clock.h"
#include "dvcbot/cron.h"

#include <time.h>
#include <uv.h>

#define CALLS_MAX 64

struct job_log {
    struct cron *cron;
    uv_loop_t *loop;
    int id;
    uint64_t start_ms;
    uint64_t at[CALLS_MAX];    /* uv_now() of each call */
    int64_t now[CALLS_MAX];    /* the now it was given */
    int calls;
    int stop_after;            /* cron_close after this many calls (0 = never) */
    int cancel_after;          /* cron_cancel itself after this many calls */
    int stall_ms;              /* blocks the loop this long on its first call */
};

static void busy_wait_ms(int ms)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do
        clock_gettime(CLOCK_MONOTONIC, &now);
    while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < ms);
}

static void record(void *ud, int64_t now)
{
    struct job_log *j = ud;
    if (j->calls < CALLS_MAX) {
        j->at[j->calls] = uv_now(j->loop);
        j->now[j->calls] = now;
    }
    j->calls++;
    assert_int_equal(now, clock_now());
    if (j->calls == 1 && j->stall_ms)
        busy_wait_ms(j->stall_ms);
    if (j->cancel_after && j->calls == j->cancel_after)
        cron_cancel(j->cron, j->id);
    if (j->stop_after && j->calls == j->stop_after)
        cron_close(j->cron);
}

static void setup_job(struct job_log *j, struct cron *c, uv_loop_t *loop, uint64_t period_ms)
{
    j->cron = c;
    j->loop = loop;
    j->start_ms = uv_now(loop);
    j->id = cron_every(c, "test", period_ms, record, j);
    assert_true(j->id >= 0);
}

static void run_to_the_end(uv_loop_t *loop)
{
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(loop), 0);
}

static void test_jobs_run_on_their_periods_and_never_early(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct cron *c = cron_new(&loop);
    struct job_log fast = {0}, slow = {.stop_after = 3};
    setup_job(&fast, c, &loop, 10);
    setup_job(&slow, c, &loop, 30);
    assert_int_equal(cron_start(c), 0);
    run_to_the_end(&loop);
    assert_int_equal(slow.calls, 3);
    for (int k = 0; k < slow.calls; k++)
        assert_true(slow.at[k] >= slow.start_ms + 30u * (unsigned)(k + 1));
    assert_true(fast.calls >= 1); /* how many depends on the load; never early */
    for (int k = 0; k < fast.calls && k < CALLS_MAX; k++)
        assert_true(fast.at[k] >= fast.start_ms + 10u * (unsigned)(k + 1));
}

static void test_a_job_that_fell_behind_runs_once_not_in_a_burst(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct cron *c = cron_new(&loop);
    struct job_log staller = {.stall_ms = 60}, other = {.stop_after = 12};
    setup_job(&staller, c, &loop, 30);
    setup_job(&other, c, &loop, 10);
    assert_int_equal(cron_start(c), 0);
    run_to_the_end(&loop);
    /* After the 60 ms stall the 10 ms job was five periods behind: it ran
     * once, and next a whole period after that (later runs keep the
     * schedule again). */
    assert_int_equal(other.calls, 12);
    int k = 1;
    while (k < other.calls && other.at[k - 1] < staller.at[0] + 60)
        k++;
    assert_true(k < other.calls);
    assert_true(other.at[k] >= other.at[k - 1] + 10);
}

static void test_run_all_runs_every_job_now_and_cancel_stops_one(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct cron *c = cron_new(&loop);
    struct job_log hourly = {0}, once = {.cancel_after = 1};
    setup_job(&hourly, c, &loop, 3600 * 1000);
    setup_job(&once, c, &loop, 3600 * 1000);
    assert_int_equal(cron_start(c), 0);
    clock_set_offset(7200); /* what the test clock does before run_all */
    cron_run_all(c);
    assert_int_equal(hourly.calls, 1);
    assert_int_equal(once.calls, 1);
    assert_true(hourly.now[0] >= (int64_t)time(NULL) + 7199); /* time(): coarse, never ahead */
    cron_run_all(c);
    assert_int_equal(hourly.calls, 2);
    assert_int_equal(once.calls, 1); /* cancelled itself */
    clock_set_offset(0);
    cron_close(c);
    cron_run_all(c); /* closed: nothing runs */
    assert_int_equal(hourly.calls, 2);
    run_to_the_end(&loop);
}

static void test_close_inside_a_job_stops_the_others_of_that_run(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct cron *c = cron_new(&loop);
    struct job_log closer = {.stop_after = 1}, after = {0};
    setup_job(&closer, c, &loop, 5);
    setup_job(&after, c, &loop, 5);
    assert_int_equal(cron_start(c), 0);
    run_to_the_end(&loop);
    assert_int_equal(closer.calls, 1);
    assert_int_equal(after.calls, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jobs_run_on_their_periods_and_never_early),
        cmocka_unit_test(test_a_job_that_fell_behind_runs_once_not_in_a_burst),
        cmocka_unit_test(test_run_all_runs_every_job_now_and_cancel_stops_one),
        cmocka_unit_test(test_close_inside_a_job_stops_the_others_of_that_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
