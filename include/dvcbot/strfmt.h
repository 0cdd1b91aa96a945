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

/* The decimal form of v. cap >= 21 always fits. */
size_t str_decimal(char *out, size_t cap, long long v);
size_t str_udecimal(char *out, size_t cap, unsigned long long v);
/* The concatenation of the n strings of parts (NULL ones are skipped). */
size_t str_concat(char *out, size_t cap, const char *const *parts, size_t n);
/* a[0..alen) then b[0..blen), cut as str_concat cuts: for parts already
 * measured (a key's prefix and a part shared by several keys). */
size_t str_concat2(char *out, size_t cap, const char *a, size_t alen, const char *b, size_t blen);
/* str_concat of the arguments (NULL ones skipped). */
#define STR_CAT(out, cap, ...) \
    str_concat((out), (cap), (const char *const[]){__VA_ARGS__}, \
               sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

#endif
