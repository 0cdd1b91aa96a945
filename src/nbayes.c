/* nbayes — multinomial naive Bayes, several models, sparse, equal priors. */
#include "dvcbot/nbayes.h"
#include "dvcbot/buf.h"
#include "dvcbot/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    uint64_t key;  /* 0 = empty (a zero hash is stored as 1) */
    uint32_t index;
};

/* One class's evidence for a feature: log1p(odds * P_c(f) / P(f)). */
struct entry {
    uint32_t cls;
    float v;
};

struct line {
    int32_t cls[NBAYES_MAX_MODELS];
    float weight[NBAYES_MAX_MODELS];
    uint32_t start; /* its features: feat[start .. next line's start) */
};

struct nbayes {
    size_t n_models;
    size_t n_classes[NBAYES_MAX_MODELS];
    struct slot *slots;   /* open addressing, power-of-two capacity */
    size_t cap, n_feat;
    uint8_t *kind;        /* per feature, while training */

    /* the training lines, until nbayes_forget_lines */
    struct line *lines;
    size_t n_lines, lines_cap;
    uint32_t *feat;       /* every line's feature indices, one line after another */
    size_t n_occ, occ_cap;

    /* trained: entries of feature i in model m are [off[i*M+m], off[i*M+m+1]) */
    uint32_t *off;
    struct entry *entries;
    size_t n_entries;
    bool trained;
    bool per_line;

    /* nbayes_weigh: each entry's v times its feature's kind weight */
    double *weighed;
    double weighed_by[NBAYES_KINDS]; /* P_c(f): the share of c's lines that have f (else of its counts) */
};

struct nbayes *nbayes_new(size_t n_models, const size_t *n_classes)
{
    struct nbayes *nb = xcalloc(1, sizeof *nb);
    nb->n_models = n_models > NBAYES_MAX_MODELS ? NBAYES_MAX_MODELS : n_models;
    for (size_t m = 0; m < nb->n_models; m++)
        nb->n_classes[m] = n_classes[m];
    return nb;
}

void nbayes_forget_lines(struct nbayes *nb)
{
    free(nb->lines);
    free(nb->feat);
    free(nb->kind);
    nb->lines = NULL;
    nb->feat = NULL;
    nb->kind = NULL;
    nb->n_lines = nb->lines_cap = nb->n_occ = nb->occ_cap = 0;
}

void nbayes_free(struct nbayes *nb)
{
    if (!nb)
        return;
    nbayes_forget_lines(nb);
    free(nb->slots);
    free(nb->off);
    free(nb->entries);
    free(nb->weighed);
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
        if (nb->slots[i].key == key || nb->slots[i].key == 0)
            return i;
}

static void grow_slots(struct nbayes *nb)
{
    struct slot *old = nb->slots;
    size_t cap = nb->cap;
    nb->cap = cap ? cap * 2 : 65536;
    nb->slots = xcalloc(nb->cap, sizeof *nb->slots);
    for (size_t i = 0; i < cap; i++)
        if (old[i].key)
            nb->slots[probe(nb, old[i].key)] = old[i];
    free(old);
    nb->kind = xrealloc(nb->kind, nb->cap / 2);
}

/* The index of a feature, added when new. */
static uint32_t feature_index(struct nbayes *nb, uint64_t key)
{
    if ((nb->n_feat + 1) * 2 > nb->cap)
        grow_slots(nb);
    size_t s = probe(nb, key);
    if (!nb->slots[s].key) {
        nb->slots[s] = (struct slot){key, (uint32_t)nb->n_feat};
        nb->kind[nb->n_feat++] = (uint8_t)NBAYES_KIND(key);
    }
    return nb->slots[s].index;
}

/* Grows *v (of *cap items of size sz) to hold at least need items. */
static void *reserve(void *v, size_t *cap, size_t need, size_t sz)
{
    return xreserve(v, cap, need, sz, 256);
}

