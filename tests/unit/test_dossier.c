/* Dossier records: validation field by field, codes in free text, dates in
 * Vietnam time, amounts, lateness, masked names. Run from the repo root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/dossier.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct catalog *cat;

static int setup(void **state)
{
    (void)state;
    char *err = NULL;
    cat = catalog_load("intents", &err);
    free(err);
    return cat ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    catalog_free(cat);
    return 0;
}

static const char GOOD[] =
    "{\"code\":\"000.00.12.h50-241120-0003\",\"procedure\":\"khai_sinh\","
    "\"applicant_name\":\"Nguyễn Văn An\",\"phone\":\"0912 345 678\",\"id_number\":\"012345678901\","
    "\"commune\":\"Chiềng Cơi\",\"agency\":\"UBND phường Chiềng Cơi\",\"status\":\"dang_xu_ly\","
    "\"received_at\":\"2024-11-20T08:00:00+07:00\",\"due_at\":\"2024-11-25\",\"fee\":150000,"
    "\"paid\":false,\"submitted_online\":true,\"finished_at\":\"\",\"note\":\"\"}";

/* Parses GOOD with one field replaced (value is raw JSON; NULL removes it). */
static int check_with(const char *field, const char *value, struct dossier *d, struct dossier_error *e)
{
    cJSON *obj = cJSON_Parse(GOOD);
    assert_non_null(obj);
    cJSON_DeleteItemFromObjectCaseSensitive(obj, field);
    if (value)
        cJSON_AddItemToObject(obj, field, cJSON_Parse(value));
    int rc = dossier_from_json(obj, cat, d, e);
    cJSON_Delete(obj);
    return rc;
}

static void expect_refused(const char *field, const char *value, const char *reason_part)
{
    struct dossier d;
    struct dossier_error e;
    if (check_with(field, value, &d, &e) == 0)
        fail_msg("%s=%s was accepted", field, value ? value : "(absent)");
    if (!strstr(e.reason, reason_part))
        fail_msg("%s=%s: reason '%s' lacks '%s'", field, value ? value : "(absent)", e.reason, reason_part);
    for (int f = 0; f < DF_COUNT; f++)
        assert_null(d.v[f]);
}

static void test_good_record_is_normalized(void **state)
{
    (void)state;
    struct dossier d;
    struct dossier_error e;
    assert_int_equal(check_with("x", NULL, &d, &e), 0);
    assert_string_equal(dossier_get(&d, DF_CODE), "000.00.12.H50-241120-0003");
    assert_string_equal(dossier_get(&d, DF_FEE), "150000");
    assert_string_equal(dossier_get(&d, DF_PAID), "0");
    assert_string_equal(dossier_get(&d, DF_SUBMITTED_ONLINE), "1");
    assert_null(d.v[DF_PAID_ONLINE]); /* absent: keeps what is stored */
    assert_int_equal(dossier_status(&d), DOSSIER_DANG_XU_LY);
    struct dossier_upsert u;
    dossier_upsert_prepare(&d, 1700000000, NULL, &u);
    assert_string_equal(u.key, "dossier:000.00.12.H50-241120-0003");
    assert_int_equal(u.nkeys, 4);
    assert_string_equal(u.argv[1], DOSSIER_CHANGES_KEY);
    assert_string_equal(u.argv[2], DOSSIER_REMIND_KEY);
    assert_string_equal(u.argv[3], "hs:p:000.00.12.H50-241120-0003");
    assert_string_equal(u.argv[4], "1700000000");
    assert_string_equal(u.argv[5], "000.00.12.H50-241120-0003");
    assert_string_equal(u.argv[6], "");
    assert_int_equal(u.argc, 7 + 2 * 15);
    dossier_upsert_prepare(&d, 1700000000, "Xã Mường Thanh", &u);
    assert_string_equal(u.argv[6], "=Xã Mường Thanh");
    dossier_clear(&d);
}

static void test_strings_from_csv_are_accepted(void **state)
{
    (void)state;
    struct dossier d;
    struct dossier_error e;
    assert_int_equal(check_with("fee", "\"20000\"", &d, &e), 0);
    assert_string_equal(dossier_get(&d, DF_FEE), "20000");
    dossier_clear(&d);
    assert_int_equal(check_with("paid", "\"TRUE\"", &d, &e), 0);
    assert_string_equal(dossier_get(&d, DF_PAID), "1");
    dossier_clear(&d);
    assert_int_equal(check_with("fee", "\"\"", &d, &e), 0);
    assert_string_equal(dossier_get(&d, DF_FEE), "0");
    dossier_clear(&d);
}

