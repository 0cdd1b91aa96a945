/* fcall_group — one FCALL for the calls of a loop turn. The calls queued
 * in a turn wait in the group's arrays (their strings one after another in
 * one buffer, kept from turn to turn); an FCALL in flight keeps only whom
 * to answer. */
#include "dvcbot/fcall_group.h"
#include "dvcbot/mem.h"
#include "dvcbot/redis_script.h"
#include "dvcbot/strfmt.h"

#include <stdlib.h>
#include <string.h>

#define COUNT_MAX 24             /* a call's argument count in decimal */
#define STRINGS_KEPT (256 * 1024) /* bytes of queued strings kept from turn to turn */

struct answer_to {
    store_reply_cb cb;
    void *ud;
};

/* A call of this loop turn: n strings from lens[first] and strings[offset]. */
struct queued_call {
    struct answer_to to;
    size_t first, n, offset;
};

/* One FCALL in flight: whom its reply goes to, in order. */
struct batch {
    size_t n;
    struct answer_to to[];
};

/* The strings of one FCALL, put together for each (reused). */
struct fcall_vector {
    const char **args;
    size_t *lens;
    char (*counts)[COUNT_MAX];
    size_t cap, cap_counts, at_key, at_arg;
};

struct fcall_group {
    struct store *store;
    char *fn_one, *fn_many;
    size_t nkeys;
    size_t nshared;              /* arguments sent once per FCALL (fcall_group_share) */
    int nargs;                   /* or FCALL_GROUP_VARYING */
    size_t max_calls;
    struct queued_call *calls;   /* this loop turn's; calls[sent..] not sent yet */
    size_t n_calls, cap_calls, sent;
    size_t *lens;                /* every queued string's length */
    size_t n_lens, cap_lens;
    char *strings;               /* the queued strings, each NUL-terminated */
    size_t n_strings, cap_strings;  /* bytes */
    struct fcall_vector vec;
    struct store_deferred flush;
};

static void flush_queued(void *ud);
static void fail_queued(void *ud);

/* Room for need elements of size bytes in *p (capacity *cap). */
static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    return xreserve(p, cap, need, size, 16);
}

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
    g->flush = (struct store_deferred){.fn = flush_queued, .dropped = fail_queued, .ud = g};
    return g;
}

void fcall_group_share(struct fcall_group *g, size_t nshared)
{
    g->nshared = nshared;
}

void fcall_group_free(struct fcall_group *g)
{
    if (!g)
        return;
    fail_queued(g); /* nothing left after store_close; kept for safety */
    free(g->calls);
    free(g->lens);
    free(g->strings);
    free(g->vec.args);
    free(g->vec.lens);
    free(g->vec.counts);
    free(g->fn_one);
    free(g->fn_many);
    free(g);
}

int fcall_group_callv(struct fcall_group *g, const char *const *args, size_t nargs, store_reply_cb cb,
                      void *ud)
{
    if (!store_connected(g->store))
        return STORE_ENOTCONN;
    if (nargs < g->nkeys + g->nshared || (g->nargs != FCALL_GROUP_VARYING && nargs != (size_t)g->nargs))
        return STORE_EINVAL;
    g->calls = grow(g->calls, &g->cap_calls, g->n_calls + 1, sizeof *g->calls);
    g->lens = grow(g->lens, &g->cap_lens, g->n_lens + nargs, sizeof *g->lens);
    size_t *lens = g->lens + g->n_lens, size = 0;
    for (size_t i = 0; i < nargs; i++)
        size += (lens[i] = strlen(args[i])) + 1;
    g->strings = grow(g->strings, &g->cap_strings, g->n_strings + size, 1);
    g->calls[g->n_calls++] = (struct queued_call){
        .to = {.cb = cb, .ud = ud}, .first = g->n_lens, .n = nargs, .offset = g->n_strings,
    };
    for (size_t i = 0; i < nargs; g->n_strings += lens[i++] + 1)
        memcpy(g->strings + g->n_strings, args[i], lens[i] + 1);
    g->n_lens += nargs;
    store_defer(g->store, &g->flush);
    return 0;
}

int fcall_group_call(struct fcall_group *g, const char *const *args, store_reply_cb cb, void *ud)
{
    return fcall_group_callv(g, args, (size_t)g->nargs, cb, ud);
}

/* Everything queued has been sent or failed: the arrays start again (a
 * burst's large buffer is let go). */
static void queue_reset(struct fcall_group *g)
{
    g->n_calls = g->n_lens = g->n_strings = g->sent = 0;
    if (g->cap_strings > STRINGS_KEPT) {
        free(g->strings);
        g->strings = NULL;
        g->cap_strings = 0;
    }
}

/* The next call's reply in fn_many's flat reply r, from r->element[*at]:
 * its element count and those elements, as an array made in *own (pointing
 * into r), or an error element; *at moves past it. NULL (and *at past the
 * end) when r does not hold one. */
static redisReply *flat_next(redisReply *r, size_t *at, redisReply *own)
{
    if (!r || r->type != REDIS_REPLY_ARRAY || *at >= r->elements)
        return NULL;
    redisReply *head = r->element[(*at)++];
    if (head->type == REDIS_REPLY_ERROR)
        return head;
    if (head->type != REDIS_REPLY_INTEGER || head->integer < 0 ||
        (unsigned long long)head->integer > r->elements - *at) {
        *at = r->elements; /* not this layout: the calls left fail */
        return NULL;
    }
    *own = (redisReply){.type = REDIS_REPLY_ARRAY, .elements = (size_t)head->integer, .element = r->element + *at};
    *at += own->elements;
    return own;
}

