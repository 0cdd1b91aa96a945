/* telegram — Telegram Bot API: webhook parsing and the outbox driver. */
#include "dvcbot/telegram.h"
#include "dvcbot/crypto.h"
#include "dvcbot/json_arena.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/metrics.h"
#include "dvcbot/strfmt.h"
#include "dvcbot/telegram_update.h"
#include "dvcbot/webhook.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct telegram {
    const struct config *cfg;
    struct http_client *http;
    struct outbox *ob;
    struct dialog *dialog;
    char *send_url;
    char *ack_url;
    struct buf body;             /* the request body being sent, kept from call to call */
    struct dialog_hand hand;     /* how a webhook's replies are handled */
};

/* One API call in flight for an outbox item. */
struct tg_call {
    struct telegram *tg;
    struct outbox_item *item;
    size_t part_end;  /* byte offset where this part ends */
    bool last;
};

/* ===== Parsing ===== */

/* Telegram ids have at most 52 significant bits; a number a double cannot
 * hold exactly would round two accounts into one, so it is refused. */
#define TG_ID_LIMIT 9007199254740991.0 /* 2^53 - 1 */

static bool id_from_value(const struct tg_value *n, char out[BOT_ID_MAX])
{
    if (n->kind == TG_STRING) {
        if (n->len == 0 || n->len >= BOT_ID_MAX)
            return false;
        memcpy(out, n->str, n->len);
        out[n->len] = '\0';
        return true;
    }
    if (n->kind != TG_NUMBER || !isfinite(n->number) || n->number != floor(n->number) ||
        fabs(n->number) > TG_ID_LIMIT)
        return false;
    /* Within TG_ID_LIMIT a double holds the integer exactly: print it
     * without printf's float machinery (three ids per update). */
    str_decimal(out, BOT_ID_MAX, (long long)n->number);
    return true;
}

/* The message's "date" (unix s); 0 when absent or beyond what an int64
 * holds exactly (converting a huge double is undefined behaviour). */
static int64_t date_from_value(const struct tg_value *n)
{
    if (n->kind != TG_NUMBER || !isfinite(n->number) || fabs(n->number) > TG_ID_LIMIT)
        return 0;
    return (int64_t)n->number;
}

static enum telegram_parse parse_message(const struct tg_update *u, struct bot_msg **out)
{
    const struct tg_value *text = &u->f[TG_MESSAGE_TEXT];
    struct bot_msg *msg = bot_msg_new(BOT_CH_TELEGRAM, BOT_MSG_TEXT);
    if (u->f[TG_MESSAGE_CHAT].kind != TG_OBJECT || !id_from_value(&u->f[TG_MESSAGE_CHAT_ID], msg->chat))
        goto bad;
    if (u->f[TG_MESSAGE_FROM].kind == TG_OBJECT) {
        if (!id_from_value(&u->f[TG_MESSAGE_FROM_ID], msg->user))
            goto bad;
    } else {
        memcpy(msg->user, msg->chat, sizeof msg->user);
    }
    if (text->kind == TG_STRING)
        bot_msg_set_text(msg, text->str, text->len);
    else
        msg->kind = BOT_MSG_UNSUPPORTED;
    msg->ts = date_from_value(&u->f[TG_MESSAGE_DATE]);
    *out = msg;
    return TG_PARSE_MSG;
bad:
    bot_msg_free(msg);
    return TG_PARSE_BAD;
}

