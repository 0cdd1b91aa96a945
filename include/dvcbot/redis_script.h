/* redis_script — calls of dvcbot's Redis functions.
 *
 * Every Lua script dvcbot runs on Redis is a function of one library,
 * redis/dvcbot.lua (Redis 7 Functions, `#!lua name=dvcbot`), whose comment
 * above each function names its keys and arguments. The store loads it with
 * FUNCTION LOAD REPLACE on every new connection before anything else is sent
 * (unless Redis holds a newer version: redis_library.h)
 * (store_set_library), `dvcbot import` on its own connection; a call is
 * FCALL <function> <numkeys> <keys...> <args...>. The library file is read
 * from DVCBOT_DATA_DIR (redis/dvcbot.lua; `make install` puts it there).
 *
 * Callback rules are store_command's. */
#ifndef DVCBOT_REDIS_SCRIPT_H
#define DVCBOT_REDIS_SCRIPT_H

#include "dvcbot/store.h"

#include <stddef.h>

#define REDIS_SCRIPT_MAX_ARGS 64     /* keys + arguments that redis_fcall_argv fills */
#define REDIS_LIBRARY_PATH "redis/dvcbot.lua"
#define REDIS_LIBRARY_NAME "dvcbot"

/* Fills argv/argvlen (REDIS_SCRIPT_MAX_ARGS + 3 slots) with "FCALL fn", the
 * key count (written into nkeys_buf) and args (nkeys keys, then the
 * function's arguments; lens NULL: NUL-terminated). Returns argc, or -1 when
 * there are too many arguments. */
int redis_fcall_argv(const char *fn, int nkeys, int nargs, const char *const *args, const size_t *lens,
                     char nkeys_buf[12], const char **argv, size_t *argvlen);
/* FCALL fn with nargs strings (nkeys keys first), any number of them.
 * Returns as store_command (STORE_EINVAL for nkeys < 0 or > nargs). */
int redis_fcall(struct store *st, const char *fn, store_reply_cb cb, void *ud, int nkeys, int nargs,
                const char *const *args, const size_t *lens);
/* The library's source from <data_dir>/redis/dvcbot.lua (caller frees), or
 * NULL with *err ("cannot read '…': …", caller frees). */
char *redis_library_read(const char *data_dir, char **err);

#endif
