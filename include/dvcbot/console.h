/* console — the staff console served at /admin: a browser page for commune
 * and province staff (broadcasts, dossiers, indicators, feedback and
 * complaints, volunteers, hand-offs, desk-side erasure), working on an intranet without
 * internet: no CDN, no build step, nothing fetched from elsewhere.
 *
 *   GET  /admin              the sign-in form, or the console when signed in
 *   POST /admin/login        token (form) → session cookie (console_session.h)
 *   POST /admin/logout       ends the session
 *   GET  /admin/static/<f>   console.js, console.css (templates/console/)
 *   *    /admin/ui/...       the page's JSON calls: a valid session is
 *                            required (401 otherwise) and every POST must
 *                            carry the session's CSRF token in X-CSRF-Token
 *                            (403 otherwise); the session's principal is then
 *                            set on the request (admin_auth.h) and the call
 *                            routed to its section (console_*.c).
 *
 * A session limited to a commune sees and sends for that commune only; each
 * section applies it. Page texts live in templates/console/ (Vietnamese),
 * loaded at start (a missing file stops the start with its name).
 *
 * Ownership: struct console borrows the services in its deps and owns its
 * sections and pages; free it after store_close (its Redis callbacks have
 * then all been called). */
#ifndef DVCBOT_CONSOLE_H
#define DVCBOT_CONSOLE_H

#include "dvcbot/catalog.h"
#include "dvcbot/config.h"
#include "dvcbot/http_server.h"
#include "dvcbot/outbox.h"
#include "dvcbot/router.h"
#include "dvcbot/store.h"

#include <stdbool.h>
#include <uv.h>

struct broadcast_api;
struct admin_dossiers;
struct console;

struct notify;
struct dialog;
struct commune_list;

struct console_deps {
    uv_loop_t *loop;
    const struct config *cfg;
    struct store *store;
    const struct catalog *catalog;
    struct outbox *outbox;                 /* which channels can send */
    struct broadcast_api *broadcasts;      /* POST /admin/broadcasts and items */
    struct admin_dossiers *dossiers;       /* POST /admin/dossiers */
    struct notify *notify;                 /* tells users (payment settled); NULL: nobody is */
    const struct commune_list *communes;   /* the 2025 list; NULL or empty: any name */
    struct dialog *dialog;                 /* a desk-side erasure is the user's own message */
};

/* Returns NULL with a message in *err (caller frees) when a page template
 * cannot be read. */
struct console *console_new(const struct console_deps *deps, char **err);
void console_free(struct console *con);

/* Adds /admin, /admin/login, /admin/logout, /admin/static/ and /admin/ui/. */
void console_add_routes(struct console *con, struct router *r);

/* For the body-size hook: the request carries a console cookie this
 * deployment signed (checked again against Redis by the handler). */
bool console_request_signed(const struct console *con, const struct http_request *req);

#endif
