/* volunteer — registration by staff and the "assist a resident" start. */
#include "dvcbot/volunteer.h"
#include "dvcbot/buf.h"
#include "dvcbot/clock.h"
#include "dvcbot/commune_reply.h"
#include "dvcbot/flow.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/procedure_reply.h"
#include "dvcbot/refs.h"
#include "dvcbot/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct volunteers {
    struct flows *flows;
    const struct flow_set *defs;
    const struct commune_list *communes;
    struct store *store;
    const struct config *cfg;
};

bool volunteer_user_key_valid(const char *key)
{
    static const char *const prefixes[] = {"tg:", "zl:", "wc:", "cli:"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(key, prefixes[i], n) != 0)
            continue;
        const char *id = key + n;
        size_t len = strlen(id);
        if (len < 1 || len >= BOT_ID_MAX)
            return false;
        for (; *id; id++)
            if (!((*id >= 'a' && *id <= 'z') || (*id >= 'A' && *id <= 'Z') ||
                  (*id >= '0' && *id <= '9') || *id == '_' || *id == '-'))
                return false;
        return true;
    }
    return false;
}

/* ===== In the chat ===== */

/* Assisting ends: the volunteer's own flow set aside at its start comes
 * back, said with a button to go on with it. Calls done. */
static void stop_assisting(struct volunteers *v, struct dialog_turn *t)
{
    cJSON_DeleteItemFromObjectCaseSensitive(t->session, "assist");
    dialog_turn_set_mode(t, NULL);
    const struct intent *held = flows_unhold(v->flows, t);
    const struct tpl_var var = {"name", held ? held->name : ""};
    dialog_turn_reply(t, held ? "assist_ended_held" : "assist_ended", &var, 1);
}

struct asking {
    struct volunteers *v;
    struct dialog_turn *t;
    bool in_flow; /* typed in a running flow: asked whether to set it aside */
};

/* "/hotro" typed in a running flow: set it aside and assist (vol:start), or
 * go on with it (f:resume); the flow stays until a button says. */
static void ask_pause(struct dialog_turn *t, bool volunteer)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(t->session, "flow");
    const struct intent *in = catalog_find(
        t->deps->catalog, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "id")));
    const struct tpl_var var = {"name", in ? in->name : ""};
    dialog_turn_render(t, volunteer ? "assist_pause_ask" : "assist_not_volunteer_in_flow", &var, 1);
    dialog_turn_keep_buttons(t);
}

/* "xã/phường nào?", the commune the volunteer is registered for (when the
 * 2025 list knows it) offered as the first button (vol:cm:<code>); a
 * number typed next presses a button. */
static void ask_commune(struct volunteers *v, struct dialog_turn *t, const char *registered)
{
    struct commune_match m;
    if (registered && *registered)
        commune_list_match(v->communes, registered, &m);
    bool known = registered && *registered && (m.found == COMMUNE_FOUND || m.found == COMMUNE_FOUND_OLD);
    const struct tpl_var var = {"commune", known ? m.unit->label : ""};
    struct bot_reply *r = dialog_turn_render(t, known ? "assist_ask_commune_own" : "assist_ask_commune",
                                             &var, 1);
    if (r && known) {
        char payload[BOT_PAYLOAD_MAX + 1];
        snprintf(payload, sizeof payload, "vol:%s%s", VOLUNTEER_UNIT_ARG, m.unit->code);
        bot_reply_insert_button(r, 0, m.unit->label, payload);
    }
    dialog_turn_keep_buttons(t);
}

static void on_member(redisReply *r, void *ud)
{
    struct asking *a = ud;
    struct dialog_turn *t = a->t;
    if (store_reply_failed(r) || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_INTEGER) {
        dialog_reply_busy_store(t);
    } else if (a->in_flow) {
        ask_pause(t, r->element[0]->integer == 1);
    } else if (r->element[0]->integer == 1) {
        cJSON_DeleteItemFromObjectCaseSensitive(t->session, "assist");
        flows_hold(a->v->flows, t); /* their own flow waits for the end of assisting */
        dialog_turn_set_mode(t, VOLUNTEER_MODE);
        ask_commune(a->v, t, store_reply_str(r->element[1]));
    } else {
        dialog_turn_render(t, "assist_not_volunteer", NULL, 0);
    }
    free(a);
    dialog_turn_done(t);
}

