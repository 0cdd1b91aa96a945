/* test_store — the Redis connection against real redis-server processes.
 *
 * Every test gets a fresh loop and, when it needs one, its own redis-server
 * (unix socket in a mkdtemp directory, plus a TCP port for the URL form). The
 * servers die with the test process (PR_SET_PDEATHSIG), are killed at exit,
 * and in each teardown. Every test ends with uv_loop_close(loop) == 0.
 * The fixture is in store_fixture.h; Redis failures and closing the store are
 * tested in test_store_failures.c. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store_fixture.h"

#include "dvcbot/store.h"

/* ===== URL parsing ======================================================= */

static void expect_url(const char *url, const char *host, int port, const char *path, int db)
{
    char *h = (char *)"x", *p = (char *)"x";
    int po = -1, d = -1;

    assert_int_equal(store_parse_url(url, &h, &po, &p, &d), 0);
    if (host)
        assert_string_equal(h, host);
    else
        assert_null(h);
    if (path)
        assert_string_equal(p, path);
    else
        assert_null(p);
    assert_int_equal(po, port);
    assert_int_equal(d, db);
    free(h);
    free(p);
}

static void test_parse_url_accepts_tcp_and_unix_forms(void **state)
{
    (void)state;
    expect_url("redis://127.0.0.1:6379", "127.0.0.1", 6379, NULL, 0);
    expect_url("redis://localhost:6380/3", "localhost", 6380, NULL, 3);
    expect_url("redis://cache.internal", "cache.internal", 6379, NULL, 0);
    expect_url("redis://cache-1.internal/2", "cache-1.internal", 6379, NULL, 2);
    expect_url("redis://[::1]:7000/15", "::1", 7000, NULL, 15);
    expect_url("redis://h:1/", "h", 1, NULL, 0);
    expect_url("REDIS://h:65535", "h", 65535, NULL, 0);
    expect_url("unix:///run/redis/redis.sock", NULL, 0, "/run/redis/redis.sock", 0);
    expect_url("unix:///tmp/r.sock?db=5", NULL, 0, "/tmp/r.sock", 5);
}

static void test_parse_url_rejects_malformed_urls(void **state)
{
    static const char *const bad[] = {
        "", "redis", "http://h:1", "redis:/h:1", "redis://", "redis://:6379", "redis://h:",
        "redis://h:0", "redis://h:65536", "redis://h:12x", "redis://h:1/x", "redis://h:1/1/2",
        "redis://h:1/-1", "redis://h:1/99999999999", "redis://user:pw@h:1", "redis://h:1?db=2",
        "redis://h h:1", "redis://[::1:1", "redis://[]:1", "redis://::1:6379", "unix://",
        "unix://relative.sock", "unix:///", "unix:///tmp/dir/", "unix:///tmp/r.sock?db=",
        "unix:///tmp/r.sock?db=x", "unix:///tmp/r.sock?foo=1", "unix:///tmp/r.sock?db=1&x=2",
        "unix:/tmp/r.sock",
    };
    char longpath[300];
    char *h, *p;
    int port, db;
    (void)state;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        h = p = (char *)"x";
        port = db = -1;
        if (store_parse_url(bad[i], &h, &port, &p, &db) != STORE_EINVAL)
            fail_msg("accepted bad url '%s'", bad[i]);
        assert_null(h);
        assert_null(p);
    }
    memset(longpath, 'a', sizeof longpath);
    memcpy(longpath, "unix:///", 8);
    longpath[sizeof longpath - 1] = '\0';
    assert_int_equal(store_parse_url(longpath, &h, &port, &p, &db), STORE_EINVAL);
    assert_int_equal(store_parse_url(NULL, &h, &port, &p, &db), STORE_EINVAL);
    assert_int_equal(store_parse_url("redis://h:1", NULL, &port, &p, &db), STORE_EINVAL);
}

static void test_new_returns_null_for_malformed_url(void **state)
{
    struct fx *f = *state;
    assert_null(store_new(&f->loop, "redis://h:99999", 100));
    assert_null(store_new(&f->loop, "unix://relative", 100));
    assert_null(store_new(&f->loop, NULL, 100));
}

