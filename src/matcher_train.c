/* matcher_train — building the matcher from the catalog: patterns, the
 * training lines of every "match" section, and the three naive Bayes models
 * trained on them (matcher_model.h); the settings and the spelling data are
 * read first by matcher_settings.c. */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "dvcbot/buf.h"
#include "dvcbot/matcher.h"
#include "dvcbot/matcher_build.h"
#include "dvcbot/matcher_settings.h"
#include "dvcbot/matcher_augment.h"
#include "dvcbot/matcher_cache.h"
#include "dvcbot/matcher_model.h"
#include "dvcbot/mem.h"
#include "dvcbot/nbayes.h"
#include "dvcbot/normalize.h"
#include "dvcbot/rewrite.h"
#include "dvcbot/wordmap.h"

#include <math.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ===== Reporting ===== */

static const char *intent_id(const struct matcher *m, int intent)
{
    return catalog_at(m->cat, (size_t)intent)->id;
}

/* ===== Building: rules ===== */

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

/* re compiled as whole words ("\\b(?:re)\\b"), or NULL (reported). */
static pcre2_code *compile_words(struct builder *b, const char *re, const char *field)
{
    struct matcher *m = b->m;
    struct buf src;
    buf_init(&src);
    buf_printf(&src, "\\b(?:%s)\\b", re);
    int errcode;
    PCRE2_SIZE erroff;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)src.data, src.len, PCRE2_UTF | PCRE2_NO_UTF_CHECK,
                                     &errcode, &erroff, NULL);
    buf_free(&src);
    if (!code) {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(errcode, msg, sizeof msg) < 0)
            snprintf((char *)msg, sizeof msg, "error %d", errcode);
        problemf(&b->pb, b->file, field, "'%s': does not compile: %s", re, (char *)msg);
        return NULL;
    }
    /* JIT is an optimisation: without it (unsupported CPU) matching still works. */
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    uint32_t caps = 0;
    if (pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &caps) == 0 && caps > m->max_captures)
        m->max_captures = caps;
    return code;
}

static void add_rule(struct builder *b, const char *re, int intent, double weight)
{
    struct matcher *m = b->m;
    pcre2_code *code = compile_words(b, re, "match.patterns");
    if (!code)
        return;
    m->rules = xrealloc(m->rules, (m->n_rules + 1) * sizeof *m->rules);
    struct matcher_rule *r = &m->rules[m->n_rules++];
    *r = (struct matcher_rule){.code = code, .intent = intent, .weight = weight};
    matcher_needs_read(re, &r->needs);
}

static void load_patterns(struct builder *b, const cJSON *pats, int intent)
{
    const cJSON *e;
    if (!pats)
        return;
    if (!cJSON_IsArray(pats)) {
        problemf(&b->pb, b->file, "match.patterns", "must be an array of {\"re\", \"weight\"}");
        return;
    }
    cJSON_ArrayForEach(e, pats) {
        const cJSON *re = cJSON_GetObjectItemCaseSensitive(e, "re");
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(e, "weight");
        if (!cJSON_IsString(re) || !*re->valuestring || !cJSON_IsNumber(w) ||
            w->valuedouble < -10 || w->valuedouble > 10)
            problemf(&b->pb, b->file, "match.patterns",
                     "each item needs \"re\" (string) and \"weight\" in [-10, 10]");
        else if (!pattern_is_folded(re->valuestring))
            problemf(&b->pb, b->file, "match.patterns",
                     "'%s': write patterns in lower case without diacritics "
                     "(they run on folded text)", re->valuestring);
        else
            add_rule(b, re->valuestring, intent, w->valuedouble);
    }
}

/* match.claims: patterns that make a line this intent whatever the models
 * say (after an example equal to the line). */
