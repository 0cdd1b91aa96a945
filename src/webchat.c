/* webchat — page, message API and inbox for the browser channel. */
#include "dvcbot/webchat.h"
#include "dvcbot/file.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/netaddr.h"
#include "dvcbot/store_fire.h"
#include "dvcbot/webchat_guard.h"
#include "dvcbot/webchat_history.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLIENT_ID_MAX 40
#define LABEL_MAX_BYTES 256

struct webchat {
    const struct config *cfg;
    struct store *store;
    struct outbox *ob;
    struct dialog *dialog;
    char *page;
    size_t page_len;
    char etag[24];
};

static bool id_chars_valid(const char *id, size_t min, size_t max)
{
    size_t n = 0;
    for (; id[n]; n++) {
        char c = id[n];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ok)
            return false;
    }
    return n >= min && n <= max;
}

bool webchat_user_id_valid(const char *id)
{
    return id_chars_valid(id, WEBCHAT_USER_MIN, WEBCHAT_USER_MAX);
}

size_t webchat_text_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* "text":..,"buttons":[{"label":..,"payload":..}] without braces. */
static void render_reply_fields(struct buf *out, const struct bot_reply *r)
{
    buf_puts(out, "\"text\":");
    buf_json_str(out, r->text);
    buf_puts(out, ",\"buttons\":[");
    for (size_t j = 0; j < r->n_buttons; j++) {
        buf_puts(out, j ? ",{\"label\":" : "{\"label\":");
        buf_json_str(out, r->buttons[j].label);
        buf_puts(out, ",\"payload\":");
        buf_json_str(out, r->buttons[j].payload);
        buf_putc(out, '}');
    }
    buf_putc(out, ']');
}

static void render_reply(struct buf *out, const struct bot_reply *r)
{
    buf_putc(out, '{');
    render_reply_fields(out, r);
    buf_putc(out, '}');
}

void webchat_render_replies(struct buf *out, const struct bot_replies *replies)
{
    for (size_t i = 0; i < replies->n; i++) {
        if (i)
            buf_putc(out, ',');
        render_reply(out, &replies->items[i]);
    }
}

/* ===== GET /webchat, GET /favicon.ico ===== */

static bool etag_matches(const char *header, const char *etag)
{
    return header && (strstr(header, etag) != NULL || strcmp(header, "*") == 0);
}

void webchat_handle_page(struct http_request *req, void *ud)
{
    struct webchat *wc = ud;
    req->route = "webchat_page";
    char headers[320];
    snprintf(headers, sizeof headers,
             "Cache-Control: no-cache\r\nETag: %s\r\n"
             "Content-Security-Policy: default-src 'self'; style-src 'unsafe-inline'; "
             "script-src 'unsafe-inline'; img-src 'self' data:\r\n",
             wc->etag);
    if (etag_matches(http_request_header(req, "If-None-Match"), wc->etag))
        http_respond(req, 304, NULL, NULL, 0, headers);
    else
        http_respond(req, 200, "text/html; charset=utf-8", wc->page, wc->page_len, headers);
}

/* The page carries its own icon inline; other clients ask anyway. */
void webchat_handle_favicon(struct http_request *req, void *ud)
{
    (void)ud;
    req->route = "favicon";
    http_respond(req, 204, NULL, NULL, 0, "Cache-Control: public, max-age=604800\r\n");
}

/* ===== POST /webchat/messages ===== */

/* One message on its way: what the history gets and the answer waits for. */
struct post {
    struct webchat *wc;
    struct http_request *req;
    char user[BOT_ID_MAX];
    char *shown;                /* what the user's bubble shows: text or button label */
    char **items;               /* history items: the user's, then each reply's */
    size_t n_items;
};

static void post_free(struct post *p)
{
    for (size_t i = 0; i < p->n_items; i++)
        free(p->items[i]);
    free(p->items);
    free(p->shown);
    free(p);
}

/* {"replies":[{"text":..,"buttons":..},...],"ids":[<each reply's history id>],
 * "id":"<the user's message's>"}; no ids when the history was not written.
 * items[0] is the user's own, items[i] = {"from":"bot",<reply i-1>}. */
