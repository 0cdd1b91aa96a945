/* strfmt — strings built on the hot path without printf.
 *
 * glibc's snprintf costs about a thousand instructions a call (format
 * parsing, a FILE set up per call, the fortify checks); a webhook's turn
 * made some thirty of them for Redis keys and numbers. These write into a
 * caller's buffer, always NUL-terminated, cutting what does not fit the way
 * snprintf does, and return the length written. */
#ifndef DVCBOT_STRFMT_H
#define DVCBOT_STRFMT_H

#include <stddef.h>
#include <string.h>

/* The decimal form of v. cap >= 21 always fits. */
size_t str_decimal(char *out, size_t cap, long long v);
size_t str_udecimal(char *out, size_t cap, unsigned long long v);
/* The concatenation of the n strings of parts (NULL ones are skipped). */
size_t str_concat(char *out, size_t cap, const char *const *parts, size_t n);
/* a[0..alen) then b[0..blen), cut as str_concat cuts: for parts already
 * measured (a key's prefix and a part shared by several keys). */
size_t str_concat2(char *out, size_t cap, const char *a, size_t alen, const char *b, size_t blen);

#define STR_CAT_INLINE_MAX 8
/* str_concat, inline for STR_CAT: a result that fits (the usual case) is
 * measured and copied here, where n and a string literal's length are known
 * when compiling (its strlen and memcpy become constants and moves); one
 * that would be cut goes to str_concat. The same result either way. */
static inline size_t str_concat_inline(char *out, size_t cap, const char *const *parts, size_t n)
{
    size_t lens[STR_CAT_INLINE_MAX], total = 0;
    if (n > STR_CAT_INLINE_MAX)
        return str_concat(out, cap, parts, n);
#pragma GCC unroll 8
    for (size_t i = 0; i < n; i++) {
        lens[i] = parts[i] ? strlen(parts[i]) : 0;
        total += lens[i];
    }
    if (total >= cap)
        return str_concat(out, cap, parts, n);
    char *p = out;
#pragma GCC unroll 8
    for (size_t i = 0; i < n; i++) {
        if (lens[i])
            memcpy(p, parts[i], lens[i]);
        p += lens[i];
    }
    *p = '\0';
    return (size_t)(p - out);
}

/* str_concat of the arguments (NULL ones skipped). */
#define STR_CAT(out, cap, ...) \
    str_concat_inline((out), (cap), (const char *const[]){__VA_ARGS__}, \
                      sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

#endif
