/* test_lookup_pending — follows that wait for a dossier not stored yet, run
 * as the service runs them (FCALL lookup_guard with may_wait, then
 * dossier_settle_read when the dossier arrives) on a real redis-server, the
 * time passed in. What they must not do: count a wrong try before the proof
 * is checked, say anything that depends on the proof, hold proofs in clear,
 * or let guesses queued before a dossier exists get more tries than the
 * dossier's limit allows once it does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/lookup_guard.h"
#include "dvcbot/redis_script.h"

#include "redis_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY (24 * 3600)
#define T0 1900000000LL

static const struct lookup_limits LIMITS = {
    .dossier_fails = 3, .dossier_pause_s = DAY, .id_fails = 5, .address_fails = 20,
    .source_pause_s = 15 * 60, .new_id_age_s = DAY, .new_id_fails = 20, .global_fails = 300,
    .access_ttl_s = 400 * DAY,
};

static int setup(void **state)
{
    (void)state;
    fx_do("FLUSHALL");
    const char *dir = getenv("DVCBOT_DATA_DIR");
    char *err = NULL, *lib = redis_library_read(dir ? dir : ".", &err);
    if (!lib) {
        fprintf(stderr, "%s\n", err);
        free(err);
        return -1;
    }
    redisReply *r = fx_cmd("FUNCTION LOAD REPLACE %s", lib);
    free(lib);
    int rc = r && r->type == REDIS_REPLY_STRING ? 0 : -1;
    freeReplyObject(r);
    return rc;
}

static redisReply *fcall(const char *fn, int nkeys, int nargs, const char *const *args)
{
    const char *argv[REDIS_SCRIPT_MAX_ARGS + 3];
    size_t lens[REDIS_SCRIPT_MAX_ARGS + 3];
    char nk[12];
    int argc = redis_fcall_argv(fn, nkeys, nargs, args, NULL, nk, argv, lens);
    assert_true(argc > 0);
    redisReply *r = redisCommandArgv(fx_redis, argc, argv, lens);
    assert_non_null(r);
    if (r->type == REDIS_REPLY_ERROR)
        fail_msg("%s: %s", fn, r->str);
    return r;
}

/* One follow's proof, as lookup.c sends it ("sub"). source "" = the account. */
static enum lookup_outcome follow(const char *code, const char *typed, const char *user,
                                  const char *source, long long now, bool may_wait)
{
    char digits[LOOKUP_PROOF_MAX + 1];
    struct lookup_attempt a = {.code = code, .proof = lookup_proof_parse(typed, digits),
                               .digits = digits, .user_key = user, .source = source, .now = now,
                               .may_wait = may_wait};
    assert_int_not_equal(a.proof, LOOKUP_PROOF_NONE);
    struct lookup_guard_call call;
    lookup_guard_prepare(&LIMITS, &a, &call);
    redisReply *r = fcall("lookup_guard", call.nkeys, call.nargs, call.args);
    struct lookup_verdict v;
    assert_int_equal(lookup_guard_read(r, &v), 0);
    freeReplyObject(r);
    return v.outcome;
}

static void store_dossier(const char *code)
{
    fx_do("HSET dossier:%s code %s status da_tiep_nhan phone 0912345678 id_number 014090001234", code,
          code);
}

/* What the notifier does when the dossier arrives; returns how many follow it. */
static size_t settle(const char *code, long long now)
{
    struct lookup_settle_call call;
    lookup_settle_prepare(&LIMITS, code, now, &call);
    redisReply *r = fcall("dossier_settle_read", call.nkeys, call.nargs, call.args);
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 2);
    size_t n = r->element[1]->elements;
    freeReplyObject(r);
    return n;
}

static bool follows(const char *code, const char *user)
{
    redisReply *r = fx_cmd("SISMEMBER sub:%s %s", code, user);
    bool yes = r && r->integer == 1;
    freeReplyObject(r);
    return yes;
}

static long long count_of(const char *key)
{
    redisReply *r = fx_cmd("HGET %s n", key);
    long long n = r && r->type == REDIS_REPLY_STRING ? atoll(r->str) : 0;
    freeReplyObject(r);
    return n;
}