static void test_each_bad_field_is_named(void **state)
{
    (void)state;
    expect_refused("code", NULL, "missing");
    expect_refused("code", "\"AB\"", "6-40 characters");
    expect_refused("code", "\"ABCDEFG\"", "with a digit");
    expect_refused("code", "\"000 00 12\"", "6-40 characters");
    expect_refused("procedure", "\"lam_giau\"", "unknown procedure");
    expect_refused("procedure", "\"tra_cuu_ho_so\"", "unknown procedure"); /* an action, not a procedure */
    expect_refused("status", "\"xong\"", "unknown status");
    expect_refused("status", "3", "must be a string");
    expect_refused("received_at", "\"20/11/24\"", "two-digit year");      /* 20/11/2024 is read */
    expect_refused("received_at", "\"11/20/2024\"", "written month/day");
    expect_refused("received_at", "\"20/11/2024 2:30 PM\"", "24-hour");
    expect_refused("received_at", "\"31/02/2024\"", "no such day");
    expect_refused("received_at", "\"hôm qua\"", "ISO 8601");
    expect_refused("received_at", "\"2024-11-20T08:00:00\"", "ISO 8601"); /* no offset */
    expect_refused("received_at", "\"2024-02-30\"", "ISO 8601");
    expect_refused("received_at", NULL, "missing");
    expect_refused("fee", "-5", "integer amount");
    expect_refused("fee", "1.5", "integer amount");
    expect_refused("fee", "\"12k\"", "integer amount");
    expect_refused("paid", "\"maybe\"", "true or false");
    expect_refused("phone", "\"09x12\"", "8-15 digits");
    expect_refused("id_number", "\"01-23\"", "letters or digits");
}

/* What Excel writes: day/month/year (stored as ISO) and the console's status names. */
static void test_excel_dates_and_status_names_are_read(void **state)
{
    (void)state;
    static const char *const in[][3] = {
        {"received_at", "\"20/11/2024 8:00\"", "2024-11-20T08:00:00+07:00"},
        {"received_at", "\"3/4/2025\"", "2025-04-03"},
        {"received_at", "\"03/04/2025 14:30:05\"", "2025-04-03T14:30:05+07:00"},
        {"status", "\"Chờ nộp lệ phí\"", "cho_thanh_toan"},
        {"status", "\"DA TRA KET QUA\"", "da_tra_ket_qua"},
        {"status", "\"  Từ chối \"", "tu_choi"},
    };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        struct dossier d;
        struct dossier_error e;
        if (check_with(in[i][0], in[i][1], &d, &e) != 0)
            fail_msg("%s=%s: %s", in[i][0], in[i][1], e.reason);
        enum dossier_field f = strcmp(in[i][0], "status") == 0 ? DF_STATUS : DF_RECEIVED_AT;
        assert_string_equal(dossier_get(&d, f), in[i][2]);
        dossier_clear(&d);
    }
}

static void test_owner_proof_is_required(void **state)
{
    (void)state;
    cJSON *obj = cJSON_Parse(GOOD);
    cJSON_DeleteItemFromObjectCaseSensitive(obj, "phone");
    cJSON_DeleteItemFromObjectCaseSensitive(obj, "id_number");
    struct dossier d;
    struct dossier_error e;
    assert_int_equal(dossier_from_json(obj, cat, &d, &e), -1);
    assert_string_equal(e.field, "phone");
    cJSON_Delete(obj);
}

static void test_invalid_utf8_and_long_text_are_refused(void **state)
{
    (void)state;
    cJSON *obj = cJSON_Parse(GOOD);
    cJSON_ReplaceItemInObjectCaseSensitive(obj, "note", cJSON_CreateString("bad \xC3\x28 byte"));
    struct dossier d;
    struct dossier_error e;
    assert_int_equal(dossier_from_json(obj, cat, &d, &e), -1);
    assert_string_equal(e.field, "note");
    assert_string_equal(e.reason, "not valid UTF-8");
    char *big = calloc(1, DOSSIER_TEXT_MAX + 2);
    memset(big, 'a', DOSSIER_TEXT_MAX + 1);
    cJSON_ReplaceItemInObjectCaseSensitive(obj, "note", cJSON_CreateString(""));
    cJSON_ReplaceItemInObjectCaseSensitive(obj, "agency", cJSON_CreateString(big));
    assert_int_equal(dossier_from_json(obj, cat, &d, &e), -1);
    assert_string_equal(e.field, "agency");
    free(big);
    cJSON_Delete(obj);
    struct dossier_error e2;
    cJSON *arr = cJSON_Parse("[1]");
    assert_int_equal(dossier_from_json(arr, cat, &d, &e2), -1);
    assert_string_equal(e2.field, "");
    cJSON_Delete(arr);
}

