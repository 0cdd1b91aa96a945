/* redis_script — FCALL argument vectors and the library file. */
#include "dvcbot/redis_script.h"
#include "dvcbot/buf.h"
#include "dvcbot/file.h"
#include "dvcbot/mem.h"
#include "dvcbot/strfmt.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* argv/argvlen of nargs + 3 slots: FCALL, the function, the key count, then args. */
static void fill_argv(const char *fn, int nargs, const char *const *args, const size_t *lens,
                      const char *nkeys_buf, const char **argv, size_t *argvlen)
{
    argv[0] = "FCALL";
    argv[1] = fn;
    argv[2] = nkeys_buf;
    for (int i = 0; i < 3; i++)
        argvlen[i] = strlen(argv[i]);
    for (int i = 0; i < nargs; i++) {
        argv[3 + i] = args[i];
        argvlen[3 + i] = lens ? lens[i] : strlen(args[i]);
    }
}

int redis_fcall_argv(const char *fn, int nkeys, int nargs, const char *const *args, const size_t *lens,
                     char nkeys_buf[12], const char **argv, size_t *argvlen)
{
    if (nkeys < 0 || nargs < nkeys || nargs > REDIS_SCRIPT_MAX_ARGS)
        return -1;
    str_decimal(nkeys_buf, 12, nkeys);
    fill_argv(fn, nargs, args, lens, nkeys_buf, argv, argvlen);
    return nargs + 3;
}

int redis_fcall(struct store *st, const char *fn, store_reply_cb cb, void *ud, int nkeys, int nargs,
                const char *const *args, const size_t *lens)
{
    if (nkeys < 0 || nargs < nkeys)
        return STORE_EINVAL;
    const char *small_argv[REDIS_SCRIPT_MAX_ARGS + 3];
    size_t small_lens[REDIS_SCRIPT_MAX_ARGS + 3];
    bool big = nargs > REDIS_SCRIPT_MAX_ARGS; /* a group of calls (fcall_group, group commit) */
    const char **argv = big ? xmalloc(((size_t)nargs + 3) * sizeof *argv) : small_argv;
    size_t *argvlen = big ? xmalloc(((size_t)nargs + 3) * sizeof *argvlen) : small_lens;
    char nk[12];
    str_decimal(nk, sizeof nk, nkeys);
    fill_argv(fn, nargs, args, lens, nk, argv, argvlen);
    int rc = store_command_argv(st, cb, ud, nargs + 3, argv, argvlen);
    if (big) {
        free(argv);
        free(argvlen);
    }
    return rc;
}

char *redis_library_read(const char *data_dir, char **err)
{
    struct buf path;
    buf_init(&path);
    buf_printf(&path, "%s/%s", data_dir, REDIS_LIBRARY_PATH);
    char *src = file_read_explained(buf_cstr(&path), NULL, err);
    buf_free(&path);
    return src;
}
