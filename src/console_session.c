/* console_session — console sign-in sessions and sign-in limits in Redis. */
#include "dvcbot/console_session.h"
#include "dvcbot/clock.h"
#include "dvcbot/crypto.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/netaddr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SESSION_PREFIX "console:s:"
#define FAIL_PREFIX "console:fail:"
#define FAIL_TOKEN_PREFIX "console:fail:t:"
#define FAIL_ALL "console:fail:all"
#define KNOWN_PREFIX "console:ok:"

struct console_sessions {
    struct store *store;
    const struct config *cfg;
    struct admin_tokens tokens;
    char mac_key[CRYPTO_SHA256_HEX];
    bool secure;
};



struct console_sessions *console_sessions_new(struct store *store, const struct config *cfg)
{
    struct console_sessions *cs = xcalloc(1, sizeof *cs);
    cs->store = store;
    cs->cfg = cfg;
    const char *err;
    if (admin_tokens_parse(cfg->admin_tokens, &cs->tokens, &err) != 0)
        log_fmt(LOG_ERROR, "console: no sign-in possible", "\"error\":%s", log_q(err));
    struct buf seed;
    buf_init(&seed);
    buf_printf(&seed, "dvcbot console cookie\n%s", cfg->admin_tokens ? cfg->admin_tokens : "");
    crypto_sha256_hex(seed.data, seed.len, cs->mac_key);
    buf_free(&seed);
    cs->secure = cfg->public_base_url && strncasecmp(cfg->public_base_url, "https://", 8) == 0;
    return cs;
}

void console_sessions_free(struct console_sessions *cs)
{
    if (!cs)
        return;
    admin_tokens_free(&cs->tokens);
    free(cs);
}

const struct admin_tokens *console_sessions_tokens(const struct console_sessions *cs)
{
    return &cs->tokens;
}

/* ===== Cookies ===== */

bool console_cookie_value(const struct http_request *req, const char *name, char *out, size_t cap)
{
    const char *h = http_request_header(req, "Cookie");
    size_t nlen = strlen(name);
    for (const char *p = h; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            size_t vlen = len - nlen - 1;
            if (vlen >= cap)
                return false;
            memcpy(out, p + nlen + 1, vlen);
            out[vlen] = '\0';
            return true;
        }
        p = end;
    }
    return false;
}

static bool is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static int sid_mac(const struct console_sessions *cs, const char *sid, char mac[CRYPTO_SHA256_HEX])
{
    return crypto_hmac_sha256_hex(cs->mac_key, strlen(cs->mac_key), sid, strlen(sid), mac);
}

/* The sid of a well-formed, correctly signed cookie value; false otherwise. */
static bool cookie_sid(const struct console_sessions *cs, const char *value,
                       char sid[CONSOLE_SID_HEX])
{
    const size_t n = CONSOLE_SID_HEX - 1;
    char mac[CRYPTO_SHA256_HEX];
    if (strlen(value) != n + 1 + CONSOLE_MAC_HEX || value[n] != '.' || !is_hex(value, n))
        return false;
    memcpy(sid, value, n);
    sid[n] = '\0';
    if (sid_mac(cs, sid, mac) != 0)
        return false;
    return crypto_secret_equal(value + n + 1, CONSOLE_MAC_HEX, mac, CONSOLE_MAC_HEX);
}

bool console_cookie_signed(const struct console_sessions *cs, const struct http_request *req)
{
    char value[CONSOLE_COOKIE_MAX], sid[CONSOLE_SID_HEX];
    return cs->tokens.n && console_cookie_value(req, CONSOLE_COOKIE, value, sizeof value) &&
           cookie_sid(cs, value, sid);
}

void console_cookie_header(const struct console_sessions *cs, struct buf *out, const char *name,
                           const char *value, unsigned max_age)
{
    buf_printf(out, "Set-Cookie: %s=%s; Path=/admin; Max-Age=%u; HttpOnly; SameSite=Strict%s\r\n",
               name, max_age ? value : "", max_age, cs->secure ? "; Secure" : "");
}

bool console_csrf_ok(const struct console_session *s, const char *given)
{
    return given && crypto_secret_equal_str(given, s->csrf);
}

/* ===== Loading a session ===== */

struct load_call {
    struct console_sessions *cs;
    console_session_cb cb;
    void *ud;
    struct console_session s;
    int64_t created;
};

static const char *hash_field(const redisReply *r, const char *name)
{
    for (size_t i = 0; i + 1 < r->elements; i += 2)
        if (store_reply_str(r->element[i]) && strcmp(r->element[i]->str, name) == 0)
            return store_reply_str(r->element[i + 1]);
    return NULL;
}

