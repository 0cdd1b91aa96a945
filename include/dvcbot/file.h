/* file — small helpers for reading data files whole.
 * Returned buffers belong to the caller (free()). */
#ifndef DVCBOT_FILE_H
#define DVCBOT_FILE_H

#include <stddef.h>

/* Reads path into a NUL-terminated buffer; *len (may be NULL) gets its size.
 * Returns NULL with errno set when the file cannot be read. */
char *file_read(const char *path, size_t *len);
/* The same; on failure *err gets "cannot read '<path>': <reason>" (caller frees). */
char *file_read_explained(const char *path, size_t *len, char **err);

#endif
