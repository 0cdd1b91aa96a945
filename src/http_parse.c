/* http_parse — the http-parser callbacks of the HTTP server: bytes of a
 * connection into a struct http_request (http_conn.h), with the limits on
 * headers, bodies and request smuggling. */
#include "dvcbot/http_conn.h"
#include "dvcbot/http_req_scan.h"
#include "dvcbot/mem.h"
#include "dvcbot/metrics.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Body bytes held at some point that make it worth giving memory back once
 * none are held any more. */
#define TRIM_AFTER (8u * 1024 * 1024)

/* ===== Requests ===== */

struct http_request *http_request_new(struct http_conn *c)
{
    struct http_request *req = xcalloc(1, sizeof *req);
    buf_init(&req->body);
    req->conn = c;
    req->server = c->srv;
    req->route = "unmatched";
    memcpy(req->remote_addr, c->peer, sizeof req->remote_addr);
    return req;
}

static void release_memory(struct http_server *srv)
{
    if (srv->buffered || srv->buffered_peak < TRIM_AFTER)
        return;
    srv->buffered_peak = 0;
#ifdef __GLIBC__
    malloc_trim(0); /* freed bodies go back to the system, not only to the heap */
#endif
}

void http_request_free(struct http_request *req)
{
    if (!req)
        return;
    if (req->held) {
        req->server->buffered -= req->held;
        release_memory(req->server);
    }
    free(req->header_store);
    free(req->path);
    free(req->query);
    buf_free(&req->body);
    if (req->auth && req->auth_free)
        req->auth_free(req->auth);
    free(req);
}

/* ===== Parser callbacks ===== */

static struct http_conn *conn_of(http_parser *p)
{
    return p->data;
}

static int refuse(struct http_conn *c, int status)
{
    c->reject_status = status;
    return -1;
}

static int on_message_begin(http_parser *p)
{
    struct http_conn *c = conn_of(p);
    http_request_free(c->cur);
    c->cur = http_request_new(c);
    buf_reset(&c->url);
    buf_reset(&c->hfield);
    buf_reset(&c->hvalue);
    buf_reset(&c->hstore);
    c->n_hdr = 0;
    c->in_value = false;
    c->te_count = c->cl_count = 0;
    c->reject_status = 0;
    c->parser_idle = false;
    /* A started request must be complete in timeout_ms, however it trickles. */
    if (uv_timer_start(&c->timer, http_conn_timeout, c->srv->opts.timeout_ms, 0) != 0)
        return refuse(c, 500);
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    buf_append(&conn_of(p)->url, at, len);
    return 0;
}

static int finish_header(struct http_conn *c)
{
    if (!c->in_value)
        return 0;
    if (c->n_hdr >= HTTP_MAX_HEADERS)
        return refuse(c, 431);
    const char *name = buf_cstr(&c->hfield);
    if (strcasecmp(name, "transfer-encoding") == 0)
        c->te_count++;
    else if (strcasecmp(name, "content-length") == 0)
        c->cl_count++;
    c->hoff[c->n_hdr][0] = c->hstore.len;
    buf_append(&c->hstore, name, c->hfield.len + 1);
    c->hoff[c->n_hdr][1] = c->hstore.len;
    buf_append(&c->hstore, buf_cstr(&c->hvalue), c->hvalue.len + 1);
    c->n_hdr++;
    buf_reset(&c->hfield);
    buf_reset(&c->hvalue);
    c->in_value = false;
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    struct http_conn *c = conn_of(p);
    if (finish_header(c) != 0)
        return -1;
    buf_append(&c->hfield, at, len);
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    struct http_conn *c = conn_of(p);
    buf_append(&c->hvalue, at, len);
    c->in_value = true;
    return 0;
}

/* The request's block for n headers and text bytes of their names and
 * values; where the text goes. */
static char *headers_block(struct http_request *req, size_t n, size_t text)
{
    size_t array = n * sizeof *req->headers;
    req->header_store = xmalloc(array + text);
    req->headers = (struct http_header *)(void *)req->header_store;
    req->n_headers = n;
    return req->header_store + array;
}

/* The headers' names and values, in one block the request owns; until
 * then the request has none (a refused one keeps none). */
static void keep_headers(struct http_conn *c)
{
    struct http_request *req = c->cur;
    if (!c->n_hdr)
        return;
    char *text = headers_block(req, c->n_hdr, c->hstore.len);
    memcpy(text, c->hstore.data, c->hstore.len);
    for (size_t i = 0; i < req->n_headers; i++) {
        req->headers[i].name = text + c->hoff[i][0];
        req->headers[i].value = text + c->hoff[i][1];
    }
}

