/* test_http_keepalive — how outbound HTTP uses its connections: keep-alive
 * reuse, the ways a response ends (Content-Length, chunked, end of
 * connection, HTTP/1.0, after a 1xx), the keep-alive race (a kept
 * connection the server closed: a GET sent once more on a new one; a POST
 * only when the connection was found dead before it went out), a server that
 * hangs up without answering, a stalled body, a connect that never
 * completes, and the per-host cap. Against
 * the stub of http_stub.h; the own client here, libcurl in
 * test_http_keepalive_curl.c, which must behave the same. */
#include "http_stub.h"

static void get_and_wait(struct fx *f, const char *path, long timeout_ms, struct result *r)
{
    int before = r->calls;
    get(f, path, timeout_ms, r);
    run_until(f, &r->calls, before + 1, 5000);
}

static void assert_ok(const struct result *r, const char *body)
{
    assert_null(r->error);
    assert_int_equal(r->status, 200);
    assert_string_equal(buf_cstr(&r->body), body);
}

/* ===== Reuse =============================================================== */

static void test_sequential_requests_share_one_connection(void **state)
{
    struct fx *f = *state;
    struct result r = {0};
    for (int i = 0; i < 5; i++) {
        get_and_wait(f, "/hello", 0, &r);
        assert_ok(&r, "ok");
    }
    assert_int_equal(r.calls, 5);
    assert_int_equal(f->srv.requests, 5);
    assert_int_equal(f->srv.accepts, 1);
    result_free(&r);
}

static void test_chunked_response_is_put_together_and_the_connection_kept(void **state)
{
    struct fx *f = *state;
    struct result r = {0};
    get_and_wait(f, "/chunked", 0, &r);
    assert_ok(&r, "hello, chunked world");
    assert_int_equal(r.body.len, strlen("hello, chunked world"));
    get_and_wait(f, "/chunked", 0, &r);
    assert_ok(&r, "hello, chunked world");
    assert_int_equal(f->srv.accepts, 1);
    result_free(&r);
}

static void test_body_ended_by_closing_is_whole_and_the_next_request_reconnects(void **state)
{
    struct fx *f = *state;
    struct result r = {0};
    get_and_wait(f, "/eof-body", 0, &r);
    assert_ok(&r, "until the end");
    get_and_wait(f, "/hello", 0, &r);
    assert_ok(&r, "ok");
    assert_int_equal(f->srv.accepts, 2);
    result_free(&r);
}

static void test_http10_response_without_keep_alive_is_not_reused(void **state)
{
    struct fx *f = *state;
    struct result r = {0};
    get_and_wait(f, "/http10", 0, &r);
    assert_ok(&r, "ok");
    get_and_wait(f, "/hello", 0, &r);
    assert_ok(&r, "ok");
    assert_int_equal(f->srv.accepts, 2);
    result_free(&r);
}

static void test_100_continue_is_skipped_for_the_final_response(void **state)
{
    struct fx *f = *state;
    struct result r = {0};
    get_and_wait(f, "/continue", 0, &r);
    assert_ok(&r, "done");
    get_and_wait(f, "/hello", 0, &r);
    assert_ok(&r, "ok");
    assert_int_equal(f->srv.accepts, 1);
    result_free(&r);
}

/* ===== Hang-ups ============================================================ */

/* The second request goes on the kept connection, which the server closes
 * on reading it: sent once more on a new connection, it succeeds. */
static void test_kept_connection_closed_by_the_server_is_retried_on_a_new_one(void **state)
{
    struct fx *f = *state;
    struct result r = {0};
    get_and_wait(f, "/hello", 0, &r);
    assert_ok(&r, "ok");
    get_and_wait(f, "/hangup-reused", 0, &r);
    assert_int_equal(r.calls, 2);
    assert_ok(&r, "fresh");
    assert_int_equal(f->srv.requests, 3);
    assert_int_equal(f->srv.accepts, 2);
    result_free(&r);
}

/* On a new connection a hang-up is an error at once; on a kept one, the
 * one retry hangs up too, and that is the error: the callback runs once. */
