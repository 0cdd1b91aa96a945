/* rewrite — a typed line as the matcher reads it.
 *
 * A folded line (normalize.h) is rewritten word by word:
 *   1. an abbreviation becomes what it stands for ("dk" → "dang ky");
 *   2. a Vietnamese syllable, or a word the training lines use ("zalo",
 *      "vneid"), stays as it is: correct words are never "corrected";
 *   3. Telex/VNI leftovers are decoded ("chieeus" → "chieu");
 *   4. glued text is cut into syllables and known words ("dangkytamtru" →
 *      "dang ky tam tru", "giahanbhyt" → "gia han bao hiem y te");
 *   5. what is left and one edit away from a known word of the same first
 *      letter is corrected ("sinhh" → "sinh");
 *   6. anything else stays.
 * Known words are learned from the training lines (rewriter_learn), which
 * also gives their frequencies: the more frequent reading wins a tie.
 *
 * Built once (init, add_*, learn, finish), then read-only and shareable by
 * any number of threads. */
#ifndef DVCBOT_REWRITE_H
#define DVCBOT_REWRITE_H

#include "dvcbot/vnspell.h"
#include "dvcbot/wordmap.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REWRITE_MAX_TOKENS 512
/* Longest rewritten line in bytes (expansions make lines grow). */
#define REWRITE_TEXT_CAP (4096 * 2 + 64)
/* PCRE2's JIT may read past the subject's end: the text is followed by
 * this many zero bytes. */
#define REWRITE_TEXT_PAD 64

struct rewrite_span {
    uint16_t off, len;
};

/* A rewritten line: words separated by one space, and where each starts. */
struct rewrite_line {
    char text[REWRITE_TEXT_CAP + REWRITE_TEXT_PAD];
    size_t len;
    struct rewrite_span tok[REWRITE_MAX_TOKENS];
    size_t n;
};

struct rewrite_cands; /* one-deletion index for typo correction */

struct rewriter {
    struct vnspell spell;
    struct wordmap abbrev;     /* folded abbreviation → index in expansions */
    char **expansions;         /* folded, words separated by one space */
    size_t n_expansions;
    struct wordmap known;      /* words kept as they are → index in words, or -1 */
    char **words;              /* words a typo may be corrected to */
    unsigned *counts;          /* how often each appears in the training lines */
    size_t n_words, cap_words; /* cap_words: room in words and counts */
    struct wordmap deletes;    /* word or one-deletion variant → index in cands */
    struct rewrite_cands *cands;
    size_t n_cands, cap_cands;
    int typo_min_len;          /* shorter words are never corrected */
};

void rewriter_init(struct rewriter *rw, int typo_min_len);
void rewriter_free(struct rewriter *rw);

/* ===== Building ===== */
void rewriter_add_syllable(struct rewriter *rw, const char *w, size_t n);
/* key: one folded word; expansion: folded words. */
void rewriter_add_abbreviation(struct rewriter *rw, const char *key, size_t klen,
                               const char *expansion);
/* Folded words (space separated) never corrected. */
void rewriter_add_known(struct rewriter *rw, const char *words);
/* Words of a folded training line that are neither syllables, abbreviations,
 * Telex-typed syllables nor glued syllables ("zalo", "vneid") are kept as
 * they are from now on. Call for every line before rewriting any. */
void rewriter_learn_words(struct rewriter *rw, const char *folded);
/* Counts the words of a rewritten training line. */
void rewriter_learn(struct rewriter *rw, const struct rewrite_line *ln);
/* Call once every line is learned, before rewriting with correction. */
void rewriter_finish(struct rewriter *rw);

/* ===== Reading ===== */
/* Rewrites folded text (flen bytes) into ln; `correct` enables step 5. */
void rewriter_line(const struct rewriter *rw, const char *folded, size_t flen,
                   struct rewrite_line *ln, bool correct);
/* Whether w is a word of the training lines or a syllable. */
bool rewriter_knows(const struct rewriter *rw, const char *w, size_t n);

#endif
