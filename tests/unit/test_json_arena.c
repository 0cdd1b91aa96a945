/* Unit tests: json_arena gives a scope's cJSON trees memory from its block,
 * falls back to malloc when the block is full, and changes nothing outside
 * a scope. Under ASan a piece of the block freed with free(), or a fallback
 * allocation never freed, fails the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/buf.h"
#include "dvcbot/json_arena.h"
#include "dvcbot/telegram.h"
#include "dvcbot/msg.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static const char update[] =
    "{\"update_id\":42,\"message\":{\"message_id\":7,\"date\":1700000000,\"text\":\"xin chào\","
    "\"from\":{\"id\":123,\"first_name\":\"B\"},\"chat\":{\"id\":123,\"type\":\"private\"}}}";

static int setup(void **state)
{
    (void)state;
    json_arena_install();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cJSON_InitHooks(NULL);
    return 0;
}

static void a_tree_parsed_in_a_scope_lives_in_the_block(void **state)
{
    (void)state;
    json_arena_begin();
    cJSON *root = cJSON_Parse(update);
    assert_non_null(root);
    assert_true(json_arena_owns(root));
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, "message");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(msg, "text");
    assert_true(json_arena_owns(msg));
    assert_true(json_arena_owns(text->valuestring));
    assert_true(json_arena_owns(text->string)); /* the key "text" */
    assert_string_equal(text->valuestring, "xin chào");
    cJSON_Delete(root);
    json_arena_end();
}

static void outside_a_scope_cjson_uses_malloc(void **state)
{
    (void)state;
    cJSON *root = cJSON_Parse(update);
    assert_non_null(root);
    assert_false(json_arena_owns(root));
    char *printed = cJSON_PrintUnformatted(root);
    assert_false(json_arena_owns(printed));
    assert_non_null(strstr(printed, "\"update_id\":42"));
    free(printed);
    cJSON_Delete(root);
}

/* A document bigger than the block: the first items come from the block,
 * the rest from malloc, and deleting the tree frees just those. */
static void a_tree_larger_than_the_block_spills_into_malloc(void **state)
{
    (void)state;
    struct buf doc;
    buf_init(&doc);
    buf_putc(&doc, '[');
    for (int i = 0; i < 2000; i++)
        buf_puts(&doc, i ? ",\"abcdefghijklmnopqrstuvwxyz\"" : "\"abcdefghijklmnopqrstuvwxyz\"");
    buf_putc(&doc, ']');
    json_arena_begin();
    cJSON *root = cJSON_Parse(buf_cstr(&doc));
    assert_non_null(root);
    assert_int_equal(cJSON_GetArraySize(root), 2000);
    assert_true(json_arena_owns(root));
    const cJSON *last = cJSON_GetArrayItem(root, 1999);
    assert_false(json_arena_owns(last));
    assert_string_equal(last->valuestring, "abcdefghijklmnopqrstuvwxyz");
    cJSON_Delete(root);
    json_arena_end();
    buf_free(&doc);
}

/* Each scope starts with the whole block: scope after scope, the same place. */
static void each_scope_reuses_the_block_from_its_start(void **state)
{
    (void)state;
    void *first = NULL;
    for (int i = 0; i < 3; i++) {
        json_arena_begin();
        cJSON *root = cJSON_Parse(update);
        if (i == 0)
            first = root;
        assert_ptr_equal(root, first);
        cJSON_Delete(root);
        json_arena_end();
    }
}

/* The Telegram update parser runs in a scope: what it keeps is copied out. */
static void a_parsed_update_keeps_its_text_after_the_scope(void **state)
{
    (void)state;
    struct bot_msg *m = NULL;
    assert_int_equal(telegram_parse_update(update, strlen(update), &m), TG_PARSE_MSG);
    json_arena_begin(); /* overwrite the block */
    cJSON *other = cJSON_Parse("{\"text\":\"something else entirely, longer than before\"}");
    cJSON_Delete(other);
    json_arena_end();
    assert_string_equal(m->text, "xin chào");
    assert_string_equal(m->event_id, "42");
    assert_string_equal(m->chat, "123");
    assert_false(json_arena_owns(m->text));
    bot_msg_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_tree_parsed_in_a_scope_lives_in_the_block),
        cmocka_unit_test(outside_a_scope_cjson_uses_malloc),
        cmocka_unit_test(a_tree_larger_than_the_block_spills_into_malloc),
        cmocka_unit_test(each_scope_reuses_the_block_from_its_start),
        cmocka_unit_test(a_parsed_update_keeps_its_text_after_the_scope),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
