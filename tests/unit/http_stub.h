/* http_stub — a stub HTTP/1.1 server and a loop fixture for the outbound
 * HTTP tests (test_http_client*.c, test_http_keepalive*.c). Header-only.
 *
 * The stub is a libuv TCP server in the test's own loop (http-parser reads
 * the requests). It counts accepted connections and requests, keeps the last
 * request, and answers by path:
 *   /echo          200 with the request body
 *   /status/N      status N, body "status N"
 *   /silent        never answers
 *   /close         200 "ok" with Connection: close, then closes
 *   /drop          200 "ok" (keep-alive), then closes all the same
 *   /big           200 with a Content-Length above HTTP_CLIENT_MAX_BODY
 *   /big-stream    the same body without Content-Length, ended by closing
 *   /chunked       200, body "hello, chunked world" in three chunks
 *   /eof-body      HTTP/1.1 200 without Content-Length: body ended by closing
 *   /http10        HTTP/1.0 200 "ok" with Content-Length, no keep-alive
 *   /continue      "100 Continue", then 200 "done"
 *   /hangup        closes without answering
 *   /hangup-reused closes without answering on a connection that already
 *                  served a request; on a new connection 200 "fresh"
 *   /stall         headers saying 10 bytes, 2 bytes of body, then nothing
 *   /hold          held unanswered until hold_release requests are held,
 *                  then all answered 200 "held" (later ones at once)
 *   else           200 "ok"
 * Every test ends with uv_loop_close(loop) == 0. With HTTP_STUB_CURL
 * defined, the fixture's client sends http:// through libcurl
 * (DVCBOT_HTTP_CLIENT=curl): the same tests then check both engines. */
#ifndef DVCBOT_TEST_HTTP_STUB_H
#define DVCBOT_TEST_HTTP_STUB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/buf.h"
#include "dvcbot/http_client.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"

#include <arpa/inet.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

/* ===== Stub HTTP server =================================================== */

struct stub;

struct stub_conn {
    uv_tcp_t tcp;
    http_parser parser;
    struct stub *srv;
    struct buf url, body, field, value, x_test, content_type;
    bool in_value;
    bool closing;
    int requests;            /* on this connection, the current one included */
    struct stub_conn *prev, *next;
};

#define STUB_MAX_HELD 32

struct stub {
    uv_tcp_t listener;
    int port;
    int accepts;
    int requests;
    int open_handles;
    bool stopped;
    struct stub_conn *conns;
    struct stub_conn *held[STUB_MAX_HELD]; /* /hold requests not answered yet */
    int n_held;
    int hold_release;        /* how many /hold requests are held before all are answered */
    bool hold_released;
    /* the last request */
    char method[16];
    struct buf path, body, x_test, content_type;
};

enum { RESP_CLOSE_HEADER = 1, RESP_NO_LENGTH = 2, RESP_CLOSE_AFTER = 4 };

struct stub_write {
    uv_write_t req;
    struct stub_conn *conn;
    char *data;
    bool close_after;
};

static inline void on_conn_closed(uv_handle_t *h)
{
    struct stub_conn *k = h->data;
    k->srv->open_handles--;
    buf_free(&k->url);
    buf_free(&k->body);
    buf_free(&k->field);
    buf_free(&k->value);
    buf_free(&k->x_test);
    buf_free(&k->content_type);
    free(k);
}

/* Closes a connection (FIN; with reset, RST: SO_LINGER 0). */
static inline void stub_conn_end(struct stub_conn *k, bool reset)
{
    if (k->closing)
        return;
    k->closing = true;
    for (int i = 0; i < k->srv->n_held; i++)
        if (k->srv->held[i] == k)
            k->srv->held[i--] = k->srv->held[--k->srv->n_held];
    if (k->prev)
        k->prev->next = k->next;
    else
        k->srv->conns = k->next;
    if (k->next)
        k->next->prev = k->prev;
    if (reset)
        assert_int_equal(uv_tcp_close_reset(&k->tcp, on_conn_closed), 0);
    else
        uv_close((uv_handle_t *)&k->tcp, on_conn_closed);
}

static inline void stub_conn_close(struct stub_conn *k)
{
    stub_conn_end(k, false);
}

static inline void on_stub_written(uv_write_t *w, int status)
{
    struct stub_write *sw = w->data;
    if (status < 0 || sw->close_after)
        stub_conn_close(sw->conn);
    free(sw->data);
    free(sw);
}

