/* vnspell — Vietnamese words as people type them on cheap phones.
 *
 * Works on folded words (lower case ASCII, no diacritics: see normalize.h).
 * Knows the set of valid Vietnamese syllables (intents/_syllables.json) and,
 * from that:
 *   - whether a word is a syllable ("tuan", "nuoi" are; "sinhh", "zalo" are not);
 *   - Telex or VNI marks left in the text when the keyboard was off:
 *     "chieeus" → "chieu", "cuwowcs" → "cuoc", "kys" → "ky", "ky1" → "ky";
 *   - glued text cut into pieces by dynamic programming: "dangkytamtru" →
 *     "dang ky tam tru" (pieces are syllables and the extra words the caller
 *     adds, e.g. "bhyt"; fewest pieces win, then the most frequent);
 *   - a spelling key that merges the initials northern speakers confuse
 *     (tr/ch, s/x, l/n, d/gi/r) and the spelling variants k/c, gh/g, ngh/ng,
 *     y/i: "tru" and "chu" share a key, so "tam chu" reads as "tam tru".
 *
 * Built once, then read-only: any number of threads may read it. */
#ifndef DVCBOT_VNSPELL_H
#define DVCBOT_VNSPELL_H

#include "dvcbot/wordmap.h"

#include <stdbool.h>
#include <stddef.h>

/* Longer words are never decoded or cut. */
#define VNSPELL_MAX_WORD 48
/* A cut yields at most this many pieces. */
#define VNSPELL_MAX_PIECES 16

struct vnspell {
    struct wordmap syllables; /* syllable → where its spelling key is in keys */
    char *keys;               /* every syllable's spelling key, one after another */
    size_t keys_len, keys_cap;
    struct wordmap extra;     /* extra piece → index in extra_cost */
    double *extra_cost;
    size_t n_extra, cap_extra;
};

void vnspell_init(struct vnspell *vs);
void vnspell_free(struct vnspell *vs);
void vnspell_add_syllable(struct vnspell *vs, const char *w, size_t n);
/* A word that may be a piece of glued text besides syllables, with its cost
 * (a syllable costs 1; lower is preferred). Adding again keeps the lower. */
void vnspell_add_piece(struct vnspell *vs, const char *w, size_t n, double cost);
size_t vnspell_syllable_count(const struct vnspell *vs);

bool vnspell_is_syllable(const struct vnspell *vs, const char *w, size_t n);

/* When w is not a syllable but becomes one once Telex/VNI marks are removed,
 * writes it into out (cap >= VNSPELL_MAX_WORD + 1) and returns its length;
 * else 0. */
size_t vnspell_untelex(const struct vnspell *vs, const char *w, size_t n, char *out, size_t cap);

/* One piece of a cut: [off, off+len) of the word; `telex` when the piece is
 * a syllable only once its marks are removed. */
struct vnspell_piece {
    unsigned char off, len;
    bool telex;
};

/* Cuts w into pieces (syllables, extra pieces, Telex-typed syllables), the
 * cheapest way. Returns the number of pieces (>= 2), or 0 when w cannot be
 * cut entirely or is a single piece. */
size_t vnspell_cut(const struct vnspell *vs, const char *w, size_t n,
                   struct vnspell_piece out[VNSPELL_MAX_PIECES]);

/* Writes the spelling key of a word (see above) into out (cap >= n + 2) and
 * returns its length; a word that is not a syllable is copied unchanged. */
size_t vnspell_key(const struct vnspell *vs, const char *w, size_t n, char *out, size_t cap);
/* vnspell_key computing the key from the word, as vnspell_key did before
 * keeping each syllable's key at vnspell_add_syllable (tests compare). */
size_t vnspell_key_reference(const struct vnspell *vs, const char *w, size_t n, char *out,
                             size_t cap);

#endif
