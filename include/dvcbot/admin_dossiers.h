/* admin_dossiers — POST /admin/dossiers: staff systems upsert dossiers.
 *
 * Body: a JSON array or NDJSON of dossier records (see dossier.h), or CSV
 * with a header row when Content-Type is text/csv; up to
 * ADMIN_DOSSIERS_MAX_BODY for an authenticated request (app.c's body-limit
 * hook), Bearer token from ADMIN_TOKENS (401/403 otherwise) or a console
 * session (admin_auth.h): a session limited to a commune stores only that
 * commune's records and reports the others as errors, and never rewrites a
 * stored dossier of another commune or of none ("belongs to another
 * commune", "stored without a commune": the check is in the upsert script,
 * so it holds against concurrent uploads). Valid records
 * are stored, invalid ones reported one by one; the answer is
 *   {"received":N,"stored":N,"created":N,"updated":N,"unchanged":N,
 *    "invalid":N,"failed":N,"errors":[{"line":L,"record":I,"code":"...",
 *    "field":"status","reason":"..."}],"errors_omitted":N}
 * with status 200, or 503 (same body plus "error") when Redis went away
 * part-way: what was answered before is stored, re-sending is harmless.
 *
 * The loop is never held for long: ADMIN_DOSSIERS_SLICE records are parsed
 * per loop turn and their upserts pipelined (FCALL dossier_upsert);
 * while Redis works through at most ADMIN_DOSSIERS_WINDOW of them, the next
 * slice is parsed. A dossier whose status changed wakes the notifier.
 *
 * Lifetime: a request in progress keeps the module alive; admin_dossiers_free
 * may be called with batches in flight (they end with 503). */
#ifndef DVCBOT_ADMIN_DOSSIERS_H
#define DVCBOT_ADMIN_DOSSIERS_H

#include "dvcbot/catalog.h"
#include "dvcbot/config.h"
#include "dvcbot/http_server.h"
#include "dvcbot/notify.h"
#include "dvcbot/store.h"

#include <uv.h>

#define ADMIN_DOSSIERS_MAX_BODY ((size_t)256 * 1024 * 1024)
#define ADMIN_DOSSIERS_SLICE 1000      /* records parsed per loop turn */
#define ADMIN_DOSSIERS_WINDOW 2000     /* upserts in flight at most */
#define ADMIN_DOSSIERS_MAX_ERRORS 1000

struct admin_dossiers;

struct admin_dossiers_deps {
    uv_loop_t *loop;
    const struct config *cfg;
    struct store *store;
    const struct catalog *catalog;
    struct notify *notify;   /* may be NULL */
};

struct admin_dossiers *admin_dossiers_new(const struct admin_dossiers_deps *deps);
void admin_dossiers_free(struct admin_dossiers *ad);
void admin_dossiers_handle(struct http_request *req, void *ud);

#endif
