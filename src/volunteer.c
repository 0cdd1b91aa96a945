/* volunteer — registration by staff and the "assist a resident" start. */
#include "dvcbot/volunteer.h"
#include "dvcbot/admin_auth.h"
#include "dvcbot/buf.h"
#include "dvcbot/clock.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/procedure_reply.h"
#include "dvcbot/refs.h"
#include "dvcbot/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct volunteers {
    const struct flow_set *defs;
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

static void stop_assisting(struct dialog_turn *t)
{
    cJSON_DeleteItemFromObjectCaseSensitive(t->session, "assist");
    dialog_turn_set_mode(t, NULL);
}

static void on_member(redisReply *r, void *ud)
{
    struct dialog_turn *t = ud;
    if (!r || r->type != REDIS_REPLY_INTEGER) {
        dialog_reply_busy_store(t);
    } else if (r->integer == 1) {
        cJSON_DeleteItemFromObjectCaseSensitive(t->session, "assist");
        dialog_turn_set_mode(t, VOLUNTEER_MODE);
        dialog_turn_render(t, "assist_ask_commune", NULL, 0);
    } else {
        dialog_turn_render(t, "assist_not_volunteer", NULL, 0);
    }
    dialog_turn_done(t);
}

static void start_assist(struct dialog_turn *t)
{
    if (t->degraded || store_command(t->deps->store, on_member, t, "SISMEMBER %s %s",
                                     VOLUNTEER_SET, t->user_key) != 0) {
        dialog_reply_busy_store(t);
        dialog_turn_done(t);
    }
}

static void on_button(struct dialog_turn *t, void *ud)
{
    (void)ud;
    if (strcmp(t->arg, "start") == 0) {
        start_assist(t);
        return;
    }
    stop_assisting(t);
    dialog_turn_reply(t, "assist_ended", NULL, 0);
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
    char cmd[32], rest[8];
    size_t n = (size_t)(space - text);
    if (n >= sizeof cmd)
        return NULL;
    memcpy(cmd, text, n);
    cmd[n] = '\0';
    if (flow_set_command(v->defs, cmd, rest, sizeof rest) != FLOW_CMD_ASSIST)
        return NULL;
    while (*space == ' ')
        space++;
    return space;
}

static bool on_mode(struct dialog_turn *t, void *ud)
{
    struct volunteers *v = ud;
    const struct bot_msg *m = t->msg;
    if (m->kind == BOT_MSG_BUTTON) {
        dialog_turn_set_mode(t, NULL);
        return false; /* vol:end, menu...: routed as usual */
    }
    if (m->kind != BOT_MSG_TEXT)
        return false;
    char rest[8];
    enum flow_command cmd = flow_set_command(v->defs, m->text, rest, sizeof rest);
    if (cmd == FLOW_CMD_CANCEL || cmd == FLOW_CMD_MENU) {
        stop_assisting(t);
        dialog_turn_reply(t, "assist_ended", NULL, 0);
        return true;
    }
    const char *typed = commune_typed(v, m->text);
    char commune[VALIDATE_OUT_MAX];
    if (!typed || validate_text(typed, 2, 60, commune, sizeof commune) != VALID_OK) {
        dialog_turn_reply(t, "assist_ask_commune", NULL, 0);
        return true;
    }
    dialog_turn_set_mode(t, NULL);
    cJSON *a = cJSON_AddObjectToObject(t->session, "assist");
    cJSON_AddStringToObject(a, "commune", commune);
    const struct tpl_var var = {"commune", commune};
    dialog_turn_render(t, "assist_ready", &var, 1);
    procedure_reply_list(t->deps->tpl, t->deps->catalog, &t->replies);
    dialog_turn_done(t);
    return true;
}

/* The assist command anywhere outside a flow; /start stops assisting. */
static bool on_message(struct dialog_turn *t, void *ud)
{
    struct volunteers *v = ud;
    const struct bot_msg *m = t->msg;
    if (dialog_is_start(m)) {
        cJSON_DeleteItemFromObjectCaseSensitive(t->session, "assist");
        return false;
    }
    const char *mode = dialog_turn_mode(t);
    if (m->kind != BOT_MSG_TEXT || (mode && strcmp(mode, VOLUNTEER_MODE) != 0))
        return false;
    char rest[8];
    if (flow_set_command(v->defs, m->text, rest, sizeof rest) != FLOW_CMD_ASSIST)
        return false;
    start_assist(t);
    return true;
}

/* ===== Registration with a commune (the staff console) ===== */


