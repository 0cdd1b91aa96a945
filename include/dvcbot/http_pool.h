/* http_pool — the own HTTP/1.1 keep-alive client for http:// URLs, behind
 * http_client.h (which sends https:// to libcurl, http_curl.h).
 *
 * Per host:port a pool of at most HTTP_CLIENT_MAX_HOST_CONNECTIONS
 * connections (http_plain.h); more requests wait in line (first come, first
 * served). A connection that finished an exchange and may stay open is kept
 * for the next request (at most HTTP_CLIENT_MAX_IDLE_CONNECTIONS idle ones
 * in all, none idle longer than HTTP_POOL_IDLE_MAX_MS). Names are looked
 * up with uv_getaddrinfo, off the loop, and the addresses kept
 * HTTP_POOL_NAME_TTL_MS; a numeric host needs no lookup.
 *
 * The keep-alive race (a server closes an idle connection as we reuse it):
 * before a kept connection takes a request, one non-blocking peek tells
 * whether the server already closed it, and it is then replaced by a new
 * one. A request none of whose bytes went out goes once more on a new
 * connection. When a kept connection closes before any response byte but
 * after the request went out, the server may have acted on it: a GET goes
 * once more on a new connection, a POST fails ("Empty reply from server")
 * and its sender decides (RFC 9110 9.2.2: no automatic retry of a
 * non-idempotent request unless it was never applied; Go's net/http does
 * the same; curl 7.88 sends any method again, up to 5 times). dvcbot's
 * outbox retries such a failure with backoff, counted and logged.
 *
 * The contract is http_client.h's: http_pool_request copies what it needs
 * (the request is written out at once), returns 0 and later calls cb exactly
 * once (also on error, timeout and http_pool_close, with status 0 and an
 * error text), or returns a negative HTTP_CLIENT_E* and never calls cb. cb
 * never runs inside http_pool_request. The response is valid only during
 * cb; cb may start requests or close the pool. After http_pool_close
 * nothing fires any more (every request's cb ran inside it); the pool frees
 * itself, its hosts and their connections once its handles (request
 * timers, connections, lookups) are closed: run the loop. Hosts are kept
 * until then (one per host:port ever asked: a handful of API bases). */
#ifndef DVCBOT_HTTP_POOL_H
#define DVCBOT_HTTP_POOL_H

#include "dvcbot/http_client.h"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define HTTP_POOL_NAME_TTL_MS 60000  /* how long looked-up addresses serve new connections */
#define HTTP_POOL_MAX_ADDRS 8        /* addresses of one name tried in turn */
#define HTTP_POOL_SPARE_WIRES 4      /* finished requests' buffers kept for the next ones */
#define HTTP_POOL_SPARE_WIRE_MAX (64u * 1024) /* a bigger buffer goes back to malloc */
#define HTTP_POOL_IDLE_MAX_MS 118000 /* an idle connection older than this is not reused (curl's
                                        CURLOPT_MAXAGE_CONN default) */

struct http_pool;

struct http_pool *http_pool_new(uv_loop_t *loop);
/* HTTP_CLIENT_EINVAL also for a URL that is not plain http:// (see
 * http_wire_url_split). */
int http_pool_request(struct http_pool *p, const struct http_client_request *req, http_client_cb cb,
                      void *ud);
size_t http_pool_pending(const struct http_pool *p);
/* How long an idle connection may wait for its next request
 * (HTTP_POOL_IDLE_MAX_MS unless set; tests set it short). */
void http_pool_set_idle_max(struct http_pool *p, uint64_t ms);
/* Cancels every request in flight ("cancelled", inside this call) and
 * closes every connection. A second call, or one from a callback, does
 * nothing. */
void http_pool_close(struct http_pool *p);

#endif
