/* nbayes — multinomial naive Bayes, sparse, equal priors. */
#include "dvcbot/nbayes.h"
#include "dvcbot/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    uint32_t cls;
    float v; /* while training: the weighted count; then log1p(count / alpha) */
};

struct flist {
    struct entry *e;
    uint32_t n, cap;
};

struct nbayes {
    size_t n_classes;
    uint64_t *keys;      /* open addressing; 0 = empty */
    uint32_t *index;     /* slot → feature index */
    size_t cap, n_feat;
    struct flist *lists; /* while training, per feature */
    double *total;       /* weighted feature count per class */
    uint32_t *off;       /* trained: entries of feature i are [off[i], off[i+1]) */
    struct entry *entries;
};

struct nbayes *nbayes_new(size_t n_classes)
{
    struct nbayes *nb = xcalloc(1, sizeof *nb);
    nb->n_classes = n_classes;
    nb->total = xcalloc(n_classes ? n_classes : 1, sizeof *nb->total);
    return nb;
}

void nbayes_free(struct nbayes *nb)
{
    if (!nb)
        return;
    if (nb->lists)
        for (size_t i = 0; i < nb->n_feat; i++)
            free(nb->lists[i].e);
    free(nb->lists);
    free(nb->keys);
    free(nb->index);
    free(nb->total);
    free(nb->off);
    free(nb->entries);
    free(nb);
}

static uint64_t nonzero(uint64_t key)
{
    return key ? key : 1;
}

/* The slot of key: where it is, or the empty slot where it would go. */
static size_t probe(const struct nbayes *nb, uint64_t key)
{
    size_t mask = nb->cap - 1;
    for (size_t i = (size_t)(key ^ (key >> 29)) & mask;; i = (i + 1) & mask)
        if (nb->keys[i] == key || nb->keys[i] == 0)
            return i;
}

static void grow(struct nbayes *nb)
{
    uint64_t *keys = nb->keys;
    uint32_t *index = nb->index;
    size_t cap = nb->cap;
    nb->cap = cap ? cap * 2 : 1024;
    nb->keys = xcalloc(nb->cap, sizeof *nb->keys);
    nb->index = xcalloc(nb->cap, sizeof *nb->index);
    for (size_t i = 0; i < cap; i++) {
        if (!keys[i])
            continue;
        size_t s = probe(nb, keys[i]);
        nb->keys[s] = keys[i];
        nb->index[s] = index[i];
    }
    free(keys);
    free(index);
}

static struct flist *feature_list(struct nbayes *nb, uint64_t key)
{
    if ((nb->n_feat + 1) * 2 > nb->cap)
        grow(nb);
    size_t s = probe(nb, key);
    if (!nb->keys[s]) {
        nb->keys[s] = key;
        nb->index[s] = (uint32_t)nb->n_feat;
        nb->lists = xrealloc(nb->lists, (nb->n_feat + 1) * sizeof *nb->lists);
        nb->lists[nb->n_feat++] = (struct flist){NULL, 0, 0};
    }
    return &nb->lists[nb->index[s]];
}

void nbayes_add(struct nbayes *nb, const uint64_t *feat, size_t n, int cls, double weight)
{
    if (nb->off || cls < 0 || (size_t)cls >= nb->n_classes || weight <= 0)
        return; /* trained already, or nothing to count */
    for (size_t i = 0; i < n; i++) {
        struct flist *l = feature_list(nb, nonzero(feat[i]));
        /* lines come grouped by class: the last entry is the likeliest */
        uint32_t k = l->n && l->e[l->n - 1].cls == (uint32_t)cls ? l->n - 1 : 0;
        while (k < l->n && l->e[k].cls != (uint32_t)cls)
            k++;
        if (k == l->n) {
            if (l->n == l->cap) {
                l->cap = l->cap ? l->cap * 2 : 2;
                l->e = xrealloc(l->e, l->cap * sizeof *l->e);
            }
            l->e[l->n++] = (struct entry){(uint32_t)cls, 0};
        }
        l->e[k].v += (float)weight;
        nb->total[cls] += weight;
    }
}

/* Every class is scaled to the same total count (a class given many lines
 * must not look unlikely for a word just because its counts are spread over
 * more words), then smoothed towards the background, the mean of the
 * classes (Jelinek-Mercer): P(f|c) = (1 - b) P_c(f) + b P(f). A class that
 * never saw f gets b P(f), the same for every class, so only the classes that
 * saw f need a value: log(1 + (1 - b) / b * P_c(f) / P(f)), which is kept. */
void nbayes_train(struct nbayes *nb, double background)
{
    if (nb->off)
        return;
    size_t total = 0, classes = 0;
    for (size_t i = 0; i < nb->n_feat; i++)
        total += nb->lists[i].n;
    for (size_t c = 0; c < nb->n_classes; c++)
        classes += nb->total[c] > 0;
    nb->off = xmalloc((nb->n_feat + 1) * sizeof *nb->off);
    nb->entries = xmalloc((total ? total : 1) * sizeof *nb->entries);
    double odds = (1 - background) / background;
    size_t k = 0;
    for (size_t i = 0; i < nb->n_feat; i++) {
        const struct flist *l = &nb->lists[i];
        double mean = 0; /* P(f) times the number of classes */
        for (uint32_t j = 0; j < l->n; j++)
            mean += l->e[j].v / nb->total[l->e[j].cls];
        nb->off[i] = (uint32_t)k;
        for (uint32_t j = 0; j < l->n; j++) {
            struct entry e = l->e[j];
            double p = e.v / nb->total[e.cls];
            e.v = (float)log1p(odds * p / (mean / (double)classes));
            nb->entries[k++] = e;
        }
        free(l->e);
    }
    nb->off[nb->n_feat] = (uint32_t)k;
    free(nb->lists);
    nb->lists = NULL;
}

/* The index of a trained feature, or -1. */
static long find(const struct nbayes *nb, uint64_t key)
{
    if (!nb->off || !nb->cap)
        return -1;
    size_t s = probe(nb, nonzero(key));
    return nb->keys[s] ? (long)nb->index[s] : -1;
}

size_t nbayes_scores(const struct nbayes *nb, const uint64_t *feat, size_t n, double *out)
{
    size_t known = 0;
    for (size_t c = 0; c < nb->n_classes; c++)
        out[c] = 0;
    for (size_t i = 0; i < n; i++) {
        long idx = find(nb, feat[i]);
        if (idx < 0)
            continue;
        known++;
        uint32_t f = (uint32_t)idx;
        for (uint32_t k = nb->off[f]; k < nb->off[f + 1]; k++)
            out[nb->entries[k].cls] += nb->entries[k].v;
    }
    return known;
}

void nbayes_normalize(double *scores, size_t n)
{
    double max = -INFINITY, sum = 0;
    for (size_t i = 0; i < n; i++)
        if (scores[i] > max)
            max = scores[i];
    for (size_t i = 0; i < n; i++) {
        scores[i] = exp(scores[i] - max);
        sum += scores[i];
    }
    for (size_t i = 0; i < n; i++)
        scores[i] = sum > 0 ? scores[i] / sum : 0;
}

size_t nbayes_classes(const struct nbayes *nb)
{
    return nb->n_classes;
}

size_t nbayes_features(const struct nbayes *nb)
{
    return nb->n_feat;
}
