/* matcher — what the user wants to do, and about which procedure. */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "dvcbot/matcher.h"
#include "dvcbot/buf.h"
#include "dvcbot/mem.h"
#include "dvcbot/nbayes.h"
#include "dvcbot/normalize.h"
#include "dvcbot/rewrite.h"
#include "dvcbot/wordmap.h"

#include <math.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FEATURES (REWRITE_MAX_TOKENS * 2 + 2)

struct settings {
    double threshold;       /* act confidence below which the answer is khac */
    double proc_threshold;  /* procedure confidence below which it is not named */
    double ambiguous_ratio; /* runner-up / best procedure at or above which both are offered */
    double alpha;           /* smoothing: weight of the classes' mean in each class */
    double example_weight;  /* a training line's weight */
    double keyword_weight;  /* a keyword line's weight per unit of its weight */
    double template_weight; /* an act template's weight, shared by its procedures */
    double rule_weight;     /* log-score added per unit of a pattern's weight */
    double temperature;     /* log-scores are divided by it before becoming probabilities */
    double gate_threshold;  /* out-of-scope probability from which a line is khac */
    double unknown_weight;  /* log-score for "out of scope" per unknown word */
    int typo_min_len;       /* shorter unknown words are left alone */
};

/* A pattern, or a keyword with a negative weight, adds to one class's score. */
struct rule {
    pcre2_code *code;
    int intent;
    double weight;
};

struct matcher {
    const struct catalog *cat;
    size_t n_intents;
    int fallback;
    struct settings set;
    struct rewriter rw;

    /* The intent model: one class per catalog id (class i = intent i). The
     * procedure model: one class per procedure and one for "names none"; it
     * tells which procedure an act is about. */
    struct nbayes *intents, *procs;
    struct nbayes *gate;      /* in scope (class 0) or not (class 1, khac) */
    int proc_class[MATCHER_MAX_INTENTS];  /* intent → procedure class, or -1 */
    int proc_intent[MATCHER_MAX_INTENTS + 1]; /* procedure class → intent, -1: none */
    size_t n_procs;
    int names_none;

    struct rule *rules;
    size_t n_rules;
    uint32_t max_captures;

    struct wordmap examples;   /* rewritten example line → intent */
};

/* ===== Reporting ===== */

struct builder {
    struct matcher *m;
    struct problems pb;
    char file[96];
};

/* ===== Features ===== */

