/* store_resp — Redis commands in RESP form, for the store (store.c).
 *
 * hiredis formats a command with a printf per argument; the commands of one
 * message carry some forty arguments, so the store makes the common ones
 * here. Owns nothing: each function returns a new command the caller frees
 * with free() (hiredis's redisFreeCommand is not needed), NUL-terminated
 * after *out_len bytes because hiredis scans commands with strchr. No
 * callbacks, no state. */
#ifndef DVCBOT_STORE_RESP_H
#define DVCBOT_STORE_RESP_H

#include "dvcbot/buf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* The RESP form of an argument vector (argvlen NULL: strlen of each), in
 * one allocation. NULL when it would not fit in an int. */
char *store_resp_argv(int argc, const char **argv, const size_t *argvlen, int *out_len);
/* The same, into b (emptied first; its allocation is reused). Returns the
 * length, or -1 when it would not fit in an int. */
int store_resp_argv_into(struct buf *b, int argc, const char **argv, const size_t *argvlen);

/* hiredis's format language for the conversions dvcbot uses (%s %b %d %i
 * %u %ld %lu %lld %llu %zu %%). Returns NULL for anything else (a %b
 * argument holding a NUL, more than 64 arguments, no argument, another
 * conversion): the caller then formats with hiredis. ap is consumed. */
char *store_resp_format(const char *fmt, va_list ap, int *out_len);

/* Whether the store refuses a formatted command: one that does not get
 * exactly one reply (pub/sub, MONITOR, CLIENT REPLY, CLIENT TRACKING, an
 * empty or unreadable command), that changes the protocol (HELLO, SYNC,
 * PSYNC) or the selected database (SELECT, RESET). */
bool store_resp_refused(const char *cmd, size_t len);

#endif
