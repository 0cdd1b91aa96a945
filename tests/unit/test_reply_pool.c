/* Unit tests: reply_pool makes the same reply objects as hiredis's own
 * functions (types, texts short and long, integers, nil, nested arrays,
 * errors), again after its blocks are reused, and a reader that fails in
 * the middle of an array frees what it had made (under ASan: no leak). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/reply_pool.h"

#include <hiredis/read.h>
#include <string.h>

static redisReply *read_one(redisReader *rd, const char *wire, size_t len)
{
    void *reply = NULL;
    assert_int_equal(redisReaderFeed(rd, wire, len), REDIS_OK);
    assert_int_equal(redisReaderGetReply(rd, &reply), REDIS_OK);
    assert_non_null(reply);
    return reply;
}

static void replies_are_hiredis_replies(void **state)
{
    (void)state;
    char long_text[300];
    memset(long_text, 'x', sizeof long_text);
    char wire[512];
    int n = snprintf(wire, sizeof wire, "*5\r\n$3\r\nabc\r\n:-42\r\n$-1\r\n*2\r\n+OK\r\n$%zu\r\n%.*s\r\n*0\r\n",
                     sizeof long_text, (int)sizeof long_text, long_text);
    redisReader *rd = redisReaderCreateWithFunctions(&reply_pool_fns);
    assert_non_null(rd);
    for (int round = 0; round < 3; round++) { /* later rounds reuse freed blocks */
        redisReply *r = read_one(rd, wire, (size_t)n);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        assert_int_equal(r->elements, 5);
        assert_int_equal(r->element[0]->type, REDIS_REPLY_STRING);
        assert_int_equal(r->element[0]->len, 3);
        assert_string_equal(r->element[0]->str, "abc");
        assert_int_equal(r->element[1]->type, REDIS_REPLY_INTEGER);
        assert_int_equal(r->element[1]->integer, -42);
        assert_int_equal(r->element[2]->type, REDIS_REPLY_NIL);
        const redisReply *inner = r->element[3];
        assert_int_equal(inner->type, REDIS_REPLY_ARRAY);
        assert_int_equal(inner->elements, 2);
        assert_int_equal(inner->element[0]->type, REDIS_REPLY_STATUS);
        assert_string_equal(inner->element[0]->str, "OK");
        assert_int_equal(inner->element[1]->len, sizeof long_text);
        assert_memory_equal(inner->element[1]->str, long_text, sizeof long_text);
        assert_int_equal(inner->element[1]->str[sizeof long_text], '\0');
        assert_int_equal(r->element[4]->type, REDIS_REPLY_ARRAY);
        assert_int_equal(r->element[4]->elements, 0);
        reply_pool_fns.freeObject(r);
        redisReply *e = read_one(rd, "-ERR no such key\r\n", 18);
        assert_int_equal(e->type, REDIS_REPLY_ERROR);
        assert_string_equal(e->str, "ERR no such key");
        reply_pool_fns.freeObject(e);
    }
    redisReaderFree(rd);
}

static void a_reader_failing_mid_array_frees_what_it_made(void **state)
{
    (void)state;
    redisReader *rd = redisReaderCreateWithFunctions(&reply_pool_fns);
    assert_non_null(rd);
    static const char wire[] = "*3\r\n$3\r\nabc\r\n:7\r\n!bad\r\n";
    void *reply = NULL;
    assert_int_equal(redisReaderFeed(rd, wire, sizeof wire - 1), REDIS_OK);
    assert_int_equal(redisReaderGetReply(rd, &reply), REDIS_ERR);
    assert_null(reply);
    redisReaderFree(rd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(replies_are_hiredis_replies),
        cmocka_unit_test(a_reader_failing_mid_array_frees_what_it_made),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
