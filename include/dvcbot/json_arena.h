/* json_arena — scratch memory for cJSON trees that live within one call.
 *
 * A tree that is parsed, read and deleted before its function returns (a
 * Telegram update: ~12 items and ~15 strings, each a malloc and a free) can
 * take its memory from one per-thread block instead: between
 * json_arena_begin and json_arena_end every cJSON allocation of this thread
 * is cut from the block while it has room (then malloc), and freeing a piece
 * of the block does nothing; json_arena_end makes the whole block free again.
 *
 * json_arena_install sets cJSON's allocation hooks (once, at start-up; main
 * does). Without it a scope changes nothing: cJSON uses malloc as before.
 *
 * The rule of a scope: everything cJSON allocates in it is freed (deleted)
 * before json_arena_end, and nothing of it leaves the thread: no tree made in
 * the scope outlives it, no cJSON_Print output is made in it (its text would
 * be a piece of the block, not freeable with free). Scopes do not nest. */
#ifndef DVCBOT_JSON_ARENA_H
#define DVCBOT_JSON_ARENA_H

#include <stdbool.h>
#include <stddef.h>

#define JSON_ARENA_BYTES 16384 /* per thread; a Telegram update takes 1-4 KiB */

/* Sets cJSON's hooks to the arena's malloc and free. */
void json_arena_install(void);
/* Starts a scope on this thread (the block starts empty). */
void json_arena_begin(void);
/* Ends the scope: the block is free again. */
void json_arena_end(void);
/* Whether p is a piece of this thread's block (tests). */
bool json_arena_owns(const void *p);

#endif
