/* test_http_client — outbound HTTP against a stub server on 127.0.0.1.
 *
 * The stub is a libuv TCP server in the test's own loop (http-parser reads
 * the requests). It counts accepted connections and requests, keeps the last
 * request, and answers by path:
 *   /echo        200 with the request body
 *   /status/N    status N, body "status N"
 *   /silent      never answers
 *   /close       200 "ok" with Connection: close, then closes
 *   /drop        200 "ok" (keep-alive), then closes all the same
 *   /big         200 with a Content-Length above HTTP_CLIENT_MAX_BODY
 *   /big-stream  the same body without Content-Length, ended by closing
 *   else         200 "ok"
 * Every test ends with uv_loop_close(loop) == 0. */
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
    struct stub_conn *prev, *next;
};

struct stub {
    uv_tcp_t listener;
    int port;
    int accepts;
    int requests;
    int open_handles;
    bool stopped;
    struct stub_conn *conns;
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

static void on_conn_closed(uv_handle_t *h)
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

static void stub_conn_close(struct stub_conn *k)
{
    if (k->closing)
        return;
    k->closing = true;
    if (k->prev)
        k->prev->next = k->next;
    else
        k->srv->conns = k->next;
    if (k->next)
        k->next->prev = k->prev;
    uv_close((uv_handle_t *)&k->tcp, on_conn_closed);
}

static void on_stub_written(uv_write_t *w, int status)
{
    struct stub_write *sw = w->data;
    if (status < 0 || sw->close_after)
        stub_conn_close(sw->conn);
    free(sw->data);
    free(sw);
}

static void stub_respond(struct stub_conn *k, int status, const char *body, size_t len, int flags)
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

static void stub_respond_big(struct stub_conn *k, int flags)
{
    size_t len = HTTP_CLIENT_MAX_BODY + 1000;
    char *big = xmalloc(len);
    memset(big, 'x', len);
    stub_respond(k, 200, big, len, flags);
    free(big);
}

static void stub_route(struct stub_conn *k)
{
    const char *path = buf_cstr(&k->url);
    if (strcmp(path, "/silent") == 0)
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

static void copy_buf(struct buf *dst, const struct buf *src)
{
    buf_reset(dst);
    buf_append(dst, buf_cstr(src), src->len);
}

static void header_done(struct stub_conn *k)
{
    if (strcasecmp(buf_cstr(&k->field), "X-Test") == 0)
        copy_buf(&k->x_test, &k->value);
    else if (strcasecmp(buf_cstr(&k->field), "Content-Type") == 0)
        copy_buf(&k->content_type, &k->value);
    buf_reset(&k->field);
    buf_reset(&k->value);
    k->in_value = false;
}

static int on_message_begin(http_parser *p)
{
    struct stub_conn *k = p->data;
    buf_reset(&k->url);
    buf_reset(&k->body);
    buf_reset(&k->x_test);
    buf_reset(&k->content_type);
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    struct stub_conn *k = p->data;
    buf_append(&k->url, at, len);
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    struct stub_conn *k = p->data;
    if (k->in_value)
        header_done(k);
    buf_append(&k->field, at, len);
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    struct stub_conn *k = p->data;
    buf_append(&k->value, at, len);
    k->in_value = true;
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    struct stub_conn *k = p->data;
    if (k->in_value)
        header_done(k);
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct stub_conn *k = p->data;
    buf_append(&k->body, at, len);
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct stub_conn *k = p->data;
    struct stub *srv = k->srv;
    srv->requests++;
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

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    b->base = xmalloc(suggested);
    b->len = suggested;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
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

static void on_connection(uv_stream_t *listener, int status)
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

static void stub_start(uv_loop_t *loop, struct stub *srv)
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

static void on_listener_closed(uv_handle_t *h)
{
    struct stub *srv = h->data;
    srv->open_handles--;
}

static void stub_stop(struct stub *srv)
{
    if (srv->stopped)
        return;
    srv->stopped = true;
    uv_close((uv_handle_t *)&srv->listener, on_listener_closed);
    while (srv->conns)
        stub_conn_close(srv->conns);
}

static void stub_free(struct stub *srv)
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

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof(*f));
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(uv_timer_init(&f->loop, &f->guard), 0);
    stub_start(&f->loop, &f->srv);
    f->client = http_client_new(&f->loop);
    assert_non_null(f->client);
    *state = f;
    return 0;
}

/* Closes the client (unless the test did), the stub and the guard, runs the
 * loop dry and insists that it closes cleanly. */
static void fx_finish(struct fx *f)
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

static int teardown(void **state)
{
    struct fx *f = *state;
    fx_finish(f);
    stub_free(&f->srv);
    free(f);
    return 0;
}

static const char *fx_url(struct fx *f, const char *path)
{
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d%s", f->srv.port, path);
    return f->url;
}

static void on_guard(uv_timer_t *t)
{
    (void)t;
}

/* Runs the loop until *counter reaches target; fails after limit_ms. */
static void run_until(struct fx *f, const int *counter, int target, uint64_t limit_ms)
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

static void result_free(struct result *r)
{
    buf_free(&r->body);
    free(r->error);
}

static void record(struct result *r, const struct http_client_response *res)
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

static void on_result(const struct http_client_response *res, void *ud)
{
    record(ud, res);
}

static void get(struct fx *f, const char *path, long timeout_ms, struct result *r)
{
    struct http_client_request req = {.method = "GET", .url = fx_url(f, path), .timeout_ms = timeout_ms};
    assert_int_equal(http_client_request(f->client, &req, on_result, r), 0);
}

/* ===== Exchanges =========================================================== */

static void test_post_delivers_body_and_headers_and_returns_the_response(void **state)
{
    struct fx *f = *state;
    static const char body[] = "{\"text\":\"xin chào\"}\0after a NUL";
    static const char *const headers[] = {"Content-Type: application/json", "X-Test: chào 42", NULL};
    struct http_client_request req = {
        .method = "POST", .url = fx_url(f, "/echo?x=1"), .headers = headers,
        .body = body, .body_len = sizeof(body) - 1,
    };
    struct result r = {0};
    assert_int_equal(http_client_request(f->client, &req, on_result, &r), 0);
    assert_int_equal(http_client_pending(f->client), 1);
    run_until(f, &r.calls, 1, 5000);

    assert_string_equal(f->srv.method, "POST");
    assert_string_equal(buf_cstr(&f->srv.path), "/echo?x=1");
    assert_string_equal(buf_cstr(&f->srv.content_type), "application/json");
    assert_string_equal(buf_cstr(&f->srv.x_test), "chào 42");
    assert_int_equal(f->srv.body.len, sizeof(body) - 1);
    assert_memory_equal(f->srv.body.data, body, sizeof(body) - 1);

    assert_int_equal(r.calls, 1);
    assert_null(r.error);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.len, sizeof(body) - 1);
    assert_memory_equal(r.body.data, body, sizeof(body) - 1);
    assert_true(r.total_ms > 0);
    assert_int_equal(http_client_pending(f->client), 0);
    result_free(&r);
}

