/* http_conn — what the HTTP server's two halves share (internal to
 * http_server.c and http_parse.c; nothing else includes it).
 *
 * http_server.c owns connections (struct http_conn: the socket, its timer,
 * the bytes read, the response writes) and the server (struct http_server:
 * the listener, the caps, the connection list). http_parse.c turns the
 * bytes of a connection into requests: the http-parser callbacks fill
 * c->cur, a struct http_request it creates and frees; a whole request of
 * the plain form is read without them (http_parse_plain).
 *
 * A request owns its path, query, body and one block holding every
 * header's name and value (header_store); http_request_free releases all
 * of it and gives the body's bytes back to the server's count. */
#ifndef DVCBOT_HTTP_CONN_H
#define DVCBOT_HTTP_CONN_H

#include "dvcbot/http_server.h"
#include "dvcbot/strmap.h"

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

struct http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    struct http_server_opts opts;
    char *host;
    struct http_conn *conns;   /* doubly linked list of open connections */
    size_t n_conns;            /* allocated connections, closing ones included */
    size_t n_requests;         /* requests handed to the handler, not yet answered */
    size_t n_admitted;         /* connections within the caps, not yet released */
    struct strmap per_addr;    /* address group → admitted connections (uintptr_t) */
    size_t buffered;           /* request body bytes held */
    size_t buffered_peak;      /* since memory was last given back */
    struct buf out;            /* a response being formatted (reused) */
    bool stopping;
    bool listener_closed;
    void (*done)(void *ud);
    void *done_ud;
};

struct http_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    http_parser parser;
    struct http_server *srv;
    struct http_conn *prev, *next;
    struct buf in;             /* bytes read, not yet parsed from in_off on */
    size_t in_off;
    struct http_request *cur;  /* being parsed */
    struct http_request *inflight; /* handed to the handler */
    struct buf hfield, hvalue, url;
    bool in_value;
    struct buf hstore;         /* "name\0value\0" of the headers parsed so far */
    size_t hoff[HTTP_MAX_HEADERS][2]; /* where each name and value starts in hstore */
    size_t n_hdr;              /* headers in hstore */
    char peer[48];             /* remote address, for http_request.remote_addr */
    char *group;               /* its limit group, when counted per address */
    bool admitted;             /* counted against the caps */
    int te_count, cl_count;
    int reject_status;         /* set by a parser callback that refuses the request */
    size_t body_limit;         /* of the request being parsed */
    bool parser_idle;          /* http_parser waits for a request's first byte */
    bool reading, processing, closing, close_after_write;
    bool discarding;           /* refused: read and drop the rest, then close */
    unsigned writes_pending;   /* responses queued, not yet written */
    uv_shutdown_t shutdown_req;
    int handles_open;
};

struct write_req {
    uv_write_t req;
    struct http_conn *conn;
    char *data;
    bool close_after;
};

/* The parser callbacks (http_parse.c). */
const http_parser_settings *http_parse_settings(void);

/* A request of the plain form (http_req_scan.h) read without http_parser,
 * when the parser waits for a request's first byte (parser_idle) and data
 * starts with one whole: HTTP_PLAIN_READ, the request in c->cur, complete
 * as on_message_complete leaves it; HTTP_PLAIN_REFUSED, refused as the
 * parser's callbacks refuse it (c->reject_status); *used, either way, the
 * request's bytes. HTTP_PLAIN_NO: nothing done, the bytes are the
 * parser's. The parser is not touched. */
enum http_plain { HTTP_PLAIN_NO, HTTP_PLAIN_READ, HTTP_PLAIN_REFUSED };
enum http_plain http_parse_plain(struct http_conn *c, const char *data, size_t n, size_t *used);

/* A new request read from c (remote address copied) / frees one (NULL is
 * fine), with what it holds. */
struct http_request *http_request_new(struct http_conn *c);
void http_request_free(struct http_request *req);

/* Counts a refused request or connection in dvcbot_http_refused_total. */
void http_count_refusal(const char *reason);

/* The connection timer's callback (http_server.c): a request that takes
 * too long, an idle keep-alive connection, a refused client's linger. */
void http_conn_timeout(uv_timer_t *t);

#endif
