/* dialog_route — where a turn goes (see dialog.h): /start greets; the
 * session's mode; buttons by payload (built-in menus, help screens,
 * "i:<id>", registered prefixes); typed text classified once, seen by the
 * observers and readers, then answered by its intent's handler, its
 * procedure summary or its reply template. */
#include "dvcbot/clock.h"
#include "dvcbot/dialog_internal.h"
#include "dvcbot/followup.h"
#include "dvcbot/metrics.h"
#include "dvcbot/nothing_asked.h"
#include "dvcbot/outside.h"
#include "dvcbot/procedure_reply.h"
#include "dvcbot/strfmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_menu_command(const char *text)
{
    return strcmp(text, "/menu") == 0;
}

/* "/menu" is one too: it leaves a mode as /start does, but gets the menu. */
static bool is_start_command(const char *text)
{
    return strcmp(text, "/start") == 0 || strncmp(text, "/start ", 7) == 0 ||
           is_menu_command(text);
}

bool dialog_is_start(const struct bot_msg *m)
{
    return m->kind == BOT_MSG_START || (m->kind == BOT_MSG_TEXT && is_start_command(m->text));
}

void dialog_turn_route_intent(struct dialog_turn *t, const char *intent_id)
{
    struct handler *h = strmap_get(&t->dialog->intents, intent_id);
    if (h) {
        h->action(t, h->ud);
        return;
    }
    const struct intent *in = catalog_find(t->deps->catalog, intent_id);
    const char *outside = in && in->kind == INTENT_FALLBACK ? outside_reply(in, t->line) : NULL;
    if (in && in->kind == INTENT_PROCEDURE) {
        procedure_reply_summary(t->deps->tpl, in, &t->replies);
        followup_remember(t->session, in->id, clock_now());
    }
    else if (in && in->reply && strcmp(in->reply, DIALOG_GREETING) == 0)
        dialog_turn_greet(t); /* "xin chào" */
    else if (outside)
        dialog_turn_render(t, outside, NULL, 0); /* a question another office answers */
    else if (in && in->reply)
        dialog_turn_render(t, in->reply, NULL, 0); /* answered by data */
    else
        dialog_turn_render(t, DIALOG_NOT_UNDERSTOOD, NULL, 0);
    dialog_turn_done(t);
}

bool dialog_has_intent_handler(const struct dialog *d, const char *intent_id)
{
    return strmap_get(&d->intents, intent_id) != NULL;
}

bool dialog_serves(const struct dialog *d, const struct intent *in)
{
    if (dialog_has_intent_handler(d, in->id) || in->kind == INTENT_PROCEDURE)
        return true;
    return in->reply && tpl_exists(d->deps.tpl, in->reply);
}

bool dialog_is_screen(const char *name)
{
    size_t n = strlen(DIALOG_SCREEN_PREFIX);
    if (strncmp(name, DIALOG_SCREEN_PREFIX, n) != 0 || !name[n])
        return false;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
            return false;
    return true;
}

/* A volunteer assisting a resident (session.assist, volunteer.h) picks the
 * resident's procedure: the menu's variant speaking of "người dân". */
static const char *assist_variant(const struct dialog_turn *t)
{
    return cJSON_GetObjectItemCaseSensitive(t->session, "assist") ? PROCEDURE_REPLY_ASSIST : NULL;
}

/* "r:help_<name>": a help screen, when that template exists; to a
 * volunteer assisting, its variant about the resident when there is one. */
static bool route_screen(struct dialog_turn *t, const char *name)
{
    if (!dialog_is_screen(name) || !tpl_exists(t->deps->tpl, name))
        return false;
    char assisted[TPL_NAME_MAX];
    const char *variant = assist_variant(t);
    if (variant && snprintf(assisted, sizeof assisted, "%s%s", name, variant) < (int)sizeof assisted &&
        tpl_exists(t->deps->tpl, assisted))
        name = assisted;
    dialog_turn_render(t, name, NULL, 0);
    dialog_turn_done(t);
    return true;
}

static bool route_payload(struct dialog_turn *t, const char *payload)
{
    if (strncmp(payload, DIALOG_SCREEN_PAYLOAD, strlen(DIALOG_SCREEN_PAYLOAD)) == 0)
        return route_screen(t, payload + strlen(DIALOG_SCREEN_PAYLOAD));
    if (strcmp(payload, "menu") == 0) {
        dialog_reply_menu(t);
        dialog_turn_done(t);
        return true;
    }
    if (strcmp(payload, "menu:thu_tuc") == 0) {
        procedure_reply_list(t->deps->tpl, t->deps->catalog, assist_variant(t), &t->replies);
        dialog_turn_done(t);
        return true;
    }
    if (strncmp(payload, PROCEDURE_REPLY_GROUP_PREFIX, strlen(PROCEDURE_REPLY_GROUP_PREFIX)) == 0) {
        if (procedure_reply_group(t->deps->tpl, t->deps->catalog,
                                  payload + strlen(PROCEDURE_REPLY_GROUP_PREFIX), assist_variant(t),
                                  &t->replies) != 0)
            return false;
        dialog_turn_done(t);
        return true;
    }
    if (strncmp(payload, PROCEDURE_REPLY_FULL_PREFIX, strlen(PROCEDURE_REPLY_FULL_PREFIX)) == 0) {
        const struct intent *in =
            catalog_find(t->deps->catalog, payload + strlen(PROCEDURE_REPLY_FULL_PREFIX));
        if (!in || procedure_reply_full(t->deps->tpl, in, &t->replies) != 0)
            return false;
        followup_remember(t->session, in->id, clock_now());
        dialog_turn_done(t);
        return true;
    }
    if (strncmp(payload, "i:", 2) == 0) {
        const struct intent *in = catalog_find(t->deps->catalog, payload + 2);
        if (in) {
            dialog_turn_route_intent(t, in->id);
            return true;
        }
        return false;
    }
    for (size_t i = 0; i < t->dialog->n_payloads; i++) {
        const struct handler *h = &t->dialog->payloads[i];
        size_t n = strlen(h->key);
        if (strncmp(payload, h->key, n) == 0) {
            t->arg = payload + n;
            h->action(t, h->ud);
            return true;
        }
    }
    return false;
}

