/* dialog_stored — under load, is an event already stored? (dialog_check_stored,
 * dialog.h): the event's mark in the user's index and, when asked, the reply
 * kept for the webhook's answer. A check owns its state and the message
 * (taken on success) until its callback has run, then frees both. */
#include "dvcbot/dialog.h"
#include "dvcbot/dialog_internal.h"
#include "dvcbot/mem.h"
#include "dvcbot/metrics.h"
#include "dvcbot/outbox_entry.h"
#include "dvcbot/outbox_store.h"
#include "dvcbot/store.h"
#include "dvcbot/strfmt.h"

#include <stdlib.h>
#include <string.h>

struct stored_check {
    struct bot_msg *msg;
    dialog_stored_check_cb cb;
    void *ud;
    unsigned waiting;            /* replies still to come */
    bool done;
    struct bot_replies kept;
    const struct bot_reply *handed;
};

static void stored_check_finish(struct stored_check *c)
{
    if (--c->waiting > 0)
        return;
    if (c->done) {
        metrics_inc("dvcbot_duplicates_total", "", 1);
        if (c->handed)
            metrics_inc("dvcbot_handed_again_total", "", 1);
    }
    c->cb(c->msg, c->done, c->done ? c->handed : NULL, c->ud);
    bot_replies_free(&c->kept);
    bot_msg_free(c->msg);
    free(c);
}

/* ZSCORE of the event's mark: done (OUTBOX_MARK_DONE) in this scheme or the
 * one before (positive, from 4e9 on); a score below 4e9 is a mark of before
 * the index (its state in a key of its own): not read here, so not done. */
static void on_mark_read(redisReply *r, void *ud)
{
    struct stored_check *c = ud;
    if (r && r->type == REDIS_REPLY_STRING) {
        double score = strtod(r->str, NULL);
        if (score < 0 || score >= 4e9)
            c->done = llabs((long long)score) % 4 == OUTBOX_MARK_DONE;
    }
    stored_check_finish(c);
}

static void on_kept_read(redisReply *r, void *ud)
{
    struct stored_check *c = ud;
    if (r && r->type == REDIS_REPLY_STRING)
        c->handed = outbox_entry_kept(&c->kept, r->str, r->len);
    stored_check_finish(c);
}

int dialog_check_stored(struct dialog *d, struct bot_msg *msg, bool want_kept, dialog_stored_check_cb cb,
                        void *ud)
{
    if (!msg->event_id[0] || !store_connected(d->deps.store))
        return -1;
    char user_key[DIALOG_USER_KEY_MAX], idx[128], kept[256];
    bot_msg_user_key(msg, user_key, sizeof user_key);
    dialog_user_redis_key(idx, sizeof idx, "dd:", user_key, NULL);
    dialog_user_redis_key(kept, sizeof kept, "dd:", user_key, ":");
    STR_CAT(kept + strlen(kept), sizeof kept - strlen(kept), msg->event_id, OUTBOX_KEPT_SUFFIX);
    struct stored_check *c = xcalloc(1, sizeof *c);
    c->msg = msg;
    c->cb = cb;
    c->ud = ud;
    bot_replies_init(&c->kept);
    const char *zscore[] = {"ZSCORE", idx, msg->event_id};
    if (store_command_argv(d->deps.store, on_mark_read, c, 3, zscore, NULL) != 0) {
        free(c);
        return -1;
    }
    c->waiting = 1;
    /* Answered after the mark (one connection, in order). */
    const char *get[] = {"GET", kept};
    if (want_kept && store_command_argv(d->deps.store, on_kept_read, c, 2, get, NULL) == 0)
        c->waiting++;
    return 0;
}
