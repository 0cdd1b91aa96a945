/* fuzz_http — bytes from a client through the HTTP server's real parsing
 * path: http-parser callbacks, header and body limits, the smuggling
 * checks, pipelining and keep-alive, refusals, responses.
 *
 * The input is what one client sends on one connection. The handler reads
 * the request back (headers, query parameters, body) and answers: at once,
 * or on the next loop turn for paths under /later (a request in flight while
 * the client goes on sending, or goes away). Paths under /small get a
 * 64-byte body limit, /big more than HTTP_MAX_BODY (as staff uploads do);
 * more than 8 KiB of bodies held at once is refused (503).
 *
 * A request of the plain form that a read holds whole is read by
 * http_req_scan, not http_parser (http_parse_plain): the inputs take both
 * paths, the first request often the scan's.
 *
 * Properties: every answer is a well-formed HTTP/1.1 status line with a
 * Content-Length that matches its body; a connection is answered at most
 * once per request it carried; when http_req_scan reads the input's first
 * request, a bare http_parser reads the same method, target, headers, body,
 * keep-alive and length. */
#include "fuzz.h"
#include "dvcbot/http_req_scan.h"
#include "dvcbot/mem.h"

#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct fuzz_http fh;
static size_t requests; /* handed to the handler during one input */

struct later {
    uv_timer_t timer;
    struct http_request *req;
};

static void answer(struct http_request *req)
{
    struct buf body;
    buf_init(&body);
    const char *host = http_request_header(req, "Host");
    const char *ctype = http_request_header(req, "content-type");
    char *a = http_request_query_param(req, "a");
    char *code = http_request_query_param(req, "code");
    buf_printf(&body, "%s %s ?%s host=%s ctype=%s a=%s code=%s headers=%zu body=%zu keep=%d",
               req->method_name, req->path, req->query, host ? host : "-", ctype ? ctype : "-",
               a ? a : "-", code ? code : "-", req->n_headers, req->body.len, req->keep_alive);
    free(a);
    free(code);
    if (strcmp(req->path, "/none") == 0)
        http_respond(req, 204, NULL, NULL, 0, NULL);
    else if (strncmp(req->path, "/err", 4) == 0)
        http_respond_error(req, 422, buf_cstr(&body));
    else
        http_respond(req, 200, "text/plain", body.data, body.len, "Cache-Control: no-store\r\n");
    buf_free(&body);
}

static void later_closed(uv_handle_t *h)
{
    free(h->data);
}

static void later_fire(uv_timer_t *t)
{
    struct later *l = t->data;
    answer(l->req);
    uv_close((uv_handle_t *)&l->timer, later_closed);
}

static void handler(struct http_request *req, void *ud)
{
    (void)ud;
    requests++;
    if (strncmp(req->path, "/later", 6) != 0) {
        answer(req);
        return;
    }
    struct later *l = xcalloc(1, sizeof *l);
    l->req = req;
    if (uv_timer_init(&fh.loop, &l->timer) != 0)
        fuzz_fail("uv_timer_init");
    l->timer.data = l;
    if (uv_timer_start(&l->timer, later_fire, 0, 0) != 0)
        fuzz_fail("uv_timer_start");
}

static size_t body_limit(const struct http_request *req, void *ud)
{
    (void)ud;
    if (strncmp(req->path, "/small", 6) == 0)
        return 64;
    if (strncmp(req->path, "/big", 4) == 0)
        return 2 * HTTP_MAX_BODY;
    return HTTP_MAX_BODY;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup();
    struct http_server_opts opts = {
        .timeout_ms = 2000, .idle_ms = 2000, .handler = handler, .body_limit = body_limit,
        .max_buffered = 8192, /* bodies held at once past this get 503 (staff uploads do not) */
    };
    fuzz_http_start(&fh, &opts);
    return 0;
}

