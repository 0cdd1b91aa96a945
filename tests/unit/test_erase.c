/* Unit tests: erase-my-data, staff tickets and volunteer keys: the pure parts
 * (SCAN pattern, kinds of keys, ticket commands, user keys). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/erase.h"
#include "dvcbot/handoff.h"
#include "dvcbot/volunteer.h"

static void scan_pattern_escapes_glob_characters(void **state)
{
    (void)state;
    char p[160];
    erase_pattern("tg:123", p, sizeof p);
    assert_string_equal(p, "*{tg:123}*");
    erase_pattern("cli:a*b?[c]\\", p, sizeof p);
    assert_string_equal(p, "*{cli:a\\*b\\?\\[c\\]\\\\}*");
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
        cmocka_unit_test(scan_pattern_escapes_glob_characters),
        cmocka_unit_test(key_kinds_name_their_templates),
        cmocka_unit_test(staff_ticket_arguments_parse),
        cmocka_unit_test(volunteer_keys_look_like_channel_users),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
