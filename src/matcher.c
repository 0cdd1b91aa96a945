/* matcher — keyword, pattern and example scoring over folded text. */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "dvcbot/matcher.h"
#include "dvcbot/buf.h"
#include "dvcbot/mem.h"
#include "dvcbot/normalize.h"
#include "dvcbot/wordmap.h"

#include <math.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 512
#define MAX_PHRASE_TOKENS 8
#define MAX_WORD 48         /* longer words are never corrected or split */
#define TEXT_CAP (MATCHER_MAX_INPUT * 2 + 64)
#define MAX_SEEN 128        /* distinct phrases counted per line */

struct settings {
    double threshold;       /* confidence below which the answer is khac */
    double ambiguous_ratio; /* runner-up raw / best raw at or above which two procedures tie */
    double scale;           /* raw score → confidence: 1 - exp(-raw / scale) */
    double example_weight;  /* a line equal to an example */
    int typo_min_len;       /* shorter unknown words are left alone */
};

struct hit {
    int intent;
    double weight;
};

struct phrase {
    struct hit *hits;
    size_t n;
};

struct pattern {
    pcre2_code *code;
    int intent;
    double weight;
};

struct span {
    uint16_t off, len;
};

struct matcher {
    const struct catalog *cat;
    size_t n_intents;
    int fallback;
    struct settings set;

    struct wordmap abbrev;     /* folded abbreviation → index in expansions */
    char **expansions;        /* folded, words separated by one space */
    size_t n_expansions;

    struct wordmap phrases;    /* folded keyword phrase → index in phrase_tab;
                                 -1 for a proper prefix of a phrase */
    struct phrase *phrase_tab;
    size_t n_phrases;
    int max_phrase_tokens;

    struct pattern *patterns;
    size_t n_patterns;
    uint32_t max_captures;

    struct wordmap examples;   /* rewritten example line → intent */

    struct wordmap known;      /* words never corrected (value unused) */
    struct wordmap vocab;      /* words a typo may be corrected to → index in words */
    char **words;
    size_t n_words;
    struct wordmap deletes;    /* word and its one-deletion variants → index in cands */
    struct phrase *cands;     /* reuses struct phrase: hits[].intent = word index */
    size_t n_cands;
};

/* ===== Reporting ===== */

struct builder {
    struct matcher *m;
    catalog_report_fn report;
    void *ud;
    int problems;
    char file[96];
};

static void problemf(struct builder *b, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problemf(struct builder *b, const char *field, const char *fmt, ...)
{
    struct buf msg;
    va_list ap;
    buf_init(&msg);
    va_start(ap, fmt);
    buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    b->problems++;
    b->report(b->ud, b->file, field, buf_cstr(&msg));
    buf_free(&msg);
}

/* ===== Words ===== */

static bool has_digit(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= '0' && s[i] <= '9')
            return true;
    return false;
}

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

/* Looks for the vocabulary word one edit away from w; returns its index or -1. */
static int correct_word(const struct matcher *m, const char *w, size_t n)
{
    char v[MAX_WORD + 1];
    int best = -1;
    size_t best_len = 0;
    if (n > MAX_WORD || n < (size_t)m->set.typo_min_len || has_digit(w, n))
        return -1;
    for (size_t skip = 0; skip <= n; skip++) {
        /* skip == n: the word itself; else the word without char skip */
        size_t vl = 0;
        for (size_t i = 0; i < n; i++)
            if (i != skip)
                v[vl++] = w[i];
        int ci;
        if (!wordmap_get(&m->deletes, v, vl, &ci))
            continue;
        const struct phrase *c = &m->cands[ci];
        for (size_t k = 0; k < c->n; k++) {
            const char *cand = m->words[c->hits[k].intent];
            size_t cl = strlen(cand);
            if (osa_distance(w, n, cand, cl, 1) > 1)
                continue;
            /* Prefer the candidate closest in length (keeps "sinhh" → "sinh"). */
            size_t dl = cl > n ? cl - n : n - cl;
            if (best < 0 || dl < best_len) {
                best = c->hits[k].intent;
                best_len = dl;
            }
        }
    }
    return best;
}

