/* matcher_gate — the matcher's out-of-scope gate: logistic regression (a
 * two-class softmax with a few dense inputs) trained on the lines the naive
 * Bayes models learned (nbayes_line), over the same feature table.
 *
 * Each training line is shown as it would look held out: its features seen
 * in no other line are left out (they get no weight: only features shared
 * by two lines or more have a row), and its words seen in no other line
 * count as unknown (leave-one-out). So the gate learns what unknown words
 * say about a line from the lines themselves, and no line is learned by
 * heart through a word only it has. Both sides weigh the same in total. */
#include "dvcbot/matcher_model.h"
#include "dvcbot/mem.h"
#include "dvcbot/nbayes.h"
#include "dvcbot/softmax.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* In how many original lines each feature appears. */
static uint32_t *line_counts(const struct nbayes *nb, const bool *original)
{
    size_t n_feat = nbayes_features(nb);
    uint32_t *df = xcalloc(n_feat + 1, sizeof *df);
    uint32_t *last = xmalloc((n_feat + 1) * sizeof *last);
    memset(last, 0xff, (n_feat + 1) * sizeof *last);
    for (size_t i = 0; i < nbayes_lines(nb); i++) {
        size_t n;
        const uint32_t *f = nbayes_line(nb, i, &n, NULL, NULL);
        for (size_t k = 0; original[i] && k < n; k++)
            if (last[f[k]] != (uint32_t)i) {
                last[f[k]] = (uint32_t)i;
                df[f[k]]++;
            }
    }
    free(last);
    return df;
}

/* The training set as the gate sees it. */
struct design {
    uint32_t *row;
    size_t *start;
    float *scale, *dense, *weight;
    uint32_t *gate;
};

static void design_free(struct design *d)
{
    free(d->row);
    free(d->start);
    free(d->scale);
    free(d->dense);
    free(d->weight);
    free(d->gate);
}

/* Weights making both sides weigh the same in total. */
static void balance(struct design *d, size_t n)
{
    double total[2] = {0, 0};
    for (size_t i = 0; i < n; i++)
        total[d->gate[i]] += d->weight[i];
    for (size_t i = 0; i < n; i++)
        d->weight[i] = (float)(d->weight[i] * (total[0] + total[1]) / (2 * total[d->gate[i]]));
}

/* Rows for the features seen in two lines or more; each line's rows, scale
 * and dense inputs, side and weight. */
static void build_design(struct matcher *m, const bool *original, struct design *d)
{
    const struct nbayes *nb = m->nb;
    size_t n_feat = nbayes_features(nb), n = nbayes_lines(nb), occ = 0;
    uint32_t *df = line_counts(nb, original);
    m->row_of = xmalloc((n_feat + 1) * sizeof *m->row_of);
    m->n_rows = 0;
    for (size_t f = 0; f < n_feat; f++)
        m->row_of[f] = df[f] >= 2 ? (int32_t)m->n_rows++ : -1;
    for (size_t i = 0; i < n; i++) {
        size_t k;
        nbayes_line(nb, i, &k, NULL, NULL);
        occ += k;
    }
    d->row = xmalloc((occ + 1) * sizeof *d->row);
    d->start = xmalloc((n + 1) * sizeof *d->start);
    d->scale = xmalloc((n + 1) * sizeof *d->scale);
    d->dense = xmalloc((n + 1) * MATCHER_GATE_DENSE * sizeof *d->dense);
    d->weight = xmalloc((n + 1) * sizeof *d->weight);
    d->gate = xmalloc((n + 1) * sizeof *d->gate);
    size_t nr = 0;
    for (size_t i = 0; i < n; i++) {
        size_t all, words = 0, unknown = 0;
        int cls[NBAYES_MAX_MODELS];
        double w[NBAYES_MAX_MODELS];
        const uint32_t *f = nbayes_line(nb, i, &all, cls, w);
        d->start[i] = nr;
        for (size_t k = 0; k < all; k++) {
            int32_t r = m->row_of[f[k]];
            bool word = nbayes_kind_of(nb, f[k]) == KIND_WORD;
            words += word;
            unknown += word && r < 0;
            if (r >= 0)
                d->row[nr++] = (uint32_t)r;
        }
        d->scale[i] = all ? (float)(1 / sqrt((double)all)) : 0;
        matcher_gate_dense(words, unknown, d->dense + i * MATCHER_GATE_DENSE);
        d->gate[i] = cls[MODEL_INTENT] == m->fallback;
        d->weight[i] = (float)w[MODEL_INTENT];
    }
    d->start[n] = nr;
    free(df);
}

void matcher_gate_train(struct matcher *m, const bool *original)
{
    struct design d;
    size_t n = nbayes_lines(m->nb);
    build_design(m, original, &d);
    struct softmax_lines lines = {d.row, d.start, d.scale, d.dense,
                                  d.gate, d.weight, n, MATCHER_GATE_DENSE};
    struct softmax_params p = {m->set.gate_epochs, m->set.gate_rate, m->set.gate_l2};
    balance(&d, n);
    softmax_init(&m->gate, m->n_rows, 2, MATCHER_GATE_DENSE);
    softmax_train(&m->gate, &lines, &p);
    design_free(&d);
}
