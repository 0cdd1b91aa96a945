/* telegram — the Telegram Bot API channel.
 *
 * Inbound: POST /webhook/telegram. The X-Telegram-Bot-Api-Secret-Token
 * header is compared in constant time with TELEGRAM_WEBHOOK_SECRET (401 and
 * nothing processed otherwise); `message`, `edited_message` and
 * `callback_query` become a struct bot_msg; other update types get 200 and
 * are ignored. The webhook is answered at once; replies go out through the
 * outbox, whose Telegram driver lives here: sendMessage in HTML parse mode
 * (text escaped), inline keyboards, texts over TELEGRAM_MAX_TEXT characters
 * split, answerCallbackQuery for every button press; 429 → retry after
 * parameters.retry_after, 5xx/timeouts → retry with backoff, 403 → blocked.
 *
 * The pure functions below (parsing, escaping, splitting, rendering,
 * classifying responses) are separate so they can be unit-tested. */
#ifndef DVCBOT_TELEGRAM_H
#define DVCBOT_TELEGRAM_H

#include "dvcbot/buf.h"
#include "dvcbot/config.h"
#include "dvcbot/dialog.h"
#include "dvcbot/http_client.h"
#include "dvcbot/http_server.h"
#include "dvcbot/msg.h"
#include "dvcbot/outbox.h"

#include <stddef.h>

/* Telegram allows 4096 characters; keep a margin. */
#define TELEGRAM_MAX_TEXT 4000
/* Two buttons share a row when both labels are at most this many bytes. */
#define TELEGRAM_PAIR_LABEL_MAX 20

struct telegram;

/* Returns NULL (with *err, static text) when the configuration is unusable. */
struct telegram *telegram_new(const struct config *cfg, struct http_client *http,
                              struct outbox *ob, struct dialog *dialog, const char **err);
void telegram_free(struct telegram *tg);
/* HTTP handler for POST /webhook/telegram (ud = the struct telegram). */
void telegram_handle_webhook(struct http_request *req, void *ud);

enum telegram_parse { TG_PARSE_MSG, TG_PARSE_IGNORED, TG_PARSE_BAD };
/* Parses one Update. On TG_PARSE_MSG *out is a new message (caller owns). */
enum telegram_parse telegram_parse_update(const char *json, size_t len, struct bot_msg **out);
/* bot_text_part_len (msg.h), kept under the channel's name. */
size_t telegram_part_len(const char *text, size_t len, size_t max_chars);
/* The sendMessage JSON body for one part; buttons only when reply != NULL. */
char *telegram_render_message(const char *chat, const char *text, size_t len,
                              const struct bot_reply *reply);
/* Verdict on an API response; *retry_after_ms for OUTBOX_RETRY_AFTER. */
enum outbox_verdict telegram_classify(long status, const char *body, unsigned *retry_after_ms);

#endif
