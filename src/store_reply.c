/* store_reply — reading the replies the store hands to callbacks. See
 * include/dvcbot/store_reply.h. */
#include "dvcbot/store_reply.h"

#include <stdio.h>
#include <string.h>

const char *store_reply_str(const redisReply *r)
{
    return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) ? r->str : NULL;
}

bool store_reply_failed(const redisReply *r)
{
    return !r || r->type == REDIS_REPLY_ERROR;
}

const redisReply *store_scan_items(const redisReply *r, char *cursor, size_t cap)
{
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        !store_reply_str(r->element[0]) || r->element[1]->type != REDIS_REPLY_ARRAY ||
        strlen(r->element[0]->str) >= cap)
        return NULL;
    snprintf(cursor, cap, "%s", r->element[0]->str);
    return r->element[1];
}

const char *store_reply_error(const redisReply *r)
{
    return r && r->type == REDIS_REPLY_ERROR ? r->str : "no reply";
}
