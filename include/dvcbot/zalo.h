/* zalo — the Zalo Official Account channel (OA API v3).
 *
 * Inbound: POST /webhook/zalo. X-ZEvent-Signature must be "mac=" + hex
 * SHA-256 of app id + raw body + the body's "timestamp" + OA secret key
 * (compared in constant time; 401 and nothing processed otherwise). Events
 * whose timestamp (ms) is older than ZALO_MAX_EVENT_AGE (default 12 hours,
 * capped at DVCBOT_DEDUPE_TTL) or more than ZALO_MAX_EVENT_AHEAD_S ahead of
 * now are not processed: answered 200 (so Zalo stops redelivering them),
 * logged and counted in dvcbot_zalo_events_refused_total{reason="stale"}.
 * The age is that long because an event dvcbot refused with 503 (past the
 * backlog bound, webhook.h) comes back with its first timestamp (it is
 * signed) whenever Zalo redelivers it, which public write-ups of the OA
 * webhook put at up to 12 hours; a replay of an event handled before is
 * dropped by its msg_id mark (kept the dedupe TTL), not by its age. Good
 * events are answered 200 once their replies are stored (a few ms); the
 * sending happens after.
 *   user_send_text            → text, or a button press when it starts with
 *                               ZALO_PAYLOAD_MARK (our buttons are
 *                               oa.query.hide: a tap sends their payload
 *                               back as hidden text)
 *   user_send_<anything else> → "I read text only"
 *   follow, user_click_chatnow → greeting
 *   unfollow                  → no more sending; session and window data
 *                               deleted; u:{zl:<id>} field `unfollowed` set
 *                               (any later interaction clears it)
 *   the rest (oa_send_*, user_seen_message, ...) → ignored.
 * A redelivered event (same msg_id) is answered once (dialog dedupe).
 *
 * Outbound: the outbox driver posts to ZALO_API_BASE/v3.0/oa/message/cs with
 * the `access_token` header (zalo_token.h keeps it fresh): text split at
 * ZALO_MAX_TEXT, buttons as oa.query.hide (at most ZALO_MAX_BUTTONS under one
 * message; more follow under the `zalo_more_buttons` text), replies quoting
 * the user's msg_id (react_message_id). -216/-220/-124 → refresh the token and
 * resend once; -32 → throttle; a code not known → transient (bounded
 * back-off, then given up with the code in outbox:failed), never dropped at
 * once. -211/-213/-230/-232 (and the other per-user refusals) are
 * recorded in u:{zl:<id>} (last_error, last_error_code, last_error_at) and
 * counted in dvcbot_zalo_send_errors_total{reason}; the item fails
 * (item->last_error = Zalo's code), it is not retried.
 *
 * Quota: each interaction writes u:{zl:<id>} zl_in (unix s), zl_msg (its
 * msg_id) and resets zl_out; each message sent increments zl_out. Replies
 * quoting a message within ZALO_FREE_WINDOW_S are free up to
 * ZALO_FREE_REPLIES; dvcbot_zalo_messages_total{window} counts by
 * zalo_window_of.
 *
 * The pure functions below are separate so they can be unit-tested. */
#ifndef DVCBOT_ZALO_H
#define DVCBOT_ZALO_H

#include "dvcbot/zalo_verdict.h"
#include "dvcbot/config.h"
#include "dvcbot/crypto.h"
#include "dvcbot/dialog.h"
#include "dvcbot/http_client.h"
#include "dvcbot/http_server.h"
#include "dvcbot/msg.h"
#include "dvcbot/outbox.h"
#include "dvcbot/store.h"
#include "dvcbot/tpl.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* Zalo allows 2000 characters in a text message; keep a margin. */
#define ZALO_MAX_TEXT 1900
/* Buttons under one message, and characters of a button title. */
#define ZALO_MAX_BUTTONS 5
#define ZALO_MAX_TITLE 100
/* Our button payloads come back as hidden text starting with this. */
#define ZALO_PAYLOAD_MARK "dvc:"
/* Replies within 48 h of the user's last interaction are free (a few of
 * them); customer-service messages stop working 7 days after it. */
