/* flow_turn — one turn inside a guided flow, shared by the flow engine's
 * files: flow.c (handlers, moving between steps, answers), flow_button.c and
 * flow_typed.c (what a press or a typed line does), flow_view.c (what the
 * user sees) and flow_end.c (the closing dossier-code step). Not for other
 * modules: they use flow.h.
 *
 * A turn decodes session.flow once into c->s (flow_state.h), works on it and
 * flow_turn_commit writes it back, unless the flow ended during the turn
 * (flow_turn_drop removed it). */
#ifndef DVCBOT_FLOW_TURN_H
#define DVCBOT_FLOW_TURN_H

#include "dvcbot/commune_list.h"
#include "dvcbot/dialog.h"
#include "dvcbot/flow.h"
#include "dvcbot/flow_state.h"
#include "dvcbot/stats.h"

struct flows {
    const struct flow_set *defs;
    const struct commune_list *communes;
    struct stats *st;
    flows_fact_fn fact; /* flows_on_fact_question; NULL: none */
    void *fact_ud;
};

struct flow_ctx {
    struct flows *fl;
    struct dialog_turn *t;
    struct flow_state s;
    bool ended;                 /* the flow left the session during this turn */
    uint32_t said;              /* a starting flow: steps the request answered (flow_said.h) */
    bool edited;                /* an answer changed by "sửa <mục>" was just stored */
};

/* Writes c->s back to session.flow (unless ended) and frees it. */
void flow_turn_commit(struct flow_ctx *c);
/* Ends the flow: session.flow and the mode go; abandoned flows are counted. */
void flow_turn_drop(struct flow_ctx *c, bool abandoned);
long flow_turn_now(void);

/* Decodes t's session.flow into c (false: no flow there, or one that
 * cannot be read). */
bool flow_turn_load(struct flow_ctx *c, struct flows *fl, struct dialog_turn *t);
/* Shows a flow just started: its intro, the answers its request gave
 * (c->said), then its first step (past the answers filled in beforehand),
 * or the saved-data offer. */
void flow_turn_begin(struct flow_ctx *c);

/* The commune the flow is about: the assisted resident's, or the answer of
 * its first commune question (NULL when none). */
const char *flow_turn_commune(const struct flow_ctx *c);

/* The step the flow is at; NULL at the closing code step. */
const struct flow_step *flow_turn_step(const struct flow_ctx *c);
/* The answer typed at question s, checked by its type's validator; the
 * kept form in out. assist: a volunteer types, who may name a choice's
 * option as it is shown to them (flow_view_value). */
enum valid_code flow_turn_validate(const struct flow_step *s, bool assist, const char *text,
                                   char *out, size_t cap);
/* A check's answer typed: 1 yes, 0 no, -1 neither. */
int flow_turn_check_option(const struct flow_ctx *c, const char *text);

/* ===== flow.c: moving, answers, leaving (for flow_button.c, flow_typed.c) ===== */
/* At the closing code step (past the last step). */
bool flow_turn_at_code(const struct flow_ctx *c);
/* Shows the current step under note (may be NULL), or at the code step
 * counts the flow finished and asks for the code. */
void flow_turn_show(struct flow_ctx *c, const char *note);
/* To the next step that applies and was not filled in beforehand; after an
 * edit, back where the user was (once every question a changed branch
 * added is answered), a note saying what was changed. Shows it. */
void flow_turn_advance(struct flow_ctx *c, const char *note);
/* One step back (or out of an edit), shown. */
void flow_turn_back(struct flow_ctx *c);
/* Past the questions answered from the saved profile (not shown). */
void flow_turn_skip_prefilled(struct flow_ctx *c);
/* Stores value (copied; NULL: skipped) as the current question's answer. */
void flow_turn_store(struct flow_ctx *c, const char *value);
/* Stores a commune unit as the answer and advances; old: the name typed
 * for a unit since merged ("xã Hua La cũ nay là…" noted), or NULL. */
