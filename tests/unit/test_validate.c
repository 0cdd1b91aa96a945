/* Unit tests: slot validators (dates, CCCD, phones, names, text, options). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/validate.h"

#include <string.h>

/* 2026-03-15 10:00 in Vietnam (03:00 UTC). */
static const time_t NOW = 1773543600;
/* 2026-03-15 23:30 in Vietnam is still the 15th there (16:30 UTC). */
static const time_t NOW_LATE = 1773592200;

static void date_ok(const char *in, enum valid_date_rule rule, const char *want)
{
    char out[VALIDATE_OUT_MAX];
    enum valid_code rc = validate_date(in, rule, NOW, out, sizeof out);
    if (rc != VALID_OK)
        fail_msg("'%s' refused: %s", in, validate_code_name(rc));
    assert_string_equal(out, want);
}

static void date_bad(const char *in, enum valid_date_rule rule, enum valid_code want)
{
    char out[VALIDATE_OUT_MAX];
    enum valid_code rc = validate_date(in, rule, NOW, out, sizeof out);
    if (rc != want)
        fail_msg("'%s': got %s, want %s", in, validate_code_name(rc), validate_code_name(want));
}

static void dates_in_common_forms_normalise(void **state)
{
    (void)state;
    date_ok("01/02/1990", VALID_DATE_ANY, "01/02/1990");
    date_ok("1/2/1990", VALID_DATE_ANY, "01/02/1990");
    date_ok("01-02-1990", VALID_DATE_ANY, "01/02/1990");
    date_ok("1.2.1990", VALID_DATE_ANY, "01/02/1990");
    date_ok(" 1 2 1990 ", VALID_DATE_ANY, "01/02/1990");
    date_ok("01021990", VALID_DATE_ANY, "01/02/1990");
    date_ok("ngày 1 tháng 2 năm 1990", VALID_DATE_ANY, "01/02/1990");
    date_ok("ngay 29 thang 2 nam 2024", VALID_DATE_ANY, "29/02/2024");
    date_ok("15/03/2026", VALID_DATE_NOT_FUTURE, "15/03/2026"); /* today */
    date_ok("15/03/2026", VALID_DATE_NOT_PAST, "15/03/2026");
}

static void two_digit_years_pivot_on_this_year(void **state)
{
    (void)state;
    date_ok("1.2.90", VALID_DATE_NOT_FUTURE, "01/02/1990");
    date_ok("1.2.26", VALID_DATE_NOT_FUTURE, "01/02/2026");
    date_ok("1.2.27", VALID_DATE_ANY, "01/02/1927");
    date_ok("1.2.27", VALID_DATE_NOT_PAST, "01/02/2027");
}

static void a_date_without_its_year_is_the_nearest_on_the_allowed_side(void **state)
{
    (void)state; /* NOW is 15/03/2026 in Vietnam */
    date_ok("5/3", VALID_DATE_RECENT, "05/03/2026");
    date_ok("15/3", VALID_DATE_RECENT, "15/03/2026");
    date_ok("ngay 16 thang 3", VALID_DATE_RECENT, "16/03/2025");
    date_ok("5/11", VALID_DATE_RECENT, "05/11/2025");
    date_ok("5/11", VALID_DATE_UPCOMING, "05/11/2026");
    date_ok("14/3", VALID_DATE_UPCOMING, "14/03/2027");
    date_ok("5/11/2025", VALID_DATE_RECENT, "05/11/2025");
    date_ok("mùng 3 tháng 3", VALID_DATE_RECENT, "03/03/2026"); /* "mùng", "mồng": days 1-10 */
    date_ok("mồng 5 tháng 11 năm 2025", VALID_DATE_RECENT, "05/11/2025");
    assert_true(validate_date_implied("ngày 5 tháng 11"));
    assert_true(validate_date_implied("5/11"));
    assert_true(validate_date_implied("Hôm qua"));
    assert_false(validate_date_implied("5/11/2025"));
    assert_false(validate_date_implied("bé gái"));
    date_ok("hôm qua", VALID_DATE_RECENT, "14/03/2026");
    date_ok("hom nay", VALID_DATE_NOT_FUTURE, "15/03/2026");
    date_ok("ngày mai", VALID_DATE_UPCOMING, "16/03/2026");
    date_bad("ngay mai", VALID_DATE_RECENT, VALID_DATE_FUTURE);
}

