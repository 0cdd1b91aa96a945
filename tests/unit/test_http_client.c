/* test_http_client — outbound HTTP against a stub server on 127.0.0.1
 * (http_stub.h): the contract of http_client.h. These tests run twice: here
 * for the own keep-alive client (http:// by default), and in
 * test_http_client_curl.c with http:// forced onto libcurl. */
#include "http_stub.h"

/* ===== Exchanges =========================================================== */

static void test_post_delivers_body_and_headers_and_returns_the_response(void **state)
{
    struct fx *f = *state;
    static const char body[] = "{\"text\":\"xin chào\"}\0after a NUL";
    static const char *const headers[] = {"Content-Type: application/json", "X-Test: chào 42", NULL};
    struct http_client_request req = {
        .method = "POST", .url = fx_url(f, "/echo?x=1"), .headers = headers,
        .body = body, .body_len = sizeof(body) - 1,
    };
    struct result r = {0};
    assert_int_equal(http_client_request(f->client, &req, on_result, &r), 0);
    assert_int_equal(http_client_pending(f->client), 1);
    run_until(f, &r.calls, 1, 5000);

    assert_string_equal(f->srv.method, "POST");
    assert_string_equal(buf_cstr(&f->srv.path), "/echo?x=1");
    assert_string_equal(buf_cstr(&f->srv.content_type), "application/json");
    assert_string_equal(buf_cstr(&f->srv.x_test), "chào 42");
    assert_int_equal(f->srv.body.len, sizeof(body) - 1);
    assert_memory_equal(f->srv.body.data, body, sizeof(body) - 1);

    assert_int_equal(r.calls, 1);
    assert_null(r.error);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.len, sizeof(body) - 1);
    assert_memory_equal(r.body.data, body, sizeof(body) - 1);
    assert_true(r.total_ms > 0);
    assert_int_equal(http_client_pending(f->client), 0);
    result_free(&r);
}

static void test_request_without_method_or_body_is_a_get(void **state)
{
    struct fx *f = *state;
    struct http_client_request req = {.url = fx_url(f, "/hello")};
    struct result r = {0};
    assert_int_equal(http_client_request(f->client, &req, on_result, &r), 0);
    run_until(f, &r.calls, 1, 5000);
    assert_string_equal(f->srv.method, "GET");
    assert_int_equal(f->srv.body.len, 0);
    assert_null(r.error);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body.data, "ok");
    result_free(&r);
}

static void test_error_statuses_are_delivered_as_status_not_error(void **state)
{
    struct fx *f = *state;
    static const long statuses[] = {503, 429, 404, 500};
    struct result r[4] = {{0}};
    int done = 0;
    for (int i = 0; i < 4; i++) {
        char path[32];
        snprintf(path, sizeof(path), "/status/%ld", statuses[i]);
        r[i].done = &done;
        get(f, path, 0, &r[i]);
    }
    run_until(f, &done, 4, 5000);
    for (int i = 0; i < 4; i++) {
        char text[32];
        snprintf(text, sizeof(text), "status %ld", statuses[i]);
        assert_int_equal(r[i].calls, 1);
        assert_null(r[i].error);
        assert_int_equal(r[i].status, statuses[i]);
        assert_string_equal(r[i].body.data, text);
        result_free(&r[i]);
    }
}

/* ===== Concurrency and keep-alive ========================================= */

#define MANY 200

static void test_200_concurrent_requests_complete_over_at_most_16_connections(void **state)
{
    struct fx *f = *state;
    struct result *r = xcalloc(MANY, sizeof(*r));
    int done = 0;
    for (int i = 0; i < MANY; i++) {
        char body[32];
        int n = snprintf(body, sizeof(body), "request %d", i);
        struct http_client_request req = {.url = fx_url(f, "/echo"), .body = body, .body_len = (size_t)n};
        r[i].done = &done;
        assert_int_equal(http_client_request(f->client, &req, on_result, &r[i]), 0);
    }
    assert_int_equal(http_client_pending(f->client), MANY);
    run_until(f, &done, MANY, 60000);
    for (int i = 0; i < MANY; i++) {
        char body[32];
        snprintf(body, sizeof(body), "request %d", i);
        assert_int_equal(r[i].calls, 1);
        assert_null(r[i].error);
        assert_int_equal(r[i].status, 200);
        assert_string_equal(r[i].body.data, body);
        result_free(&r[i]);
    }
    free(r);
    assert_int_equal(f->srv.requests, MANY);
    assert_in_range(f->srv.accepts, 1, HTTP_CLIENT_MAX_HOST_CONNECTIONS);
    assert_int_equal(http_client_pending(f->client), 0);
}

