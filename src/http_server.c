/* http_server — libuv TCP connections, keep-alive, pipelining, limits.
 * Parsing is in http_parse.c (http_conn.h), the text of messages in
 * http_message.c, request readers in http_request.c. */
#include "dvcbot/http_conn.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/metrics.h"
#include "dvcbot/netaddr.h"
#include "dvcbot/strmap.h"

#include <arpa/inet.h>
#include <http_parser.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static void conn_process(struct http_conn *c);
static void conn_process_shared(struct http_conn *c, size_t n);
static void conn_close(struct http_conn *c);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b);

/* How long a refused client may go on sending before we close. */
#define LINGER_MS 2000
/* Bytes read at a time. A connection with nothing buffered reads into one
 * space shared by all (each read is parsed before its callback returns);
 * only what is left unparsed goes into the connection's own buffer, which
 * is let go when the connection is idle. */
#define READ_CHUNK (16 * 1024)
/* While a request is in flight, reading goes on (stopping and starting
 * costs system calls per request) until this many bytes of the next,
 * pipelined, request wait unparsed. */
#define READ_AHEAD_MAX READ_CHUNK

/* ===== Connections ===== */

static void server_maybe_done(struct http_server *srv)
{
    if (!srv->stopping || !srv->listener_closed || srv->n_conns || srv->n_requests)
        return;
    void (*done)(void *) = srv->done;
    void *ud = srv->done_ud;
    strmap_free(&srv->per_addr);
    buf_free(&srv->out);
    free(srv->host);
    free(srv);
    if (done)
        done(ud);
}

/* Gives back the connection's place under the caps. */
static void conn_release(struct http_conn *c)
{
    struct http_server *srv = c->srv;
    if (!c->admitted)
        return;
    c->admitted = false;
    srv->n_admitted--;
    if (c->group) {
        uintptr_t n = (uintptr_t)strmap_get(&srv->per_addr, c->group);
        if (n <= 1)
            strmap_del(&srv->per_addr, c->group);
        else
            strmap_put(&srv->per_addr, c->group, (void *)(n - 1));
        xfree_ptr(&c->group);
    }
}

static void conn_handle_closed(uv_handle_t *h)
{
    struct http_conn *c = h->data;
    if (--c->handles_open > 0)
        return;
    struct http_server *srv = c->srv;
    srv->n_conns--;
    conn_release(c);
    buf_free(&c->in);
    buf_free(&c->hfield);
    buf_free(&c->hvalue);
    buf_free(&c->hstore);
    buf_free(&c->url);
    http_request_free(c->cur);
    free(c);
    server_maybe_done(srv);
}

static void conn_close(struct http_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    if (c->inflight)
        c->inflight->conn = NULL; /* answered later into the void */
    c->inflight = NULL;
    if (c->prev)
        c->prev->next = c->next;
    else
        c->srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
    uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
}

void http_conn_timeout(uv_timer_t *t)
{
    struct http_conn *c = t->data;
    if (c->inflight)
        return; /* the handler has its own timeouts */
    conn_close(c);
}

/* A response is out: the next pipelined request may be parsed, or the
 * connection closed when that was waiting for the write. */
static void write_done(uv_write_t *w, int status)
{
    struct write_req *wr = (struct write_req *)w;
    struct http_conn *c = wr->conn;
    bool close_after = wr->close_after;
    free(wr->data);
    free(wr);
    c->writes_pending--;
    if (c->closing)
        return;
    if (status < 0 || close_after ||
        (c->close_after_write && !c->discarding && !c->inflight && !c->writes_pending))
        conn_close(c);
    else if (!c->writes_pending && !c->discarding)
        conn_process(c);
}

/* Sends data (not kept): written at once when the socket takes it, which
 * is the common case (no request record, no callback a loop turn later,
 * and libuv does not re-arm the fd); what is left is copied and queued. */
static void conn_write(struct http_conn *c, const char *data, size_t len, bool close_after)
{
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    int n = c->writes_pending ? UV_EAGAIN : uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n == (int)len) {
        if (close_after)
            conn_close(c);
        return;
    }
    if (n < 0 && n != UV_EAGAIN) {
        conn_close(c);
        return;
    }
    size_t done = n > 0 ? (size_t)n : 0;
    struct write_req *wr = xcalloc(1, sizeof *wr);
    wr->conn = c;
    wr->data = xmalloc(len - done);
    memcpy(wr->data, data + done, len - done);
    wr->close_after = close_after;
    b = uv_buf_init(wr->data, (unsigned)(len - done));
    int rc = uv_write(&wr->req, (uv_stream_t *)&c->tcp, &b, 1, write_done);
    if (rc != 0) {
        free(wr->data);
        free(wr);
        conn_close(c);
        return;
    }
    c->writes_pending++;
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct http_conn *c = req->data;
    if (status < 0 && !c->closing)
        conn_close(c);
}

