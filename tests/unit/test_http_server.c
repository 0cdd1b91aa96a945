/* The HTTP glue: decoding helpers and the server on a real loopback socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/buf.h"
#include "dvcbot/http_server.h"

#include <stdlib.h>
#include <string.h>

/* ===== Pure helpers ===== */

static void url_decode_handles_plus_percent_and_bad_escapes(void **state)
{
    (void)state;
    char *s = http_url_decode("a+b%20c%C3%A0%zz%", 17);
    assert_string_equal(s, "a b c\xc3\xa0%zz%");
    free(s);
}

static void query_param_is_found_and_decoded(void **state)
{
    (void)state;
    struct http_request req = {0};
    req.query = (char *)"vnp_Amount=100000&vnp_OrderInfo=Thanh+toan+le+phi&empty=&flag";
    char *v = http_request_query_param(&req, "vnp_OrderInfo");
    assert_string_equal(v, "Thanh toan le phi");
    free(v);
    v = http_request_query_param(&req, "empty");
    assert_string_equal(v, "");
    free(v);
    v = http_request_query_param(&req, "flag");
    assert_string_equal(v, "");
    free(v);
    assert_null(http_request_query_param(&req, "vnp"));
}

static void headers_are_found_case_insensitively(void **state)
{
    (void)state;
    struct http_header h[1];
    struct http_request req = {.headers = h};
    req.headers[0].name = (char *)"X-Telegram-Bot-Api-Secret-Token";
    req.headers[0].value = (char *)"abc";
    req.n_headers = 1;
    assert_string_equal(http_request_header(&req, "x-telegram-bot-api-secret-token"), "abc");
    assert_null(http_request_header(&req, "Content-Length"));
}

/* ===== A real server and a raw client on one loop ===== */

struct fixture {
    uv_loop_t loop;
    struct http_server *srv;
    uv_tcp_t client;
    uv_connect_t connect;
    uv_write_t write;
    const char *request;
    struct buf received;
    int handled;
    struct http_request *held; /* a request answered later */
    uv_timer_t later;
};

static void echo_handler(struct http_request *req, void *ud)
{
    struct fixture *f = ud;
    f->handled++;
    if (strcmp(req->path, "/later") == 0) {
        f->held = req;
        return;
    }
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "%s %s q=%s len=%zu", req->method_name, req->path, req->query, req->body.len);
    http_respond(req, 200, "text/plain", b.data, b.len, NULL);
    buf_free(&b);
}

static void on_client_alloc(uv_handle_t *h, size_t n, uv_buf_t *out)
{
    (void)h;
    out->base = malloc(n);
    out->len = n;
}

static void on_closed(uv_handle_t *h)
{
    (void)h;
}

static void stop_all(struct fixture *f)
{
    if (!uv_is_closing((uv_handle_t *)&f->client))
        uv_close((uv_handle_t *)&f->client, on_closed);
    if (f->srv) {
        http_server_stop(f->srv, NULL, NULL);
        f->srv = NULL;
    }
}

static void on_client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct fixture *f = s->data;
    if (n > 0)
        buf_append(&f->received, b->base, (size_t)n);
    free(b->base);
    if (n < 0)
        stop_all(f);
}

static void on_written(uv_write_t *w, int status)
{
    assert_int_equal(status, 0);
    struct fixture *f = w->data;
    assert_int_equal(uv_read_start((uv_stream_t *)&f->client, on_client_alloc, on_client_read), 0);
}

static void on_connected(uv_connect_t *c, int status)
{
    assert_int_equal(status, 0);
    struct fixture *f = c->data;
    uv_buf_t b = uv_buf_init((char *)f->request, (unsigned)strlen(f->request));
    f->write.data = f;
    assert_int_equal(uv_write(&f->write, (uv_stream_t *)&f->client, &b, 1, on_written), 0);
}

/* Starts a server on a free port and connects client to it (ud: data of
 * both the client and the connect request). */
static void serve_and_connect(uv_loop_t *loop, const struct http_server_opts *opts,
                              struct http_server **srv, uv_tcp_t *client, uv_connect_t *req,
                              uv_connect_cb cb, void *ud)
{
    assert_int_equal(http_server_start(loop, opts, srv), 0);
    struct sockaddr_in addr;
    assert_int_equal(uv_ip4_addr("127.0.0.1", http_server_port(*srv), &addr), 0);
    assert_int_equal(uv_tcp_init(loop, client), 0);
    client->data = ud;
    req->data = ud;
    assert_int_equal(uv_tcp_connect(req, client, (struct sockaddr *)&addr, cb), 0);
}

