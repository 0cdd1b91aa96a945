/* outbox_entry — how a reply is kept in an outbox stream (outbox_store.h):
 * the keys, the arguments of the Lua function outbox_commit that writes the
 * entry (redis/dvcbot.lua), and reading an entry back.
 *
 * An entry's fields: t text, b buttons (label US payload RS ...), c chat,
 * r the reply's reference, u user key, q the user's reply sequence number,
 * p (only in an entry written again by outbox_progress) the driver's part.
 * No state and no callbacks. outbox_commit_args_make fills args with
 * pointers into the commit and into sc; sc holds what it made until
 * outbox_commit_args_free. What the readers return points into the reply
 * (hiredis owns it). */
#ifndef DVCBOT_OUTBOX_ENTRY_H
#define DVCBOT_OUTBOX_ENTRY_H

#include "dvcbot/buf.h"
#include "dvcbot/msg.h"
#include "dvcbot/outbox_store.h"

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

#define OUTBOX_USER_KEY_MAX (BOT_ID_MAX + 16)  /* "u:{<user>}" */
#define OUTBOX_STREAM_KEY_MAX 256

/* OUTBOX_STREAM_PREFIX<channel>:<consumer>, one process's stream. */
void outbox_entry_stream_key(char *out, size_t len, enum bot_channel ch, const char *consumer);
/* The user record u:{<user_key>}, or "" when user_key is NULL or "". */
void outbox_entry_user_key(char *out, size_t len, const char *user_key);

/* An event's kept reply (outbox_store.h, "Handed replies"): the key is its
 * mark of before, dd:{<user>}:<id>, with this suffix; the value is
 * "<bytes of the buttons field>:" then the buttons field (as b) then the text. */
#define OUTBOX_KEPT_SUFFIX ":r"

/* The strings the arguments of one commit point to. */
struct outbox_commit_args {
    char done[24], session_ttl[16], n[16], ukey[OUTBOX_USER_KEY_MAX], skey[OUTBOX_STREAM_KEY_MAX];
    char dedupe_op[24];
    struct buf *btns;
    size_t n_btns;
};
/* outbox_commit's keys, and its first arguments, which the commits of a
 * loop turn share (this process's stream, the done mark's score, the
 * session TTL, the consumer, trust: sent once, fcall_group_share). */
#define OUTBOX_COMMIT_KEYS 3
#define OUTBOX_COMMIT_SHARED 5
/* How many: outbox_commit's 3 keys, 5 shared and 7 + 2n own arguments. */
size_t outbox_commit_nargs(const struct outbox_commit *c);
/* The keys then the arguments of outbox_commit for c, into args (room for
 * outbox_commit_nargs(c)); consumer names this process's stream, trusted
 * says every enabled channel's stream has been read back. */
void outbox_commit_args_make(const struct outbox_commit *c, const char *consumer, bool trusted,
                             struct outbox_commit_args *sc, const char **args);
void outbox_commit_args_free(struct outbox_commit_args *sc);

/* An entry written again with its driver's progress (outbox_progress):
 * the same fields plus OUTBOX_ENTRY_PART, item->part in decimal; an entry
 * without it is read as part 0 (as every entry outbox_commit writes). */
#define OUTBOX_ENTRY_PART "p"
#define OUTBOX_ENTRY_XADD_MAX 17   /* XADD <stream> * and seven fields */
struct outbox_entry_args {
    char seq[24], part[16];
    struct buf btns;
};
/* The XADD of it's entry, with its progress, into stream: fills argv (room
 * for OUTBOX_ENTRY_XADD_MAX) with pointers into it, stream and ea; returns
 * argc. ea holds what it made until outbox_entry_args_free. */
int outbox_entry_xadd_args(const struct outbox_item *it, const char *stream, struct outbox_entry_args *ea,
                           const char **argv);
void outbox_entry_args_free(struct outbox_entry_args *ea);

/* In an entry's [field, value, ...] array: the value of a field (NULL when
 * absent), or its text ("" when absent or not a string). */
const redisReply *outbox_entry_field(const redisReply *fields, const char *name);
const char *outbox_entry_str(const redisReply *fields, const char *name);
/* Adds to r the buttons of a b field (len bytes); a malformed tail is
 * ignored, a button r cannot take is logged and dropped. */
void outbox_entry_buttons(struct bot_reply *r, const char *s, size_t len);
/* Adds to rs the reply a kept reply's value (len bytes) holds; NULL, with
 * nothing added, when the value is not one. */
struct bot_reply *outbox_entry_kept(struct bot_replies *rs, const char *s, size_t len);

#endif