/* ===== commands ========================================================== */

static void test_command_roundtrips_set_and_get(void **state)
{
    struct fx *f = *state;
    struct call *c;

    redis_start(&f->redis, false);
    connect_store(f, f->redis.url, 2000);

    c = roundtrip(f, 0, "SET %s %s", "greeting", "xin chao");
    assert_false(c->null_reply);
    assert_int_equal(c->type, REDIS_REPLY_STATUS);
    assert_string_equal(c->str, "OK");

    c = roundtrip(f, 1, "GET %s", "greeting");
    assert_int_equal(c->type, REDIS_REPLY_STRING);
    assert_string_equal(c->str, "xin chao");

    /* an error reply is a reply, not NULL */
    c = roundtrip(f, 2, "INCR %s", "greeting");
    assert_false(c->null_reply);
    assert_int_equal(c->type, REDIS_REPLY_ERROR);

    /* a NULL callback is allowed; replies keep their order */
    assert_int_equal(store_command(f->s, NULL, NULL, "SET n 41"), 0);
    c = roundtrip(f, 3, "INCR n");
    assert_int_equal(c->type, REDIS_REPLY_INTEGER);
    assert_int_equal(c->integer, 42);

    /* a callback may send the next command */
    f->calls[4].act = ACT_COMMAND;
    c = roundtrip(f, 4, "PING");
    assert_int_equal(c->act_rc, 0);
    run_for(f, 50);
    assert_int_equal(f->ups, 1);
    assert_int_equal(f->downs, 0);
}

/* The formats dvcbot uses are built without printf; what reaches Redis is
 * what hiredis's own formatter would send. */
static void test_format_conversions_reach_redis_as_hiredis_sends_them(void **state)
{
    struct fx *f = *state;
    struct call *c;

    redis_start(&f->redis, false);
    connect_store(f, f->redis.url, 2000);
    c = roundtrip(f, 0, "RPUSH l %s %d %i %u %ld %lu %lld %llu %zu 100%% %b pre%ssuf %s", "a b", -7, 8,
                  4000000000u, -9000000000L, 9000000000UL, -123456789012345LL, 123456789012345ULL,
                  (size_t)42, "xyz", (size_t)2, "MID", "");
    assert_int_equal(c->type, REDIS_REPLY_INTEGER);
    assert_int_equal(c->integer, 13);
    static const char *const want[] = {"a b", "-7", "8", "4000000000", "-9000000000", "9000000000",
                                       "-123456789012345", "123456789012345", "42", "100%", "xy",
                                       "preMIDsuf", ""};
    for (int i = 0; i < 13; i++) {
        memset(&f->calls[1], 0, sizeof f->calls[1]);
        c = roundtrip(f, 1, "LINDEX l %d", i);
        assert_int_equal(c->type, REDIS_REPLY_STRING);
        assert_string_equal(c->str, want[i]);
    }
    /* a conversion we do not handle ourselves still works (hiredis) */
    c = roundtrip(f, 2, "SET %s %.2f", "pi", 3.14159);
    assert_int_equal(c->type, REDIS_REPLY_STATUS);
    c = roundtrip(f, 3, "GET pi");
    assert_string_equal(c->str, "3.14");
}