static void load_claims(struct builder *b, const cJSON *arr, int intent)
{
    struct matcher *m = b->m;
    const cJSON *e;
    if (!arr)
        return;
    if (!cJSON_IsArray(arr)) {
        problemf(&b->pb, b->file, "match.claims", "must be an array of patterns");
        return;
    }
    cJSON_ArrayForEach(e, arr) {
        if (!cJSON_IsString(e) || !*e->valuestring) {
            problemf(&b->pb, b->file, "match.claims", "each item must be a non-empty pattern");
            continue;
        }
        if (!pattern_is_folded(e->valuestring)) {
            problemf(&b->pb, b->file, "match.claims",
                     "'%s': write patterns in lower case without diacritics "
                     "(they run on folded text)", e->valuestring);
            continue;
        }
        pcre2_code *code = compile_words(b, e->valuestring, "match.claims");
        if (!code)
            continue;
        m->claims = xrealloc(m->claims, (m->n_claims + 1) * sizeof *m->claims);
        struct matcher_rule *r = &m->claims[m->n_claims++];
        *r = (struct matcher_rule){.code = code, .intent = intent};
        matcher_needs_read(e->valuestring, &r->needs);
    }
}

/* ===== Building: training lines ===== */

struct tline {
    char *folded;
    char *rewritten;
    char *marked;   /* its words typed with marks (matcher_marked), or NULL */
    int intent;     /* whose line it is */
    int procedure;  /* the procedure an act template names, or -1 */
    double weight;
    bool example;   /* an example: also matched exactly */
};

struct corpus {
    struct tline *v;
    size_t n, cap;
    char **mentions[MATCHER_MAX_INTENTS]; /* how people name each procedure (folded) */
    char **raw_mentions[MATCHER_MAX_INTENTS]; /* the same as written */
    size_t n_mentions[MATCHER_MAX_INTENTS];
};

/* Adds a line: folded is taken over, raw (as written) is read. */
static void corpus_add(struct corpus *c, char *folded, const char *raw, int intent, int procedure,
                       double weight, bool example)
{
    char marked[MATCHER_MARKED_CAP];
    size_t mlen = raw ? matcher_marked(raw, strlen(raw), marked) : 0;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 1024;
        c->v = xrealloc(c->v, c->cap * sizeof *c->v);
    }
    c->v[c->n++] = (struct tline){folded, NULL, mlen ? xstrndup(marked, mlen) : NULL, intent,
                                  procedure, weight, example};
}

static void corpus_free(struct corpus *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].folded);
        free(c->v[i].rewritten);
        free(c->v[i].marked);
    }
    free(c->v);
    for (size_t i = 0; i < MATCHER_MAX_INTENTS; i++) {
        for (size_t k = 0; k < c->n_mentions[i]; k++) {
            free(c->mentions[i][k]);
            free(c->raw_mentions[i][k]);
        }
        free(c->mentions[i]);
        free(c->raw_mentions[i]);
    }
}

static char *fold_str(const char *s)
{
    return norm_fold(s, strlen(s), NULL);
}

/* Each item of a string array, folded, to fn; false when it is not one. */
static bool each_folded(struct builder *b, const cJSON *arr, const char *field,
                        void (*fn)(struct builder *, void *, char *, const char *), void *ud)
{
    const cJSON *e;
    if (!arr)
        return true;
    if (!cJSON_IsArray(arr)) {
        problemf(&b->pb, b->file, field, "must be an array of strings");
        return false;
    }
    cJSON_ArrayForEach(e, arr) {
        char *f = cJSON_IsString(e) ? fold_str(e->valuestring) : NULL;
        if (!f || !*f) {
            problemf(&b->pb, b->file, field, "every item must be a non-empty UTF-8 string");
            free(f);
            continue;
        }
        fn(b, ud, f, e->valuestring);
    }
    return true;
}

struct add_ctx {
    struct corpus *c;
    int intent;
};

static void add_example(struct builder *b, void *ud, char *folded, const char *raw)
{
    struct add_ctx *a = ud;
    const struct matcher_holdout *h = b->holdout;
    (void)raw;
    if (h && h->folds > 1 && matcher_fold_of(folded, h->folds) == h->fold) {
        free(folded); /* held out: cross-validation classifies it */
        return;
    }
    corpus_add(a->c, folded, raw, a->intent, -1, b->m->set.example_weight, true);
}

