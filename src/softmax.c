/* softmax — multinomial logistic regression, SGD. */
#include "dvcbot/softmax.h"
#include "dvcbot/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void softmax_init(struct softmax_model *m, size_t n_rows, size_t n_classes, size_t n_dense)
{
    m->n_rows = n_rows;
    m->n_classes = n_classes;
    m->n_dense = n_dense > SOFTMAX_MAX_DENSE ? SOFTMAX_MAX_DENSE : n_dense;
    m->w = xcalloc(n_rows * n_classes + 1, sizeof *m->w);
    m->dense = xcalloc(m->n_dense * n_classes + 1, sizeof *m->dense);
    m->bias = xcalloc(n_classes + 1, sizeof *m->bias);
}

void softmax_free(struct softmax_model *m)
{
    free(m->w);
    free(m->dense);
    free(m->bias);
    m->w = m->dense = m->bias = NULL;
}

/* A fixed permutation for an epoch (Fisher-Yates, xorshift). */
static void shuffle(size_t *order, size_t n, uint64_t *s)
{
    for (size_t i = n; i > 1; i--) {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        size_t j = (size_t)(*s % i), t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
}

static void add_row(double *out, const float *w, double x, size_t n)
{
    for (size_t c = 0; c < n; c++)
        out[c] += x * w[c];
}

void softmax_logits(const struct softmax_model *m, const int32_t *row, size_t n, double scale,
                    const float *dense, double *out)
{
    size_t C = m->n_classes;
    for (size_t c = 0; c < C; c++)
        out[c] = m->bias[c];
    for (size_t k = 0; k < n; k++)
        if (row[k] >= 0 && (size_t)row[k] < m->n_rows)
            add_row(out, m->w + (size_t)row[k] * C, scale, C);
    for (size_t k = 0; dense && k < m->n_dense; k++)
        add_row(out, m->dense + k * C, dense[k], C);
}

/* Probabilities from logits, in place. */
static void normalize(double *z, size_t n)
{
    double max = z[0], sum = 0;
    for (size_t c = 1; c < n; c++)
        if (z[c] > max)
            max = z[c];
    for (size_t c = 0; c < n; c++) {
        z[c] = exp(z[c] - max);
        sum += z[c];
    }
    for (size_t c = 0; c < n; c++)
        z[c] /= sum;
}

/* One step of gradient descent on line i; g holds the probabilities and
 * becomes the gradient. */
static void step(struct softmax_model *m, const struct softmax_lines *d, size_t i, double scale,
                 double rate, double decay, double *g)
{
    size_t C = m->n_classes;
    for (size_t c = 0; c < C; c++)
        g[c] = rate * ((c == d->cls[i]) - g[c]);
    for (size_t k = d->start[i]; k < d->start[i + 1]; k++) {
        float *w = m->w + (size_t)d->row[k] * C;
        for (size_t c = 0; c < C; c++)
            w[c] = (float)(w[c] * decay + g[c] * scale);
    }
    for (size_t k = 0; k < d->n_dense && k < m->n_dense; k++) {
        float *w = m->dense + k * C;
        double x = d->dense[i * d->n_dense + k];
        for (size_t c = 0; c < C; c++)
            w[c] += (float)(g[c] * x);
    }
    for (size_t c = 0; c < C; c++)
        m->bias[c] += (float)g[c];
}

/* Two classes: logistic regression on class 1, class 0's weights stay 0
 * (the same model, half the work). */
static void binary_step(struct softmax_model *m, const struct softmax_lines *d, size_t i,
                        double scale, double rate, double decay)
{
    double z = m->bias[1];
    for (size_t k = d->start[i]; k < d->start[i + 1]; k++)
        z += m->w[(size_t)d->row[k] * 2 + 1] * scale;
    for (size_t k = 0; k < d->n_dense && k < m->n_dense; k++)
        z += m->dense[k * 2 + 1] * d->dense[i * d->n_dense + k];
    double p1 = z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
    double g = rate * ((d->cls[i] == 1) - p1);
    for (size_t k = d->start[i]; k < d->start[i + 1]; k++) {
        float *w = &m->w[(size_t)d->row[k] * 2 + 1];
        *w = (float)(*w * decay + g * scale);
    }
    for (size_t k = 0; k < d->n_dense && k < m->n_dense; k++)
        m->dense[k * 2 + 1] += (float)(g * d->dense[i * d->n_dense + k]);
    m->bias[1] += (float)g;
}

void softmax_train(struct softmax_model *m, const struct softmax_lines *d,
                   const struct softmax_params *p)
{
    if (!d->n_lines || !m->n_classes)
        return;
    size_t *order = xmalloc(d->n_lines * sizeof *order);
    double *g = xmalloc(m->n_classes * sizeof *g), mean_weight = 0;
    for (size_t i = 0; i < d->n_lines; i++) {
        order[i] = i;
        mean_weight += d->weight[i];
    }
    mean_weight /= (double)d->n_lines;
    uint64_t seed = 0x2545f4914f6cdd1dull;
    int epochs = p->epochs > 0 ? p->epochs : 1;
    size_t t = 0, total = (size_t)epochs * d->n_lines;
    for (int e = 0; e < epochs; e++) {
        shuffle(order, d->n_lines, &seed);
        for (size_t r = 0; r < d->n_lines; r++, t++) {
            size_t i = order[r], n = d->start[i + 1] - d->start[i];
            double scale = d->scale ? d->scale[i] : n ? 1 / sqrt((double)n) : 0;
            double rate = p->rate * (1 - 0.9 * (double)t / (double)total);
            rate *= fmin(d->weight[i] / mean_weight, 10);
            if (m->n_classes == 2) {
                binary_step(m, d, i, scale, rate, 1 - p->rate * p->l2);
                continue;
            }
            softmax_logits(m, (const int32_t *)(d->row + d->start[i]), n, scale,
                           d->n_dense ? d->dense + i * d->n_dense : NULL, g);
            normalize(g, m->n_classes);
            step(m, d, i, scale, rate, 1 - p->rate * p->l2, g);
        }
    }
    free(g);
    free(order);
}
