/* store_resp: argument vectors formatted as hiredis formats them, into a
 * new allocation or into a kept buffer reused from command to command. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/store_resp.h"

#include <hiredis/hiredis.h>
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
    buf_free(&kept);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_format_as_hiredis_into_a_reused_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
