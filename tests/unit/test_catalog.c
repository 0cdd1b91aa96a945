/* Unit tests: catalog — every id of tests/data/catalog.tsv (a copy of
 * shared/catalog.tsv) is loaded with its required fields. Run from the repo root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/catalog.h"
#include "dvcbot/file.h"
#include "dvcbot/procedure_fee.h"
#include "dvcbot/procedure_groups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct catalog *load(void)
{
    char *err = NULL;
    struct catalog *cat = catalog_load("intents", &err);
    if (!cat)
        fail_msg("catalog_load: %s", err ? err : "?");
    return cat;
}

static void test_every_shared_catalog_id_is_loaded_with_its_kind(void **state)
{
    (void)state;
    struct catalog *cat = load();
    char *tsv = file_read("tests/data/catalog.tsv", NULL);
    assert_non_null(tsv);
    size_t ids = 0;
    for (char *line = strtok(tsv, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        char id[64], kind[32];
        assert_int_equal(sscanf(line, "%63[^\t]\t%31[^\t]", id, kind), 2);
        const struct intent *in = catalog_find(cat, id);
        if (!in)
            fail_msg("id %s missing from intents/", id);
        assert_string_equal(catalog_kind_name(in->kind), kind);
        assert_non_null(in->name);
        assert_non_null(in->short_name);
        assert_non_null(in->json);
        ids++;
    }
    assert_int_equal(ids, catalog_size(cat));
    assert_int_equal(ids, 50);
    free(tsv);
    catalog_free(cat);
}

static void test_every_procedure_has_its_facts(void **state)
{
    (void)state;
    struct catalog *cat = load();
    size_t procs = 0;
    for (size_t i = 0; i < catalog_size(cat); i++) {
        const struct intent *in = catalog_at(cat, i);
        if (in->kind != INTENT_PROCEDURE) {
            assert_null(in->proc);
            continue;
        }
        const struct procedure_info *p = in->proc;
        assert_non_null(p);
        assert_true(p->n_documents >= 1);
        assert_true(p->n_steps >= 3);
        assert_true(p->fee_vnd >= -1);
        assert_non_null(p->fee_text);
        assert_non_null(p->processing_time);
        assert_non_null(p->agency);
        assert_non_null(p->audience);
        assert_non_null(p->legal_basis);
        assert_true(strcmp(p->online, "toan_trinh") == 0 || strcmp(p->online, "mot_phan") == 0 ||
                    strcmp(p->online, "truc_tiep") == 0);
        assert_true(strncmp(p->portal_url, "https://dichvucong.gov.vn", 25) == 0);
        /* reviewed after the two-level local government reform (2025-07-01) */
        assert_true(strcmp(p->last_reviewed, "2025-07-01") > 0);
        assert_non_null(p->source);
        procs++;
    }
    assert_int_equal(procs, 36);
    catalog_free(cat);
}

static void test_shared_data_files_are_extras_not_ids(void **state)
{
    (void)state;
    struct catalog *cat = load();
    assert_non_null(catalog_extra(cat, "abbreviations"));
    assert_null(catalog_find(cat, "_abbreviations"));
    assert_int_equal(catalog_index(cat, "khac") >= 0, 1);
    catalog_free(cat);
}

struct count {
    int n;
    char first[256];
};

