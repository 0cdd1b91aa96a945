/* facets.c (which fact a line asks about, intents/_facets.json) and the
 * conversation's procedure kept in the session (followup.c). */
#include "dvcbot/buf.h"
#include "dvcbot/catalog.h"
#include "dvcbot/facets.h"
#include "dvcbot/followup.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static struct catalog *cat;
static struct facets *facets;

static int load(void **state)
{
    (void)state;
    char *err = NULL;
    cat = catalog_load("intents", &err);
    if (!cat) {
        fprintf(stderr, "catalog_load: %s\n", err ? err : "?");
        free(err);
        return -1;
    }
    facets = facets_load(cat, catalog_report_keep_first, &err);
    if (!facets) {
        fprintf(stderr, "facets_load: %s\n", err ? err : "?");
        free(err);
        return -1;
    }
    return 0;
}

static int unload(void **state)
{
    (void)state;
    facets_free(facets);
    catalog_free(cat);
    return 0;
}

static struct facet_reading read_line(const char *line, const char *proc_id, bool discount)
{
    char *words = proc_id ? facets_procedure_words(catalog_find(cat, proc_id)) : NULL;
    struct facet_reading r;
    facets_read(facets, line, words, discount, &r);
    free(words);
    return r;
}

/* followup reads a procedure's words from the table facets_load keeps:
 * the same words, for every procedure and for nothing else. */
static void test_procedure_words_are_kept_for_each_procedure(void **state)
{
    (void)state;
    size_t procedures = 0;
    for (size_t i = 0; i < catalog_size(cat); i++) {
        const struct intent *in = catalog_at(cat, i);
        const char *kept = facets_words_of(facets, in);
        if (in->kind != INTENT_PROCEDURE) {
            assert_null(kept);
            continue;
        }
        char *words = facets_procedure_words(in);
        assert_non_null(kept);
        assert_string_equal(kept, words);
        free(words);
        procedures++;
    }
    assert_true(procedures >= 30);
    assert_null(facets_words_of(facets, NULL));
    assert_non_null(strstr(facets_words_of(facets, catalog_find(cat, "khai_sinh")), " khai sinh "));
}

static const char *rest_of(const char *line)
{
    static char out[256];
    struct buf b;
    buf_init(&b);
    facets_rest(facets, line, &b);
    snprintf(out, sizeof out, "%s", b.data ? b.data : "");
    buf_free(&b);
    return out;
}

/* What is left for the matcher when it named no one procedure: the words
 * that are no facet phrase, filler or question word. */
static void test_the_rest_of_a_line_without_its_facet_words(void **state)
{
    (void)state;
    assert_string_equal(rest_of("khai sinh phi bao nhieu"), "khai sinh");
    assert_string_equal(rest_of("dang ky ket hon can giay to gi"), "ket hon");
    assert_string_equal(rest_of("ho chieu lam o dau"), "ho chieu");
    assert_string_equal(rest_of("phi bao nhieu"), "");
    struct buf none;
    buf_init(&none);
    assert_int_equal(facets_rest(facets, "", &none), 0);
    assert_int_equal(none.len, 0);
    assert_true(facets_rest_min(facets) > 0 && facets_rest_min(facets) <= 1);
    const struct intent *ks = catalog_find(cat, "khai_sinh");
    assert_true(facets_all_procedure_words(facets, "khai sinh", ks));
    assert_false(facets_all_procedure_words(facets, "gia vang", ks));
    assert_false(facets_all_procedure_words(facets, "khai sinh xe", ks));
    assert_false(facets_all_procedure_words(facets, "", ks));
    assert_false(facets_all_procedure_words(facets, "khai sinh", catalog_find(cat, "khac")));
}

