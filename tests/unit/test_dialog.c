/* dialog: one user's messages answered in arrival order, a redelivered
 * event answered once, the session kept in Redis between messages, intents
 * and buttons routed, the loads of one loop turn made in one Redis call (in
 * order for one user, failing each message once), and an answer without
 * memory while Redis is away —
 * the whole engine (app_fixture.h) against a real redis-server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <strings.h>
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

/* ===== The loads of one loop turn in one call (fcall_group.h) ===== */

struct answers {
    char user[4][BOT_ID_MAX];
    char text[4][2048];
    int n, calls;
};

static void on_answer(const struct bot_msg *msg, const struct bot_replies *replies, void *ud)
{
    struct answers *a = ud;
    a->calls++;
    if (a->n >= 4)
        return;
    snprintf(a->user[a->n], sizeof a->user[0], "%s", msg->user);
    a->text[a->n][0] = '\0';
    for (size_t i = 0; i < replies->n; i++)
        strncat(a->text[a->n], replies->items[i].text, sizeof a->text[0] - strlen(a->text[a->n]) - 1);
    a->n++;
}

static bool two_answers(void *ud)
{
    return ((struct answers *)ud)->n >= 2;
}

/* Hands a web chat message of user to the dialog without turning the loop. */
static void post(struct afx *f, const char *user, enum bot_msg_kind kind, const char *text,
                 struct answers *a)
{
    struct bot_msg *m = bot_msg_new(BOT_CH_WEBCHAT, kind);
    assert_true(bot_id_set(m->user, user));
    assert_true(bot_id_set(m->chat, user));
    snprintf(m->event_id, sizeof m->event_id, "grp%u", ++afx_events);
    bot_msg_set_text(m, text, strlen(text));
    assert_int_equal(dialog_handle(f->app.dialog, m, on_answer, a), 0);
}

/* The answer a got for user, or "" (none). */
static const char *answer_of(const struct answers *a, const char *user)
{
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->user[i], user) == 0)
            return a->text[i];
    return "";
}

/* From now on Redis's slow log keeps every command (with its arguments). */
static void log_every_command(void)
{
    fx_do("CONFIG SET slowlog-log-slower-than 0");
    fx_do("SLOWLOG RESET");
}

/* The loads sent since log_every_command: how many FCALLs of dialog_mark*,
 * the last one's function name into fn and its key count into nkeys; the
 * sessions' MGETs (library 18: read after the FCALL) into *mgets, the keys
 * of the last into *mget_keys. */
static int loads_logged(char *fn, size_t cap, long *nkeys, int *mgets, size_t *mget_keys)
{
    redisReply *r = fx_cmd("SLOWLOG GET 1000");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    int n = 0;
    *mgets = 0;
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *argv = r->element[i]->element[3];
        if (argv->elements >= 2 && strcasecmp(argv->element[0]->str, "MGET") == 0 &&
            strncmp(argv->element[1]->str, "s:{", 3) == 0) {
            ++*mgets;
            *mget_keys = argv->elements - 1;
        }
        if (argv->elements < 3 || strcasecmp(argv->element[0]->str, "FCALL") != 0 ||
            strncmp(argv->element[1]->str, "dialog_mark", 11) != 0)
            continue;
        n++;
        snprintf(fn, cap, "%s", argv->element[1]->str);
        *nkeys = strtol(argv->element[2]->str, NULL, 10);
    }
    freeReplyObject(r);
    fx_do("CONFIG SET slowlog-log-slower-than 10000");
    return n;
}

static void test_two_users_messages_of_one_loop_turn_are_loaded_in_one_call(void **state)
{
    struct afx *f = *state;
    struct answers a = {0};
    log_every_command();
    post(f, "grp1", BOT_MSG_TEXT, "dk khai sinh cho con", &a);
    post(f, "grp2", BOT_MSG_BUTTON, "flow:ket_hon", &a);
    assert_true(afx_run_until(f, two_answers, &a));
    char fn[32];
    long nkeys = 0;
    int mgets = 0;
    size_t mget_keys = 0;
    assert_int_equal(loads_logged(fn, sizeof fn, &nkeys, &mgets, &mget_keys), 1);
    assert_string_equal(fn, "dialog_mark_many_idx");
    assert_int_equal(nkeys, 4); /* 2 keys per load (library 23) */
    assert_int_equal(mgets, 1);  /* and both sessions in one MGET */
    assert_int_equal(mget_keys, 2);
    assert_int_equal(a.calls, 2);
    assert_non_null(strstr(answer_of(&a, "grp1"), "khai sinh"));
    assert_null(strstr(answer_of(&a, "grp1"), "gián đoạn"));
    assert_non_null(strstr(answer_of(&a, "grp2"), "kết hôn"));
    /* each got its own user record and its own session */
    redisReply *r = fx_cmd("HGET u:{wc:grp1} chat");
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_string_equal(r->str, "grp1");
    freeReplyObject(r);
    r = fx_cmd("GET s:{wc:grp2}");
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_non_null(strstr(r->str, "ket_hon"));
    freeReplyObject(r);
    r = fx_cmd("GET s:{wc:grp1}");
    assert_true(r->type != REDIS_REPLY_STRING || !strstr(r->str, "ket_hon"));
    freeReplyObject(r);
}

