/* Logging masks personal numbers and writes one JSON object per line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/log.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void mask(const char *in, const char *want)
{
    char s[256];
    snprintf(s, sizeof s, "%s", in);
    log_mask_digits(s, strlen(s));
    assert_string_equal(s, want);
}

static void phone_and_id_numbers_keep_only_last_three_digits(void **state)
{
    (void)state;
    mask("sdt 0912345678 het", "sdt *******678 het");
    mask("cccd 012345678901", "cccd *********901");
    mask("0912 345 678", "**** *** 678");
    mask("+84912345678", "+********678");
}

static void short_numbers_and_dates_stay(void **state)
{
    (void)state;
    mask("status 429 after 12345678 ms", "status 429 after 12345678 ms");
    mask("2026-11-24T10:00:00", "2026-11-24T10:00:00");
    mask("fee 50.000", "fee 50.000");
}

static void line_is_json_with_masked_fields(void **state)
{
    (void)state;
    char *data = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&data, &len);
    assert_non_null(mem);
    log_setup(LOG_INFO, mem);
    log_fmt(LOG_WARN, "send failed", "\"chat\":%s,\"status\":%d", log_q("7000000001\"x"), 403);
    log_msg(LOG_DEBUG, "hidden below the level");
    fflush(mem);
    log_setup(LOG_INFO, NULL);
    fclose(mem);
    assert_non_null(strchr(data, '\n'));
    assert_null(strchr(strchr(data, '\n') + 1, '\n')); /* one line only */
    cJSON *j = cJSON_Parse(data);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "level")->valuestring, "warn");
    assert_string_equal(cJSON_GetObjectItem(j, "msg")->valuestring, "send failed");
    assert_string_equal(cJSON_GetObjectItem(j, "chat")->valuestring, "*******001\"x");
    assert_int_equal(cJSON_GetObjectItem(j, "status")->valueint, 403);
    cJSON_Delete(j);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(phone_and_id_numbers_keep_only_last_three_digits),
        cmocka_unit_test(short_numbers_and_dates_stay),
        cmocka_unit_test(line_is_json_with_masked_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
