/* http_req_scan — a whole, plain HTTP/1.x request read in one pass.
 *
 * The HTTP server (http_server.c) hands what it reads to http_parser, which
 * walks the bytes one at a time through its state machine and calls back
 * for every piece: ~7 500 instructions for a Telegram webhook of ~1 KiB,
 * most of them the headers' and the body's copies through the callbacks.
 * When a read holds one complete request in the plain form clients send,
 * http_req_scan reads it with memchr and a few compares instead
 * (http_parse_plain in http_parse.c builds the request from it).
 *
 * The plain form: a method of GET, POST, HEAD, PUT, DELETE, OPTIONS or
 * PATCH, one space, a target starting with '/' of printable ASCII without
 * spaces, one space, "HTTP/1.1" or "HTTP/1.0", CRLF; header lines
 * "Name:value" ending in CRLF, the name a token, then spaces or tabs
 * (skipped), the value printable ASCII or tabs (trailing ones kept, as
 * http_parser keeps them); at most HTTP_REQ_SCAN_MAX_HEADERS of them; at
 * most one Content-Length, 1 to 9 digits (none: no body); Connection, if
 * there, exactly "keep-alive" or "close" (any case); no Transfer-Encoding,
 * Upgrade, Proxy-Connection or Expect; at most HTTP_REQ_SCAN_MAX_HEAD bytes
 * up to and with the empty line; then the whole body. What follows the body
 * (a pipelined request) is not looked at: `used` says where it starts. On
 * anything else it answers false WITHOUT deciding, and the caller gives the
 * bytes to http_parser as before: whatever it accepts, http_parser reads the
 * same way (same method, target, headers, body, keep-alive and bytes used;
 * tests/unit/test_http_req_scan.c compares the two through the server's own
 * parser callbacks on fixed cases and mutations).
 *
 * Nothing is allocated: everything points into the data. */
#ifndef DVCBOT_HTTP_REQ_SCAN_H
#define DVCBOT_HTTP_REQ_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_REQ_SCAN_MAX_HEAD 8192
#define HTTP_REQ_SCAN_MAX_HEADERS 64

struct http_req_scan_header {
    uint16_t name, name_len;   /* offsets into the data */
    uint16_t value, value_len;
};

struct http_req_scan {
    int method;               /* enum http_method of http_parser.h */
    const char *url;          /* into the data */
    size_t url_len;
    bool keep_alive;          /* what http_should_keep_alive says */
    bool have_length;         /* a Content-Length was sent */
    size_t n_headers;
    struct http_req_scan_header headers[HTTP_REQ_SCAN_MAX_HEADERS];
    size_t names_values;      /* the names' and values' bytes, summed */
    const char *body;         /* into the data */
    size_t body_len;
    size_t used;              /* bytes of this request; data + used is the next one's */
};

/* True when data[0..n) starts with one complete request of the plain form
 * (out filled); false, deciding nothing, otherwise. */
bool http_req_scan(const char *data, size_t n, struct http_req_scan *out);

#endif
