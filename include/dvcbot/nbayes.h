/* nbayes — a multinomial naive Bayes text classifier over hashed features.
 *
 * Features are 64-bit hashes (of words, word pairs...) chosen by the caller.
 * Training adds weighted lines (nbayes_add), nbayes_train turns the counts
 * into log-probabilities smoothed towards the mean of the classes (Jelinek-
 * Mercer), so a common word a small class never saw costs it little; afterwards the model
 * is read-only and may be shared by any number of threads. Classes have equal
 * priors and the same total count (nbayes_train scales them): how many
 * lines a class was given says nothing about how often people ask for it.
 * A feature never seen in training is ignored.
 *
 * Storage is sparse (a feature keeps only the classes it was seen in), so a
 * line costs one hash lookup per feature plus its few classes. */
#ifndef DVCBOT_NBAYES_H
#define DVCBOT_NBAYES_H

#include <stddef.h>
#include <stdint.h>

struct nbayes;

struct nbayes *nbayes_new(size_t n_classes);
void nbayes_free(struct nbayes *nb);

/* Counts the features of one training line of class cls, weight times. */
void nbayes_add(struct nbayes *nb, const uint64_t *feat, size_t n, int cls, double weight);
/* Call once after the last nbayes_add. background in (0, 1): how much of
 * each class's word distribution is the mean of all classes (smoothing). */
void nbayes_train(struct nbayes *nb, double background);

/* Log-score of every class (the log-posterior up to a shared constant) into
 * out[n_classes]; returns how many features of the line the model knew. */
size_t nbayes_scores(const struct nbayes *nb, const uint64_t *feat, size_t n, double *out);
/* Turns log-scores into probabilities in place (softmax). */
void nbayes_normalize(double *scores, size_t n);

size_t nbayes_classes(const struct nbayes *nb);
size_t nbayes_features(const struct nbayes *nb);

#endif
