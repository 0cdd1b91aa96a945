/* reply_pool — the reply objects of the store's hiredis reader, from a
 * free list.
 *
 * hiredis 0.14 makes each reply object with calloc, its text with another
 * malloc, and frees both after the callback (~11 objects per Telegram
 * update). reply_pool_fns makes the same redisReply objects, a short text
 * in the object's own block, and keeps up to REPLY_POOL_SPARE freed blocks
 * for the next ones. Objects made by these functions must be freed with
 * reply_pool_fns.freeObject (hiredis does: the reader's fn), never with
 * freeReplyObject. Not thread-safe (the store lives on one loop). */
#ifndef DVCBOT_REPLY_POOL_H
#define DVCBOT_REPLY_POOL_H

#include <hiredis/hiredis.h>

#define REPLY_POOL_TEXT 88   /* text bytes (NUL included) kept in the block */
#if defined(__SANITIZE_ADDRESS__)
#define REPLY_POOL_SPARE 0
#else
#define REPLY_POOL_SPARE 256 /* freed blocks kept */
#endif

extern redisReplyObjectFunctions reply_pool_fns;

#endif
