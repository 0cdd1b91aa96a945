/* webchat_guard — web chat ids cost nothing, so how many new ones an
 * address may bring.
 *
 * A message from an id that has no user record and no session yet (a page
 * load's /start stores nothing and is not asked about) is a new id: an
 * address group (netaddr.h) may bring WEBCHAT_NEW_IDS of them per
 * WEBCHAT_NEW_IDS_WINDOW_S; past that the message gets 429 and nothing is
 * stored. The ids an address brought wait in wc:new:<sha256 of the address
 * group> (a set that expires with its window), so an id is counted once.
 *
 * webchat_guard_check calls cb exactly once (also when Redis is down: then
 * the message goes on, the dialog answers what it can), or returns -1 and
 * never calls it. */
#ifndef DVCBOT_WEBCHAT_GUARD_H
#define DVCBOT_WEBCHAT_GUARD_H

#include "dvcbot/store.h"

#include <stdbool.h>

#define WEBCHAT_NEW_IDS_WINDOW_S 3600

typedef void (*webchat_guard_cb)(bool allowed, void *ud);

/* user: the web chat id (valid); source: its address group (msg->source). */
int webchat_guard_check(struct store *st, unsigned limit, const char *user, const char *source,
                        webchat_guard_cb cb, void *ud);

#endif