/* One call: its FCALL's reply. More: each its part of the flat reply; a
 * failed FCALL fails each call once. */
static void on_reply(redisReply *r, void *ud)
{
    struct batch *b = ud;
    if (b->n == 1) {
        b->to[0].cb(r, b->to[0].ud);
    } else if (r && r->type == REDIS_REPLY_ERROR) {
        for (size_t i = 0; i < b->n; i++)
            b->to[i].cb(r, b->to[i].ud);
    } else {
        size_t at = 0;
        for (size_t i = 0; i < b->n; i++) {
            redisReply own;
            b->to[i].cb(flat_next(r, &at, &own), b->to[i].ud);
        }
    }
    free(b);
}

/* Room in v for total strings and n counts. */
static void vector_reserve(struct fcall_vector *v, size_t total, size_t n)
{
    if (total > v->cap) {
        v->cap = total;
        v->args = xrealloc(v->args, total * sizeof *v->args);
        v->lens = xrealloc(v->lens, total * sizeof *v->lens);
    }
    if (n > v->cap_counts) {
        v->cap_counts = n;
        v->counts = xrealloc(v->counts, n * sizeof *v->counts);
    }
    v->at_key = 0;
}

static void vector_put(struct fcall_vector *v, size_t *at, const char *s, size_t len)
{
    v->args[*at] = s;
    v->lens[(*at)++] = len;
}

/* Adds c's keys and its own arguments (past the shared ones) to v, after
 * their number when count (room for it) is given; with shared, its shared
 * arguments first. */
static void vector_add_call(const struct fcall_group *g, struct fcall_vector *v, const struct queued_call *c,
                            bool shared, char count[COUNT_MAX])
{
    const char *s = g->strings + c->offset;
    const size_t *lens = g->lens + c->first;
    size_t i = 0;
    for (; i < g->nkeys; s += lens[i++] + 1)
        vector_put(v, &v->at_key, s, lens[i]);
    for (; i < g->nkeys + g->nshared; s += lens[i++] + 1)
        if (shared)
            vector_put(v, &v->at_arg, s, lens[i]);
    if (count)
        vector_put(v, &v->at_arg, count, str_udecimal(count, COUNT_MAX, c->n - g->nkeys - g->nshared));
    for (; i < c->n; s += lens[i++] + 1)
        vector_put(v, &v->at_arg, s, lens[i]);
}

/* Whether calls a and b have the same shared arguments. */
static bool same_shared(const struct fcall_group *g, const struct queued_call *a, const struct queued_call *b)
{
    const char *sa = g->strings + a->offset, *sb = g->strings + b->offset;
    const size_t *la = g->lens + a->first, *lb = g->lens + b->first;
    for (size_t i = 0; i < g->nkeys + g->nshared; sa += la[i] + 1, sb += lb[i] + 1, i++)
        if (i >= g->nkeys && (la[i] != lb[i] || memcmp(sa, sb, la[i]) != 0))
            return false;
    return true;
}

/* FCALL of the n calls from calls[first] (their shared arguments the
 * same): the keys of each, the shared arguments once, then the own
 * arguments of each, answered to b. Returns as redis_fcall. */
static int send_batch(struct fcall_group *g, size_t first, size_t n, struct batch *b)
{
    bool counted = g->nargs == FCALL_GROUP_VARYING && n > 1;
    size_t total = g->nshared;
    for (size_t i = first; i < first + n; i++)
        total += g->calls[i].n - g->nshared + counted;
    struct fcall_vector *v = &g->vec;
    vector_reserve(v, total, counted ? n : 0);
    v->at_arg = n * g->nkeys;
    for (size_t i = 0; i < n; i++)
        vector_add_call(g, v, &g->calls[first + i], i == 0, counted ? v->counts[i] : NULL);
    return redis_fcall(g->store, n == 1 ? g->fn_one : g->fn_many, on_reply, b, (int)(n * g->nkeys),
                       (int)total, v->args, v->lens);
}

/* The next max_calls calls (at most) not sent yet whose shared arguments
 * are the first's; whom to answer into *b. Returns how many. */
static size_t take_batch(struct fcall_group *g, struct batch **b)
{
    size_t left = g->n_calls - g->sent, n = 1;
    while (n < left && n < g->max_calls && same_shared(g, &g->calls[g->sent], &g->calls[g->sent + n]))
        n++;
    *b = xmalloc(sizeof **b + n * sizeof (*b)->to[0]);
    (*b)->n = n;
    for (size_t i = 0; i < n; i++)
        (*b)->to[i] = g->calls[g->sent + i].to;
    return n;
}

/* store_defer: what this loop turn queued, max_calls calls at a time. A
 * callback of a failed batch may queue more: it goes out here too. */
static void flush_queued(void *ud)
{
    struct fcall_group *g = ud;
    while (g->sent < g->n_calls) {
        struct batch *b;
        size_t first = g->sent, n = take_batch(g, &b);
        int rc = send_batch(g, first, n, b);
        g->sent += n;
        if (rc != 0)
            on_reply(NULL, b);
    }
    queue_reset(g);
}

/* The store closed before the queue went out: each call is told, in order. */
static void fail_queued(void *ud)
{
    struct fcall_group *g = ud;
    while (g->sent < g->n_calls) {
        struct answer_to to = g->calls[g->sent++].to;
        to.cb(NULL, to.ud);
    }
    queue_reset(g);
}
