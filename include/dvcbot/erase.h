/* erase — intent xoa_du_lieu: "Xóa dữ liệu của tôi".
 *
 * After the user confirms (button erase:yes; erase:no keeps everything), per
 * the Redis conventions of the brief: every key listed in refs:{<user key>}
 * (structures shared with other users) loses the user (SREM / HDEL / ZREM /
 * LREM 0 of the user key, by the key's type), then every key whose name
 * contains "{<user key>}" is found with SCAN MATCH and deleted, refs:{} and
 * the session included (the turn deletes its session instead of saving it).
 * The reply says how many items were deleted, from how many shared lists the
 * user was removed, and what kinds of data they were (templates
 * erase_kind_<key prefix>, erase_kind_other for prefixes it does not know).
 *
 * SCAN walks one server: on Redis Cluster run it per master (not done here).
 * erase_new registers the handlers; each erasure carries its own state and
 * ends its turn when the last command has answered. */
#ifndef DVCBOT_ERASE_H
#define DVCBOT_ERASE_H

#include "dvcbot/dialog.h"
#include "dvcbot/stats.h"

#include <stddef.h>

#define ERASE_SCAN_COUNT 500

struct erase;

struct erase *erase_new(struct dialog *d, struct stats *st);
void erase_free(struct erase *e);

/* The SCAN pattern for a user: "*{<user key with * ? [ ] \ escaped>}*". */
void erase_pattern(const char *user_key, char *out, size_t cap);
/* The template naming the kind of a key: "s:{tg:1}" → "erase_kind_s",
 * "wc:inbox:{wc:x}" → "erase_kind_wc_inbox". */
void erase_kind_template(const char *key, char *out, size_t cap);

#endif