static inline void stub_respond(struct stub_conn *k, int status, const char *body, size_t len, int flags)
{
    struct buf out;
    buf_init(&out);
    buf_printf(&out, "HTTP/1.1 %d Stub\r\n", status);
    if (!(flags & RESP_NO_LENGTH))
        buf_printf(&out, "Content-Length: %zu\r\n", len);
    if (flags & RESP_CLOSE_HEADER)
        buf_puts(&out, "Connection: close\r\n");
    buf_puts(&out, "\r\n");
    buf_append(&out, body, len);
    struct stub_write *sw = xcalloc(1, sizeof(*sw));
    sw->conn = k;
    sw->close_after = flags & RESP_CLOSE_AFTER;
    sw->req.data = sw;
    uv_buf_t b = uv_buf_init(out.data, (unsigned)out.len);
    sw->data = buf_steal(&out);
    assert_int_equal(uv_write(&sw->req, (uv_stream_t *)&k->tcp, &b, 1, on_stub_written), 0);
}

/* Sends text as it is (a whole hand-made response, or a part of one). */
static inline void stub_send_raw(struct stub_conn *k, const char *text, bool close_after)
{
    struct stub_write *sw = xcalloc(1, sizeof(*sw));
    sw->conn = k;
    sw->close_after = close_after;
    sw->req.data = sw;
    sw->data = xstrdup(text);
    uv_buf_t b = uv_buf_init(sw->data, (unsigned)strlen(text));
    assert_int_equal(uv_write(&sw->req, (uv_stream_t *)&k->tcp, &b, 1, on_stub_written), 0);
}

static inline void stub_hold(struct stub_conn *k)
{
    struct stub *srv = k->srv;
    if (srv->hold_released) {
        stub_respond(k, 200, "held", 4, 0);
        return;
    }
    assert_true(srv->n_held < STUB_MAX_HELD);
    srv->held[srv->n_held++] = k;
    if (srv->n_held < srv->hold_release)
        return;
    srv->hold_released = true;
    while (srv->n_held > 0)
        stub_respond(srv->held[--srv->n_held], 200, "held", 4, 0);
}

