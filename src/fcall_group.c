/* fcall_group — one FCALL for the calls of a loop turn. */
#include "dvcbot/fcall_group.h"
#include "dvcbot/mem.h"
#include "dvcbot/redis_script.h"
#include "dvcbot/strfmt.h"

#include <stdlib.h>
#include <string.h>

struct group_call {
    store_reply_cb cb;
    void *ud;
    struct group_call *next;     /* queued, or in the same FCALL */
    size_t n;                    /* strings: the keys, then the arguments */
    size_t lens[];               /* n lengths, then the n strings, each NUL-terminated */
};

struct fcall_group {
    struct store *store;
    char *fn_one, *fn_many;
    size_t nkeys;
    int nargs;                   /* or FCALL_GROUP_VARYING */
    size_t max_calls;
    struct group_call *queued, **tail;
    struct store_deferred flush;
};

static void flush_queued(void *ud);
static void fail_queued(void *ud);

struct fcall_group *fcall_group_new(struct store *st, const char *fn_one, const char *fn_many, int nkeys,
                                    int nargs, size_t max_calls)
{
    struct fcall_group *g = xcalloc(1, sizeof *g);
    g->store = st;
    g->fn_one = xstrdup(fn_one);
    g->fn_many = xstrdup(fn_many);
    g->nkeys = (size_t)nkeys;
    g->nargs = nargs;
    g->max_calls = max_calls ? max_calls : FCALL_GROUP_MAX;
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

/* The first of c's strings (they follow one another). */
static char *call_strings(struct group_call *c)
{
    return (char *)&c->lens[c->n];
}

int fcall_group_callv(struct fcall_group *g, const char *const *args, size_t nargs, store_reply_cb cb,
                      void *ud)
{
    if (!store_connected(g->store))
        return STORE_ENOTCONN;
    if (nargs < g->nkeys || (g->nargs != FCALL_GROUP_VARYING && nargs != (size_t)g->nargs))
        return STORE_EINVAL;
    size_t size = 0;
    for (size_t i = 0; i < nargs; i++)
        size += strlen(args[i]) + 1;
    struct group_call *c = xmalloc(sizeof *c + nargs * sizeof c->lens[0] + size);
    *c = (struct group_call){.cb = cb, .ud = ud, .n = nargs};
    char *at = call_strings(c);
    for (size_t i = 0; i < nargs; i++) {
        c->lens[i] = strlen(args[i]);
        memcpy(at, args[i], c->lens[i] + 1);
        at += c->lens[i] + 1;
    }
    *g->tail = c;
    g->tail = &c->next;
    store_defer(g->store, &g->flush);
    return 0;
}

int fcall_group_call(struct fcall_group *g, const char *const *args, store_reply_cb cb, void *ud)
{
    return fcall_group_callv(g, args, (size_t)g->nargs, cb, ud);
}

/* Takes up to max_calls calls off the queue; returns them (a list ending
 * in NULL) and their number in *n. */
static struct group_call *take_batch(struct fcall_group *g, size_t *n)
{
    struct group_call *first = g->queued, *last = first;
    *n = 1;
    while (last->next && *n < g->max_calls) {
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

/* The strings of one FCALL being put together. */
struct fcall_vector {
    const char **args;
    size_t *lens;
    size_t at_key, at_arg;
};

static void vector_put(struct fcall_vector *v, size_t *at, const char *s, size_t len)
{
    v->args[*at] = s;
    v->lens[(*at)++] = len;
}

/* Adds c's keys and its arguments to v, the arguments after their number
 * when count (room for it) is given. */
static void vector_add_call(const struct fcall_group *g, struct fcall_vector *v, struct group_call *c,
                            char count[24])
{
    const char *s = call_strings(c);
    size_t i = 0;
    for (; i < g->nkeys; s += c->lens[i++] + 1)
        vector_put(v, &v->at_key, s, c->lens[i]);
    if (count)
        vector_put(v, &v->at_arg, count, str_udecimal(count, 24, c->n - g->nkeys));
    for (; i < c->n; s += c->lens[i++] + 1)
        vector_put(v, &v->at_arg, s, c->lens[i]);
}

/* FCALL of the n calls in batch: the keys of each, then the arguments of
 * each. Returns as redis_fcall. */
static int send_batch(struct fcall_group *g, struct group_call *batch, size_t n)
{
    bool counted = g->nargs == FCALL_GROUP_VARYING && n > 1;
    size_t total = 0;
    for (const struct group_call *c = batch; c; c = c->next)
        total += c->n + counted;
    struct fcall_vector v = {
        .args = xmalloc(total * sizeof *v.args), .lens = xmalloc(total * sizeof *v.lens),
        .at_arg = n * g->nkeys,
    };
    char(*counts)[24] = counted ? xmalloc(n * sizeof *counts) : NULL;
    size_t i = 0;
    for (struct group_call *c = batch; c; c = c->next, i++)
        vector_add_call(g, &v, c, counted ? counts[i] : NULL);
    int rc = redis_fcall(g->store, n == 1 ? g->fn_one : g->fn_many, on_reply, batch, (int)(n * g->nkeys),
                         (int)total, v.args, v.lens);
    free(counts);
    free(v.lens);
    free(v.args);
    return rc;
}

/* store_defer: what this loop turn queued, max_calls calls at a time. */
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