static enum telegram_parse parse_callback(const struct tg_update *u, struct bot_msg **out)
{
    const struct tg_value *data = &u->f[TG_CALLBACK_DATA];
    struct bot_msg *msg = bot_msg_new(BOT_CH_TELEGRAM, BOT_MSG_BUTTON);
    if (u->f[TG_CALLBACK_FROM].kind != TG_OBJECT || !id_from_value(&u->f[TG_CALLBACK_FROM_ID], msg->user) ||
        !id_from_value(&u->f[TG_CALLBACK_ID], msg->reply_ref))
        goto bad;
    /* The chat's id is absent unless message and chat are objects. */
    if (!id_from_value(&u->f[TG_CALLBACK_CHAT_ID], msg->chat))
        memcpy(msg->chat, msg->user, sizeof msg->chat);
    if (data->kind == TG_STRING)
        bot_msg_set_text(msg, data->str, data->len);
    else
        msg->kind = BOT_MSG_UNSUPPORTED; /* game callbacks carry no data */
    *out = msg;
    return TG_PARSE_MSG;
bad:
    bot_msg_free(msg);
    return TG_PARSE_BAD;
}

static enum telegram_parse parse_fields(const struct tg_update *u, struct bot_msg **out)
{
    char update_id[BOT_ID_MAX];
    if (!u->root_object || !id_from_value(&u->f[TG_UPDATE_ID], update_id))
        return TG_PARSE_BAD;
    /* An edited message is not a new one: an edited PIN is no new try. */
    enum telegram_parse rc;
    if (u->f[TG_MESSAGE].kind == TG_OBJECT)
        rc = parse_message(u, out);
    else if (u->f[TG_CALLBACK].kind == TG_OBJECT)
        rc = parse_callback(u, out);
    else
        rc = TG_PARSE_IGNORED;
    if (rc == TG_PARSE_MSG)
        memcpy((*out)->event_id, update_id, sizeof update_id);
    return rc;
}

/* The tree lives only here (what is kept is copied into the message): its
 * items and strings come from the JSON arena, not one malloc each. */
enum telegram_parse telegram_parse_update_tree(const char *json, size_t len, struct bot_msg **out)
{
    *out = NULL;
    json_arena_begin();
    cJSON *root = cJSON_ParseWithLength(json, len);
    struct tg_update u;
    telegram_update_from_tree(root, &u);
    enum telegram_parse rc = parse_fields(&u, out);
    telegram_update_free(&u);
    cJSON_Delete(root);
    json_arena_end();
    return rc;
}

enum telegram_parse telegram_parse_update(const char *json, size_t len, struct bot_msg **out)
{
    struct tg_update u;
    if (!telegram_update_scan(json, len, &u))
        return telegram_parse_update_tree(json, len, out);
    *out = NULL;
    enum telegram_parse rc = parse_fields(&u, out);
    telegram_update_free(&u);
    return rc;
}

/* ===== Rendering ===== */

size_t telegram_part_len(const char *text, size_t len, size_t max_chars)
{
    return bot_text_part_len(text, len, max_chars);
}

