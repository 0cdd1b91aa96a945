/* Zalo signature, event parsing, message rendering and planning, verdicts,
 * windows, and the token helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/buf.h"
#include "dvcbot/zalo.h"
#include "dvcbot/zalo_token.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define APP "3141592653589793238"
#define BODY "{\"event_name\":\"user_send_text\",\"timestamp\":\"1700000000000\"}"

static size_t count_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            n++;
    return n;
}

/* ===== Signature ===== */

static void signature_is_mac_of_app_body_timestamp_secret(void **state)
{
    (void)state;
    char mac[ZALO_MAC_MAX];
    /* Computed independently: Python hashlib.sha256(app + body + ts + secret). */
    zalo_signature(APP, BODY, strlen(BODY), "1700000000000", "oa-secret", mac);
    assert_string_equal(mac, "mac=76b162ab492e798eb18962ba004570476a1ef7344cf65033703ddb6b16aa0504");
    assert_true(zalo_signature_valid(APP, "oa-secret", BODY, strlen(BODY), "1700000000000", mac));
}

static void signature_rejects_any_change(void **state)
{
    (void)state;
    char mac[ZALO_MAC_MAX];
    zalo_signature(APP, BODY, strlen(BODY), "1700000000000", "oa-secret", mac);
    const char *body = BODY;
    size_t len = strlen(body);
    assert_false(zalo_signature_valid(APP, "oa-secret2", body, len, "1700000000000", mac));
    assert_false(zalo_signature_valid("1" APP, "oa-secret", body, len, "1700000000000", mac));
    assert_false(zalo_signature_valid(APP, "oa-secret", body, len - 1, "1700000000000", mac));
    assert_false(zalo_signature_valid(APP, "oa-secret", body, len, "1700000000001", mac));
    assert_false(zalo_signature_valid(APP, "oa-secret", body, len, "1700000000000", mac + 4));
    assert_false(zalo_signature_valid(APP, "oa-secret", body, len, "1700000000000", NULL));
    assert_false(zalo_signature_valid(APP, "oa-secret", body, len, "1700000000000", ""));
    char upper[ZALO_MAC_MAX];
    memcpy(upper, mac, sizeof upper);
    upper[0] = 'M';
    assert_false(zalo_signature_valid(APP, "oa-secret", body, len, "1700000000000", upper));
}

