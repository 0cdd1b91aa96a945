/* http_plain — one client HTTP/1.1 connection: connect, write a request,
 * parse the response, stay open for the next. See include/dvcbot/http_plain.h.
 *
 * The parser is paused in on_message_complete, so a response is handed over
 * after http_parser_execute returns, never from inside it; whatever follows
 * the response in the same read makes the connection unfit for reuse. A
 * first read that holds exactly one plain response is read by
 * http_resp_scan instead (no byte-by-byte walk). */
#include "dvcbot/http_plain.h"
#include "dvcbot/buf.h"
#include "dvcbot/http_client.h"
#include "dvcbot/http_resp_scan.h"
#include "dvcbot/mem.h"

#include <errno.h>
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum conn_state { CONN_CONNECTING, CONN_OPEN, CONN_CLOSING };

struct http_plain_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;            /* the connect timeout */
    uv_connect_t connect;
    uv_write_t write;
    http_parser parser;
    const struct http_plain_events *ev;
    void *slot;
    void *home;
    enum conn_state state;
    int open_handles;            /* tcp + timer, until their close callbacks */
    unsigned connect_timeout_ms;
    unsigned served;             /* exchanges completed */
    bool busy;                   /* an exchange is in progress */
    bool writing;                /* a uv_write is pending */
    bool sent_any;               /* some of the request went to the kernel */
    bool got_bytes;              /* some of the response arrived */
    bool complete;               /* the parser saw the whole response */
    bool keep_alive;             /* ... and the server allows another */
    bool too_large;
    const char *out;             /* the request, until written (the owner's bytes) */
    size_t out_len;
    long status;
    struct buf body;
    char error[160];
};

static const char err_empty[] = "Empty reply from server";
static const char err_partial[] = "transfer closed with outstanding read data remaining";
static const char err_too_large[] = "response body too large";
static const struct http_plain_events no_events; /* a connection that never started */

/* ===== Closing ===== */

static void on_handle_closed(uv_handle_t *h)
{
    struct http_plain_conn *c = h->data;
    if (--c->open_handles > 0)
        return;
    void *home = c->home;
    const struct http_plain_events *ev = c->ev;
    buf_free(&c->body);
    free(c);
    if (ev->freed)
        ev->freed(home);
}

