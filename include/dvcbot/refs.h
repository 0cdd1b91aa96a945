/* refs — refs:{<user key>}, the set of shared structures that name a user
 * (subscriptions, access logs, payment records, broadcast lists, tickets...),
 * which erase-my-data walks to take the user out of them.
 *
 * It lives DVCBOT_USER_TTL after its last write, like the user record: a
 * dialog turn renews it when it ends, and writers outside a turn (the
 * broadcast API and worker, the volunteer list) call refs_keep after adding
 * to it. Nothing is allocated. */
#ifndef DVCBOT_REFS_H
#define DVCBOT_REFS_H

#include "dvcbot/store.h"

#include <stddef.h>

/* "refs:{<user key>}" into out. */
void refs_key(char *out, size_t cap, const char *user_key);
/* EXPIRE refs:{<user key>} ttl_s (nothing when the set does not exist).
 * Returns as store_command. */
int refs_keep(struct store *st, unsigned ttl_s, const char *user_key);

#endif
