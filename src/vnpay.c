/* vnpay — link building and signature checks (VNPay 2.1.0). */
#include "dvcbot/vnpay.h"
#include "dvcbot/http_server.h"
#include "dvcbot/mem.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vnpay_urlencode(struct buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || c == '.' || c == '_' || c == '-') {
            buf_putc(out, (char)c);
        } else if (c == ' ') {
            buf_putc(out, '+');
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            buf_append(out, esc, 3);
        }
    }
}

void vnpay_format_time(time_t t, char out[15])
{
    time_t local = t + 7 * 3600;
    struct tm tm;
    gmtime_r(&local, &tm);
    if (strftime(out, 15, "%Y%m%d%H%M%S", &tm) == 0)
        out[0] = '\0';
}

void vnpay_params_add(struct vnpay_params *p, const char *name, const char *value)
{
    if (p->n >= VNPAY_MAX_PARAMS)
        return;
    p->items[p->n].name = xstrdup(name);
    p->items[p->n].value = xstrdup(value);
    p->n++;
}

void vnpay_params_free(struct vnpay_params *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->items[i].name);
        free(p->items[i].value);
    }
    p->n = 0;
}

const char *vnpay_params_get(const struct vnpay_params *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->items[i].name, name) == 0)
            return p->items[i].value;
    return NULL;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct vnpay_param *)a)->name, ((const struct vnpay_param *)b)->name);
}

static bool signed_param(const char *name)
{
    return strncmp(name, "vnp_", 4) == 0 && strcmp(name, "vnp_SecureHash") != 0 &&
           strcmp(name, "vnp_SecureHashType") != 0;
}

void vnpay_hash_data(struct vnpay_params *p, struct buf *out)
{
    qsort(p->items, p->n, sizeof p->items[0], by_name);
    bool first = true;
    for (size_t i = 0; i < p->n; i++) {
        const struct vnpay_param *x = &p->items[i];
        if (!signed_param(x->name))
            continue;
        if (!first)
            buf_putc(out, '&');
        first = false;
        vnpay_urlencode(out, x->name, strlen(x->name));
        buf_putc(out, '=');
        vnpay_urlencode(out, x->value, strlen(x->value));
    }
}

int vnpay_sign(const char *secret, const char *data, size_t len, char out[CRYPTO_SHA512_HEX])
{
    return crypto_hmac_sha512_hex(secret, strlen(secret), data, len, out);
}

int vnpay_build_url(struct buf *out, const char *base_url, const char *secret,
                    const struct vnpay_order *o)
{
    char amount[32], created[15], expires[15];
    snprintf(amount, sizeof amount, "%lld", o->amount_vnd * 100);
    vnpay_format_time(o->created, created);
    vnpay_format_time(o->created + (time_t)o->expire_s, expires);
    struct vnpay_params p = {.n = 0};
    vnpay_params_add(&p, "vnp_Version", VNPAY_VERSION);
    vnpay_params_add(&p, "vnp_Command", "pay");
    vnpay_params_add(&p, "vnp_TmnCode", o->tmn_code);
    vnpay_params_add(&p, "vnp_Amount", amount);
    vnpay_params_add(&p, "vnp_CurrCode", "VND");
    vnpay_params_add(&p, "vnp_TxnRef", o->txn_ref);
    vnpay_params_add(&p, "vnp_OrderInfo", o->order_info);
    vnpay_params_add(&p, "vnp_OrderType", o->order_type);
    vnpay_params_add(&p, "vnp_Locale", "vn");
    vnpay_params_add(&p, "vnp_ReturnUrl", o->return_url);
    vnpay_params_add(&p, "vnp_IpAddr", o->ip_addr);
    vnpay_params_add(&p, "vnp_CreateDate", created);
    vnpay_params_add(&p, "vnp_ExpireDate", expires);
    struct buf query;
    buf_init(&query);
    vnpay_hash_data(&p, &query);
    vnpay_params_free(&p);
    char hash[CRYPTO_SHA512_HEX];
    int rc = vnpay_sign(secret, buf_cstr(&query), query.len, hash);
    if (rc == 0)
        buf_printf(out, "%s%c%s&vnp_SecureHash=%s", base_url, strchr(base_url, '?') ? '&' : '?',
                   buf_cstr(&query), hash);
    buf_free(&query);
    return rc;
}

