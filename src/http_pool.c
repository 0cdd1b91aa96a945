/* http_pool — per-host keep-alive pools of http_plain connections, the
 * queue of waiting requests, name lookups and the retry of the keep-alive
 * race. See include/dvcbot/http_pool.h.
 *
 * A request is in one of three places: waiting in its host's queue, active
 * on a connection slot, or failing (its timer set to 0 ms so that the error
 * reaches cb from the loop, never from inside http_pool_request). Every
 * request in flight is also on the pool's list, for http_pool_close. Each
 * request owns a uv timer (its whole-transfer timeout) and is freed in that
 * timer's close callback, after its cb returned: while a callback runs, the
 * pool is alive. */
#include "dvcbot/http_pool.h"
#include "dvcbot/buf.h"
#include "dvcbot/http_client_prep.h"
#include "dvcbot/http_plain.h"
#include "dvcbot/http_wire.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct pool_host;
struct pool_slot;

enum req_state { REQ_WAITING, REQ_ACTIVE, REQ_FAILING };

struct pool_req {
    struct pool_host *host;
    struct pool_slot *slot;      /* REQ_ACTIVE */
    enum req_state state;
    uv_timer_t timer;            /* whole transfer; 0 ms when failing */
    struct buf wire;             /* the request as sent */
    http_client_cb cb;
    void *ud;
    uint64_t started_ns;
    long timeout_ms;
    bool replayable;             /* idempotent (GET): may go again after the server may have seen it */
    bool retried;                /* sent again after the keep-alive race */
    unsigned connect_tries;      /* addresses that refused */
    char error[HTTP_CLIENT_HOST_MAX + 128];
    struct pool_req *prev, *next;         /* host queue */
    struct pool_req *all_prev, *all_next; /* the pool's requests in flight */
};

/* A connection of a host; free while conn is NULL, idle while req is NULL. */
struct pool_slot {
    struct pool_host *host;
    struct http_plain_conn *conn;
    struct pool_req *req;
    unsigned addr_i;
    uint64_t idle_since;         /* loop time the connection became idle */
};

struct pool_host {
    struct http_pool *pool;
    char authority[HTTP_CLIENT_HOST_MAX + 8];
    char name[HTTP_CLIENT_HOST_MAX];
    unsigned port;
    bool numeric;
    struct sockaddr_storage addrs[HTTP_POOL_MAX_ADDRS];
    unsigned n_addrs;
    unsigned addr_pref;          /* where new connections go */
    uint64_t resolved_ms;
    bool resolving;
    uv_getaddrinfo_t lookup;
    struct pool_req *head, *tail;
    unsigned n_conns;
    struct pool_slot slots[HTTP_CLIENT_MAX_HOST_CONNECTIONS];
    struct pool_host *next;
};

struct http_pool {
    uv_loop_t *loop;
    struct pool_host *hosts;
    struct pool_req *reqs;
    size_t pending;
    unsigned n_idle;
    unsigned open_handles;       /* request timers, connections, lookups */
    uint64_t idle_max_ms;
    bool closing;
    struct buf spare[HTTP_POOL_SPARE_WIRES]; /* wire buffers of finished requests */
    unsigned n_spare;
};

static const char err_cancelled[] = "cancelled";

static void host_dispatch(struct pool_host *h);

/* ===== Pool lifetime ===== */

static void pool_free(struct http_pool *p)
{
    while (p->n_spare)
        buf_free(&p->spare[--p->n_spare]);
    while (p->hosts) {
        struct pool_host *h = p->hosts;
        p->hosts = h->next;
        free(h);
    }
    free(p);
}

static void pool_handle_closed(struct http_pool *p)
{
    if (--p->open_handles == 0 && p->closing)
        pool_free(p);
}

struct http_pool *http_pool_new(uv_loop_t *loop)
{
    struct http_pool *p = xcalloc(1, sizeof *p);
    p->loop = loop;
    p->idle_max_ms = HTTP_POOL_IDLE_MAX_MS;
    return p;
}

void http_pool_set_idle_max(struct http_pool *p, uint64_t ms)
{
    p->idle_max_ms = ms;
}

size_t http_pool_pending(const struct http_pool *p)
{
    return p->pending;
}

/* ===== Queue and lists ===== */

