/* store_resp: argument vectors formatted as hiredis formats them, into a
 * new allocation or into a kept buffer reused from command to command. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/store_resp.h"

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void check_same_as_hiredis(struct buf *kept, int argc, const char **argv, const size_t *lens)
{
    char *want = NULL;
    long long wlen = redisFormatCommandArgv(&want, argc, argv, lens);
    assert_true(wlen > 0);
    int len = 0;
    char *got = store_resp_argv(argc, argv, lens, &len);
    assert_int_equal(len, wlen);
    assert_memory_equal(got, want, (size_t)wlen);
    assert_int_equal(got[len], '\0');
    free(got);
    assert_int_equal(store_resp_argv_into(kept, argc, argv, lens), (int)wlen);
    assert_int_equal(kept->len, (size_t)wlen);
    assert_memory_equal(kept->data, want, (size_t)wlen);
    assert_int_equal(kept->data[wlen], '\0');
    redisFreeCommand(want);
}

static void test_vectors_format_as_hiredis_into_a_reused_buffer(void **state)
{
    (void)state;
    struct buf kept;
    buf_init(&kept);
    char big[3000];
    memset(big, 'x', sizeof big);
    const char *long_argv[] = {"FCALL", "outbox_commit_many", "2", "outbox:tg:p1", "u:tg:7", big};
    size_t long_lens[] = {5, 18, 1, 12, 6, sizeof big};
    check_same_as_hiredis(&kept, 6, long_argv, long_lens);
    const char *bin_argv[] = {"SET", "k", "a\0b\r\nc"};
    size_t bin_lens[] = {3, 1, 7};
    check_same_as_hiredis(&kept, 3, bin_argv, bin_lens); /* shorter, after a longer one */
    const char *plain[] = {"HGET", "u:tg:7", "od"};
    check_same_as_hiredis(&kept, 3, plain, NULL);
    /* lengths and counts of one, two, three and four digits, measured here */
    static const size_t sizes[] = {0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 2999};
    big[sizeof big - 1] = '\0';
    const char *many[70];
    for (size_t i = 0; i < 70; i++)
        many[i] = big + sizeof big - 1 - sizes[i % (sizeof sizes / sizeof sizes[0])];
    for (int argc = 1; argc <= 70; argc++)
        check_same_as_hiredis(&kept, argc, many, NULL);
    buf_free(&kept);
}

static bool refused(int argc, const char **argv)
{
    int len = 0;
    char *cmd = store_resp_argv(argc, argv, NULL, &len);
    assert_non_null(cmd);
    bool r = store_resp_refused(cmd, (size_t)len);
    free(cmd);
    return r;
}

/* The refused words in any case, and only those: a word one letter longer
 * or shorter, or sharing a prefix, passes. */
static void test_refused_commands_are_whole_words_in_any_case(void **state)
{
    (void)state;
    static const char *const no[] = {"subscribe", "PSubscribe", "SSUBSCRIBE", "unsubscribe",
                                     "punsubscribe", "sunsubscribe", "MONITOR", "hello", "sync",
                                     "psync", "select", "reset"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        const char *argv[] = {no[i], "x"};
        assert_true(refused(2, argv));
    }
    static const char *const yes[] = {"subscribes", "subscrib", "syn", "syncs", "hget", "fcall",
                                      "", "client", "resets", "s", "selectx"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        const char *argv[] = {yes[i], "x"};
        assert_false(refused(2, argv));
    }
    const char *reply[] = {"CLIENT", "Reply", "off"}, *tracking[] = {"client", "TRACKING", "on"},
               *list[] = {"client", "list"}, *replys[] = {"client", "replys"};
    assert_true(refused(3, reply));
    assert_true(refused(3, tracking));
    assert_false(refused(2, list));
    assert_false(refused(2, replys));
    assert_true(store_resp_refused("", 0));
    assert_true(store_resp_refused("*0\r\n", 4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_format_as_hiredis_into_a_reused_buffer),
        cmocka_unit_test(test_refused_commands_are_whole_words_in_any_case),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
