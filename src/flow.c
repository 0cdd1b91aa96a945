/* flow — the guided-submission engine (see flow.h). */
#include "dvcbot/flow.h"
#include "dvcbot/buf.h"
#include "dvcbot/clock.h"
#include "dvcbot/feedback.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ELLIPSIS "\xe2\x80\xa6"

struct flows {
    const struct flow_set *defs;
    struct stats *st;
};

/* One turn inside a flow: the state object lives in t->session. */
struct ctx {
    struct flows *fl;
    struct dialog_turn *t;
    cJSON *st;                  /* session.flow */
    const struct flow_def *def;
};

static void show_current(struct ctx *c, const char *note);

/* ===== State helpers ===== */

static long now_s(void)
{
    return (long)clock_now();
}

static long num(const cJSON *obj, const char *key, long fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? (long)v->valuedouble : fallback;
}

static const char *str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void set_num(cJSON *obj, const char *key, long v)
{
    cJSON *old = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsNumber(old)) {
        cJSON_SetNumberValue(old, (double)v);
        return;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    cJSON_AddNumberToObject(obj, key, (double)v);
}

static void set_str(cJSON *obj, const char *key, const char *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    cJSON_AddStringToObject(obj, key, v);
}

static size_t cur(const struct ctx *c)
{
    long i = num(c->st, "i", 0);
    return i < 0 ? 0 : (size_t)i > c->def->n_steps ? c->def->n_steps : (size_t)i;
}

static const struct flow_step *cur_step(const struct ctx *c)
{
    size_t i = cur(c);
    return i < c->def->n_steps ? &c->def->steps[i] : NULL;
}

static cJSON *answers(const struct ctx *c)
{
    cJSON *a = cJSON_GetObjectItemCaseSensitive(c->st, "a");
    return a ? a : cJSON_AddObjectToObject(c->st, "a");
}

static const char *answer(const struct ctx *c, const char *slot)
{
    return str(cJSON_GetObjectItemCaseSensitive(c->st, "a"), slot);
}

static bool prefilled(const struct ctx *c, const char *slot)
{
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(c->st, "pre"), *e;
    cJSON_ArrayForEach(e, pre)
        if (cJSON_IsString(e) && strcmp(e->valuestring, slot) == 0)
            return true;
    return false;
}

static void unmark_prefilled(struct ctx *c, const char *slot)
{
    cJSON *pre = cJSON_GetObjectItemCaseSensitive(c->st, "pre");
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, pre) {
        if (cJSON_IsString(e) && strcmp(e->valuestring, slot) == 0) {
            cJSON_DeleteItemFromArray(pre, i);
            return;
        }
        i++;
    }
}

static bool in_assist(const struct ctx *c)
{
    return str(c->st, "assist") != NULL;
}

/* The answer of the flow's first commune slot, or the assisted commune. */
static const char *flow_commune(const struct ctx *c)
{
    const char *assist = str(c->st, "assist");
    if (assist)
        return assist;
    for (size_t i = 0; i < c->def->n_steps; i++)
        if (c->def->steps[i].slot && c->def->steps[i].type == SLOT_COMMUNE)
            return answer(c, c->def->steps[i].slot);
    return NULL;
}

/* ===== Rendering ===== */

static void render(struct ctx *c, const char *name, const struct tpl_var *v, size_t n)
{
    dialog_turn_render(c->t, name, v, n);
}

/* "Label: value" lines of the answers given, in step order. */
static char *summary_text(const struct ctx *c)
{
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < c->def->n_steps; i++) {
        const struct flow_step *s = &c->def->steps[i];
        const char *v = s->slot ? answer(c, s->slot) : NULL;
        if (v)
            buf_printf(&b, "%s%s: %s", b.len ? "\n" : "", s->label, v);
    }
    return buf_steal(&b);
}

/* Labels of the answered slots, comma-separated (for "sửa <mục>"). */
static char *answered_labels(const struct ctx *c)
{
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < c->def->n_steps; i++) {
        const struct flow_step *s = &c->def->steps[i];
        if (s->slot && answer(c, s->slot))
            buf_printf(&b, "%s%s", b.len ? ", " : "", s->label);
    }
    return buf_steal(&b);
}

