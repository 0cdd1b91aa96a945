/* strmap — a hash map from C strings to pointers (open addressing, linear
 * probing, backward-shift deletion).
 *
 * The map copies keys and owns the copies; values are the caller's (the map
 * never frees them). Iteration order is unspecified; do not insert or delete
 * while iterating with strmap_next. */
#ifndef DVCBOT_STRMAP_H
#define DVCBOT_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

struct strmap_slot {
    char *key; /* NULL = empty */
    void *value;
};

struct strmap {
    struct strmap_slot *slots;
    size_t cap;  /* power of two, or 0 */
    size_t len;
};

void strmap_init(struct strmap *m);
/* Frees the keys and the table, not the values. */
void strmap_free(struct strmap *m);
void *strmap_get(const struct strmap *m, const char *key);
bool strmap_has(const struct strmap *m, const char *key);
/* Inserts or replaces; returns the previous value or NULL. */
void *strmap_put(struct strmap *m, const char *key, void *value);
/* Removes the key; returns its value or NULL. */
void *strmap_del(struct strmap *m, const char *key);
/* Iterates: start with *pos = 0; returns false at the end. */
bool strmap_next(const struct strmap *m, size_t *pos, const char **key, void **value);

#endif
