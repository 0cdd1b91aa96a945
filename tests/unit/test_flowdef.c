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
        assert_int_equal(def->steps[0].kind, FLOW_STEP_CHECK); /* readiness first */
        for (size_t s = 0; s < def->n_steps; s++) {
            assert_non_null(def->steps[s].text);
            /* nothing VNeID fills on the portal is asked */
            assert_true(def->steps[s].profile == PROFILE_NONE ||
                        def->steps[s].profile == PROFILE_COMMUNE);
        }
    }
    const struct flow_def *ks = flow_set_find(set, "khai_sinh");
    assert_string_equal(ks->steps[0].check->name, "vneid");
    assert_string_equal(ks->steps[0].text, "Anh/chị đã có tài khoản VNeID mức 2 chưa?");
    assert_string_equal(ks->steps[1].text, "Anh/chị đã chụp ảnh giấy chứng sinh của trẻ chưa?");
    int dob = flow_def_slot_step(ks, "ngay_sinh_tre");
    assert_true(dob > 0);
    assert_int_equal(ks->steps[dob].type, SLOT_DATE);
    assert_int_equal(ks->steps[dob].when, VALID_DATE_RECENT);
    assert_string_equal(flow_set_screen(set, ks->steps[dob].screen)->id, "form");
    assert_int_equal(flow_def_slot_step(ks, "ho_ten"), -1); /* the applicant's name: VNeID's */
    assert_int_equal(ks->steps[flow_def_slot_step(ks, "xa_phuong")].profile, PROFILE_COMMUNE);
    assert_null(flow_set_find(set, "tra_cuu_ho_so"));
    assert_string_equal(flow_set_portal_search(set),
                        "https://dichvucong.gov.vn/p/home/dvc-tim-kiem-thu-tuc.html?key=");
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
    assert_int_equal(flow_set_command(set, "Vâng ạ", rest, sizeof rest), FLOW_CMD_YES);
    assert_int_equal(flow_set_command(set, "co", rest, sizeof rest), FLOW_CMD_YES);
    assert_int_equal(flow_set_command(set, "ko", rest, sizeof rest), FLOW_CMD_NO);
    assert_int_equal(flow_set_command(set, "Không.", rest, sizeof rest), FLOW_CMD_NO);
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
    assert_int_equal(flow_def_find_slot(ks, "xa phuong"), flow_def_slot_step(ks, "xa_phuong")); /* the id */
    assert_int_equal(flow_def_find_slot(ks, "tre"), -1); /* several slots fit */
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

/* A sound flow's JSON around the steps given (checks first, the required
 * screens walked). */
#define SOUND_HEAD "{\"steps\": [{\"check\": \"vneid\"},"
#define SOUND_TAIL "{\"say\": \"Mở trang\", \"screen\": \"find\"}," \
                   "{\"say\": \"Tờ khai\", \"screen\": \"form\"}," \
                   "{\"say\": \"Bấm Nộp hồ sơ\", \"screen\": \"submit\"}," \
                   "{\"say\": \"Trả tiền\", \"screen\": \"pay\"}]}"

static void reload(struct catalog *cat, const char *json, struct collected *p)
{
    set_flow(cat, json);
    p->n = 0;
    p->all[0] = '\0';
    flow_set_free(flow_set_load(cat, collect, p));
}

static void expect(const struct collected *p, const char *const *expected, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strstr(p->all, expected[i]))
            fail_msg("missing '%s' in:\n%s", expected[i], p->all);
}

