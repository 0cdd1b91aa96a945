/* recipient — the one path for messages dvcbot sends on its own to one user
 * (dossier notices, reminders, broadcasts, staff hand-off answers): user key
 * → the user record → may we write to them now? → the outbox → one verdict.
 *
 * The user record u:{<user key>} (a Redis hash, tagged with the user key so
 * a user's keys share a cluster slot) is laid out here:
 *   ch       channel name ("telegram", "zalo", "webchat"), written by the
 *            dialog at each message; no record (or no ch) = erased or never
 *            wrote to us
 *   chat     where to write (chat id on the channel)
 *   seen     unix s of the last message (broadcast segments)
 *   commune  the user's commune, when known (broadcast segments)
 *   blocked  "1" once the user blocked the bot
 * plus the fields a channel keeps about its own limits (Zalo: zl_in, zl_out,
 * unfollowed...), which only that channel's driver reads: the outbox driver
 * names them (user_fields) and decides with them (may_send), and the outbox's
 * order of a user's stored replies (oq, od, oo: outbox_store.h), so this module
 * and its callers know no channel's rule. A user is also out of reach while
 * their chat is in the set blocked:<channel> or the outbox marks it blocked.
 *
 * The verdict is one enum for every caller, counted under the same names
 * ("sent", "queued", "failed", "blocked", "skipped", "unknown"), with a reason
 * for staff ("no_user", "unfollowed", "zalo_no_recent_interaction",
 * "zalo_quota", "channel_off", ...).
 *
 * Callbacks: recipient_send returns 0 and calls done exactly once later, or
 * returns an error (Redis unavailable, not a user key) and never calls it. After store_close and
 * outbox_close every pending done has been called (with RECIPIENT_UNKNOWN
 * or RECIPIENT_FAILED). The struct recipients must outlive them. */
#ifndef DVCBOT_RECIPIENT_H
#define DVCBOT_RECIPIENT_H

#include "dvcbot/msg.h"
#include "dvcbot/outbox.h"
#include "dvcbot/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fields of u:{<user key>}. */
#define USER_F_CH "ch"
#define USER_F_CHAT "chat"
#define USER_F_SEEN "seen"
#define USER_F_COMMUNE "commune"
#define USER_F_BLOCKED "blocked"
/* Channel fields a driver may ask for (user_fields). */
#define RECIPIENT_CHANNEL_FIELDS_MAX 8
#define RECIPIENT_REASON_MAX 48

enum recipient_verdict {
    RECIPIENT_SENT,      /* the channel took it */
    RECIPIENT_QUEUED,    /* in the outbox (RECIPIENT_UNTIL_QUEUED only) */
    RECIPIENT_FAILED,    /* the channel refused it or sending gave up */
    RECIPIENT_BLOCKED,   /* the user blocked the bot or left the channel */
    RECIPIENT_SKIPPED,   /* not for now: no record, no chat, channel off, outside its window */
    RECIPIENT_UNKNOWN,   /* nothing decided: Redis unavailable or shutting down */
};
#define RECIPIENT_VERDICTS 6

/* How far the caller follows the message. */
enum recipient_until {
    RECIPIENT_UNTIL_QUEUED,     /* done once it is in the outbox (or refused) */
    RECIPIENT_UNTIL_DELIVERED,  /* done at the outbox's final verdict */
};

struct recipient_result {
    enum recipient_verdict verdict;
    const char *reason;          /* "" when sent or queued */
    enum bot_channel channel;    /* from the user key */
    const char *user_key;
};

typedef void (*recipient_done_cb)(const struct recipient_result *res, void *ud);

struct recipients;

struct recipients *recipients_new(struct store *store, struct outbox *ob);
void recipients_free(struct recipients *rs);

#define RECIPIENT_BAD_KEY (-2)

/* Sends a copy of reply to the user behind user_key ("tg:123", "zl:…",
 * "wc:…") with priority prio. Returns 0 (done follows), -1 when Redis is
 * unavailable or RECIPIENT_BAD_KEY when user_key is not one (done is then
 * never called). */
int recipient_send(struct recipients *rs, const char *user_key, const struct bot_reply *reply,
                   enum outbox_priority prio, enum recipient_until until, recipient_done_cb done,
                   void *ud);

const char *recipient_verdict_name(enum recipient_verdict v);
/* The channel of a user key ("tg:…" → Telegram), or -1. */
int recipient_channel(const char *user_key);
/* The reason for an outbox verdict ("" when SENT): "blocked", the channel's
 * name for the driver's error code ("zalo_quota"), "error_<code>", or
 * "send_failed". */
void recipient_failure_reason(const struct outbox *ob, const struct outbox_item *item,
                              enum outbox_verdict v, char *out, size_t outlen);

#endif