static void timestamp_is_read_as_written(void **state)
{
    (void)state;
    char ts[ZALO_TIMESTAMP_MAX];
    const char *s = "{\"timestamp\":\"1700000000123\"}";
    assert_true(zalo_event_timestamp(s, strlen(s), ts));
    assert_string_equal(ts, "1700000000123");
    s = "{\"timestamp\":1700000000456}";
    assert_true(zalo_event_timestamp(s, strlen(s), ts));
    assert_string_equal(ts, "1700000000456");
    const char *bad[] = {"{}", "[]", "{oops", "{\"timestamp\":\"17a\"}", "{\"timestamp\":\"\"}",
                         "{\"timestamp\":1.5}", "{\"timestamp\":-1}",
                         "{\"timestamp\":\"123456789012345678901234567\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(zalo_event_timestamp(bad[i], strlen(bad[i]), ts));
}

/* ===== Parsing ===== */

static enum zalo_parse parse(const char *json, struct bot_msg **m, char user[BOT_ID_MAX])
{
    return zalo_parse_event(json, strlen(json), m, user);
}

static void text_event_becomes_text_msg_with_msg_id(void **state)
{
    (void)state;
    struct bot_msg *m;
    char user[BOT_ID_MAX];
    assert_int_equal(parse("{\"app_id\":\"" APP "\",\"event_name\":\"user_send_text\","
                           "\"timestamp\":\"1700000000999\",\"sender\":{\"id\":\"5400000000000000001\"},"
                           "\"recipient\":{\"id\":\"2718\"},\"message\":{\"text\":\"dk khai sinh\","
                           "\"msg_id\":\"c6792f94f71be346ba09\"}}", &m, user),
                     ZL_PARSE_MSG);
    assert_int_equal(m->channel, BOT_CH_ZALO);
    assert_int_equal(m->kind, BOT_MSG_TEXT);
    assert_string_equal(m->user, "5400000000000000001");
    assert_string_equal(m->chat, "5400000000000000001");
    assert_string_equal(m->text, "dk khai sinh");
    assert_string_equal(m->event_id, "c6792f94f71be346ba09");
    assert_string_equal(m->reply_ref, "c6792f94f71be346ba09");
    assert_int_equal(m->ts, 1700000000);
    bot_msg_free(m);
}

/* Without a msg_id the event id is the event and its time; two events that
 * differ only past what fits must not become one (the second would be
 * dropped as a repeat). */
static void long_event_names_keep_distinct_event_ids(void **state)
{
    (void)state;
    struct bot_msg *a, *b;
    char user[BOT_ID_MAX];
    assert_int_equal(parse("{\"event_name\":\"user_send_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_1\","
                           "\"timestamp\":\"1700000000999\",\"sender\":{\"id\":\"9\"}}", &a, user),
                     ZL_PARSE_MSG);
    assert_int_equal(parse("{\"event_name\":\"user_send_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_2\","
                           "\"timestamp\":\"1700000000999\",\"sender\":{\"id\":\"9\"}}", &b, user),
                     ZL_PARSE_MSG);
    assert_string_not_equal(a->event_id, b->event_id);
    bot_msg_free(a);
    bot_msg_free(b);
}

static void marked_text_is_a_button_press(void **state)
{
    (void)state;
    struct bot_msg *m;
    char user[BOT_ID_MAX];
    assert_int_equal(parse("{\"event_name\":\"user_send_text\",\"timestamp\":\"1\",\"sender\":{\"id\":\"9\"},"
                           "\"message\":{\"text\":\"" ZALO_PAYLOAD_MARK "i:khai_sinh\",\"msg_id\":\"a\"}}",
                           &m, user),
                     ZL_PARSE_MSG);
    assert_int_equal(m->kind, BOT_MSG_BUTTON);
    assert_string_equal(m->text, "i:khai_sinh");
    bot_msg_free(m);
}

static void media_events_are_unsupported(void **state)
{
    (void)state;
    const char *names[] = {"user_send_image", "user_send_sticker", "user_send_location",
                           "user_send_file", "user_send_audio", "user_send_gif"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        struct buf b;
        buf_init(&b);
        buf_printf(&b, "{\"event_name\":\"%s\",\"timestamp\":\"1\",\"sender\":{\"id\":\"9\"},"
                       "\"message\":{\"msg_id\":\"m%zu\",\"attachments\":[{\"type\":\"image\"}]}}",
                   names[i], i);
        struct bot_msg *m;
        char user[BOT_ID_MAX];
        assert_int_equal(parse(b.data, &m, user), ZL_PARSE_MSG);
        assert_int_equal(m->kind, BOT_MSG_UNSUPPORTED);
        assert_string_equal(m->text, "");
        bot_msg_free(m);
        buf_free(&b);
    }
}

static void follow_and_chat_now_greet(void **state)
{
    (void)state;
    struct bot_msg *m;
    char user[BOT_ID_MAX];
    assert_int_equal(parse("{\"event_name\":\"follow\",\"timestamp\":\"1700000000000\",\"oa_id\":\"1\","
                           "\"follower\":{\"id\":\"5400000000000000002\"}}", &m, user),
                     ZL_PARSE_MSG);
    assert_int_equal(m->kind, BOT_MSG_START);
    assert_string_equal(m->user, "5400000000000000002");
    assert_string_equal(m->event_id, "follow:1700000000000");
    assert_string_equal(m->reply_ref, "");
    bot_msg_free(m);
    assert_int_equal(parse("{\"event_name\":\"user_click_chatnow\",\"timestamp\":\"2\","
                           "\"user_id\":\"5400000000000000003\"}", &m, user),
                     ZL_PARSE_MSG);
    assert_int_equal(m->kind, BOT_MSG_START);
    assert_string_equal(m->chat, "5400000000000000003");
    bot_msg_free(m);
}

static void unfollow_names_the_user(void **state)
{
    (void)state;
    struct bot_msg *m;
    char user[BOT_ID_MAX];
    assert_int_equal(parse("{\"event_name\":\"unfollow\",\"timestamp\":\"1\","
                           "\"follower\":{\"id\":\"5400000000000000004\"}}", &m, user),
                     ZL_PARSE_UNFOLLOW);
    assert_null(m);
    assert_string_equal(user, "5400000000000000004");
}

static void other_events_are_ignored(void **state)
{
    (void)state;
    struct bot_msg *m;
    char user[BOT_ID_MAX];
    assert_int_equal(parse("{\"event_name\":\"oa_send_text\",\"timestamp\":\"1\",\"sender\":{\"id\":\"1\"}}",
                           &m, user),
                     ZL_PARSE_IGNORED);
    assert_int_equal(parse("{\"event_name\":\"user_seen_message\",\"timestamp\":\"1\"}", &m, user),
                     ZL_PARSE_IGNORED);
    assert_null(m);
}

static void malformed_events_are_bad(void **state)
{
    (void)state;
    struct bot_msg *m;
    char user[BOT_ID_MAX];
    const char *bad[] = {
        "{", "[]", "{\"timestamp\":\"1\"}",
        "{\"event_name\":\"user_send_text\",\"sender\":{\"id\":\"9\"}}",                 /* no time */
        "{\"event_name\":\"user_send_text\",\"timestamp\":\"1\"}",                       /* no sender */
        "{\"event_name\":\"user_send_text\",\"timestamp\":\"1\",\"sender\":{\"id\":5400000000000000001}}",
        "{\"event_name\":\"user_send_text\",\"timestamp\":\"1\",\"sender\":{\"id\":\"9 9\"}}",
        "{\"event_name\":\"follow\",\"timestamp\":\"1\",\"follower\":{\"id\":\"\"}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(bad[i], &m, user), ZL_PARSE_BAD);
        assert_null(m);
    }
}

static void overlong_msg_id_is_hashed_to_fit(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"event_name\":\"user_send_text\",\"timestamp\":\"1\",\"sender\":{\"id\":\"9\"},"
                 "\"message\":{\"text\":\"x\",\"msg_id\":\"");
    for (int i = 0; i < 100; i++)
        buf_putc(&b, 'a');
    buf_puts(&b, "\"}}");
    struct bot_msg *m;
    char user[BOT_ID_MAX];
    assert_int_equal(parse(b.data, &m, user), ZL_PARSE_MSG);
    assert_true(strlen(m->event_id) > 8 && strlen(m->event_id) < BOT_ID_MAX);
    bot_msg_free(m);
    buf_free(&b);
}

