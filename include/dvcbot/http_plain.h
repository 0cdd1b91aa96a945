/* http_plain — one client HTTP/1.1 connection on libuv TCP, for the own
 * keep-alive client (http_pool.c owns every connection).
 *
 * It connects to one address (with a connect timeout), sends one request at
 * a time (no pipelining) and reads the response with http-parser:
 * Content-Length, chunked and close-delimited bodies, 1xx responses skipped,
 * bodies above HTTP_CLIENT_MAX_BODY refused. After a response it stays open
 * for the next request when the server allows keep-alive (HTTP/1.1 without
 * "Connection: close", or HTTP/1.0 with keep-alive) and nothing else came.
 *
 * The owner hears from it through struct http_plain_events, always from a
 * libuv callback, never inside an http_plain_* call:
 *   done  — the exchange ended. With reusable set the connection is idle
 *           (the owner may send the next request, even inside done); else
 *           it is already closing. The result, body and error text included,
 *           is valid only during done.
 *   gone  — an idle connection was closed by the server, or sent bytes
 *           nobody asked for; it is closing.
 *   freed — its handles are closed and its memory released: the last event,
 *           also after http_plain_close (which ends an exchange without done).
 * The connection never copies or frees the request bytes it sends: they
 * must stay valid until done or http_plain_close. Writes may raise SIGPIPE:
 * the process must ignore it (main.c does). */
#ifndef DVCBOT_HTTP_PLAIN_H
#define DVCBOT_HTTP_PLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

enum http_plain_outcome {
    HTTP_PLAIN_OK,             /* a whole response: status and body */
    HTTP_PLAIN_STALE,          /* a reused connection closed or reset before any response byte, after
                                  the request went out: the server may never have seen it (it closed
                                  the idle connection as we wrote) or may have acted on it and died;
                                  only an idempotent request may be sent again */
    HTTP_PLAIN_CONNECT_FAILED, /* no connection (refused, unreachable, connect timeout) */
    HTTP_PLAIN_FAILED,         /* anything else; error says what */
};

struct http_plain_result {
    enum http_plain_outcome outcome;
    long status;               /* HTTP_PLAIN_OK only */
    const char *body;          /* NUL-terminated, "" when none */
    size_t body_len;
    const char *error;         /* NULL for HTTP_PLAIN_OK */
    bool reusable;             /* the connection is idle and open */
};

struct http_plain_events {
    void (*done)(void *slot, const struct http_plain_result *res);
    void (*gone)(void *slot);
    void (*freed)(void *home);
};

struct http_plain_conn;

/* Starts connecting to addr; fails the exchange if not connected within
 * connect_timeout_ms. slot is passed to done and gone, home to freed.
 * Returns NULL (and *err, a libuv error) when the connection cannot even be
 * started; no event follows then. */
struct http_plain_conn *http_plain_open(uv_loop_t *loop, const struct sockaddr *addr,
                                        unsigned connect_timeout_ms, const struct http_plain_events *ev,
                                        void *slot, void *home, int *err);
/* Sends one request (while connecting: once connected). Only on a
 * connection without an exchange. 0, or a negative libuv error: the
 * request could not be written (no done follows; close the connection;
 * http_plain_sent_any says whether some of it went out first). */
int http_plain_send(struct http_plain_conn *c, const char *data, size_t len);
/* Whether an earlier exchange completed on this connection. */
bool http_plain_reused(const struct http_plain_conn *c);
/* Whether any byte of the current request was handed to the kernel. */
bool http_plain_sent_any(const struct http_plain_conn *c);
/* For an idle connection: false when the server has closed or reset it,
 * or sent bytes nobody asked for, and the loop has not read that yet (one
 * non-blocking peek at the socket, as curl checks a connection before
 * reusing it). The caller then closes it instead of sending on it. */
bool http_plain_idle_alive(const struct http_plain_conn *c);
/* Closes the connection now; only freed follows. */
void http_plain_close(struct http_plain_conn *c);

#endif
