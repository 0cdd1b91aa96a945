/* Unit tests: erase-my-data, staff tickets and volunteer keys: the pure parts
 * (the keys a user owns, kinds of keys, ticket commands, user keys). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/erase.h"
#include "dvcbot/handoff.h"
#include "dvcbot/volunteer.h"

#include <string.h>

static void a_users_keys_are_named_not_searched(void **state)
{
    (void)state;
    char keys[ERASE_MAX_KEYS][ERASE_KEY_MAX];
    size_t n;
    erase_user_keys("tg:123", keys, &n);
    assert_true(n > 0 && n <= ERASE_MAX_KEYS);
    const char *want[] = {"s:{tg:123}", "u:{tg:123}", "p:{tg:123}", "dd:{tg:123}", "refs:{tg:123}"};
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
        bool found = false;
        for (size_t i = 0; i < n; i++)
            found |= strcmp(keys[i], want[w]) == 0;
        assert_true(found);
    }
    /* the index of delivery ids first (the marks are found through it),
     * refs:{} last */
    assert_string_equal(keys[0], "dd:{tg:123}");
    assert_string_equal(keys[n - 1], "refs:{tg:123}");
    /* the longest user key fits every name */
    char longest[DIALOG_USER_KEY_MAX];
    memset(longest, 'x', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    erase_user_keys(longest, keys, &n);
    for (size_t i = 0; i < n; i++)
        assert_non_null(strstr(keys[i], longest));
}

static void key_kinds_name_their_templates(void **state)
{
    (void)state;
    char t[64];
    erase_kind_template("s:{tg:1}", t, sizeof t);
    assert_string_equal(t, "erase_kind_s");
    erase_kind_template("dd:{tg:1}:555", t, sizeof t);
    assert_string_equal(t, "erase_kind_dd");
    erase_kind_template("wc:inbox:{wc:abcdefgh}", t, sizeof t);
    assert_string_equal(t, "erase_kind_wc_inbox");
    erase_kind_template("{tg:1}", t, sizeof t);
    assert_string_equal(t, "erase_kind_other");
}

static void staff_ticket_arguments_parse(void **state)
{
    (void)state;
    const char *text = NULL;
    assert_int_equal(handoff_parse_ticket(" 42 Chào bạn", &text), 42);
    assert_string_equal(text, "Chào bạn");
    assert_int_equal(handoff_parse_ticket(" #7", &text), 7);
    assert_string_equal(text, "");
    assert_int_equal(handoff_parse_ticket(" abc", &text), 0);
    assert_int_equal(handoff_parse_ticket(" 0 x", &text), 0);
    assert_int_equal(handoff_parse_ticket(" -3 x", &text), 0);
    assert_int_equal(handoff_parse_ticket(" 12x", &text), 0);
    assert_int_equal(handoff_parse_ticket("", &text), 0);
}

static void volunteer_keys_look_like_channel_users(void **state)
{
    (void)state;
    assert_true(volunteer_user_key_valid("tg:7000000001"));
    assert_true(volunteer_user_key_valid("wc:web-user_01"));
    assert_true(volunteer_user_key_valid("zl:123"));
    assert_false(volunteer_user_key_valid("tg:"));
    assert_false(volunteer_user_key_valid("xx:1"));
    assert_false(volunteer_user_key_valid("tg:1 2"));
    assert_false(volunteer_user_key_valid("tg:{1}"));
    assert_false(volunteer_user_key_valid("bad key"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_users_keys_are_named_not_searched),
        cmocka_unit_test(key_kinds_name_their_templates),
        cmocka_unit_test(staff_ticket_arguments_parse),
        cmocka_unit_test(volunteer_keys_look_like_channel_users),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
