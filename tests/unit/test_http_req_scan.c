/* http_req_scan / http_parse_plain: whatever the scan reads, the server's
 * http_parser path (its own callbacks, http_parse_settings) reads the same
 * way: the same request (method, path, query, headers in order, body,
 * keep-alive), the same bytes used, the same refusal (413 over the body
 * limit, 503 over max_buffered); what it must leave to http_parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/http_conn.h"
#include "dvcbot/http_req_scan.h"

#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uv_loop_t loop;
static struct http_server srv;
static struct http_conn conn;

enum outcome { MORE, READ, REFUSED };

struct result {
    enum outcome outcome;
    size_t used;
    int status;
    struct http_request *req;
};

static size_t small_limit(const struct http_request *req, void *ud)
{
    (void)ud;
    return strncmp(req->path, "/small", 6) == 0 ? 8 : HTTP_MAX_BODY;
}

/* Three servers: default limits; /small takes 8 body bytes; 40 body bytes
 * held at most, 30 held already. */
static void configure(int k)
{
    srv.opts.body_limit = k == 1 ? small_limit : NULL;
    srv.opts.max_buffered = k == 2 ? 40 : 0;
    srv.buffered = k == 2 ? 30 : 0;
}

static void conn_reset(void)
{
    http_request_free(conn.cur);
    conn.cur = NULL;
    http_parser_init(&conn.parser, HTTP_REQUEST);
    conn.parser.data = &conn;
    conn.parser_idle = true;
    conn.reject_status = 0;
}

/* What conn_parse's http_parser path makes of data (one execute). */
static void by_parser(const char *data, size_t n, struct result *r)
{
    conn_reset();
    memset(r, 0, sizeof *r);
    size_t k = http_parser_execute(&conn.parser, http_parse_settings(), data, n);
    enum http_errno err = HTTP_PARSER_ERRNO(&conn.parser);
    if (err == HPE_PAUSED) {
        r->outcome = READ;
        r->used = k;
        r->req = conn.cur;
        conn.cur = NULL;
    } else if (err != HPE_OK || k != n) {
        r->outcome = REFUSED;
        r->status = conn.reject_status ? conn.reject_status : err == HPE_HEADER_OVERFLOW ? 431 : 400;
    }
    http_request_free(conn.cur);
    conn.cur = NULL;
}

/* What http_parse_plain makes of it; false when it leaves it to the parser. */
static bool by_scan(const char *data, size_t n, struct result *r)
{
    conn_reset();
    memset(r, 0, sizeof *r);
    enum http_plain p = http_parse_plain(&conn, data, n, &r->used);
    if (p == HTTP_PLAIN_NO) {
        assert_null(conn.cur);
        return false;
    }
    r->outcome = p == HTTP_PLAIN_READ ? READ : REFUSED;
    r->status = conn.reject_status;
    r->req = p == HTTP_PLAIN_READ ? conn.cur : NULL;
    if (p == HTTP_PLAIN_READ)
        conn.cur = NULL;
    return true;
}

static void same_request(const struct http_request *a, const struct http_request *b)
{
    assert_int_equal(a->method, b->method);
    assert_string_equal(a->method_name, b->method_name);
    assert_string_equal(a->path, b->path);
    assert_string_equal(a->query, b->query);
    assert_int_equal(a->n_headers, b->n_headers);
    for (size_t i = 0; i < a->n_headers; i++) {
        assert_string_equal(a->headers[i].name, b->headers[i].name);
        assert_string_equal(a->headers[i].value, b->headers[i].value);
    }
    assert_int_equal(a->body.len, b->body.len);
    if (a->body.len)
        assert_memory_equal(a->body.data, b->body.data, a->body.len);
    assert_int_equal(a->keep_alive, b->keep_alive);
    assert_int_equal(a->held, b->held);
    assert_string_equal(a->remote_addr, b->remote_addr);
    assert_string_equal(a->route, b->route);
}

static size_t accepted, refused;

/* If the scan takes data, the parser path must read it the same way, under
 * each of the three servers. */
