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

/* The tables give what utf8proc gives, for text (n bytes) and with cap
 * bytes of room (a small cap fails in both or in neither). */
static void assert_tables_agree(const char *text, size_t n, size_t cap)
{
    char a[256], b[256];
    size_t fa = norm_fold_into(text, n, a, cap), fb = norm_fold_reference(text, n, b, cap);
    if (fa != fb || (fa != NORM_ERROR && memcmp(a, b, fa + 1) != 0))
        fail_msg("fold differs on %zu bytes %02x %02x %02x, cap %zu", n,
                 (unsigned char)text[0], n > 1 ? (unsigned char)text[1] : 0,
                 n > 2 ? (unsigned char)text[2] : 0, cap);
    fa = norm_marked_words(text, n, a, cap);
    fb = norm_marked_words_reference(text, n, b, cap);
    if (fa != fb || (fa != NORM_ERROR && memcmp(a, b, fa + 1) != 0))
        fail_msg("marked words differ on %zu bytes %02x %02x %02x, cap %zu", n,
                 (unsigned char)text[0], n > 1 ? (unsigned char)text[1] : 0,
                 n > 2 ? (unsigned char)text[2] : 0, cap);
}

static size_t put_utf8(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Every code point, alone, between letters, twice, after a separator and
 * before a marked word, with room and without; then every two-byte
 * sequence and three-byte sequences with bad tails (bad UTF-8 fails the
 * same way). Fails when a table entry is wrong: checked by folding U+00E0
 * to "b" in the table. */
static void test_tables_fold_every_code_point_as_utf8proc_does(void **state)
{
    (void)state;
    for (uint32_t cp = 0x80; cp <= 0x10FFFF; cp++) {
        char t[32];
        size_t n;
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        n = put_utf8(t, cp);
        assert_tables_agree(t, n, 64);
        assert_tables_agree(t, n, 2);
        t[0] = 'A';
        n = 1 + put_utf8(t + 1, cp);
        n += put_utf8(t + n, cp);
        t[n++] = 'b';
        assert_tables_agree(t, n, 64);
        assert_tables_agree(t, n, 3);
        t[0] = '!';
        n = 1 + put_utf8(t + 1, cp);
        memcpy(t + n, " \xe1\xba\xa1 ", 5); /* " ạ " */
        n += 5;
        assert_tables_agree(t, n, 64);
    }
    for (unsigned x = 0x80; x < 0x100; x++)
        for (unsigned y = 0; y < 0x100; y++) {
            char t[4] = {(char)x, (char)y, 'a', (char)0xC3};
            assert_tables_agree(t, 2, 64);
            assert_tables_agree(t, 3, 64);
            assert_tables_agree(t, 4, 64);
            for (unsigned z = 0; z < 0x100; z += 0x3F) {
                char u[3] = {(char)x, (char)y, (char)z};
                assert_tables_agree(u, 3, 64);
            }
        }
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
        cmocka_unit_test(test_tables_fold_every_code_point_as_utf8proc_does),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
