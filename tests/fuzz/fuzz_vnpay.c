/* fuzz_vnpay — the VNPay verifier and the IPN's field checks.
 *
 * Input: one mode byte, then a query string as the gateway would send it to
 * /pay/ipn (the same bytes are also read as a querydr JSON answer).
 *   1. vnpay_parse_query, vnpay_verify, vnpay_is_gateway_answer and
 *      vnpay_parse_time on the query (pure functions);
 *   2. the query through the real IPN handler (payment_ipn_handle) behind
 *      the real HTTP server (fuzz_http_feed); mode bit 0 re-signs it with
 *      the merchant secret first so the checks behind the signature are
 *      reached; bit 1 sets PAY_QUERY_URL. The store never connects, so a
 *      call that passes every check ends in 99 (try again) — nothing is
 *      recorded;
 *   3. the bytes as the gateway's querydr answer (vnpay_query_read); bit 2
 *      re-signs the JSON.
 *
 * Properties: a query the harness did not sign is refused with 97; a
 * signed one is refused (97) exactly when it does not have the shape of the
 * gateway's answer or its vnp_PayDate is unreadable, else 01 (bad
 * vnp_TxnRef) or 99; a parsed date prints back to itself; an unsigned
 * querydr answer is INVALID. */
#include "fuzz.h"
#include "dvcbot/config.h"
#include "dvcbot/mem.h"
#include "dvcbot/payment_ipn.h"
#include "dvcbot/store.h"
#include "dvcbot/vnpay.h"
#include "dvcbot/vnpay_query.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char TMN[] = "DVCSLA01";
static char SECRET[] = "FUZZSECRETFUZZSECRETFUZZSECRET12";
static char QUERY_URL[] = "http://127.0.0.1:9/merchant_webapi/api/transaction";

static struct fuzz_http fh;
static struct config cfg_plain, cfg_query;
static struct store *store;
static struct payment_ipn *ipn_plain, *ipn_query;
static struct payment_ipn *ipn_now; /* the one the next request goes to */

static void handler(struct http_request *req, void *ud)
{
    (void)ud;
    if (strcmp(req->path, "/pay/ipn") != 0)
        fuzz_fail("request for another path");
    payment_ipn_handle(req, ipn_now);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup();
    struct http_server_opts opts = {.timeout_ms = 2000, .idle_ms = 2000, .handler = handler};
    fuzz_http_start(&fh, &opts);
    store = store_new(&fh.loop, "unix:///nonexistent/dvcbot-fuzz-redis.sock", 100);
    if (!store)
        fuzz_fail("store_new");
    cfg_plain.pay_tmn_code = TMN;
    cfg_plain.pay_hash_secret = SECRET;
    cfg_plain.user_ttl_s = 400 * 24 * 3600;
    cfg_query = cfg_plain;
    cfg_query.pay_query_url = QUERY_URL;
    struct payment_ipn_deps deps = {.cfg = &cfg_plain, .store = store};
    ipn_plain = payment_ipn_new(&deps);
    deps.cfg = &cfg_query;
    ipn_query = payment_ipn_new(&deps);
    return 0;
}

/* ===== The query ===== */

/* Bytes a request target cannot carry are percent-encoded, as a client
 * would send them. */
static void request_target(struct buf *out, const char *q, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)q[i];
        if (!isalnum(c) && (c == 0 || !strchr("-._~!$&'()*+,;=:@/?%", c)))
            buf_printf(out, "%%%02X", c);
        else
            buf_putc(out, (char)c);
    }
}

/* The query with vnp_SecureHash replaced by the right one; NULL when it
 * does not parse. */
static char *resign(const char *query)
{
    struct vnpay_params p;
    if (vnpay_parse_query(query, &p) != 0)
        return NULL;
    struct buf data, out;
    buf_init(&data);
    buf_init(&out);
    vnpay_hash_data(&p, &data);
    char hash[CRYPTO_SHA512_HEX];
    if (vnpay_sign(SECRET, buf_cstr(&data), data.len, hash) != 0)
        fuzz_fail("vnpay_sign");
    /* Keep the query as sent, minus its own hash fields. */
    for (const char *s = query; *s;) {
        const char *amp = strchr(s, '&');
        size_t len = amp ? (size_t)(amp - s) : strlen(s);
        if (len && strncmp(s, "vnp_SecureHash", 14) != 0) {
            buf_append(&out, s, len);
            buf_putc(&out, '&');
        }
        s = amp ? amp + 1 : s + len;
    }
    buf_printf(&out, "vnp_SecureHash=%s", hash);
    buf_free(&data);
    vnpay_params_free(&p);
    return buf_steal(&out);
}

static bool ref_ok(const char *ref)
{
    size_t n = ref ? strlen(ref) : 0;
    if (n == 0 || n >= 64)
        return false;
    for (; *ref; ref++)
        if (!isalnum((unsigned char)*ref))
            return false;
    return true;
}

/* What the pure functions say the IPN handler must answer to query. */
static const char *expected_code(const char *query)
{
    struct vnpay_params p;
    if (vnpay_parse_query(query, &p) != 0)
        return "97";
    const char *code = "97";
    time_t paid_at;
    if (vnpay_verify(&p, SECRET) && vnpay_is_gateway_answer(&p, TMN) &&
        vnpay_parse_time(vnpay_params_get(&p, "vnp_PayDate"), &paid_at) == 0)
        code = ref_ok(vnpay_params_get(&p, "vnp_TxnRef")) ? "99" : "01";
    vnpay_params_free(&p);
    return code;
}

