/* handoff — tickets between a user and the staff chats (see handoff.h). */
#include "dvcbot/handoff.h"
#include "dvcbot/clock.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/metrics.h"
#include "dvcbot/refs.h"
#include "dvcbot/store_fire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct handoff {
    struct stats *st;
    const struct flows *flows;
    char *staff[HANDOFF_MAX_STAFF_CHATS];
    size_t n_staff;
};



static void count(const char *event)
{
    char labels[48];
    snprintf(labels, sizeof labels, "event=\"%s\"", event);
    metrics_inc("dvcbot_handoffs_total", labels, 1);
}

static void ignore_reply(redisReply *r, void *ud)
{
    (void)ud;
    if (!r || r->type == REDIS_REPLY_ERROR)
        log_msg(LOG_WARN, "handoff write failed");
}

static void ticket_key(char *out, size_t cap, long n)
{
    snprintf(out, cap, "ticket:%ld", n);
}

/* Sends one rendered template to every staff chat. */
static void tell_staff(struct handoff *h, const struct tpl_set *tpl, struct outbox *ob,
                       const char *name, const struct tpl_var *v, size_t n)
{
    struct bot_replies r;
    bot_replies_init(&r);
    if (tpl_render(tpl, name, v, n, &r))
        for (size_t i = 0; i < h->n_staff; i++)
            if (outbox_send(ob, BOT_CH_TELEGRAM, h->staff[i], &r.items[0], NULL, OUTBOX_REPLY,
                            NULL, NULL) != 0)
                log_msg(LOG_WARN, "staff message not queued");
    bot_replies_free(&r);
}

long handoff_parse_ticket(const char *args, const char **text)
{
    while (*args == ' ')
        args++;
    if (*args == '#')
        args++;
    char *end;
    errno = 0;
    long n = strtol(args, &end, 10);
    if (end == args || n <= 0 || n > HANDOFF_TICKET_MAX || errno == ERANGE ||
        (*end && *end != ' ' && *end != '\n'))
        return 0; /* never a saturated number: staff get the usage */
    while (*end == ' ' || *end == '\n')
        end++;
    *text = end;
    return n;
}

/* ===== Staff commands ===== */

enum staff_op { STAFF_REPLY, STAFF_CLOSE };

struct staff_call {
    struct handoff *h;
    struct dialog_turn *t;
    enum staff_op op;
    long ticket;
    char *text;
    char user[DIALOG_USER_KEY_MAX];
};

static void staff_finish(struct staff_call *sc, const char *tpl_name)
{
    char n[24];
    snprintf(n, sizeof n, "%ld", sc->ticket);
    const struct tpl_var v = {"ticket", n};
    if (tpl_name)
        dialog_turn_render(sc->t, tpl_name, &v, 1);
    dialog_turn_done(sc->t);
    free(sc->text);
    free(sc);
}

static const char *elem_str(const redisReply *r, size_t i)
{
    return r && r->type == REDIS_REPLY_ARRAY && i < r->elements &&
                   r->element[i]->type == REDIS_REPLY_STRING
               ? r->element[i]->str
               : NULL;
}

/* The user was told (queued) or not: the staff member hears which. */
static void staff_told(struct staff_call *sc, bool queued)
{
    if (sc->op == STAFF_REPLY) {
        staff_finish(sc, queued ? "staff_sent" : "staff_not_sent");
        return;
    }
    if (!queued)
        log_msg(LOG_INFO, "ticket closed; user not told (channel off or blocked)");
    staff_finish(sc, "staff_closed");
}

static void on_told(const struct recipient_result *res, void *ud)
{
    staff_told(ud, res->verdict == RECIPIENT_QUEUED);
}

/* Sends one rendered template to the ticket's user, through recipient.h. */
static void tell_user(struct staff_call *sc, const char *name, const struct tpl_var *v, size_t n)
{
    const struct dialog_deps *deps = sc->t->deps;
    struct bot_replies r;
    bot_replies_init(&r);
    int rc = -1;
    if (tpl_render(deps->tpl, name, v, n, &r))
        rc = recipient_send(deps->recipients, sc->user, &r.items[0], OUTBOX_REPLY, RECIPIENT_UNTIL_QUEUED,
                            on_told, sc);
    bot_replies_free(&r);
    if (rc != 0)
        staff_told(sc, false);
}

