/* test_lookup_guard — the limits on proving a dossier is yours, run as the
 * service runs them (FCALL lookup_guard with lookup_guard_prepare's keys and
 * arguments) on a real redis-server, with the time passed in, so that days
 * go by in seconds.
 *
 * The last test measures what an attacker learns in one day: every dossier
 * of a province on file, an attacker with unlimited fresh web chat ids and
 * Telegram accounts, SIM_ADDRESSES addresses and SIM_AGED accounts aged in
 * advance, trying as fast as the limits let them (up to SIM_RATE tries a
 * second), 4 digits first and whole numbers when the 4 digits are paused.
 * It prints the share of dossiers learned (bench/enumeration.sh prints it
 * at a larger scale: DVCBOT_SIM_DOSSIERS, DVCBOT_SIM_ADDRESSES,
 * DVCBOT_SIM_AGED). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/lookup_guard.h"
#include "dvcbot/redis_script.h"
#include "redis_fixture.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY (24 * 3600)
#define T0 1900000000LL /* a Tuesday in 2030: the simulated clock starts here */

/* ===== One attempt, as lookup.c makes it ===== */

struct guard {
    redisContext *rc;
    struct lookup_limits lim;
};

static const struct lookup_limits DEFAULTS = {
    .dossier_fails = 3, .dossier_pause_s = DAY, .id_fails = 5, .address_fails = 20,
    .source_pause_s = 15 * 60, .new_id_age_s = DAY, .new_id_fails = 20, .global_fails = 300,
    .access_ttl_s = 400 * DAY,
};

static void guard_open(struct guard *g, const struct lookup_limits *lim)
{
    g->rc = fx_redis;
    assert_non_null(g->rc);
    redisReply *r = redisCommand(g->rc, "FLUSHALL");
    assert_non_null(r);
    freeReplyObject(r);
    const char *dir = getenv("DVCBOT_DATA_DIR");
    char *err = NULL, *lib = redis_library_read(dir ? dir : ".", &err);
    if (!lib)
        fail_msg("%s", err);
    r = redisCommand(g->rc, "FUNCTION LOAD REPLACE %s", lib);
    free(lib);
    assert_non_null(r);
    if (r->type == REDIS_REPLY_ERROR)
        fail_msg("library refused: %s", r->str);
    assert_string_equal(r->str, REDIS_LIBRARY_NAME);
    freeReplyObject(r);
    g->lim = *lim;
}

static void guard_close(struct guard *g)
{
    g->rc = NULL; /* the fixture's connection */
}

static void put_dossier(struct guard *g, const char *code, const char *phone, const char *id)
{
    redisReply *r = redisCommand(g->rc, "HSET dossier:%s code %s status dang_xu_ly phone %s id_number %s",
                                 code, code, phone, id);
    assert_non_null(r);
    freeReplyObject(r);
}

/* Runs one attempt; returns the outcome, with the pause in *wait and its
 * cause in *by when limited. */
static enum lookup_outcome attempt(struct guard *g, const char *code, const char *typed,
                                   const char *user_key, const char *source, long long now,
                                   long *wait, enum lookup_limited_by *by)
{
    char digits[LOOKUP_PROOF_MAX + 1];
    struct lookup_attempt a = {.code = code, .proof = lookup_proof_parse(typed, digits),
                               .digits = digits, .user_key = user_key, .source = source,
                               .now = now};
    assert_int_not_equal(a.proof, LOOKUP_PROOF_NONE);
    struct lookup_guard_call call;
    lookup_guard_prepare(&g->lim, &a, &call);
    const char *argv[REDIS_SCRIPT_MAX_ARGS + 3];
    size_t argvlen[REDIS_SCRIPT_MAX_ARGS + 3];
    char nk[12];
    int argc = redis_fcall_argv("lookup_guard", call.nkeys, call.nargs, call.args, NULL, nk, argv, argvlen);
    assert_true(argc > 0);
    redisReply *r = redisCommandArgv(g->rc, argc, argv, argvlen);
    assert_non_null(r);
    if (r->type == REDIS_REPLY_ERROR)
        fail_msg("script error: %s", r->str);
    struct lookup_verdict v;
    assert_int_equal(lookup_guard_read(r, &v), 0);
    if (wait)
        *wait = v.wait_s;
    if (by)
        *by = v.by;
    freeReplyObject(r);
    return v.outcome;
}

/* ===== Proofs and arguments ===== */

