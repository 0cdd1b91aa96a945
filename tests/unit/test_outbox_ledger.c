/* outbox_ledger: the MINID a settle may trim below is never above an entry
 * known and not settled, never given before the stream was read back, nor
 * after something may have written an entry unknown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/outbox_ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *minid(const struct outbox_ledger *l)
{
    static char buf[48];
    struct outbox_stream_id v;
    if (!outbox_ledger_minid(l, &v))
        return "none";
    snprintf(buf, sizeof buf, "%llu-%llu", (unsigned long long)v.ms, (unsigned long long)v.seq);
    return buf;
}

static void test_ids_parse_and_compare_as_numbers(void **state)
{
    (void)state;
    struct outbox_stream_id a, b;
    assert_true(outbox_stream_id_parse("1700000000000-12", &a));
    assert_true(a.ms == 1700000000000ULL && a.seq == 12);
    assert_true(outbox_stream_id_parse("999-9", &b));
    assert_int_equal(outbox_stream_id_cmp(b, a), -1); /* not as text */
    assert_true(outbox_stream_id_parse("1700000000000-9", &b));
    assert_int_equal(outbox_stream_id_cmp(b, a), -1);
    assert_int_equal(outbox_stream_id_cmp(a, a), 0);
    const char *bad[] = {"", "k", "12", "12-", "-3", "1-2-3", "1-x", "99999999999999999999-1", " 1-2", NULL};
    for (int i = 0; bad[i]; i++)
        assert_false(outbox_stream_id_parse(bad[i], &a));
    assert_false(outbox_stream_id_parse(NULL, &a));
}

static void test_no_minid_before_the_stream_is_read_back(void **state)
{
    (void)state;
    struct outbox_ledger l = {0};
    outbox_ledger_reset(&l);
    outbox_ledger_add(&l, "10-0");
    assert_string_equal(minid(&l), "none");
    outbox_ledger_read_back(&l);
    assert_string_equal(minid(&l), "10-0");
    outbox_ledger_reset(&l); /* a new connection */
    assert_string_equal(minid(&l), "none");
    outbox_ledger_free(&l);
}

static void test_the_minid_is_the_oldest_entry_not_settled(void **state)
{
    (void)state;
    struct outbox_ledger l = {0};
    outbox_ledger_reset(&l);
    outbox_ledger_read_back(&l);
    assert_string_equal(minid(&l), "0-1"); /* nothing known: nothing trimmed */
    outbox_ledger_add(&l, "10-0");
    outbox_ledger_add(&l, "10-1");
    outbox_ledger_add(&l, "12-0");
    outbox_ledger_settled(&l, "10-1"); /* out of order: the oldest stays */
    assert_string_equal(minid(&l), "10-0");
    outbox_ledger_settled(&l, "10-0");
    assert_string_equal(minid(&l), "12-0");
    outbox_ledger_settled(&l, "12-0");
    assert_string_equal(minid(&l), "12-1"); /* all settled: past the highest known */
    outbox_ledger_settled(&l, "12-0");     /* twice, or never known: nothing */
    outbox_ledger_settled(&l, "11-0");
    outbox_ledger_settled(&l, "k");
    assert_string_equal(minid(&l), "12-1");
    /* read back after commits: an older id comes in after newer ones */
    outbox_ledger_add(&l, "20-0");
    outbox_ledger_add(&l, "15-3");
    outbox_ledger_add(&l, "20-0"); /* again: one entry */
    assert_string_equal(minid(&l), "15-3");
    outbox_ledger_settled(&l, "15-3");
    assert_string_equal(minid(&l), "20-0");
    outbox_ledger_settled(&l, "20-0");
    assert_string_equal(minid(&l), "20-1");
    outbox_ledger_free(&l);
}

static void test_an_entry_maybe_unknown_stops_trimming_until_the_next_read_back(void **state)
{
    (void)state;
    struct outbox_ledger l = {0};
    outbox_ledger_reset(&l);
    outbox_ledger_read_back(&l);
    outbox_ledger_add(&l, "5-0");
    outbox_ledger_distrust(&l);
    assert_string_equal(minid(&l), "none");
    outbox_ledger_read_back(&l); /* the read-back of this connection does not clear it */
    assert_string_equal(minid(&l), "none");
    outbox_ledger_reset(&l);
    outbox_ledger_read_back(&l);
    assert_string_equal(minid(&l), "0-1");
    outbox_ledger_add(&l, NULL); /* an id not understood */
    assert_string_equal(minid(&l), "none");
    outbox_ledger_free(&l);
}

/* Many entries settled in a shuffled order against a plain list: the MINID
 * is always the smallest live id (the front is compacted as it goes). */
static void test_many_entries_settled_in_any_order(void **state)
{
    (void)state;
    struct outbox_ledger l = {0};
    outbox_ledger_reset(&l);
    outbox_ledger_read_back(&l);
    enum { N = 3000 };
    static bool live[N];
    memset(live, 0, sizeof live);
    srand(7);
    int next = 0, settled = 0;
    char id[48];
    while (settled < N) {
        if (next < N && (rand() % 3 != 0 || settled == next)) {
            snprintf(id, sizeof id, "%d-%d", 1000 + next / 4, next % 4);
            outbox_ledger_add(&l, id);
            live[next++] = true;
        } else {
            int lo = settled, k = next - 1;
            for (int i = 0; i < next; i++)
                if (live[i]) {
                    lo = i;
                    break;
                }
            k = lo + rand() % 8;
            while (k >= next || !live[k])
                k = k >= next ? lo : k + 1;
            snprintf(id, sizeof id, "%d-%d", 1000 + k / 4, k % 4);
            outbox_ledger_settled(&l, id);
            live[k] = false;
            settled++;
        }
        int lo = -1;
        for (int i = 0; i < next; i++)
            if (live[i]) {
                lo = i;
                break;
            }
        if (lo >= 0)
            snprintf(id, sizeof id, "%d-%d", 1000 + lo / 4, lo % 4);
        else
            snprintf(id, sizeof id, "%d-%d", 1000 + (next - 1) / 4, (next - 1) % 4 + 1);
        assert_string_equal(minid(&l), id);
    }
    assert_int_equal(l.live, 0);
    outbox_ledger_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_parse_and_compare_as_numbers),
        cmocka_unit_test(test_no_minid_before_the_stream_is_read_back),
        cmocka_unit_test(test_the_minid_is_the_oldest_entry_not_settled),
        cmocka_unit_test(test_an_entry_maybe_unknown_stops_trimming_until_the_next_read_back),
        cmocka_unit_test(test_many_entries_settled_in_any_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
