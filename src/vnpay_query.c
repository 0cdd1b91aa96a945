/* vnpay_query — querydr request and answer (VNPay 2.1.0). */
#include "dvcbot/vnpay_query.h"
#include "dvcbot/crypto.h"
#include "dvcbot/vnpay.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const answer_signed[] = {
    "vnp_ResponseId", "vnp_Command", "vnp_ResponseCode", "vnp_Message", "vnp_TmnCode",
    "vnp_TxnRef", "vnp_Amount", "vnp_BankCode", "vnp_PayDate", "vnp_TransactionNo",
    "vnp_TransactionType", "vnp_TransactionStatus", "vnp_OrderInfo", "vnp_PromotionCode",
    "vnp_PromotionAmount",
};

static int sign_fields(const char *secret, const char *const *values, size_t n,
                       char out[CRYPTO_SHA512_HEX])
{
    struct buf data;
    buf_init(&data);
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(&data, '|');
        buf_puts(&data, values[i]);
    }
    int rc = vnpay_sign(secret, buf_cstr(&data), data.len, out);
    buf_free(&data);
    return rc;
}

int vnpay_query_body(struct buf *out, const char *secret, const struct vnpay_query *q)
{
    char txn_date[15], created[15], hash[CRYPTO_SHA512_HEX];
    vnpay_format_time(q->txn_created, txn_date);
    vnpay_format_time(q->now, created);
    const char *names[] = {"vnp_RequestId", "vnp_Version", "vnp_Command", "vnp_TmnCode",
                           "vnp_TxnRef", "vnp_TransactionDate", "vnp_CreateDate", "vnp_IpAddr",
                           "vnp_OrderInfo"};
    const char *values[] = {q->request_id, VNPAY_VERSION, "querydr", q->tmn_code, q->txn_ref,
                            txn_date, created, q->ip_addr, q->order_info};
    if (sign_fields(secret, values, 9, hash) != 0)
        return -1;
    buf_putc(out, '{');
    for (size_t i = 0; i < 9; i++) {
        buf_json_str(out, names[i]);
        buf_putc(out, ':');
        buf_json_str(out, values[i]);
        buf_putc(out, ',');
    }
    buf_puts(out, "\"vnp_SecureHash\":");
    buf_json_str(out, hash);
    buf_putc(out, '}');
    return 0;
}

/* A field of the answer as text: strings as they are, integers printed,
 * "" when absent or of another type. A number beyond ±2^63 is not cast
 * (undefined behaviour): it is "" too. */
static const char *field(const cJSON *obj, const char *name, char *tmp, size_t len)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (cJSON_IsString(it))
        return it->valuestring;
    if (cJSON_IsNumber(it) && fabs(it->valuedouble) < 0x1p63 &&
        it->valuedouble == (double)(long long)it->valuedouble) {
        snprintf(tmp, len, "%lld", (long long)it->valuedouble);
        return tmp;
    }
    return "";
}

static bool signed_by(const cJSON *obj, const char *secret)
{
    enum { N = sizeof answer_signed / sizeof answer_signed[0] };
    char tmp[N][32], want[CRYPTO_SHA512_HEX], given[CRYPTO_SHA512_HEX];
    const char *values[N];
    for (size_t i = 0; i < N; i++)
        values[i] = field(obj, answer_signed[i], tmp[i], sizeof tmp[i]);
    char htmp[8];
    const char *hash = field(obj, "vnp_SecureHash", htmp, sizeof htmp);
    size_t hlen = strlen(hash);
    if (hlen != CRYPTO_SHA512_HEX - 1 || sign_fields(secret, values, N, want) != 0)
        return false;
    for (size_t i = 0; i <= hlen; i++)
        given[i] = (char)tolower((unsigned char)hash[i]);
    return crypto_secret_equal(given, hlen, want, strlen(want));
}

enum vnpay_query_verdict vnpay_query_read(const char *body, size_t len, const char *secret,
                                          const char *tmn_code, const char *txn_ref,
                                          const char *amount_x100)
{
    cJSON *root = cJSON_ParseWithLength(body, len);
    enum vnpay_query_verdict v = VNPAY_QUERY_INVALID;
    char t1[32], t2[32], t3[32], t4[32], t5[32];
    if (!cJSON_IsObject(root) || !signed_by(root, secret) ||
        strcmp(field(root, "vnp_ResponseCode", t1, sizeof t1), "00") != 0 ||
        strcmp(field(root, "vnp_TmnCode", t2, sizeof t2), tmn_code) != 0 ||
        strcmp(field(root, "vnp_TxnRef", t3, sizeof t3), txn_ref) != 0)
        goto out_free;
    bool paid = strcmp(field(root, "vnp_TransactionStatus", t4, sizeof t4), "00") == 0 &&
                strcmp(field(root, "vnp_Amount", t5, sizeof t5), amount_x100) == 0;
    v = paid ? VNPAY_QUERY_PAID : VNPAY_QUERY_NOT_PAID;
out_free:
    cJSON_Delete(root);
    return v;
}
