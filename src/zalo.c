/* zalo — Zalo OA webhook parsing, per-user window records and the outbox driver. */
#include "dvcbot/zalo.h"
#include "dvcbot/buf.h"
#include "dvcbot/clock.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/metrics.h"
#include "dvcbot/store_fire.h"
#include "dvcbot/webhook.h"
#include "dvcbot/zalo_token.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>





struct zalo {
    uv_loop_t *loop;
    const struct config *cfg;
    struct store *store;
    struct http_client *http;
    struct outbox *ob;
    struct dialog *dialog;
    struct zalo_token *token;
    char *send_url;
    char *more_text;   /* text above the buttons that did not fit */
};

/* One delivery attempt of an outbox item, across its parts. */
struct zl_delivery {
    struct zalo *z;
    struct outbox_item *item;
    char *token;
    struct zalo_step step;
    int64_t last_in;   /* the user's window as read before sending */
    long sent;
    bool refreshed;    /* the token was refreshed once already */
    bool quote;        /* quote reply_ref (dropped if Zalo refuses it) */
};

/* ===== Signature ===== */

bool zalo_event_timestamp(const char *body, size_t len, char out[ZALO_TIMESTAMP_MAX])
{
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *ts = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "timestamp") : NULL;
    bool ok = false;
    if (cJSON_IsString(ts)) {
        size_t n = strlen(ts->valuestring);
        ok = n > 0 && n < ZALO_TIMESTAMP_MAX && strspn(ts->valuestring, "0123456789") == n;
        if (ok)
            memcpy(out, ts->valuestring, n + 1);
    } else if (cJSON_IsNumber(ts) && isfinite(ts->valuedouble) && ts->valuedouble >= 0 &&
               ts->valuedouble < 1e19 && ts->valuedouble == floor(ts->valuedouble)) {
        snprintf(out, ZALO_TIMESTAMP_MAX, "%.0f", ts->valuedouble);
        ok = true;
    }
    cJSON_Delete(root);
    return ok;
}

void zalo_signature(const char *app_id, const char *body, size_t len, const char *timestamp,
                    const char *secret, char out[ZALO_MAC_MAX])
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, app_id);
    buf_append(&b, body, len);
    buf_puts(&b, timestamp);
    buf_puts(&b, secret);
    char hex[CRYPTO_SHA256_HEX];
    crypto_sha256_hex(b.data, b.len, hex);
    explicit_bzero(b.data, b.len);
    buf_free(&b);
    snprintf(out, ZALO_MAC_MAX, "mac=%s", hex);
}

bool zalo_signature_valid(const char *app_id, const char *secret, const char *body, size_t len,
                          const char *timestamp, const char *header)
{
    if (!header || !app_id || !secret || !timestamp)
        return false;
    char mac[ZALO_MAC_MAX];
    zalo_signature(app_id, body, len, timestamp, secret, mac);
    return crypto_secret_equal_str(header, mac);
}

/* ===== Parsing ===== */

static const cJSON *field(const cJSON *obj, const char *name)
{
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
}

/* Zalo ids are long numeric strings; numbers would lose digits in a double. */
static bool user_id_from(const cJSON *n, char out[BOT_ID_MAX])
{
    if (!cJSON_IsString(n))
        return false;
    const char *s = n->valuestring;
    size_t len = strlen(s);
    if (len == 0 || len >= BOT_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '_' || c == '-'))
            return false;
    }
    memcpy(out, s, len + 1);
    return true;
}

/* s as an id, or its hash when it does not fit: never cut, two ids must not
 * become one. */
static void id_or_hash(const char *s, char out[BOT_ID_MAX])
{
    if (bot_id_set(out, s))
        return;
    char hex[CRYPTO_SHA256_HEX];
    crypto_sha256_hex(s, strlen(s), hex);
    snprintf(out, BOT_ID_MAX, "h%.40s", hex);
}

