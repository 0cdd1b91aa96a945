/* admin_api — the staff HTTP API over the domain modules, which know
 * nothing of HTTP:
 *   GET  /admin/stats        stats_report → the JSON document
 *   GET  /admin/volunteers   volunteers_list → {"volunteers": [user keys]}
 *   POST /admin/volunteers   {"add": [user keys], "remove": [...]} →
 *                            volunteers_change → {"added": n, "removed": n}
 * Every route needs a bearer token of ADMIN_TOKENS (401 without, 403 with a
 * wrong one); Redis unavailable → 503, a malformed body → 400.
 *
 * (The broadcast, dossier-upload and payment endpoints are still served by
 * their modules; they are to move here too.)
 *
 * The struct holds pointers only; admin_api_free after the HTTP server has
 * stopped and the store is closed (every pending callback has run). */
#ifndef DVCBOT_ADMIN_API_H
#define DVCBOT_ADMIN_API_H

#include "dvcbot/config.h"
#include "dvcbot/router.h"
#include "dvcbot/stats.h"
#include "dvcbot/volunteer.h"

struct admin_api;

struct admin_api_deps {
    const struct config *cfg;
    struct stats *stats;
    struct volunteers *volunteers;
};

/* Adds the routes to r. */
struct admin_api *admin_api_new(const struct admin_api_deps *deps, struct router *r);
void admin_api_free(struct admin_api *api);

#endif