/* ===== Rendering ===== */

static void message_renders_recipient_text_quote_and_hidden_query_buttons(void **state)
{
    (void)state;
    struct bot_reply r = {0};
    assert_true(bot_reply_add_button(&r, "Thủ tục", "menu:thu_tuc"));
    assert_true(bot_reply_add_button(&r, "Tra cứu hồ sơ", "i:tra_cuu_ho_so"));
    char *json = zalo_render_message("5400000000000000001", "Xin \"chào\"\n", 12, r.buttons, 2, "q1");
    cJSON *root = cJSON_Parse(json);
    assert_non_null(root);
    cJSON *recipient = cJSON_GetObjectItem(root, "recipient");
    assert_string_equal(cJSON_GetObjectItem(recipient, "user_id")->valuestring, "5400000000000000001");
    cJSON *msg = cJSON_GetObjectItem(root, "message");
    assert_string_equal(cJSON_GetObjectItem(msg, "text")->valuestring, "Xin \"chào\"\n");
    assert_string_equal(cJSON_GetObjectItem(msg, "react_message_id")->valuestring, "q1");
    cJSON *att = cJSON_GetObjectItem(msg, "attachment");
    assert_string_equal(cJSON_GetObjectItem(att, "type")->valuestring, "template");
    cJSON *buttons = cJSON_GetObjectItem(cJSON_GetObjectItem(att, "payload"), "buttons");
    assert_int_equal(cJSON_GetArraySize(buttons), 2);
    cJSON *b = cJSON_GetArrayItem(buttons, 1);
    assert_string_equal(cJSON_GetObjectItem(b, "title")->valuestring, "Tra cứu hồ sơ");
    assert_string_equal(cJSON_GetObjectItem(b, "type")->valuestring, "oa.query.hide");
    assert_string_equal(cJSON_GetObjectItem(b, "payload")->valuestring, ZALO_PAYLOAD_MARK "i:tra_cuu_ho_so");
    cJSON_Delete(root);
    free(json);
    bot_reply_clear(&r);
}

static void plain_message_has_no_attachment_or_quote(void **state)
{
    (void)state;
    char *json = zalo_render_message("9", "ok", 2, NULL, 0, NULL);
    cJSON *root = cJSON_Parse(json);
    cJSON *msg = cJSON_GetObjectItem(root, "message");
    assert_string_equal(cJSON_GetObjectItem(msg, "text")->valuestring, "ok");
    assert_null(cJSON_GetObjectItem(msg, "attachment"));
    assert_null(cJSON_GetObjectItem(msg, "react_message_id"));
    cJSON_Delete(root);
    free(json);
    json = zalo_render_message("9", "ok", 2, NULL, 0, "");
    assert_null(strstr(json, "react_message_id"));
    free(json);
}

