/* test_http_proxy_env — which http:// requests a proxy from the environment
 * applies to, by curl's rules (http_proxy_env.h), and that http_client sends
 * those through libcurl to the proxy (the stub of http_stub.h, which then
 * sees the absolute URL a proxy gets) while the others go straight to their
 * host. */
#include "http_stub.h"

#include "dvcbot/http_proxy_env.h"

static const char *const proxy_vars[] = {"http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY",
                                         "no_proxy",   "NO_PROXY",   NULL};

static void env_clear(void)
{
    for (size_t i = 0; proxy_vars[i]; i++)
        assert_int_equal(unsetenv(proxy_vars[i]), 0);
}

static int env_teardown(void **state)
{
    (void)state;
    env_clear();
    return 0;
}

/* ===== no_proxy patterns ==================================================== */

struct exempt_case {
    const char *list, *host;
    bool exempt;
};

static void test_no_proxy_patterns_match_as_curl_matches_them(void **state)
{
    (void)state;
    static const struct exempt_case cases[] = {
        {"*", "api.telegram.org", true},
        {"example.com", "example.com", true},
        {"example.com", "api.example.com", true},       /* a domain covers its hosts */
        {"example.com", "notexample.com", false},       /* ... not names ending alike */
        {".example.com", "api.example.com", true},      /* a leading dot changes nothing */
        {".example.com", "example.com", true},
        {"Example.COM", "API.example.com", true},       /* any case */
        {"example.com.", "api.example.com.", true},     /* trailing dots ignored */
        {"api.example.com", "example.com", false},
        {"localhost, 127.0.0.1", "127.0.0.1", true},    /* commas, blanks around them */
        {"a.vn,,b.vn", "b.vn", true},
        {"10.0.0.0/8", "10.20.30.40", true},            /* IPv4 CIDR */
        {"10.0.0.0/8", "11.0.0.1", false},
        {"192.168.1.0/24", "192.168.1.77", true},
        {"192.168.1.0/24", "192.168.2.1", false},
        {"127.0.0.1", "127.0.0.2", false},
        {"192.168.1.0/33", "192.168.1.1", false},
        {"127.0.0.0/8x", "127.0.0.1", false},
        {"127.0.0.1", "localhost", false},              /* names are not looked up */
        {"localhost", "127.0.0.1", false},
        {"*, example.com", "other.org", false},         /* "*" only alone means every host */
        {"a.vn b.vn", "a.vn", true},
        {"a.vn b.vn", "b.vn", false},                   /* after blanks only: curl 8 stops */
        {"", "example.com", false},
        {NULL, "example.com", false},
        {"example.com", "", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (http_proxy_env_exempt(cases[i].list, cases[i].host) != cases[i].exempt)
            fail_msg("no_proxy \"%s\", host \"%s\": expected %s", cases[i].list ? cases[i].list : "(null)",
                     cases[i].host, cases[i].exempt ? "exempt" : "proxied");
}

/* ===== Reading the environment ============================================= */

static bool applies_with(const char *host)
{
    struct http_proxy_env e;
    http_proxy_env_read(&e);
    bool yes = http_proxy_env_applies(&e, host);
    http_proxy_env_free(&e);
    return yes;
}

static void test_variables_are_read_as_curl_reads_them(void **state)
{
    (void)state;
    env_clear();
    assert_false(applies_with("api.telegram.org"));
    assert_int_equal(setenv("HTTP_PROXY", "http://127.0.0.1:3128", 1), 0);
    assert_false(applies_with("api.telegram.org"));  /* curl never reads HTTP_PROXY ("httpoxy") */
    assert_int_equal(setenv("http_proxy", "", 1), 0);
    assert_false(applies_with("api.telegram.org"));  /* empty is unset */
    assert_int_equal(setenv("ALL_PROXY", "http://127.0.0.1:3128", 1), 0);
    assert_true(applies_with("api.telegram.org"));
    env_clear();
    assert_int_equal(setenv("all_proxy", "socks5://127.0.0.1:1080", 1), 0);
    assert_true(applies_with("api.telegram.org"));
    env_clear();
    assert_int_equal(setenv("http_proxy", "http://127.0.0.1:3128", 1), 0);
    assert_int_equal(setenv("NO_PROXY", "internal.vn", 1), 0);
    assert_false(applies_with("api.internal.vn"));
    assert_true(applies_with("api.telegram.org"));
    assert_int_equal(setenv("no_proxy", "other.vn", 1), 0);  /* no_proxy first: NO_PROXY unread */
    assert_true(applies_with("api.internal.vn"));
    assert_false(applies_with("other.vn"));
    assert_int_equal(setenv("no_proxy", "::1", 1), 0);
    assert_true(applies_with("::1"));  /* IPv6 literals: through curl, which decides */
    assert_int_equal(setenv("no_proxy", "*", 1), 0);
    assert_false(applies_with("::1"));
    assert_false(applies_with("api.telegram.org"));
}

/* ===== The client ========================================================== */

/* With http_proxy at the stub, a request to a name nobody can resolve
 * reaches the stub as a proxy request (absolute URL) and is answered; a
 * host in no_proxy is asked directly (origin-form path). */
static void test_client_sends_through_the_proxy_except_to_no_proxy_hosts(void **state)
{
    struct fx *f = *state;
    char proxy[64];
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", f->srv.port);
    env_clear();
    assert_int_equal(setenv("http_proxy", proxy, 1), 0);
    assert_int_equal(setenv("no_proxy", "localhost,127.0.0.1", 1), 0);
    struct http_client *client = http_client_new(&f->loop);  /* reads the environment */
    assert_non_null(client);
    http_client_close(f->client);
    f->client = client;

    struct result r = {0};
    struct http_client_request req = {.url = "http://api.proxied.invalid:8081/bot1/getMe"};
    assert_int_equal(http_client_request(f->client, &req, on_result, &r), 0);
    run_until(f, &r.calls, 1, 5000);
    assert_null(r.error);
    assert_int_equal(r.status, 200);
    assert_string_equal(buf_cstr(&f->srv.path), "http://api.proxied.invalid:8081/bot1/getMe");

    get(f, "/direct", 0, &r);
    run_until(f, &r.calls, 2, 5000);
    assert_null(r.error);
    assert_int_equal(r.status, 200);
    assert_string_equal(buf_cstr(&f->srv.path), "/direct");
    assert_int_equal(f->srv.requests, 2);
    result_free(&r);
    env_clear();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_no_proxy_patterns_match_as_curl_matches_them, env_teardown),
        cmocka_unit_test_teardown(test_variables_are_read_as_curl_reads_them, env_teardown),
        cmocka_unit_test_setup_teardown(test_client_sends_through_the_proxy_except_to_no_proxy_hosts, setup,
                                        teardown),
    };
    env_clear();
    return stub_run_group("http proxy from the environment", tests);
}
