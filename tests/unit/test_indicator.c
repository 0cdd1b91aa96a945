/* Unit tests: reporting periods cut on the 14th and the indicator arithmetic
 * (fully online with and without a fee, on time, fees paid online,
 * satisfaction, the median time to a dossier code), and commune keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/commune.h"
#include "dvcbot/indicator.h"
#include "dvcbot/mem.h"

#include <string.h>

static int64_t at(const char *iso)
{
    time_t t;
    assert_int_equal(dossier_time_parse(iso, &t), 0);
    return (int64_t)t;
}

/* A dossier from field=value pairs, the way it sits in Redis. */
static void make(struct dossier *d, ...)
{
    memset(d, 0, sizeof *d);
    d->v[DF_CODE] = xstrdup("T-000001");
    va_list ap;
    va_start(ap, d);
    for (;;) {
        int f = va_arg(ap, int);
        if (f < 0)
            break;
        d->v[f] = xstrdup(va_arg(ap, const char *));
    }
    va_end(ap);
}

static void quarters_close_on_the_14th_of_march_june_september_december(void **state)
{
    (void)state;
    struct period q1, q2, p;
    assert_int_equal(period_parse("2025-Q1", &q1), 0);
    assert_true(q1.from == at("2024-12-15T00:00:00+07:00"));
    assert_true(q1.to == at("2025-03-15T00:00:00+07:00"));
    assert_true(period_contains(&q1, at("2025-03-14T23:59:59+07:00")));
    assert_false(period_contains(&q1, at("2025-03-15T00:00:00+07:00")));
    assert_true(period_contains(&q1, at("2024-12-15T00:00:00+07:00")));
    assert_false(period_contains(&q1, at("2024-12-14T23:59:59+07:00")));
    /* 14 March 17:30 UTC is already the 15th in Vietnam */
    assert_false(period_contains(&q1, at("2025-03-14T17:30:00Z")));

    period_containing(PERIOD_QUARTER, at("2025-03-14T12:00:00+07:00"), &p);
    assert_string_equal(p.id, "2025-Q1");
    period_containing(PERIOD_QUARTER, at("2025-03-15T00:00:00+07:00"), &p);
    assert_string_equal(p.id, "2025-Q2");
    period_containing(PERIOD_QUARTER, at("2024-12-20T08:00:00+07:00"), &p);
    assert_string_equal(p.id, "2025-Q1"); /* late December reports with next year's Q1 */
    assert_int_equal(period_parse("2025-Q2", &q2), 0);
    assert_true(q2.from == q1.to);
    period_previous(&q1, &p);
    assert_string_equal(p.id, "2024-Q4");
    assert_true(p.to == q1.from);
    assert_true(p.from == at("2024-09-15T00:00:00+07:00"));

    char first[11], last[11];
    period_first_day(&q1, first);
    period_last_day(&q1, last);
    assert_string_equal(first, "2024-12-15");
    assert_string_equal(last, "2025-03-14");
}