void flow_turn_take_unit(struct flow_ctx *c, const struct commune_unit *u, const char *old);
/* Text typed at a question: validated and stored (then advances), or
 * refused with the reason, or taken as a correction of the question before. */
void flow_turn_take_answer(struct flow_ctx *c, const char *text);
/* A check answered: yes goes on, no shows its "not ready" screen. */
void flow_turn_check_answered(struct flow_ctx *c, bool yes);
/* "Hủy": the flow kept for undo, dropped (counted abandoned unless
 * finished), "đã hủy" shown. */
void flow_turn_cancel(struct flow_ctx *c);
/* "Sửa <mục>": to question step (its answer shown to change), to come back
 * after; an unknown or unanswered one says so. */
void flow_turn_edit(struct flow_ctx *c, int step);

/* ===== flow_read.c ===== */
/* A question about one fact ("phí bao nhiêu") of the flow's procedure or of
 * one the line names: its answer shown above the step, which stays (true). */
bool flow_read_fact(struct flow_ctx *c);
/* Another module's button, or a typed request for something else: the flow
 * stays in the session, the mode goes (the caller routes the message). */
bool flow_read_leaves(struct flow_ctx *c, const struct bot_msg *m);
/* A greeting typed in the middle ("chào em" coming back the next day). */
bool flow_read_greets(struct flow_ctx *c, const struct bot_msg *m);
/* An answer typed (text) was taken: noted (hashed) for flow_read_repeat. */
void flow_read_note_typed(struct flow_ctx *c, const char *text);
/* The answer taken last, sent again within FLOW_REPEAT_S (a weak network:
 * the app or the user sends it twice) where it answers nothing: the step
 * shown again under "đã nhận rồi" (true), instead of "Chưa đọc được ngày"
 * or, at an instruction, leaving the flow for the commune's answer. Not a
 * number typed alone, a command, or an answer to this step. */
#define FLOW_REPEAT_S 600
#define FLOW_TYPED_FOLD_MAX 512
bool flow_read_repeat(struct flow_ctx *c, const char *text);

/* ===== flow_start.c ===== */

/* dialog_on_payload "flow:<procedure id>" (ud: the struct flows): starts
 * that flow, counting a running one abandoned; offers the user's saved
 * answers (profile.h, loaded asynchronously) or fills a volunteer's
 * resident's commune. Calls done. An unfinished flow (running or paused)
 * with answers the user gave is not thrown away: the same procedure goes on
 * where it stopped, another one asks first (flow_view_switch_ask); with
 * FLOW_START_FRESH after the id, the new flow starts anyway. */
#define FLOW_START_FRESH ":new"
/* Answers the user typed or chose in the unfinished flow of c (not those
 * filled in beforehand), within its idle time at now. */
bool flow_turn_has_own_answers(const struct flow_ctx *c, long now);
void flow_start(struct dialog_turn *t, void *ud);
/* dialog_on_payload "f:" outside a flow: it ended or expired ("đã kết
 * thúc"), or it waits in the session (paused for a question): it goes on
 * where it stopped. */
void flow_stale(struct dialog_turn *t, void *ud);

/* ===== flow_view.c ===== */

/* Shows where the flow is (saved-data offer, check, its "no" screen,
 * question, instruction, code step), under note (may be NULL). */
void flow_view_current(struct flow_ctx *c, const char *note);
/* An answer as it is shown: a choice's option as a volunteer reads it in a
 * flow run for a resident ("Chính người dân"), else value itself. */
const char *flow_view_value(const struct flow_ctx *c, const struct flow_step *s, const char *value);
/* text as a note above a step: followed by a blank line (caller frees). */
char *flow_view_note(const char *text);
/* The same under a note rendered from a template. */
void flow_view_with_note(struct flow_ctx *c, const char *tpl_name, const struct tpl_var *v, size_t n);
/* Renders a template into the turn's replies; in a flow a volunteer runs
 * for a resident, its variant "<name>_assist" when templates/ has one
 * ("Người dân theo dõi hồ sơ…" instead of "Tôi sẽ nhắn anh/chị…"). */
