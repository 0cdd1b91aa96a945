/* normalize — fold Vietnamese text the way people type it, for matching.
 *
 * NFC, case fold, strip diacritics (đ → d), every run of characters that are
 * not letters or digits becomes one space, trimmed: "ĐĂNG KÝ  khai-sinh!" →
 * "dang ky khai sinh"; "hòa"/"hoà" and "thủy"/"thuỷ" fold to the same string.
 *
 * Folding is general, not Vietnamese-only: compatibility forms fold too
 * (full-width "ｄａｎｇ" → "dang"), other scripts keep their letters without
 * marks. Pure ASCII input takes a fast path that never calls utf8proc; the
 * code points of Vietnamese text (U+0080..U+036F, U+1E00..U+1EFF) are
 * folded from tables that the first non-ASCII line builds (once, under
 * pthread_once) with the same code that folds the others. The functions
 * are safe to call from any thread. */
#ifndef DVCBOT_NORMALIZE_H
#define DVCBOT_NORMALIZE_H

#include <stdbool.h>
#include <stddef.h>

/* Returned by norm_fold_into when the input is not valid UTF-8 or does not
 * fit in the output buffer. */
#define NORM_ERROR ((size_t)-1)

/* Returns a new string (caller frees) and its length in *out_len (may be
 * NULL), or NULL when the input is not valid UTF-8. */
char *norm_fold(const char *text, size_t len, size_t *out_len);

/* The same into a caller's buffer (no allocation): writes at most cap bytes
 * including the terminating NUL and returns the folded length, or NORM_ERROR
 * when the input is not valid UTF-8 or the result does not fit. */
size_t norm_fold_into(const char *text, size_t len, char *out, size_t cap);

/* norm_fold_into without the tables: every code point folded by utf8proc.
 * The same result byte for byte (tests compare the two). */
size_t norm_fold_reference(const char *text, size_t len, char *out, size_t cap);

/* The words of text that carry Vietnamese marks, each folded and followed
 * by its marks in the order they appear, as upper-case letters (Telex
 * style: S F R X J for the five tones, A circumflex, W breve, H horn, D for
 * đ), separated by one space, into out (cap bytes, NUL-terminated):
 * "Mua vàng, khai báo tạm vắng" → "vangF baoS tamJ vangWS". "hoà" and "hòa"
 * give the same word. Words without marks are left out. Returns the length,
 * or NORM_ERROR for invalid UTF-8 or when out is too small. */
size_t norm_marked_words(const char *text, size_t len, char *out, size_t cap);
/* norm_marked_words without the tables (tests compare the two). */
size_t norm_marked_words_reference(const char *text, size_t len, char *out, size_t cap);

/* Whether words (n bytes, one or more space-separated words) appear in text
 * (len bytes) as whole words: at its start or after a space, and at its end
 * or before one. Meant for folded text; false when n is 0. */
bool norm_has_words(const char *text, size_t len, const char *words, size_t n);

/* Whether a (an bytes) and b (bn bytes) are the same word typed the same:
 * they fold to the same text and carry the same marks ("Ạ" is "ạ", neither
 * is "a" or "à"). False for invalid UTF-8, empty or long words. */
bool norm_same_word(const char *a, size_t an, const char *b, size_t bn);

/* The next word of text (ASCII spaces and punctuation apart) from *at, up
 * to end: its start, its length in *n, *at moved past it; NULL at the end. */
const char *norm_next_word(const char **at, const char *end, size_t *n);

#endif