static void test_proofs_are_4_digits_or_a_whole_number(void **state)
{
    (void)state;
    char d[LOOKUP_PROOF_MAX + 1];
    assert_int_equal(lookup_proof_parse("5678", d), LOOKUP_PROOF_LAST4);
    assert_string_equal(d, "5678");
    assert_int_equal(lookup_proof_parse("số cuối là 5678", d), LOOKUP_PROOF_LAST4);
    assert_int_equal(lookup_proof_parse("012345678901", d), LOOKUP_PROOF_FULL);
    assert_int_equal(lookup_proof_parse("+84 912.345.678", d), LOOKUP_PROOF_FULL);
    assert_string_equal(d, "84912345678");
    assert_int_equal(lookup_proof_parse("567", d), LOOKUP_PROOF_NONE);
    assert_int_equal(lookup_proof_parse("12345678", d), LOOKUP_PROOF_NONE);
    assert_int_equal(lookup_proof_parse("1234567890123456", d), LOOKUP_PROOF_NONE);
    assert_int_equal(lookup_proof_parse("số điện thoại của tôi là 0912 345 678 nhé bạn", d),
                     LOOKUP_PROOF_NONE); /* longer than 40 bytes: not an answer to the question */
}

static void test_counters_are_outside_the_users_keys_and_name_nobody(void **state)
{
    (void)state;
    struct lookup_attempt a = {.code = "ABC.1-2", .proof = LOOKUP_PROOF_LAST4, .digits = "1234",
                               .user_key = "tg:123456789", .source = "", .now = T0};
    struct lookup_guard_call c;
    lookup_guard_prepare(&DEFAULTS, &a, &c);
    assert_int_equal(c.nkeys, LOOKUP_GUARD_KEYS);
    assert_int_equal(c.nargs, LOOKUP_GUARD_KEYS + LOOKUP_GUARD_ARGS);
    assert_string_equal(c.args[0], "dossier:ABC.1-2");
    assert_string_equal(c.args[1], "hs:g:d:ABC.1-2");
    /* sha256("acct:tg:123456789"): no identity in clear, no {user} hash tag */
    assert_int_equal(strncmp(c.args[2], "hs:g:s:", 7), 0);
    assert_int_equal(strlen(c.args[2]), 7 + 64);
    assert_null(strchr(c.args[2], '{'));
    assert_null(strstr(c.args[2], "123456789"));
    assert_string_equal(c.args[3], "hs:g:new:tg");
    assert_string_equal(c.args[6], "refs:{tg:123456789}");
    assert_string_equal(c.args[LOOKUP_GUARD_KEYS + 4], "acct");
    char other[80];
    snprintf(other, sizeof other, "%s", c.args[2]);
    a.source = "4:203.0.113.9";
    lookup_guard_prepare(&DEFAULTS, &a, &c);
    assert_string_not_equal(c.args[2], other);
    assert_string_equal(c.args[LOOKUP_GUARD_KEYS + 4], "addr");
}

/* ===== The rules, on Redis ===== */

