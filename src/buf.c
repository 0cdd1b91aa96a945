/* buf — growable NUL-terminated byte buffer. */
#include "dvcbot/buf.h"
#include "dvcbot/mem.h"
#include "dvcbot/strfmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

void buf_init(struct buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void buf_free(struct buf *b)
{
    free(b->data);
    buf_init(b);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void buf_reserve(struct buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : BUF_FIRST_CAP;
    while (cap < need)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void buf_append_grow(struct buf *b, const void *data, size_t len)
{
    buf_reserve(b, len);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void buf_put_udecimal(struct buf *b, unsigned long long v)
{
    char tmp[24];
    buf_append(b, tmp, str_udecimal(tmp, sizeof tmp, v));
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    char small[256];
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(small, sizeof small, fmt, copy);
    va_end(copy);
    if (n <= 0)
        return;
    if ((size_t)n < sizeof small) {
        buf_append(b, small, (size_t)n);
        return;
    }
    buf_reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

/* Bytes that cannot stand as they are: in a JSON string (control
 * characters, '"', '\\'), and in Telegram's parse_mode HTML (& < >). */
#define NEEDS_JSON 1u
#define NEEDS_HTML 2u
static unsigned needs_escape(unsigned char c)
{
    if (c < 0x20 || c == '"' || c == '\\')
        return NEEDS_JSON;
    return c == '&' || c == '<' || c == '>' ? NEEDS_HTML : 0;
}

/* The length of s's first run of bytes in none of the classes of mask:
 * sixteen bytes at a time where SSE2 is there (every x86-64), the text of a
 * reply being mostly such bytes. */
static size_t plain_span(const char *s, size_t len, unsigned mask)
{
    size_t i = 0;
#ifdef __SSE2__
    const __m128i ctl = _mm_set1_epi8(0x1f), quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i amp = _mm_set1_epi8('&'), angle = _mm_set1_epi8('>'), two = _mm_set1_epi8(2);
    for (; i + 16 <= len; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(_mm_max_epu8(v, ctl), ctl), /* v <= 0x1f */
                                   _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)));
        if (mask & NEEDS_HTML) /* '<' | 2 == '>' | 2 == '>' */
            hit = _mm_or_si128(hit, _mm_or_si128(_mm_cmpeq_epi8(v, amp),
                                                 _mm_cmpeq_epi8(_mm_or_si128(v, two), angle)));
        unsigned bits = (unsigned)_mm_movemask_epi8(hit);
        if (bits)
            return i + (size_t)__builtin_ctz(bits);
    }
#endif
    while (i < len && !(needs_escape((unsigned char)s[i]) & mask))
        i++;
    return i;
}

static void json_escape_byte(struct buf *b, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    switch (c) {
    case '"': buf_append(b, "\\\"", 2); break;
    case '\\': buf_append(b, "\\\\", 2); break;
    case '\n': buf_append(b, "\\n", 2); break;
    case '\r': buf_append(b, "\\r", 2); break;
    case '\t': buf_append(b, "\\t", 2); break;
    default: {
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        buf_append(b, esc, 6);
    }
    }
}

static void json_strn(struct buf *b, const char *s, size_t len, unsigned mask)
{
    buf_reserve(b, len + 2);
    buf_putc(b, '"');
    for (size_t i = 0;;) {
        size_t run = plain_span(s + i, len - i, mask);
        buf_append(b, s + i, run);
        i += run;
        if (i == len)
            break;
        unsigned char c = (unsigned char)s[i++];
        if (c == '&')
            buf_append(b, "&amp;", 5);
        else if (c == '<')
            buf_append(b, "&lt;", 4);
        else if (c == '>')
            buf_append(b, "&gt;", 4);
        else
            json_escape_byte(b, c);
    }
    buf_putc(b, '"');
}

void buf_json_strn(struct buf *b, const char *s, size_t len)
{
    json_strn(b, s, len, NEEDS_JSON);
}

void buf_json_html_strn(struct buf *b, const char *s, size_t len)
{
    json_strn(b, s, len, NEEDS_JSON | NEEDS_HTML);
}

void buf_json_str(struct buf *b, const char *s)
{
    buf_json_strn(b, s ? s : "", s ? strlen(s) : 0);
}

char *buf_steal(struct buf *b)
{
    char *p = b->data ? b->data : xstrdup("");
    buf_init(b);
    return p;
}

const char *buf_cstr(const struct buf *b)
{
    return b->data ? b->data : "";
}