/* The paths of the keep-alive tests (see the list at the top). */
static inline bool stub_route_raw(struct stub_conn *k, const char *path)
{
    if (strcmp(path, "/chunked") == 0)
        stub_send_raw(k, "HTTP/1.1 200 Stub\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "5\r\nhello\r\n8\r\n, chunke\r\n7\r\nd world\r\n0\r\n\r\n", false);
    else if (strcmp(path, "/eof-body") == 0)
        stub_send_raw(k, "HTTP/1.1 200 Stub\r\n\r\nuntil the end", true);
    else if (strcmp(path, "/http10") == 0)
        stub_send_raw(k, "HTTP/1.0 200 Stub\r\nContent-Length: 2\r\n\r\nok", false);
    else if (strcmp(path, "/continue") == 0)
        stub_send_raw(k, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 Stub\r\nContent-Length: 4\r\n\r\ndone", false);
    else if (strcmp(path, "/hangup") == 0 || (strcmp(path, "/hangup-reused") == 0 && k->requests > 1))
        stub_conn_close(k);
    else if (strcmp(path, "/hangup-reused") == 0)
        stub_respond(k, 200, "fresh", 5, 0);
    else if (strcmp(path, "/stall") == 0)
        stub_send_raw(k, "HTTP/1.1 200 Stub\r\nContent-Length: 10\r\n\r\nab", false);
    else if (strcmp(path, "/hold") == 0)
        stub_hold(k);
    else
        return false;
    return true;
}

static inline void stub_respond_big(struct stub_conn *k, int flags)
{
    size_t len = HTTP_CLIENT_MAX_BODY + 1000;
    char *big = xmalloc(len);
    memset(big, 'x', len);
    stub_respond(k, 200, big, len, flags);
    free(big);
}

static inline void stub_route(struct stub_conn *k)
{
    const char *path = buf_cstr(&k->url);
    if (strcmp(path, "/silent") == 0 || stub_route_raw(k, path))
        return;
    if (strncmp(path, "/status/", 8) == 0) {
        char text[32];
        int status = atoi(path + 8);
        int n = snprintf(text, sizeof(text), "status %d", status);
        stub_respond(k, status, text, (size_t)n, 0);
    } else if (strncmp(path, "/echo", 5) == 0) {
        stub_respond(k, 200, buf_cstr(&k->body), k->body.len, 0);
    } else if (strcmp(path, "/close") == 0) {
        stub_respond(k, 200, "ok", 2, RESP_CLOSE_HEADER | RESP_CLOSE_AFTER);
    } else if (strcmp(path, "/drop") == 0) {
        stub_respond(k, 200, "ok", 2, RESP_CLOSE_AFTER);
    } else if (strcmp(path, "/big") == 0) {
        stub_respond_big(k, 0);
    } else if (strcmp(path, "/big-stream") == 0) {
        stub_respond_big(k, RESP_NO_LENGTH | RESP_CLOSE_HEADER | RESP_CLOSE_AFTER);
    } else {
        stub_respond(k, 200, "ok", 2, 0);
    }
}

static inline void copy_buf(struct buf *dst, const struct buf *src)
{
    buf_reset(dst);
    buf_append(dst, buf_cstr(src), src->len);
}

static inline void header_done(struct stub_conn *k)
{
    if (strcasecmp(buf_cstr(&k->field), "X-Test") == 0)
        copy_buf(&k->x_test, &k->value);
    else if (strcasecmp(buf_cstr(&k->field), "Content-Type") == 0)
        copy_buf(&k->content_type, &k->value);
    buf_reset(&k->field);
    buf_reset(&k->value);
    k->in_value = false;
}

static inline int on_message_begin(http_parser *p)
{
    struct stub_conn *k = p->data;
    buf_reset(&k->url);
    buf_reset(&k->body);
    buf_reset(&k->x_test);
    buf_reset(&k->content_type);
    return 0;
}

static inline int on_url(http_parser *p, const char *at, size_t len)
{
    struct stub_conn *k = p->data;
    buf_append(&k->url, at, len);
    return 0;
}

static inline int on_header_field(http_parser *p, const char *at, size_t len)
{
    struct stub_conn *k = p->data;
    if (k->in_value)
        header_done(k);
    buf_append(&k->field, at, len);
    return 0;
}

static inline int on_header_value(http_parser *p, const char *at, size_t len)
{
    struct stub_conn *k = p->data;
    buf_append(&k->value, at, len);
    k->in_value = true;
    return 0;
}

static inline int on_headers_complete(http_parser *p)
{
    struct stub_conn *k = p->data;
    if (k->in_value)
        header_done(k);
    return 0;
}

static inline int on_body(http_parser *p, const char *at, size_t len)
{
    struct stub_conn *k = p->data;
    buf_append(&k->body, at, len);
    return 0;
}

static inline int on_message_complete(http_parser *p)
{
    struct stub_conn *k = p->data;
    struct stub *srv = k->srv;
    srv->requests++;
    k->requests++;
    snprintf(srv->method, sizeof(srv->method), "%s", http_method_str(p->method));
    copy_buf(&srv->path, &k->url);
    copy_buf(&srv->body, &k->body);
    copy_buf(&srv->x_test, &k->x_test);
    copy_buf(&srv->content_type, &k->content_type);
    stub_route(k);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static inline void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    b->base = xmalloc(suggested);
    b->len = suggested;
}

static inline void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct stub_conn *k = s->data;
    if (nread > 0) {
        http_parser_execute(&k->parser, &parser_settings, b->base, (size_t)nread);
        if (HTTP_PARSER_ERRNO(&k->parser) != HPE_OK)
            stub_conn_close(k);
    } else if (nread < 0) {
        stub_conn_close(k);
    }
    free(b->base);
}

static inline void on_connection(uv_stream_t *listener, int status)
{
    struct stub *srv = listener->data;
    assert_int_equal(status, 0);
    struct stub_conn *k = xcalloc(1, sizeof(*k));
    k->srv = srv;
    assert_int_equal(uv_tcp_init(listener->loop, &k->tcp), 0);
    k->tcp.data = k;
    srv->open_handles++;
    k->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = k;
    srv->conns = k;
    assert_int_equal(uv_accept(listener, (uv_stream_t *)&k->tcp), 0);
    srv->accepts++;
    http_parser_init(&k->parser, HTTP_REQUEST);
    k->parser.data = k;
    assert_int_equal(uv_read_start((uv_stream_t *)&k->tcp, on_alloc, on_read), 0);
}

static inline void stub_start(uv_loop_t *loop, struct stub *srv)
{
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int len = sizeof(bound);
    memset(srv, 0, sizeof(*srv));
    assert_int_equal(uv_tcp_init(loop, &srv->listener), 0);
    srv->listener.data = srv;
    srv->open_handles = 1;
    assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &addr), 0);
    assert_int_equal(uv_tcp_bind(&srv->listener, (const struct sockaddr *)&addr, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&srv->listener, 128, on_connection), 0);
    assert_int_equal(uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&bound, &len), 0);
    srv->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
}