static void count_problem(void *ud, const char *file, const char *field, const char *reason)
{
    struct count *c = ud;
    if (c->n++ == 0)
        snprintf(c->first, sizeof c->first, "%s %s %s", file, field, reason);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* dir (a mkdtemp template) becomes an intents dir listing khai_sinh and
 * khac, with khac.json written; the test writes khai_sinh.json. */
static void make_intents_dir(char *dir)
{
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/_catalog.tsv", dir);
    write_file(path, "# id\tkind\tname\tgloss\nkhai_sinh\tprocedure\tĐăng ký khai sinh\tx\nkhac\tfallback\tKhác\tx\n");
    snprintf(path, sizeof path, "%s/khac.json", dir);
    write_file(path, "{\"id\":\"khac\",\"kind\":\"fallback\",\"name\":\"Khác\",\"short_name\":\"Khác\",\"match\":{}}");
}

static void remove_intents_dir(const char *dir)
{
    const char *files[] = {"khai_sinh.json", "khac.json", "_catalog.tsv", "_groups.json", "ket_hon.json"};
    char path[256];
    for (size_t i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        remove(path);
    }
    rmdir(dir);
}

static void test_bad_file_is_reported_with_file_and_field(void **state)
{
    (void)state;
    char dir[] = "/tmp/dvcbot_catalog_XXXXXX";
    make_intents_dir(dir);
    char path[256];
    snprintf(path, sizeof path, "%s/khai_sinh.json", dir);
    write_file(path, "{\"id\":\"khai_sinh\",\"kind\":\"procedure\",\"name\":\"x\",\"short_name\":\"x\",\"match\":{},"
                "\"procedure\":{\"fee_vnd\":\"free\"}}");
    struct count c = {0, ""};
    assert_null(catalog_load_report(dir, count_problem, &c));
    assert_true(c.n > 1);
    assert_non_null(strstr(c.first, "khai_sinh.json"));
    char *err = NULL;
    assert_null(catalog_load(dir, &err));
    assert_non_null(err);
    assert_non_null(strstr(err, "procedure."));
    free(err);
    remove_intents_dir(dir);
}

/* intents/_communes.json: the communes and wards after the 2025 arrangement
 * (NQ 1681 Sơn La, NQ 1670 Lai Châu), each with what was merged into it. */
static void test_communes_of_both_provinces_after_2025(void **state)
{
    (void)state;
    struct catalog *cat = load();
    const cJSON *doc = catalog_extra(cat, "communes");
    assert_non_null(doc);
    const cJSON *provinces = cJSON_GetObjectItemCaseSensitive(doc, "provinces");
    assert_int_equal(cJSON_GetArraySize(provinces), 2);
    const struct { const char *name, *resolution; int units, wards; } want[] = {
        {"Sơn La", "1681/NQ-UBTVQH15", 75, 8}, {"Lai Châu", "1670/NQ-UBTVQH15", 38, 2}};
    for (int p = 0; p < 2; p++) {
        const cJSON *prov = cJSON_GetArrayItem(provinces, p);
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(prov, "name")->valuestring, want[p].name);
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(prov, "resolution")->valuestring,
                            want[p].resolution);
        const cJSON *units = cJSON_GetObjectItemCaseSensitive(prov, "units");
        assert_int_equal(cJSON_GetArraySize(units), want[p].units);
        int wards = 0;
        for (int i = 0; i < cJSON_GetArraySize(units); i++) {
            const cJSON *u = cJSON_GetArrayItem(units, i);
            const char *name = cJSON_GetObjectItemCaseSensitive(u, "name")->valuestring;
            const char *type = cJSON_GetObjectItemCaseSensitive(u, "type")->valuestring;
            const char *code = cJSON_GetObjectItemCaseSensitive(u, "code")->valuestring;
            assert_int_equal(strlen(code), 5);
            assert_true(strcmp(type, "xã") == 0 || strcmp(type, "phường") == 0);
            wards += strcmp(type, "phường") == 0;
            int merged = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(u, "merged_from"));
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, "unchanged")))
                assert_int_equal(merged, 0);
            else if (merged < 2)
                fail_msg("%s %s: a merged unit lists fewer than 2 old units", type, name);
            for (int k = 0; k < i; k++) {
                const cJSON *o = cJSON_GetArrayItem(units, k);
                if (strcmp(cJSON_GetObjectItemCaseSensitive(o, "code")->valuestring, code) == 0 ||
                    (strcmp(cJSON_GetObjectItemCaseSensitive(o, "name")->valuestring, name) == 0 &&
                     strcmp(cJSON_GetObjectItemCaseSensitive(o, "type")->valuestring, type) == 0))
                    fail_msg("%s %s listed twice", type, name);
            }
        }
        assert_int_equal(wards, want[p].wards);
    }
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "missing")) > 0);
    catalog_free(cat);
}