/* Each callback starts the next request: the chain runs inside callbacks. */
struct chain {
    struct fx *fx;
    const char *path;
    int left;
    int done;
    int failures;
};

static void on_chain_link(const struct http_client_response *res, void *ud)
{
    struct chain *ch = ud;
    ch->done++;
    if (res->error || res->status != 200)
        ch->failures++;
    if (--ch->left > 0) {
        struct http_client_request req = {.url = fx_url(ch->fx, ch->path)};
        assert_int_equal(http_client_request(ch->fx->client, &req, on_chain_link, ch), 0);
    }
}

static void run_chain(struct fx *f, struct chain *ch, const char *path, int n)
{
    *ch = (struct chain){.fx = f, .path = path, .left = n};
    struct http_client_request req = {.url = fx_url(f, path)};
    assert_int_equal(http_client_request(f->client, &req, on_chain_link, ch), 0);
    run_until(f, &ch->done, n, 20000);
}

static void test_sequential_requests_started_from_callbacks_reuse_one_connection(void **state)
{
    struct fx *f = *state;
    struct chain ch;
    run_chain(f, &ch, "/hello", 20);
    assert_int_equal(ch.failures, 0);
    assert_int_equal(f->srv.requests, 20);
    assert_int_equal(f->srv.accepts, 1);
}

/* Closed connections free their fds while the old poll handles are still
 * closing; curl's next sockets get the same numbers. */
static void test_server_closing_connections_does_not_break_later_requests(void **state)
{
    struct fx *f = *state;
    struct result r[40] = {{0}};
    int done = 0;
    for (int i = 0; i < 40; i++) {
        r[i].done = &done;
        get(f, "/close", 0, &r[i]);
    }
    run_until(f, &done, 40, 20000);
    for (int i = 0; i < 40; i++) {
        assert_null(r[i].error);
        assert_int_equal(r[i].status, 200);
        result_free(&r[i]);
    }
    assert_int_equal(f->srv.accepts, 40);

    struct chain ch;
    run_chain(f, &ch, "/drop", 10);
    assert_int_equal(ch.failures, 0);
    assert_int_equal(f->srv.requests, 50);
}

/* ===== Failures ============================================================ */

/* A host name is looked up by curl's resolver thread, whose socket pair
 * curl hands us to watch and then closes itself, before it says "remove".
 * When the lookup fails no connection takes that number back: the watcher
 * must go, or it would take the events of whatever socket of the loop gets
 * the number next (here those of a second client). */
static void test_a_failed_name_lookup_leaves_no_watcher_on_a_closed_socket(void **state)
{
    struct fx *f = *state;
    struct http_client *other = http_client_new(&f->loop);
    assert_non_null(other);
    for (int round = 0; round < 3; round++) {
        struct result bad = {0};
        snprintf(f->url, sizeof(f->url), "http://no-such-host.invalid:%d/hello", f->srv.port);
        struct http_client_request req = {.method = "GET", .url = f->url, .timeout_ms = 5000};
        assert_int_equal(http_client_request(f->client, &req, on_result, &bad), 0);
        run_until(f, &bad.calls, 1, 10000);
        assert_non_null(bad.error);
        result_free(&bad);

        struct result r[4] = {{0}};
        int done = 0;
        for (int i = 0; i < 4; i++) {
            r[i].done = &done;
            struct http_client_request ok = {.method = "GET", .url = fx_url(f, "/close"), .timeout_ms = 5000};
            assert_int_equal(http_client_request(other, &ok, on_result, &r[i]), 0);
        }
        run_until(f, &done, 4, 10000);
        for (int i = 0; i < 4; i++) {
            assert_null(r[i].error);
            assert_int_equal(r[i].status, 200);
            result_free(&r[i]);
        }
    }
    http_client_close(other);
    assert_int_equal(f->srv.requests, 12);
}

