/* commune — commune names compared the way staff and residents write them.
 *
 * "Xã Mường Thanh", "xa muong thanh" and "Mường Thanh" name the same commune:
 * a commune key is the name folded (normalize.h: no case, no diacritics,
 * punctuation as spaces) without a leading "xã", "phường" or "thị trấn".
 * Pure functions, no state. */
#ifndef DVCBOT_COMMUNE_H
#define DVCBOT_COMMUNE_H

#include <stdbool.h>
#include <stddef.h>

#define COMMUNE_KEY_MAX 128

/* Writes the key of commune into out ("" for NULL, "" or an invalid name). */
void commune_key(const char *commune, char *out, size_t cap);
/* Whether two names have the same, non-empty key. */
bool commune_same(const char *a, const char *b);

#endif
