/* Unit tests: the 2025 communes and wards (intents/_communes.json) and what
 * residents type matched against them. Run from the repo root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "commune_fixture.h"

#include "dvcbot/commune_list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The unit text names, or "" when it names none. */
static const char *found(void **state, const char *text)
{
    struct commune_match m;
    commune_list_match(cfx_list(state), text, &m);
    if (m.found != COMMUNE_FOUND && m.found != COMMUNE_FOUND_OLD)
        return "";
    return m.unit->label;
}

static void both_provinces_are_listed_with_the_2025_totals(void **state)
{
    const struct commune_list *l = cfx_list(state);
    size_t son_la = 0, lai_chau = 0;
    for (size_t i = 0; i < commune_list_size(l); i++) {
        const struct commune_unit *u = commune_list_at(l, i);
        son_la += strcmp(u->province, "Sơn La") == 0;
        lai_chau += strcmp(u->province, "Lai Châu") == 0;
        assert_ptr_equal(commune_list_by_code(l, u->code), u);
    }
    assert_int_equal(son_la, 75);   /* NQ 1681/NQ-UBTVQH15 */
    assert_int_equal(lai_chau, 38); /* NQ 1670/NQ-UBTVQH15 */
    assert_null(commune_list_by_code(l, "99999"));
}

static void names_of_today_match_with_or_without_diacritics_and_extra_words(void **state)
{
    assert_string_equal(found(state, "Chiềng Cơi"), "Chiềng Cơi");
    assert_string_equal(found(state, "chieng coi"), "Chiềng Cơi");
    assert_string_equal(found(state, "CHIENG COI"), "Chiềng Cơi");
    assert_string_equal(found(state, "phường Chiềng Cơi"), "Chiềng Cơi");
    assert_string_equal(found(state, "P. Chiềng Cơi, TP Sơn La"), "Chiềng Cơi");
    assert_string_equal(found(state, "bản Hua La, xã Chiềng Cơi, tỉnh Sơn La"), "Chiềng Cơi");
    assert_string_equal(found(state, "Nậm Tăm"), "Nậm Tăm");
    assert_string_equal(found(state, "tan uyen"), "Tân Uyên");
    assert_string_equal(found(state, "Tân Uyên, Lai Châu"), "Tân Uyên");
    assert_string_equal(found(state, "xa thuan chau huyen thuan chau"), "Thuận Châu");
}

static void typos_find_the_unit(void **state)
{
    assert_string_equal(found(state, "Chieng Coj"), "Chiềng Cơi");    /* Telex leftover */
    assert_string_equal(found(state, "chiengcoi"), "Chiềng Cơi");     /* glued */
    assert_string_equal(found(state, "chieng coii"), "Chiềng Cơi");
    assert_string_equal(found(state, "Thuân Chau"), "Thuận Châu");
    assert_string_equal(found(state, "than uyen"), "Than Uyên");      /* a unit of its own */
    assert_string_equal(found(state, "Muong Khieg"), "Mường Khiêng");
    assert_string_equal(found(state, "Tua Sinh Chai"), "Tủa Sín Chải");
}

static void old_names_are_mapped_to_the_new_unit(void **state)
{
    struct commune_match m;
    commune_list_match(cfx_list(state), "xã Hua La", &m);
    assert_int_equal(m.found, COMMUNE_FOUND_OLD);
    assert_string_equal(m.unit->name, "Chiềng Cơi");
    assert_string_equal(m.unit->type, "phường");
    assert_string_equal(m.old, "xã Hua La");
    assert_string_equal(found(state, "hua la"), "Chiềng Cơi");
    assert_string_equal(found(state, "thị trấn Mường Tè"), "Bum Tở");
    assert_string_equal(found(state, "Ta Gia"), "Khoen On");       /* a spelling variant too */
    assert_string_equal(found(state, "Tà Gia"), "Khoen On");
    /* the old name of a unit that kept it is just that unit */
    commune_list_match(cfx_list(state), "xã Mường Chiên", &m);
    assert_int_equal(m.found, COMMUNE_FOUND);
    assert_string_equal(m.unit->name, "Mường Chiên");
}

static void a_name_of_several_units_asks_which(void **state)
{
    struct commune_match m;
    commune_list_match(cfx_list(state), "Đoàn Kết", &m);
    assert_int_equal(m.found, COMMUNE_CHOOSE);
    assert_int_equal(m.n_cands, 2);
    assert_string_equal(found(state, "phường Đoàn Kết"), "Đoàn Kết (Lai Châu)");
    assert_string_equal(found(state, "xã Đoàn Kết"), "Đoàn Kết (Sơn La)");
    assert_string_equal(found(state, "Đoàn Kết, Sơn La"), "Đoàn Kết (Sơn La)");
    /* the Mường Tè of Lai Châu today, and the old xã Mường Tè now in Song Khủa */
    commune_list_match(cfx_list(state), "muong te", &m);
    assert_int_equal(m.found, COMMUNE_CHOOSE);
    bool song_khua = false;
    for (size_t k = 0; k < m.n_cands; k++)
        if (strcmp(m.cands[k]->name, "Song Khủa") == 0) {
            song_khua = true;
            assert_string_equal(m.cand_old[k], "xã Mường Tè");
        }
    assert_true(song_khua);
    /* typed with its diacritics, an old name differs from a name of today */
    assert_string_equal(found(state, "Chiềng Ân"), "Chiềng Hoa");
    commune_list_match(cfx_list(state), "chieng an", &m);
    assert_int_equal(m.found, COMMUNE_CHOOSE);
}

