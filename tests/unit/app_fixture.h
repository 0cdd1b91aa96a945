/* app_fixture — the whole dialog engine of `dvcbot` (app_open: catalog,
 * matcher, templates, store, outbox, recipients, dialog, flows, lookups,
 * notices...) on a test loop, against the private redis-server of
 * redis_fixture.h, without HTTP. Header-only.
 *
 *   afx_open(&f)                  app_open + Redis connected; fake Telegram
 *                                 and web chat drivers record what is sent
 *   afx_say(&f, "wc:u1", "text")  a message of user u1, run until answered;
 *                                 f.replies holds the answer
 *   afx_press(&f, "wc:u1", "menu") the same for a button payload
 *   afx_run_until(&f, pred, ud)   turns the loop until pred(ud)
 *   afx_close(&f)                 app_close and the loop closed cleanly
 *
 * Time: clock_set_offset moves the app's clock (clock.h). */
#ifndef DVCBOT_TEST_APP_FIXTURE_H
#define DVCBOT_TEST_APP_FIXTURE_H

#include "redis_fixture.h"

#include "dvcbot/app.h"
#include "dvcbot/clock.h"
#include "dvcbot/dossier.h"
#include "dvcbot/outbox.h"

#include <cjson/cJSON.h>

#include <string.h>

#define AFX_SENT_MAX 64

/* A channel that takes every message at once and keeps a copy. */
struct afx_channel {
    struct outbox *ob;
    struct bot_reply sent[AFX_SENT_MAX];
    char chat[AFX_SENT_MAX][BOT_ID_MAX];
    size_t n;
};

struct afx {
    uv_loop_t loop;
    struct app app;
    struct afx_channel tg, wc;
    struct bot_replies replies;   /* the answer to the last afx_say/afx_press */
    bool answered;
};

static unsigned afx_events; /* event ids unique across engines on one Redis */

static inline int afx_deliver(void *ctx, struct outbox_item *item)
{
    struct afx_channel *c = ctx;
    if (item->kind == OUTBOX_MESSAGE && c->n < AFX_SENT_MAX) {
        bot_reply_copy(&c->sent[c->n], &item->reply);
        snprintf(c->chat[c->n], BOT_ID_MAX, "%s", item->chat);
        c->n++;
    }
    outbox_delivered(c->ob, item, OUTBOX_SENT, 0);
    return 0;
}

static inline bool afx_store_up(void *ud)
{
    return store_connected(((struct afx *)ud)->app.store);
}

static inline bool afx_run_until(struct afx *f, bool (*pred)(void *ud), void *ud)
{
    return fx_run_until(&f->loop, pred, ud, 10000);
}

static inline void afx_open(struct afx *f)
{
    memset(f, 0, sizeof *f);
    const char *dir = getenv("DVCBOT_DATA_DIR");
    setenv("DVCBOT_DATA_DIR", dir ? dir : ".", 1);
    setenv("REDIS_URL", fx_redis_url, 1);
    setenv("DVCBOT_LOG_LEVEL", "error", 1);
    setenv("DVCBOT_QUIET_HOURS", "", 1);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    char *err = NULL;
    if (app_open(&f->app, &f->loop, &err) != 0)
        fail_msg("app_open: %s", err ? err : "?");
    assert_true(afx_run_until(f, afx_store_up, f));
    f->tg.ob = f->wc.ob = f->app.outbox;
    struct outbox_driver tg = {.deliver = afx_deliver, .ctx = &f->tg, .rate_per_s = 1000, .burst = 1000};
    struct outbox_driver wc = {.deliver = afx_deliver, .ctx = &f->wc, .rate_per_s = 1000, .burst = 1000};
    outbox_set_driver(f->app.outbox, BOT_CH_TELEGRAM, &tg);
    outbox_set_driver(f->app.outbox, BOT_CH_WEBCHAT, &wc);
    bot_replies_init(&f->replies);
}

static inline void afx_channel_clear(struct afx_channel *c)
{
    for (size_t i = 0; i < c->n; i++)
        bot_reply_clear(&c->sent[i]);
    c->n = 0;
}

/* Closes the engine; extra (may be NULL) frees a module the test made on
 * top of it, once the store and outbox have called every callback back. */
static inline void afx_close_with(struct afx *f, void (*extra)(void *ud), void *ud)
{
    app_close(&f->app);
    if (extra)
        extra(ud);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    bot_replies_free(&f->replies);
    afx_channel_clear(&f->tg);
    afx_channel_clear(&f->wc);
    clock_set_offset(0);
}

static inline void afx_close(struct afx *f)
{
    afx_close_with(f, NULL, NULL);
}

