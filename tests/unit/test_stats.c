/* Unit tests: stats helpers (quantiles of flow durations, commune keys). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/stats.h"
#include "dvcbot/stats_day.h"

#include <stdio.h>
#include <time.h>

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

/* The Vietnam date in a day key, asked in turn for times on either side of
 * Vietnam's midnight (17:00 UTC), of other days and before 1970, as gmtime
 * gives it: the kept date of the last day must never answer for another. */
static void day_keys_follow_the_vietnam_date(void **state)
{
    (void)state;
    const int64_t midnight = 1764781200; /* 2025-12-03 17:00:00 UTC = 2025-12-04 00:00 in Vietnam */
    const int64_t ts[] = {midnight - 1, midnight, midnight - 1, midnight + 86399, midnight + 86400,
                          midnight, 0, -1, -25200, -25201, 951782400, 951868800, midnight - 86400,
                          midnight - 86401, 4102444800LL};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        char got[STATS_DAY_KEY_MAX], want[STATS_DAY_KEY_MAX];
        stats_day_key(ts[i], "sd:", got, sizeof got);
        time_t local = (time_t)(ts[i] + 7 * 3600);
        struct tm tm;
        gmtime_r(&local, &tm);
        snprintf(want, sizeof want, "sd:%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
        assert_string_equal(got, want);
    }
    char small[8];
    stats_day_key(midnight, "cd:", small, sizeof small);
    assert_string_equal(small, "cd:2025");
    char key[STATS_DAY_KEY_MAX];
    stats_day_key(midnight - 1, "sd:", key, sizeof key);
    assert_string_equal(key, "sd:20251203");
    stats_day_key(midnight, "sd:", key, sizeof key);
    assert_string_equal(key, "sd:20251204");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quantiles_interpolate_between_values),
        cmocka_unit_test(communes_are_grouped_without_case_or_diacritics),
        cmocka_unit_test(day_keys_follow_the_vietnam_date),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