/* A msg_id for dedupe and quoting. */
static void message_id_from(const cJSON *n, char out[BOT_ID_MAX])
{
    out[0] = '\0';
    if (!cJSON_IsString(n) || !n->valuestring[0] || strpbrk(n->valuestring, "\r\n"))
        return;
    id_or_hash(n->valuestring, out);
}

/* Without a msg_id: "<event>:<timestamp>". */
static void event_id_from(const char *event, const char *ts, char out[BOT_ID_MAX])
{
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "%s:%s", event, ts);
    id_or_hash(buf_cstr(&b), out);
    buf_free(&b);
}

static const char *event_user_field(const cJSON *root, char out[BOT_ID_MAX])
{
    if (user_id_from(field(field(root, "sender"), "id"), out) ||
        user_id_from(field(field(root, "follower"), "id"), out) ||
        user_id_from(field(root, "user_id"), out))
        return out;
    return NULL;
}

static enum bot_msg_kind kind_of(const char *event, const char *text)
{
    if (strcmp(event, "follow") == 0 || strcmp(event, "user_click_chatnow") == 0)
        return BOT_MSG_START;
    if (strcmp(event, "user_send_text") != 0)
        return BOT_MSG_UNSUPPORTED;
    return strncmp(text, ZALO_PAYLOAD_MARK, strlen(ZALO_PAYLOAD_MARK)) == 0 ? BOT_MSG_BUTTON
                                                                            : BOT_MSG_TEXT;
}

static bool event_handled(const char *event)
{
    return strcmp(event, "follow") == 0 || strcmp(event, "user_click_chatnow") == 0 ||
           strcmp(event, "unfollow") == 0 || strncmp(event, "user_send_", 10) == 0;
}

enum zalo_parse zalo_parse_event(const char *json, size_t len, struct bot_msg **out,
                                 char user[BOT_ID_MAX])
{
    *out = NULL;
    user[0] = '\0';
    cJSON *root = cJSON_ParseWithLength(json, len);
    enum zalo_parse rc = ZL_PARSE_BAD;
    char ts[ZALO_TIMESTAMP_MAX];
    const cJSON *name = field(root, "event_name");
    if (!cJSON_IsObject(root) || !cJSON_IsString(name) || !zalo_event_timestamp(json, len, ts))
        goto out;
    const char *event = name->valuestring;
    if (!event_handled(event)) {
        rc = ZL_PARSE_IGNORED;
        goto out;
    }
    if (!event_user_field(root, user))
        goto out;
    if (strcmp(event, "unfollow") == 0) {
        rc = ZL_PARSE_UNFOLLOW;
        goto out;
    }
    const cJSON *message = field(root, "message");
    const cJSON *text = field(message, "text");
    const char *t = cJSON_IsString(text) ? text->valuestring : "";
    struct bot_msg *m = bot_msg_new(BOT_CH_ZALO, kind_of(event, t));
    memcpy(m->user, user, BOT_ID_MAX);
    memcpy(m->chat, user, BOT_ID_MAX);
    m->ts = (int64_t)(strtoll(ts, NULL, 10) / 1000);
    message_id_from(field(message, "msg_id"), m->reply_ref);
    if (m->reply_ref[0])
        memcpy(m->event_id, m->reply_ref, BOT_ID_MAX);
    else
        event_id_from(event, ts, m->event_id);
    if (m->kind == BOT_MSG_BUTTON)
        bot_msg_set_text(m, t + strlen(ZALO_PAYLOAD_MARK), strlen(t + strlen(ZALO_PAYLOAD_MARK)));
    else if (m->kind == BOT_MSG_TEXT)
        bot_msg_set_text(m, t, strlen(t));
    *out = m;
    rc = ZL_PARSE_MSG;
out:
    cJSON_Delete(root);
    return rc;
}

/* ===== Rendering ===== */

size_t zalo_button_groups(size_t n_buttons)
{
    return n_buttons ? (n_buttons + ZALO_MAX_BUTTONS - 1) / ZALO_MAX_BUTTONS : 1;
}

