/* rewrite — abbreviations, Telex, glued words and typos, word by word. */
#include "dvcbot/rewrite.h"
#include "dvcbot/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORD VNSPELL_MAX_WORD
#define COST_ABBREVIATION 1.1 /* "dk" in "dkxe" */

struct rewrite_cands {
    int *words;
    size_t n;
};

void rewriter_init(struct rewriter *rw, int typo_min_len)
{
    memset(rw, 0, sizeof *rw);
    vnspell_init(&rw->spell);
    wordmap_init(&rw->abbrev);
    wordmap_init(&rw->known);
    wordmap_init(&rw->deletes);
    rw->typo_min_len = typo_min_len;
}

void rewriter_free(struct rewriter *rw)
{
    vnspell_free(&rw->spell);
    for (size_t i = 0; i < rw->n_expansions; i++)
        free(rw->expansions[i]);
    free(rw->expansions);
    for (size_t i = 0; i < rw->n_words; i++)
        free(rw->words[i]);
    free(rw->words);
    free(rw->counts);
    for (size_t i = 0; i < rw->n_cands; i++)
        free(rw->cands[i].words);
    free(rw->cands);
    wordmap_free(&rw->abbrev);
    wordmap_free(&rw->known);
    wordmap_free(&rw->deletes);
}

static bool has_digit(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= '0' && s[i] <= '9')
            return true;
    return false;
}

/* ===== Building ===== */

void rewriter_add_syllable(struct rewriter *rw, const char *w, size_t n)
{
    vnspell_add_syllable(&rw->spell, w, n);
}

void rewriter_add_abbreviation(struct rewriter *rw, const char *key, size_t klen,
                               const char *expansion)
{
    rw->expansions = xrealloc(rw->expansions, (rw->n_expansions + 1) * sizeof *rw->expansions);
    rw->expansions[rw->n_expansions] = xstrdup(expansion);
    wordmap_put(&rw->abbrev, key, klen, (int)rw->n_expansions++);
    if (klen >= 2)
        vnspell_add_piece(&rw->spell, key, klen, COST_ABBREVIATION);
}

static void add_known_word(struct rewriter *rw, const char *w, size_t n)
{
    int v;
    if (n && n <= MAX_WORD && !wordmap_get(&rw->known, w, n, &v) &&
        !vnspell_is_syllable(&rw->spell, w, n))
        wordmap_put(&rw->known, w, n, -1);
}

void rewriter_add_known(struct rewriter *rw, const char *words)
{
    for (const char *s = words; *s;) {
        const char *e = strchr(s, ' ');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        add_known_word(rw, s, n);
        s += n + (e != NULL);
    }
}

/* A glued word whose pieces are all two letters or more ("khaisinh"); not
 * "alo" (a + lo), which is a word of its own. */
static bool cuts_cleanly(const struct rewriter *rw, const char *w, size_t n)
{
    struct vnspell_piece p[VNSPELL_MAX_PIECES];
    size_t np = vnspell_cut(&rw->spell, w, n, p);
    for (size_t i = 0; i < np; i++)
        if (p[i].len < 2)
            return false;
    return np > 0;
}

void rewriter_learn_words(struct rewriter *rw, const char *folded)
{
    char buf[VNSPELL_MAX_WORD + 1];
    int v;
    for (const char *s = folded; *s;) {
        const char *e = strchr(s, ' ');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        /* syllables and words known already need none of the costly checks */
        if (n >= 2 && n <= MAX_WORD && !vnspell_is_syllable(&rw->spell, s, n) &&
            !wordmap_get(&rw->known, s, n, &v) && !has_digit(s, n) &&
            !wordmap_get(&rw->abbrev, s, n, &v) &&
            !vnspell_untelex(&rw->spell, s, n, buf, sizeof buf) && !cuts_cleanly(rw, s, n))
            add_known_word(rw, s, n);
        s += n + (e != NULL);
    }
}

/* The index of w among the words with counts, added when new. */
static int word_index(struct rewriter *rw, const char *w, size_t n)
{
    int v = -1;
    if (wordmap_get(&rw->known, w, n, &v) && v >= 0)
        return v;
    v = (int)rw->n_words;
    size_t cap = rw->cap_words;
    rw->words = xreserve(rw->words, &cap, rw->n_words + 1, sizeof *rw->words, 256);
    rw->counts = xreserve(rw->counts, &rw->cap_words, rw->n_words + 1, sizeof *rw->counts, 256);
    rw->words[v] = xstrndup(w, n);
    rw->counts[v] = 0;
    rw->n_words++;
    wordmap_put(&rw->known, w, n, v);
    return v;
}

