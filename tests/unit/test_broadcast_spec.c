/* broadcast_spec: request checks, segment matching, times, reasons, keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/broadcast_spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1740787200 /* 2025-03-01T00:00:00Z */
#define ALL BROADCAST_CHANNELS
#define TG_WC ((1u << BOT_CH_TELEGRAM) | (1u << BOT_CH_WEBCHAT))

static int parse(const char *json, unsigned enabled, struct broadcast_spec *spec, char *err)
{
    return broadcast_spec_parse(json, strlen(json), enabled, NOW, spec, err);
}

/* Asserts the body is refused with a message containing want. */
static void refused(const char *json, unsigned enabled, const char *want)
{
    struct broadcast_spec spec;
    char err[BROADCAST_ERR_MAX] = "";
    int rc = parse(json, enabled, &spec, err);
    broadcast_spec_free(&spec);
    if (rc == 0 || !strstr(err, want))
        fail_msg("body %s: rc %d, error \"%s\", want \"%s\"", json, rc, err, want);
}

static void test_full_request_is_accepted(void **state)
{
    (void)state;
    struct broadcast_spec spec;
    char err[BROADCAST_ERR_MAX] = "";
    const char *body =
        "{\"text\":\"Nhắc: hồ sơ cần bổ sung\",\"buttons\":[{\"label\":\"Tra cứu\",\"payload\":\"menu\"}],"
        "\"segment\":{\"channels\":[\"telegram\",\"webchat\"],\"communes\":[\"Chiềng Cơi\"],"
        "\"seen_within_days\":30},\"not_before\":\"2025-03-02T08:00:00+07:00\"}";
    assert_int_equal(parse(body, TG_WC, &spec, err), 0);
    assert_string_equal(spec.reply.text, "Nhắc: hồ sơ cần bổ sung");
    assert_int_equal(spec.reply.n_buttons, 1);
    assert_string_equal(spec.reply.buttons[0].payload, "menu");
    assert_int_equal(spec.segment.channels, TG_WC);
    assert_int_equal(spec.segment.n_communes, 1);
    assert_string_equal(spec.segment.communes[0], "chieng coi");
    assert_int_equal(spec.segment.seen_within_days, 30);
    assert_string_equal(spec.segment.dossier_status, "");
    assert_int_equal(spec.not_before, 1740877200);
    assert_string_equal(spec.buttons_json, "[{\"label\":\"Tra cứu\",\"payload\":\"menu\"}]");
    assert_non_null(strstr(spec.segment_json, "\"seen_within_days\":30"));
    broadcast_spec_free(&spec);
}

static void test_minimal_request_has_no_buttons_and_starts_now(void **state)
{
    (void)state;
    struct broadcast_spec spec;
    char err[BROADCAST_ERR_MAX] = "";
    assert_int_equal(parse("{\"text\":\"x\",\"segment\":{\"channels\":[\"zalo\"]},"
                           "\"not_before\":\"2020-01-01T00:00:00Z\"}", ALL, &spec, err), 0);
    assert_int_equal(spec.reply.n_buttons, 0);
    assert_string_equal(spec.buttons_json, "[]");
    assert_int_equal(spec.not_before, 0); /* in the past: at once */
    assert_null(spec.segment.communes);
    broadcast_spec_free(&spec);
    assert_int_equal(parse("{\"text\":\"x\",\"segment\":{\"channels\":[\"zalo\"],"
                           "\"dossier_status\":\"can_bo_sung\"}}", ALL, &spec, err), 0);
    assert_string_equal(spec.segment.dossier_status, "can_bo_sung");
    broadcast_spec_free(&spec);
}