static void on_staff_user(redisReply *r, void *ud)
{
    struct staff_call *sc = ud;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 2) {
        staff_finish(sc, "busy_store");
        return;
    }
    const char *open = elem_str(r, 0);
    char n[24];
    snprintf(n, sizeof n, "%ld", sc->ticket);
    bool is_open = open && strcmp(open, n) == 0;
    if (sc->op == STAFF_REPLY) {
        if (!is_open) {
            staff_finish(sc, "staff_ticket_closed");
            return;
        }
        const struct tpl_var v[] = {{"ticket", n}, {"text", sc->text}};
        tell_user(sc, "handoff_staff_reply", v, 2);
        return;
    }
    char key[48];
    ticket_key(key, sizeof key, sc->ticket);
    store_fire(sc->t->deps->store, "handoff_close", "DEL %s", key);
    if (r->element[1]->integer != 1) {
        staff_finish(sc, "staff_closed");
        return;
    }
    stats_count(sc->h->st, "handoff_closed");
    count("closed");
    const struct tpl_var v = {"ticket", n};
    tell_user(sc, "handoff_closed", &v, 1);
}

static void on_ticket_members(redisReply *r, void *ud)
{
    struct staff_call *sc = ud;
    const char *user = elem_str(r, 0);
    if (!r) {
        staff_finish(sc, "busy_store");
        return;
    }
    if (!user || strlen(user) >= sizeof sc->user) {
        staff_finish(sc, "staff_unknown_ticket");
        return;
    }
    snprintf(sc->user, sizeof sc->user, "%s", user);
    char hkey[160], n[24];
    dialog_user_redis_key(hkey, sizeof hkey, "ho:", sc->user, NULL);
    snprintf(n, sizeof n, "%ld", sc->ticket);
    if (store_command(sc->t->deps->store, on_staff_user, sc, "FCALL handoff_ticket 1 %s %s %s",
                      hkey, sc->op == STAFF_CLOSE ? "close" : "read", n) != 0)
        staff_finish(sc, "busy_store");
}

/* "/reply@bot 12 text" → command "reply", args "12 text". */
static bool staff_command(const char *text, const char *cmd, const char **args)
{
    size_t n = strlen(cmd);
    if (text[0] != '/' || strncmp(text + 1, cmd, n) != 0)
        return false;
    const char *p = text + 1 + n;
    if (*p == '@')
        while (*p && *p != ' ' && *p != '\n')
            p++;
    if (*p && *p != ' ' && *p != '\n')
        return false;
    *args = p;
    return true;
}

static void on_staff(struct handoff *h, struct dialog_turn *t)
{
    const char *text = t->msg->text, *args, *rest = "";
    bool reply = staff_command(text, "reply", &args);
    bool close = !reply && staff_command(text, "close", &args);
    if (t->msg->kind != BOT_MSG_TEXT || text[0] != '/') {
        dialog_turn_done(t); /* staff talking among themselves */
        return;
    }
    long n = reply || close ? handoff_parse_ticket(args, &rest) : 0;
    if (!n || (reply && !*rest)) {
        dialog_turn_reply(t, "staff_help", NULL, 0);
        return;
    }
    struct staff_call *sc = xcalloc(1, sizeof *sc);
    sc->h = h;
    sc->t = t;
    sc->op = reply ? STAFF_REPLY : STAFF_CLOSE;
    sc->ticket = n;
    sc->text = xstrdup(rest);
    char key[48];
    ticket_key(key, sizeof key, n);
    if (store_command(t->deps->store, on_ticket_members, sc, "SMEMBERS %s", key) != 0)
        staff_finish(sc, "busy_store");
}

static bool is_staff_chat(const struct handoff *h, const struct bot_msg *m)
{
    if (m->channel != BOT_CH_TELEGRAM)
        return false;
    for (size_t i = 0; i < h->n_staff; i++)
        if (strcmp(h->staff[i], m->chat) == 0)
            return true;
    return false;
}

/* ===== The user's side ===== */

struct open_call {
    struct handoff *h;
    struct dialog_turn *t;
};