/* cmocka set-up and tear-down: an empty Redis and a fresh engine in *state. */
static inline int afx_setup(void **state)
{
    struct afx *f = calloc(1, sizeof *f);
    fx_do("FLUSHALL");
    afx_open(f);
    *state = f;
    return 0;
}

static inline int afx_teardown(void **state)
{
    struct afx *f = *state;
    afx_close(f);
    free(f);
    return 0;
}

static inline void afx_on_replies(const struct bot_msg *msg, const struct bot_replies *replies, void *ud)
{
    struct afx *f = ud;
    (void)msg;
    bot_replies_free(&f->replies);
    bot_replies_init(&f->replies);
    for (size_t i = 0; replies && i < replies->n; i++) {
        struct bot_reply *dst = bot_replies_add(&f->replies, "");
        bot_reply_clear(dst); /* bot_reply_copy overwrites */
        bot_reply_copy(dst, &replies->items[i]);
    }
    f->answered = true;
}

static inline bool afx_answered(void *ud)
{
    return ((struct afx *)ud)->answered;
}

/* Hands one message of user_key ("wc:u1", "tg:7") to the dialog without
 * waiting; event_id "" makes a fresh one. */
static inline void afx_post(struct afx *f, const char *user_key, enum bot_msg_kind kind, const char *text,
                            const char *event_id)
{
    const char *colon = strchr(user_key, ':');
    assert_non_null(colon);
    char prefix[8];
    snprintf(prefix, sizeof prefix, "%.*s", (int)(colon - user_key), user_key);
    int ch = bot_channel_from_name(prefix);
    assert_true(ch >= 0);
    struct bot_msg *m = bot_msg_new((enum bot_channel)ch, kind);
    assert_true(bot_id_set(m->user, colon + 1));
    assert_true(bot_id_set(m->chat, colon + 1));
    if (event_id && *event_id)
        assert_true(bot_id_set(m->event_id, event_id));
    else
        snprintf(m->event_id, sizeof m->event_id, "ev%u", ++afx_events);
    bot_msg_set_text(m, text, strlen(text));
    m->ts = clock_now();
    f->answered = false;
    assert_int_equal(dialog_handle(f->app.dialog, m, afx_on_replies, f), 0);
}

/* Stores a dossier (a JSON record as staff send it) the way the admin API
 * does: FCALL dossier_upsert at the app's clock. */
static inline void afx_put_dossier(struct afx *f, const char *json)
{
    cJSON *obj = cJSON_Parse(json);
    assert_non_null(obj);
    struct dossier d;
    struct dossier_error e;
    if (dossier_from_json(obj, f->app.catalog, &d, &e) != 0)
        fail_msg("bad dossier: %s %s", e.field ? e.field : "", e.reason);
    struct dossier_upsert u;
    dossier_upsert_prepare(&d, (time_t)clock_now(), NULL, &u);
    const char *argv[REDIS_SCRIPT_MAX_ARGS + 3];
    size_t lens[REDIS_SCRIPT_MAX_ARGS + 3];
    char nk[12];
    int argc = redis_fcall_argv("dossier_upsert", u.nkeys, u.argc, u.argv, u.lens, nk, argv, lens);
    assert_true(argc > 0);
    redisReply *r = redisCommandArgv(fx_redis, argc, argv, lens);
    assert_non_null(r);
    if (r->type == REDIS_REPLY_ERROR)
        fail_msg("dossier_upsert: %s", r->str);
    freeReplyObject(r);
    dossier_clear(&d);
    cJSON_Delete(obj);
}

/* All reply texts of the last answer, one per line. */
static inline const char *afx_text(struct afx *f)
{
    static char out[16384];
    out[0] = '\0';
    for (size_t i = 0; i < f->replies.n; i++) {
        strncat(out, f->replies.items[i].text ? f->replies.items[i].text : "", sizeof out - strlen(out) - 2);
        strncat(out, "\n", sizeof out - strlen(out) - 1);
    }
    return out;
}

/* True when some button of the last answer has this payload. */
static inline bool afx_has_button(struct afx *f, const char *payload)
{
    for (size_t i = 0; i < f->replies.n; i++)
        for (size_t b = 0; b < f->replies.items[i].n_buttons; b++)
            if (strcmp(f->replies.items[i].buttons[b].payload, payload) == 0)
                return true;
    return false;
}

static inline const char *afx_say(struct afx *f, const char *user_key, const char *text)
{
    afx_post(f, user_key, BOT_MSG_TEXT, text, "");
    assert_true(afx_run_until(f, afx_answered, f));
    return afx_text(f);
}

static inline const char *afx_press(struct afx *f, const char *user_key, const char *payload)
{
    afx_post(f, user_key, BOT_MSG_BUTTON, payload, "");
    assert_true(afx_run_until(f, afx_answered, f));
    return afx_text(f);
}

#endif
