/* refs — refs:{<user key>}, the set of shared structures that name a user
 * (subscriptions, access logs, payment records, broadcast lists, tickets...),
 * which erase-my-data walks to take the user out of them.
 *
 * It lives DVCBOT_USER_TTL after the user's last message, like the user
 * record, to within DIALOG_TTL_RENEW_S: the dialog's load renews it with the
 * record (at most that often, dialog.h), and every writer that adds to it
 * (in a turn or not) calls refs_keep after adding, so a set made between two
 * renewals has a TTL too. Nothing is allocated. */
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