int vnpay_parse_query(const char *query, struct vnpay_params *p)
{
    p->n = 0;
    for (const char *s = query; s && *s;) {
        const char *amp = strchr(s, '&');
        size_t len = amp ? (size_t)(amp - s) : strlen(s);
        const char *eq = memchr(s, '=', len);
        size_t klen = eq ? (size_t)(eq - s) : len;
        if (len) {
            char *name = http_url_decode(s, klen);
            char *value = eq ? http_url_decode(eq + 1, len - klen - 1) : xstrdup("");
            bool dup = vnpay_params_get(p, name) != NULL, full = p->n >= VNPAY_MAX_PARAMS;
            if (!dup && !full) {
                p->items[p->n].name = name;
                p->items[p->n].value = value;
                p->n++;
            } else {
                free(name);
                free(value);
                vnpay_params_free(p);
                return -1;
            }
        }
        s = amp ? amp + 1 : NULL;
    }
    return 0;
}

bool vnpay_verify(struct vnpay_params *p, const char *secret)
{
    const char *given = vnpay_params_get(p, "vnp_SecureHash");
    if (!given || !secret || !*secret)
        return false;
    char lower[CRYPTO_SHA512_HEX];
    size_t glen = strlen(given);
    if (glen != CRYPTO_SHA512_HEX - 1)
        return false;
    for (size_t i = 0; i <= glen; i++)
        lower[i] = (char)tolower((unsigned char)given[i]);
    struct buf data;
    buf_init(&data);
    vnpay_hash_data(p, &data);
    char want[CRYPTO_SHA512_HEX];
    bool ok = vnpay_sign(secret, buf_cstr(&data), data.len, want) == 0 &&
              crypto_secret_equal(lower, glen, want, strlen(want));
    buf_free(&data);
    return ok;
}

/* ===== Telling the gateway's answers from requests ===== */

static const char *const answer_fields[] = {
    "vnp_ResponseCode", "vnp_TransactionStatus", "vnp_TransactionNo", "vnp_PayDate", "vnp_TmnCode",
};
static const char *const request_fields[] = {
    "vnp_Command", "vnp_ReturnUrl", "vnp_IpAddr", "vnp_CreateDate", "vnp_ExpireDate",
    "vnp_Locale", "vnp_Version", "vnp_CurrCode", "vnp_OrderType",
};

bool vnpay_is_gateway_answer(const struct vnpay_params *p, const char *tmn_code)
{
    for (size_t i = 0; i < sizeof answer_fields / sizeof answer_fields[0]; i++) {
        const char *v = vnpay_params_get(p, answer_fields[i]);
        if (!v || !*v)
            return false;
    }
    for (size_t i = 0; i < sizeof request_fields / sizeof request_fields[0]; i++)
        if (vnpay_params_get(p, request_fields[i]))
            return false;
    return tmn_code && strcmp(vnpay_params_get(p, "vnp_TmnCode"), tmn_code) == 0;
}

int vnpay_parse_time(const char *s, time_t *out)
{
    int f[6];
    static const int width[6] = {4, 2, 2, 2, 2, 2};
    if (!s || strlen(s) != 14)
        return -1;
    for (int i = 0, at = 0; i < 6; at += width[i], i++) {
        f[i] = 0;
        for (int j = 0; j < width[i]; j++) {
            if (!isdigit((unsigned char)s[at + j]))
                return -1;
            f[i] = f[i] * 10 + (s[at + j] - '0');
        }
    }
    if (f[0] < 2000 || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 ||
        f[5] > 59)
        return -1;
    struct tm tm = {.tm_year = f[0] - 1900, .tm_mon = f[1] - 1, .tm_mday = f[2],
                    .tm_hour = f[3], .tm_min = f[4], .tm_sec = f[5]};
    time_t t = timegm(&tm);
    gmtime_r(&t, &tm);
    if (tm.tm_mday != f[2]) /* 31 February and the like */
        return -1;
    *out = t - 7 * 3600;
    return 0;
}
