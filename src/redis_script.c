/* redis_script — FCALL argument vectors and the library file. */
#include "dvcbot/redis_script.h"
#include "dvcbot/buf.h"
#include "dvcbot/file.h"

#include <stdio.h>
#include <string.h>

int redis_fcall_argv(const char *fn, int nkeys, int nargs, const char *const *args, const size_t *lens,
                     char nkeys_buf[12], const char **argv, size_t *argvlen)
{
    if (nkeys < 0 || nargs < nkeys || nargs > REDIS_SCRIPT_MAX_ARGS)
        return -1;
    snprintf(nkeys_buf, 12, "%d", nkeys);
    argv[0] = "FCALL";
    argv[1] = fn;
    argv[2] = nkeys_buf;
    for (int i = 0; i < 3; i++)
        argvlen[i] = strlen(argv[i]);
    for (int i = 0; i < nargs; i++) {
        argv[3 + i] = args[i];
        argvlen[3 + i] = lens ? lens[i] : strlen(args[i]);
    }
    return nargs + 3;
}

int redis_fcall(struct store *st, const char *fn, store_reply_cb cb, void *ud, int nkeys, int nargs,
                const char *const *args, const size_t *lens)
{
    const char *argv[REDIS_SCRIPT_MAX_ARGS + 3];
    size_t argvlen[REDIS_SCRIPT_MAX_ARGS + 3];
    char nk[12];
    int argc = redis_fcall_argv(fn, nkeys, nargs, args, lens, nk, argv, argvlen);
    if (argc < 0)
        return STORE_EINVAL;
    return store_command_argv(st, cb, ud, argc, argv, argvlen);
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