static void show_say(struct ctx *c, size_t i, const char *note)
{
    char n[24], total[24], next[32], back[32];
    snprintf(n, sizeof n, "%zu", i + 1);
    snprintf(total, sizeof total, "%zu", c->def->n_steps);
    snprintf(next, sizeof next, "f:next:%zu", i);
    if (i > 0)
        snprintf(back, sizeof back, "f:back:%zu", i);
    else
        back[0] = '\0';
    const struct tpl_var v[] = {
        {"n", n}, {"total", total}, {"text", c->def->steps[i].text}, {"next", next},
        {"back", back}, {"note", note ? note : ""},
    };
    render(c, "flow_say", v, sizeof v / sizeof v[0]);
}

/* Moves the template's own buttons out of r, so the caller can add its own
 * first; put_back appends them again. */
static void take_buttons(struct bot_reply *r, struct bot_reply *own)
{
    bot_reply_copy(own, r);
    for (size_t k = 0; k < r->n_buttons; k++) {
        free(r->buttons[k].label);
        free(r->buttons[k].payload);
    }
    r->n_buttons = 0;
}

static void put_back(struct bot_reply *r, struct bot_reply *own)
{
    for (size_t k = 0; k < own->n_buttons; k++)
        bot_reply_add_button(r, own->buttons[k].label, own->buttons[k].payload);
    bot_reply_clear(own);
}

/* Puts the option buttons first, the template's own buttons after them. */
static void add_option_buttons(struct bot_reply *r, const struct flow_step *s, size_t i)
{
    struct bot_reply own;
    take_buttons(r, &own);
    for (size_t k = 0; k < s->n_options; k++) {
        char payload[BOT_PAYLOAD_MAX + 1];
        snprintf(payload, sizeof payload, "f:opt:%zu:%zu", i, k);
        bot_reply_add_button(r, s->options[k], payload);
    }
    put_back(r, &own);
}

static void show_ask(struct ctx *c, size_t i, const char *note)
{
    const struct flow_step *s = &c->def->steps[i];
    const char *current = answer(c, s->slot);
    char n[24], total[24], keep[32] = "", skip[32] = "", back[32] = "";
    snprintf(n, sizeof n, "%zu", i + 1);
    snprintf(total, sizeof total, "%zu", c->def->n_steps);
    /* An empty payload hides the template's button. */
    if (current)
        snprintf(keep, sizeof keep, "f:keep:%zu", i);
    if (s->optional)
        snprintf(skip, sizeof skip, "f:skip:%zu", i);
    if (i > 0)
        snprintf(back, sizeof back, "f:back:%zu", i);
    const struct tpl_var v[] = {
        {"n", n}, {"total", total}, {"question", s->text}, {"note", note ? note : ""},
        {"current", current ? current : ""}, {"keep", keep}, {"skip", skip}, {"back", back},
    };
    struct bot_reply *r = dialog_turn_render(c->t, "flow_ask", v, sizeof v / sizeof v[0]);
    if (r && s->type == SLOT_CHOICE)
        add_option_buttons(r, s, i);
}

static void show_review(struct ctx *c, const char *note)
{
    char *summary = summary_text(c);
    const struct tpl_var v[] = {
        {"name", c->def->in->name}, {"summary", summary}, {"note", note ? note : ""},
    };
    render(c, "flow_review", v, sizeof v / sizeof v[0]);
    free(summary);
}

/* "Nguyễn Văn A, 01/02/1990, …6789": numbers shortened to their end. */
static char *offer_text(const struct ctx *c, const cJSON *offer)
{
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < c->def->n_steps; i++) {
        const struct flow_step *s = &c->def->steps[i];
        const char *v = s->slot ? str(offer, s->slot) : NULL;
        if (!v)
            continue;
        if (b.len)
            buf_puts(&b, ", ");
        size_t len = strlen(v);
        if ((s->type == SLOT_CCCD || s->type == SLOT_PHONE) && len > 4)
            buf_printf(&b, ELLIPSIS "%s", v + len - 4);
        else
            buf_puts(&b, v);
    }
    return buf_steal(&b);
}