static void respond_post(struct post *p, const char *const *ids)
{
    static const char from_bot[] = "{\"from\":\"bot\",";
    struct buf out;
    buf_init(&out);
    buf_puts(&out, "{\"replies\":[");
    for (size_t i = 1; i < p->n_items; i++) {
        if (i > 1)
            buf_putc(&out, ',');
        buf_putc(&out, '{');
        buf_puts(&out, p->items[i] + strlen(from_bot));
    }
    buf_putc(&out, ']');
    if (ids && ids[0][0]) {
        buf_puts(&out, ",\"ids\":[");
        for (size_t i = 1; i < p->n_items; i++) {
            if (i > 1)
                buf_putc(&out, ',');
            buf_json_str(&out, ids[i]);
        }
        buf_puts(&out, "],\"id\":");
        buf_json_str(&out, ids[0]);
    }
    buf_putc(&out, '}');
    http_respond(p->req, 200, "application/json", out.data, out.len, NULL);
    buf_free(&out);
    post_free(p);
}

static void on_recorded(const char *const *ids, size_t n, void *ud)
{
    (void)n;
    respond_post(ud, ids);
}

static char *bubble_json(const char *from, const struct bot_reply *r, const char *text)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"from\":");
    buf_json_str(&b, from);
    if (r) {
        buf_putc(&b, ',');
        render_reply_fields(&b, r);
    } else {
        buf_puts(&b, ",\"text\":");
        buf_json_str(&b, text);
        buf_puts(&b, ",\"buttons\":[]");
    }
    buf_putc(&b, '}');
    return buf_steal(&b);
}

static void on_replies(const struct bot_msg *msg, const struct bot_replies *replies, void *ud)
{
    struct post *p = ud;
    /* The answer to /start (every page load sends it) and an answer-less
     * turn (a message sent twice) are not kept. */
    bool keep = replies->n > 0 && !dialog_is_start(msg) &&
                replies->n < WEBCHAT_HISTORY_ADD_MAX;
    p->items = xcalloc(replies->n + 1, sizeof *p->items);
    p->items[p->n_items++] = bubble_json("me", NULL, p->shown);
    for (size_t i = 0; i < replies->n; i++)
        p->items[p->n_items++] = bubble_json("bot", &replies->items[i], NULL);
    if (!keep || webchat_history_add(p->wc->store, p->user, (const char *const *)p->items,
                                     p->n_items, p->wc->cfg->session_ttl_s, on_recorded, p) != 0)
        respond_post(p, NULL);
}

static void too_long(struct webchat *wc, struct http_request *req, size_t chars)
{
    char max[16], count[24];
    snprintf(max, sizeof max, "%d", WEBCHAT_MAX_CHARS);
    snprintf(count, sizeof count, "%zu", chars);
    const struct tpl_var v[] = {{"max", max}, {"count", count}};
    char *text = tpl_render_text(dialog_deps(wc->dialog)->tpl, "webchat_too_long", v, 2);
    http_respond_error(req, 400, text ? text : "text too long");
    free(text);
}

