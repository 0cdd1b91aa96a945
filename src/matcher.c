/* matcher — what the user wants to do, and about which procedure: reading a
 * line with the trained model (matcher_train.c builds it). */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "dvcbot/matcher.h"
#include "dvcbot/buf.h"
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

/* ===== Features ===== */

#define HASH_SEED 14695981039346656037ull

static uint64_t hash_more(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static uint64_t of_kind(uint64_t h, enum matcher_kind kind)
{
    return (h & ~(uint64_t)(NBAYES_KINDS - 1)) | (uint64_t)kind;
}

/* The spelling key of each word ("tam chu" reads as "tam tru"), separated
 * by one space and surrounded by spaces, into out (cap bytes). */
static size_t keyed_text(const struct matcher *m, const struct rewrite_line *ln, char *out,
                         size_t cap)
{
    size_t n = 0;
    out[n++] = ' ';
    for (size_t i = 0; i < ln->n; i++) {
        const char *w = ln->text + ln->tok[i].off;
        size_t len = ln->tok[i].len, kl = 0;
        if (n + len + 2 > cap)
            break;
        if (len <= VNSPELL_MAX_WORD)
            kl = vnspell_key(&m->rw.spell, w, len, out + n, cap - n);
        if (!kl) {
            memcpy(out + n, w, len);
            kl = len;
        }
        n += kl;
        out[n++] = ' ';
    }
    return n;
}

size_t matcher_marked(const char *text, size_t len, char *out)
{
    size_t i = 0;
    while (i < len && !((unsigned char)text[i] & 0x80))
        i++;
    if (i == len)
        return 0; /* typed without marks */
    size_t n = norm_marked_words(text, len, out, MATCHER_MARKED_CAP);
    return n == NORM_ERROR ? 0 : n;
}

/* Words (by their spelling key), each pair of neighbours (the line's start
 * and end are neighbours too), the words typed with their marks ("vàng" is
 * not "vắng", "cười" not "cưới": folding loses that) and, when char_weight
 * is set, the character n-grams of the keyed text ("typo-proof" evidence:
 * "khaii" shares most of its n-grams with "khai"). */
size_t matcher_features(const struct matcher *m, const struct rewrite_line *ln,
                        const char *marked, size_t mlen, uint64_t *out)
{
    char keyed[REWRITE_TEXT_CAP + 2];
    size_t kn = keyed_text(m, ln, keyed, sizeof keyed), n = 0;
    uint64_t prev = hash_more(HASH_SEED, "^", 1);
    for (size_t i = 0, s = 1; s < kn && n + 3 <= MATCHER_MAX_FEATURES; i++) {
        size_t e = s;
        while (e < kn && keyed[e] != ' ')
            e++;
        uint64_t h = of_kind(hash_more(HASH_SEED, keyed + s, e - s), KIND_WORD);
        out[n++] = h;
        out[n++] = of_kind(hash_more(prev * 31 + 7, (const char *)&h, sizeof h), KIND_PAIR);
        prev = h;
        s = e + 1;
    }
    if (ln->n)
        out[n++] = of_kind(hash_more(prev * 31 + 7, "$", 1), KIND_PAIR);
    for (size_t s = 0; marked && s < mlen && n < MATCHER_MAX_FEATURES;) {
        size_t e = s;
        while (e < mlen && marked[e] != ' ')
            e++;
        out[n++] = of_kind(hash_more(HASH_SEED ^ 0x27d4eb2f, marked + s, e - s), KIND_MARKED);
        s = e + 1;
    }
    size_t cn = (size_t)m->set.char_n;
    if (m->set.kind_weight[KIND_CHARS] > 0)
        for (size_t i = 0; i + cn <= kn && n < MATCHER_MAX_FEATURES; i++)
            out[n++] = of_kind(hash_more(HASH_SEED ^ 0x5bd1e995, keyed + i, cn), KIND_CHARS);
    return n;
}

/* ===== Reading a line ===== */

/* Folds and rewrites. */
static bool read_folded(const struct matcher *m, const char *text, size_t len,
                        struct rewrite_line *ln, char *folded, size_t *flen)
{
    if (!text || len > MATCHER_MAX_INPUT)
        return false;
    *flen = norm_fold_into(text, len, folded, REWRITE_TEXT_CAP + 1);
    if (*flen == NORM_ERROR)
        return false;
    rewriter_line(&m->rw, folded, *flen, ln, true);
    return true;
}

bool matcher_read_line(const struct matcher *m, const char *text, size_t len,
                       struct rewrite_line *ln)
{
    char folded[REWRITE_TEXT_CAP + 1];
    size_t flen;
    return read_folded(m, text, len, ln, folded, &flen);
}

/* The intent of the first match.claims pattern in ln (masked), or -1. */
static int claimant(const struct matcher *m, const struct rewrite_line *ln)
{
    pcre2_match_data *md = NULL;
    int intent = -1;
    for (size_t i = 0; i < m->n_claims && intent < 0; i++) {
        const struct matcher_rule *c = &m->claims[i];
        if (!matcher_needs_met(&c->needs, ln->text, ln->len))
            continue; /* it cannot match: a word it needs is missing */
        if (!md && !(md = pcre2_match_data_create(m->max_captures + 1, NULL)))
            return -1; /* out of memory: no claim, the models decide */
        if (pcre2_match(c->code, (PCRE2_SPTR)ln->text, ln->len, 0, PCRE2_NO_UTF_CHECK, md, NULL) >= 0)
            intent = c->intent;
    }
    pcre2_match_data_free(md);
    return intent;
}

/* matcher_read, also handing back the line as rewritten before masking
 * (line may be NULL; *line NULL when the input is rejected). */
static bool read_input(const struct matcher *m, const char *text, size_t len,
                       struct matcher_input *in, char **line)
{
    char folded[REWRITE_TEXT_CAP + 1];
    size_t flen;
    bool read = read_folded(m, text, len, &in->ln, folded, &flen);
    if (line)
        *line = read ? xstrndup(in->ln.text, in->ln.len) : NULL;
    if (!read)
        return false;
    in->mlen = matcher_marked(text, len, in->marked);
    matcher_mask_line(m, &in->ln, in->marked, &in->mlen);
    /* the intent of an example that folds, or else reads, the same; else
     * of a claim the line has */
    in->claimed = false;
    if (!wordmap_get(&m->examples, folded, flen, &in->exact) &&
        !wordmap_get(&m->rewritten, in->ln.text, in->ln.len, &in->exact)) {
        in->exact = claimant(m, &in->ln);
        in->claimed = in->exact >= 0;
    }
    return true;
}

bool matcher_read(const struct matcher *m, const char *text, size_t len, struct matcher_input *in)
{
    return read_input(m, text, len, in, NULL);
}

size_t matcher_rewrite(const struct matcher *m, const char *text, size_t len, char *out,
                       size_t cap)
{
    struct rewrite_line *ln = xmalloc(sizeof *ln);
    size_t n = 0;
    if (cap && matcher_read_line(m, text, len, ln)) {
        n = ln->len < cap ? ln->len : cap - 1;
        memcpy(out, ln->text, n);
    }
    if (cap)
        out[n] = '\0';
    free(ln);
    return n;
}

/* ===== Names of procedures ===== */

/* The procedure whose longest mention appears as whole words in the line,
 * or -1. One lookup per word: mentions are indexed by their first word. */
static int mentioned_procedure(const struct matcher *m, const struct rewrite_line *ln)
{
    int best = -1;
    size_t best_len = 0;
    for (size_t i = 0; i < ln->n; i++) {
        const char *w = ln->text + ln->tok[i].off;
        size_t rest = ln->len - ln->tok[i].off;
        int k;
        if (!wordmap_get(&m->first_word, w, ln->tok[i].len, &k))
            continue;
        for (const struct matcher_mention *mm = &m->mentions[k];
             mm < m->mentions + m->n_mentions && mm->first_len == ln->tok[i].len &&
             memcmp(mm->text, w, mm->first_len) == 0;
             mm++)
            if (mm->len > best_len && mm->len <= rest && memcmp(mm->text, w, mm->len) == 0 &&
                (mm->len == rest || w[mm->len] == ' ')) {
                best = mm->intent;
                best_len = mm->len;
            }
    }
    return best;
}

/* ===== Scoring ===== */

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
 * are skipped, which keeps classification fast). A run of rules of one
 * intent none of which could is skipped at once: no rule of it matches, so
 * its intent's score stays what the run's first check read. */