static void test_codes_are_found_in_what_people_type(void **state)
{
    (void)state;
    char code[DOSSIER_CODE_MAX + 1];
    assert_true(dossier_code_find("ma ho so 000.00.12.h50-241120-0003 xong chua?", code));
    assert_string_equal(code, "000.00.12.H50-241120-0003");
    assert_true(dossier_code_find("Mã: 000.00.12.H50-241120-0003.", code));
    assert_string_equal(code, "000.00.12.H50-241120-0003");
    assert_true(dossier_code_find("  hs2024-0001  ", code));
    assert_string_equal(code, "HS2024-0001");
    assert_false(dossier_code_find("tra cứu hồ sơ", code));
    assert_false(dossier_code_find("1234", code));
    assert_false(dossier_code_find("hồ sơ của tôi đến đâu rồi", code));
}

static void test_dates_read_and_print_in_vietnam_time(void **state)
{
    (void)state;
    time_t t;
    assert_int_equal(dossier_time_parse("2024-11-20T08:00:00+07:00", &t), 0);
    assert_int_equal(t, 1732064400);
    time_t z;
    assert_int_equal(dossier_time_parse("2024-11-20T01:00:00Z", &z), 0);
    assert_int_equal(z, t);
    assert_int_equal(dossier_time_parse("2024-11-20T01:00:00.250+00:00", &z), 0);
    assert_int_equal(z, t);
    assert_int_equal(dossier_time_parse("2024-11-20", &z), 0);
    assert_int_equal(z, 1732035600); /* 00:00 +07:00 */
    assert_int_equal(dossier_time_parse("2024-11-20T08:00", &z), -1);
    assert_int_equal(dossier_time_parse("2024-13-01", &z), -1);
    assert_int_equal(dossier_time_parse("2024-11-20T08:00:00+07:00x", &z), -1);
    char out[24];
    dossier_format_date(1732035600 - 1, out); /* 23:59:59 on the 19th in Vietnam */
    assert_string_equal(out, "19/11/2024");
    dossier_format_datetime(t, out);
    assert_string_equal(out, "08:00 20/11/2024");
}

static void test_amounts_use_vietnamese_grouping(void **state)
{
    (void)state;
    char out[32];
    dossier_format_vnd(0, out, sizeof out);
    assert_string_equal(out, "0");
    dossier_format_vnd(150000, out, sizeof out);
    assert_string_equal(out, "150.000");
    dossier_format_vnd(1234567, out, sizeof out);
    assert_string_equal(out, "1.234.567");
}

static void test_lateness_counts_whole_days(void **state)
{
    (void)state;
    struct dossier d;
    memset(&d, 0, sizeof d);
    d.v[DF_STATUS] = strdup("dang_xu_ly");
    d.v[DF_DUE_AT] = strdup("2024-11-25");
    time_t end_of_25th = 1732035600 + 6 * 86400; /* 00:00 on the 26th */
    assert_int_equal(dossier_days_late(&d, end_of_25th - 1), 0);
    assert_int_equal(dossier_days_late(&d, end_of_25th + 1), 1);
    assert_int_equal(dossier_days_late(&d, end_of_25th + 3 * 86400), 3);
    free(d.v[DF_STATUS]);
    d.v[DF_STATUS] = strdup("da_co_ket_qua");
    d.v[DF_FINISHED_AT] = strdup("2024-11-25T16:00:00+07:00");
    assert_int_equal(dossier_days_late(&d, end_of_25th + 30 * 86400), 0); /* finished on time */
    dossier_clear(&d);
}

static void test_names_are_masked_to_initials(void **state)
{
    (void)state;
    char out[64];
    dossier_mask_name("Nguyễn Văn An", out, sizeof out);
    assert_string_equal(out, "Nguyễn V. A.");
    dossier_mask_name("  Đặng   Ánh ", out, sizeof out);
    assert_string_equal(out, "Đặng Á.");
    dossier_mask_name("", out, sizeof out);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_record_is_normalized),
        cmocka_unit_test(test_strings_from_csv_are_accepted),
        cmocka_unit_test(test_each_bad_field_is_named),
        cmocka_unit_test(test_excel_dates_and_status_names_are_read),
        cmocka_unit_test(test_owner_proof_is_required),
        cmocka_unit_test(test_invalid_utf8_and_long_text_are_refused),
        cmocka_unit_test(test_codes_are_found_in_what_people_type),
        cmocka_unit_test(test_dates_read_and_print_in_vietnam_time),
        cmocka_unit_test(test_amounts_use_vietnamese_grouping),
        cmocka_unit_test(test_lateness_counts_whole_days),
        cmocka_unit_test(test_names_are_masked_to_initials),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
