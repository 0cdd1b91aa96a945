/* outbox_store — the outbox's records in Redis.
 *
 * Messages the outbox gave up on are recorded for staff in the stream
 * OUTBOX_FAILED_KEY (capped at about OUTBOX_FAILED_MAX entries): channel,
 * chat, reason ("gave_up", "expired", "failed"), transient attempts,
 * throttles, the channel's last error code or HTTP status, when (unix s)
 * and the start of the text. `XREVRANGE outbox:failed + - COUNT 20` shows
 * the latest.
 *
 * Callbacks never fire late: outbox_store_record_failed fires and forgets. */
#ifndef DVCBOT_OUTBOX_STORE_H
#define DVCBOT_OUTBOX_STORE_H

#include "dvcbot/outbox.h"
#include "dvcbot/store.h"

#define OUTBOX_FAILED_KEY "outbox:failed"
#define OUTBOX_FAILED_MAX 10000
#define OUTBOX_FAILED_TEXT_CHARS 100  /* characters of the text kept with a failure */

/* An outbox_failed_cb: ud is the struct store. Without Redis the failure is
 * only logged and counted. */
void outbox_store_record_failed(const struct outbox_item *item, void *ud);

#endif
