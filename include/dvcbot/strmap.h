/* strmap — a string → int map that is built once and then only read.
 *
 * Open addressing with FNV-1a hashing; keys are byte strings with a length
 * (no NUL needed), copied into the map, which owns them. strmap_get never
 * writes, so a finished map can be shared by any number of readers. */
#ifndef DVCBOT_STRMAP_H
#define DVCBOT_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

struct strmap_entry {
    char *key;   /* owned, NUL-terminated; NULL for an empty slot */
    size_t klen;
    unsigned hash;
    int value;
};

struct strmap {
    struct strmap_entry *slots;
    size_t cap;  /* power of two, or 0 while empty */
    size_t n;
};

void strmap_init(struct strmap *m);
void strmap_free(struct strmap *m);
/* Inserts or replaces key's value. */
void strmap_put(struct strmap *m, const char *key, size_t klen, int value);
/* Returns true and the value in *value when key is present. */
bool strmap_get(const struct strmap *m, const char *key, size_t klen, int *value);

#endif
