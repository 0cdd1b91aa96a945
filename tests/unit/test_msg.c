/* Unit tests: a reply's buttons are copies (label and payload in one block),
 * in the order asked, and they go away with bot_reply_clear_buttons while
 * the text stays. Under ASan a button freed twice or not at all fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/msg.h"

#include <string.h>

static void buttons_are_copies_in_the_order_asked(void **state)
{
    (void)state;
    struct bot_replies rs;
    bot_replies_init(&rs);
    struct bot_reply *r = bot_replies_add(&rs, "Chào anh/chị");
    char label[] = "Khai sinh", payload[] = "i:khai_sinh";
    assert_true(bot_reply_add_button(r, label, payload));
    assert_true(bot_reply_add_button(r, "", "menu"));
    assert_true(bot_reply_insert_button(r, 0, "Đầu tiên", "first"));
    label[0] = 'X';
    payload[0] = 'X';
    assert_int_equal(r->n_buttons, 3);
    assert_string_equal(r->buttons[0].label, "Đầu tiên");
    assert_string_equal(r->buttons[0].payload, "first");
    assert_string_equal(r->buttons[1].label, "Khai sinh");
    assert_string_equal(r->buttons[1].payload, "i:khai_sinh");
    assert_string_equal(r->buttons[2].label, "");
    assert_string_equal(r->buttons[2].payload, "menu");

    struct bot_reply copy;
    bot_reply_copy(&copy, r);
    bot_replies_free(&rs);
    assert_string_equal(copy.text, "Chào anh/chị");
    assert_int_equal(copy.n_buttons, 3);
    assert_string_equal(copy.buttons[1].payload, "i:khai_sinh");
    bot_reply_clear(&copy);
}

static void clearing_the_buttons_keeps_the_text(void **state)
{
    (void)state;
    struct bot_replies rs;
    bot_replies_init(&rs);
    struct bot_reply *r = bot_replies_add(&rs, "Văn bản");
    assert_true(bot_reply_add_button(r, "Một", "1"));
    assert_true(bot_reply_add_button(r, "Hai", "2"));
    bot_reply_clear_buttons(r);
    assert_int_equal(r->n_buttons, 0);
    assert_string_equal(r->text, "Văn bản");
    assert_true(bot_reply_add_button(r, "Ba", "3"));
    assert_string_equal(r->buttons[0].payload, "3");
    bot_replies_free(&rs);
}

static void a_payload_over_the_limit_is_refused(void **state)
{
    (void)state;
    struct bot_reply r = {0};
    char payload[BOT_PAYLOAD_MAX + 2];
    memset(payload, 'p', sizeof payload - 1);
    payload[sizeof payload - 1] = '\0';
    assert_false(bot_reply_add_button(&r, "x", payload));
    payload[BOT_PAYLOAD_MAX] = '\0';
    assert_true(bot_reply_add_button(&r, "x", payload));
    assert_int_equal(strlen(r.buttons[0].payload), BOT_PAYLOAD_MAX);
    bot_reply_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buttons_are_copies_in_the_order_asked),
        cmocka_unit_test(clearing_the_buttons_keeps_the_text),
        cmocka_unit_test(a_payload_over_the_limit_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
