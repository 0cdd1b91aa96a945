/* feedback — rating buttons, the comment mode, intents gop_y and khieu_nai. */
#include "dvcbot/feedback.h"
#include "dvcbot/buf.h"
#include "dvcbot/clock.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/normalize.h"
#include "dvcbot/refs.h"
#include "dvcbot/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MODE_FEEDBACK "feedback"

struct feedback {
    struct stats *st;
    const struct flow_set *words;
    feedback_question_fn asks; /* feedback_on_question; NULL: none */
    void *asks_ud;
};


static const char *str_of(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

cJSON *feedback_after_begin(struct dialog_turn *t, const char *id, const char *commune)
{
    cJSON_DeleteItemFromObjectCaseSensitive(t->session, "after");
    cJSON *after = cJSON_AddObjectToObject(t->session, "after");
    cJSON_AddStringToObject(after, "id", id);
    if (commune)
        cJSON_AddStringToObject(after, "commune", commune);
    return after;
}

/* The comment mode, unrated: the next typed line may be the stars or a
 * comment about id. after_flow: the rating closing a flow (not asked for). */
static void enter_comment_mode(struct dialog_turn *t, const char *id, const char *commune,
                               bool after_flow)
{
    cJSON_DeleteItemFromObjectCaseSensitive(t->session, "fb");
    cJSON *ctx = cJSON_AddObjectToObject(t->session, "fb");
    cJSON_AddStringToObject(ctx, "id", id);
    cJSON_AddStringToObject(ctx, "commune", commune);
    if (after_flow)
        cJSON_AddTrueToObject(ctx, "flow");
    dialog_turn_set_mode(t, MODE_FEEDBACK);
}

void feedback_ask_rating(struct dialog_turn *t)
{
    const cJSON *after = cJSON_GetObjectItemCaseSensitive(t->session, "after");
    if (!cJSON_IsObject(after) || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(after, "rated")))
        return;
    const struct intent *in = catalog_find(t->deps->catalog, str_of(after, "id"));
    if (in && in->kind == INTENT_PROCEDURE) {
        const struct tpl_var v = {"name", in->name};
        dialog_turn_render(t, "rate_ask", &v, 1);
        enter_comment_mode(t, in->id, str_of(after, "commune"), true);
    } else {
        dialog_turn_render(t, "rate_ask_general", NULL, 0);
    }
}

static bool is_complaint(const struct dialog_turn *t);
static bool answered_yes_no(const struct feedback *fb, struct dialog_turn *t);

/* ===== rate:<n> ===== */

static void rate(struct dialog_turn *t, struct feedback *fb, int stars)
{
    if (dialog_turn_refuse_degraded(t))
        return;
    cJSON *after = cJSON_GetObjectItemCaseSensitive(t->session, "after");
    if (!cJSON_IsObject(after))
        after = feedback_after_begin(t, STATS_GENERAL, NULL);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(after, "rated"))) {
        dialog_turn_reply(t, "rate_already", NULL, 0);
        return;
    }
    const char *proc = str_of(after, "id");
    if (!catalog_find(t->deps->catalog, proc))
        proc = STATS_GENERAL;
    stats_rating(fb->st, proc, str_of(after, "commune"), stars);
    cJSON_AddTrueToObject(after, "rated");
    cJSON_DeleteItemFromObjectCaseSensitive(t->session, "fb");
    cJSON *ctx = cJSON_AddObjectToObject(t->session, "fb");
    cJSON_AddStringToObject(ctx, "id", proc);
    cJSON_AddStringToObject(ctx, "commune", str_of(after, "commune"));
    cJSON_AddNumberToObject(ctx, "stars", stars);
    dialog_turn_set_mode(t, MODE_FEEDBACK);
    dialog_turn_reply(t, "rate_thanks", NULL, 0);
}

static void on_rate(struct dialog_turn *t, void *ud)
{
    int stars = t->arg[0] >= '1' && t->arg[0] <= '5' && !t->arg[1] ? t->arg[0] - '0' : 0;
    if (!stars) {
        dialog_turn_reply(t, "help", NULL, 0);
        return;
    }
    rate(t, ud, stars);
}

/* "5", "5 sao", "4⭐" typed while a rating is asked (after gop_y): the
 * stars, else 0. */
static int typed_stars(const struct dialog_turn *t)
{
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(t->session, "fb");
    if (cJSON_GetObjectItemCaseSensitive(ctx, "stars") || is_complaint(t))
        return 0;
    char *f = norm_fold(t->msg->text, strlen(t->msg->text), NULL);
    int stars = f && f[0] >= '1' && f[0] <= '5' && (!f[1] || strcmp(f + 1, " sao") == 0)
                    ? f[0] - '0' : 0;
    free(f);
    return stars;
}

/* ===== The comment ===== */

static void leave_feedback(struct dialog_turn *t)
{
    cJSON_DeleteItemFromObjectCaseSensitive(t->session, "fb");
    dialog_turn_set_mode(t, NULL);
}

