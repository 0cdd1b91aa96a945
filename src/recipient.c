/* recipient — user record → may we write? → outbox → one verdict. */
#include "dvcbot/recipient.h"
#include "dvcbot/clock.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECIPIENT_KEY_MAX 160

struct recipients {
    struct store *store;
    struct outbox *ob;
};

/* One message on its way to one user. */
struct delivery {
    struct recipients *rs;
    char *user_key;
    enum bot_channel ch;
    char chat[BOT_ID_MAX];
    struct bot_reply reply;
    enum outbox_priority prio;
    enum recipient_until until;
    recipient_done_cb done;
    void *ud;
};

/* Fields read before the channel's own, in this order. */
enum { F_CH, F_CHAT, F_BLOCKED, F_CHANNEL };

const char *recipient_verdict_name(enum recipient_verdict v)
{
    static const char *const names[RECIPIENT_VERDICTS] = {
        [RECIPIENT_SENT] = "sent", [RECIPIENT_QUEUED] = "queued", [RECIPIENT_FAILED] = "failed",
        [RECIPIENT_BLOCKED] = "blocked", [RECIPIENT_SKIPPED] = "skipped", [RECIPIENT_UNKNOWN] = "unknown",
    };
    return (unsigned)v < RECIPIENT_VERDICTS ? names[v] : "unknown";
}

int recipient_channel(const char *user_key)
{
    const char *colon = strchr(user_key, ':');
    if (!colon || colon == user_key || colon[1] == '\0' || colon - user_key > 8)
        return -1;
    for (int ch = 0; ch < BOT_CH_COUNT; ch++) {
        const char *prefix = bot_channel_prefix((enum bot_channel)ch);
        if (strlen(prefix) == (size_t)(colon - user_key) && strncmp(prefix, user_key, strlen(prefix)) == 0)
            return ch;
    }
    return -1;
}

void recipient_failure_reason(const struct outbox *ob, const struct outbox_item *item,
                              enum outbox_verdict v, char *out, size_t outlen)
{
    const struct outbox_driver *drv = outbox_driver_of(ob, item->channel);
    const char *name = drv && drv->error_name && item->last_error ? drv->error_name(item->last_error) : NULL;
    if (v == OUTBOX_SENT)
        snprintf(out, outlen, "%s", "");
    else if (v == OUTBOX_BLOCKED)
        snprintf(out, outlen, "%s", "blocked");
    else if (name)
        snprintf(out, outlen, "%s_%s", bot_channel_name(item->channel), name);
    else if (item->last_error)
        snprintf(out, outlen, "error_%d", item->last_error);
    else
        snprintf(out, outlen, "%s", "send_failed");
}

/* ===== Verdicts ===== */

static void delivery_free(struct delivery *d)
{
    bot_reply_clear(&d->reply);
    free(d->user_key);
    free(d);
}

static void conclude(struct delivery *d, enum recipient_verdict v, const char *reason)
{
    struct recipient_result res = {
        .verdict = v, .reason = reason, .channel = d->ch, .user_key = d->user_key,
    };
    if (d->done)
        d->done(&res, d->ud);
    delivery_free(d);
}

static void on_outbox(const struct outbox_item *item, enum outbox_verdict v, void *ud)
{
    struct delivery *d = ud;
    char reason[RECIPIENT_REASON_MAX];
    recipient_failure_reason(d->rs->ob, item, v, reason, sizeof reason);
    conclude(d, v == OUTBOX_SENT ? RECIPIENT_SENT : v == OUTBOX_BLOCKED ? RECIPIENT_BLOCKED : RECIPIENT_FAILED,
             reason);
}

static void hand_to_outbox(struct delivery *d)
{
    struct outbox *ob = d->rs->ob;
    if (outbox_is_blocked(ob, d->ch, d->chat)) {
        conclude(d, RECIPIENT_BLOCKED, "blocked");
        return;
    }
    bool follow = d->until == RECIPIENT_UNTIL_DELIVERED;
    if (outbox_send(ob, d->ch, d->chat, &d->reply, NULL, d->prio, follow ? on_outbox : NULL,
                    follow ? d : NULL) != 0) {
        conclude(d, RECIPIENT_SKIPPED, "channel_off");
        return;
    }
    if (!follow)
        conclude(d, RECIPIENT_QUEUED, "");
}

/* ===== Reading the user record ===== */