/* url[0..len) (no NUL in it) into the request's path and query. */
static int split_url(struct http_conn *c, const char *url, size_t len)
{
    if (len == 0 || url[0] != '/')
        return refuse(c, 400);
    size_t path_len = 0;
    while (path_len < len && url[path_len] != '?' && url[path_len] != '#')
        path_len++;
    c->cur->path = xstrndup(url, path_len);
    size_t q = path_len < len && url[path_len] == '?' ? path_len + 1 : len;
    const char *hash = memchr(url + q, '#', len - q);
    c->cur->query = xstrndup(url + q, hash ? (size_t)(hash - (url + q)) : len - q);
    return 0;
}

/* The body limit of the request whose headers are in; 413 when the
 * announced length is over it. */
static int check_length(struct http_conn *c, bool have_length, uint64_t length)
{
    const struct http_server_opts *o = &c->srv->opts;
    c->body_limit = o->body_limit ? o->body_limit(c->cur, o->body_limit_ud) : HTTP_MAX_BODY;
    if (have_length && length > c->body_limit)
        return refuse(c, 413);
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    struct http_conn *c = conn_of(p);
    if (finish_header(c) != 0)
        return -1;
    keep_headers(c);
    /* http-parser 2.9.4 lacks the upstream smuggling fixes: refuse both. */
    if (c->te_count > 1 || (c->te_count && c->cl_count) || c->cl_count > 1)
        return refuse(c, 400);
    if (p->upgrade)
        return refuse(c, 400);
    c->cur->method = p->method;
    c->cur->method_name = http_method_str((enum http_method)p->method);
    if (split_url(c, c->url.data ? c->url.data : "", c->url.len) != 0)
        return -1;
    return check_length(c, (p->flags & F_CONTENTLENGTH) != 0, p->content_length);
}

void http_count_refusal(const char *reason)
{
    char labels[48];
    snprintf(labels, sizeof labels, "reason=\"%s\"", reason);
    metrics_inc("dvcbot_http_refused_total", labels, 1);
}

/* Body bytes at[0..len) of the request being read, under the limits. */
static int take_body(struct http_conn *c, const char *at, size_t len)
{
    struct http_server *srv = c->srv;
    if (c->cur->body.len + len > c->body_limit)
        return refuse(c, 413);
    /* Bodies allowed past HTTP_MAX_BODY come from authenticated staff (body_limit). */
    bool stranger = c->body_limit <= HTTP_MAX_BODY;
    if (stranger && srv->opts.max_buffered && srv->buffered + len > srv->opts.max_buffered) {
        http_count_refusal("buffered");
        return refuse(c, 503);
    }
    buf_append(&c->cur->body, at, len);
    c->cur->held += len;
    srv->buffered += len;
    if (srv->buffered > srv->buffered_peak)
        srv->buffered_peak = srv->buffered;
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    return take_body(conn_of(p), at, len);
}

static int on_message_complete(http_parser *p)
{
    struct http_conn *c = conn_of(p);
    c->cur->keep_alive = http_should_keep_alive(p) != 0;
    /* http_parser waits for the next request only after a kept-alive one. */
    c->parser_idle = c->cur->keep_alive;
    /* One request at a time: the rest of a pipeline waits for this response. */
    http_parser_pause(p, 1);
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

const http_parser_settings *http_parse_settings(void)
{
    return &parser_settings;
}

/* ===== The plain form without http_parser ===== */

/* The scanned headers into the request's block, as keep_headers lays them. */
static void keep_scanned_headers(struct http_request *req, const char *data, const struct http_req_scan *s)
{
    if (!s->n_headers)
        return;
    char *text = headers_block(req, s->n_headers, s->names_values + 2 * s->n_headers);
    for (size_t i = 0; i < s->n_headers; i++) {
        const struct http_req_scan_header *h = &s->headers[i];
        req->headers[i].name = text;
        memcpy(text, data + h->name, h->name_len);
        text += h->name_len;
        *text++ = '\0';
        req->headers[i].value = text;
        memcpy(text, data + h->value, h->value_len);
        text += h->value_len;
        *text++ = '\0';
    }
}

enum http_plain http_parse_plain(struct http_conn *c, const char *data, size_t n, size_t *used)
{
    struct http_req_scan s;
    if (!c->parser_idle || !http_req_scan(data, n, &s))
        return HTTP_PLAIN_NO;
    *used = s.used;
    http_request_free(c->cur);
    struct http_request *req = c->cur = http_request_new(c);
    c->reject_status = 0;
    keep_scanned_headers(req, data, &s);
    req->method = s.method;
    req->method_name = http_method_str((enum http_method)s.method);
    if (split_url(c, s.url, s.url_len) != 0 || check_length(c, s.have_length, s.body_len) != 0 ||
        (s.body_len && take_body(c, s.body, s.body_len) != 0))
        return HTTP_PLAIN_REFUSED;
    req->keep_alive = s.keep_alive;
    return HTTP_PLAIN_READ;
}
