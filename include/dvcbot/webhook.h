/* webhook — what the channels' webhooks (telegram.c, zalo.c) share.
 *
 * Backpressure: when dvcbot has more in hand than it can finish
 * (dialog_full), or one user floods, or the same event is being handled
 * already (DIALOG_IN_HAND), a webhook is refused with 503 and
 * Retry-After instead of being accepted and lost or queued without bound.
 * Past the bound a redelivery of an event already stored is no new work:
 * the channel asks dialog_check_stored and acknowledges it with 200.
 * Telegram repeats a webhook answered with any status other than 2xx (it
 * gives up only "after a reasonable amount of attempts"); Zalo redelivers
 * an event its webhook did not accept. The refusal is counted in
 * dvcbot_webhooks_refused_total{channel,reason}. */
#ifndef DVCBOT_WEBHOOK_H
#define DVCBOT_WEBHOOK_H

#include "dvcbot/dialog.h"
#include "dvcbot/http_server.h"

#define WEBHOOK_RETRY_AFTER_S 5

/* Answers 503 with Retry-After; reason: "overloaded", "flood", "in_hand". */
void webhook_refuse(struct http_request *req, const char *channel, const char *reason);

/* The answer to a webhook once dialog_handle_stored has said what became of
 * its message: 200 "{}", or refused as "flood" (DIALOG_REFUSED) or
 * "in_hand" (DIALOG_IN_HAND). */
void webhook_answer_stored(struct http_request *req, const char *channel, enum dialog_stored outcome);

#endif
