/* fcall_group — one FCALL for the calls of a loop turn. */
#include "dvcbot/fcall_group.h"
#include "dvcbot/mem.h"
#include "dvcbot/redis_script.h"

#include <stdlib.h>
#include <string.h>

struct group_call {
    store_reply_cb cb;
    void *ud;
    struct group_call *next;     /* queued, or in the same FCALL */
    char args[];                 /* nargs strings, each NUL-terminated */
};

struct fcall_group {
    struct store *store;
    char *fn_one, *fn_many;
    int nkeys, nargs;
    struct group_call *queued, **tail;
    struct store_deferred flush;
};

static void flush_queued(void *ud);
static void fail_queued(void *ud);

struct fcall_group *fcall_group_new(struct store *st, const char *fn_one, const char *fn_many, int nkeys,
                                    int nargs)
{
    struct fcall_group *g = xcalloc(1, sizeof *g);
    g->store = st;
    g->fn_one = xstrdup(fn_one);
    g->fn_many = xstrdup(fn_many);
    g->nkeys = nkeys;
    g->nargs = nargs;
    g->tail = &g->queued;
    g->flush = (struct store_deferred){.fn = flush_queued, .dropped = fail_queued, .ud = g};
    return g;
}

void fcall_group_free(struct fcall_group *g)
{
    if (!g)
        return;
    fail_queued(g); /* nothing left after store_close; kept for safety */
    free(g->fn_one);
    free(g->fn_many);
    free(g);
}

int fcall_group_call(struct fcall_group *g, const char *const *args, store_reply_cb cb, void *ud)
{
    if (!store_connected(g->store))
        return STORE_ENOTCONN;
    size_t size = 0;
    for (int i = 0; i < g->nargs; i++)
        size += strlen(args[i]) + 1;
    struct group_call *c = xmalloc(sizeof *c + size);
    c->cb = cb;
    c->ud = ud;
    c->next = NULL;
    char *at = c->args;
    for (int i = 0; i < g->nargs; i++) {
        size_t n = strlen(args[i]) + 1;
        memcpy(at, args[i], n);
        at += n;
    }
    *g->tail = c;
    g->tail = &c->next;
    store_defer(g->store, &g->flush);
    return 0;
}

/* Takes up to FCALL_GROUP_MAX calls off the queue; returns them (a list
 * ending in NULL) and their number in *n. */
static struct group_call *take_batch(struct fcall_group *g, size_t *n)
{
    struct group_call *first = g->queued, *last = first;
    *n = 1;
    while (last->next && *n < FCALL_GROUP_MAX) {
        last = last->next;
        (*n)++;
    }
    g->queued = last->next;
    if (!g->queued)
        g->tail = &g->queued;
    last->next = NULL;
    return first;
}

/* The reply of one FCALL: its own for one call, else element i for call i.
 * A failed FCALL fails each call once. */
static void on_reply(redisReply *r, void *ud)
{
    struct group_call *c = ud;
    if (!c->next) {
        c->cb(r, c->ud);
        free(c);
        return;
    }
    size_t n = 0;
    for (const struct group_call *p = c; p; p = p->next)
        n++;
    bool each = r && r->type == REDIS_REPLY_ARRAY && r->elements == n;
    redisReply *failed = r && r->type == REDIS_REPLY_ERROR ? r : NULL;
    for (size_t i = 0; c; i++) {
        struct group_call *next = c->next;
        c->cb(each ? r->element[i] : failed, c->ud);
        free(c);
        c = next;
    }
}

/* FCALL of the n calls in batch: the keys of each, then the arguments of
 * each. Returns as redis_fcall. */
static int send_batch(struct fcall_group *g, struct group_call *batch, size_t n)
{
    size_t nargs = n * (size_t)g->nargs;
    const char **args = xmalloc(nargs * sizeof *args);
    size_t at_key = 0, at_arg = n * (size_t)g->nkeys;
    for (const struct group_call *c = batch; c; c = c->next) {
        const char *s = c->args;
        for (int i = 0; i < g->nargs; i++) {
            if (i < g->nkeys)
                args[at_key++] = s;
            else
                args[at_arg++] = s;
            s += strlen(s) + 1;
        }
    }
    int rc = redis_fcall(g->store, n == 1 ? g->fn_one : g->fn_many, on_reply, batch,
                         (int)(n * (size_t)g->nkeys), (int)nargs, args, NULL);
    free(args);
    return rc;
}

/* store_defer: what this loop turn queued, FCALL_GROUP_MAX calls at a time. */
static void flush_queued(void *ud)
{
    struct fcall_group *g = ud;
    while (g->queued) {
        size_t n;
        struct group_call *batch = take_batch(g, &n);
        if (send_batch(g, batch, n) != 0)
            on_reply(NULL, batch);
    }
}

/* The store closed before the queue went out: each call is told. */
static void fail_queued(void *ud)
{
    struct fcall_group *g = ud;
    while (g->queued) {
        size_t n;
        on_reply(NULL, take_batch(g, &n));
    }
}