static void test_server_hanging_up_without_answering_fails_the_request_once(void **state)
{
    struct fx *f = *state;
    struct result r = {0};
    get_and_wait(f, "/hangup", 0, &r);
    assert_non_null(r.error);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.body.len, 0);
    assert_int_equal(f->srv.requests, 1);
    assert_int_equal(f->srv.accepts, 1);

    get_and_wait(f, "/hello", 0, &r);
    assert_ok(&r, "ok");
    get_and_wait(f, "/hangup", 0, &r);
    assert_non_null(r.error);
    assert_int_equal(r.status, 0);
    assert_int_equal(f->srv.requests, 4);   /* the hang-up, once more on a new connection */
    assert_int_equal(f->srv.accepts, 3);
    get(f, "/hello", 0, &r);                /* nothing else fires meanwhile */
    run_until(f, &r.calls, 4, 5000);
    assert_int_equal(r.calls, 4);
    assert_ok(&r, "ok");
    result_free(&r);
}

/* ===== Hang-ups and a POST ================================================= */

static void post_and_wait(struct fx *f, const char *path, const char *body, struct result *r)
{
    struct http_client_request req = {.method = "POST", .url = fx_url(f, path), .body = body,
                                      .body_len = strlen(body)};
    int before = r->calls;
    assert_int_equal(http_client_request(f->client, &req, on_result, r), 0);
    run_until(f, &r->calls, before + 1, 5000);
    assert_int_equal(r->calls, before + 1);
}

/* A request's bytes are its own: a short POST after a long one (whose buffer
 * the next request may take over) sends only itself. */
static void test_short_post_after_a_long_one_sends_only_itself(void **state)
{
    struct fx *f = *state;
    struct result r = {0};
    char *big = xmalloc(8193);
    memset(big, 'a', 8192);
    big[8192] = '\0';
    post_and_wait(f, "/echo", big, &r);
    assert_ok(&r, big);
    post_and_wait(f, "/echo", "ngắn", &r);
    assert_ok(&r, "ngắn");
    get_and_wait(f, "/hello", 0, &r);
    assert_ok(&r, "ok");
    assert_string_equal(f->srv.method, "GET");
    assert_int_equal(f->srv.requests, 3);
    free(big);
    result_free(&r);
}

/* The server closes (reset: resets) the kept connection and the loop has
 * not read that yet when the next POST comes: the connection is found dead
 * before anything is written on it, and the POST goes once, on a new one. */
static void kept_connection_ended_unread(struct fx *f, bool reset)
{
    struct result r = {0};
    post_and_wait(f, "/echo", "one", &r);
    assert_ok(&r, "one");
    assert_non_null(f->srv.conns);
    stub_conn_end(f->srv.conns, reset);  /* closes the socket now; the client's loop sleeps */
    post_and_wait(f, "/echo", "two", &r);
    assert_ok(&r, "two");
    assert_int_equal(f->srv.requests, 2);
    assert_int_equal(f->srv.accepts, 2);
    result_free(&r);
}

static void test_post_after_the_server_closed_the_kept_connection_goes_once_on_a_new_one(void **state)
{
    kept_connection_ended_unread(*state, false);
}

static void test_post_after_the_server_reset_the_kept_connection_goes_once_on_a_new_one(void **state)
{
    kept_connection_ended_unread(*state, true);
}

/* The server answers and closes at once (no "Connection: close"): the FIN
 * arrives with the answer, and the loop reads only the answer in that turn.
 * A POST started from the answer's callback, in that very turn, must not go
 * on that connection (it would be cut off and, being a POST, not sent
 * again): the check before reuse sees the FIN, and the POST goes once, on a
 * new connection. */
struct post_in_callback {
    struct fx *f;
    struct result first, second;
};

static void on_answer_then_post(const struct http_client_response *res, void *ud)
{
    struct post_in_callback *pc = ud;
    record(&pc->first, res);
    struct http_client_request req = {.method = "POST", .url = fx_url(pc->f, "/echo"), .body = "two",
                                      .body_len = 3};
    assert_int_equal(http_client_request(pc->f->client, &req, on_result, &pc->second), 0);
}