static void show_current(struct ctx *c, const char *note)
{
    const cJSON *offer = cJSON_GetObjectItemCaseSensitive(c->st, "offer");
    if (offer) {
        char *saved = offer_text(c, offer);
        const struct tpl_var v = {"saved", saved};
        render(c, "profile_offer", &v, 1);
        free(saved);
        return;
    }
    size_t i = cur(c);
    if (i >= c->def->n_steps)
        show_review(c, note);
    else if (c->def->steps[i].slot)
        show_ask(c, i, note);
    else
        show_say(c, i, note);
}

/* ===== Moving ===== */

/* Skips questions already answered from the saved profile. */
static void skip_prefilled(struct ctx *c)
{
    size_t i = cur(c);
    while (i < c->def->n_steps && c->def->steps[i].slot && prefilled(c, c->def->steps[i].slot) &&
           answer(c, c->def->steps[i].slot))
        i++;
    set_num(c->st, "i", (long)i);
}

static void advance(struct ctx *c)
{
    long ret = num(c->st, "ret", -1);
    set_num(c->st, "f", 0);
    if (ret >= 0) {
        set_num(c->st, "i", ret);
        set_num(c->st, "ret", -1);
    } else {
        set_num(c->st, "i", (long)cur(c) + 1);
        skip_prefilled(c);
    }
    show_current(c, NULL);
}

static void go_back(struct ctx *c)
{
    long ret = num(c->st, "ret", -1);
    size_t i = cur(c);
    set_num(c->st, "f", 0);
    if (ret >= 0) {
        set_num(c->st, "i", ret); /* back out of an edit */
        set_num(c->st, "ret", -1);
    } else if (i > 0) {
        set_num(c->st, "i", (long)i - 1);
    }
    show_current(c, NULL);
}

static void store_answer(struct ctx *c, const char *slot, const char *value)
{
    cJSON *a = answers(c);
    cJSON_DeleteItemFromObjectCaseSensitive(a, slot);
    cJSON_AddStringToObject(a, slot, value);
    unmark_prefilled(c, slot);
}

static enum valid_code validate_answer(const struct flow_step *s, const char *text, char *out,
                                       size_t cap)
{
    time_t now = (time_t)clock_now();
    switch (s->type) {
    case SLOT_NAME:
        return validate_name(text, s->min, s->max, out, cap);
    case SLOT_DATE:
        return validate_date(text, s->when, now, out, cap);
    case SLOT_CCCD:
        return validate_cccd(text, now, out, cap);
    case SLOT_PHONE:
        return validate_phone(text, out, cap);
    case SLOT_COMMUNE:
    case SLOT_TEXT:
        return validate_text(text, s->min, s->max, out, cap);
    case SLOT_CHOICE: {
        int k = validate_option(text, s->options, s->n_options);
        if (k < 0)
            return VALID_OPTION;
        snprintf(out, cap, "%s", s->options[k]);
        return VALID_OK;
    }
    case SLOT_TYPE_COUNT:
        break;
    }
    return VALID_TEXT_CHARS;
}

/* Shows the current step under a note rendered from a template. */
static void show_with_note(struct ctx *c, const char *tpl_name, const struct tpl_var *v, size_t n)
{
    char *text = tpl_render_text(c->t->deps->tpl, tpl_name, v, n);
    struct buf note;
    buf_init(&note);
    buf_printf(&note, "%s\n\n", text ? text : "");
    free(text);
    show_current(c, note.data);
    buf_free(&note);
}

static void refuse(struct ctx *c, const struct flow_step *s, enum valid_code code)
{
    long fails = num(c->st, "f", 0) + 1;
    set_num(c->st, "f", fails);
    char name[TPL_NAME_MAX], min[16], max[16];
    snprintf(name, sizeof name, "flow_invalid_%s", validate_code_name(code));
    snprintf(min, sizeof min, "%u", s->min);
    snprintf(max, sizeof max, "%u", s->max);
    const struct tpl_var v[] = {{"min", min}, {"max", max}};
    show_with_note(c, name, v, 2);
    log_fmt(LOG_INFO, "flow answer refused", "\"procedure\":%s,\"slot\":%s,\"reason\":%s",
            log_q(c->def->in->id), log_q(s->slot), log_q(validate_code_name(code)));
    if (fails >= FLOW_MAX_FAILURES)
        render(c, "flow_stuck", NULL, 0);
}

