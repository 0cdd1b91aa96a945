/* http_client — outbound HTTP on the libuv loop. Nothing blocks.
 *
 * A thin dispatcher over two engines: http:// URLs go to our own HTTP/1.1
 * keep-alive client (http_pool.h: libuv TCP + http-parser, a pool of
 * connections per host:port), https:// ones — and http:// ones with
 * credentials — to libcurl's multi-socket API (http_curl.h), since we have
 * no TLS of our own. http_client_http_by_curl sends http:// to curl too
 * (DVCBOT_HTTP_CLIENT=curl: the fallback, and a comparison for benchmarks),
 * and so does a forward proxy from the environment: http_client_new reads
 * http_proxy / all_proxy / no_proxy once (http_proxy_env.h, curl's rules)
 * and an http:// request whose host the proxy applies to goes to curl,
 * which connects through the proxy.
 *
 * http_client_request copies everything it needs from the request; it
 * returns 0 and later calls cb exactly once (also on error and on
 * http_client_close, with status 0 and an error text), or returns a negative
 * number and never calls cb. The response passed to cb is valid only during
 * the callback. After http_client_close no callback fires any more; the
 * client and its engines free themselves once their handles are closed (run
 * the loop); until then a late http_client_request gets HTTP_CLIENT_ECLOSED.
 *
 * A callback may start new requests on the same client, or close it.
 * Redirects are not followed; every HTTP status is delivered as such (the
 * caller decides what 4xx/5xx mean). Only http:// and https:// URLs. Each
 * host:port gets at most HTTP_CLIENT_MAX_HOST_CONNECTIONS connections per
 * engine. The process must ignore SIGPIPE (main.c does).
 *
 * libcurl's process-wide curl_global_init is done once, by the first
 * http_client_new; call that before starting other threads that use curl.
 * http_client_global_cleanup undoes it at exit (optional, for leak checkers). */
#ifndef DVCBOT_HTTP_CLIENT_H
#define DVCBOT_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#define HTTP_CLIENT_TIMEOUT_MS          10000  /* whole transfer, when the request says 0 */
#define HTTP_CLIENT_CONNECT_TIMEOUT_MS  5000   /* at most; never longer than the request's */
#define HTTP_CLIENT_MAX_BODY            (4u * 1024 * 1024)  /* larger responses fail */
#define HTTP_CLIENT_MAX_HOST_CONNECTIONS 16    /* more requests to one host wait in line */
#define HTTP_CLIENT_MAX_IDLE_CONNECTIONS 64    /* size of the keep-alive cache */
#define HTTP_CLIENT_MAX_IDLE_HANDLES 64        /* finished transfers kept, set up, for the next */
#define HTTP_CLIENT_HOST_MAX 256               /* a host longer than this is cut in logs */

/* Negative returns of http_client_request (cb is then never called). */
#define HTTP_CLIENT_ECLOSED (-1)  /* http_client_close was called */
#define HTTP_CLIENT_EINVAL  (-2)  /* no http(s) URL, unknown method, CR/LF in a header */
#define HTTP_CLIENT_ECURL   (-3)  /* libcurl (or libuv) refused to start the transfer */

struct http_client;

struct http_client_request {
    const char *method;          /* "GET" or "POST"; NULL: POST when body set, else GET */
    const char *url;
    const char *const *headers;  /* NULL-terminated "Name: value" lines, or NULL */
    const char *body;            /* may be NULL; GET takes none */
    size_t body_len;
    long timeout_ms;             /* whole transfer; 0 = HTTP_CLIENT_TIMEOUT_MS */
};

/* error is NULL when the exchange completed, whatever the status. Otherwise
 * it is curl's message (the own client's says the same things: "Operation
 * timed out after N milliseconds", "Failed to connect to HOST port N: ...",
 * "Empty reply from server"...), "response body too large" or "cancelled", status is
 * 0 and body "" — even if a status line had arrived before the failure. */
struct http_client_response {
    long status;                 /* HTTP status, 0 when no response */
    const char *body;            /* NUL-terminated, "" when none */
    size_t body_len;
    const char *error;           /* NULL on a completed exchange, else what went wrong */
    double total_ms;
};

typedef void (*http_client_cb)(const struct http_client_response *res, void *ud);

/* Returns NULL only when libcurl (or a libuv timer) cannot be initialised. */
struct http_client *http_client_new(uv_loop_t *loop);
int http_client_request(struct http_client *c, const struct http_client_request *req,
                        http_client_cb cb, void *ud);
/* true: http:// URLs go through curl too (DVCBOT_HTTP_CLIENT=curl); for
 * requests made afterwards. */
void http_client_http_by_curl(struct http_client *c, bool by_curl);
/* Number of requests in flight, both engines. */
size_t http_client_pending(const struct http_client *c);
/* Calls every in-flight request's cb with status 0 and error "cancelled"
 * (inside this call), then releases the client. A second call, or one from
 * inside such a callback, does nothing. */
void http_client_close(struct http_client *c);

/* curl_global_cleanup, once every client is freed; a later http_client_new
 * initialises libcurl again. */
void http_client_global_cleanup(void);

#endif
