/* vnpay — the VNPay 2.1.0 payment-link format, as pure functions.
 *
 * A link is PAY_BASE_URL?<query>&vnp_SecureHash=<hex> where <query> lists the
 * vnp_* parameters sorted by name, each name and value encoded like PHP's
 * urlencode (space → '+', every byte outside A-Za-z0-9 . _ - → %XX upper
 * case), and the hash is HMAC-SHA512 of exactly that query with the merchant
 * secret, in lower-case hex. The gateway signs its IPN and return calls the
 * same way: every vnp_* parameter except vnp_SecureHash and
 * vnp_SecureHashType, values decoded, then re-encoded, sorted, hashed.
 * Dates are yyyyMMddHHmmss in GMT+7 whatever the machine's time zone.
 *
 * Nothing here touches the network, Redis or the clock: the caller passes
 * the time. Strings returned in struct vnpay_params belong to it. */
#ifndef DVCBOT_VNPAY_H
#define DVCBOT_VNPAY_H

#include "dvcbot/buf.h"
#include "dvcbot/crypto.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define VNPAY_VERSION "2.1.0"
#define VNPAY_EXPIRE_S (15 * 60)
#define VNPAY_MAX_PARAMS 40

struct vnpay_param {
    char *name;
    char *value;
};

struct vnpay_params {
    struct vnpay_param items[VNPAY_MAX_PARAMS];
    size_t n;
};

/* What one link pays for. */
struct vnpay_order {
    const char *tmn_code;     /* PAY_TMN_CODE */
    long long amount_vnd;     /* sent ×100 as the gateway wants */
    const char *txn_ref;      /* unique per link */
    const char *order_info;   /* ASCII without diacritics or special characters */
    const char *order_type;
    const char *return_url;
    const char *ip_addr;
    time_t created;
    unsigned expire_s;        /* vnp_ExpireDate = created + expire_s */
};

/* PHP urlencode of s. */
void vnpay_urlencode(struct buf *out, const char *s, size_t len);
/* yyyyMMddHHmmss in GMT+7. */
void vnpay_format_time(time_t t, char out[15]);

void vnpay_params_add(struct vnpay_params *p, const char *name, const char *value);
void vnpay_params_free(struct vnpay_params *p);
const char *vnpay_params_get(const struct vnpay_params *p, const char *name);
/* The signed data: vnp_* parameters (but the hash ones) sorted by name,
 * "name=value" urlencoded, joined by '&'. Sorts p in place. */
void vnpay_hash_data(struct vnpay_params *p, struct buf *out);
/* HMAC-SHA512 hex of data. Returns 0, or -1 when libcrypto fails. */
int vnpay_sign(const char *secret, const char *data, size_t len, char out[CRYPTO_SHA512_HEX]);

/* Appends the whole signed link to out. Returns 0, or -1 when signing fails. */
int vnpay_build_url(struct buf *out, const char *base_url, const char *secret,
                    const struct vnpay_order *o);

/* Splits a raw query string (as received) into decoded parameters. Returns
 * 0, or -1 when a parameter repeats or there are too many (p is then empty). */
int vnpay_parse_query(const char *query, struct vnpay_params *p);
/* True when vnp_SecureHash (hex, any case) signs the other vnp_* parameters
 * with secret. Compared in constant time. */
bool vnpay_verify(struct vnpay_params *p, const char *secret);

/* A payment link and the gateway's IPN are signed alike, so a signature
 * alone does not tell an IPN from a replayed link. True when p has the
 * shape of the gateway's answer: every response field (vnp_ResponseCode,
 * vnp_TransactionStatus, vnp_TransactionNo, vnp_PayDate, vnp_TmnCode equal
 * to tmn_code) and none of the fields only a request carries (vnp_Command,
 * vnp_ReturnUrl, vnp_IpAddr, vnp_CreateDate, vnp_ExpireDate, vnp_Locale,
 * vnp_Version, vnp_CurrCode, vnp_OrderType). */
bool vnpay_is_gateway_answer(const struct vnpay_params *p, const char *tmn_code);
/* Reads yyyyMMddHHmmss (GMT+7) into unix time. Returns 0, or -1 when s is
 * not exactly such a date. */
int vnpay_parse_time(const char *s, time_t *out);

#endif