static void on_ticket_number(redisReply *r, void *ud)
{
    struct open_call *oc = ud;
    struct dialog_turn *t = oc->t;
    struct handoff *h = oc->h;
    free(oc);
    if (!r || r->type != REDIS_REPLY_INTEGER) {
        dialog_reply_busy_store(t);
        dialog_turn_done(t);
        return;
    }
    char n[24], key[48], hkey[160], refs[160], now[24];
    snprintf(n, sizeof n, "%lld", r->integer);
    ticket_key(key, sizeof key, (long)r->integer);
    dialog_user_redis_key(hkey, sizeof hkey, "ho:", t->user_key, NULL);
    dialog_user_redis_key(refs, sizeof refs, "refs:", t->user_key, NULL);
    snprintf(now, sizeof now, "%lld", (long long)clock_now());
    struct store *s = t->deps->store;
    if (store_command(s, ignore_reply, NULL, "FCALL handoff_open 2 %s %s %s %s %s", hkey, refs,
                      n, now, key) != 0 ||
        refs_keep(s, t->deps->cfg->user_ttl_s, t->user_key) != 0 ||
        store_command(s, ignore_reply, NULL, "SADD %s %s", key, t->user_key) != 0) {
        dialog_reply_busy_store(t);
        dialog_turn_done(t);
        return;
    }
    const struct intent *in = flows_current(h->flows, t);
    const struct tpl_var pv = {"procedure", in ? in->name : ""};
    char *context = in ? tpl_render_text(t->deps->tpl, "staff_context", &pv, 1) : NULL;
    char *noq = t->msg->kind == BOT_MSG_TEXT ? NULL
                                             : tpl_render_text(t->deps->tpl, "staff_no_question", NULL, 0);
    const struct tpl_var v[] = {
        {"ticket", n}, {"channel", bot_channel_name(t->msg->channel)},
        {"question", noq ? noq : t->msg->text}, {"context", context ? context : ""},
    };
    tell_staff(h, t->deps->tpl, t->deps->outbox, "staff_new_ticket", v, 4);
    free(context);
    free(noq);
    cJSON_DeleteItemFromObjectCaseSensitive(t->session, "handoff");
    cJSON *ho = cJSON_AddObjectToObject(t->session, "handoff");
    cJSON_AddStringToObject(ho, "ticket", n);
    dialog_turn_set_mode(t, HANDOFF_MODE);
    const struct tpl_var tv = {"ticket", n};
    dialog_turn_render(t, "handoff_opened", &tv, 1);
    stats_count(h->st, "handoff_opened");
    count("opened");
    log_fmt(LOG_INFO, "ticket opened", "\"ticket\":%s", n);
    dialog_turn_done(t);
}

static void on_gap_can_bo(struct dialog_turn *t, void *ud)
{
    struct handoff *h = ud;
    if (h->n_staff == 0) {
        dialog_turn_reply(t, "handoff_unavailable", NULL, 0);
        return;
    }
    if (dialog_turn_refuse_degraded(t))
        return;
    struct open_call *oc = xcalloc(1, sizeof *oc);
    oc->h = h;
    oc->t = t;
    if (store_command(t->deps->store, on_ticket_number, oc, "INCR tickets:seq") != 0) {
        free(oc);
        dialog_reply_busy_store(t);
        dialog_turn_done(t);
    }
}

struct user_call {
    struct handoff *h;
    struct dialog_turn *t;
};

static const char *session_ticket(const struct dialog_turn *t)
{
    const cJSON *ho = cJSON_GetObjectItemCaseSensitive(t->session, "handoff");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(ho, "ticket");
    return cJSON_IsString(n) ? n->valuestring : "";
}

static void leave_handoff(struct dialog_turn *t)
{
    cJSON_DeleteItemFromObjectCaseSensitive(t->session, "handoff");
    dialog_turn_set_mode(t, NULL);
}

static void user_ends(struct handoff *h, struct dialog_turn *t, const char *n)
{
    char key[48];
    snprintf(key, sizeof key, "ticket:%s", n);
    store_fire(t->deps->store, "handoff_close", "DEL %s", key);
    const struct tpl_var v = {"ticket", n};
    tell_staff(h, t->deps->tpl, t->deps->outbox, "staff_user_closed", &v, 1);
    stats_count(h->st, "handoff_closed");
    count("closed");
    leave_handoff(t);
    dialog_turn_render(t, "handoff_ended", &v, 1);
}