void nbayes_add(struct nbayes *nb, const uint64_t *feat, size_t n, const int *cls,
                const double *weight, uint32_t *index)
{
    struct line ln;
    bool any = false;
    if (nb->trained) {
        for (size_t i = 0; index && i < n; i++)
            index[i] = UINT32_MAX;
        return;
    }
    for (size_t m = 0; m < NBAYES_MAX_MODELS; m++) {
        bool use = m < nb->n_models && cls[m] >= 0 && (size_t)cls[m] < nb->n_classes[m] &&
                   weight[m] > 0;
        ln.cls[m] = use ? cls[m] : -1;
        ln.weight[m] = use ? (float)weight[m] : 0;
        any = any || use;
    }
    if (!any || !n) {
        for (size_t i = 0; index && i < n; i++)
            index[i] = feature_index(nb, nonzero(feat[i]));
        return;
    }
    ln.start = (uint32_t)nb->n_occ;
    nb->lines = reserve(nb->lines, &nb->lines_cap, nb->n_lines + 1, sizeof *nb->lines);
    nb->lines[nb->n_lines++] = ln;
    nb->feat = reserve(nb->feat, &nb->occ_cap, nb->n_occ + n, sizeof *nb->feat);
    for (size_t i = 0; i < n; i++) {
        uint32_t f = feature_index(nb, nonzero(feat[i]));
        nb->feat[nb->n_occ++] = f;
        if (index)
            index[i] = f;
    }
}

/* ===== Training ===== */

static size_t line_end(const struct nbayes *nb, size_t i)
{
    return i + 1 < nb->n_lines ? nb->lines[i + 1].start : nb->n_occ;
}

/* The lines of every feature, in the order they were added (a counting
 * sort); *start gets where each feature's lines begin. */
static uint32_t *group_by_feature(const struct nbayes *nb, uint32_t **start)
{
    uint32_t *pos = xcalloc(nb->n_feat + 1, sizeof *pos);
    uint32_t *sorted = xmalloc((nb->n_occ ? nb->n_occ : 1) * sizeof *sorted);
    for (size_t k = 0; k < nb->n_occ; k++)
        pos[nb->feat[k] + 1]++;
    for (size_t f = 0; f < nb->n_feat; f++)
        pos[f + 1] += pos[f];
    uint32_t *next = xmalloc((nb->n_feat + 1) * sizeof *next);
    memcpy(next, pos, (nb->n_feat + 1) * sizeof *next);
    for (size_t i = 0; i < nb->n_lines; i++)
        for (size_t k = nb->lines[i].start; k < line_end(nb, i); k++)
            sorted[next[nb->feat[k]]++] = (uint32_t)i;
    free(next);
    *start = pos;
    return sorted;
}

/* Per model, the weighted count of each class in one feature's group; the
 * classes touched are listed in order of first appearance. */
struct tally {
    double *count[NBAYES_MAX_MODELS];
    uint32_t *touched[NBAYES_MAX_MODELS];
    size_t n_touched[NBAYES_MAX_MODELS];
};

static void tally_group(const struct nbayes *nb, const uint32_t *g, size_t n, bool binary,
                        struct tally *t)
{
    for (size_t i = 0; i < n; i++) {
        if (binary && i && g[i] == g[i - 1])
            continue;
        const struct line *ln = &nb->lines[g[i]];
        for (size_t m = 0; m < nb->n_models; m++) {
            int c = ln->cls[m];
            if (c < 0)
                continue;
            if (t->count[m][c] == 0)
                t->touched[m][t->n_touched[m]++] = (uint32_t)c;
            t->count[m][c] += ln->weight[m];
        }
    }
}

static void tally_clear(const struct nbayes *nb, struct tally *t)
{
    for (size_t m = 0; m < nb->n_models; m++) {
        for (size_t k = 0; k < t->n_touched[m]; k++)
            t->count[m][t->touched[m][k]] = 0;
        t->n_touched[m] = 0;
    }
}

/* total[m][kind][c]: the weighted count of class c of model m over the
 * features of that kind. */
static double *totals(const struct nbayes *nb, const uint32_t *sorted,
                      const uint32_t *start, bool binary, struct tally *t, size_t stride)
{
    double *total = xcalloc(nb->n_models * NBAYES_KINDS * stride, sizeof *total);
    if (nb->per_line) {
        for (size_t i = 0; i < nb->n_lines; i++)
            for (size_t m = 0; m < nb->n_models; m++)
                for (size_t k = 0; nb->lines[i].cls[m] >= 0 && k < NBAYES_KINDS; k++)
                    total[(m * NBAYES_KINDS + k) * stride + (size_t)nb->lines[i].cls[m]] +=
                        nb->lines[i].weight[m];
        return total;
    }
    for (size_t f = 0; f < nb->n_feat; f++) {
        tally_group(nb, sorted + start[f], start[f + 1] - start[f], binary, t);
        for (size_t m = 0; m < nb->n_models; m++)
            for (size_t k = 0; k < t->n_touched[m]; k++) {
                uint32_t c = t->touched[m][k];
                total[(m * NBAYES_KINDS + nb->kind[f]) * stride + c] += t->count[m][c];
            }
        tally_clear(nb, t);
    }
    return total;
}

