/* admin_auth — bearer-token check for the staff endpoints (/admin/...).
 *
 * ADMIN_TOKENS holds one or more tokens separated by commas (so a token can
 * be rotated: add the new one, move systems over, drop the old one). Each is
 * compared in constant time. Without any token configured, every staff
 * request is refused. */
#ifndef DVCBOT_ADMIN_AUTH_H
#define DVCBOT_ADMIN_AUTH_H

#include "dvcbot/http_server.h"

#include <stdbool.h>

/* True when `Authorization: Bearer <token>` names a configured token.
 * Otherwise answers the request itself (401 without credentials, 403 with
 * wrong ones) and returns false: the caller must not touch req again. */
bool admin_auth_check(struct http_request *req, const char *admin_tokens);

/* The same test without answering: true when the header names a token. */
bool admin_auth_token_ok(const char *authorization, const char *admin_tokens);

#endif
