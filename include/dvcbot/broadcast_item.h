/* broadcast_item — one broadcast after it was created:
 *
 *   GET  /admin/broadcasts/{id}            status, counts, the first
 *                                          BROADCAST_FAILURES_SHOWN failure reasons
 *   POST /admin/broadcasts/{id}/cancel     stop sending: 200, 404 when unknown,
 *                                          409 when it is already over
 *
 * broadcast.c routes the prefix /admin/broadcasts/ here after checking the
 * bearer token. Each request owns its small state and answers exactly once
 * (503 when Redis is unavailable); nothing is kept between requests. The
 * store is borrowed. */
#ifndef DVCBOT_BROADCAST_ITEM_H
#define DVCBOT_BROADCAST_ITEM_H

#include "dvcbot/http_server.h"
#include "dvcbot/store.h"

#define BROADCAST_FAILURES_SHOWN 100

/* Answers req (path under /admin/broadcasts/) from store. */
void broadcast_item_handle(struct http_request *req, struct store *store);

#endif