/* Every class is scaled to the same total count (a class given many lines
 * must not look unlikely for a word just because its counts are spread over
 * more words), then smoothed towards the background, the mean of the
 * classes (Jelinek-Mercer): P(f|c) = (1 - b) P_c(f) + b P(f). A class that
 * never saw f gets b P(f), the same for every class, so only the classes that
 * saw f need a value: log(1 + (1 - b) / b * P_c(f) / P(f)), which is kept. */
void nbayes_train(struct nbayes *nb, double background, unsigned flags)
{
    bool binary = flags & (NBAYES_BINARY | NBAYES_PER_LINE);
    if (nb->trained)
        return;
    nb->per_line = flags & NBAYES_PER_LINE;
    size_t stride = 1;
    for (size_t m = 0; m < nb->n_models; m++)
        if (nb->n_classes[m] > stride)
            stride = nb->n_classes[m];
    struct tally t;
    for (size_t m = 0; m < nb->n_models; m++) {
        t.count[m] = xcalloc(stride, sizeof(double));
        t.touched[m] = xmalloc(stride * sizeof(uint32_t));
        t.n_touched[m] = 0;
    }
    uint32_t *start;
    uint32_t *sorted = group_by_feature(nb, &start);
    double *total = totals(nb, sorted, start, binary, &t, stride);
    /* classes with data, per model and kind */
    double classes[NBAYES_MAX_MODELS][NBAYES_KINDS] = {{0}};
    for (size_t m = 0; m < nb->n_models; m++)
        for (size_t k = 0; k < NBAYES_KINDS; k++)
            for (size_t c = 0; c < nb->n_classes[m]; c++)
                classes[m][k] += total[(m * NBAYES_KINDS + k) * stride + c] > 0;
    size_t M = nb->n_models, cap = 0;
    nb->off = xmalloc((nb->n_feat * M + 1) * sizeof *nb->off);
    double odds = (1 - background) / background;
    for (size_t f = 0; f < nb->n_feat; f++) {
        tally_group(nb, sorted + start[f], start[f + 1] - start[f], binary, &t);
        for (size_t m = 0; m < M; m++) {
            const double *tot = total + (m * NBAYES_KINDS + nb->kind[f]) * stride;
            double mean = 0; /* P(f) times the number of classes */
            for (size_t k = 0; k < t.n_touched[m]; k++)
                mean += t.count[m][t.touched[m][k]] / tot[t.touched[m][k]];
            mean /= classes[m][nb->kind[f]];
            nb->off[f * M + m] = (uint32_t)nb->n_entries;
            nb->entries = reserve(nb->entries, &cap, nb->n_entries + t.n_touched[m],
                                  sizeof *nb->entries);
            for (size_t k = 0; k < t.n_touched[m]; k++) {
                uint32_t c = t.touched[m][k];
                double p = t.count[m][c] / tot[c];
                nb->entries[nb->n_entries++] = (struct entry){c, log1pf((float)(odds * p / mean))};
            }
        }
        tally_clear(nb, &t);
    }
    nb->off[nb->n_feat * M] = (uint32_t)nb->n_entries;
    if (nb->n_entries < cap) /* give back what the doubling reserved */
        nb->entries =
            xrealloc(nb->entries, (nb->n_entries ? nb->n_entries : 1) * sizeof *nb->entries);
    for (size_t m = 0; m < nb->n_models; m++) {
        free(t.count[m]);
        free(t.touched[m]);
    }
    free(total);
    free(sorted);
    free(start);
    nb->trained = true;
}

/* ===== Scoring ===== */

int32_t nbayes_index(const struct nbayes *nb, uint64_t feat)
{
    if (!nb->trained || !nb->cap)
        return -1;
    const struct slot *s = &nb->slots[probe(nb, nonzero(feat))];
    return s->key ? (int32_t)s->index : -1;
}

