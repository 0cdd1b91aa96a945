/* Telegram JSON parsing, HTML escaping, splitting, rendering, verdicts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/buf.h"
#include "dvcbot/telegram.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum telegram_parse parse(const char *json, struct bot_msg **m)
{
    return telegram_parse_update(json, strlen(json), m);
}

static void message_becomes_text_msg_with_ids(void **state)
{
    (void)state;
    struct bot_msg *m;
    assert_int_equal(parse("{\"update_id\":42,\"message\":{\"message_id\":1,\"date\":1700000000,"
                           "\"text\":\"dk khai sinh\",\"from\":{\"id\":7000000001},"
                           "\"chat\":{\"id\":7000000001,\"type\":\"private\"}}}", &m),
                     TG_PARSE_MSG);
    assert_int_equal(m->channel, BOT_CH_TELEGRAM);
    assert_int_equal(m->kind, BOT_MSG_TEXT);
    assert_string_equal(m->user, "7000000001");
    assert_string_equal(m->chat, "7000000001");
    assert_string_equal(m->text, "dk khai sinh");
    assert_string_equal(m->event_id, "42");
    assert_int_equal(m->ts, 1700000000);
    bot_msg_free(m);
}

/* Found by fuzz_telegram: a "date" past what an int64 holds was converted
 * anyway (undefined behaviour; INT64_MIN on x86). It reads as unknown (0). */
static void date_out_of_range_reads_as_zero(void **state)
{
    (void)state;
    const char *dates[] = {"1e300", "-1e300", "16146245555555555555555555555555555062",
                           "9007199254740993"};
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        char json[256];
        snprintf(json, sizeof json,
                 "{\"update_id\":44,\"message\":{\"date\":%s,\"text\":\"x\","
                 "\"from\":{\"id\":5},\"chat\":{\"id\":5}}}", dates[i]);
        struct bot_msg *m;
        assert_int_equal(parse(json, &m), TG_PARSE_MSG);
        assert_int_equal(m->ts, 0);
        bot_msg_free(m);
    }
}

/* An edit is not a new message: an edited PIN must not count as a new try. */
static void edited_message_is_ignored(void **state)
{
    (void)state;
    struct bot_msg *m;
    assert_int_equal(parse("{\"update_id\":43,\"edited_message\":{\"text\":\"xin chao\","
                           "\"from\":{\"id\":5},\"chat\":{\"id\":-100123}}}", &m),
                     TG_PARSE_IGNORED);
    assert_null(m);
}

/* Ids that a double cannot hold exactly (or print in 63 bytes) would make
 * two accounts one: refused, never rounded or cut. */
static void ids_beyond_2_to_the_53_are_refused(void **state)
{
    (void)state;
    struct bot_msg *m;
    assert_int_equal(parse("{\"update_id\":45,\"message\":{\"text\":\"x\",\"from\":{\"id\":9007199254740991},"
                           "\"chat\":{\"id\":-9007199254740991}}}", &m),
                     TG_PARSE_MSG);
    assert_string_equal(m->user, "9007199254740991");
    assert_string_equal(m->chat, "-9007199254740991");
    bot_msg_free(m);
    const char *bad[] = {
        "{\"update_id\":46,\"message\":{\"text\":\"x\",\"from\":{\"id\":9007199254740993},\"chat\":{\"id\":1}}}",
        "{\"update_id\":47,\"message\":{\"text\":\"x\",\"from\":{\"id\":1e300},\"chat\":{\"id\":1}}}",
        "{\"update_id\":1e300,\"message\":{\"text\":\"x\",\"from\":{\"id\":1},\"chat\":{\"id\":1}}}",
        "{\"update_id\":48,\"message\":{\"text\":\"x\",\"from\":{\"id\":1},\"chat\":{\"id\":-1e100}}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(bad[i], &m), TG_PARSE_BAD);
        assert_null(m);
    }
}

