/* matcher_needs — what a line must contain for a pattern to match: a few
 * literal strings, read from the pattern's own text when the model is
 * built, so that a line lacking them skips the PCRE2 match (match.patterns
 * and match.claims are tried on every line; most lines have none of their
 * words).
 *
 * The reading is conservative. It understands the PCRE2 syntax the
 * catalog's patterns use (literals, groups, alternatives, lookarounds,
 * classes, quantifiers, \b \w \d \s and escaped punctuation); on anything
 * else it requires nothing, and the pattern is always tried. A line the
 * pattern matches always meets its needs (tests/unit/test_matcher.c tries
 * every catalog pattern on every test line): the prefilter changes the
 * cost of a reply, never the reply.
 *
 * A struct matcher_needs owns its strings; matcher_needs_free frees them.
 * Read-only once built; safe from any thread. */
#ifndef DVCBOT_MATCHER_NEEDS_H
#define DVCBOT_MATCHER_NEEDS_H

#include <stdbool.h>
#include <stddef.h>

/* Clauses kept per pattern (the most selective ones). */
#define MATCHER_NEEDS_MAX 4

/* One clause: the line has at least one of these strings. */
struct matcher_clause {
    char **lit;
    size_t *len;
    size_t n;
};

/* Every clause must hold; n == 0: nothing is required (always tried). */
struct matcher_needs {
    struct matcher_clause clause[MATCHER_NEEDS_MAX];
    size_t n;
};

/* What a line needs for re (a pattern as written in intents/, without the
 * \b(?: )\b the matcher wraps it in, which needs nothing more) to match. */
void matcher_needs_read(const char *re, struct matcher_needs *out);
/* False when text (len bytes) cannot match: a clause has none of its
 * strings in it. */
bool matcher_needs_met(const struct matcher_needs *nd, const char *text, size_t len);
void matcher_needs_free(struct matcher_needs *nd);

#endif