static bool is_numeric_id(const char *s)
{
    if (*s == '-')
        s++;
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static void render_keyboard(struct buf *b, const struct bot_reply *reply)
{
    buf_puts(b, ",\"reply_markup\":{\"inline_keyboard\":[");
    for (size_t i = 0; i < reply->n_buttons;) {
        const struct bot_button *x = &reply->buttons[i];
        bool pair = i + 1 < reply->n_buttons && strlen(x->label) <= TELEGRAM_PAIR_LABEL_MAX &&
                    strlen(reply->buttons[i + 1].label) <= TELEGRAM_PAIR_LABEL_MAX;
        buf_puts(b, i ? ",[" : "[");
        for (size_t k = 0; k < (pair ? 2u : 1u); k++, i++) {
            buf_puts(b, k ? ",{\"text\":" : "{\"text\":");
            buf_json_str(b, reply->buttons[i].label);
            buf_puts(b, ",\"callback_data\":");
            buf_json_str(b, reply->buttons[i].payload);
            buf_putc(b, '}');
        }
        buf_putc(b, ']');
    }
    buf_puts(b, "]}");
}

/* The fields of a sendMessage body, after its opening brace. */
static void render_fields(struct buf *b, const char *chat, const char *text, size_t len,
                          const struct bot_reply *reply)
{
    buf_puts(b, "\"chat_id\":");
    if (is_numeric_id(chat))
        buf_puts(b, chat);
    else
        buf_json_str(b, chat);
    buf_puts(b, ",\"text\":");
    buf_json_html_strn(b, text, len);
    buf_puts(b, ",\"parse_mode\":\"HTML\",\"disable_web_page_preview\":true");
    if (reply && reply->n_buttons)
        render_keyboard(b, reply);
    buf_putc(b, '}');
}

void telegram_render_into(struct buf *b, const char *chat, const char *text, size_t len,
                          const struct bot_reply *reply)
{
    buf_putc(b, '{');
    render_fields(b, chat, text, len, reply);
}

char *telegram_render_message(const char *chat, const char *text, size_t len,
                              const struct bot_reply *reply)
{
    struct buf b;
    buf_init(&b);
    telegram_render_into(&b, chat, text, len, reply);
    return buf_steal(&b);
}

enum outbox_verdict telegram_classify(long status, const char *body, unsigned *retry_after_ms)
{
    *retry_after_ms = 0;
    if (status == 0 || status >= 500)
        return OUTBOX_RETRY;
    if (status == 429) {
        cJSON *root = cJSON_Parse(body ? body : "");
        const cJSON *params = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "parameters") : NULL;
        const cJSON *ra = cJSON_IsObject(params) ? cJSON_GetObjectItemCaseSensitive(params, "retry_after") : NULL;
        double secs = cJSON_IsNumber(ra) && ra->valuedouble > 0 ? ra->valuedouble : 1;
        if (secs > 3600)
            secs = 3600;
        *retry_after_ms = (unsigned)(secs * 1000);
        cJSON_Delete(root);
        return OUTBOX_RETRY_AFTER;
    }
    if (status == 403)
        return OUTBOX_BLOCKED;
    if (status >= 200 && status < 300)
        return OUTBOX_SENT;
    return OUTBOX_FAILED;
}

/* ===== Outbox driver ===== */

static int send_part(struct telegram *tg, struct outbox_item *item);

static void on_api_response(const struct http_client_response *res, void *ud)
{
    struct tg_call *call = ud;
    struct telegram *tg = call->tg;
    struct outbox_item *item = call->item;
    unsigned retry_after = 0;
    enum outbox_verdict v = telegram_classify(res->status, res->body, &retry_after);
    if (v != OUTBOX_SENT)
        log_fmt(v == OUTBOX_RETRY_AFTER ? LOG_INFO : LOG_WARN, "telegram call failed",
                "\"status\":%ld,\"kind\":%s,\"error\":%s", res->status,
                log_q(item->kind == OUTBOX_ACK ? "ack" : "message"),
                log_q(res->error ? res->error : ""));
    if (v != OUTBOX_SENT)
        item->last_error = (int)res->status;
    if (item->kind == OUTBOX_ACK && v == OUTBOX_BLOCKED)
        v = OUTBOX_FAILED; /* an old or foreign callback, not a blocked user */
    bool more = v == OUTBOX_SENT && !call->last;
    if (more) {
        item->part = (unsigned)call->part_end;
        outbox_progress(tg->ob, item); /* a restart resumes at the next part */
    }
    free(call);
    if (more && send_part(tg, item) == 0)
        return;
    outbox_delivered(tg->ob, item, more ? OUTBOX_RETRY : v, retry_after);
}

/* Sends tg->body (the client copies it: the buffer serves the next call). */
static int post(struct telegram *tg, const char *url, struct tg_call *call)
{
    static const char *const headers[] = {"Content-Type: application/json", NULL};
    struct http_client_request req = {
        .method = "POST", .url = url, .headers = headers, .body = tg->body.data,
        .body_len = tg->body.len, .timeout_ms = tg->cfg->send_timeout_ms,
    };
    int rc = http_client_request(tg->http, &req, on_api_response, call);
    if (rc != 0)
        free(call);
    return rc;
}