size_t nbayes_scores(const struct nbayes *nb, const uint64_t *feat, size_t n,
                     const double kind_weight[NBAYES_KINDS], double *const *out,
                     size_t known[NBAYES_KINDS], int32_t *index)
{
    size_t M = nb->n_models, total = 0;
    for (size_t m = 0; m < M; m++)
        for (size_t c = 0; c < nb->n_classes[m]; c++)
            out[m][c] = 0;
    if (known)
        memset(known, 0, NBAYES_KINDS * sizeof *known);
    if (!nb->trained || !nb->cap) {
        for (size_t i = 0; index && i < n; i++)
            index[i] = -1;
        return 0;
    }
    const double *weighed =
        nb->weighed && memcmp(kind_weight, nb->weighed_by, sizeof nb->weighed_by) == 0
            ? nb->weighed
            : NULL;
    for (size_t i = 0; i < n; i++) {
        uint64_t key = nonzero(feat[i]);
        const struct slot *s = &nb->slots[probe(nb, key)];
        if (index)
            index[i] = s->key ? (int32_t)s->index : -1;
        if (!s->key)
            continue;
        unsigned kind = NBAYES_KIND(key);
        double w = kind_weight[kind];
        total++;
        if (known)
            known[kind]++;
        const uint32_t *o = nb->off + (size_t)s->index * M;
        const struct entry *e = nb->entries;
        for (size_t m = 0; m < M; m++) {
            double *row = out[m];
            if (weighed) /* the same products, made once at load */
                for (uint32_t k = o[m]; k < o[m + 1]; k++)
                    row[e[k].cls] += weighed[k];
            else
                for (uint32_t k = o[m]; k < o[m + 1]; k++)
                    row[e[k].cls] += w * e[k].v;
        }
    }
    return total;
}

void nbayes_weigh(struct nbayes *nb, const double kind_weight[NBAYES_KINDS])
{
    free(nb->weighed);
    nb->weighed = NULL;
    if (!nb->trained || !nb->n_entries)
        return;
    size_t M = nb->n_models;
    nb->weighed = xmalloc(nb->n_entries * sizeof *nb->weighed);
    memcpy(nb->weighed_by, kind_weight, sizeof nb->weighed_by);
    for (size_t i = 0; i < nb->cap; i++) {
        if (!nb->slots[i].key)
            continue;
        double w = kind_weight[NBAYES_KIND(nb->slots[i].key)];
        const uint32_t *o = nb->off + (size_t)nb->slots[i].index * M;
        for (uint32_t k = o[0]; k < o[M]; k++)
            nb->weighed[k] = w * nb->entries[k].v;
    }
}

