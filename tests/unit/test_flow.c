/* flow: a guided flow through the whole engine (app_fixture.h): readiness
 * checks, a question answered wrongly then rightly, "quay lại", and a flow
 * left idle past DVCBOT_FLOW_IDLE that expires (the clock moved, no sleep).
 * The step texts come from intents/khai_sinh.json, not from this file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "app_fixture.h"
#include "dvcbot/file.h"

#include <cjson/cJSON.h>

#define USER "wc:flow1"
#define IDLE_S 60

static cJSON *flow_steps;

/* The ask text of the first question of the given type. */
static const char *ask_of(const char *type, int *index)
{
    int i = 0;
    const cJSON *st;
    cJSON_ArrayForEach(st, flow_steps) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(st, "type");
        if (cJSON_IsString(t) && strcmp(t->valuestring, type) == 0) {
            *index = i;
            return cJSON_GetObjectItemCaseSensitive(st, "ask")->valuestring;
        }
        i++;
    }
    fail_msg("khai_sinh has no %s question", type);
    return NULL;
}

static int group_setup(void **state)
{
    const char *dir = getenv("DVCBOT_DATA_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/intents/khai_sinh.json", dir ? dir : ".");
    char *json = file_read(path, NULL);
    cJSON *root = json ? cJSON_Parse(json) : NULL;
    free(json);
    if (!root)
        return -1;
    flow_steps = cJSON_DetachItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "flow"), "steps");
    cJSON_Delete(root);
    return flow_steps ? fx_redis_start(state) : -1;
}

static int group_teardown(void **state)
{
    cJSON_Delete(flow_steps);
    return fx_redis_stop(state);
}

static int setup(void **state)
{
    char idle[16];
    snprintf(idle, sizeof idle, "%d", IDLE_S);
    setenv("DVCBOT_FLOW_IDLE", idle, 1);
    afx_setup(state);
    return 0;
}

/* Presses "ready" at every readiness check until the reply holds text. */
static const char *through_checks_to(struct afx *f, const char *text)
{
    const char *got = afx_press(f, USER, "flow:khai_sinh");
    for (int i = 0; i < 5 && !strstr(got, text); i++) {
        char yes[24];
        snprintf(yes, sizeof yes, "f:yes:%d", i);
        assert_true(afx_has_button(f, yes));
        got = afx_press(f, USER, yes);
    }
    assert_non_null(strstr(got, text));
    return got;
}

static void test_a_wrong_answer_is_refused_and_a_right_one_goes_on(void **state)
{
    struct afx *f = *state;
    int name_i, date_i;
    const char *name_q = ask_of("name", &name_i), *date_q = ask_of("date", &date_i);
    assert_true(date_i > name_i);
    through_checks_to(f, name_q);
    const char *got = afx_say(f, USER, "Nguyen 123");
    assert_non_null(strstr(got, "không có số"));       /* flow_invalid_name_chars */
    assert_null(strstr(got, date_q));
    got = afx_say(f, USER, "Lò Văn Páo");
    assert_non_null(strstr(got, date_q));
    got = afx_say(f, USER, "31/02/2024");
    assert_non_null(strstr(got, "không có trên lịch")); /* flow_invalid_date_not_exist */
    got = afx_say(f, USER, "quay lại");
    assert_non_null(strstr(got, name_q));
}

static void test_a_flow_left_idle_expires_and_the_message_is_answered(void **state)
{
    struct afx *f = *state;
    int name_i;
    const char *name_q = ask_of("name", &name_i);
    through_checks_to(f, name_q);
    clock_set_offset(IDLE_S + 1);
    const char *got = afx_say(f, USER, "xin chào");
    assert_non_null(strstr(got, "hết hạn"));
    assert_non_null(strstr(got, "Xin chào"));
    assert_true(afx_has_button(f, "flow:khai_sinh"));
    /* Its buttons are stale now. */
    got = afx_press(f, USER, "f:yes:0");
    assert_null(strstr(got, name_q));
}

static void test_within_the_idle_time_the_flow_waits(void **state)
{
    struct afx *f = *state;
    int name_i;
    const char *name_q = ask_of("name", &name_i);
    through_checks_to(f, name_q);
    clock_set_offset(IDLE_S - 5);
    const char *got = afx_say(f, USER, "123");
    assert_null(strstr(got, "hết hạn"));
    assert_non_null(strstr(got, "không có số"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_wrong_answer_is_refused_and_a_right_one_goes_on, setup, afx_teardown),
        cmocka_unit_test_setup_teardown(test_a_flow_left_idle_expires_and_the_message_is_answered, setup,
                                        afx_teardown),
        cmocka_unit_test_setup_teardown(test_within_the_idle_time_the_flow_waits, setup, afx_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
