/* fuzz_telegram — a Telegram update (JSON) into a struct bot_msg, and that
 * message's text through the Telegram renderer and splitter as a reply
 * would go back; the same bytes as a Bot API answer (telegram_classify).
 *
 * Properties: ids are NUL-terminated inside their fields; the text is never
 * NULL; the sendMessage body is valid JSON; splitting the text into parts
 * always advances, never cuts a UTF-8 sequence of valid text, and the parts
 * add up to the text. The scan without a tree (telegram_update.h) reads
 * every input as the cJSON tree does: same verdict, same message. */
#include "fuzz.h"
#include "dvcbot/mem.h"
#include "dvcbot/msg.h"
#include "dvcbot/telegram.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup();
    return 0;
}

static void check_parts(const char *text, size_t len)
{
    size_t done = 0;
    while (done < len) {
        size_t n = telegram_part_len(text + done, len - done, TELEGRAM_MAX_TEXT);
        if (n == 0 || n > len - done)
            fuzz_fail("text part does not advance within the text");
        done += n;
    }
    /* Small parts too, where cutting happens on every few characters. */
    for (size_t off = 0; off < len;) {
        size_t n = bot_text_part_len(text + off, len - off, 3);
        size_t p = bot_text_prefix_len(text + off, len - off, 2);
        if (n == 0 || n > len - off || p > len - off)
            fuzz_fail("short part does not advance within the text");
        off += n;
    }
}

static void render(const struct bot_msg *m)
{
    size_t len = strlen(m->text);
    struct bot_replies rs;
    bot_replies_init(&rs);
    struct bot_reply *r = bot_replies_add(&rs, m->text);
    /* The user's text as button labels, the way a menu of their words would. */
    bot_reply_add_button(r, m->text, "i:tra_cuu_ho_so");
    bot_reply_add_button(r, "Xem đầy đủ", "full:khai_sinh");
    bot_reply_add_button(r, m->user, m->chat);
    char *body = telegram_render_message(m->chat, m->text, len, r);
    fuzz_check_json(body);
    free(body);
    check_parts(m->text, len);
    struct buf html;
    buf_init(&html);
    buf_puts(&html, "{\"text\":");
    buf_json_html_strn(&html, m->text, len);
    buf_putc(&html, '}');
    if (memchr(buf_cstr(&html), '<', html.len) || memchr(buf_cstr(&html), '>', html.len))
        fuzz_fail("escaped text still holds '<' or '>'");
    fuzz_check_json(buf_cstr(&html));
    buf_free(&html);
    char key[BOT_ID_MAX + 8];
    bot_msg_user_key(m, key, sizeof key);
    bot_replies_free(&rs);
}

static void same_as_tree(const uint8_t *data, size_t size, enum telegram_parse p, const struct bot_msg *m)
{
    struct bot_msg *t = NULL;
    if (telegram_parse_update_tree((const char *)data, size, &t) != p)
        fuzz_fail("the scan and the cJSON tree give different verdicts");
    if (p == TG_PARSE_MSG &&
        (m->kind != t->kind || strcmp(m->user, t->user) != 0 || strcmp(m->chat, t->chat) != 0 ||
         strcmp(m->event_id, t->event_id) != 0 || strcmp(m->reply_ref, t->reply_ref) != 0 ||
         strcmp(m->text, t->text) != 0 || m->ts != t->ts))
        fuzz_fail("the scan and the cJSON tree give different messages");
    bot_msg_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bot_msg *m = NULL;
    enum telegram_parse p = telegram_parse_update((const char *)data, size, &m);
    same_as_tree(data, size, p, m);
    if (p == TG_PARSE_MSG) {
        if (!m || !m->text)
            fuzz_fail("parsed message without text");
        fuzz_check_id(m->user);
        fuzz_check_id(m->chat);
        fuzz_check_id(m->event_id);
        fuzz_check_id(m->reply_ref);
        if (!m->user[0] || !m->chat[0])
            fuzz_fail("parsed message without sender or chat");
        render(m);
        bot_msg_free(m);
    } else if (m) {
        fuzz_fail("message returned with a refusal");
    }
    char *body = fuzz_cstr(data, size);
    unsigned retry_ms = 0;
    long statuses[] = {200, 400, 403, 429, 502};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        telegram_classify(statuses[i], body, &retry_ms);
    free(body);
    return 0;
}