/* Asks Redis whether the user is a volunteer, and their commune. */
static void start_assist(struct volunteers *v, struct dialog_turn *t, bool in_flow)
{
    char vol[160];
    dialog_user_redis_key(vol, sizeof vol, "vol:", t->user_key, NULL);
    struct asking *a = xcalloc(1, sizeof *a);
    a->v = v;
    a->t = t;
    a->in_flow = in_flow;
    if (t->degraded || store_command(t->deps->store, on_member, a,
                                     "FCALL volunteer_household_who 2 %s %s %s", VOLUNTEER_SET,
                                     vol, t->user_key) != 0) {
        free(a);
        dialog_reply_busy_store(t);
        dialog_turn_done(t);
    }
}

static void on_button(struct dialog_turn *t, void *ud)
{
    if (strcmp(t->arg, "start") == 0) {
        start_assist(ud, t, false);
        return;
    }
    if (strncmp(t->arg, VOLUNTEER_UNIT_ARG, strlen(VOLUNTEER_UNIT_ARG)) == 0) {
        dialog_reply_menu(t); /* a unit button outside the commune question: stale or forged */
        dialog_turn_done(t);
        return;
    }
    stop_assisting(ud, t);
}

/* What a reply to "xã/phường nào?" names: the text, or for "/hotro Chiềng
 * Sinh" what follows the command. NULL for any other command: a command is
 * never a commune. */
static const char *commune_typed(const struct volunteers *v, const char *text)
{
    if (text[0] != '/')
        return text;
    const char *space = strchr(text, ' ');
    if (!space)
        return NULL;
    char cmd[32];
    size_t n = (size_t)(space - text);
    if (n >= sizeof cmd)
        return NULL;
    memcpy(cmd, text, n);
    cmd[n] = '\0';
    if (flow_set_command_of(v->defs, cmd) != FLOW_CMD_ASSIST)
        return NULL;
    while (*space == ' ')
        space++;
    return space;
}

/* The resident's commune is known: assisting starts, the procedures follow. */
static void begin_assist(struct dialog_turn *t, const char *commune, const struct commune_match *m)
{
    if (m && m->found == COMMUNE_FOUND_OLD) {
        const struct tpl_var v[] = {{"old", m->old}, {"type", m->unit->type}, {"name", m->unit->label}};
        dialog_turn_render(t, "flow_commune_old", v, 3);
    }
    dialog_turn_set_mode(t, NULL);
    cJSON_DeleteItemFromObjectCaseSensitive(t->session, "assist");
    cJSON *a = cJSON_AddObjectToObject(t->session, "assist");
    cJSON_AddStringToObject(a, "commune", commune);
    const struct tpl_var var = {"commune", commune};
    dialog_turn_render(t, "assist_ready", &var, 1);
    procedure_reply_list(t->deps->tpl, t->deps->catalog, PROCEDURE_REPLY_ASSIST, &t->replies);
    dialog_turn_done(t);
}

/* A commune of the 2025 list, as in a flow's commune question: a unit (or
 * an old commune merged into one) starts assisting; several or none are
 * offered as buttons vol:cm:<code>, and the question stays. */
