/* refs — the key of a user's references and its lifetime. */
#include "dvcbot/refs.h"
#include "dvcbot/strfmt.h"

#include <stdio.h>

void refs_key(char *out, size_t cap, const char *user_key)
{
    STR_CAT(out, cap, "refs:{", user_key, "}");
}

int refs_keep(struct store *st, unsigned ttl_s, const char *user_key)
{
    char key[160];
    refs_key(key, sizeof key, user_key);
    return store_command(st, NULL, NULL, "EXPIRE %s %u", key, ttl_s);
}