static uint64_t hash_more(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

#define HASH_SEED 14695981039346656037ull

/* Words by their spelling key ("tam chu" reads as "tam tru"), and each pair
 * of neighbours, with the line's start and end as neighbours too. */
static size_t features(const struct matcher *m, const struct rewrite_line *ln, uint64_t *out)
{
    size_t n = 0;
    uint64_t prev = hash_more(HASH_SEED, "^", 1);
    for (size_t i = 0; i < ln->n; i++) {
        char key[VNSPELL_MAX_WORD + 2];
        const char *w = ln->text + ln->tok[i].off;
        size_t len = ln->tok[i].len, kl = 0;
        if (len <= VNSPELL_MAX_WORD)
            kl = vnspell_key(&m->rw.spell, w, len, key, sizeof key);
        uint64_t h = hash_more(HASH_SEED, "w", 1);
        h = kl ? hash_more(h, key, kl) : hash_more(h, w, len);
        out[n++] = h;
        out[n++] = hash_more(prev * 31 + 7, (const char *)&h, sizeof h);
        prev = h;
    }
    if (ln->n)
        out[n++] = hash_more(prev * 31 + 7, "$", 1);
    return n;
}

/* ===== Rewriting a line ===== */

/* Folds and rewrites raw input; false when it is rejected. */
static bool read_line(const struct matcher *m, const char *text, size_t len, struct rewrite_line *ln)
{
    char folded[REWRITE_TEXT_CAP + 1];
    if (!text || len > MATCHER_MAX_INPUT)
        return false;
    size_t flen = norm_fold_into(text, len, folded, sizeof folded);
    if (flen == NORM_ERROR)
        return false;
    rewriter_line(&m->rw, folded, flen, ln, true);
    return true;
}

size_t matcher_rewrite(const struct matcher *m, const char *text, size_t len, char *out,
                       size_t cap)
{
    struct rewrite_line *ln = xmalloc(sizeof *ln);
    size_t n = 0;
    if (cap && read_line(m, text, len, ln)) {
        n = ln->len < cap ? ln->len : cap - 1;
        memcpy(out, ln->text, n);
    }
    if (cap)
        out[n] = '\0';
    free(ln);
    return n;
}

/* ===== Classifying ===== */

static double max_of(const double *v, size_t n)
{
    double m = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (v[i] > m)
            m = v[i];
    return m;
}

/* A rule moves its intent's score by its effect: it is matched only when
 * that can change which intent or procedure is best (the others' patterns
 * are skipped, which keeps classification fast). */
static void apply_rules(const struct matcher *m, const struct rewrite_line *ln, double *intent,
                        double *proc)
{
    if (!m->n_rules)
        return;
    double top = max_of(intent, m->n_intents), top_proc = max_of(proc, m->n_procs);
    pcre2_match_data *md = NULL;
    for (size_t i = 0; i < m->n_rules; i++) {
        const struct rule *r = &m->rules[i];
        double w = r->weight * m->set.rule_weight, reach = fabs(w);
        int pc = m->proc_class[r->intent];
        if (intent[r->intent] + reach < top && (pc < 0 || proc[pc] + reach < top_proc))
            continue;
        if (!md && !(md = pcre2_match_data_create(m->max_captures + 1, NULL)))
            return; /* out of memory: score without rules */
        int rc = pcre2_match(r->code, (PCRE2_SPTR)ln->text, ln->len, 0, PCRE2_NO_UTF_CHECK, md, NULL);
        if (rc < 0)
            continue; /* no match, or a resource limit: no evidence either way */
        intent[r->intent] += w;
        if (pc >= 0)
            proc[pc] += w;
    }
    pcre2_match_data_free(md);
}

static int best_of(const double *p, size_t n, int skip)
{
    int best = -1;
    for (size_t i = 0; i < n; i++)
        if ((int)i != skip && (best < 0 || p[i] > p[best]))
            best = (int)i;
    return best;
}

static const char *intent_id(const struct matcher *m, int intent)
{
    return catalog_at(m->cat, (size_t)intent)->id;
}

static bool is_procedure(const struct matcher *m, int intent)
{
    return intent >= 0 && m->proc_class[intent] >= 0;
}

/* The procedure the line names, as context for an act, or NULL. */
static const char *named_procedure(const struct matcher *m, const double *proc)
{
    int p = best_of(proc, m->n_procs, -1);
    if (p < 0 || p == m->names_none || proc[p] < m->set.proc_threshold)
        return NULL;
    return intent_id(m, m->proc_intent[p]);
}

static void decide(const struct matcher *m, const double *p, const double *proc,
                   struct match_result *out)
{
    int a = best_of(p, m->n_intents, -1);
    if (a < 0 || p[a] < m->set.threshold || a == m->fallback) {
        int b = best_of(p, m->n_intents, m->fallback);
        out->score = p[m->fallback];
        if (b >= 0) {
            out->alt_id = intent_id(m, b);
            out->alt_score = p[b];
        }
        return;
    }
    out->id = intent_id(m, a);
    out->score = p[a];
    if (!is_procedure(m, a))
        out->procedure = named_procedure(m, proc);
    int b = best_of(p, m->n_intents, a);
    if (b < 0)
        return;
    out->alt_id = intent_id(m, b);
    out->alt_score = p[b];
    out->ambiguous = is_procedure(m, a) && is_procedure(m, b) &&
                     p[b] >= m->set.ambiguous_ratio * p[a];
}

static void result_clear(struct match_result *out, const char *fallback)
{
    *out = (struct match_result){.id = fallback, .score = 1, .alt_id = NULL, .alt_score = 0,
                                 .ambiguous = false, .procedure = NULL};
}

/* Both models' probabilities for a line; false when the line has no word
 * the models know. */
struct scored {
    double intent[MATCHER_MAX_INTENTS], proc[MATCHER_MAX_INTENTS + 1], gate[2];
    size_t known, n_feat;
};

static bool score_line(const struct matcher *m, const struct rewrite_line *ln, struct scored *sc)
{
    uint64_t feat[MAX_FEATURES];
    sc->n_feat = features(m, ln, feat);
    sc->known = nbayes_scores(m->procs, feat, sc->n_feat, sc->proc);
    if (!sc->known)
        return false;
    nbayes_scores(m->intents, feat, sc->n_feat, sc->intent);
    nbayes_scores(m->gate, feat, sc->n_feat, sc->gate);
    /* words the model never saw count for "out of scope" */
    sc->gate[1] += m->set.unknown_weight * (double)(sc->n_feat - sc->known);
    apply_rules(m, ln, sc->intent, sc->proc);
    /* naive Bayes counts overlapping words as independent evidence: its
     * probabilities are too sure of themselves without a temperature */
    for (size_t i = 0; i < m->n_procs; i++)
        sc->proc[i] /= m->set.temperature;
    for (size_t i = 0; i < m->n_intents; i++)
        sc->intent[i] /= m->set.temperature;
    sc->gate[0] /= m->set.temperature;
    sc->gate[1] /= m->set.temperature;
    nbayes_normalize(sc->proc, m->n_procs);
    nbayes_normalize(sc->intent, m->n_intents);
    nbayes_normalize(sc->gate, 2);
    return true;
}

void matcher_classify(const struct matcher *m, const char *text, size_t len,
                      struct match_result *out)
{
    struct rewrite_line ln;
    struct scored sc;
    result_clear(out, intent_id(m, m->fallback));
    if (!read_line(m, text, len, &ln) || !ln.n || !score_line(m, &ln, &sc))
        return;
    int ex;
    if (wordmap_get(&m->examples, ln.text, ln.len, &ex)) {
        out->id = intent_id(m, ex);
        out->procedure = m->proc_class[ex] < 0 ? named_procedure(m, sc.proc) : NULL;
        return;
    }
    if (sc.gate[1] >= m->set.gate_threshold)
        sc.intent[m->fallback] = 1; /* out of scope, whatever it looks like */
    decide(m, sc.intent, sc.proc, out);
    if (out->score < 0)
        out->score = 0;
    if (out->score > 1)
        out->score = 1;
}

/* ===== Explaining ===== */

static void explain_top(struct buf *b, const struct matcher *m, const double *p, size_t n,
                        const int *intent_of, const char *none)
{
    int done[3] = {-1, -1, -1};
    for (int k = 0; k < 3; k++) {
        int best = -1;
        for (size_t i = 0; i < n; i++)
            if ((int)i != done[0] && (int)i != done[1] && (best < 0 || p[i] > p[best]))
                best = (int)i;
        if (best < 0)
            break;
        done[k] = best;
        int in = intent_of ? intent_of[best] : best;
        buf_printf(b, " %s=%.3f", in >= 0 ? intent_id(m, in) : none, p[best]);
    }
}

void matcher_explain(const struct matcher *m, const char *text, size_t len, struct buf *out)
{
    struct rewrite_line ln;
    struct scored sc;
    if (!read_line(m, text, len, &ln)) {
        buf_puts(out, "rejected");
        return;
    }
    bool any = score_line(m, &ln, &sc);
    buf_printf(out, "[%s] known %zu/%zu", ln.text, sc.known, sc.n_feat);
    if (!any)
        return;
    buf_printf(out, " out of scope %.3f intents:", sc.gate[1]);
    explain_top(out, m, sc.intent, m->n_intents, NULL, "");
    buf_puts(out, " procedures:");
    explain_top(out, m, sc.proc, m->n_procs, m->proc_intent, "(none)");
}

/* ===== Building: settings and shared data ===== */

static void load_settings(struct builder *b, const cJSON *j)
{
    struct settings *s = &b->m->set;
    *s = (struct settings){.threshold = 0.5, .proc_threshold = 0.4, .ambiguous_ratio = 0.6,
                           .alpha = 0.1, .example_weight = 1, .keyword_weight = 1,
                           .template_weight = 3, .rule_weight = 1.5, .temperature = 1,
                           .gate_threshold = 0.5, .unknown_weight = 1,                            .typo_min_len = 4};
    if (!j)
        return;
    snprintf(b->file, sizeof b->file, "_matcher.json");
    static const struct {
        const char *key;
        size_t off;
        double lo, hi;
    } nums[] = {
        {"threshold", offsetof(struct settings, threshold), 0, 1},
        {"proc_threshold", offsetof(struct settings, proc_threshold), 0, 1},
        {"ambiguous_ratio", offsetof(struct settings, ambiguous_ratio), 0, 1},
        {"alpha", offsetof(struct settings, alpha), 0.001, 0.999},
        {"example_weight", offsetof(struct settings, example_weight), 0, 100},
        {"keyword_weight", offsetof(struct settings, keyword_weight), 0, 100},
        {"template_weight", offsetof(struct settings, template_weight), 0, 100},
        {"rule_weight", offsetof(struct settings, rule_weight), 0, 100},
        {"temperature", offsetof(struct settings, temperature), 0.1, 100},
        {"gate_threshold", offsetof(struct settings, gate_threshold), 0, 1},
        {"unknown_weight", offsetof(struct settings, unknown_weight), 0, 100},
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, nums[i].key);
        if (!v)
            continue;
        if (!cJSON_IsNumber(v) || v->valuedouble < nums[i].lo || v->valuedouble > nums[i].hi)
            problemf(&b->pb, b->file, nums[i].key, "must be a number in [%g, %g]", nums[i].lo, nums[i].hi);
        else
            *(double *)(void *)((char *)s + nums[i].off) = v->valuedouble;
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "typo_min_len");
    if (t && (!cJSON_IsNumber(t) || t->valueint < 2 || t->valueint > VNSPELL_MAX_WORD))
        problemf(&b->pb, b->file, "typo_min_len", "must be an integer in [2, %d]", VNSPELL_MAX_WORD);
    else if (t)
        s->typo_min_len = t->valueint;
}

