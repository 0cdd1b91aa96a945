/* matcher_linear — the discriminative models of the matcher: which id
 * (softmax regression over all ids) and the out-of-scope gate (two-class
 * softmax with a few dense inputs), trained on the lines the naive Bayes
 * models learned, over the same feature table.
 *
 * Each training line is shown as it would look held out: its features seen
 * in no other line are left out (they get no weight: only features shared
 * by two lines or more have a row), and its words seen in no other line
 * count as unknown for the gate (leave-one-out). So the gate learns what
 * unknown words say about a line from the lines themselves, and no line is
 * learned by heart through a word only it has. Every id, and for the gate
 * both sides, weigh the same in total. */
#include "dvcbot/matcher_model.h"
#include "dvcbot/mem.h"
#include "dvcbot/nbayes.h"
#include "dvcbot/softmax.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct lin_line {
    size_t start;      /* its features in hash[] */
    float weight;      /* in the intent model; the gate uses the same */
    int intent;
    bool original;     /* a line of the catalog, not a noisy copy */
};

/* A feature of a line: its index, and whether it is a word. */
#define WORD_BIT 0x80000000u

struct matcher_lines {
    uint32_t *hash; /* feature index | WORD_BIT */
    size_t n_hash, hash_cap;
    struct lin_line *line;
    size_t n, cap;
};

struct matcher_lines *matcher_lines_new(void)
{
    return xcalloc(1, sizeof(struct matcher_lines));
}

static void lines_free(struct matcher_lines *g)
{
    free(g->hash);
    free(g->line);
    free(g);
}

void matcher_lines_add(struct matcher_lines *g, const uint64_t *feat, const uint32_t *index,
                       size_t n, int intent, double weight, bool original)
{
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 1024;
        g->line = xrealloc(g->line, g->cap * sizeof *g->line);
    }
    if (g->n_hash + n > g->hash_cap) {
        while (g->n_hash + n > g->hash_cap)
            g->hash_cap = g->hash_cap ? g->hash_cap * 2 : 16384;
        g->hash = xrealloc(g->hash, g->hash_cap * sizeof *g->hash);
    }
    g->line[g->n++] = (struct lin_line){g->n_hash, (float)weight, intent, original};
    for (size_t k = 0; k < n; k++)
        g->hash[g->n_hash++] = index[k] | (NBAYES_KIND(feat[k]) == KIND_WORD ? WORD_BIT : 0);
}

static size_t line_end(const struct matcher_lines *g, size_t i)
{
    return i + 1 < g->n ? g->line[i + 1].start : g->n_hash;
}

/* In how many original lines each feature appears. */
static uint32_t *line_counts(const struct matcher_lines *g, const int32_t *index, size_t n_feat)
{
    uint32_t *df = xcalloc(n_feat + 1, sizeof *df);
    uint32_t *last = xmalloc((n_feat + 1) * sizeof *last);
    memset(last, 0xff, (n_feat + 1) * sizeof *last);
    for (size_t i = 0; i < g->n; i++) {
        if (!g->line[i].original)
            continue;
        for (size_t k = g->line[i].start; k < line_end(g, i); k++) {
            int32_t f = index[k];
            if (f >= 0 && last[f] != (uint32_t)i) {
                last[f] = (uint32_t)i;
                df[f]++;
            }
        }
    }
    free(last);
    return df;
}

/* Weights making every class weigh the same in total. */
static void balance(const struct lin_line *line, size_t n, const uint32_t *cls, size_t n_classes,
                    float *weight)
{
    double *total = xcalloc(n_classes, sizeof *total), all = 0;
    size_t present = 0;
    for (size_t i = 0; i < n; i++)
        total[cls[i]] += line[i].weight;
    for (size_t c = 0; c < n_classes; c++) {
        all += total[c];
        present += total[c] > 0;
    }
    for (size_t i = 0; i < n; i++)
        weight[i] = (float)(line[i].weight * all / ((double)present * total[cls[i]]));
    free(total);
}

