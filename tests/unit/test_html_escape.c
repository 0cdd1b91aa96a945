/* html_escape: what the console pages and the payment return page put
 * around text that came from outside. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/html_escape.h"

static void test_markup_and_quotes_are_escaped_text_is_kept(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    html_escape(&b, "<script>alert('x')</script> & \"Mường Thanh\"\n");
    assert_string_equal(buf_cstr(&b),
                        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;Mường Thanh&quot;\n");
    buf_reset(&b);
    html_escape(&b, "");
    assert_string_equal(buf_cstr(&b), "");
    buf_free(&b);
}

static void test_lines_become_br(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    html_escape_lines(&b, "Đã nhận 30.000 đồng\n<b>Mã: DVC1</b>");
    assert_string_equal(buf_cstr(&b), "Đã nhận 30.000 đồng<br>&lt;b&gt;Mã: DVC1&lt;/b&gt;");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_markup_and_quotes_are_escaped_text_is_kept),
        cmocka_unit_test(test_lines_become_br),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
