/* admin_auth — who may call the staff endpoints (/admin/...).
 *
 * Two ways in: `Authorization: Bearer <token>` with a token of ADMIN_TOKENS
 * (admin_tokens.h; one or more, comma-separated, so a token can be rotated),
 * compared in constant time; or a signed-in session of the staff console,
 * which its session check records on the request (req->auth, a struct
 * admin_principal) before handing it to the same handler. Tokens limited to
 * a commune ("token@commune") open console sessions only: the bearer API has
 * no notion of scope, so it refuses them. Without any token configured, every
 * staff request is refused. */
#ifndef DVCBOT_ADMIN_AUTH_H
#define DVCBOT_ADMIN_AUTH_H

#include "dvcbot/admin_tokens.h"
#include "dvcbot/http_server.h"

#include <stdbool.h>

/* A staff member signed in to the console. */
struct admin_principal {
    char commune[ADMIN_COMMUNE_MAX + 1]; /* "" = the whole province */
    char fp[CRYPTO_SHA256_HEX];          /* fingerprint of the token signed in with */
};

/* True when the request carries a principal (console session) or
 * `Authorization: Bearer <token>` names a configured token without commune.
 * Otherwise answers the request itself (401 without credentials, 403 with
 * wrong ones) and returns false: the caller must not touch req again. */
bool admin_auth_check(struct http_request *req, const char *admin_tokens);

/* The bearer test without answering: true when the header names a
 * configured token that is not limited to a commune. */
bool admin_auth_token_ok(const char *authorization, const char *admin_tokens);

/* The console principal of a request, or NULL (bearer or nobody). */
const struct admin_principal *admin_auth_principal(const struct http_request *req);
/* Records p (copied) as the request's principal. */
void admin_auth_set_principal(struct http_request *req, const struct admin_principal *p);

#endif