static void queue_push(struct pool_host *h, struct pool_req *r, bool front)
{
    r->state = REQ_WAITING;
    r->slot = NULL;
    if (front) {
        r->prev = NULL;
        r->next = h->head;
        if (h->head)
            h->head->prev = r;
        else
            h->tail = r;
        h->head = r;
    } else {
        r->next = NULL;
        r->prev = h->tail;
        if (h->tail)
            h->tail->next = r;
        else
            h->head = r;
        h->tail = r;
    }
}

static void queue_remove(struct pool_host *h, struct pool_req *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        h->head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        h->tail = r->prev;
    r->prev = r->next = NULL;
}

static void all_link(struct http_pool *p, struct pool_req *r)
{
    r->all_prev = NULL;
    r->all_next = p->reqs;
    if (p->reqs)
        p->reqs->all_prev = r;
    p->reqs = r;
    p->pending++;
}

/* ===== Connection slots ===== */

/* The slot's connection is closing or closed: the place is free. */
static void slot_release(struct pool_slot *s)
{
    s->conn = NULL;
    s->req = NULL;
    s->host->n_conns--;
}

static void slot_close(struct pool_slot *s)
{
    http_plain_close(s->conn);
    slot_release(s);
}

/* An idle connection to use, taken out of the idle count. Closed on the
 * way: ones idle too long (a middlebox may have dropped them silently) and
 * ones the server closed, reset or wrote to while the loop had not read it
 * yet (nothing was sent on them: no request is at stake). */
static struct pool_slot *host_take_idle(struct pool_host *h)
{
    struct http_pool *p = h->pool;
    for (unsigned i = 0; i < HTTP_CLIENT_MAX_HOST_CONNECTIONS; i++) {
        struct pool_slot *s = &h->slots[i];
        if (!s->conn || s->req)
            continue;
        p->n_idle--;
        if (uv_now(p->loop) - s->idle_since < p->idle_max_ms && http_plain_idle_alive(s->conn))
            return s;
        slot_close(s);
    }
    return NULL;
}

static struct pool_slot *host_free_slot(struct pool_host *h)
{
    for (unsigned i = 0; i < HTTP_CLIENT_MAX_HOST_CONNECTIONS; i++)
        if (!h->slots[i].conn)
            return &h->slots[i];
    return NULL;
}

/* ===== Finishing requests ===== */

/* A request's wire buffer comes from the spares when one waits: a Bot API
 * POST is over 1 KiB, and glibc merges all its fast bins before each
 * allocation of that size (malloc_consolidate, ~1 000 instructions). */
static void wire_take(struct http_pool *p, struct buf *b)
{
    if (!p->n_spare)
        return; /* b stays empty: the first append allocates */
    *b = p->spare[--p->n_spare];
    buf_reset(b);
}

static void wire_give_back(struct http_pool *p, struct buf *b)
{
    if (!b->data || p->closing || p->n_spare == HTTP_POOL_SPARE_WIRES ||
        b->cap > HTTP_POOL_SPARE_WIRE_MAX) {
        buf_free(b);
        return;
    }
    p->spare[p->n_spare++] = *b;
    buf_init(b);
}

static void on_req_closed(uv_handle_t *t)
{
    struct pool_req *r = t->data;
    struct http_pool *p = r->host->pool;
    wire_give_back(p, &r->wire);
    free(r);
    pool_handle_closed(p);
}

/* Takes r out of wherever it is (an active one's connection is closed: it
 * is never reused after a timeout or a cancel) and out of the count. */
static void req_detach(struct pool_req *r)
{
    struct http_pool *p = r->host->pool;
    if (r->state == REQ_WAITING) {
        queue_remove(r->host, r);
    } else if (r->state == REQ_ACTIVE && r->slot) {
        r->slot->req = NULL;
        slot_close(r->slot);
        r->slot = NULL;
    }
    if (r->all_prev)
        r->all_prev->all_next = r->all_next;
    else
        p->reqs = r->all_next;
    if (r->all_next)
        r->all_next->all_prev = r->all_prev;
    r->all_prev = r->all_next = NULL;
    p->pending--;
    uv_timer_stop(&r->timer);  /* cannot fail on an initialised timer */
}

