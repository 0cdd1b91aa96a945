/* volunteer — members of the community digital teams (Tổ công nghệ số cộng
 * đồng) running flows on behalf of residents.
 *
 * Staff register them: POST /admin/volunteers {"add": [user keys], "remove":
 * [user keys]} (bearer token) → set `volunteers` (each added user's refs:{}
 * lists it); GET /admin/volunteers lists them. A registered volunteer types
 * "/hotro" or "hỗ trợ người dân" (intents/_flow.json, command assist) or taps
 * vol:start, gives the resident's commune (mode "assist") and then picks a
 * procedure; session.assist {"commune"} makes the next flow an assisted one
 * (flow.c): no saved-profile offer, no consent, nothing saved to the
 * volunteer's profile, the commune slot filled, and the finished flow counted
 * per volunteer and commune (stats_assist). vol:end or /start stops
 * assisting. Others get a polite refusal.
 *
 * volunteer_new registers the dialog handlers; the HTTP handlers take the
 * struct as ud. */
#ifndef DVCBOT_VOLUNTEER_H
#define DVCBOT_VOLUNTEER_H

#include "dvcbot/dialog.h"
#include "dvcbot/flowdef.h"
#include "dvcbot/http_server.h"

#include <stdbool.h>

#define VOLUNTEER_MODE "assist"
#define VOLUNTEER_SET "volunteers"
#define VOLUNTEER_MAX_PER_REQUEST 1000

struct volunteers;

struct volunteers *volunteers_new(struct dialog *d, const struct flow_set *defs,
                                  struct store *store, const struct config *cfg);
void volunteers_free(struct volunteers *v);

/* Adds (with the commune they cover, "" when none; vol:{<user>} keeps it
 * with added_at) or removes a volunteer. Returns as store_command
 * (STORE_EINVAL for a malformed user key); the reply is 1 when the
 * membership changed, 0 when not. */
int volunteer_register(struct store *store, const char *user, const char *commune, bool add,
                       store_reply_cb cb, void *ud);

/* POST and GET /admin/volunteers. */
void volunteers_handle_http(struct http_request *req, void *ud);

/* "tg:123", "zl:...", "wc:...", "cli:..." with an id of 1..BOT_ID_MAX - 1
 * characters of A-Z a-z 0-9 _ - (what the channels produce). */
bool volunteer_user_key_valid(const char *key);

#endif