static void apply_rules(const struct matcher *m, const struct rewrite_line *ln, double *intent,
                        double *proc)
{
    if (!m->n_rules)
        return;
    double top = max_of(intent, m->n_intents), top_proc = max_of(proc, m->n_procs);
    pcre2_match_data *md = NULL;
    for (size_t i = 0; i < m->n_rules;) {
        const struct matcher_rule *r = &m->rules[i];
        int pc = m->proc_class[r->intent];
        if (intent[r->intent] + r->rest_reach < top &&
            (pc < 0 || proc[pc] + r->rest_reach < top_proc)) {
            i = r->run_end;
            continue;
        }
        i++;
        if (intent[r->intent] + r->reach < top && (pc < 0 || proc[pc] + r->reach < top_proc))
            continue;
        if (!matcher_needs_met(&r->needs, ln->text, ln->len))
            continue; /* it cannot match: a word it needs is missing */
        if (!md && !(md = pcre2_match_data_create(m->max_captures + 1, NULL)))
            return; /* out of memory: score without rules */
        int rc = pcre2_match(r->code, (PCRE2_SPTR)ln->text, ln->len, 0, PCRE2_NO_UTF_CHECK, md, NULL);
        if (rc < 0)
            continue; /* no match, or a resource limit: no evidence either way */
        intent[r->intent] += r->w;
        if (pc >= 0)
            proc[pc] += r->w;
    }
    pcre2_match_data_free(md);
}