static int send_part(struct telegram *tg, struct outbox_item *item)
{
    struct tg_call *call = xcalloc(1, sizeof *call);
    call->tg = tg;
    call->item = item;
    buf_reset(&tg->body);
    if (item->kind == OUTBOX_ACK) {
        buf_puts(&tg->body, "{\"callback_query_id\":");
        buf_json_str(&tg->body, item->reply_ref);
        buf_putc(&tg->body, '}');
        call->last = true;
        return post(tg, tg->ack_url, call);
    }
    const char *text = item->reply.text;
    size_t total = strlen(text), off = item->part <= total ? item->part : total;
    size_t len = telegram_part_len(text + off, total - off, TELEGRAM_MAX_TEXT);
    call->part_end = off + len;
    call->last = call->part_end >= total;
    telegram_render_into(&tg->body, item->chat, text + off, len, call->last ? &item->reply : NULL);
    return post(tg, tg->send_url, call);
}

static int deliver(void *ctx, struct outbox_item *item)
{
    return send_part(ctx, item);
}

/* ===== Webhook ===== */

/* Every text message goes through the stored path (dialog_handle_handed):
 * the webhook is answered only once its replies are in Redis. With
 * DVCBOT_TELEGRAM_INLINE_REPLY the first reply rides in that answer as a
 * sendMessage call (Telegram's "reply in the webhook" feature, one API call
 * less) when that cannot put it after something of the chat's still on its
 * way: a typed message (a button press has its acknowledgement queued),
 * nothing queued or in flight for the chat, the chat not blocked, the text
 * one message; the commit also checks that the user's earlier replies
 * are settled (dialog.h, "Handed replies"). A redelivered update whose
 * reply was handed over gets it again, whatever the option says now. */
struct webhook_call {
    struct telegram *tg;
    struct http_request *req;
};

static bool may_hand(const struct bot_msg *msg, const struct bot_replies *replies, void *ud)
{
    const struct webhook_call *wc = ud;
    struct telegram *tg = wc->tg;
    /* A button press's acknowledgement goes through the API, queued first. */
    return tg->cfg->telegram_inline_reply && !msg->reply_ref[0] && replies->n &&
           strlen(replies->items[0].text) <= TELEGRAM_MAX_TEXT &&
           outbox_chat_idle(tg->ob, BOT_CH_TELEGRAM, msg->chat) &&
           !outbox_is_blocked(tg->ob, BOT_CH_TELEGRAM, msg->chat);
}

/* The 200 carrying the reply: {"method":"sendMessage", <its body's fields>}. */
static void respond_with(struct telegram *tg, struct http_request *req, const char *chat,
                         const struct bot_reply *r)
{
    struct buf *b = &tg->body; /* free between API calls: each copies it */
    buf_reset(b);
    buf_puts(b, "{\"method\":\"sendMessage\",");
    render_fields(b, chat, r->text, strlen(r->text), r);
    http_respond(req, 200, "application/json", b->data, b->len, NULL);
    metrics_inc("dvcbot_replies_sent_total", "channel=\"telegram\"", 1);
}

static void on_handled(const struct bot_msg *msg, enum dialog_stored outcome, const struct bot_reply *handed,
                       void *ud)
{
    struct webhook_call *wc = ud;
    if (handed)
        respond_with(wc->tg, wc->req, msg->chat, handed);
    else
        webhook_answer_stored(wc->req, "telegram", outcome);
    free(wc);
}

/* Past the bound: the update's turn was stored before (its reply kept for
 * the response goes in it again), or it is refused. */
static void on_checked(const struct bot_msg *msg, bool done, const struct bot_reply *kept, void *ud)
{
    struct webhook_call *wc = ud;
    if (kept)
        respond_with(wc->tg, wc->req, msg->chat, kept);
    else if (done)
        http_respond_json(wc->req, 200, "{}");
    else
        webhook_refuse(wc->req, "telegram", "overloaded");
    free(wc);
}