/* A procedure with a national code links to its own page on the portal. */
static void test_portal_code_names_the_procedure_page(void **state)
{
    (void)state;
    struct catalog *cat = load();
    size_t with_code = 0;
    for (size_t i = 0; i < catalog_size(cat); i++) {
        const struct procedure_info *p = catalog_at(cat, i)->proc;
        if (!p || !p->portal_code)
            continue;
        with_code++;
        if (!strstr(p->portal_url, p->portal_code) && !strstr(p->portal_url, "dvc-trang-chu"))
            fail_msg("%s: portal_url does not show procedure %s", catalog_at(cat, i)->id, p->portal_code);
    }
    assert_true(with_code >= 9);
    assert_string_equal(catalog_find(cat, "khai_sinh")->proc->portal_code, "1.001193");
    catalog_free(cat);
}

/* A procedure must name the legal text its facts were checked against. */
static void test_procedure_without_source_is_refused(void **state)
{
    (void)state;
    char dir[] = "/tmp/dvcbot_catalog_XXXXXX";
    make_intents_dir(dir);
    char path[256];
    char *text = file_read("intents/khai_sinh.json", NULL);
    assert_non_null(text);
    cJSON *root = cJSON_Parse(text);
    free(text);
    assert_non_null(root);
    cJSON *proc = cJSON_GetObjectItemCaseSensitive(root, "procedure");
    assert_non_null(cJSON_GetObjectItemCaseSensitive(proc, "source"));
    char *whole = cJSON_PrintUnformatted(root);
    snprintf(path, sizeof path, "%s/khai_sinh.json", dir);
    write_file(path, whole);
    free(whole);
    char *err = NULL;
    struct catalog *cat = catalog_load(dir, &err);
    assert_non_null(cat); /* the file as shipped loads */
    catalog_free(cat);
    cJSON_DeleteItemFromObjectCaseSensitive(proc, "source");
    whole = cJSON_PrintUnformatted(root);
    write_file(path, whole);
    free(whole);
    cJSON_Delete(root);
    assert_null(catalog_load(dir, &err));
    assert_non_null(err);
    assert_non_null(strstr(err, "procedure.source"));
    free(err);
    remove_intents_dir(dir);
}

/* ===== Fees with a validity period ===== */

#define VN_MIDNIGHT_2027 1798736400LL /* 2027-01-01T00:00:00+07:00 */
#define VN_MARCH_2027 1803834000LL    /* 2027-03-01T00:00:00+07:00 */

/* The căn cước fee halving (TT 64/2025) runs until 31/12/2026: the fee in
 * force switches by itself at midnight, Vietnam time. */
static void test_the_can_cuoc_fee_switches_on_the_first_of_january_2027(void **state)
{
    (void)state;
    struct catalog *cat = load();
    const struct procedure_info *p = catalog_find(cat, "can_cuoc")->proc;
    assert_true(p->n_fee_periods >= 1);
    struct procedure_fee before = procedure_fee_at(p, VN_MIDNIGHT_2027 - 1);
    struct procedure_fee after = procedure_fee_at(p, VN_MIDNIGHT_2027);
    assert_non_null(strstr(before.text, "25.000 đ"));
    assert_non_null(strstr(after.text, "50.000 đ"));
    assert_null(strstr(after.text, "25.000 đ"));
    assert_null(strstr(after.text, "64/2025"));
    /* TT 117/2026: 0 đ online with a level-2 account until 28/02/2027 */
    assert_non_null(strstr(after.text, "117/2026"));
    assert_true(after.online_reduced);
    struct procedure_fee lasting = procedure_fee_at(p, VN_MARCH_2027);
    assert_non_null(strstr(lasting.text, "50.000 đ"));
    assert_null(strstr(lasting.text, "117/2026"));
    assert_false(lasting.online_reduced);
    /* a procedure without periods has one fee at any time */
    const struct procedure_info *k = catalog_find(cat, "khai_sinh")->proc;
    assert_int_equal(k->n_fee_periods, 0);
    assert_ptr_equal(procedure_fee_at(k, VN_MIDNIGHT_2027).text, k->fee_text);
    catalog_free(cat);
}

/* khai_sinh.json with "procedure.fee_periods" set to periods; returns the
 * first problem reported ("" when it loads). */
