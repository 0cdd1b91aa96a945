/* webchat_history — the recent conversation of a web chat user, so the page
 * shows it again after a reload and finds new messages by polling a cursor.
 *
 * Kept in the Redis stream wc:hist:{wc:<id>}: one entry per bubble, field
 * "m" = {"from":"me"|"bot","text":"...","buttons":[...]} as JSON. At most
 * WEBCHAT_HISTORY_MAX entries; the key expires DVCBOT_SESSION_TTL after the
 * last write (the same time as the session it goes with). Entry ids ("<ms>-<n>",
 * given by Redis) are the items' ids and the polling cursor: they only grow,
 * even after the key expired and came back. Entries are written only while
 * the user record u:{wc:<id>} exists, so the answer to erase-my-data (which
 * deleted it) does not bring the user's data back; erase deletes the key with
 * every other "{wc:<id>}" key.
 *
 * Calls are asynchronous: the callback gets the result once, or NULL/0 when
 * Redis failed. Nothing is kept between calls. */
#ifndef DVCBOT_WEBCHAT_HISTORY_H
#define DVCBOT_WEBCHAT_HISTORY_H

#include "dvcbot/buf.h"
#include "dvcbot/store.h"

#include <stdbool.h>
#include <stddef.h>

#define WEBCHAT_HISTORY_MAX 60
#define WEBCHAT_HISTORY_ID_MAX 48   /* "<ms>-<seq>" */
#define WEBCHAT_HISTORY_ADD_MAX 32  /* items in one call */

/* ids[i] names items[i] ("" when nothing was written: no user record, or
 * Redis failed). ids are valid during the call only. */
typedef void (*webchat_history_added_cb)(const char *const *ids, size_t n, void *ud);

/* Appends items (JSON objects as above, each starting with '{'), in order.
 * n <= WEBCHAT_HISTORY_ADD_MAX. Returns 0 (cb called later) or -1 (never). */
int webchat_history_add(struct store *st, const char *user, const char *const *items, size_t n,
                        unsigned ttl_s, webchat_history_added_cb cb, void *ud);
/* The same, for callers that do not need the ids. */
int webchat_history_add_quiet(struct store *st, const char *user, const char *item,
                              unsigned ttl_s);

/* items: "[{"id":..,"from":..,..},...]" of the entries after cursor (NULL
 * when Redis failed), last: the newest id or the cursor itself. Valid during
 * the call only. */
typedef void (*webchat_history_read_cb)(const char *items_json, size_t n_items, const char *last,
                                        void *ud);
/* cursor: "0" for everything kept, else an id given before. */
int webchat_history_read(struct store *st, const char *user, const char *cursor,
                         webchat_history_read_cb cb, void *ud);

/* True for "0" and "<digits>-<digits>" (the ids given out). */
bool webchat_history_cursor_valid(const char *cursor);

#endif
