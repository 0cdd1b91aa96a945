/* buf: JSON string literals (buf_json_strn, buf_json_html_strn) against a
 * byte-at-a-time reference, every special byte at every position of texts
 * longer than the sixteen bytes looked at in one step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/buf.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static void reference(struct buf *out, const char *s, size_t len, bool html)
{
    buf_putc(out, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (html && c == '&')
            buf_puts(out, "&amp;");
        else if (html && c == '<')
            buf_puts(out, "&lt;");
        else if (html && c == '>')
            buf_puts(out, "&gt;");
        else if (c == '"' || c == '\\') {
            buf_putc(out, '\\');
            buf_putc(out, (char)c);
        } else if (c == '\n')
            buf_puts(out, "\\n");
        else if (c == '\r')
            buf_puts(out, "\\r");
        else if (c == '\t')
            buf_puts(out, "\\t");
        else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            buf_puts(out, esc);
        } else
            buf_putc(out, (char)c);
    }
    buf_putc(out, '"');
}

static void check(const char *s, size_t len)
{
    for (int html = 0; html < 2; html++) {
        struct buf got, want;
        buf_init(&got);
        buf_init(&want);
        buf_puts(&got, "x");
        buf_puts(&want, "x");
        if (html)
            buf_json_html_strn(&got, s, len);
        else
            buf_json_strn(&got, s, len);
        reference(&want, s, len, html);
        assert_int_equal(got.len, want.len);
        assert_memory_equal(got.data, want.data, want.len + 1);
        buf_free(&got);
        buf_free(&want);
    }
}

static void test_every_special_byte_at_every_position(void **state)
{
    (void)state;
    static const char base[] = "Thủ tục đăng ký khai sinh cho con: phí 0 đồng, nộp tại UBND xã";
    static const unsigned char specials[] = {'"', '\\', '&', '<', '>', '\n', '\r', '\t', 0x01, 0x1f,
                                             0x7f, 0x20, '=', '?', '=' | 2, 0xc3, 0xff};
    size_t n = sizeof base - 1;
    char text[sizeof base];
    for (size_t k = 0; k < sizeof specials; k++)
        for (size_t at = 0; at < n; at++) {
            memcpy(text, base, sizeof base);
            text[at] = (char)specials[k];
            check(text, n);       /* the special inside a 16-byte step or in the tail */
            check(text, at + 1);  /* and as the last byte */
        }
    check("", 0);
    check(base, n);
}

static void test_runs_of_specials_and_a_nul_inside_the_length(void **state)
{
    (void)state;
    const char s[] = "<<&&>>\"\"\\\\\n\n a\0b <b>Phí</b> & \"lệ phí\" 50.000đ > 0 </i>";
    check(s, sizeof s - 1);
    struct buf b;
    buf_init(&b);
    buf_json_html_strn(&b, "a < b & \"c\"", 11);
    assert_string_equal(buf_cstr(&b), "\"a &lt; b &amp; \\\"c\\\"\"");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_special_byte_at_every_position),
        cmocka_unit_test(test_runs_of_specials_and_a_nul_inside_the_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