void zalo_plan_step(const char *text, size_t n_buttons, unsigned part, struct zalo_step *s)
{
    size_t len = strlen(text), groups = zalo_button_groups(n_buttons);
    memset(s, 0, sizeof *s);
    if (part < len) {
        s->text_off = part;
        s->text_len = bot_text_part_len(text + part, len - part, ZALO_MAX_TEXT);
        if (part + s->text_len < len) {
            s->next_part = (unsigned)(part + s->text_len);
            return;
        }
        s->btn_to = n_buttons < ZALO_MAX_BUTTONS ? n_buttons : ZALO_MAX_BUTTONS;
        s->next_part = (unsigned)len + 1;
        s->last = groups <= 1;
        return;
    }
    /* Button groups after the text (group 0 too when there is no text). */
    size_t g = len ? part - len : part;
    s->more_text = true;
    s->btn_from = g * ZALO_MAX_BUTTONS < n_buttons ? g * ZALO_MAX_BUTTONS : n_buttons;
    s->btn_to = s->btn_from + ZALO_MAX_BUTTONS < n_buttons ? s->btn_from + ZALO_MAX_BUTTONS : n_buttons;
    s->next_part = part + 1;
    s->last = g + 1 >= groups;
}

static void render_buttons(struct buf *b, const struct bot_button *buttons, size_t n)
{
    buf_puts(b, ",\"attachment\":{\"type\":\"template\",\"payload\":{\"buttons\":[");
    for (size_t i = 0; i < n; i++) {
        const char *label = buttons[i].label;
        size_t cut = bot_text_prefix_len(label, strlen(label), ZALO_MAX_TITLE);
        buf_puts(b, i ? ",{\"title\":" : "{\"title\":");
        buf_json_strn(b, label, cut);
        buf_puts(b, ",\"type\":\"oa.query.hide\",\"payload\":");
        struct buf p;
        buf_init(&p);
        buf_puts(&p, ZALO_PAYLOAD_MARK);
        buf_puts(&p, buttons[i].payload);
        buf_json_strn(b, p.data, p.len);
        buf_free(&p);
        buf_putc(b, '}');
    }
    buf_puts(b, "]}}");
}

char *zalo_render_message(const char *user_id, const char *text, size_t len,
                          const struct bot_button *buttons, size_t n_buttons, const char *quote)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"recipient\":{\"user_id\":");
    buf_json_str(&b, user_id);
    buf_puts(&b, "},\"message\":{\"text\":");
    buf_json_strn(&b, text, len);
    if (quote && *quote) {
        buf_puts(&b, ",\"react_message_id\":");
        buf_json_str(&b, quote);
    }
    if (n_buttons)
        render_buttons(&b, buttons, n_buttons);
    buf_puts(&b, "}}");
    return buf_steal(&b);
}

/* ===== Outbox driver ===== */

/* What recipient.c reads for zalo_proactive_refusal, in this order. */
static const char *const PROACTIVE_FIELDS[] = {ZALO_F_UNFOLLOWED, ZALO_F_LAST_IN, ZALO_F_SENT, NULL};

static const char *proactive_refusal(void *ctx, int64_t now, const char *const *values, bool *blocked)
{
    (void)ctx;
    bool unfollowed = values[0] && values[0][0] && strcmp(values[0], "0") != 0;
    const char *why = zalo_proactive_refusal(now, unfollowed, values[1] ? strtoll(values[1], NULL, 10) : 0,
                                             values[2] ? strtol(values[2], NULL, 10) : 0);
    *blocked = why && unfollowed;
    return why;
}

static void ignore_reply(redisReply *r, void *ud)
{
    (void)r;
    (void)ud;
}

static void user_key(char *out, size_t n, const char *prefix, const char *user)
{
    snprintf(out, n, "%s{zl:%s}", prefix, user);
}

static void finish(struct zl_delivery *d, enum outbox_verdict v)
{
    struct zalo *z = d->z;
    struct outbox_item *item = d->item;
    free(d->token);
    free(d);
    outbox_delivered(z->ob, item, v, 0);
}