/* Splits a glued pair ("khaisinh") into two vocabulary words; returns the
 * length of the first, or 0. */
static size_t split_word(const struct matcher *m, const char *w, size_t n)
{
    int v;
    if (n < 5 || n > MAX_WORD || has_digit(w, n))
        return 0;
    for (size_t i = 2; i + 2 <= n; i++)
        if (wordmap_get(&m->vocab, w, i, &v) && wordmap_get(&m->vocab, w + i, n - i, &v))
            return i;
    return 0;
}

/* ===== Rewriting a line ===== */

/* PCRE2's JIT scans the subject with wide loads that may read past its end;
 * the bytes after the text are zeroed so they are defined (valgrind). */
#define TEXT_PAD 64

struct line {
    char text[TEXT_CAP + TEXT_PAD];
    size_t len;
    struct span tok[MAX_TOKENS];
    size_t n;
};

static void line_add(struct line *ln, const char *w, size_t n)
{
    if (ln->n >= MAX_TOKENS || ln->len + n + 1 > TEXT_CAP)
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
static void line_add_words(struct line *ln, const char *s)
{
    while (*s) {
        const char *e = strchr(s, ' ');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n)
            line_add(ln, s, n);
        s += n + (e != NULL);
    }
}

static void rewrite_word(const struct matcher *m, struct line *ln, const char *w, size_t n,
                         bool correct)
{
    int v;
    if (wordmap_get(&m->abbrev, w, n, &v)) {
        line_add_words(ln, m->expansions[v]);
        return;
    }
    if (!correct || wordmap_get(&m->known, w, n, &v)) {
        line_add(ln, w, n);
        return;
    }
    int c = correct_word(m, w, n);
    if (c >= 0) {
        line_add_words(ln, m->words[c]);
        return;
    }
    size_t cut = split_word(m, w, n);
    if (cut) {
        line_add(ln, w, cut);
        line_add(ln, w + cut, n - cut);
        return;
    }
    line_add(ln, w, n);
}

/* Rewrites already folded text word by word. */
static void rewrite_folded(const struct matcher *m, const char *folded, size_t flen,
                           struct line *ln, bool correct)
{
    ln->len = 0;
    ln->n = 0;
    ln->text[0] = '\0';
    for (size_t i = 0; i < flen;) {
        size_t j = i;
        while (j < flen && folded[j] != ' ')
            j++;
        if (j > i)
            rewrite_word(m, ln, folded + i, j - i, correct);
        i = j + 1;
    }
    memset(ln->text + ln->len, 0, TEXT_PAD);
}

/* Folds and rewrites raw input; false when it is rejected. */
static bool rewrite(const struct matcher *m, const char *text, size_t len, struct line *ln)
{
    char folded[TEXT_CAP + 1];
    if (!text || len > MATCHER_MAX_INPUT)
        return false;
    size_t flen = norm_fold_into(text, len, folded, sizeof folded);
    if (flen == NORM_ERROR)
        return false;
    rewrite_folded(m, folded, flen, ln, true);
    return true;
}

size_t matcher_rewrite(const struct matcher *m, const char *text, size_t len, char *out,
                       size_t cap)
{
    struct line *ln = xmalloc(sizeof *ln);
    size_t n = 0;
    if (cap && rewrite(m, text, len, ln)) {
        n = ln->len < cap ? ln->len : cap - 1;
        memcpy(out, ln->text, n);
    }
    if (cap)
        out[n] = '\0';
    free(ln);
    return n;
}

/* ===== Scoring ===== */

