/* admin_auth — constant-time bearer tokens for staff endpoints. */
#include "dvcbot/admin_auth.h"
#include "dvcbot/crypto.h"
#include "dvcbot/log.h"

#include <string.h>
#include <strings.h>

bool admin_auth_token_ok(const char *authorization, const char *admin_tokens)
{
    if (!authorization || !admin_tokens || strncasecmp(authorization, "Bearer ", 7) != 0)
        return false;
    const char *given = authorization + 7;
    while (*given == ' ')
        given++;
    size_t glen = strlen(given);
    bool ok = false;
    /* Compare against every token (no early exit) so timing says nothing. */
    for (const char *p = admin_tokens; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && *p == ' ') {
            p++;
            len--;
        }
        while (len && p[len - 1] == ' ')
            len--;
        if (len >= 16 && crypto_secret_equal(given, glen, p, len))
            ok = true;
        p = end ? end + 1 : p + len;
        if (!end)
            break;
    }
    return ok;
}

bool admin_auth_check(struct http_request *req, const char *admin_tokens)
{
    const char *auth = http_request_header(req, "Authorization");
    if (!auth) {
        http_respond(req, 401, "application/json", "{\"error\":\"missing bearer token\"}", 32,
                     "WWW-Authenticate: Bearer realm=\"dvcbot-admin\"\r\n");
        return false;
    }
    if (!admin_auth_token_ok(auth, admin_tokens)) {
        log_fmt(LOG_WARN, "admin auth refused", "\"path\":%s", log_q(req->path));
        http_respond_error(req, 403, "token not accepted");
        return false;
    }
    return true;
}
