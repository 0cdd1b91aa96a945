/* VNPay links: PHP urlencode, GMT+7 dates, a signature computed independently
 * (Python hmac over the PHP-encoded query), verification of the gateway's
 * calls and of tampered ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/vnpay.h"
#include "dvcbot/vnpay_query.h"

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

/* What the gateway sends to the IPN URL, and the link itself. */
static const char ANSWER[] =
    "vnp_Amount=15000000&vnp_BankCode=NCB&vnp_PayDate=20241120094500&vnp_ResponseCode=00"
    "&vnp_TmnCode=DVCTEST1&vnp_TransactionNo=14226112&vnp_TransactionStatus=00&vnp_TxnRef=DVC1R00";

static void test_only_the_gateways_answer_has_its_shape(void **state)
{
    (void)state;
    struct vnpay_params p;
    assert_int_equal(vnpay_parse_query(ANSWER, &p), 0);
    assert_true(vnpay_is_gateway_answer(&p, "DVCTEST1"));
    assert_false(vnpay_is_gateway_answer(&p, "OTHER"));
    assert_false(vnpay_is_gateway_answer(&p, NULL));
    vnpay_params_free(&p);
    /* The link: request fields, no response fields. */
    assert_int_equal(vnpay_parse_query(WANT_QUERY, &p), 0);
    assert_false(vnpay_is_gateway_answer(&p, "DVCTEST1"));
    vnpay_params_free(&p);
    /* The answer plus one request-only field. */
    struct buf q;
    buf_init(&q);
    buf_printf(&q, "%s&vnp_Command=pay", ANSWER);
    assert_int_equal(vnpay_parse_query(buf_cstr(&q), &p), 0);
    assert_false(vnpay_is_gateway_answer(&p, "DVCTEST1"));
    vnpay_params_free(&p);
    buf_free(&q);
    /* An empty response field is as good as none. */
    assert_int_equal(vnpay_parse_query("vnp_Amount=1&vnp_PayDate=20241120094500&vnp_ResponseCode="
                                       "&vnp_TmnCode=DVCTEST1&vnp_TransactionNo=1"
                                       "&vnp_TransactionStatus=00", &p), 0);
    assert_false(vnpay_is_gateway_answer(&p, "DVCTEST1"));
    vnpay_params_free(&p);
}