static void test_server_that_never_answers_fails_after_timeout_ms(void **state)
{
    struct fx *f = *state;
    struct result r = {0};
    uint64_t start = uv_hrtime();
    get(f, "/silent", 300, &r);
    run_until(f, &r.calls, 1, 5000);
    double elapsed_ms = (double)(uv_hrtime() - start) / 1e6;
    assert_int_equal(r.calls, 1);
    assert_non_null(r.error);
    assert_non_null(strstr(r.error, "timed out"));
    assert_int_equal(r.status, 0);
    assert_int_equal(r.body.len, 0);
    assert_true(r.total_ms >= 290 && r.total_ms < 3000);
    assert_true(elapsed_ms >= 290 && elapsed_ms < 3000);
    assert_int_equal(f->srv.requests, 1);
    result_free(&r);
}

static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(addr);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    close(fd);
    return ntohs(addr.sin_port);
}

static void test_connection_refused_is_an_error_that_names_the_host_not_the_url(void **state)
{
    struct fx *f = *state;
    char url[128];
    char logged[4096] = "";
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/bot123456:SECRET/sendMessage", closed_port());
    FILE *log = tmpfile();
    assert_non_null(log);
    log_setup(LOG_DEBUG, log);

    struct http_client_request req = {.url = url, .body = "{}", .body_len = 2};
    struct result r = {0};
    assert_int_equal(http_client_request(f->client, &req, on_result, &r), 0);
    run_until(f, &r.calls, 1, 5000);
    log_setup(LOG_INFO, stderr);
    rewind(log);
    size_t n = fread(logged, 1, sizeof(logged) - 1, log);
    logged[n] = '\0';
    fclose(log);

    assert_int_equal(r.calls, 1);
    assert_non_null(r.error);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(logged, "http request failed"));
    assert_non_null(strstr(logged, "127.0.0.1"));
    assert_null(strstr(logged, "SECRET"));
    assert_null(strstr(r.error, "SECRET"));
    result_free(&r);
}

static void test_response_over_the_body_cap_fails_the_request(void **state)
{
    struct fx *f = *state;
    struct result with_length = {0}, streamed = {0};
    int done = 0;
    with_length.done = streamed.done = &done;
    get(f, "/big", 0, &with_length);
    get(f, "/big-stream", 0, &streamed);
    run_until(f, &done, 2, 20000);
    assert_string_equal(with_length.error, "response body too large");
    assert_string_equal(streamed.error, "response body too large");
    assert_int_equal(with_length.status, 0);
    assert_int_equal(streamed.body.len, 0);
    result_free(&with_length);
    result_free(&streamed);
}

static void on_never(const struct http_client_response *res, void *ud)
{
    (void)res;
    (void)ud;
    fail_msg("callback of a refused request");
}