static inline void on_listener_closed(uv_handle_t *h)
{
    struct stub *srv = h->data;
    srv->open_handles--;
}

static inline void stub_stop(struct stub *srv)
{
    if (srv->stopped)
        return;
    srv->stopped = true;
    uv_close((uv_handle_t *)&srv->listener, on_listener_closed);
    while (srv->conns)
        stub_conn_close(srv->conns);
}

static inline void stub_free(struct stub *srv)
{
    assert_int_equal(srv->open_handles, 0);
    buf_free(&srv->path);
    buf_free(&srv->body);
    buf_free(&srv->x_test);
    buf_free(&srv->content_type);
}

/* ===== Fixture ============================================================= */

struct fx {
    uv_loop_t loop;
    uv_timer_t guard;        /* wakes the loop while a test waits */
    struct stub srv;
    struct http_client *client;
    bool finished;
    char url[256];
};

static inline int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof(*f));
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(uv_timer_init(&f->loop, &f->guard), 0);
    stub_start(&f->loop, &f->srv);
    f->client = http_client_new(&f->loop);
    assert_non_null(f->client);
#ifdef HTTP_STUB_CURL
    http_client_http_by_curl(f->client, true);
#endif
    *state = f;
    return 0;
}

/* Closes the client (unless the test did), the stub and the guard, runs the
 * loop dry and insists that it closes cleanly. */
static inline void fx_finish(struct fx *f)
{
    if (f->finished)
        return;
    f->finished = true;
    if (f->client)
        http_client_close(f->client);
    f->client = NULL;
    stub_stop(&f->srv);
    uv_close((uv_handle_t *)&f->guard, NULL);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&f->loop), 0);
}

static inline int teardown(void **state)
{
    struct fx *f = *state;
    fx_finish(f);
    stub_free(&f->srv);
    free(f);
    return 0;
}

static inline const char *fx_url(struct fx *f, const char *path)
{
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d%s", f->srv.port, path);
    return f->url;
}

static inline void on_guard(uv_timer_t *t)
{
    (void)t;
}

/* Runs the loop until *counter reaches target; fails after limit_ms. */
static inline void run_until(struct fx *f, const int *counter, int target, uint64_t limit_ms)
{
    uint64_t deadline = uv_now(&f->loop) + limit_ms;
    assert_int_equal(uv_timer_start(&f->guard, on_guard, 20, 20), 0);
    while (*counter < target) {
        uv_run(&f->loop, UV_RUN_ONCE);
        if (uv_now(&f->loop) > deadline)
            fail_msg("waited %llu ms: %d of %d", (unsigned long long)limit_ms, *counter, target);
    }
    assert_int_equal(uv_timer_stop(&f->guard), 0);
}

/* ===== Recording responses ================================================= */

struct result {
    int calls;
    long status;
    struct buf body;
    char *error;
    double total_ms;
    int *done;               /* bumped on each call when set */
};

static inline void result_free(struct result *r)
{
    buf_free(&r->body);
    free(r->error);
}

static inline void record(struct result *r, const struct http_client_response *res)
{
    assert_non_null(res->body);
    assert_int_equal(res->body[res->body_len], '\0');
    r->calls++;
    r->status = res->status;
    buf_reset(&r->body);
    buf_append(&r->body, res->body, res->body_len);
    free(r->error);
    r->error = res->error ? xstrdup(res->error) : NULL;
    r->total_ms = res->total_ms;
    if (r->done)
        (*r->done)++;
}

static inline void on_result(const struct http_client_response *res, void *ud)
{
    record(ud, res);
}

static inline void get(struct fx *f, const char *path, long timeout_ms, struct result *r)
{
    struct http_client_request req = {.method = "GET", .url = fx_url(f, path), .timeout_ms = timeout_ms};
    assert_int_equal(http_client_request(f->client, &req, on_result, r), 0);
}

/* ===== Running a group ===================================================== */

static inline int stub_group_teardown(void **state)
{
    (void)state;
    http_client_global_cleanup();
    return 0;
}

#ifdef HTTP_STUB_CURL
#define STUB_ENGINE "http:// by curl"
#else
#define STUB_ENGINE "http:// by the own client"
#endif

/* Runs a group of fixture tests, named for the engine. SIGPIPE ignored:
 * the stub writes to sockets the client has closed. */
#define stub_run_group(name, tests) \
    (signal(SIGPIPE, SIG_IGN), cmocka_run_group_tests_name(name ", " STUB_ENGINE, tests, NULL, stub_group_teardown))

#endif
