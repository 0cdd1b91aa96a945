/* outbox_entry — how a reply is kept in an outbox stream: the arguments of
 * outbox_commit (redis/dvcbot.lua) that write the entry, and reading an
 * entry back. See include/dvcbot/outbox_entry.h. */
#include "dvcbot/outbox_entry.h"
#include "dvcbot/clock.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/strfmt.h"

#include <stdlib.h>
#include <string.h>

/* Separators of the buttons field: label US payload RS label US payload ... */
#define BTN_FIELD '\x1f'
#define BTN_END '\x1e'

/* ===== Keys ===== */

void outbox_entry_stream_key(char *out, size_t len, enum bot_channel ch, const char *consumer)
{
    STR_CAT(out, len, OUTBOX_STREAM_PREFIX, bot_channel_name(ch), ":", consumer);
}

void outbox_entry_user_key(char *out, size_t len, const char *user_key)
{
    if (user_key && user_key[0])
        STR_CAT(out, len, "u:{", user_key, "}");
    else
        out[0] = '\0';
}

/* ===== Writing: outbox_commit's arguments ===== */

static void buttons_encode(struct buf *b, const struct bot_reply *r)
{
    for (size_t i = 0; i < r->n_buttons; i++) {
        buf_puts(b, r->buttons[i].label);
        buf_putc(b, BTN_FIELD);
        buf_puts(b, r->buttons[i].payload);
        buf_putc(b, BTN_END);
    }
}

size_t outbox_commit_nargs(const struct outbox_commit *c)
{
    return OUTBOX_COMMIT_KEYS + OUTBOX_COMMIT_SHARED + 7 + 2 * c->replies->n;
}

void outbox_commit_args_make(const struct outbox_commit *c, const char *consumer, bool trusted,
                             struct outbox_commit_args *sc, const char **args)
{
    static const char *const ops[] = {"k", "s", "d"};
    str_decimal(sc->done, sizeof sc->done, OUTBOX_MARK_SCORE(clock_now(), OUTBOX_MARK_DONE));
    str_udecimal(sc->session_ttl, sizeof sc->session_ttl, c->session_ttl_s);
    str_udecimal(sc->n, sizeof sc->n, c->replies->n);
    outbox_entry_user_key(sc->ukey, sizeof sc->ukey, c->user_key);
    outbox_entry_stream_key(sc->skey, sizeof sc->skey, c->channel, consumer);
    sc->n_btns = c->replies->n;
    sc->btns = xcalloc(c->replies->n + 1, sizeof *sc->btns);
    size_t k = 0;
    args[k++] = c->dedupe_key ? c->dedupe_key : "";
    args[k++] = c->session_key ? c->session_key : "";
    args[k++] = sc->ukey;
    args[k++] = sc->skey; /* the shared arguments */
    args[k++] = sc->done;
    args[k++] = sc->session_ttl;
    args[k++] = consumer;
    args[k++] = trusted ? "1" : "0";
    if (!c->dedupe_key)
        STR_CAT(sc->dedupe_op, sizeof sc->dedupe_op, "0");
    else if (c->forget_event)
        STR_CAT(sc->dedupe_op, sizeof sc->dedupe_op, "c");
    else if (c->keep_first_s && c->replies->n) {
        char ttl[16];
        str_udecimal(ttl, sizeof ttl, c->keep_first_s);
        STR_CAT(sc->dedupe_op, sizeof sc->dedupe_op, "i:", ttl); /* "Handed replies" */
    } else
        STR_CAT(sc->dedupe_op, sizeof sc->dedupe_op, "1");
    args[k++] = sc->dedupe_op; /* the commit's own */
    args[k++] = ops[c->session_op];
    args[k++] = c->session_op == OUTBOX_SESSION_SET && c->session_json ? c->session_json : "";
    args[k++] = c->chat;
    args[k++] = c->reply_ref ? c->reply_ref : "";
    args[k++] = c->user_key ? c->user_key : "";
    args[k++] = sc->n;
    for (size_t i = 0; i < c->replies->n; i++) {
        buf_init(&sc->btns[i]);
        buttons_encode(&sc->btns[i], &c->replies->items[i]);
        args[k++] = c->replies->items[i].text ? c->replies->items[i].text : "";
        args[k++] = buf_cstr(&sc->btns[i]);
    }
}

