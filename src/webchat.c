/* webchat — page, message API and inbox for the browser channel. */
#include "dvcbot/webchat.h"
#include "dvcbot/file.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/netaddr.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WEBCHAT_MAX_TEXT 2000

struct webchat {
    const struct config *cfg;
    struct store *store;
    struct outbox *ob;
    struct dialog *dialog;
    char *page;
    size_t page_len;
};

bool webchat_user_id_valid(const char *id)
{
    size_t n = 0;
    for (; id[n]; n++) {
        char c = id[n];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ok)
            return false;
    }
    return n >= 8 && n <= 64;
}

static void render_reply(struct buf *out, const struct bot_reply *r)
{
    buf_puts(out, "{\"text\":");
    buf_json_str(out, r->text);
    buf_puts(out, ",\"buttons\":[");
    for (size_t j = 0; j < r->n_buttons; j++) {
        buf_puts(out, j ? ",{\"label\":" : "{\"label\":");
        buf_json_str(out, r->buttons[j].label);
        buf_puts(out, ",\"payload\":");
        buf_json_str(out, r->buttons[j].payload);
        buf_putc(out, '}');
    }
    buf_puts(out, "]}");
}

void webchat_render_replies(struct buf *out, const struct bot_replies *replies)
{
    for (size_t i = 0; i < replies->n; i++) {
        if (i)
            buf_putc(out, ',');
        render_reply(out, &replies->items[i]);
    }
}

/* ===== GET /webchat ===== */

void webchat_handle_page(struct http_request *req, void *ud)
{
    struct webchat *wc = ud;
    req->route = "webchat_page";
    http_respond(req, 200, "text/html; charset=utf-8", wc->page, wc->page_len,
                 "Cache-Control: no-cache\r\n"
                 "Content-Security-Policy: default-src 'self'; style-src 'unsafe-inline'; "
                 "script-src 'unsafe-inline'\r\n");
}

/* ===== POST /webchat/messages ===== */

static void on_replies(const struct bot_msg *msg, const struct bot_replies *replies, void *ud)
{
    struct http_request *req = ud;
    (void)msg;
    struct buf out;
    buf_init(&out);
    buf_puts(&out, "{\"replies\":[");
    webchat_render_replies(&out, replies);
    buf_puts(&out, "]}");
    http_respond(req, 200, "application/json", out.data, out.len, NULL);
    buf_free(&out);
}

static struct bot_msg *parse_post(const struct config *cfg, struct http_request *req,
                                  const char **why)
{
    cJSON *root = cJSON_ParseWithLength(req->body.data ? req->body.data : "", req->body.len);
    struct bot_msg *msg = NULL;
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(root, "user");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(root, "text");
    const cJSON *button = cJSON_GetObjectItemCaseSensitive(root, "button");
    *why = "body must be JSON: {\"user\": \"...\", \"text\": \"...\"}";
    if (!cJSON_IsObject(root) || !cJSON_IsString(user))
        goto cleanup;
    *why = "user must be 8-64 characters of A-Z a-z 0-9 _ -";
    if (!webchat_user_id_valid(user->valuestring))
        goto cleanup;
    const cJSON *content = cJSON_IsString(button) ? button : text;
    *why = "text or button must be a string";
    if (!cJSON_IsString(content))
        goto cleanup;
    *why = "text too long";
    if (strlen(content->valuestring) > WEBCHAT_MAX_TEXT)
        goto cleanup;
    msg = bot_msg_new(BOT_CH_WEBCHAT, content == button ? BOT_MSG_BUTTON : BOT_MSG_TEXT);
    bot_id_set(msg->user, user->valuestring);
    bot_id_set(msg->chat, user->valuestring);
    bot_msg_set_text(msg, content->valuestring, strlen(content->valuestring));
    /* Web chat ids cost nothing: limits count the client's address. */
    char group[NETADDR_TEXT_MAX];
    if (netaddr_client_group(req->remote_addr, http_request_header(req, "X-Forwarded-For"),
                             cfg->trusted_proxies, group))
        bot_id_set(msg->source, group);
    else
        bot_id_set(msg->source, "unknown");
    *why = NULL;
cleanup:
    cJSON_Delete(root);
    return msg;
}

static void post_message(struct webchat *wc, struct http_request *req)
{
    const char *why;
    struct bot_msg *msg = parse_post(wc->cfg, req, &why);
    if (!msg) {
        http_respond_error(req, 400, why);
        return;
    }
    dialog_handle(wc->dialog, msg, on_replies, req);
}

/* ===== GET /webchat/messages?user=ID: the inbox ===== */

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

static void get_inbox(struct webchat *wc, struct http_request *req)
{
    char *user = http_request_query_param(req, "user");
    if (!user || !webchat_user_id_valid(user)) {
        free(user);
        http_respond_error(req, 400, "user must be 8-64 characters of A-Z a-z 0-9 _ -");
        return;
    }
    char key[128];
    inbox_key(key, sizeof key, user);
    free(user);
    /* Read and clear atomically, so a message is shown once. */
    static const char script[] =
        "local v = redis.call('LRANGE', KEYS[1], 0, -1) redis.call('DEL', KEYS[1]) return {v}";
    if (store_command(wc->store, on_inbox, req, "EVAL %s 1 %s", script, key) != 0)
        http_respond_error(req, 503, "store unavailable");
}

void webchat_handle_messages(struct http_request *req, void *ud)
{
    struct webchat *wc = ud;
    req->route = "webchat_messages";
    if (strcmp(req->method_name, "POST") == 0)
        post_message(wc, req);
    else if (strcmp(req->method_name, "GET") == 0)
        get_inbox(wc, req);
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
    static const char script[] =
        "redis.call('RPUSH', KEYS[1], ARGV[1]) redis.call('LTRIM', KEYS[1], ARGV[3], -1) "
        "redis.call('EXPIRE', KEYS[1], ARGV[2]) return 1";
    void **pair = xmalloc(2 * sizeof *pair);
    pair[0] = item;
    pair[1] = wc;
    int rc = store_command(wc->store, on_pushed, pair, "EVAL %s 1 %s %b %s %s", script, key,
                           json.data, json.len, ttl, max);
    buf_free(&json);
    if (rc != 0)
        free(pair);
    return rc;
}

/* ===== Set-up ===== */

struct webchat *webchat_new(const struct config *cfg, struct store *store, struct outbox *ob,
                            struct dialog *dialog, char **err)
{
    char *path = config_data_path(cfg, "templates/webchat.html");
    size_t len = 0;
    char *page = file_read_explained(path, &len, err);
    if (!page) {
        free(path);
        return NULL;
    }
    free(path);
    struct webchat *wc = xcalloc(1, sizeof *wc);
    wc->cfg = cfg;
    wc->store = store;
    wc->ob = ob;
    wc->dialog = dialog;
    wc->page = page;
    wc->page_len = len;
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
