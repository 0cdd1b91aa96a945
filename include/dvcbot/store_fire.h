/* store_fire — writes nobody waits for (a counter, a mark, a cleanup).
 *
 * Sent like store_command without a callback. One Redis did not take —
 * refused while disconnected, failed, or lost with the connection — is
 * counted in dvcbot_redis_writes_lost_total{what} (declared by store_new)
 * and a server error is logged, so it is never lost silently. Owns nothing:
 * what is a short static label ("zalo_sent") that must outlive the reply. */
#ifndef DVCBOT_STORE_FIRE_H
#define DVCBOT_STORE_FIRE_H

#include "dvcbot/store.h"

/* Returns as store_command. */
int store_fire(struct store *s, const char *what, const char *fmt, ...);

#endif