static void test_post_from_the_callback_of_an_answer_the_server_closed_after_goes_on_a_new_one(void **state)
{
    struct fx *f = *state;
    struct post_in_callback pc = {.f = f};
    struct http_client_request req = {.method = "POST", .url = fx_url(f, "/drop"), .body = "one", .body_len = 3};
    assert_int_equal(http_client_request(f->client, &req, on_answer_then_post, &pc), 0);
    run_until(f, &pc.second.calls, 1, 5000);
    assert_ok(&pc.first, "ok");
    assert_int_equal(pc.second.calls, 1);
    assert_ok(&pc.second, "two");
    assert_int_equal(f->srv.requests, 2);
    assert_int_equal(f->srv.accepts, 2);
    result_free(&pc.first);
    result_free(&pc.second);
}

/* A POST on a kept connection that the server closes after reading it,
 * without a word: the server may have acted on it, so the own client does
 * not send it again (RFC 9110 9.2.2): the caller gets the error (dvcbot's
 * outbox then retries, counted). curl sends it again at once
 * (Curl_retry_request): https:// still behaves that way. */
static void test_post_the_server_hangs_up_on_after_reading_is_not_sent_again(void **state)
{
    struct fx *f = *state;
    struct result r = {0};
    post_and_wait(f, "/echo", "one", &r);
    assert_ok(&r, "one");
    post_and_wait(f, "/hangup-reused", "two", &r);
#ifdef HTTP_STUB_CURL
    assert_ok(&r, "fresh");
    assert_int_equal(f->srv.requests, 3);
#else
    assert_non_null(r.error);
    assert_string_equal(r.error, "Empty reply from server");
    assert_int_equal(r.status, 0);
    assert_int_equal(f->srv.requests, 2);
    assert_int_equal(f->srv.accepts, 1);
    post_and_wait(f, "/echo", "three", &r);  /* the next one on a new connection */
    assert_ok(&r, "three");
    assert_int_equal(f->srv.requests, 3);
    assert_int_equal(f->srv.accepts, 2);
#endif
    result_free(&r);
}

/* A response that stops halfway times out, and its connection is not used again. */
static void test_stalled_body_times_out_and_its_connection_is_dropped(void **state)
{
    struct fx *f = *state;
    struct result r = {0};
    get_and_wait(f, "/stall", 300, &r);
    assert_non_null(r.error);
    assert_non_null(strstr(r.error, "timed out"));
    assert_int_equal(r.status, 0);
    assert_int_equal(r.body.len, 0);
    get_and_wait(f, "/hello", 0, &r);
    assert_ok(&r, "ok");
    assert_int_equal(f->srv.accepts, 2);
    result_free(&r);
}

/* A listener with a backlog of 0 that never accepts: one connection fills
 * its queue, the kernel drops the SYNs of the next, whose connect hangs:
 * the request still ends at its timeout, its connection closed. */
static void test_connect_that_never_completes_times_out(void **state)
{
    struct fx *f = *state;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int filler = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(lfd >= 0 && filler >= 0);
    assert_int_equal(bind(lfd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(lfd, 0), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&addr, &len), 0);
    assert_int_equal(connect(filler, (struct sockaddr *)&addr, sizeof addr), 0);

    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", ntohs(addr.sin_port));
    struct http_client_request req = {.url = url, .timeout_ms = 300};
    struct result r = {0};
    assert_int_equal(http_client_request(f->client, &req, on_result, &r), 0);
    run_until(f, &r.calls, 1, 5000);
    assert_int_equal(r.calls, 1);
    assert_non_null(r.error);
    assert_non_null(strstr(r.error, "timed out"));
    assert_int_equal(r.status, 0);
    assert_true(r.total_ms >= 290);
    close(filler);
    close(lfd);
    result_free(&r);
}

#ifndef HTTP_STUB_CURL
/* ===== The own pool's idle limit (curl has its own, CURLOPT_MAXAGE_CONN) ====== */

#include "dvcbot/http_pool.h"

