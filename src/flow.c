/* flow — the guided-submission engine: turns, moving, answers, leaving, the
 * dialog handlers (see flow.h); buttons in flow_button.c, typed text in
 * flow_typed.c. */
#include "dvcbot/flow.h"
#include "dvcbot/buf.h"
#include "dvcbot/clock.h"
#include "dvcbot/commune_reply.h"
#include "dvcbot/flow_button.h"
#include "dvcbot/flow_said.h"
#include "dvcbot/flow_turn.h"
#include "dvcbot/flow_typed.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"
#include "dvcbot/normalize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


/* ===== The turn ===== */

long flow_turn_now(void)
{
    return (long)clock_now();
}

void flow_turn_commit(struct flow_ctx *c)
{
    if (!c->ended) {
        cJSON_DeleteItemFromObjectCaseSensitive(c->t->session, "flow");
        cJSON_AddItemToObject(c->t->session, "flow", flow_state_encode(&c->s));
    }
    flow_state_clear(&c->s);
}

void flow_turn_drop(struct flow_ctx *c, bool abandoned)
{
    if (abandoned)
        stats_flow_abandoned(c->fl->st, c->s.def->in->id, c->t->user_key);
    cJSON_DeleteItemFromObjectCaseSensitive(c->t->session, "flow");
    dialog_turn_set_mode(c->t, NULL);
    c->ended = true;
}

const char *flow_turn_commune(const struct flow_ctx *c)
{
    if (c->s.assist)
        return c->s.assist;
    for (size_t i = 0; i < c->s.def->n_steps; i++)
        if (c->s.def->steps[i].slot && c->s.def->steps[i].type == SLOT_COMMUNE &&
            flow_state_applies(&c->s, i))
            return flow_state_answer(&c->s, i);
    return NULL;
}

const struct flow_step *flow_turn_step(const struct flow_ctx *c)
{
    return c->s.i < c->s.def->n_steps ? &c->s.def->steps[c->s.i] : NULL;
}

bool flow_turn_at_code(const struct flow_ctx *c)
{
    return c->s.i >= c->s.def->n_steps;
}

/* ===== Moving ===== */

/* The first step from `from` on that applies and is not a question already
 * answered from the saved profile; n_steps when none is left. */
static size_t next_step(const struct flow_ctx *c, size_t from)
{
    size_t i = from;
    while (i < c->s.def->n_steps &&
           (!flow_state_applies(&c->s, i) || flow_state_prefilled(&c->s, i)))
        i++;
    return i;
}

/* A question before `limit` that applies and still waits for its answer. */
static long unanswered_before(const struct flow_ctx *c, size_t limit)
{
    for (size_t i = 0; i < limit && i < c->s.def->n_steps; i++) {
        const struct flow_step *s = &c->s.def->steps[i];
        if (s->slot && !s->optional && flow_state_applies(&c->s, i) && !flow_state_answer(&c->s, i))
            return (long)i;
    }
    return -1;
}

static void reset_question(struct flow_ctx *c)
{
    c->s.fails = 0;
    c->s.n_cand = 0;
    c->s.detour = false;
}

/* "Đã sửa "<label>": <value>." for the answer just stored at an edit, as
 * a note (caller frees); NULL otherwise. */
static char *edited_note(struct flow_ctx *c)
{
    const struct flow_step *s = flow_turn_step(c);
    if (!c->edited || !s || !s->slot)
        return NULL;
    c->edited = false;
    const struct tpl_var v[] = {{"label", s->label},
                                {"value", flow_view_value(c, s, flow_state_answer(&c->s, c->s.i))}};
    char *text = flow_view_text(c, "flow_corrected", v, 2);
    char *note = flow_view_note(text);
    free(text);
    return note;
}

void flow_turn_show(struct flow_ctx *c, const char *note)
{
    if (flow_turn_at_code(c))
        flow_end_reached(c);
    else
        flow_view_current(c, note);
}

/* To the next step; after an edit, back where the user was (once every
 * question a changed branch added is answered). */
void flow_turn_advance(struct flow_ctx *c, const char *note)
{
    char *edited = note ? NULL : edited_note(c); /* back from "sửa địa chỉ": said so */
    if (edited)
        note = edited;
    reset_question(c);
    if (c->s.ret >= 0) {
        long missing = unanswered_before(c, (size_t)c->s.ret);
        if (missing >= 0) {
            c->s.i = (size_t)missing;
        } else {
            c->s.i = (size_t)c->s.ret;
            c->s.ret = -1;
        }
    } else {
        c->s.i = next_step(c, c->s.i + 1);
    }
    flow_turn_show(c, note);
    free(edited);
}