static void months_halves_and_years_follow_the_same_cut_off(void **state)
{
    (void)state;
    struct period p;
    assert_int_equal(period_parse("2025-M01", &p), 0);
    assert_true(p.from == at("2024-12-15") && p.to == at("2025-01-15"));
    period_containing(PERIOD_MONTH, at("2025-01-14T23:00:00+07:00"), &p);
    assert_string_equal(p.id, "2025-M01");
    period_containing(PERIOD_MONTH, at("2025-01-15T01:00:00+07:00"), &p);
    assert_string_equal(p.id, "2025-M02");
    assert_int_equal(period_parse("2025-H1", &p), 0);
    assert_true(p.from == at("2024-12-15") && p.to == at("2025-06-15"));
    assert_int_equal(period_parse("2025-H2", &p), 0);
    assert_true(p.from == at("2025-06-15") && p.to == at("2025-12-15"));
    assert_int_equal(period_parse("2025-Y", &p), 0);
    assert_true(p.from == at("2024-12-15") && p.to == at("2025-12-15"));
    period_containing(PERIOD_YEAR, at("2025-12-15T00:00:00+07:00"), &p);
    assert_string_equal(p.id, "2026-Y");
    period_containing(PERIOD_HALF, at("2025-06-14T10:00:00+07:00"), &p);
    assert_string_equal(p.id, "2025-H1");
    period_previous(&p, &p);
    assert_string_equal(p.id, "2024-H2");
    const char *bad[] = {"", "2025", "2025-Q5", "2025-Q0", "2025-M13", "2025-M1", "2025-H3",
                         "2025-Yx", "1999-Q1", "2025-Q1x", "abcd-Q1", NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(period_parse(bad[i], &p), -1);
}

struct day_seen {
    int n;
    char first[9], last[9];
};

static void collect(const char *day, void *ud)
{
    struct day_seen *s = ud;
    if (s->n++ == 0)
        memcpy(s->first, day, 9);
    memcpy(s->last, day, 9);
}

static void days_of_a_period_are_vietnam_dates(void **state)
{
    (void)state;
    struct period p;
    assert_int_equal(period_parse("2025-M03", &p), 0);
    struct day_seen seen = {0, "", ""};
    period_each_day(&p, collect, &seen);
    assert_int_equal(seen.n, 28); /* 15 Feb .. 14 Mar 2025 */
    assert_string_equal(seen.first, "20250215");
    assert_string_equal(seen.last, "20250314");
}

static void fully_online_needs_the_fee_paid_online_only_when_there_is_a_fee(void **state)
{
    (void)state;
    struct dossier no_fee, fee_online, fee_counter, paper;
    make(&no_fee, DF_SUBMITTED_ONLINE, "1", DF_FEE, "0", -1);
    make(&fee_online, DF_SUBMITTED_ONLINE, "1", DF_FEE, "50000", DF_PAID, "1", DF_PAID_ONLINE, "1", -1);
    make(&fee_counter, DF_SUBMITTED_ONLINE, "1", DF_FEE, "50000", DF_PAID, "1", DF_PAID_ONLINE, "0", -1);
    make(&paper, DF_SUBMITTED_ONLINE, "0", DF_FEE, "0", -1);
    assert_true(indicator_fully_online(&no_fee));
    assert_true(indicator_fully_online(&fee_online));
    assert_false(indicator_fully_online(&fee_counter));
    assert_false(indicator_fully_online(&paper));
    dossier_clear(&no_fee);
    dossier_clear(&fee_online);
    dossier_clear(&fee_counter);
    dossier_clear(&paper);
}

static void on_time_compares_finished_at_with_due_at(void **state)
{
    (void)state;
    struct dossier early, same_instant, late, bare_due, unfinished, no_due;
    bool judged;
    make(&early, DF_DUE_AT, "2025-03-10T17:00:00+07:00", DF_FINISHED_AT, "2025-03-10T09:00:00+07:00", -1);
    make(&same_instant, DF_DUE_AT, "2025-03-10T17:00:00+07:00", DF_FINISHED_AT, "2025-03-10T10:00:00Z", -1);
    make(&late, DF_DUE_AT, "2025-03-10T17:00:00+07:00", DF_FINISHED_AT, "2025-03-10T17:00:01+07:00", -1);
    make(&bare_due, DF_DUE_AT, "2025-03-10", DF_FINISHED_AT, "2025-03-10T23:30:00+07:00", -1);
    make(&unfinished, DF_DUE_AT, "2025-03-10", -1);
    make(&no_due, DF_FINISHED_AT, "2025-03-10T09:00:00+07:00", -1);
    assert_true(indicator_on_time(&early, &judged) && judged);
    assert_true(indicator_on_time(&same_instant, &judged) && judged);
    assert_false(indicator_on_time(&late, &judged));
    assert_true(judged);
    assert_true(indicator_on_time(&bare_due, &judged) && judged); /* due all that day */
    assert_false(indicator_on_time(&unfinished, &judged));
    assert_false(judged);
    assert_false(indicator_on_time(&no_due, &judged));
    assert_false(judged);
    struct dossier *all[] = {&early, &same_instant, &late, &bare_due, &unfinished, &no_due};
    for (size_t i = 0; i < 6; i++)
        dossier_clear(all[i]);
}

static void a_period_counts_received_and_finished_dossiers_by_their_own_dates(void **state)
{
    (void)state;
    struct period q1;
    assert_int_equal(period_parse("2025-Q1", &q1), 0);
    struct dossier a, b, c, d;
    /* received and finished in Q1, on time, online without fee */
    make(&a, DF_RECEIVED_AT, "2025-01-05T08:00:00+07:00", DF_DUE_AT, "2025-01-10",
         DF_FINISHED_AT, "2025-01-09T10:00:00+07:00", DF_SUBMITTED_ONLINE, "1", -1);
    /* received in Q1 on the cut-off day, fee paid at the counter, not finished */
    make(&b, DF_RECEIVED_AT, "2025-03-14T16:00:00+07:00", DF_SUBMITTED_ONLINE, "1", DF_FEE, "30000",
         DF_PAID, "1", DF_PAID_ONLINE, "0", -1);
    /* received in Q4 2024, finished late in Q1 */
    make(&c, DF_RECEIVED_AT, "2024-12-01", DF_DUE_AT, "2024-12-30T17:00:00+07:00",
         DF_FINISHED_AT, "2025-01-02T08:00:00+07:00", -1);
    /* received the day after the cut-off: Q2 */
    make(&d, DF_RECEIVED_AT, "2025-03-15T07:00:00+07:00", DF_SUBMITTED_ONLINE, "1", DF_FEE, "20000",
         DF_PAID_ONLINE, "1", -1);
    struct indicator_counts n = {0};
    indicator_add_dossier(&n, &a, &q1);
    indicator_add_dossier(&n, &b, &q1);
    indicator_add_dossier(&n, &c, &q1);
    indicator_add_dossier(&n, &d, &q1);
    assert_int_equal(n.received, 2);
    assert_int_equal(n.fully_online, 1);
    assert_int_equal(n.fee_paid, 1);
    assert_int_equal(n.fee_paid_online, 0);
    assert_int_equal(n.finished, 2);
    assert_int_equal(n.on_time, 1);
    assert_true(indicator_share(n.fully_online, n.received) == 50.0);
    assert_true(indicator_share(n.on_time, n.finished) == 50.0);
    assert_true(indicator_share(0, 0) == -1);
    struct period q2;
    assert_int_equal(period_parse("2025-Q2", &q2), 0);
    struct indicator_counts m = {0};
    indicator_add_dossier(&m, &d, &q2);
    assert_int_equal(m.received, 1);
    assert_int_equal(m.fully_online, 1);
    assert_int_equal(m.fee_paid, 1); /* paid_online implies paid */
    assert_int_equal(m.fee_paid_online, 1);
    dossier_clear(&a);
    dossier_clear(&b);
    dossier_clear(&c);
    dossier_clear(&d);
}

static void satisfaction_is_the_share_of_4_and_5_stars(void **state)
{
    (void)state;
    struct indicator_counts c = {0}, total = {0};
    indicator_add_rating(&c, 5, 18);
    indicator_add_rating(&c, 4, 1);
    indicator_add_rating(&c, 3, 1);
    indicator_add_rating(&c, 9, 5); /* not a rating */
    assert_int_equal(c.ratings, 20);
    assert_int_equal(c.satisfied, 19);
    assert_true(indicator_share(c.satisfied, c.ratings) == 95.0);
    indicator_merge(&total, &c);
    indicator_merge(&total, &c);
    assert_int_equal(total.ratings, 40);
    indicator_counts_free(&c);
    indicator_counts_free(&total);
}

static void median_time_to_the_dossier_code(void **state)
{
    (void)state;
    struct indicator_counts c = {0};
    assert_true(indicator_code_median(&c) == -1);
    const long secs[] = {600, 120, 300, 900};
    for (size_t i = 0; i < 4; i++)
        indicator_add_code_time(&c, secs[i]);
    assert_true(indicator_code_median(&c) == 450);
    indicator_add_code_time(&c, 60);
    assert_true(indicator_code_median(&c) == 300);
    indicator_counts_free(&c);
}

static void commune_keys_ignore_case_marks_and_the_word_xa(void **state)
{
    (void)state;
    char k[COMMUNE_KEY_MAX];
    commune_key("Xã Mường Thanh", k, sizeof k);
    assert_string_equal(k, "muong thanh");
    commune_key("  phường  Chiềng Lề ", k, sizeof k);
    assert_string_equal(k, "chieng le");
    commune_key("Xã", k, sizeof k);
    assert_string_equal(k, "xa");
    assert_true(commune_same("xa muong thanh", "Mường Thanh"));
    assert_false(commune_same("Mường Thanh", "Thanh Nưa"));
    assert_false(commune_same("", ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quarters_close_on_the_14th_of_march_june_september_december),
        cmocka_unit_test(months_halves_and_years_follow_the_same_cut_off),
        cmocka_unit_test(days_of_a_period_are_vietnam_dates),
        cmocka_unit_test(fully_online_needs_the_fee_paid_online_only_when_there_is_a_fee),
        cmocka_unit_test(on_time_compares_finished_at_with_due_at),
        cmocka_unit_test(a_period_counts_received_and_finished_dossiers_by_their_own_dates),
        cmocka_unit_test(satisfaction_is_the_share_of_4_and_5_stars),
        cmocka_unit_test(median_time_to_the_dossier_code),
        cmocka_unit_test(commune_keys_ignore_case_marks_and_the_word_xa),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