static void send_step(struct zl_delivery *d);

/* The message went out: count it against the user's window. */
static void account_sent(struct zl_delivery *d)
{
    struct zalo *z = d->z;
    bool quoted = d->quote && d->item->reply_ref[0];
    enum zalo_window w = zalo_window_of(clock_now(), d->last_in, d->sent, quoted);
    char labels[48], key[BOT_ID_MAX + 16];
    snprintf(labels, sizeof labels, "window=\"%s\"", zalo_window_name(w));
    metrics_inc("dvcbot_zalo_messages_total", labels, 1);
    d->sent++;
    user_key(key, sizeof key, "u:", d->item->chat);
    store_fire(z->store, "zalo_sent", "FCALL zalo_sent 1 %s", key); /* the quota count */
}

/* Zalo refused this user: staff read why in the user record. */
static void record_refusal(struct zl_delivery *d, int code)
{
    const char *reason = zalo_error_reason(code);
    char labels[64], key[BOT_ID_MAX + 16], codes[16], now[24];
    snprintf(labels, sizeof labels, "reason=\"%s\"", reason);
    metrics_inc("dvcbot_zalo_send_errors_total", labels, 1);
    log_fmt(LOG_WARN, "zalo refused message for user", "\"reason\":%s,\"error\":%d", log_q(reason), code);
    user_key(key, sizeof key, "u:", d->item->chat);
    snprintf(codes, sizeof codes, "%d", code);
    snprintf(now, sizeof now, "%lld", (long long)clock_now());
    store_fire(d->z->store, "zalo_refusal", "FCALL zalo_refusal 1 %s %s %s %s", key,
                  reason, codes, now);
}

static void on_token(const char *token, void *ud);

static void on_api_response(const struct http_client_response *res, void *ud)
{
    struct zl_delivery *d = ud;
    struct zalo *z = d->z;
    int code;
    enum zalo_result r = zalo_classify(res->status, res->body, &code);
    if (r != ZALO_OK)
        log_fmt(r == ZALO_RETRY || r == ZALO_THROTTLE ? LOG_INFO : LOG_WARN, "zalo call failed",
                "\"status\":%ld,\"error\":%d,\"reason\":%s,\"transport\":%s", res->status, code,
                log_q(zalo_error_reason(code)), log_q(res->error ? res->error : ""));
    d->item->last_error = code ? code : (int)res->status;
    switch (r) {
    case ZALO_OK:
        account_sent(d);
        d->item->part = d->step.next_part;
        if (d->step.last) {
            finish(d, OUTBOX_SENT);
            return;
        }
        /* Recorded with the stored reply: a restart resumes at the next part. */
        outbox_progress(z->ob, d->item);
        send_step(d);
        return;
    case ZALO_TOKEN:
        if (d->refreshed) {
            finish(d, OUTBOX_RETRY);
            return;
        }
        d->refreshed = true;
        zalo_token_refresh(z->token, d->token, on_token, d);
        return;
    case ZALO_BAD_REQUEST:
        if (d->quote && d->item->reply_ref[0]) {
            log_msg(LOG_WARN, "zalo refused the quoted reply, sending it unquoted");
            d->quote = false;
            send_step(d);
            return;
        }
        finish(d, OUTBOX_FAILED);
        return;
    case ZALO_USER:
        record_refusal(d, code);
        finish(d, OUTBOX_FAILED);
        return;
    case ZALO_THROTTLE:
        finish(d, OUTBOX_RETRY_AFTER); /* not a failure: no attempt used */
        return;
    case ZALO_RETRY:
        finish(d, OUTBOX_RETRY); /* bounded: gives up after the attempts, code recorded */
        return;
    case ZALO_FAILED:
        finish(d, OUTBOX_FAILED);
        return;
    }
}