static void impossible_and_out_of_range_dates_are_refused(void **state)
{
    (void)state;
    date_bad("31/02/1990", VALID_DATE_ANY, VALID_DATE_NOT_EXIST);
    date_bad("29/02/2023", VALID_DATE_ANY, VALID_DATE_NOT_EXIST);
    date_bad("12/13/1990", VALID_DATE_ANY, VALID_DATE_NOT_EXIST);
    date_bad("00/01/1990", VALID_DATE_ANY, VALID_DATE_NOT_EXIST);
    date_bad("01/01/1850", VALID_DATE_ANY, VALID_DATE_TOO_OLD);
    date_bad("16/03/2026", VALID_DATE_NOT_FUTURE, VALID_DATE_FUTURE);
    date_bad("14/03/2026", VALID_DATE_NOT_PAST, VALID_DATE_PAST);
    date_bad("hôm xưa", VALID_DATE_ANY, VALID_DATE_FORMAT);
    date_bad("1/2", VALID_DATE_ANY, VALID_DATE_NO_YEAR);
    date_bad("ngày 1 tháng 2", VALID_DATE_NOT_FUTURE, VALID_DATE_NO_YEAR);
    date_bad("31/2", VALID_DATE_RECENT, VALID_DATE_NOT_EXIST);
    date_bad("32/1", VALID_DATE_ANY, VALID_DATE_NOT_EXIST);
    date_bad("1/2/3/4", VALID_DATE_ANY, VALID_DATE_FORMAT);
    date_bad("1/2/199", VALID_DATE_ANY, VALID_DATE_FORMAT);
    date_bad("010290", VALID_DATE_ANY, VALID_DATE_FORMAT);
    date_bad("", VALID_DATE_ANY, VALID_EMPTY);
    date_bad("  ", VALID_DATE_ANY, VALID_EMPTY);
    date_bad("\xff\xfe", VALID_DATE_ANY, VALID_DATE_FORMAT);
}

static void today_is_taken_in_vietnam_time(void **state)
{
    (void)state;
    char out[VALIDATE_OUT_MAX];
    /* At 23:30 on the 15th in Vietnam, the 16th is still the future. */
    assert_int_equal(validate_date("16/03/2026", VALID_DATE_NOT_FUTURE, NOW_LATE, out, sizeof out),
                     VALID_DATE_FUTURE);
    assert_int_equal(validate_date("15/03/2026", VALID_DATE_NOT_FUTURE, NOW_LATE, out, sizeof out),
                     VALID_OK);
}

static void cccd_needs_twelve_digits_province_and_century(void **state)
{
    (void)state;
    char out[VALIDATE_OUT_MAX];
    assert_int_equal(validate_cccd("014090001234", NOW, out, sizeof out), VALID_OK);
    assert_string_equal(out, "014090001234");
    assert_int_equal(validate_cccd("012 2 05 001234", NOW, out, sizeof out), VALID_OK);
    assert_string_equal(out, "012205001234");
    assert_int_equal(validate_cccd("014.090.001.234", NOW, out, sizeof out), VALID_OK);
    assert_int_equal(validate_cccd("123456789", NOW, out, sizeof out), VALID_CCCD_DIGITS);
    assert_int_equal(validate_cccd("0140900012345", NOW, out, sizeof out), VALID_CCCD_DIGITS);
    assert_int_equal(validate_cccd("01409000123a", NOW, out, sizeof out), VALID_CCCD_DIGITS);
    assert_int_equal(validate_cccd("", NOW, out, sizeof out), VALID_EMPTY);
    /* 003 and 099 are no province; 4 is a 22nd-century birth. */
    assert_int_equal(validate_cccd("003090001234", NOW, out, sizeof out), VALID_CCCD_INVALID);
    assert_int_equal(validate_cccd("099090001234", NOW, out, sizeof out), VALID_CCCD_INVALID);
    assert_int_equal(validate_cccd("014490001234", NOW, out, sizeof out), VALID_CCCD_INVALID);
    /* Born in 2030 (century digit 2, year 30): not yet. */
    assert_int_equal(validate_cccd("014230001234", NOW, out, sizeof out), VALID_CCCD_INVALID);
    assert_true(validate_cccd_province("014"));
    assert_true(validate_cccd_province("096"));
    assert_false(validate_cccd_province("000"));
}