static void long_titles_are_cut_at_a_character_boundary(void **state)
{
    (void)state;
    struct buf label;
    buf_init(&label);
    for (int i = 0; i < ZALO_MAX_TITLE + 20; i++)
        buf_puts(&label, "đ");
    struct bot_reply r = {0};
    assert_true(bot_reply_add_button(&r, label.data, "menu"));
    char *json = zalo_render_message("9", "x", 1, r.buttons, 1, NULL);
    cJSON *root = cJSON_Parse(json);
    assert_non_null(root); /* valid JSON: no broken UTF-8 sequence */
    const char *title = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(root, "message"), "attachment"), "payload"), "buttons"), 0),
        "title")->valuestring;
    assert_int_equal(count_chars(title, strlen(title)), ZALO_MAX_TITLE);
    assert_int_equal(strlen(title), 2 * ZALO_MAX_TITLE);
    cJSON_Delete(root);
    free(json);
    bot_reply_clear(&r);
    buf_free(&label);
}

static void prefix_len_never_splits_a_character(void **state)
{
    (void)state;
    assert_int_equal(bot_text_prefix_len("đđđ", strlen("đđđ"), 2), 4);
    assert_int_equal(bot_text_prefix_len("abc", 3, 10), 3);
    assert_int_equal(bot_text_prefix_len("a\xe1\xba", 3, 2), 3); /* truncated sequence at the end */
    assert_int_equal(bot_text_prefix_len("abc", 3, 0), 0);
}

/* ===== Planning an item's calls ===== */

static void long_text_and_many_buttons_are_planned_in_zalo_sized_calls(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    for (int i = 0; i < 700; i++)
        buf_puts(&b, "Đăng ký ");  /* 5600 characters */
    struct zalo_step s;
    unsigned part = 0;
    size_t text_calls = 0, covered = 0;
    size_t buttons[8], n_groups = 0;
    for (int guard = 0; guard < 20; guard++) {
        zalo_plan_step(b.data, 7, part, &s);
        if (!s.more_text) {
            assert_int_equal(s.text_off, covered);
            assert_true(count_chars(b.data + s.text_off, s.text_len) <= ZALO_MAX_TEXT);
            if (s.text_off + s.text_len < b.len)
                assert_int_equal(b.data[s.text_off + s.text_len - 1], ' ');
            covered += s.text_len;
            text_calls++;
        }
        if (s.btn_to > s.btn_from)
            buttons[n_groups++] = s.btn_to - s.btn_from;
        if (s.last)
            break;
        assert_true(s.next_part > part);
        part = s.next_part;
    }
    assert_true(s.last);
    assert_int_equal(covered, b.len);
    assert_int_equal(text_calls, 3);
    assert_int_equal(n_groups, 2);
    assert_int_equal(buttons[0], ZALO_MAX_BUTTONS);
    assert_int_equal(buttons[1], 2);
    buf_free(&b);
}

static void short_text_is_one_call_and_empty_text_uses_the_more_line(void **state)
{
    (void)state;
    struct zalo_step s;
    zalo_plan_step("Xin chào", 4, 0, &s);
    assert_true(s.last);
    assert_false(s.more_text);
    assert_int_equal(s.btn_to - s.btn_from, 4);
    zalo_plan_step("", 3, 0, &s);
    assert_true(s.last);
    assert_true(s.more_text);
    assert_int_equal(s.btn_to, 3);
    zalo_plan_step("ok", 0, 0, &s);
    assert_true(s.last);
    assert_int_equal(s.btn_to, 0);
    assert_int_equal(zalo_button_groups(0), 1);
    assert_int_equal(zalo_button_groups(5), 1);
    assert_int_equal(zalo_button_groups(6), 2);
    assert_int_equal(zalo_button_groups(12), 3);
}

/* ===== Verdicts and windows ===== */

