/* strfmt — strings built on the hot path without printf. */
#include "dvcbot/strfmt.h"

#include <string.h>

size_t str_udecimal(char *out, size_t cap, unsigned long long v)
{
    /* Most numbers written are RESP lengths of one or two digits (some
     * fifty per message): those skip the loop and the reversal. */
    if (v < 100 && cap > 2) {
        size_t n = v < 10 ? 1 : 2;
        if (n == 2)
            *out++ = (char)('0' + v / 10);
        out[0] = (char)('0' + v % 10);
        out[1] = '\0';
        return n;
    }
    /* Longer ones (ids, timestamps of 10-16 digits): two digits a step,
     * written from the end, one division by 100 per step. */
    static const char pairs[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                   "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                   "8081828384858687888990919293949596979899";
    char tmp[24];
    char *end = tmp + sizeof tmp, *p = end;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        p -= 2;
        memcpy(p, pairs + 2 * r, 2);
    }
    if (v >= 10) {
        p -= 2;
        memcpy(p, pairs + 2 * v, 2);
    } else {
        *--p = (char)('0' + v);
    }
    size_t n = (size_t)(end - p);
    if (cap == 0)
        return 0;
    size_t w = n < cap - 1 ? n : cap - 1;
    memcpy(out, p, w);
    out[w] = '\0';
    return w;
}

size_t str_decimal(char *out, size_t cap, long long v)
{
    if (v >= 0)
        return str_udecimal(out, cap, (unsigned long long)v);
    if (cap < 2) {
        if (cap)
            out[0] = '\0';
        return 0;
    }
    out[0] = '-';
    /* -(v + 1) + 1: no overflow at LLONG_MIN */
    return 1 + str_udecimal(out + 1, cap - 1, (unsigned long long)(-(v + 1)) + 1);
}

size_t str_concat(char *out, size_t cap, const char *const *parts, size_t n)
{
    if (cap == 0)
        return 0;
    size_t len = 0;
    for (size_t i = 0; i < n && len < cap - 1; i++) {
        if (!parts[i])
            continue;
        size_t k = strlen(parts[i]);
        if (k > cap - 1 - len)
            k = cap - 1 - len;
        memcpy(out + len, parts[i], k);
        len += k;
    }
    out[len] = '\0';
    return len;
}

size_t str_concat2(char *out, size_t cap, const char *a, size_t alen, const char *b, size_t blen)
{
    if (cap == 0)
        return 0;
    size_t n = alen < cap - 1 ? alen : cap - 1;
    memcpy(out, a, n);
    size_t k = blen < cap - 1 - n ? blen : cap - 1 - n;
    memcpy(out + n, b, k);
    out[n + k] = '\0';
    return n + k;
}