static void test_request_without_method_or_body_is_a_get(void **state)
{
    struct fx *f = *state;
    struct http_client_request req = {.url = fx_url(f, "/hello")};
    struct result r = {0};
    assert_int_equal(http_client_request(f->client, &req, on_result, &r), 0);
    run_until(f, &r.calls, 1, 5000);
    assert_string_equal(f->srv.method, "GET");
    assert_int_equal(f->srv.body.len, 0);
    assert_null(r.error);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body.data, "ok");
    result_free(&r);
}

static void test_error_statuses_are_delivered_as_status_not_error(void **state)
{
    struct fx *f = *state;
    static const long statuses[] = {503, 429, 404, 500};
    struct result r[4] = {{0}};
    int done = 0;
    for (int i = 0; i < 4; i++) {
        char path[32];
        snprintf(path, sizeof(path), "/status/%ld", statuses[i]);
        r[i].done = &done;
        get(f, path, 0, &r[i]);
    }
    run_until(f, &done, 4, 5000);
    for (int i = 0; i < 4; i++) {
        char text[32];
        snprintf(text, sizeof(text), "status %ld", statuses[i]);
        assert_int_equal(r[i].calls, 1);
        assert_null(r[i].error);
        assert_int_equal(r[i].status, statuses[i]);
        assert_string_equal(r[i].body.data, text);
        result_free(&r[i]);
    }
}

/* ===== Concurrency and keep-alive ========================================= */

#define MANY 200