static void pool_get_ok(struct http_pool *p, struct fx *f, struct result *r)
{
    struct http_client_request req = {.url = fx_url(f, "/hello")};
    int before = r->calls;
    assert_int_equal(http_pool_request(p, &req, on_result, r), 0);
    run_until(f, &r->calls, before + 1, 5000);
    assert_ok(r, "ok");
}

static void on_tick(uv_timer_t *t)
{
    (*(int *)t->data)++;
}

/* After waiting longer than the limit, a new connection. (Reuse within the
 * limit is what the tests above show; asserting it here with a short limit
 * would race the loop's clock.) */
static void test_connection_idle_longer_than_the_limit_is_not_reused(void **state)
{
    struct fx *f = *state;
    struct http_pool *p = http_pool_new(&f->loop);
    struct result r = {0};
    uv_timer_t tick;
    int ticks = 0;
    http_pool_set_idle_max(p, 5);
    pool_get_ok(p, f, &r);
    assert_int_equal(f->srv.accepts, 1);
    assert_int_equal(uv_timer_init(&f->loop, &tick), 0);
    tick.data = &ticks;
    assert_int_equal(uv_timer_start(&tick, on_tick, 20, 0), 0);
    run_until(f, &ticks, 1, 5000);
    pool_get_ok(p, f, &r);
    assert_int_equal(f->srv.accepts, 2);
    assert_int_equal(f->srv.requests, 2);
    http_pool_close(p);
    uv_close((uv_handle_t *)&tick, NULL);
    fx_finish(f);  /* tick lives on this stack: the loop ends here */
    result_free(&r);
}
#endif

/* ===== Per-host cap ========================================================= */

/* The stub holds the first 16 requests unanswered: 16 connections at once.
 * The 17th must wait for one of them, not open a 17th. */
static void test_17_concurrent_requests_use_at_most_16_connections(void **state)
{
    struct fx *f = *state;
    enum { N = HTTP_CLIENT_MAX_HOST_CONNECTIONS + 1 };
    struct result r[N] = {{0}};
    int done = 0;
    f->srv.hold_release = HTTP_CLIENT_MAX_HOST_CONNECTIONS;
    for (int i = 0; i < N; i++) {
        r[i].done = &done;
        get(f, "/hold", 0, &r[i]);
    }
    assert_int_equal(http_client_pending(f->client), N);
    run_until(f, &done, N, 10000);
    for (int i = 0; i < N; i++) {
        assert_ok(&r[i], "held");
        result_free(&r[i]);
    }
    assert_int_equal(f->srv.requests, N);
    assert_int_equal(f->srv.accepts, HTTP_CLIENT_MAX_HOST_CONNECTIONS);
    assert_int_equal(http_client_pending(f->client), 0);
}

/* Requests waiting for a connection and requests on one are all cancelled,
 * each once, by close; a request started then is refused. */
static void test_close_cancels_waiting_and_active_requests_once(void **state)
{
    struct fx *f = *state;
    enum { N = HTTP_CLIENT_MAX_HOST_CONNECTIONS + 3 };
    struct result r[N] = {{0}};
    int done = 0;
    f->srv.hold_release = 1000;  /* never */
    for (int i = 0; i < N; i++) {
        r[i].done = &done;
        get(f, "/hold", 0, &r[i]);
    }
    run_until(f, &f->srv.n_held, HTTP_CLIENT_MAX_HOST_CONNECTIONS, 5000);
    http_client_close(f->client);
    f->client = NULL;
    assert_int_equal(done, N);
    fx_finish(f);
    for (int i = 0; i < N; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_string_equal(r[i].error, "cancelled");
        assert_int_equal(r[i].status, 0);
        result_free(&r[i]);
    }
}

/* A callback that, while the client is closing, tries to start a request. */
struct cancelled {
    struct result r;
    struct http_client *client;
    int refused;                 /* requests refused with ECLOSED from inside the callback */
};

static void on_cancelled_try_again(const struct http_client_response *res, void *ud)
{
    struct cancelled *c = ud;
    record(&c->r, res);
    struct http_client_request req = {.url = "http://127.0.0.1:9/again"};
    if (http_client_request(c->client, &req, on_result, &c->r) == HTTP_CLIENT_ECLOSED)
        c->refused++;
}

