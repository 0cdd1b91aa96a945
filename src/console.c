/* console — /admin: sign-in, sign-out, the page, its files and the gate of
 * its JSON calls. */
#include "dvcbot/console.h"
#include "dvcbot/admin_auth.h"
#include "dvcbot/broadcast_spec.h"
#include "dvcbot/commune.h"
#include "dvcbot/commune_list.h"
#include "dvcbot/console_audit.h"
#include "dvcbot/console_page.h"
#include "dvcbot/console_session.h"
#include "dvcbot/console_ui.h"
#include "dvcbot/crypto.h"
#include "dvcbot/dossier.h"
#include "dvcbot/dossier_input.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/metrics.h"
#include "dvcbot/netaddr.h"
#include "dvcbot/upload_texts.h"
#include "dvcbot/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STATIC_PREFIX "/admin/static/"
#define FORM_VALUE_MAX 512

/* Pages never come from a cache, run no script but ours and are never framed. */
#define PAGE_HEADERS                                                                               \
    "Cache-Control: no-store\r\n"                                                                  \
    "X-Content-Type-Options: nosniff\r\n"                                                          \
    "Referrer-Policy: no-referrer\r\n"                                                             \
    "X-Frame-Options: DENY\r\n"                                                                    \
    "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "           \
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "       \
    "base-uri 'none'\r\n"

struct console {
    struct console_ctx ctx;
    struct console_sessions *sessions;
    struct console_pages *pages;
    struct router *ui;
};

/* ===== Forms ===== */

/* The value of `name` in an application/x-www-form-urlencoded body, decoded
 * into out; "" when absent or too long. */
static void form_value(const struct http_request *req, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name), blen = req->body.len;
    const char *p = req->body.data ? req->body.data : "", *end = p + blen;
    out[0] = '\0';
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        size_t len = amp ? (size_t)(amp - p) : (size_t)(end - p);
        if (len > nlen && memcmp(p, name, nlen) == 0 && p[nlen] == '=') {
            char *v = http_url_decode(p + nlen + 1, len - nlen - 1);
            if (strlen(v) < cap)
                snprintf(out, cap, "%s", v);
            free(v);
            return;
        }
        p = amp ? amp + 1 : end;
    }
}

/* ===== Pages ===== */

static void respond_page(struct console *con, struct http_request *req, int status,
                         const char *page, const struct tpl_var *vars, size_t n,
                         const char *cookies)
{
    struct buf body, headers;
    buf_init(&body);
    buf_init(&headers);
    if (console_page_render(con->pages, page, vars, n, &body) != 0)
        buf_puts(&body, "page missing");
    buf_puts(&headers, PAGE_HEADERS);
    if (cookies)
        buf_puts(&headers, cookies);
    http_respond(req, status, "text/html; charset=utf-8", buf_cstr(&body), body.len,
                 buf_cstr(&headers));
    buf_free(&body);
    buf_free(&headers);
}

/* The sign-in form, with a fresh CSRF token in a cookie and the form.
 * state names the message the page shows ("" for none). */
static void respond_login(struct console *con, struct http_request *req, int status,
                          const char *state)
{
    char csrf[CONSOLE_CSRF_HEX];
    if (crypto_random_hex(csrf, (CONSOLE_CSRF_HEX - 1) / 2) != 0) {
        http_respond_error(req, 500, "no randomness");
        return;
    }
    struct buf cookies;
    buf_init(&cookies);
    console_cookie_header(con->sessions, &cookies, CONSOLE_LOGIN_COOKIE, csrf,
                          CONSOLE_LOGIN_COOKIE_S);
    const struct tpl_var vars[] = {{"login_csrf", csrf}, {"state", state}};
    respond_page(con, req, status, "login.html", vars, 2, cookies.data);
    buf_free(&cookies);
}

static void respond_console(struct console *con, struct http_request *req,
                            const struct console_session *s)
{
    const char *commune = s->who.commune;
    const struct tpl_var vars[] = {{"csrf", s->csrf}, {"scope", commune},
                                   {"scope_class", commune[0] ? "scoped" : "province"}};
    respond_page(con, req, 200, "console.html", vars, 3, NULL);
}

static void redirect_home(struct http_request *req, const char *cookies)
{
    struct buf h;
    buf_init(&h);
    buf_puts(&h, "Location: /admin\r\nCache-Control: no-store\r\n");
    if (cookies)
        buf_puts(&h, cookies);
    http_respond(req, 303, "text/plain; charset=utf-8", "", 0, h.data);
    buf_free(&h);
}