/* The training set as the linear models see it. */
struct design {
    uint32_t *row;
    size_t *start;
    float *scale, *dense, *weight;
    uint32_t *intent, *gate;
};

static void design_free(struct design *d)
{
    free(d->row);
    free(d->start);
    free(d->scale);
    free(d->dense);
    free(d->weight);
    free(d->intent);
    free(d->gate);
}

/* Rows for the features seen in two lines or more; each line's rows, scale
 * and dense inputs. */
static void build_design(struct matcher *m, const struct matcher_lines *g, struct design *d)
{
    size_t n_feat = nbayes_features(m->nb), n = g->n;
    int32_t *index = xmalloc((g->n_hash + 1) * sizeof *index);
    for (size_t k = 0; k < g->n_hash; k++)
        index[k] = (g->hash[k] & ~WORD_BIT) < n_feat ? (int32_t)(g->hash[k] & ~WORD_BIT) : -1;
    uint32_t *df = line_counts(g, index, n_feat);
    m->row_of = xmalloc((n_feat + 1) * sizeof *m->row_of);
    m->n_rows = 0;
    for (size_t f = 0; f < n_feat; f++)
        m->row_of[f] = df[f] >= 2 ? (int32_t)m->n_rows++ : -1;
    d->row = xmalloc((g->n_hash + 1) * sizeof *d->row);
    d->start = xmalloc((n + 1) * sizeof *d->start);
    d->scale = xmalloc((n + 1) * sizeof *d->scale);
    d->dense = xmalloc((n + 1) * MATCHER_GATE_DENSE * sizeof *d->dense);
    d->weight = xmalloc((n + 1) * sizeof *d->weight);
    d->intent = xmalloc((n + 1) * sizeof *d->intent);
    d->gate = xmalloc((n + 1) * sizeof *d->gate);
    size_t nr = 0;
    for (size_t i = 0; i < n; i++) {
        size_t words = 0, unknown = 0, all = line_end(g, i) - g->line[i].start;
        d->start[i] = nr;
        for (size_t k = g->line[i].start; k < line_end(g, i); k++) {
            int32_t r = index[k] >= 0 ? m->row_of[index[k]] : -1;
            bool word = g->hash[k] & WORD_BIT;
            words += word;
            unknown += word && r < 0;
            if (r >= 0)
                d->row[nr++] = (uint32_t)r;
        }
        d->scale[i] = all ? (float)(1 / sqrt((double)all)) : 0;
        matcher_gate_dense(words, unknown, d->dense + i * MATCHER_GATE_DENSE);
        d->intent[i] = (uint32_t)g->line[i].intent;
        d->gate[i] = g->line[i].intent == m->fallback;
    }
    d->start[n] = nr;
    free(df);
    free(index);
}

void matcher_linear_train(struct matcher *m, struct matcher_lines *g)
{
    struct design d;
    build_design(m, g, &d);
    struct softmax_lines lines = {d.row, d.start, d.scale, d.dense, d.intent, d.weight, g->n, 0};
    if (m->set.softmax_intent) {
        struct softmax_params p = {m->set.intent_epochs, m->set.intent_rate, m->set.intent_l2};
        balance(g->line, g->n, d.intent, m->n_intents, d.weight);
        softmax_init(&m->intent_lr, m->n_rows, m->n_intents, 0);
        softmax_train(&m->intent_lr, &lines, &p);
    }
    if (m->set.logistic_gate) {
        struct softmax_params p = {m->set.gate_epochs, m->set.gate_rate, m->set.gate_l2};
        lines.cls = d.gate;
        lines.n_dense = MATCHER_GATE_DENSE;
        balance(g->line, g->n, d.gate, 2, d.weight);
        softmax_init(&m->gate_lr, m->n_rows, 2, MATCHER_GATE_DENSE);
        softmax_train(&m->gate_lr, &lines, &p);
    }
    design_free(&d);
    lines_free(g);
}
