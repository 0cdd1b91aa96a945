/* Unit tests: what intent don_vi_hanh_chinh answers (commune_answer.h),
 * against the real 2025 list (intents/_communes.json). Run from the repo root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "commune_fixture.h"

#include "dvcbot/commune_answer.h"

#include <stdlib.h>
#include <string.h>

static struct commune_answer decide(void **state, const char *text)
{
    struct commune_answer a;
    commune_answer_decide(cfx_list(state), text, NULL, &a);
    return a;
}

static void an_old_commune_gets_the_unit_it_is_part_of_now(void **state)
{
    struct commune_answer a = decide(state, "xã chiềng an cũ giờ là xã nào");
    assert_int_equal(a.kind, COMMUNE_ANSWER_OLD);
    assert_string_equal(a.unit->name, "Chiềng Hoa");
    assert_string_equal(a.old, "xã Chiềng Ân");
    a = decide(state, "ban toi truoc thuoc xa hua la gio thuoc xa nao");
    assert_int_equal(a.kind, COMMUNE_ANSWER_OLD);
    assert_string_equal(a.unit->name, "Chiềng Cơi");
    assert_string_equal(a.unit->type, "phường");
    a = decide(state, "thi tran phong tho cu h la xa nao");
    assert_int_equal(a.kind, COMMUNE_ANSWER_OLD);
    assert_string_equal(a.unit->name, "Phong Thổ");
    assert_string_equal(a.old, "thị trấn Phong Thổ");
}

static void the_question_is_not_read_as_the_type_of_the_unit(void **state)
{
    /* "phường nào" asks; it does not say xã Chiềng Cọ was a ward */
    struct commune_answer a = decide(state, "xã Chiềng Cọ cũ nay thuộc phường nào?");
    assert_int_equal(a.kind, COMMUNE_ANSWER_OLD);
    assert_string_equal(a.unit->name, "Chiềng Cơi");
    assert_string_equal(a.old, "xã Chiềng Cọ");
}

static void a_unit_of_today_is_confirmed_even_typed_with_the_wrong_type(void **state)
{
    struct commune_answer a = decide(state, "xa muong bu gio con khong");
    assert_int_equal(a.kind, COMMUNE_ANSWER_TODAY);
    assert_string_equal(a.unit->name, "Mường Bú");
    a = decide(state, "xã Chiềng Cơi giờ thế nào"); /* a ward, typed "xã" */
    assert_int_equal(a.kind, COMMUNE_ANSWER_TODAY);
    assert_string_equal(a.unit->name, "Chiềng Cơi");
    assert_string_equal(a.unit->type, "phường");
}

static void a_name_of_several_units_offers_them(void **state)
{
    struct commune_answer a = decide(state, "muong te");
    assert_int_equal(a.kind, COMMUNE_ANSWER_CHOOSE);
    assert_true(a.match.n_cands >= 2);
    /* "cũ" does not settle it: phường Chiềng An has the old phường Chiềng
     * An, and the old xã Chiềng Ân is now in Chiềng Hoa */
    a = decide(state, "chieng an cu gio la gi");
    assert_int_equal(a.kind, COMMUNE_ANSWER_CHOOSE);
    bool chieng_hoa = false;
    for (size_t k = 0; k < a.match.n_cands; k++)
        chieng_hoa = chieng_hoa || strcmp(a.match.cands[k]->name, "Chiềng Hoa") == 0;
    assert_true(chieng_hoa);
    /* the type typed settles it */
    a = decide(state, "phuong chieng an cu");
    assert_int_equal(a.kind, COMMUNE_ANSWER_TODAY);
    assert_string_equal(a.unit->name, "Chiềng An");
}