static void test_bad_bodies_are_refused_with_a_clear_message(void **state)
{
    (void)state;
    char long_text[BROADCAST_TEXT_MAX * 3 + 64];
    strcpy(long_text, "{\"text\":\"");
    for (int i = 0; i < BROADCAST_TEXT_MAX + 1; i++)
        strcat(long_text, "ă"); /* 1001 characters, 2002 bytes */
    strcat(long_text, "\",\"segment\":{\"channels\":[\"telegram\"]}}");
    refused(long_text, ALL, "1001 characters");

    refused("{oops", ALL, "JSON object");
    refused("[]", ALL, "JSON object");
    refused("{\"segment\":{\"channels\":[\"telegram\"]}}", ALL, "text is required");
    refused("{\"text\":\"  \",\"segment\":{\"channels\":[\"telegram\"]}}", ALL, "text is required");
    refused("{\"text\":\"x\"}", ALL, "segment is required");
    refused("{\"text\":\"x\",\"segment\":{}}", ALL, "segment.channels is required");
    refused("{\"text\":\"x\",\"segment\":{\"channels\":[]}}", ALL, "segment.channels is required");
    refused("{\"text\":\"x\",\"segment\":{\"channels\":[\"sms\"]}}", ALL, "unknown channel 'sms'");
    refused("{\"text\":\"x\",\"segment\":{\"channels\":[\"cli\"]}}", ALL, "unknown channel 'cli'");
    refused("{\"text\":\"x\",\"segment\":{\"channels\":[\"tg\"]}}", ALL, "unknown channel 'tg'");
    refused("{\"text\":\"x\",\"segment\":{\"channels\":[\"zalo\"]}}", TG_WC, "'zalo' is not enabled");
    refused("{\"text\":\"x\",\"colour\":1,\"segment\":{\"channels\":[\"telegram\"]}}", ALL,
            "unknown field 'colour'");
    refused("{\"text\":\"x\",\"segment\":{\"channels\":[\"telegram\"],\"age\":3}}", ALL,
            "segment: unknown field 'age'");
    refused("{\"text\":\"x\",\"segment\":{\"channels\":[\"telegram\"],\"dossier_status\":\"late\"}}",
            ALL, "segment.dossier_status must be a dossier status");
    refused("{\"text\":\"x\",\"segment\":{\"channels\":[\"telegram\"],\"procedure\":\"khai_sinh\"}}",
            ALL, "segment.procedure is not supported");
    refused("{\"text\":\"x\",\"segment\":{\"channels\":[\"telegram\"],\"communes\":[]}}", ALL,
            "segment.communes");
    refused("{\"text\":\"x\",\"segment\":{\"channels\":[\"telegram\"],\"communes\":[\"\"]}}", ALL,
            "segment.communes");
    refused("{\"text\":\"x\",\"segment\":{\"channels\":[\"telegram\"],\"seen_within_days\":0}}", ALL,
            "seen_within_days");
    refused("{\"text\":\"x\",\"segment\":{\"channels\":[\"telegram\"],\"seen_within_days\":1.5}}", ALL,
            "seen_within_days");
    refused("{\"text\":\"x\",\"segment\":{\"channels\":[\"telegram\"]},\"not_before\":\"tomorrow\"}", ALL,
            "not_before must be an ISO 8601 time");
    refused("{\"text\":\"x\",\"segment\":{\"channels\":[\"telegram\"]},\"not_before\":\"2027-03-01T00:00:00Z\"}",
            ALL, "more than a year ahead");
}

static void test_buttons_are_checked(void **state)
{
    (void)state;
    const char *seg = ",\"segment\":{\"channels\":[\"telegram\"]}}";
    char body[512];
    snprintf(body, sizeof body, "{\"text\":\"x\",\"buttons\":[%s]%s",
             "{\"label\":\"a\",\"payload\":\"a\"},{\"label\":\"b\",\"payload\":\"b\"},"
             "{\"label\":\"c\",\"payload\":\"c\"},{\"label\":\"d\",\"payload\":\"d\"}", seg);
    refused(body, ALL, "at most 3 buttons");
    snprintf(body, sizeof body, "{\"text\":\"x\",\"buttons\":[{\"label\":\"a\",\"payload\":\"%065d\"}]%s",
             0, seg);
    refused(body, ALL, "payload must be 1-64 bytes");
    snprintf(body, sizeof body, "{\"text\":\"x\",\"buttons\":[{\"label\":\"a\",\"payload\":\"có dấu\"}]%s", seg);
    refused(body, ALL, "printable ASCII");
    snprintf(body, sizeof body, "{\"text\":\"x\",\"buttons\":[{\"label\":\"\",\"payload\":\"a\"}]%s", seg);
    refused(body, ALL, "buttons[0].label is required");
    snprintf(body, sizeof body, "{\"text\":\"x\",\"buttons\":[{\"label\":\"a\",\"payload\":\"a\",\"url\":\"u\"}]%s",
             seg);
    refused(body, ALL, "buttons[0]: unknown field 'url'");
    snprintf(body, sizeof body, "{\"text\":\"x\",\"buttons\":{}%s", seg);
    refused(body, ALL, "buttons must be an array");

    struct broadcast_spec spec;
    char err[BROADCAST_ERR_MAX];
    snprintf(body, sizeof body, "{\"text\":\"x\",\"buttons\":[{\"label\":\"a\",\"payload\":\"%064d\"}]%s", 0, seg);
    assert_int_equal(parse(body, ALL, &spec, err), 0); /* exactly 64 bytes is fine */
    broadcast_spec_free(&spec);
}

