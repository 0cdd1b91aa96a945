/* test_store_failures — the Redis connection when redis-server dies, restarts,
 * stops answering or refuses the DB index, and when the store is closed with
 * commands pending (the fixture is in store_fixture.h).
 *
 * Every test gets a fresh loop and its own redis-server (unix socket in a
 * mkdtemp directory). Every test ends with uv_loop_close(loop) == 0. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store_fixture.h"

#include "dvcbot/store.h"

/* ===== failures ========================================================== */

static void test_redis_killed_fails_pending_commands_and_reports_down(void **state)
{
    struct fx *f = *state;

    redis_start(&f->redis, false);
    connect_store(f, f->redis.url, 10000);
    f->calls[0].act = ACT_COMMAND; /* tries to send from inside the failure */
    assert_int_equal(store_command(f->s, on_reply, &f->calls[0], "BLPOP q 0"), 0);
    assert_int_equal(store_command(f->s, on_reply, &f->calls[1], "BLPOP q 0"), 0);
    run_for(f, 100);
    assert_int_equal(f->ncalls, 0);

    redis_kill(&f->redis);
    assert_true(run_until(f, &f->ncalls, 2, 3000));
    assert_true(f->calls[0].null_reply);
    assert_true(f->calls[1].null_reply);
    assert_int_equal(f->calls[0].act_rc, STORE_ENOTCONN);
    assert_int_equal(f->downs, 1);
    assert_false(store_connected(f->s));
    assert_int_equal(store_command(f->s, on_reply, &f->calls[2], "PING"), STORE_ENOTCONN);
    run_for(f, 400);
    assert_int_equal(f->calls[0].n, 1);
    assert_int_equal(f->calls[1].n, 1);
    assert_int_equal(f->calls[2].n, 0);
    assert_int_equal(log_count(f, "redis connection lost"), 1);
    assert_int_equal(log_count(f, "redis connect failed"), 0);
}

static void test_reconnects_by_itself_after_redis_restart(void **state)
{
    struct fx *f = *state;
    struct call *c;

    redis_start(&f->redis, false);
    connect_store(f, f->redis.url, 2000);
    redis_kill(&f->redis);
    assert_true(run_until(f, &f->downs, 1, 3000));
    run_for(f, 500); /* a few failed retries */
    assert_false(store_connected(f->s));

    redis_spawn(&f->redis);
    assert_true(run_until(f, &f->ups, 2, 8000));
    c = roundtrip(f, 0, "SET back %d", 1);
    assert_string_equal(c->str, "OK");
    c = roundtrip(f, 1, "GET back");
    assert_string_equal(c->str, "1");
    assert_int_equal(f->downs, 1);
    assert_int_equal(log_count(f, "redis connection lost"), 1);
    assert_int_equal(log_count(f, "redis connected"), 2);
}

static void test_stopped_redis_times_out_commands_then_works_after_sigcont(void **state)
{
    struct fx *f = *state;
    uint64_t t0;
    struct call *c;

    redis_start(&f->redis, false);
    connect_store(f, f->redis.url, 300);
    assert_int_equal(kill(f->redis.pid, SIGSTOP), 0);

    t0 = now_ms();
    assert_int_equal(store_command(f->s, on_reply, &f->calls[0], "GET k"), 0);
    run_for(f, 100);
    assert_int_equal(store_command(f->s, on_reply, &f->calls[1], "GET k"), 0);
    assert_true(run_until(f, &f->ncalls, 2, 3000));
    assert_true(f->calls[0].null_reply);
    assert_true(f->calls[1].null_reply);
    assert_true(f->calls[0].at - t0 >= 290);
    assert_true(f->calls[0].at - t0 < 2000);
    /* the later command failed with the dropped connection, not at its own deadline */
    assert_true(f->calls[1].at - f->calls[0].at < 100);
    assert_int_equal(f->downs, 1);
    assert_false(store_connected(f->s));
    run_for(f, 700); /* retries that connect but get no handshake answer */
    assert_int_equal(f->ups, 1);

    assert_int_equal(kill(f->redis.pid, SIGCONT), 0);
    assert_true(run_until(f, &f->ups, 2, 8000));
    c = roundtrip(f, 2, "SET k %s", "v");
    assert_string_equal(c->str, "OK");
    c = roundtrip(f, 3, "GET k");
    assert_string_equal(c->str, "v");
    /* the late hiredis callbacks did not call the timed-out ones again */
    assert_int_equal(f->calls[0].n, 1);
    assert_int_equal(f->calls[1].n, 1);
    assert_int_equal(log_count(f, "command timed out"), 1);
}

/* Fills the accept queue of a backlog-0 listener so that further SYNs are
 * dropped: a connect to it hangs like one to a blackholed address. */
static int blackhole(int *port, int fillers[3])
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(l >= 0);
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(l, 0), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&a, &alen), 0);
    for (int i = 0; i < 3; i++) {
        fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_true(fillers[i] >= 0);
        int rc = connect(fillers[i], (struct sockaddr *)&a, sizeof a);
        assert_true(rc == 0 || errno == EINPROGRESS);
        sleep_ms(20);
    }
    *port = ntohs(a.sin_port);
    return l;
}