/* Chiềng Đông and Chiềng Dong fold alike: typed with its diacritics, a name
 * is that unit alone, inside a longer line too; without them both fit. */
static void a_name_typed_with_its_diacritics_is_that_unit_alone(void **state)
{
    struct commune_match m;
    commune_list_match(cfx_list(state), "xã Chiềng Đông cũ giờ thuộc", &m);
    assert_int_equal(m.found, COMMUNE_FOUND_OLD);
    assert_string_equal(m.old, "xã Chiềng Đông");
    commune_list_match(cfx_list(state), "bản tôi ở xã Chiềng Dong, huyện Mai Sơn", &m);
    assert_int_equal(m.found, COMMUNE_FOUND_OLD);
    assert_string_equal(m.old, "xã Chiềng Dong");
    assert_string_not_equal(found(state, "Chiềng Đông, Yên Châu"), found(state, "Chiềng Dong, Mai Sơn"));
    commune_list_match(cfx_list(state), "xa chieng dong cu gio thuoc", &m);
    assert_int_equal(m.found, COMMUNE_CHOOSE);
    assert_int_equal(m.n_cands, 2);
}

static void dates_and_random_text_fit_nothing(void **state)
{
    struct commune_match m;
    commune_list_match(cfx_list(state), "01/02/2026", &m);
    assert_int_equal(m.found, COMMUNE_UNKNOWN);
    assert_int_equal(m.n_cands, 0);
    commune_list_match(cfx_list(state), "tôi không biết", &m);
    assert_int_equal(m.found, COMMUNE_UNKNOWN);
    commune_list_match(cfx_list(state), "Sơn La", &m);
    assert_int_equal(m.found, COMMUNE_UNKNOWN);
    commune_list_match(cfx_list(state), "", &m);
    assert_int_equal(m.found, COMMUNE_UNKNOWN);
    commune_list_match(cfx_list(state), "\xff\xfe", &m);
    assert_int_equal(m.found, COMMUNE_UNKNOWN);
    /* something close but not one edit away: the likely units on offer */
    commune_list_match(cfx_list(state), "chieng coii lao", &m);
    assert_int_not_equal(m.found, COMMUNE_FOUND);
    commune_list_match(cfx_list(state), "Mường Thanh", &m); /* Điện Biên: not here */
    assert_true(m.found == COMMUNE_UNKNOWN || m.found == COMMUNE_CHOOSE);
    assert_true(m.n_cands >= 1);
    assert_true(m.n_cands <= COMMUNE_LIST_CANDIDATES);
}

static void count(void *ud, const char *file, const char *field, const char *reason)
{
    (void)reason;
    assert_string_equal(file, "_communes.json");
    assert_non_null(strstr(field, "provinces[0].units["));
    (*(int *)ud)++;
}

static void a_broken_file_is_reported_and_a_missing_one_is_an_empty_list(void **state)
{
    (void)state;
    cJSON *root = cJSON_Parse("{\"provinces\": [{\"name\": \"Sơn La\", \"units\": ["
                              "{\"name\": \"A\", \"type\": \"huyện\", \"code\": \"1\"},"
                              "{\"name\": \"B\", \"type\": \"xã\", \"code\": \"2\", \"merged_from\": []},"
                              "{\"name\": \"C\", \"type\": \"xã\", \"code\": \"2\"}]}]}");
    int n = 0;
    assert_null(commune_list_from_json(root, count, &n));
    assert_int_equal(n, 2); /* A's type, C's code used twice */
    cJSON_Delete(root);
    struct commune_list *empty = commune_list_from_json(NULL, count, &n);
    assert_non_null(empty);
    assert_int_equal(commune_list_size(empty), 0);
    struct commune_match m;
    commune_list_match(empty, "Chiềng Cơi", &m);
    assert_int_equal(m.found, COMMUNE_UNKNOWN);
    commune_list_free(empty);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(both_provinces_are_listed_with_the_2025_totals),
        cmocka_unit_test(names_of_today_match_with_or_without_diacritics_and_extra_words),
        cmocka_unit_test(typos_find_the_unit),
        cmocka_unit_test(old_names_are_mapped_to_the_new_unit),
        cmocka_unit_test(a_name_of_several_units_asks_which),
        cmocka_unit_test(a_name_typed_with_its_diacritics_is_that_unit_alone),
        cmocka_unit_test(dates_and_random_text_fit_nothing),
        cmocka_unit_test(a_broken_file_is_reported_and_a_missing_one_is_an_empty_list),
    };
    return cmocka_run_group_tests(tests, cfx_setup, cfx_teardown);
}
