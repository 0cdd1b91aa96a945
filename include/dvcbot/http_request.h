/* http_request — a request as http_server hands it to a handler, and
 * reading its headers and query parameters.
 *
 * The server owns each struct http_request and frees it inside http_respond
 * (http_server.h); what http_request_header returns points into it. The
 * readers here keep no state and call nothing back. */
#ifndef DVCBOT_HTTP_REQUEST_H
#define DVCBOT_HTTP_REQUEST_H

#include "dvcbot/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEADERS 64

struct http_server;
struct http_conn;

struct http_header {
    char *name;
    char *value;
};

struct http_request {
    int method;               /* enum http_method of http_parser.h */
    const char *method_name;  /* "GET", "POST", ... */
    char *path;               /* URL path, without the query */
    char *query;              /* raw query string without '?', "" when none */
    struct http_header *headers; /* n_headers of them, in header_store's block */
    size_t n_headers;
    struct buf body;          /* NUL-terminated */
    bool keep_alive;
    const char *route;        /* label for metrics, set by the router */
    uint64_t start_ns;        /* uv_hrtime() when the request was complete */
    char remote_addr[48];     /* the peer's IP address as text, "" when unknown */
    /* Set by an authentication layer in front of the handler (the staff
     * console's session check): who sent the request. Freed with auth_free
     * (when set) together with the request. */
    void *auth;
    void (*auth_free)(void *auth);
    struct http_conn *conn;   /* NULL once the client has gone */
    struct http_server *server;
    size_t held;              /* body bytes counted against max_buffered (the server's) */
    char *header_store;       /* the server's: the headers array, then every name and
                               * value, one block (a request small enough for malloc's
                               * fast bins: no 1 KiB array of 64 headers) */
};

/* Case-insensitive header lookup; NULL when absent. */
const char *http_request_header(const struct http_request *req, const char *name);
/* Value of one query parameter, URL-decoded into a new string (caller frees);
 * NULL when absent. */
char *http_request_query_param(const struct http_request *req, const char *name);

#endif
