/* matcher_needs — the literal strings a line needs for a pattern to match
 * (a prefilter read from the pattern's text; see matcher_needs.h). */
#include "dvcbot/matcher_needs.h"
#include "dvcbot/buf.h"
#include "dvcbot/mem.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ===== What a piece of pattern requires ===== */

/* The line has one of these strings. */
struct any {
    char **s;
    size_t n;
};

/* A piece of pattern: either it matches exactly `lit` (exact), or the
 * line has, for every clause, one of the clause's strings. */
struct node {
    bool exact;
    struct buf lit;
    struct any *all;
    size_t n_all;
};

static void node_init(struct node *n, bool exact)
{
    memset(n, 0, sizeof *n);
    buf_init(&n->lit);
    n->exact = exact;
}

static void any_free(struct any *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->s[i]);
    free(a->s);
    a->s = NULL;
    a->n = 0;
}

static void node_free(struct node *n)
{
    buf_free(&n->lit);
    for (size_t i = 0; i < n->n_all; i++)
        any_free(&n->all[i]);
    free(n->all);
    node_init(n, false);
}

static void any_add(struct any *a, const char *s, size_t len)
{
    a->s = xrealloc(a->s, (a->n + 1) * sizeof *a->s);
    a->s[a->n++] = xstrndup(s, len);
}

/* Moves a (its strings) into n's clauses. */
static void node_require(struct node *n, struct any *a)
{
    n->all = xrealloc(n->all, (n->n_all + 1) * sizeof *n->all);
    n->all[n->n_all++] = *a;
    *a = (struct any){0};
}

static void require_lit(struct node *n, const char *s, size_t len)
{
    if (!len)
        return; /* the empty string is in every line */
    struct any a = {0};
    any_add(&a, s, len);
    node_require(n, &a);
}

/* An exact node as a requirement: its string. */
static void node_loosen(struct node *n)
{
    if (!n->exact)
        return;
    n->exact = false;
    require_lit(n, n->lit.data, n->lit.len);
    buf_reset(&n->lit);
}

static size_t shortest(const struct any *a)
{
    size_t m = (size_t)-1;
    for (size_t i = 0; i < a->n; i++)
        if (strlen(a->s[i]) < m)
            m = strlen(a->s[i]);
    return m;
}

/* a is the more selective clause: longer strings, then fewer of them. */
static bool better(const struct any *a, const struct any *b)
{
    size_t la = shortest(a), lb = shortest(b);
    return la > lb || (la == lb && a->n < b->n);
}

/* Moves n's most selective clause into *out; false when n has none. */
static bool take_best(struct node *n, struct any *out)
{
    if (!n->n_all)
        return false;
    size_t best = 0;
    for (size_t i = 1; i < n->n_all; i++)
        if (better(&n->all[i], &n->all[best]))
            best = i;
    *out = n->all[best];
    n->all[best] = n->all[--n->n_all];
    return true;
}

/* ===== Reading the pattern ===== */

struct parser {
    const char *p;
    bool bad; /* syntax this reading does not know: require nothing */
};

static void parse_alt(struct parser *ps, struct node *out);

/* p at '['; past the class's ']'. */
static void skip_class(struct parser *ps)
{
    const char *q = ps->p + 1;
    if (*q == '^')
        q++;
    if (*q == ']')
        q++; /* a ']' first is a member */
    while (*q && *q != ']') {
        if (*q == '\\') {
            if (!q[1])
                break;
            q += 2;
        } else if (q[0] == '[' && q[1] == ':') {
            const char *e = strstr(q + 2, ":]");
            if (!e)
                break;
            q = e + 2;
        } else {
            q++;
        }
    }
    if (*q != ']') {
        ps->bad = true;
        return;
    }
    ps->p = q + 1;
}

