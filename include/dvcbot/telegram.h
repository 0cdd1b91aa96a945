/* telegram — the Telegram Bot API channel.
 *
 * Inbound: POST /webhook/telegram. The X-Telegram-Bot-Api-Secret-Token
 * header is compared in constant time with TELEGRAM_WEBHOOK_SECRET (401 and
 * nothing processed otherwise); `message`, `edited_message` and
 * `callback_query` become a struct bot_msg; other update types get 200 and
 * are ignored. The webhook is answered once the turn is stored in Redis
 * (dialog_handle_handed); replies go out through the outbox, whose Telegram
 * driver lives here, or (DVCBOT_TELEGRAM_INLINE_REPLY) the first one in the
 * webhook's 200 as {"method":"sendMessage",...} when it cannot overtake
 * anything of the chat's; it is kept under the event for DVCBOT_DEDUPE_TTL,
 * and a redelivered update (Telegram did not get that 200) is answered with
 * it again (dialog.h and outbox_store.h, "Handed replies"). Telegram reports
 * no result for a call in a response: a block or a 429 there is not seen.
 * The driver: sendMessage in HTML parse mode
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
/* Parses one Update. On TG_PARSE_MSG *out is a new message (caller owns).
 * The text is scanned without a tree (telegram_update.h); what the scan
 * leaves undecided is read with cJSON, as telegram_parse_update_tree does. */
enum telegram_parse telegram_parse_update(const char *json, size_t len, struct bot_msg **out);
/* The same through a cJSON tree only: the reading the scan must equal. */
enum telegram_parse telegram_parse_update_tree(const char *json, size_t len, struct bot_msg **out);
/* bot_text_part_len (msg.h), kept under the channel's name. */
size_t telegram_part_len(const char *text, size_t len, size_t max_chars);
/* The sendMessage JSON body for one part; buttons only when reply != NULL. */
char *telegram_render_message(const char *chat, const char *text, size_t len,
                              const struct bot_reply *reply);
/* The same, appended to b (the driver renders into a buffer it keeps). */
void telegram_render_into(struct buf *b, const char *chat, const char *text, size_t len,
                          const struct bot_reply *reply);
/* Verdict on an API response; *retry_after_ms for OUTBOX_RETRY_AFTER. */
enum outbox_verdict telegram_classify(long status, const char *body, unsigned *retry_after_ms);

#endif
