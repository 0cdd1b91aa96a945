/* broadcast: the worker takes a broadcast queued in Redis the way the
 * staff API leaves it (record, batches, stream, bc:active), waits for its
 * time, sends each recipient one message through the recipient path and
 * records one verdict each, then marks it done — the worker ticked by hand
 * with the app's clock (no sleeping), on a real Redis. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "app_fixture.h"
#include "dvcbot/broadcast_spec.h"
#include "dvcbot/broadcast_worker.h"

#define TEXT "Lịch tiêm chủng tháng này"

struct bfx {
    struct afx a;
    struct broadcast_worker *w;
};

static int setup(void **state)
{
    struct bfx *f = calloc(1, sizeof *f);
    fx_do("FLUSHALL");
    afx_open(&f->a);
    struct app *app = &f->a.app;
    f->w = broadcast_worker_new(&f->a.loop, &app->cfg, app->store, app->outbox, app->recipients);
    afx_say(&f->a, "wc:bc1", "xin chào");
    afx_say(&f->a, "wc:bc2", "xin chào");
    afx_say(&f->a, "tg:7101", "xin chào");
    fx_do("HSET u:{tg:7101} blocked 1");
    *state = f;
    return 0;
}

static void close_worker(void *ud)
{
    broadcast_worker_close(ud);
}

static int teardown(void **state)
{
    struct bfx *f = *state;
    broadcast_worker_stop(f->w);
    afx_close_with(&f->a, close_worker, f->w);
    free(f);
    return 0;
}

/* Broadcast 1 to wc:bc1, wc:bc2, tg:7101 (blocked) and wc:gone (no
 * record), due at not_before — what broadcast.c writes on a create. */
static void queue_broadcast(long long not_before)
{
    long long now = (long long)clock_now();
    fx_do("FCALL broadcast_init 2 bc:1 bc:1:q text %s buttons [] segment {} created %lld not_before %lld "
          "status resolving recipients 0 batches 0 sent 0 failed 0 blocked 0 skipped 0",
          TEXT, now, not_before);
    fx_do("SADD bc:1:b:1 wc:bc1 wc:bc2 tg:7101 wc:gone");
    fx_do("XADD bc:1:q * b 1");
    char keep[16];
    snprintf(keep, sizeof keep, "%d", BROADCAST_KEEP_S);
    fx_do("FCALL broadcast_resolved 3 bc:1 bc:1:q bc:active 4 1 %lld 1 %lld %s", not_before, now, keep);
}

static char *field(const char *name)
{
    redisReply *r = fx_cmd("HGET bc:1 %s", name);
    char *v = r->type == REDIS_REPLY_STRING ? strdup(r->str) : strdup("");
    freeReplyObject(r);
    return v;
}

static bool status_is(const char *want)
{
    char *s = field("status");
    bool same = strcmp(s, want) == 0;
    free(s);
    return same;
}

/* The worker's cron tick, then: is the broadcast done? */
static bool ticked_done(void *ud)
{
    struct bfx *f = ud;
    broadcast_worker_tick(f->w, clock_now());
    return status_is("done") && !broadcast_worker_busy(f->w);
}

static void test_each_recipient_gets_one_message_and_one_verdict(void **state)
{
    struct bfx *f = *state;
    queue_broadcast((long long)clock_now());
    broadcast_worker_wake(f->w);
    assert_true(afx_run_until(&f->a, ticked_done, f));
    assert_int_equal(f->a.wc.n, 2);
    for (size_t i = 0; i < 2; i++)
        assert_string_equal(f->a.wc.sent[i].text, TEXT);
    assert_int_equal(f->a.tg.n, 0);
    static const char *const want[][2] = {{"sent", "2"}, {"blocked", "1"}, {"skipped", "1"},
                                          {"reason:no_user", "1"}, {"reason:blocked", "1"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char *v = field(want[i][0]);
        assert_string_equal(v, want[i][1]);
        free(v);
    }
    redisReply *r = fx_cmd("ZSCORE bc:active 1");
    assert_int_equal(r->type, REDIS_REPLY_NIL);
    freeReplyObject(r);
}

static bool ticked(void *ud)
{
    struct bfx *f = ud;
    broadcast_worker_tick(f->w, clock_now());
    return !broadcast_worker_busy(f->w);
}

static void test_a_scheduled_broadcast_waits_for_its_time(void **state)
{
    struct bfx *f = *state;
    queue_broadcast((long long)clock_now() + 3600);
    broadcast_worker_wake(f->w);
    assert_true(afx_run_until(&f->a, ticked, f));
    assert_true(status_is("scheduled"));
    assert_int_equal(f->a.wc.n, 0);
    clock_set_offset(3601);
    broadcast_worker_wake(f->w);
    assert_true(afx_run_until(&f->a, ticked_done, f));
    assert_int_equal(f->a.wc.n, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_each_recipient_gets_one_message_and_one_verdict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_scheduled_broadcast_waits_for_its_time, setup, teardown),
    };
    return cmocka_run_group_tests(tests, fx_redis_start, fx_redis_stop);
}