static void take_commune(struct volunteers *v, struct dialog_turn *t, const char *typed)
{
    struct commune_match m;
    commune_list_match(v->communes, typed, &m);
    if (m.found == COMMUNE_FOUND || m.found == COMMUNE_FOUND_OLD) {
        begin_assist(t, m.unit->label, &m);
        return;
    }
    char echo[COMMUNE_REPLY_ECHO_BYTES];
    commune_reply_echo(typed, echo);
    char *lines = commune_reply_choices(t->deps->tpl, &m);
    const struct tpl_var vars[] = {{"typed", echo}, {"choices", lines}};
    char *offer = tpl_render_text(t->deps->tpl, commune_reply_template(&m), vars, 2);
    const struct tpl_var note = {"offer", offer ? offer : ""};
    struct bot_reply *r = dialog_turn_render(t, "assist_commune_offer", &note, 1);
    for (size_t k = 0; r && k < m.n_cands; k++) {
        char payload[BOT_PAYLOAD_MAX + 1];
        snprintf(payload, sizeof payload, "vol:%s%s", VOLUNTEER_UNIT_ARG, m.cands[k]->code);
        bot_reply_insert_button(r, k, m.cands[k]->label, payload);
    }
    free(offer);
    free(lines);
    dialog_turn_keep_buttons(t);
    dialog_turn_done(t);
}

/* vol:cm:<code> pressed at the commune question. */
static bool on_unit_button(struct volunteers *v, struct dialog_turn *t)
{
    const char *p = t->msg->text;
    size_t n = strlen("vol:" VOLUNTEER_UNIT_ARG);
    const struct commune_unit *u = strncmp(p, "vol:" VOLUNTEER_UNIT_ARG, n) == 0
                                       ? commune_list_by_code(v->communes, p + n)
                                       : NULL;
    if (!u)
        return false;
    begin_assist(t, u->label, NULL);
    return true;
}

static bool on_mode(struct dialog_turn *t, void *ud)
{
    struct volunteers *v = ud;
    const struct bot_msg *m = t->msg;
    if (m->kind == BOT_MSG_TEXT)
        dialog_turn_press_typed(t); /* "1": the commune offered first */
    if (m->kind == BOT_MSG_BUTTON) {
        if (on_unit_button(v, t))
            return true;
        dialog_turn_set_mode(t, NULL);
        return false; /* vol:end, menu...: routed as usual */
    }
    if (m->kind != BOT_MSG_TEXT)
        return false;
    enum flow_command cmd = flow_set_command_of(v->defs, m->text);
    if (cmd == FLOW_CMD_CANCEL || cmd == FLOW_CMD_MENU) {
        stop_assisting(v, t);
        return true;
    }
    const char *typed = commune_typed(v, m->text);
    if (typed && commune_list_size(v->communes) > 0) {
        take_commune(v, t, typed);
        return true;
    }
    char commune[VALIDATE_OUT_MAX];
    if (!typed || validate_text(typed, 2, 60, commune, sizeof commune) != VALID_OK) {
        ask_commune(v, t, NULL);
        dialog_turn_done(t);
        return true;
    }
    begin_assist(t, commune, NULL);
    return true;
}

/* The assist command anywhere (in a running flow it asks first); /start
 * stops assisting, offering back the flow set aside at its start. */
static bool on_message(struct dialog_turn *t, void *ud)
{
    struct volunteers *v = ud;
    const struct bot_msg *m = t->msg;
    if (dialog_is_start(m)) {
        cJSON_DeleteItemFromObjectCaseSensitive(t->session, "assist");
        if (!flows_unhold(v->flows, t))
            return false;
        dialog_turn_set_mode(t, NULL);
        return flows_filter(t, v->flows); /* "Anh/chị đang làm dở: …" */
    }
    const char *mode = dialog_turn_mode(t);
    bool in_flow = mode && strcmp(mode, FLOW_MODE) == 0;
    if (m->kind != BOT_MSG_TEXT || (mode && strcmp(mode, VOLUNTEER_MODE) != 0 && !in_flow))
        return false;
    if (flow_set_command_of(v->defs, m->text) != FLOW_CMD_ASSIST)
        return false;
    start_assist(v, t, in_flow);
    return true;
}

/* ===== Registration with a commune (the staff console) ===== */


