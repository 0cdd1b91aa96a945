/* wordmap — a string → int map that is built once and then only read.
 *
 * Open addressing with FNV-1a hashing; keys are byte strings with a length
 * (no NUL needed), copied into the map, which owns them. wordmap_get never
 * writes, so a finished map can be shared by any number of readers. */
#ifndef DVCBOT_WORDMAP_H
#define DVCBOT_WORDMAP_H

#include <stdbool.h>
#include <stddef.h>

struct wordmap_entry {
    char *key;   /* owned, NUL-terminated; NULL for an empty slot */
    size_t klen;
    unsigned hash;
    int value;
};

struct wordmap {
    struct wordmap_entry *slots;
    size_t cap;  /* power of two, or 0 while empty */
    size_t n;
};

void wordmap_init(struct wordmap *m);
void wordmap_free(struct wordmap *m);
/* Inserts or replaces key's value. */
void wordmap_put(struct wordmap *m, const char *key, size_t klen, int value);
/* Returns true and the value in *value when key is present. */
bool wordmap_get(const struct wordmap *m, const char *key, size_t klen, int *value);

#endif