/* Requests in every state, on three hosts, when the client closes: active
 * (held by the server, one on a kept connection), on connections still
 * connecting (one to a port nobody listens on), and two waiting for a name
 * lookup ("localhost"). Each callback runs once, inside close, and a request
 * started from it is refused; nothing fires afterwards, every handle is
 * closed and every host and connection freed (the loop closes: fx_finish;
 * leaks: the valgrind and ASan runs of this test). */
static void test_close_cancels_requests_on_every_host_once_and_frees_everything(void **state)
{
    struct fx *f = *state;
    enum { HELD = 2, N = HELD + 4 };
    struct cancelled c[N];
    struct result idle = {0};
    char url[N][128];
    memset(c, 0, sizeof c);
    get_and_wait(f, "/hello", 0, &idle);  /* leaves a kept connection */
    assert_ok(&idle, "ok");
    f->srv.hold_release = 1000;  /* never */
    for (int i = 0; i < HELD; i++)
        snprintf(url[i], sizeof url[i], "http://127.0.0.1:%d/hold", f->srv.port);
    snprintf(url[HELD], sizeof url[HELD], "http://localhost:%d/hello", f->srv.port);
    snprintf(url[HELD + 1], sizeof url[HELD + 1], "http://localhost:%d/hello", f->srv.port);
    snprintf(url[HELD + 2], sizeof url[HELD + 2], "http://127.0.0.1:1/refused");
    snprintf(url[HELD + 3], sizeof url[HELD + 3], "http://127.0.0.1:%d/hold", f->srv.port);
    for (int i = 0; i < N; i++) {
        c[i].client = f->client;
        struct http_client_request req = {.url = url[i], .timeout_ms = 5000};
        assert_int_equal(http_client_request(f->client, &req, on_cancelled_try_again, &c[i]), 0);
        if (i == HELD - 1)
            run_until(f, &f->srv.n_held, HELD, 5000);  /* the first two are on the server */
    }
    assert_int_equal(http_client_pending(f->client), N);
    http_client_close(f->client);
    f->client = NULL;
    for (int i = 0; i < N; i++) {
        assert_int_equal(c[i].r.calls, 1);
        assert_string_equal(c[i].r.error, "cancelled");
        assert_int_equal(c[i].refused, 1);
    }
    fx_finish(f);  /* runs the loop dry: whatever was still open closes */
    for (int i = 0; i < N; i++) {
        assert_int_equal(c[i].r.calls, 1);
        result_free(&c[i].r);
    }
    assert_int_equal(idle.calls, 1);
    result_free(&idle);
}

int main(void)
{
#define T(test) cmocka_unit_test_setup_teardown(test, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_sequential_requests_share_one_connection),
        T(test_chunked_response_is_put_together_and_the_connection_kept),
        T(test_body_ended_by_closing_is_whole_and_the_next_request_reconnects),
        T(test_http10_response_without_keep_alive_is_not_reused),
        T(test_100_continue_is_skipped_for_the_final_response),
        T(test_kept_connection_closed_by_the_server_is_retried_on_a_new_one),
        T(test_server_hanging_up_without_answering_fails_the_request_once),
        T(test_short_post_after_a_long_one_sends_only_itself),
        T(test_post_after_the_server_closed_the_kept_connection_goes_once_on_a_new_one),
        T(test_post_after_the_server_reset_the_kept_connection_goes_once_on_a_new_one),
        T(test_post_the_server_hangs_up_on_after_reading_is_not_sent_again),
        T(test_post_from_the_callback_of_an_answer_the_server_closed_after_goes_on_a_new_one),
        T(test_stalled_body_times_out_and_its_connection_is_dropped),
        T(test_connect_that_never_completes_times_out),
#ifndef HTTP_STUB_CURL
        T(test_connection_idle_longer_than_the_limit_is_not_reused),
#endif
        T(test_17_concurrent_requests_use_at_most_16_connections),
        T(test_close_cancels_waiting_and_active_requests_once),
        T(test_close_cancels_requests_on_every_host_once_and_frees_everything),
    };
#undef T
    return stub_run_group("http keep-alive", tests);
}
