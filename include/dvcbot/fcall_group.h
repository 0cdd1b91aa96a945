/* fcall_group — the calls of one Redis function made during one loop turn,
 * sent together as one FCALL (one command and one reply for all of them).
 *
 * Every call has the same shape: nkeys keys, then nargs - nkeys arguments.
 * At the end of the loop turn (store_defer) the calls queued go out in the
 * order they were made: one alone as FCALL <fn_one> <nkeys> <keys> <args>;
 * more as FCALL <fn_many> <nkeys * n> <the keys of each> <the arguments of
 * each>, and fn_many must answer an array of n elements, element i being
 * what fn_one answers for call i (an element may be an error: that call
 * alone failed). At most FCALL_GROUP_MAX calls share one FCALL.
 *
 * Callbacks: fcall_group_call returns 0 and cb is called exactly once,
 * with the call's own reply (owned by hiredis, valid during the callback),
 * or with NULL or an error reply when the whole FCALL failed: not sent,
 * timed out, connection lost, store_close (each call of the group is told
 * once). It returns STORE_ENOTCONN (cb never called) when the store is not
 * connected. A callback may make new calls; they go out with the next
 * write.
 *
 * Ownership: the arguments are copied. fcall_group_free after store_close
 * (which fails what is still queued). */
#ifndef DVCBOT_FCALL_GROUP_H
#define DVCBOT_FCALL_GROUP_H

#include "dvcbot/store.h"

#define FCALL_GROUP_MAX 128

struct fcall_group;

/* fn_one, fn_many: names in redis/dvcbot.lua (copied). */
struct fcall_group *fcall_group_new(struct store *st, const char *fn_one, const char *fn_many, int nkeys,
                                    int nargs);
void fcall_group_free(struct fcall_group *g);

/* args: nargs NUL-terminated strings, the nkeys keys first. */
int fcall_group_call(struct fcall_group *g, const char *const *args, store_reply_cb cb, void *ud);

#endif
