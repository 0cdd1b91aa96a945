/* volunteer_household — consent, village and outcome of a household visit in
 * two taps, and the coverage counters they feed. */
#include "dvcbot/volunteer_household.h"
#include "dvcbot/buf.h"
#include "dvcbot/clock.h"
#include "dvcbot/commune.h"
#include "dvcbot/config.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/normalize.h"
#include "dvcbot/validate.h"
#include "dvcbot/volunteer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SESSION_KEY "hh"
#define FIELD_MAX (2 * COMMUNE_KEY_MAX + 16)
#define STR_(x) #x
#define STR(x) STR_(x)

struct household {
    int unused;
};



void household_village_field(const char *commune, const char *village, char *out, size_t cap)
{
    char ckey[COMMUNE_KEY_MAX];
    commune_key(commune, ckey, sizeof ckey);
    char *vkey = village ? norm_fold(village, strlen(village), NULL) : NULL;
    snprintf(out, cap, "%s|%s", ckey, vkey ? vkey : "");
    free(vkey);
}

/* ===== The visit in the session ===== */

static cJSON *visit(const struct dialog_turn *t)
{
    cJSON *hh = cJSON_GetObjectItemCaseSensitive(t->session, SESSION_KEY);
    return cJSON_IsObject(hh) ? hh : NULL;
}

static const char *visit_str(const cJSON *hh, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(hh, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void end_visit(struct dialog_turn *t)
{
    cJSON_DeleteItemFromObjectCaseSensitive(t->session, SESSION_KEY);
    const char *mode = dialog_turn_mode(t);
    if (mode && strcmp(mode, HOUSEHOLD_MODE) == 0)
        dialog_turn_set_mode(t, NULL);
}

static void ignore_reply(redisReply *r, void *ud)
{
    (void)ud;
    if (store_reply_failed(r))
        log_fmt(LOG_WARN, "household not recorded", "\"error\":%s", log_q(store_reply_error(r)));
}

/* ===== hh:start — who is asking, then the consent question ===== */

static void on_who(redisReply *r, void *ud)
{
    struct dialog_turn *t = ud;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
        dialog_reply_busy_store(t);
    } else if (r->element[0]->type != REDIS_REPLY_INTEGER || r->element[0]->integer != 1) {
        dialog_turn_render(t, "assist_not_volunteer", NULL, 0);
    } else {
        const char *registered = store_reply_str(r->element[1]);
        const cJSON *assist = cJSON_GetObjectItemCaseSensitive(t->session, "assist");
        const char *assisting = visit_str(assist, "commune");
        end_visit(t);
        cJSON *hh = cJSON_AddObjectToObject(t->session, SESSION_KEY);
        cJSON_AddStringToObject(hh, "commune", registered && *registered ? registered : assisting);
        dialog_turn_render(t, "household_consent", NULL, 0);
    }
    dialog_turn_done(t);
}

static void start_visit(struct dialog_turn *t)
{
    if (dialog_turn_refuse_degraded(t))
        return;
    char vol[160];
    dialog_user_redis_key(vol, sizeof vol, "vol:", t->user_key, NULL);
    if (store_command(t->deps->store, on_who, t, "FCALL volunteer_household_who 2 %s %s %s", VOLUNTEER_SET,
                      vol, t->user_key) != 0) {
        dialog_reply_busy_store(t);
        dialog_turn_done(t);
    }
}

/* ===== hh:c:y — consent given: which village? ===== */

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The commune's village names from HGETALL coverage:villages, sorted. */
static size_t commune_villages(const redisReply *r, const char *commune, char **names, size_t max)
{
    char ckey[COMMUNE_KEY_MAX], prefix[COMMUNE_KEY_MAX + 2];
    commune_key(commune, ckey, sizeof ckey);
    snprintf(prefix, sizeof prefix, "%s|", ckey);
    size_t n = 0;
    for (size_t i = 0; i + 1 < r->elements && n < max; i += 2) {
        const char *field = store_reply_str(r->element[i]), *json = store_reply_str(r->element[i + 1]);
        if (!field || !json || strncmp(field, prefix, strlen(prefix)) != 0)
            continue;
        cJSON *v = cJSON_Parse(json);
        const char *name = visit_str(v, "village");
        if (*name)
            names[n++] = xstrdup(name);
        cJSON_Delete(v);
    }
    qsort(names, n, sizeof *names, cmp_names);
    return n;
}

static void ask_village(struct dialog_turn *t)
{
    cJSON *hh = visit(t);
    const char *commune = visit_str(hh, "commune");
    const struct tpl_var v = {"commune", *commune ? commune : "?"};
    struct bot_reply *r = dialog_turn_render(t, "household_village", &v, 1);
    const cJSON *villages = cJSON_GetObjectItemCaseSensitive(hh, "villages");
    int i = 0;
    const cJSON *name;
    cJSON_ArrayForEach(name, villages) {
        char payload[24];
        snprintf(payload, sizeof payload, "hh:v:%d", ++i);
        if (r && cJSON_IsString(name))
            bot_reply_add_button(r, name->valuestring, payload);
    }
    dialog_turn_set_mode(t, HOUSEHOLD_MODE);
}

static void on_villages(redisReply *r, void *ud)
{
    struct dialog_turn *t = ud;
    cJSON *hh = visit(t);
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY || !hh) {
        dialog_reply_busy_store(t);
        dialog_turn_done(t);
        return;
    }
    char *names[HOUSEHOLD_VILLAGE_BUTTONS];
    size_t n = commune_villages(r, visit_str(hh, "commune"), names, HOUSEHOLD_VILLAGE_BUTTONS);
    cJSON_DeleteItemFromObjectCaseSensitive(hh, "villages");
    cJSON *arr = cJSON_AddArrayToObject(hh, "villages");
    for (size_t i = 0; i < n; i++) {
        cJSON_AddItemToArray(arr, cJSON_CreateString(names[i]));
        free(names[i]);
    }
    ask_village(t);
    dialog_turn_done(t);
}

