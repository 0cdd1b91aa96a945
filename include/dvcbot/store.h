/* store — the Redis connection: hiredis async on the libuv loop.
 *
 * Debian's hiredis 0.14 has no automatic reconnect and no async timeouts, so
 * this module adds both: after a failed connect or a disconnect a new context
 * is made from a backoff timer (100 ms doubling to 5 s), and every command
 * has a deadline (timeout_ms) after which its callback gets reply == NULL.
 *
 * Callbacks: store_command* returns 0 and then calls cb exactly once — with
 * the reply, or with NULL on timeout, disconnect, or store_close. When it
 * returns a negative number (not connected, bad arguments) cb is never
 * called. The reply is owned by hiredis and valid only during the callback.
 * After store_close returns, no callback fires any more (pending ones were
 * called with NULL inside store_close).
 *
 * URLs: "redis://host:port[/db]" or "unix:///path/to.sock[?db=N]". */
#ifndef DVCBOT_STORE_H
#define DVCBOT_STORE_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#define STORE_ENOTCONN (-1)
#define STORE_EINVAL   (-2)

struct store;

typedef void (*store_reply_cb)(redisReply *reply, void *ud);
/* Called each time the connection comes up or goes down. */
typedef void (*store_state_cb)(bool connected, void *ud);

/* Creates the store and starts connecting (asynchronously). Returns NULL
 * only when the URL is malformed. */
struct store *store_new(uv_loop_t *loop, const char *url, unsigned timeout_ms);
void store_on_state(struct store *s, store_state_cb cb, void *ud);
bool store_connected(const struct store *s);

int store_command(struct store *s, store_reply_cb cb, void *ud, const char *fmt, ...);
int store_commandv(struct store *s, store_reply_cb cb, void *ud, const char *fmt, va_list ap);
int store_command_argv(struct store *s, store_reply_cb cb, void *ud, int argc,
                       const char **argv, const size_t *argvlen);

/* Fails every pending command (cb with NULL), disconnects, stops timers, and
 * frees the store once its libuv handles are closed (run the loop to finish). */
void store_close(struct store *s);

/* Parses a REDIS_URL. Fills host/port or path (caller frees *host / *path)
 * and db. Returns 0 or STORE_EINVAL. */
int store_parse_url(const char *url, char **host, int *port, char **path, int *db);

#endif
