/* http_curl — libcurl multi-socket driven by libuv, after curl's docs/examples/multi-uv.c.
 *
 * curl tells us which sockets to watch (on_curl_socket) and when to wake it
 * (on_curl_timer); libuv tells curl what happened (curl_multi_socket_action),
 * and after each action finished transfers are collected (check_multi_info).
 * User callbacks run only from check_multi_info and http_curl_close, never
 * from inside a curl callback, so they may call back into this module.
 * Checking a request and making its header list: http_client_prep.c. */
#include "dvcbot/http_curl.h"
#include "dvcbot/http_client_prep.h"
#include "dvcbot/buf.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct poll_ctx;
struct http_req;

struct http_curl {
    uv_loop_t *loop;
    CURLM *multi;               /* NULL once closed */
    uv_timer_t timer;
    struct http_req *reqs;      /* in flight */
    size_t pending;
    struct http_req *idle;      /* finished requests whose easy handle is kept for the next */
    size_t n_idle;
    struct poll_ctx *polls;     /* watched sockets (not the ones already closing) */
    unsigned open_handles;      /* timer + polls whose close callback has not run */
    bool in_timer;
    bool closing;
};

/* One watched socket, found through curl's socketp. Only the sockets curl
 * opened through on_curl_open_socket are also found by fd (poll_find):
 * curl closes those through on_curl_close_socket, which retires their
 * watcher before the number can be reused. */
struct poll_ctx {
    uv_poll_t poll;
    curl_socket_t fd;
    int events;                 /* what uv_poll watches now */
    bool connection;            /* opened by on_curl_open_socket, closed by on_curl_close_socket */
    bool parked;                /* curl removed it: a kept-alive connection between transfers */
    struct http_curl *client;
    struct poll_ctx *prev, *next;
};

struct http_req {
    struct http_curl *client;
    CURL *easy;                 /* configured once, reused by later requests */
    struct curl_slist *headers; /* kept while the next request sends the same lines */
    bool headers_post;          /* headers carry the "Expect:" of a POST */
    struct buf req_body;        /* what is sent (curl reads it in place) */
    struct buf body;            /* response body */
    bool too_large;
    char host[HTTP_CLIENT_HOST_MAX]; /* for logs: a URL may carry a bot token */
    uint64_t started_ns;
    http_client_cb cb;
    void *ud;
    struct http_req *prev, *next;
    char errbuf[CURL_ERROR_SIZE];
};

static const char err_too_large[] = "response body too large";
static const char err_cancelled[] = "cancelled";

static void check_multi_info(struct http_curl *c);

/* ===== libcurl's process-wide state ===== */

static bool curl_ready;

static int global_init(void)
{
    if (curl_ready)
        return 0;
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        log_fmt(LOG_ERROR, "curl global init failed", "\"error\":%s", log_q(curl_easy_strerror(rc)));
        return -1;
    }
    curl_ready = true;
    return 0;
}

void http_curl_global_cleanup(void)
{
    if (!curl_ready)
        return;
    curl_global_cleanup();
    curl_ready = false;
}

/* ===== Handle bookkeeping ===== */

/* The client is freed by the last close callback of its libuv handles. */
static void client_handle_closed(struct http_curl *c)
{
    if (--c->open_handles == 0 && c->closing)
        free(c);
}

static void on_timer_closed(uv_handle_t *h)
{
    client_handle_closed(h->data);
}

static void on_poll_closed(uv_handle_t *h)
{
    struct poll_ctx *p = h->data;
    struct http_curl *c = p->client;
    free(p);
    client_handle_closed(c);
}

/* ===== Socket watchers ===== */

static void on_poll(uv_poll_t *h, int status, int events);

static void poll_link(struct http_curl *c, struct poll_ctx *p)
{
    p->prev = NULL;
    p->next = c->polls;
    if (c->polls)
        c->polls->prev = p;
    c->polls = p;
}

static void poll_unlink(struct poll_ctx *p)
{
    struct http_curl *c = p->client;
    if (p->prev)
        p->prev->next = p->next;
    else
        c->polls = p->next;
    if (p->next)
        p->next->prev = p->prev;
    p->prev = p->next = NULL;
}

/* Stops watching; the context is freed in its close callback. */
static void poll_retire(struct poll_ctx *p)
{
    poll_unlink(p);
    uv_close((uv_handle_t *)&p->poll, on_poll_closed);
}

static struct poll_ctx *poll_find(struct http_curl *c, curl_socket_t fd)
{
    for (struct poll_ctx *p = c->polls; p; p = p->next)
        if (p->fd == fd)
            return p;
    return NULL;
}

