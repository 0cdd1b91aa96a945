/* console_ui — what the sections of the staff console share.
 *
 * Each section (console_broadcasts.c, console_dossiers.c, ...) adds its JSON
 * calls to the inner router of /admin/ui/ with the shared struct console_ctx
 * as ud. By the time a section's handler runs, the session is valid, a POST
 * carried its CSRF token, and the principal is on the request:
 * console_scope(req) is "" for province staff or the one commune the
 * signed-in token is limited to, which the section must apply. */
#ifndef DVCBOT_CONSOLE_UI_H
#define DVCBOT_CONSOLE_UI_H

#include "dvcbot/console.h"
#include "dvcbot/router.h"

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

struct upload_texts;

#define CONSOLE_UI_PREFIX "/admin/ui/"
#define CONSOLE_USER_KEY_MAX 80 /* bytes of a user key ("tg:<id>") with its NUL */

struct console_sessions;

struct console_ctx {
    struct console_deps deps;
    struct console_sessions *sessions; /* borrowed: the client's address group (console_client_addr) */
    struct upload_texts *upload_texts; /* owned: sent with meta for the upload answer */
};

/* "" (whole province) or the commune of the signed-in token. */
const char *console_scope(const struct http_request *req);

/* Whether commune is the scope's commune (commune.h; always true for
 * scope ""). */
bool console_in_scope(const char *scope, const char *commune);

/* The user keys an array reply lists (ZRANGE, SMEMBERS), copied; a key that
 * is not a string or does not fit CONSOLE_USER_KEY_MAX is left out. Returns
 * the array (caller frees each key and the array) and their number in *n. */
char **console_user_keys(const redisReply *r, size_t *n);

/* Section routes (ud = ctx). */
void console_broadcasts_routes(struct router *ui, struct console_ctx *ctx);
void console_dossiers_routes(struct router *ui, struct console_ctx *ctx);
void console_indicators_routes(struct router *ui, struct console_ctx *ctx);
void console_feedback_routes(struct router *ui, struct console_ctx *ctx);
void console_handoffs_routes(struct router *ui, struct console_ctx *ctx);
void console_payments_routes(struct router *ui, struct console_ctx *ctx);
void console_volunteers_routes(struct router *ui, struct console_ctx *ctx);
void console_erase_routes(struct router *ui, struct console_ctx *ctx);

#endif