/* Checks the answers one after the other; returns how many there were. */
static size_t check_responses(const struct buf *r)
{
    size_t n = 0;
    if (r->len == 0)
        return 0;
    const char *p = r->data, *end = r->data + r->len;
    while (p < end) {
        int status;
        if ((size_t)(end - p) < 12 || memcmp(p, "HTTP/1.1 ", 9) != 0 ||
            sscanf(p + 9, "%3d", &status) != 1 || status < 100 || status > 599)
            fuzz_fail("response without a status line");
        const char *head_end = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
        if (!head_end)
            fuzz_fail("response head not terminated");
        size_t clen = 0;
        const char *cl = memmem(p, (size_t)(head_end - p), "\r\nContent-Length: ", 18);
        if (cl)
            clen = strtoul(cl + 18, NULL, 10);
        else if (status != 204 && status != 304)
            fuzz_fail("response without Content-Length");
        p = head_end + 4;
        if ((size_t)(end - p) < clen)
            fuzz_fail("response body shorter than its Content-Length");
        p += clen; /* HEAD answers carry none: a HEAD request only comes last here */
        n++;
    }
    return n;
}

/* A bare http_parser's reading of the first request, for the scan's. */
struct bare {
    struct buf url, text, body; /* text: "name\0value\0" per header */
    size_t headers;
    bool in_value, complete;
};

static int bare_url(http_parser *p, const char *at, size_t len)
{
    buf_append(&((struct bare *)p->data)->url, at, len);
    return 0;
}

static int bare_field(http_parser *p, const char *at, size_t len)
{
    struct bare *b = p->data;
    if (b->in_value) {
        buf_putc(&b->text, '\0');
        b->in_value = false;
        b->headers++;
    }
    buf_append(&b->text, at, len);
    return 0;
}

static int bare_value(http_parser *p, const char *at, size_t len)
{
    struct bare *b = p->data;
    if (!b->in_value)
        buf_putc(&b->text, '\0');
    b->in_value = true;
    buf_append(&b->text, at, len);
    return 0;
}

static int bare_body(http_parser *p, const char *at, size_t len)
{
    buf_append(&((struct bare *)p->data)->body, at, len);
    return 0;
}

static int bare_complete(http_parser *p)
{
    struct bare *b = p->data;
    if (b->in_value) {
        buf_putc(&b->text, '\0');
        b->headers++;
        b->in_value = false;
    }
    b->complete = true;
    http_parser_pause(p, 1);
    return 0;
}

static void check_scan(const uint8_t *data, size_t size)
{
    static const http_parser_settings settings = {
        .on_url = bare_url, .on_header_field = bare_field, .on_header_value = bare_value,
        .on_body = bare_body, .on_message_complete = bare_complete,
    };
    struct http_req_scan s;
    if (!http_req_scan((const char *)data, size, &s))
        return;
    struct bare b = {0};
    http_parser p;
    http_parser_init(&p, HTTP_REQUEST);
    p.data = &b;
    size_t used = http_parser_execute(&p, &settings, (const char *)data, size);
    if (!b.complete || used != s.used || (int)p.method != s.method || b.url.len != s.url_len ||
        memcmp(b.url.data, s.url, s.url_len) != 0 || b.headers != s.n_headers ||
        b.body.len != s.body_len || (s.body_len && memcmp(b.body.data, s.body, s.body_len) != 0) ||
        (http_should_keep_alive(&p) != 0) != s.keep_alive)
        fuzz_fail("http_req_scan read the request otherwise than http_parser");
    const char *t = b.text.data;
    for (size_t i = 0; i < s.n_headers; i++) {
        const struct http_req_scan_header *h = &s.headers[i];
        if (strlen(t) != h->name_len || memcmp(t, data + h->name, h->name_len) != 0)
            fuzz_fail("http_req_scan read a header name otherwise than http_parser");
        t += h->name_len + 1;
        if (strlen(t) != h->value_len || memcmp(t, data + h->value, h->value_len) != 0)
            fuzz_fail("http_req_scan read a header value otherwise than http_parser");
        t += h->value_len + 1;
    }
    buf_free(&b.url);
    buf_free(&b.text);
    buf_free(&b.body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_scan(data, size);
    struct buf response;
    buf_init(&response);
    requests = 0;
    fuzz_http_feed(&fh, data, size, &response);
    bool head = memmem(data, size, "HEAD", 4) != NULL;
    if (!head) {
        size_t answers = check_responses(&response);
        /* Each request handed over is answered; a refusal adds one answer. */
        if (answers < requests || answers > requests + 1)
            fuzz_fail("answers do not match the requests");
    }
    buf_free(&response);
    return 0;
}
