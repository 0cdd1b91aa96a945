/* dialog: one user's messages answered in arrival order, a redelivered
 * event answered once, the session kept in Redis between messages, intents
 * and buttons routed, and an answer without memory while Redis is away —
 * the whole engine (app_fixture.h) against a real redis-server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "app_fixture.h"
#include "dvcbot/metrics.h"


static void test_start_greets_with_the_menu(void **state)
{
    struct afx *f = *state;
    const char *text = afx_say(f, "wc:dlg1", "/start");
    assert_non_null(strstr(text, "Xin chào"));
    assert_true(afx_has_button(f, "menu:thu_tuc"));
    assert_true(afx_has_button(f, "i:tra_cuu_ho_so"));
    /* A web chat page load stores nothing; the first real message makes
     * the user record the recipient path reads. */
    redisReply *r = fx_cmd("EXISTS u:{wc:dlg1}");
    assert_int_equal(r->integer, 0);
    freeReplyObject(r);
    afx_say(f, "wc:dlg1", "xin chào");
    r = fx_cmd("HGET u:{wc:dlg1} ch");
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_string_equal(r->str, "webchat");
    freeReplyObject(r);
}

struct order {
    char seen[8][BOT_ID_MAX];
    int n;
};

static void on_ordered(const struct bot_msg *msg, const struct bot_replies *replies, void *ud)
{
    struct order *o = ud;
    (void)replies;
    if (o->n < 8)
        snprintf(o->seen[o->n++], sizeof o->seen[0], "%s", msg->event_id);
}

static bool three_answered(void *ud)
{
    return ((struct order *)ud)->n == 3;
}

static void test_one_users_messages_are_answered_in_arrival_order(void **state)
{
    struct afx *f = *state;
    struct order o = {0};
    const char *texts[] = {"xin chào", "đăng ký khai sinh", "menu"};
    for (int i = 0; i < 3; i++) {
        struct bot_msg *m = bot_msg_new(BOT_CH_WEBCHAT, BOT_MSG_TEXT);
        bot_id_set(m->user, "dlg2");
        bot_id_set(m->chat, "dlg2");
        snprintf(m->event_id, sizeof m->event_id, "order%d", i);
        bot_msg_set_text(m, texts[i], strlen(texts[i]));
        assert_int_equal(dialog_handle(f->app.dialog, m, on_ordered, &o), 0);
    }
    assert_true(dialog_pending(f->app.dialog) == 3);
    assert_true(afx_run_until(f, three_answered, &o));
    assert_string_equal(o.seen[0], "order0");
    assert_string_equal(o.seen[1], "order1");
    assert_string_equal(o.seen[2], "order2");
}

static void test_a_redelivered_event_is_answered_once(void **state)
{
    struct afx *f = *state;
    double before = metrics_get("dvcbot_duplicates_total", "");
    afx_post(f, "wc:dlg3", BOT_MSG_TEXT, "xin chào", "same-event");
    assert_true(afx_run_until(f, afx_answered, f));
    assert_true(f->replies.n > 0);
    afx_post(f, "wc:dlg3", BOT_MSG_TEXT, "xin chào", "same-event");
    assert_true(afx_run_until(f, afx_answered, f));
    assert_int_equal(f->replies.n, 0);
    assert_true(metrics_get("dvcbot_duplicates_total", "") == before + 1);
}

static void test_the_session_carries_a_flow_from_one_message_to_the_next(void **state)
{
    struct afx *f = *state;
    afx_press(f, "wc:dlg4", "flow:khai_sinh");
    redisReply *r = fx_cmd("GET s:{wc:dlg4}");
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_non_null(strstr(r->str, "\"flow\""));
    freeReplyObject(r);
    /* A new engine (a restart) continues where the user was. */
    afx_close(f);
    afx_open(f);
    const char *text = afx_press(f, "wc:dlg4", "f:cancel");
    assert_non_null(strstr(text, "Đã dừng hướng dẫn"));
    assert_true(afx_has_button(f, "flow:khai_sinh"));
    r = fx_cmd("GET s:{wc:dlg4}");
    assert_true(r->type != REDIS_REPLY_STRING || !strstr(r->str, "\"flow\""));
    freeReplyObject(r);
}

static void test_a_typed_question_reaches_its_procedure(void **state)
{
    struct afx *f = *state;
    const char *text = afx_say(f, "wc:dlg5", "dk khai sinh cho con");
    assert_non_null(strstr(text, "khai sinh"));
    assert_true(afx_has_button(f, "flow:khai_sinh"));
}

/* Last: it stops the fixture's Redis. */
static void test_without_redis_the_bot_answers_and_says_it_remembers_nothing(void **state)
{
    struct afx *f = *state;
    fx_redis_kill();
    const char *text = afx_say(f, "wc:dlg6", "dk khai sinh cho con");
    assert_non_null(strstr(text, "khai sinh"));
    assert_non_null(strstr(text, "gián đoạn"));
}

/* Each test on an empty Redis and a fresh engine. */
#define ENGINE_TEST(fn) cmocka_unit_test_setup_teardown(fn, afx_setup, afx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        ENGINE_TEST(test_start_greets_with_the_menu),
        ENGINE_TEST(test_one_users_messages_are_answered_in_arrival_order),
        ENGINE_TEST(test_a_redelivered_event_is_answered_once),
        ENGINE_TEST(test_the_session_carries_a_flow_from_one_message_to_the_next),
        ENGINE_TEST(test_a_typed_question_reaches_its_procedure),
        ENGINE_TEST(test_without_redis_the_bot_answers_and_says_it_remembers_nothing),
    };
    return cmocka_run_group_tests(tests, fx_redis_start, fx_redis_stop);
}
