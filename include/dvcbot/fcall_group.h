/* fcall_group — the calls of one Redis function made during one loop turn,
 * sent together as one FCALL (one command and one reply for all of them);
 * the dialog's loads (dialog_mark_many_flat) and the outbox's commits
 * (outbox_commit_many_flat, the group commit) go out this way.
 *
 * Every call has nkeys keys, then its arguments. At the end of the loop
 * turn (store_defer) the calls queued go out in the order they were made,
 * at most max_calls per FCALL: one alone as FCALL <fn_one> <nkeys> <keys>
 * <args>; more as FCALL <fn_many> <nkeys * n> <the keys of each> <the
 * arguments of each>. When the group's calls differ in their number of
 * arguments (nargs FCALL_GROUP_VARYING), fn_many's ARGV gives, for each
 * call, the number of its arguments and then those arguments. Shared
 * arguments (fcall_group_share): the first nshared arguments of each call
 * (after its keys) go once, before every call's own: FCALL <fn> <keys of
 * each> <shared> [<number of own>] <own of each>; calls go together only
 * while their shared arguments are the same (one alone: <keys> <shared>
 * <own>, the layout of a call as made). fn_one answers an array per call;
 * fn_many answers one flat array (redis/dvcbot.lua, flat_put): for each
 * call in order, the number of elements of the array fn_one would answer
 * for it and then those elements, or an error element alone (that call
 * alone failed). Each call's callback gets its part as an array reply of
 * its own (made by the group, pointing into the FCALL's reply: valid
 * during the callback, like any reply): a nested table costs Redis's Lua
 * far more to answer than its elements do.
 *
 * Callbacks: a call returns 0 and cb is called exactly once, with the
 * call's own reply (owned by hiredis, valid during the callback), or with
 * NULL or an error reply when the whole FCALL failed: not sent, timed out,
 * connection lost, or dropped by store_close (which tells each queued call
 * then, not later). It returns STORE_ENOTCONN (cb never called) when the
 * store is not connected. A callback may make new calls; they go out with
 * the next write. A callback must not free the group (free it after the
 * loop turn, e.g. in a close callback).
 *
 * Ownership: the group copies the names, and a call's strings when it is
 * made (so they say what was true then; the caller's may go at once). The
 * strings of a turn's calls wait in one buffer of the group, until the end
 * of the turn. fcall_group_free after store_close. */
#ifndef DVCBOT_FCALL_GROUP_H
#define DVCBOT_FCALL_GROUP_H

#include "dvcbot/store.h"

#include <stddef.h>

#define FCALL_GROUP_MAX 128    /* calls per FCALL when max_calls is 0 */
#define FCALL_GROUP_VARYING 0  /* nargs: each call says how many strings it has */

struct fcall_group;

/* fn_one, fn_many: names in redis/dvcbot.lua. nargs: the strings of every
 * call (its keys included), or FCALL_GROUP_VARYING. */
struct fcall_group *fcall_group_new(struct store *st, const char *fn_one, const char *fn_many, int nkeys,
                                    int nargs, size_t max_calls);
void fcall_group_free(struct fcall_group *g);
/* The first nshared arguments of each call after its keys go once per FCALL
 * (0 by default). Call before the first call. */
void fcall_group_share(struct fcall_group *g, size_t nshared);

/* args: the group's nargs NUL-terminated strings, the nkeys keys first. */
int fcall_group_call(struct fcall_group *g, const char *const *args, store_reply_cb cb, void *ud);
/* The same with nargs strings (at least nkeys; the group's nargs unless it
 * is FCALL_GROUP_VARYING, else STORE_EINVAL and cb never called). */
int fcall_group_callv(struct fcall_group *g, const char *const *args, size_t nargs, store_reply_cb cb,
                      void *ud);

#endif
