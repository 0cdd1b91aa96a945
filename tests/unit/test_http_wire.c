/* test_http_wire — http:// URLs taken apart and requests written out as the
 * own client sends them (http_wire.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/http_wire.h"

#include <stdlib.h>
#include <string.h>

static void test_url_parts_with_and_without_port(void **state)
{
    (void)state;
    struct http_wire_url u;
    assert_true(http_wire_url_split("http://127.0.0.1:8081/bot1:AB/sendMessage?x=1#frag", &u));
    assert_string_equal(u.host, "127.0.0.1");
    assert_string_equal(u.authority, "127.0.0.1:8081");
    assert_int_equal(u.port, 8081);
    assert_int_equal(u.target_len, strlen("/bot1:AB/sendMessage?x=1"));
    assert_memory_equal(u.target, "/bot1:AB/sendMessage?x=1", u.target_len);

    assert_true(http_wire_url_split("HTTP://Api.Example.VN", &u));
    assert_string_equal(u.host, "Api.Example.VN");
    assert_int_equal(u.port, 80);
    assert_int_equal(u.target_len, 0);

    assert_true(http_wire_url_split("http://[::1]:9000?q", &u));
    assert_string_equal(u.host, "::1");
    assert_string_equal(u.authority, "[::1]:9000");
    assert_int_equal(u.port, 9000);
    assert_memory_equal(u.target, "?q", 2);
}

static void test_urls_the_own_client_refuses(void **state)
{
    (void)state;
    struct http_wire_url u;
    static const char *const bad[] = {
        "https://example.vn/", "ftp://x/", "http://", "http:///path", "http://host:/x",
        "http://host:0/", "http://host:65536/", "http://host:80a/", "http://[::1/",
        "http://[::1]x/", "http://user:pw@host/", "http://host/a b", "http://host/a\r\nX: y",
        "http://host/\x7f", NULL,
    };
    for (size_t i = 0; bad[i]; i++)
        assert_false(http_wire_url_split(bad[i], &u));
    assert_false(http_wire_url_split(NULL, &u));
    assert_true(http_wire_url_is_plain("http://host/x@y"));
    assert_false(http_wire_url_is_plain("http://user@host/"));
    assert_false(http_wire_url_is_plain("https://host/"));
}

static char *built(const char *url, const char *const *headers, const char *body, size_t body_len)
{
    struct http_wire_url u;
    struct http_client_request req = {.url = url, .headers = headers, .body = body, .body_len = body_len};
    struct buf out;
    assert_true(http_wire_url_split(url, &u));
    buf_init(&out);
    http_wire_build(&out, &u, &req, body != NULL);
    return buf_steal(&out);
}

static void test_post_has_length_type_and_the_callers_lines(void **state)
{
    (void)state;
    static const char *const headers[] = {"Content-Type: application/json", "X-Test: 1", NULL};
    char *w = built("http://127.0.0.1:8081/bot1/sendMessage", headers, "{\"a\":1}", 7);
    assert_string_equal(w, "POST /bot1/sendMessage HTTP/1.1\r\n"
                           "Host: 127.0.0.1:8081\r\nUser-Agent: dvcbot\r\nAccept: */*\r\n"
                           "Content-Length: 7\r\n"
                           "Content-Type: application/json\r\nX-Test: 1\r\n\r\n{\"a\":1}");
    free(w);
}

static void test_get_has_no_length_and_an_empty_path_is_slash(void **state)
{
    (void)state;
    char *w = built("http://h?x=1", NULL, NULL, 0);
    assert_string_equal(w, "GET /?x=1 HTTP/1.1\r\nHost: h\r\nUser-Agent: dvcbot\r\nAccept: */*\r\n\r\n");
    free(w);
}

/* As with curl: the caller's Host/User-Agent/Content-Type replace ours,
 * "Name:" alone removes one, and a Content-Length of the caller's is ignored. */
static void test_caller_lines_replace_or_remove_the_defaults(void **state)
{
    (void)state;
    static const char *const headers[] = {"Host: other", "Accept:", "Content-Length: 99",
                                          "Content-Type: text/plain", NULL};
    char *w = built("http://h/p", headers, "", 0);
    assert_string_equal(w, "POST /p HTTP/1.1\r\nUser-Agent: dvcbot\r\nContent-Length: 0\r\n"
                           "Host: other\r\nContent-Type: text/plain\r\n\r\n");
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_parts_with_and_without_port),
        cmocka_unit_test(test_urls_the_own_client_refuses),
        cmocka_unit_test(test_post_has_length_type_and_the_callers_lines),
        cmocka_unit_test(test_get_has_no_length_and_an_empty_path_is_slash),
        cmocka_unit_test(test_caller_lines_replace_or_remove_the_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