size_t nbayes_known(const struct nbayes *nb, const uint64_t *feat, size_t n, unsigned kind)
{
    size_t known = 0;
    if (!nb->trained || !nb->cap)
        return 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t key = nonzero(feat[i]);
        if (NBAYES_KIND(key) == kind && nb->slots[probe(nb, key)].key)
            known++;
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

size_t nbayes_classes(const struct nbayes *nb, size_t model)
{
    return model < nb->n_models ? nb->n_classes[model] : 0;
}

size_t nbayes_features(const struct nbayes *nb)
{
    return nb->n_feat;
}

size_t nbayes_bytes(const struct nbayes *nb)
{
    return nb->cap * sizeof *nb->slots + (nb->n_feat * nb->n_models + 1) * sizeof *nb->off +
           nb->n_entries * (sizeof *nb->entries + (nb->weighed ? sizeof *nb->weighed : 0));
}

size_t nbayes_lines(const struct nbayes *nb)
{
    return nb->n_lines;
}

const uint32_t *nbayes_line(const struct nbayes *nb, size_t i, size_t *n, int *cls, double *weight)
{
    if (i >= nb->n_lines) {
        *n = 0;
        return NULL;
    }
    for (size_t m = 0; m < nb->n_models; m++) {
        if (cls)
            cls[m] = nb->lines[i].cls[m];
        if (weight)
            weight[m] = nb->lines[i].weight[m];
    }
    *n = line_end(nb, i) - nb->lines[i].start;
    return nb->feat + nb->lines[i].start;
}

unsigned nbayes_kind_of(const struct nbayes *nb, uint32_t feature)
{
    return nb->kind && feature < nb->n_feat ? nb->kind[feature] : 0;
}

/* ===== Saving and restoring a trained model ===== */

static void put(struct buf *out, const void *p, size_t n)
{
    buf_append(out, p, n);
}

static bool take(const unsigned char **p, size_t *left, void *dst, size_t n)
{
    if (*left < n)
        return false;
    memcpy(dst, *p, n);
    *p += n;
    *left -= n;
    return true;
}

void nbayes_save(const struct nbayes *nb, struct buf *out)
{
    uint64_t head[4] = {nb->n_models, nb->cap, nb->n_feat, nb->n_entries};
    uint8_t per_line = nb->per_line;
    put(out, head, sizeof head);
    put(out, &per_line, 1);
    for (size_t m = 0; m < nb->n_models; m++) {
        uint64_t c = nb->n_classes[m];
        put(out, &c, sizeof c);
    }
    for (size_t i = 0; i < nb->cap; i++) { /* field by field: a slot has padding */
        put(out, &nb->slots[i].key, sizeof nb->slots[i].key);
        put(out, &nb->slots[i].index, sizeof nb->slots[i].index);
    }
    put(out, nb->off, (nb->n_feat * nb->n_models + 1) * sizeof *nb->off);
    put(out, nb->entries, nb->n_entries * sizeof *nb->entries);
}

/* Every index in range, so scoring a restored model cannot read outside it. */
static bool restored_ok(const struct nbayes *nb)
{
    size_t used = 0, M = nb->n_models;
    for (size_t i = 0; i < nb->cap; i++) {
        if (!nb->slots[i].key)
            continue;
        if (nb->slots[i].index >= nb->n_feat)
            return false;
        used++;
    }
    if (used != nb->n_feat || nb->off[0] != 0 || nb->off[nb->n_feat * M] != nb->n_entries)
        return false;
    for (size_t k = 0; k < nb->n_feat * M; k++) {
        if (nb->off[k + 1] < nb->off[k])
            return false;
        for (uint32_t e = nb->off[k]; e < nb->off[k + 1]; e++)
            if (nb->entries[e].cls >= nb->n_classes[k % M])
                return false;
    }
    return true;
}

bool nbayes_restore(struct nbayes *nb, const unsigned char **p, size_t *left)
{
    uint64_t head[4], c;
    uint8_t per_line;
    if (nb->trained || nb->n_lines || !take(p, left, head, sizeof head) ||
        !take(p, left, &per_line, 1) || head[0] != nb->n_models)
        return false;
    for (size_t m = 0; m < nb->n_models; m++)
        if (!take(p, left, &c, sizeof c) || c != nb->n_classes[m])
            return false;
    uint64_t cap = head[1], n_feat = head[2], n_entries = head[3];
    /* a power of two, at most half full (probe needs an empty slot) */
    if (cap < 2 || cap > (1u << 28) || (cap & (cap - 1)) || n_feat * 2 > cap ||
        n_entries > UINT32_MAX ||
        *left < cap * 12 + (n_feat * nb->n_models + 1) * sizeof(uint32_t) +
                    n_entries * sizeof(struct entry))
        return false;
    nb->cap = cap;
    nb->n_feat = n_feat;
    nb->n_entries = n_entries;
    nb->per_line = per_line != 0;
    nb->slots = xmalloc(cap * sizeof *nb->slots);
    nb->off = xmalloc((n_feat * nb->n_models + 1) * sizeof *nb->off);
    nb->entries = xmalloc((n_entries ? n_entries : 1) * sizeof *nb->entries);
    for (size_t i = 0; i < cap; i++) {
        take(p, left, &nb->slots[i].key, sizeof nb->slots[i].key);
        take(p, left, &nb->slots[i].index, sizeof nb->slots[i].index);
    }
    take(p, left, nb->off, (n_feat * nb->n_models + 1) * sizeof *nb->off);
    take(p, left, nb->entries, n_entries * sizeof *nb->entries);
    if (!restored_ok(nb)) {
        free(nb->slots);
        free(nb->off);
        free(nb->entries);
        nb->slots = NULL;
        nb->off = NULL;
        nb->entries = NULL;
        nb->cap = nb->n_feat = nb->n_entries = 0;
        return false;
    }
    nb->trained = true;
    return true;
}