/* reply: SISMEMBER blocked:<channel> <chat> */
static void on_listed(redisReply *r, void *ud)
{
    struct delivery *d = ud;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_INTEGER)
        conclude(d, RECIPIENT_UNKNOWN, "store_error");
    else if (r->integer == 1)
        conclude(d, RECIPIENT_BLOCKED, "blocked");
    else
        hand_to_outbox(d);
}

static bool flag_set(const char *s)
{
    return s && s[0] && strcmp(s, "0") != 0;
}

/* Why not to write to this user now (with the verdict), or NULL. */
static const char *refusal(struct delivery *d, const redisReply *r, enum recipient_verdict *v)
{
    const char *ch = store_reply_str(r->element[F_CH]), *chat = store_reply_str(r->element[F_CHAT]);
    *v = RECIPIENT_SKIPPED;
    if (!ch)
        return "no_user"; /* erased, or never wrote to us */
    if (!chat || !chat[0] || !bot_id_set(d->chat, chat))
        return "no_chat";
    *v = RECIPIENT_BLOCKED;
    if (flag_set(store_reply_str(r->element[F_BLOCKED])))
        return "blocked";
    const struct outbox_driver *drv = outbox_driver_of(d->rs->ob, d->ch);
    *v = RECIPIENT_SKIPPED;
    if (!drv)
        return "channel_off";
    if (!drv->proactive_refusal)
        return NULL;
    const char *values[RECIPIENT_CHANNEL_FIELDS_MAX] = {0};
    for (size_t i = F_CHANNEL; i < r->elements && i - F_CHANNEL < RECIPIENT_CHANNEL_FIELDS_MAX; i++)
        values[i - F_CHANNEL] = store_reply_str(r->element[i]);
    bool gone = false;
    const char *why = drv->proactive_refusal(drv->ctx, clock_now(), values, &gone);
    *v = gone ? RECIPIENT_BLOCKED : RECIPIENT_SKIPPED;
    return why;
}

/* reply: HMGET u:{<user key>} ch chat blocked <the channel's fields> */
static void on_record(redisReply *r, void *ud)
{
    struct delivery *d = ud;
    enum recipient_verdict v;
    const char *why;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY || r->elements < F_CHANNEL) {
        conclude(d, RECIPIENT_UNKNOWN, "store_error");
    } else if ((why = refusal(d, r, &v))) {
        conclude(d, v, why);
    } else if (store_command(d->rs->store, on_listed, d, "SISMEMBER blocked:%s %s", bot_channel_name(d->ch),
                             d->chat) != 0) {
        conclude(d, RECIPIENT_UNKNOWN, "store_error");
    }
}

/* HMGET u:{<user key>} ch chat blocked + the driver's fields. */
static int read_record(struct delivery *d)
{
    const struct outbox_driver *drv = outbox_driver_of(d->rs->ob, d->ch);
    char key[RECIPIENT_KEY_MAX];
    snprintf(key, sizeof key, "u:{%s}", d->user_key);
    const char *argv[F_CHANNEL + 2 + RECIPIENT_CHANNEL_FIELDS_MAX] = {"HMGET", key, USER_F_CH, USER_F_CHAT,
                                                                      USER_F_BLOCKED};
    int argc = F_CHANNEL + 2;
    for (size_t i = 0; drv && drv->user_fields && drv->user_fields[i] && i < RECIPIENT_CHANNEL_FIELDS_MAX; i++)
        argv[argc++] = drv->user_fields[i];
    return store_command_argv(d->rs->store, on_record, d, argc, argv, NULL);
}

/* ===== Public API ===== */

struct recipients *recipients_new(struct store *store, struct outbox *ob)
{
    struct recipients *rs = xcalloc(1, sizeof *rs);
    rs->store = store;
    rs->ob = ob;
    return rs;
}

void recipients_free(struct recipients *rs)
{
    free(rs);
}

int recipient_send(struct recipients *rs, const char *user_key, const struct bot_reply *reply,
                   enum outbox_priority prio, enum recipient_until until, recipient_done_cb done,
                   void *ud)
{
    int ch = recipient_channel(user_key);
    if (ch < 0)
        return RECIPIENT_BAD_KEY;
    struct delivery *d = xcalloc(1, sizeof *d);
    *d = (struct delivery){
        .rs = rs, .user_key = xstrdup(user_key), .ch = (enum bot_channel)ch,
        .prio = prio, .until = until, .done = done, .ud = ud,
    };
    bot_reply_copy(&d->reply, reply);
    if (read_record(d) != 0) {
        delivery_free(d);
        return -1;
    }
    return 0;
}