static void on_user_ticket(redisReply *r, void *ud)
{
    struct user_call *uc = ud;
    struct dialog_turn *t = uc->t;
    struct handoff *h = uc->h;
    free(uc);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 2) {
        dialog_reply_busy_store(t);
        dialog_turn_done(t);
        return;
    }
    char n[24];
    snprintf(n, sizeof n, "%s", session_ticket(t));
    const char *open = elem_str(r, 0);
    if (!open || strcmp(open, n) != 0) {
        leave_handoff(t); /* staff closed it: answer as usual */
        dialog_turn_reroute(t);
        return;
    }
    const struct bot_msg *m = t->msg;
    const struct tpl_var v[] = {{"ticket", n}, {"text", m->text}};
    if (m->kind == BOT_MSG_BUTTON && strcmp(m->text, "ho:end") == 0) {
        char hkey[160];
        dialog_user_redis_key(hkey, sizeof hkey, "ho:", t->user_key, NULL);
        store_fire(t->deps->store, "handoff_close", "DEL %s", hkey);
        user_ends(h, t, n);
    } else if (m->kind == BOT_MSG_TEXT && m->text[0] != '/') {
        tell_staff(h, t->deps->tpl, t->deps->outbox, "staff_user_message", v, 2);
        cJSON *ho = cJSON_GetObjectItemCaseSensitive(t->session, "handoff");
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ho, "acked"))) {
            cJSON_AddTrueToObject(ho, "acked");
            dialog_turn_render(t, "handoff_forwarded", v, 1);
        }
    } else {
        dialog_turn_render(t, "handoff_waiting", v, 1);
    }
    dialog_turn_done(t);
}

static bool on_mode(struct dialog_turn *t, void *ud)
{
    struct handoff *h = ud;
    char hkey[160];
    dialog_user_redis_key(hkey, sizeof hkey, "ho:", t->user_key, NULL);
    struct user_call *uc = xcalloc(1, sizeof *uc);
    uc->h = h;
    uc->t = t;
    if (store_command(t->deps->store, on_user_ticket, uc, "FCALL handoff_ticket 1 %s read 0", hkey) != 0) {
        free(uc);
        dialog_reply_busy_store(t);
        dialog_turn_done(t);
    }
    return true;
}

/* Staff chats are not citizens; a user waiting for staff keeps waiting
 * through /start. */
static bool on_message(struct dialog_turn *t, void *ud)
{
    struct handoff *h = ud;
    if (is_staff_chat(h, t->msg)) {
        if (t->degraded) {
            dialog_reply_busy_store(t);
            dialog_turn_done(t);
        } else {
            on_staff(h, t);
        }
        return true;
    }
    const char *mode = dialog_turn_mode(t);
    if (mode && strcmp(mode, HANDOFF_MODE) == 0 && dialog_is_start(t->msg))
        return on_mode(t, h);
    return false;
}

/* ho:end outside the mode: already closed. */
static void on_stale_end(struct dialog_turn *t, void *ud)
{
    (void)ud;
    dialog_reply_menu(t);
    dialog_turn_done(t);
}

struct handoff *handoff_new(struct dialog *d, const struct config *cfg, struct stats *st,
                            const struct flows *flows)
{
    struct handoff *h = xcalloc(1, sizeof *h);
    h->st = st;
    h->flows = flows;
    const char *p = cfg->staff_chat_ids ? cfg->staff_chat_ids : "";
    while (*p && h->n_staff < HANDOFF_MAX_STAFF_CHATS) {
        while (*p == ',' || *p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ')
            e++;
        if (e > p && (size_t)(e - p) < BOT_ID_MAX)
            h->staff[h->n_staff++] = xstrndup(p, (size_t)(e - p));
        p = e;
    }
    dialog_on_message(d, on_message, h);
    dialog_on_intent(d, "gap_can_bo", on_gap_can_bo, h);
    dialog_on_mode(d, HANDOFF_MODE, on_mode, h);
    dialog_on_payload(d, "ho:", on_stale_end, h);
    return h;
}

void handoff_free(struct handoff *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n_staff; i++)
        free(h->staff[i]);
    free(h);
}
