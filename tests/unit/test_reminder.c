/* reminder: a dossier waiting on its subscribers is reminded one interval
 * after the change and then every interval, at most DVCBOT_REMIND_MAX times,
 * to current subscribers that may be written to — reminder_tick given the
 * time (no sleeping), the engine of app_fixture.h on a real Redis. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "app_fixture.h"
#include "dvcbot/metrics.h"
#include "dvcbot/reminder.h"

#define EVERY 3600
#define CODE "000.00.12.H50-250303-0001"
#define RECORD(status)                                                                              \
    "{\"code\":\"" CODE "\",\"procedure\":\"khai_sinh\",\"applicant_name\":\"Lò Văn Páo\","         \
    "\"phone\":\"0912345678\",\"id_number\":\"012345678901\",\"commune\":\"Chiềng Cơi\","         \
    "\"agency\":\"UBND phường Chiềng Cơi\",\"status\":\"" status "\","                              \
    "\"received_at\":\"2025-03-03T08:00:00+07:00\",\"due_at\":\"\",\"fee\":0,"                      \
    "\"paid\":false,\"submitted_online\":true,\"paid_online\":false,\"finished_at\":\"\","         \
    "\"note\":\"Thiếu giấy chứng sinh.\"}"

struct rfx {
    struct afx a;
    struct reminder *r;
    int64_t t0;
};

static int setup(void **state)
{
    struct rfx *f = calloc(1, sizeof *f);
    fx_do("FLUSHALL");
    char every[16];
    snprintf(every, sizeof every, "%d", EVERY);
    setenv("DVCBOT_REMIND_EVERY", every, 1);
    setenv("DVCBOT_REMIND_MAX", "2", 1);
    afx_open(&f->a);
    struct app *app = &f->a.app;
    struct reminder_deps rd = {
        .loop = &f->a.loop, .cfg = &app->cfg, .store = app->store, .outbox = app->outbox,
        .recipients = app->recipients, .tpl = app->tpl, .catalog = app->catalog,
    };
    f->r = reminder_new(&rd);
    reminder_start(f->r);
    afx_say(&f->a, "wc:rem1", "xin chào");
    fx_do("SADD sub:%s wc:rem1", CODE);
    afx_put_dossier(&f->a, RECORD("dang_xu_ly"));
    f->t0 = clock_now();
    afx_put_dossier(&f->a, RECORD("can_bo_sung")); /* status_at = t0 (or a second later) */
    *state = f;
    return 0;
}

static void close_reminder(void *ud)
{
    reminder_close(ud);
}

static int teardown(void **state)
{
    struct rfx *f = *state;
    reminder_stop(f->r);
    afx_close_with(&f->a, close_reminder, f->r);
    free(f);
    return 0;
}

static double scheduled(void)
{
    redisReply *r = fx_cmd("ZSCORE remind:due %s", CODE);
    double v = r->type == REDIS_REPLY_STRING ? strtod(r->str, NULL) : -1;
    freeReplyObject(r);
    return v;
}

struct wait_score {
    double want;
};

static bool score_is(void *ud)
{
    return scheduled() == ((struct wait_score *)ud)->want;
}

static int64_t status_at(void)
{
    redisReply *r = fx_cmd("HGET dossier:%s status_at", CODE);
    int64_t v = r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : 0;
    freeReplyObject(r);
    return v;
}

static bool round_over(void *ud)
{
    return !reminder_busy(((struct rfx *)ud)->r);
}

/* Ticks at now and waits until remind:due holds want (-1: gone) and the
 * round is over. */
static void tick(struct rfx *f, int64_t now, double want)
{
    reminder_tick(f->r, now);
    struct wait_score w = {want};
    assert_true(afx_run_until(&f->a, score_is, &w));
    assert_true(afx_run_until(&f->a, round_over, f));
}

static bool one_sent(void *ud)
{
    return ((struct rfx *)ud)->a.wc.n >= 1;
}

static bool two_sent(void *ud)
{
    return ((struct rfx *)ud)->a.wc.n >= 2;
}

static void test_reminded_one_interval_after_the_change_then_each_interval_up_to_the_maximum(void **state)
{
    struct rfx *f = *state;
    int64_t at = status_at();
    tick(f, at, (double)(at + EVERY));         /* looked at: not yet */
    assert_int_equal(f->a.wc.n, 0);
    tick(f, at + EVERY - 1, (double)(at + EVERY)); /* a second early: nothing */
    assert_int_equal(f->a.wc.n, 0);
    tick(f, at + EVERY, (double)(at + 2 * EVERY));
    assert_true(afx_run_until(&f->a, one_sent, f));
    assert_non_null(strstr(f->a.wc.sent[0].text, CODE));
    assert_non_null(strstr(f->a.wc.sent[0].text, "Thiếu giấy chứng sinh."));
    assert_string_equal(f->a.wc.chat[0], "rem1");
    tick(f, at + 2 * EVERY, -1);               /* the second and last */
    assert_true(afx_run_until(&f->a, two_sent, f));
    redisReply *r = fx_cmd("HGET dossier:%s remind_n", CODE);
    assert_string_equal(r->str, "2");
    freeReplyObject(r);
}

static void test_only_current_subscribers_that_may_be_written_to_are_reminded(void **state)
{
    struct rfx *f = *state;
    fx_do("SADD sub:%s wc:gone tg:7002", CODE); /* no user record; blocked */
    afx_say(&f->a, "tg:7002", "xin chào");
    fx_do("HSET u:{tg:7002} blocked 1");
    double skipped = metrics_get("dvcbot_reminder_messages_total", "kind=\"can_bo_sung\",result=\"skipped\"");
    double blocked = metrics_get("dvcbot_reminder_messages_total", "kind=\"can_bo_sung\",result=\"blocked\"");
    int64_t at = status_at();
    tick(f, at, (double)(at + EVERY));
    tick(f, at + EVERY, (double)(at + 2 * EVERY));
    assert_true(afx_run_until(&f->a, one_sent, f));
    assert_int_equal(f->a.tg.n, 0);
    assert_int_equal(f->a.wc.n, 1);
    assert_true(metrics_get("dvcbot_reminder_messages_total", "kind=\"can_bo_sung\",result=\"skipped\"") ==
                skipped + 1);
    assert_true(metrics_get("dvcbot_reminder_messages_total", "kind=\"can_bo_sung\",result=\"blocked\"") ==
                blocked + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_reminded_one_interval_after_the_change_then_each_interval_up_to_the_maximum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_only_current_subscribers_that_may_be_written_to_are_reminded, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, fx_redis_start, fx_redis_stop);
}