#define ZALO_FREE_WINDOW_S (48 * 3600)
#define ZALO_FREE_REPLIES 8
#define ZALO_CS_WINDOW_S (7 * 24 * 3600)
#define ZALO_TIMESTAMP_MAX 24
/* Seconds an event's timestamp may be ahead of our clock. */
#define ZALO_MAX_EVENT_AHEAD_S 300
#define ZALO_MAC_MAX (4 + CRYPTO_SHA256_HEX)

/* Fields of the user record u:{zl:<id>} this module writes. */
#define ZALO_F_LAST_IN "zl_in"
#define ZALO_F_SENT "zl_out"
#define ZALO_F_LAST_MSG "zl_msg"
#define ZALO_F_UNFOLLOWED "unfollowed"
#define ZALO_F_LAST_ERROR "last_error"
#define ZALO_F_LAST_ERROR_CODE "last_error_code"
#define ZALO_F_LAST_ERROR_AT "last_error_at"

struct zalo;

/* Returns NULL (with *err, static text) when the configuration is unusable. */
struct zalo *zalo_new(uv_loop_t *loop, const struct config *cfg, struct store *store,
                      struct http_client *http, struct outbox *ob, struct dialog *dialog,
                      const struct tpl_set *tpl, const char **err);
/* HTTP handler for POST /webhook/zalo (ud = the struct zalo). */
void zalo_handle_webhook(struct http_request *req, void *ud);
/* Sets the gauges read at GET /metrics (seconds until the token expires). */
void zalo_update_metrics(struct zalo *z);
/* Stops the token timers; frees once they are closed (run the loop). Call
 * after the HTTP client, the outbox and the store are closed. */
void zalo_close(struct zalo *z);

/* ===== Pure functions ===== */

/* The event's "timestamp" as it appears in the body (string or number). */
bool zalo_event_timestamp(const char *body, size_t len, char out[ZALO_TIMESTAMP_MAX]);
/* "mac=" + hex sha256(app_id + body + timestamp + secret). */
void zalo_signature(const char *app_id, const char *body, size_t len, const char *timestamp,
                    const char *secret, char out[ZALO_MAC_MAX]);
/* Constant-time check of an X-ZEvent-Signature header (NULL never matches). */
bool zalo_signature_valid(const char *app_id, const char *secret, const char *body, size_t len,
                          const char *timestamp, const char *header);

enum zalo_parse { ZL_PARSE_MSG, ZL_PARSE_UNFOLLOW, ZL_PARSE_IGNORED, ZL_PARSE_BAD };
/* ZL_PARSE_MSG: *out is a new message (caller owns). ZL_PARSE_UNFOLLOW: user
 * is filled. */
enum zalo_parse zalo_parse_event(const char *json, size_t len, struct bot_msg **out,
                                 char user[BOT_ID_MAX]);

/* The message JSON for one part: text, buttons (may be 0), and the msg_id to
 * quote (NULL/"" = none). Titles are cut at ZALO_MAX_TITLE characters. */
char *zalo_render_message(const char *user_id, const char *text, size_t len,
                          const struct bot_button *buttons, size_t n_buttons, const char *quote);
/* Messages needed to carry n buttons (at least 1). */
size_t zalo_button_groups(size_t n_buttons);

/* One API call of a reply: a slice of its text (or the zalo_more_buttons
 * line) and a range of its buttons. `part` is the outbox item's progress: a
 * byte offset while text remains, then len + g for button group g >= 1
 * (g >= 0 when the text is empty). */
struct zalo_step {
    size_t text_off, text_len;
    bool more_text;       /* carry the zalo_more_buttons line instead */
    size_t btn_from, btn_to;
    unsigned next_part;
    bool last;
};
void zalo_plan_step(const char *text, size_t n_buttons, unsigned part, struct zalo_step *out);

#endif
