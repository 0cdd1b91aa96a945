/* store — the Redis connection: hiredis async on the libuv loop.
 *
 * Debian's hiredis 0.14 has no automatic reconnect and no async timeouts, so
 * this module adds both: after a failed connect or a disconnect a new context
 * is made from a backoff timer (100 ms doubling to 5 s, reset on success), and
 * every command has a deadline (timeout_ms) after which its callback gets
 * reply == NULL. A command that times out means the server is presumably hung:
 * the connection is dropped (its other pending commands get NULL too) and a
 * new one is made. A connect attempt is bounded by timeout_ms as well.
 *
 * "Connected" means the server answered the handshake on a new connection:
 * SELECT <db> when the URL names a db other than 0, else PING, then, when a
 * Lua library is set (store_set_library), its version check and FUNCTION
 * LOAD REPLACE unless Redis holds a newer one (redis_library.h). Until then,
 * and from the moment a connection is lost, store_command* refuse with
 * STORE_ENOTCONN. The state callback is called on each of those transitions
 * (not on every failed retry); it may call store_command* or store_close.
 *
 * Callbacks: store_command* returns 0 and then calls cb exactly once — with
 * the reply, or with NULL on timeout, disconnect, or store_close. When it
 * returns a negative number (not connected, bad arguments) cb is never
 * called. cb may be NULL when the reply does not matter. The reply is owned
 * by hiredis and valid only during the callback. A callback may call
 * store_command* or store_close. After store_close returns, no callback fires
 * any more (pending ones were called with NULL inside store_close).
 *
 * Refused with STORE_EINVAL, because they break "one reply per command" or
 * the selected db: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, MONITOR, CLIENT REPLY,
 * CLIENT TRACKING, HELLO, SYNC, PSYNC, SELECT, RESET, and an empty command.
 *
 * The process must ignore SIGPIPE: hiredis 0.14 writes with write(2), and a
 * server that just went away would otherwise kill it. A TCP host name is
 * resolved with a blocking getaddrinfo in hiredis; use an address (or a
 * local name) for REDIS_URL. No TLS and no AUTH in this version.
 *
 * URLs: "redis://host[:port][/db]" (port 6379 by default, host may be
 * "[v6 address]") or "unix:///path/to.sock[?db=N]". */
#ifndef DVCBOT_STORE_H
#define DVCBOT_STORE_H

#include "dvcbot/store_reply.h"

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

/* REDIS_URL defaults and bounds (store_url.c). */
#define STORE_DEFAULT_PORT 6379
#define STORE_MAX_DB 1000000

#define STORE_ENOTCONN (-1)
#define STORE_EINVAL   (-2)

/* Used when store_new is given timeout_ms == 0. */
#define STORE_DEFAULT_TIMEOUT_MS 2000

struct store;

typedef void (*store_reply_cb)(redisReply *reply, void *ud);
/* Called each time the connection comes up or goes down. */
typedef void (*store_state_cb)(bool connected, void *ud);

/* Creates the store and starts connecting (asynchronously). timeout_ms bounds
 * each command and each connect attempt (0: STORE_DEFAULT_TIMEOUT_MS).
 * Returns NULL only when the URL is malformed. */
struct store *store_new(uv_loop_t *loop, const char *url, unsigned timeout_ms);
void store_on_state(struct store *s, store_state_cb cb, void *ud);
/* The Lua library (redis/dvcbot.lua) every connection loads before it is
 * "connected"; copied. Set it right after store_new (before the loop runs),
 * or it applies from the next connection. */
void store_set_library(struct store *s, const char *lua);
bool store_connected(const struct store *s);

int store_command(struct store *s, store_reply_cb cb, void *ud, const char *fmt, ...);
int store_commandv(struct store *s, store_reply_cb cb, void *ud, const char *fmt, va_list ap);
int store_command_argv(struct store *s, store_reply_cb cb, void *ud, int argc,
                       const char **argv, const size_t *argvlen);
/* store_fire (a write nobody waits for): see dvcbot/store_fire.h. */

/* Work that gathers what one loop turn produced into fewer commands
 * (counters added up in memory, commits of many turns in one script):
 * store_defer queues d, and d->fn(d->ud) runs once, at the end of this loop
 * turn, just before the commands queued in the turn are written (so what
 * fn sends goes out in the same write, ahead of anything a later turn
 * sends). Queuing a d already queued does nothing. The caller owns d; d
 * must stay valid until it ran or store_close was called (which drops the
 * queue without running fn, calling d->dropped(d->ud) instead when set). */
struct store_deferred {
    void (*fn)(void *ud);
    void (*dropped)(void *ud);    /* may be NULL */
    void *ud;
    struct store_deferred *next;  /* internal */
    bool queued;                  /* internal */
};
void store_defer(struct store *s, struct store_deferred *d);

/* One command of a transaction. */
struct store_cmdv {
    int argc;
    const char **argv;
    const size_t *lens;   /* NULL: strlen of each */
};
/* MULTI, the n commands, EXEC, written at once: Redis runs them together,
 * with no Lua (cheaper than a script when no step depends on another's
 * result). cb gets EXEC's reply: an array of the n replies (a command may
 * have failed alone: its element is an error), or NULL / an error when the
 * transaction did not run. Returns as store_command_argv. */
int store_multi(struct store *s, store_reply_cb cb, void *ud, const struct store_cmdv *cmds, size_t n);

/* Reading replies (store_reply_str, store_reply_failed...): dvcbot/store_reply.h. */

/* Fails every pending command (cb with NULL), disconnects, stops timers, and
 * frees the store once its libuv handles are closed (run the loop to finish). */
void store_close(struct store *s);

/* Parses a REDIS_URL. Fills host/port or path (caller frees *host / *path;
 * the other one is set to NULL and port to 0 for a socket) and db. Returns 0,
 * or STORE_EINVAL with nothing allocated. */
int store_parse_url(const char *url, char **host, int *port, char **path, int *db);

#endif