static void test_200_concurrent_requests_complete_over_at_most_16_connections(void **state)
{
    struct fx *f = *state;
    struct result *r = xcalloc(MANY, sizeof(*r));
    int done = 0;
    for (int i = 0; i < MANY; i++) {
        char body[32];
        int n = snprintf(body, sizeof(body), "request %d", i);
        struct http_client_request req = {.url = fx_url(f, "/echo"), .body = body, .body_len = (size_t)n};
        r[i].done = &done;
        assert_int_equal(http_client_request(f->client, &req, on_result, &r[i]), 0);
    }
    assert_int_equal(http_client_pending(f->client), MANY);
    run_until(f, &done, MANY, 60000);
    for (int i = 0; i < MANY; i++) {
        char body[32];
        snprintf(body, sizeof(body), "request %d", i);
        assert_int_equal(r[i].calls, 1);
        assert_null(r[i].error);
        assert_int_equal(r[i].status, 200);
        assert_string_equal(r[i].body.data, body);
        result_free(&r[i]);
    }
    free(r);
    assert_int_equal(f->srv.requests, MANY);
    assert_in_range(f->srv.accepts, 1, HTTP_CLIENT_MAX_HOST_CONNECTIONS);
    assert_int_equal(http_client_pending(f->client), 0);
}

/* Each callback starts the next request: the chain runs inside callbacks. */
struct chain {
    struct fx *fx;
    const char *path;
    int left;
    int done;
    int failures;
};

static void on_chain_link(const struct http_client_response *res, void *ud)
{
    struct chain *ch = ud;
    ch->done++;
    if (res->error || res->status != 200)
        ch->failures++;
    if (--ch->left > 0) {
        struct http_client_request req = {.url = fx_url(ch->fx, ch->path)};
        assert_int_equal(http_client_request(ch->fx->client, &req, on_chain_link, ch), 0);
    }
}

static void run_chain(struct fx *f, struct chain *ch, const char *path, int n)
{
    *ch = (struct chain){.fx = f, .path = path, .left = n};
    struct http_client_request req = {.url = fx_url(f, path)};
    assert_int_equal(http_client_request(f->client, &req, on_chain_link, ch), 0);
    run_until(f, &ch->done, n, 20000);
}

static void test_sequential_requests_started_from_callbacks_reuse_one_connection(void **state)
{
    struct fx *f = *state;
    struct chain ch;
    run_chain(f, &ch, "/hello", 20);
    assert_int_equal(ch.failures, 0);
    assert_int_equal(f->srv.requests, 20);
    assert_int_equal(f->srv.accepts, 1);
}

/* Closed connections free their fds while the old poll handles are still
 * closing; curl's next sockets get the same numbers. */
static void test_server_closing_connections_does_not_break_later_requests(void **state)
{
    struct fx *f = *state;
    struct result r[40] = {{0}};
    int done = 0;
    for (int i = 0; i < 40; i++) {
        r[i].done = &done;
        get(f, "/close", 0, &r[i]);
    }
    run_until(f, &done, 40, 20000);
    for (int i = 0; i < 40; i++) {
        assert_null(r[i].error);
        assert_int_equal(r[i].status, 200);
        result_free(&r[i]);
    }
    assert_int_equal(f->srv.accepts, 40);

    struct chain ch;
    run_chain(f, &ch, "/drop", 10);
    assert_int_equal(ch.failures, 0);
    assert_int_equal(f->srv.requests, 50);
}

/* ===== Failures ============================================================ */

/* A host name is looked up by curl's resolver thread, whose socket pair
 * curl hands us to watch and then closes itself, before it says "remove".
 * When the lookup fails no connection takes that number back: the watcher
 * must go, or it would take the events of whatever socket of the loop gets
 * the number next (here those of a second client). */
static void test_a_failed_name_lookup_leaves_no_watcher_on_a_closed_socket(void **state)
{
    struct fx *f = *state;
    struct http_client *other = http_client_new(&f->loop);
    assert_non_null(other);
    for (int round = 0; round < 3; round++) {
        struct result bad = {0};
        snprintf(f->url, sizeof(f->url), "http://no-such-host.invalid:%d/hello", f->srv.port);
        struct http_client_request req = {.method = "GET", .url = f->url, .timeout_ms = 5000};
        assert_int_equal(http_client_request(f->client, &req, on_result, &bad), 0);
        run_until(f, &bad.calls, 1, 10000);
        assert_non_null(bad.error);
        result_free(&bad);

        struct result r[4] = {{0}};
        int done = 0;
        for (int i = 0; i < 4; i++) {
            r[i].done = &done;
            struct http_client_request ok = {.method = "GET", .url = fx_url(f, "/close"), .timeout_ms = 5000};
            assert_int_equal(http_client_request(other, &ok, on_result, &r[i]), 0);
        }
        run_until(f, &done, 4, 10000);
        for (int i = 0; i < 4; i++) {
            assert_null(r[i].error);
            assert_int_equal(r[i].status, 200);
            result_free(&r[i]);
        }
    }
    http_client_close(other);
    assert_int_equal(f->srv.requests, 12);
}

