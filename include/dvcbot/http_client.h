/* http_client — outbound HTTP on the libuv loop through libcurl's multi-socket API.
 *
 * One multi handle per client: its connection cache gives keep-alive to the
 * Telegram/Zalo APIs. Follows curl's multi-uv.c: one non-repeating uv timer,
 * one uv_poll per socket. Nothing blocks.
 *
 * http_client_request copies everything it needs from the request; it
 * returns 0 and later calls cb exactly once (also on error and on
 * http_client_close, with status 0 and an error text), or returns a negative
 * number and never calls cb. The response passed to cb is valid only during
 * the callback. After http_client_close no callback fires any more; the
 * client frees itself once its handles are closed (run the loop). */
#ifndef DVCBOT_HTTP_CLIENT_H
#define DVCBOT_HTTP_CLIENT_H

#include <stddef.h>
#include <uv.h>

struct http_client;

struct http_client_request {
    const char *method;          /* "GET" or "POST" (default POST when body set) */
    const char *url;
    const char *const *headers;  /* NULL-terminated "Name: value" lines, or NULL */
    const char *body;            /* may be NULL */
    size_t body_len;
    long timeout_ms;             /* whole transfer; 0 = 10 s */
};

struct http_client_response {
    long status;                 /* HTTP status, 0 when no response */
    const char *body;            /* NUL-terminated, "" when none */
    size_t body_len;
    const char *error;           /* NULL on a completed exchange, else curl's message */
    double total_ms;
};

typedef void (*http_client_cb)(const struct http_client_response *res, void *ud);

struct http_client *http_client_new(uv_loop_t *loop);
int http_client_request(struct http_client *c, const struct http_client_request *req,
                        http_client_cb cb, void *ud);
/* Number of requests in flight. */
size_t http_client_pending(const struct http_client *c);
void http_client_close(struct http_client *c);

#endif