static void the_command_of_a_line_is_told_without_a_rest_to_fill(void **state)
{
    struct collected p = {0, ""};
    struct flow_set *set = flow_set_load(*state, collect, &p);
    assert_non_null(set);
    assert_int_equal(flow_set_command_of(set, "Quay lại"), FLOW_CMD_BACK);
    assert_int_equal(flow_set_command_of(set, "HỦY!"), FLOW_CMD_CANCEL);
    assert_int_equal(flow_set_command_of(set, "/hotro"), FLOW_CMD_ASSIST);
    assert_int_equal(flow_set_command_of(set, "Vâng ạ"), FLOW_CMD_YES);
    assert_int_equal(flow_set_command_of(set, "Không."), FLOW_CMD_NO);
    assert_int_equal(flow_set_command_of(set, "sửa ngày sinh của cháu bé nhà tôi"), FLOW_CMD_EDIT);
    assert_int_equal(flow_set_command_of(set, "sửa"), FLOW_CMD_EDIT);
    assert_int_equal(flow_set_command_of(set, "Nguyễn Văn An"), FLOW_CMD_NONE);
    assert_int_equal(flow_set_command_of(set, ""), FLOW_CMD_NONE);
    flow_set_free(set);
}

static void correction_words_come_from_the_data(void **state)
{
    struct catalog *cat = *state;
    struct collected p = {0, ""};
    struct flow_set *set = flow_set_load(cat, collect, &p);
    assert_non_null(set);
    assert_true(flow_set_is_correction_word(set, "nham")); /* "nhầm", folded */
    assert_true(flow_set_is_correction_word(set, "roi"));
    assert_false(flow_set_is_correction_word(set, "gai"));
    flow_set_free(set);

    cJSON *words = cJSON_GetObjectItemCaseSensitive((cJSON *)(uintptr_t)catalog_extra(cat, "flow"),
                                                    "correction_words");
    assert_non_null(words);
    cJSON_AddItemToArray(words, cJSON_CreateString("hai từ"));
    assert_null(flow_set_load(cat, collect, &p));
    assert_non_null(strstr(p.all, "_flow.json|correction_words|every entry must be one word"));
    cJSON_DeleteItemFromArray(words, cJSON_GetArraySize(words) - 1);
    p.n = 0;
    set = flow_set_load(cat, collect, &p);
    assert_non_null(set);
    flow_set_free(set);
}

static void broken_flows_are_reported_with_file_and_field(void **state)
{
    struct catalog *cat = *state;
    cJSON *saved = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(catalog_find(cat, "khai_sinh")->json, "flow"), 1);
    struct collected p = {0, ""};
    reload(cat, SOUND_HEAD
                  "{\"say_step\": 99},"
                  "{\"say\": \"Đăng nhập\", \"slot\": \"x\"},"
                  "{\"ask\": \"Tên?\", \"slot\": \"ten\", \"type\": \"nickname\", \"label\": \"Tên\"},"
                  "{\"ask\": \"Giới tính?\", \"slot\": \"gt\", \"type\": \"choice\", \"label\": \"Giới tính\", \"options\": [\"Nam\"], \"screen\": \"form\"},"
                  "{\"ask\": \"SĐT?\", \"slot\": \"gt\", \"type\": \"phone\", \"label\": \"SĐT\", \"options\": [\"a\", \"b\"], \"screen\": \"form\"},"
                  "{\"ask\": \"Ngày?\", \"slot\": \"ngay\", \"type\": \"date\", \"label\": \"Ngày\", \"when\": \"soon\", \"profile\": \"cccd\", \"screen\": \"form\"},"
                  "{\"ask\": \"\", \"slot\": \"Bad Id\", \"type\": \"text\", \"label\": \"L\", \"min\": 9, \"max\": 3, \"screen\": \"form\"},"
                  "{\"ask\": \"?\", \"slot\": \"z\", \"type\": \"text\", \"label\": \"Z\", \"colour\": 1, \"screen\": \"form\"},"
                  SOUND_TAIL, &p);
    static const char *const expected[] = {
        "khai_sinh.json|flow.steps[1]|say_step must be a step number 1..6",
        "khai_sinh.json|flow.steps[2]|'slot' does not belong to an instruction step",
        "khai_sinh.json|flow.steps[3]|type must be one of",
        "khai_sinh.json|flow.steps[4]|options must be an array of 2..8 strings",
        "khai_sinh.json|flow.steps[5]|options only apply to choice slots",
        "khai_sinh.json|flow.steps[6]|when must be past, recent, future, upcoming or any",
        "khai_sinh.json|flow.steps[6]|profile cccd needs a slot of type cccd",
        "khai_sinh.json|flow.steps[7]|ask must be a non-empty string",
        "khai_sinh.json|flow.steps[7]|slot must be an id",
        "khai_sinh.json|flow.steps[7]|min is larger than max",
        "khai_sinh.json|flow.steps[8]|unknown key 'colour'",
        "khai_sinh.json|flow.steps|slot 'gt' is asked twice",
    };
    expect(&p, expected, sizeof expected / sizeof expected[0]);

    reload(cat, NULL, &p);
    assert_non_null(strstr(p.all, "khai_sinh.json|flow|missing object"));
    assert_int_equal(p.n, 1);

    cJSON *root = (cJSON *)(uintptr_t)catalog_find(cat, "khai_sinh")->json;
    cJSON_AddItemToObject(root, "flow", saved);
    p.n = 0;
    struct flow_set *set = flow_set_load(cat, collect, &p);
    assert_non_null(set);
    flow_set_free(set);
}

