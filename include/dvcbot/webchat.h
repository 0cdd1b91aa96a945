/* webchat — the small web chat served by dvcbot itself.
 *
 * GET /webchat serves templates/webchat.html (plain HTML/CSS/JS, Vietnamese
 * UI). POST /webchat/messages takes {"user": "<browser id>", "text": "..."} or
 * {"user": ..., "button": "<payload>"} and answers with the dialog's replies:
 * {"replies": [{"text": "...", "buttons": [{"label": "...", "payload": "..."}]}]}.
 * The browser id is a random token the page keeps in localStorage
 * ([A-Za-z0-9_-], WEBCHAT_USER_MIN..WEBCHAT_USER_MAX bytes: what a user id
 * field holds; a longer one is refused, never cut). Messages dvcbot sends on its own
 * (notifications) wait in Redis and come with GET /webchat/messages?user=ID.
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

struct webchat;

/* Returns NULL with *err (caller frees) when the page cannot be read. */
struct webchat *webchat_new(const struct config *cfg, struct store *store, struct outbox *ob,
                            struct dialog *dialog, char **err);
void webchat_free(struct webchat *wc);

void webchat_handle_page(struct http_request *req, void *ud);
void webchat_handle_messages(struct http_request *req, void *ud);

bool webchat_user_id_valid(const char *id);
/* Appends {"text":..,"buttons":[..]} objects for replies, comma-separated. */
void webchat_render_replies(struct buf *out, const struct bot_replies *replies);

#endif