static struct broadcast_segment segment(unsigned channels, const char *commune, unsigned days)
{
    struct broadcast_segment s = {.channels = channels, .seen_within_days = days};
    if (commune) {
        s.communes = calloc(1, sizeof *s.communes);
        s.communes[0] = strdup(commune);
        s.n_communes = 1;
    }
    return s;
}

static void segment_free(struct broadcast_segment *s)
{
    for (size_t i = 0; i < s->n_communes; i++)
        free(s->communes[i]);
    free(s->communes);
}

static void test_segment_matches_channel_commune_and_recency(void **state)
{
    (void)state;
    char recent[24], old[24];
    snprintf(recent, sizeof recent, "%d", NOW - 86400);
    snprintf(old, sizeof old, "%d", NOW - 31 * 86400);

    struct broadcast_segment s = segment(TG_WC, "chieng coi", 30);
    assert_true(broadcast_segment_match(&s, "tg:1", recent, "Chiềng Cơi", NOW));
    assert_true(broadcast_segment_match(&s, "wc:webuser01", recent, "CHIENG  COI", NOW));
    assert_false(broadcast_segment_match(&s, "zl:1", recent, "Chiềng Cơi", NOW));  /* channel */
    assert_false(broadcast_segment_match(&s, "cli:1", recent, "Chiềng Cơi", NOW));
    assert_false(broadcast_segment_match(&s, "tg:1", recent, "Chiềng Sinh", NOW)); /* commune */
    assert_false(broadcast_segment_match(&s, "tg:1", recent, NULL, NOW));
    assert_false(broadcast_segment_match(&s, "tg:1", old, "Chiềng Cơi", NOW));     /* not seen lately */
    assert_false(broadcast_segment_match(&s, "tg:1", NULL, "Chiềng Cơi", NOW));
    assert_false(broadcast_segment_match(&s, "tg:1", "soon", "Chiềng Cơi", NOW));
    segment_free(&s);

    struct broadcast_segment any = segment(1u << BOT_CH_TELEGRAM, NULL, 0);
    assert_true(broadcast_segment_match(&any, "tg:1", NULL, NULL, NOW));
    assert_false(broadcast_segment_match(&any, "bad", NULL, NULL, NOW));
    segment_free(&any);
}

static void test_commune_comes_from_the_record_or_a_consented_profile(void **state)
{
    (void)state;
    assert_string_equal(broadcast_user_commune("Chiềng Cơi", "yes", "Chiềng Sinh"), "Chiềng Cơi");
    assert_string_equal(broadcast_user_commune(NULL, "yes", "Chiềng Sinh"), "Chiềng Sinh");
    assert_string_equal(broadcast_user_commune("", "yes", "Chiềng Sinh"), "Chiềng Sinh");
    assert_null(broadcast_user_commune(NULL, "no", "Chiềng Sinh"));
    assert_null(broadcast_user_commune(NULL, NULL, "Chiềng Sinh"));
    assert_null(broadcast_user_commune(NULL, "yes", NULL));
}