static struct poll_ctx *poll_new(struct http_curl *c, curl_socket_t fd)
{
    struct poll_ctx *p = xcalloc(1, sizeof(*p));
    int rc = uv_poll_init_socket(c->loop, &p->poll, fd);
    if (rc == UV_EEXIST) {
        /* Only if curl closed this fd without CURL_POLL_REMOVE and got the
         * number again: the watcher we still hold belongs to the dead socket. */
        struct poll_ctx *stale = poll_find(c, fd);
        if (stale) {
            log_msg(LOG_WARN, "stale socket watcher replaced");
            poll_retire(stale);
            rc = uv_poll_init_socket(c->loop, &p->poll, fd);
        }
    }
    if (rc < 0) {
        log_fmt(LOG_ERROR, "uv poll init failed", "\"error\":%s", log_q(uv_strerror(rc)));
        free(p);
        return NULL;
    }
    p->fd = fd;
    p->client = c;
    p->poll.data = p;
    poll_link(c, p);
    c->open_handles++;
    return p;
}

/* libuv 1.44's uv_poll_start takes the fd out of epoll and puts it back
 * (two system calls): only a real change reaches it. */
static int poll_set(struct poll_ctx *p, int events)
{
    if (events == p->events && uv_is_active((uv_handle_t *)&p->poll))
        return 0;
    p->events = events;
    int rc = uv_poll_start(&p->poll, events, on_poll);
    if (rc < 0)
        log_fmt(LOG_ERROR, "uv poll start failed", "\"error\":%s", log_q(uv_strerror(rc)));
    return rc;
}

static int poll_watch(struct poll_ctx *p, int what)
{
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    return poll_set(p, events);
}

/* CURLMOPT_SOCKETFUNCTION. A failure is logged and 0 returned anyway: -1
 * would mark the whole multi handle dead for good, while the one transfer
 * concerned still ends by its own timeout.
 *
 * Between two transfers curl "removes" a kept-alive connection's socket.
 * Its watcher is parked instead of closed (closing and making one again
 * costs four system calls per request): it keeps watching for input, which
 * on an idle connection means the server closed it (then it stops), and
 * the next transfer on that socket takes it back. It goes when curl closes
 * the socket (on_curl_close_socket), before the number can be reused.
 * Other sockets (the resolver thread's socket pair, which curl closes
 * itself before saying "remove") lose their watcher on "remove". */
static int on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct http_curl *c = userp;
    struct poll_ctx *p = socketp;
    (void)easy;

    if (what == CURL_POLL_REMOVE) {
        /* curl forgets socketp together with the socket right after this. */
        if (p && p->connection) {
            p->parked = true;
            poll_set(p, UV_READABLE);
        } else if (p) {
            poll_retire(p);
        }
        return 0;
    }
    if (c->closing)
        return 0;
    if (!p) {
        p = poll_find(c, s);
        if (!p || !p->connection)
            p = poll_new(c, s);
        if (!p)
            return 0;
        p->parked = false;
        CURLMcode mrc = curl_multi_assign(c->multi, s, p);
        if (mrc != CURLM_OK) {
            log_fmt(LOG_ERROR, "curl multi assign failed", "\"error\":%s", log_q(curl_multi_strerror(mrc)));
            poll_retire(p);
            return 0;
        }
    }
    poll_watch(p, what);
    return 0;
}

/* CURLOPT_OPENSOCKETFUNCTION: what curl would do, and the socket's watcher
 * made now, marked as one curl closes through on_curl_close_socket. A
 * watcher still holding the number (curl closed the socket pair behind it
 * and took the number at once) is kept, since curl may still hold it as
 * socketp, but registered anew. */
static curl_socket_t on_curl_open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct http_curl *c = clientp;
    (void)purpose;
    curl_socket_t fd = socket(a->family, a->socktype, a->protocol);
    if (fd == CURL_SOCKET_BAD)
        return fd;
    struct poll_ctx *p = poll_find(c, fd);
    if (p) {
        uv_poll_stop(&p->poll);  /* the next poll_set adds the new socket to epoll */
        p->parked = false;
    } else {
        p = poll_new(c, fd);
    }
    if (!p) {
        close(fd);
        return CURL_SOCKET_BAD;
    }
    p->connection = true;
    return fd;
}

/* CURLOPT_CLOSESOCKETFUNCTION: the watcher goes first, then the socket. */
static int on_curl_close_socket(void *clientp, curl_socket_t fd)
{
    struct poll_ctx *p = poll_find(clientp, fd);
    if (p)
        poll_retire(p);
    return close(fd);
}

/* ===== Driving curl ===== */