static void parse_atom(struct parser *ps, struct node *out)
{
    unsigned char c = (unsigned char)*ps->p;
    node_init(out, false);
    if (c == '(') {
        bool look = false;
        if (ps->p[1] != '?') {
            ps->p += 1;
        } else if (ps->p[2] == ':') {
            ps->p += 3;
        } else if (ps->p[2] == '=' || ps->p[2] == '!') {
            ps->p += 3;
            look = true;
        } else if (ps->p[2] == '<' && (ps->p[3] == '=' || ps->p[3] == '!')) {
            ps->p += 4;
            look = true;
        } else {
            ps->bad = true; /* named groups, options, verbs... */
            return;
        }
        parse_alt(ps, out);
        if (ps->bad || *ps->p != ')') {
            ps->bad = true;
            return;
        }
        ps->p++;
        if (look)
            node_free(out); /* asserts, consumes nothing: no string of its own */
        return;
    }
    if (c == '[') {
        skip_class(ps);
        return;
    }
    if (c == '.' || c == '^' || c == '$') {
        ps->p++;
        return;
    }
    if (c == '\\') {
        unsigned char d = (unsigned char)ps->p[1];
        if (d && strchr("bBwWdDsS", d)) {
            ps->p += 2;
            return;
        }
        if (d && d < 0x80 && (ispunct(d) || d == ' ')) {
            out->exact = true;
            buf_putc(&out->lit, (char)d);
            ps->p += 2;
            return;
        }
        ps->bad = true; /* \x.., \p.., back references, \Q...\E... */
        return;
    }
    if (c < 0x20 || c >= 0x80 || strchr("*+?{}])|", c)) {
        ps->bad = true;
        return;
    }
    out->exact = true;
    buf_putc(&out->lit, (char)c);
    ps->p++;
}

/* A quantifier after an atom: *has, and the least number of repeats. */
static void parse_quantifier(struct parser *ps, bool *has, unsigned long *min)
{
    const char *p = ps->p;
    *has = true;
    if (*p == '*' || *p == '?') {
        *min = 0;
        p++;
    } else if (*p == '+') {
        *min = 1;
        p++;
    } else if (*p == '{') {
        if (!isdigit((unsigned char)p[1])) {
            ps->bad = true; /* "{,n}" or a literal brace: read differently by versions */
            return;
        }
        char *end;
        *min = strtoul(p + 1, &end, 10);
        if (*end == ',') {
            end++;
            while (isdigit((unsigned char)*end))
                end++;
        }
        if (*end != '}') {
            ps->bad = true;
            return;
        }
        p = end + 1;
    } else {
        *has = false;
        return;
    }
    if (*p == '?' || *p == '+')
        p++; /* lazy, possessive: the same repeats */
    if (*p && strchr("*+?{", *p))
        ps->bad = true;
    ps->p = p;
}

static void parse_piece(struct parser *ps, struct node *out)
{
    parse_atom(ps, out);
    if (ps->bad)
        return;
    bool has;
    unsigned long min = 1;
    parse_quantifier(ps, &has, &min);
    if (ps->bad || !has)
        return;
    if (min == 0)
        node_free(out); /* may be absent: requires nothing */
    else
        node_loosen(out); /* "a+" needs "a", is no longer exactly "a" */
}

/* Pieces one after another: neighbouring exact pieces make one string;
 * every piece's clauses are required. */
static void parse_branch(struct parser *ps, struct node *out)
{
    struct buf run;
    bool exact = true;
    buf_init(&run);
    node_init(out, false);
    while (!ps->bad && *ps->p && *ps->p != '|' && *ps->p != ')') {
        struct node piece;
        parse_piece(ps, &piece);
        if (piece.exact) {
            buf_append(&run, piece.lit.data, piece.lit.len);
        } else {
            exact = false;
            require_lit(out, run.data, run.len);
            buf_reset(&run);
            for (size_t i = 0; i < piece.n_all; i++)
                node_require(out, &piece.all[i]);
        }
        node_free(&piece);
    }
    if (exact) {
        out->exact = true;
        buf_append(&out->lit, run.data, run.len);
    } else {
        require_lit(out, run.data, run.len);
    }
    buf_free(&run);
}

