/* console_session — sign-in sessions of the staff console, kept in Redis so
 * every dvcbot process behind the proxy knows them.
 *
 * Signing in exchanges a token of ADMIN_TOKENS for a session: the cookie
 * CONSOLE_COOKIE holds "<sid>.<mac>", where sid is random and mac an
 * HMAC-SHA256 of sid under a key derived from ADMIN_TOKENS (so the body-size
 * hook can tell a cookie this deployment issued without asking Redis). The
 * cookie is HttpOnly, SameSite=Strict, Path=/admin, Max-Age = the session
 * lifetime (DVCBOT_CONSOLE_TTL), and Secure when PUBLIC_BASE_URL is https.
 *
 * Redis layout:
 *   console:s:<sid>      hash {fp, commune, csrf, created, expires}, EXPIRE at
 *                        `expires`; fp names the token signed in with
 *                        (SHA-256), so removing a token from ADMIN_TOKENS
 *                        ends its sessions; csrf is the token every
 *                        state-changing request must carry
 *   console:fail:<group> failed sign-ins of one address (group), of one
 *   console:fail:t:<h>   token typed (h: its SHA-256) and of everyone, in the
 *   console:fail:all     current CONSOLE_FAIL_WINDOW_S window
 *   console:ok:<group>   an address someone signed in from, for
 *                        CONSOLE_KNOWN_ADDR_S
 *
 * A session is valid when its cookie is signed, its hash exists, `expires`
 * is in the future and its token is still configured. Each use renews it:
 * `expires` becomes DVCBOT_CONSOLE_TTL from now, never later than
 * DVCBOT_CONSOLE_MAX_AGE after signing in (the cookie's Max-Age). Sign-out
 * deletes it.
 *
 * Sign-in limits: an address, and a token typed, each get
 * DVCBOT_CONSOLE_LOGIN_LIMIT failures a window; everyone together
 * CONSOLE_FAIL_ALL_FACTOR times that, a ceiling that does not apply to an
 * address someone signed in from before — a flood from many addresses
 * keeps newcomers waiting, never the officers.
 *
 * Callbacks: each *_load / *_open / *_allowed call returns 0 and then calls
 * its callback exactly once (also when Redis is down: store_down = true), or
 * returns -1 without calling it. The struct only borrows store and config;
 * free it after store_close. */
#ifndef DVCBOT_CONSOLE_SESSION_H
#define DVCBOT_CONSOLE_SESSION_H

#include "dvcbot/admin_auth.h"
#include "dvcbot/admin_tokens.h"
#include "dvcbot/buf.h"
#include "dvcbot/config.h"
#include "dvcbot/http_server.h"
#include "dvcbot/store.h"

#include <stdbool.h>
#include <stdint.h>

#define CONSOLE_COOKIE "dvcbot_console"
#define CONSOLE_LOGIN_COOKIE "dvcbot_login" /* sign-in form's CSRF (double submit) */
#define CONSOLE_SID_BYTES 24
#define CONSOLE_SID_HEX (2 * CONSOLE_SID_BYTES + 1)
#define CONSOLE_MAC_HEX 32                  /* hex digits of the MAC kept in the cookie */
#define CONSOLE_COOKIE_MAX (CONSOLE_SID_HEX + CONSOLE_MAC_HEX + 1)
#define CONSOLE_CSRF_HEX 33                 /* 32 hex digits + NUL */
#define CONSOLE_FAIL_WINDOW_S 900
#define CONSOLE_FAIL_ALL_FACTOR 50          /* all addresses together: 50 x the limit */
#define CONSOLE_KNOWN_ADDR_S (30 * 24 * 3600) /* an address signed in from is known this long */
#define CONSOLE_RENEW_STEP_S 60             /* a session in use is renewed at most this often */
#define CONSOLE_LOGIN_COOKIE_S 1800         /* the sign-in form stays usable this long */

struct console_sessions;

struct console_session {
    char sid[CONSOLE_SID_HEX];
    char csrf[CONSOLE_CSRF_HEX];
    int64_t expires;                 /* unix s */
    struct admin_principal who;
};

/* s is NULL when there is no valid session; store_down says why. */
typedef void (*console_session_cb)(const struct console_session *s, bool store_down, void *ud);
typedef void (*console_allowed_cb)(bool allowed, bool store_down, void *ud);

/* Parses ADMIN_TOKENS (already checked by config_load). */
struct console_sessions *console_sessions_new(struct store *store, const struct config *cfg);
void console_sessions_free(struct console_sessions *cs);

/* The configured tokens (for the sign-in form). */
const struct admin_tokens *console_sessions_tokens(const struct console_sessions *cs);

/* True when the request's cookie is well formed and carries this
 * deployment's MAC (no Redis: for the body-size hook). */
bool console_cookie_signed(const struct console_sessions *cs, const struct http_request *req);

/* Reads the session named by the request's cookie. */
int console_session_load(struct console_sessions *cs, const struct http_request *req,
                         console_session_cb cb, void *ud);
/* Opens a session for a token entry, signed in from addr (which becomes
 * a known address). */
int console_session_open(struct console_sessions *cs, const struct admin_token *k, const char *addr,
                         console_session_cb cb, void *ud);
/* The cookie value "<sid>.<mac>" of a session (out: CONSOLE_COOKIE_MAX
 * bytes). Returns 0 or -1. */
int console_session_cookie(const struct console_sessions *cs, const struct console_session *s,
                           char *out, size_t cap);
/* Ends a session: cb(true) once Redis has deleted it (no request to any
 * process sharing the Redis can use it after that), cb(false) when Redis
 * is unavailable (it then expires on its own). cb is called exactly once,
 * possibly before this returns. */
typedef void (*console_closed_cb)(bool ok, void *ud);
void console_session_close(struct console_sessions *cs, const char *sid, console_closed_cb cb, void *ud);

/* What sign-in attempts are counted by: the client's address group
 * (netaddr.h: X-Forwarded-For only from DVCBOT_TRUSTED_PROXIES, an IPv6 /64
 * as one), "unknown" when none can be read. out: NETADDR_TEXT_MAX bytes. */
void console_client_addr(const struct console_sessions *cs, const struct http_request *req,
                         char *out, size_t cap);
/* Whether the address may try to sign in now with token (as typed). */
int console_login_allowed(struct console_sessions *cs, const char *addr, const char *token,
                          console_allowed_cb cb, void *ud);
/* Counts a failed sign-in (fire and forget). */
void console_login_failed(struct console_sessions *cs, const char *addr, const char *token);

/* Appends "Set-Cookie: <name>=<value>; ...\r\n" (max_age 0 deletes it). */
void console_cookie_header(const struct console_sessions *cs, struct buf *out, const char *name,
                           const char *value, unsigned max_age);
/* The value of cookie `name` in the Cookie header, copied into out; false
 * when absent or longer than cap - 1. */
bool console_cookie_value(const struct http_request *req, const char *name, char *out, size_t cap);

/* Whether given equals the session's CSRF token (constant time). */
bool console_csrf_ok(const struct console_session *s, const char *given);

#endif