static void score_phrases(const struct matcher *m, const struct line *ln, double *raw)
{
    int seen[MAX_SEEN];
    size_t n_seen = 0;
    for (size_t i = 0; i < ln->n; i++) {
        for (size_t k = 1; k <= (size_t)m->max_phrase_tokens && i + k <= ln->n; k++) {
            const struct span *last = &ln->tok[i + k - 1];
            size_t off = ln->tok[i].off, n = (size_t)last->off + last->len - off;
            int p;
            if (!wordmap_get(&m->phrases, ln->text + off, n, &p))
                break; /* no phrase starts with these words: longer ones neither */
            if (p < 0)
                continue; /* only the start of a longer phrase */
            bool dup = false;
            for (size_t s = 0; s < n_seen && !dup; s++)
                dup = seen[s] == p;
            if (dup)
                continue;
            if (n_seen < MAX_SEEN)
                seen[n_seen++] = p;
            for (size_t h = 0; h < m->phrase_tab[p].n; h++)
                raw[m->phrase_tab[p].hits[h].intent] += m->phrase_tab[p].hits[h].weight;
        }
    }
}

static void score_patterns(const struct matcher *m, const struct line *ln, double *raw)
{
    pcre2_match_data *md = pcre2_match_data_create(m->max_captures + 1, NULL);
    if (!md)
        return; /* out of memory: score without patterns */
    for (size_t i = 0; i < m->n_patterns; i++) {
        const struct pattern *p = &m->patterns[i];
        int rc = pcre2_match(p->code, (PCRE2_SPTR)ln->text, ln->len, 0, PCRE2_NO_UTF_CHECK, md, NULL);
        if (rc >= 0)
            raw[p->intent] += p->weight;
        /* rc < 0: no match, or a resource limit: either way no evidence */
    }
    pcre2_match_data_free(md);
}

static double confidence(const struct matcher *m, double raw)
{
    return raw <= 0 ? 0 : 1 - exp(-raw / m->set.scale);
}

static void pick(const struct matcher *m, const double *raw, struct match_result *out)
{
    int best = -1, alt = -1;
    for (size_t i = 0; i < m->n_intents; i++) {
        if (raw[i] <= 0)
            continue;
        if (best < 0 || raw[i] > raw[best]) {
            alt = best;
            best = (int)i;
        } else if (alt < 0 || raw[i] > raw[alt]) {
            alt = (int)i;
        }
    }
    const struct intent *fb = catalog_at(m->cat, (size_t)m->fallback);
    out->id = fb->id;
    out->score = 1;
    out->alt_id = NULL;
    out->alt_score = 0;
    out->ambiguous = false;
    if (best < 0)
        return;
    double conf = confidence(m, raw[best]);
    if (conf < m->set.threshold) {
        out->score = 1 - conf;
        out->alt_id = catalog_at(m->cat, (size_t)best)->id;
        out->alt_score = conf;
        return;
    }
    const struct intent *b = catalog_at(m->cat, (size_t)best);
    out->id = b->id;
    out->score = conf;
    if (alt < 0)
        return;
    const struct intent *a = catalog_at(m->cat, (size_t)alt);
    out->alt_id = a->id;
    out->alt_score = confidence(m, raw[alt]);
    out->ambiguous = b->kind == INTENT_PROCEDURE && a->kind == INTENT_PROCEDURE &&
                     raw[alt] >= m->set.ambiguous_ratio * raw[best];
}

void matcher_classify(const struct matcher *m, const char *text, size_t len,
                      struct match_result *out)
{
    double raw[MATCHER_MAX_INTENTS] = {0};
    struct line ln;
    if (rewrite(m, text, len, &ln) && ln.n) {
        score_phrases(m, &ln, raw);
        score_patterns(m, &ln, raw);
        int ex;
        if (wordmap_get(&m->examples, ln.text, ln.len, &ex))
            raw[ex] += m->set.example_weight;
    }
    pick(m, raw, out);
}

/* ===== Building: vocabulary ===== */