static void add_mention(struct builder *b, void *ud, char *folded, const char *raw)
{
    struct add_ctx *a = ud;
    struct corpus *c = a->c;
    size_t k = c->n_mentions[a->intent];
    (void)b;
    c->mentions[a->intent] = xrealloc(c->mentions[a->intent], (k + 1) * sizeof(char *));
    c->raw_mentions[a->intent] = xrealloc(c->raw_mentions[a->intent], (k + 1) * sizeof(char *));
    c->mentions[a->intent][k] = folded;
    c->raw_mentions[a->intent][k] = xstrdup(raw);
    c->n_mentions[a->intent]++;
}

static void load_keywords(struct builder *b, struct corpus *c, const cJSON *kw, int intent)
{
    const cJSON *e;
    if (!kw)
        return;
    if (!cJSON_IsObject(kw)) {
        problemf(&b->pb, b->file, "match.keywords", "must be an object {\"phrase\": weight}");
        return;
    }
    cJSON_ArrayForEach(e, kw) {
        char *f = fold_str(e->string);
        if (!cJSON_IsNumber(e) || e->valuedouble < -10 || e->valuedouble > 10) {
            problemf(&b->pb, b->file, "match.keywords", "'%s': weight must be a number in [-10, 10]",
                     e->string);
        } else if (!f || !*f) {
            problemf(&b->pb, b->file, "match.keywords", "'%s': must have a word", e->string);
        } else if (e->valuedouble > 0) {
            corpus_add(c, f, e->string, intent, -1, b->m->set.keyword_weight * e->valuedouble,
                       false);
            f = NULL;
        } else if (e->valuedouble < 0) {
            add_rule(b, f, intent, e->valuedouble); /* folded text is a literal pattern */
        }
        free(f);
    }
}

/* The names of a procedure people use: match.mentions, else its names. */
static void load_mentions(struct builder *b, struct corpus *c, const cJSON *sec, int intent)
{
    const struct intent *in = catalog_at(b->m->cat, (size_t)intent);
    struct add_ctx a = {c, intent};
    each_folded(b, cJSON_GetObjectItemCaseSensitive(sec, "mentions"), "match.mentions", add_mention, &a);
    if (c->n_mentions[intent])
        return;
    const char *names[] = {in->short_name, in->name};
    for (size_t i = 0; i < 2; i++) {
        char *f = names[i] ? fold_str(names[i]) : NULL;
        if (f && *f)
            add_mention(b, &a, f, names[i]);
        else
            free(f);
    }
}

/* "hồ sơ {p} của tôi đến đâu" once per procedure, with one of its names. */
static void load_templates(struct builder *b, struct corpus *c, const cJSON *arr, int intent)
{
    const cJSON *e;
    size_t t = 0;
    if (!arr)
        return;
    if (!cJSON_IsArray(arr)) {
        problemf(&b->pb, b->file, "match.templates", "must be an array of strings with {p}");
        return;
    }
    cJSON_ArrayForEach(e, arr) {
        const char *s = cJSON_IsString(e) ? e->valuestring : NULL;
        const char *p = s ? strstr(s, "{p}") : NULL;
        if (!p) {
            problemf(&b->pb, b->file, "match.templates", "every item must be a string with {p}");
            continue;
        }
        char *head = norm_fold(s, (size_t)(p - s), NULL), *tail = fold_str(p + 3);
        for (size_t i = 0; head && tail && i < b->m->n_intents; i++) {
            if (b->m->proc_class[i] < 0 || !c->n_mentions[i])
                continue;
            size_t k = t % c->n_mentions[i];
            struct buf line, raw;
            buf_init(&line);
            buf_init(&raw);
            buf_printf(&line, "%s %s %s", head, c->mentions[i][k], tail);
            buf_printf(&raw, "%.*s%s%s", (int)(p - s), s, c->raw_mentions[i][k], p + 3);
            corpus_add(c, xstrdup(buf_cstr(&line)), buf_cstr(&raw), intent, (int)i,
                       b->m->set.template_weight, false);
            buf_free(&line);
            buf_free(&raw);
        }
        free(head);
        free(tail);
        t++;
    }
}

