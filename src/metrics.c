/* metrics — a small Prometheus registry. */
#include "dvcbot/metrics.h"
#include "dvcbot/mem.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BUCKETS 16

struct metric_def {
    char *name;
    char *help;
    enum metric_type type;
    double buckets[MAX_BUCKETS];
    size_t n_buckets;
};

struct series {
    char *key;              /* name + '\0' + labels, hashed */
    const char *name;       /* into key */
    const char *labels;     /* into key */
    uint64_t hash;          /* of name and labels, compared before the text */
    size_t name_len, labels_len;
    size_t def;             /* defs index + 1 once known (metrics_observe), else 0 */
    double value;           /* counter/gauge value; histogram sum */
    uint64_t count;         /* histogram observations */
    uint64_t bucket_counts[MAX_BUCKETS];
};

static struct metric_def *defs;
static size_t n_defs;
static struct series **table; /* open addressing */
static size_t table_cap, table_used;
/* Insertion order, so /metrics output is stable. */
static struct series **order;
static size_t n_order;

/* Eight bytes a step (an update makes some ten look-ups of ~45 bytes each: a
 * byte-by-byte FNV cost ~230 instructions a look-up). Any change here only
 * moves series between slots: the table is private to this file. */
static uint64_t mix(uint64_t h, const char *p, size_t n)
{
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, n);
    h = (h ^ w ^ ((uint64_t)n << 56)) * 0x9e3779b97f4a7c15ULL;
    return h ^ (h >> 32);
}

static uint64_t hash(const char *name, size_t nl, const char *labels, size_t ll)
{
    return mix(mix(1469598103934665603ULL, name, nl), labels, ll);
}

static struct metric_def *find_def(const char *name)
{
    for (size_t i = 0; i < n_defs; i++)
        if (strcmp(defs[i].name, name) == 0)
            return &defs[i];
    return NULL;
}

void metrics_declare(const char *name, enum metric_type type, const char *help,
                     const double *buckets, size_t n_buckets)
{
    if (find_def(name))
        return;
    defs = xrealloc(defs, (n_defs + 1) * sizeof *defs);
    struct metric_def *d = &defs[n_defs++];
    memset(d, 0, sizeof *d);
    d->name = xstrdup(name);
    d->help = xstrdup(help);
    d->type = type;
    d->n_buckets = n_buckets > MAX_BUCKETS ? MAX_BUCKETS : n_buckets;
    if (d->n_buckets)
        memcpy(d->buckets, buckets, d->n_buckets * sizeof *buckets);
}

static void grow(void)
{
    size_t cap = table_cap ? table_cap * 2 : 256;
    struct series **t = xcalloc(cap, sizeof *t);
    for (size_t i = 0; i < table_cap; i++) {
        struct series *s = table[i];
        if (!s)
            continue;
        size_t j = s->hash & (cap - 1);
        while (t[j])
            j = (j + 1) & (cap - 1);
        t[j] = s;
    }
    free(table);
    table = t;
    table_cap = cap;
}

static struct series *lookup(const char *name, const char *labels, bool create)
{
    if (!labels)
        labels = "";
    if (table_cap == 0 || (table_used + 1) * 2 > table_cap) {
        if (!create && table_cap == 0)
            return NULL;
        grow();
    }
    size_t nl = strlen(name), ll = strlen(labels);
    uint64_t h = hash(name, nl, labels, ll);
    size_t j = h & (table_cap - 1);
    for (; table[j]; j = (j + 1) & (table_cap - 1)) {
        const struct series *t = table[j];
        if (t->hash == h && t->name_len == nl && t->labels_len == ll &&
            memcmp(t->name, name, nl) == 0 && memcmp(t->labels, labels, ll) == 0)
            return table[j];
    }
    if (!create)
        return NULL;
    struct series *s = xcalloc(1, sizeof *s);
    s->key = xmalloc(nl + ll + 2);
    memcpy(s->key, name, nl + 1);
    memcpy(s->key + nl + 1, labels, ll + 1);
    s->name = s->key;
    s->labels = s->key + nl + 1;
    s->hash = h;
    s->name_len = nl;
    s->labels_len = ll;
    table[j] = s;
    table_used++;
    order = xrealloc(order, (n_order + 1) * sizeof *order);
    order[n_order++] = s;
    return s;
}