/* Calls cb of a detached request, then lets its timer close (which frees it). */
static void req_finish(struct pool_req *r, struct http_client_response *res)
{
    res->total_ms = (double)(uv_hrtime() - r->started_ns) / 1e6;
    if (!res->body)
        res->body = "";
    if (res->error && res->error != err_cancelled)
        log_fmt(LOG_WARN, "http request failed", "\"host\":%s,\"error\":%s,\"status\":0",
                log_q(r->host->name), log_q(res->error));
    r->cb(res, r->ud);
    uv_close((uv_handle_t *)&r->timer, on_req_closed);
}

static void req_fail(struct pool_req *r, const char *error)
{
    struct http_client_response res = {.error = error};
    req_detach(r);
    req_finish(r, &res);
}

static void on_req_timer(uv_timer_t *t)
{
    struct pool_req *r = t->data;
    struct pool_host *h = r->host;
    if (r->state != REQ_FAILING)
        snprintf(r->error, sizeof r->error, "Operation timed out after %ld milliseconds", r->timeout_ms);
    req_fail(r, r->error);
    if (!h->pool->closing)
        host_dispatch(h);
}

/* Out of the queue; cb gets error from the loop, soon. */
static void req_fail_later(struct pool_req *r, const char *error)
{
    if (r->state == REQ_WAITING)
        queue_remove(r->host, r);
    r->state = REQ_FAILING;
    r->slot = NULL;
    if (error != r->error)
        snprintf(r->error, sizeof r->error, "%s", error);
    int rc = uv_timer_start(&r->timer, on_req_timer, 0, 0);
    if (rc < 0)  /* cannot happen on an initialised timer; its timeout still ends it */
        log_fmt(LOG_ERROR, "uv timer start failed", "\"error\":%s", log_q(uv_strerror(rc)));
}

/* ===== Connection events ===== */

static void on_conn_done(void *slot, const struct http_plain_result *res);
static void on_conn_gone(void *slot);
static void on_conn_freed(void *home);

static const struct http_plain_events conn_events = {
    .done = on_conn_done, .gone = on_conn_gone, .freed = on_conn_freed,
};

/* The connection of s ended an exchange: keep it for the next one if it
 * may stay open and the pool has room for another idle one. */
static void slot_after_exchange(struct pool_slot *s, bool reusable)
{
    struct http_pool *p = s->host->pool;
    s->req = NULL;
    if (!reusable) {
        slot_release(s);
    } else if (p->n_idle >= HTTP_CLIENT_MAX_IDLE_CONNECTIONS) {
        slot_close(s);
    } else {
        p->n_idle++;
        s->idle_since = uv_now(p->loop);
    }
}

/* Whether r goes again on another connection after its exchange broke: a
 * refused connect on the next address; after the keep-alive race only an
 * idempotent request, once (a POST the server may have acted on is failed:
 * its sender decides, RFC 9110 9.2.2). */
static bool req_requeue(struct pool_req *r, enum http_plain_outcome outcome, unsigned addr_i)
{
    struct pool_host *h = r->host;
    if (outcome == HTTP_PLAIN_STALE && r->replayable && !r->retried) {
        r->retried = true;
    } else if (outcome == HTTP_PLAIN_CONNECT_FAILED && r->connect_tries + 1 < h->n_addrs) {
        r->connect_tries++;
        h->addr_pref = (addr_i + 1) % h->n_addrs;
    } else {
        return false;
    }
    queue_push(h, r, true);
    return true;
}

static void on_conn_done(void *slot, const struct http_plain_result *res)
{
    struct pool_slot *s = slot;
    struct pool_host *h = s->host;
    struct pool_req *r = s->req;
    unsigned addr_i = s->addr_i;
    slot_after_exchange(s, res->reusable);
    r->slot = NULL;
    r->state = REQ_FAILING;  /* in no queue, no slot */
    if (res->outcome == HTTP_PLAIN_OK) {
        struct http_client_response out = {.status = res->status, .body = res->body, .body_len = res->body_len};
        req_detach(r);
        req_finish(r, &out);
    } else if (!req_requeue(r, res->outcome, addr_i)) {
        if (res->outcome == HTTP_PLAIN_CONNECT_FAILED)
            snprintf(r->error, sizeof r->error, "Failed to connect to %s port %u: %s", h->name, h->port,
                     res->error);
        else
            snprintf(r->error, sizeof r->error, "%s", res->error);
        req_fail(r, r->error);
    }
    if (!h->pool->closing)
        host_dispatch(h);
}

static void on_conn_gone(void *slot)
{
    struct pool_slot *s = slot;
    s->host->pool->n_idle--;
    slot_release(s);
}