static void send_step(struct zl_delivery *d)
{
    struct zalo *z = d->z;
    struct outbox_item *it = d->item;
    const char *text = it->reply.text ? it->reply.text : "";
    zalo_plan_step(text, it->reply.n_buttons, it->part, &d->step);
    const struct zalo_step *s = &d->step;
    const char *t = s->more_text ? z->more_text : text + s->text_off;
    size_t tlen = s->more_text ? strlen(z->more_text) : s->text_len;
    char *body = zalo_render_message(it->chat, t, tlen, it->reply.buttons + s->btn_from,
                                     s->btn_to - s->btn_from, d->quote ? it->reply_ref : NULL);
    struct buf auth;
    buf_init(&auth);
    buf_printf(&auth, "access_token: %s", d->token);
    const char *headers[] = {"Content-Type: application/json", buf_cstr(&auth), NULL};
    struct http_client_request req = {
        .method = "POST", .url = z->send_url, .headers = headers, .body = body,
        .body_len = strlen(body), .timeout_ms = z->cfg->send_timeout_ms,
    };
    int rc = http_client_request(z->http, &req, on_api_response, d);
    free(body);
    explicit_bzero(auth.data, auth.len);
    buf_free(&auth);
    if (rc != 0)
        finish(d, OUTBOX_RETRY);
}

static void on_token(const char *token, void *ud)
{
    struct zl_delivery *d = ud;
    if (!token) {
        log_msg(LOG_WARN, "zalo message postponed: no usable access token");
        finish(d, OUTBOX_RETRY);
        return;
    }
    free(d->token);
    d->token = xstrdup(token);
    send_step(d);
}

static long long reply_int(const redisReply *r, size_t i)
{
    if (!r || r->type != REDIS_REPLY_ARRAY || i >= r->elements)
        return 0;
    const redisReply *e = r->element[i];
    return e->type == REDIS_REPLY_STRING ? strtoll(e->str, NULL, 10) : 0;
}

static void on_user_state(redisReply *r, void *ud)
{
    struct zl_delivery *d = ud;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 3) {
        if (r->element[0]->type == REDIS_REPLY_STRING) {
            log_msg(LOG_INFO, "zalo message dropped: the user unfollowed the OA");
            finish(d, OUTBOX_BLOCKED);
            return;
        }
        d->last_in = reply_int(r, 1);
        d->sent = (long)reply_int(r, 2);
    }
    zalo_token_get(d->z->token, on_token, d);
}

static int deliver(void *ctx, struct outbox_item *item)
{
    struct zalo *z = ctx;
    if (item->kind != OUTBOX_MESSAGE) {
        outbox_delivered(z->ob, item, OUTBOX_SENT, 0); /* Zalo has no acknowledgements */
        return 0;
    }
    struct zl_delivery *d = xcalloc(1, sizeof *d);
    d->z = z;
    d->item = item;
    d->quote = true;
    char key[BOT_ID_MAX + 16];
    user_key(key, sizeof key, "u:", item->chat);
    if (store_command(z->store, on_user_state, d, "HMGET %s %s %s %s", key, ZALO_F_UNFOLLOWED,
                      ZALO_F_LAST_IN, ZALO_F_SENT) != 0)
        on_user_state(NULL, d); /* without Redis: send anyway */
    return 0;
}

/* ===== Webhook ===== */

static void on_stored(const struct bot_msg *msg, enum dialog_stored outcome, void *ud)
{
    (void)msg;
    webhook_answer_stored(ud, "zalo", outcome);
}

/* Past the bound: the event's turn was stored before, or it is refused. */
static void on_checked(const struct bot_msg *msg, bool done, const struct bot_reply *kept, void *ud)
{
    (void)msg;
    (void)kept;
    if (done)
        http_respond_json(ud, 200, "{}");
    else
        webhook_refuse(ud, "zalo", "overloaded");
}

static void count_event(const char *what)
{
    char labels[48];
    snprintf(labels, sizeof labels, "event=\"%s\"", what);
    metrics_inc("dvcbot_zalo_events_total", labels, 1);
}