static void check(const char *data, size_t n)
{
    for (int k = 0; k < 3; k++) {
        configure(k);
        struct result s, p;
        if (!by_scan(data, n, &s))
            continue;
        /* the parser path meets the server as the scan did */
        size_t held = s.req ? s.req->held : 0;
        srv.buffered -= held;
        by_parser(data, n, &p);
        srv.buffered += held;
        if (p.outcome != s.outcome)
            fail_msg("server %d: scan %d, parser %d (status %d) on: %.*s", k, s.outcome, p.outcome, p.status,
                     (int)n, data);
        assert_int_equal(srv.buffered, (k == 2 ? 30 : 0) + held + (p.req ? p.req->held : 0));
        if (s.outcome == READ) {
            accepted++;
            assert_int_equal(s.used, p.used);
            same_request(s.req, p.req);
        } else {
            refused++;
            assert_int_equal(s.status, p.status);
        }
        http_request_free(s.req);
        http_request_free(p.req);
        assert_int_equal(srv.buffered, k == 2 ? 30 : 0);
    }
}

static const char *const plain[] = {
    "POST /webhook/telegram HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: application/json\r\n"
    "X-Telegram-Bot-Api-Secret-Token: s3cr3t-T0k_en\r\nContent-Length: 46\r\n\r\n"
    "{\"update_id\":1,\"message\":{\"text\":\"xin ch\xc3\xa0o\"}}",
    "POST /webhook/telegram HTTP/1.1\r\nHost: bot.example.vn\r\nContent-Type: application/json\r\n"
    "Content-Length: 11\r\nConnection: keep-alive\r\nAccept-Encoding: gzip, deflate\r\n"
    "X-Forwarded-For: 203.0.113.7, 10.0.0.1\r\n\r\n{\"a\":[1,2]}",
    "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /api/x?a=1&b=%20#frag?x HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
    "HEAD / HTTP/1.0\r\n\r\n",
    ("DELETE /x?#? HTTP/1.1\r\nX-Empty:\r\nX-Tab:\ta\tb\t\r\nX-Sp:   v  \r\nContent-Length: 000\r\n"
     "CONNECTION: close\r\n\r\n"),
    "PUT /small?q HTTP/1.1\r\ncontent-length:9\r\n\r\n123456789",
    "POST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\nokGET /b HTTP/1.1\r\n\r\n",
    "OPTIONS /o HTTP/1.1\r\nA: 1\r\nA: 2\r\n\r\nPATCH /p HTTP/1.1\r\n",
    "PATCH /small HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 8\r\n\r\n12345678",
};

static void plain_requests_read_as_the_parser_path_reads_them(void **state)
{
    (void)state;
    static const struct {
        const char *method, *path, *query;
        size_t headers, body;
        bool keep;
    } want[] = {
        {"POST", "/webhook/telegram", "", 4, 46, true},  {"POST", "/webhook/telegram", "", 6, 11, true},
        {"GET", "/healthz", "", 1, 0, true},            {"GET", "/api/x", "a=1&b=%20", 1, 0, true},
        {"HEAD", "/", "", 0, 0, false},                 {"DELETE", "/x", "", 5, 0, false},
        {"PUT", "/small", "q", 1, 9, true},             {"POST", "/a", "", 1, 2, true},
        {"OPTIONS", "/o", "", 2, 0, true},              {"PATCH", "/small", "", 2, 8, true},
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        configure(0);
        struct result s;
        assert_true(by_scan(plain[i], strlen(plain[i]), &s));
        assert_int_equal(s.outcome, READ);
        assert_string_equal(s.req->method_name, want[i].method);
        assert_string_equal(s.req->path, want[i].path);
        assert_string_equal(s.req->query, want[i].query);
        assert_int_equal(s.req->n_headers, want[i].headers);
        assert_int_equal(s.req->body.len, want[i].body);
        assert_int_equal(s.req->keep_alive, want[i].keep);
        http_request_free(s.req);
        check(plain[i], strlen(plain[i]));
    }
    struct result s;
    configure(0);
    assert_true(by_scan(plain[5], strlen(plain[5]), &s));
    assert_string_equal(http_request_header(s.req, "x-tab"), "a\tb\t");
    assert_string_equal(http_request_header(s.req, "x-sp"), "v  ");
    assert_string_equal(http_request_header(s.req, "x-empty"), "");
    http_request_free(s.req);
    const char *pipelined = plain[7];
    assert_true(by_scan(pipelined, strlen(pipelined), &s));
    assert_int_equal(s.used, strchr(pipelined, 'G') - pipelined);
    http_request_free(s.req);
}

