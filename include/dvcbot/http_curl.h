/* http_curl — outbound HTTP on the libuv loop through libcurl's multi-socket
 * API: every https:// request of http_client.c, and http:// ones when
 * DVCBOT_HTTP_CLIENT=curl.
 *
 * One multi handle per engine: its connection cache gives keep-alive to the
 * Telegram/Zalo APIs. Easy handles are kept and reused, configured, by the
 * next requests. Follows curl's multi-uv.c: one non-repeating uv timer, one
 * uv_poll per socket. Nothing blocks.
 *
 * The contract is http_client.h's: http_curl_request copies what it needs,
 * returns 0 and later calls cb exactly once (also on error and on
 * http_curl_close, with status 0 and an error text), or returns a negative
 * HTTP_CLIENT_E* and never calls cb. After http_curl_close no callback fires
 * any more; the engine frees itself once its handles are closed (run the
 * loop). A callback may start requests or close the engine.
 *
 * libcurl's process-wide curl_global_init is done once, by the first
 * http_curl_new; http_curl_global_cleanup undoes it. */
#ifndef DVCBOT_HTTP_CURL_H
#define DVCBOT_HTTP_CURL_H

#include "dvcbot/http_client.h"

#include <stddef.h>
#include <uv.h>

struct http_curl;

/* NULL only when libcurl cannot be initialised. */
struct http_curl *http_curl_new(uv_loop_t *loop);
int http_curl_request(struct http_curl *c, const struct http_client_request *req, http_client_cb cb,
                      void *ud);
size_t http_curl_pending(const struct http_curl *c);
/* Cancels every request in flight ("cancelled", inside this call), then
 * releases the engine. A second call, or one from a callback, does nothing. */
void http_curl_close(struct http_curl *c);
/* curl_global_cleanup, once every engine is freed. */
void http_curl_global_cleanup(void);

#endif
