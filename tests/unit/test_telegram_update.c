/* Unit tests: telegram_update_scan reads the fields of a Telegram update
 * from its text, decoding escapes as cJSON does, and leaves every form it
 * does not know to cJSON; telegram_parse_update (the scan, else the tree)
 * gives the very message telegram_parse_update_tree gives, on fixed cases
 * and on 300 000 mutations of real-shaped updates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/json_arena.h"
#include "dvcbot/msg.h"
#include "dvcbot/telegram.h"
#include "dvcbot/telegram_update.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int setup(void **state)
{
    (void)state;
    json_arena_install(); /* as main does: the tree reading uses the arena */
    return 0;
}

static const char *seeds[] = {
    "{\"update_id\":1764689000123456,\"message\":{\"message_id\":7,\"date\":1700000000,"
    "\"text\":\"dk khai sinh\",\"from\":{\"id\":7000000001,\"first_name\":\"B\"},"
    "\"chat\":{\"id\":7000000001,\"type\":\"private\"}}}",
    "{\"update_id\":42,\"message\":{\"message_id\":1,\"from\":{\"id\":5,\"is_bot\":false,"
    "\"first_name\":\"L\\u00ea V\\u0103n\",\"language_code\":\"vi\"},\"chat\":{\"id\":-1001234567890,"
    "\"title\":\"X\\u00e3 \\\"M\\u01b0\\u1eddng\\\"\",\"type\":\"supergroup\"},\"date\":1700000001,"
    "\"text\":\"l\\u00e0m c\\u0103n c\\u01b0\\u1edbc \\ud83d\\ude00\\n\\/start\","
    "\"entities\":[{\"offset\":0,\"length\":6,\"type\":\"bot_command\"}]}}",
    "{\"update_id\":43,\"callback_query\":{\"id\":\"4382bfdwdsb323b2d9\",\"from\":{\"id\":77},"
    "\"message\":{\"message_id\":9,\"chat\":{\"id\":77,\"type\":\"private\"},\"date\":1,"
    "\"text\":\"Ch\\u1ecdn\",\"reply_markup\":{\"inline_keyboard\":[[{\"text\":\"A\","
    "\"callback_data\":\"i:a\"}]]}},\"chat_instance\":\"-1\",\"data\":\"i:khai_sinh\"}}",
    "{\"update_id\":44,\"edited_message\":{\"message_id\":1,\"date\":2,\"text\":\"x\","
    "\"chat\":{\"id\":1,\"type\":\"private\"}}}",
    " \r\n{ \"update_id\" : 45 , \"message\" : { \"chat\" : { \"id\" : \"@chan\" } , "
    "\"sticker\" : { \"file_id\" : \"abc\" , \"is_animated\" : true , \"x\" : null } } } trailing",
};

static void assert_same(const char *json, size_t len)
{
    struct bot_msg *a = NULL, *b = NULL;
    enum telegram_parse ra = telegram_parse_update(json, len, &a);
    enum telegram_parse rb = telegram_parse_update_tree(json, len, &b);
    if (ra != rb) {
        fprintf(stderr, "differs (%d vs tree %d) on: %.*s\n", ra, rb, (int)len, json);
        fail();
    }
    if (ra == TG_PARSE_MSG) {
        assert_int_equal(a->channel, b->channel);
        assert_int_equal(a->kind, b->kind);
        assert_string_equal(a->user, b->user);
        assert_string_equal(a->chat, b->chat);
        assert_string_equal(a->event_id, b->event_id);
        assert_string_equal(a->reply_ref, b->reply_ref);
        assert_string_equal(a->text, b->text);
        assert_int_equal(a->ts, b->ts);
    } else {
        assert_null(a);
        assert_null(b);
    }
    bot_msg_free(a);
    bot_msg_free(b);
}

static bool scans(const char *json)
{
    struct tg_update u;
    bool ok = telegram_update_scan(json, strlen(json), &u);
    telegram_update_free(&u);
    return ok;
}