int volunteer_register(struct store *store, const char *user, const char *commune, bool add,
                       unsigned user_ttl_s, store_reply_cb cb, void *ud)
{
    if (!volunteer_user_key_valid(user))
        return STORE_EINVAL;
    char refs[160], vol[160], now[24];
    snprintf(refs, sizeof refs, "refs:{%s}", user);
    snprintf(vol, sizeof vol, "vol:{%s}", user);
    snprintf(now, sizeof now, "%lld", (long long)clock_now());
    return store_command(store, cb, ud, "FCALL volunteer_register 3 %s %s %s %s %s %s %s %u", VOLUNTEER_SET,
                         refs, vol, user, add ? "1" : "0", commune ? commune : "", now, user_ttl_s);
}

/* ===== Staff: the list and changes to it ===== */

struct change_call {
    volunteers_changed_cb cb;
    void *ud;
    int pending;
    long added, removed;
    bool failed;
};

static void change_done(struct change_call *cc)
{
    if (--cc->pending > 0)
        return;
    cc->cb(!cc->failed, cc->added, cc->removed, cc->ud);
    free(cc);
}

static void on_changed(redisReply *r, void *ud)
{
    struct change_call *cc = ud;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 2)
        cc->failed = true;
    else if (r->element[0]->integer > 0 && r->element[1]->integer)
        cc->added++;
    else if (r->element[0]->integer > 0)
        cc->removed++;
    change_done(cc);
}

static void send_changes(struct volunteers *v, struct change_call *cc, const char *const *keys, size_t n,
                         bool add)
{
    for (size_t i = 0; i < n; i++) {
        char refs[160];
        snprintf(refs, sizeof refs, "refs:{%s}", keys[i]);
        cc->pending++;
        /* The two keys live in different slots: fine on one server; on a
         * cluster this would be two commands. */
        if (store_command(v->store, on_changed, cc, "FCALL volunteer_change 2 %s %s %s %s",
                          VOLUNTEER_SET, refs, keys[i], add ? "1" : "0") != 0) {
            cc->failed = true;
            cc->pending--;
        } else if (add && refs_keep(v->store, v->cfg->user_ttl_s, keys[i]) != 0) {
            cc->failed = true;
        }
    }
}

void volunteers_change(struct volunteers *v, const char *const *add, size_t n_add,
                       const char *const *remove, size_t n_remove, volunteers_changed_cb cb, void *ud)
{
    struct change_call *cc = xcalloc(1, sizeof *cc);
    cc->cb = cb;
    cc->ud = ud;
    cc->pending = 1;
    send_changes(v, cc, add, n_add, true);
    send_changes(v, cc, remove, n_remove, false);
    change_done(cc);
}

struct list_call {
    volunteers_list_cb cb;
    void *ud;
};

static void on_members(redisReply *r, void *ud)
{
    struct list_call *lc = ud;
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        lc->cb(NULL, 0, lc->ud);
    } else {
        const char **keys = xcalloc(r->elements ? r->elements : 1, sizeof *keys);
        for (size_t i = 0; i < r->elements; i++)
            keys[i] = r->element[i]->str;
        lc->cb(keys, r->elements, lc->ud);
        free(keys);
    }
    free(lc);
}

int volunteers_list(struct volunteers *v, volunteers_list_cb cb, void *ud)
{
    struct list_call *lc = xcalloc(1, sizeof *lc);
    lc->cb = cb;
    lc->ud = ud;
    int rc = store_command(v->store, on_members, lc, "SMEMBERS %s", VOLUNTEER_SET);
    if (rc != 0)
        free(lc);
    return rc;
}

struct volunteers *volunteers_new(struct dialog *d, struct flows *flows, const struct flow_set *defs,
                                  const struct commune_list *communes, struct store *store,
                                  const struct config *cfg)
{
    struct volunteers *v = xcalloc(1, sizeof *v);
    v->flows = flows;
    v->defs = defs;
    v->communes = communes;
    v->store = store;
    v->cfg = cfg;
    dialog_on_message(d, on_message, v);
    dialog_on_mode(d, VOLUNTEER_MODE, on_mode, v);
    dialog_on_payload(d, "vol:", on_button, v);
    return v;
}

void volunteers_free(struct volunteers *v)
{
    free(v);
}