void matcher_group_rules(struct matcher *m)
{
    for (size_t i = m->n_rules; i-- > 0;) {
        struct matcher_rule *r = &m->rules[i];
        const struct matcher_rule *next = i + 1 < m->n_rules ? &m->rules[i + 1] : NULL;
        r->w = r->weight * m->set.rule_weight;
        r->reach = fabs(r->w);
        bool same_run = next && next->intent == r->intent;
        r->run_end = same_run ? next->run_end : i + 1;
        r->rest_reach = same_run && next->rest_reach > r->reach ? next->rest_reach : r->reach;
    }
}

/* The index of p's largest value (the first of equals), skip left out;
 * -1 when none. */
static int best_of(const double *p, size_t n, int skip)
{
    int best = -1;
    double top = 0;
    for (size_t i = 0; i < n; i++)
        if ((int)i != skip && (best < 0 || p[i] > top)) {
            best = (int)i;
            top = p[i];
        }
    return best;
}

/* A procedure the line names by one of its mentions ("tặng cho đất")
 * gets mention_weight when the best reading is another procedure: its name
 * outweighs words that only say who asks ("vợ chồng tôi") or how ("phải
 * làm những gì"). An act about it ("chuyển khoản phí sổ đỏ") stays the act. */
static void name_wins(const struct matcher *m, struct matcher_scores *sc)
{
    if (sc->mentioned < 0 || m->set.mention_weight <= 0)
        return;
    int best = best_of(sc->intent, m->n_intents, -1);
    if (best < 0 || best == sc->mentioned || m->proc_class[best] < 0)
        return;
    sc->intent[sc->mentioned] += m->set.mention_weight;
    int pc = m->proc_class[sc->mentioned];
    if (pc >= 0)
        sc->proc[pc] += m->set.mention_weight;
}

static void cool(double *v, size_t n, double temperature)
{
    for (size_t i = 0; i < n; i++)
        v[i] /= temperature;
}

/* The procedure model's log-scores (after rules and names) into
 * probabilities, in place. */
static void procedure_probabilities(const struct matcher *m, double *proc)
{
    cool(proc, m->n_procs, m->set.temperature);
    nbayes_normalize(proc, m->n_procs);
}

void matcher_gate_dense(size_t words, size_t unknown, float out[MATCHER_GATE_DENSE])
{
    out[0] = (float)log1p((double)unknown);
    out[1] = words ? (float)unknown / (float)words : 0;
    out[2] = (float)log1p((double)words);
}

/* The gate's log-odds of "out of scope". index: each feature's index
 * (made rows here). */
static double gate_logodds(const struct matcher *m, const struct matcher_scores *sc,
                           int32_t *index)
{
    double scale = sc->n_feat ? 1 / sqrt((double)sc->n_feat) : 0, z[2];
    float dense[MATCHER_GATE_DENSE];
    for (size_t i = 0; i < sc->n_feat; i++)
        index[i] = index[i] >= 0 ? m->row_of[index[i]] : -1;
    matcher_gate_dense(sc->words, sc->words - sc->known_words, dense);
    softmax_logits(&m->gate, index, sc->n_feat, scale, dense, z);
    return z[1] - z[0];
}