static void test_last4_of_phone_or_id_and_whole_numbers_prove(void **state)
{
    (void)state;
    struct guard g;
    guard_open(&g, &DEFAULTS);
    put_dossier(&g, "P1", "0912 345 678", "012345678901");
    const char *good[] = {"5678", "8901", "0912345678", "+84 912 345 678", "012345678901"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal(attempt(&g, "P1", good[i], "wc:a", "4:192.0.2.1", T0, NULL, NULL), LOOKUP_OK);
    assert_int_equal(attempt(&g, "P1", "012345678900", "wc:a", "4:192.0.2.1", T0, NULL, NULL),
                     LOOKUP_WRONG);
    assert_int_equal(attempt(&g, "NOPE", "5678", "wc:a", "4:192.0.2.1", T0, NULL, NULL), LOOKUP_WRONG);
    /* a short stored number is no whole-number proof */
    put_dossier(&g, "P2", "12345", "A1234");
    assert_int_equal(attempt(&g, "P2", "000012345", "wc:a", "4:192.0.2.1", T0, NULL, NULL), LOOKUP_WRONG);
    assert_int_equal(attempt(&g, "P2", "2345", "wc:a", "4:192.0.2.1", T0, NULL, NULL), LOOKUP_OK);
    guard_close(&g);
}

static void test_a_dossier_pauses_its_4_digits_doubling_but_whole_numbers_still_work(void **state)
{
    (void)state;
    struct guard g;
    guard_open(&g, &DEFAULTS);
    put_dossier(&g, "D1", "0912345678", "012345678901");
    long long now = T0;
    long wait;
    enum lookup_limited_by by;
    char src[32];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 3; i++) {
            snprintf(src, sizeof src, "4:198.51.100.%d", round * 3 + i);
            assert_int_equal(attempt(&g, "D1", "0000", "wc:x", src, now, NULL, NULL), LOOKUP_WRONG);
        }
        assert_int_equal(attempt(&g, "D1", "5678", "wc:o", "4:203.0.113.1", now, &wait, &by),
                         LOOKUP_LIMITED);
        assert_int_equal(by, LOOKUP_BY_DOSSIER);
        assert_int_equal(wait, (long)DAY << round);
        assert_int_equal(attempt(&g, "D1", "012345678901", "wc:o", "4:203.0.113.1", now, NULL, NULL),
                         LOOKUP_OK);
        now += wait;
    }
    /* forgotten 30 days after the last wrong try */
    assert_int_equal(attempt(&g, "D1", "0000", "wc:x", "4:198.51.100.99", now + 31 * DAY, NULL, NULL),
                     LOOKUP_WRONG);
    assert_int_equal(attempt(&g, "D1", "5678", "wc:o", "4:203.0.113.1", now + 31 * DAY, NULL, NULL),
                     LOOKUP_OK);
    guard_close(&g);
}

static void test_a_source_pauses_for_4_digits_and_whole_numbers_alike(void **state)
{
    (void)state;
    struct guard g;
    guard_open(&g, &DEFAULTS);
    put_dossier(&g, "S1", "0912345678", "012345678901");
    long long now = T0;
    long wait;
    enum lookup_limited_by by;
    char code[16];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 5; i++) {
            snprintf(code, sizeof code, "X%d-%d", round, i);
            const char *typed = i % 2 ? "0000" : "0999999999";
            assert_int_equal(attempt(&g, code, typed, "tg:7", "", now, NULL, NULL), LOOKUP_WRONG);
        }
        assert_int_equal(attempt(&g, "S1", "012345678901", "tg:7", "", now, &wait, &by), LOOKUP_LIMITED);
        assert_int_equal(by, LOOKUP_BY_SOURCE);
        assert_int_equal(wait, 15 * 60 << round);
        now += wait;
    }
    assert_int_equal(attempt(&g, "S1", "5678", "tg:7", "", now, NULL, NULL), LOOKUP_OK);
    /* addresses get LOOKUP_ADDRESS_FAILS */
    for (int i = 0; i < 20; i++) {
        snprintf(code, sizeof code, "Y%d", i);
        assert_int_equal(attempt(&g, code, "0000", "wc:f", "6:2001:db8::/64", now, NULL, NULL),
                         LOOKUP_WRONG);
    }
    assert_int_equal(attempt(&g, "S1", "5678", "wc:g", "6:2001:db8::/64", now, NULL, &by), LOOKUP_LIMITED);
    assert_int_equal(by, LOOKUP_BY_SOURCE);
    guard_close(&g);
}

static void test_new_accounts_share_a_budget_and_age_by_a_wrong_try(void **state)
{
    (void)state;
    struct lookup_limits lim = DEFAULTS;
    lim.new_id_fails = 4;
    struct guard g;
    guard_open(&g, &lim);
    put_dossier(&g, "N1", "0912345678", "012345678901");
    long long now = T0;
    /* an account that failed once, two days ago, is no longer new */
    assert_int_equal(attempt(&g, "Z", "0000", "zl:old", "", now - 2 * DAY, NULL, NULL), LOOKUP_WRONG);
    char user[24];
    for (int i = 0; i < 3; i++) { /* with the old account's, 4 wrong tries of new accounts */
        snprintf(user, sizeof user, "zl:fresh%d", i);
        assert_int_equal(attempt(&g, "Z", i % 2 ? "0000" : "0999999999", user, "", now, NULL, NULL),
                         LOOKUP_WRONG);
    }
    long wait;
    enum lookup_limited_by by;
    assert_int_equal(attempt(&g, "N1", "012345678901", "zl:fresh9", "", now, &wait, &by), LOOKUP_LIMITED);
    assert_int_equal(by, LOOKUP_BY_NEW_ID);
    assert_int_equal(wait, 15 * 60);
    assert_int_equal(attempt(&g, "N1", "5678", "zl:old", "", now, NULL, NULL), LOOKUP_OK);
    assert_int_equal(attempt(&g, "N1", "5678", "tg:fresh", "", now, NULL, NULL), LOOKUP_OK);
    assert_int_equal(attempt(&g, "N1", "5678", "wc:any", "4:192.0.2.8", now, NULL, NULL), LOOKUP_OK);
    assert_int_equal(attempt(&g, "N1", "5678", "zl:fresh9", "", now + wait, NULL, NULL), LOOKUP_OK);
    guard_close(&g);
}

