/* admin_auth — bearer tokens and console principals for staff endpoints. */
#include "dvcbot/admin_auth.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* 0 = accepted, 1 = no such token, 2 = a token limited to a commune. */
static int bearer_verdict(const char *authorization, const char *admin_tokens)
{
    if (!authorization || !admin_tokens || strncasecmp(authorization, "Bearer ", 7) != 0)
        return 1;
    const char *given = authorization + 7;
    while (*given == ' ')
        given++;
    struct admin_tokens t;
    const char *err;
    if (admin_tokens_parse(admin_tokens, &t, &err) != 0)
        return 1;
    const struct admin_token *k = admin_tokens_find(&t, given, strlen(given));
    int verdict = !k ? 1 : k->commune ? 2 : 0;
    admin_tokens_free(&t);
    return verdict;
}

bool admin_auth_token_ok(const char *authorization, const char *admin_tokens)
{
    return bearer_verdict(authorization, admin_tokens) == 0;
}

static void principal_free(void *p)
{
    free(p);
}

const struct admin_principal *admin_auth_principal(const struct http_request *req)
{
    return req->auth && req->auth_free == principal_free ? req->auth : NULL;
}

void admin_auth_set_principal(struct http_request *req, const struct admin_principal *p)
{
    if (req->auth && req->auth_free)
        req->auth_free(req->auth);
    struct admin_principal *copy = xmalloc(sizeof *copy);
    *copy = *p;
    req->auth = copy;
    req->auth_free = principal_free;
}

bool admin_auth_check(struct http_request *req, const char *admin_tokens)
{
    if (admin_auth_principal(req))
        return true;
    const char *auth = http_request_header(req, "Authorization");
    if (!auth) {
        http_respond(req, 401, "application/json", "{\"error\":\"missing bearer token\"}", 32,
                     "WWW-Authenticate: Bearer realm=\"dvcbot-admin\"\r\n");
        return false;
    }
    int verdict = bearer_verdict(auth, admin_tokens);
    if (verdict != 0) {
        log_fmt(LOG_WARN, "admin auth refused", "\"path\":%s,\"scoped\":%s", log_q(req->path),
                verdict == 2 ? "true" : "false");
        http_respond_error(req, 403, verdict == 2 ? "token limited to a commune: use it to sign "
                                                    "in to the staff console at /admin"
                                                  : "token not accepted");
        return false;
    }
    return true;
}