void telegram_handle_webhook(struct http_request *req, void *ud)
{
    struct telegram *tg = ud;
    req->route = "telegram";
    const char *secret = http_request_header(req, "X-Telegram-Bot-Api-Secret-Token");
    if (!crypto_secret_equal_str(secret, tg->cfg->telegram_webhook_secret)) {
        http_respond_error(req, 401, "bad secret token");
        return;
    }
    struct bot_msg *msg;
    enum telegram_parse p = telegram_parse_update(req->body.data ? req->body.data : "", req->body.len, &msg);
    if (p == TG_PARSE_BAD) {
        http_respond_error(req, 400, "not a Telegram update");
        return;
    }
    if (p == TG_PARSE_IGNORED) {
        http_respond_json(req, 200, "{}");
        return;
    }
    if (dialog_full(tg->dialog)) {
        /* New work is refused; a redelivery of an update stored before is
         * not new work: acknowledged, with its kept reply if it had one. */
        struct webhook_call *wc = xmalloc(sizeof *wc);
        wc->tg = tg;
        wc->req = req;
        if (dialog_check_stored(tg->dialog, msg, true, on_checked, wc) != 0) {
            free(wc);
            bot_msg_free(msg);
            webhook_refuse(req, "telegram", "overloaded");
        }
        return;
    }
    if (msg->reply_ref[0] && msg->kind != BOT_MSG_TEXT)
        outbox_ack(tg->ob, BOT_CH_TELEGRAM, msg->chat, msg->reply_ref);
    /* Answered once the replies are stored: a crash before that leaves the
     * update unanswered, and Telegram sends it again. */
    struct webhook_call *wc = xmalloc(sizeof *wc);
    wc->tg = tg;
    wc->req = req;
    dialog_handle_handed(tg->dialog, msg, &tg->hand, wc);
}

/* ===== Set-up ===== */

static char *api_url(const struct config *cfg, const char *method)
{
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "%s/bot%s/%s", cfg->telegram_api_base, cfg->telegram_bot_token, method);
    return buf_steal(&b);
}

struct telegram *telegram_new(const struct config *cfg, struct http_client *http,
                              struct outbox *ob, struct dialog *dialog, const char **err)
{
    if (!cfg->telegram_bot_token) {
        *err = "TELEGRAM_BOT_TOKEN is not set";
        return NULL;
    }
    if (!cfg->telegram_webhook_secret || strlen(cfg->telegram_webhook_secret) < 8) {
        *err = "TELEGRAM_WEBHOOK_SECRET must be set (8+ characters) when TELEGRAM_BOT_TOKEN is";
        return NULL;
    }
    struct telegram *tg = xcalloc(1, sizeof *tg);
    tg->cfg = cfg;
    tg->http = http;
    tg->ob = ob;
    tg->dialog = dialog;
    tg->send_url = api_url(cfg, "sendMessage");
    tg->ack_url = api_url(cfg, "answerCallbackQuery");
    /* A handed reply is kept as long as a redelivery is a duplicate. */
    tg->hand = (struct dialog_hand){.may = may_hand, .done = on_handled, .keep_s = cfg->dedupe_ttl_s};
    /* Telegram allows about 30 messages/s overall per bot. */
    double rate = cfg->telegram_rate ? cfg->telegram_rate : 30;
    struct outbox_driver drv = {.deliver = deliver, .ctx = tg, .rate_per_s = rate, .burst = rate,
                                .max_inflight = 16};
    outbox_set_driver(ob, BOT_CH_TELEGRAM, &drv);
    return tg;
}

void telegram_free(struct telegram *tg)
{
    if (!tg)
        return;
    free(tg->send_url);
    free(tg->ack_url);
    buf_free(&tg->body);
    free(tg);
}
