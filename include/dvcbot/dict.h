/* dict — the process's one hash table, in the shape of Redis's dict: a
 * table of entries whose dict_type says what becomes of the values.
 *
 * Keys are byte strings with a length, copied into the table (NUL-
 * terminated too), hashed with 64-bit FNV-1a; the hash is kept in the entry.
 * Open addressing with linear probing, at most half full, backward-shift
 * deletion (no tombstones). A value is a pointer or an integer (union
 * dict_value); pointers belong to the caller unless the type has val_free.
 *
 * strmap.h (C string → pointer) and wordmap.h (bytes → int, built once then
 * only read) are typed views of it. Lookups never write, so a finished table
 * can be read from anywhere; an entry pointer is valid until the next add
 * or delete. Iteration order is unspecified; do not add or delete while
 * iterating. */
#ifndef DVCBOT_DICT_H
#define DVCBOT_DICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

union dict_value {
    void *ptr;
    int64_t i;
};

struct dict_entry {
    char *key;              /* owned copy; NULL = empty slot */
    size_t klen;
    uint64_t hash;
    union dict_value v;
};

struct dict_type {
    void (*val_free)(void *ptr);  /* called for pointer values on delete and dict_free; NULL: none */
};

struct dict {
    const struct dict_type *type; /* NULL: values are the caller's */
    struct dict_entry *slots;
    size_t cap;                   /* power of two, or 0 while empty */
    size_t len;
};

void dict_init(struct dict *d, const struct dict_type *type);
/* Frees the keys, the table and (with val_free) the values. */
void dict_free(struct dict *d);
uint64_t dict_hash(const char *key, size_t klen);
/* The entry of key, or NULL. */
struct dict_entry *dict_find(const struct dict *d, const char *key, size_t klen);
/* The entry of key, made (value zeroed) when absent; *added says which. */
struct dict_entry *dict_add(struct dict *d, const char *key, size_t klen, bool *added);
/* Removes key; returns false when absent. Its value goes to *old (when not
 * NULL) or, for a pointer with val_free, is freed. */
bool dict_delete(struct dict *d, const char *key, size_t klen, union dict_value *old);
/* Iterates: start with *pos = 0; NULL at the end. */
struct dict_entry *dict_next(const struct dict *d, size_t *pos);

#endif
