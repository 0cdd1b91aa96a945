/* payment_ipn — GET /pay/ipn: the payment gateway tells us how a payment
 * link (payment.h) ended.
 *
 * A link and the gateway's IPN are signed the same way, so the signature
 * (checked in constant time) is not enough: the call must also have the
 * shape of the gateway's answer (vnpay_is_gateway_answer: the response
 * fields, none of the request-only ones, our vnp_TmnCode) and a readable
 * vnp_PayDate, else 97 — a replayed link never reaches the order.
 * Answers (the gateway's JSON): 97 bad signature or not an answer, 01
 * unknown order, 04 amount differs from the order, 02 already confirmed,
 * 00 recorded, 99 try again later (Redis unavailable, or the payment could
 * not be confirmed with the gateway).
 *
 * One Lua script checks and records (a repeated IPN changes nothing, 02):
 * - a failure (vnp_ResponseCode or vnp_TransactionStatus not 00) marks a
 *   pending order failed; it never blocks a later success of the same order;
 * - a success marks the order paid (kept DVCBOT_USER_TTL) and, when it fits
 *   the dossier — paid by vnp_PayDate within the link's expiry (+
 *   PAYMENT_PAY_GRACE_S), the dossier unpaid, its fee due and equal to the
 *   amount now — the dossier paid, paid_online, paid_via=vnpay and
 *   paid_amount. Otherwise the order keeps applied=0 and reason
 *   (fee_changed, expired, already_paid, not_due, no_dossier) for staff, who
 *   see it in the console (PAYMENT_UNAPPLIED_KEY) and refund it by hand.
 * The payer is told in their chat: payment_done, payment_failed or
 * payment_not_applied_<reason>.
 *
 * With PAY_QUERY_URL set, a success counts only after the gateway's
 * transaction query (vnpay_query.h) confirms it for the order's amount;
 * otherwise nothing is recorded and the answer is 99, so the gateway tries
 * again. Failures need no confirmation (they unlock nothing).
 *
 * The struct lives until payment_ipn_free, after the HTTP server stopped
 * (no request in flight), the HTTP client closed and the store closed. */
#ifndef DVCBOT_PAYMENT_IPN_H
#define DVCBOT_PAYMENT_IPN_H

#include "dvcbot/config.h"
#include "dvcbot/http_client.h"
#include "dvcbot/http_server.h"
#include "dvcbot/notify.h"
#include "dvcbot/store.h"
#include "dvcbot/tpl.h"

#define PAYMENT_PAY_GRACE_S (5 * 60) /* the gateway's clock may run ahead of ours; also in redis/dvcbot.lua */
#define PAYMENT_QUERY_TIMEOUT_MS 8000
/* Successes not applied (applied=0): a zset of txn refs scored by the time
 * recorded, kept as long as the records; the console lists them
 * (console_payments.c). */
#define PAYMENT_UNAPPLIED_KEY "pay:unapplied"

struct payment_ipn;

struct payment_ipn_deps {
    const struct config *cfg;
    struct store *store;
    const struct tpl_set *tpl;
    struct notify *notify;
    struct http_client *http; /* for PAY_QUERY_URL; may be NULL without it */
};

struct payment_ipn *payment_ipn_new(const struct payment_ipn_deps *deps);
void payment_ipn_free(struct payment_ipn *pi);

void payment_ipn_handle(struct http_request *req, void *ud);

#endif