void rewriter_learn(struct rewriter *rw, const struct rewrite_line *ln)
{
    for (size_t i = 0; i < ln->n; i++) {
        const char *w = ln->text + ln->tok[i].off;
        size_t n = ln->tok[i].len;
        if (n < 2 || n > MAX_WORD || has_digit(w, n))
            continue;
        int idx = word_index(rw, w, n); /* may move counts */
        rw->counts[idx]++;
    }
}

static void add_candidate(struct rewriter *rw, const char *key, size_t klen, int word)
{
    int ci;
    if (!wordmap_get(&rw->deletes, key, klen, &ci)) {
        ci = (int)rw->n_cands;
        rw->cands = xreserve(rw->cands, &rw->cap_cands, rw->n_cands + 1, sizeof *rw->cands, 1024);
        rw->cands[rw->n_cands++] = (struct rewrite_cands){NULL, 0};
        wordmap_put(&rw->deletes, key, klen, ci);
    }
    struct rewrite_cands *c = &rw->cands[ci];
    for (size_t i = 0; i < c->n; i++)
        if (c->words[i] == word)
            return;
    c->words = xrealloc(c->words, (c->n + 1) * sizeof *c->words);
    c->words[c->n++] = word;
}

/* Indexes a typo target under itself and each one-deletion variant. */
static void index_target(struct rewriter *rw, int idx)
{
    const char *w = rw->words[idx];
    size_t n = strlen(w);
    char d[MAX_WORD];
    add_candidate(rw, w, n, idx);
    for (size_t skip = 0; skip < n; skip++) {
        size_t dl = 0;
        for (size_t i = 0; i < n; i++)
            if (i != skip)
                d[dl++] = w[i];
        add_candidate(rw, d, dl, idx);
    }
}

void rewriter_finish(struct rewriter *rw)
{
    for (size_t i = 0; i < rw->n_words; i++) {
        const char *w = rw->words[i];
        size_t n = strlen(w);
        /* Frequent words make cheaper pieces: ties go to the common reading. */
        double bonus = 0.05 * fmin(log1p((double)rw->counts[i]), 5.0);
        if (n >= 2)
            vnspell_add_piece(&rw->spell, w, n, 1.0 - bonus);
        if ((int)n >= rw->typo_min_len - 1)
            index_target(rw, (int)i);
    }
}

/* ===== Typo correction ===== */

/* Optimal string alignment distance, capped: returns limit + 1 when larger. */
static int osa_distance(const char *a, size_t la, const char *b, size_t lb, int limit)
{
    int rows[3][MAX_WORD + 2];
    if (la > MAX_WORD || lb > MAX_WORD)
        return limit + 1;
    if ((la > lb ? la - lb : lb - la) > (size_t)limit)
        return limit + 1;
    int *pp = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        int best = cur[0];
        for (size_t j = 1; j <= lb; j++) {
            int cost = a[i - 1] != b[j - 1];
            int v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            if (prev[j - 1] + cost < v)
                v = prev[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v)
                v = pp[j - 2] + 1;
            cur[j] = v;
            if (v < best)
                best = v;
        }
        if (best > limit)
            return limit + 1;
        int *t = pp;
        pp = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

/* The most frequent known word one edit away from w with the same first
 * letter; its index or -1. */
static int correct_word(const struct rewriter *rw, const char *w, size_t n)
{
    char v[MAX_WORD + 1];
    int best = -1;
    if (n > MAX_WORD || n < (size_t)rw->typo_min_len || has_digit(w, n))
        return -1;
    for (size_t skip = 0; skip <= n; skip++) {
        /* skip == n: the word itself; else the word without char skip */
        size_t vl = 0;
        for (size_t i = 0; i < n; i++)
            if (i != skip)
                v[vl++] = w[i];
        int ci;
        if (!wordmap_get(&rw->deletes, v, vl, &ci))
            continue;
        const struct rewrite_cands *c = &rw->cands[ci];
        for (size_t k = 0; k < c->n; k++) {
            int idx = c->words[k];
            const char *cand = rw->words[idx];
            size_t cl = strlen(cand);
            if (cand[0] != w[0] || osa_distance(w, n, cand, cl, 1) > 1)
                continue;
            if (best < 0 || rw->counts[idx] > rw->counts[best])
                best = idx;
        }
    }
    return best;
}

/* ===== Rewriting ===== */

static void line_add(struct rewrite_line *ln, const char *w, size_t n)
{
    if (ln->n >= REWRITE_MAX_TOKENS || ln->len + n + 1 > REWRITE_TEXT_CAP)
        return;
    if (ln->len)
        ln->text[ln->len++] = ' ';
    memcpy(ln->text + ln->len, w, n);
    ln->tok[ln->n].off = (uint16_t)ln->len;
    ln->tok[ln->n].len = (uint16_t)n;
    ln->n++;
    ln->len += n;
    ln->text[ln->len] = '\0';
}

/* Adds each space-separated word of s. */
static void line_add_words(struct rewrite_line *ln, const char *s)
{
    while (*s) {
        const char *e = strchr(s, ' ');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n)
            line_add(ln, s, n);
        s += n + (e != NULL);
    }
}