static void add_known(struct matcher *m, const char *s)
{
    while (*s) {
        const char *e = strchr(s, ' ');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n)
            wordmap_put(&m->known, s, n, 0);
        s += n + (e != NULL);
    }
}

static void add_candidate(struct matcher *m, const char *key, size_t klen, int word)
{
    int ci;
    if (!wordmap_get(&m->deletes, key, klen, &ci)) {
        ci = (int)m->n_cands;
        m->cands = xrealloc(m->cands, (m->n_cands + 1) * sizeof *m->cands);
        m->cands[m->n_cands++] = (struct phrase){NULL, 0};
        wordmap_put(&m->deletes, key, klen, ci);
    }
    struct phrase *c = &m->cands[ci];
    for (size_t i = 0; i < c->n; i++)
        if (c->hits[i].intent == word)
            return;
    c->hits = xrealloc(c->hits, (c->n + 1) * sizeof *c->hits);
    c->hits[c->n++] = (struct hit){word, 0};
}

/* Adds one word a typo may be corrected to, with its deletion variants. */
static void add_vocab_word(struct matcher *m, const char *w, size_t n)
{
    int v;
    if (n < 2 || n > MAX_WORD || has_digit(w, n) || wordmap_get(&m->vocab, w, n, &v))
        return;
    int idx = (int)m->n_words;
    m->words = xrealloc(m->words, (m->n_words + 1) * sizeof *m->words);
    m->words[m->n_words++] = xstrndup(w, n);
    wordmap_put(&m->vocab, w, n, idx);
    wordmap_put(&m->known, w, n, 0);
    add_candidate(m, w, n, idx);
    char d[MAX_WORD];
    for (size_t skip = 0; skip < n; skip++) {
        size_t dl = 0;
        for (size_t i = 0; i < n; i++)
            if (i != skip)
                d[dl++] = w[i];
        add_candidate(m, d, dl, idx);
    }
}

static void add_vocab_words(struct matcher *m, const char *s)
{
    while (*s) {
        const char *e = strchr(s, ' ');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        add_vocab_word(m, s, n);
        s += n + (e != NULL);
    }
}

/* The literal words of a pattern ("(moi|vua) sinh" → moi, vua, sinh), so
 * typos of them get corrected too. Escapes (\b, \s, \d) are skipped. */
static void add_pattern_words(struct matcher *m, const char *re)
{
    for (const char *p = re; *p;) {
        if (*p == '\\') {
            p += p[1] ? 2 : 1;
            continue;
        }
        if (*p < 'a' || *p > 'z') {
            p++;
            continue;
        }
        const char *s = p;
        while (*p >= 'a' && *p <= 'z')
            p++;
        add_vocab_word(m, s, (size_t)(p - s));
    }
}

/* ===== Building: data files ===== */

/* Folds s and rewrites it without typo correction; returns a new string
 * (caller frees) or NULL when s is not valid UTF-8. */
static char *fold_phrase(const struct matcher *m, const char *s)
{
    size_t flen;
    char *folded = norm_fold(s, strlen(s), &flen);
    if (!folded)
        return NULL;
    struct line *ln = xmalloc(sizeof *ln);
    rewrite_folded(m, folded, flen, ln, false);
    char *out = xstrndup(ln->text, ln->len);
    free(ln);
    free(folded);
    return out;
}