static void conn_shut(struct http_plain_conn *c)
{
    if (c->state == CONN_CLOSING)
        return;
    c->state = CONN_CLOSING;
    c->busy = false;
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

void http_plain_close(struct http_plain_conn *c)
{
    conn_shut(c);
}

bool http_plain_reused(const struct http_plain_conn *c)
{
    return c->served > 0;
}

bool http_plain_sent_any(const struct http_plain_conn *c)
{
    return c->sent_any;
}

bool http_plain_idle_alive(const struct http_plain_conn *c)
{
    uv_os_fd_t fd;
    if (c->state != CONN_OPEN || c->busy || uv_fileno((const uv_handle_t *)&c->tcp, &fd) < 0)
        return false;
    char byte;
    ssize_t n;
    do
        n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* ===== Ending an exchange ===== */

/* Hands the result to the owner: the last thing a libuv callback of this
 * connection does (the owner may close it, or send again). */
static void exchange_end(struct http_plain_conn *c, enum http_plain_outcome outcome, const char *error,
                         bool reusable)
{
    struct http_plain_result res = {
        .outcome = outcome,
        .status = outcome == HTTP_PLAIN_OK ? c->status : 0,
        .body = outcome == HTTP_PLAIN_OK ? buf_cstr(&c->body) : "",
        .body_len = outcome == HTTP_PLAIN_OK ? c->body.len : 0,
        .error = error,
        .reusable = reusable,
    };
    c->busy = false;
    c->out = NULL;
    if (reusable)
        c->served++;
    else
        conn_shut(c);
    c->ev->done(c->slot, &res);
}

static void exchange_fail(struct http_plain_conn *c, const char *what, int uv_err)
{
    snprintf(c->error, sizeof c->error, "%s: %s", what, uv_strerror(uv_err));
    exchange_end(c, HTTP_PLAIN_FAILED, c->error, false);
}

/* The connection broke (EOF or error) before the response was whole. */
static void exchange_broken(struct http_plain_conn *c, ssize_t err, const char *what)
{
    if (!c->got_bytes && c->served > 0) {
        exchange_end(c, HTTP_PLAIN_STALE, err == UV_EOF ? err_empty : uv_strerror((int)err), false);
        return;
    }
    if (err == UV_EOF) {
        exchange_end(c, HTTP_PLAIN_FAILED, c->got_bytes ? err_partial : err_empty, false);
        return;
    }
    exchange_fail(c, what, (int)err);
}

/* ===== Response parsing ===== */

static int on_message_begin(http_parser *p)
{
    struct http_plain_conn *c = p->data;
    buf_reset(&c->body);
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct http_plain_conn *c = p->data;
    if (len > HTTP_CLIENT_MAX_BODY - c->body.len) {
        c->too_large = true;
        return -1;
    }
    buf_append(&c->body, at, len);
    return 0;
}

/* http-parser takes a status of one or two digits; HTTP has three. */
static int on_headers_complete(http_parser *p)
{
    return p->status_code < 100 ? -1 : 0;
}

/* 1xx answers (100 Continue, 103 Early Hints) come before the real one. */
static int on_message_complete(http_parser *p)
{
    struct http_plain_conn *c = p->data;
    if (p->status_code >= 100 && p->status_code < 200 && p->status_code != 101) {
        buf_reset(&c->body);
        return 0;
    }
    c->complete = true;
    c->status = p->status_code;
    c->keep_alive = http_should_keep_alive(p) && p->status_code != 101;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings response_settings = {
    .on_message_begin = on_message_begin,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static void parse_failed(struct http_plain_conn *c)
{
    if (c->too_large) {
        exchange_end(c, HTTP_PLAIN_FAILED, err_too_large, false);
        return;
    }
    enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
    if (e == HPE_CB_headers_complete)
        snprintf(c->error, sizeof c->error, "invalid HTTP response: status %u", c->parser.status_code);
    else
        snprintf(c->error, sizeof c->error, "invalid HTTP response: %s", http_errno_description(e));
    exchange_end(c, HTTP_PLAIN_FAILED, c->error, false);
}

/* ===== Reading ===== */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    /* Every read is parsed before the callback returns: one buffer serves all. */
    static _Thread_local char space[64 * 1024];
    (void)h;
    (void)suggested;
    b->base = space;
    b->len = sizeof space;
}

static void on_eof(struct http_plain_conn *c)
{
    /* A body that ends with the connection completes now. */
    http_parser_execute(&c->parser, &response_settings, NULL, 0);
    if (c->complete) {
        exchange_end(c, HTTP_PLAIN_OK, NULL, false);
        return;
    }
    exchange_broken(c, UV_EOF, "Recv failure");
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct http_plain_conn *c = s->data;
    if (c->state == CONN_CLOSING || n == 0)
        return;
    if (!c->busy) {
        /* Idle: the server closed the connection, or broke the protocol. */
        conn_shut(c);
        c->ev->gone(c->slot);
        return;
    }
    if (n == UV_EOF) {
        on_eof(c);
        return;
    }
    if (n < 0) {
        exchange_broken(c, n, "Recv failure");
        return;
    }
    bool first = !c->got_bytes;
    c->got_bytes = true;
    struct http_resp_scan r;
    if (first && http_resp_scan(b->base, (size_t)n, &r)) {
        /* The whole response in the plain form, as http_parser would read it
         * (http_resp_scan.h); the parser, still at its start, is not used. */
        buf_reset(&c->body);
        buf_append(&c->body, r.body, r.body_len);
        c->complete = true;
        c->status = (long)r.status;
        c->keep_alive = r.keep_alive;
        exchange_end(c, HTTP_PLAIN_OK, NULL, c->keep_alive && !c->writing);
        return;
    }
    size_t used = http_parser_execute(&c->parser, &response_settings, b->base, (size_t)n);
    if (c->complete) {
        bool extra = used < (size_t)n;
        exchange_end(c, HTTP_PLAIN_OK, NULL, c->keep_alive && !extra && !c->writing);
        return;
    }
    if (HTTP_PARSER_ERRNO(&c->parser) != HPE_OK)
        parse_failed(c);
}

/* ===== Writing ===== */

static void on_written(uv_write_t *w, int status)
{
    struct http_plain_conn *c = w->data;
    c->writing = false;
    if (c->state == CONN_CLOSING || !c->busy || status == 0)
        return;
    exchange_broken(c, status, "Send failure");
}

/* One system call when the socket takes it all (the usual case). */
static int conn_write(struct http_plain_conn *c)
{
    uv_buf_t b = uv_buf_init((char *)c->out, (unsigned)c->out_len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n == UV_EAGAIN)
        n = 0;
    if (n < 0)
        return n;
    c->sent_any = n > 0;
    if ((size_t)n == c->out_len)
        return 0;
    b = uv_buf_init((char *)c->out + n, (unsigned)(c->out_len - (size_t)n));
    c->write.data = c;
    int rc = uv_write(&c->write, (uv_stream_t *)&c->tcp, &b, 1, on_written);
    if (rc < 0)
        return rc;
    c->sent_any = true;  /* queued: on_written may fail it, but the server may have some */
    c->writing = true;
    return 0;
}

int http_plain_send(struct http_plain_conn *c, const char *data, size_t len)
{
    if (c->state == CONN_CLOSING || c->busy)
        return UV_EINVAL;
    c->busy = true;
    c->sent_any = false;
    c->got_bytes = false;
    c->complete = false;
    c->too_large = false;
    c->out = data;
    c->out_len = len;
    http_parser_init(&c->parser, HTTP_RESPONSE);
    c->parser.data = c;
    if (c->state == CONN_CONNECTING)
        return 0;
    int rc = conn_write(c);
    if (rc < 0)
        c->busy = false;
    return rc;
}

/* ===== Connecting ===== */

static void on_connect_timeout(uv_timer_t *t)
{
    struct http_plain_conn *c = t->data;
    snprintf(c->error, sizeof c->error, "Connection timed out after %u milliseconds", c->connect_timeout_ms);
    exchange_end(c, HTTP_PLAIN_CONNECT_FAILED, c->error, false);
}

static void on_connect(uv_connect_t *req, int status)
{
    struct http_plain_conn *c = req->data;
    if (c->state == CONN_CLOSING)
        return;
    int rc = uv_timer_stop(&c->timer);
    if (rc == 0 && status < 0) {
        snprintf(c->error, sizeof c->error, "%s", uv_strerror(status));
        exchange_end(c, HTTP_PLAIN_CONNECT_FAILED, c->error, false);
        return;
    }
    c->state = CONN_OPEN;
    if (rc == 0)
        rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc == 0 && c->busy)
        rc = conn_write(c);
    if (rc < 0)
        exchange_fail(c, "Send failure", rc);
}

struct http_plain_conn *http_plain_open(uv_loop_t *loop, const struct sockaddr *addr,
                                        unsigned connect_timeout_ms, const struct http_plain_events *ev,
                                        void *slot, void *home, int *err)
{
    struct http_plain_conn *c = xcalloc(1, sizeof *c);
    int rc = uv_tcp_init(loop, &c->tcp);
    if (rc < 0) {
        free(c);
        *err = rc;
        return NULL;
    }
    c->ev = ev;
    c->slot = slot;
    c->home = home;
    c->tcp.data = c;
    c->connect.data = c;
    c->open_handles = 1;
    c->connect_timeout_ms = connect_timeout_ms;
    rc = uv_timer_init(loop, &c->timer);
    if (rc == 0) {
        c->open_handles = 2;
        c->timer.data = c;
        rc = uv_tcp_nodelay(&c->tcp, 1);
    }
    if (rc == 0)
        rc = uv_tcp_connect(&c->connect, &c->tcp, addr, on_connect);
    if (rc == 0)
        rc = uv_timer_start(&c->timer, on_connect_timeout, connect_timeout_ms, 0);
    if (rc < 0) {
        /* Closed quietly: the owner never counted it. */
        c->ev = &no_events;
        goto out_close;
    }
    c->state = CONN_CONNECTING;
    return c;
out_close:
    *err = rc;
    c->state = CONN_CLOSING;
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    if (c->open_handles == 2)
        uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    return NULL;
}
