/* lookup: a citizen sees a dossier only with its code and the last 4
 * digits of the applicant's phone or ID number; a wrong code and wrong
 * digits get the same answer; following a dossier writes sub:<code> and
 * refs:{user}; a question typed during a lookup leaves it with its usual
 * answer — through the whole engine (app_fixture.h) on a real Redis. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "app_fixture.h"

#define CODE "000.00.12.H50-250101-0001"
#define RECORD                                                                                      \
    "{\"code\":\"" CODE "\",\"procedure\":\"khai_sinh\",\"applicant_name\":\"Lò Văn Páo\","         \
    "\"phone\":\"0912 345 678\",\"id_number\":\"012345678901\",\"commune\":\"Chiềng Cơi\","       \
    "\"agency\":\"UBND phường Chiềng Cơi\",\"status\":\"dang_xu_ly\","                            \
    "\"received_at\":\"2025-01-01T08:00:00+07:00\",\"due_at\":\"2099-01-10\",\"fee\":0,"            \
    "\"paid\":false,\"submitted_online\":true,\"paid_online\":false,\"finished_at\":\"\",\"note\":\"\"}"

static int setup(void **state)
{
    afx_setup(state);
    struct afx *f = *state;
    afx_put_dossier(f, RECORD);
    return 0;
}

static const char *lookup(struct afx *f, const char *user, const char *code, const char *digits)
{
    afx_say(f, user, "tra cứu hồ sơ");
    afx_say(f, user, code);
    return afx_say(f, user, digits);
}

static void test_the_code_and_the_last_4_digits_show_the_dossier(void **state)
{
    struct afx *f = *state;
    const char *got = lookup(f, "wc:look1", CODE, "5678");
    assert_non_null(strstr(got, CODE));
    assert_non_null(strstr(got, "Đang xử lý"));
    assert_true(afx_has_button(f, "hs:sub:" CODE));
    got = lookup(f, "wc:look2", CODE, "8901"); /* the ID number's last 4 */
    assert_non_null(strstr(got, "Đang xử lý"));
}

static void test_wrong_digits_and_an_unknown_code_get_the_same_answer(void **state)
{
    struct afx *f = *state;
    char wrong_digits[2048], unknown_code[2048];
    snprintf(wrong_digits, sizeof wrong_digits, "%s", lookup(f, "wc:look3", CODE, "1111"));
    snprintf(unknown_code, sizeof unknown_code, "%s", lookup(f, "wc:look4", "000.00.12.H50-250101-0999", "5678"));
    assert_non_null(strstr(wrong_digits, "Không tìm thấy"));
    assert_string_equal(wrong_digits, unknown_code);
    assert_null(strstr(wrong_digits, "Đang xử lý"));
}

static void test_following_a_dossier_is_kept_for_notices_and_for_erasure(void **state)
{
    struct afx *f = *state;
    lookup(f, "wc:look5", CODE, "5678");
    const char *got = afx_press(f, "wc:look5", "hs:sub:" CODE);
    assert_non_null(strstr(got, "Đã đăng ký"));
    redisReply *r = fx_cmd("SISMEMBER sub:%s wc:look5", CODE);
    assert_int_equal(r->integer, 1);
    freeReplyObject(r);
    r = fx_cmd("SISMEMBER refs:{wc:look5} sub:%s", CODE);
    assert_int_equal(r->integer, 1);
    freeReplyObject(r);
    /* Without the proof, a button is not enough. */
    got = afx_press(f, "wc:look6", "hs:sub:" CODE);
    r = fx_cmd("SISMEMBER sub:%s wc:look6", CODE);
    assert_int_equal(r->integer, 0);
    freeReplyObject(r);
}

/* The last answer's texts and button payloads, in order, into out. */
static void answer_of(struct afx *f, char *out, size_t cap)
{
    snprintf(out, cap, "%s", afx_text(f));
    for (size_t i = 0; i < f->replies.n; i++)
        for (size_t b = 0; b < f->replies.items[i].n_buttons; b++) {
            strncat(out, " [", cap - strlen(out) - 1);
            strncat(out, f->replies.items[i].buttons[b].payload, cap - strlen(out) - 1);
            strncat(out, "]", cap - strlen(out) - 1);
        }
}

static bool in_lookup(const char *user_key)
{
    redisReply *r = fx_cmd("GET s:{%s}", user_key);
    bool in = r->type == REDIS_REPLY_STRING && strstr(r->str, "\"lookup\"");
    freeReplyObject(r);
    return in;
}

/* A line asking something else while the lookup waits for a code leaves
 * the lookup and gets the answer it gets outside it (the lookup looks at
 * the line first; the line is classified once). */
static void test_a_question_typed_during_a_lookup_gets_its_usual_answer(void **state)
{
    struct afx *f = *state;
    static const char *const lines[] = {"đăng ký khai sinh phí bao nhiêu", "phí bao nhiêu",
                                        "làm căn cước mất bao lâu", "đăng ký kết hôn"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        char outside_user[32], inside_user[32], outside[8192], inside[8192];
        snprintf(outside_user, sizeof outside_user, "wc:lookq%zu", 2 * i);
        snprintf(inside_user, sizeof inside_user, "wc:lookq%zu", 2 * i + 1);
        afx_say(f, outside_user, lines[i]);
        answer_of(f, outside, sizeof outside);
        afx_say(f, inside_user, "tra cứu hồ sơ");
        assert_true(in_lookup(inside_user));
        afx_say(f, inside_user, lines[i]);
        answer_of(f, inside, sizeof inside);
        assert_string_equal(inside, outside);
        assert_false(in_lookup(inside_user));
        assert_null(strstr(inside, "Mã hồ sơ"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_the_code_and_the_last_4_digits_show_the_dossier, setup, afx_teardown),
        cmocka_unit_test_setup_teardown(test_wrong_digits_and_an_unknown_code_get_the_same_answer, setup,
                                        afx_teardown),
        cmocka_unit_test_setup_teardown(test_following_a_dossier_is_kept_for_notices_and_for_erasure, setup,
                                        afx_teardown),
        cmocka_unit_test_setup_teardown(test_a_question_typed_during_a_lookup_gets_its_usual_answer, setup,
                                        afx_teardown),
    };
    return cmocka_run_group_tests(tests, fx_redis_start, fx_redis_stop);
}
