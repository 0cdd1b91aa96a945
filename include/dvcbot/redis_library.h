/* redis_library — which version of redis/dvcbot.lua Redis keeps.
 *
 * The library declares its version on one line, `local LIBRARY_VERSION =
 * <n>`, and reports it through its function library_version. A process
 * asks Redis for it (REDIS_LIBRARY_VERSION_CALL) before loading its own
 * library (the store on each new connection, `dvcbot import` once) and
 * loads it only when Redis holds none, one that has no version (the
 * releases before this check), or one of a version up to its own (the same
 * version is loaded again, as before: a changed file of one release).
 * So during a rolling upgrade an old process that reconnects does not put
 * its library back over the newer one the new processes loaded, which
 * still serves it (the library reads the call layouts of the version
 * before). Releases from before this check still replace it on reconnect.
 * The check and the load are two commands: two processes of different
 * versions connecting in the same instant may still load in either order;
 * the next connection of the newer one puts its library back. */
#ifndef DVCBOT_REDIS_LIBRARY_H
#define DVCBOT_REDIS_LIBRARY_H

#include <hiredis/hiredis.h>
#include <stdbool.h>

#define REDIS_LIBRARY_VERSION_CALL "FCALL library_version 0"

/* The version the library text declares, 0 when it declares none. */
long redis_library_version(const char *lua);
/* Whether a process whose library has version `ours` loads it, Redis
 * having answered r (NULL: no answer) to REDIS_LIBRARY_VERSION_CALL. An
 * error (no such function: no library, or one from before the check)
 * means load. */
bool redis_library_should_load(const redisReply *r, long ours);

#endif