static const cJSON *match_section(struct builder *b, size_t i)
{
    const struct intent *in = catalog_at(b->m->cat, i);
    snprintf(b->file, sizeof b->file, "%s.json", in->id);
    return cJSON_GetObjectItemCaseSensitive(in->json, "match");
}

static void collect(struct builder *b, struct corpus *c)
{
    struct matcher *m = b->m;
    for (size_t i = 0; i < m->n_intents; i++)
        if (m->proc_class[i] >= 0)
            load_mentions(b, c, match_section(b, i), (int)i);
    for (size_t i = 0; i < m->n_intents; i++) {
        const cJSON *sec = match_section(b, i);
        struct add_ctx a = {c, (int)i};
        each_folded(b, cJSON_GetObjectItemCaseSensitive(sec, "examples"), "match.examples",
                    add_example, &a);
        load_keywords(b, c, cJSON_GetObjectItemCaseSensitive(sec, "keywords"), (int)i);
        load_patterns(b, cJSON_GetObjectItemCaseSensitive(sec, "patterns"), (int)i);
        load_claims(b, cJSON_GetObjectItemCaseSensitive(sec, "claims"), (int)i);
        if (m->proc_class[i] < 0)
            load_templates(b, c, cJSON_GetObjectItemCaseSensitive(sec, "templates"), (int)i);
    }
}

/* ===== Building: training ===== */

/* Rewrites every line (words learned from all of them first), learns word
 * frequencies, and records the examples for exact matching. */
static void rewrite_corpus(struct builder *b, struct corpus *c)
{
    struct matcher *m = b->m;
    struct rewrite_line *ln = xmalloc(sizeof *ln);
    for (size_t i = 0; i < c->n; i++)
        rewriter_learn_words(&m->rw, c->v[i].folded);
    matcher_mask_load(m, &b->pb);
    for (size_t i = 0; i < c->n; i++) {
        struct tline *t = &c->v[i];
        rewriter_line(&m->rw, t->folded, strlen(t->folded), ln, false);
        rewriter_learn(&m->rw, ln);
        size_t mlen = t->marked ? strlen(t->marked) : 0;
        matcher_mask_line(m, ln, t->marked, &mlen);
        t->rewritten = xstrndup(ln->text, ln->len);
        int other;
        if (!t->example || !ln->len)
            continue;
        size_t flen = strlen(t->folded);
        if (wordmap_get(&m->examples, t->folded, flen, &other) && other != t->intent) {
            snprintf(b->file, sizeof b->file, "%s.json", intent_id(m, t->intent));
            problemf(&b->pb, b->file, "match.examples", "'%s' is also an example of %s", t->folded,
                     intent_id(m, other));
        } else {
            wordmap_put(&m->examples, t->folded, flen, t->intent);
        }
        /* read the same as an example of another id: the first one keeps it */
        if (!wordmap_get(&m->rewritten, ln->text, ln->len, &other))
            wordmap_put(&m->rewritten, ln->text, ln->len, t->intent);
    }
    rewriter_finish(&m->rw);
    free(ln);
}

/* ===== Building: names of procedures ===== */

static int by_first_word_longest(const void *a, const void *b)
{
    const struct matcher_mention *x = a, *y = b;
    size_t n = x->first_len < y->first_len ? x->first_len : y->first_len;
    int c = memcmp(x->text, y->text, n);
    if (c || x->first_len != y->first_len)
        return c ? c : (x->first_len < y->first_len ? -1 : 1);
    return x->len > y->len ? -1 : x->len < y->len ? 1 : x->intent - y->intent;
}

static void add_indexed_mention(struct matcher *m, struct rewrite_line *ln, const char *folded,
                                int intent, size_t *cap)
{
    rewriter_line(&m->rw, folded, strlen(folded), ln, false);
    if (!ln->n)
        return;
    if (m->n_mentions == *cap) {
        *cap = *cap ? *cap * 2 : 128;
        m->mentions = xrealloc(m->mentions, *cap * sizeof *m->mentions);
    }
    m->mentions[m->n_mentions++] =
        (struct matcher_mention){xstrndup(ln->text, ln->len), ln->len, ln->tok[0].len, intent};
}