static void test_argv_command_roundtrips_binary_data(void **state)
{
    struct fx *f = *state;
    static const char key[] = "bin\0key\r\n";
    static const char val[] = "a\0b\r\n$3\r\n\xff\x00z";
    const char *set[] = {"SET", key, val};
    const size_t setlen[] = {3, sizeof key - 1, sizeof val - 1};
    const char *get[] = {"GET", key};
    const size_t getlen[] = {3, sizeof key - 1};

    redis_start(&f->redis, false);
    connect_store(f, f->redis.url, 2000);

    assert_int_equal(store_command_argv(f->s, on_reply, &f->calls[0], 3, set, setlen), 0);
    assert_int_equal(store_command_argv(f->s, on_reply, &f->calls[1], 2, get, getlen), 0);
    assert_true(run_until(f, &f->ncalls, 2, 3000));
    assert_int_equal(f->calls[0].type, REDIS_REPLY_STATUS);
    assert_int_equal(f->calls[1].type, REDIS_REPLY_STRING);
    assert_int_equal(f->calls[1].len, sizeof val - 1);
    assert_memory_equal(f->calls[1].str, val, sizeof val - 1);

    /* argvlen may be NULL for C strings */
    const char *echo[] = {"ECHO", "hello"};
    assert_int_equal(store_command_argv(f->s, on_reply, &f->calls[2], 2, echo, NULL), 0);
    assert_true(run_until(f, &f->ncalls, 3, 3000));
    assert_string_equal(f->calls[2].str, "hello");
}

static void test_tcp_url_with_db_selects_that_db(void **state)
{
    struct fx *f = *state;
    char url[64];
    struct store *db0;
    struct call *c;

    redis_start(&f->redis, true);
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/3", f->redis.port);
    connect_store(f, url, 2000);

    c = roundtrip(f, 0, "CLIENT INFO");
    assert_non_null(strstr(c->str, " db=3 "));
    roundtrip(f, 1, "SET only-in-3 yes");

    /* the same key is absent from db 0 */
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", f->redis.port);
    db0 = store_new(&f->loop, url, 2000);
    assert_non_null(db0);
    uint64_t end = now_ms() + 5000;
    while (!store_connected(db0) && now_ms() < end)
        uv_run(&f->loop, UV_RUN_ONCE);
    assert_true(store_connected(db0));
    assert_int_equal(store_command(db0, on_reply, &f->calls[2], "GET only-in-3"), 0);
    assert_true(run_until(f, &f->ncalls, 3, 3000));
    assert_int_equal(f->calls[2].type, REDIS_REPLY_NIL);
    store_close(db0);
}

static void test_command_while_not_connected_returns_enotconn_without_callback(void **state)
{
    struct fx *f = *state;
    char url[160];
    const char *argv[] = {"PING"};

    /* a socket path where nobody listens */
    snprintf(f->redis.dir, sizeof f->redis.dir, "/tmp/dvcbot-test-XXXXXX");
    assert_non_null(mkdtemp(f->redis.dir));
    snprintf(url, sizeof url, "unix://%s/none.sock", f->redis.dir);
    f->s = store_new(&f->loop, url, 200);
    assert_non_null(f->s);
    store_on_state(f->s, on_state, f);

    assert_false(store_connected(f->s));
    assert_int_equal(store_command(f->s, on_reply, &f->calls[0], "PING"), STORE_ENOTCONN);
    assert_int_equal(store_command_argv(f->s, on_reply, &f->calls[0], 1, argv, NULL), STORE_ENOTCONN);
    run_for(f, 800); /* several retries: 100, 200, 400 ms */
    assert_int_equal(store_command(f->s, on_reply, &f->calls[0], "PING"), STORE_ENOTCONN);
    assert_int_equal(f->ncalls, 0);
    assert_int_equal(f->ups + f->downs, 0);
    /* logged once, not once per retry */
    assert_int_equal(log_count(f, "redis connect failed"), 1);
}

static void test_starts_before_redis_and_connects_when_it_appears(void **state)
{
    struct fx *f = *state;
    char url[64];
    struct call *c;

    snprintf(f->redis.dir, sizeof f->redis.dir, "/tmp/dvcbot-test-XXXXXX");
    assert_non_null(mkdtemp(f->redis.dir));
    snprintf(f->redis.sock, sizeof f->redis.sock, "%s/redis.sock", f->redis.dir);
    f->redis.port = free_tcp_port();
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", f->redis.port);
    f->s = store_new(&f->loop, url, 500);
    assert_non_null(f->s);
    store_on_state(f->s, on_state, f);
    run_for(f, 400); /* refused at once (not after the 500 ms timeout), retried */
    assert_false(store_connected(f->s));
    assert_int_equal(log_count(f, "redis connect failed"), 1);
    assert_int_equal(log_count(f, "Connection refused"), 1);

    redis_spawn(&f->redis);
    assert_true(run_until(f, &f->ups, 1, 8000));
    c = roundtrip(f, 0, "PING");
    assert_string_equal(c->str, "PONG");
    assert_int_equal(f->downs, 0);
}