static void plain_update_is_scanned_with_its_fields(void **state)
{
    (void)state;
    struct tg_update u;
    assert_true(telegram_update_scan(seeds[0], strlen(seeds[0]), &u));
    assert_true(u.root_object);
    assert_int_equal(u.f[TG_UPDATE_ID].kind, TG_NUMBER);
    assert_true(u.f[TG_UPDATE_ID].number == 1764689000123456.0);
    assert_int_equal(u.f[TG_MESSAGE].kind, TG_OBJECT);
    assert_int_equal(u.f[TG_MESSAGE_TEXT].kind, TG_STRING);
    assert_int_equal(u.f[TG_MESSAGE_TEXT].len, 12);
    assert_memory_equal(u.f[TG_MESSAGE_TEXT].str, "dk khai sinh", 12);
    assert_true(u.f[TG_MESSAGE_CHAT_ID].number == 7000000001.0);
    assert_int_equal(u.f[TG_CALLBACK].kind, TG_ABSENT);
    assert_null(u.scratch); /* no escape: nothing allocated */
    telegram_update_free(&u);
}

static void escapes_decode_as_cjson_decodes_them(void **state)
{
    (void)state;
    struct bot_msg *m = NULL;
    assert_true(scans(seeds[1]));
    assert_int_equal(telegram_parse_update(seeds[1], strlen(seeds[1]), &m), TG_PARSE_MSG);
    assert_string_equal(m->text, "làm căn cước \xF0\x9F\x98\x80\n/start");
    assert_string_equal(m->chat, "-1001234567890");
    bot_msg_free(m);
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
        assert_same(seeds[i], strlen(seeds[i]));
}

static void callback_reads_string_id_and_data(void **state)
{
    (void)state;
    struct bot_msg *m = NULL;
    assert_true(scans(seeds[2]));
    assert_int_equal(telegram_parse_update(seeds[2], strlen(seeds[2]), &m), TG_PARSE_MSG);
    assert_int_equal(m->kind, BOT_MSG_BUTTON);
    assert_string_equal(m->reply_ref, "4382bfdwdsb323b2d9");
    assert_string_equal(m->text, "i:khai_sinh");
    assert_string_equal(m->chat, "77");
    bot_msg_free(m);
}

/* Each of these the scan leaves to cJSON, and the answer is cJSON's. */
static void unknown_forms_are_left_to_cjson(void **state)
{
    (void)state;
    static const char *undecided[] = {
        "{\"update_id\":1.5,\"message\":{\"chat\":{\"id\":1},\"text\":\"a\"}}",
        "{\"update_id\":1e3,\"message\":{\"chat\":{\"id\":1},\"text\":\"a\"}}",
        "{\"update_id\":12345678901234567,\"message\":{\"chat\":{\"id\":1},\"text\":\"a\"}}",
        "{\"update_id\":9007199254740993,\"message\":{\"chat\":{\"id\":1},\"text\":\"a\"}}",
        "{\"update_id\":007,\"message\":{\"chat\":{\"id\":1},\"text\":\"a\"}}",
        "{\"update_id\":-0,\"message\":{\"chat\":{\"id\":1},\"text\":\"a\"}}",
        "{\"update_id\":1,\"messag\\u0065\":{\"chat\":{\"id\":1},\"text\":\"a\"}}",
        "{\"update_id\":1,\"message\":{\"chat\":{\"id\":1},\"text\":\"a\\u0000b\"}}",
        "{\"update_id\":1,\"message\":{\"chat\":{\"id\":1},\"text\":\"a\\uzzzzb\"}}",
        "{\"update_id\":1,\"message\":{\"chat\":{\"id\":1},\"text\":\"a\\udc00b\"}}",
        "{\"update_id\":1,\"message\":{\"chat\":{\"id\":1},\"text\":\"a\\ud800b\"}}",
        "{\"update_id\":1,\"message\":{\"chat\":{\"id\":1},\"text\":\"a\\ud800\\u0041\"}}",
        "{\"update_id\":1,\"message\":{\"chat\":{\"id\":1},\"text\":\"a\\qb\"}}",
        "{\"update_id\":1,\"update_id\":2,\"message\":{\"chat\":{\"id\":1},\"text\":\"a\"}}",
        "{\"update_id\":1,\"message\":{\"chat\":{\"id\":1},\"text\":\"a\",\"text\":7}}",
        "{\"update_id\":1,\"message\":5,\"message\":{\"chat\":{\"id\":1},\"text\":\"a\"}}",
        "\xEF\xBB\xBF{\"update_id\":1,\"message\":{\"chat\":{\"id\":1},\"text\":\"a\"}}",
        "[{\"update_id\":1}]",
        "{\"update_id\":1,\"message\":{\"chat\":{\"id\":1},\"text\":\"a\"",
        "{\"update_id\":1,\"message\":{\"chat\":{\"id\":1},\"text\":\"a\"},}",
        "{\"update_id\":1 2}",
        "{\"update_id\":+1}",
        "{\"update_id\":1,\"x\":nul}",
        "",
        "   ",
    };
    for (size_t i = 0; i < sizeof undecided / sizeof undecided[0]; i++) {
        if (scans(undecided[i])) {
            fprintf(stderr, "scanned: %s\n", undecided[i]);
            fail();
        }
        assert_same(undecided[i], strlen(undecided[i]));
    }
    /* Nesting past the scan's depth, then a NUL inside the text. */
    char deep[256] = "{\"update_id\":1,\"x\":";
    for (int i = 0; i < TG_SCAN_DEPTH + 1; i++)
        strcat(deep, "[");
    for (int i = 0; i < TG_SCAN_DEPTH + 1; i++)
        strcat(deep, "]");
    strcat(deep, "}");
    assert_false(scans(deep));
    assert_same(deep, strlen(deep));
    static const char nul[] = "{\"update_id\":1,\"message\":{\"chat\":{\"id\":1},\"text\":\"a\0b\"}}";
    struct tg_update u;
    assert_false(telegram_update_scan(nul, sizeof nul - 1, &u));
    assert_same(nul, sizeof nul - 1);
}