#define FLOW_VIEW_ASSIST_SUFFIX "_assist"
struct bot_reply *flow_view_render(struct flow_ctx *c, const char *tpl_name, const struct tpl_var *v,
                                   size_t n);
/* Renders a template (or its variant, as flow_view_render) into a fresh
 * string ("" when missing; caller frees). */
char *flow_view_text(const struct flow_ctx *c, const char *tpl_name, const struct tpl_var *v,
                     size_t n);
void flow_view_intro(struct flow_ctx *c);
/* Under the intro: the questions (bit k: step k) the line that brought
 * the procedure answered, with a button to choose again. */
void flow_view_said(struct flow_ctx *c, uint32_t steps);
void flow_view_help(struct flow_ctx *c);
void flow_view_edit_choose(struct flow_ctx *c);
void flow_view_edit_unknown(struct flow_ctx *c);
void flow_view_resume(struct flow_ctx *c);
/* Another procedure's flow asked for while c has answers: go on with c
 * (f:resume) or leave it for next ("flow:<id>" FLOW_START_FRESH)? */
void flow_view_switch_ask(struct flow_ctx *c, const struct intent *next);
/* Labels of the answered questions that apply, comma-separated (caller frees). */
char *flow_view_answered_labels(const struct flow_ctx *c);
/* The procedure's own page on the portal, or the portal's search for its
 * name (caller frees). */
char *flow_view_portal_link(const struct flow_ctx *c);

/* ===== flow_correct.c ===== */
/* A typed line that is no answer to the current question: when, without
 * words like "nhầm rồi", it answers the question before (a choice or a
 * date) otherwise than it was answered, that answer changes, a note says
 * so above the current step (or the step its new branch needs). Returns
 * false, touching nothing, otherwise. */
bool flow_correct_previous(struct flow_ctx *c, const char *text);

/* ===== flow_undo.c ===== */
/* Keeps c's flow, being cancelled, for FLOW_UNDO_S (replacing one kept
 * before). */
void flow_undo_keep(struct flow_ctx *c);
/* Removes the kept flow once FLOW_UNDO_S has passed at now. */
void flow_undo_prune(cJSON *session, long now);
/* Removes the kept flow (another flow starts). */
void flow_undo_forget(cJSON *session);
/* The kept flow, still fresh, back in the session and running: its step
 * shown under "Đã mở lại…" (flow_undone); true. False, the copy gone,
 * when none is kept or it is too old. Does not call done. */
bool flow_undo_restore(struct flows *fl, struct dialog_turn *t);
/* dialog_on_payload "f:undo" outside a flow (ud: the struct flows): the
 * kept flow back, or flow_undo_gone. Calls done. */
void flow_undo_pressed(struct dialog_turn *t, void *ud);

/* ===== flow_end.c ===== */

/* The last portal screen is done: counts the flow finished (once) and asks
 * for the dossier code. */
void flow_end_reached(struct flow_ctx *c);
/* Text typed at the code step. Returns true when the turn was handed to the
 * lookup (it finishes the turn), false when the caller still must. */
bool flow_end_code_typed(struct flow_ctx *c, const char *text);
/* A dossier code typed at an instruction ("mã hồ sơ 000.00…" while the
 * payment screen is explained: the user has submitted): the flow counts
 * finished and ends with it as at the code step; *handed as
 * flow_end_code_typed returns. False, touching nothing, for anything else. */
bool flow_end_code_early(struct flow_ctx *c, const char *text, bool *handed);
/* "Để sau": the flow ends without a code. */
void flow_end_without_code(struct flow_ctx *c);
/* The code step as the user sees it. */
void flow_end_view(struct flow_ctx *c, const char *note);

#endif
