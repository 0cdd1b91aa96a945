/* Unit tests: normalize (norm_fold / norm_fold_into / norm_marked_words). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/normalize.h"

#include <stdlib.h>
#include <string.h>

static void assert_folds(const char *in, const char *want)
{
    size_t n = 0;
    char *got = norm_fold(in, strlen(in), &n);
    assert_non_null(got);
    assert_string_equal(got, want);
    assert_int_equal(n, strlen(want));
    free(got);
}

static void test_folds_case_diacritics_and_separators(void **state)
{
    (void)state;
    assert_folds("ĐĂNG KÝ  khai-sinh!", "dang ky khai sinh");
    assert_folds("Đăng ký thường trú", "dang ky thuong tru");
    assert_folds("  căn cước, công dân?? ", "can cuoc cong dan");
    assert_folds("Giấy phép lái xe hạng B2", "giay phep lai xe hang b2");
    assert_folds("", "");
    assert_folds("!!!", "");
}

static void test_both_tone_placements_fold_equal(void **state)
{
    (void)state;
    assert_folds("hòa", "hoa");
    assert_folds("hoà", "hoa");
    assert_folds("thủy", "thuy");
    assert_folds("thuỷ", "thuy");
    /* decomposed input: o + combining grave, a + combining hook */
    assert_folds("ho\xcc\x80" "a", "hoa");
    assert_folds("thu\xcc\x89y", "thuy");
}

static void test_d_with_stroke_folds_to_d(void **state)
{
    (void)state;
    assert_folds("đ Đ đỏ ĐẤT", "d d do dat");
}

static void test_compatibility_forms_fold(void **state)
{
    (void)state;
    assert_folds("ｄａｎｇ ｋｙ", "dang ky");
}

static void test_invalid_utf8_gives_null(void **state)
{
    (void)state;
    const char bad1[] = "kh\xff" "ai";
    const char bad2[] = "\xc3";           /* truncated sequence */
    const char bad3[] = "\xed\xa0\x80";   /* surrogate */
    assert_null(norm_fold(bad1, sizeof bad1 - 1, NULL));
    assert_null(norm_fold(bad2, sizeof bad2 - 1, NULL));
    assert_null(norm_fold(bad3, sizeof bad3 - 1, NULL));
}

static void test_fold_into_small_buffer_fails_cleanly(void **state)
{
    (void)state;
    char out[4];
    assert_int_equal(norm_fold_into("khai sinh", 9, out, sizeof out), NORM_ERROR);
    char ok[16];
    assert_int_equal(norm_fold_into("Khai", 4, ok, sizeof ok), 4);
    assert_string_equal(ok, "khai");
}

static void test_other_scripts_keep_letters(void **state)
{
    (void)state;
    assert_folds("Ναι όχι", "ναι οχι");
    assert_folds("中文 ok", "中文 ok");
}

static void assert_marked(const char *in, const char *want)
{
    char out[256];
    size_t n = norm_marked_words(in, strlen(in), out, sizeof out);
    assert_int_not_equal(n, NORM_ERROR);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

/* Folding loses what tells "vàng" (gold) from "vắng" (absent): the marked
 * words keep it, whatever the tone placement or the case. */
static void test_marked_words_keep_what_folding_loses(void **state)
{
    (void)state;
    assert_marked("Mua vàng, khai báo tạm vắng", "vangF baoS tamJ vangWS");
    assert_marked("kể chuyện cười", "keAR chuyenJA cuoiHHF");
    assert_marked("đám cưới", "damDS cuoiHHS");
    assert_marked("ĐĂNG KÝ", "dangDW kyS");
    assert_marked("hoà", "hoaF");
    assert_marked("hòa", "hoaF");
    assert_marked("chuyện", "chuyenJA"); /* marks in canonical order */
    assert_marked("khai sinh cho con", "");
    assert_marked("", "");
}

static void test_marked_words_refuse_bad_input(void **state)
{
    char small[4];
    (void)state;
    assert_int_equal(norm_marked_words("\xff\xfe", 2, small, sizeof small), NORM_ERROR);
    assert_int_equal(norm_marked_words("những", strlen("những"), small, sizeof small), NORM_ERROR);
}

/* Whole words only: at the start or after a space, at the end or before one. */
static void test_has_words_takes_whole_words_only(void **state)
{
    (void)state;
    const char *t = "xa chieng an cu";
    assert_true(norm_has_words(t, strlen(t), "xa", 2));
    assert_true(norm_has_words(t, strlen(t), "chieng an", 9));
    assert_true(norm_has_words(t, strlen(t), "cu", 2));
    assert_false(norm_has_words(t, strlen(t), "an c", 4));
    assert_false(norm_has_words(t, strlen(t), "chie", 4));
    assert_false(norm_has_words(t, strlen(t), "", 0));
    assert_false(norm_has_words(t, 6, "chieng an", 9)); /* only len bytes are read */
    const char *u = "ban bo bo";
    assert_true(norm_has_words(u, strlen(u), "bo", 2)); /* a later hit when the first is not whole */
    const char *v = "bon bo";
    assert_true(norm_has_words(v, strlen(v), "bo", 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_folds_case_diacritics_and_separators),
        cmocka_unit_test(test_both_tone_placements_fold_equal),
        cmocka_unit_test(test_d_with_stroke_folds_to_d),
        cmocka_unit_test(test_compatibility_forms_fold),
        cmocka_unit_test(test_invalid_utf8_gives_null),
        cmocka_unit_test(test_fold_into_small_buffer_fails_cleanly),
        cmocka_unit_test(test_other_scripts_keep_letters),
        cmocka_unit_test(test_marked_words_keep_what_folding_loses),
        cmocka_unit_test(test_marked_words_refuse_bad_input),
        cmocka_unit_test(test_has_words_takes_whole_words_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
