/* dict: the one hash table (and its strmap / wordmap views): add, find,
 * replace, delete with backward shift under many collisions of growth,
 * byte keys, iteration, and values freed by the dict_type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/dict.h"
#include "dvcbot/strmap.h"
#include "dvcbot/wordmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 5000

static void test_add_find_replace_and_delete_keep_every_other_key_findable(void **state)
{
    (void)state;
    struct dict d;
    dict_init(&d, NULL);
    char key[32];
    for (int i = 0; i < N; i++) {
        bool added;
        snprintf(key, sizeof key, "key-%d", i);
        struct dict_entry *e = dict_add(&d, key, strlen(key), &added);
        assert_true(added);
        e->v.i = i;
    }
    assert_int_equal(d.len, N);
    bool added;
    dict_add(&d, "key-7", 5, &added)->v.i = -7;
    assert_false(added);
    assert_int_equal(d.len, N);
    for (int i = 0; i < N; i += 2) {
        snprintf(key, sizeof key, "key-%d", i);
        union dict_value old;
        assert_true(dict_delete(&d, key, strlen(key), &old));
        assert_int_equal(old.i, i);
        assert_false(dict_delete(&d, key, strlen(key), NULL));
    }
    assert_int_equal(d.len, N / 2);
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        const struct dict_entry *e = dict_find(&d, key, strlen(key));
        if (i % 2 == 0) {
            assert_null(e);
        } else {
            assert_non_null(e);
            assert_int_equal(e->v.i, i == 7 ? -7 : i);
        }
    }
    size_t pos = 0, seen = 0;
    while (dict_next(&d, &pos))
        seen++;
    assert_int_equal(seen, N / 2);
    dict_free(&d);
    assert_int_equal(d.len, 0);
    assert_null(dict_find(&d, "key-1", 5));
}

static void test_keys_are_bytes_with_a_length(void **state)
{
    (void)state;
    struct wordmap m;
    wordmap_init(&m);
    wordmap_put(&m, "ab\0c", 4, 1);
    wordmap_put(&m, "ab", 2, 2);
    wordmap_put(&m, "abc", 2, 3); /* "ab" again: replaced */
    int v = 0;
    assert_true(wordmap_get(&m, "ab\0c", 4, &v));
    assert_int_equal(v, 1);
    assert_true(wordmap_get(&m, "abX", 2, &v));
    assert_int_equal(v, 3);
    assert_false(wordmap_get(&m, "a", 1, &v));
    assert_int_equal(wordmap_len(&m), 2);
    wordmap_free(&m);
}

static int freed;

static void count_free(void *p)
{
    freed++;
    free(p);
}

static void test_the_type_frees_pointer_values_it_owns(void **state)
{
    (void)state;
    static const struct dict_type owning = {.val_free = count_free};
    struct dict d;
    dict_init(&d, &owning);
    bool added;
    dict_add(&d, "a", 1, &added)->v.ptr = malloc(4);
    dict_add(&d, "b", 1, &added)->v.ptr = malloc(4);
    dict_add(&d, "c", 1, &added)->v.ptr = malloc(4);
    freed = 0;
    assert_true(dict_delete(&d, "a", 1, NULL)); /* freed by the type */
    assert_int_equal(freed, 1);
    union dict_value old;
    assert_true(dict_delete(&d, "b", 1, &old)); /* handed back instead */
    assert_int_equal(freed, 1);
    free(old.ptr);
    dict_free(&d);
    assert_int_equal(freed, 2);
}

static void test_strmap_is_a_string_to_pointer_view(void **state)
{
    (void)state;
    struct strmap m;
    strmap_init(&m);
    int a = 1, b = 2;
    assert_null(strmap_put(&m, "x", &a));
    assert_ptr_equal(strmap_put(&m, "x", &b), &a);
    assert_ptr_equal(strmap_get(&m, "x"), &b);
    assert_true(strmap_has(&m, "x"));
    assert_false(strmap_has(&m, "y"));
    assert_int_equal(strmap_len(&m), 1);
    size_t pos = 0;
    const char *key;
    void *value;
    assert_true(strmap_next(&m, &pos, &key, &value));
    assert_string_equal(key, "x");
    assert_false(strmap_next(&m, &pos, &key, &value));
    assert_ptr_equal(strmap_del(&m, "x"), &b);
    assert_null(strmap_del(&m, "x"));
    strmap_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_find_replace_and_delete_keep_every_other_key_findable),
        cmocka_unit_test(test_keys_are_bytes_with_a_length),
        cmocka_unit_test(test_the_type_frees_pointer_values_it_owns),
        cmocka_unit_test(test_strmap_is_a_string_to_pointer_view),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