static void test_invalid_requests_are_refused_without_callback(void **state)
{
    struct fx *f = *state;
    static const char *const crlf[] = {"X-Test: a\r\nX-Injected: b", NULL};
    const char *url = fx_url(f, "/");
    const struct http_client_request bad[] = {
        {.url = NULL},
        {.url = "not a url"},
        {.url = "file:///etc/passwd"},
        {.url = "ftp://127.0.0.1/x"},
        {.url = url, .headers = crlf},
        {.url = url, .method = "PUT"},
        {.url = url, .method = "GET", .body = "x", .body_len = 1},
        {.url = url, .body = NULL, .body_len = 5},
        {.url = url, .timeout_ms = -1},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(http_client_request(f->client, &bad[i], on_never, NULL), HTTP_CLIENT_EINVAL);
    assert_int_equal(http_client_request(f->client, NULL, on_never, NULL), HTTP_CLIENT_EINVAL);
    struct http_client_request ok = {.url = url};
    assert_int_equal(http_client_request(f->client, &ok, NULL, NULL), HTTP_CLIENT_EINVAL);
    assert_int_equal(http_client_pending(f->client), 0);
    assert_true(uv_run(&f->loop, UV_RUN_NOWAIT) != 0);  /* the stub still listens */
    assert_int_equal(f->srv.accepts, 0);
}

/* ===== Closing ============================================================= */

struct cancel_probe {
    struct result res;
    struct http_client *client;
    int retry_rc;            /* a request started from the cancel callback */
};

static void on_cancel_probe(const struct http_client_response *res, void *ud)
{
    struct cancel_probe *p = ud;
    record(&p->res, res);
    struct http_client_request req = {.url = "http://127.0.0.1:1/"};
    p->retry_rc = http_client_request(p->client, &req, on_never, NULL);
    http_client_close(p->client);  /* already closing: nothing happens */
}

static void test_close_cancels_in_flight_requests_once_inside_close(void **state)
{
    struct fx *f = *state;
    enum { N = HTTP_CLIENT_MAX_HOST_CONNECTIONS + 4 };  /* some still wait for a connection */
    struct cancel_probe p[N];
    memset(p, 0, sizeof(p));
    for (int i = 0; i < N; i++) {
        struct http_client_request req = {.url = fx_url(f, "/silent")};
        p[i].client = f->client;
        assert_int_equal(http_client_request(f->client, &req, on_cancel_probe, &p[i]), 0);
    }
    run_until(f, &f->srv.requests, HTTP_CLIENT_MAX_HOST_CONNECTIONS, 5000);
    assert_int_equal(http_client_pending(f->client), N);

    http_client_close(f->client);
    f->client = NULL;
    for (int i = 0; i < N; i++) {
        assert_int_equal(p[i].res.calls, 1);
        assert_string_equal(p[i].res.error, "cancelled");
        assert_int_equal(p[i].res.status, 0);
        assert_int_equal(p[i].retry_rc, HTTP_CLIENT_ECLOSED);
    }
    fx_finish(f);  /* runs the loop to its end: nothing may fire any more */
    for (int i = 0; i < N; i++) {
        assert_int_equal(p[i].res.calls, 1);
        result_free(&p[i].res);
    }
}

struct closer {
    struct fx *fx;
    struct result res;
    int *done;
};

/* The first callback closes the client: the others are cancelled inside it. */
static void on_close_from_callback(const struct http_client_response *res, void *ud)
{
    struct closer *c = ud;
    record(&c->res, res);
    (*c->done)++;
    if (c->fx->client) {
        http_client_close(c->fx->client);
        c->fx->client = NULL;
    }
}

static void test_closing_from_a_callback_cancels_the_others_once(void **state)
{
    struct fx *f = *state;
    struct closer c[10];
    int done = 0;
    memset(c, 0, sizeof(c));
    for (int i = 0; i < 10; i++) {
        struct http_client_request req = {.url = fx_url(f, i == 9 ? "/silent" : "/hello")};
        c[i].fx = f;
        c[i].done = &done;
        assert_int_equal(http_client_request(f->client, &req, on_close_from_callback, &c[i]), 0);
    }
    run_until(f, &done, 10, 5000);
    assert_null(f->client);
    fx_finish(f);
    int ok = 0, cancelled = 0;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(c[i].res.calls, 1);
        if (!c[i].res.error && c[i].res.status == 200)
            ok++;
        else if (c[i].res.error && strcmp(c[i].res.error, "cancelled") == 0 && c[i].res.status == 0)
            cancelled++;
        result_free(&c[i].res);
    }
    assert_int_equal(ok, 1);
    assert_int_equal(cancelled, 9);
}

static void test_close_of_an_idle_client_frees_it_with_the_loop(void **state)
{
    struct fx *f = *state;
    struct result r = {0};
    get(f, "/hello", 0, &r);
    run_until(f, &r.calls, 1, 5000);
    assert_null(r.error);
    http_client_close(f->client);
    f->client = NULL;
    fx_finish(f);
    assert_int_equal(r.calls, 1);
    result_free(&r);
}

int main(void)
{
#define T(test) cmocka_unit_test_setup_teardown(test, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_post_delivers_body_and_headers_and_returns_the_response),
        T(test_request_without_method_or_body_is_a_get),
        T(test_error_statuses_are_delivered_as_status_not_error),
        T(test_200_concurrent_requests_complete_over_at_most_16_connections),
        T(test_sequential_requests_started_from_callbacks_reuse_one_connection),
        T(test_server_closing_connections_does_not_break_later_requests),
        T(test_a_failed_name_lookup_leaves_no_watcher_on_a_closed_socket),
        T(test_server_that_never_answers_fails_after_timeout_ms),
        T(test_connection_refused_is_an_error_that_names_the_host_not_the_url),
        T(test_response_over_the_body_cap_fails_the_request),
        T(test_invalid_requests_are_refused_without_callback),
        T(test_close_cancels_in_flight_requests_once_inside_close),
        T(test_closing_from_a_callback_cancels_the_others_once),
        T(test_close_of_an_idle_client_frees_it_with_the_loop),
    };
#undef T
    return stub_run_group("http_client", tests);
}
