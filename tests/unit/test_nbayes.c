/* Unit tests: nbayes (several naive Bayes models over one feature table). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/nbayes.h"

#include <string.h>

/* Features: 1 "khai", 2 "sinh", 3 "tu", 4 "cho", 5 "hoi"; kind 0 in the low bits. */
#define F(x) ((uint64_t)(x) << NBAYES_KIND_BITS)

static const double WEIGHTS[NBAYES_KINDS] = {1, 1, 1, 1};

/* Model 0: birth (0) / death (1); model 1: in scope (0) / out (1). */
static struct nbayes *trained(unsigned flags)
{
    size_t classes[2] = {2, 2};
    struct nbayes *nb = nbayes_new(2, classes);
    const uint64_t birth[] = {F(1), F(2), F(4)}, death[] = {F(1), F(3)}, other[] = {F(5), F(4)};
    int c_birth[2] = {0, 0}, c_death[2] = {1, 0}, c_other[2] = {-1, 1};
    double w[2] = {1, 1};
    for (int i = 0; i < 3; i++) {
        nbayes_add(nb, birth, 3, c_birth, w, NULL);
        nbayes_add(nb, death, 2, c_death, w, NULL);
        nbayes_add(nb, other, 2, c_other, w, NULL);
    }
    nbayes_train(nb, 0.3, flags);
    return nb;
}

static void test_each_model_picks_its_class(void **state)
{
    (void)state;
    struct nbayes *nb = trained(0);
    double a[2], b[2], *out[2] = {a, b};
    size_t known[NBAYES_KINDS];
    const uint64_t line[] = {F(2), F(4), F(99)};
    int32_t index[3];
    assert_int_equal(nbayes_scores(nb, line, 3, WEIGHTS, out, known, index), 2);
    assert_true(a[0] > a[1]);  /* "sinh": birth */
    assert_true(b[0] > b[1]);  /* in scope */
    assert_int_equal(known[0], 2);
    assert_true(index[0] >= 0 && index[1] >= 0);
    assert_int_equal(index[2], -1); /* never seen: ignored */
    assert_int_equal(nbayes_index(nb, F(3)) >= 0, 1);
    assert_int_equal(nbayes_index(nb, F(77)), -1);
    const uint64_t other[] = {F(5)};
    nbayes_scores(nb, other, 1, WEIGHTS, out, NULL, NULL);
    assert_true(b[1] > b[0]);  /* "hoi" only out of scope */
    nbayes_normalize(b, 2);
    assert_true(b[1] > 0.5 && b[1] <= 1 && b[0] >= 0);
    nbayes_free(nb);
}

static void test_a_word_every_class_shares_weighs_nothing(void **state)
{
    (void)state;
    struct nbayes *nb = trained(NBAYES_PER_LINE);
    double a[2], b[2], *out[2] = {a, b};
    const uint64_t shared[] = {F(1)}; /* "khai": in every birth and death line */
    nbayes_scores(nb, shared, 1, WEIGHTS, out, NULL, NULL);
    assert_true(a[0] - a[1] < 1e-6 && a[1] - a[0] < 1e-6);
    nbayes_free(nb);
}

static void test_an_untrained_model_knows_nothing(void **state)
{
    (void)state;
    size_t classes[1] = {3};
    struct nbayes *nb = nbayes_new(1, classes);
    double a[3], *out[1] = {a};
    const uint64_t line[] = {F(1)};
    int32_t index[1];
    assert_int_equal(nbayes_scores(nb, line, 1, WEIGHTS, out, NULL, index), 0);
    assert_int_equal(index[0], -1);
    nbayes_train(nb, 0.5, 0); /* no line: still a valid, empty model */
    assert_int_equal(nbayes_features(nb), 0);
    assert_int_equal(nbayes_scores(nb, line, 1, WEIGHTS, out, NULL, NULL), 0);
    nbayes_free(nb);
}

/* nbayes_weigh keeps the products nbayes_scores would make: the same
 * scores to the bit, of every kind, in both models; other weights than the
 * ones weighed still score with their own (fails if the scoring used the
 * kept products for them). */
static void test_weighed_scores_are_the_same_to_the_bit(void **state)
{
    (void)state;
    struct nbayes *nb = trained(NBAYES_BINARY);
    const double wk[NBAYES_KINDS] = {0.7, 1.3, 0.1, 2.9}, other[NBAYES_KINDS] = {1, 0.5, 1, 1};
    const uint64_t line[] = {F(1), F(2), F(4), F(2) | 1, F(5), F(3), F(99)};
    double a0[2], b0[2], a1[2], b1[2], *out0[2] = {a0, b0}, *out1[2] = {a1, b1};
    size_t k0[NBAYES_KINDS], k1[NBAYES_KINDS];
    int32_t i0[7], i1[7];
    size_t n0 = nbayes_scores(nb, line, 7, wk, out0, k0, i0);
    nbayes_weigh(nb, wk);
    size_t n1 = nbayes_scores(nb, line, 7, wk, out1, k1, i1);
    assert_int_equal(n0, n1);
    assert_memory_equal(a0, a1, sizeof a0);
    assert_memory_equal(b0, b1, sizeof b0);
    assert_memory_equal(k0, k1, sizeof k0);
    assert_memory_equal(i0, i1, sizeof i0);
    assert_true(a0[0] != 0 && b0[0] != 0);
    nbayes_scores(nb, line, 7, other, out1, NULL, NULL);
    nbayes_weigh(nb, other);
    nbayes_scores(nb, line, 7, other, out0, NULL, NULL);
    assert_memory_equal(a0, a1, sizeof a0);
    assert_memory_equal(b0, b1, sizeof b0);
    assert_true(memcmp(a0, (double[2]){0, 0}, sizeof a0) != 0);
    nbayes_free(nb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weighed_scores_are_the_same_to_the_bit),
        cmocka_unit_test(test_each_model_picks_its_class),
        cmocka_unit_test(test_a_word_every_class_shares_weighs_nothing),
        cmocka_unit_test(test_an_untrained_model_knows_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