void outbox_commit_args_free(struct outbox_commit_args *sc)
{
    for (size_t i = 0; i < sc->n_btns; i++)
        buf_free(&sc->btns[i]);
    free(sc->btns);
}

int outbox_entry_xadd_args(const struct outbox_item *it, const char *stream, struct outbox_entry_args *ea,
                           const char **argv)
{
    str_udecimal(ea->seq, sizeof ea->seq, it->seq);
    str_udecimal(ea->part, sizeof ea->part, it->part);
    buf_init(&ea->btns);
    buttons_encode(&ea->btns, &it->reply);
    int n = 0;
    argv[n++] = "XADD";
    argv[n++] = stream;
    argv[n++] = "*";
    argv[n++] = "u";
    argv[n++] = it->seq_key;
    argv[n++] = "c";
    argv[n++] = it->chat;
    argv[n++] = "q";
    argv[n++] = ea->seq;
    if (it->reply_ref[0]) { /* as outbox_commit: no r without a reference */
        argv[n++] = "r";
        argv[n++] = it->reply_ref;
    }
    argv[n++] = "t";
    argv[n++] = it->reply.text ? it->reply.text : "";
    argv[n++] = "b";
    argv[n++] = buf_cstr(&ea->btns);
    argv[n++] = OUTBOX_ENTRY_PART;
    argv[n++] = ea->part;
    return n;
}

void outbox_entry_args_free(struct outbox_entry_args *ea)
{
    buf_free(&ea->btns);
}

/* ===== Reading an entry back ===== */

void outbox_entry_buttons(struct bot_reply *r, const char *s, size_t len)
{
    const char *end = s + len;
    while (s < end) {
        const char *sep = memchr(s, BTN_FIELD, (size_t)(end - s));
        const char *stop = sep ? memchr(sep, BTN_END, (size_t)(end - sep)) : NULL;
        if (!stop)
            return;
        char *label = xstrndup(s, (size_t)(sep - s));
        char *payload = xstrndup(sep + 1, (size_t)(stop - sep - 1));
        if (!bot_reply_add_button(r, label, payload))
            log_msg(LOG_WARN, "stored reply button dropped");
        free(label);
        free(payload);
        s = stop + 1;
    }
}

const redisReply *outbox_entry_field(const redisReply *fields, const char *name)
{
    for (size_t i = 0; i + 1 < fields->elements; i += 2)
        if (fields->element[i]->type == REDIS_REPLY_STRING && strcmp(fields->element[i]->str, name) == 0)
            return fields->element[i + 1];
    return NULL;
}

const char *outbox_entry_str(const redisReply *fields, const char *name)
{
    const redisReply *v = outbox_entry_field(fields, name);
    return v && v->type == REDIS_REPLY_STRING ? v->str : "";
}

struct bot_reply *outbox_entry_kept(struct bot_replies *rs, const char *s, size_t len)
{
    size_t blen = 0, i = 0;
    while (i < len && i < 9 && s[i] >= '0' && s[i] <= '9')
        blen = blen * 10 + (size_t)(s[i++] - '0');
    if (i == 0 || i >= len || s[i] != ':' || blen > len - i - 1)
        return NULL;
    const char *b = s + i + 1, *text = b + blen;
    char *t = xstrndup(text, (size_t)(s + len - text));
    struct bot_reply *r = bot_replies_add(rs, t);
    free(t);
    outbox_entry_buttons(r, b, blen);
    return r;
}