void metrics_inc(const char *name, const char *labels, double by)
{
    lookup(name, labels, true)->value += by;
}

void metrics_set(const char *name, const char *labels, double value)
{
    lookup(name, labels, true)->value = value;
}

void metrics_observe(const char *name, const char *labels, double value)
{
    struct series *s = lookup(name, labels, true);
    if (s->def == 0) { /* a metric may be declared after its first series */
        struct metric_def *f = find_def(name);
        s->def = f ? (size_t)(f - defs) + 1 : 0;
    }
    struct metric_def *d = s->def ? &defs[s->def - 1] : NULL;
    s->value += value;
    s->count++;
    for (size_t i = 0; d && i < d->n_buckets; i++)
        if (value <= d->buckets[i])
            s->bucket_counts[i]++;
}

double metrics_get(const char *name, const char *labels)
{
    struct series *s = lookup(name, labels, false);
    if (!s)
        return 0;
    struct metric_def *d = find_def(name);
    return d && d->type == METRIC_HISTOGRAM ? (double)s->count : s->value;
}

double metrics_quantile(const char *name, const char *labels, double q)
{
    struct series *s = lookup(name, labels, false);
    struct metric_def *d = find_def(name);
    if (!s || !d || s->count == 0)
        return -1;
    double rank = q * (double)s->count, lower = 0;
    uint64_t below = 0;
    for (size_t i = 0; i < d->n_buckets; i++) {
        if ((double)s->bucket_counts[i] >= rank) {
            uint64_t in = s->bucket_counts[i] - below;
            double frac = in ? (rank - (double)below) / (double)in : 1;
            return lower + (d->buckets[i] - lower) * frac;
        }
        below = s->bucket_counts[i];
        lower = d->buckets[i];
    }
    return lower; /* above the last bucket */
}

static void render_series(struct buf *out, const struct metric_def *d, const struct series *s)
{
    const char *sep = *s->labels ? "," : "";
    if (!d || d->type != METRIC_HISTOGRAM) {
        if (*s->labels)
            buf_printf(out, "%s{%s} %.17g\n", s->name, s->labels, s->value);
        else
            buf_printf(out, "%s %.17g\n", s->name, s->value);
        return;
    }
    for (size_t i = 0; i < d->n_buckets; i++)
        buf_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", s->name, s->labels, sep,
                   d->buckets[i], (unsigned long long)s->bucket_counts[i]);
    buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", s->name, s->labels, sep,
               (unsigned long long)s->count);
    const char *lb = *s->labels ? "{" : "", *rb = *s->labels ? "}" : "";
    buf_printf(out, "%s_sum%s%s%s %.17g\n", s->name, lb, s->labels, rb, s->value);
    buf_printf(out, "%s_count%s%s%s %llu\n", s->name, lb, s->labels, rb,
               (unsigned long long)s->count);
}

void metrics_render(struct buf *out)
{
    static const char *const type_names[] = {"counter", "gauge", "histogram"};
    for (size_t i = 0; i < n_defs; i++) {
        buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", defs[i].name, defs[i].help,
                   defs[i].name, type_names[defs[i].type]);
        for (size_t j = 0; j < n_order; j++)
            if (strcmp(order[j]->name, defs[i].name) == 0)
                render_series(out, &defs[i], order[j]);
    }
    for (size_t j = 0; j < n_order; j++)
        if (!find_def(order[j]->name))
            render_series(out, NULL, order[j]);
}

void metrics_free(void)
{
    for (size_t j = 0; j < n_order; j++) {
        free(order[j]->key);
        free(order[j]);
    }
    for (size_t i = 0; i < n_defs; i++) {
        free(defs[i].name);
        free(defs[i].help);
    }
    free(order);
    free(table);
    free(defs);
    order = NULL;
    table = NULL;
    defs = NULL;
    n_order = n_defs = table_cap = table_used = 0;
}