/* One go of the test below with commands timing out after `timeout` ms.
 * Returns false when the machine was too slow to tell: the answer reached
 * the loop only after the command's own deadline. */
static bool deadline_go(struct fx *f, unsigned timeout)
{
    memset(f->calls, 0, sizeof f->calls);
    f->ncalls = f->downs = 0;
    int timeouts = log_count(f, "command timed out");
    connect_store(f, f->redis.url, timeout);
    uint64_t t0 = uv_now(&f->loop);
    roundtrip(f, 0, "PING"); /* arms the deadline timer: it fires at t0 + timeout */
    run_for(f, timeout * 6 / 10);
    /* The younger command: Redis answers it only when we push. */
    uint64_t sent = uv_now(&f->loop), deadline = sent + timeout;
    assert_int_equal(store_command(f->s, on_reply, &f->calls[1], "BLPOP q 0"), 0);
    while (uv_now(&f->loop) < t0 + timeout + 20) /* the timer fired, found it young */
        uv_run(&f->loop, UV_RUN_ONCE);
    redisContext *side = redisConnectUnix(f->redis.sock);
    assert_true(side && !side->err);
    uint64_t pushed = now_ms();
    freeReplyObject(redisCommand(side, "RPUSH q x"));
    redisFree(side);
    assert_true(run_until(f, &f->ncalls, 2, 4 * timeout));
    bool failed = f->calls[1].null_reply;
    store_close(f->s);
    f->s = NULL;
    if (!failed) {
        assert_int_equal(f->downs, 0);
        assert_int_equal(log_count(f, "command timed out"), timeouts);
        return true;
    }
    /* Failed before the answer existed, or before its own deadline: wrong. */
    assert_true(f->calls[1].at >= pushed);
    assert_true(f->calls[1].at >= deadline);
    return false;
}

/* The deadline timer, armed for an older command, fires while a younger
 * one is pending: the younger one waits for its own deadline, and its
 * answer arriving before that is delivered. On a machine so loaded that
 * the answer arrived too late to tell, again with a longer timeout. */
static void test_command_answered_before_its_deadline_is_not_failed(void **state)
{
    struct fx *f = *state;
    unsigned timeout = 1000;

    redis_start(&f->redis, false);
    while (!deadline_go(f, timeout)) {
        timeout *= 2;
        assert_true(timeout <= 32000);
    }
}

/* store_defer: the work runs once, when the loop turn ends, and what it
 * sends goes out ahead of anything a later turn sends; dropped by
 * store_close, it is told so once. */
struct deferred_probe {
    struct fx *f;
    int runs;
    int rc;
    int drops;
};

static void on_deferred_dropped(void *ud)
{
    ((struct deferred_probe *)ud)->drops++;
}

static void on_deferred(void *ud)
{
    struct deferred_probe *p = ud;
    p->runs++;
    p->rc = store_command(p->f->s, NULL, NULL, "INCRBY deferred 10");
}

static void test_deferred_work_runs_once_at_the_end_of_the_turn_ahead_of_later_commands(void **state)
{
    struct fx *f = *state;
    redis_start(&f->redis, false);
    connect_store(f, f->redis.url, 2000);

    struct deferred_probe p = {.f = f};
    struct store_deferred d = {.fn = on_deferred, .dropped = on_deferred_dropped, .ud = &p};
    assert_int_equal(store_command(f->s, NULL, NULL, "SET deferred 1"), 0);
    store_defer(f->s, &d);
    store_defer(f->s, &d); /* queued already: still once */
    assert_int_equal(p.runs, 0);
    uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(p.runs, 1);
    assert_int_equal(p.rc, 0);
    struct call *c = roundtrip(f, 0, "GET deferred");
    assert_int_equal(c->type, REDIS_REPLY_STRING);
    assert_string_equal(c->str, "11");

    assert_int_equal(p.drops, 0);
    store_defer(f->s, &d); /* queued again, then the store closes: never runs, told once */
    store_close(f->s);
    assert_int_equal(p.drops, 1);
    f->s = NULL;
    run_for(f, 20);
    assert_int_equal(p.runs, 1);
    assert_int_equal(p.drops, 1);
}