/* Refuses the request being parsed. The response goes out, our side of the
 * connection is shut down, and what the client still sends is read and
 * dropped until it closes (or a short timer fires): closing at once would
 * reset the connection and the client might never see the status. */
static void conn_fail(struct http_conn *c, int status)
{
    char body[96];
    int n = snprintf(body, sizeof body, "{\"error\":\"%s\"}", http_status_text(status));
    http_format_response(&c->srv->out, status, "application/json", body, (size_t)n, NULL, false, false);
    http_request_free(c->cur);
    c->cur = NULL;
    log_fmt(LOG_INFO, "request refused", "\"status\":%d", status);
    if (c->srv->opts.observer)
        c->srv->opts.observer("refused", status, 0.0, c->srv->opts.observer_ud);
    c->discarding = true;
    c->close_after_write = true;
    conn_write(c, c->srv->out.data, c->srv->out.len, false);
    if (c->closing)
        return;
    c->shutdown_req.data = c;
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown) != 0 ||
        uv_timer_start(&c->timer, http_conn_timeout, LINGER_MS, 0) != 0) {
        conn_close(c);
        return;
    }
    if (!c->reading && uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
        c->reading = true;
}

static int parse_error_status(struct http_conn *c)
{
    enum http_errno err = HTTP_PARSER_ERRNO(&c->parser);
    if (c->reject_status)
        return c->reject_status;
    if (err == HPE_HEADER_OVERFLOW)
        return 431;
    return 400;
}

static void conn_dispatch(struct http_conn *c)
{
    struct http_request *req = c->cur;
    c->cur = NULL;
    c->inflight = req;
    req->start_ns = uv_hrtime();
    c->srv->n_requests++;
    uv_timer_stop(&c->timer);
    c->srv->opts.handler(req, c->srv->opts.handler_ud);
}

static _Thread_local char read_space[READ_CHUNK + 1];

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    struct http_conn *c = h->data;
    (void)suggested;
    if (c->in.len == 0) {
        out->base = read_space;
        out->len = READ_CHUNK;
        return;
    }
    buf_reserve(&c->in, READ_CHUNK);
    out->base = c->in.data + c->in.len;
    out->len = c->in.cap - c->in.len - 1;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct http_conn *c = s->data;
    if (c->discarding) {
        if (nread < 0)
            conn_close(c);
        return;
    }
    if (nread < 0) {
        if (c->inflight || c->writes_pending)
            c->close_after_write = true; /* the answer still goes out */
        else
            conn_close(c);
        uv_read_stop(s);
        c->reading = false;
        return;
    }
    if (b->base == read_space) {
        conn_process_shared(c, (size_t)nread);
        return;
    }
    c->in.len += (size_t)nread;
    c->in.data[c->in.len] = '\0';
    conn_process(c);
}

static void conn_set_reading(struct http_conn *c, bool on)
{
    if (c->closing || c->discarding || on == c->reading || (on && c->close_after_write))
        return;
    int rc = on ? uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read)
                : uv_read_stop((uv_stream_t *)&c->tcp);
    if (rc != 0) {
        conn_close(c);
        return;
    }
    c->reading = on;
}

static void conn_compact(struct http_conn *c)
{
    if (c->in_off == 0)
        return;
    size_t rest = c->in.len - c->in_off;
    memmove(c->in.data, c->in.data + c->in_off, rest);
    c->in.len = rest;
    c->in.data[rest] = '\0';
    c->in_off = 0;
}

/* Reading stays on while a request is in flight or its response is being
 * written, but only for READ_AHEAD_MAX bytes (back-pressure: a client that
 * does not read its answers cannot make us buffer more of them). */
static bool conn_wants_input(const struct http_conn *c)
{
    return (!c->inflight && !c->writes_pending) || c->in.len - c->in_off < READ_AHEAD_MAX;
}

/* Parses what is buffered, handing complete requests to the handler one at
 * a time (a response written meanwhile does not parse again: processing). */
static void conn_parse(struct http_conn *c)
{
    c->processing = true;
    while (!c->inflight && !c->writes_pending && !c->closing && !c->close_after_write &&
           c->in_off < c->in.len) {
        size_t avail = c->in.len - c->in_off;
        size_t used;
        enum http_plain plain = http_parse_plain(c, c->in.data + c->in_off, avail, &used);
        if (plain == HTTP_PLAIN_READ) {
            c->in_off += used;
            conn_dispatch(c);
            continue;
        }
        if (plain == HTTP_PLAIN_REFUSED) {
            c->in_off = c->in.len; /* nothing is read after a refusal */
            conn_fail(c, c->reject_status);
            continue;
        }
        size_t n = http_parser_execute(&c->parser, http_parse_settings(), c->in.data + c->in_off, avail);
        c->in_off += n;
        enum http_errno err = HTTP_PARSER_ERRNO(&c->parser);
        if (err == HPE_PAUSED) {
            http_parser_pause(&c->parser, 0);
            conn_dispatch(c);
        } else if (err != HPE_OK || n != avail) {
            conn_fail(c, parse_error_status(c));
        }
    }
    c->processing = false;
}

