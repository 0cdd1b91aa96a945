/* store_poll — hiredis 0.14's libuv adapter with event hooks that see poll
 * errors. See include/dvcbot/store_poll.h.
 *
 * The adapter drops poll errors: libuv reports POLLERR as status UV_EBADF
 * and stops the handle, redisLibuvPoll returns, and hiredis never learns
 * that a TCP connect was refused or a connection was reset. We keep the
 * adapter (attach, cleanup) but replace its four event hooks so that an
 * error lets hiredis read the socket and see the failure. */
#include "dvcbot/store_poll.h"
#include "dvcbot/log.h"

#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>

/* Like redisLibuvPoll, but an error status hands the socket to hiredis, which
 * reads the pending error (a refused connect, a reset) and fails the context. */
static void on_poll(uv_poll_t *h, int status, int events)
{
    redisLibuvEvents *p = h->data;

    if (status < 0) {
        if (p->context)
            redisAsyncHandleRead(p->context);
        return;
    }
    redisLibuvPoll(h, status, events);
}

/* Sets the adapter's event mask and polls with on_poll. libuv 1.44's
 * uv_poll_start removes the fd from epoll before adding it again (two
 * system calls), and hiredis asks for what it has already on every
 * command: only a real change reaches libuv. */
static void poll_change(void *privdata, int add, int del)
{
    redisLibuvEvents *p = privdata;
    int events = (p->events | add) & ~del;
    int rc;

    if (events == p->events && (events == 0) != uv_is_active((uv_handle_t *)&p->handle))
        return;
    p->events = events;
    rc = events ? uv_poll_start(&p->handle, events, on_poll) : uv_poll_stop(&p->handle);
    if (rc != 0)
        log_fmt(LOG_ERROR, "uv_poll_start failed", "\"error\":%s", log_q(uv_strerror(rc)));
}

static void poll_add_read(void *privdata)
{
    poll_change(privdata, UV_READABLE, 0);
}

static void poll_del_read(void *privdata)
{
    poll_change(privdata, 0, UV_READABLE);
}

static void poll_del_write(void *privdata)
{
    poll_change(privdata, 0, UV_WRITABLE);
}

void store_poll_want_write(void *privdata)
{
    poll_change(privdata, UV_WRITABLE, 0);
}

redisAsyncContext *store_poll_context(void *privdata)
{
    redisLibuvEvents *p = privdata;
    return p->context;
}

/* Clears what a failed redisLibuvAttach left behind, so that freeing the
 * context does not call its cleanup hook with NULL data. */
static void ctx_detach_hooks(redisAsyncContext *ac)
{
    ac->ev.addRead = NULL;
    ac->ev.delRead = NULL;
    ac->ev.addWrite = NULL;
    ac->ev.delWrite = NULL;
    ac->ev.cleanup = NULL;
}

int store_poll_attach(redisAsyncContext *ac, uv_loop_t *loop, void (*add_write)(void *privdata))
{
    if (redisLibuvAttach(ac, loop) != REDIS_OK) {
        ctx_detach_hooks(ac);
        return REDIS_ERR;
    }
    ac->ev.addRead = poll_add_read;
    ac->ev.delRead = poll_del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = poll_del_write;
    return REDIS_OK;
}