static void test_one_users_two_messages_of_one_loop_turn_see_each_others_session(void **state)
{
    struct afx *f = *state;
    struct answers a = {0};
    /* the second needs the flow the first one starts */
    post(f, "grp3", BOT_MSG_BUTTON, "flow:khai_sinh", &a);
    post(f, "grp3", BOT_MSG_BUTTON, "f:cancel", &a);
    assert_true(afx_run_until(f, two_answers, &a));
    assert_int_equal(a.calls, 2);
    assert_null(strstr(a.text[0], "Đã dừng hướng dẫn"));
    assert_non_null(strstr(a.text[1], "Đã dừng hướng dẫn"));
    redisReply *r = fx_cmd("GET s:{wc:grp3}");
    assert_true(r->type != REDIS_REPLY_STRING || !strstr(r->str, "\"flow\""));
    freeReplyObject(r);
}

static void test_a_failed_grouped_load_fails_each_message_once(void **state)
{
    struct afx *f = *state;
    struct answers a = {0};
    double before = metrics_get("dvcbot_degraded_turns_total", "");
    /* the call itself fails: no function to call */
    fx_do("FUNCTION DELETE dvcbot");
    post(f, "grp4", BOT_MSG_TEXT, "dk khai sinh cho con", &a);
    post(f, "grp5", BOT_MSG_TEXT, "dk khai sinh cho con", &a);
    assert_true(afx_run_until(f, two_answers, &a));
    assert_int_equal(a.calls, 2);
    assert_true(metrics_get("dvcbot_degraded_turns_total", "") == before + 2);
    assert_non_null(strstr(answer_of(&a, "grp4"), "gián đoạn"));
    assert_non_null(strstr(answer_of(&a, "grp5"), "gián đoạn"));
    assert_true(dialog_pending(f->app.dialog) == 0);
}

static void test_a_load_that_fails_alone_leaves_the_others_of_its_call(void **state)
{
    struct afx *f = *state;
    struct answers a = {0};
    fx_do("SET u:{wc:grp6} not-a-record"); /* the mark's HGET seen fails: wrong type */
    log_every_command();
    post(f, "grp6", BOT_MSG_TEXT, "dk khai sinh cho con", &a);
    post(f, "grp7", BOT_MSG_TEXT, "dk khai sinh cho con", &a);
    assert_true(afx_run_until(f, two_answers, &a));
    char fn[32];
    long nkeys = 0;
    int mgets = 0;
    size_t mget_keys = 0;
    assert_int_equal(loads_logged(fn, sizeof fn, &nkeys, &mgets, &mget_keys), 1);
    assert_int_equal(nkeys, 4); /* 2 keys per load (library 23) */
    assert_int_equal(a.calls, 2);
    assert_non_null(strstr(answer_of(&a, "grp6"), "gián đoạn"));
    assert_non_null(strstr(answer_of(&a, "grp7"), "khai sinh"));
    assert_null(strstr(answer_of(&a, "grp7"), "gián đoạn"));
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

static void test_a_typed_number_is_told_alone(void **state)
{
    (void)state;
    assert_int_equal(dialog_typed_number("2"), 2);
    assert_int_equal(dialog_typed_number(" 2. "), 2);
    assert_int_equal(dialog_typed_number("12"), 12);
    assert_int_equal(dialog_typed_number("0"), 0);
    assert_int_equal(dialog_typed_number("2 tháng"), 0);
    assert_int_equal(dialog_typed_number("1.5"), 0);
    assert_int_equal(dialog_typed_number("số 2"), 0);
    assert_int_equal(dialog_typed_number(""), 0);
}

/* Each test on an empty Redis and a fresh engine. */
#define ENGINE_TEST(fn) cmocka_unit_test_setup_teardown(fn, afx_setup, afx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_typed_number_is_told_alone),
        ENGINE_TEST(test_start_greets_with_the_menu),
        ENGINE_TEST(test_one_users_messages_are_answered_in_arrival_order),
        ENGINE_TEST(test_a_redelivered_event_is_answered_once),
        ENGINE_TEST(test_the_session_carries_a_flow_from_one_message_to_the_next),
        ENGINE_TEST(test_a_typed_question_reaches_its_procedure),
        ENGINE_TEST(test_two_users_messages_of_one_loop_turn_are_loaded_in_one_call),
        ENGINE_TEST(test_one_users_two_messages_of_one_loop_turn_see_each_others_session),
        ENGINE_TEST(test_a_failed_grouped_load_fails_each_message_once),
        ENGINE_TEST(test_a_load_that_fails_alone_leaves_the_others_of_its_call),
        ENGINE_TEST(test_without_redis_the_bot_answers_and_says_it_remembers_nothing),
    };
    return cmocka_run_group_tests(tests, fx_redis_start, fx_redis_stop);
}
