/* http_server — inbound HTTP/1.1 on libuv with nodejs http-parser.
 *
 * Keep-alive and pipelining (the parser is paused after each message until
 * its response is written, so responses leave in request order), many
 * concurrent connections, header limit HTTP_MAX_HEADER (431), body limit
 * HTTP_MAX_BODY (413), malformed requests 400, slow clients dropped after
 * timeout_ms, idle keep-alive connections after idle_ms.
 * http-parser 2.9.4 lacks the upstream fixes against request smuggling: any
 * request carrying Content-Length together with Transfer-Encoding, or
 * Transfer-Encoding twice, is refused with 400 and the connection closed.
 *
 * Limits on what strangers can make it hold (all 0 = none): max_conns open
 * connections, max_conns_per_addr per client address (IPv6: per /64;
 * addresses in conn_limit_exempt, a netaddr.h list such as the reverse
 * proxy, are exempt) — a connection over either is closed as soon as it is
 * accepted; max_buffered bytes of request bodies held at once over all
 * connections — the request that would pass it gets 503 (requests given a
 * body limit above HTTP_MAX_BODY, authenticated staff uploads, are counted
 * but not refused). Read buffers are
 * small and let go when a connection is idle; after a spike of buffered
 * bodies the server gives the memory back (malloc_trim, see http_server.c).
 * Refusals count in dvcbot_http_refused_total{reason}.
 *
 * Ownership: the server owns each struct http_request. The handler must call
 * http_respond exactly once, now or later (after Redis, say); the request is
 * freed inside http_respond. If the client goes away first, the request stays
 * valid until http_respond, which then only frees it.
 *
 * The request's fields and readers are in http_request.h, the text of a
 * response in http_message.h; both are included here. */
#ifndef DVCBOT_HTTP_SERVER_H
#define DVCBOT_HTTP_SERVER_H

#include "dvcbot/buf.h"
#include "dvcbot/http_message.h"
#include "dvcbot/http_request.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define HTTP_MAX_HEADER (16 * 1024)
#define HTTP_MAX_BODY (1024 * 1024)

typedef void (*http_handler_fn)(struct http_request *req, void *ud);
/* Called after each response is queued: route label, status, handling time. */
typedef void (*http_observer_fn)(const char *route, int status, double seconds, void *ud);

struct http_server_opts {
    const char *host;
    int port;                 /* 0 picks a free port (see http_server_port) */
    unsigned timeout_ms;      /* a started request must be complete within this */
    unsigned idle_ms;         /* keep-alive idle limit */
    http_handler_fn handler;
    void *handler_ud;
    http_observer_fn observer; /* may be NULL */
    void *observer_ud;
    /* Body limit for one request, decided when its headers are in (NULL =
     * HTTP_MAX_BODY for all). Lets bulk staff endpoints accept more. */
    size_t (*body_limit)(const struct http_request *req, void *ud);
    void *body_limit_ud;
    unsigned max_conns;             /* open connections; 0 = no cap */
    unsigned max_conns_per_addr;    /* per client address; 0 = no cap */
    const char *conn_limit_exempt;  /* netaddr list exempt from the per-address cap */
    size_t max_buffered;            /* request body bytes held at once; 0 = no cap */
};

/* Binds and listens. Returns 0 or a negative libuv error (server not created). */
int http_server_start(uv_loop_t *loop, const struct http_server_opts *opts, struct http_server **out);
int http_server_port(const struct http_server *srv);
/* Stops accepting, closes idle connections, lets in-flight requests finish
 * (their connections close after the response), then calls done (may be
 * NULL) and frees the server. */
void http_server_stop(struct http_server *srv, void (*done)(void *ud), void *ud);
/* Connections currently open. */
size_t http_server_connections(const struct http_server *srv);
/* Serves fd, a connected stream socket (one end of a socketpair, say), as
 * if the listener had accepted it: the fuzzer (tests/fuzz/) drives the real
 * parsing path this way without TCP. fd is the server's from the call on,
 * closed with the connection, or at once when this fails. Not after
 * http_server_stop. Returns 0 or a negative libuv error. */
int http_server_adopt(struct http_server *srv, uv_os_sock_t fd);
/* Request body bytes held now. */
size_t http_server_buffered(const struct http_server *srv);

/* Sends the response and frees req. extra_headers: "Name: value\r\n" lines or NULL.
 * 204 and 304 go out without body or Content-Length; the answer to HEAD
 * without its body (Content-Length still says its size). */
void http_respond(struct http_request *req, int status, const char *content_type,
                  const char *body, size_t body_len, const char *extra_headers);
/* Shorthand: JSON body. */
void http_respond_json(struct http_request *req, int status, const char *json);
/* Shorthand: {"error":"<message>"} with the given status. */
void http_respond_error(struct http_request *req, int status, const char *message);

#endif