static void test_wrong_4_digits_everywhere_pause_them_until_the_hour_ends(void **state)
{
    (void)state;
    struct lookup_limits lim = DEFAULTS;
    lim.global_fails = 10;
    struct guard g;
    guard_open(&g, &lim);
    put_dossier(&g, "G1", "0912345678", "012345678901");
    char src[32], code[16];
    for (int i = 0; i < 10; i++) {
        snprintf(src, sizeof src, "4:10.0.0.%d", i);
        snprintf(code, sizeof code, "W%d", i);
        assert_int_equal(attempt(&g, code, "0000", "wc:x", src, T0 + i, NULL, NULL), LOOKUP_WRONG);
    }
    long wait;
    enum lookup_limited_by by;
    assert_int_equal(attempt(&g, "G1", "5678", "wc:o", "4:10.9.9.9", T0 + 100, &wait, &by), LOOKUP_LIMITED);
    assert_int_equal(by, LOOKUP_BY_GLOBAL);
    assert_int_equal(wait, 3600 - 100);
    assert_int_equal(attempt(&g, "G1", "0912345678", "wc:o", "4:10.9.9.9", T0 + 100, NULL, NULL), LOOKUP_OK);
    assert_int_equal(attempt(&g, "G1", "5678", "wc:o", "4:10.9.9.9", T0 + 3600, NULL, NULL), LOOKUP_OK);
    guard_close(&g);
}

/* ===== One day of an attack, measured ===== */

struct sim {
    struct guard g;
    unsigned n;                 /* dossiers */
    unsigned addresses, aged;   /* sources the attacker holds */
    unsigned rate;              /* tries a second at most */
    bool full_numbers;          /* also guess whole numbers when 4 digits are paused */
    uint64_t rng;
    unsigned char *learned;
    unsigned *next_guess;       /* 4-digit guesses made per dossier */
    long long *dossier_until, *addr_until, *aged_until;
    long long global_until, new_until, last4_until;
    unsigned addr_cursor, aged_cursor, dossier_cursor;
    unsigned long tries_last4, tries_full, refused, fresh_accounts;
    unsigned learned_n;
};

static uint64_t next_rand(struct sim *s)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return s->rng;
}

static unsigned env_or(const char *name, unsigned fallback)
{
    const char *v = getenv(name);
    return v && *v ? (unsigned)strtoul(v, NULL, 10) : fallback;
}

static void code_of(unsigned i, char out[32])
{
    snprintf(out, 32, "SIM.00.00.H50-301130-%05u", i);
}

/* Every dossier of the province: random phones and 12-digit ID numbers,
 * stored through one pipeline. */
static void sim_populate(struct sim *s)
{
    for (unsigned i = 0; i < s->n; i++) {
        char code[32], phone[16], id[16];
        code_of(i, code);
        snprintf(phone, sizeof phone, "09%08llu", (unsigned long long)(next_rand(s) % 100000000ULL));
        snprintf(id, sizeof id, "014%09llu", (unsigned long long)(next_rand(s) % 1000000000ULL));
        redisAppendCommand(s->g.rc, "HSET dossier:%s code %s status dang_xu_ly phone %s id_number %s",
                           code, code, phone, id);
    }
    for (unsigned i = 0; i < s->n; i++) {
        redisReply *r;
        assert_int_equal(redisGetReply(s->g.rc, (void **)&r), REDIS_OK);
        freeReplyObject(r);
    }
}

/* A source not paused at now, taken in turn: an address, an aged account,
 * or a fresh account while new accounts may try. Returns false when none is. */