static void consent_given(struct dialog_turn *t)
{
    cJSON *hh = visit(t);
    cJSON_DeleteItemFromObjectCaseSensitive(hh, "consent");
    cJSON_AddStringToObject(hh, "consent", "yes");
    cJSON_DeleteItemFromObjectCaseSensitive(hh, "consent_at");
    cJSON_AddNumberToObject(hh, "consent_at", (double)clock_now());
    if (store_command(t->deps->store, on_villages, t, "HGETALL %s", HOUSEHOLD_VILLAGES_KEY) != 0) {
        dialog_reply_busy_store(t);
        dialog_turn_done(t);
    }
}

static void consent_refused(struct dialog_turn *t)
{
    char field[FIELD_MAX];
    household_village_field(visit_str(visit(t), "commune"), "", field, sizeof field);
    size_t len = strlen(field);
    snprintf(field + len, sizeof field - len, "|refused");
    if (store_command(t->deps->store, ignore_reply, NULL, "HINCRBY %s %s 1", HOUSEHOLD_DONE_KEY,
                      field) != 0)
        log_msg(LOG_WARN, "household refusal not counted: redis unavailable");
    end_visit(t);
    dialog_turn_reply(t, "household_refused", NULL, 0);
}

/* ===== The village (tap one, or typed) ===== */

static void village_chosen(struct dialog_turn *t, const char *village)
{
    cJSON *hh = visit(t);
    cJSON_DeleteItemFromObjectCaseSensitive(hh, "village");
    cJSON_AddStringToObject(hh, "village", village);
    dialog_turn_set_mode(t, NULL);
    const struct tpl_var v = {"village", village};
    dialog_turn_reply(t, "household_outcome", &v, 1);
}

static bool consented(const struct dialog_turn *t)
{
    return strcmp(visit_str(visit(t), "consent"), "yes") == 0;
}

static bool on_mode(struct dialog_turn *t, void *ud)
{
    (void)ud;
    const struct bot_msg *m = t->msg;
    if (m->kind != BOT_MSG_TEXT || !consented(t)) {
        if (m->kind != BOT_MSG_BUTTON || strncmp(m->text, "hh:", 3) != 0)
            end_visit(t);
        return false;
    }
    char village[VALIDATE_OUT_MAX];
    if (m->text[0] == '/' ||
        validate_text(m->text, 2, HOUSEHOLD_VILLAGE_MAX, village, sizeof village) != VALID_OK) {
        ask_village(t);
        dialog_turn_done(t);
        return true;
    }
    village_chosen(t, village);
    return true;
}

/* ===== Tap two: the outcome, recorded ===== */

static const char *yes_no(struct dialog_turn *t, char flag, char **owned)
{
    *owned = tpl_render_text(t->deps->tpl, flag == '1' ? "household_yes" : "household_no", NULL, 0);
    return *owned ? *owned : "";
}

/* The visit is kept until Redis has it, so a failed tap can be repeated. */
static void on_recorded(redisReply *r, void *ud)
{
    struct dialog_turn *t = ud;
    if (store_reply_failed(r)) {
        dialog_reply_busy_store(t);
        dialog_turn_done(t);
        return;
    }
    cJSON *hh = visit(t);
    const char *commune = visit_str(hh, "commune"), *o = visit_str(hh, "outcome");
    char *w[3];
    const struct tpl_var v[] = {{"village", visit_str(hh, "village")},
                                {"commune", *commune ? commune : "?"},
                                {"vneid", yes_no(t, o[0], &w[0])},
                                {"online", yes_no(t, o[1], &w[1])},
                                {"paid", yes_no(t, o[2], &w[2])}};
    dialog_turn_render(t, "household_recorded", v, 5);
    for (size_t i = 0; i < 3; i++)
        free(w[i]);
    end_visit(t);
    dialog_turn_done(t);
}

