/* redis_script — Lua scripts run on Redis, by text or by SHA1.
 *
 * Occasional calls (a lookup, an IPN) send the script text with EVAL; Redis
 * caches it by hash anyway. Bulk callers (dossier ingest) send SCRIPT LOAD
 * once and then EVALSHA per call: commands on one connection run in order,
 * so the script is known by the time the EVALSHAs after it run.
 *
 * A struct redis_script points at its (static) source and holds the hex SHA1;
 * nothing is allocated. Callback rules are store_command's. */
#ifndef DVCBOT_REDIS_SCRIPT_H
#define DVCBOT_REDIS_SCRIPT_H

#include "dvcbot/store.h"

#include <stdbool.h>
#include <stddef.h>

#define REDIS_SCRIPT_MAX_ARGS 64  /* keys + arguments of one call */

struct redis_script {
    const char *src;
    char sha[41];
};

void redis_script_init(struct redis_script *s, const char *src);

/* Fills argv/argvlen (REDIS_SCRIPT_MAX_ARGS + 3 slots) with "EVAL src" or
 * "EVALSHA sha", the key count (written into nkeys_buf) and args. Returns
 * argc, or -1 when there are too many arguments. */
int redis_script_argv(const struct redis_script *s, bool by_sha, int nkeys, int nargs,
                      const char *const *args, const size_t *lens, char nkeys_buf[12],
                      const char **argv, size_t *argvlen);

/* args: nkeys keys followed by the script's arguments. Return as
 * store_command (STORE_EINVAL for too many arguments). */
int redis_script_eval(struct store *st, const struct redis_script *s, store_reply_cb cb, void *ud,
                      int nkeys, int nargs, const char *const *args, const size_t *lens);
int redis_script_evalsha(struct store *st, const struct redis_script *s, store_reply_cb cb,
                         void *ud, int nkeys, int nargs, const char *const *args,
                         const size_t *lens);
/* SCRIPT LOAD; the reply is only logged when it is an error. */
int redis_script_load(struct store *st, const struct redis_script *s);

#endif