/* ===== GET /admin ===== */

struct page_call {
    struct console *con;
    struct http_request *req;
    char token[ADMIN_TOKEN_MAX + 1];
    char addr[NETADDR_TEXT_MAX];
};

/* No session: the sign-in form, which says so when the browser still holds
 * a signed cookie (the session ran out, or was ended elsewhere). */
static void on_page_session(const struct console_session *s, bool store_down, void *ud)
{
    struct page_call *pc = ud;
    if (s)
        respond_console(pc->con, pc->req, s);
    else if (store_down)
        respond_login(pc->con, pc->req, 503, "s-down");
    else
        respond_login(pc->con, pc->req, 200,
                      console_cookie_signed(pc->con->sessions, pc->req) ? "s-ended" : "");
    free(pc);
}

static struct page_call *page_call_new(struct console *con, struct http_request *req)
{
    struct page_call *pc = xcalloc(1, sizeof *pc);
    pc->con = con;
    pc->req = req;
    return pc;
}

static void handle_page(struct http_request *req, void *ud)
{
    struct console *con = ud;
    req->route = "console_page";
    console_session_load(con->sessions, req, on_page_session, page_call_new(con, req));
}

/* ===== POST /admin/login ===== */

static void on_opened(const struct console_session *s, bool store_down, void *ud)
{
    struct page_call *pc = ud;
    char value[CONSOLE_COOKIE_MAX];
    if (!s || console_session_cookie(pc->con->sessions, s, value, sizeof value) != 0) {
        respond_login(pc->con, pc->req, 503, store_down ? "s-down" : "s-error");
        free(pc);
        return;
    }
    struct buf cookies;
    buf_init(&cookies);
    console_cookie_header(pc->con->sessions, &cookies, CONSOLE_COOKIE, value,
                          pc->con->ctx.deps.cfg->console_max_age_s);
    console_cookie_header(pc->con->sessions, &cookies, CONSOLE_LOGIN_COOKIE, "", 0);
    log_fmt(LOG_INFO, "console sign-in", "\"scoped\":%s", s->who.commune[0] ? "true" : "false");
    console_audit_event(pc->con->ctx.deps.store, "sign_in", &s->who, pc->addr);
    metrics_inc("dvcbot_console_signins_total", "result=\"ok\"", 1);
    redirect_home(pc->req, cookies.data);
    buf_free(&cookies);
    free(pc);
}

static void on_login_allowed(bool allowed, bool store_down, void *ud)
{
    struct page_call *pc = ud;
    struct console *con = pc->con;
    if (store_down || !allowed) {
        if (!store_down)
            console_audit_failed(con->ctx.deps.store, pc->addr);
        metrics_inc("dvcbot_console_signins_total",
                    store_down ? "result=\"store_down\"" : "result=\"limited\"", 1);
        respond_login(con, pc->req, store_down ? 503 : 429, store_down ? "s-down" : "s-limited");
        free(pc);
        return;
    }
    const struct admin_token *k = admin_tokens_find(console_sessions_tokens(con->sessions),
                                                    pc->token, strlen(pc->token));
    if (!k) {
        console_login_failed(con->sessions, pc->addr, pc->token);
        console_audit_failed(con->ctx.deps.store, pc->addr);
        metrics_inc("dvcbot_console_signins_total", "result=\"refused\"", 1);
        respond_login(con, pc->req, 401, "s-bad");
        free(pc);
        return;
    }
    if (console_session_open(con->sessions, k, pc->addr, on_opened, pc) != 0) {
        respond_login(con, pc->req, 503, "s-error");
        free(pc);
    }
}

static void handle_login(struct http_request *req, void *ud)
{
    struct console *con = ud;
    req->route = "console_login";
    char form_csrf[CONSOLE_CSRF_HEX + 1], cookie_csrf[CONSOLE_CSRF_HEX + 1];
    form_value(req, "csrf", form_csrf, sizeof form_csrf);
    if (!form_csrf[0] || !console_cookie_value(req, CONSOLE_LOGIN_COOKIE, cookie_csrf,
                                               sizeof cookie_csrf) ||
        !crypto_secret_equal_str(form_csrf, cookie_csrf)) {
        respond_login(con, req, 403, "s-stale");
        return;
    }
    struct page_call *pc = page_call_new(con, req);
    form_value(req, "token", pc->token, sizeof pc->token);
    console_client_addr(con->sessions, req, pc->addr, sizeof pc->addr);
    console_login_allowed(con->sessions, pc->addr, pc->token, on_login_allowed, pc);
}

