/* dict — open addressing hash table with typed values. */
#include "dvcbot/dict.h"
#include "dvcbot/mem.h"

#include <stdlib.h>
#include <string.h>

#define DICT_MIN_CAP 16

static uint64_t load64(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

static uint64_t load32(const unsigned char *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

/* Eight bytes a step, the last 1 to 8 by two overlapping loads (a
 * byte-by-byte FNV cost ~5 instructions a byte; an update makes ~150
 * look-ups, matcher words and user keys of ~30 bytes). The low bits pick
 * the slot: the last step folds the high ones in. Only slots and
 * dict_next's order follow from it. */
static inline uint64_t hash(const char *key, size_t klen)
{
    const unsigned char *p = (const unsigned char *)key;
    uint64_t h = 1469598103934665603ULL;
    size_t n = klen;
    for (; n > 8; p += 8, n -= 8) {
        h = (h ^ load64(p)) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 29;
    }
    uint64_t w = 0;
    if (n == 8)
        w = load64(p);
    else if (n >= 4)
        w = load32(p) | load32(p + n - 4) << 32;
    else if (n > 0)
        w = p[0] | (uint64_t)p[n >> 1] << 8 | (uint64_t)p[n - 1] << 16;
    h = (h ^ w ^ ((uint64_t)klen << 56)) * 0x9e3779b97f4a7c15ULL;
    return h ^ (h >> 32);
}

uint64_t dict_hash(const char *key, size_t klen)
{
    return hash(key, klen);
}

void dict_init(struct dict *d, const struct dict_type *type)
{
    *d = (struct dict){.type = type};
}

void dict_free(struct dict *d)
{
    for (size_t i = 0; i < d->cap; i++) {
        if (!d->slots[i].key)
            continue;
        if (d->type && d->type->val_free)
            d->type->val_free(d->slots[i].v.ptr);
        free(d->slots[i].key);
    }
    free(d->slots);
    dict_init(d, d->type);
}

/* The slot holding key, or the empty slot where it would go. */
static struct dict_entry *probe(const struct dict *d, const char *key, size_t klen, uint64_t h)
{
    size_t mask = d->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct dict_entry *e = &d->slots[i];
        if (!e->key || (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0))
            return e;
    }
}

static void grow(struct dict *d)
{
    struct dict old = *d;
    d->cap = old.cap ? old.cap * 2 : DICT_MIN_CAP;
    d->slots = xcalloc(d->cap, sizeof *d->slots);
    for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i].key)
            *probe(d, old.slots[i].key, old.slots[i].klen, old.slots[i].hash) = old.slots[i];
    free(old.slots);
}

struct dict_entry *dict_find(const struct dict *d, const char *key, size_t klen)
{
    if (!d->cap)
        return NULL;
    struct dict_entry *e = probe(d, key, klen, hash(key, klen));
    return e->key ? e : NULL;
}

struct dict_entry *dict_add(struct dict *d, const char *key, size_t klen, bool *added)
{
    if ((d->len + 1) * 2 > d->cap)
        grow(d);
    uint64_t h = hash(key, klen);
    struct dict_entry *e = probe(d, key, klen, h);
    *added = !e->key;
    if (*added) {
        char *copy = xmalloc(klen + 1);
        memcpy(copy, key, klen);
        copy[klen] = '\0';
        *e = (struct dict_entry){.key = copy, .klen = klen, .hash = h};
        d->len++;
    }
    return e;
}

bool dict_delete(struct dict *d, const char *key, size_t klen, union dict_value *old)
{
    struct dict_entry *e = dict_find(d, key, klen);
    if (!e)
        return false;
    if (old)
        *old = e->v;
    else if (d->type && d->type->val_free)
        d->type->val_free(e->v.ptr);
    free(e->key);
    e->key = NULL;
    d->len--;
    /* Backward-shift the rest of the cluster so lookups stay correct. */
    size_t mask = d->cap - 1, i = (size_t)(e - d->slots);
    for (size_t j = (i + 1) & mask; d->slots[j].key; j = (j + 1) & mask) {
        size_t home = d->slots[j].hash & mask;
        bool between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (between)
            continue;
        d->slots[i] = d->slots[j];
        d->slots[j].key = NULL;
        i = j;
    }
    return true;
}

struct dict_entry *dict_next(const struct dict *d, size_t *pos)
{
    while (*pos < d->cap) {
        struct dict_entry *e = &d->slots[(*pos)++];
        if (e->key)
            return e;
    }
    return NULL;
}
