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
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (cap == 0)
        return 0;
    size_t w = n < cap - 1 ? n : cap - 1;
    for (size_t i = 0; i < w; i++)
        out[i] = tmp[n - 1 - i];
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