static void refuse(struct http_request *req, const char *reason, int status, const char *message)
{
    char labels[48];
    snprintf(labels, sizeof labels, "reason=\"%s\"", reason);
    metrics_inc("dvcbot_zalo_events_refused_total", labels, 1);
    log_fmt(LOG_WARN, "zalo event refused", "\"reason\":%s", log_q(reason));
    if (status == 200)
        http_respond_json(req, 200, "{\"ignored\":true}");
    else
        http_respond_error(req, status, message);
}

static void record_interaction(struct zalo *z, const struct bot_msg *m)
{
    char key[BOT_ID_MAX + 16], ts[24];
    user_key(key, sizeof key, "u:", m->user);
    snprintf(ts, sizeof ts, "%lld", (long long)m->ts);
    store_fire(z->store, "zalo_interaction", "FCALL zalo_interaction 1 %s %s %s", key, ts,
                  m->reply_ref);
}

static void handle_unfollow(struct zalo *z, const char *user)
{
    char skey[BOT_ID_MAX + 16], ukey[BOT_ID_MAX + 16], now[24];
    count_event("unfollow");
    outbox_mark_blocked(z->ob, BOT_CH_ZALO, user, true);
    user_key(skey, sizeof skey, "s:", user);
    user_key(ukey, sizeof ukey, "u:", user);
    snprintf(now, sizeof now, "%lld", (long long)clock_now());
    if (store_command(z->store, ignore_reply, NULL, "FCALL zalo_unfollow 2 %s %s %s", skey, ukey,
                      now) != 0)
        log_msg(LOG_WARN, "unfollow not stored: redis unavailable");
}

static const char *event_label(enum bot_msg_kind k)
{
    switch (k) {
    case BOT_MSG_TEXT:
        return "text";
    case BOT_MSG_BUTTON:
        return "button";
    case BOT_MSG_START:
        return "start";
    default:
        return "unsupported";
    }
}

/* Older than ZALO_MAX_EVENT_AGE (never older than the dedupe TTL: within it
 * a replay of an event handled before meets its mark and is dropped), or
 * more than ZALO_MAX_EVENT_AHEAD_S ahead of our clock. */
static bool too_old(const struct zalo *z, const char *ts)
{
    int64_t ms = strtoll(ts, NULL, 10);
    int64_t now_ms = clock_now_ms();
    unsigned age_s = z->cfg->zalo_max_event_age_s;
    if (age_s > z->cfg->dedupe_ttl_s)
        age_s = z->cfg->dedupe_ttl_s;
    return ms < now_ms - (int64_t)age_s * 1000 || ms > now_ms + (int64_t)ZALO_MAX_EVENT_AHEAD_S * 1000;
}

void zalo_handle_webhook(struct http_request *req, void *ud)
{
    struct zalo *z = ud;
    req->route = "zalo";
    const char *body = req->body.data ? req->body.data : "";
    size_t len = req->body.len;
    char ts[ZALO_TIMESTAMP_MAX];
    if (!zalo_event_timestamp(body, len, ts)) {
        refuse(req, "malformed", 400, "not a Zalo event");
        return;
    }
    if (!zalo_signature_valid(z->cfg->zalo_app_id, z->cfg->zalo_oa_secret, body, len, ts,
                              http_request_header(req, "X-ZEvent-Signature"))) {
        refuse(req, "signature", 401, "bad signature");
        return;
    }
    if (too_old(z, ts)) {
        /* 200: Zalo would only redeliver it, just as old. */
        refuse(req, "stale", 200, NULL);
        return;
    }
    struct bot_msg *msg;
    char user[BOT_ID_MAX];
    enum zalo_parse p = zalo_parse_event(body, len, &msg, user);
    if ((p == ZL_PARSE_MSG || p == ZL_PARSE_UNFOLLOW) && dialog_full(z->dialog)) {
        /* New work is refused; a redelivery of an event stored before is not
         * new work (Zalo did not get our 200): acknowledged. */
        if (p == ZL_PARSE_MSG && dialog_check_stored(z->dialog, msg, false, on_checked, req) == 0)
            return;
        bot_msg_free(msg);
        webhook_refuse(req, "zalo", "overloaded");
        return;
    }
    if (p != ZL_PARSE_MSG)
        http_respond_json(req, 200, "{}");
    switch (p) {
    case ZL_PARSE_BAD:
        count_event("unreadable");
        log_msg(LOG_WARN, "zalo event unreadable, ignored");
        return;
    case ZL_PARSE_IGNORED:
        count_event("ignored");
        return;
    case ZL_PARSE_UNFOLLOW:
        handle_unfollow(z, user);
        return;
    case ZL_PARSE_MSG:
        count_event(event_label(msg->kind));
        record_interaction(z, msg);
        /* Answered once the replies are stored (a few ms): a crash before
         * that leaves the event unanswered, and Zalo sends it again. */
        dialog_handle_stored(z->dialog, msg, msg->reply_ref[0] ? msg->reply_ref : NULL, on_stored, req);
        return;
    }
}