static void load_settings(struct builder *b, const cJSON *j)
{
    struct settings *s = &b->m->set;
    *s = (struct settings){.threshold = 0.3, .ambiguous_ratio = 0.8, .scale = 1.5,
                           .example_weight = 3.0, .typo_min_len = 3};
    if (!j)
        return;
    snprintf(b->file, sizeof b->file, "_matcher.json");
    static const struct {
        const char *key;
        size_t off;
        double lo, hi;
    } nums[] = {
        {"threshold", offsetof(struct settings, threshold), 0, 1},
        {"ambiguous_ratio", offsetof(struct settings, ambiguous_ratio), 0, 1},
        {"scale", offsetof(struct settings, scale), 0.01, 100},
        {"example_weight", offsetof(struct settings, example_weight), 0, 100},
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, nums[i].key);
        if (!v)
            continue;
        if (!cJSON_IsNumber(v) || v->valuedouble < nums[i].lo || v->valuedouble > nums[i].hi)
            problemf(b, nums[i].key, "must be a number in [%g, %g]", nums[i].lo, nums[i].hi);
        else
            *(double *)(void *)((char *)s + nums[i].off) = v->valuedouble;
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "typo_min_len");
    if (t && (!cJSON_IsNumber(t) || t->valueint < 2 || t->valueint > MAX_WORD))
        problemf(b, "typo_min_len", "must be an integer in [2, %d]", MAX_WORD);
    else if (t)
        s->typo_min_len = t->valueint;
    const cJSON *kw = cJSON_GetObjectItemCaseSensitive(j, "known_words"), *e;
    if (kw && !cJSON_IsArray(kw))
        problemf(b, "known_words", "must be an array of strings");
    cJSON_ArrayForEach(e, kw) {
        char *f = cJSON_IsString(e) ? norm_fold(e->valuestring, strlen(e->valuestring), NULL) : NULL;
        if (!f)
            problemf(b, "known_words", "every item must be a UTF-8 string");
        else
            add_known(b->m, f);
        free(f);
    }
}

static void load_abbreviations(struct builder *b, const cJSON *j)
{
    struct matcher *m = b->m;
    if (!j)
        return;
    snprintf(b->file, sizeof b->file, "_abbreviations.json");
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(j, "abbreviations"), *e;
    if (!cJSON_IsObject(map)) {
        problemf(b, "abbreviations", "missing object {\"abbr\": \"expansion\"}");
        return;
    }
    cJSON_ArrayForEach(e, map) {
        size_t klen;
        char *key = norm_fold(e->string, strlen(e->string), &klen);
        char *val = cJSON_IsString(e) ? norm_fold(e->valuestring, strlen(e->valuestring), NULL) : NULL;
        if (!key || !val || !klen || strchr(key, ' ') || !*val) {
            problemf(b, "abbreviations", "'%s': key must be one word, value a non-empty string",
                     e->string);
        } else {
            m->expansions = xrealloc(m->expansions, (m->n_expansions + 1) * sizeof *m->expansions);
            m->expansions[m->n_expansions] = val;
            wordmap_put(&m->abbrev, key, klen, (int)m->n_expansions++);
            val = NULL;
        }
        free(key);
        free(val);
    }
}

/* Marks every proper word prefix of phrase so lookups can stop early. */
static void add_prefixes(struct matcher *m, const char *phrase)
{
    int p;
    for (const char *c = strchr(phrase, ' '); c; c = strchr(c + 1, ' '))
        if (!wordmap_get(&m->phrases, phrase, (size_t)(c - phrase), &p))
            wordmap_put(&m->phrases, phrase, (size_t)(c - phrase), -1);
}

static void add_phrase(struct matcher *m, const char *phrase, int intent, double weight)
{
    int p;
    size_t n = strlen(phrase);
    add_prefixes(m, phrase);
    if (!wordmap_get(&m->phrases, phrase, n, &p) || p < 0) {
        p = (int)m->n_phrases;
        m->phrase_tab = xrealloc(m->phrase_tab, (m->n_phrases + 1) * sizeof *m->phrase_tab);
        m->phrase_tab[m->n_phrases++] = (struct phrase){NULL, 0};
        wordmap_put(&m->phrases, phrase, n, p);
    }
    struct phrase *ph = &m->phrase_tab[p];
    ph->hits = xrealloc(ph->hits, (ph->n + 1) * sizeof *ph->hits);
    ph->hits[ph->n++] = (struct hit){intent, weight};
    int words = 1;
    for (const char *c = phrase; *c; c++)
        words += *c == ' ';
    if (words > m->max_phrase_tokens)
        m->max_phrase_tokens = words;
}