static void socket_action(struct http_curl *c, curl_socket_t fd, int flags)
{
    int running;
    CURLMcode rc = curl_multi_socket_action(c->multi, fd, flags, &running);
    if (rc != CURLM_OK)
        log_fmt(LOG_ERROR, "curl socket action failed", "\"error\":%s", log_q(curl_multi_strerror(rc)));
    check_multi_info(c);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct poll_ctx *p = h->data;
    if (p->parked) {
        /* Input on a connection between transfers: the server closed it
         * (or broke the protocol). curl finds out when it next uses it. */
        uv_poll_stop(&p->poll);
        return;
    }
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    /* p may be retired by the action; only the client outlives it. */
    socket_action(p->client, p->fd, flags);
}

static void on_timeout(uv_timer_t *t)
{
    struct http_curl *c = t->data;
    c->in_timer = true;
    socket_action(c, CURL_SOCKET_TIMEOUT, 0);
    c->in_timer = false;
}

/* CURLMOPT_TIMERFUNCTION: -1 stops the timer, 0 means "act as soon as you
 * can" — but never from inside curl, which forbids recursion. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct http_curl *c = userp;
    (void)multi;

    if (c->closing)
        return 0;
    if (timeout_ms < 0) {
        uv_timer_stop(&c->timer);  /* cannot fail on an initialised timer */
        return 0;
    }
    /* libuv 1.44 runs a 0 ms timer started from a timer callback in the same
     * pass; inside our own, wait 1 ms so the loop polls sockets in between. */
    if (timeout_ms == 0 && c->in_timer)
        timeout_ms = 1;
    int rc = uv_timer_start(&c->timer, on_timeout, (uint64_t)timeout_ms, 0);
    if (rc < 0) {
        /* -1 fails every transfer: without the timer none could time out. */
        log_fmt(LOG_ERROR, "uv timer start failed", "\"error\":%s", log_q(uv_strerror(rc)));
        return -1;
    }
    return 0;
}

/* ===== Requests ===== */

static void req_link(struct http_curl *c, struct http_req *r)
{
    r->prev = NULL;
    r->next = c->reqs;
    if (c->reqs)
        c->reqs->prev = r;
    c->reqs = r;
    c->pending++;
}

/* Takes r out of the client and out of the multi handle. */
static void req_detach(struct http_req *r)
{
    struct http_curl *c = r->client;
    if (r->prev)
        r->prev->next = r->next;
    else
        c->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
    c->pending--;
    CURLMcode rc = curl_multi_remove_handle(c->multi, r->easy);
    if (rc != CURLM_OK)
        log_fmt(LOG_ERROR, "curl multi remove failed", "\"error\":%s", log_q(curl_multi_strerror(rc)));
}

static void req_destroy(struct http_req *r)
{
    if (r->easy)
        curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->headers);
    buf_free(&r->req_body);
    buf_free(&r->body);
    free(r);
}

/* A finished request keeps its easy handle (options set, buffers allocated)
 * for the next one: curl_easy_init and the setopt calls cost more than the
 * exchange itself on a kept-alive connection. */
static void req_free(struct http_req *r)
{
    struct http_curl *c = r->client;
    if (c->closing || !r->easy || c->n_idle >= HTTP_CLIENT_MAX_IDLE_HANDLES) {
        req_destroy(r);
        return;
    }
    buf_reset(&r->body);
    r->too_large = false;
    r->errbuf[0] = '\0';
    r->cb = NULL;
    r->ud = NULL;
    r->prev = NULL;
    r->next = c->idle;
    c->idle = r;
    c->n_idle++;
}

/* Detaches r, calls its callback once and frees it. The callback may
 * start requests or close the client: r is already out of every list. */
static void req_finish(struct http_req *r, struct http_client_response *res)
{
    req_detach(r);
    res->body = buf_cstr(&r->body);
    res->body_len = r->body.len;
    r->cb(res, r->ud);
    req_free(r);
}

static void req_cancel(struct http_req *r)
{
    struct http_client_response res = {
        .error = err_cancelled,
        .total_ms = (double)(uv_hrtime() - r->started_ns) / 1e6,
    };
    req_finish(r, &res);
}