static void on_conn_freed(void *home)
{
    pool_handle_closed(home);
}

/* ===== Name lookup ===== */

static bool host_addresses_fresh(const struct pool_host *h)
{
    return h->n_addrs > 0 && (h->numeric || uv_now(h->pool->loop) - h->resolved_ms < HTTP_POOL_NAME_TTL_MS);
}

static void host_fail_queue(struct pool_host *h, const char *what)
{
    char error[HTTP_CLIENT_HOST_MAX + 64];
    snprintf(error, sizeof error, "%s: %s", what, h->name);
    while (h->head)
        req_fail_later(h->head, error);
}

static void host_keep_addresses(struct pool_host *h, const struct addrinfo *ai)
{
    h->n_addrs = 0;
    for (; ai && h->n_addrs < HTTP_POOL_MAX_ADDRS; ai = ai->ai_next) {
        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) || ai->ai_addrlen > sizeof h->addrs[0])
            continue;
        memcpy(&h->addrs[h->n_addrs++], ai->ai_addr, ai->ai_addrlen);
    }
    h->addr_pref = 0;
    h->resolved_ms = uv_now(h->pool->loop);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct pool_host *h = req->data;
    struct http_pool *p = h->pool;
    h->resolving = false;
    if (p->closing) {
        uv_freeaddrinfo(res);  /* NULL is fine */
        pool_handle_closed(p); /* may free the pool */
        return;
    }
    if (status == 0)
        host_keep_addresses(h, res);
    if (status < 0 || h->n_addrs == 0)
        host_fail_queue(h, "Could not resolve host");
    uv_freeaddrinfo(res);
    pool_handle_closed(p);
    host_dispatch(h);
}

static void host_resolve(struct pool_host *h)
{
    if (h->resolving)
        return;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    char port[8];
    snprintf(port, sizeof port, "%u", h->port);
    h->lookup.data = h;
    int rc = uv_getaddrinfo(h->pool->loop, &h->lookup, on_resolved, h->name, port, &hints);
    if (rc < 0) {
        h->n_addrs = 0;
        host_fail_queue(h, "Could not resolve host");
        return;
    }
    h->resolving = true;
    h->pool->open_handles++;
}

/* ===== Dispatch ===== */

/* A new connection for r in a free slot, or NULL (r is then failing). */
static struct pool_slot *host_connect(struct pool_host *h, struct pool_req *r)
{
    struct http_pool *p = h->pool;
    struct pool_slot *s = host_free_slot(h);
    unsigned connect_ms = (unsigned)(r->timeout_ms < HTTP_CLIENT_CONNECT_TIMEOUT_MS ? r->timeout_ms
                                                                                   : HTTP_CLIENT_CONNECT_TIMEOUT_MS);
    int err = 0;
    unsigned i = h->addr_pref < h->n_addrs ? h->addr_pref : 0;
    s->conn = http_plain_open(p->loop, (const struct sockaddr *)&h->addrs[i], connect_ms, &conn_events, s, p,
                              &err);
    if (!s->conn) {
        snprintf(r->error, sizeof r->error, "Failed to connect to %s port %u: %s", h->name, h->port,
                 uv_strerror(err));
        req_fail_later(r, r->error);
        return NULL;
    }
    s->host = h;
    s->addr_i = i;
    h->n_conns++;
    p->open_handles++;
    return s;
}

/* r goes on the connection of s; a kept connection that cannot even take
 * the bytes lost the keep-alive race, and as none of them went out, any
 * request may go once more. */
static void slot_start(struct pool_slot *s, struct pool_req *r)
{
    struct pool_host *h = s->host;
    s->req = r;
    r->slot = s;
    r->state = REQ_ACTIVE;
    int rc = http_plain_send(s->conn, r->wire.data, r->wire.len);
    if (rc == 0)
        return;
    bool stale = http_plain_reused(s->conn) && (r->replayable || !http_plain_sent_any(s->conn));
    s->req = NULL;
    slot_close(s);
    r->slot = NULL;
    if (stale && !r->retried) {
        r->retried = true;
        queue_push(h, r, true);
        return;
    }
    snprintf(r->error, sizeof r->error, "Send failure: %s", uv_strerror(rc));
    req_fail_later(r, r->error);
}