static void load_keywords(struct builder *b, const cJSON *kw, int intent)
{
    const cJSON *e;
    if (!kw)
        return;
    if (!cJSON_IsObject(kw)) {
        problemf(b, "match.keywords", "must be an object {\"phrase\": weight}");
        return;
    }
    cJSON_ArrayForEach(e, kw) {
        char *f = fold_phrase(b->m, e->string);
        int words = 1;
        for (const char *c = f ? f : ""; *c; c++)
            words += *c == ' ';
        if (!cJSON_IsNumber(e) || e->valuedouble < -10 || e->valuedouble > 10)
            problemf(b, "match.keywords", "'%s': weight must be a number in [-10, 10]", e->string);
        else if (!f || !*f || words > MAX_PHRASE_TOKENS)
            problemf(b, "match.keywords", "'%s': must be 1 to %d words", e->string, MAX_PHRASE_TOKENS);
        else {
            add_phrase(b->m, f, intent, e->valuedouble);
            add_vocab_words(b->m, f);
        }
        free(f);
    }
}

static bool pattern_is_folded(const char *re)
{
    for (const unsigned char *p = (const unsigned char *)re; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            continue;
        }
        if (*p >= 0x80 || (*p >= 'A' && *p <= 'Z'))
            return false;
    }
    return true;
}

static void load_pattern(struct builder *b, const cJSON *e, int intent)
{
    struct matcher *m = b->m;
    const cJSON *re = cJSON_GetObjectItemCaseSensitive(e, "re");
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(e, "weight");
    if (!cJSON_IsString(re) || !*re->valuestring || !cJSON_IsNumber(w) ||
        w->valuedouble < -10 || w->valuedouble > 10) {
        problemf(b, "match.patterns", "each item needs \"re\" (string) and \"weight\" in [-10, 10]");
        return;
    }
    if (!pattern_is_folded(re->valuestring)) {
        problemf(b, "match.patterns", "'%s': write patterns in lower case without diacritics "
                 "(they run on folded text)", re->valuestring);
        return;
    }
    struct buf src;
    buf_init(&src);
    buf_printf(&src, "\\b(?:%s)\\b", re->valuestring);
    int errcode;
    PCRE2_SIZE erroff;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)src.data, src.len, PCRE2_UTF | PCRE2_NO_UTF_CHECK,
                                     &errcode, &erroff, NULL);
    buf_free(&src);
    if (!code) {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(errcode, msg, sizeof msg) < 0)
            snprintf((char *)msg, sizeof msg, "error %d", errcode);
        problemf(b, "match.patterns", "'%s': does not compile: %s", re->valuestring, (char *)msg);
        return;
    }
    /* JIT is an optimisation: without it (unsupported CPU) matching still works. */
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    uint32_t caps = 0;
    if (pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &caps) == 0 && caps > m->max_captures)
        m->max_captures = caps;
    m->patterns = xrealloc(m->patterns, (m->n_patterns + 1) * sizeof *m->patterns);
    m->patterns[m->n_patterns++] = (struct pattern){code, intent, w->valuedouble};
    add_pattern_words(m, re->valuestring);
}

static void load_patterns(struct builder *b, const cJSON *pats, int intent)
{
    const cJSON *e;
    if (!pats)
        return;
    if (!cJSON_IsArray(pats)) {
        problemf(b, "match.patterns", "must be an array of {\"re\", \"weight\"}");
        return;
    }
    cJSON_ArrayForEach(e, pats)
        load_pattern(b, e, intent);
}

