/* msg — the one message and button model every channel shares.
 *
 * A channel (telegram.c, zalo.c, webchat.c, the CLI) turns its inbound event
 * into a struct bot_msg; the dialog answers with struct bot_replies; the
 * channel renders those (inline keyboard, Zalo quick replies, JSON for the web
 * chat). Nothing here knows any channel's wire format.
 *
 * Ownership: bot_msg_new allocates; whoever holds the pointer last calls
 * bot_msg_free (the dialog takes ownership in dialog_handle). Strings inside
 * a bot_reply are owned by it; bot_replies_free frees them all. A button's
 * label and payload are one allocation (the payload follows the label):
 * buttons are freed only by bot_reply_clear or bot_reply_clear_buttons. */
#ifndef DVCBOT_MSG_H
#define DVCBOT_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BOT_ID_MAX 64
/* Telegram counts callback_data in bytes, at most 64; payloads are kept to
 * short ASCII so they fit every channel. */
#define BOT_PAYLOAD_MAX 64
#define BOT_MAX_BUTTONS 12

enum bot_channel { BOT_CH_TELEGRAM, BOT_CH_ZALO, BOT_CH_WEBCHAT, BOT_CH_CLI, BOT_CH_COUNT };

enum bot_msg_kind {
    BOT_MSG_TEXT,        /* the user typed text */
    BOT_MSG_BUTTON,      /* the user tapped a button; text holds its payload */
    BOT_MSG_START,       /* follow / chat-now / first contact: greet */
    BOT_MSG_UNSUPPORTED, /* image, sticker, location...: we read text only */
};

struct bot_msg {
    enum bot_channel channel;
    enum bot_msg_kind kind;
    char user[BOT_ID_MAX];      /* sender id on the channel */
    char chat[BOT_ID_MAX];      /* where replies go */
    char event_id[BOT_ID_MAX];  /* channel's delivery id for dedupe; "" = none */
    char reply_ref[BOT_ID_MAX]; /* Telegram callback_query id, Zalo msg_id */
    char source[BOT_ID_MAX];    /* where limits count the sender when its user ids cost nothing
                                   (web chat: the client's address group, netaddr.h); "" = the
                                   user id itself */
    char *text;                 /* owned, NUL-terminated, never NULL */
    int64_t ts;                 /* unix seconds as the channel reported it */
};

struct bot_button {
    char *label;
    char *payload; /* <= BOT_PAYLOAD_MAX bytes */
};

struct bot_reply {
    char *text;
    struct bot_button buttons[BOT_MAX_BUTTONS];
    size_t n_buttons;
};

struct bot_replies {
    struct bot_reply *items;
    size_t n;
    size_t cap;
};

const char *bot_channel_name(enum bot_channel ch);   /* "telegram", "zalo", ... */
const char *bot_channel_prefix(enum bot_channel ch); /* "tg", "zl", "wc", "cli" */
/* Parses a name or a prefix; returns -1 when unknown. */
int bot_channel_from_name(const char *name);

struct bot_msg *bot_msg_new(enum bot_channel ch, enum bot_msg_kind kind);
void bot_msg_set_text(struct bot_msg *m, const char *text, size_t len);
void bot_msg_free(struct bot_msg *m);
/* Copies src into dst (a BOT_ID_MAX field); returns false when it does not fit. */
bool bot_id_set(char dst[BOT_ID_MAX], const char *src);
/* "<prefix>:<user>", the user's identity across dvcbot (Redis keys use it). */
void bot_msg_user_key(const struct bot_msg *m, char *out, size_t outlen);

void bot_replies_init(struct bot_replies *r);
/* Appends a reply with a copy of text; returns it so buttons can be added. */
struct bot_reply *bot_replies_add(struct bot_replies *r, const char *text);
/* Adds a button (copies). Returns false when the reply is full or the payload
 * is longer than BOT_PAYLOAD_MAX bytes. */
bool bot_reply_add_button(struct bot_reply *r, const char *label, const char *payload);
/* The same at position at (at most n_buttons): the buttons from there move
 * one place on (a template's own buttons stay after those added). */
bool bot_reply_insert_button(struct bot_reply *r, size_t at, const char *label, const char *payload);
void bot_replies_free(struct bot_replies *r);
/* Deep copy of one reply into *dst (which is overwritten). */
void bot_reply_copy(struct bot_reply *dst, const struct bot_reply *src);
void bot_reply_clear(struct bot_reply *r);
/* Frees the buttons of r and leaves it none (its text stays). */
void bot_reply_clear_buttons(struct bot_reply *r);

/* Channels cap a message's length in characters, counted as UTF-16 code
 * units (an emoji outside the BMP counts 2). Byte length of the first part
 * of text holding at most max_chars of them, cut after a newline or space
 * where possible, never inside a UTF-8 sequence. */
size_t bot_text_part_len(const char *text, size_t len, size_t max_chars);
/* Byte length of the first max_chars characters of text (a hard cut, for
 * labels), never inside a UTF-8 sequence. */
size_t bot_text_prefix_len(const char *text, size_t len, size_t max_chars);

#endif
