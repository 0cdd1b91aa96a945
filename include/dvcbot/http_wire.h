/* http_wire — an outgoing request for the own HTTP/1.1 client (http_pool.c):
 * its http:// URL taken apart, and the request written out as the bytes
 * that go on the connection.
 *
 * No state, no callbacks; nothing is allocated except what http_wire_build
 * appends to the caller's buffer. */
#ifndef DVCBOT_HTTP_WIRE_H
#define DVCBOT_HTTP_WIRE_H

#include "dvcbot/buf.h"
#include "dvcbot/http_client.h"

#include <stdbool.h>
#include <stddef.h>

struct http_wire_url {
    char authority[HTTP_CLIENT_HOST_MAX + 8]; /* "host[:port]" as in the URL: the Host header, the pool key */
    char host[HTTP_CLIENT_HOST_MAX];          /* the name or address to connect to, IPv6 without [] */
    unsigned port;                            /* 80 when the URL has none */
    const char *target;                       /* path and query, inside the URL; "" means "/" */
    size_t target_len;                        /* up to a '#' */
};

/* Splits an http:// URL (scheme in any case). False for another scheme, a
 * URL with credentials (user@host), an empty or too long host, a bad port,
 * or a space or control character anywhere. */
bool http_wire_url_split(const char *url, struct http_wire_url *out);

/* True when the URL is http:// with no credentials: the own client's kind. */
bool http_wire_url_is_plain(const char *url);

/* Appends the request to out: request line, Host, User-Agent, Accept,
 * Content-Length and Content-Type for POST (curl's defaults, each left out
 * when the caller sends that header), the caller's lines ("Name:" with no
 * value only removes ours, as with curl), the blank line and the body.
 * The lines must have passed http_client_header_ok. */
void http_wire_build(struct buf *out, const struct http_wire_url *u, const struct http_client_request *req,
                     bool post);

#endif