static void req_done(struct http_req *r, CURLcode result)
{
    struct http_client_response res = {0};
    curl_off_t total_us = 0;
    CURLcode rc = curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &res.status);
    if (rc == CURLE_OK)
        rc = curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME_T, &total_us);
    if (rc != CURLE_OK)
        log_fmt(LOG_WARN, "curl getinfo failed", "\"error\":%s", log_q(curl_easy_strerror(rc)));
    res.total_ms = (double)total_us / 1000.0;
    if (result != CURLE_OK) {
        bool too_large = r->too_large || result == CURLE_FILESIZE_EXCEEDED;
        const char *reason = too_large ? err_too_large : curl_easy_strerror(result);
        /* curl's generic text in the log; its detailed one to the caller. */
        log_fmt(LOG_WARN, "http request failed", "\"host\":%s,\"error\":%s,\"status\":%ld",
                log_q(r->host), log_q(reason), res.status);
        /* A failed exchange has no response, even if a status line came. */
        res.error = too_large || !r->errbuf[0] ? reason : r->errbuf;
        res.status = 0;
        buf_reset(&r->body);
    }
    req_finish(r, &res);
}

static void check_multi_info(struct http_curl *c)
{
    CURLMsg *msg;
    int left;
    /* A callback may close the client, which cleans up the multi handle. */
    while (!c->closing && (msg = curl_multi_info_read(c->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURLcode result = msg->data.result;
        char *priv = NULL;
        CURLcode rc = curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        if (rc != CURLE_OK || !priv) {
            log_fmt(LOG_ERROR, "curl transfer without request", "\"error\":%s",
                    log_q(curl_easy_strerror(rc)));
            continue;
        }
        req_done((struct http_req *)(void *)priv, result);
    }
}

/* CURLOPT_WRITEFUNCTION: a short count fails the transfer (CURLE_WRITE_ERROR). */
static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    struct http_req *r = ud;
    size_t len = size * n;
    if (len > HTTP_CLIENT_MAX_BODY - r->body.len) {
        r->too_large = true;
        return 0;
    }
    buf_append(&r->body, data, len);
    return len;
}

/* ===== Building a request ===== */

static CURLcode easy_setup_body(struct http_req *r, const struct http_client_request *req, bool post)
{
    CURL *e = r->easy;
    if (!post)
        return curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    buf_reset(&r->req_body);
    buf_append(&r->req_body, req->body ? req->body : "", req->body_len);
    /* The size first, then the data, which curl reads in place (NULs included). */
    CURLcode rc = curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(e, CURLOPT_POSTFIELDS, buf_cstr(&r->req_body));
    return rc;
}

/* What every request of this client shares, set once per easy handle. */
static CURLcode easy_setup_once(struct http_req *r)
{
    CURL *e = r->easy;
    CURLcode rc;
    if ((rc = curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https")) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L)) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L)) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_CLIENT_MAX_BODY)) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_USERAGENT, "dvcbot")) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body)) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_WRITEDATA, r)) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf)) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_PRIVATE, r)) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_curl_open_socket)) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, r->client)) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, on_curl_close_socket)) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, r->client)) != CURLE_OK)
        return rc;
    return CURLE_OK;
}

static CURLcode easy_setup(struct http_req *r, const struct http_client_request *req, bool post)
{
    CURL *e = r->easy;
    long timeout = req->timeout_ms ? req->timeout_ms : HTTP_CLIENT_TIMEOUT_MS;
    long connect = timeout < HTTP_CLIENT_CONNECT_TIMEOUT_MS ? timeout : HTTP_CLIENT_CONNECT_TIMEOUT_MS;
    CURLcode rc;
    if ((rc = curl_easy_setopt(e, CURLOPT_URL, req->url)) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout)) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect)) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers)) != CURLE_OK)
        return rc;
    return easy_setup_body(r, req, post);
}

/* A kept request, or a new one with its easy handle configured; NULL when
 * curl cannot make one. */
static struct http_req *req_take(struct http_curl *c)
{
    struct http_req *r = c->idle;
    if (r) {
        c->idle = r->next;
        c->n_idle--;
        r->next = NULL;
        return r;
    }
    r = xcalloc(1, sizeof(*r));
    r->client = c;
    r->easy = curl_easy_init();
    if (!r->easy) {
        log_msg(LOG_ERROR, "curl easy init failed");
        req_destroy(r);
        return NULL;
    }
    CURLcode rc = easy_setup_once(r);
    if (rc != CURLE_OK) {
        log_fmt(LOG_ERROR, "curl setopt failed", "\"error\":%s", log_q(curl_easy_strerror(rc)));
        req_destroy(r);
        return NULL;
    }
    return r;
}