static void refusals_are_the_parser_paths(void **state)
{
    (void)state;
    struct result s;
    configure(1); /* /small takes 8 bytes */
    assert_true(by_scan(plain[6], strlen(plain[6]), &s));
    assert_int_equal(s.outcome, REFUSED);
    assert_int_equal(s.status, 413);
    configure(2); /* 30 of 40 held: 11 more are refused */
    assert_true(by_scan(plain[1], strlen(plain[1]), &s));
    assert_int_equal(s.outcome, REFUSED);
    assert_int_equal(s.status, 503);
    assert_int_equal(srv.buffered, 30);
    refused = 0;
    check(plain[6], strlen(plain[6]));
    check(plain[1], strlen(plain[1]));
    assert_int_equal(refused, 2);
}

/* Forms left to http_parser (some it reads, some it refuses). */
static void other_forms_are_left_to_http_parser(void **state)
{
    (void)state;
    static const char *const other[] = {
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nok", /* not all there yet */
        "POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
        "POST / HTTP/1.1\r\nContent-Length: 2 \r\n\r\nok",
        "POST / HTTP/1.1\r\nContent-Length: +2\r\n\r\nok",
        "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 1234567890\r\n\r\nok",
        "GET / HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nUpgrade: h2c\r\n\r\n",
        "GET / HTTP/1.1\r\nConnection: Upgrade\r\n\r\n",
        "GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
        "GET / HTTP/1.1\r\nProxy-Connection: close\r\n\r\n",
        "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok",
        "\r\nGET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\n\n",
        "GET / HTTP/1.1\r\nA: 1\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Name: 1\r\n\r\n",
        "GET / HTTP/1.1\r\nX : 1\r\n\r\n",
        "GET / HTTP/1.1\r\nX: caf\xc3\xa9\r\n\r\n",
        "GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n",
        "GET / HTTP/2.0\r\n\r\n",
        "GET / HTTP/1.2\r\n\r\n",
        "GET  / HTTP/1.1\r\n\r\n",
        "GET /  HTTP/1.1\r\n\r\n",
        "GET /\r\n\r\n",
        "GET http://example.vn/ HTTP/1.1\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\n\r\n",
        "CONNECT example.vn:443 HTTP/1.1\r\n\r\n",
        "PROPFIND / HTTP/1.1\r\n\r\n",
        "get / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\n\r", /* not all there yet */
    };
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        struct http_req_scan s;
        if (http_req_scan(other[i], strlen(other[i]), &s))
            fail_msg("scan read case %zu", i);
    }
    /* 65 headers; a head over HTTP_REQ_SCAN_MAX_HEAD */
    char big[HTTP_REQ_SCAN_MAX_HEAD + 64];
    int k = snprintf(big, sizeof big, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < HTTP_REQ_SCAN_MAX_HEADERS; i++)
        k += snprintf(big + k, sizeof big - (size_t)k, "H%d: %d\r\n", i, i);
    memcpy(big + k, "\r\n", 2);
    struct http_req_scan s;
    assert_true(http_req_scan(big, (size_t)k + 2, &s));
    check(big, (size_t)k + 2);
    k += snprintf(big + k, sizeof big - (size_t)k, "H: x\r\n\r\n");
    assert_false(http_req_scan(big, (size_t)k, &s));
    k = snprintf(big, sizeof big, "GET / HTTP/1.1\r\nX: ");
    size_t fill = HTTP_REQ_SCAN_MAX_HEAD - (size_t)k - 4;
    memset(big + k, 'a', fill);
    memcpy(big + k + fill, "\r\n\r\n", 4);
    assert_true(http_req_scan(big, (size_t)k + fill + 4, &s)); /* exactly the limit */
    check(big, (size_t)k + fill + 4);
    big[k] = 'b';
    memset(big + k + 1, 'a', fill);
    memcpy(big + k + 1 + fill, "\r\n\r\n", 4);
    assert_false(http_req_scan(big, (size_t)k + fill + 5, &s));
}