static void log_entry(struct buf *b, const char *commune, const char *village, const char *o)
{
    buf_printf(b, "{\"at\":%lld,\"commune\":", (long long)clock_now());
    buf_json_str(b, commune);
    buf_puts(b, ",\"village\":");
    buf_json_str(b, village);
    buf_printf(b, ",\"consent\":\"yes\",\"vneid\":%s,\"online\":%s,\"paid\":%s}",
               o[0] == '1' ? "true" : "false", o[1] == '1' ? "true" : "false",
               o[2] == '1' ? "true" : "false");
}

static void record_outcome(struct dialog_turn *t, const char *o)
{
    cJSON *hh = visit(t);
    cJSON_DeleteItemFromObjectCaseSensitive(hh, "outcome");
    cJSON_AddStringToObject(hh, "outcome", o);
    const char *commune = visit_str(hh, "commune"), *village = visit_str(hh, "village");
    char field[FIELD_MAX], prefix[FIELD_MAX + 2], vol[160];
    household_village_field(commune, village, field, sizeof field);
    snprintf(prefix, sizeof prefix, "%s|", field);
    dialog_user_redis_key(vol, sizeof vol, "vol:", t->user_key, NULL);
    char flags[3][2] = {{o[0], 0}, {o[1], 0}, {o[2], 0}};
    struct buf entry, vjson;
    buf_init(&entry);
    buf_init(&vjson);
    log_entry(&entry, commune, village, o);
    buf_puts(&vjson, "{\"commune\":");
    buf_json_str(&vjson, commune);
    buf_puts(&vjson, ",\"village\":");
    buf_json_str(&vjson, village);
    buf_puts(&vjson, ",\"households\":0}");
    char ttl[16];
    snprintf(ttl, sizeof ttl, "%u", t->deps->cfg->user_ttl_s);
    const char *argv[] = {"FCALL", "volunteer_household_record", "4", HOUSEHOLD_DONE_KEY,
                          HOUSEHOLD_LOG_KEY, vol, HOUSEHOLD_VILLAGES_KEY, prefix, flags[0], flags[1], flags[2],
                          entry.data, field, vjson.data, ttl};
    int rc = store_command_argv(t->deps->store, on_recorded, t,
                                (int)(sizeof argv / sizeof argv[0]), argv, NULL);
    buf_free(&entry);
    buf_free(&vjson);
    if (rc != 0) {
        dialog_reply_busy_store(t);
        dialog_turn_done(t);
    }
}

static bool outcome_valid(const char *o)
{
    static const char *const allowed[HOUSEHOLD_OUTCOMES] = {"111", "110", "100", "011", "010",
                                                            "000"};
    for (size_t i = 0; i < HOUSEHOLD_OUTCOMES; i++)
        if (strcmp(o, allowed[i]) == 0)
            return true;
    return false;
}

/* ===== hh:<...> ===== */

static void on_button(struct dialog_turn *t, void *ud)
{
    (void)ud;
    const char *arg = t->arg;
    if (strcmp(arg, "start") == 0) {
        start_visit(t);
        return;
    }
    if (dialog_turn_refuse_degraded(t))
        return;
    if (!visit(t)) {
        dialog_turn_reply(t, "household_expired", NULL, 0);
        return;
    }
    if (strcmp(arg, "c:y") == 0) {
        consent_given(t);
    } else if (strcmp(arg, "c:n") == 0) {
        consent_refused(t);
    } else if (strcmp(arg, "cancel") == 0) {
        end_visit(t);
        dialog_turn_reply(t, "household_cancelled", NULL, 0);
    } else if (!consented(t)) {
        dialog_turn_reply(t, "household_consent", NULL, 0); /* consent comes first */
    } else if (strncmp(arg, "v:", 2) == 0) {
        const cJSON *name = cJSON_GetArrayItem(
            cJSON_GetObjectItemCaseSensitive(visit(t), "villages"), atoi(arg + 2) - 1);
        if (cJSON_IsString(name) && atoi(arg + 2) > 0)
            village_chosen(t, name->valuestring);
        else {
            ask_village(t);
            dialog_turn_done(t);
        }
    } else if (strncmp(arg, "o:", 2) == 0 && outcome_valid(arg + 2) &&
               *visit_str(visit(t), "village")) {
        record_outcome(t, arg + 2);
    } else {
        dialog_turn_reply(t, "household_expired", NULL, 0);
    }
}

struct household *household_new(struct dialog *d)
{
    struct household *h = xcalloc(1, sizeof *h);
    dialog_on_payload(d, "hh:", on_button, h);
    dialog_on_mode(d, HOUSEHOLD_MODE, on_mode, h);
    return h;
}

void household_free(struct household *h)
{
    free(h);
}
