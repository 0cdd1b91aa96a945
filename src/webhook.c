/* webhook — refusing work under load. */
#include "dvcbot/webhook.h"
#include "dvcbot/metrics.h"

#include <stdio.h>
#include <string.h>

void webhook_refuse(struct http_request *req, const char *channel, const char *reason)
{
    static const char body[] = "{\"error\":\"busy, retry later\"}";
    char labels[96], header[48];
    snprintf(labels, sizeof labels, "channel=\"%s\",reason=\"%s\"", channel, reason);
    metrics_inc("dvcbot_webhooks_refused_total", labels, 1);
    snprintf(header, sizeof header, "Retry-After: %d\r\n", WEBHOOK_RETRY_AFTER_S);
    http_respond(req, 503, "application/json", body, strlen(body), header);
}

void webhook_answer_stored(struct http_request *req, const char *channel, enum dialog_stored outcome)
{
    if (outcome == DIALOG_REFUSED)
        webhook_refuse(req, channel, "flood");
    else if (outcome == DIALOG_IN_HAND)
        webhook_refuse(req, channel, "in_hand");
    else
        http_respond_json(req, 200, "{}");
}