/* matcher_score; lazy: leave the procedure model's log-scores for
 * named_procedure (proc_pending), and the intents' unnormalised when an
 * example or claim decided the intent (matcher_decide reads neither). */
static bool score_line(const struct matcher *m, const struct matcher_input *in,
                       struct matcher_scores *sc, bool lazy)
{
    const struct rewrite_line *ln = &in->ln;
    uint64_t feat[MATCHER_MAX_FEATURES];
    int32_t index[MATCHER_MAX_FEATURES];
    double *out[MATCHER_MODELS] = {sc->intent, sc->proc};
    size_t known[NBAYES_KINDS];
    sc->exact = in->exact;
    sc->mentioned = mentioned_procedure(m, ln);
    sc->n_feat = matcher_features(m, ln, in->marked, in->mlen, feat);
    sc->known = nbayes_scores(m->nb, feat, sc->n_feat, m->set.kind_weight, out, known, index);
    sc->words = ln->n;
    sc->known_words = known[KIND_WORD];
    sc->gate_logodds = gate_logodds(m, sc, index);
    if (!sc->known_words || matcher_is_choice(m, ln))
        return false;
    apply_rules(m, ln, sc->intent, sc->proc);
    name_wins(m, sc);
    /* naive Bayes counts overlapping words as independent evidence: its
     * probabilities are too sure of themselves without a temperature */
    sc->proc_pending = lazy;
    if (!lazy)
        procedure_probabilities(m, sc->proc);
    if (lazy && sc->exact >= 0)
        return true;
    cool(sc->intent, m->n_intents, m->set.temperature);
    nbayes_normalize(sc->intent, m->n_intents);
    matcher_mask_requires(m, ln, sc->intent);
    return true;
}

bool matcher_score(const struct matcher *m, const struct matcher_input *in,
                   struct matcher_scores *sc)
{
    return score_line(m, in, sc, false);
}

/* ===== Deciding ===== */

static const char *intent_id(const struct matcher *m, int intent)
{
    return catalog_at(m->cat, (size_t)intent)->id;
}

static bool is_procedure(const struct matcher *m, int intent)
{
    return intent >= 0 && m->proc_class[intent] >= 0;
}

/* The procedure the line names, as context for an act, or NULL: one whose
 * name it has, else the procedure model's guess when sure enough. */
static const char *named_procedure(const struct matcher *m, const struct matcher_settings *s,
                                   const struct matcher_scores *sc)
{
    const double *proc = sc->proc;
    double ready[MATCHER_MAX_INTENTS + 1];
    if (sc->mentioned >= 0)
        return intent_id(m, sc->mentioned);
    if (sc->proc_pending) {
        memcpy(ready, sc->proc, m->n_procs * sizeof *ready);
        procedure_probabilities(m, ready);
        proc = ready;
    }
    int p = best_of(proc, m->n_procs, -1);
    if (p < 0 || p == m->names_none || proc[p] < s->proc_threshold)
        return NULL;
    return intent_id(m, m->proc_intent[p]);
}

