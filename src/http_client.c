/* http_client — sends each request to the engine for its URL: the own
 * keep-alive client (http_pool.c) for http://, libcurl (http_curl.c) for
 * https://. See include/dvcbot/http_client.h.
 *
 * Closing: both engines cancel their requests inside http_client_close and
 * free themselves later; the dispatcher is freed at the end of the call
 * (a callback that runs inside it sees closing set and gets ECLOSED). */
#include "dvcbot/http_client.h"
#include "dvcbot/http_client_prep.h"
#include "dvcbot/http_curl.h"
#include "dvcbot/http_pool.h"
#include "dvcbot/http_wire.h"
#include "dvcbot/mem.h"

#include <stdlib.h>

struct http_client {
    struct http_curl *curl;
    struct http_pool *pool;
    bool http_by_curl;
    bool closing;
};

struct http_client *http_client_new(uv_loop_t *loop)
{
    struct http_curl *curl = http_curl_new(loop);
    if (!curl)
        return NULL;
    struct http_client *c = xcalloc(1, sizeof *c);
    c->curl = curl;
    c->pool = http_pool_new(loop);
    return c;
}

void http_client_http_by_curl(struct http_client *c, bool by_curl)
{
    c->http_by_curl = by_curl;
}

int http_client_request(struct http_client *c, const struct http_client_request *req,
                        http_client_cb cb, void *ud)
{
    if (c->closing)
        return HTTP_CLIENT_ECLOSED;
    if (!cb || !http_client_request_valid(req))
        return HTTP_CLIENT_EINVAL;
    if (!c->http_by_curl && http_wire_url_is_plain(req->url))
        return http_pool_request(c->pool, req, cb, ud);
    return http_curl_request(c->curl, req, cb, ud);
}

size_t http_client_pending(const struct http_client *c)
{
    return http_pool_pending(c->pool) + http_curl_pending(c->curl);
}

void http_client_close(struct http_client *c)
{
    if (!c || c->closing)
        return;
    c->closing = true;
    http_pool_close(c->pool);
    http_curl_close(c->curl);
    free(c);
}

void http_client_global_cleanup(void)
{
    http_curl_global_cleanup();
}
