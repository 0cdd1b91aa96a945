/* softmax — multinomial logistic regression over sparse features, trained
 * by stochastic gradient descent.
 *
 * A line is a list of feature rows (each worth `scale`, by default
 * 1/sqrt(count), so long lines do not weigh more), a few dense values, its
 * class and a weight. The model is one row of n_classes weights per feature
 * row, one per dense value, and a bias per class. Training is deterministic
 * (the lines are shuffled with a fixed seed).
 *
 * Unlike naive Bayes it does not take a word and the pairs it is part of as
 * independent evidence, and a word every class uses ("cho hỏi") earns no
 * weight: its probabilities are calibrated, so thresholds mean what they
 * say. The model owns its arrays (softmax_free); reading it is thread-safe. */
#ifndef DVCBOT_SOFTMAX_H
#define DVCBOT_SOFTMAX_H

#include <stddef.h>
#include <stdint.h>

#define SOFTMAX_MAX_DENSE 4

struct softmax_lines {
    const uint32_t *row;   /* the feature rows of every line, one after another */
    const size_t *start;   /* line i is row[start[i] .. start[i+1]) */
    const float *scale;    /* what each feature of line i is worth; NULL: 1/sqrt(count) */
    const float *dense;    /* n_dense values per line (may be NULL when n_dense is 0) */
    const uint32_t *cls;   /* the class of each line */
    const float *weight;   /* > 0 */
    size_t n_lines, n_dense;
};

struct softmax_params {
    int epochs;            /* passes over the lines */
    double rate;           /* initial learning rate, falling linearly to a tenth */
    double l2;             /* weight decay per update */
};

struct softmax_model {
    size_t n_rows, n_classes, n_dense;
    float *w;              /* n_rows × n_classes */
    float *dense;          /* n_dense × n_classes */
    float *bias;           /* n_classes */
};

/* Allocates a zero model. */
void softmax_init(struct softmax_model *m, size_t n_rows, size_t n_classes, size_t n_dense);
void softmax_free(struct softmax_model *m);
void softmax_train(struct softmax_model *m, const struct softmax_lines *d,
                   const struct softmax_params *p);

/* The log-scores (logits) of every class into out[n_classes] for a line of
 * feature rows (negative rows, unknown features, are skipped) each worth
 * scale, and n_dense dense values. */
void softmax_logits(const struct softmax_model *m, const int32_t *row, size_t n, double scale,
                    const float *dense, double *out);

#endif