/* Mutations of the plain cases (a byte changed, dropped, doubled; cut
 * short): whenever the scan still takes them, the parser path agrees. */
static void mutations_read_as_the_parser_path_reads_them(void **state)
{
    (void)state;
    static const char alphabet[] = {'\r', '\n', ' ', ':', '\t', '0', '1', '2', '9', 'a', 'A', 'z', 'Z', '-',
                                    ',', '?', '#', '/', 'G', 'H', 'P', 0x7f, (char)0x80, (char)0xff, 0};
    unsigned seed = 12345;
    char m[1024];
    accepted = refused = 0;
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        size_t n = strlen(plain[i]);
        for (size_t cut = 0; cut <= n; cut++)
            check(plain[i], cut);
        for (size_t pos = 0; pos < n; pos++) {
            for (size_t a = 0; a < sizeof alphabet; a++) {
                memcpy(m, plain[i], n);
                m[pos] = alphabet[a];
                check(m, n);
            }
            memcpy(m, plain[i], pos);
            memcpy(m + pos, plain[i] + pos + 1, n - pos - 1);
            check(m, n - 1);
            memcpy(m, plain[i], pos + 1);
            memcpy(m + pos + 1, plain[i] + pos, n - pos);
            check(m, n + 1);
        }
        for (int r = 0; r < 12000; r++) {
            memcpy(m, plain[i], n);
            for (int k = 0; k < 3; k++) {
                seed = seed * 1103515245u + 12345u;
                m[(seed >> 8) % n] = alphabet[(seed >> 20) % sizeof alphabet];
            }
            check(m, n);
        }
    }
    assert_true(accepted > 10000); /* the comparison did take place */
    assert_true(refused > 100);
}

/* Each byte in a header name, a value (at several places of a word) and a
 * target: taken exactly when RFC 9110 / the plain form allow it, and then
 * read as the parser path reads it. */
static void every_byte_in_names_values_and_targets(void **state)
{
    (void)state;
    char m[128];
    struct http_req_scan s;
    for (int c = 0; c < 256; c++) {
        bool tchar = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
        int n = snprintf(m, sizeof m, "GET / HTTP/1.1\r\nA%cB: v\r\n\r\n", 'x');
        m[17] = (char)c;
        assert_int_equal(http_req_scan(m, (size_t)n, &s), tchar || c == ':'); /* "A:B: v" */
        check(m, (size_t)n);
        bool text = (c >= 0x20 && c < 0x7f) || c == '\t';
        for (int at = 0; at < 20; at++) {
            n = snprintf(m, sizeof m, "GET / HTTP/1.1\r\nX: 0123456789abcdefghij\r\n\r\n");
            m[19 + at] = (char)c;
            assert_int_equal(http_req_scan(m, (size_t)n, &s), text);
            check(m, (size_t)n);
            n = snprintf(m, sizeof m, "GET /0123456789abcdefghij HTTP/1.1\r\n\r\n");
            m[5 + at] = (char)c;
            assert_int_equal(http_req_scan(m, (size_t)n, &s), c > 0x20 && c < 0x7f);
            check(m, (size_t)n);
        }
    }
}

static int setup(void **state)
{
    (void)state;
    if (uv_loop_init(&loop) != 0 || uv_timer_init(&loop, &conn.timer) != 0)
        return -1;
    srv.loop = &loop;
    srv.opts.timeout_ms = 10000;
    conn.srv = &srv;
    strcpy(conn.peer, "192.0.2.1");
    http_parser_set_max_header_size(HTTP_MAX_HEADER);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    http_request_free(conn.cur);
    buf_free(&conn.url);
    buf_free(&conn.hfield);
    buf_free(&conn.hvalue);
    buf_free(&conn.hstore);
    uv_close((uv_handle_t *)&conn.timer, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    return uv_loop_close(&loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_requests_read_as_the_parser_path_reads_them),
        cmocka_unit_test(refusals_are_the_parser_paths),
        cmocka_unit_test(other_forms_are_left_to_http_parser),
        cmocka_unit_test(mutations_read_as_the_parser_path_reads_them),
        cmocka_unit_test(every_byte_in_names_values_and_targets),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
