/* recipient: the one path for messages dvcbot sends on its own, against a
 * real redis-server: who gets a message (user record, blocked marks, the
 * channel driver's own rule), the verdict each caller counts, and the
 * reasons staff read. Fake channel drivers take the messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/outbox.h"
#include "dvcbot/recipient.h"
#include "redis_fixture.h"

#include <string.h>

struct fake_channel {
    struct outbox *ob;
    struct outbox_item *item;   /* the last delivery started */
    int deliveries;
    enum outbox_verdict answer; /* what the channel says at once */
    int error;                  /* item->last_error on failure */
};

struct fx {
    uv_loop_t loop;
    struct store *store;
    struct outbox *ob;
    struct recipients *rs;
    struct fake_channel tg, zl;
    int done;
    enum recipient_verdict verdict;
    char reason[RECIPIENT_REASON_MAX];
};

static int deliver(void *ctx, struct outbox_item *item)
{
    struct fake_channel *c = ctx;
    c->item = item;
    c->deliveries++;
    item->last_error = c->answer == OUTBOX_SENT ? 0 : c->error;
    outbox_delivered(c->ob, item, c->answer, 0);
    return 0;
}

/* A Zalo-like rule: "gone" = left for good, "far" = out of its window. */
static const char *const ZL_FIELDS[] = {"gone", "far", NULL};

static const char *zl_refusal(void *ctx, int64_t now, const char *const *values, bool *blocked)
{
    (void)ctx;
    (void)now;
    *blocked = values[0] != NULL;
    if (values[0])
        return "unfollowed";
    return values[1] ? "zalo_no_recent_interaction" : NULL;
}

static const char *zl_error_name(int code)
{
    return code == -211 ? "quota" : NULL;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->store = fx_store_open(&f->loop);
    assert_non_null(f->store);
    f->ob = outbox_new(&f->loop, 0);
    f->tg = (struct fake_channel){.ob = f->ob, .answer = OUTBOX_SENT};
    f->zl = (struct fake_channel){.ob = f->ob, .answer = OUTBOX_SENT};
    struct outbox_driver tg = {.deliver = deliver, .ctx = &f->tg, .rate_per_s = 1000, .burst = 1000};
    struct outbox_driver zl = {.deliver = deliver, .ctx = &f->zl, .rate_per_s = 1000, .burst = 1000,
                               .user_fields = ZL_FIELDS, .proactive_refusal = zl_refusal,
                               .error_name = zl_error_name};
    outbox_set_driver(f->ob, BOT_CH_TELEGRAM, &tg);
    outbox_set_driver(f->ob, BOT_CH_ZALO, &zl);
    f->rs = recipients_new(f->store, f->ob);
    fx_do("FLUSHALL");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    outbox_close(f->ob);
    store_close(f->store);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    recipients_free(f->rs);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
    return 0;
}

static void on_done(const struct recipient_result *res, void *ud)
{
    struct fx *f = ud;
    f->done++;
    f->verdict = res->verdict;
    snprintf(f->reason, sizeof f->reason, "%s", res->reason);
}

static bool finished(void *ud)
{
    return ((struct fx *)ud)->done > 0;
}

/* Sends to user_key and waits for the verdict. */
static enum recipient_verdict send_to(struct fx *f, const char *user_key, enum recipient_until until)
{
    struct bot_reply reply = {.text = (char *)"Thông báo"};
    f->done = 0;
    assert_int_equal(recipient_send(f->rs, user_key, &reply, OUTBOX_BULK, until, on_done, f), 0);
    assert_true(fx_run_until(&f->loop, finished, f, 5000));
    assert_int_equal(f->done, 1);
    return f->verdict;
}

static void test_a_user_with_a_record_gets_the_message(void **state)
{
    struct fx *f = *state;
    fx_do("HSET u:{tg:1001} ch telegram chat 1001");
    assert_int_equal(send_to(f, "tg:1001", RECIPIENT_UNTIL_DELIVERED), RECIPIENT_SENT);
    assert_string_equal(f->reason, "");
    assert_int_equal(f->tg.deliveries, 1);
    assert_string_equal(f->tg.item ? "1001" : "", "1001");
    assert_int_equal(send_to(f, "tg:1001", RECIPIENT_UNTIL_QUEUED), RECIPIENT_QUEUED);
}

static void test_no_record_or_no_chat_is_skipped(void **state)
{
    struct fx *f = *state;
    assert_int_equal(send_to(f, "tg:2002", RECIPIENT_UNTIL_DELIVERED), RECIPIENT_SKIPPED);
    assert_string_equal(f->reason, "no_user");
    fx_do("HSET u:{tg:2003} ch telegram chat %s", "");
    assert_int_equal(send_to(f, "tg:2003", RECIPIENT_UNTIL_DELIVERED), RECIPIENT_SKIPPED);
    assert_string_equal(f->reason, "no_chat");
    assert_int_equal(f->tg.deliveries, 0);
}