static const char *optional_string(const cJSON *root, const char *name, bool *bad)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    if (v && !cJSON_IsString(v))
        *bad = true;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static struct bot_msg *parse_post(struct webchat *wc, struct http_request *req, struct post *p,
                                  const char **why)
{
    cJSON *root = cJSON_ParseWithLength(req->body.data ? req->body.data : "", req->body.len);
    struct bot_msg *msg = NULL;
    bool bad = false;
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(root, "user");
    const char *text = optional_string(root, "text", &bad);
    const char *button = optional_string(root, "button", &bad);
    const char *label = optional_string(root, "label", &bad);
    const char *id = optional_string(root, "id", &bad);
    *why = "body must be JSON: {\"user\": \"...\", \"text\": \"...\"}";
    if (!cJSON_IsObject(root) || !cJSON_IsString(user))
        goto cleanup;
    *why = WEBCHAT_USER_RULE;
    if (!webchat_user_id_valid(user->valuestring))
        goto cleanup;
    *why = "text or button must be a string (label and id too, when given)";
    const char *content = button ? button : text;
    if (bad || !content)
        goto cleanup;
    *why = "id must be 1-40 characters of A-Z a-z 0-9 _ -";
    if (id && !id_chars_valid(id, 1, CLIENT_ID_MAX))
        goto cleanup;
    size_t chars = webchat_text_chars(content);
    if (chars > WEBCHAT_MAX_CHARS) {
        too_long(wc, req, chars);
        *why = NULL;
        goto cleanup;
    }
    msg = bot_msg_new(BOT_CH_WEBCHAT, button ? BOT_MSG_BUTTON : BOT_MSG_TEXT);
    /* Checked above to fit; an id is never cut (two users would become one). */
    if (!bot_id_set(msg->user, user->valuestring) || !bot_id_set(msg->chat, user->valuestring) ||
        (id && !bot_id_set(msg->event_id, id))) { /* the page's id: sent again, answered once */
        bot_msg_free(msg);
        msg = NULL;
        *why = WEBCHAT_USER_RULE;
        goto cleanup;
    }
    bot_msg_set_text(msg, content, strlen(content));
    /* Web chat ids cost nothing: limits count the client's address. */
    char group[NETADDR_TEXT_MAX];
    if (netaddr_client_group(req->remote_addr, http_request_header(req, "X-Forwarded-For"),
                             wc->cfg->trusted_proxies, group))
        bot_id_set(msg->source, group);
    else
        bot_id_set(msg->source, "unknown");
    snprintf(p->user, sizeof p->user, "%s", user->valuestring);
    p->shown = button && label ? xstrndup(label, strnlen(label, LABEL_MAX_BYTES)) : xstrdup(content);
    *why = NULL;
cleanup:
    cJSON_Delete(root);
    return msg;
}

/* A message waiting for webchat_guard's word. */
struct guarded {
    struct post *p;
    struct bot_msg *msg;
};

static void on_guarded(bool allowed, void *ud)
{
    struct guarded *g = ud;
    struct post *p = g->p;
    if (allowed) {
        dialog_handle(p->wc->dialog, g->msg, on_replies, p);
    } else {
        char *text = tpl_render_text(dialog_deps(p->wc->dialog)->tpl, "webchat_too_many_new", NULL, 0);
        http_respond_error(p->req, 429, text ? text : "too many new conversations; try again later");
        free(text);
        bot_msg_free(g->msg);
        post_free(p);
    }
    free(g);
}

static void post_message(struct webchat *wc, struct http_request *req)
{
    const char *why = NULL;
    struct post *p = xcalloc(1, sizeof *p);
    p->wc = wc;
    p->req = req;
    struct bot_msg *msg = parse_post(wc, req, p, &why);
    if (!msg) {
        if (why)
            http_respond_error(req, 400, why);
        post_free(p);
        return;
    }
    /* A page load (/start) stores nothing; anything else from an id the
     * store does not know counts against its address's new ids. */
    if (!dialog_is_start(msg)) {
        struct guarded *g = xmalloc(sizeof *g);
        g->p = p;
        g->msg = msg;
        if (webchat_guard_check(wc->store, wc->cfg->webchat_new_ids, p->user, msg->source,
                                on_guarded, g) == 0)
            return;
        free(g); /* Redis unavailable: the dialog answers what it can */
    }
    dialog_handle(wc->dialog, msg, on_replies, p);
}

/* ===== GET /webchat/messages?user=ID[&after=CURSOR] ===== */

static void inbox_key(char *out, size_t len, const char *user)
{
    snprintf(out, len, "wc:inbox:{wc:%s}", user);
}

static void on_inbox(redisReply *r, void *ud)
{
    struct http_request *req = ud;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
        r->element[0]->type != REDIS_REPLY_ARRAY) {
        http_respond_error(req, 503, "store unavailable");
        return;
    }
    struct buf out;
    buf_init(&out);
    buf_puts(&out, "{\"replies\":[");
    const redisReply *items = r->element[0];
    for (size_t i = 0; i < items->elements; i++) {
        if (i)
            buf_putc(&out, ',');
        buf_append(&out, items->element[i]->str, items->element[i]->len);
    }
    buf_puts(&out, "]}");
    http_respond(req, 200, "application/json", out.data, out.len, NULL);
    buf_free(&out);
}

/* Read and clear atomically, so a message is shown once. */
static void read_inbox(struct webchat *wc, struct http_request *req, const char *user)
{
    char key[128];
    inbox_key(key, sizeof key, user);
    if (store_command(wc->store, on_inbox, req, "FCALL webchat_inbox_take 1 %s", key) != 0)
        http_respond_error(req, 503, "store unavailable");
}

