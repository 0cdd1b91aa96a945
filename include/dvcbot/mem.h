/* mem — allocation wrappers that never return NULL.
 *
 * dvcbot treats running out of memory as fatal (as Redis' zmalloc does): every
 * x*alloc function aborts the process with a log line instead of returning NULL,
 * so callers need no NULL checks for allocations. Memory is freed with free(). */
#ifndef DVCBOT_MEM_H
#define DVCBOT_MEM_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* Copies at most n bytes of s and NUL-terminates the copy. */
char *xstrndup(const char *s, size_t n);
/* Array growth: returns p with room for at least need items of size bytes,
 * *cap (the items it has room for) doubled from first (or from *cap) as
 * often as needed; p itself when it already has room. */
void *xreserve(void *p, size_t *cap, size_t need, size_t size, size_t first);
/* Frees *p and sets it to NULL. */
void xfree_ptr(char **p);

#endif
