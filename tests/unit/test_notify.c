/* notify: a dossier's status change reaches its followers through the one
 * recipient path — the change's text, a change overtaken by a later one
 * skipped, and a follower who blocked the bot left alone (notices did not
 * check that before recipient.c) — the engine of app_fixture.h on Redis. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "app_fixture.h"
#include "dvcbot/metrics.h"
#include "dvcbot/notify.h"

#define CODE "000.00.12.H50-250202-0001"
#define RECORD(status)                                                                              \
    "{\"code\":\"" CODE "\",\"procedure\":\"khai_sinh\",\"applicant_name\":\"Lò Văn Páo\","         \
    "\"phone\":\"0912345678\",\"id_number\":\"012345678901\",\"commune\":\"Chiềng Cơi\","         \
    "\"agency\":\"UBND phường Chiềng Cơi\",\"status\":\"" status "\","                              \
    "\"received_at\":\"2025-02-02T08:00:00+07:00\",\"due_at\":\"2099-02-10\",\"fee\":0,"            \
    "\"paid\":false,\"submitted_online\":true,\"paid_online\":false,\"finished_at\":\"\",\"note\":\"\"}"

static int setup(void **state)
{
    afx_setup(state);
    struct afx *f = *state;
    afx_put_dossier(f, RECORD("dang_xu_ly"));
    afx_say(f, "wc:fol1", "xin chào"); /* a user record, as any user has */
    fx_do("SADD sub:%s wc:fol1", CODE);
    notify_start(f->app.notify);
    return 0;
}

static double count(const char *result)
{
    char labels[48];
    snprintf(labels, sizeof labels, "result=\"%s\"", result);
    return metrics_get("dvcbot_notifications_total", labels);
}

static bool counted(void *ud)
{
    const double *want = ud;
    return count("sent") + count("blocked") + count("superseded") >= *want;
}

static void test_a_status_change_reaches_the_follower(void **state)
{
    struct afx *f = *state;
    afx_put_dossier(f, RECORD("can_bo_sung"));
    notify_kick(f->app.notify);
    double want = 1;
    assert_true(afx_run_until(f, counted, &want));
    assert_int_equal(f->wc.n, 1);
    assert_string_equal(f->wc.chat[0], "fol1");
    assert_non_null(strstr(f->wc.sent[0].text, CODE));
    assert_true(count("sent") == 1);
}

static void test_a_change_overtaken_by_a_later_one_is_skipped(void **state)
{
    struct afx *f = *state;
    afx_put_dossier(f, RECORD("can_bo_sung"));
    afx_put_dossier(f, RECORD("da_co_ket_qua"));
    notify_kick(f->app.notify);
    double want = 2;
    assert_true(afx_run_until(f, counted, &want));
    assert_true(count("superseded") == 1);
    assert_int_equal(f->wc.n, 1);
    assert_null(strstr(f->wc.sent[0].text, "bổ sung"));
}

static void test_a_follower_who_blocked_the_bot_gets_nothing(void **state)
{
    struct afx *f = *state;
    afx_say(f, "tg:7001", "xin chào");
    fx_do("HSET u:{tg:7001} blocked 1");
    fx_do("SADD sub:%s tg:7001", CODE);
    afx_put_dossier(f, RECORD("can_bo_sung"));
    notify_kick(f->app.notify);
    double want = 2;
    assert_true(afx_run_until(f, counted, &want));
    assert_true(count("blocked") == 1);
    assert_int_equal(f->tg.n, 0);
    assert_int_equal(f->wc.n, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_status_change_reaches_the_follower, setup, afx_teardown),
        cmocka_unit_test_setup_teardown(test_a_change_overtaken_by_a_later_one_is_skipped, setup, afx_teardown),
        cmocka_unit_test_setup_teardown(test_a_follower_who_blocked_the_bot_gets_nothing, setup, afx_teardown),
    };
    return cmocka_run_group_tests(tests, fx_redis_start, fx_redis_stop);
}
