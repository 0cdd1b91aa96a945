/* http_resp_scan: whatever it accepts, http_parser reads the same way (the
 * way http_plain used it: status, body, keep-alive, every byte used, the
 * response complete); what it must leave to http_parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/http_resp_scan.h"

#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parsed {
    bool complete;
    unsigned status;
    bool keep_alive;
    char body[4096];
    size_t body_len;
    bool overflow;
};

static int on_begin(http_parser *p)
{
    struct parsed *r = p->data;
    r->body_len = 0;
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct parsed *r = p->data;
    if (len > sizeof r->body - r->body_len) {
        r->overflow = true;
        return -1;
    }
    memcpy(r->body + r->body_len, at, len);
    r->body_len += len;
    return 0;
}

static int on_headers(http_parser *p)
{
    return p->status_code < 100 ? -1 : 0;
}

static int on_complete(http_parser *p)
{
    struct parsed *r = p->data;
    if (p->status_code >= 100 && p->status_code < 200 && p->status_code != 101) {
        r->body_len = 0;
        return 0;
    }
    r->complete = true;
    r->status = p->status_code;
    r->keep_alive = http_should_keep_alive(p) && p->status_code != 101;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_begin,
    .on_headers_complete = on_headers,
    .on_body = on_body,
    .on_message_complete = on_complete,
};

/* http_plain's reading of one read: complete, every byte used. */
static bool parser_reads_whole(const char *data, size_t n, struct parsed *r)
{
    memset(r, 0, sizeof *r);
    http_parser p;
    http_parser_init(&p, HTTP_RESPONSE);
    p.data = r;
    size_t used = http_parser_execute(&p, &settings, data, n);
    return r->complete && used == n && !r->overflow;
}

static size_t accepted;

/* If the scan accepts, http_parser must read the same. */
static void check(const char *data, size_t n)
{
    struct http_resp_scan s;
    if (!http_resp_scan(data, n, &s))
        return;
    accepted++;
    struct parsed r;
    if (!parser_reads_whole(data, n, &r))
        fail_msg("scan accepted what http_parser does not read whole: %.*s", (int)n, data);
    assert_int_equal(s.status, r.status);
    assert_int_equal(s.keep_alive, r.keep_alive);
    assert_int_equal(s.body_len, r.body_len);
    assert_memory_equal(s.body, r.body, s.body_len);
}

static const char *const plain[] = {
    "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Wed, 02 Dec 2026 22:30:00 GMT\r\n"
    "Content-Type: application/json\r\nContent-Length: 28\r\nConnection: keep-alive\r\n\r\n"
    "{\"ok\":true,\"result\":{\"a\":1}}",
    "HTTP/1.1 429 Too Many Requests\r\ncontent-length: 5\r\n\r\nslow!",
    "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: Keep-Alive\r\n\r\nok",
    "HTTP/1.0 200 OK\r\nContent-Length:2\r\n\r\nok",
    "HTTP/1.1 500 Internal Server Error\r\nCONNECTION: close\r\nContent-Length:   0\r\n\r\n",
    "HTTP/1.1 200 \r\nX-Empty:\r\nX-Tab:\ta\tb\r\nContent-Length: 1\r\n\r\nx",
};

static void plain_responses_read_as_http_parser_reads_them(void **state)
{
    (void)state;
    static const struct {
        unsigned status;
        bool keep;
        size_t body;
    } want[] = {{200, true, 28}, {429, true, 5}, {200, true, 2}, {200, false, 2}, {500, false, 0}, {200, true, 1}};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        struct http_resp_scan s;
        assert_true(http_resp_scan(plain[i], strlen(plain[i]), &s));
        assert_int_equal(s.status, want[i].status);
        assert_int_equal(s.keep_alive, want[i].keep);
        assert_int_equal(s.body_len, want[i].body);
        check(plain[i], strlen(plain[i]));
    }
}

/* Forms left to http_parser (some it reads, some it refuses). */
static void other_forms_are_left_to_http_parser(void **state)
{
    (void)state;
    static const char *const other[] = {
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" "HTTP/1.1 200 OK\r\n", /* extra bytes */
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok", /* not all there yet */
        "HTTP/1.1 200 OK\r\n\r\nbody until close",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 304 Not Modified\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 101 Switching\r\nUpgrade: x\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 200 OK\r\nContent-Length: 2 \r\n\r\nok",
        "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive, Upgrade\r\n\r\nok",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nProxy-Connection: close\r\n\r\nok",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nUpgrade: h2c\r\n\r\nok",
        "HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n folded\r\n\r\nok",
        "HTTP/1.1 200 OK\r\nBad Name: 1\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 200 OK\r\nX: caf\xc3\xa9\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 99 OK\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 600 OK\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 200 OK\r\nContent-Length: 1234567890\r\n\r\nok",
    };
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        struct http_resp_scan s;
        if (http_resp_scan(other[i], strlen(other[i]), &s))
            fail_msg("scan read case %zu", i);
    }
    char big[HTTP_RESP_SCAN_MAX_HEAD + 64];
    int k = snprintf(big, sizeof big, "HTTP/1.1 200 OK\r\nX: ");
    memset(big + k, 'a', HTTP_RESP_SCAN_MAX_HEAD);
    memcpy(big + k + HTTP_RESP_SCAN_MAX_HEAD, "\r\nContent-Length: 0\r\n\r\n", 23);
    struct http_resp_scan s;
    assert_false(http_resp_scan(big, (size_t)k + HTTP_RESP_SCAN_MAX_HEAD + 23, &s));
}

/* Mutations of the plain cases (a byte changed, dropped, doubled; cut
 * short): whenever the scan still accepts, http_parser agrees. */
static void mutations_read_as_http_parser_reads_them(void **state)
{
    (void)state;
    static const char alphabet[] = "\r\n :\t0129aAzZ-,\x7f\x80\xff";
    unsigned seed = 12345;
    char m[1024];
    accepted = 0;
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        size_t n = strlen(plain[i]);
        for (size_t cut = 0; cut <= n; cut++)
            check(plain[i], cut);
        for (size_t pos = 0; pos < n; pos++) {
            for (size_t a = 0; a < sizeof alphabet - 1; a++) {
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
        for (int r = 0; r < 20000; r++) {
            memcpy(m, plain[i], n);
            for (int k = 0; k < 3; k++) {
                seed = seed * 1103515245u + 12345u;
                m[(seed >> 8) % n] = alphabet[(seed >> 20) % (sizeof alphabet - 1)];
            }
            check(m, n);
        }
    }
    assert_true(accepted > 1000); /* the comparison did take place */
}

static void token_characters_are_rfc_9110s(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++) {
        bool want = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
        assert_int_equal(http_resp_scan_tchar((unsigned char)c), want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(token_characters_are_rfc_9110s),
        cmocka_unit_test(plain_responses_read_as_http_parser_reads_them),
        cmocka_unit_test(other_forms_are_left_to_http_parser),
        cmocka_unit_test(mutations_read_as_http_parser_reads_them),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
