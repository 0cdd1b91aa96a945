/* admin_tokens — the entries of ADMIN_TOKENS.
 *
 * ADMIN_TOKENS is a comma-separated list. An entry is a token (at least
 * ADMIN_TOKEN_MIN characters, no comma, no '@'), optionally followed by
 * "@<commune>": such a token is limited to that commune (the staff console
 * shows that commune's data only and broadcasts to it only; the bearer API,
 * which knows no scope, does not accept it). Spaces around entries, tokens
 * and communes are ignored; empty entries (a trailing comma) too.
 *
 * admin_tokens_check is what `dvcbot serve` runs at start, so a short token
 * is refused with a clear message instead of silently never matching.
 * admin_tokens_parse copies the entries into a struct admin_tokens, which
 * owns them (admin_tokens_free). Lookups compare every token in constant time. */
#ifndef DVCBOT_ADMIN_TOKENS_H
#define DVCBOT_ADMIN_TOKENS_H

#include "dvcbot/crypto.h"

#include <stdbool.h>
#include <stddef.h>

#define ADMIN_TOKEN_MIN 16
#define ADMIN_TOKEN_MAX 256
#define ADMIN_COMMUNE_MAX 100   /* bytes of the commune after '@' */
#define ADMIN_TOKENS_MAX 64

struct admin_token {
    char *token;
    char *commune;              /* NULL: the whole province */
    char fp[CRYPTO_SHA256_HEX]; /* SHA-256 of the token: names it in sessions */
};

struct admin_tokens {
    struct admin_token v[ADMIN_TOKENS_MAX];
    size_t n;
};

/* NULL when spec (may be NULL: no staff access) is acceptable, else a
 * message saying what is wrong (static string, never the token itself). */
const char *admin_tokens_check(const char *spec);

/* Fills out (zeroed first). Returns 0, or -1 with admin_tokens_check's
 * message in *err and nothing allocated. */
int admin_tokens_parse(const char *spec, struct admin_tokens *out, const char **err);
void admin_tokens_free(struct admin_tokens *t);

/* The entry whose token is given[0..len), or NULL. */
const struct admin_token *admin_tokens_find(const struct admin_tokens *t, const char *given,
                                            size_t len);
/* The entry with that fingerprint, or NULL (a token removed from ADMIN_TOKENS
 * ends the sessions it opened). */
const struct admin_token *admin_tokens_by_fp(const struct admin_tokens *t, const char *fp);

#endif