/* Sends raw request bytes, runs the loop until the server closes the connection. */
static void exchange(struct fixture *f, const char *request)
{
    memset(f, 0, sizeof *f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    struct http_server_opts opts = {.host = "127.0.0.1", .port = 0, .timeout_ms = 2000,
                                    .idle_ms = 2000, .handler = echo_handler, .handler_ud = f};
    f->request = request;
    serve_and_connect(&f->loop, &opts, &f->srv, &f->client, &f->connect, on_connected, f);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static void pipelined_requests_get_responses_in_order(void **state)
{
    (void)state;
    struct fixture f;
    exchange(&f, "GET /a?x=1 HTTP/1.1\r\nHost: t\r\n\r\n"
                 "POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
                 "GET /c HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    const char *out = buf_cstr(&f.received);
    assert_int_equal(count(out, "HTTP/1.1 200 OK"), 3);
    const char *a = strstr(out, "GET /a q=x=1 len=0"), *b = strstr(out, "POST /b q= len=3"),
               *c = strstr(out, "GET /c q= len=0");
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_true(a < b && b < c);
    assert_int_equal(f.handled, 3);
    buf_free(&f.received);
}

static void chunked_body_is_reassembled(void **state)
{
    (void)state;
    struct fixture f;
    exchange(&f, "POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                 "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
    assert_non_null(strstr(buf_cstr(&f.received), "POST /x q= len=5"));
    buf_free(&f.received);
}

static void smuggling_shapes_are_refused_before_the_handler(void **state)
{
    (void)state;
    struct fixture f;
    exchange(&f, "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "0\r\n\r\n");
    assert_true(strncmp(buf_cstr(&f.received), "HTTP/1.1 400", 12) == 0);
    assert_int_equal(f.handled, 0);
    buf_free(&f.received);
    exchange(&f, "POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "0\r\n\r\n");
    assert_true(strncmp(buf_cstr(&f.received), "HTTP/1.1 400", 12) == 0);
    assert_int_equal(f.handled, 0);
    buf_free(&f.received);
}

static void declared_oversize_body_is_413_without_reading_it(void **state)
{
    (void)state;
    struct fixture f;
    exchange(&f, "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 1048577\r\n\r\nabc");
    assert_true(strncmp(buf_cstr(&f.received), "HTTP/1.1 413", 12) == 0);
    assert_int_equal(f.handled, 0);
    buf_free(&f.received);
}

static void relative_garbage_is_400(void **state)
{
    (void)state;
    struct fixture f;
    exchange(&f, "GET nope HTTP/1.1\r\n\r\n");
    assert_true(strncmp(buf_cstr(&f.received), "HTTP/1.1 400", 12) == 0);
    buf_free(&f.received);
}

static void answer_later(uv_timer_t *t)
{
    struct fixture *f = t->data;
    http_respond(f->held, 202, "text/plain", "late", 4, NULL);
    f->held = NULL;
    uv_close((uv_handle_t *)t, on_closed);
}

static void held_handler(struct http_request *req, void *ud)
{
    struct fixture *f = ud;
    f->handled++;
    f->held = req;
    assert_int_equal(uv_timer_init(&f->loop, &f->later), 0);
    f->later.data = f;
    assert_int_equal(uv_timer_start(&f->later, answer_later, 50, 0), 0);
}

static void asynchronous_answer_is_sent_when_ready(void **state)
{
    (void)state;
    struct fixture f;
    memset(&f, 0, sizeof f);
    assert_int_equal(uv_loop_init(&f.loop), 0);
    struct http_server_opts opts = {.host = "127.0.0.1", .port = 0, .timeout_ms = 2000,
                                    .idle_ms = 2000, .handler = held_handler, .handler_ud = &f};
    f.request = "GET /later HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    serve_and_connect(&f.loop, &opts, &f.srv, &f.client, &f.connect, on_connected, &f);
    uv_run(&f.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f.loop), 0);
    assert_true(strncmp(buf_cstr(&f.received), "HTTP/1.1 202", 12) == 0);
    assert_non_null(strstr(buf_cstr(&f.received), "late"));
    buf_free(&f.received);
}

/* ===== Responses still being written ===== */

/* A client that sends its requests, then (half_close) shuts down its side,
 * and reads only once `read_after_ms` has passed: the server's answers
 * (large bodies) cannot all be written at once. */
struct slow_reader {
    uv_loop_t loop;
    struct http_server *srv;
    uv_tcp_t client;
    uv_connect_t connect;
    uv_write_t write;
    uv_shutdown_t shutdown;
    uv_timer_t wait;
    const char *request;
    bool half_close;
    unsigned read_after_ms;
    size_t body_len;           /* of every response */
    int handled;
    int handled_before_read;   /* requests handled while the client read nothing */
    struct buf received;
};

static void big_handler(struct http_request *req, void *ud)
{
    struct slow_reader *f = ud;
    f->handled++;
    char *body = malloc(f->body_len);
    assert_non_null(body);
    memset(body, 'x', f->body_len);
    http_respond(req, 200, "text/plain", body, f->body_len, NULL);
    free(body);
}

static void slow_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct slow_reader *f = s->data;
    if (n > 0)
        buf_append(&f->received, b->base, (size_t)n);
    free(b->base);
    if (n < 0) {
        uv_close((uv_handle_t *)&f->client, on_closed);
        http_server_stop(f->srv, NULL, NULL);
    }
}

static void slow_start_reading(uv_timer_t *t)
{
    struct slow_reader *f = t->data;
    f->handled_before_read = f->handled;
    uv_close((uv_handle_t *)t, on_closed);
    assert_int_equal(uv_read_start((uv_stream_t *)&f->client, on_client_alloc, slow_on_read), 0);
}

static void slow_on_shutdown(uv_shutdown_t *req, int status)
{
    (void)req;
    assert_int_equal(status, 0);
}

static void slow_on_written(uv_write_t *w, int status)
{
    struct slow_reader *f = w->data;
    assert_int_equal(status, 0);
    if (f->half_close)
        assert_int_equal(uv_shutdown(&f->shutdown, (uv_stream_t *)&f->client, slow_on_shutdown), 0);
    assert_int_equal(uv_timer_init(&f->loop, &f->wait), 0);
    f->wait.data = f;
    assert_int_equal(uv_timer_start(&f->wait, slow_start_reading, f->read_after_ms, 0), 0);
}

static void slow_on_connected(uv_connect_t *c, int status)
{
    struct slow_reader *f = c->data;
    assert_int_equal(status, 0);
    uv_buf_t b = uv_buf_init((char *)f->request, (unsigned)strlen(f->request));
    f->write.data = f;
    assert_int_equal(uv_write(&f->write, (uv_stream_t *)&f->client, &b, 1, slow_on_written), 0);
}

static void slow_exchange(struct slow_reader *f)
{
    assert_int_equal(uv_loop_init(&f->loop), 0);
    buf_init(&f->received);
    struct http_server_opts opts = {.host = "127.0.0.1", .port = 0, .timeout_ms = 5000,
                                    .idle_ms = 5000, .handler = big_handler, .handler_ud = f};
    serve_and_connect(&f->loop, &opts, &f->srv, &f->client, &f->connect, slow_on_connected, f);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
}

/* Bytes of body after the last header block of the received stream. */
static size_t last_body_len(const struct buf *b)
{
    const char *p = buf_cstr(b), *last = NULL;
    for (const char *h = p; (h = strstr(h, "\r\n\r\n")) != NULL; h += 4)
        last = h + 4;
    return last ? b->len - (size_t)(last - p) : 0;
}

static void half_closed_client_still_gets_the_whole_response(void **state)
{
    (void)state;
    struct slow_reader f;
    memset(&f, 0, sizeof f);
    f.request = "GET /big HTTP/1.1\r\nHost: t\r\n\r\n";
    f.half_close = true;
    f.read_after_ms = 50;
    f.body_len = 8u * 1024 * 1024;
    slow_exchange(&f);
    assert_int_equal(f.handled, 1);
    assert_true(strncmp(buf_cstr(&f.received), "HTTP/1.1 200", 12) == 0);
    assert_int_equal(last_body_len(&f.received), f.body_len);
    buf_free(&f.received);
}

static void pipelined_requests_wait_until_the_response_before_is_written(void **state)
{
    (void)state;
    enum { N = 32 };
    struct buf req;
    buf_init(&req);
    for (int i = 0; i < N; i++)
        buf_printf(&req, "GET /big HTTP/1.1\r\nHost: t\r\n%s\r\n", i == N - 1 ? "Connection: close\r\n" : "");
    struct slow_reader f;
    memset(&f, 0, sizeof f);
    f.request = buf_cstr(&req);
    f.read_after_ms = 100;
    f.body_len = 512u * 1024;
    slow_exchange(&f);
    /* Nothing read: the server must not answer (and buffer) the whole pipeline. */
    assert_true(f.handled_before_read < N / 2);
    assert_int_equal(f.handled, N);
    assert_int_equal(count(buf_cstr(&f.received), "HTTP/1.1 200 OK"), N);
    assert_int_equal(last_body_len(&f.received), f.body_len);
    buf_free(&f.received);
    buf_free(&req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(url_decode_handles_plus_percent_and_bad_escapes),
        cmocka_unit_test(query_param_is_found_and_decoded),
        cmocka_unit_test(headers_are_found_case_insensitively),
        cmocka_unit_test(pipelined_requests_get_responses_in_order),
        cmocka_unit_test(chunked_body_is_reassembled),
        cmocka_unit_test(smuggling_shapes_are_refused_before_the_handler),
        cmocka_unit_test(declared_oversize_body_is_413_without_reading_it),
        cmocka_unit_test(relative_garbage_is_400),
        cmocka_unit_test(asynchronous_answer_is_sent_when_ready),
        cmocka_unit_test(half_closed_client_still_gets_the_whole_response),
        cmocka_unit_test(pipelined_requests_wait_until_the_response_before_is_written),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
