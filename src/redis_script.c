/* redis_script — EVAL / EVALSHA argument vectors. */
#include "dvcbot/redis_script.h"
#include "dvcbot/log.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

void redis_script_init(struct redis_script *s, const char *src)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char d[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)src, strlen(src), d);
    for (int i = 0; i < SHA_DIGEST_LENGTH; i++) {
        s->sha[2 * i] = hex[d[i] >> 4];
        s->sha[2 * i + 1] = hex[d[i] & 15];
    }
    s->sha[40] = '\0';
    s->src = src;
}

int redis_script_argv(const struct redis_script *s, bool by_sha, int nkeys, int nargs,
                      const char *const *args, const size_t *lens, char nkeys_buf[12],
                      const char **argv, size_t *argvlen)
{
    if (nargs < nkeys || nargs > REDIS_SCRIPT_MAX_ARGS)
        return -1;
    snprintf(nkeys_buf, 12, "%d", nkeys);
    argv[0] = by_sha ? "EVALSHA" : "EVAL";
    argv[1] = by_sha ? s->sha : s->src;
    argv[2] = nkeys_buf;
    for (int i = 0; i < 3; i++)
        argvlen[i] = strlen(argv[i]);
    for (int i = 0; i < nargs; i++) {
        argv[3 + i] = args[i];
        argvlen[3 + i] = lens ? lens[i] : strlen(args[i]);
    }
    return nargs + 3;
}

static int run(struct store *st, const struct redis_script *s, bool by_sha, store_reply_cb cb,
               void *ud, int nkeys, int nargs, const char *const *args, const size_t *lens)
{
    const char *argv[REDIS_SCRIPT_MAX_ARGS + 3];
    size_t argvlen[REDIS_SCRIPT_MAX_ARGS + 3];
    char nk[12];
    int argc = redis_script_argv(s, by_sha, nkeys, nargs, args, lens, nk, argv, argvlen);
    if (argc < 0)
        return STORE_EINVAL;
    return store_command_argv(st, cb, ud, argc, argv, argvlen);
}

int redis_script_eval(struct store *st, const struct redis_script *s, store_reply_cb cb, void *ud,
                      int nkeys, int nargs, const char *const *args, const size_t *lens)
{
    return run(st, s, false, cb, ud, nkeys, nargs, args, lens);
}

int redis_script_evalsha(struct store *st, const struct redis_script *s, store_reply_cb cb,
                         void *ud, int nkeys, int nargs, const char *const *args,
                         const size_t *lens)
{
    return run(st, s, true, cb, ud, nkeys, nargs, args, lens);
}

static void on_loaded(redisReply *r, void *ud)
{
    (void)ud;
    if (r && r->type == REDIS_REPLY_ERROR)
        log_fmt(LOG_ERROR, "script load failed", "\"error\":%s", log_q(r->str));
}

int redis_script_load(struct store *st, const struct redis_script *s)
{
    const char *argv[] = {"SCRIPT", "LOAD", s->src};
    size_t lens[] = {6, 4, strlen(s->src)};
    return store_command_argv(st, on_loaded, NULL, 3, argv, lens);
}