/* One poll of the page: the history after its cursor, else the inbox. */
struct poll {
    struct webchat *wc;
    struct http_request *req;
    char user[BOT_ID_MAX];
    char cursor[WEBCHAT_HISTORY_ID_MAX + 1];
};

static void respond_nothing_new(struct http_request *req)
{
    http_respond(req, 204, NULL, NULL, 0, "Cache-Control: no-store\r\n");
}

/* {"items": [...], "cursor": cursor}; items already a JSON array. */
static void respond_items(struct http_request *req, const char *items, size_t len, const char *cursor)
{
    struct buf out;
    buf_init(&out);
    buf_puts(&out, "{\"items\":");
    buf_append(&out, items, len);
    buf_puts(&out, ",\"cursor\":");
    buf_json_str(&out, cursor);
    buf_putc(&out, '}');
    http_respond(req, 200, "application/json", out.data, out.len, "Cache-Control: no-store\r\n");
    buf_free(&out);
}

/* The inbox's replies as history items from the bot, without ids (they
 * are in no history); the cursor stays. */
static void on_inbox_polled(redisReply *r, void *ud)
{
    struct poll *pl = ud;
    const redisReply *list = !store_reply_failed(r) && r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
                                     r->element[0]->type == REDIS_REPLY_ARRAY
                                 ? r->element[0] : NULL;
    struct buf items;
    buf_init(&items);
    buf_putc(&items, '[');
    size_t n = 0;
    for (size_t i = 0; list && i < list->elements; i++) {
        const redisReply *e = list->element[i];
        if (e->type != REDIS_REPLY_STRING || e->len < 2 || e->str[0] != '{')
            continue;
        buf_puts(&items, n++ ? ",{\"from\":\"bot\"," : "{\"from\":\"bot\",");
        buf_append(&items, e->str + 1, e->len - 1);
    }
    buf_putc(&items, ']');
    if (n)
        respond_items(pl->req, items.data, items.len, pl->cursor);
    else
        respond_nothing_new(pl->req);
    buf_free(&items);
    free(pl);
}

static void on_history(const char *items, size_t n, const char *last, void *ud)
{
    struct poll *pl = ud;
    char key[128];
    inbox_key(key, sizeof key, pl->user);
    if (!items) {
        http_respond_error(pl->req, 503, "store unavailable");
    } else if (n == 0) {
        /* Nothing in the history: what was sent to a user with no record
         * (erased at the desk while the page was open: erase_done) is only
         * in the inbox. Taken, so it is shown once. */
        if (store_command(pl->wc->store, on_inbox_polled, pl, "FCALL webchat_inbox_take 1 %s", key) == 0)
            return;
        respond_nothing_new(pl->req);
    } else {
        respond_items(pl->req, items, strlen(items), last);
        /* The page reads the history, so the inbox is not needed any more. */
        store_fire(pl->wc->store, "webchat_inbox_clear", "DEL %s", key);
    }
    free(pl);
}

/* The page's polling: what came after its cursor (204 when nothing did). */
static void read_history(struct webchat *wc, struct http_request *req, const char *user,
                         const char *cursor)
{
    if (!webchat_history_cursor_valid(cursor)) {
        http_respond_error(req, 400, "after must be 0 or an id given before");
        return;
    }
    struct poll *pl = xcalloc(1, sizeof *pl);
    pl->wc = wc;
    pl->req = req;
    snprintf(pl->user, sizeof pl->user, "%s", user);
    snprintf(pl->cursor, sizeof pl->cursor, "%s", cursor);
    if (webchat_history_read(wc->store, user, cursor, on_history, pl) != 0) {
        free(pl);
        http_respond_error(req, 503, "store unavailable");
    }
}

static void get_messages(struct webchat *wc, struct http_request *req)
{
    char *user = http_request_query_param(req, "user");
    char *after = http_request_query_param(req, "after");
    if (!user || !webchat_user_id_valid(user))
        http_respond_error(req, 400, WEBCHAT_USER_RULE);
    else if (after)
        read_history(wc, req, user, after);
    else
        read_inbox(wc, req, user);
    free(user);
    free(after);
}