static void take_answer(struct ctx *c, const char *text)
{
    const struct flow_step *s = cur_step(c);
    char out[VALIDATE_OUT_MAX];
    enum valid_code rc = validate_answer(s, text, out, sizeof out);
    if (rc != VALID_OK) {
        refuse(c, s, rc);
        return;
    }
    store_answer(c, s->slot, out);
    advance(c);
}

/* ===== Leaving ===== */

static void drop_flow(struct ctx *c, bool abandoned)
{
    if (abandoned)
        stats_flow_abandoned(c->fl->st, c->def->in->id, c->t->user_key);
    cJSON_DeleteItemFromObjectCaseSensitive(c->t->session, "flow");
    dialog_turn_set_mode(c->t, NULL);
}

static void cancel(struct ctx *c)
{
    const struct tpl_var v[] = {{"name", c->def->in->name}, {"id", c->def->in->id}};
    drop_flow(c, true);
    dialog_turn_render(c->t, "flow_cancelled", v, 2);
}

/* ===== Help, edit ===== */

static void help(struct ctx *c)
{
    const struct flow_step *s = cur_step(c);
    char *hint = NULL;
    if (s && s->hint) {
        hint = xstrdup(s->hint);
    } else {
        char name[TPL_NAME_MAX];
        snprintf(name, sizeof name, "flow_hint_%s", s && s->slot ? flow_slot_type_name(s->type) : "say");
        hint = tpl_render_text(c->t->deps->tpl, name, NULL, 0);
    }
    char *fields = answered_labels(c);
    const struct tpl_var v[] = {{"hint", hint ? hint : ""}, {"fields", fields}};
    render(c, "flow_help", v, 2);
    free(hint);
    free(fields);
}

static void edit_choose(struct ctx *c)
{
    struct bot_reply *r = dialog_turn_render(c->t, "flow_edit_choose", NULL, 0);
    if (!r)
        return;
    struct bot_reply own;
    take_buttons(r, &own);
    for (size_t i = 0; i < c->def->n_steps; i++) {
        const struct flow_step *s = &c->def->steps[i];
        if (!s->slot || !answer(c, s->slot))
            continue;
        char payload[BOT_PAYLOAD_MAX + 1];
        snprintf(payload, sizeof payload, "f:edit:%s", s->slot);
        bot_reply_add_button(r, s->label, payload);
    }
    put_back(r, &own);
}

static void edit_slot(struct ctx *c, int step)
{
    if (step < 0 || !answer(c, c->def->steps[step].slot)) {
        char *fields = answered_labels(c);
        const struct tpl_var v = {"fields", fields};
        render(c, "flow_edit_unknown", &v, 1);
        free(fields);
        show_current(c, NULL);
        return;
    }
    if (num(c->st, "ret", -1) < 0)
        set_num(c->st, "ret", (long)cur(c));
    set_num(c->st, "i", step);
    set_num(c->st, "f", 0);
    show_current(c, NULL);
}

/* ===== Finishing ===== */

static char *checklist_text(const struct procedure_info *p)
{
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < p->n_documents; i++)
        buf_printf(&b, "%s- %s", i ? "\n" : "", p->documents[i]);
    return buf_steal(&b);
}

/* Profile values among the answers (only when not assisting). */
static bool profile_values(const struct ctx *c, const char *values[PROFILE_FIELD_COUNT])
{
    bool any = false;
    memset(values, 0, sizeof(const char *) * PROFILE_FIELD_COUNT);
    for (size_t i = 0; !in_assist(c) && i < c->def->n_steps; i++) {
        const struct flow_step *s = &c->def->steps[i];
        if (s->slot && s->profile != PROFILE_NONE && answer(c, s->slot)) {
            values[s->profile] = answer(c, s->slot);
            any = true;
        }
    }
    return any;
}