static void api_answers_map_to_results(void **state)
{
    (void)state;
    int code;
    assert_int_equal(zalo_classify(200, "{\"error\":0,\"message\":\"Success\"}", &code), ZALO_OK);
    assert_int_equal(zalo_classify(200, "{\"error\":-216}", &code), ZALO_TOKEN);
    assert_int_equal(code, -216);
    assert_int_equal(zalo_classify(200, "{\"error\":-220}", &code), ZALO_TOKEN);
    const int user[] = {-211, -213, -230, -232};
    for (size_t i = 0; i < 4; i++) {
        char body[32];
        snprintf(body, sizeof body, "{\"error\":%d}", user[i]);
        assert_int_equal(zalo_classify(200, body, &code), ZALO_USER);
        assert_int_equal(code, user[i]);
    }
    assert_int_equal(zalo_classify(200, "{\"error\":-201}", &code), ZALO_BAD_REQUEST);
    assert_int_equal(zalo_classify(200, "{\"error\":-32}", &code), ZALO_THROTTLE);
    assert_int_equal(zalo_classify(502, "", &code), ZALO_RETRY);
    assert_int_equal(zalo_classify(0, NULL, &code), ZALO_RETRY);
    assert_int_equal(zalo_classify(429, "{}", &code), ZALO_THROTTLE);
    assert_int_equal(zalo_classify(200, "<html>", &code), ZALO_RETRY);
    assert_int_equal(zalo_classify(404, "<html>", &code), ZALO_FAILED);
    assert_int_equal(zalo_classify(200, "{\"error\":-124}", &code), ZALO_TOKEN);
    /* A code Zalo adds later is transient (bounded back-off), never dropped at once. */
    assert_int_equal(zalo_classify(200, "{\"error\":-9999}", &code), ZALO_RETRY);
    assert_int_equal(code, -9999);
    assert_int_equal(zalo_classify(200, "{\"error\":-200}", &code), ZALO_RETRY);
    assert_int_equal(zalo_classify(200, "{\"error\":-321}", &code), ZALO_RETRY);
    assert_int_equal(zalo_classify(200, "{\"error\":-227}", &code), ZALO_USER);
    assert_int_equal(zalo_classify(200, "{\"error\":-244}", &code), ZALO_USER);
    assert_int_equal(zalo_classify(200, "{\"error\":-248}", &code), ZALO_FAILED);
}

static void error_codes_have_reasons_staff_can_read(void **state)
{
    (void)state;
    assert_string_equal(zalo_error_reason(-211), "quota");
    assert_string_equal(zalo_error_reason(-213), "not_follower");
    assert_string_equal(zalo_error_reason(-230), "no_recent_interaction");
    assert_string_equal(zalo_error_reason(-232), "no_recent_interaction");
    assert_string_equal(zalo_error_reason(-216), "token");
    assert_string_equal(zalo_error_reason(-124), "token");
    assert_string_equal(zalo_error_reason(-227), "user_inactive");
    assert_string_equal(zalo_error_reason(-321), "oa_setup");
    assert_string_equal(zalo_error_reason(-999), "api_error");
}

static void windows_follow_the_48h_and_7_day_rules(void **state)
{
    (void)state;
    int64_t now = 1700000000;
    assert_int_equal(zalo_window_of(now, 0, 0, true), ZALO_WINDOW_UNKNOWN);
    assert_int_equal(zalo_window_of(now, now - 60, 0, true), ZALO_WINDOW_FREE);
    assert_int_equal(zalo_window_of(now, now - ZALO_FREE_WINDOW_S, ZALO_FREE_REPLIES - 1, true),
                     ZALO_WINDOW_FREE);
    assert_int_equal(zalo_window_of(now, now - 60, ZALO_FREE_REPLIES, true), ZALO_WINDOW_PAID);
    assert_int_equal(zalo_window_of(now, now - 60, 0, false), ZALO_WINDOW_PAID);
    assert_int_equal(zalo_window_of(now, now - ZALO_FREE_WINDOW_S - 1, 0, true), ZALO_WINDOW_PAID);
    assert_int_equal(zalo_window_of(now, now - ZALO_CS_WINDOW_S - 1, 0, true), ZALO_WINDOW_CLOSED);
    assert_string_equal(zalo_window_name(ZALO_WINDOW_FREE), "free");
    assert_string_equal(zalo_window_name(ZALO_WINDOW_CLOSED), "closed");
}

static void proactive_messages_skip_unfollowers_and_closed_windows(void **state)
{
    (void)state;
    int64_t now = 1740787200;
    assert_null(zalo_proactive_refusal(now, false, now - 86400, 3));
    assert_null(zalo_proactive_refusal(now, false, 0, 0)); /* not known: Zalo decides */
    assert_string_equal(zalo_proactive_refusal(now, true, now - 60, 0), "unfollowed");
    assert_string_equal(zalo_proactive_refusal(now, false, now - ZALO_CS_WINDOW_S - 1, 0),
                        "zalo_no_recent_interaction");
}

/* ===== Token helpers ===== */

