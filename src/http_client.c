/* http_client — sends each request to the engine for its URL: the own
 * keep-alive client (http_pool.c) for http://, libcurl (http_curl.c) for
 * https:// and for http:// through a proxy from the environment
 * (http_proxy_env.c). See include/dvcbot/http_client.h.
 *
 * Closing: both engines cancel their requests inside http_client_close and
 * free themselves later. The dispatcher goes in the close callback of a
 * handle it holds for that purpose only, as the curl-only client did: until
 * the loop runs, a late http_client_request still gets ECLOSED. */
#include "dvcbot/http_client.h"
#include "dvcbot/http_client_prep.h"
#include "dvcbot/http_curl.h"
#include "dvcbot/http_pool.h"
#include "dvcbot/http_proxy_env.h"
#include "dvcbot/http_wire.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"

#include <stdlib.h>

struct http_client {
    uv_timer_t lifetime;         /* never started: freed in its close callback */
    struct http_curl *curl;
    struct http_pool *pool;
    struct http_proxy_env proxy; /* read once, by http_client_new */
    bool http_by_curl;
    bool closing;
};

struct http_client *http_client_new(uv_loop_t *loop)
{
    struct http_curl *curl = http_curl_new(loop);
    if (!curl)
        return NULL;
    struct http_client *c = xcalloc(1, sizeof *c);
    int rc = uv_timer_init(loop, &c->lifetime);
    if (rc < 0) {
        log_fmt(LOG_ERROR, "uv timer init failed", "\"error\":%s", log_q(uv_strerror(rc)));
        http_curl_close(curl);
        free(c);
        return NULL;
    }
    c->lifetime.data = c;
    c->curl = curl;
    c->pool = http_pool_new(loop);
    http_proxy_env_read(&c->proxy);
    if (c->proxy.proxy_var)
        log_fmt(LOG_INFO, "http:// through libcurl where the proxy applies", "\"variable\":%s,\"no_proxy\":%s",
                log_q(c->proxy.proxy_var), log_q(c->proxy.no_proxy ? c->proxy.no_proxy : ""));
    return c;
}

static void on_lifetime_closed(uv_handle_t *h)
{
    struct http_client *c = h->data;
    http_proxy_env_free(&c->proxy);
    free(c);
}

/* Whether url goes on the own client: plain http://, unless curl is asked
 * for or a proxy from the environment applies to its host. */
static bool for_own_client(const struct http_client *c, const char *url)
{
    if (c->http_by_curl || !http_wire_url_is_plain(url))
        return false;
    if (!c->proxy.proxy_var)
        return true;
    struct http_wire_url u;
    return http_wire_url_split(url, &u) && !http_proxy_env_applies(&c->proxy, u.host);
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
    if (for_own_client(c, req->url))
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
    uv_close((uv_handle_t *)&c->lifetime, on_lifetime_closed);
}

void http_client_global_cleanup(void)
{
    http_curl_global_cleanup();
}