static void ignore_reply(redisReply *r, void *ud)
{
    (void)ud;
    if (!r || r->type == REDIS_REPLY_ERROR)
        log_msg(LOG_WARN, "comment not stored");
}

/* The comment being typed is a complaint (intent khieu_nai), not feedback. */
static bool is_complaint(const struct dialog_turn *t)
{
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(t->session, "fb");
    return strcmp(str_of(ctx, "kind"), FEEDBACK_KIND_COMPLAINT) == 0;
}

/* A comment after a rating that is a complaint in the matcher's eyes
 * becomes one: the session's "fb" context says so from here on. */
static void mark_complaint_if_it_is_one(struct dialog_turn *t)
{
    struct match_result m;
    const char *text = t->msg->text;
    cJSON *ctx = cJSON_GetObjectItemCaseSensitive(t->session, "fb");
    if (!cJSON_IsObject(ctx) || is_complaint(t))
        return;
    matcher_classify(t->deps->matcher, text, strlen(text), &m);
    if (strcmp(m.id, "khieu_nai") != 0 || m.score < FEEDBACK_REQUEST_SCORE)
        return;
    cJSON_DeleteItemFromObjectCaseSensitive(ctx, "kind");
    cJSON_AddStringToObject(ctx, "kind", FEEDBACK_KIND_COMPLAINT);
}

static int store_comment(struct feedback *fb, struct dialog_turn *t, const char *comment)
{
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(t->session, "fb");
    const cJSON *stars = cJSON_GetObjectItemCaseSensitive(ctx, "stars");
    char key[160], refs[160], now[24];
    dialog_user_redis_key(key, sizeof key, "fb:", t->user_key, NULL);
    dialog_user_redis_key(refs, sizeof refs, "refs:", t->user_key, NULL);
    snprintf(now, sizeof now, "%lld", (long long)clock_now());
    struct buf line;
    buf_init(&line);
    buf_puts(&line, "{\"procedure\":");
    buf_json_str(&line, str_of(ctx, "id"));
    buf_puts(&line, ",\"commune\":");
    buf_json_str(&line, str_of(ctx, "commune"));
    buf_puts(&line, ",\"kind\":");
    buf_json_str(&line, is_complaint(t) ? FEEDBACK_KIND_COMPLAINT : FEEDBACK_KIND_COMMENT);
    buf_printf(&line, ",\"stars\":%d,\"at\":%s,\"comment\":", cJSON_IsNumber(stars) ? stars->valueint : 0, now);
    buf_json_str(&line, comment);
    buf_putc(&line, '}');
    char keep[16];
    snprintf(keep, sizeof keep, "%d", FEEDBACK_KEEP - 1);
    struct store *s = t->deps->store;
    int rc = store_command(s, ignore_reply, NULL, "FCALL feedback_comment 2 %s %s %b %s %s", key,
                           refs, line.data, line.len, keep, STATS_KEY_COMMENTS);
    buf_free(&line);
    if (rc == 0)
        rc = refs_keep(s, t->deps->cfg->user_ttl_s, t->user_key);
    if (rc == 0)
        rc = store_command(s, ignore_reply, NULL, "ZADD %s %s %s", STATS_KEY_COMMENTS, now,
                           t->user_key);
    if (rc != 0)
        return rc;
    stats_count(fb->st, is_complaint(t) ? "complaints" : "comments");
    return 0;
}

/* The optional comment after a rating is not what came: the user asks for
 * something ("tra cứu hồ sơ ...", /start, "gặp cán bộ") — a command, or
 * clearly an action other than feedback ("hồ sơ chậm quá" is a comment).
 * Such a message is handled, not stored. A complaint asked for is taken. */
static bool asks_for_something(const struct feedback *fb, struct dialog_turn *t)
{
    const char *text = t->msg->text;
    if (is_complaint(t))
        return false;
    if (text[0] == '/')
        return true;
    dialog_turn_classify(t);
    const struct match_result *m = &t->match;
    const struct intent *in = catalog_find(t->deps->catalog, m->id);
    bool about_us = strcmp(m->id, "gop_y") == 0 || strcmp(m->id, "khieu_nai") == 0;
    bool sure = in && m->score >= FEEDBACK_REQUEST_SCORE && !about_us;
    if (sure && in->kind == INTENT_ACTION)
        return true;
    /* The flow's own rating was not asked for: a question after it (another
     * procedure, "phí bao nhiêu", thanks) is one, not a comment. */
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(t->session, "fb");
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ctx, "flow")) ||
        cJSON_GetObjectItemCaseSensitive(ctx, "stars"))
        return false;
    return (sure && strcmp(m->id, CATALOG_FALLBACK_ID) != 0) || (fb->asks && fb->asks(t, fb->asks_ud));
}

