/* vnpay_query — the gateway's transaction query (VNPay 2.1.0 "querydr"),
 * as pure functions: the signed JSON request and the reading of the answer.
 *
 * Request: POST JSON {vnp_RequestId, vnp_Version, vnp_Command "querydr",
 * vnp_TmnCode, vnp_TxnRef, vnp_OrderInfo, vnp_TransactionDate (the link's
 * vnp_CreateDate), vnp_CreateDate (now), vnp_IpAddr, vnp_SecureHash}, the hash
 * an HMAC-SHA512 of "RequestId|Version|Command|TmnCode|TxnRef|
 * TransactionDate|CreateDate|IpAddr|OrderInfo". The answer is signed the same
 * way over "ResponseId|Command|ResponseCode|Message|TmnCode|TxnRef|Amount|
 * BankCode|PayDate|TransactionNo|TransactionType|TransactionStatus|OrderInfo|
 * PromotionCode|PromotionAmount" (absent fields as "").
 *
 * Nothing here touches the network or the clock. */
#ifndef DVCBOT_VNPAY_QUERY_H
#define DVCBOT_VNPAY_QUERY_H

#include "dvcbot/buf.h"

#include <stddef.h>
#include <time.h>

struct vnpay_query {
    const char *tmn_code;
    const char *txn_ref;
    const char *request_id;   /* unique per query */
    const char *order_info;   /* ASCII */
    const char *ip_addr;
    time_t txn_created;       /* when the link was made (its vnp_CreateDate) */
    time_t now;
};

enum vnpay_query_verdict {
    VNPAY_QUERY_PAID,       /* signed: the transaction succeeded for exactly this amount */
    VNPAY_QUERY_NOT_PAID,   /* signed: no success, or another amount */
    VNPAY_QUERY_INVALID,    /* unsigned, forged, unreadable, or the query itself failed */
};

/* Appends the JSON request to out. Returns 0, or -1 when signing fails. */
int vnpay_query_body(struct buf *out, const char *secret, const struct vnpay_query *q);

/* Reads the gateway's answer about txn_ref (amount_x100 as sent in links). */
enum vnpay_query_verdict vnpay_query_read(const char *body, size_t len, const char *secret,
                                          const char *tmn_code, const char *txn_ref,
                                          const char *amount_x100);

#endif
