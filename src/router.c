/* router — method + path → handler. */
#include "dvcbot/router.h"
#include "dvcbot/mem.h"

#include <stdlib.h>
#include <string.h>

struct route {
    char *method;
    char *path;
    char *label;
    bool prefix;
    http_handler_fn fn;
    void *ud;
};

struct router {
    struct route *routes;
    size_t n;
};

struct router *router_new(void)
{
    return xcalloc(1, sizeof(struct router));
}

void router_free(struct router *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->routes[i].method);
        free(r->routes[i].path);
        free(r->routes[i].label);
    }
    free(r->routes);
    free(r);
}

void router_add(struct router *r, const char *method, const char *path, bool prefix,
                const char *label, http_handler_fn fn, void *ud)
{
    r->routes = xrealloc(r->routes, (r->n + 1) * sizeof *r->routes);
    struct route *rt = &r->routes[r->n++];
    rt->method = method ? xstrdup(method) : NULL;
    rt->path = xstrdup(path);
    rt->label = xstrdup(label);
    rt->prefix = prefix;
    rt->fn = fn;
    rt->ud = ud;
}

/* A GET route answers HEAD too (http_respond leaves the body out). */
static bool method_matches(const struct route *rt, const char *method)
{
    return !rt->method || strcmp(rt->method, method) == 0 ||
           (strcmp(rt->method, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

static bool path_matches(const struct route *rt, const char *path)
{
    if (!rt->prefix)
        return strcmp(rt->path, path) == 0;
    return strncmp(rt->path, path, strlen(rt->path)) == 0;
}

void router_dispatch(struct http_request *req, void *ud)
{
    struct router *r = ud;
    bool path_known = false;
    for (size_t i = 0; i < r->n; i++) {
        const struct route *rt = &r->routes[i];
        if (!path_matches(rt, req->path))
            continue;
        path_known = true;
        if (!method_matches(rt, req->method_name))
            continue;
        req->route = rt->label;
        rt->fn(req, rt->ud);
        return;
    }
    if (path_known)
        http_respond_error(req, 405, "method not allowed");
    else
        http_respond_error(req, 404, "not found");
}
