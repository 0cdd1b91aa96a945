/* Unit tests: flow definitions (intents/<id>.json "flow", intents/_flow.json)
 * as `dvcbot check` validates them. Run from the repo root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/flowdef.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct collected {
    int n;
    char all[4096];
};

static void collect(void *ud, const char *file, const char *field, const char *reason)
{
    struct collected *p = ud;
    size_t len = strlen(p->all);
    p->n++;
    snprintf(p->all + len, sizeof p->all - len, "%s|%s|%s\n", file, field, reason);
}

static int setup(void **state)
{
    char *err = NULL;
    struct catalog *cat = catalog_load("intents", &err);
    free(err);
    *state = cat;
    return cat ? 0 : -1;
}

static int teardown(void **state)
{
    catalog_free(*state);
    return 0;
}

static void every_procedure_has_a_sound_flow(void **state)
{
    struct catalog *cat = *state;
    struct collected p = {0, ""};
    struct flow_set *set = flow_set_load(cat, collect, &p);
    if (!set)
        fail_msg("problems:\n%s", p.all);
    assert_int_equal(flow_set_size(set), 36);
    for (size_t i = 0; i < catalog_size(cat); i++) {
        const struct intent *in = catalog_at(cat, i);
        if (in->kind != INTENT_PROCEDURE)
            continue;
        const struct flow_def *def = flow_set_find(set, in->id);
        assert_non_null(def);
        size_t questions = 0;
        for (size_t s = 0; s < def->n_steps; s++) {
            assert_non_null(def->steps[s].text);
            questions += def->steps[s].slot != NULL;
        }
        assert_true(questions >= 3);
    }
    const struct flow_def *ks = flow_set_find(set, "khai_sinh");
    assert_string_equal(ks->steps[0].text, ks->in->proc->steps[0]); /* say_step 1 */
    int dob = flow_def_slot_step(ks, "ngay_sinh_tre");
    assert_true(dob > 0);
    assert_int_equal(ks->steps[dob].type, SLOT_DATE);
    assert_int_equal(ks->steps[dob].when, VALID_DATE_NOT_FUTURE);
    int ho_ten = flow_def_slot_step(ks, "ho_ten");
    assert_int_equal(ks->steps[ho_ten].profile, PROFILE_NAME);
    assert_null(flow_set_find(set, "tra_cuu_ho_so"));
    flow_set_free(set);
}

static void commands_are_recognised_without_diacritics(void **state)
{
    struct collected p = {0, ""};
    struct flow_set *set = flow_set_load(*state, collect, &p);
    assert_non_null(set);
    char rest[64];
    assert_int_equal(flow_set_command(set, "Quay lại", rest, sizeof rest), FLOW_CMD_BACK);
    assert_int_equal(flow_set_command(set, "quay lai", rest, sizeof rest), FLOW_CMD_BACK);
    assert_int_equal(flow_set_command(set, "HỦY!", rest, sizeof rest), FLOW_CMD_CANCEL);
    assert_int_equal(flow_set_command(set, "thoát", rest, sizeof rest), FLOW_CMD_CANCEL);
    assert_int_equal(flow_set_command(set, "trợ giúp", rest, sizeof rest), FLOW_CMD_HELP);
    assert_int_equal(flow_set_command(set, "xong", rest, sizeof rest), FLOW_CMD_NEXT);
    assert_int_equal(flow_set_command(set, "/hotro", rest, sizeof rest), FLOW_CMD_ASSIST);
    assert_int_equal(flow_set_command(set, "sửa ngày sinh", rest, sizeof rest), FLOW_CMD_EDIT);
    assert_string_equal(rest, "ngay sinh");
    assert_int_equal(flow_set_command(set, "sửa", rest, sizeof rest), FLOW_CMD_EDIT);
    assert_string_equal(rest, "");
    assert_int_equal(flow_set_command(set, "Nguyễn Văn An", rest, sizeof rest), FLOW_CMD_NONE);
    assert_int_equal(flow_set_command(set, "sửa chữa nhà", rest, sizeof rest), FLOW_CMD_EDIT);
    assert_int_equal(flow_set_command(set, "", rest, sizeof rest), FLOW_CMD_NONE);

    const struct flow_def *ks = flow_set_find(set, "khai_sinh");
    assert_int_equal(flow_def_find_slot(ks, "ngay sinh cua tre"), flow_def_slot_step(ks, "ngay_sinh_tre"));
    assert_int_equal(flow_def_find_slot(ks, "gioi tinh"), flow_def_slot_step(ks, "gioi_tinh_tre"));
    assert_int_equal(flow_def_find_slot(ks, "so dien thoai"), flow_def_slot_step(ks, "so_dien_thoai"));
    assert_int_equal(flow_def_find_slot(ks, "ho ten"), flow_def_slot_step(ks, "ho_ten")); /* the id */
    assert_int_equal(flow_def_find_slot(ks, "ten"), -1); /* several slots fit */
    assert_int_equal(flow_def_find_slot(ks, "ho ten tre"), flow_def_slot_step(ks, "ho_ten_tre"));
    assert_int_equal(flow_def_find_slot(ks, "khong co"), -1);
    flow_set_free(set);
}