static char *profile_labels(const struct ctx *c)
{
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < c->def->n_steps; i++) {
        const struct flow_step *s = &c->def->steps[i];
        if (s->slot && s->profile != PROFILE_NONE && answer(c, s->slot))
            buf_printf(&b, "%s%s", b.len ? ", " : "", s->label);
    }
    return buf_steal(&b);
}

static void render_done(struct ctx *c)
{
    const struct procedure_info *p = c->def->in->proc;
    char *checklist = checklist_text(p), *summary = summary_text(c);
    const struct tpl_var v[] = {
        {"name", c->def->in->name}, {"checklist", checklist}, {"portal_url", p->portal_url},
        {"fee", p->fee_text}, {"pay", p->fee_vnd != 0 ? "i:thanh_toan" : ""},
        {"assist", in_assist(c) ? "vol:start" : ""},
        {"household", in_assist(c) ? "hh:start" : ""},
    };
    render(c, "flow_done", v, sizeof v / sizeof v[0]);
    const struct tpl_var s = {"summary", summary};
    render(c, "flow_copy", &s, 1);
    free(checklist);
    free(summary);
}

/* Keeps what the consent and rating questions need in session.after. */
static cJSON *leave_after(struct ctx *c)
{
    cJSON *session = c->t->session;
    cJSON_DeleteItemFromObjectCaseSensitive(session, "after");
    cJSON *after = cJSON_AddObjectToObject(session, "after");
    const char *commune = flow_commune(c);
    cJSON_AddStringToObject(after, "id", c->def->in->id);
    cJSON_AddStringToObject(after, "commune", commune ? commune : "");
    return after;
}

static void ask_consent_or_rating(struct ctx *c, cJSON *after)
{
    const char *values[PROFILE_FIELD_COUNT];
    const char *pc = str(c->st, "pc");
    if (profile_values(c, values)) {
        if (pc && strcmp(pc, "yes") == 0) {
            if (profile_save(c->t->deps->store, c->t->user_key, values) != 0)
                log_msg(LOG_WARN, "profile not saved: redis unavailable");
        } else if (!pc || !*pc) {
            cJSON *save = cJSON_AddObjectToObject(after, "save");
            for (int f = 0; f < PROFILE_FIELD_COUNT; f++)
                if (values[f])
                    cJSON_AddStringToObject(save, profile_field_name((enum profile_field)f), values[f]);
            char *labels = profile_labels(c);
            const struct tpl_var v = {"fields", labels};
            render(c, "consent_ask", &v, 1);
            free(labels);
            return;
        }
    }
    feedback_ask_rating(c->t);
}

static void finish(struct ctx *c)
{
    long secs = now_s() - num(c->st, "t0", now_s());
    const char *commune = flow_commune(c);
    stats_flow_finished(c->fl->st, c->def->in->id, c->t->user_key, secs, commune);
    if (in_assist(c)) {
        stats_assist(c->fl->st, c->t->user_key, commune);
        cJSON_DeleteItemFromObjectCaseSensitive(c->t->session, "assist");
    }
    log_fmt(LOG_INFO, "flow finished", "\"procedure\":%s,\"seconds\":%ld", log_q(c->def->in->id),
            secs);
    render_done(c);
    cJSON *after = leave_after(c);
    ask_consent_or_rating(c, after);
    drop_flow(c, false);
}

/* ===== Buttons ===== */

/* "next:3" → true with *i = 3 when the prefix matches. */
static bool indexed(const char *arg, const char *prefix, size_t *i, const char **rest)
{
    size_t n = strlen(prefix);
    if (strncmp(arg, prefix, n) != 0)
        return false;
    char *end;
    unsigned long v = strtoul(arg + n, &end, 10);
    if (end == arg + n || (*end && *end != ':'))
        return false;
    *i = (size_t)v;
    if (rest)
        *rest = *end ? end + 1 : end;
    return true;
}

