/* wordmap — build-once string → int hash map. */
#include "dvcbot/wordmap.h"
#include "dvcbot/mem.h"

#include <stdlib.h>
#include <string.h>

static unsigned hash_bytes(const char *s, size_t n)
{
    unsigned h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

void wordmap_init(struct wordmap *m)
{
    m->slots = NULL;
    m->cap = m->n = 0;
}

void wordmap_free(struct wordmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
    wordmap_init(m);
}

static struct wordmap_entry *probe(const struct wordmap *m, const char *key, size_t klen, unsigned h)
{
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct wordmap_entry *e = &m->slots[i];
        if (!e->key || (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0))
            return e;
    }
}

static void grow(struct wordmap *m)
{
    struct wordmap old = *m;
    m->cap = old.cap ? old.cap * 2 : 64;
    m->slots = xcalloc(m->cap, sizeof *m->slots);
    for (size_t i = 0; i < old.cap; i++) {
        struct wordmap_entry *e = &old.slots[i];
        if (e->key)
            *probe(m, e->key, e->klen, e->hash) = *e;
    }
    free(old.slots);
}

void wordmap_put(struct wordmap *m, const char *key, size_t klen, int value)
{
    if ((m->n + 1) * 2 > m->cap)
        grow(m);
    unsigned h = hash_bytes(key, klen);
    struct wordmap_entry *e = probe(m, key, klen, h);
    if (!e->key) {
        e->key = xstrndup(key, klen);
        e->klen = klen;
        e->hash = h;
        m->n++;
    }
    e->value = value;
}

bool wordmap_get(const struct wordmap *m, const char *key, size_t klen, int *value)
{
    if (!m->cap)
        return false;
    const struct wordmap_entry *e = probe(m, key, klen, hash_bytes(key, klen));
    if (!e->key)
        return false;
    *value = e->value;
    return true;
}
