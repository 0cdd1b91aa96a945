/* http_request — reading a request the server hands to a handler. See
 * include/dvcbot/http_request.h. */
#include "dvcbot/http_request.h"
#include "dvcbot/http_message.h"
#include "dvcbot/mem.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *http_request_header(const struct http_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

char *http_request_query_param(const struct http_request *req, const char *name)
{
    size_t nlen = strlen(name);
    for (const char *p = req->query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t plen = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', plen);
        size_t klen = eq ? (size_t)(eq - p) : plen;
        char *key = http_url_decode(p, klen);
        bool hit = strlen(key) == nlen && memcmp(key, name, nlen) == 0;
        free(key);
        if (hit)
            return eq ? http_url_decode(eq + 1, plen - klen - 1) : xstrdup("");
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}