static void on_offer_button(struct ctx *c, bool yes)
{
    cJSON *offer = cJSON_DetachItemFromObjectCaseSensitive(c->st, "offer");
    cJSON *pre = cJSON_GetObjectItemCaseSensitive(c->st, "pre");
    if (!pre)
        pre = cJSON_AddArrayToObject(c->st, "pre");
    const cJSON *e;
    cJSON_ArrayForEach(e, offer) {
        if (!yes || !cJSON_IsString(e))
            continue;
        cJSON_DeleteItemFromObjectCaseSensitive(answers(c), e->string);
        cJSON_AddStringToObject(answers(c), e->string, e->valuestring);
        cJSON_AddItemToArray(pre, cJSON_CreateString(e->string));
    }
    cJSON_Delete(offer);
    skip_prefilled(c);
    show_current(c, NULL);
}

static void on_button(struct ctx *c, const char *arg)
{
    size_t i, at = cur(c);
    const char *rest;
    const struct flow_step *s = cur_step(c);
    bool offering = cJSON_GetObjectItemCaseSensitive(c->st, "offer") != NULL;
    if (offering && (strcmp(arg, "prof:yes") == 0 || strcmp(arg, "prof:no") == 0))
        on_offer_button(c, strcmp(arg, "prof:yes") == 0);
    else if (strcmp(arg, "cancel") == 0)
        cancel(c);
    else if (strcmp(arg, "help") == 0)
        help(c);
    else if (offering)
        show_current(c, NULL);
    else if (indexed(arg, "next:", &i, NULL) && i == at && s && !s->slot)
        advance(c);
    else if (indexed(arg, "back:", &i, NULL) && i == at)
        go_back(c);
    else if (indexed(arg, "keep:", &i, NULL) && i == at && s && s->slot && answer(c, s->slot))
        advance(c);
    else if (indexed(arg, "skip:", &i, NULL) && i == at && s && s->optional) {
        cJSON_DeleteItemFromObjectCaseSensitive(answers(c), s->slot);
        advance(c);
    } else if (indexed(arg, "opt:", &i, &rest) && i == at && s && s->type == SLOT_CHOICE) {
        unsigned long k = strtoul(rest, NULL, 10);
        if (*rest && k < s->n_options) {
            store_answer(c, s->slot, s->options[k]);
            advance(c);
        } else {
            show_current(c, NULL);
        }
    } else if (strcmp(arg, "done") == 0 && at >= c->def->n_steps)
        finish(c);
    else if (strcmp(arg, "edit") == 0)
        edit_choose(c);
    else if (strncmp(arg, "edit:", 5) == 0)
        edit_slot(c, flow_def_slot_step(c->def, arg + 5));
    else
        show_current(c, NULL); /* resume, review, or a stale button */
}

/* ===== Typed text ===== */

static void on_text(struct ctx *c, const char *text)
{
    char rest[128];
    enum flow_command cmd = flow_set_command(c->fl->defs, text, rest, sizeof rest);
    const struct flow_step *s = cur_step(c);
    bool offering = cJSON_GetObjectItemCaseSensitive(c->st, "offer") != NULL;
    switch (cmd) {
    case FLOW_CMD_CANCEL:
        cancel(c);
        return;
    case FLOW_CMD_MENU:
        drop_flow(c, true);
        dialog_reply_menu(c->t);
        return;
    case FLOW_CMD_HELP:
        help(c);
        return;
    case FLOW_CMD_BACK:
        if (!offering)
            go_back(c);
        else
            show_current(c, NULL);
        return;
    case FLOW_CMD_EDIT:
        if (offering)
            show_current(c, NULL);
        else if (*rest)
            edit_slot(c, flow_def_find_slot(c->def, rest));
        else
            edit_choose(c);
        return;
    case FLOW_CMD_NEXT:
        if (!offering && s && !s->slot) {
            advance(c);
            return;
        }
        break;
    default:
        break;
    }
    if (offering || !s || !s->slot) {
        show_with_note(c, "flow_use_buttons", NULL, 0);
        return;
    }
    take_answer(c, text);
}

/* ===== Handlers ===== */

static bool load_ctx(struct ctx *c, struct flows *fl, struct dialog_turn *t)
{
    c->fl = fl;
    c->t = t;
    c->st = cJSON_GetObjectItemCaseSensitive(t->session, "flow");
    const char *id = str(c->st, "id");
    c->def = id ? flow_set_find(fl->defs, id) : NULL;
    return cJSON_IsObject(c->st) && c->def;
}