static void test_blocked_users_get_nothing_whichever_way_they_are_marked(void **state)
{
    struct fx *f = *state;
    fx_do("HSET u:{tg:3001} ch telegram chat 3001 blocked 1");
    assert_int_equal(send_to(f, "tg:3001", RECIPIENT_UNTIL_DELIVERED), RECIPIENT_BLOCKED);
    fx_do("HSET u:{tg:3002} ch telegram chat 3002");
    fx_do("SADD blocked:telegram 3002"); /* by another process */
    assert_int_equal(send_to(f, "tg:3002", RECIPIENT_UNTIL_DELIVERED), RECIPIENT_BLOCKED);
    fx_do("HSET u:{tg:3003} ch telegram chat 3003");
    outbox_mark_blocked(f->ob, BOT_CH_TELEGRAM, "3003", true);
    assert_int_equal(send_to(f, "tg:3003", RECIPIENT_UNTIL_DELIVERED), RECIPIENT_BLOCKED);
    assert_string_equal(f->reason, "blocked");
    assert_int_equal(f->tg.deliveries, 0);
    /* The channel says so while sending. */
    fx_do("HSET u:{tg:3004} ch telegram chat 3004");
    f->tg.answer = OUTBOX_BLOCKED;
    assert_int_equal(send_to(f, "tg:3004", RECIPIENT_UNTIL_DELIVERED), RECIPIENT_BLOCKED);
}

static void test_the_channel_rule_decides_with_its_own_fields(void **state)
{
    struct fx *f = *state;
    fx_do("HSET u:{zl:4001} ch zalo chat 4001 gone 1");
    assert_int_equal(send_to(f, "zl:4001", RECIPIENT_UNTIL_DELIVERED), RECIPIENT_BLOCKED);
    assert_string_equal(f->reason, "unfollowed");
    fx_do("HSET u:{zl:4002} ch zalo chat 4002 far 1");
    assert_int_equal(send_to(f, "zl:4002", RECIPIENT_UNTIL_DELIVERED), RECIPIENT_SKIPPED);
    assert_string_equal(f->reason, "zalo_no_recent_interaction");
    assert_int_equal(f->zl.deliveries, 0);
    fx_do("HSET u:{zl:4003} ch zalo chat 4003");
    assert_int_equal(send_to(f, "zl:4003", RECIPIENT_UNTIL_DELIVERED), RECIPIENT_SENT);
    assert_int_equal(f->zl.deliveries, 1);
}

static void test_failures_carry_the_channels_name_for_the_error(void **state)
{
    struct fx *f = *state;
    fx_do("HSET u:{zl:5001} ch zalo chat 5001");
    f->zl.answer = OUTBOX_FAILED;
    f->zl.error = -211;
    assert_int_equal(send_to(f, "zl:5001", RECIPIENT_UNTIL_DELIVERED), RECIPIENT_FAILED);
    assert_string_equal(f->reason, "zalo_quota");
    f->zl.error = -999;
    assert_int_equal(send_to(f, "zl:5001", RECIPIENT_UNTIL_DELIVERED), RECIPIENT_FAILED);
    assert_string_equal(f->reason, "error_-999");
    fx_do("HSET u:{tg:5002} ch telegram chat 5002");
    f->tg.answer = OUTBOX_FAILED;
    f->tg.error = 400;
    assert_int_equal(send_to(f, "tg:5002", RECIPIENT_UNTIL_DELIVERED), RECIPIENT_FAILED);
    assert_string_equal(f->reason, "error_400");
}

static void test_a_channel_without_driver_or_a_bad_key_sends_nothing(void **state)
{
    struct fx *f = *state;
    fx_do("HSET u:{wc:abc} ch webchat chat abc");
    assert_int_equal(send_to(f, "wc:abc", RECIPIENT_UNTIL_DELIVERED), RECIPIENT_SKIPPED);
    assert_string_equal(f->reason, "channel_off");
    struct bot_reply reply = {.text = (char *)"x"};
    assert_int_equal(recipient_send(f->rs, "nope", &reply, OUTBOX_BULK, RECIPIENT_UNTIL_DELIVERED, on_done, f),
                     RECIPIENT_BAD_KEY);
    assert_int_equal(recipient_channel("tg:1"), BOT_CH_TELEGRAM);
    assert_int_equal(recipient_channel("zl:1"), BOT_CH_ZALO);
    assert_int_equal(recipient_channel("wc:abc"), BOT_CH_WEBCHAT);
    assert_int_equal(recipient_channel("xx:1"), -1);
    assert_int_equal(recipient_channel("tg:"), -1);
    assert_int_equal(recipient_channel("tgx:1"), -1);
}

static void test_redis_lost_on_the_way_is_unknown_and_names_are_shared(void **state)
{
    struct fx *f = *state;
    fx_do("HSET u:{tg:6001} ch telegram chat 6001");
    struct bot_reply reply = {.text = (char *)"x"};
    f->done = 0;
    assert_int_equal(recipient_send(f->rs, "tg:6001", &reply, OUTBOX_BULK, RECIPIENT_UNTIL_DELIVERED, on_done, f),
                     0);
    store_close(f->store); /* fails the pending read */
    assert_int_equal(f->done, 1);
    assert_int_equal(f->verdict, RECIPIENT_UNKNOWN);
    f->store = fx_store_open(&f->loop);
    assert_string_equal(recipient_verdict_name(RECIPIENT_SENT), "sent");
    assert_string_equal(recipient_verdict_name(RECIPIENT_QUEUED), "queued");
    assert_string_equal(recipient_verdict_name(RECIPIENT_FAILED), "failed");
    assert_string_equal(recipient_verdict_name(RECIPIENT_BLOCKED), "blocked");
    assert_string_equal(recipient_verdict_name(RECIPIENT_SKIPPED), "skipped");
    assert_string_equal(recipient_verdict_name(RECIPIENT_UNKNOWN), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_user_with_a_record_gets_the_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_record_or_no_chat_is_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blocked_users_get_nothing_whichever_way_they_are_marked, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_the_channel_rule_decides_with_its_own_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failures_carry_the_channels_name_for_the_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_channel_without_driver_or_a_bad_key_sends_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_redis_lost_on_the_way_is_unknown_and_names_are_shared, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, fx_redis_start, fx_redis_stop);
}
