/* nbayes — several multinomial naive Bayes classifiers over one set of
 * hashed features.
 *
 * Features are 64-bit hashes chosen by the caller; the low NBAYES_KIND_BITS
 * bits of a hash name its kind (words, word pairs, character n-grams...).
 * Each kind is a multinomial of its own (its counts are normalised apart)
 * and is weighted when a line is scored. Every model (say: which id, which
 * procedure, in scope or not) learns the same training lines, each under its
 * own class, so a line costs one hash probe per feature for all of them.
 *
 * Training: nbayes_add for every line, then nbayes_train once. Counts are
 * smoothed towards the mean of the classes (Jelinek-Mercer), so a common word
 * a small class never saw costs it little; every class is scaled to the same
 * total count (how many lines a class was given says nothing about how often
 * people ask for it) and has the same prior. A feature never seen in training
 * is ignored. Afterwards the model is read-only and may be shared by any
 * number of threads.
 *
 * Memory: training lines are kept as one growing array of feature indices
 * (no allocation per feature), grouped by feature once by counting; the
 * trained model is three arrays (slots, offsets, entries). The training
 * lines stay readable after nbayes_train (nbayes_line: another model can
 * learn from them) until nbayes_forget_lines. nbayes_free frees all. */
#ifndef DVCBOT_NBAYES_H
#define DVCBOT_NBAYES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NBAYES_MAX_MODELS 4
#define NBAYES_KIND_BITS 2
#define NBAYES_KINDS (1 << NBAYES_KIND_BITS)
/* The kind of a feature hash. */
#define NBAYES_KIND(h) ((unsigned)((h) & (NBAYES_KINDS - 1)))

struct nbayes;

/* n_models (1..NBAYES_MAX_MODELS) classifiers, model m with n_classes[m]. */
struct nbayes *nbayes_new(size_t n_models, const size_t *n_classes);
void nbayes_free(struct nbayes *nb);

/* Counts one training line: its n features and, for each model m, its class
 * cls[m] (-1: model m does not learn this line) and weight[m] (> 0).
 * index (may be NULL) gets each feature's index (nbayes_index). */
void nbayes_add(struct nbayes *nb, const uint64_t *feat, size_t n, const int *cls,
                const double *weight, uint32_t *index);
/* nbayes_train flags. NBAYES_BINARY: a feature repeated in a line counts
 * once. NBAYES_PER_LINE (implies binary): P_c(f) is the share of c's lines
 * that have f, not the share of c's counts, so a class whose lines use
 * many different words is not made to look unlikely for the words all its
 * lines share ("khai sinh" in the general birth registration). */
#define NBAYES_BINARY 1u
#define NBAYES_PER_LINE 2u
/* Call once after the last nbayes_add. background in (0, 1): how much of
 * each class's distribution is the mean of all classes (smoothing). */
void nbayes_train(struct nbayes *nb, double background, unsigned flags);

/* The training lines, readable from nbayes_train to nbayes_forget_lines:
 * line i's feature indices (n of them), and per model its class (-1: not
 * learned) and weight (cls, weight may be NULL). */
size_t nbayes_lines(const struct nbayes *nb);
const uint32_t *nbayes_line(const struct nbayes *nb, size_t i, size_t *n, int *cls, double *weight);
/* The kind of a feature index (until nbayes_forget_lines). */
unsigned nbayes_kind_of(const struct nbayes *nb, uint32_t feature);
/* Frees the training lines. */
void nbayes_forget_lines(struct nbayes *nb);

/* The log-score of every class of every model (log-posterior up to a
 * constant per model) into out[m][0..n_classes[m]), each feature's evidence
 * multiplied by kind_weight[its kind]. Returns how many features the models
 * knew; known[kind] (may be NULL) gets the count per kind, index (may be
 * NULL) the index of each feature (nbayes_index), -1 when unknown. */
size_t nbayes_scores(const struct nbayes *nb, const uint64_t *feat, size_t n,
                     const double kind_weight[NBAYES_KINDS], double *const *out,
                     size_t known[NBAYES_KINDS], int32_t *index);
/* Makes nbayes_scores with these kind weights cheaper: every entry's
 * evidence times its kind's weight is computed once here (the same
 * products, added in the same order: the same scores to the bit) and kept,
 * 8 bytes per entry. nbayes_scores with other weights computes them as
 * before. Call after nbayes_train or nbayes_restore; again to change the
 * weights. */
void nbayes_weigh(struct nbayes *nb, const double kind_weight[NBAYES_KINDS]);
/* How many of the n features of this kind the models know: nbayes_scores's
 * known[kind] without the scoring, for a line whose reading is already
 * decided. */
size_t nbayes_known(const struct nbayes *nb, const uint64_t *feat, size_t n, unsigned kind);
/* The index of a feature (0 .. nbayes_features - 1) in a trained model, or
 * -1 when training never saw it. */
int32_t nbayes_index(const struct nbayes *nb, uint64_t feat);
/* Turns log-scores into probabilities in place (softmax). */
void nbayes_normalize(double *scores, size_t n);

size_t nbayes_classes(const struct nbayes *nb, size_t model);
size_t nbayes_features(const struct nbayes *nb);
/* Bytes held by the trained model. */
size_t nbayes_bytes(const struct nbayes *nb);

/* A trained model as bytes (matcher_cache.h), appended to out: the
 * feature table and the evidence, not the training lines. */
struct buf;
void nbayes_save(const struct nbayes *nb, struct buf *out);
/* Makes nb (new: nbayes_new with the same models and classes, nothing
 * added) the model nbayes_save wrote at *p, consuming it; false when the
 * bytes do not describe such a model (nb stays untrained). */
bool nbayes_restore(struct nbayes *nb, const unsigned char **p, size_t *left);

#endif
