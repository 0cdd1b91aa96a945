/* outbox_failed — the record of messages the outbox gave up on.
 *
 * Messages the outbox gave up on are recorded for staff in the stream
 * OUTBOX_FAILED_KEY (capped at about OUTBOX_FAILED_MAX entries): channel,
 * chat, reason ("gave_up", "expired", "failed"), transient attempts,
 * throttles, the channel's last error code or HTTP status, when (unix s)
 * and the start of the text. `XREVRANGE outbox:failed + - COUNT 20`.
 * A write nobody waits for: nothing is owned, nothing calls back. */
#ifndef DVCBOT_OUTBOX_FAILED_H
#define DVCBOT_OUTBOX_FAILED_H

#include "dvcbot/outbox.h"

#define OUTBOX_FAILED_KEY "outbox:failed"
#define OUTBOX_FAILED_MAX 10000
#define OUTBOX_FAILED_TEXT_CHARS 100  /* characters of the text kept with a failure */

/* An outbox_failed_cb: ud is the struct store. Button acknowledgements are
 * not recorded. Without Redis the failure is only logged. */
void outbox_failed_record(const struct outbox_item *item, void *ud);

#endif
