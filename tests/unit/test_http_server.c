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
    struct http_request req = {0};
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

/* Sends raw request bytes, runs the loop until the server closes the connection. */
static void exchange(struct fixture *f, const char *request)
{
    memset(f, 0, sizeof *f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    struct http_server_opts opts = {.host = "127.0.0.1", .port = 0, .timeout_ms = 2000,
                                    .idle_ms = 2000, .handler = echo_handler, .handler_ud = f};
    assert_int_equal(http_server_start(&f->loop, &opts, &f->srv), 0);
    struct sockaddr_in addr;
    assert_int_equal(uv_ip4_addr("127.0.0.1", http_server_port(f->srv), &addr), 0);
    assert_int_equal(uv_tcp_init(&f->loop, &f->client), 0);
    f->client.data = f;
    f->connect.data = f;
    f->request = request;
    assert_int_equal(uv_tcp_connect(&f->connect, &f->client, (struct sockaddr *)&addr, on_connected), 0);
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
    assert_int_equal(http_server_start(&f.loop, &opts, &f.srv), 0);
    struct sockaddr_in addr;
    assert_int_equal(uv_ip4_addr("127.0.0.1", http_server_port(f.srv), &addr), 0);
    assert_int_equal(uv_tcp_init(&f.loop, &f.client), 0);
    f.client.data = &f;
    f.connect.data = &f;
    f.request = "GET /later HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    assert_int_equal(uv_tcp_connect(&f.connect, &f.client, (struct sockaddr *)&addr, on_connected), 0);
    uv_run(&f.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f.loop), 0);
    assert_true(strncmp(buf_cstr(&f.received), "HTTP/1.1 202", 12) == 0);
    assert_non_null(strstr(buf_cstr(&f.received), "late"));
    buf_free(&f.received);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
