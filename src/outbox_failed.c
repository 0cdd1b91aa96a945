/* outbox_failed — the record of messages the outbox gave up on. See
 * include/dvcbot/outbox_failed.h. */
#include "dvcbot/outbox_failed.h"
#include "dvcbot/clock.h"
#include "dvcbot/log.h"
#include "dvcbot/msg.h"
#include "dvcbot/store.h"

#include <stdio.h>
#include <string.h>

void outbox_failed_record(const struct outbox_item *it, void *ud)
{
    struct store *st = ud;
    if (it->kind != OUTBOX_MESSAGE)
        return; /* a button acknowledgement: nothing a person waits for */
    char attempts[16], throttled[16], error[16], at[24], maxlen[16];
    snprintf(attempts, sizeof attempts, "%u", it->attempts);
    snprintf(throttled, sizeof throttled, "%u", it->throttled);
    snprintf(error, sizeof error, "%d", it->last_error);
    snprintf(at, sizeof at, "%lld", (long long)clock_now());
    snprintf(maxlen, sizeof maxlen, "%d", OUTBOX_FAILED_MAX);
    const char *text = it->reply.text ? it->reply.text : "";
    size_t tlen = bot_text_prefix_len(text, strlen(text), OUTBOX_FAILED_TEXT_CHARS);
    const char *argv[] = {"XADD", OUTBOX_FAILED_KEY, "MAXLEN", "~", maxlen, "*",
                          "channel", bot_channel_name(it->channel), "chat", it->chat,
                          "reason", it->reason ? it->reason : "failed", "attempts", attempts,
                          "throttled", throttled, "error", error, "at", at, "text", text};
    size_t lens[sizeof argv / sizeof argv[0]];
    for (size_t i = 0; i < sizeof argv / sizeof argv[0]; i++)
        lens[i] = strlen(argv[i]);
    lens[sizeof argv / sizeof argv[0] - 1] = tlen;
    if (store_command_argv(st, NULL, NULL, (int)(sizeof argv / sizeof argv[0]), argv, lens) != 0)
        log_msg(LOG_WARN, "send failure not recorded: redis unavailable");
}
