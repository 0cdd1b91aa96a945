/* router — maps method + path to an HTTP handler.
 *
 * Routes are matched in the order added: an exact path, or a prefix when the
 * route says so. A path that matches no route gets 404, a known path with
 * another method 405. A GET route also takes HEAD (the response goes out
 * without its body). The router owns its table; handlers' ud stay the
 * caller's. */
#ifndef DVCBOT_ROUTER_H
#define DVCBOT_ROUTER_H

#include "dvcbot/http_server.h"

#include <stdbool.h>

struct router;

struct router *router_new(void);
void router_free(struct router *r);
/* method NULL = any method; label names the route in metrics. */
void router_add(struct router *r, const char *method, const char *path, bool prefix,
                const char *label, http_handler_fn fn, void *ud);
/* An http_handler_fn: ud is the router. */
void router_dispatch(struct http_request *req, void *ud);

#endif