static void refresh_body_is_form_encoded(void **state)
{
    (void)state;
    char *body = zalo_token_refresh_body("a+b/c=d&e f", APP);
    assert_string_equal(body, "refresh_token=a%2Bb%2Fc%3Dd%26e%20f&app_id=" APP "&grant_type=refresh_token");
    free(body);
}

static void oauth_answers_are_parsed(void **state)
{
    (void)state;
    char *a, *r;
    int64_t exp;
    int code;
    assert_int_equal(zalo_token_parse_response("{\"access_token\":\"AT\",\"refresh_token\":\"RT\","
                                               "\"expires_in\":\"90000\"}", &a, &r, &exp, &code), 0);
    assert_string_equal(a, "AT");
    assert_string_equal(r, "RT");
    assert_int_equal(exp, 90000);
    free(a);
    free(r);
    assert_int_equal(zalo_token_parse_response("{\"access_token\":\"AT\",\"refresh_token\":\"RT\","
                                               "\"expires_in\":3600}", &a, &r, &exp, &code), 0);
    assert_int_equal(exp, 3600);
    free(a);
    free(r);
    assert_int_equal(zalo_token_parse_response("{\"access_token\":\"AT\",\"refresh_token\":\"RT\","
                                               "\"expires_in\":\"soon\"}", &a, &r, &exp, &code), 0);
    assert_int_equal(exp, 0);
    free(a);
    free(r);
    assert_int_equal(zalo_token_parse_response("{\"error\":-14014,\"error_name\":\"Invalid refresh token\"}",
                                               &a, &r, &exp, &code), -1);
    assert_int_equal(code, -14014);
    assert_null(a);
    assert_int_equal(zalo_token_parse_response("{\"access_token\":\"AT\"}", &a, &r, &exp, &code), -1);
    assert_int_equal(zalo_token_parse_response("{\"access_token\":\"A\\nT\",\"refresh_token\":\"RT\"}",
                                               &a, &r, &exp, &code), -1);
    assert_int_equal(zalo_token_parse_response("<html>", &a, &r, &exp, &code), -1);
    assert_int_equal(zalo_token_parse_response(NULL, &a, &r, &exp, &code), -1);
}

static void refresh_is_scheduled_ahead_of_expiry(void **state)
{
    (void)state;
    assert_int_equal(zalo_token_refresh_delay_ms(90000), (uint64_t)(90000 - ZALO_REFRESH_AHEAD_S) * 1000);
    assert_int_equal(zalo_token_refresh_delay_ms(4), 2000);
    assert_int_equal(zalo_token_refresh_delay_ms(0), 1000);
    assert_int_equal(zalo_token_refresh_delay_ms(-50), 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(signature_is_mac_of_app_body_timestamp_secret),
        cmocka_unit_test(signature_rejects_any_change),
        cmocka_unit_test(timestamp_is_read_as_written),
        cmocka_unit_test(text_event_becomes_text_msg_with_msg_id),
        cmocka_unit_test(long_event_names_keep_distinct_event_ids),
        cmocka_unit_test(marked_text_is_a_button_press),
        cmocka_unit_test(media_events_are_unsupported),
        cmocka_unit_test(follow_and_chat_now_greet),
        cmocka_unit_test(unfollow_names_the_user),
        cmocka_unit_test(other_events_are_ignored),
        cmocka_unit_test(malformed_events_are_bad),
        cmocka_unit_test(overlong_msg_id_is_hashed_to_fit),
        cmocka_unit_test(message_renders_recipient_text_quote_and_hidden_query_buttons),
        cmocka_unit_test(plain_message_has_no_attachment_or_quote),
        cmocka_unit_test(long_titles_are_cut_at_a_character_boundary),
        cmocka_unit_test(prefix_len_never_splits_a_character),
        cmocka_unit_test(long_text_and_many_buttons_are_planned_in_zalo_sized_calls),
        cmocka_unit_test(short_text_is_one_call_and_empty_text_uses_the_more_line),
        cmocka_unit_test(api_answers_map_to_results),
        cmocka_unit_test(error_codes_have_reasons_staff_can_read),
        cmocka_unit_test(windows_follow_the_48h_and_7_day_rules),
        cmocka_unit_test(proactive_messages_skip_unfollowers_and_closed_windows),
        cmocka_unit_test(refresh_body_is_form_encoded),
        cmocka_unit_test(oauth_answers_are_parsed),
        cmocka_unit_test(refresh_is_scheduled_ahead_of_expiry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