/* Typed text where no answer is expected (an instruction step, the saved-data
 * offer) that the matcher reads as another question: the user moved on. */
static bool asks_something_else(const struct ctx *c, const char *text)
{
    const struct flow_step *s = cur_step(c);
    bool offering = cJSON_GetObjectItemCaseSensitive(c->st, "offer") != NULL;
    if (!offering && s && s->slot)
        return false;
    char rest[8];
    if (flow_set_command(c->fl->defs, text, rest, sizeof rest) != FLOW_CMD_NONE)
        return false;
    struct match_result m;
    matcher_classify(c->t->deps->matcher, text, strlen(text), &m);
    return strcmp(m.id, CATALOG_FALLBACK_ID) != 0 && strcmp(m.id, c->def->in->id) != 0;
}

/* True (after telling the user and dropping it) when the flow has been idle
 * longer than DVCBOT_FLOW_IDLE. */
static bool expire_if_idle(struct ctx *c, long now)
{
    if (now - num(c->st, "seen", now) <= (long)c->t->deps->cfg->flow_idle_s)
        return false;
    const struct tpl_var v[] = {{"name", c->def->in->name}, {"id", c->def->in->id}};
    drop_flow(c, true);
    dialog_turn_render(c->t, "flow_expired", v, 2);
    return true;
}

static bool on_mode(struct dialog_turn *t, void *ud)
{
    struct flows *fl = ud;
    struct ctx c;
    if (!load_ctx(&c, fl, t)) {
        cJSON_DeleteItemFromObjectCaseSensitive(t->session, "flow");
        dialog_turn_set_mode(t, NULL);
        return false;
    }
    long now = now_s();
    if (expire_if_idle(&c, now))
        return false; /* the message itself is answered as usual */
    set_num(c.st, "seen", now);
    stats_flow_touch(fl->st, t->user_key);
    const struct bot_msg *m = t->msg;
    if ((m->kind == BOT_MSG_BUTTON && strncmp(m->text, "f:", 2) != 0) ||
        (m->kind == BOT_MSG_TEXT && asks_something_else(&c, m->text))) {
        dialog_turn_set_mode(t, NULL); /* the user moved on: leave the flow */
        return false;
    }
    if (m->kind == BOT_MSG_BUTTON)
        on_button(&c, m->text + 2);
    else if (m->kind == BOT_MSG_TEXT)
        on_text(&c, m->text);
    else
        show_current(&c, NULL);
    dialog_turn_done(t);
    return true;
}

/* "Anh/chị đang làm dở: <procedure>, bước k/n — tiếp tục?" */
static void offer_resume(struct ctx *c)
{
    size_t i = cur(c);
    char n[24], total[24];
    snprintf(n, sizeof n, "%zu", i < c->def->n_steps ? i + 1 : c->def->n_steps);
    snprintf(total, sizeof total, "%zu", c->def->n_steps);
    const struct tpl_var v[] = {{"name", c->def->in->name}, {"n", n}, {"total", total}};
    render(c, "flow_resume", v, sizeof v / sizeof v[0]);
}

bool flows_filter(struct dialog_turn *t, void *ud)
{
    struct flows *fl = ud;
    const char *mode = dialog_turn_mode(t);
    struct ctx c;
    if (!dialog_is_start(t->msg) || !mode || strcmp(mode, FLOW_MODE) != 0 || !load_ctx(&c, fl, t))
        return false;
    long now = now_s();
    if (expire_if_idle(&c, now))
        return false; /* greeted as usual, after the notice */
    set_num(c.st, "seen", now);
    stats_flow_touch(fl->st, t->user_key);
    offer_resume(&c);
    dialog_turn_done(t);
    return true;
}

struct start {
    struct flows *fl;
    struct dialog_turn *t;
};

static void begin(struct ctx *c)
{
    char total[24];
    snprintf(total, sizeof total, "%zu", c->def->n_steps);
    const struct tpl_var v[] = {{"name", c->def->in->name}, {"total", total}};
    render(c, "flow_intro", v, 2);
    skip_prefilled(c);
    show_current(c, NULL);
}