static void callback_query_becomes_button_with_ack_ref(void **state)
{
    (void)state;
    struct bot_msg *m;
    assert_int_equal(parse("{\"update_id\":44,\"callback_query\":{\"id\":\"987\",\"data\":\"i:khai_sinh\","
                           "\"from\":{\"id\":9},\"message\":{\"chat\":{\"id\":9}}}}", &m),
                     TG_PARSE_MSG);
    assert_int_equal(m->kind, BOT_MSG_BUTTON);
    assert_string_equal(m->text, "i:khai_sinh");
    assert_string_equal(m->reply_ref, "987");
    bot_msg_free(m);
}

static void photo_without_text_is_unsupported(void **state)
{
    (void)state;
    struct bot_msg *m;
    assert_int_equal(parse("{\"update_id\":45,\"message\":{\"photo\":[],\"from\":{\"id\":1},"
                           "\"chat\":{\"id\":1}}}", &m),
                     TG_PARSE_MSG);
    assert_int_equal(m->kind, BOT_MSG_UNSUPPORTED);
    bot_msg_free(m);
}

static void other_update_types_are_ignored(void **state)
{
    (void)state;
    struct bot_msg *m;
    assert_int_equal(parse("{\"update_id\":46,\"my_chat_member\":{}}", &m), TG_PARSE_IGNORED);
    assert_null(m);
}

static void malformed_updates_are_bad(void **state)
{
    (void)state;
    struct bot_msg *m;
    assert_int_equal(parse("{", &m), TG_PARSE_BAD);
    assert_int_equal(parse("[]", &m), TG_PARSE_BAD);
    assert_int_equal(parse("{\"message\":{}}", &m), TG_PARSE_BAD);
    assert_int_equal(parse("{\"update_id\":1.5,\"message\":{}}", &m), TG_PARSE_BAD);
    assert_int_equal(parse("{\"update_id\":1,\"message\":{\"text\":\"x\"}}", &m), TG_PARSE_BAD);
    assert_int_equal(parse("{\"update_id\":1,\"message\":{\"chat\":{\"id\":\"\"}}}", &m), TG_PARSE_BAD);
}

static void html_special_characters_are_escaped(void **state)
{
    (void)state;
    const char *s = "Phí <50.000đ> & \"miễn\" cho người dân tộc thiểu số <b>vùng khó khăn</b>";
    char *json = telegram_render_message("7", s, strlen(s), NULL);
    cJSON *root = cJSON_Parse(json);
    assert_non_null(root);
    assert_string_equal(cJSON_GetObjectItem(root, "text")->valuestring,
                        "Phí &lt;50.000đ&gt; &amp; \"miễn\" cho người dân tộc thiểu số "
                        "&lt;b&gt;vùng khó khăn&lt;/b&gt;");
    cJSON_Delete(root);
    free(json);
}

static size_t count_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            n++;
    return n;
}

static void long_text_splits_on_spaces_within_limit_and_utf8_boundaries(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    for (int i = 0; i < 2000; i++)
        buf_puts(&b, "Đăng ký ");
    size_t off = 0, parts = 0;
    while (off < b.len) {
        size_t n = telegram_part_len(b.data + off, b.len - off, TELEGRAM_MAX_TEXT);
        assert_true(n > 0);
        assert_true(count_chars(b.data + off, n) <= TELEGRAM_MAX_TEXT);
        /* Never inside a UTF-8 sequence. */
        if (off + n < b.len)
            assert_true(((unsigned char)b.data[off + n] & 0xc0) != 0x80);
        if (off + n < b.len)
            assert_int_equal(b.data[off + n - 1], ' ');
        off += n;
        parts++;
    }
    assert_int_equal(off, b.len);
    assert_int_equal(parts, 4); /* 16000 characters, cut at spaces */
    assert_int_equal(telegram_part_len("ngắn", strlen("ngắn"), TELEGRAM_MAX_TEXT), strlen("ngắn"));
    buf_free(&b);
}

static void emoji_count_as_two_utf16_units_when_splitting(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    for (int i = 0; i < 3000; i++)
        buf_puts(&b, "\xf0\x9f\x99\x82"); /* U+1F642, 2 UTF-16 units, 4 bytes */
    size_t n = telegram_part_len(b.data, b.len, TELEGRAM_MAX_TEXT);
    assert_int_equal(n, (size_t)TELEGRAM_MAX_TEXT / 2 * 4);
    buf_free(&b);
}