static void phone_forms_normalise_to_ten_digits(void **state)
{
    (void)state;
    static const char *const ok[] = {"0912345678", "091 234 5678", "0912.345.678",
                                     "+84912345678", "+84 912 345 678", "84912345678",
                                     "0084912345678", "(091) 234-5678", "0312345678",
                                     "0587654321", "0701234567", "0812345678"};
    char out[VALIDATE_OUT_MAX];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (validate_phone(ok[i], out, sizeof out) != VALID_OK)
            fail_msg("'%s' refused", ok[i]);
        assert_int_equal(strlen(out), 10);
        assert_int_equal(out[0], '0');
    }
    validate_phone("+84 912 345 678", out, sizeof out);
    assert_string_equal(out, "0912345678");
    static const char *const bad[] = {"091234567", "09123456789", "0212345678", "0112345678",
                                      "+85912345678", "+0912345678", "0912-abc-678",
                                      "8491234567", "phone"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (validate_phone(bad[i], out, sizeof out) != VALID_PHONE)
            fail_msg("'%s' accepted", bad[i]);
    assert_int_equal(validate_phone("  ", out, sizeof out), VALID_EMPTY);
}

static void names_are_capitalised_and_checked(void **state)
{
    (void)state;
    char out[VALIDATE_OUT_MAX];
    assert_int_equal(validate_name("  nguyễn   văn an ", 2, 60, out, sizeof out), VALID_OK);
    assert_string_equal(out, "Nguyễn Văn An");
    assert_int_equal(validate_name("LÒ THỊ ÚT", 2, 60, out, sizeof out), VALID_OK);
    assert_string_equal(out, "Lò Thị Út");
    /* Decomposed input (e + combining marks) comes out composed. */
    assert_int_equal(validate_name("tha\xcc\x80nh", 2, 60, out, sizeof out), VALID_OK);
    assert_string_equal(out, "Thành");
    assert_int_equal(validate_name("Nguyen Van 2", 2, 60, out, sizeof out), VALID_NAME_CHARS);
    assert_int_equal(validate_name("@@", 2, 60, out, sizeof out), VALID_NAME_CHARS);
    assert_int_equal(validate_name("A", 2, 60, out, sizeof out), VALID_TEXT_SHORT);
    assert_int_equal(validate_name("", 2, 60, out, sizeof out), VALID_EMPTY);
    char longname[200];
    memset(longname, 'a', 70);
    longname[70] = '\0';
    assert_int_equal(validate_name(longname, 2, 60, out, sizeof out), VALID_TEXT_LONG);
}

static void text_is_collapsed_and_bounded_in_characters(void **state)
{
    (void)state;
    char out[VALIDATE_OUT_MAX];
    assert_int_equal(validate_text("  Bản\n\tsao   giấy khai sinh ", 2, 100, out, sizeof out), VALID_OK);
    assert_string_equal(out, "Bản sao giấy khai sinh");
    /* 10 characters, 15+ bytes: counted as characters. */
    assert_int_equal(validate_text("ắắắắắắắắắắ", 1, 10, out, sizeof out), VALID_OK);
    assert_int_equal(validate_text("ắắắắắắắắắắắ", 1, 10, out, sizeof out), VALID_TEXT_LONG);
    assert_int_equal(validate_text("a", 2, 10, out, sizeof out), VALID_TEXT_SHORT);
    assert_int_equal(validate_text("a\x01" "b", 1, 10, out, sizeof out), VALID_TEXT_CHARS);
    assert_int_equal(validate_text("\xc3\x28", 1, 10, out, sizeof out), VALID_TEXT_CHARS);
    assert_int_equal(validate_text(" \n ", 1, 10, out, sizeof out), VALID_EMPTY);
    char small[4];
    assert_int_equal(validate_text("abcdef", 1, 10, small, sizeof small), VALID_TEXT_LONG);
}

