/* strmap — C string → pointer: a typed view of dict.h.
 *
 * The map copies keys and owns the copies; values are the caller's (the map
 * never frees them). Iteration order is unspecified; do not insert or delete
 * while iterating with strmap_next. */
#ifndef DVCBOT_STRMAP_H
#define DVCBOT_STRMAP_H

#include "dvcbot/dict.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct strmap {
    struct dict d;
};

/* A key and its value (e.g. to sort what strmap_next returns). */
struct strmap_slot {
    char *key;
    void *value;
};

static inline void strmap_init(struct strmap *m)
{
    dict_init(&m->d, NULL);
}

/* Frees the keys and the table, not the values. */
static inline void strmap_free(struct strmap *m)
{
    dict_free(&m->d);
}

static inline size_t strmap_len(const struct strmap *m)
{
    return m->d.len;
}

static inline void *strmap_get(const struct strmap *m, const char *key)
{
    const struct dict_entry *e = dict_find(&m->d, key, strlen(key));
    return e ? e->v.ptr : NULL;
}

static inline bool strmap_has(const struct strmap *m, const char *key)
{
    return dict_find(&m->d, key, strlen(key)) != NULL;
}

/* Inserts or replaces; returns the previous value or NULL. */
static inline void *strmap_put(struct strmap *m, const char *key, void *value)
{
    bool added;
    struct dict_entry *e = dict_add(&m->d, key, strlen(key), &added);
    void *prev = added ? NULL : e->v.ptr;
    e->v.ptr = value;
    return prev;
}

/* Removes the key; returns its value or NULL. */
static inline void *strmap_del(struct strmap *m, const char *key)
{
    union dict_value old;
    return dict_delete(&m->d, key, strlen(key), &old) ? old.ptr : NULL;
}

/* Iterates: start with *pos = 0; returns false at the end. */
static inline bool strmap_next(const struct strmap *m, size_t *pos, const char **key, void **value)
{
    const struct dict_entry *e = dict_next(&m->d, pos);
    if (!e)
        return false;
    *key = e->key;
    *value = e->v.ptr;
    return true;
}

#endif