void flow_turn_back(struct flow_ctx *c)
{
    reset_question(c);
    if (c->s.ret >= 0) {
        c->s.i = (size_t)c->s.ret; /* back out of an edit */
        c->s.ret = -1;
    } else {
        size_t i = c->s.i;
        while (i > 0 && !flow_state_applies(&c->s, i - 1))
            i--;
        if (i > 0)
            c->s.i = i - 1;
    }
    flow_view_current(c, NULL);
}

void flow_turn_skip_prefilled(struct flow_ctx *c)
{
    c->s.i = next_step(c, c->s.i);
}

/* ===== Answers ===== */

enum valid_code flow_turn_validate(const struct flow_step *s, bool assist, const char *text,
                                   char *out, size_t cap)
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
        if (k < 0 && s->n_said) { /* "1 năm" for "12 tháng" */
            size_t n;
            char *f = norm_fold(text, strlen(text), &n);
            k = f ? flow_said_option(s, f, n) : -1;
            free(f);
        }
        if (k < 0 && assist) { /* "chính người dân": an option as a volunteer reads it */
            const char *shown[FLOW_MAX_OPTIONS];
            for (size_t o = 0; o < s->n_options; o++)
                shown[o] = s->assist_options[o] ? s->assist_options[o] : s->options[o];
            k = validate_option(text, shown, s->n_options);
        }
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

/* Counts a refused answer; after FLOW_MAX_FAILURES help is offered too. */
static void count_failure(struct flow_ctx *c, const char *why)
{
    c->s.fails++;
    log_fmt(LOG_INFO, "flow answer refused", "\"procedure\":%s,\"step\":%zu,\"reason\":%s",
            log_q(c->s.def->in->id), c->s.i, log_q(why));
    if (c->s.fails >= FLOW_MAX_FAILURES)
        dialog_turn_render(c->t, "flow_stuck", NULL, 0);
}

static void refuse(struct flow_ctx *c, const struct flow_step *s, enum valid_code code)
{
    char name[TPL_NAME_MAX], min[16], max[16];
    snprintf(name, sizeof name, "flow_invalid_%s", validate_code_name(code));
    snprintf(min, sizeof min, "%u", s->min);
    snprintf(max, sizeof max, "%u", s->max);
    const struct tpl_var v[] = {{"min", min}, {"max", max}};
    flow_view_with_note(c, name, v, 2);
    count_failure(c, validate_code_name(code));
}

void flow_turn_store(struct flow_ctx *c, const char *value)
{
    flow_state_set_answer(&c->s, c->s.i, value);
    c->edited = c->s.ret >= 0 && value; /* flow_turn_edit set ret */
}

/* "xã Hua La cũ nay là phường Chiềng Cơi." above the next step. */
void flow_turn_take_unit(struct flow_ctx *c, const struct commune_unit *u, const char *old)
{
    flow_turn_store(c, u->label);
    if (!old) {
        flow_turn_advance(c, NULL);
        return;
    }
    const struct tpl_var v[] = {{"old", old}, {"type", u->type}, {"name", u->label}};
    char *text = flow_view_text(c, "flow_commune_old", v, 3);
    char *note = flow_view_note(text);
    flow_turn_advance(c, note);
    free(note);
    free(text);
}

/* Nothing or several units fit: the likely ones as buttons (f:cm:<i>:<code>). */
static void offer_units(struct flow_ctx *c, const char *text, const struct commune_match *m)
{
    char typed[COMMUNE_REPLY_ECHO_BYTES];
    commune_reply_echo(text, typed);
    char *lines = commune_reply_choices(c->t->deps->tpl, m);
    const struct tpl_var v[] = {{"typed", typed}, {"choices", lines}};
    c->s.n_cand = 0;
    for (size_t k = 0; k < m->n_cands; k++)
        snprintf(c->s.cand[c->s.n_cand++], FLOW_CANDIDATE_MAX, "%s", m->cands[k]->code);
    flow_view_with_note(c, commune_reply_template(m), v, 2);
    free(lines);
    count_failure(c, m->found == COMMUNE_CHOOSE ? "commune_choose" : "commune_unknown");
}

static void take_commune(struct flow_ctx *c, const char *text)
{
    struct commune_match m;
    commune_list_match(c->fl->communes, text, &m);
    if (m.found == COMMUNE_FOUND || m.found == COMMUNE_FOUND_OLD)
        flow_turn_take_unit(c, m.unit, m.found == COMMUNE_FOUND_OLD ? m.old : NULL);
    else if (!flow_correct_previous(c, text)) /* "nhầm, là mẹ cháu" */
        offer_units(c, text, &m);
}

