/* broadcast — the staff API for broadcasts (reminders to a segment of users).
 *
 *   POST /admin/broadcasts                 create; 202 {"id", "recipients", "status"}
 *   POST /admin/broadcasts?dry_run=1       count only: 200 {"recipients": N, "dry_run": true};
 *                                          the same checks, nothing stored or sent
 *   GET  /admin/broadcasts/{id}            status, counts, failure reasons
 *   POST /admin/broadcasts/{id}/cancel     stop sending; 200, or 409 when over
 *
 * All need `Authorization: Bearer <token>` (admin_auth_check). POST checks
 * the body (broadcast_spec.h: 400) and that the segment's communes are in
 * the 2025 list (commune_check.h: 422 naming the nearest), then resolves
 * the segment before answering:
 * SCAN over u:{*} one page at a time (never blocking the loop or Redis),
 * one script reading each page's user records, matching users written in
 * batches of BROADCAST_BATCH to bc:<id>:b:<n> with one stream entry each
 * (user keys listed in refs:{<user key>}). The broadcast then becomes
 * "scheduled" in bc:active and broadcast_worker sends it. A segment matching
 * more than DVCBOT_BROADCAST_MAX_RECIPIENTS users (default 100 000) is
 * refused (422) and its partial data removed, its batches from the users'
 * refs:{} too. An Idempotency-Key header (1-200 printable ASCII) makes a
 * repeated POST with the same body, within 24 h, answer the same broadcast.
 *
 * Statuses: resolving → scheduled → running → done, or cancelled; "failed"
 * when resolving could not finish (Redis lost), with its data removed.
 *
 * Ownership: struct broadcast_api borrows everything it is given. A POST
 * being resolved owns its state and answers its request exactly once; the
 * store calls back every command (NULL on store_close), so free the api
 * after store_close. */
#ifndef DVCBOT_BROADCAST_H
#define DVCBOT_BROADCAST_H

#include "dvcbot/broadcast_worker.h"
#include "dvcbot/commune_list.h"
#include "dvcbot/config.h"
#include "dvcbot/http_server.h"
#include "dvcbot/outbox.h"
#include "dvcbot/store.h"

#define BROADCAST_BATCH 50
#define BROADCAST_SCAN_COUNT 500
#define BROADCAST_IDEM_TTL_S (24 * 3600)

struct broadcast_api;

/* communes: the 2025 list the segment's communes must be in (commune_check.h;
 * NULL or empty: any name). */
struct broadcast_api *broadcast_api_new(const struct config *cfg, const struct commune_list *communes,
                                        struct store *store, struct outbox *ob,
                                        struct broadcast_worker *worker);
void broadcast_api_free(struct broadcast_api *api);

/* POST /admin/broadcasts (ud = the api). */
void broadcast_handle_create(struct http_request *req, void *ud);
/* Prefix route /admin/broadcasts/: checks the token, then broadcast_item.h
 * answers GET {id} and POST {id}/cancel (ud = the api). */
void broadcast_handle_item(struct http_request *req, void *ud);

#endif
