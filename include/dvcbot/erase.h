/* erase — intent xoa_du_lieu: "Xóa dữ liệu của tôi".
 *
 * After the user confirms (button erase:yes; erase:no keeps everything), per
 * the Redis conventions of the brief: every key listed in refs:{<user key>}
 * (structures shared with other users) loses the user (SREM / HDEL / ZREM /
 * LREM 0 of the user key, by the key's type), then every key the user owns
 * — "<prefix>{<user key>}" for each prefix of erase_user_keys, refs:{} and
 * the session included (the turn deletes its session instead of saving it)
 * — is deleted in one script. No scan of the keyspace: the cost is the
 * user's own keys and references, whatever else Redis holds. The reply says
 * how many items were deleted, from how many shared lists the user was
 * removed, and what kinds of data they were (templates
 * erase_kind_<key prefix>, erase_kind_other for prefixes it does not know).
 *
 * The confirmation's third button, erase:desk (or "3" typed under it),
 * gives the one-time code of an erasure at the commune desk (erase_desk.h);
 * the desk's erasure is this one, ordered as the user's own erase:yes. A
 * "Không xóa" (erase:no, or a typed no) drops that code before erase_kept.
 *
 * The confirmation is a button only: while it is asked (mode "erase"), a
 * typed yes ("có", "ok") gets erase_press_button (the question again, with
 * its buttons) and a typed no or stop ("không", "hủy", "thôi") erase_kept;
 * words from _flow.json's commands (flowdef.h). Anything else leaves the
 * mode and is answered as usual.
 *
 * A module that keeps a new kind of key under the user's hash tag adds its
 * prefix to the list in erase.c. erase_new registers the handlers; each
 * erasure carries its own state and ends its turn when the last command has
 * answered. */
#ifndef DVCBOT_ERASE_H
#define DVCBOT_ERASE_H

#include "dvcbot/dialog.h"
#include "dvcbot/flowdef.h"
#include "dvcbot/stats.h"

#include <stddef.h>

#define ERASE_MAX_KEYS 16                        /* prefixes of a user's keys */
#define ERASE_KEY_MAX (DIALOG_USER_KEY_MAX + 24)
#define ERASE_KIND_MAX 16                        /* bytes of a kind's name ("wc_inbox") with its NUL */

/* What one erasure did, without anything about the person: for the desk
 * officer who ordered it (erase_desk.h). Kinds are the erase_kind_<kind>
 * templates' names ("s", "p", "wc_hist", "other"), in the order the
 * reply lists them. */
struct erase_summary {
    long deleted;                                /* items (keys) deleted */
    long refs_removed;                           /* shared lists the user was taken out of */
    char kinds[ERASE_MAX_KEYS][ERASE_KIND_MAX];
    size_t n_kinds;
};

struct erase;

/* words: the yes/no/stop words (borrowed; lives longer than the erase). */
struct erase *erase_new(struct dialog *d, struct stats *st, const struct flow_set *words);
void erase_free(struct erase *e);

/* The names of every key the user may own, into out; *n of them. */
void erase_user_keys(const char *user_key, char out[][ERASE_KEY_MAX], size_t *n);
/* The template naming the kind of a key: "s:{tg:1}" → "erase_kind_s",
 * "wc:inbox:{wc:x}" → "erase_kind_wc_inbox". */
void erase_kind_template(const char *key, char *out, size_t cap);

#endif