static bool has_non_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return true;
    return false;
}

void flow_turn_take_answer(struct flow_ctx *c, const char *text)
{
    const struct flow_step *s = flow_turn_step(c);
    if (s->type == SLOT_COMMUNE && commune_list_size(c->fl->communes) > 0) {
        take_commune(c, text);
        return;
    }
    char out[VALIDATE_OUT_MAX];
    enum valid_code rc = flow_turn_validate(s, c->s.assist != NULL, text, out, sizeof out);
    if (rc != VALID_OK && (s->type == SLOT_NAME || s->type == SLOT_TEXT ||
                           !flow_correct_previous(c, text))) {
        refuse(c, s, rc);
        return;
    }
    if (rc != VALID_OK)
        return; /* the question before corrected */
    flow_turn_store(c, out);
    bool implied = s->type == SLOT_DATE && validate_date_implied(text);
    bool unmarked = s->type == SLOT_NAME && !has_non_ascii(out);
    if (!implied && !unmarked) {
        flow_turn_advance(c, NULL);
        return;
    }
    /* "5/11", "hôm qua": said back in full; "lo van an": the portal wants the marks */
    const struct tpl_var v[] = {{"date", out}, {"name", out}};
    char *said = flow_view_text(c, implied ? "flow_date_year_taken" : "flow_name_no_marks",
                                &v[implied ? 0 : 1], 1);
    char *note = flow_view_note(said);
    flow_turn_advance(c, note);
    free(note);
    free(said);
}

/* ===== Readiness checks ===== */

void flow_turn_check_answered(struct flow_ctx *c, bool yes)
{
    if (yes) {
        flow_turn_advance(c, NULL);
        return;
    }
    c->s.detour = true;
    log_fmt(LOG_INFO, "flow not ready", "\"procedure\":%s,\"check\":%s",
            log_q(c->s.def->in->id), log_q(flow_turn_step(c)->check->name));
    flow_view_current(c, NULL);
}

/* A check's answer typed: 1 yes, 0 no, -1 neither. On its "no" screen
 * only going on is asked. */
int flow_turn_check_option(const struct flow_ctx *c, const char *text)
{
    const struct flow_check *chk = flow_turn_step(c)->check;
    const char *options[] = {chk->yes, chk->no};
    int k = validate_option(text, options, c->s.detour ? 1 : 2);
    return k < 0 ? -1 : k == 0;
}

/* ===== Leaving ===== */

void flow_turn_cancel(struct flow_ctx *c)
{
    const struct tpl_var v[] = {{"name", c->s.def->in->name}, {"id", c->s.def->in->id}};
    flow_undo_keep(c); /* "Tiếp tục hồ sơ vừa hủy" */
    flow_turn_drop(c, !c->s.finished);
    dialog_turn_render(c->t, "flow_cancelled", v, 2);
}

/* ===== Edit ===== */

void flow_turn_edit(struct flow_ctx *c, int step)
{
    if (step < 0 || !flow_state_applies(&c->s, (size_t)step) ||
        !flow_state_answer(&c->s, (size_t)step)) {
        flow_view_edit_unknown(c);
        flow_view_current(c, NULL);
        return;
    }
    if (c->s.ret < 0)
        c->s.ret = (long)c->s.i;
    c->s.i = (size_t)step;
    reset_question(c);
    flow_view_current(c, NULL);
}

/* ===== Handlers ===== */

bool flow_turn_load(struct flow_ctx *c, struct flows *fl, struct dialog_turn *t)
{
    memset(c, 0, sizeof *c);
    c->fl = fl;
    c->t = t;
    return flow_state_decode(cJSON_GetObjectItemCaseSensitive(t->session, "flow"), fl->defs,
                             &c->s) == 0;
}

/* True (after telling the user and dropping it) when the flow has been idle
 * longer than DVCBOT_FLOW_IDLE. */
static bool expire_if_idle(struct flow_ctx *c, long now)
{
    if (now - c->s.seen <= (long)c->t->deps->cfg->flow_idle_s)
        return false;
    const struct tpl_var v[] = {{"name", c->s.def->in->name}, {"id", c->s.def->in->id}};
    flow_turn_drop(c, !c->s.finished);
    dialog_turn_render(c->t, "flow_expired", v, 2);
    return true;
}