/* Fills lc->s from the session hash; false when it is not a live session. */
static bool session_from_hash(struct load_call *lc, const redisReply *r)
{
    const char *fp = hash_field(r, "fp"), *csrf = hash_field(r, "csrf");
    const char *expires = hash_field(r, "expires"), *created = hash_field(r, "created");
    if (!fp || !csrf || !expires || !created || strlen(csrf) != CONSOLE_CSRF_HEX - 1)
        return false;
    const struct admin_token *k = admin_tokens_by_fp(&lc->cs->tokens, fp);
    lc->s.expires = strtoll(expires, NULL, 10);
    lc->created = strtoll(created, NULL, 10);
    if (!k || lc->s.expires <= clock_now())
        return false;
    memcpy(lc->s.csrf, csrf, CONSOLE_CSRF_HEX);
    snprintf(lc->s.who.commune, sizeof lc->s.who.commune, "%s", k->commune ? k->commune : "");
    snprintf(lc->s.who.fp, sizeof lc->s.who.fp, "%s", k->fp);
    return true;
}

static void ignore_reply(redisReply *r, void *ud)
{
    (void)ud;
    if (store_reply_failed(r))
        log_fmt(LOG_WARN, "console write failed", "\"error\":%s", log_q(store_reply_error(r)));
}

/* A session in use lasts DVCBOT_CONSOLE_TTL from now, but never past
 * DVCBOT_CONSOLE_MAX_AGE after signing in; written at most once a
 * CONSOLE_RENEW_STEP_S (fire and forget: the next use tries again). */
static void renew(struct load_call *lc)
{
    const struct config *cfg = lc->cs->cfg;
    int64_t now = clock_now(), until = now + cfg->console_ttl_s;
    int64_t last = lc->created + (int64_t)cfg->console_max_age_s;
    if (until > last)
        until = last;
    if (until - lc->s.expires < CONSOLE_RENEW_STEP_S)
        return;
    char at[24], ttl[24];
    snprintf(at, sizeof at, "%lld", (long long)until);
    snprintf(ttl, sizeof ttl, "%lld", (long long)(until - now));
    if (store_command(lc->cs->store, ignore_reply, NULL, "FCALL console_session_touch 1 %s%s %s %s",
                      SESSION_PREFIX, lc->s.sid, at, ttl) == 0)
        lc->s.expires = until;
}

static void on_loaded(redisReply *r, void *ud)
{
    struct load_call *lc = ud;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY) {
        lc->cb(NULL, true, lc->ud);
    } else if (session_from_hash(lc, r)) {
        renew(lc);
        lc->cb(&lc->s, false, lc->ud);
    } else {
        lc->cb(NULL, false, lc->ud);
    }
    free(lc);
}

int console_session_load(struct console_sessions *cs, const struct http_request *req,
                         console_session_cb cb, void *ud)
{
    char value[CONSOLE_COOKIE_MAX], sid[CONSOLE_SID_HEX];
    if (!cs->tokens.n || !console_cookie_value(req, CONSOLE_COOKIE, value, sizeof value) ||
        !cookie_sid(cs, value, sid)) {
        cb(NULL, false, ud);
        return 0;
    }
    struct load_call *lc = xcalloc(1, sizeof *lc);
    lc->cs = cs;
    lc->cb = cb;
    lc->ud = ud;
    memcpy(lc->s.sid, sid, sizeof sid);
    if (store_command(cs->store, on_loaded, lc, "HGETALL %s%s", SESSION_PREFIX, sid) != 0) {
        free(lc);
        cb(NULL, true, ud);
    }
    return 0;
}

/* ===== Opening and closing ===== */

static void on_opened(redisReply *r, void *ud)
{
    struct load_call *lc = ud;
    bool ok = !store_reply_failed(r) && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    lc->cb(ok ? &lc->s : NULL, !ok, lc->ud);
    free(lc);
}

int console_session_open(struct console_sessions *cs, const struct admin_token *k, const char *addr,
                         console_session_cb cb, void *ud)
{
    struct load_call *lc = xcalloc(1, sizeof *lc);
    lc->cs = cs;
    lc->cb = cb;
    lc->ud = ud;
    struct console_session *s = &lc->s;
    if (crypto_random_hex(s->sid, CONSOLE_SID_BYTES) != 0 ||
        crypto_random_hex(s->csrf, (CONSOLE_CSRF_HEX - 1) / 2) != 0) {
        free(lc);
        return -1;
    }
    int64_t now = clock_now();
    s->expires = now + cs->cfg->console_ttl_s;
    snprintf(s->who.commune, sizeof s->who.commune, "%s", k->commune ? k->commune : "");
    snprintf(s->who.fp, sizeof s->who.fp, "%s", k->fp);
    char created[24], expires[24], ttl[16], known[16];
    snprintf(created, sizeof created, "%lld", (long long)now);
    snprintf(expires, sizeof expires, "%lld", (long long)s->expires);
    snprintf(ttl, sizeof ttl, "%u", cs->cfg->console_ttl_s);
    snprintf(known, sizeof known, "%d", strcmp(addr, "unknown") == 0 ? 0 : CONSOLE_KNOWN_ADDR_S);
    if (store_command(cs->store, on_opened, lc,
                      "FCALL console_session_open 2 %s%s %s%s %s %s %s %s %s %s %s",
                      SESSION_PREFIX, s->sid, KNOWN_PREFIX, addr, k->fp, s->who.commune, s->csrf,
                      created, expires, ttl, known) != 0) {
        free(lc);
        return -1;
    }
    return 0;
}