int volunteer_register(struct store *store, const char *user, const char *commune, bool add,
                       store_reply_cb cb, void *ud)
{
    if (!volunteer_user_key_valid(user))
        return STORE_EINVAL;
    char refs[160], vol[160], now[24];
    snprintf(refs, sizeof refs, "refs:{%s}", user);
    snprintf(vol, sizeof vol, "vol:{%s}", user);
    snprintf(now, sizeof now, "%lld", (long long)clock_now());
    return store_command(store, cb, ud, "FCALL volunteer_register 3 %s %s %s %s %s %s %s", VOLUNTEER_SET,
                         refs, vol, user, add ? "1" : "0", commune ? commune : "", now);
}

/* ===== /admin/volunteers ===== */

struct admin_call {
    struct http_request *req;
    int pending;
    long added, removed;
    bool failed;
    cJSON *list;
};

static void admin_done(struct admin_call *ac)
{
    if (--ac->pending > 0)
        return;
    if (ac->failed) {
        http_respond_error(ac->req, 503, "store unavailable");
    } else {
        char body[96];
        snprintf(body, sizeof body, "{\"added\":%ld,\"removed\":%ld}", ac->added, ac->removed);
        http_respond_json(ac->req, 200, body);
    }
    free(ac);
}

static void on_changed(redisReply *r, void *ud)
{
    struct admin_call *ac = ud;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 2)
        ac->failed = true;
    else if (r->element[0]->integer > 0 && r->element[1]->integer)
        ac->added++;
    else if (r->element[0]->integer > 0)
        ac->removed++;
    admin_done(ac);
}


static bool check_list(const cJSON *arr, size_t *n)
{
    if (!arr)
        return true;
    if (!cJSON_IsArray(arr))
        return false;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        if (!cJSON_IsString(e) || !volunteer_user_key_valid(e->valuestring))
            return false;
        (*n)++;
    }
    return true;
}

static void send_changes(struct volunteers *v, struct admin_call *ac, const cJSON *arr, bool add)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        char refs[160];
        snprintf(refs, sizeof refs, "refs:{%s}", e->valuestring);
        ac->pending++;
        /* The two keys live in different slots: fine on one server; on a
         * cluster this would be two commands. */
        if (store_command(v->store, on_changed, ac, "FCALL volunteer_change 2 %s %s %s %s",
                          VOLUNTEER_SET, refs, e->valuestring, add ? "1" : "0") != 0) {
            ac->failed = true;
            ac->pending--;
        } else if (add && refs_keep(v->store, v->cfg->user_ttl_s, e->valuestring) != 0) {
            ac->failed = true;
        }
    }
}

static void post_volunteers(struct volunteers *v, struct http_request *req)
{
    cJSON *root = cJSON_ParseWithLength(req->body.data ? req->body.data : "", req->body.len);
    const cJSON *add = cJSON_GetObjectItemCaseSensitive(root, "add");
    const cJSON *rem = cJSON_GetObjectItemCaseSensitive(root, "remove");
    size_t n = 0;
    if (!cJSON_IsObject(root) || !check_list(add, &n) || !check_list(rem, &n) || n == 0 ||
        n > VOLUNTEER_MAX_PER_REQUEST) {
        cJSON_Delete(root);
        http_respond_error(req, 400, "want {\"add\": [\"tg:123\", ...], \"remove\": [...]} with user keys");
        return;
    }
    struct admin_call *ac = xcalloc(1, sizeof *ac);
    ac->req = req;
    ac->pending = 1;
    send_changes(v, ac, add, true);
    send_changes(v, ac, rem, false);
    cJSON_Delete(root);
    admin_done(ac);
}

static void on_members(redisReply *r, void *ud)
{
    struct http_request *req = ud;
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        http_respond_error(req, 503, "store unavailable");
        return;
    }
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"volunteers\":[");
    for (size_t i = 0; i < r->elements; i++) {
        if (i)
            buf_putc(&b, ',');
        buf_json_str(&b, r->element[i]->str);
    }
    buf_puts(&b, "]}");
    http_respond_json(req, 200, b.data);
    buf_free(&b);
}

void volunteers_handle_http(struct http_request *req, void *ud)
{
    struct volunteers *v = ud;
    req->route = "admin_volunteers";
    if (!admin_auth_check(req, v->cfg->admin_tokens))
        return;
    if (strcmp(req->method_name, "POST") == 0)
        post_volunteers(v, req);
    else if (strcmp(req->method_name, "GET") == 0) {
        if (store_command(v->store, on_members, req, "SMEMBERS %s", VOLUNTEER_SET) != 0)
            http_respond_error(req, 503, "store unavailable");
    } else
        http_respond_error(req, 405, "use GET or POST");
}

struct volunteers *volunteers_new(struct dialog *d, const struct flow_set *defs,
                                  struct store *store, const struct config *cfg)
{
    struct volunteers *v = xcalloc(1, sizeof *v);
    v->defs = defs;
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
