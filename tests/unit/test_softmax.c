/* Unit tests: softmax (multinomial logistic regression). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/softmax.h"

#include <string.h>

/* Rows: 0 shared by every class, 1 only class 0, 2 only class 1, 3 only class 2. */
static void train(struct softmax_model *m, size_t classes)
{
    static const uint32_t row[] = {0, 1, 0, 2, 0, 3};
    static const size_t start[] = {0, 2, 4, 6};
    static const uint32_t cls[] = {0, 1, 2};
    static const float weight[] = {1, 1, 1};
    struct softmax_lines d = {row, start, NULL, NULL, cls, weight, classes, 0};
    struct softmax_params p = {30, 0.5, 0};
    softmax_init(m, 4, classes, 0);
    softmax_train(m, &d, &p);
}

static size_t best(const double *z, size_t n)
{
    size_t b = 0;
    for (size_t i = 1; i < n; i++)
        if (z[i] > z[b])
            b = i;
    return b;
}

static void test_learns_the_distinctive_rows(void **state)
{
    (void)state;
    struct softmax_model m;
    double z[3];
    train(&m, 3);
    for (int32_t c = 0; c < 3; c++) {
        int32_t line[] = {0, c + 1, -1}; /* -1: a feature without a row */
        softmax_logits(&m, line, 3, 1 / 1.7320508, NULL, z);
        assert_int_equal(best(z, 3), (size_t)c);
    }
    /* the shared row alone says little: no class far ahead */
    int32_t shared[] = {0};
    softmax_logits(&m, shared, 1, 1, NULL, z);
    assert_true(z[best(z, 3)] - z[(best(z, 3) + 1) % 3] < 1.0);
    softmax_free(&m);
}

static void test_two_classes_train_the_same_way(void **state)
{
    (void)state;
    struct softmax_model a, b;
    double za[2], zb[2];
    train(&a, 2);
    train(&b, 2); /* deterministic: the same model twice */
    int32_t line[] = {0, 2};
    softmax_logits(&a, line, 2, 0.7071, NULL, za);
    softmax_logits(&b, line, 2, 0.7071, NULL, zb);
    assert_true(za[1] > za[0]);
    assert_memory_equal(za, zb, sizeof za);
    softmax_free(&a);
    softmax_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_learns_the_distinctive_rows),
        cmocka_unit_test(test_two_classes_train_the_same_way),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