static void check_params(const char *query)
{
    struct vnpay_params p;
    if (vnpay_parse_query(query, &p) != 0) {
        if (p.n != 0)
            fuzz_fail("a refused query left parameters");
        return;
    }
    for (size_t i = 0; i < p.n; i++)
        for (size_t j = i + 1; j < p.n; j++)
            if (strcmp(p.items[i].name, p.items[j].name) == 0)
                fuzz_fail("a parameter parsed twice");
    const char *dates[] = {"vnp_PayDate", "vnp_CreateDate", "vnp_ExpireDate"};
    for (size_t i = 0; i < 3; i++) {
        const char *s = vnpay_params_get(&p, dates[i]);
        time_t t;
        char back[15];
        if (s && vnpay_parse_time(s, &t) == 0) {
            vnpay_format_time(t, back);
            if (strcmp(back, s) != 0)
                fuzz_fail("a parsed date does not print back to itself");
        }
    }
    vnpay_verify(&p, SECRET);
    vnpay_is_gateway_answer(&p, TMN);
    vnpay_params_free(&p);
}

static void ipn_call(const char *query, bool with_query_url)
{
    struct buf req, resp;
    buf_init(&req);
    buf_init(&resp);
    buf_puts(&req, "GET /pay/ipn?");
    request_target(&req, query, strlen(query));
    buf_puts(&req, " HTTP/1.1\r\nHost: bot.example.vn\r\nConnection: close\r\n\r\n");
    /* The handler reads the query as the parser hands it over. */
    const char *target = strchr(req.data, '?') + 1;
    char *sent = xstrndup(target, (size_t)(strchr(target, ' ') - target));
    ipn_now = with_query_url ? ipn_query : ipn_plain;
    fuzz_http_feed(&fh, req.data, req.len, &resp);
    const char *body = resp.len ? strstr(buf_cstr(&resp), "\r\n\r\n") : NULL;
    const char *rsp = body ? strstr(body, "\"RspCode\":\"") : NULL;
    if (!rsp || strncmp(buf_cstr(&resp), "HTTP/1.1 200 ", 13) != 0)
        fuzz_fail("the IPN was not answered 200 with an RspCode");
    const char *want = expected_code(sent);
    if (strncmp(rsp + 11, want, 2) != 0) {
        fprintf(stderr, "query %s: answered %.2s, expected %s\n", sent, rsp + 11, want);
        fuzz_fail("the IPN's answer differs from what its checks imply");
    }
    free(sent);
    buf_free(&req);
    buf_free(&resp);
}

/* ===== The querydr answer ===== */

static const char *const ANSWER_SIGNED[] = {
    "vnp_ResponseId", "vnp_Command", "vnp_ResponseCode", "vnp_Message", "vnp_TmnCode",
    "vnp_TxnRef", "vnp_Amount", "vnp_BankCode", "vnp_PayDate", "vnp_TransactionNo",
    "vnp_TransactionType", "vnp_TransactionStatus", "vnp_OrderInfo", "vnp_PromotionCode",
    "vnp_PromotionAmount",
};

/* The answer's field as the gateway signs it (vnpay_query.c reads it so). */
static void answer_field(const cJSON *obj, const char *name, struct buf *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (cJSON_IsString(it))
        buf_puts(out, it->valuestring);
    else if (cJSON_IsNumber(it) && fabs(it->valuedouble) < 9e18 &&
             it->valuedouble == floor(it->valuedouble))
        buf_printf(out, "%lld", (long long)it->valuedouble);
}

/* The JSON with vnp_SecureHash set right; NULL when it is not an object. */
static char *resign_answer(const char *json, size_t len)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return NULL;
    }
    struct buf data;
    buf_init(&data);
    for (size_t i = 0; i < sizeof ANSWER_SIGNED / sizeof ANSWER_SIGNED[0]; i++) {
        if (i)
            buf_putc(&data, '|');
        answer_field(root, ANSWER_SIGNED[i], &data);
    }
    char hash[CRYPTO_SHA512_HEX];
    if (vnpay_sign(SECRET, buf_cstr(&data), data.len, hash) != 0)
        fuzz_fail("vnpay_sign");
    buf_free(&data);
    cJSON_DeleteItemFromObjectCaseSensitive(root, "vnp_SecureHash");
    cJSON_AddStringToObject(root, "vnp_SecureHash", hash);
    char *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return out;
}

static void query_answer(const char *json, size_t len, bool signed_by_us)
{
    const char *ref = "DVC00000042R1a2b3c4d", *amount = "5000000";
    enum vnpay_query_verdict v = vnpay_query_read(json, len, SECRET, TMN, ref, amount);
    if (!signed_by_us && v != VNPAY_QUERY_INVALID)
        fuzz_fail("an unsigned querydr answer was believed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned mode = data[0];
    char *query = fuzz_cstr(data + 1, size - 1);
    check_params(query);
    char *signed_query = mode & 1 ? resign(query) : NULL;
    ipn_call(signed_query ? signed_query : query, mode & 2);
    free(signed_query);

    char *answer = mode & 4 ? resign_answer(query, size - 1) : NULL;
    if (answer)
        query_answer(answer, strlen(answer), true);
    else
        query_answer(query, size - 1, false);
    free(answer);
    free(query);
    return 0;
}
