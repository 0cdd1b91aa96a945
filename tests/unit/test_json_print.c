/* Unit tests: json_print writes the very text cJSON_PrintUnformatted
 * writes (a session's text is compared with the one it was loaded from), for
 * whole numbers (the path without printf), every other number, strings with
 * escapes and UTF-8, nesting and the items cJSON refuses to print. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/json_print.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void same_as_cjson(const cJSON *item)
{
    char *want = cJSON_PrintUnformatted(item);
    char *got = json_print(item);
    if (!want) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    assert_string_equal(got, want);
    free(want);
    free(got);
}

static void numbers_are_printed_as_cjson_prints_them(void **state)
{
    (void)state;
    static const double v[] = {
        0, 1, -1, 2, 42, 1796219343, -1796219343, 2147483647, 2147483648.0, -2147483649.0,
        4294967296.0, 1e14, 999999999999999.0, -999999999999999.0, 1e15, 1e15 + 1, 1e16,
        9007199254740991.0, 9007199254740993.0, -9007199254740992.0, 1e300, -1e300, 1e-300,
        0.1, 0.5, -0.5, 1.0 / 3, 2.0 / 3, 123456.789, 1796219343.25, 4.35, 0.1 + 0.2, 5e-324,
        1.7976931348623157e308, 3.14159265358979, 100.0 / 7, 1e21, 123456789012345.6,
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        cJSON *n = cJSON_CreateNumber(v[i]);
        same_as_cjson(n);
        cJSON_Delete(n);
        n = cJSON_CreateNumber(-v[i]);
        same_as_cjson(n);
        cJSON_Delete(n);
    }
    cJSON *odd[] = {cJSON_CreateNumber(NAN), cJSON_CreateNumber(INFINITY), cJSON_CreateNumber(-INFINITY)};
    for (size_t i = 0; i < 3; i++) {
        same_as_cjson(odd[i]);
        cJSON_Delete(odd[i]);
    }
    /* A pseudo-random spread of magnitudes, whole and not. */
    unsigned long long x = 88172645463325252ULL;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double d = (double)(x >> 11) / (double)(1ULL << (x % 60));
        if (i % 3 == 0)
            d = floor(d);
        cJSON *n = cJSON_CreateNumber(i % 2 ? -d : d);
        same_as_cjson(n);
        cJSON_Delete(n);
    }
}

static void strings_are_escaped_as_cjson_escapes_them(void **state)
{
    (void)state;
    static const char *s[] = {
        "", "plain", "xin chào anh/chị", "quote \" and \\ backslash", "tab\there\nnew\rline",
        "\b\f\x01\x1f\x7f end", "đăng ký khai sinh – Sơn La", "</script>", "\xe2\x80\xa8",
    };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, s[i], s[i]);
        same_as_cjson(o);
        cJSON_Delete(o);
    }
}

static void a_session_tree_is_printed_as_cjson_prints_it(void **state)
{
    (void)state;
    static const char *texts[] = {
        "{}",
        "[]",
        "{\"fq\":{\"p\":\"can_cuoc\",\"a\":{\"loai\":2}},\"ctx\":{\"p\":\"can_cuoc\",\"at\":1796219342},"
        "\"nb\":[\"flow:can_cuoc\",\"full:can_cuoc\",\"menu:thu_tuc\"]}",
        "{\"hs\":{\"step\":\"code\",\"then\":\"show\"},\"mode\":\"lookup\",\"x\":[1,2.5,[],{},null,true,false]}",
        "{\"flow\":{\"id\":\"ket_hon\",\"i\":3,\"a\":{},\"pre\":[],\"f\":0,\"t0\":1796219000,\"seen\":-1,"
        "\"ret\":0,\"pc\":\"\",\"ty\":1,\"ta\":1796219343.5}}",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        cJSON *t = cJSON_Parse(texts[i]);
        assert_non_null(t);
        same_as_cjson(t);
        cJSON_Delete(t);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "raw", cJSON_CreateRaw("{\"a\":1}"));
    same_as_cjson(o);
    cJSON_Delete(o);
}

static void what_cjson_refuses_gives_null(void **state)
{
    (void)state;
    cJSON *o = cJSON_CreateObject();
    cJSON *raw = cJSON_CreateRaw("x");
    free(raw->valuestring);
    raw->valuestring = NULL;
    cJSON_AddItemToObject(o, "r", raw);
    assert_null(json_print(o));
    same_as_cjson(o);
    cJSON_Delete(o);
    cJSON invalid = {0};
    assert_null(json_print(&invalid));
    same_as_cjson(&invalid);
    assert_null(json_print(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(numbers_are_printed_as_cjson_prints_them),
        cmocka_unit_test(strings_are_escaped_as_cjson_escapes_them),
        cmocka_unit_test(a_session_tree_is_printed_as_cjson_prints_it),
        cmocka_unit_test(what_cjson_refuses_gives_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