static void test_user_keys_come_only_from_user_records(void **state)
{
    (void)state;
    char out[32];
    assert_true(broadcast_user_key("u:{tg:123}", out, sizeof out));
    assert_string_equal(out, "tg:123");
    assert_false(broadcast_user_key("u:{tg:123}:x", out, sizeof out));
    assert_false(broadcast_user_key("u:{}", out, sizeof out));
    assert_false(broadcast_user_key("u:{tg123}", out, sizeof out));
    assert_false(broadcast_user_key("s:{tg:123}", out, sizeof out));
    assert_false(broadcast_user_key("u:{tg:{1}", out, sizeof out));
    assert_false(broadcast_user_key("u:{tg:0123456789012345678901234567890123}", out, sizeof out));
}

static void test_times_parse_with_offsets_and_format_in_vietnam_time(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(broadcast_parse_time("2025-03-01T07:00:00+07:00", &t), 0);
    assert_int_equal(t, NOW);
    assert_int_equal(broadcast_parse_time("2025-03-01T00:00:00Z", &t), 0);
    assert_int_equal(t, NOW);
    assert_int_equal(broadcast_parse_time("2025-03-01T07:00", &t), 0); /* no offset: +07:00 */
    assert_int_equal(t, NOW);
    assert_int_equal(broadcast_parse_time("2025-02-28T19:30:00.250-04:30", &t), 0);
    assert_int_equal(t, NOW);
    assert_int_equal(broadcast_parse_time("2024-02-29T00:00:00Z", &t), 0);
    assert_int_equal(broadcast_parse_time("2025-02-29T00:00:00Z", &t), -1);
    assert_int_equal(broadcast_parse_time("2025-13-01T00:00:00Z", &t), -1);
    assert_int_equal(broadcast_parse_time("2025-03-01T24:00:00Z", &t), -1);
    assert_int_equal(broadcast_parse_time("2025-03-01", &t), -1);
    assert_int_equal(broadcast_parse_time("2025-03-01T00:00:00+0700", &t), -1);
    assert_int_equal(broadcast_parse_time("2025-03-01T00:00:00Zjunk", &t), -1);

    char out[32];
    broadcast_format_time(NOW, out);
    assert_string_equal(out, "2025-03-01T07:00:00+07:00");
    broadcast_format_time(NOW + 17 * 3600 + 59, out);
    assert_string_equal(out, "2025-03-02T00:00:59+07:00");
}

static void test_ids_keys_and_records(void **state)
{
    (void)state;
    char key[BROADCAST_KEY_MAX];
    broadcast_key(key, sizeof key, "12", ":q");
    assert_string_equal(key, "bc:12:q");
    assert_true(broadcast_id_valid("12"));
    assert_false(broadcast_id_valid("012"));
    assert_false(broadcast_id_valid(""));
    assert_false(broadcast_id_valid("1x"));
    assert_false(broadcast_id_valid("1234567890123456789"));
    assert_true(broadcast_idem_key_valid("reminder 2025-03 #1"));
    assert_false(broadcast_idem_key_valid(""));
    assert_false(broadcast_idem_key_valid("tab\there"));
    assert_false(broadcast_idem_key_valid("khóa"));

    struct bot_reply reply;
    assert_int_equal(broadcast_reply_from_record("t", "[{\"label\":\"A\",\"payload\":\"menu\"}]", &reply), 0);
    assert_string_equal(reply.text, "t");
    assert_int_equal(reply.n_buttons, 1);
    assert_string_equal(reply.buttons[0].label, "A");
    bot_reply_clear(&reply);
    assert_int_equal(broadcast_reply_from_record("t", "{not json", &reply), -1);
    assert_string_equal(reply.text, "t");
    assert_int_equal(reply.n_buttons, 0);
    bot_reply_clear(&reply);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_request_is_accepted),
        cmocka_unit_test(test_minimal_request_has_no_buttons_and_starts_now),
        cmocka_unit_test(test_bad_bodies_are_refused_with_a_clear_message),
        cmocka_unit_test(test_buttons_are_checked),
        cmocka_unit_test(test_segment_matches_channel_commune_and_recency),
        cmocka_unit_test(test_commune_comes_from_the_record_or_a_consented_profile),
        cmocka_unit_test(test_user_keys_come_only_from_user_records),
        cmocka_unit_test(test_times_parse_with_offsets_and_format_in_vietnam_time),
        cmocka_unit_test(test_ids_keys_and_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