static void test_server_that_never_answers_fails_after_timeout_ms(void **state)
{
    struct fx *f = *state;
    struct result r = {0};
    uint64_t start = uv_hrtime();
    get(f, "/silent", 300, &r);
    run_until(f, &r.calls, 1, 5000);
    double elapsed_ms = (double)(uv_hrtime() - start) / 1e6;
    assert_int_equal(r.calls, 1);
    assert_non_null(r.error);
    assert_non_null(strstr(r.error, "timed out"));
    assert_int_equal(r.status, 0);
    assert_int_equal(r.body.len, 0);
    assert_true(r.total_ms >= 290 && r.total_ms < 3000);
    assert_true(elapsed_ms >= 290 && elapsed_ms < 3000);
    assert_int_equal(f->srv.requests, 1);
    result_free(&r);
}

static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(addr);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    close(fd);
    return ntohs(addr.sin_port);
}

static void test_connection_refused_is_an_error_that_names_the_host_not_the_url(void **state)
{
    struct fx *f = *state;
    char url[128];
    char logged[4096] = "";
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/bot123456:SECRET/sendMessage", closed_port());
    FILE *log = tmpfile();
    assert_non_null(log);
    log_setup(LOG_DEBUG, log);

    struct http_client_request req = {.url = url, .body = "{}", .body_len = 2};
    struct result r = {0};
    assert_int_equal(http_client_request(f->client, &req, on_result, &r), 0);
    run_until(f, &r.calls, 1, 5000);
    log_setup(LOG_INFO, stderr);
    rewind(log);
    size_t n = fread(logged, 1, sizeof(logged) - 1, log);
    logged[n] = '\0';
    fclose(log);

    assert_int_equal(r.calls, 1);
    assert_non_null(r.error);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(logged, "http request failed"));
    assert_non_null(strstr(logged, "127.0.0.1"));
    assert_null(strstr(logged, "SECRET"));
    assert_null(strstr(r.error, "SECRET"));
    result_free(&r);
}

static void test_response_over_the_body_cap_fails_the_request(void **state)
{
    struct fx *f = *state;
    struct result with_length = {0}, streamed = {0};
    int done = 0;
    with_length.done = streamed.done = &done;
    get(f, "/big", 0, &with_length);
    get(f, "/big-stream", 0, &streamed);
    run_until(f, &done, 2, 20000);
    assert_string_equal(with_length.error, "response body too large");
    assert_string_equal(streamed.error, "response body too large");
    assert_int_equal(with_length.status, 0);
    assert_int_equal(streamed.body.len, 0);
    result_free(&with_length);
    result_free(&streamed);
}

static void on_never(const struct http_client_response *res, void *ud)
{
    (void)res;
    (void)ud;
    fail_msg("callback of a refused request");
}