/* ===== POST /admin/logout ===== */

/* Home, with the cookie cleared when clear is set. */
static void logout_answer(struct page_call *pc, bool clear)
{
    struct buf cookies;
    buf_init(&cookies);
    if (clear)
        console_cookie_header(pc->con->sessions, &cookies, CONSOLE_COOKIE, "", 0);
    redirect_home(pc->req, cookies.data);
    buf_free(&cookies);
    free(pc);
}

/* The answer waits for the session to be gone from Redis. */
static void on_session_closed(bool ok, void *ud)
{
    if (ok)
        log_msg(LOG_INFO, "console sign-out");
    logout_answer(ud, true);
}

static void on_logout_session(const struct console_session *s, bool store_down, void *ud)
{
    struct page_call *pc = ud;
    (void)store_down;
    char given[CONSOLE_CSRF_HEX + 1];
    form_value(pc->req, "csrf", given, sizeof given);
    if (s && console_csrf_ok(s, given)) {
        console_client_addr(pc->con->sessions, pc->req, pc->addr, sizeof pc->addr);
        console_audit_event(pc->con->ctx.deps.store, "sign_out", &s->who, pc->addr);
        console_session_close(pc->con->sessions, s->sid, on_session_closed, pc);
    } else {
        logout_answer(pc, !s);
    }
}

static void handle_logout(struct http_request *req, void *ud)
{
    struct console *con = ud;
    req->route = "console_logout";
    console_session_load(con->sessions, req, on_logout_session, page_call_new(con, req));
}

/* ===== GET /admin/static/<file> ===== */

static void handle_static(struct http_request *req, void *ud)
{
    struct console *con = ud;
    req->route = "console_static";
    size_t len;
    const char *ctype;
    const char *data = console_page_static(con->pages, req->path + strlen(STATIC_PREFIX), &len,
                                           &ctype);
    if (!data) {
        http_respond_error(req, 404, "not found");
        return;
    }
    http_respond(req, 200, ctype, data, len,
                 "Cache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n");
}

/* ===== /admin/ui/: session, CSRF, then the section ===== */

static void on_ui_session(const struct console_session *s, bool store_down, void *ud)
{
    struct page_call *pc = ud;
    struct http_request *req = pc->req;
    struct console *con = pc->con;
    free(pc);
    if (!s) {
        if (store_down)
            http_respond_error(req, 503, "store unavailable");
        else
            http_respond_error(req, 401, "not signed in, or the session has ended");
        return;
    }
    if (strcmp(req->method_name, "GET") != 0 &&
        !console_csrf_ok(s, http_request_header(req, "X-CSRF-Token"))) {
        http_respond_error(req, 403, "missing or wrong X-CSRF-Token");
        return;
    }
    admin_auth_set_principal(req, &s->who);
    router_dispatch(req, con->ui);
}

static void handle_ui(struct http_request *req, void *ud)
{
    struct console *con = ud;
    req->route = "console_ui";
    console_session_load(con->sessions, req, on_ui_session, page_call_new(con, req));
}

/* ===== GET /admin/ui/meta: what the page needs to know first ===== */

/* {"name": "Chiềng Cơi", "label": "phường Chiềng Cơi, Sơn La"} of each unit. */
static void put_communes(struct buf *b, const struct commune_list *l)
{
    for (size_t i = 0; l && i < commune_list_size(l); i++) {
        const struct commune_unit *u = commune_list_at(l, i);
        buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        buf_json_str(b, u->name);
        buf_puts(b, ",\"label\":");
        struct buf label;
        buf_init(&label);
        buf_printf(&label, "%s %s, %s", u->type, u->name, u->province);
        buf_json_str(b, label.data);
        buf_free(&label);
        buf_putc(b, '}');
    }
}