static void on_profile(const struct profile *p, void *ud)
{
    struct start *s = ud;
    struct ctx c;
    if (!load_ctx(&c, s->fl, s->t)) {
        dialog_turn_done(s->t);
        free(s);
        return;
    }
    if (p) {
        set_str(c.st, "pc", p->consent == PROFILE_AGREED ? "yes" : p->consent == PROFILE_REFUSED ? "no" : "");
        cJSON *offer = cJSON_CreateObject();
        for (size_t i = 0; i < c.def->n_steps; i++) {
            const struct flow_step *st = &c.def->steps[i];
            if (st->slot && st->profile != PROFILE_NONE && p->values[st->profile])
                cJSON_AddStringToObject(offer, st->slot, p->values[st->profile]);
        }
        if (offer->child)
            cJSON_AddItemToObject(c.st, "offer", offer);
        else
            cJSON_Delete(offer);
    }
    begin(&c);
    dialog_turn_done(s->t);
    free(s);
}

static void on_start(struct dialog_turn *t, void *ud)
{
    struct flows *fl = ud;
    const struct flow_def *def = flow_set_find(fl->defs, t->arg);
    if (!def) {
        dialog_turn_reply(t, "help", NULL, 0);
        return;
    }
    if (dialog_turn_refuse_degraded(t))
        return;
    struct ctx c;
    if (load_ctx(&c, fl, t))
        stats_flow_abandoned(fl->st, c.def->in->id, t->user_key); /* the previous one */
    cJSON_DeleteItemFromObjectCaseSensitive(t->session, "flow");
    const cJSON *assist = cJSON_GetObjectItemCaseSensitive(t->session, "assist");
    const char *commune = str(assist, "commune");
    cJSON *st = cJSON_AddObjectToObject(t->session, "flow");
    cJSON_AddStringToObject(st, "id", def->in->id);
    cJSON_AddNumberToObject(st, "i", 0);
    cJSON_AddObjectToObject(st, "a");
    cJSON *pre = cJSON_AddArrayToObject(st, "pre");
    cJSON_AddNumberToObject(st, "f", 0);
    cJSON_AddNumberToObject(st, "t0", (double)now_s());
    cJSON_AddNumberToObject(st, "seen", (double)now_s());
    cJSON_AddNumberToObject(st, "ret", -1);
    cJSON_AddStringToObject(st, "pc", "");
    dialog_turn_set_mode(t, FLOW_MODE);
    stats_flow_started(fl->st, def->in->id, t->user_key);
    load_ctx(&c, fl, t);
    if (commune) {
        cJSON_AddStringToObject(st, "assist", commune);
        for (size_t i = 0; i < def->n_steps; i++) {
            const struct flow_step *s = &def->steps[i];
            if (s->slot && s->type == SLOT_COMMUNE) {
                store_answer(&c, s->slot, commune);
                cJSON_AddItemToArray(pre, cJSON_CreateString(s->slot));
            }
        }
        begin(&c);
        dialog_turn_done(t);
        return;
    }
    struct start *s = xcalloc(1, sizeof *s);
    s->fl = fl;
    s->t = t;
    if (profile_load(t->deps->store, t->user_key, on_profile, s) != 0)
        on_profile(NULL, s);
}

/* f:... outside a flow: the flow ended or expired. */
static void on_stale(struct dialog_turn *t, void *ud)
{
    (void)ud;
    if (t->replies.n == 0)
        dialog_turn_render(t, "flow_stale", NULL, 0);
    dialog_turn_done(t);
}

struct flows *flows_new(struct dialog *d, const struct flow_set *defs, struct stats *st)
{
    struct flows *fl = xcalloc(1, sizeof *fl);
    fl->defs = defs;
    fl->st = st;
    dialog_on_payload(d, "flow:", on_start, fl);
    dialog_on_payload(d, "f:", on_stale, fl);
    dialog_on_mode(d, FLOW_MODE, on_mode, fl);
    return fl;
}

void flows_free(struct flows *fl)
{
    free(fl);
}

const struct intent *flows_current(const struct flows *fl, const struct dialog_turn *t)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(t->session, "flow");
    const char *id = str(st, "id");
    const struct flow_def *def = id ? flow_set_find(fl->defs, id) : NULL;
    return def ? def->in : NULL;
}
