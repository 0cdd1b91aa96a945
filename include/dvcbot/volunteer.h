/* volunteer — members of the community digital teams (Tổ công nghệ số cộng
 * đồng) running flows on behalf of residents.
 *
 * Staff register them (volunteers_change; admin_api.c serves it as POST
 * /admin/volunteers {"add": [user keys], "remove": [user keys]}) → set
 * `volunteers` (each added user's refs:{} lists it); volunteers_list (GET
 * /admin/volunteers) lists them. A registered volunteer types
 * "/hotro" or "hỗ trợ người dân" (intents/_flow.json, command assist) or taps
 * vol:start, gives the resident's commune (mode "assist": matched against
 * the 2025 list like a flow's commune question, commune_list.h; several or
 * no units fitting are offered as buttons vol:cm:<code>) and then picks a
 * procedure; session.assist {"commune"} makes the next flow an assisted one
 * (flow.c): no saved-profile offer, no consent, nothing saved to the
 * volunteer's profile, the commune slot filled, and the finished flow counted
 * per volunteer and commune (stats_assist). vol:end or /start stops
 * assisting. Others get a polite refusal.
 *
 * A volunteer's own unfinished flow is set aside when assisting starts and
 * offered back when it stops (flows_hold, flows_unhold). "/hotro" typed in a
 * running flow asks first (assist_pause_ask: vol:start sets it aside and
 * assists, f:resume goes on); typed by someone who is no volunteer, the
 * refusal offers to go on (assist_not_volunteer_in_flow).
 *
 * volunteer_new registers the dialog handlers. Callbacks come back once, or
 * never when the call returns an error; after store_close all have. */
#ifndef DVCBOT_VOLUNTEER_H
#define DVCBOT_VOLUNTEER_H

#include "dvcbot/commune_list.h"
#include "dvcbot/dialog.h"
#include "dvcbot/flowdef.h"
#include "dvcbot/store.h"

#include <stdbool.h>

#define VOLUNTEER_MODE "assist"
#define VOLUNTEER_SET "volunteers"
#define VOLUNTEER_MAX_PER_REQUEST 1000
#define VOLUNTEER_UNIT_ARG "cm:"   /* vol:cm:<code>: a unit offered at the commune question */

struct volunteers;

struct flows;
/* flows: the guided flows (flow.h), for the volunteer's own flow set aside
 * while they assist (flows_hold, flows_unhold). */
struct volunteers *volunteers_new(struct dialog *d, struct flows *flows, const struct flow_set *defs,
                                  const struct commune_list *communes, struct store *store,
                                  const struct config *cfg);
void volunteers_free(struct volunteers *v);

/* Adds (with the commune they cover, "" when none; vol:{<user>} keeps it
 * with added_at) or removes a volunteer. An addition lists the set in
 * refs:{<user>} and gives refs:{} and vol:{} user_ttl_s (DVCBOT_USER_TTL,
 * as every writer of refs:{}: refs.h); a volunteer whose refs:{} expired
 * leaves the set with the hourly sweep (ref_sweep.h). Returns as
 * store_command (STORE_EINVAL for a malformed user key); the reply is 1
 * when the membership changed, 0 when not. */
int volunteer_register(struct store *store, const char *user, const char *commune, bool add,
                       unsigned user_ttl_s, store_reply_cb cb, void *ud);

/* The registered volunteers (keys valid during the call; NULL: Redis
 * unavailable). Returns as store_command. */
typedef void (*volunteers_list_cb)(const char *const *keys, size_t n, void *ud);
int volunteers_list(struct volunteers *v, volunteers_list_cb cb, void *ud);
/* Adds and removes volunteers (keys checked with volunteer_user_key_valid
 * by the caller); cb gets whether every change was stored and how many
 * memberships changed, once, possibly before the call returns. */
typedef void (*volunteers_changed_cb)(bool ok, long added, long removed, void *ud);
void volunteers_change(struct volunteers *v, const char *const *add, size_t n_add,
                       const char *const *remove, size_t n_remove, volunteers_changed_cb cb, void *ud);

/* "tg:123", "zl:...", "wc:...", "cli:..." with an id of 1..BOT_ID_MAX - 1
 * characters of A-Z a-z 0-9 _ - (what the channels produce). */
bool volunteer_user_key_valid(const char *key);

#endif