void webchat_handle_messages(struct http_request *req, void *ud)
{
    struct webchat *wc = ud;
    req->route = "webchat_messages";
    if (strcmp(req->method_name, "POST") == 0)
        post_message(wc, req);
    else if (strcmp(req->method_name, "GET") == 0)
        get_messages(wc, req);
    else
        http_respond_error(req, 405, "use GET or POST");
}

/* ===== Outbox driver: proactive messages wait in the inbox ===== */

static void on_pushed(redisReply *r, void *ud)
{
    struct outbox_item *item = ((void **)ud)[0];
    struct webchat *wc = ((void **)ud)[1];
    free(ud);
    bool ok = r && r->type != REDIS_REPLY_ERROR;
    outbox_delivered(wc->ob, item, ok ? OUTBOX_SENT : OUTBOX_RETRY, 0);
}

static int deliver(void *ctx, struct outbox_item *item)
{
    struct webchat *wc = ctx;
    if (item->kind == OUTBOX_ACK) {
        outbox_delivered(wc->ob, item, OUTBOX_SENT, 0);
        return 0;
    }
    char key[128], ttl[16], max[16];
    inbox_key(key, sizeof key, item->chat);
    snprintf(ttl, sizeof ttl, "%d", WEBCHAT_INBOX_TTL_S);
    snprintf(max, sizeof max, "%d", -WEBCHAT_INBOX_MAX);
    struct buf json;
    buf_init(&json);
    render_reply(&json, &item->reply);
    void **pair = xmalloc(2 * sizeof *pair);
    pair[0] = item;
    pair[1] = wc;
    int rc = store_command(wc->store, on_pushed, pair, "FCALL webchat_inbox_push 1 %s %b %s %s", key,
                           json.data, json.len, ttl, max);
    buf_free(&json);
    if (rc != 0) {
        free(pair);
        return rc;
    }
    /* The open page finds it in the history; a failure here loses only that. */
    char *bubble = bubble_json("bot", &item->reply, NULL);
    webchat_history_add_quiet(wc->store, item->chat, bubble, wc->cfg->session_ttl_s);
    free(bubble);
    return 0;
}

/* ===== Set-up ===== */

/* Replaces every "{{name}}" in *page by value. */
static void fill_in(char **page, size_t *len, const char *name, const char *value)
{
    char mark[64];
    snprintf(mark, sizeof mark, "{{%s}}", name);
    struct buf out;
    buf_init(&out);
    const char *p = *page, *hit;
    while ((hit = strstr(p, mark)) != NULL) {
        buf_append(&out, p, (size_t)(hit - p));
        buf_puts(&out, value);
        p = hit + strlen(mark);
    }
    buf_puts(&out, p);
    free(*page);
    *len = out.len;
    *page = buf_steal(&out);
}

static void page_etag(struct webchat *wc)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < wc->page_len; i++)
        h = (h ^ (unsigned char)wc->page[i]) * 1099511628211ULL;
    snprintf(wc->etag, sizeof wc->etag, "\"%016llx\"", (unsigned long long)h);
}

struct webchat *webchat_new(const struct config *cfg, struct store *store, struct outbox *ob,
                            struct dialog *dialog, char **err)
{
    char *path = config_data_path(cfg, "templates/webchat.html");
    size_t len = 0;
    char *page = file_read_explained(path, &len, err);
    free(path);
    if (!page)
        return NULL;
    char max[16], poll[16];
    snprintf(max, sizeof max, "%d", WEBCHAT_MAX_CHARS);
    snprintf(poll, sizeof poll, "%u", cfg->webchat_poll_s ? cfg->webchat_poll_s : 1);
    fill_in(&page, &len, "max_chars", max);
    fill_in(&page, &len, "poll_s", poll);
    struct webchat *wc = xcalloc(1, sizeof *wc);
    wc->cfg = cfg;
    wc->store = store;
    wc->ob = ob;
    wc->dialog = dialog;
    wc->page = page;
    wc->page_len = len;
    page_etag(wc);
    struct outbox_driver drv = {.deliver = deliver, .ctx = wc, .rate_per_s = 500, .burst = 500,
                                .max_inflight = 32};
    outbox_set_driver(ob, BOT_CH_WEBCHAT, &drv);
    return wc;
}

void webchat_free(struct webchat *wc)
{
    if (!wc)
        return;
    free(wc->page);
    free(wc);
}