/* Examples are loaded last, once the vocabulary is complete. */
static void load_examples(struct builder *b, const cJSON *ex, int intent)
{
    struct matcher *m = b->m;
    const cJSON *e;
    if (!ex)
        return;
    if (!cJSON_IsArray(ex)) {
        problemf(b, "match.examples", "must be an array of strings");
        return;
    }
    cJSON_ArrayForEach(e, ex) {
        char *f = cJSON_IsString(e) ? fold_phrase(m, e->valuestring) : NULL;
        int other;
        if (!f || !*f) {
            problemf(b, "match.examples", "every item must be a non-empty UTF-8 string");
        } else if (wordmap_get(&m->examples, f, strlen(f), &other) && other != intent) {
            problemf(b, "match.examples", "'%s' is also an example of %s", e->valuestring,
                     catalog_at(m->cat, (size_t)other)->id);
        } else {
            wordmap_put(&m->examples, f, strlen(f), intent);
            add_known(m, f);
        }
        free(f);
    }
}

static const cJSON *match_section(struct builder *b, size_t i)
{
    const struct intent *in = catalog_at(b->m->cat, i);
    snprintf(b->file, sizeof b->file, "%s.json", in->id);
    return cJSON_GetObjectItemCaseSensitive(in->json, "match");
}

static void build(struct builder *b)
{
    struct matcher *m = b->m;
    load_settings(b, catalog_extra(m->cat, "matcher"));
    load_abbreviations(b, catalog_extra(m->cat, "abbreviations"));
    for (size_t i = 0; i < m->n_intents; i++) {
        const cJSON *sec = match_section(b, i);
        load_keywords(b, cJSON_GetObjectItemCaseSensitive(sec, "keywords"), (int)i);
        load_patterns(b, cJSON_GetObjectItemCaseSensitive(sec, "patterns"), (int)i);
    }
    for (size_t i = 0; i < m->n_expansions; i++)
        add_vocab_words(m, m->expansions[i]);
    for (size_t i = 0; i < m->n_intents; i++) {
        const cJSON *sec = match_section(b, i);
        load_examples(b, cJSON_GetObjectItemCaseSensitive(sec, "examples"), (int)i);
    }
}

struct matcher *matcher_new_report(const struct catalog *cat, catalog_report_fn report, void *ud)
{
    struct matcher *m = xcalloc(1, sizeof *m);
    struct builder b = {.m = m, .report = report, .ud = ud, .problems = 0, .file = ""};
    m->cat = cat;
    m->n_intents = catalog_size(cat);
    m->fallback = catalog_index(cat, CATALOG_FALLBACK_ID);
    wordmap_init(&m->abbrev);
    wordmap_init(&m->phrases);
    wordmap_init(&m->examples);
    wordmap_init(&m->known);
    wordmap_init(&m->vocab);
    wordmap_init(&m->deletes);
    m->max_phrase_tokens = 1;
    if (m->n_intents > MATCHER_MAX_INTENTS || m->fallback < 0)
        problemf(&b, "", "catalog needs the id khac and at most %d intents", MATCHER_MAX_INTENTS);
    else
        build(&b);
    if (b.problems) {
        matcher_free(m);
        return NULL;
    }
    return m;
}

struct matcher *matcher_new(const struct catalog *cat, char **err)
{
    *err = NULL;
    struct matcher *m = matcher_new_report(cat, catalog_report_keep_first, err);
    if (m) {
        free(*err);
        *err = NULL;
    }
    return m;
}

static void free_phrases(struct phrase *tab, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(tab[i].hits);
    free(tab);
}

void matcher_free(struct matcher *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_expansions; i++)
        free(m->expansions[i]);
    free(m->expansions);
    for (size_t i = 0; i < m->n_patterns; i++)
        pcre2_code_free(m->patterns[i].code);
    free(m->patterns);
    for (size_t i = 0; i < m->n_words; i++)
        free(m->words[i]);
    free(m->words);
    free_phrases(m->phrase_tab, m->n_phrases);
    free_phrases(m->cands, m->n_cands);
    wordmap_free(&m->abbrev);
    wordmap_free(&m->phrases);
    wordmap_free(&m->examples);
    wordmap_free(&m->known);
    wordmap_free(&m->vocab);
    wordmap_free(&m->deletes);
    free(m);
}