static void readiness_screens_and_what_vneid_fills_are_checked(void **state)
{
    struct catalog *cat = *state;
    cJSON *saved = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(catalog_find(cat, "khai_sinh")->json, "flow"), 1);
    struct collected p = {0, ""};
    /* no readiness check first; a check later; a question without its screen;
     * an unknown check and screen; the applicant's name asked; a photo check
     * without its document */
    reload(cat, "{\"steps\": ["
                  "{\"ask\": \"Tên trẻ?\", \"slot\": \"ten\", \"type\": \"name\", \"label\": \"Tên\"},"
                  "{\"check\": \"photo\"},"
                  "{\"check\": \"passport\"},"
                  "{\"ask\": \"Họ tên của anh/chị?\", \"slot\": \"ho_ten\", \"type\": \"name\", \"label\": \"Họ tên\", \"profile\": \"name\", \"screen\": \"result\"},"
                  "{\"say\": \"Mở trang\", \"screen\": \"lobby\"},"
                  "{\"say\": \"Bấm Nộp hồ sơ\", \"screen\": \"submit\"}"
                  "]}", &p);
    static const char *const expected[] = {
        "khai_sinh.json|flow.steps|a flow starts with its readiness checks",
        "khai_sinh.json|flow.steps[0]|a question names the portal screen",
        "khai_sinh.json|flow.steps[1]|check photo needs a document",
        "khai_sinh.json|flow.steps[1]|readiness checks come first",
        "khai_sinh.json|flow.steps[2]|check must name one of the checks of _flow.json",
        "khai_sinh.json|flow.steps[3]|profile name: VNeID fills it on the portal, do not ask it",
        "khai_sinh.json|flow.steps[3]|no instruction on every branch walks its screen 'result'",
        "khai_sinh.json|flow.steps[4]|screen must be one of the screens of _flow.json",
        "khai_sinh.json|flow.steps|no instruction on every branch walks the screen 'find'",
        "khai_sinh.json|flow.steps|no instruction on every branch walks the screen 'pay'",
    };
    expect(&p, expected, sizeof expected / sizeof expected[0]);
    cJSON *root = (cJSON *)(uintptr_t)catalog_find(cat, "khai_sinh")->json;
    cJSON_DeleteItemFromObjectCaseSensitive(root, "flow");
    cJSON_AddItemToObject(root, "flow", saved);
}