static void test_bare_questions_name_their_facet(void **state)
{
    (void)state;
    const struct {
        const char *line;
        enum facet want;
    } cases[] = {
        {"phi bao nhieu", FACET_FEE},          {"le phi het bao nhieu tien anh", FACET_FEE},
        {"can giay to gi", FACET_DOCUMENTS},   {"phai chuan bi nhung gi", FACET_DOCUMENTS},
        {"bao lau thi co", FACET_TIME},        {"mat may ngay", FACET_TIME},
        {"nop o dau", FACET_PLACE},            {"lam the nao", FACET_PLACE},
        {"lam online duoc khong", FACET_ONLINE}, {"nop tren mang duoc khong", FACET_ONLINE},
        {"ai duoc huong", FACET_AUDIENCE},     {"bao nhieu tuoi thi phai lam", FACET_AUDIENCE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct facet_reading r = read_line(cases[i].line, NULL, false);
        if (r.facet != cases[i].want || r.unknown != 0 || !r.question)
            fail_msg("%s: facet %s unknown %zu question %d, want %s", cases[i].line,
                     facet_name(r.facet), r.unknown, r.question, facet_name(cases[i].want));
    }
}

/* papers: a word of the 2025 arrangement and a word of validity together;
 * either alone does not reach named_min_score */
static void test_old_papers_need_both_kinds_of_words(void **state)
{
    (void)state;
    struct facet_reading r = read_line("ghi xa cu co con gia tri khong", NULL, false);
    assert_int_equal(r.facet, FACET_PAPERS);
    assert_true(r.score >= facets_named_min(facets));
    r = read_line("sau sap nhap co phai doi khong", NULL, false);
    assert_int_equal(r.facet, FACET_PAPERS);
    assert_true(r.score >= facets_named_min(facets));
    r = read_line("o xa cu hay xa moi", NULL, false);
    assert_true(r.facet != FACET_PAPERS || r.score < facets_named_min(facets));
    r = read_line("het han co phai doi khong", NULL, false);
    assert_true(r.facet != FACET_PAPERS || r.score < facets_named_min(facets));
    assert_string_equal(facet_name(FACET_PAPERS), "papers");
}

static void test_a_strong_word_beats_a_vague_how(void **state)
{
    (void)state;
    /* "phí thế nào": the fee, not how to submit */
    assert_int_equal(read_line("phi the nao", NULL, false).facet, FACET_FEE);
    /* "nộp ở đâu": where, though "nộp" is also paying */
    assert_int_equal(read_line("nop ho so o dau", NULL, false).facet, FACET_PLACE);
}

static void test_lines_without_a_facet_or_a_question(void **state)
{
    (void)state;
    assert_int_equal(read_line("tra cuu ho so", NULL, false).facet, FACET_NONE);
    assert_int_equal(read_line("cam on", NULL, false).facet, FACET_NONE);
    assert_int_equal(read_line("", NULL, false).facet, FACET_NONE);
    struct facet_reading r = read_line("giay to", NULL, false);
    assert_int_equal(r.facet, FACET_DOCUMENTS);
    assert_false(r.question); /* a topic, not a question */
    /* paying: no question, so without a procedure the payment act keeps it */
    r = read_line("nop tien le phi online", NULL, false);
    assert_false(r.question);
    /* "nộp" is no filler word: "nộp lệ phí" is an act */
    assert_true(read_line("nop le phi", NULL, false).unknown > 0);
}

static void test_other_words_are_unknown_unless_the_procedures(void **state)
{
    (void)state;
    assert_int_equal(read_line("khai sinh phi bao nhieu", NULL, false).unknown, 2);
    struct facet_reading r = read_line("khai sinh phi bao nhieu", "khai_sinh", false);
    assert_int_equal(r.unknown, 0);
    assert_int_equal(r.facet, FACET_FEE);
    assert_int_equal(read_line("ket hon phi bao nhieu", "khai_sinh", false).unknown, 2);
}

/* A count is no topic; the words a procedure is asked with (its keywords
 * and examples) are its vocabulary, each once, its own words included. */
static void test_numbers_and_a_procedures_vocabulary(void **state)
{
    (void)state;
    assert_int_equal(read_line("10 phi bao nhieu", NULL, false).unknown, 0);
    assert_int_equal(read_line("10a phi bao nhieu", NULL, false).unknown, 1);
    const struct intent *in = catalog_find(cat, "chung_thuc_ban_sao");
    const char *vocab = facets_vocabulary_of(facets, in);
    assert_non_null(vocab);
    assert_non_null(strstr(vocab, facets_words_of(facets, in)));
    const char *trang = strstr(vocab, " trang ");
    assert_non_null(trang);
    assert_null(strstr(trang + 1, " trang "));
    assert_null(strstr(vocab, " vang "));
    assert_null(facets_vocabulary_of(facets, catalog_find(cat, "khac")));
    struct facet_reading r;
    facets_read(facets, "bao nhieu tien 10 trang", vocab, false, &r);
    assert_int_equal(r.unknown, 0);
    assert_int_equal(r.facet, FACET_FEE);
    facets_read(facets, "gia vang hom nay bao nhieu tien", vocab, false, &r);
    assert_int_equal(r.unknown, 1);
}

static void test_a_procedures_own_words_are_no_facet_when_discounted(void **state)
{
    (void)state;
    const char *line = "xin giay xac nhan tinh trang hon nhan";
    assert_int_equal(read_line(line, "xac_nhan_hon_nhan", false).facet, FACET_DOCUMENTS);
    assert_int_equal(read_line(line, "xac_nhan_hon_nhan", true).facet, FACET_NONE);
    assert_int_equal(read_line("giay khai sinh can giay to gi", "khai_sinh", true).facet, FACET_DOCUMENTS);
}

static void test_a_long_line_is_no_follow_up(void **state)
{
    (void)state;
    char line[FACETS_LINE_WORDS_MAX * 4 + 32] = "";
    for (int i = 0; i <= FACETS_LINE_WORDS_MAX; i++)
        strcat(line, "phi ");
    assert_int_equal(read_line(line, NULL, false).facet, FACET_NONE);
}

static void test_data_settings(void **state)
{
    (void)state;
    assert_int_equal(facets_context_ttl(facets), 1800);
    assert_true(facets_named_min(facets) > 0);
    assert_string_equal(facets_label(facets, FACET_FEE), "lệ phí");
    assert_true(facets_ask_over(facets, catalog_find(cat, "thanh_toan")));
    assert_false(facets_ask_over(facets, catalog_find(cat, "gap_can_bo")));
    assert_true(facets_context_act(facets, catalog_find(cat, "tra_cuu_ho_so")));
    assert_false(facets_context_act(facets, catalog_find(cat, "gop_y")));
    assert_false(facets_context_act(facets, NULL));
    assert_string_equal(facet_name(FACET_AUDIENCE), "audience");
    assert_null(facet_name(FACET_NONE));
}

/* amount_words: "how much" makes a payment line a fee question; "how" does not */
static void test_how_much_is_an_amount_and_how_to_pay_is_not(void **state)
{
    (void)state;
    struct facet_reading r;
    facets_read(facets, "le phi bao nhieu", NULL, false, &r);
    assert_true(r.amount);
    facets_read(facets, "co mien phi khong", NULL, false, &r);
    assert_true(r.amount);
    facets_read(facets, "tra tien bang cach nao", NULL, false, &r);
    assert_false(r.amount);
    facets_read(facets, "bao lau thi co", NULL, false, &r);
    assert_false(r.amount);
}

/* ===== The session's procedure ===== */

static void test_the_context_lasts_its_ttl(void **state)
{
    (void)state;
    cJSON *s = cJSON_CreateObject();
    assert_null(followup_context(s, 1000, 1800));
    followup_remember(s, "khai_sinh", 1000);
    assert_string_equal(followup_context(s, 1000, 1800), "khai_sinh");
    assert_string_equal(followup_context(s, 2800, 1800), "khai_sinh");
    assert_null(followup_context(s, 2801, 1800));
    assert_null(followup_context(s, 999, 1800)); /* noted in the future: not trusted */
    followup_remember(s, "can_cuoc", 2801);      /* another procedure shown: it switches */
    assert_string_equal(followup_context(s, 2900, 1800), "can_cuoc");
    assert_int_equal(cJSON_GetArraySize(s), 1);
    cJSON_Delete(s);
}

static void test_a_malformed_context_is_none(void **state)
{
    (void)state;
    const char *bad[] = {"{\"ctx\":\"khai_sinh\"}", "{\"ctx\":{\"p\":1,\"at\":1000}}",
                         "{\"ctx\":{\"p\":\"khai_sinh\"}}", "{\"ctx\":{\"p\":\"khai_sinh\",\"at\":\"x\"}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *s = cJSON_Parse(bad[i]);
        assert_non_null(s);
        assert_null(followup_context(s, 1000, 1800));
        cJSON_Delete(s);
    }
    assert_null(followup_context(NULL, 1000, 1800));
}

/* ===== Checking the data ===== */

struct problems_seen {
    int n;
    char all[2048];
};

static void note_problem(void *ud, const char *file, const char *field, const char *reason)
{
    struct problems_seen *p = ud;
    p->n++;
    size_t len = strlen(p->all);
    snprintf(p->all + len, sizeof p->all - len, "%s %s: %s\n", file, field, reason);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void remove_file(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    remove(path);
}

static void test_bad_facets_data_is_reported(void **state)
{
    (void)state;
    char dir[] = "/tmp/dvcbot-facets-XXXXXX";
    assert_non_null(mkdtemp(dir));
    write_file(dir, "_catalog.tsv", "# id\tkind\tname\tgloss\nkhac\tfallback\tKhác\tx\n");
    write_file(dir, "khac.json", "{\"id\":\"khac\",\"kind\":\"fallback\",\"name\":\"Khác\",\"short_name\":\"Khác\","
                                 "\"match\":{}}");
    write_file(dir, "_facets.json",
               "{\"context_ttl_s\": 5, \"named_min_score\": 1, \"question_words\": [\"bao nhieu\"],"
               " \"ask_over\": [\"khac\"], \"context_acts\": [], \"colour\": 1,"
               " \"facets\": {\"price\": {}, \"fee\": {\"label\": \"lệ phí\", \"phrases\": {\"phí\": 1, \"tien\": 0}}},"
               " \"filler\": [\"a\", 3]}");
    char *err = NULL;
    struct catalog *c = catalog_load(dir, &err);
    assert_non_null(c);
    struct problems_seen seen = {0, ""};
    assert_null(facets_load(c, note_problem, &seen));
    const char *want[] = {"context_ttl_s", "question_words", "ask_over", "colour: unknown field",
                          "price is not a facet", "\"phí\" must be", "weight of \"tien\"",
                          "filler: every entry"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(seen.all, want[i]))
            fail_msg("no problem naming '%s' in:\n%s", want[i], seen.all);
    assert_int_equal(seen.n, 8);
    catalog_free(c);

    /* without the file: an empty set, no line is a facet question */
    remove_file(dir, "_facets.json");
    c = catalog_load(dir, &err);
    assert_non_null(c);
    struct facets *none = facets_load(c, note_problem, &seen);
    assert_non_null(none);
    struct facet_reading r;
    facets_read(none, "phi bao nhieu", NULL, false, &r);
    assert_int_equal(r.facet, FACET_NONE);
    facets_free(none);
    catalog_free(c);
    remove_file(dir, "_catalog.tsv");
    remove_file(dir, "khac.json");
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_procedure_words_are_kept_for_each_procedure),
        cmocka_unit_test(test_the_rest_of_a_line_without_its_facet_words),
        cmocka_unit_test(test_bare_questions_name_their_facet),
        cmocka_unit_test(test_old_papers_need_both_kinds_of_words),
        cmocka_unit_test(test_a_strong_word_beats_a_vague_how),
        cmocka_unit_test(test_lines_without_a_facet_or_a_question),
        cmocka_unit_test(test_other_words_are_unknown_unless_the_procedures),
        cmocka_unit_test(test_numbers_and_a_procedures_vocabulary),
        cmocka_unit_test(test_a_procedures_own_words_are_no_facet_when_discounted),
        cmocka_unit_test(test_a_long_line_is_no_follow_up),
        cmocka_unit_test(test_data_settings),
        cmocka_unit_test(test_how_much_is_an_amount_and_how_to_pay_is_not),
        cmocka_unit_test(test_the_context_lasts_its_ttl),
        cmocka_unit_test(test_a_malformed_context_is_none),
        cmocka_unit_test(test_bad_facets_data_is_reported),
    };
    return cmocka_run_group_tests(tests, load, unload);
}