static void test_connect_to_unresponsive_address_times_out_and_retries(void **state)
{
    struct fx *f = *state;
    int port, fillers[3], l;
    char url[64];

    l = blackhole(&port, fillers);
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", port);
    f->s = store_new(&f->loop, url, 200);
    assert_non_null(f->s);
    store_on_state(f->s, on_state, f);
    run_for(f, 1200); /* attempts at 0, 300, 700 ms; each gives up after 200 ms */
    assert_false(store_connected(f->s));
    assert_int_equal(f->ups + f->downs, 0);
    assert_int_equal(log_count(f, "redis connect failed"), 1);
    assert_int_equal(log_count(f, "connect timed out"), 1);
    store_close(f->s);
    f->s = NULL;
    for (int i = 0; i < 3; i++)
        close(fillers[i]);
    close(l);
}

static void test_bad_db_index_keeps_store_down_and_logs_once(void **state)
{
    struct fx *f = *state;
    char url[200];

    redis_start(&f->redis, false);
    snprintf(url, sizeof url, "%s?db=999", f->redis.url);
    /* A timeout no loaded machine reaches: the first failure must be the
     * refusal (only the first is logged), not a slow handshake. */
    f->s = store_new(&f->loop, url, 10000);
    assert_non_null(f->s);
    store_on_state(f->s, on_state, f);
    /* The first refusal, then a few retries (100, 200, 400 ms apart). */
    for (uint64_t end = now_ms() + 10000; log_count(f, "redis connect failed") == 0 && now_ms() < end;)
        uv_run(&f->loop, UV_RUN_ONCE);
    run_for(f, 700);
    assert_false(store_connected(f->s));
    assert_int_equal(f->ups, 0);
    assert_int_equal(log_count(f, "redis connect failed"), 1);
    assert_int_equal(log_count(f, "DB index is out of range"), 1);
}

/* ===== closing =========================================================== */

static void test_close_with_pending_commands_calls_each_callback_once_with_null(void **state)
{
    struct fx *f = *state;

    redis_start(&f->redis, false);
    connect_store(f, f->redis.url, 10000);
    for (int i = 0; i < 3; i++)
        assert_int_equal(store_command(f->s, on_reply, &f->calls[i], "BLPOP q%d 0", i), 0);
    f->calls[1].act = ACT_COMMAND; /* refused: the store is closing */
    run_for(f, 50);
    assert_int_equal(f->ncalls, 0);

    store_close(f->s);
    f->s = NULL;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(f->calls[i].n, 1);
        assert_true(f->calls[i].null_reply);
    }
    assert_int_equal(f->calls[1].act_rc, STORE_ENOTCONN);
    assert_int_equal(f->downs, 0); /* no state callback after close */
    run_for(f, 100);
    assert_int_equal(f->ncalls, 3);
}

static void test_close_inside_reply_callback_fails_the_rest_once(void **state)
{
    struct fx *f = *state;

    redis_start(&f->redis, false);
    connect_store(f, f->redis.url, 10000);
    f->calls[0].act = ACT_CLOSE;
    assert_int_equal(store_command(f->s, on_reply, &f->calls[0], "PING"), 0);
    assert_int_equal(store_command(f->s, on_reply, &f->calls[1], "BLPOP q 0"), 0);
    assert_int_equal(store_command(f->s, on_reply, &f->calls[2], "BLPOP q 0"), 0);
    assert_true(run_until(f, &f->ncalls, 3, 3000));
    assert_null(f->s);
    assert_false(f->calls[0].null_reply);
    assert_true(f->calls[1].null_reply);
    assert_true(f->calls[2].null_reply);
    run_for(f, 100);
    assert_int_equal(f->ncalls, 3);
}

static void test_close_inside_down_callback_fails_pending_once(void **state)
{
    struct fx *f = *state;

    redis_start(&f->redis, false);
    connect_store(f, f->redis.url, 10000);
    f->close_on_down = true;
    assert_int_equal(store_command(f->s, on_reply, &f->calls[0], "BLPOP q 0"), 0);
    assert_int_equal(store_command(f->s, on_reply, &f->calls[1], "BLPOP q 0"), 0);
    run_for(f, 100);
    redis_kill(&f->redis);
    assert_true(run_until(f, &f->downs, 1, 3000));
    assert_null(f->s);
    assert_int_equal(f->ncalls, 2);
    run_for(f, 300);
    assert_int_equal(f->calls[0].n, 1);
    assert_int_equal(f->calls[1].n, 1);
    assert_true(f->calls[0].null_reply && f->calls[1].null_reply);
}

static void test_close_while_connecting_is_clean(void **state)
{
    struct fx *f = *state;

    char url[64];

    redis_start(&f->redis, true);
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", f->redis.port);
    f->s = store_new(&f->loop, url, 1000);
    assert_non_null(f->s);
    store_close(f->s); /* before the first loop turn */
    f->s = NULL;
    run_for(f, 50);
    assert_int_equal(f->ncalls, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_redis_killed_fails_pending_commands_and_reports_down),
        T(test_reconnects_by_itself_after_redis_restart),
        T(test_stopped_redis_times_out_commands_then_works_after_sigcont),
        T(test_connect_to_unresponsive_address_times_out_and_retries),
        T(test_bad_db_index_keeps_store_down_and_logs_once),
        T(test_close_with_pending_commands_calls_each_callback_once_with_null),
        T(test_close_inside_reply_callback_fails_the_rest_once),
        T(test_close_inside_down_callback_fails_pending_once),
        T(test_close_while_connecting_is_clean),
#undef T
    };
    int rc;

    signal(SIGPIPE, SIG_IGN);
    atexit(kill_all_servers);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    kill_all_servers();
    return rc;
}