static void branches_name_an_earlier_choice_and_its_options(void **state)
{
    struct catalog *cat = *state;
    cJSON *saved = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(catalog_find(cat, "khai_sinh")->json, "flow"), 1);
    struct collected p = {0, ""};
    reload(cat, SOUND_HEAD
                  "{\"say\": \"Trước\", \"screen\": \"form\", \"if\": {\"qh\": \"Cha\"}},"
                  "{\"ask\": \"Là gì?\", \"slot\": \"qh\", \"type\": \"choice\", \"label\": \"QH\", \"options\": [\"Cha\", \"Mẹ\"], \"screen\": \"form\"},"
                  "{\"ask\": \"Tên?\", \"slot\": \"ten\", \"type\": \"name\", \"label\": \"Tên\", \"screen\": \"form\", \"if\": {\"qh\": \"Ông\"}},"
                  "{\"say\": \"A\", \"screen\": \"form\", \"if\": {\"ten\": \"x\"}},"
                  "{\"say\": \"B\", \"screen\": \"form\", \"if\": {\"qh\": \"Cha\", \"ten\": \"x\"}},"
                  "{\"say\": \"C\", \"screen\": \"form\", \"if\": {\"qh\": []}},"
                  "{\"say\": \"D\", \"screen\": \"pay\", \"if\": {\"qh\": [\"Cha\", \"Mẹ\"]}},"
                  "{\"check\": \"vneid\", \"if\": {\"qh\": \"Cha\"}},"
                  "{\"say\": \"Mở trang\", \"screen\": \"find\"},"
                  "{\"say\": \"Bấm Nộp hồ sơ\", \"screen\": \"submit\"}"
                  "]}", &p);
    static const char *const expected[] = {
        "khai_sinh.json|flow.steps[1]|if: 'qh' is not an earlier choice asked on every branch",
        "khai_sinh.json|flow.steps[3]|if: every value must be an option of 'qh'",
        "khai_sinh.json|flow.steps[4]|if: 'ten' is not an earlier choice",
        "khai_sinh.json|flow.steps[5]|if must name one earlier choice",
        "khai_sinh.json|flow.steps[6]|if: name at least one option of 'qh'",
        "khai_sinh.json|flow.steps[8]|a readiness check applies on every branch",
        /* the payment is walked only on some branches */
        "khai_sinh.json|flow.steps|no instruction on every branch walks the screen 'pay'",
    };
    expect(&p, expected, sizeof expected / sizeof expected[0]);
    assert_null(strstr(p.all, "flow.steps[7]|")); /* D's branch is sound */

    /* a sound branching flow: the condition points at the choice and its options */
    reload(cat, SOUND_HEAD
                  "{\"ask\": \"Là gì?\", \"slot\": \"qh\", \"type\": \"choice\", \"label\": \"QH\", \"options\": [\"Cha\", \"Mẹ\", \"Khác\"], \"screen\": \"form\"},"
                  "{\"ask\": \"Tên?\", \"slot\": \"ten\", \"type\": \"name\", \"label\": \"Tên\", \"screen\": \"form\", \"if\": {\"qh\": [\"Mẹ\", \"Khác\"]}},"
                  SOUND_TAIL, &p);
    assert_int_equal(p.n, 0);
    struct flow_set *set = flow_set_load(cat, collect, &p);
    const struct flow_def *def = flow_set_find(set, "khai_sinh");
    assert_int_equal(def->steps[2].cond.step, 1);
    assert_int_equal(def->steps[2].cond.options, 6u);
    assert_int_equal(def->steps[1].cond.step, -1);
    flow_set_free(set);
    cJSON *root = (cJSON *)(uintptr_t)catalog_find(cat, "khai_sinh")->json;
    cJSON_DeleteItemFromObjectCaseSensitive(root, "flow");
    cJSON_AddItemToObject(root, "flow", saved);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_procedure_has_a_sound_flow),
        cmocka_unit_test(commands_are_recognised_without_diacritics),
        cmocka_unit_test(the_command_of_a_line_is_told_without_a_rest_to_fill),
        cmocka_unit_test(broken_flows_are_reported_with_file_and_field),
        cmocka_unit_test(correction_words_come_from_the_data),
        cmocka_unit_test(readiness_screens_and_what_vneid_fills_are_checked),
        cmocka_unit_test(branches_name_an_earlier_choice_and_its_options),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