/* known_words comes after the syllables: it names words that are not. */
static void load_known_words(struct builder *b, const cJSON *j)
{
    const cJSON *kw = cJSON_GetObjectItemCaseSensitive(j, "known_words"), *e;
    snprintf(b->file, sizeof b->file, "_matcher.json");
    if (kw && !cJSON_IsArray(kw))
        problemf(&b->pb, b->file, "known_words", "must be an array of strings");
    cJSON_ArrayForEach(e, kw) {
        char *f = cJSON_IsString(e) ? norm_fold(e->valuestring, strlen(e->valuestring), NULL) : NULL;
        if (!f)
            problemf(&b->pb, b->file, "known_words", "every item must be a UTF-8 string");
        else
            rewriter_add_known(&b->m->rw, f);
        free(f);
    }
}

static void load_syllables(struct builder *b, const cJSON *j)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "syllables"), *e;
    snprintf(b->file, sizeof b->file, "_syllables.json");
    if (!cJSON_IsArray(list)) {
        problemf(&b->pb, b->file, "syllables", "missing: an array of folded syllables");
        return;
    }
    cJSON_ArrayForEach(e, list) {
        const char *s = cJSON_IsString(e) ? e->valuestring : "";
        size_t n = strlen(s), i = 0;
        while (i < n && s[i] >= 'a' && s[i] <= 'z')
            i++;
        if (!n || i != n || n > VNSPELL_MAX_WORD)
            problemf(&b->pb, b->file, "syllables", "'%s': must be lower-case letters a-z", s);
        else
            rewriter_add_syllable(&b->m->rw, s, n);
    }
}