/* After parsing: the rest kept at the start of the buffer (none held when
 * idle), reading on or off, the idle timer. */
static void conn_parsed(struct http_conn *c)
{
    if (c->closing)
        return;
    conn_compact(c);
    if (c->in.len == 0)
        buf_free(&c->in); /* an idle connection holds no buffer */
    conn_set_reading(c, conn_wants_input(c));
    if (!c->inflight && !c->cur && !c->close_after_write)
        if (uv_timer_start(&c->timer, http_conn_timeout, c->srv->opts.idle_ms, 0) != 0)
            conn_close(c);
}

static void conn_process(struct http_conn *c)
{
    conn_parse(c);
    conn_parsed(c);
}

/* n bytes read into read_space (the connection had nothing buffered):
 * parsed in place, c->in lent the space meanwhile (nothing but the parse
 * touches it then: a close frees it a loop turn later); what is left
 * unparsed is copied into the connection's own buffer. */
static void conn_process_shared(struct http_conn *c, size_t n)
{
    struct buf own = c->in;
    read_space[n] = '\0';
    c->in = (struct buf){.data = read_space, .len = n, .cap = sizeof read_space};
    c->in_off = 0;
    conn_parse(c);
    size_t off = c->in_off;
    c->in = own;
    c->in_off = 0;
    if (!c->closing && off < n)
        buf_append(&c->in, read_space + off, n - off);
    conn_parsed(c);
}

static void conn_read_peer(struct http_conn *c)
{
    struct sockaddr_storage addr;
    int len = sizeof addr;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&addr, &len) != 0)
        return;
    int rc = -1;
    if (addr.ss_family == AF_INET6)
        rc = uv_ip6_name((struct sockaddr_in6 *)&addr, c->peer, sizeof c->peer);
    else if (addr.ss_family == AF_INET)
        rc = uv_ip4_name((struct sockaddr_in *)&addr, c->peer, sizeof c->peer);
    if (rc != 0)
        c->peer[0] = '\0';
}

/* Counts the connection against the caps; false when it is over one. */
static bool conn_admit(struct http_conn *c)
{
    struct http_server *srv = c->srv;
    const struct http_server_opts *o = &srv->opts;
    if (o->max_conns && srv->n_admitted >= o->max_conns) {
        http_count_refusal("connections");
        return false;
    }
    struct netaddr a;
    if (o->max_conns_per_addr && netaddr_parse(c->peer, &a) &&
        !netaddr_in_list(&a, o->conn_limit_exempt)) {
        char group[NETADDR_TEXT_MAX];
        netaddr_group(&a, group);
        uintptr_t n = (uintptr_t)strmap_get(&srv->per_addr, group);
        if (n >= o->max_conns_per_addr) {
            http_count_refusal("per_address");
            return false;
        }
        strmap_put(&srv->per_addr, group, (void *)(n + 1));
        c->group = xstrdup(group);
    }
    c->admitted = true;
    srv->n_admitted++;
    return true;
}

/* A new connection: accepted from listener, or (listener NULL) the
 * connected socket fd (http_server_adopt). Returns 0 or a libuv error. */
static int conn_open(struct http_server *srv, uv_stream_t *listener, uv_os_sock_t fd)
{
    struct http_conn *c = xcalloc(1, sizeof *c);
    c->srv = srv;
    int rc = uv_timer_init(srv->loop, &c->timer);
    if (rc != 0) {
        free(c);
        return rc;
    }
    c->timer.data = c;
    c->handles_open = 1;
    srv->n_conns++; /* from here on, freed (and counted down) in conn_handle_closed */
    if ((rc = uv_tcp_init(srv->loop, &c->tcp)) != 0) {
        c->closing = true;
        uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
        return rc;
    }
    c->tcp.data = c;
    c->handles_open = 2;
    rc = listener ? uv_accept(listener, (uv_stream_t *)&c->tcp) : uv_tcp_open(&c->tcp, fd);
    if (rc != 0) {
        c->closing = true;
        uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
        uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
        return rc;
    }
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    c->parser_idle = true;
    uv_tcp_nodelay(&c->tcp, 1);
    conn_read_peer(c);
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    if (!conn_admit(c)) {
        conn_close(c); /* over a cap: before anything is read or held */
        return 0;
    }
    if (uv_timer_start(&c->timer, http_conn_timeout, srv->opts.timeout_ms, 0) != 0) {
        conn_close(c);
        return 0;
    }
    conn_set_reading(c, true);
    return 0;
}