static void test_refuses_commands_that_break_one_reply_per_command(void **state)
{
    struct fx *f = *state;
    static const char *const refused[] = {
        "SUBSCRIBE news", "psubscribe n*", "MONITOR", "SELECT 2", "client reply off",
        "CLIENT REPLY SKIP", "client tracking on", "HELLO 3", "RESET", "UNSUBSCRIBE", "", " ",
    };
    const char *psub[] = {"PSUBSCRIBE", "x*"};

    redis_start(&f->redis, false);
    connect_store(f, f->redis.url, 2000);
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (store_command(f->s, on_reply, &f->calls[0], refused[i]) != STORE_EINVAL)
            fail_msg("accepted '%s'", refused[i]);
    assert_int_equal(store_command_argv(f->s, on_reply, &f->calls[0], 2, psub, NULL), STORE_EINVAL);
    assert_int_equal(store_command_argv(f->s, on_reply, &f->calls[0], 0, psub, NULL), STORE_EINVAL);
    assert_int_equal(store_command(f->s, on_reply, &f->calls[0], NULL), STORE_EINVAL);
    /* other CLIENT subcommands pass */
    assert_int_equal(roundtrip(f, 1, "CLIENT SETNAME dvcbot")->type, REDIS_REPLY_STATUS);
    run_for(f, 50);
    assert_int_equal(f->calls[0].n, 0);
    assert_true(store_connected(f->s));
}

static void test_reply_helpers_tell_strings_and_failures(void **state)
{
    (void)state;
    char value[] = "v", err[] = "ERR nope";
    redisReply str = {.type = REDIS_REPLY_STRING, .str = value, .len = 1};
    redisReply status = {.type = REDIS_REPLY_STATUS, .str = value, .len = 1};
    redisReply error = {.type = REDIS_REPLY_ERROR, .str = err, .len = 8};
    redisReply num = {.type = REDIS_REPLY_INTEGER, .integer = 3};
    assert_string_equal(store_reply_str(&str), "v");
    assert_string_equal(store_reply_str(&status), "v");
    assert_null(store_reply_str(&num));
    assert_null(store_reply_str(&error));
    assert_null(store_reply_str(NULL));
    assert_true(store_reply_failed(NULL));
    assert_true(store_reply_failed(&error));
    assert_false(store_reply_failed(&num));
    assert_string_equal(store_reply_error(&error), "ERR nope");
    assert_string_equal(store_reply_error(NULL), "no reply");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_url_accepts_tcp_and_unix_forms),
        cmocka_unit_test(test_parse_url_rejects_malformed_urls),
        cmocka_unit_test(test_reply_helpers_tell_strings_and_failures),
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_new_returns_null_for_malformed_url),
        T(test_command_roundtrips_set_and_get),
        T(test_format_conversions_reach_redis_as_hiredis_sends_them),
        T(test_argv_command_roundtrips_binary_data),
        T(test_tcp_url_with_db_selects_that_db),
        T(test_command_while_not_connected_returns_enotconn_without_callback),
        T(test_starts_before_redis_and_connects_when_it_appears),
        T(test_command_answered_before_its_deadline_is_not_failed),
        T(test_deferred_work_runs_once_at_the_end_of_the_turn_ahead_of_later_commands),
        T(test_refuses_commands_that_break_one_reply_per_command),
#undef T
    };
    int rc;

    signal(SIGPIPE, SIG_IGN);
    atexit(kill_all_servers);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    kill_all_servers();
    return rc;
}