static bool pick_source(struct sim *s, long long now, char *user, char *source, long long **until)
{
    for (unsigned k = 0; k < s->addresses; k++) {
        unsigned a = s->addr_cursor++ % s->addresses;
        if (s->addr_until[a] <= now) {
            sprintf(user, "wc:fresh%lu", s->tries_last4 + s->tries_full);
            sprintf(source, "4:10.%u.%u.%u", a >> 16 & 255, a >> 8 & 255, a & 255);
            *until = &s->addr_until[a];
            return true;
        }
    }
    for (unsigned k = 0; k < s->aged; k++) {
        unsigned a = s->aged_cursor++ % s->aged;
        if (s->aged_until[a] <= now) {
            sprintf(user, "tg:aged%u", a);
            source[0] = '\0';
            *until = &s->aged_until[a];
            return true;
        }
    }
    if (s->new_until <= now) {
        sprintf(user, "tg:fresh%lu", s->fresh_accounts++);
        source[0] = '\0';
        *until = &s->new_until;
        return true;
    }
    return false;
}

/* The earliest time a source is free again. */
static long long next_free_source(const struct sim *s)
{
    long long t = s->new_until;
    for (unsigned a = 0; a < s->addresses; a++)
        if (s->addr_until[a] < t)
            t = s->addr_until[a];
    for (unsigned a = 0; a < s->aged; a++)
        if (s->aged_until[a] < t)
            t = s->aged_until[a];
    return t;
}

/* A dossier not learned whose 4 digits are not paused, in turn; -1 when
 * none is (then none is before s->last4_until). */
static long pick_dossier_last4(struct sim *s, long long now)
{
    if (now < s->last4_until || now < s->global_until)
        return -1;
    long long soonest = LLONG_MAX;
    for (unsigned k = 0; k < s->n; k++) {
        unsigned d = s->dossier_cursor++ % s->n;
        if (s->learned[d] || s->next_guess[d] >= 10000)
            continue;
        if (s->dossier_until[d] <= now)
            return (long)d;
        if (s->dossier_until[d] < soonest)
            soonest = s->dossier_until[d];
    }
    s->last4_until = soonest;
    return -1;
}

static void sim_try(struct sim *s, long long now, unsigned d, bool last4, const char *user,
                    const char *source, long long *source_until)
{
    char code[32], typed[16];
    code_of(d, code);
    if (last4) {
        /* distinct guesses per dossier: 2719 is prime to 10 000 */
        snprintf(typed, sizeof typed, "%04u", (d * 7919u + s->next_guess[d]++ * 2719u) % 10000u);
        s->tries_last4++;
    } else {
        snprintf(typed, sizeof typed, "09%08llu", (unsigned long long)(next_rand(s) % 100000000ULL));
        s->tries_full++;
    }
    long wait;
    enum lookup_limited_by by;
    enum lookup_outcome o = attempt(&s->g, code, typed, user, source, now, &wait, &by);
    if (o == LOOKUP_OK && !s->learned[d]) {
        s->learned[d] = 1;
        s->learned_n++;
    } else if (o == LOOKUP_LIMITED) {
        s->refused++; /* a refused try is no try */
        if (last4)
            s->tries_last4--;
        else
            s->tries_full--;
        long long until = now + wait;
        if (by == LOOKUP_BY_DOSSIER)
            s->dossier_until[d] = until;
        else if (by == LOOKUP_BY_GLOBAL)
            s->global_until = until;
        else if (by == LOOKUP_BY_NEW_ID)
            s->new_until = until;
        else
            *source_until = until;
    }
}

/* One day: 4 digits while they are not paused (globally or for the dossier),
 * whole numbers otherwise, at most s->rate tries a second; time jumps over
 * stretches where every source is paused. */
static void sim_day(struct sim *s)
{
    long long end = T0 + DAY;
    unsigned in_second = 0;
    long long now = T0;
    char user[48], source[48];
    while (now < end) {
        long long *until;
        if (!pick_source(s, now, user, source, &until)) {
            now = next_free_source(s);
            in_second = 0;
            continue;
        }
        long d = pick_dossier_last4(s, now);
        if (d >= 0) {
            sim_try(s, now, (unsigned)d, true, user, source, until);
        } else if (s->full_numbers) {
            sim_try(s, now, (unsigned)(next_rand(s) % s->n), false, user, source, until);
        } else {
            long long t = s->global_until > s->last4_until ? s->global_until : s->last4_until;
            now = t > now ? t : now + 1;
            in_second = 0;
            continue;
        }
        if (++in_second >= s->rate) {
            now++;
            in_second = 0;
        }
    }
}

