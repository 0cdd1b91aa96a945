/* profile — the saved-answers hash p:{user} and the consent buttons. */
#include "dvcbot/profile.h"
#include "dvcbot/clock.h"
#include "dvcbot/feedback.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct load {
    profile_cb cb;
    void *ud;
};

static void profile_key(char *out, size_t cap, const char *user_key)
{
    dialog_user_redis_key(out, cap, "p:", user_key, NULL);
}

static void on_loaded(redisReply *r, void *ud)
{
    struct load *l = ud;
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        l->cb(NULL, l->ud);
        free(l);
        return;
    }
    struct profile p = {.consent = PROFILE_UNASKED};
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const char *k = r->element[i]->str, *v = r->element[i + 1]->str;
        int f = profile_field_from_name(k);
        if (f != PROFILE_NONE && *v)
            p.values[f] = v;
        else if (strcmp(k, "consent") == 0)
            p.consent = strcmp(v, "yes") == 0 ? PROFILE_AGREED : PROFILE_REFUSED;
    }
    if (p.consent != PROFILE_AGREED)
        memset(p.values, 0, sizeof p.values); /* never offer what was not agreed */
    l->cb(&p, l->ud);
    free(l);
}

int profile_load(struct store *s, const char *user_key, profile_cb cb, void *ud)
{
    char key[160];
    profile_key(key, sizeof key, user_key);
    struct load *l = xcalloc(1, sizeof *l);
    l->cb = cb;
    l->ud = ud;
    int rc = store_command(s, on_loaded, l, "HGETALL %s", key);
    if (rc != 0)
        free(l);
    return rc;
}

static void on_saved(redisReply *r, void *ud)
{
    (void)ud;
    if (!r || r->type == REDIS_REPLY_ERROR)
        log_msg(LOG_ERROR, "profile not saved");
}

/* HDEL p:{user} of every saved answer: "Không lưu" pressed after "Đồng ý
 * lưu" (an older message) takes back what was kept. Fire and forget. */
static int forget_fields(struct store *s, const char *key)
{
    const char *argv[2 + PROFILE_FIELD_COUNT];
    int argc = 0;
    argv[argc++] = "HDEL";
    argv[argc++] = key;
    for (int f = 0; f < PROFILE_FIELD_COUNT; f++)
        argv[argc++] = profile_field_name((enum profile_field)f);
    return store_command_argv(s, on_saved, NULL, argc, argv, NULL);
}

/* HSET p:{user} [consent, consent_at] field value...; fire and forget. A
 * refusal first forgets what an earlier consent kept. */
static int write_fields(struct store *s, const char *user_key, const char *consent,
                        const char *const values[PROFILE_FIELD_COUNT])
{
    char key[160], now[24];
    profile_key(key, sizeof key, user_key);
    if (consent && strcmp(consent, "no") == 0 && forget_fields(s, key) != 0)
        return -1;
    snprintf(now, sizeof now, "%lld", (long long)clock_now());
    const char *argv[4 + 4 + 2 * PROFILE_FIELD_COUNT];
    int argc = 0;
    argv[argc++] = "HSET";
    argv[argc++] = key;
    if (consent) {
        argv[argc++] = "consent";
        argv[argc++] = consent;
        argv[argc++] = "consent_at";
        argv[argc++] = now;
    }
    for (int f = 0; values && f < PROFILE_FIELD_COUNT; f++) {
        if (!values[f])
            continue;
        argv[argc++] = profile_field_name((enum profile_field)f);
        argv[argc++] = values[f];
    }
    if (argc == 2)
        return 0;
    return store_command_argv(s, on_saved, NULL, argc, argv, NULL);
}

int profile_save(struct store *s, const char *user_key, const char *const values[PROFILE_FIELD_COUNT])
{
    return write_fields(s, user_key, NULL, values);
}

/* ===== consent:yes / consent:no ===== */

static void consent(struct dialog_turn *t, bool yes)
{
    if (dialog_turn_refuse_degraded(t))
        return;
    cJSON *after = cJSON_GetObjectItemCaseSensitive(t->session, "after");
    cJSON *save = cJSON_GetObjectItemCaseSensitive(after, "save");
    const char *values[PROFILE_FIELD_COUNT] = {NULL};
    for (int f = 0; yes && f < PROFILE_FIELD_COUNT; f++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(save, profile_field_name((enum profile_field)f));
        values[f] = cJSON_IsString(v) ? v->valuestring : NULL;
    }
    if (write_fields(t->deps->store, t->user_key, yes ? "yes" : "no", values) != 0) {
        dialog_reply_busy_store(t);
        dialog_turn_done(t);
        return;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(after, "save");
    dialog_turn_render(t, yes ? "consent_saved" : "consent_refused", NULL, 0);
    feedback_ask_rating(t);
    dialog_turn_done(t);
}

static void on_consent(struct dialog_turn *t, void *ud)
{
    (void)ud;
    bool yes = strcmp(t->arg, "yes") == 0;
    if (!yes && strcmp(t->arg, "no") != 0) {
        dialog_turn_render(t, "help", NULL, 0); /* a forged button */
        dialog_turn_done(t);
        return;
    }
    consent(t, yes);
}

/* The line right after the consent question: a yes or no word answers it. */
static bool on_consent_mode(struct dialog_turn *t, void *ud)
{
    dialog_turn_set_mode(t, NULL);
    if (t->msg->kind != BOT_MSG_TEXT)
        return false;
    enum flow_command cmd = flow_set_command_of(ud, t->msg->text);
    if (cmd != FLOW_CMD_YES && cmd != FLOW_CMD_NO && cmd != FLOW_CMD_CANCEL)
        return false;
    consent(t, cmd == FLOW_CMD_YES);
    return true;
}

void profile_register(struct dialog *d, const struct flow_set *words)
{
    dialog_on_payload(d, "consent:", on_consent, NULL);
    dialog_on_mode(d, PROFILE_CONSENT_MODE, on_consent_mode, (void *)words);
}