static double clamp(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* The inputs: the gate's log-odds, how much more likely the intent model
 * finds khac than the best id in scope, the share and number of unknown
 * words, and the line's length. */
void matcher_stack_inputs(const struct matcher *m, const struct matcher_scores *sc,
                          double x[MATCHER_STACK])
{
    double best = 0;
    for (size_t i = 0; i < m->n_intents; i++)
        if ((int)i != m->fallback && sc->intent[i] > best)
            best = sc->intent[i];
    size_t unknown = sc->words - sc->known_words;
    x[0] = clamp(sc->gate_logodds, -30, 30);
    x[1] = clamp(log(sc->intent[m->fallback] + 1e-9) - log(best + 1e-9), -20, 20);
    x[2] = sc->words ? (double)unknown / (double)sc->words : 0;
    x[3] = log1p((double)unknown);
    x[4] = log1p((double)sc->words);
}

/* Probability that the line is out of scope: the stacked decision when the
 * settings have one, else the gate alone; each word the models never saw
 * adds unknown_weight to the log-odds. */
double matcher_out_of_scope(const struct matcher *m, const struct matcher_settings *s,
                            const struct matcher_scores *sc)
{
    double unknown = (double)(sc->words - sc->known_words), z;
    if (s->stacked) {
        double x[MATCHER_STACK];
        matcher_stack_inputs(m, sc, x);
        z = s->stack[0];
        for (size_t i = 0; i < MATCHER_STACK; i++)
            z += s->stack[i + 1] * x[i];
    } else {
        z = sc->gate_logodds;
    }
    z += s->unknown_weight * unknown;
    return 1 / (1 + exp(-z));
}

static void result_clear(struct match_result *out, const char *fallback)
{
    *out = (struct match_result){.id = fallback, .score = 1, .alt_id = NULL, .alt_score = 0,
                                 .ambiguous = false, .procedure = NULL};
}

void matcher_decide(const struct matcher *m, const struct matcher_settings *s,
                    const struct matcher_scores *sc, struct match_result *out)
{
    const double *p = sc->intent;
    result_clear(out, intent_id(m, m->fallback));
    if (sc->exact >= 0) {
        out->id = intent_id(m, sc->exact);
        out->procedure = is_procedure(m, sc->exact) ? NULL : named_procedure(m, s, sc);
        return;
    }
    int a = best_of(p, m->n_intents, -1);
    bool gated = matcher_out_of_scope(m, s, sc) >= s->gate_threshold;
    if (gated || a < 0 || p[a] < s->threshold || a == m->fallback) {
        int b = best_of(p, m->n_intents, m->fallback);
        out->score = gated ? 1 : p[m->fallback];
        if (b >= 0) {
            out->alt_id = intent_id(m, b);
            out->alt_score = p[b];
        }
        return;
    }
    out->id = intent_id(m, a);
    out->score = p[a];
    if (!is_procedure(m, a))
        out->procedure = named_procedure(m, s, sc);
    int b = best_of(p, m->n_intents, a);
    if (b < 0)
        return;
    out->alt_id = intent_id(m, b);
    out->alt_score = p[b];
    out->ambiguous = is_procedure(m, a) && is_procedure(m, b) && p[b] >= s->ambiguous_ratio * p[a];
}

void matcher_classify(const struct matcher *m, const char *text, size_t len,
                      struct match_result *out)
{
    matcher_classify_line(m, text, len, out, NULL);
}

/* matcher_score and matcher_decide for a line an example or a claim
 * decided, when the procedure it names needs no model: the intent is the
 * example's and is a procedure, or the line names one. The models' scores
 * are then read for nothing but whether the line has a word they know.
 * False (nothing done) when the full reading is needed. */
static bool decided_reading(const struct matcher *m, const struct matcher_input *in,
                            struct match_result *out)
{
    const struct rewrite_line *ln = &in->ln;
    int mentioned = is_procedure(m, in->exact) ? -1 : mentioned_procedure(m, ln);
    if (!is_procedure(m, in->exact) && mentioned < 0)
        return false; /* the procedure model's guess names it */
    uint64_t feat[MATCHER_MAX_FEATURES];
    size_t n = matcher_features(m, ln, in->marked, in->mlen, feat);
    result_clear(out, intent_id(m, m->fallback));
    if (!nbayes_known(m->nb, feat, n, KIND_WORD) || matcher_is_choice(m, ln))
        return true; /* as matcher_score's false: khac */
    out->id = intent_id(m, in->exact);
    out->procedure = mentioned >= 0 ? intent_id(m, mentioned) : NULL;
    return true;
}

/* One reading of text; *exact: an example equal to it, or a claim, decided. */
static void classify_once(const struct matcher *m, const char *text, size_t len,
                          struct match_result *out, char **line, bool *exact)
{
    struct matcher_input in;
    struct matcher_scores sc;
    bool read = read_input(m, text, len, &in, line);
    *exact = read && in.exact >= 0;
    if (*exact && in.ln.n && decided_reading(m, &in, out))
        return;
    if (!read || !in.ln.n || !score_line(m, &in, &sc, true)) {
        result_clear(out, intent_id(m, m->fallback));
        return;
    }
    matcher_decide(m, &m->set, &sc, out);
    if (out->score < 0)
        out->score = 0;
    if (out->score > 1)
        out->score = 1;
}

/* ===== The particle "ạ" ===== */

static bool lists_string(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

static bool is_particle(const struct matcher *m, const char *w, size_t n)
{
    for (size_t i = 0; i < m->n_particles; i++)
        if (norm_same_word(w, n, m->particles[i], strlen(m->particles[i])))
            return true;
    return false;
}

/* text's words but its particles, one space apart, into a new string; NULL
 * when it has no particle or nothing else. */
static char *without_particles(const struct matcher *m, const char *text, size_t len)
{
    char *kept = xmalloc(len + 1);
    size_t klen = 0, n;
    bool dropped = false;
    const char *at = text, *w;
    while ((w = norm_next_word(&at, text + len, &n))) {
        if (is_particle(m, w, n)) {
            dropped = true;
            continue;
        }
        if (klen)
            kept[klen++] = ' ';
        memcpy(kept + klen, w, n);
        klen += n;
    }
    kept[klen] = '\0';
    if (dropped && klen)
        return kept;
    free(kept);
    return NULL;
}

/* "ạ" typed with its mark is a particle, but it folds to "a", which
 * abbreviates "anh": "hỏi người có công ạ" read as a greeting. A line read
 * as one of _matcher.json's particle_readings (a greeting, thanks) and
 * having one of its particles is read again without them; that reading
 * wins when it was the first one's runner-up and is at least as sure. */
static void reread_without_particles(const struct matcher *m, const char *text, size_t len,
                                     struct match_result *out, char **line)
{
    if (!out->alt_id || !lists_string(m->particle_readings, m->n_particle_readings, out->id))
        return;
    char *kept = without_particles(m, text, len);
    if (!kept)
        return;
    struct match_result again;
    char *line2 = NULL;
    bool exact;
    classify_once(m, kept, strlen(kept), &again, line ? &line2 : NULL, &exact);
    if (strcmp(again.id, out->alt_id) == 0 && again.score >= out->score) {
        *out = again;
        if (line) {
            free(*line);
            *line = line2;
            line2 = NULL;
        }
    }
    free(line2);
    free(kept);
}

void matcher_classify_line(const struct matcher *m, const char *text, size_t len,
                           struct match_result *out, char **line)
{
    bool exact;
    if (line)
        *line = NULL;
    classify_once(m, text, len, out, line, &exact);
    if (!exact)
        reread_without_particles(m, text, len, out, line);
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
    struct matcher_input in;
    struct matcher_scores sc;
    if (!matcher_read(m, text, len, &in)) {
        buf_puts(out, "rejected");
        return;
    }
    bool any = matcher_score(m, &in, &sc);
    buf_printf(out, "[%s]%s%.*s known %zu/%zu words %zu/%zu", in.ln.text,
               in.mlen ? " marks: " : "", (int)in.mlen, in.marked, sc.known, sc.n_feat,
               sc.known_words, sc.words);
    if (!any)
        return;
    buf_printf(out, " out of scope %.3f intents:", matcher_out_of_scope(m, &m->set, &sc));
    explain_top(out, m, sc.intent, m->n_intents, NULL, "");
    buf_puts(out, " procedures:");
    explain_top(out, m, sc.proc, m->n_procs, m->proc_intent, "(none)");
    if (sc.exact >= 0)
        buf_printf(out, " %s of %s", in.claimed ? "claim" : "example", intent_id(m, sc.exact));
}

/* ===== Building and freeing ===== */

struct matcher *matcher_new_report(const struct catalog *cat, catalog_report_fn report, void *ud)
{
    return matcher_build(cat, NULL, report, ud);
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
    for (size_t i = 0; i < m->n_rules; i++) {
        pcre2_code_free(m->rules[i].code);
        matcher_needs_free(&m->rules[i].needs);
    }
    free(m->rules);
    for (size_t i = 0; i < m->n_claims; i++) {
        pcre2_code_free(m->claims[i].code);
        matcher_needs_free(&m->claims[i].needs);
    }
    free(m->claims);
    nbayes_free(m->nb);
    free(m->row_of);
    softmax_free(&m->gate);
    rewriter_free(&m->rw);
    wordmap_free(&m->examples);
    wordmap_free(&m->rewritten);
    for (size_t i = 0; i < m->n_mentions; i++)
        free(m->mentions[i].text);
    free(m->mentions);
    wordmap_free(&m->first_word);
    matcher_mask_free(m);
    free(m);
}