bool rewriter_knows(const struct rewriter *rw, const char *w, size_t n)
{
    int v;
    return vnspell_is_syllable(&rw->spell, w, n) || wordmap_get(&rw->known, w, n, &v);
}

static bool add_cut(const struct rewriter *rw, struct rewrite_line *ln, const char *w, size_t n)
{
    struct vnspell_piece p[VNSPELL_MAX_PIECES];
    size_t np = vnspell_cut(&rw->spell, w, n, p);
    for (size_t i = 0; i < np; i++) {
        const char *s = w + p[i].off;
        char buf[VNSPELL_MAX_WORD + 1];
        int a;
        if (p[i].telex) {
            size_t m = vnspell_untelex(&rw->spell, s, p[i].len, buf, sizeof buf);
            line_add(ln, buf, m);
        } else if (p[i].len >= 2 && wordmap_get(&rw->abbrev, s, p[i].len, &a)) {
            line_add_words(ln, rw->expansions[a]);
        } else {
            line_add(ln, s, p[i].len);
        }
    }
    return np > 0;
}

/* Letters then digits ("dinhdanhmuc2"): where the digits start, or 0. */
static size_t trailing_digits(const char *w, size_t n)
{
    size_t i = n;
    while (i > 0 && w[i - 1] >= '0' && w[i - 1] <= '9')
        i--;
    return i < n && i >= 4 && !has_digit(w, i) ? i : 0;
}

static void rewrite_word(const struct rewriter *rw, struct rewrite_line *ln, const char *w,
                         size_t n, bool correct)
{
    int v;
    char buf[VNSPELL_MAX_WORD + 1];
    if (wordmap_get(&rw->abbrev, w, n, &v)) {
        line_add_words(ln, rw->expansions[v]);
        return;
    }
    if (rewriter_knows(rw, w, n) || n > MAX_WORD) {
        line_add(ln, w, n);
        return;
    }
    size_t m = vnspell_untelex(&rw->spell, w, n, buf, sizeof buf);
    if (m) {
        line_add(ln, buf, m);
        return;
    }
    size_t d = trailing_digits(w, n);
    if (d) {
        rewrite_word(rw, ln, w, d, correct);
        line_add(ln, w + d, n - d);
        return;
    }
    /* a slip in one word ("cabn") before a cut that would read it as two
     * ("ca" + "bn") */
    int c = correct ? correct_word(rw, w, n) : -1;
    if (c >= 0)
        line_add_words(ln, rw->words[c]);
    else if (has_digit(w, n) || !add_cut(rw, ln, w, n))
        line_add(ln, w, n);
}

void rewriter_line(const struct rewriter *rw, const char *folded, size_t flen,
                   struct rewrite_line *ln, bool correct)
{
    ln->len = 0;
    ln->n = 0;
    ln->text[0] = '\0';
    for (size_t i = 0; i < flen;) {
        size_t j = i;
        while (j < flen && folded[j] != ' ')
            j++;
        if (j > i)
            rewrite_word(rw, ln, folded + i, j - i, correct);
        i = j + 1;
    }
    memset(ln->text + ln->len, 0, REWRITE_TEXT_PAD);
}
