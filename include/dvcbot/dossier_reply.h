/* dossier_reply — what the citizen reads about one dossier: its details
 * after a verified lookup, and the notice sent when its status changes.
 *
 * Texts live in templates/: dossier_details, dossier_changed, one
 * dossier_status_<status> per status (what it means and what to do next;
 * _paid for a fee already paid while waiting for it, _no_note for a refusal
 * without a reason written),
 * dossier_late, dossier_fee_{none,paid,unpaid}, and the reminders
 * (reminder_*). Personal data stays out: the
 * applicant's name is shown as initials, phone and ID number never. Button
 * payloads: "hs:pay:<code>", "hs:sub:<code>", "hs:unsub:<code>",
 * "hs:code:<code>". Nothing is kept after a call; out owns what was added. */
#ifndef DVCBOT_DOSSIER_REPLY_H
#define DVCBOT_DOSSIER_REPLY_H

#include "dvcbot/catalog.h"
#include "dvcbot/dossier.h"
#include "dvcbot/msg.h"
#include "dvcbot/tpl.h"

#include <stdbool.h>
#include <time.h>

#define DOSSIER_PAYLOAD_CODE "hs:code:"
#define DOSSIER_PAYLOAD_PAY "hs:pay:"
#define DOSSIER_PAYLOAD_SUB "hs:sub:"
#define DOSSIER_PAYLOAD_UNSUB "hs:unsub:"

/* Status, procedure, agency, dates and lateness, what is missing, fee and
 * whether it is paid; buttons to pay (when a fee is due) and to subscribe or
 * unsubscribe. Returns 0, or -1 when a template is missing. */
int dossier_reply_details(const struct tpl_set *t, const struct catalog *cat,
                          const struct dossier *d, time_t now, bool subscribed,
                          struct bot_replies *out);

/* "Hồ sơ ... vừa được cập nhật" with the new status and what to do next. */
int dossier_reply_changed(const struct tpl_set *t, const struct catalog *cat,
                          const struct dossier *d, struct bot_replies *out);

/* A notice about one dossier from template name (dossier_changed, the
 * reminder_* templates) with variables agency, code, due, pay_payload,
 * procedure and status_text. Returns 0, or -1 when a template is missing. */
int dossier_reply_notice(const struct tpl_set *t, const struct catalog *cat,
                         const struct dossier *d, const char *name, struct bot_replies *out);

/* True when the dossier has a fee that is not paid and can still be paid. */
bool dossier_reply_fee_due(const struct dossier *d);

#endif
