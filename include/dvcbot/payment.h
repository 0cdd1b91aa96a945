/* payment — online fee payment for a verified dossier: signed links, the
 * gateway's IPN and the page the payer returns to.
 *
 * A link (payment_offer) gets a unique vnp_TxnRef "DVC<8-digit INCR of
 * pay:seq>R<8 random hex>" recorded as the hash pay:<txnref> (amount in VND,
 * code, status pending|paid|failed, created, expires, and the payer as a
 * field named by their user key with the value "payer", so erase-my-data's
 * HDEL removes it; refs:{<user key>} lists the key). Pending records expire
 * after PAYMENT_RECORD_TTL_S; a paid one DVCBOT_USER_TTL after payment. The IPN
 * (payment_ipn.h) settles the record.
 * GET /pay/return only shows a page (templates/pay_return.html around the
 * pay_return_* texts); it never marks anything paid.
 *
 * Without PAY_BASE_URL, PAY_TMN_CODE, PAY_HASH_SECRET and PUBLIC_BASE_URL no
 * link is made (the user is told to pay at the office). */
#ifndef DVCBOT_PAYMENT_H
#define DVCBOT_PAYMENT_H

#include "dvcbot/catalog.h"
#include "dvcbot/config.h"
#include "dvcbot/dialog.h"
#include "dvcbot/dossier.h"
#include "dvcbot/http_server.h"
#include "dvcbot/notify.h"
#include "dvcbot/store.h"
#include "dvcbot/tpl.h"

#include <stdbool.h>

#define PAYMENT_RECORD_TTL_S (30 * 24 * 3600)
#define PAYMENT_ORDER_TYPE "billpayment"
#define PAYMENT_TXN_REF_MAX 64

/* Whether ref can be one of our txn refs: 1 to PAYMENT_TXN_REF_MAX - 1
 * letters and digits (what a request may name, before Redis is asked). */
bool payment_ref_valid(const char *ref);
/* vnp_IpAddr of a payment link: the customer's address, unknown to a chat
 * bot (the gateway requires one); also querydr's without PAY_SERVER_IP. */
#define PAYMENT_IP_ADDR "127.0.0.1"

struct payment;

struct payment_deps {
    const struct config *cfg;
    struct store *store;
    const struct tpl_set *tpl;
    struct notify *notify;
};

/* Returns NULL with *err (caller frees) when templates/pay_return.html
 * cannot be read. */
struct payment *payment_new(const struct payment_deps *deps, char **err);
void payment_free(struct payment *p);
bool payment_configured(const struct payment *p);

/* Replies to t with a payment link for d (which the user has proved is
 * theirs), or says why there is none; calls dialog_turn_done(t). */
void payment_offer(struct payment *p, struct dialog_turn *t, const struct dossier *d);

/* Counts dvcbot_payments_total{step, result}. */
void payment_count(const char *step, const char *result);
void payment_handle_return(struct http_request *req, void *ud);

#endif