static void no_unit_named_gets_the_explanation(void **state)
{
    const char *lines[] = {"có phải lên huyện nữa không", "gio ko con huyen thi lam giay to o dau",
                           "12345", "", "\xff\xfe xã \xc3", "xã", "xã nào"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        assert_int_equal(decide(state, lines[i]).kind, COMMUNE_ANSWER_EXPLAIN);
    assert_int_equal(decide(state, NULL).kind, COMMUNE_ANSWER_EXPLAIN);
    size_t n = COMMUNE_ANSWER_TEXT_MAX + 50;
    char *longline = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        longline[i] = "hua la "[i % 7];
    longline[n] = '\0';
    assert_int_equal(decide(state, longline).kind, COMMUNE_ANSWER_EXPLAIN);
    /* just under the limit, words only: still read, no overflow */
    longline[COMMUNE_ANSWER_TEXT_MAX] = '\0';
    assert_int_not_equal(decide(state, longline).kind, COMMUNE_ANSWER_PROCEDURE);
    memset(longline, ' ', COMMUNE_ANSWER_TEXT_MAX);
    longline[COMMUNE_ANSWER_TEXT_MAX] = '\0';
    assert_int_equal(decide(state, longline).kind, COMMUNE_ANSWER_EXPLAIN);
    free(longline);
}

static void a_line_that_names_a_procedure_gets_the_procedure(void **state)
{
    struct commune_answer a;
    commune_answer_decide(cfx_list(state), "làm khai sinh ở xã chiềng cơi",
                          "khai_sinh", &a);
    assert_int_equal(a.kind, COMMUNE_ANSWER_PROCEDURE);
    assert_string_equal(a.procedure, "khai_sinh");
}

/* "giấy tờ cũ ghi huyện có phải làm lại không": papers_question of the
 * intent file names a paper and asks whether it still holds */
static void a_question_about_old_papers_is_known(void **state)
{
    struct commune_fixture *f = *state;
    const struct intent *in = catalog_find(f->cat, COMMUNE_ANSWER_INTENT);
    assert_non_null(in);
    const cJSON *words = cJSON_GetObjectItemCaseSensitive(in->json, COMMUNE_ANSWER_PAPERS);
    assert_non_null(words);
    assert_true(commune_answer_asks_papers(words, "giấy tờ cũ ghi huyện có phải làm lại không"));
    assert_true(commune_answer_asks_papers(words, "So do ghi xa cu con gia tri khong?"));
    assert_true(commune_answer_asks_papers(words, "căn cước ghi xã Hua La cũ, có phải đổi không"));
    assert_false(commune_answer_asks_papers(words, "xã hua la cũ giờ là xã nào"));
    assert_false(commune_answer_asks_papers(words, "bỏ huyện rồi thì làm giấy tờ ở đâu"));
    assert_false(commune_answer_asks_papers(words, "giấy tờ đổi được không")); /* "doi duoc": no ask */
    assert_false(commune_answer_asks_papers(NULL, "giấy tờ có phải đổi không"));
    assert_false(commune_answer_asks_papers(words, NULL));
    char *long_line = malloc(COMMUNE_ANSWER_TEXT_MAX + 40);
    memset(long_line, 'a', COMMUNE_ANSWER_TEXT_MAX + 39);
    memcpy(long_line, "giay to phai doi ", 17);
    long_line[COMMUNE_ANSWER_TEXT_MAX + 39] = '\0';
    assert_false(commune_answer_asks_papers(words, long_line));
    free(long_line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_old_commune_gets_the_unit_it_is_part_of_now),
        cmocka_unit_test(the_question_is_not_read_as_the_type_of_the_unit),
        cmocka_unit_test(a_unit_of_today_is_confirmed_even_typed_with_the_wrong_type),
        cmocka_unit_test(a_name_of_several_units_offers_them),
        cmocka_unit_test(no_unit_named_gets_the_explanation),
        cmocka_unit_test(a_line_that_names_a_procedure_gets_the_procedure),
        cmocka_unit_test(a_question_about_old_papers_is_known),
    };
    return cmocka_run_group_tests(tests, cfx_setup, cfx_teardown);
}
