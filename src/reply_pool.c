/* reply_pool — hiredis reply objects from a free list (reply_pool.h). */
#include "dvcbot/reply_pool.h"

#include <stdlib.h>
#include <string.h>

struct block {
    redisReply r;
    struct block *next; /* in the free list */
    char text[REPLY_POOL_TEXT];
};

static struct block *spare;
static size_t n_spare;
static const size_t spare_max = REPLY_POOL_SPARE; /* 0 under ASan */

static redisReply *reply_new(int type)
{
    struct block *b = spare;
    if (b) {
        spare = b->next;
        n_spare--;
    } else {
        b = malloc(sizeof *b);
        if (!b)
            return NULL;
    }
    memset(&b->r, 0, sizeof b->r);
    b->r.type = type;
    return &b->r;
}

static void block_free(struct block *b)
{
    if (n_spare < spare_max) {
        b->next = spare;
        spare = b;
        n_spare++;
    } else {
        free(b);
    }
}

static void reply_free(void *obj)
{
    redisReply *r = obj;
    if (!r)
        return;
    struct block *b = (struct block *)r;
    switch (r->type) {
    case REDIS_REPLY_ARRAY:
        for (size_t i = 0; i < r->elements && r->element; i++)
            reply_free(r->element[i]);
        free(r->element);
        break;
    case REDIS_REPLY_ERROR:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_STRING:
        if (r->str != b->text)
            free(r->str);
        break;
    default: break;
    }
    block_free(b);
}

/* As hiredis: an object read inside an array is its parent's element. */
static void *linked(const redisReadTask *task, redisReply *r)
{
    if (task->parent) {
        redisReply *parent = task->parent->obj;
        parent->element[task->idx] = r;
    }
    return r;
}

static void *create_string(const redisReadTask *task, char *str, size_t len)
{
    redisReply *r = reply_new(task->type);
    if (!r)
        return NULL;
    struct block *b = (struct block *)r;
    char *text = len < sizeof b->text ? b->text : malloc(len + 1);
    if (!text) {
        block_free(b);
        return NULL;
    }
    memcpy(text, str, len);
    text[len] = '\0';
    r->str = text;
    r->len = len;
    return linked(task, r);
}

static void *create_array(const redisReadTask *task, int elements)
{
    redisReply *r = reply_new(REDIS_REPLY_ARRAY);
    if (!r)
        return NULL;
    if (elements > 0) {
        r->element = calloc((size_t)elements, sizeof *r->element);
        if (!r->element) {
            block_free((struct block *)r);
            return NULL;
        }
    }
    r->elements = (size_t)(elements > 0 ? elements : 0);
    return linked(task, r);
}

static void *create_integer(const redisReadTask *task, long long value)
{
    redisReply *r = reply_new(REDIS_REPLY_INTEGER);
    if (!r)
        return NULL;
    r->integer = value;
    return linked(task, r);
}

static void *create_nil(const redisReadTask *task)
{
    redisReply *r = reply_new(REDIS_REPLY_NIL);
    return r ? linked(task, r) : NULL;
}

redisReplyObjectFunctions reply_pool_fns = {
    create_string, create_array, create_integer, create_nil, reply_free,
};