static void on_connection(uv_stream_t *listener, int status)
{
    struct http_server *srv = listener->data;
    if (status < 0) {
        log_fmt(LOG_WARN, "accept failed", "\"error\":%s", log_q(uv_strerror(status)));
        return;
    }
    conn_open(srv, listener, -1);
}

int http_server_adopt(struct http_server *srv, uv_os_sock_t fd)
{
    int rc = conn_open(srv, NULL, fd);
    if (rc != 0)
        close(fd); /* not the handle's yet */
    return rc;
}

/* ===== Responses ===== */

void http_respond(struct http_request *req, int status, const char *content_type,
                  const char *body, size_t body_len, const char *extra_headers)
{
    struct http_server *srv = req->server;
    struct http_conn *c = req->conn;
    double secs = (double)(uv_hrtime() - req->start_ns) / 1e9;
    if (srv->opts.observer)
        srv->opts.observer(req->route, status, secs, srv->opts.observer_ud);
    if (c && !c->closing) {
        bool keep = req->keep_alive && !srv->stopping && !c->close_after_write;
        http_format_response(&srv->out, status, content_type, body ? body : "", body ? body_len : 0,
                        extra_headers, keep, req->method == HTTP_HEAD);
        c->inflight = NULL;
        if (!keep)
            c->close_after_write = true;
        conn_write(c, srv->out.data, srv->out.len, !keep);
        if (!c->processing && !c->closing)
            conn_process(c);
    }
    http_request_free(req);
    srv->n_requests--;
    server_maybe_done(srv);
}

void http_respond_json(struct http_request *req, int status, const char *json)
{
    http_respond(req, status, "application/json", json, strlen(json), NULL);
}

void http_respond_error(struct http_request *req, int status, const char *message)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"error\":");
    buf_json_str(&b, message);
    buf_putc(&b, '}');
    http_respond(req, status, "application/json", b.data, b.len, NULL);
    buf_free(&b);
}

/* ===== Server ===== */

int http_server_start(uv_loop_t *loop, const struct http_server_opts *opts, struct http_server **out)
{
    struct sockaddr_storage addr;
    int rc = uv_ip4_addr(opts->host, opts->port, (struct sockaddr_in *)&addr);
    if (rc != 0)
        rc = uv_ip6_addr(opts->host, opts->port, (struct sockaddr_in6 *)&addr);
    if (rc != 0)
        return rc;
    http_parser_set_max_header_size(HTTP_MAX_HEADER); /* process-wide in http-parser */
    struct http_server *srv = xcalloc(1, sizeof *srv);
    srv->loop = loop;
    srv->opts = *opts;
    srv->host = xstrdup(opts->host);
    srv->opts.host = srv->host;
    strmap_init(&srv->per_addr);
    if (!srv->opts.timeout_ms)
        srv->opts.timeout_ms = 10000;
    if (!srv->opts.idle_ms)
        srv->opts.idle_ms = 60000;
    if ((rc = uv_tcp_init(loop, &srv->listener)) != 0) {
        free(srv->host);
        free(srv);
        return rc;
    }
    srv->listener.data = srv;
    if ((rc = uv_tcp_bind(&srv->listener, (struct sockaddr *)&addr, 0)) != 0 ||
        (rc = uv_listen((uv_stream_t *)&srv->listener, 511, on_connection)) != 0) {
        srv->stopping = true;
        http_server_stop(srv, NULL, NULL);
        return rc;
    }
    *out = srv;
    return 0;
}

int http_server_port(const struct http_server *srv)
{
    struct sockaddr_storage addr;
    int len = sizeof addr;
    if (uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&addr, &len) != 0)
        return -1;
    if (addr.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
    return ntohs(((struct sockaddr_in *)&addr)->sin_port);
}

size_t http_server_connections(const struct http_server *srv)
{
    return srv->n_conns;
}

size_t http_server_buffered(const struct http_server *srv)
{
    return srv->buffered;
}

static void listener_closed(uv_handle_t *h)
{
    struct http_server *srv = h->data;
    srv->listener_closed = true;
    server_maybe_done(srv);
}

void http_server_stop(struct http_server *srv, void (*done)(void *ud), void *ud)
{
    srv->stopping = true;
    srv->done = done;
    srv->done_ud = ud;
    uv_close((uv_handle_t *)&srv->listener, listener_closed);
    for (struct http_conn *c = srv->conns, *next; c; c = next) {
        next = c->next;
        if (c->inflight || (c->writes_pending && !c->discarding))
            c->close_after_write = true;
        else
            conn_close(c);
    }
}