static bool on_comment_mode(struct dialog_turn *t, void *ud)
{
    struct feedback *fb = ud;
    const struct bot_msg *m = t->msg;
    if (m->kind == BOT_MSG_BUTTON && strcmp(m->text, "fb:skip") == 0) {
        leave_feedback(t);
        dialog_turn_reply(t, "feedback_skipped", NULL, 0);
        return true;
    }
    if (m->kind != BOT_MSG_TEXT || asks_for_something(fb, t)) {
        leave_feedback(t); /* another button or request: the user moved on */
        return false;
    }
    int stars = typed_stars(t);
    if (stars) {
        rate(t, fb, stars);
        return true;
    }
    if (answered_yes_no(fb, t))
        return true;
    char comment[VALIDATE_OUT_MAX];
    enum valid_code rc = validate_text(m->text, 2, FEEDBACK_COMMENT_MAX, comment, sizeof comment);
    if (rc != VALID_OK) {
        char max[16];
        snprintf(max, sizeof max, "%d", FEEDBACK_COMMENT_MAX);
        const struct tpl_var v = {"max", max};
        dialog_turn_reply(t, "feedback_invalid", &v, 1);
        return true;
    }
    mark_complaint_if_it_is_one(t);
    if (store_comment(fb, t, comment) != 0) {
        dialog_reply_busy_store(t);
        dialog_turn_done(t);
        return true;
    }
    const char *saved = is_complaint(t) ? "complaint_saved" : "feedback_saved";
    leave_feedback(t);
    dialog_turn_reply(t, saved, NULL, 0);
    return true;
}

/* "không" / "thôi" under "có góp ý gì thêm không?": skipped (before any
 * stars, after gop_y: a plain "Dạ"); "có": the comment is asked for. Neither
 * is a comment. A complaint being typed takes every line. */
static bool answered_yes_no(const struct feedback *fb, struct dialog_turn *t)
{
    if (is_complaint(t))
        return false;
    enum flow_command cmd = flow_set_command_of(fb->words, t->msg->text);
    if (cmd == FLOW_CMD_NO || cmd == FLOW_CMD_CANCEL) {
        const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(t->session, "fb");
        bool rated = cJSON_GetObjectItemCaseSensitive(ctx, "stars") != NULL;
        leave_feedback(t);
        dialog_turn_reply(t, rated ? "feedback_skipped" : "yes_no_alone", NULL, 0);
        return true;
    }
    if (cmd == FLOW_CMD_YES) {
        dialog_turn_reply(t, "feedback_go_on", NULL, 0);
        return true;
    }
    return false;
}

/* fb:skip outside the comment mode: a stale button. */
static void on_stale_skip(struct dialog_turn *t, void *ud)
{
    (void)ud;
    dialog_reply_menu(t);
    dialog_turn_done(t);
}

/* ===== Intent gop_y ===== */

/* The rating is asked and the comment mode entered at once: a comment
 * typed before (or instead of) the stars is kept, unrated. */
static void on_gop_y(struct dialog_turn *t, void *ud)
{
    (void)ud;
    feedback_after_begin(t, STATS_GENERAL, NULL);
    enter_comment_mode(t, STATS_GENERAL, "", false);
    feedback_ask_rating(t);
    dialog_turn_done(t);
}

/* ===== Intent khieu_nai ===== */

/* How to complain, with a button to leave the complaint here. */
static void on_khieu_nai(struct dialog_turn *t, void *ud)
{
    (void)ud;
    dialog_turn_reply(t, "complaint_info", NULL, 0);
}

/* fb:complaint: the next typed line is kept as a complaint. */
static void on_complaint_button(struct dialog_turn *t, void *ud)
{
    (void)ud;
    if (dialog_turn_refuse_degraded(t))
        return;
    cJSON_DeleteItemFromObjectCaseSensitive(t->session, "fb");
    cJSON *ctx = cJSON_AddObjectToObject(t->session, "fb");
    cJSON_AddStringToObject(ctx, "id", STATS_GENERAL);
    cJSON_AddStringToObject(ctx, "commune", "");
    cJSON_AddStringToObject(ctx, "kind", FEEDBACK_KIND_COMPLAINT);
    dialog_turn_set_mode(t, MODE_FEEDBACK);
    char max[16];
    snprintf(max, sizeof max, "%d", FEEDBACK_COMMENT_MAX);
    const struct tpl_var v = {"max", max};
    dialog_turn_reply(t, "complaint_ask", &v, 1);
}

struct feedback *feedback_new(struct dialog *d, struct stats *st, const struct flow_set *words)
{
    struct feedback *fb = xcalloc(1, sizeof *fb);
    fb->st = st;
    fb->words = words;
    dialog_on_payload(d, "rate:", on_rate, fb);
    dialog_on_payload(d, FEEDBACK_COMPLAINT_PAYLOAD, on_complaint_button, fb);
    dialog_on_payload(d, "fb:", on_stale_skip, fb);
    dialog_on_mode(d, MODE_FEEDBACK, on_comment_mode, fb);
    dialog_on_intent(d, "gop_y", on_gop_y, fb);
    dialog_on_intent(d, "khieu_nai", on_khieu_nai, fb);
    return fb;
}

void feedback_on_question(struct feedback *fb, feedback_question_fn fn, void *ud)
{
    fb->asks = fn;
    fb->asks_ud = ud;
}

void feedback_free(struct feedback *fb)
{
    free(fb);
}
