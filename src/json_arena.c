/* json_arena — cJSON allocations of a scope cut from one block. See
 * include/dvcbot/json_arena.h. */
#include "dvcbot/json_arena.h"

#include <cjson/cJSON.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>

static _Thread_local alignas(max_align_t) unsigned char block[JSON_ARENA_BYTES];
static _Thread_local size_t used;
static _Thread_local bool active;

bool json_arena_owns(const void *p)
{
    uintptr_t a = (uintptr_t)p, start = (uintptr_t)block;
    return a >= start && a < start + sizeof block;
}

static void *arena_malloc(size_t n)
{
    size_t step = (n + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
    if (!active || n == 0 || step > sizeof block - used)
        return malloc(n);
    void *p = block + used;
    used += step;
    return p;
}

static void arena_free(void *p)
{
    if (!json_arena_owns(p))
        free(p);
}

void json_arena_install(void)
{
    cJSON_Hooks hooks = {.malloc_fn = arena_malloc, .free_fn = arena_free};
    cJSON_InitHooks(&hooks);
}

void json_arena_begin(void)
{
    used = 0;
    active = true;
}

void json_arena_end(void)
{
    active = false;
    used = 0;
}
