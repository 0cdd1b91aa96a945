/* store_reply — reading the replies store_command* hands to callbacks.
 *
 * Owns nothing: what these return points into the reply, which hiredis owns
 * and frees when the callback returns. A NULL reply (timeout, disconnect,
 * store_close) is accepted everywhere. store.h includes this header, since
 * every reply callback uses it. */
#ifndef DVCBOT_STORE_REPLY_H
#define DVCBOT_STORE_REPLY_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

/* The text of a string or status reply (else NULL); whether a reply is
 * missing (timeout, disconnect) or an error; and what to log about a failed
 * one ("no reply" or the server's error). */
const char *store_reply_str(const redisReply *r);
bool store_reply_failed(const redisReply *r);
const char *store_reply_error(const redisReply *r);
/* A SCAN-family reply [cursor, [items...]] (SCAN, ZSCAN...): copies the
 * cursor into cursor (cap bytes) and returns the items array (owned by the
 * reply), or NULL — cursor untouched — when the reply is missing, an error,
 * of another shape, or its cursor does not fit. */
const redisReply *store_scan_items(const redisReply *r, char *cursor, size_t cap);

#endif
