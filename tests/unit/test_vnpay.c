/* VNPay links: PHP urlencode, GMT+7 dates, a signature computed independently
 * (Python hmac over the PHP-encoded query), verification of the gateway's
 * calls and of tampered ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/vnpay.h"

#include <stdlib.h>
#include <string.h>

#define SECRET "SECRETKEY123"
/* 2024-11-20T02:40:00Z = 09:40:00 in Vietnam. */
#define CREATED 1732070400

static const char WANT_QUERY[] =
    "vnp_Amount=15000000&vnp_Command=pay&vnp_CreateDate=20241120094000&vnp_CurrCode=VND"
    "&vnp_ExpireDate=20241120095500&vnp_IpAddr=127.0.0.1&vnp_Locale=vn"
    "&vnp_OrderInfo=thanh+toan+le+phi+ho+so+000+00+12+h50+241120+0003"
    "&vnp_OrderType=billpayment&vnp_ReturnUrl=https%3A%2F%2Fbot.example.vn%2Fpay%2Freturn"
    "&vnp_TmnCode=DVCTEST1&vnp_TxnRef=DVC1-ab12cd34&vnp_Version=2.1.0";
/* Python: hmac.new(b"SECRETKEY123", WANT_QUERY, hashlib.sha512).hexdigest() */
static const char WANT_HASH[] =
    "f5cee6cec9d3081b6ac9fd039eaa00188854ba2adaa9ccd89363b444e1b73a113c20d29ce7c23829129efe9fd322e5ae5e88b41b2403c1df83fae8f22f978cb3";

static const struct vnpay_order ORDER = {
    .tmn_code = "DVCTEST1", .amount_vnd = 150000, .txn_ref = "DVC1-ab12cd34",
    .order_info = "thanh toan le phi ho so 000 00 12 h50 241120 0003",
    .order_type = "billpayment", .return_url = "https://bot.example.vn/pay/return",
    .ip_addr = "127.0.0.1", .created = CREATED, .expire_s = VNPAY_EXPIRE_S,
};

static void test_urlencode_is_php_urlencode(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    const char *in = "a b~c*d/\xC3\xA9._-Z9";
    vnpay_urlencode(&b, in, strlen(in));
    assert_string_equal(buf_cstr(&b), "a+b%7Ec%2Ad%2F%C3%A9._-Z9");
    buf_free(&b);
}

static void test_dates_are_gmt_plus_7(void **state)
{
    (void)state;
    char out[15];
    vnpay_format_time(CREATED, out);
    assert_string_equal(out, "20241120094000");
    vnpay_format_time(1735664400, out); /* 2024-12-31T17:00:00Z = new year in Hà Nội */
    assert_string_equal(out, "20250101000000");
}

static void test_link_matches_the_independent_signature(void **state)
{
    (void)state;
    struct buf url;
    buf_init(&url);
    assert_int_equal(vnpay_build_url(&url, "https://pay.example.vn/vpcpay.html", SECRET, &ORDER), 0);
    struct buf want;
    buf_init(&want);
    buf_printf(&want, "https://pay.example.vn/vpcpay.html?%s&vnp_SecureHash=%s", WANT_QUERY, WANT_HASH);
    assert_string_equal(buf_cstr(&url), buf_cstr(&want));
    buf_free(&url);
    buf_free(&want);
}

static void test_gateway_call_verifies_and_tampering_does_not(void **state)
{
    (void)state;
    struct buf q;
    buf_init(&q);
    buf_printf(&q, "%s&vnp_SecureHashType=HmacSHA512&vnp_SecureHash=%s", WANT_QUERY, WANT_HASH);
    struct vnpay_params p;
    assert_int_equal(vnpay_parse_query(buf_cstr(&q), &p), 0);
    assert_string_equal(vnpay_params_get(&p, "vnp_OrderInfo"),
                        "thanh toan le phi ho so 000 00 12 h50 241120 0003");
    assert_true(vnpay_verify(&p, SECRET));
    assert_false(vnpay_verify(&p, "another-secret"));
    vnpay_params_free(&p);

    /* Upper-case hex is the same signature. */
    char upper[sizeof WANT_HASH];
    for (size_t i = 0; i < sizeof WANT_HASH; i++)
        upper[i] = (char)(WANT_HASH[i] >= 'a' && WANT_HASH[i] <= 'f' ? WANT_HASH[i] - 32 : WANT_HASH[i]);
    buf_reset(&q);
    buf_printf(&q, "%s&vnp_SecureHash=%s", WANT_QUERY, upper);
    assert_int_equal(vnpay_parse_query(buf_cstr(&q), &p), 0);
    assert_true(vnpay_verify(&p, SECRET));
    vnpay_params_free(&p);

    /* One changed amount breaks it. */
    buf_reset(&q);
    buf_printf(&q, "%s&vnp_SecureHash=%s", WANT_QUERY, WANT_HASH);
    char *amount = strstr(q.data, "15000000");
    amount[0] = '2';
    assert_int_equal(vnpay_parse_query(buf_cstr(&q), &p), 0);
    assert_false(vnpay_verify(&p, SECRET));
    vnpay_params_free(&p);

    /* A repeated parameter is refused outright. */
    buf_reset(&q);
    buf_printf(&q, "%s&vnp_Amount=1&vnp_SecureHash=%s", WANT_QUERY, WANT_HASH);
    assert_int_equal(vnpay_parse_query(buf_cstr(&q), &p), -1);
    assert_int_equal(p.n, 0);
    buf_free(&q);
}

static void test_missing_or_short_hash_never_verifies(void **state)
{
    (void)state;
    struct vnpay_params p;
    assert_int_equal(vnpay_parse_query(WANT_QUERY, &p), 0);
    assert_false(vnpay_verify(&p, SECRET));
    vnpay_params_free(&p);
    assert_int_equal(vnpay_parse_query("vnp_Amount=1&vnp_SecureHash=abc", &p), 0);
    assert_false(vnpay_verify(&p, SECRET));
    assert_false(vnpay_verify(&p, ""));
    vnpay_params_free(&p);
}

static void test_non_vnp_parameters_are_not_signed(void **state)
{
    (void)state;
    struct buf q;
    buf_init(&q);
    buf_printf(&q, "utm=x&%s&vnp_SecureHash=%s", WANT_QUERY, WANT_HASH);
    struct vnpay_params p;
    assert_int_equal(vnpay_parse_query(buf_cstr(&q), &p), 0);
    assert_true(vnpay_verify(&p, SECRET));
    vnpay_params_free(&p);
    buf_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urlencode_is_php_urlencode),
        cmocka_unit_test(test_dates_are_gmt_plus_7),
        cmocka_unit_test(test_link_matches_the_independent_signature),
        cmocka_unit_test(test_gateway_call_verifies_and_tampering_does_not),
        cmocka_unit_test(test_missing_or_short_hash_never_verifies),
        cmocka_unit_test(test_non_vnp_parameters_are_not_signed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