static void test_invalid_requests_are_refused_without_callback(void **state)
{
    struct fx *f = *state;
    static const char *const crlf[] = {"X-Test: a\r\nX-Injected: b", NULL};
    const char *url = fx_url(f, "/");
    const struct http_client_request bad[] = {
        {.url = NULL},
        {.url = "not a url"},
        {.url = "file:///etc/passwd"},
        {.url = "ftp://127.0.0.1/x"},
        {.url = url, .headers = crlf},
        {.url = url, .method = "PUT"},
        {.url = url, .method = "GET", .body = "x", .body_len = 1},
        {.url = url, .body = NULL, .body_len = 5},
        {.url = url, .timeout_ms = -1},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(http_client_request(f->client, &bad[i], on_never, NULL), HTTP_CLIENT_EINVAL);
    assert_int_equal(http_client_request(f->client, NULL, on_never, NULL), HTTP_CLIENT_EINVAL);
    struct http_client_request ok = {.url = url};
    assert_int_equal(http_client_request(f->client, &ok, NULL, NULL), HTTP_CLIENT_EINVAL);
    assert_int_equal(http_client_pending(f->client), 0);
    assert_true(uv_run(&f->loop, UV_RUN_NOWAIT) != 0);  /* the stub still listens */
    assert_int_equal(f->srv.accepts, 0);
}

/* ===== Closing ============================================================= */

struct cancel_probe {
    struct result res;
    struct http_client *client;
    int retry_rc;            /* a request started from the cancel callback */
};

static void on_cancel_probe(const struct http_client_response *res, void *ud)
{
    struct cancel_probe *p = ud;
    record(&p->res, res);
    struct http_client_request req = {.url = "http://127.0.0.1:1/"};
    p->retry_rc = http_client_request(p->client, &req, on_never, NULL);
    http_client_close(p->client);  /* already closing: nothing happens */
}

static void test_close_cancels_in_flight_requests_once_inside_close(void **state)
{
    struct fx *f = *state;
    enum { N = HTTP_CLIENT_MAX_HOST_CONNECTIONS + 4 };  /* some still wait for a connection */
    struct cancel_probe p[N];
    memset(p, 0, sizeof(p));
    for (int i = 0; i < N; i++) {
        struct http_client_request req = {.url = fx_url(f, "/silent")};
        p[i].client = f->client;
        assert_int_equal(http_client_request(f->client, &req, on_cancel_probe, &p[i]), 0);
    }
    run_until(f, &f->srv.requests, HTTP_CLIENT_MAX_HOST_CONNECTIONS, 5000);
    assert_int_equal(http_client_pending(f->client), N);

    http_client_close(f->client);
    f->client = NULL;
    for (int i = 0; i < N; i++) {
        assert_int_equal(p[i].res.calls, 1);
        assert_string_equal(p[i].res.error, "cancelled");
        assert_int_equal(p[i].res.status, 0);
        assert_int_equal(p[i].retry_rc, HTTP_CLIENT_ECLOSED);
    }
    fx_finish(f);  /* runs the loop to its end: nothing may fire any more */
    for (int i = 0; i < N; i++) {
        assert_int_equal(p[i].res.calls, 1);
        result_free(&p[i].res);
    }
}

struct closer {
    struct fx *fx;
    struct result res;
    int *done;
};

/* The first callback closes the client: the others are cancelled inside it. */
static void on_close_from_callback(const struct http_client_response *res, void *ud)
{
    struct closer *c = ud;
    record(&c->res, res);
    (*c->done)++;
    if (c->fx->client) {
        http_client_close(c->fx->client);
        c->fx->client = NULL;
    }
}

static void test_closing_from_a_callback_cancels_the_others_once(void **state)
{
    struct fx *f = *state;
    struct closer c[10];
    int done = 0;
    memset(c, 0, sizeof(c));
    for (int i = 0; i < 10; i++) {
        struct http_client_request req = {.url = fx_url(f, i == 9 ? "/silent" : "/hello")};
        c[i].fx = f;
        c[i].done = &done;
        assert_int_equal(http_client_request(f->client, &req, on_close_from_callback, &c[i]), 0);
    }
    run_until(f, &done, 10, 5000);
    assert_null(f->client);
    fx_finish(f);
    int ok = 0, cancelled = 0;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(c[i].res.calls, 1);
        if (!c[i].res.error && c[i].res.status == 200)
            ok++;
        else if (c[i].res.error && strcmp(c[i].res.error, "cancelled") == 0 && c[i].res.status == 0)
            cancelled++;
        result_free(&c[i].res);
    }
    assert_int_equal(ok, 1);
    assert_int_equal(cancelled, 9);
}

static void test_close_of_an_idle_client_frees_it_with_the_loop(void **state)
{
    struct fx *f = *state;
    struct result r = {0};
    get(f, "/hello", 0, &r);
    run_until(f, &r.calls, 1, 5000);
    assert_null(r.error);
    http_client_close(f->client);
    f->client = NULL;
    fx_finish(f);
    assert_int_equal(r.calls, 1);
    result_free(&r);
}

static int group_teardown(void **state)
{
    (void)state;
    http_client_global_cleanup();
    return 0;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);  /* the stub writes to sockets curl has closed */
#define T(test) cmocka_unit_test_setup_teardown(test, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_post_delivers_body_and_headers_and_returns_the_response),
        T(test_request_without_method_or_body_is_a_get),
        T(test_error_statuses_are_delivered_as_status_not_error),
        T(test_200_concurrent_requests_complete_over_at_most_16_connections),
        T(test_sequential_requests_started_from_callbacks_reuse_one_connection),
        T(test_server_closing_connections_does_not_break_later_requests),
        T(test_a_failed_name_lookup_leaves_no_watcher_on_a_closed_socket),
        T(test_server_that_never_answers_fails_after_timeout_ms),
        T(test_connection_refused_is_an_error_that_names_the_host_not_the_url),
        T(test_response_over_the_body_cap_fails_the_request),
        T(test_invalid_requests_are_refused_without_callback),
        T(test_close_cancels_in_flight_requests_once_inside_close),
        T(test_closing_from_a_callback_cancels_the_others_once),
        T(test_close_of_an_idle_client_frees_it_with_the_loop),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, group_teardown);
}
