/* redis_library — which version of redis/dvcbot.lua Redis keeps. */
#include "dvcbot/redis_library.h"

#include <stdlib.h>
#include <string.h>

#define VERSION_LINE "\nlocal LIBRARY_VERSION = "

long redis_library_version(const char *lua)
{
    const char *at = lua ? strstr(lua, VERSION_LINE) : NULL;
    if (!at)
        return 0;
    long v = strtol(at + strlen(VERSION_LINE), NULL, 10);
    return v > 0 ? v : 0;
}

bool redis_library_should_load(const redisReply *r, long ours)
{
    if (!r || r->type != REDIS_REPLY_INTEGER)
        return true;
    return r->integer <= ours;
}
