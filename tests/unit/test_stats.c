/* Unit tests: stats helpers (quantiles of flow durations, commune keys). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/stats.h"

static void quantiles_interpolate_between_values(void **state)
{
    (void)state;
    const long one[] = {42};
    const long two[] = {10, 20};
    const long ten[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 100};
    assert_true(stats_quantile(NULL, 0, 0.5) == 0);
    assert_true(stats_quantile(one, 1, 0.5) == 42);
    assert_true(stats_quantile(one, 1, 0.9) == 42);
    assert_true(stats_quantile(two, 2, 0.5) == 15);
    assert_true(stats_quantile(two, 2, 0.9) == 19);
    assert_true(stats_quantile(ten, 10, 0.5) == 5.5);
    assert_true(stats_quantile(ten, 10, 0.9) > 9 && stats_quantile(ten, 10, 0.9) < 100);
    assert_true(stats_quantile(ten, 10, 1.0) == 100);
}

static void communes_are_grouped_without_case_or_diacritics(void **state)
{
    (void)state;
    char a[64], b[64], c[64];
    stats_commune_key("Xã Chiềng Cơi", a, sizeof a);
    stats_commune_key("xa chieng  coi", b, sizeof b);
    assert_string_equal(a, "xa chieng coi");
    assert_string_equal(a, b);
    stats_commune_key("", c, sizeof c);
    assert_string_equal(c, STATS_NO_COMMUNE);
    stats_commune_key(NULL, c, sizeof c);
    assert_string_equal(c, STATS_NO_COMMUNE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quantiles_interpolate_between_values),
        cmocka_unit_test(communes_are_grouped_without_case_or_diacritics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