static void test_pay_dates_read_as_gmt_plus_7(void **state)
{
    (void)state;
    time_t t;
    assert_int_equal(vnpay_parse_time("20241120094000", &t), 0);
    assert_int_equal((long long)t, CREATED);
    const char *bad[] = {"", "2024112009400", "202411200940000", "2024-11-20 09:40", "20241320094000",
                         "20240230094000", "20241120244000", "20241120096000", "2024112009400x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(vnpay_parse_time(bad[i], &t), -1);
    assert_int_equal(vnpay_parse_time("20240229235959", &t), 0);
}

static const struct vnpay_query QUERY = {
    .tmn_code = "DVCTEST1", .txn_ref = "DVC1R00", .request_id = "req0001", .order_info = "querydr",
    .ip_addr = "127.0.0.1", .txn_created = CREATED, .now = CREATED + 20 * 60,
};

static void test_querydr_request_is_signed_over_the_pipe_joined_fields(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    assert_int_equal(vnpay_query_body(&b, SECRET, &QUERY), 0);
    /* Python: hmac.new(SECRET, "req0001|2.1.0|querydr|DVCTEST1|DVC1R00|20241120094000|
     * 20241120100000|127.0.0.1|querydr", sha512) */
    assert_non_null(strstr(buf_cstr(&b), "\"vnp_SecureHash\":\"48df353f9eca26dc6db1d97e7967533af8cbf1"
                                         "5915891ac6b6643142c6444464ed21b4f819ed36a56c4e190ba757ffca2"
                                         "3587dc1662bc008106d6e9371b6d887\""));
    assert_non_null(strstr(buf_cstr(&b), "\"vnp_TransactionDate\":\"20241120094000\""));
    assert_non_null(strstr(buf_cstr(&b), "\"vnp_CreateDate\":\"20241120100000\""));
    assert_non_null(strstr(buf_cstr(&b), "\"vnp_Command\":\"querydr\""));
    buf_free(&b);
}

static void test_querydr_answer_counts_only_when_signed_and_settled(void **state)
{
    (void)state;
    static const char fmt[] =
        "{\"vnp_ResponseId\":\"r9\",\"vnp_Command\":\"querydr\",\"vnp_ResponseCode\":\"00\","
        "\"vnp_Message\":\"QueryDR Success\",\"vnp_TmnCode\":\"DVCTEST1\",\"vnp_TxnRef\":\"DVC1R00\","
        "\"vnp_Amount\":%s,\"vnp_BankCode\":\"NCB\",\"vnp_PayDate\":\"20241120094500\","
        "\"vnp_TransactionNo\":\"14226112\",\"vnp_TransactionType\":\"01\","
        "\"vnp_TransactionStatus\":\"%s\",\"vnp_OrderInfo\":\"querydr\",\"vnp_SecureHash\":\"%s\"}";
    /* Python hmac over the 15 pipe-joined fields (promotion fields empty). */
    static const char paid_hash[] =
        "ade00c08d08a9d86cbbf4c328099d2d0cddd479846e8c0e16c94afdd28252a65bb652927fe3f9edd28032802174763728bf586014c8c5ece5c9320d00963ac6e";
    static const char failed_hash[] =
        "284e2bf809bb403d9f367a38cc81e4e630f3b82731d8688ea4acf2977d287b9d6f4dfbb19eeb40844dafb7b5e24fe0977459197591f197c028e0bf40e4cd13df";
    struct buf b;
    buf_init(&b);
    buf_printf(&b, fmt, "\"3000000\"", "00", paid_hash);
    assert_int_equal(vnpay_query_read(b.data, b.len, SECRET, "DVCTEST1", "DVC1R00", "3000000"),
                     VNPAY_QUERY_PAID);
    assert_int_equal(vnpay_query_read(b.data, b.len, SECRET, "DVCTEST1", "DVC1R00", "300000"),
                     VNPAY_QUERY_NOT_PAID);
    assert_int_equal(vnpay_query_read(b.data, b.len, "other", "DVCTEST1", "DVC1R00", "3000000"),
                     VNPAY_QUERY_INVALID);
    assert_int_equal(vnpay_query_read(b.data, b.len, SECRET, "DVCTEST1", "DVC1R01", "3000000"),
                     VNPAY_QUERY_INVALID);
    buf_reset(&b);
    buf_printf(&b, fmt, "3000000", "00", paid_hash); /* the amount as a JSON number */
    assert_int_equal(vnpay_query_read(b.data, b.len, SECRET, "DVCTEST1", "DVC1R00", "3000000"),
                     VNPAY_QUERY_PAID);
    buf_reset(&b);
    buf_printf(&b, fmt, "\"3000000\"", "02", failed_hash);
    assert_int_equal(vnpay_query_read(b.data, b.len, SECRET, "DVCTEST1", "DVC1R00", "3000000"),
                     VNPAY_QUERY_NOT_PAID);
    buf_reset(&b);
    buf_printf(&b, fmt, "\"3000000\"", "00", failed_hash); /* status changed after signing */
    assert_int_equal(vnpay_query_read(b.data, b.len, SECRET, "DVCTEST1", "DVC1R00", "3000000"),
                     VNPAY_QUERY_INVALID);
    assert_int_equal(vnpay_query_read("{", 1, SECRET, "DVCTEST1", "DVC1R00", "3000000"),
                     VNPAY_QUERY_INVALID);
    buf_free(&b);
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
        cmocka_unit_test(test_only_the_gateways_answer_has_its_shape),
        cmocka_unit_test(test_pay_dates_read_as_gmt_plus_7),
        cmocka_unit_test(test_querydr_request_is_signed_over_the_pipe_joined_fields),
        cmocka_unit_test(test_querydr_answer_counts_only_when_signed_and_settled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