/* A small xorshift: the same mutations on every run. */
static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static size_t mutate(char *out, size_t cap, const char *seed)
{
    static const char alphabet[] = "{}[]:,\"\\u0123456789-+.eE ntfalsrd\xC3\xA0\x01";
    size_t len = strlen(seed);
    memcpy(out, seed, len);
    int edits = 1 + (int)(next() % 4);
    for (int e = 0; e < edits && len > 0; e++) {
        size_t at = (size_t)(next() % len);
        switch (next() % 5) {
        case 0: /* replace a byte */
            out[at] = alphabet[next() % (sizeof alphabet - 1)];
            break;
        case 1: /* insert a byte */
            if (len + 1 < cap) {
                memmove(out + at + 1, out + at, len - at);
                out[at] = alphabet[next() % (sizeof alphabet - 1)];
                len++;
            }
            break;
        case 2: { /* delete a run */
            size_t n = 1 + (size_t)(next() % 6);
            if (at + n > len)
                n = len - at;
            memmove(out + at, out + at + n, len - at - n);
            len -= n;
            break;
        }
        case 3: { /* copy a run elsewhere (duplicate keys, deeper nesting) */
            size_t from = (size_t)(next() % len), n = 1 + (size_t)(next() % 24);
            if (from + n > len)
                n = len - from;
            if (len + n < cap) {
                char run[32];
                memcpy(run, out + from, n);
                memmove(out + at + n, out + at, len - at);
                memcpy(out + at, run, n);
                len += n;
            }
            break;
        }
        default: /* a digit becomes another: ids, limits */
            if (out[at] >= '0' && out[at] <= '9')
                out[at] = (char)('0' + next() % 10);
            break;
        }
    }
    return len;
}

static void mutations_read_the_same_both_ways(void **state)
{
    (void)state;
    char buf[1024];
    size_t scanned = 0, total = 300000;
    for (size_t i = 0; i < total; i++) {
        size_t len = mutate(buf, sizeof buf, seeds[i % (sizeof seeds / sizeof seeds[0])]);
        struct tg_update u;
        if (telegram_update_scan(buf, len, &u))
            scanned++;
        telegram_update_free(&u);
        assert_same(buf, len);
    }
    /* The comparison means something only if the scan decided many. */
    assert_true(scanned > total / 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_update_is_scanned_with_its_fields),
        cmocka_unit_test(escapes_decode_as_cjson_decodes_them),
        cmocka_unit_test(callback_reads_string_id_and_data),
        cmocka_unit_test(unknown_forms_are_left_to_cjson),
        cmocka_unit_test(mutations_read_the_same_both_ways),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
