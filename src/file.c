/* file — read a data file whole. */
#include "dvcbot/file.h"
#include "dvcbot/buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *file_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct buf b;
    buf_init(&b);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, n);
    if (ferror(f)) {
        int saved = errno ? errno : EIO;
        fclose(f);
        buf_free(&b);
        errno = saved;
        return NULL;
    }
    fclose(f);
    if (len)
        *len = b.len;
    return buf_steal(&b);
}

char *file_read_explained(const char *path, size_t *len, char **err)
{
    char *data = file_read(path, len);
    if (!data) {
        struct buf e;
        buf_init(&e);
        buf_printf(&e, "cannot read '%s': %s", path, strerror(errno));
        *err = buf_steal(&e);
    }
    return data;
}
