/* matcher_augment — noisy copies of a training line, the slips people make
 * typing on a cheap phone: a letter dropped, doubled, swapped with the next
 * or replaced by a neighbouring key, two words typed as one, a word left
 * out. Training on what the rewriter (rewrite.h) makes of them teaches the
 * models the typos it cannot undo, whatever line they come in.
 *
 * Deterministic: the same line and variant give the same copy (the noise is
 * seeded by a hash of both), so a catalog always trains the same model.
 * Keeps no state; safe from any thread. */
#ifndef DVCBOT_MATCHER_AUGMENT_H
#define DVCBOT_MATCHER_AUGMENT_H

#include <stddef.h>

/* At most this many copies per line (the "augment" setting). */
#define MATCHER_MAX_AUGMENT 8

/* Writes copy number `variant` of a folded line (lower-case ASCII words
 * separated by one space) into out (cap bytes, NUL-terminated) and returns
 * its length; 0 when the copy would equal the line or does not fit. */
size_t matcher_augment_line(const char *folded, size_t len, unsigned variant, char *out,
                            size_t cap);

#endif
