/* Bulk uploads split into records: JSON arrays (a bad element does not stop
 * the rest), NDJSON, CSV with quotes; line numbers for error reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/record_reader.h"

#include <string.h>

struct got {
    int n;
    size_t lines[16];
    const char *errs[16];
    char codes[16][32];
};

static void read_all(const char *data, enum record_format f, struct got *g)
{
    struct record_reader r;
    record_reader_init(&r, data, strlen(data), f);
    memset(g, 0, sizeof *g);
    cJSON *obj;
    size_t line, index;
    const char *err;
    while (record_reader_next(&r, &obj, &line, &index, &err) == 1) {
        assert_true(g->n < 16);
        assert_int_equal(index, (size_t)g->n + 1);
        g->lines[g->n] = line;
        g->errs[g->n] = err;
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, "code");
        if (cJSON_IsString(c))
            strncpy(g->codes[g->n], c->valuestring, 31);
        assert_true((obj == NULL) == (err != NULL));
        cJSON_Delete(obj);
        g->n++;
    }
    record_reader_free(&r);
}

static void test_format_is_guessed_from_the_first_byte(void **state)
{
    (void)state;
    assert_int_equal(record_format_guess(" \n[{}]", 6), RECORD_JSON_ARRAY);
    assert_int_equal(record_format_guess("\xEF\xBB\xBF{\"a\":1}", 10), RECORD_NDJSON);
    assert_int_equal(record_format_guess("code,status\n", 12), RECORD_CSV);
}

static void test_array_reports_a_bad_element_and_goes_on(void **state)
{
    (void)state;
    const char *data = "[\n {\"code\":\"A1\"},\n {\"code\": \"B\\\"}2\", \"x\": [1,{}]},\n"
                       " {\"code\": oops},\n 42,\n {\"code\":\"C3\"}\n]\n";
    struct got g;
    read_all(data, RECORD_JSON_ARRAY, &g);
    assert_int_equal(g.n, 5);
    assert_string_equal(g.codes[0], "A1");
    assert_int_equal(g.lines[0], 2);
    assert_string_equal(g.codes[1], "B\"}2");
    assert_int_equal(g.lines[1], 3);
    assert_string_equal(g.errs[2], "not valid JSON");
    assert_int_equal(g.lines[2], 4);
    assert_string_equal(g.errs[3], "record must be a JSON object");
    assert_int_equal(g.lines[3], 5);
    assert_string_equal(g.codes[4], "C3");
    assert_int_equal(g.lines[4], 6);
}

static void test_unterminated_array_ends_with_an_error(void **state)
{
    (void)state;
    struct got g;
    read_all("[{\"code\":\"A1\"}, {\"code\":\"B2\"", RECORD_JSON_ARRAY, &g);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.codes[0], "A1");
    assert_non_null(g.errs[1]);
    read_all("[{\"code\":\"A1\"} {\"code\":\"B2\"}]", RECORD_JSON_ARRAY, &g);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.errs[1], "expected ',' or ']' after a record");
    read_all("[]", RECORD_JSON_ARRAY, &g);
    assert_int_equal(g.n, 0);
}

static void test_ndjson_skips_blank_lines_and_counts_lines(void **state)
{
    (void)state;
    struct got g;
    read_all("{\"code\":\"A1\"}\r\n\n{broken\n  \n[1]\n{\"code\":\"B2\"}", RECORD_NDJSON, &g);
    assert_int_equal(g.n, 4);
    assert_int_equal(g.lines[0], 1);
    assert_string_equal(g.errs[1], "not valid JSON");
    assert_int_equal(g.lines[1], 3);
    assert_string_equal(g.errs[2], "record must be a JSON object");
    assert_int_equal(g.lines[2], 5);
    assert_string_equal(g.codes[3], "B2");
    assert_int_equal(g.lines[3], 6);
}

static void test_csv_quotes_and_ragged_rows(void **state)
{
    (void)state;
    const char *data = "\xEF\xBB\xBF" "code,note , fee\r\n"
                       "A1,\"say \"\"hi\"\", ok\",10\r\n"
                       "\n"
                       "B2,\"two\nlines\",\n"
                       "C3,short\n"
                       "D4,x,5";
    struct record_reader r;
    record_reader_init(&r, data, strlen(data), RECORD_CSV);
    cJSON *obj;
    size_t line, index;
    const char *err;
    assert_int_equal(record_reader_next(&r, &obj, &line, &index, &err), 1);
    assert_int_equal(line, 2);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(obj, "code")->valuestring, "A1");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(obj, "note")->valuestring, "say \"hi\", ok");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(obj, "fee")->valuestring, "10");
    cJSON_Delete(obj);
    assert_int_equal(record_reader_next(&r, &obj, &line, &index, &err), 1);
    assert_int_equal(line, 4);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(obj, "note")->valuestring, "two\nlines");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(obj, "fee")->valuestring, "");
    cJSON_Delete(obj);
    assert_int_equal(record_reader_next(&r, &obj, &line, &index, &err), 1);
    assert_null(obj);
    assert_int_equal(line, 6);
    assert_string_equal(err, "row does not have as many cells as the header");
    assert_int_equal(record_reader_next(&r, &obj, &line, &index, &err), 1);
    assert_int_equal(line, 7);
    assert_int_equal(index, 4);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(obj, "code")->valuestring, "D4");
    cJSON_Delete(obj);
    assert_int_equal(record_reader_next(&r, &obj, &line, &index, &err), 0);
    record_reader_free(&r);
}

/* Excel's "CSV" where the list separator is ';' (Vietnamese Windows). */
static void test_csv_with_semicolons_is_split_by_them(void **state)
{
    (void)state;
    struct record_reader r;
    const char *data = "\xEF\xBB\xBF" "code;note;fee\r\nA1;\"a;b, c\";10\r\n";
    record_reader_init(&r, data, strlen(data), RECORD_CSV);
    cJSON *obj;
    size_t line, index;
    const char *err;
    assert_int_equal(record_reader_next(&r, &obj, &line, &index, &err), 1);
    assert_non_null(obj);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(obj, "code")->valuestring, "A1");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(obj, "note")->valuestring, "a;b, c");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(obj, "fee")->valuestring, "10");
    cJSON_Delete(obj);
    record_reader_free(&r);
    struct got g; /* a comma file with ';' in its cells stays a comma file */
    read_all("code,note\nB2,x;y;z\n", RECORD_CSV, &g);
    assert_int_equal(g.n, 1);
    assert_null(g.errs[0]);
    assert_string_equal(g.codes[0], "B2");
}

static void test_csv_unterminated_quote_is_an_error(void **state)
{
    (void)state;
    struct got g;
    read_all("code\n\"A1\n", RECORD_CSV, &g);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.errs[0], "unterminated quoted cell");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_is_guessed_from_the_first_byte),
        cmocka_unit_test(test_array_reports_a_bad_element_and_goes_on),
        cmocka_unit_test(test_unterminated_array_ends_with_an_error),
        cmocka_unit_test(test_ndjson_skips_blank_lines_and_counts_lines),
        cmocka_unit_test(test_csv_quotes_and_ragged_rows),
        cmocka_unit_test(test_csv_with_semicolons_is_split_by_them),
        cmocka_unit_test(test_csv_unterminated_quote_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
