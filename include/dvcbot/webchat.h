/* webchat — the small web chat served by dvcbot itself.
 *
 * GET (and HEAD) /webchat serves templates/webchat.html (plain HTML/CSS/JS,
 * Vietnamese UI, no external request) with {{max_chars}} and {{poll_s}}
 * filled in and an ETag (a reload that has it gets 304). GET /favicon.ico
 * answers 204: the page carries its icon inline.
 *
 * POST /webchat/messages takes {"user": "<browser id>", "text": "..."} or
 * {"user": ..., "button": "<payload>", "label": "<what the button said>"},
 * and optionally "id" (the page's own id of the message, 1..40 of
 * [A-Za-z0-9_-]: a message sent again after a lost answer is answered once,
 * with no replies). It answers with the dialog's replies:
 * {"replies": [{"text": "...", "buttons": [{"label": "...", "payload": "..."}]}],
 * "ids": ["<history id of each reply>"], "id": "<the message's own>"} (ids
 * absent when the history was not written). A text longer than WEBCHAT_MAX_CHARS
 * characters (Unicode code points, as the page counts them) gets 400 with
 * the polite Vietnamese error of templates/webchat_too_long.txt.
 *
 * The browser id is a random token the page keeps in localStorage
 * ([A-Za-z0-9_-], WEBCHAT_USER_MIN..WEBCHAT_USER_MAX bytes: what a user id
 * field holds; a longer one is refused, never cut). Every message and reply except those of
 * /start (sent by each page load) goes into the history (webchat_history.h).
 * GET /webchat/messages?user=ID&after=CURSOR answers the history entries
 * after the cursor, {"items": [{"id", "from": "me"|"bot", "text", "buttons"}],
 * "cursor": "<newest id>"}, or 204 when there is none: cheap polling, and
 * after=0 gives the recent conversation for a reload. When the history has
 * nothing new, the inbox's messages are taken and answered as items from
 * the bot without ids (the cursor unchanged): what was sent to a user who
 * has no record any more (erase_done after an erasure at the desk) is in no
 * history, and the open page shows it at its next poll. Messages dvcbot sends
 * on its own (notifications) go into the history and into an inbox, which
 * GET /webchat/messages?user=ID (no cursor) reads and empties, for clients
 * that do not keep a cursor.
 *
 * The struct webchat owns the page text; webchat_free releases it. */
#ifndef DVCBOT_WEBCHAT_H
#define DVCBOT_WEBCHAT_H

#include "dvcbot/buf.h"
#include "dvcbot/dialog.h"
#include "dvcbot/http_server.h"
#include "dvcbot/outbox.h"
#include "dvcbot/store.h"

#include <stdbool.h>

#define WEBCHAT_INBOX_TTL_S (7 * 24 * 3600)
#define WEBCHAT_INBOX_MAX 50
#define WEBCHAT_USER_MIN 8
#define WEBCHAT_USER_MAX (BOT_ID_MAX - 1)
#define WEBCHAT_USER_RULE "user must be 8-63 characters of A-Z a-z 0-9 _ -"
_Static_assert(WEBCHAT_USER_MIN == 8 && WEBCHAT_USER_MAX == 63, "WEBCHAT_USER_RULE says 8-63");
/* Longest message, in characters (code points), counted the same by the page. */
#define WEBCHAT_MAX_CHARS 2000

struct webchat;

/* Returns NULL with *err (caller frees) when the page cannot be read. */
struct webchat *webchat_new(const struct config *cfg, struct store *store, struct outbox *ob,
                            struct dialog *dialog, char **err);
void webchat_free(struct webchat *wc);

void webchat_handle_page(struct http_request *req, void *ud);
void webchat_handle_messages(struct http_request *req, void *ud);
void webchat_handle_favicon(struct http_request *req, void *ud);

bool webchat_user_id_valid(const char *id);
/* Characters of a UTF-8 text (bytes that do not continue a sequence). */
size_t webchat_text_chars(const char *s);
/* Appends {"text":..,"buttons":[..]} objects for replies, comma-separated. */
void webchat_render_replies(struct buf *out, const struct bot_replies *replies);

#endif