static void message_renders_html_and_inline_keyboard(void **state)
{
    (void)state;
    struct bot_reply r = {0};
    r.text = (char *)"x";
    assert_true(bot_reply_add_button(&r, "Thủ tục", "menu:thu_tuc"));
    assert_true(bot_reply_add_button(&r, "Tra cứu", "i:tra_cuu_ho_so"));
    assert_true(bot_reply_add_button(&r, "Hướng dẫn nộp trực tuyến từng bước", "flow:khai_sinh"));
    char *json = telegram_render_message("7000000001", "a < b", 5, &r);
    cJSON *root = cJSON_Parse(json);
    assert_non_null(root);
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(root, "chat_id")));
    assert_string_equal(cJSON_GetObjectItem(root, "text")->valuestring, "a &lt; b");
    assert_string_equal(cJSON_GetObjectItem(root, "parse_mode")->valuestring, "HTML");
    cJSON *kb = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "reply_markup"), "inline_keyboard");
    assert_int_equal(cJSON_GetArraySize(kb), 2); /* two short labels share a row */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetArrayItem(kb, 0)), 2);
    cJSON *b = cJSON_GetArrayItem(cJSON_GetArrayItem(kb, 1), 0);
    assert_string_equal(cJSON_GetObjectItem(b, "callback_data")->valuestring, "flow:khai_sinh");
    cJSON_Delete(root);
    free(json);
    r.text = NULL;
    bot_reply_clear(&r);
}

static void callback_data_over_64_bytes_is_refused(void **state)
{
    (void)state;
    struct bot_reply r = {0};
    /* 33 characters "đ", 66 bytes: short in characters, too long in bytes. */
    assert_false(bot_reply_add_button(&r, "x", "đđđđđđđđđđđđđđđđđđđđđđđđđđđđđđđđđ"));
    char ok[65];
    memset(ok, 'a', 64);
    ok[64] = '\0';
    assert_true(bot_reply_add_button(&r, "x", ok));
    bot_reply_clear(&r);
}

static void api_responses_map_to_verdicts(void **state)
{
    (void)state;
    unsigned ra;
    assert_int_equal(telegram_classify(200, "{\"ok\":true}", &ra), OUTBOX_SENT);
    assert_int_equal(telegram_classify(429, "{\"ok\":false,\"parameters\":{\"retry_after\":3}}", &ra),
                     OUTBOX_RETRY_AFTER);
    assert_int_equal(ra, 3000);
    assert_int_equal(telegram_classify(429, "garbage", &ra), OUTBOX_RETRY_AFTER);
    assert_int_equal(ra, 1000);
    assert_int_equal(telegram_classify(403, "{}", &ra), OUTBOX_BLOCKED);
    assert_int_equal(telegram_classify(502, "", &ra), OUTBOX_RETRY);
    assert_int_equal(telegram_classify(0, NULL, &ra), OUTBOX_RETRY);
    assert_int_equal(telegram_classify(400, "{\"description\":\"chat not found\"}", &ra), OUTBOX_FAILED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(message_becomes_text_msg_with_ids),
        cmocka_unit_test(date_out_of_range_reads_as_zero),
        cmocka_unit_test(edited_message_is_ignored),
        cmocka_unit_test(ids_beyond_2_to_the_53_are_refused),
        cmocka_unit_test(callback_query_becomes_button_with_ack_ref),
        cmocka_unit_test(photo_without_text_is_unsupported),
        cmocka_unit_test(other_update_types_are_ignored),
        cmocka_unit_test(malformed_updates_are_bad),
        cmocka_unit_test(html_special_characters_are_escaped),
        cmocka_unit_test(long_text_splits_on_spaces_within_limit_and_utf8_boundaries),
        cmocka_unit_test(emoji_count_as_two_utf16_units_when_splitting),
        cmocka_unit_test(message_renders_html_and_inline_keyboard),
        cmocka_unit_test(callback_data_over_64_bytes_is_refused),
        cmocka_unit_test(api_responses_map_to_verdicts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