static void load_abbreviations(struct builder *b, const cJSON *j)
{
    if (!j)
        return;
    snprintf(b->file, sizeof b->file, "_abbreviations.json");
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(j, "abbreviations"), *e;
    if (!cJSON_IsObject(map)) {
        problemf(&b->pb, b->file, "abbreviations", "missing object {\"abbr\": \"expansion\"}");
        return;
    }
    cJSON_ArrayForEach(e, map) {
        size_t klen;
        char *key = norm_fold(e->string, strlen(e->string), &klen);
        char *val = cJSON_IsString(e) ? norm_fold(e->valuestring, strlen(e->valuestring), NULL) : NULL;
        if (!key || !val || !klen || strchr(key, ' ') || !*val || klen > VNSPELL_MAX_WORD)
            problemf(&b->pb, b->file, "abbreviations", "'%s': key must be one word, value a non-empty string",
                     e->string);
        else
            rewriter_add_abbreviation(&b->m->rw, key, klen, val);
        free(key);
        free(val);
    }
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

static void add_rule(struct builder *b, const char *re, int intent, double weight)
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
        problemf(&b->pb, b->file, "match.patterns", "'%s': does not compile: %s", re, (char *)msg);
        return;
    }
    /* JIT is an optimisation: without it (unsupported CPU) matching still works. */
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    uint32_t caps = 0;
    if (pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &caps) == 0 && caps > m->max_captures)
        m->max_captures = caps;
    m->rules = xrealloc(m->rules, (m->n_rules + 1) * sizeof *m->rules);
    m->rules[m->n_rules++] = (struct rule){code, intent, weight};
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
            problemf(&b->pb, b->file,
                     "match.patterns", "each item needs \"re\" (string) and \"weight\" in [-10, 10]");
        else if (!pattern_is_folded(re->valuestring))
            problemf(&b->pb, b->file,
                     "match.patterns", "'%s': write patterns in lower case without diacritics "
                     "(they run on folded text)", re->valuestring);
        else
            add_rule(b, re->valuestring, intent, w->valuedouble);
    }
}

