/* wordmap — byte string → int, built once and then only read: a typed view
 * of dict.h. Keys have a length (no NUL needed) and are copied into the map,
 * which owns them. wordmap_get never writes, so a finished map can be shared
 * by any number of readers. */
#ifndef DVCBOT_WORDMAP_H
#define DVCBOT_WORDMAP_H

#include "dvcbot/dict.h"

#include <stdbool.h>
#include <stddef.h>

struct wordmap {
    struct dict d;
};

static inline void wordmap_init(struct wordmap *m)
{
    dict_init(&m->d, NULL);
}

static inline void wordmap_free(struct wordmap *m)
{
    dict_free(&m->d);
}

static inline size_t wordmap_len(const struct wordmap *m)
{
    return m->d.len;
}

/* Inserts or replaces key's value. */
static inline void wordmap_put(struct wordmap *m, const char *key, size_t klen, int value)
{
    bool added;
    dict_add(&m->d, key, klen, &added)->v.i = value;
}

/* Returns true and the value in *value when key is present. */
static inline bool wordmap_get(const struct wordmap *m, const char *key, size_t klen, int *value)
{
    const struct dict_entry *e = dict_find(&m->d, key, klen);
    if (!e)
        return false;
    *value = (int)e->v.i;
    return true;
}

#endif