bool dialog_turn_route_payload(struct dialog_turn *t, const char *payload)
{
    return route_payload(t, payload);
}

void dialog_turn_classify(struct dialog_turn *t)
{
    if (t->in->classified)
        return; /* a mode that looked at the line first (lookup, flow) */
    t->in->classified = true;
    matcher_classify_line(t->deps->matcher, t->msg->text, strlen(t->msg->text), &t->match,
                          &t->line);
}

static void route_text(struct dialog_turn *t)
{
    dialog_turn_classify(t);
    char labels[96];
    STR_CAT(labels, sizeof labels, "intent=\"", t->match.id, "\"");
    metrics_inc("dvcbot_intents_total", labels, 1);
    for (size_t i = 0; i < t->dialog->n_observers; i++)
        t->dialog->observers[i].observe(t, t->dialog->observers[i].ud);
    const char *ask = nothing_asked_reply(catalog_find(t->deps->catalog, CATALOG_FALLBACK_ID),
                                          t->msg->text, catalog_find(t->deps->catalog, t->match.id));
    if (ask) { /* "ạ", "bản Nà Sản": what do you need? */
        dialog_turn_render(t, ask, NULL, 0);
        dialog_turn_done(t);
        return;
    }
    for (size_t i = 0; i < t->dialog->n_readers; i++)
        if (t->dialog->readers[i].mode(t, t->dialog->readers[i].ud))
            return;
    if (t->match.ambiguous && t->match.alt_id) {
        const struct intent *a = catalog_find(t->deps->catalog, t->match.id);
        const struct intent *b = catalog_find(t->deps->catalog, t->match.alt_id);
        if (a && b) {
            procedure_reply_ask_which(t->deps->tpl, a, b, &t->replies);
            dialog_turn_done(t);
            return;
        }
    }
    dialog_turn_route_intent(t, t->match.id);
}

static bool route_mode(struct dialog_turn *t)
{
    const char *mode = dialog_turn_mode(t);
    if (!mode)
        return false;
    struct handler *h = strmap_get(&t->dialog->modes, mode);
    if (!h) {
        dialog_turn_set_mode(t, NULL); /* a mode nobody handles any more */
        return false;
    }
    return h->mode(t, h->ud);
}

long dialog_typed_number(const char *text)
{
    while (*text == ' ')
        text++;
    if (*text < '1' || *text > '9')
        return 0;
    char *end;
    long n = strtol(text, &end, 10);
    while (*end == ' ' || *end == '.')
        end++;
    return *end ? 0 : n;
}

/* "2" typed where no mode runs (or under a mode's offer): the second
 * button of the last answer (DIALOG_BUTTONS_KEY), pressed. */
bool dialog_turn_press_typed(struct dialog_turn *t)
{
    long n = dialog_typed_number(t->msg->text);
    const cJSON *kept = cJSON_GetObjectItemCaseSensitive(t->session, DIALOG_BUTTONS_KEY);
    const cJSON *p = n >= 1 && n <= DIALOG_BUTTONS_KEPT ? cJSON_GetArrayItem(kept, (int)n - 1) : NULL;
    if (!cJSON_IsString(p))
        return false;
    bot_msg_set_text(t->msg, p->valuestring, strlen(p->valuestring));
    t->msg->kind = BOT_MSG_BUTTON;
    return true;
}

void dialog_turn_reroute(struct dialog_turn *t)
{
    struct bot_msg *m = t->msg;
    if (dialog_is_start(m)) {
        dialog_turn_set_mode(t, NULL);
        if (m->kind == BOT_MSG_TEXT && is_menu_command(m->text))
            dialog_reply_menu(t); /* the menu the "Menu chính" button gives */
        else
            dialog_turn_greet(t);
        dialog_turn_done(t);
        return;
    }
    if (route_mode(t))
        return;
    if (m->kind == BOT_MSG_TEXT && !dialog_turn_mode(t))
        dialog_turn_press_typed(t);
    if (m->kind == BOT_MSG_UNSUPPORTED) {
        dialog_turn_render(t, "unsupported_media", NULL, 0);
        dialog_turn_done(t);
        return;
    }
    if (m->kind == BOT_MSG_BUTTON) {
        if (!route_payload(t, m->text)) {
            dialog_turn_render(t, "help", NULL, 0); /* a stale or forged button */
            dialog_turn_done(t);
        }
        return;
    }
    route_text(t);
}

void dialog_route_turn(struct dialog_turn *t)
{
    for (size_t i = 0; i < t->dialog->n_filters; i++)
        if (t->dialog->filters[i].mode(t, t->dialog->filters[i].ud))
            return;
    dialog_turn_reroute(t);
}