/* The attacker prepared accounts: each failed once two days ago. */
static void age_accounts(struct sim *s)
{
    for (unsigned a = 0; a < s->aged; a++) {
        char user[24];
        sprintf(user, "tg:aged%u", a);
        struct lookup_attempt at = {.code = "AGING", .proof = LOOKUP_PROOF_LAST4, .digits = "0000",
                                    .user_key = user, .source = "", .now = T0};
        struct lookup_guard_call c;
        lookup_guard_prepare(&s->g.lim, &at, &c);
        redisReply *r = redisCommand(s->g.rc, "HSET %s first %lld", c.args[2], T0 - 2LL * DAY);
        assert_non_null(r);
        freeReplyObject(r);
    }
}

static double run_day(const struct lookup_limits *lim, unsigned n, unsigned addresses, unsigned aged,
                      bool full_numbers, const char *label)
{
    struct sim s = {.n = n, .addresses = addresses, .aged = aged, .rate = 1000,
                    .full_numbers = full_numbers, .rng = 0x9e3779b97f4a7c15ULL};
    guard_open(&s.g, lim);
    sim_populate(&s);
    s.learned = calloc(n, 1);
    s.next_guess = calloc(n, sizeof *s.next_guess);
    s.dossier_until = calloc(n, sizeof *s.dossier_until);
    s.addr_until = calloc(addresses + 1, sizeof *s.addr_until);
    s.aged_until = calloc(aged + 1, sizeof *s.aged_until);
    assert_true(s.learned && s.next_guess && s.dossier_until && s.addr_until && s.aged_until);
    age_accounts(&s);
    sim_day(&s);
    double share = 100.0 * s.learned_n / n;
    printf("enumeration (%s): %u dossiers, attacker with %u addresses, %u aged and %lu fresh "
           "Telegram accounts, unlimited web chat ids: %lu wrong or right tries of 4 digits, %lu of "
           "whole numbers, %lu refused in one day; learned %u dossiers = %.4f %% (goal < 0.1 %%)\n",
           label, n, addresses, aged, s.fresh_accounts, s.tries_last4, s.tries_full, s.refused,
           s.learned_n, share);
    fflush(stdout);
    free(s.learned);
    free(s.next_guess);
    free(s.dossier_until);
    free(s.addr_until);
    free(s.aged_until);
    guard_close(&s.g);
    return share;
}

static void test_an_attacker_learns_less_than_a_thousandth_of_dossiers_a_day(void **state)
{
    (void)state;
    unsigned n = env_or("DVCBOT_SIM_DOSSIERS", 10000);
    unsigned addresses = env_or("DVCBOT_SIM_ADDRESSES", 100);
    unsigned aged = env_or("DVCBOT_SIM_AGED", 100);
    unsigned many = env_or("DVCBOT_SIM_MANY_ADDRESSES", 2000);
    /* What a well-equipped attacker gets, 4 digits and whole numbers. */
    assert_true(run_day(&DEFAULTS, n, addresses, aged, true, "default limits") < 0.1);
    /* With addresses enough to reach every cap on 4 digits, the hourly cap
     * binds: at most 24 × 300 tries, 2 chances in 10 000 each. */
    assert_true(run_day(&DEFAULTS, n, many, aged, false, "default limits, 4 digits, many addresses") < 0.1);
    /* Without the hourly cap the per-dossier pause alone holds it under
     * 0.1 %: 3 tries a dossier a day. */
    struct lookup_limits no_global = DEFAULTS;
    no_global.global_fails = 1000000000;
    assert_true(run_day(&no_global, n, many, aged, false, "no hourly cap, 4 digits, many addresses") < 0.1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proofs_are_4_digits_or_a_whole_number),
        cmocka_unit_test(test_counters_are_outside_the_users_keys_and_name_nobody),
        cmocka_unit_test(test_last4_of_phone_or_id_and_whole_numbers_prove),
        cmocka_unit_test(test_a_dossier_pauses_its_4_digits_doubling_but_whole_numbers_still_work),
        cmocka_unit_test(test_a_source_pauses_for_4_digits_and_whole_numbers_alike),
        cmocka_unit_test(test_new_accounts_share_a_budget_and_age_by_a_wrong_try),
        cmocka_unit_test(test_wrong_4_digits_everywhere_pause_them_until_the_hour_ends),
        cmocka_unit_test(test_an_attacker_learns_less_than_a_thousandth_of_dossiers_a_day),
    };
    return cmocka_run_group_tests(tests, fx_redis_start, fx_redis_stop);
}
