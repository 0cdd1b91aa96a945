/* msg — bot messages and replies. */
#include "dvcbot/msg.h"
#include "dvcbot/mem.h"
#include "dvcbot/strfmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const channel_names[BOT_CH_COUNT] = {"telegram", "zalo", "webchat", "cli"};
static const char *const channel_prefixes[BOT_CH_COUNT] = {"tg", "zl", "wc", "cli"};

const char *bot_channel_name(enum bot_channel ch)
{
    return ch < BOT_CH_COUNT ? channel_names[ch] : "unknown";
}

const char *bot_channel_prefix(enum bot_channel ch)
{
    return ch < BOT_CH_COUNT ? channel_prefixes[ch] : "xx";
}

int bot_channel_from_name(const char *name)
{
    for (int i = 0; i < BOT_CH_COUNT; i++)
        if (strcmp(name, channel_names[i]) == 0 || strcmp(name, channel_prefixes[i]) == 0)
            return i;
    return -1;
}

struct bot_msg *bot_msg_new(enum bot_channel ch, enum bot_msg_kind kind)
{
    struct bot_msg *m = xcalloc(1, sizeof *m);
    m->channel = ch;
    m->kind = kind;
    m->text = xstrdup("");
    return m;
}

void bot_msg_set_text(struct bot_msg *m, const char *text, size_t len)
{
    free(m->text);
    m->text = xstrndup(text, len);
}

void bot_msg_free(struct bot_msg *m)
{
    if (!m)
        return;
    free(m->text);
    free(m);
}

bool bot_id_set(char dst[BOT_ID_MAX], const char *src)
{
    size_t len = strlen(src);
    if (len >= BOT_ID_MAX)
        return false;
    memcpy(dst, src, len + 1);
    return true;
}

void bot_msg_user_key(const struct bot_msg *m, char *out, size_t outlen)
{
    STR_CAT(out, outlen, bot_channel_prefix(m->channel), ":", m->user);
}

void bot_replies_init(struct bot_replies *r)
{
    r->items = NULL;
    r->n = r->cap = 0;
}

struct bot_reply *bot_replies_add(struct bot_replies *r, const char *text)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 4;
        r->items = xrealloc(r->items, r->cap * sizeof *r->items);
    }
    struct bot_reply *reply = &r->items[r->n++];
    memset(reply, 0, sizeof *reply);
    reply->text = xstrdup(text ? text : "");
    return reply;
}

bool bot_reply_add_button(struct bot_reply *r, const char *label, const char *payload)
{
    if (r->n_buttons >= BOT_MAX_BUTTONS || strlen(payload) > BOT_PAYLOAD_MAX)
        return false;
    /* One allocation: a reply is copied for the outbox with its buttons. */
    size_t llen = strlen(label), plen = strlen(payload);
    char *both = xmalloc(llen + plen + 2);
    memcpy(both, label, llen + 1);
    memcpy(both + llen + 1, payload, plen + 1);
    r->buttons[r->n_buttons].label = both;
    r->buttons[r->n_buttons].payload = both + llen + 1;
    r->n_buttons++;
    return true;
}

bool bot_reply_insert_button(struct bot_reply *r, size_t at, const char *label, const char *payload)
{
    if (at > r->n_buttons || !bot_reply_add_button(r, label, payload))
        return false;
    struct bot_button added = r->buttons[r->n_buttons - 1];
    memmove(&r->buttons[at + 1], &r->buttons[at], (r->n_buttons - 1 - at) * sizeof r->buttons[0]);
    r->buttons[at] = added;
    return true;
}

void bot_reply_clear_buttons(struct bot_reply *r)
{
    for (size_t i = 0; i < r->n_buttons; i++)
        free(r->buttons[i].label); /* the payload is in the same block */
    r->n_buttons = 0;
}

void bot_reply_clear(struct bot_reply *r)
{
    free(r->text);
    bot_reply_clear_buttons(r);
    memset(r, 0, sizeof *r);
}

void bot_replies_free(struct bot_replies *r)
{
    for (size_t i = 0; i < r->n; i++)
        bot_reply_clear(&r->items[i]);
    free(r->items);
    bot_replies_init(r);
}

void bot_reply_copy(struct bot_reply *dst, const struct bot_reply *src)
{
    memset(dst, 0, sizeof *dst);
    dst->text = xstrdup(src->text ? src->text : "");
    for (size_t i = 0; i < src->n_buttons; i++)
        bot_reply_add_button(dst, src->buttons[i].label, src->buttons[i].payload);
}

/* ===== Text limits ===== */

static size_t utf8_step(const char *text, size_t i, size_t len)
{
    unsigned char c = (unsigned char)text[i];
    size_t step = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return i + step > len ? len - i : step;
}

size_t bot_text_part_len(const char *text, size_t len, size_t max_chars)
{
    /* A character is at least one byte and counts at most as many units as
     * it has bytes: a text of no more bytes than max_chars fits whole. */
    if (len <= max_chars)
        return len;
    size_t chars = 0, i = 0, last_nl = 0, last_sp = 0;
    while (i < len) {
        unsigned char c = (unsigned char)text[i];
        size_t step = utf8_step(text, i, len);
        size_t units = step == 4 ? 2 : 1; /* outside the BMP: a UTF-16 surrogate pair */
        if (chars + units > max_chars)
            break;
        i += step;
        chars += units;
        if (c == '\n')
            last_nl = i;
        else if (c == ' ')
            last_sp = i;
    }
    if (i >= len)
        return len;
    if (last_nl > i / 2)
        return last_nl;
    if (last_sp > i / 2)
        return last_sp;
    return i;
}

size_t bot_text_prefix_len(const char *text, size_t len, size_t max_chars)
{
    size_t chars = 0, i = 0;
    while (i < len && chars < max_chars) {
        i += utf8_step(text, i, len);
        chars++;
    }
    return i;
}