/* Every procedure's mentions and its own names (short_name, name),
 * rewritten the way training lines are. */
static void index_mentions(struct matcher *m, const struct corpus *c)
{
    struct rewrite_line *ln = xmalloc(sizeof *ln);
    size_t cap = 0;
    for (size_t i = 0; i < m->n_intents; i++) {
        if (m->proc_class[i] < 0)
            continue;
        const struct intent *in = catalog_at(m->cat, i);
        const char *names[] = {in->short_name, in->name};
        for (size_t k = 0; k < c->n_mentions[i]; k++)
            add_indexed_mention(m, ln, c->mentions[i][k], (int)i, &cap);
        for (size_t k = 0; k < 2; k++) {
            char *f = names[k] ? fold_str(names[k]) : NULL;
            if (f && *f)
                add_indexed_mention(m, ln, f, (int)i, &cap);
            free(f);
        }
    }
    free(ln);
    qsort(m->mentions, m->n_mentions, sizeof *m->mentions, by_first_word_longest);
    for (size_t i = m->n_mentions; i-- > 0;) /* backwards: the first of each run wins */
        wordmap_put(&m->first_word, m->mentions[i].text, m->mentions[i].first_len, (int)i);
}

/* Splits a rewritten string back into a line. */
static void line_of(const char *s, struct rewrite_line *ln)
{
    size_t n = strlen(s);
    memcpy(ln->text, s, n + 1);
    ln->len = n;
    ln->n = 0;
    for (size_t i = 0; i < n && ln->n < REWRITE_MAX_TOKENS;) {
        size_t j = i;
        while (j < n && s[j] != ' ')
            j++;
        ln->tok[ln->n++] = (struct rewrite_span){(uint16_t)i, (uint16_t)(j - i)};
        i = j + 1;
    }
}

/* One line trains the naive Bayes models, the intent model under its id,
 * the procedure model under its procedure ("none" for the other ids), and
 * is kept for the gate (in scope / out of scope). An act's template is
 * counted once in the intent model, shared by the procedures it names, and
 * once per procedure in the procedure model. */
struct trained {
    bool *original; /* per line of m->nb: a line of the catalog, not a noisy copy */
    size_t n, cap;
};

static void train_line(struct matcher *m, struct trained *g, const struct tline *t,
                       const struct rewrite_line *ln, const char *marked, double weight,
                       bool original, uint64_t *feat)
{
    size_t nf = matcher_features(m, ln, marked, marked ? strlen(marked) : 0, feat);
    int pc = t->procedure >= 0 ? m->proc_class[t->procedure] : m->proc_class[t->intent];
    int cls[MATCHER_MODELS] = {t->intent, pc >= 0 ? pc : m->names_none};
    double w[MATCHER_MODELS] = {t->procedure >= 0 ? weight / (double)(m->n_procs - 1) : weight,
                                t->example ? weight * m->set.proc_example_weight : weight};
    nbayes_add(m->nb, feat, nf, cls, w, NULL);
    if (nbayes_lines(m->nb) > g->n) { /* learned: remember which kind of line */
        if (g->n == g->cap) {
            g->cap = g->cap ? g->cap * 2 : 4096;
            g->original = xrealloc(g->original, g->cap * sizeof *g->original);
        }
        g->original[g->n++] = original;
    }
}

/* Noisy copies of an example, read the way a user's line is (with typo
 * correction): what the rewriter makes of typos it cannot undo is learned. */
static void train_augmented(struct matcher *m, struct trained *g,
                            const struct tline *t, struct rewrite_line *ln, uint64_t *feat)
{
    char noisy[REWRITE_TEXT_CAP + 1];
    size_t len = strlen(t->folded);
    for (int k = 0; k < m->set.augment; k++) {
        size_t n = matcher_augment_line(t->folded, len, (unsigned)k, noisy, sizeof noisy);
        if (!n)
            continue;
        rewriter_line(&m->rw, noisy, n, ln, true);
        matcher_mask_line(m, ln, NULL, NULL);
        if (ln->n)
            train_line(m, g, t, ln, NULL, t->weight * m->set.augment_weight, false, feat);
    }
}