static void load_with_periods(const char *periods, char *first, size_t cap)
{
    char dir[] = "/tmp/dvcbot_catalog_XXXXXX";
    make_intents_dir(dir);
    char *text = file_read("intents/khai_sinh.json", NULL);
    assert_non_null(text);
    cJSON *root = cJSON_Parse(text);
    free(text);
    cJSON *parsed = cJSON_Parse(periods);
    assert_non_null(parsed);
    cJSON_AddItemToObject(cJSON_GetObjectItemCaseSensitive(root, "procedure"), "fee_periods", parsed);
    char *whole = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    char path[256];
    snprintf(path, sizeof path, "%s/khai_sinh.json", dir);
    write_file(path, whole);
    free(whole);
    struct count c = {0, ""};
    struct catalog *cat = catalog_load_report(dir, count_problem, &c);
    snprintf(first, cap, "%s", c.first);
    if (cat && strstr(periods, "12000")) {
        const struct procedure_info *p = catalog_find(cat, "khai_sinh")->proc;
        struct procedure_fee f = procedure_fee_at(p, 0);
        assert_int_equal(f.vnd, 12000); /* the sound case below: the period's amount */
        assert_int_equal(procedure_fee_at(p, VN_MIDNIGHT_2027).vnd, p->fee_vnd);
    }
    catalog_free(cat);
    remove_intents_dir(dir);
}