/* A detached request with its easy handle set up, or NULL (*err says why). */
static struct http_req *req_new(struct http_curl *c, const struct http_client_request *req, int *err)
{
    int post = http_client_method_is_post(req);
    char host[HTTP_CLIENT_HOST_MAX];
    *err = HTTP_CLIENT_EINVAL;
    if (post < 0 || !http_client_url_host(req->url, host) || !http_client_headers_ok(req->headers))
        return NULL;
    *err = HTTP_CLIENT_ECURL;
    struct http_req *r = req_take(c);
    if (!r)
        return NULL;
    memcpy(r->host, host, sizeof host);
    r->started_ns = uv_hrtime();
    if (!http_client_headers_same(r->headers, r->headers_post, req->headers, post == 1)) {
        curl_slist_free_all(r->headers);
        r->headers = NULL;
        if (http_client_headers_build(req->headers, post == 1, &r->headers) < 0) {
            *err = HTTP_CLIENT_EINVAL;
            req_destroy(r);
            return NULL;
        }
        r->headers_post = post == 1;
    }
    CURLcode rc = easy_setup(r, req, post == 1);
    if (rc != CURLE_OK) {
        log_fmt(LOG_ERROR, "curl setopt failed", "\"host\":%s,\"error\":%s", log_q(host),
                log_q(curl_easy_strerror(rc)));
        req_destroy(r);
        return NULL;
    }
    return r;
}

/* ===== Public API ===== */

static int multi_setup(struct http_curl *c)
{
    CURLM *m = c->multi;
    CURLMcode rc;
    if ((rc = curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_curl_socket)) != CURLM_OK ||
        (rc = curl_multi_setopt(m, CURLMOPT_SOCKETDATA, c)) != CURLM_OK ||
        (rc = curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_curl_timer)) != CURLM_OK ||
        (rc = curl_multi_setopt(m, CURLMOPT_TIMERDATA, c)) != CURLM_OK ||
        (rc = curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS,
                                (long)HTTP_CLIENT_MAX_HOST_CONNECTIONS)) != CURLM_OK ||
        (rc = curl_multi_setopt(m, CURLMOPT_MAXCONNECTS,
                                (long)HTTP_CLIENT_MAX_IDLE_CONNECTIONS)) != CURLM_OK) {
        log_fmt(LOG_ERROR, "curl multi setopt failed", "\"error\":%s", log_q(curl_multi_strerror(rc)));
        return -1;
    }
    return 0;
}

struct http_curl *http_curl_new(uv_loop_t *loop)
{
    if (global_init() < 0)
        return NULL;
    struct http_curl *c = xcalloc(1, sizeof(*c));
    c->loop = loop;
    c->multi = curl_multi_init();
    if (!c->multi) {
        log_msg(LOG_ERROR, "curl multi init failed");
        goto out_free;
    }
    if (multi_setup(c) < 0)
        goto out_cleanup;
    int rc = uv_timer_init(loop, &c->timer);
    if (rc < 0) {
        log_fmt(LOG_ERROR, "uv timer init failed", "\"error\":%s", log_q(uv_strerror(rc)));
        goto out_cleanup;
    }
    c->timer.data = c;
    c->open_handles = 1;
    return c;
out_cleanup:
    if (curl_multi_cleanup(c->multi) != CURLM_OK)
        log_msg(LOG_ERROR, "curl multi cleanup failed");
out_free:
    free(c);
    return NULL;
}

int http_curl_request(struct http_curl *c, const struct http_client_request *req,
                        http_client_cb cb, void *ud)
{
    if (c->closing)
        return HTTP_CLIENT_ECLOSED;
    if (!cb || !http_client_request_valid(req))
        return HTTP_CLIENT_EINVAL;
    int err;
    struct http_req *r = req_new(c, req, &err);
    if (!r)
        return err;
    r->cb = cb;
    r->ud = ud;
    CURLMcode rc = curl_multi_add_handle(c->multi, r->easy);
    if (rc != CURLM_OK) {
        log_fmt(LOG_ERROR, "curl multi add failed", "\"host\":%s,\"error\":%s", log_q(r->host),
                log_q(curl_multi_strerror(rc)));
        req_free(r);
        return HTTP_CLIENT_ECURL;
    }
    req_link(c, r);
    return 0;
}

size_t http_curl_pending(const struct http_curl *c)
{
    return c->pending;
}

void http_curl_close(struct http_curl *c)
{
    if (!c || c->closing)
        return;
    c->closing = true;
    while (c->reqs)
        req_cancel(c->reqs);
    while (c->idle) {
        struct http_req *r = c->idle;
        c->idle = r->next;
        req_destroy(r);
    }
    c->n_idle = 0;
    CURLMcode rc = curl_multi_cleanup(c->multi);
    if (rc != CURLM_OK)
        log_fmt(LOG_ERROR, "curl multi cleanup failed", "\"error\":%s", log_q(curl_multi_strerror(rc)));
    c->multi = NULL;
    while (c->polls)
        poll_retire(c->polls);
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}