/* Alternatives: the line has one of them, so one of the strings of each
 * one's best clause; nothing when an alternative requires nothing. */
static void parse_alt(struct parser *ps, struct node *out)
{
    parse_branch(ps, out);
    if (ps->bad || *ps->p != '|')
        return;
    struct any either = {0};
    bool open = false;
    struct node b = *out;
    node_init(out, false);
    for (;;) {
        struct any best;
        node_loosen(&b);
        if (take_best(&b, &best)) {
            for (size_t i = 0; i < best.n; i++)
                any_add(&either, best.s[i], strlen(best.s[i]));
            any_free(&best);
        } else {
            open = true;
        }
        node_free(&b);
        if (ps->bad || *ps->p != '|')
            break;
        ps->p++;
        parse_branch(ps, &b);
    }
    if (!open && !ps->bad)
        node_require(out, &either);
    any_free(&either);
}

/* ===== The needs ===== */

/* Drops a string that contains another of the clause's: finding the
 * shorter one is enough. */
static void drop_redundant(struct any *a)
{
    bool *covered = xcalloc(a->n ? a->n : 1, sizeof *covered);
    for (size_t i = 0; i < a->n; i++) {
        size_t li = strlen(a->s[i]);
        for (size_t j = 0; j < a->n && !covered[i]; j++) {
            size_t lj = strlen(a->s[j]);
            covered[i] = j != i && (lj < li || (lj == li && j < i)) && strstr(a->s[i], a->s[j]);
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < a->n; i++) {
        if (covered[i])
            free(a->s[i]);
        else
            a->s[k++] = a->s[i];
    }
    a->n = k;
    free(covered);
}

void matcher_needs_read(const char *re, struct matcher_needs *out)
{
    struct parser ps = {re, false};
    struct node top;
    memset(out, 0, sizeof *out);
    parse_alt(&ps, &top);
    if (ps.bad || *ps.p) {
        node_free(&top);
        return; /* unknown syntax or a stray ')': always tried */
    }
    node_loosen(&top);
    struct any best;
    while (out->n < MATCHER_NEEDS_MAX && take_best(&top, &best)) {
        drop_redundant(&best);
        struct matcher_clause *c = &out->clause[out->n++];
        c->lit = best.s;
        c->n = best.n;
        c->len = xmalloc((best.n ? best.n : 1) * sizeof *c->len);
        for (size_t i = 0; i < best.n; i++)
            c->len[i] = strlen(best.s[i]);
    }
    node_free(&top);
}

/* s (k bytes, k >= 1) somewhere in t (n bytes). glibc's memmem prepares
 * a table per call, which costs more than these short lines. */
static bool contains(const char *t, size_t n, const char *s, size_t k)
{
    if (k > n)
        return false;
    const char *p = t, *last = t + (n - k);
    while (p <= last && (p = memchr(p, s[0], (size_t)(last - p) + 1)) != NULL) {
        if (memcmp(p, s, k) == 0)
            return true;
        p++;
    }
    return false;
}

bool matcher_needs_met(const struct matcher_needs *nd, const char *text, size_t len)
{
    for (size_t i = 0; i < nd->n; i++) {
        const struct matcher_clause *c = &nd->clause[i];
        bool found = false;
        for (size_t k = 0; k < c->n && !found; k++)
            found = contains(text, len, c->lit[k], c->len[k]);
        if (!found)
            return false;
    }
    return true;
}

void matcher_needs_free(struct matcher_needs *nd)
{
    for (size_t i = 0; i < nd->n; i++) {
        struct matcher_clause *c = &nd->clause[i];
        for (size_t k = 0; k < c->n; k++)
            free(c->lit[k]);
        free(c->lit);
        free(c->len);
    }
    nd->n = 0;
}