int console_session_cookie(const struct console_sessions *cs, const struct console_session *s,
                           char *out, size_t cap)
{
    char mac[CRYPTO_SHA256_HEX];
    if (sid_mac(cs, s->sid, mac) != 0)
        return -1;
    snprintf(out, cap, "%s.%.*s", s->sid, CONSOLE_MAC_HEX, mac);
    return 0;
}

struct close_call {
    console_closed_cb cb;
    void *ud;
};

static void on_closed(redisReply *r, void *ud)
{
    struct close_call *cc = ud;
    bool ok = !store_reply_failed(r);
    if (!ok)
        log_fmt(LOG_WARN, "console sign-out not stored", "\"error\":%s", log_q(store_reply_error(r)));
    cc->cb(ok, cc->ud);
    free(cc);
}

void console_session_close(struct console_sessions *cs, const char *sid, console_closed_cb cb, void *ud)
{
    struct close_call *cc = xcalloc(1, sizeof *cc);
    cc->cb = cb;
    cc->ud = ud;
    if (store_command(cs->store, on_closed, cc, "DEL %s%s", SESSION_PREFIX, sid) != 0) {
        log_msg(LOG_WARN, "console sign-out not stored: redis unavailable");
        free(cc);
        cb(false, ud);
    }
}

/* ===== Sign-in limits ===== */

void console_client_addr(const struct console_sessions *cs, const struct http_request *req,
                         char *out, size_t cap)
{
    char group[NETADDR_TEXT_MAX];
    if (!netaddr_client_group(req->remote_addr, http_request_header(req, "X-Forwarded-For"),
                              cs->cfg->trusted_proxies, group))
        snprintf(group, sizeof group, "unknown");
    snprintf(out, cap, "%s", group);
}

struct allowed_call {
    console_allowed_cb cb;
    void *ud;
    long long limit;
};

/* console:fail:t:<SHA-256 of what was typed>: no token in clear. */
static void token_fail_key(const char *token, char *out, size_t cap)
{
    char hex[CRYPTO_SHA256_HEX];
    crypto_sha256_hex(token, strlen(token), hex);
    snprintf(out, cap, "%s%s", FAIL_TOKEN_PREFIX, hex);
}

static bool under(const redisReply *count, long long limit)
{
    const char *n = store_reply_str(count);
    return !n || atoll(n) < limit;
}

/* reply: MGET fail:<addr>, fail:t:<token>, fail:all, ok:<addr> */
static void on_fail_counts(redisReply *r, void *ud)
{
    struct allowed_call *ac = ud;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY || r->elements != 4) {
        ac->cb(false, true, ac->ud);
    } else {
        bool known = store_reply_str(r->element[3]) != NULL;
        bool ok = under(r->element[0], ac->limit) && under(r->element[1], ac->limit) &&
                  (known || under(r->element[2], ac->limit * CONSOLE_FAIL_ALL_FACTOR));
        ac->cb(ok, false, ac->ud);
    }
    free(ac);
}

int console_login_allowed(struct console_sessions *cs, const char *addr, const char *token,
                          console_allowed_cb cb, void *ud)
{
    struct allowed_call *ac = xcalloc(1, sizeof *ac);
    char tkey[sizeof FAIL_TOKEN_PREFIX + CRYPTO_SHA256_HEX];
    token_fail_key(token, tkey, sizeof tkey);
    ac->cb = cb;
    ac->ud = ud;
    ac->limit = cs->cfg->console_login_limit;
    if (store_command(cs->store, on_fail_counts, ac, "MGET %s%s %s %s %s%s", FAIL_PREFIX, addr, tkey,
                      FAIL_ALL, KNOWN_PREFIX, addr) != 0) {
        free(ac);
        cb(false, true, ud);
    }
    return 0;
}

void console_login_failed(struct console_sessions *cs, const char *addr, const char *token)
{
    char window[16], tkey[sizeof FAIL_TOKEN_PREFIX + CRYPTO_SHA256_HEX];
    snprintf(window, sizeof window, "%d", CONSOLE_FAIL_WINDOW_S);
    token_fail_key(token, tkey, sizeof tkey);
    char masked[NETADDR_TEXT_MAX];
    netaddr_mask(addr, masked);
    log_fmt(LOG_WARN, "console sign-in refused", "\"addr\":%s", log_q(masked));
    if (store_command(cs->store, ignore_reply, NULL, "FCALL console_signin_failed 3 %s%s %s %s %s",
                      FAIL_PREFIX, addr, tkey, FAIL_ALL, window) != 0)
        log_msg(LOG_WARN, "console sign-in failure not counted: redis unavailable");
}