static void train(struct matcher *m, const struct corpus *c)
{
    struct rewrite_line *ln = xmalloc(sizeof *ln);
    uint64_t *feat = xmalloc(MATCHER_MAX_FEATURES * sizeof *feat);
    struct trained g = {.original = NULL, .n = 0, .cap = 0};
    for (size_t i = 0; i < c->n; i++) {
        const struct tline *t = &c->v[i];
        line_of(t->rewritten, ln);
        train_line(m, &g, t, ln, t->marked, t->weight, true, feat);
        if (t->example && matcher_fold_of(t->folded, 1000) < m->set.augment_share * 1000)
            train_augmented(m, &g, t, ln, feat);
    }
    nbayes_train(m->nb, m->set.alpha, (m->set.binary ? NBAYES_BINARY : 0) |
                                          (m->set.per_line ? NBAYES_PER_LINE : 0));
    matcher_gate_train(m, g.original);
    nbayes_forget_lines(m->nb);
    free(g.original);
    free(feat);
    free(ln);
}

/* The trained models from the cache when it has them for this data and
 * binary (matcher_cache.h), else trained and cached. A holdout is never
 * cached. */
static void train_or_restore(const struct builder *b, const struct corpus *c)
{
    if (b->holdout || !matcher_cache_load(b->m)) {
        train(b->m, c);
        if (!b->holdout)
            matcher_cache_save(b->m);
    }
    nbayes_weigh(b->m->nb, b->m->set.kind_weight);
}

/* Each id is a class of the intent model; procedures are also classes of
 * the procedure model, with "none" for every other id. */
static void assign_classes(struct matcher *m)
{
    for (size_t i = 0; i < m->n_intents; i++) {
        if (catalog_at(m->cat, i)->kind == INTENT_PROCEDURE) {
            m->proc_intent[m->n_procs] = (int)i;
            m->proc_class[i] = (int)m->n_procs++;
        } else {
            m->proc_class[i] = -1;
        }
    }
    m->names_none = (int)m->n_procs;
    m->proc_intent[m->n_procs++] = -1;
    size_t classes[MATCHER_MODELS] = {m->n_intents, m->n_procs};
    m->nb = nbayes_new(MATCHER_MODELS, classes);
}

static void build(struct builder *b)
{
    struct matcher *m = b->m;
    struct corpus c;
    memset(&c, 0, sizeof c);
    matcher_settings_load(b);
    assign_classes(m);
    collect(b, &c);
    matcher_group_rules(m);
    if (!b->pb.count) {
        rewrite_corpus(b, &c);
        index_mentions(m, &c);
        train_or_restore(b, &c);
    }
    corpus_free(&c);
}

unsigned matcher_fold_of(const char *folded, unsigned folds)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)folded; *p; p++)
        h = (h ^ *p) * 16777619u;
    return folds ? (h ^ (h >> 16)) % folds : 0;
}

struct matcher *matcher_build(const struct catalog *cat, const struct matcher_holdout *holdout,
                              catalog_report_fn report, void *ud)
{
    struct matcher *m = xcalloc(1, sizeof *m);
    struct builder b = {.m = m, .holdout = holdout, .pb = {.report = report, .ud = ud}, .file = ""};
    m->cat = cat;
    m->n_intents = catalog_size(cat);
    m->fallback = catalog_index(cat, CATALOG_FALLBACK_ID);
    wordmap_init(&m->examples);
    wordmap_init(&m->rewritten);
    wordmap_init(&m->first_word);
    wordmap_init(&m->places);
    wordmap_init(&m->lead_ins);
    wordmap_init(&m->choice_words);
    rewriter_init(&m->rw, 4);
    if (m->n_intents > MATCHER_MAX_INTENTS || m->fallback < 0)
        problemf(&b.pb, b.file, "", "catalog needs the id khac and at most %d intents",
                 MATCHER_MAX_INTENTS);
    else
        build(&b);
    if (b.pb.count) {
        matcher_free(m);
        return NULL;
    }
    return m;
}