static bool on_mode(struct dialog_turn *t, void *ud)
{
    struct flows *fl = ud;
    struct flow_ctx c;
    if (!flow_turn_load(&c, fl, t)) {
        cJSON_DeleteItemFromObjectCaseSensitive(t->session, "flow");
        dialog_turn_set_mode(t, NULL);
        return false;
    }
    long now = flow_turn_now();
    const struct bot_msg *m = t->msg;
    if (expire_if_idle(&c, now)) {
        flow_turn_commit(&c);
        return false; /* the message itself is answered as usual */
    }
    c.s.seen = now;
    if (!c.s.finished)
        stats_flow_touch(fl->st, t->user_key);
    if (m->kind == BOT_MSG_TEXT)
        dialog_turn_press_typed(t); /* "1" under the resume offer: its button */
    if (m->kind == BOT_MSG_TEXT && flow_read_repeat(&c, m->text)) {
        flow_turn_commit(&c);
        dialog_turn_done(t);
        return true;
    }
    if (m->kind == BOT_MSG_BUTTON && strncmp(m->text, DIALOG_SCREEN_PAYLOAD,
                                             strlen(DIALOG_SCREEN_PAYLOAD)) == 0) {
        flow_turn_commit(&c);
        return false; /* a help screen, shown by the dialog; the flow stays */
    }
    if (flow_read_fact(&c)) {
        flow_turn_commit(&c);
        dialog_turn_done(t);
        return true;
    }
    bool handed = false;
    if (m->kind == BOT_MSG_TEXT && flow_end_code_early(&c, m->text, &handed)) {
        flow_turn_commit(&c);
        if (!handed)
            dialog_turn_done(t);
        return true;
    }
    if (flow_read_leaves(&c, m)) {
        flow_turn_commit(&c);
        dialog_turn_set_mode(t, NULL);
        return false;
    }
    if (flow_read_greets(&c, m)) {
        flow_view_resume(&c);
        flow_turn_commit(&c);
        dialog_turn_done(t);
        return true;
    }
    if (m->kind == BOT_MSG_BUTTON)
        flow_button_pressed(&c, m->text + 2);
    else if (m->kind == BOT_MSG_TEXT)
        handed = flow_typed_text(&c, m->text);
    else
        flow_turn_show(&c, NULL);
    flow_turn_commit(&c);
    if (!handed)
        dialog_turn_done(t);
    return true;
}

bool flows_filter(struct dialog_turn *t, void *ud)
{
    struct flows *fl = ud;
    const char *mode = dialog_turn_mode(t);
    bool running = mode && strcmp(mode, FLOW_MODE) == 0;
    struct flow_ctx c;
    flow_undo_prune(t->session, flow_turn_now());
    /* "/menu" (a start command, and a menu word) pauses a running flow as the
     * menu button does; with none running it greets as /start, never offering
     * a paused one back. */
    bool menu = dialog_is_start(t->msg) && t->msg->kind == BOT_MSG_TEXT &&
                flow_set_command_of(fl->defs, t->msg->text) == FLOW_CMD_MENU;
    if (menu && running && flow_turn_load(&c, fl, t)) {
        long now = flow_turn_now();
        bool idle = now - c.s.seen > (long)t->deps->cfg->flow_idle_s;
        if (!idle) {
            c.s.seen = now;
            flow_turn_commit(&c);
            dialog_turn_set_mode(t, NULL);
            dialog_reply_menu(t);
            dialog_turn_done(t);
            return true;
        }
        flow_state_clear(&c.s); /* expired: told below, as for /start */
        menu = false;
    }
    if ((menu && !running) || (running && !dialog_is_start(t->msg)) || (mode && !running) ||
        !cJSON_GetObjectItemCaseSensitive(t->session, "flow") || !flow_turn_load(&c, fl, t))
        return false;
    long now = flow_turn_now();
    if (!running) { /* paused: offered back when it holds the user's answers */
        if (c.s.finished || !flow_turn_has_own_answers(&c, now) ||
            !(dialog_is_start(t->msg) || flow_read_greets(&c, t->msg))) {
            flow_state_clear(&c.s);
            return false;
        }
        dialog_turn_set_mode(t, FLOW_MODE);
    }
    if (expire_if_idle(&c, now)) {
        flow_turn_commit(&c);
        return false; /* greeted as usual, after the notice */
    }
    c.s.seen = now;
    if (!c.s.finished)
        stats_flow_touch(fl->st, t->user_key);
    flow_view_resume(&c);
    flow_turn_commit(&c);
    dialog_turn_done(t);
    return true;
}

/* The matcher's score from which its reading of a line that is also a flow
 * command wins ("ok" is thanks): bare command words ("hủy", "tiếp tục",
 * "xong") otherwise get weak, scattered readings. */