static void handle_meta(struct http_request *req, void *ud)
{
    struct console_ctx *ctx = ud;
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"scope\":");
    buf_json_str(&b, console_scope(req));
    buf_puts(&b, ",\"procedures\":[");
    const struct catalog *cat = ctx->deps.catalog;
    bool first = true;
    for (size_t i = 0; i < catalog_size(cat); i++) {
        const struct intent *in = catalog_at(cat, i);
        if (in->kind != INTENT_PROCEDURE)
            continue;
        buf_puts(&b, first ? "{\"id\":" : ",{\"id\":");
        buf_json_str(&b, in->id);
        buf_puts(&b, ",\"name\":");
        buf_json_str(&b, in->name);
        buf_putc(&b, '}');
        first = false;
    }
    buf_puts(&b, "],\"channels\":[");
    first = true;
    for (int ch = 0; ch < BOT_CH_COUNT; ch++) {
        if (!(BROADCAST_CHANNELS & (1u << ch)) || !outbox_has_driver(ctx->deps.outbox, ch))
            continue;
        buf_puts(&b, first ? "" : ",");
        buf_json_str(&b, bot_channel_name((enum bot_channel)ch));
        first = false;
    }
    buf_puts(&b, "],\"statuses\":[");
    for (int st = 0; st < DOSSIER_STATUS_COUNT; st++) {
        buf_puts(&b, st ? "," : "");
        buf_json_str(&b, dossier_status_name((enum dossier_status)st));
    }
    buf_puts(&b, "],\"communes\":[");
    put_communes(&b, ctx->deps.communes);
    buf_puts(&b, "],\"status_names\":");
    char *names = cJSON_PrintUnformatted(dossier_status_names(cat));
    buf_puts(&b, names ? names : "{}");
    free(names);
    buf_puts(&b, ",\"upload_texts\":");
    buf_puts(&b, upload_texts_json(ctx->upload_texts));
    buf_putc(&b, '}');
    http_respond_json(req, 200, b.data);
    buf_free(&b);
}

/* ===== Set-up ===== */

struct console *console_new(const struct console_deps *deps, char **err)
{
    struct console_pages *pages = console_pages_load(deps->cfg, err);
    if (!pages)
        return NULL;
    struct upload_texts *texts = upload_texts_load(deps->cfg->data_dir, err);
    if (!texts) {
        console_pages_free(pages);
        return NULL;
    }
    struct console *con = xcalloc(1, sizeof *con);
    con->ctx.deps = *deps;
    con->ctx.upload_texts = texts;
    con->pages = pages;
    con->sessions = console_sessions_new(deps->store, deps->cfg);
    con->ctx.sessions = con->sessions;
    con->ui = router_new();
    router_add(con->ui, "GET", CONSOLE_UI_PREFIX "meta", false, "console_meta", handle_meta,
               &con->ctx);
    console_broadcasts_routes(con->ui, &con->ctx);
    console_dossiers_routes(con->ui, &con->ctx);
    console_indicators_routes(con->ui, &con->ctx);
    console_feedback_routes(con->ui, &con->ctx);
    console_handoffs_routes(con->ui, &con->ctx);
    console_payments_routes(con->ui, &con->ctx);
    console_volunteers_routes(con->ui, &con->ctx);
    console_audit_routes(con->ui, &con->ctx);
    console_erase_routes(con->ui, &con->ctx);
    metrics_declare("dvcbot_console_signins_total", METRIC_COUNTER,
                    "Staff console sign-ins by result (ok, refused, limited, store_down).", NULL, 0);
    return con;
}

void console_free(struct console *con)
{
    if (!con)
        return;
    router_free(con->ui);
    console_sessions_free(con->sessions);
    console_pages_free(con->pages);
    upload_texts_free(con->ctx.upload_texts);
    free(con);
}

void console_add_routes(struct console *con, struct router *r)
{
    router_add(r, "GET", "/admin", false, "console_page", handle_page, con);
    router_add(r, "POST", "/admin/login", false, "console_login", handle_login, con);
    router_add(r, "POST", "/admin/logout", false, "console_logout", handle_logout, con);
    router_add(r, "GET", STATIC_PREFIX, true, "console_static", handle_static, con);
    router_add(r, NULL, CONSOLE_UI_PREFIX, true, "console_ui", handle_ui, con);
}

bool console_request_signed(const struct console *con, const struct http_request *req)
{
    return con && console_cookie_signed(con->sessions, req);
}

/* ===== Shared by the sections ===== */

const char *console_scope(const struct http_request *req)
{
    const struct admin_principal *p = admin_auth_principal(req);
    return p ? p->commune : "";
}

bool console_in_scope(const char *scope, const char *commune)
{
    return !scope[0] || commune_same(scope, commune);
}

char **console_user_keys(const redisReply *r, size_t *n)
{
    char **users = xcalloc(r->elements + 1, sizeof *users);
    *n = 0;
    for (size_t i = 0; i < r->elements; i++)
        if (store_reply_str(r->element[i]) && strlen(r->element[i]->str) < CONSOLE_USER_KEY_MAX)
            users[(*n)++] = xstrdup(r->element[i]->str);
    return users;
}
