/* flow — the guided-submission engine: walks a user through a procedure's
 * flow (flowdef.h) the way the real submission on dichvucong.gov.vn goes:
 * the readiness checks (a VNeID level-2 account, a photo of the key
 * document; "no" shows how to get there), the few questions the portal's
 * form cannot fill from VNeID (each saying on which screen it is needed),
 * every portal screen up to "Nộp hồ sơ" and the payment (the procedure's own
 * page as a link, the answers to type shown on their screen), and the
 * closing step "Đã nộp xong? Gõ mã hồ sơ" (flow_end.c).
 *
 * Started by the button "flow:<procedure id>" (the procedure summary offers it
 * whether the user typed a question or tapped the procedure). While it runs
 * the session's mode is "flow" and its state is session.flow (flow_state.h),
 * so a flow survives a restart; after DVCBOT_FLOW_IDLE without a message it
 * has expired and the user is told so on their next message.
 *
 * Buttons (payload <= 64 bytes): f:next:<i>, f:back:<i>, f:opt:<i>:<k>,
 * f:keep:<i>, f:skip:<i>, f:yes:<i>, f:no:<i> (checks), f:cm:<i>:<commune
 * code> (carrying the step index, so a double tap or an old message cannot
 * skip a step), f:prof:yes|no, f:edit, f:edit:<slot>, f:help, f:resume,
 * f:cancel, f:nocode, f:undo (after a cancel, FLOW_UNDO_S). Typed commands (intents/_flow.json): quay lại, sửa
 * <mục>, hủy/thoát, trợ giúp, menu, xong. /start (a Zalo follow, the web
 * chat page opening) does not drop a running flow: it offers to go on
 * (flow_resume: f:resume, f:cancel, menu). The menu typed ("menu", "/menu",
 * "quay lại menu") pauses the flow and shows the main menu, as the "Menu
 * chính" button does; so do any other button but a help screen's (r:) and, where no answer is
 * expected (an instruction, a check, the saved-data offer), a typed line the
 * matcher reads as another question (the flow then counts as abandoned when
 * the next one starts or the sweep finds it idle). A question about one fact
 * ("phí bao nhiêu", "cần giấy tờ gì") of the flow's procedure or of one it
 * names does not leave: its answer is shown above the step, which stays
 * (flows_on_fact_question); where an answer is expected, only a line that
 * asks counts, so "phí bao nhiêu" is never kept as a child's name. A flow
 * left that way stays paused in the session: typed later, "tiếp tục" goes
 * back to its step, "quay lại" offers to, "hủy"/"thôi" ends it; with no
 * flow at all those words get "nothing in progress" and the menu.
 *
 * A line that answers the question before (a choice or a date: "nhầm
 * rồi, bé gái" at the next question) changes that answer, said above the
 * step that stays (flow_correct.c); "sai rồi", "nhầm rồi" go back.
 *
 * A commune question takes a commune or ward of the 2025 list
 * (commune_list.h): an old name is mapped to the new one ("xã Hua La cũ nay
 * là phường Chiềng Cơi"), anything else gets the likely units as buttons.
 *
 * Reaching the code step counts the flow finished; the code typed there is
 * timed (stats_record_code_given) and followed through the lookup's owner
 * check, then consent to keep the answers (profile.h, asked once) and the
 * rating (feedback.h). Events and durations go to stats.h.
 *
 * flows_new registers the handlers; the struct holds only pointers and is
 * freed by flows_free after the dialog has no turn left. */
#ifndef DVCBOT_FLOW_H
#define DVCBOT_FLOW_H

#include "dvcbot/dialog.h"
#include "dvcbot/commune_list.h"
#include "dvcbot/flowdef.h"
#include "dvcbot/stats.h"

#define FLOW_MAX_FAILURES 3
#define FLOW_MODE "flow"
/* A cancelled flow ("hủy" typed by mistake) can be taken up again this long
 * ("Tiếp tục hồ sơ vừa hủy", f:undo, or "tiếp tục" typed): its answers wait
 * in the session under FLOW_UNDO_KEY, removed at the user's first message
 * after (flow_undo.c). Replies say it as {{flow_undo}}. */
#define FLOW_UNDO_S 1800
#define FLOW_UNDO_KEY "fu"

/* A volunteer's flow set aside while they assist a resident (flow_hold.c):
 * session.flow moved here, brought back when assisting ends. */
#define FLOW_HELD_KEY "fh"

struct flows;

struct flows *flows_new(struct dialog *d, const struct flow_set *defs,
                        const struct commune_list *communes, struct stats *st);
void flows_free(struct flows *f);

/* A dialog_on_message filter (ud = the struct flows): /start while a flow
 * runs is answered with the offer to go on, "/menu" with the main menu, the
 * flow paused (the turn is taken); an
 * expired flow is dropped and the user told, then greeted as usual. A flow
 * paused with the user's answers (they asked about something else) is
 * offered back the same way on /start or a typed greeting. The caller
 * registers it, so it can order it after the hand-off's staff filter. */
bool flows_filter(struct dialog_turn *t, void *ud);

/* A volunteer starts assisting a resident (volunteer.h): their unfinished
 * flow with answers they gave (running or paused) is set aside under
 * FLOW_HELD_KEY, so the resident's flow does not replace it; one at a time.
 * It counts abandoned in the stats until it comes back (flows_unhold), so
 * one that never does is abandoned, as an idle flow is. Returns its
 * procedure, or NULL when nothing was set aside. */
const struct intent *flows_hold(struct flows *fl, struct dialog_turn *t);
/* Assisting ends: the flow set aside is back in the session, paused (not
 * running: "tiếp tục", f:resume and /start go on with it), unless an
 * unfinished flow is there (a resident's left half-done: it waits for the
 * next end); its abandonment is taken back (stats_flow_undone). One set
 * aside longer than DVCBOT_FLOW_IDLE is dropped instead, staying abandoned,
 * and the user told (flow_expired). Returns its procedure, or NULL when none
 * came back. */
const struct intent *flows_unhold(struct flows *fl, struct dialog_turn *t);

/* Reads a typed line in a flow (t->match and t->line set) as a question
 * about one fact of procedure in or of one the line names: returns that
 * fact as text (caller frees), or NULL. With answer_expected (a question
 * step, the code step) only a line that asks counts. */
typedef char *(*flows_fact_fn)(const struct dialog_turn *t, const struct intent *in,
                               bool answer_expected, void *ud);
/* Sets the reader of fact questions (the follow-up module's); without one
 * such a line is read as before (an answer, or leaving the flow). */
void flows_on_fact_question(struct flows *f, flows_fact_fn fn, void *ud);

/* The procedure of the flow in the user's session (running or paused), or
 * NULL; for hand-off context. */
const struct intent *flows_current(const struct flows *f, const struct dialog_turn *t);

/* The lookup's hook (lookup_on_followed): the user now follows code. When
 * that is the code their flow ended with, the consent question or the
 * rating follows. */
void flows_followed(struct dialog_turn *t, const char *code, void *ud);

#endif