/* ===== Building: training lines ===== */

struct tline {
    char *folded;
    char *rewritten;
    int intent;     /* whose line it is */
    int procedure;  /* the procedure an act template names, or -1 */
    double weight;
    bool example;   /* an example: also matched exactly */
};

struct corpus {
    struct tline *v;
    size_t n;
    char **mentions[MATCHER_MAX_INTENTS]; /* how people name each procedure (folded) */
    size_t n_mentions[MATCHER_MAX_INTENTS];
};

static void corpus_add(struct corpus *c, char *folded, int intent, int procedure, double weight,
                       bool example)
{
    c->v = xrealloc(c->v, (c->n + 1) * sizeof *c->v);
    c->v[c->n++] = (struct tline){folded, NULL, intent, procedure, weight, example};
}

static void corpus_free(struct corpus *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].folded);
        free(c->v[i].rewritten);
    }
    free(c->v);
    for (size_t i = 0; i < MATCHER_MAX_INTENTS; i++) {
        for (size_t k = 0; k < c->n_mentions[i]; k++)
            free(c->mentions[i][k]);
        free(c->mentions[i]);
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
    (void)raw;
    corpus_add(a->c, folded, a->intent, -1, b->m->set.example_weight, true);
}

static void add_mention(struct builder *b, void *ud, char *folded, const char *raw)
{
    struct add_ctx *a = ud;
    struct corpus *c = a->c;
    (void)b;
    (void)raw;
    c->mentions[a->intent] = xrealloc(c->mentions[a->intent],
                                      (c->n_mentions[a->intent] + 1) * sizeof(char *));
    c->mentions[a->intent][c->n_mentions[a->intent]++] = folded;
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
            problemf(&b->pb, b->file,
                     "match.keywords", "'%s': weight must be a number in [-10, 10]", e->string);
        } else if (!f || !*f) {
            problemf(&b->pb, b->file, "match.keywords", "'%s': must have a word", e->string);
        } else if (e->valuedouble > 0) {
            corpus_add(c, f, intent, -1, b->m->set.keyword_weight * e->valuedouble, false);
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
            struct buf line;
            buf_init(&line);
            buf_printf(&line, "%s %s %s", head, c->mentions[i][t % c->n_mentions[i]], tail);
            corpus_add(c, xstrdup(buf_cstr(&line)), intent, (int)i, b->m->set.template_weight, false);
            buf_free(&line);
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
    for (size_t i = 0; i < c->n; i++) {
        struct tline *t = &c->v[i];
        rewriter_line(&m->rw, t->folded, strlen(t->folded), ln, false);
        rewriter_learn(&m->rw, ln);
        t->rewritten = xstrndup(ln->text, ln->len);
        int other;
        if (!t->example || !ln->len)
            continue;
        if (wordmap_get(&m->examples, ln->text, ln->len, &other) && other != t->intent) {
            snprintf(b->file, sizeof b->file, "%s.json", intent_id(m, t->intent));
            problemf(&b->pb, b->file, "match.examples", "'%s' is also an example of %s", t->folded,
                     intent_id(m, other));
        } else {
            wordmap_put(&m->examples, ln->text, ln->len, t->intent);
        }
    }
    rewriter_finish(&m->rw);
    free(ln);
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

/* Every line trains both models: the intent model under its id, the
 * procedure model under its procedure ("none" for the other ids). An act's
 * template is counted once in the intent model, shared by the procedures it
 * names, and once per procedure in the procedure model. */
static void train(struct matcher *m, const struct corpus *c)
{
    struct rewrite_line *ln = xmalloc(sizeof *ln);
    uint64_t *feat = xmalloc(MAX_FEATURES * sizeof *feat);
    for (size_t i = 0; i < c->n; i++) {
        const struct tline *t = &c->v[i];
        line_of(t->rewritten, ln);
        size_t nf = features(m, ln, feat);
        int pc = t->procedure >= 0 ? m->proc_class[t->procedure] : m->proc_class[t->intent];
        nbayes_add(m->procs, feat, nf, pc >= 0 ? pc : m->names_none, t->weight);
        double w = t->procedure >= 0 ? t->weight / (double)(m->n_procs - 1) : t->weight;
        nbayes_add(m->intents, feat, nf, t->intent, w);
        nbayes_add(m->gate, feat, nf, t->intent == m->fallback, t->weight);
    }
    nbayes_train(m->gate, m->set.alpha);
    nbayes_train(m->procs, m->set.alpha);
    nbayes_train(m->intents, m->set.alpha);
    free(feat);
    free(ln);
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
    m->intents = nbayes_new(m->n_intents);
    m->procs = nbayes_new(m->n_procs);
    m->gate = nbayes_new(2);
}

static void build(struct builder *b)
{
    struct matcher *m = b->m;
    struct corpus c;
    memset(&c, 0, sizeof c);
    const cJSON *tuning = catalog_extra(m->cat, "matcher");
    load_settings(b, tuning);
    m->rw.typo_min_len = m->set.typo_min_len;
    load_syllables(b, catalog_extra(m->cat, "syllables"));
    load_known_words(b, tuning);
    load_abbreviations(b, catalog_extra(m->cat, "abbreviations"));
    assign_classes(m);
    collect(b, &c);
    if (!b->pb.count) {
        rewrite_corpus(b, &c);
        train(m, &c);
    }
    corpus_free(&c);
}

struct matcher *matcher_new_report(const struct catalog *cat, catalog_report_fn report, void *ud)
{
    struct matcher *m = xcalloc(1, sizeof *m);
    struct builder b = {.m = m, .pb = {.report = report, .ud = ud}, .file = ""};
    m->cat = cat;
    m->n_intents = catalog_size(cat);
    m->fallback = catalog_index(cat, CATALOG_FALLBACK_ID);
    wordmap_init(&m->examples);
    rewriter_init(&m->rw, 4);
    if (m->n_intents > MATCHER_MAX_INTENTS || m->fallback < 0)
        problemf(&b.pb, b.file, "", "catalog needs the id khac and at most %d intents", MATCHER_MAX_INTENTS);
    else
        build(&b);
    if (b.pb.count) {
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

void matcher_free(struct matcher *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_rules; i++)
        pcre2_code_free(m->rules[i].code);
    free(m->rules);
    nbayes_free(m->intents);
    nbayes_free(m->gate);
    nbayes_free(m->procs);
    rewriter_free(&m->rw);
    wordmap_free(&m->examples);
    free(m);
}