/* Starts what can start: waiting requests take idle connections, then new
 * ones up to the host's cap. Never calls a user callback. */
static void host_dispatch(struct pool_host *h)
{
    struct http_pool *p = h->pool;
    while (h->head && !p->closing) {
        struct pool_slot *s = host_take_idle(h);
        if (!s) {
            if (h->n_conns >= HTTP_CLIENT_MAX_HOST_CONNECTIONS)
                return;
            if (!host_addresses_fresh(h)) {
                host_resolve(h);
                return;
            }
            s = host_connect(h, h->head);
            if (!s)
                continue;
        }
        struct pool_req *r = h->head;
        queue_remove(h, r);
        slot_start(s, r);
    }
}

/* ===== Hosts ===== */

static struct pool_host *host_get(struct http_pool *p, const struct http_wire_url *u)
{
    for (struct pool_host *h = p->hosts; h; h = h->next)
        if (strcasecmp(h->authority, u->authority) == 0)
            return h;
    struct pool_host *h = xcalloc(1, sizeof *h);
    h->pool = p;
    snprintf(h->authority, sizeof h->authority, "%s", u->authority);
    snprintf(h->name, sizeof h->name, "%s", u->host);
    h->port = u->port;
    for (unsigned i = 0; i < HTTP_CLIENT_MAX_HOST_CONNECTIONS; i++)
        h->slots[i].host = h;
    if (uv_ip4_addr(h->name, (int)h->port, (struct sockaddr_in *)&h->addrs[0]) == 0 ||
        uv_ip6_addr(h->name, (int)h->port, (struct sockaddr_in6 *)&h->addrs[0]) == 0) {
        h->numeric = true;
        h->n_addrs = 1;
    }
    h->next = p->hosts;
    p->hosts = h;
    return h;
}

/* ===== Public API ===== */

int http_pool_request(struct http_pool *p, const struct http_client_request *req, http_client_cb cb,
                      void *ud)
{
    if (p->closing)
        return HTTP_CLIENT_ECLOSED;
    if (!cb || !http_client_request_valid(req))
        return HTTP_CLIENT_EINVAL;
    int post = http_client_method_is_post(req);
    struct http_wire_url u;
    if (post < 0 || !http_wire_url_split(req->url, &u) || !http_client_headers_ok(req->headers))
        return HTTP_CLIENT_EINVAL;
    struct pool_req *r = xcalloc(1, sizeof *r);
    int rc = uv_timer_init(p->loop, &r->timer);
    if (rc < 0) {
        log_fmt(LOG_ERROR, "uv timer init failed", "\"error\":%s", log_q(uv_strerror(rc)));
        free(r);
        return HTTP_CLIENT_ECURL;
    }
    r->timer.data = r;
    r->host = host_get(p, &u);
    p->open_handles++;
    r->timeout_ms = req->timeout_ms ? req->timeout_ms : HTTP_CLIENT_TIMEOUT_MS;
    rc = uv_timer_start(&r->timer, on_req_timer, (uint64_t)r->timeout_ms, 0);
    if (rc < 0) {
        log_fmt(LOG_ERROR, "uv timer start failed", "\"error\":%s", log_q(uv_strerror(rc)));
        uv_close((uv_handle_t *)&r->timer, on_req_closed);
        return HTTP_CLIENT_ECURL;
    }
    wire_take(p, &r->wire);
    http_wire_build(&r->wire, &u, req, post == 1);
    r->replayable = post == 0;
    r->cb = cb;
    r->ud = ud;
    r->started_ns = uv_hrtime();
    all_link(p, r);
    queue_push(r->host, r, false);
    host_dispatch(r->host);
    return 0;
}

void http_pool_close(struct http_pool *p)
{
    if (!p || p->closing)
        return;
    p->closing = true;
    while (p->reqs) {
        struct pool_req *r = p->reqs;
        req_fail(r, err_cancelled);
    }
    for (struct pool_host *h = p->hosts; h; h = h->next) {
        for (unsigned i = 0; i < HTTP_CLIENT_MAX_HOST_CONNECTIONS; i++)
            if (h->slots[i].conn)
                slot_close(&h->slots[i]);
        if (h->resolving)
            uv_cancel((uv_req_t *)&h->lookup);  /* its callback still comes, with UV_EAI_CANCELED */
    }
    p->n_idle = 0;
    if (p->open_handles == 0)
        pool_free(p);
}
