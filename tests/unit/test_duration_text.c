/* Unit tests: duration_text says a configured span the way a reply does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/duration_text.h"

#include <limits.h>

static void spans_read_in_the_largest_whole_unit(void **state)
{
    (void)state;
    const struct {
        unsigned seconds;
        const char *text;
    } cases[] = {
        {1800, "30 phút"},       {3600, "1 giờ"},         {5400, "1 giờ 30 phút"},
        {7200, "2 giờ"},         {86400, "1 ngày"},       {172800, "2 ngày"},
        {90000, "25 giờ"},       {86460, "24 giờ 1 phút"}, {60, "1 phút"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[DURATION_TEXT_MAX];
        assert_string_equal(duration_text(cases[i].seconds, out), cases[i].text);
    }
}

/* Never shorter than the setting: part of a minute counts as a whole one. */
static void seconds_round_up_to_a_minute(void **state)
{
    (void)state;
    char out[DURATION_TEXT_MAX];
    assert_string_equal(duration_text(0, out), "1 phút");
    assert_string_equal(duration_text(1, out), "1 phút");
    assert_string_equal(duration_text(61, out), "2 phút");
    assert_string_equal(duration_text(3599, out), "1 giờ");
    assert_string_equal(duration_text(3601, out), "1 giờ 1 phút");
}

static void the_largest_span_fits(void **state)
{
    (void)state;
    char out[DURATION_TEXT_MAX];
    assert_string_equal(duration_text(UINT_MAX, out), "1193046 giờ 29 phút");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spans_read_in_the_largest_whole_unit),
        cmocka_unit_test(seconds_round_up_to_a_minute),
        cmocka_unit_test(the_largest_span_fits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