static void test_a_follow_waits_whatever_the_proof_and_nothing_is_counted(void **state)
{
    (void)state;
    const char *code = "PND.01-0001";
    assert_int_equal(follow(code, "5678", "tg:1", "", T0, true), LOOKUP_PENDING);
    assert_int_equal(follow(code, "1111", "tg:2", "", T0, true), LOOKUP_PENDING);
    assert_int_equal(follow(code, "014090001234", "wc:abcdefgh", "4:203.0.113.9", T0, true),
                     LOOKUP_PENDING);
    redisReply *r = fx_cmd("KEYS hs:g:*");
    for (size_t i = 0; i < r->elements; i++) /* the pending budgets, and no count */
        assert_true(strncmp(r->element[i]->str, "hs:g:p:", 7) == 0 ||
                    (strcmp(r->element[i]->str, "hs:g:all") == 0 && count_of("hs:g:all") == 0));
    freeReplyObject(r);
    /* the proofs are not kept in clear */
    r = fx_cmd("HVALS hs:p:%s", code);
    assert_int_equal(r->elements, 3);
    for (size_t i = 0; i < r->elements; i++) {
        assert_null(strstr(r->element[i]->str, "5678"));
        assert_null(strstr(r->element[i]->str, "014090001234"));
    }
    freeReplyObject(r);
    /* a lookup that may not wait (showing, paying) is a wrong try, as before */
    assert_int_equal(follow(code, "5678", "tg:3", "", T0, false), LOOKUP_WRONG);
    assert_int_equal(count_of("hs:g:d:PND.01-0001"), 1);

    store_dossier(code);
    assert_int_equal(settle(code, T0 + 60), 2);
    assert_true(follows(code, "tg:1"));
    assert_true(follows(code, "wc:abcdefgh"));
    assert_false(follows(code, "tg:2"));
    assert_int_equal(count_of("hs:g:d:PND.01-0001"), 2); /* tg:2's guess, checked now */
    r = fx_cmd("EXISTS hs:p:%s", code);
    assert_int_equal(r->integer, 0);
    freeReplyObject(r);
    r = fx_cmd("SMEMBERS refs:{tg:1}");
    assert_int_equal(r->elements, 2); /* sub: and the access log; hs:p: is gone */
    freeReplyObject(r);
    /* once stored, a follow is checked at once */
    assert_int_equal(follow(code, "9999", "tg:4", "", T0 + 61, true), LOOKUP_WRONG);
}

static void test_guesses_queued_before_the_dossier_get_no_more_than_its_limit(void **state)
{
    (void)state;
    const char *code = "PND.02-0001";
    char user[32], source[32];
    for (int i = 0; i < 40; i++) { /* 40 addresses, each a wrong 4-digit guess */
        snprintf(user, sizeof user, "wc:guesser%04d", i);
        snprintf(source, sizeof source, "4:198.51.%d.1", i);
        assert_int_equal(follow(code, i % 2 ? "0000" : "1111", user, source, T0 + i, true), LOOKUP_PENDING);
    }
    assert_int_equal(follow(code, "5678", "tg:10", "", T0 + 50, true), LOOKUP_PENDING);
    assert_int_equal(follow(code, "0912 345 678", "tg:11", "", T0 + 51, true), LOOKUP_PENDING);
    store_dossier(code);
    assert_int_equal(settle(code, T0 + 100), 1);
    /* 3 wrong 4-digit guesses paused the dossier's 4-digit check: the rest,
     * the owner's 4 digits included, were not tried; the whole number was */
    assert_int_equal(count_of("hs:g:d:PND.02-0001"), LIMITS.dossier_fails);
    assert_true(follows(code, "tg:11"));
    assert_false(follows(code, "tg:10"));

    /* within the limit, 4 digits work */
    const char *other = "PND.02-0002";
    assert_int_equal(follow(other, "1111", "tg:20", "", T0, true), LOOKUP_PENDING);
    assert_int_equal(follow(other, "5678", "tg:21", "", T0 + 1, true), LOOKUP_PENDING);
    assert_int_equal(follow(other, "1234", "tg:22", "", T0 + 2, true), LOOKUP_PENDING); /* id's last 4 */
    store_dossier(other);
    assert_int_equal(settle(other, T0 + 100), 2);
    assert_true(follows(other, "tg:21") && follows(other, "tg:22"));
}

static void test_each_source_holds_few_pending_follows_for_a_week(void **state)
{
    (void)state;
    char code[32];
    for (int i = 0; i < LOOKUP_PENDING_ACCOUNT_MAX; i++) {
        snprintf(code, sizeof code, "PND.03-%04d", i);
        assert_int_equal(follow(code, "5678", "tg:30", "", T0, true), LOOKUP_PENDING);
    }
    assert_int_equal(follow("PND.03-0000", "5678", "tg:30", "", T0, true), LOOKUP_PENDING); /* again */
    assert_int_equal(follow("PND.03-0100", "5678", "tg:30", "", T0, true), LOOKUP_WRONG);
    for (int i = 0; i < LOOKUP_PENDING_ADDRESS_MAX; i++) {
        char user[32];
        snprintf(code, sizeof code, "PND.03-1%03d", i);
        snprintf(user, sizeof user, "wc:visitor%04d", i);
        assert_int_equal(follow(code, "5678", user, "4:192.0.2.7", T0, true), LOOKUP_PENDING);
    }
    assert_int_equal(follow("PND.03-1100", "5678", "wc:visitor9999", "4:192.0.2.7", T0, true),
                     LOOKUP_WRONG);
    /* a week later the places are free again, and the old follows end unchecked */
    long long later = T0 + LOOKUP_PENDING_S + 1;
    assert_int_equal(follow("PND.03-0200", "5678", "tg:30", "", later, true), LOOKUP_PENDING);
    store_dossier("PND.03-0001");
    assert_int_equal(settle("PND.03-0001", later), 0);
    assert_int_equal(count_of("hs:g:d:PND.03-0001"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_a_follow_waits_whatever_the_proof_and_nothing_is_counted, setup),
        cmocka_unit_test_setup(test_guesses_queued_before_the_dossier_get_no_more_than_its_limit, setup),
        cmocka_unit_test_setup(test_each_source_holds_few_pending_follows_for_a_week, setup),
    };
    return cmocka_run_group_tests(tests, fx_redis_start, fx_redis_stop);
}