static void test_fee_periods_are_checked(void **state)
{
    (void)state;
    char first[512];
    load_with_periods("[{\"until\": \"2026-12-31\", \"fee_text\": \"Đến hết 31/12/2026: 12.000 đ.\","
                      " \"fee_vnd\": 12000}]", first, sizeof first);
    assert_string_equal(first, "");
    const struct { const char *periods, *want; } bad[] = {
        {"{}", "must be an array"},
        {"[]", "must be an array"},
        {"[{\"fee_text\": \"x\"}]", "until"},
        {"[{\"until\": \"2026-02-30\", \"fee_text\": \"x\"}]", "until"},
        {"[{\"until\": \"31/12/2026\", \"fee_text\": \"x\"}]", "until"},
        {"[{\"until\": \"2026-12-31\"}]", "fee_text"},
        {"[{\"until\": \"2026-12-31\", \"fee_text\": \"x\", \"fee_vnd\": -5}]", "fee_vnd"},
        {"[{\"until\": \"2026-12-31\", \"fee_text\": \"x\", \"fee_online_reduced\": 1}]",
         "fee_online_reduced"},
        {"[{\"until\": \"2026-12-31\", \"fee_text\": \"x\", \"from\": \"2025-07-01\"}]", "from"},
        {"[{\"until\": \"2026-12-31\", \"fee_text\": \"x\"}, {\"until\": \"2026-06-30\", \"fee_text\": \"y\"}]",
         "later than"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        load_with_periods(bad[i].periods, first, sizeof first);
        if (!strstr(first, "fee_periods") || !strstr(first, bad[i].want))
            fail_msg("%s: got '%s', want a problem naming fee_periods and '%s'", bad[i].periods, first,
                     bad[i].want);
    }
}

/* ===== Procedures by topic ===== */

/* The first problem of a catalog whose _groups.json is text ("" when it loads). */
static void load_with_groups(const char *text, char *first, size_t cap)
{
    char dir[] = "/tmp/dvcbot_catalog_XXXXXX";
    make_intents_dir(dir);
    char path[256];
    snprintf(path, sizeof path, "%s/_catalog.tsv", dir);
    write_file(path, "# id\tkind\tname\tgloss\nkhai_sinh\tprocedure\tx\tx\nket_hon\tprocedure\tx\tx\n"
                     "khac\tfallback\tKhác\tx\n");
    static const char *const procs[] = {"khai_sinh", "ket_hon"};
    for (size_t i = 0; i < 2; i++) {
        char from[64];
        snprintf(from, sizeof from, "intents/%s.json", procs[i]);
        char *json = file_read(from, NULL);
        assert_non_null(json);
        snprintf(path, sizeof path, "%s/%s.json", dir, procs[i]);
        write_file(path, json);
        free(json);
    }
    snprintf(path, sizeof path, "%s/_groups.json", dir);
    write_file(path, text);
    struct count c = {0, ""};
    struct catalog *cat = catalog_load_report(dir, count_problem, &c);
    snprintf(first, cap, "%s", c.first);
    if (cat) {
        const struct procedure_groups *g = catalog_groups(cat);
        assert_int_equal(procedure_groups_size(g), 1);
        assert_int_equal(procedure_groups_find(g, "ho_tich")->n, 2);
        assert_string_equal(procedure_groups_find(g, "ho_tich")->procs[1]->id, "ket_hon");
        assert_null(procedure_groups_find(g, "dat_dai"));
    }
    catalog_free(cat);
    remove_intents_dir(dir);
}

static void test_every_procedure_is_in_one_topic(void **state)
{
    (void)state;
    char first[512];
    load_with_groups("{\"groups\": [{\"id\": \"ho_tich\", \"name\": \"Hộ tịch\", \"procedures\": [\"khai_sinh\","
                     " \"ket_hon\"]}]}", first, sizeof first);
    assert_string_equal(first, "");
    const struct { const char *text, *want; } bad[] = {
        {"{\"groups\": []}", "groups"},
        {"{\"groups\": [{\"id\": \"ho_tich\", \"name\": \"Hộ tịch\", \"procedures\": []}]}", "procedures"},
        {"{\"groups\": [{\"id\": \"Hộ tịch\", \"name\": \"Hộ tịch\", \"procedures\": [\"khai_sinh\"]}]}", "id"},
        {"{\"groups\": [{\"id\": \"ho_tich\", \"procedures\": [\"khai_sinh\"]}]}", "name"},
        {"{\"groups\": [{\"id\": \"ho_tich\", \"name\": \"Hộ tịch, khai sinh, khai tử, kết hôn, nhận cha mẹ con\","
         " \"procedures\": [\"khai_sinh\"]}]}", "name"},
        {"{\"groups\": [{\"id\": \"ho_tich\", \"name\": \"Hộ tịch\", \"procedures\": [\"khai_sinh\", \"khac\"]}]}",
         "not a procedure"},
        {"{\"groups\": [{\"id\": \"ho_tich\", \"name\": \"Hộ tịch\", \"procedures\": [\"khai_sinh\"]}]}",
         "ket_hon is in no group"},
        {"{\"groups\": [{\"id\": \"ho_tich\", \"name\": \"Hộ tịch\", \"procedures\": [\"khai_sinh\", \"ket_hon\","
         " \"ly_hon\"]}]}", "ly_hon"},
        {"{\"groups\": [{\"id\": \"ho_tich\", \"name\": \"Hộ tịch\", \"procedures\": [\"khai_sinh\"]},"
         " {\"id\": \"khac\", \"name\": \"Khác\", \"procedures\": [\"khai_sinh\"]}]}", "twice"},
        {"{\"groups\": [{\"id\": \"ho_tich\", \"name\": \"Hộ tịch\", \"procedures\": [\"khai_sinh\"]},"
         " {\"id\": \"ho_tich\", \"name\": \"Khác\", \"procedures\": [\"khai_sinh\"]}]}", "ho_tich"},
        {"{\"groups\": [{\"id\": \"dat_dai\", \"name\": \"Đất đai\", \"procedures\": [\"khai_sinh\","
         " \"khai_sinh\", \"khai_sinh\", \"khai_sinh\", \"khai_sinh\", \"khai_sinh\", \"khai_sinh\", \"khai_sinh\","
         " \"khai_sinh\", \"khai_sinh\", \"khai_sinh\"]}]}", "at most"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        load_with_groups(bad[i].text, first, sizeof first);
        if (!strstr(first, "_groups.json") || !strstr(first, bad[i].want))
            fail_msg("%s: got '%s', want a problem of _groups.json naming '%s'", bad[i].text, first, bad[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_shared_catalog_id_is_loaded_with_its_kind),
        cmocka_unit_test(test_every_procedure_has_its_facts),
        cmocka_unit_test(test_shared_data_files_are_extras_not_ids),
        cmocka_unit_test(test_bad_file_is_reported_with_file_and_field),
        cmocka_unit_test(test_procedure_without_source_is_refused),
        cmocka_unit_test(test_communes_of_both_provinces_after_2025),
        cmocka_unit_test(test_portal_code_names_the_procedure_page),
        cmocka_unit_test(test_the_can_cuoc_fee_switches_on_the_first_of_january_2027),
        cmocka_unit_test(test_fee_periods_are_checked),
        cmocka_unit_test(test_every_procedure_is_in_one_topic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
