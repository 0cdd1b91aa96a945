/* store_cmd — the commands in flight on the store's connection: sending
 * them (store_command*, store_multi), their deadlines, their replies. See
 * include/dvcbot/store_cmd.h; the connection itself is store.c. */
#include "dvcbot/store_cmd.h"
#include "dvcbot/store_internal.h"
#include "dvcbot/buf.h"
#include "dvcbot/mem.h"
#include "dvcbot/store_resp.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bytes of store_command_argv's formatting space kept between commands. */
#define STORE_RESP_KEPT (64 * 1024)

static void on_cmd_timer(uv_timer_t *t);

static void pending_push(struct store *s, struct store_cmd *c)
{
    c->deadline = uv_now(s->loop) + s->timeout_ms;
    c->queued = true;
    c->prev = s->tail;
    c->next = NULL;
    if (s->tail)
        s->tail->next = c;
    else
        s->head = c;
    s->tail = c;
    if (!uv_is_active((uv_handle_t *)&s->cmd_timer))
        store_timer_start(&s->cmd_timer, on_cmd_timer, s->timeout_ms);
}

static void pending_unlink(struct store *s, struct store_cmd *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        s->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        s->tail = c->prev;
    c->prev = c->next = NULL;
    c->queued = false;
}

/* Takes the oldest pending command and calls it with NULL. The record stays
 * with hiredis, which calls on_cmd_reply for it later. */
static void pending_fail_head(struct store *s)
{
    struct store_cmd *c = s->head;
    store_reply_cb cb = c->cb;
    void *ud = c->ud;

    pending_unlink(s, c);
    if (cb)
        cb(NULL, ud);
}

/* Calls every pending command with NULL; callbacks may add or close. */
void store_cmd_fail_all(struct store *s)
{
    while (s->head)
        pending_fail_head(s);
}

/* hiredis is done with c: a reply, or NULL while its context is freed. */
static void on_cmd_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct store_cmd *c = privdata;
    struct store *s = c->s;
    store_reply_cb cb;
    void *ud;
    bool owed;

    if (!r)
        store_conn_lost(s, ac, store_ctx_reason(ac)); /* may run user code, even store_close */
    owed = c->queued;
    cb = c->cb;
    ud = c->ud;
    if (owed)
        pending_unlink(s, c);
    free(c);
    s->live_cmds--; /* never the last reference: ac is still alive */
    if (owed && cb)
        cb(r, ud);
}

/* The oldest command passed its deadline: the server is presumably hung.
 * Drop the connection, fail the expired commands, then free the context so
 * the rest fail too; the retry timer reconnects. */
static void on_cmd_timer(uv_timer_t *t)
{
    struct store *s = t->data;
    uint64_t now = uv_now(s->loop);
    redisAsyncContext *ac;

    if (!s->head)
        return;
    if (s->head->deadline > now) {
        store_timer_start(&s->cmd_timer, on_cmd_timer, s->head->deadline - now);
        return;
    }
    ac = s->ac;
    if (ac)
        store_conn_lost(s, ac, "command timed out");
    while (!s->closing && s->head && s->head->deadline <= now)
        pending_fail_head(s);
    if (ac)
        store_ctx_abort(s, ac);
    if (!s->closing && s->head)
        store_timer_start(&s->cmd_timer, on_cmd_timer, s->head->deadline - now);
}

/* Who frees a formatted command after cmd_send: hiredis, we (store_resp
 * made it), or nobody (it is s->resp, kept). */
enum cmd_owner { CMD_HIREDIS, CMD_OURS, CMD_KEPT };

/* Sends a formatted command (hiredis copies it), then frees it as owner says. */
static int cmd_send(struct store *s, store_reply_cb cb, void *ud, char *cmd, int len, enum cmd_owner owner)
{
    struct store_cmd *c;
    int rc = 0;

    if (len <= 0 || store_resp_refused(cmd, (size_t)len)) {
        rc = STORE_EINVAL;
        goto out_free_cmd;
    }
    c = xcalloc(1, sizeof *c);
    c->s = s;
    c->cb = cb;
    c->ud = ud;
    if (redisAsyncFormattedCommand(s->ac, on_cmd_reply, c, cmd, (size_t)len) != REDIS_OK) {
        free(c);
        rc = STORE_ENOTCONN;
        goto out_free_cmd;
    }
    s->live_cmds++;
    pending_push(s, c);
out_free_cmd:
    if (owner == CMD_OURS)
        free(cmd);
    else if (owner == CMD_HIREDIS && len >= 0)
        redisFreeCommand(cmd);
    return rc;
}