/* ===== Set-up ===== */

void zalo_update_metrics(struct zalo *z)
{
    if (z)
        metrics_set("dvcbot_zalo_token_expires_in_seconds", "", (double)zalo_token_expires_in(z->token));
}

static void declare_metrics(void)
{
    metrics_declare("dvcbot_zalo_events_total", METRIC_COUNTER,
                    "Zalo webhook events processed, by kind.", NULL, 0);
    metrics_declare("dvcbot_zalo_events_refused_total", METRIC_COUNTER,
                    "Zalo webhook events refused (signature, stale, malformed).", NULL, 0);
    metrics_declare("dvcbot_zalo_messages_total", METRIC_COUNTER,
                    "Zalo messages sent, by the user's window (free, paid, closed, unknown).", NULL, 0);
    metrics_declare("dvcbot_zalo_send_errors_total", METRIC_COUNTER,
                    "Zalo messages refused for a user, by reason (quota, not_follower, no_recent_interaction...).",
                    NULL, 0);
    metrics_declare("dvcbot_zalo_token_expires_in_seconds", METRIC_GAUGE,
                    "Seconds until the Zalo access token expires (-1 unknown).", NULL, 0);
}

struct zalo *zalo_new(uv_loop_t *loop, const struct config *cfg, struct store *store,
                      struct http_client *http, struct outbox *ob, struct dialog *dialog,
                      const struct tpl_set *tpl, const char **err)
{
    if (!cfg->zalo_app_id || !cfg->zalo_oa_secret) {
        *err = "ZALO_APP_ID and ZALO_OA_SECRET must both be set";
        return NULL;
    }
    char *more = tpl_render_text(tpl, "zalo_more_buttons", NULL, 0);
    if (!more) {
        *err = "template zalo_more_buttons is missing";
        return NULL;
    }
    struct zalo *z = xcalloc(1, sizeof *z);
    z->loop = loop;
    z->cfg = cfg;
    z->store = store;
    z->http = http;
    z->ob = ob;
    z->dialog = dialog;
    z->more_text = more;
    struct buf url;
    buf_init(&url);
    buf_printf(&url, "%s/v3.0/oa/message/cs", cfg->zalo_api_base);
    z->send_url = buf_steal(&url);
    declare_metrics();
    z->token = zalo_token_new(loop, cfg, store, http);
    /* Zalo takes about 20 calls/s per app; stay well below. */
    struct outbox_driver drv = {.deliver = deliver, .ctx = z, .rate_per_s = 10, .burst = 10,
                                .max_inflight = 8, .user_fields = PROACTIVE_FIELDS,
                                .proactive_refusal = proactive_refusal, .error_name = zalo_error_reason};
    outbox_set_driver(ob, BOT_CH_ZALO, &drv);
    return z;
}

void zalo_close(struct zalo *z)
{
    if (!z)
        return;
    zalo_token_close(z->token);
    free(z->send_url);
    free(z->more_text);
    free(z);
}