static void options_match_by_number_label_or_unique_part(void **state)
{
    (void)state;
    static const char *const opts[] = {"Cha", "Mẹ", "Ông/bà", "Người thân khác"};
    assert_int_equal(validate_option("2", opts, 4), 1);
    assert_int_equal(validate_option("mẹ", opts, 4), 1);
    assert_int_equal(validate_option("ME", opts, 4), 1);
    assert_int_equal(validate_option("tôi là mẹ", opts, 4), 1);
    assert_int_equal(validate_option("ông bà", opts, 4), 2);
    assert_int_equal(validate_option("người thân", opts, 4), 3);
    assert_int_equal(validate_option("5", opts, 4), -1);
    assert_int_equal(validate_option("0", opts, 4), -1);
    assert_int_equal(validate_option("chú", opts, 4), -1);
    assert_int_equal(validate_option("", opts, 4), -1);
    static const char *const both[] = {"Cấp đổi", "Cấp lại"};
    assert_int_equal(validate_option("cấp", both, 2), -1); /* ambiguous */
    assert_int_equal(validate_option("cap lai", both, 2), 1);
    static const char *const sex[] = {"Nam (con trai)", "Nữ (con gái)"};
    assert_int_equal(validate_option("bé gái", sex, 2), 1); /* courtesy words read past */
    assert_int_equal(validate_option("be trai a", sex, 2), 0);
    assert_int_equal(validate_option("cháu trai", sex, 2), 0);
    assert_int_equal(validate_option("em là mẹ cháu", opts, 4), 1);
    assert_int_equal(validate_option("bố", opts, 4), 0);           /* the forms say "cha" */
    assert_int_equal(validate_option("tôi là bố cháu", opts, 4), 0);
    assert_int_equal(validate_option("bo bo bo bo bo bo bo", opts, 4), 0); /* out grows */
    static const char *const home[] = {"Cùng nhà cha mẹ", "Nơi khác"};
    assert_int_equal(validate_option("ở với bố mẹ", home, 2), 0);
    assert_int_equal(validate_option("bé", sex, 2), -1);
    static const char *const who[] = {"Trẻ dưới 6 tuổi", "Hộ nghèo, cận nghèo", "Dân tộc thiểu số",
                                      "Người có công", "Chưa rõ"};
    assert_int_equal(validate_option("người dân tộc Thái", who, 5), 2); /* most words shared */
    assert_int_equal(validate_option("hộ nghèo dân tộc", who, 5), -1);  /* as many: neither */
    assert_int_equal(validate_option("không biết", who, 5), 4);         /* the "unsure" option */
    assert_int_equal(validate_option("không biết", sex, 2), -1);
}

/* Options that are all quantities: a typed number is the quantity. */
static void numbers_typed_at_quantity_options_are_quantities(void **state)
{
    (void)state;
    static const char *const people[] = {"1 người", "2–3 người", "4 người trở lên"};
    assert_int_equal(validate_option("3", people, 3), 1); /* not the third option */
    assert_int_equal(validate_option("1", people, 3), 0);
    assert_int_equal(validate_option("7", people, 3), 2);
    assert_int_equal(validate_option("3 người", people, 3), 1);
    assert_int_equal(validate_option("5 nguoi", people, 3), 2);
    assert_int_equal(validate_option("0", people, 3), -1);
    static const char *const months[] = {"3 tháng", "6 tháng", "12 tháng"};
    assert_int_equal(validate_option("3", months, 3), 0);
    assert_int_equal(validate_option("12", months, 3), 2);
    assert_int_equal(validate_option("2", months, 3), -1);
    static const char *const ages[] = {"Từ 75 tuổi", "Từ 70 đến dưới 75", "Dưới 70"};
    assert_int_equal(validate_option("80", ages, 3), 0);
    assert_int_equal(validate_option("75", ages, 3), 0);
    assert_int_equal(validate_option("72", ages, 3), 1);
    assert_int_equal(validate_option("3", ages, 3), 2);
    /* the one number among words ("bà 80 tuổi rồi"); two numbers: none */
    assert_int_equal(validate_option("bà 80 tuổi rồi", ages, 3), 0);
    assert_int_equal(validate_option("ông năm nay 72", ages, 3), 1);
    assert_int_equal(validate_option("nhà có 5 người", people, 3), 2);
    assert_int_equal(validate_option("sinh 5/11", ages, 3), -1);
    static const char *const stay[] = {"Dưới 6 tháng", "6–12 tháng", "Trên 1 năm"};
    assert_int_not_equal(validate_option("ở khoảng 1 năm", stay, 3), 0); /* a year, not 1 month */
}

