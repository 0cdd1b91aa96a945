/* store_poll — hiredis 0.14's libuv adapter with event hooks that see poll
 * errors, for the store (store.c).
 *
 * The adapter's own hooks drop a poll error (a refused TCP connect, a reset),
 * so hiredis would wait forever; ours hand the socket to hiredis, which reads
 * the error and fails the context. A real change of the event mask only
 * reaches libuv (uv_poll_start costs two system calls).
 *
 * Owns nothing beyond what the adapter owns (its poll handle, freed by the
 * adapter's cleanup hook when hiredis frees the context). privdata below is
 * the adapter's, as hiredis passes it to the event hooks. */
#ifndef DVCBOT_STORE_POLL_H
#define DVCBOT_STORE_POLL_H

#include <hiredis/async.h>
#include <uv.h>

/* Attaches ac to loop with the adapter and installs our hooks; add_write is
 * the caller's "wants writable" hook (it may defer the write, or call
 * store_poll_want_write). On failure (REDIS_ERR) the hooks are cleared, so
 * redisAsyncFree(ac) is safe. */
int store_poll_attach(redisAsyncContext *ac, uv_loop_t *loop, void (*add_write)(void *privdata));
/* Polls for writable now. */
void store_poll_want_write(void *privdata);
/* The context privdata belongs to (NULL once the adapter let go of it). */
redisAsyncContext *store_poll_context(void *privdata);

#endif