#define FLOW_COMMAND_YIELDS_AT 0.9

/* A flow command typed where no mode runs ("tiếp tục", "hủy"), unless the
 * matcher is sure of something else: with a flow paused in the session
 * (the user asked about something else meanwhile), "tiếp tục" goes on where
 * it stopped, "quay lại" offers to, "hủy" ends it; with none, "nothing in
 * progress" and the menu. A lone "có" / "không" (no question waits for it)
 * offers to go on, and with nothing paused gets a plain "Dạ" and the menu
 * (the matcher read "có" as a lookup, "vâng" as tạm vắng). "menu" typed
 * gets the main menu (the matcher read it as the help text, which says
 * "Gõ menu để quay lại"). */
static bool on_paused_command(struct dialog_turn *t, void *ud)
{
    struct flows *fl = ud;
    enum flow_command cmd = flow_set_command_of(fl->defs, t->msg->text);
    bool sure = strcmp(t->match.id, CATALOG_FALLBACK_ID) != 0 &&
                t->match.score >= FLOW_COMMAND_YIELDS_AT;
    bool yes_no = cmd == FLOW_CMD_YES || cmd == FLOW_CMD_NO;
    if (cmd == FLOW_CMD_MENU && !dialog_turn_mode(t)) { /* "menu" typed: the main menu */
        dialog_reply_menu(t);
        dialog_turn_done(t);
        return true;
    }
    if (dialog_turn_mode(t) || sure ||
        (cmd != FLOW_CMD_CANCEL && cmd != FLOW_CMD_BACK && cmd != FLOW_CMD_NEXT && !yes_no))
        return false;
    struct flow_ctx c;
    if (!flow_turn_load(&c, fl, t)) {
        bool again = cmd == FLOW_CMD_NEXT || cmd == FLOW_CMD_BACK; /* right after "hủy" */
        if (!again || !flow_undo_restore(fl, t))
            dialog_turn_render(t, yes_no ? "yes_no_alone" : "flow_none", NULL, 0);
        dialog_turn_done(t);
        return true;
    }
    long now = flow_turn_now();
    if (!expire_if_idle(&c, now)) {
        c.s.seen = now;
        if (cmd == FLOW_CMD_CANCEL) {
            flow_turn_cancel(&c);
        } else {
            dialog_turn_set_mode(t, FLOW_MODE);
            if (cmd == FLOW_CMD_NEXT)
                flow_view_current(&c, NULL);
            else
                flow_view_resume(&c);
        }
    }
    flow_turn_commit(&c);
    dialog_turn_done(t);
    return true;
}

/* A typed line about a procedure (dialog_on_text, never takes the turn):
 * what it already answers of the procedure's flow is noted for its start
 * (flow_said.h), replacing the note of an earlier one. */
static bool note_request(struct dialog_turn *t, void *ud)
{
    struct flows *fl = ud;
    const char *id = t->match.procedure ? t->match.procedure : t->match.id;
    const struct flow_def *def = t->line && id ? flow_set_find(fl->defs, id) : NULL;
    flow_said_note(t->session, def, t->line);
    return false;
}

void flow_turn_begin(struct flow_ctx *c)
{
    flow_view_intro(c);
    if (c->said)
        flow_view_said(c, c->said);
    if (!c->s.offering)
        flow_turn_skip_prefilled(c);
    flow_turn_show(c, NULL);
}

struct flows *flows_new(struct dialog *d, const struct flow_set *defs,
                        const struct commune_list *communes, struct stats *st)
{
    struct flows *fl = xcalloc(1, sizeof *fl);
    fl->defs = defs;
    fl->communes = communes;
    fl->st = st;
    dialog_on_payload(d, "flow:", flow_start, fl);
    dialog_on_payload(d, "f:undo", flow_undo_pressed, fl);
    dialog_on_payload(d, "f:", flow_stale, fl);
    dialog_on_mode(d, FLOW_MODE, on_mode, fl);
    dialog_on_text(d, note_request, fl);
    dialog_on_text(d, on_paused_command, fl);
    return fl;
}

void flows_on_fact_question(struct flows *fl, flows_fact_fn fn, void *ud)
{
    fl->fact = fn;
    fl->fact_ud = ud;
}

void flows_free(struct flows *fl)
{
    free(fl);
}

const struct intent *flows_current(const struct flows *fl, const struct dialog_turn *t)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(t->session, "flow");
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "id"));
    const struct flow_def *def = id ? flow_set_find(fl->defs, id) : NULL;
    return def ? def->in : NULL;
}
