/* webchat_history — the recent conversation of a web chat user (see the header). */
#include "dvcbot/webchat_history.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/redis_script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


struct add_call {
    webchat_history_added_cb cb;
    void *ud;
    size_t n;
};

static void history_keys(const char *user, char *stream, char *record, size_t cap)
{
    snprintf(stream, cap, "wc:hist:{wc:%s}", user);
    snprintf(record, cap, "u:{wc:%s}", user);
}

static void on_added(redisReply *r, void *ud)
{
    struct add_call *call = ud;
    const char **ids = xcalloc(call->n ? call->n : 1, sizeof *ids);
    bool ok = r && r->type == REDIS_REPLY_ARRAY;
    if (r && r->type == REDIS_REPLY_ERROR)
        log_fmt(LOG_WARN, "web chat history not written", "\"error\":%s", log_q(r->str));
    for (size_t i = 0; i < call->n; i++) {
        const redisReply *e = ok && i < r->elements ? r->element[i] : NULL;
        ids[i] = e && e->type == REDIS_REPLY_STRING ? e->str : "";
    }
    if (call->cb)
        call->cb(ids, call->n, call->ud);
    free(ids);
    free(call);
}

int webchat_history_add(struct store *st, const char *user, const char *const *items, size_t n,
                        unsigned ttl_s, webchat_history_added_cb cb, void *ud)
{
    if (n > WEBCHAT_HISTORY_ADD_MAX)
        return -1;
    char stream[128], record[128], max[16], ttl[16];
    history_keys(user, stream, record, sizeof stream);
    snprintf(max, sizeof max, "%d", WEBCHAT_HISTORY_MAX);
    snprintf(ttl, sizeof ttl, "%u", ttl_s);
    const char *args[4 + WEBCHAT_HISTORY_ADD_MAX] = {stream, record, max, ttl};
    size_t lens[4 + WEBCHAT_HISTORY_ADD_MAX];
    for (size_t i = 0; i < n; i++)
        args[4 + i] = items[i];
    for (size_t i = 0; i < 4 + n; i++)
        lens[i] = strlen(args[i]);
    struct add_call *call = xcalloc(1, sizeof *call);
    call->cb = cb;
    call->ud = ud;
    call->n = n;
    if (redis_fcall(st, "webchat_history_add", on_added, call, 2, (int)(4 + n), args, lens) != 0) {
        free(call);
        return -1;
    }
    return 0;
}

int webchat_history_add_quiet(struct store *st, const char *user, const char *item,
                              unsigned ttl_s)
{
    return webchat_history_add(st, user, &item, 1, ttl_s, NULL, NULL);
}

/* ===== Reading after a cursor ===== */

struct read_call {
    webchat_history_read_cb cb;
    void *ud;
    char cursor[WEBCHAT_HISTORY_ID_MAX];
};

/* An entry's "m" field, or NULL. Entries are [id, [field, value, ...]]. */
static const redisReply *entry_item(const redisReply *e)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING ||
        e->element[1]->type != REDIS_REPLY_ARRAY)
        return NULL;
    const redisReply *f = e->element[1];
    for (size_t i = 0; i + 1 < f->elements; i += 2)
        if (f->element[i]->type == REDIS_REPLY_STRING && strcmp(f->element[i]->str, "m") == 0 &&
            f->element[i + 1]->type == REDIS_REPLY_STRING && f->element[i + 1]->len > 1 &&
            f->element[i + 1]->str[0] == '{')
            return f->element[i + 1];
    return NULL;
}

static void on_read(redisReply *r, void *ud)
{
    struct read_call *call = ud;
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        if (r && r->type == REDIS_REPLY_ERROR)
            log_fmt(LOG_WARN, "web chat history not read", "\"error\":%s", log_q(r->str));
        call->cb(NULL, 0, call->cursor, call->ud);
        free(call);
        return;
    }
    struct buf out;
    buf_init(&out);
    buf_putc(&out, '[');
    const char *last = call->cursor;
    size_t n = 0;
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *m = entry_item(r->element[i]);
        if (!m)
            continue;
        const char *id = r->element[i]->element[0]->str;
        /* {"id":"<id>", then the stored object without its '{'. */
        buf_puts(&out, n++ ? ",{\"id\":" : "{\"id\":");
        buf_json_str(&out, id);
        if (m->len > 2)
            buf_putc(&out, ',');
        buf_append(&out, m->str + 1, m->len - 1);
        last = id;
    }
    buf_putc(&out, ']');
    call->cb(buf_cstr(&out), n, last, call->ud);
    buf_free(&out);
    free(call);
}

bool webchat_history_cursor_valid(const char *cursor)
{
    if (strcmp(cursor, "0") == 0)
        return true;
    const char *p = cursor;
    size_t digits = 0;
    while (*p >= '0' && *p <= '9')
        p++, digits++;
    if (!digits || digits > 20 || *p++ != '-')
        return false;
    digits = 0;
    while (*p >= '0' && *p <= '9')
        p++, digits++;
    return digits && digits <= 20 && !*p;
}

int webchat_history_read(struct store *st, const char *user, const char *cursor,
                         webchat_history_read_cb cb, void *ud)
{
    if (!webchat_history_cursor_valid(cursor))
        return -1;
    char stream[128], record[128], from[WEBCHAT_HISTORY_ID_MAX + 1];
    history_keys(user, stream, record, sizeof stream);
    if (strcmp(cursor, "0") == 0)
        snprintf(from, sizeof from, "-");
    else
        snprintf(from, sizeof from, "(%s", cursor);
    struct read_call *call = xcalloc(1, sizeof *call);
    call->cb = cb;
    call->ud = ud;
    snprintf(call->cursor, sizeof call->cursor, "%s", cursor);
    if (store_command(st, on_read, call, "XRANGE %s %s +", stream, from) != 0) {
        free(call);
        return -1;
    }
    return 0;
}
