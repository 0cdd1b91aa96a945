/* normalize — fold Vietnamese text the way people type it, for matching.
 *
 * NFC, case fold, strip diacritics (đ → d), every run of characters that are
 * not letters or digits becomes one space, trimmed: "ĐĂNG KÝ  khai-sinh!" →
 * "dang ky khai sinh"; "hòa"/"hoà" and "thủy"/"thuỷ" fold to the same string. */
#ifndef DVCBOT_NORMALIZE_H
#define DVCBOT_NORMALIZE_H

#include <stddef.h>

/* Returns a new string (caller frees) and its length in *out_len (may be
 * NULL), or NULL when the input is not valid UTF-8. */
char *norm_fold(const char *text, size_t len, size_t *out_len);

#endif