/* Options that are lengths of time: one said in words is measured (a year
 * is 12 months), not matched by the words it shares with an option. */
static void a_length_of_time_picks_the_range_holding_it(void **state)
{
    (void)state;
    static const char *const stay[] = {"Dưới 6 tháng", "6–12 tháng", "Trên 1 năm", NULL};
    static const char *const away[] = {"Dưới 3 tháng", "3–12 tháng", "Trên 12 tháng", NULL};
    static const char *const months[] = {"3 tháng", "6 tháng", "12 tháng", NULL};
    static const char *const ages[] = {"Từ 75 tuổi", "Từ 70 đến dưới 75", "Dưới 70", NULL};
    static const struct {
        const char *answer;
        const char *const *options;
        int option;
    } cases[] = {
        {"ở khoảng 1 năm", stay, 1}, /* was "Trên 1 năm", by the words it shares */
        {"một năm", stay, 1},
        {"gần 1 năm", stay, 1},
        {"6 tháng", stay, 1}, /* not "Dưới 6 tháng" by its words */
        {"nửa năm", stay, 1},
        {"hơn 1 năm", stay, 2},
        {"chắc 2 năm", stay, 2},
        {"1 năm rưỡi", stay, 2},
        {"3 tháng thôi", stay, 0},
        {"mười hai tháng", stay, 1},
        {"Trên 1 năm", stay, 2},
        {"2", stay, 1}, /* a bare number where units differ: the position */
        {"1 tháng hoặc 2 năm", stay, -1},
        {"đi làm xa 1 năm", away, 1},
        {"2 tuần", away, 0},
        {"đóng 1 năm", months, 2},
        {"2 tháng", months, -1}, /* no option holds it */
        {"bà 80 tuổi rồi", ages, 0}, /* no time: unchanged */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = 0;
        while (cases[i].options[n])
            n++;
        int got = validate_option(cases[i].answer, cases[i].options, n);
        if (got != cases[i].option)
            fail_msg("\"%s\": option %d, expected %d", cases[i].answer, got, cases[i].option);
    }
}

static void code_names_are_template_friendly(void **state)
{
    (void)state;
    assert_string_equal(validate_code_name(VALID_DATE_FUTURE), "date_future");
    assert_string_equal(validate_code_name(VALID_CCCD_DIGITS), "cccd_digits");
    assert_string_equal(validate_code_name(VALID_CODE_COUNT), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dates_in_common_forms_normalise),
        cmocka_unit_test(two_digit_years_pivot_on_this_year),
        cmocka_unit_test(a_date_without_its_year_is_the_nearest_on_the_allowed_side),
        cmocka_unit_test(impossible_and_out_of_range_dates_are_refused),
        cmocka_unit_test(today_is_taken_in_vietnam_time),
        cmocka_unit_test(cccd_needs_twelve_digits_province_and_century),
        cmocka_unit_test(phone_forms_normalise_to_ten_digits),
        cmocka_unit_test(names_are_capitalised_and_checked),
        cmocka_unit_test(text_is_collapsed_and_bounded_in_characters),
        cmocka_unit_test(options_match_by_number_label_or_unique_part),
        cmocka_unit_test(numbers_typed_at_quantity_options_are_quantities),
        cmocka_unit_test(a_length_of_time_picks_the_range_holding_it),
        cmocka_unit_test(code_names_are_template_friendly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