/* Replaces khai_sinh's flow with json for one load; the catalog owns it. */
static void set_flow(struct catalog *cat, const char *json)
{
    cJSON *root = (cJSON *)(uintptr_t)catalog_find(cat, "khai_sinh")->json;
    cJSON *flow = json ? cJSON_Parse(json) : NULL;
    if (json)
        assert_non_null(flow);
    if (cJSON_GetObjectItemCaseSensitive(root, "flow"))
        cJSON_DeleteItemFromObjectCaseSensitive(root, "flow");
    if (flow)
        cJSON_AddItemToObject(root, "flow", flow);
}

static void broken_flows_are_reported_with_file_and_field(void **state)
{
    struct catalog *cat = *state;
    cJSON *saved = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(catalog_find(cat, "khai_sinh")->json, "flow"), 1);
    set_flow(cat, "{\"steps\": ["
                  "{\"say_step\": 99},"
                  "{\"say\": \"Đăng nhập\", \"slot\": \"x\"},"
                  "{\"ask\": \"Tên?\", \"slot\": \"ten\", \"type\": \"nickname\", \"label\": \"Tên\"},"
                  "{\"ask\": \"Giới tính?\", \"slot\": \"gt\", \"type\": \"choice\", \"label\": \"Giới tính\", \"options\": [\"Nam\"]},"
                  "{\"ask\": \"SĐT?\", \"slot\": \"gt\", \"type\": \"phone\", \"label\": \"SĐT\", \"options\": [\"a\", \"b\"]},"
                  "{\"ask\": \"Ngày?\", \"slot\": \"ngay\", \"type\": \"date\", \"label\": \"Ngày\", \"when\": \"soon\", \"profile\": \"cccd\"},"
                  "{\"ask\": \"\", \"slot\": \"Bad Id\", \"type\": \"text\", \"label\": \"L\", \"min\": 9, \"max\": 3},"
                  "{\"ask\": \"?\", \"slot\": \"z\", \"type\": \"text\", \"label\": \"Z\", \"colour\": 1}"
                  "]}");
    struct collected p = {0, ""};
    assert_null(flow_set_load(cat, collect, &p));
    static const char *const expected[] = {
        "khai_sinh.json|flow.steps[0]|say_step must be a step number 1..6",
        "khai_sinh.json|flow.steps[1]|'slot' does not belong to an instruction step",
        "khai_sinh.json|flow.steps[2]|type must be one of",
        "khai_sinh.json|flow.steps[3]|options must be an array of 2..8 strings",
        "khai_sinh.json|flow.steps[4]|options only apply to choice slots",
        "khai_sinh.json|flow.steps[5]|when must be past, future or any",
        "khai_sinh.json|flow.steps[5]|profile cccd needs a slot of type cccd",
        "khai_sinh.json|flow.steps[6]|ask must be a non-empty string",
        "khai_sinh.json|flow.steps[6]|slot must be an id",
        "khai_sinh.json|flow.steps[6]|min is larger than max",
        "khai_sinh.json|flow.steps[7]|unknown key 'colour'",
        "khai_sinh.json|flow.steps|slot 'gt' is asked twice",
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        if (!strstr(p.all, expected[i]))
            fail_msg("missing '%s' in:\n%s", expected[i], p.all);

    set_flow(cat, NULL);
    p.n = 0;
    p.all[0] = '\0';
    assert_null(flow_set_load(cat, collect, &p));
    assert_non_null(strstr(p.all, "khai_sinh.json|flow|missing object"));
    assert_int_equal(p.n, 1);

    cJSON *root = (cJSON *)(uintptr_t)catalog_find(cat, "khai_sinh")->json;
    cJSON_AddItemToObject(root, "flow", saved);
    p.n = 0;
    struct flow_set *set = flow_set_load(cat, collect, &p);
    assert_non_null(set);
    flow_set_free(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_procedure_has_a_sound_flow),
        cmocka_unit_test(commands_are_recognised_without_diacritics),
        cmocka_unit_test(broken_flows_are_reported_with_file_and_field),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
