/* refs — the key of a user's references and its lifetime. */
#include "dvcbot/refs.h"

#include <stdio.h>

void refs_key(char *out, size_t cap, const char *user_key)
{
    snprintf(out, cap, "refs:{%s}", user_key);
}

int refs_keep(struct store *st, unsigned ttl_s, const char *user_key)
{
    char key[160];
    refs_key(key, sizeof key, user_key);
    return store_command(st, NULL, NULL, "EXPIRE %s %u", key, ttl_s);
}
