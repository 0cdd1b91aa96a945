/* Unit tests: strfmt writes what snprintf would, cut the same way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/buf.h"
#include "dvcbot/strfmt.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

static void decimals_read_as_printf_writes_them(void **state)
{
    (void)state;
    const long long values[] = {0, 7, -7, 10, 1234567890123LL, -99, LLONG_MAX, LLONG_MIN};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char got[32], want[32];
        size_t n = str_decimal(got, sizeof got, values[i]);
        snprintf(want, sizeof want, "%lld", values[i]);
        assert_string_equal(got, want);
        assert_int_equal(n, strlen(want));
    }
    char u[32];
    assert_int_equal(str_udecimal(u, sizeof u, ULLONG_MAX), 20);
    assert_string_equal(u, "18446744073709551615");
}

/* Short numbers take a shorter way (RESP lengths): the same text, cut the same. */
static void short_numbers_read_as_printf_writes_them_at_every_size(void **state)
{
    (void)state;
    for (unsigned long long v = 0; v <= 1000; v++) {
        for (size_t cap = 1; cap <= 5; cap++) {
            char got[8], want[8];
            memset(got, 'x', sizeof got);
            size_t n = str_udecimal(got, cap, v);
            snprintf(want, cap, "%llu", v);
            assert_string_equal(got, want);
            assert_int_equal(n, strlen(want));
            assert_int_equal(got[cap], 'x'); /* nothing written past cap */
        }
    }
}

/* Long numbers go two digits a step: every length from 1 to 20 digits, at
 * its edges (10^k - 1, 10^k, 10^k + 1) and in between, cut at every size. */
static void long_numbers_read_as_printf_writes_them_at_every_size(void **state)
{
    (void)state;
    unsigned long long p10 = 1, x = 0x9E3779B97F4A7C15ULL;
    for (int k = 0; k < 20; k++, p10 *= 10) {
        unsigned long long values[] = {p10 - 1, p10, p10 + 1, p10 + (x % p10), ULLONG_MAX - (x % p10)};
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
            for (size_t cap = 1; cap <= 22; cap++) {
                char got[24], want[24];
                memset(got, 'x', sizeof got);
                size_t n = str_udecimal(got, cap, values[i]);
                snprintf(want, cap, "%llu", values[i]);
                assert_string_equal(got, want);
                assert_int_equal(n, strlen(want));
                assert_int_equal(got[cap], 'x');
            }
        }
    }
}

static void what_does_not_fit_is_cut_and_terminated(void **state)
{
    (void)state;
    char small[4];
    assert_int_equal(str_decimal(small, sizeof small, 123456), 3);
    assert_string_equal(small, "123");
    assert_int_equal(str_decimal(small, sizeof small, -123456), 3);
    assert_string_equal(small, "-12");
    assert_int_equal(STR_CAT(small, sizeof small, "ab", "cd"), 3);
    assert_string_equal(small, "abc");
    char one[1] = {'x'};
    assert_int_equal(STR_CAT(one, sizeof one, "ab"), 0);
    assert_int_equal(one[0], '\0');
}

static void concatenation_skips_null_parts(void **state)
{
    (void)state;
    char key[64];
    assert_int_equal(STR_CAT(key, sizeof key, "s:", "{", "tg:42", "}", NULL), 9);
    assert_string_equal(key, "s:{tg:42}");
    assert_int_equal(STR_CAT(key, sizeof key, NULL), 0);
    assert_string_equal(key, "");
}

/* str_concat2 of measured parts writes what STR_CAT writes, at every size. */
static void measured_parts_concatenate_as_str_concat_does(void **state)
{
    (void)state;
    const char *as[] = {"", "s:", "refs:"}, *bs[] = {"", "{tg:123}", "{zl:4567890123456}"};
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++)
            for (size_t cap = 0; cap < 32; cap++) {
                char got[32] = "x", want[32] = "x";
                size_t g = str_concat2(got, cap, as[i], strlen(as[i]), bs[j], strlen(bs[j]));
                size_t w = STR_CAT(want, cap, as[i], bs[j]);
                assert_int_equal(g, w);
                assert_memory_equal(got, want, cap ? w + 1 : 1);
            }
}

static void a_buf_takes_decimals_after_what_it_holds(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "n=");
    buf_put_udecimal(&b, 0);
    buf_putc(&b, ',');
    buf_put_udecimal(&b, ULLONG_MAX);
    assert_int_equal(b.len, strlen("n=0,18446744073709551615"));
    assert_memory_equal(b.data, "n=0,18446744073709551615", b.len);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decimals_read_as_printf_writes_them),
        cmocka_unit_test(short_numbers_read_as_printf_writes_them_at_every_size),
        cmocka_unit_test(long_numbers_read_as_printf_writes_them_at_every_size),
        cmocka_unit_test(what_does_not_fit_is_cut_and_terminated),
        cmocka_unit_test(concatenation_skips_null_parts),
        cmocka_unit_test(a_buf_takes_decimals_after_what_it_holds),
        cmocka_unit_test(measured_parts_concatenate_as_str_concat_does),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