bool store_connected(const struct store *s)
{
    return s && s->up && s->ac && !s->closing;
}

int store_commandv(struct store *s, store_reply_cb cb, void *ud, const char *fmt, va_list ap)
{
    char *cmd = NULL;
    int len;

    if (!s || !fmt)
        return STORE_EINVAL;
    if (!store_connected(s))
        return STORE_ENOTCONN;
    va_list copy;
    va_copy(copy, ap);
    cmd = store_resp_format(fmt, copy, &len);
    va_end(copy);
    if (cmd)
        return cmd_send(s, cb, ud, cmd, len, CMD_OURS);
    len = redisvFormatCommand(&cmd, fmt, ap);
    return cmd_send(s, cb, ud, cmd, len, CMD_HIREDIS);
}

int store_command(struct store *s, store_reply_cb cb, void *ud, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = store_commandv(s, cb, ud, fmt, ap);
    va_end(ap);
    return rc;
}

int store_command_argv(struct store *s, store_reply_cb cb, void *ud, int argc,
                       const char **argv, const size_t *argvlen)
{
    if (!s || argc <= 0 || !argv)
        return STORE_EINVAL;
    for (int i = 0; i < argc; i++)
        if (!argv[i])
            return STORE_EINVAL;
    if (!store_connected(s))
        return STORE_ENOTCONN;
    int len = store_resp_argv_into(&s->resp, argc, argv, argvlen);
    if (len < 0)
        return STORE_EINVAL;
    int rc = cmd_send(s, cb, ud, s->resp.data, len, CMD_KEPT);
    if (s->resp.cap > STORE_RESP_KEPT)
        buf_free(&s->resp); /* a rare large command's space is let go */
    return rc;
}

int store_multi(struct store *s, store_reply_cb cb, void *ud, const struct store_cmdv *cmds, size_t n)
{
    if (!s || n == 0 || !cmds)
        return STORE_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (cmds[i].argc <= 0 || !cmds[i].argv)
            return STORE_EINVAL;
        for (int k = 0; k < cmds[i].argc; k++)
            if (!cmds[i].argv[k])
                return STORE_EINVAL;
        size_t len0 = cmds[i].lens ? cmds[i].lens[0] : strlen(cmds[i].argv[0]);
        if ((len0 == 5 && strncasecmp(cmds[i].argv[0], "multi", 5) == 0) ||
            (len0 == 4 && strncasecmp(cmds[i].argv[0], "exec", 4) == 0))
            return STORE_EINVAL;
    }
    if (!store_connected(s))
        return STORE_ENOTCONN;
    /* The QUEUED answers carry nothing: only EXEC's reply reaches cb. A
     * command refused here (store_resp_refused) is not sent, and EXEC then runs
     * the others: refuse the whole transaction before anything is sent. */
    char **formatted = xcalloc(n, sizeof *formatted);
    int *lens = xcalloc(n, sizeof *lens);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        formatted[i] = store_resp_argv(cmds[i].argc, cmds[i].argv, cmds[i].lens, &lens[i]);
        if (!formatted[i] || store_resp_refused(formatted[i], (size_t)lens[i]))
            rc = STORE_EINVAL;
    }
    static const char multi[] = "*1\r\n$5\r\nMULTI\r\n", exec[] = "*1\r\n$4\r\nEXEC\r\n";
    if (rc == 0)
        rc = cmd_send(s, NULL, NULL, xstrdup(multi), (int)strlen(multi), CMD_OURS);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0) {
            rc = cmd_send(s, NULL, NULL, formatted[i], lens[i], CMD_OURS);
            formatted[i] = NULL;
        }
        free(formatted[i]);
    }
    if (rc == 0)
        rc = cmd_send(s, cb, ud, xstrdup(exec), (int)strlen(exec), CMD_OURS);
    free(formatted);
    free(lens);
    return rc;
}

