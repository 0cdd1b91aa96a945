/* admin_tokens — ADMIN_TOKENS entries "token[@commune]", checked and looked up. */
#include "dvcbot/admin_tokens.h"
#include "dvcbot/mem.h"

#include <stdlib.h>
#include <string.h>

struct entry_span {
    const char *tok, *commune;
    size_t tok_len, commune_len;
    bool scoped;
};

static void trim(const char **s, size_t *len)
{
    while (*len && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

/* Splits "token@commune" (already trimmed) into its parts. */
static void split_entry(const char *p, size_t len, struct entry_span *e)
{
    const char *at = memchr(p, '@', len);
    e->tok = p;
    e->tok_len = at ? (size_t)(at - p) : len;
    e->scoped = at != NULL;
    e->commune = at ? at + 1 : "";
    e->commune_len = at ? len - e->tok_len - 1 : 0;
    trim(&e->tok, &e->tok_len);
    trim(&e->commune, &e->commune_len);
}

/* Calls fn for every non-empty entry; stops at the first non-NULL answer. */
static const char *each_entry(const char *spec, const char *(*fn)(const struct entry_span *, void *),
                              void *ud)
{
    for (const char *p = spec ? spec : ""; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *s = p;
        trim(&s, &len);
        if (len) {
            struct entry_span e;
            split_entry(s, len, &e);
            const char *r = fn(&e, ud);
            if (r)
                return r;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return NULL;
}

static const char *check_entry(const struct entry_span *e, void *ud)
{
    size_t *n = ud;
    if (++*n > ADMIN_TOKENS_MAX)
        return "ADMIN_TOKENS: too many tokens (at most 64)";
    if (e->tok_len < ADMIN_TOKEN_MIN)
        return "ADMIN_TOKENS: a token is shorter than 16 characters and would never be accepted; "
               "use long random tokens (e.g. `openssl rand -hex 16`)";
    if (e->tok_len > ADMIN_TOKEN_MAX)
        return "ADMIN_TOKENS: a token is longer than 256 characters";
    for (size_t i = 0; i < e->tok_len; i++)
        if ((unsigned char)e->tok[i] <= ' ' || (unsigned char)e->tok[i] >= 0x7f)
            return "ADMIN_TOKENS: a token holds a space or a character that is not printable ASCII";
    if (e->scoped && e->commune_len == 0)
        return "ADMIN_TOKENS: 'token@commune' needs a commune name after '@'";
    if (e->commune_len > ADMIN_COMMUNE_MAX)
        return "ADMIN_TOKENS: a commune name after '@' is longer than 100 bytes";
    return NULL;
}

const char *admin_tokens_check(const char *spec)
{
    size_t n = 0;
    return each_entry(spec, check_entry, &n);
}

static const char *add_entry(const struct entry_span *e, void *ud)
{
    struct admin_tokens *t = ud;
    struct admin_token *k = &t->v[t->n++];
    k->token = xstrndup(e->tok, e->tok_len);
    k->commune = e->scoped ? xstrndup(e->commune, e->commune_len) : NULL;
    crypto_sha256_hex(k->token, e->tok_len, k->fp);
    return NULL;
}

int admin_tokens_parse(const char *spec, struct admin_tokens *out, const char **err)
{
    memset(out, 0, sizeof *out);
    *err = admin_tokens_check(spec);
    if (*err)
        return -1;
    each_entry(spec, add_entry, out);
    return 0;
}

void admin_tokens_free(struct admin_tokens *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].token);
        free(t->v[i].commune);
    }
    memset(t, 0, sizeof *t);
}

const struct admin_token *admin_tokens_find(const struct admin_tokens *t, const char *given,
                                            size_t len)
{
    const struct admin_token *hit = NULL;
    /* No early exit: the time taken says nothing about which token matched. */
    for (size_t i = 0; i < t->n; i++)
        if (crypto_secret_equal(given, len, t->v[i].token, strlen(t->v[i].token)))
            hit = &t->v[i];
    return hit;
}

const struct admin_token *admin_tokens_by_fp(const struct admin_tokens *t, const char *fp)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i].fp, fp) == 0)
            return &t->v[i];
    return NULL;
}
