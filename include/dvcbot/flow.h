/* flow — the guided-submission engine: walks a user through a procedure's
 * flow (flowdef.h), step by step, until a summary they can copy into the
 * portal form.
 *
 * Started by the button "flow:<procedure id>" (the procedure summary offers it
 * whether the user typed a question or tapped the procedure). While it runs
 * the session's mode is "flow" and its state is session.flow:
 *   {"id", "i": current step (n = review), "a": {slot: answer}, "pre": [slots
 *    filled from the saved profile], "f": failures on this question, "t0":
 *    start, "seen": last activity (unix s), "ret": step to return to after an
 *    edit or -1, "pc": profile consent at start ("yes"|"no"|""), "offer":
 *    {slot: saved value} while the one-tap default is on offer, "assist":
 *    resident's commune when a volunteer runs it}.
 * So a flow survives a restart; after DVCBOT_FLOW_IDLE without a message it
 * has expired and the user is told so on their next message.
 *
 * Buttons (payload <= 64 bytes): f:next:<i>, f:back:<i>, f:opt:<i>:<k>,
 * f:keep:<i>, f:skip:<i> (carrying the step index, so a double tap or an old
 * message cannot skip a step), f:prof:yes|no, f:done, f:edit, f:edit:<slot>,
 * f:review, f:help, f:resume, f:cancel. Typed commands (intents/_flow.json):
 * quay lại, sửa <mục>, hủy/thoát, trợ giúp, menu, xong. /start (and /menu, a
 * Zalo follow, the web chat page opening) does not drop a running flow: it
 * offers to go on (flow_resume: f:resume, f:cancel, menu). Typed menu leaves
 * the flow; so do any other button and, where no answer is expected (an
 * instruction step, the saved-data offer), a typed line the matcher reads as
 * another question (the flow then counts as abandoned when the next one
 * starts or the sweep finds it idle).
 *
 * At the end: the documents to prepare, the answers formatted for the portal
 * form, the portal link, the fee and a payment button (i:thanh_toan) when the
 * fee is not zero; then, once, consent to keep the answers (profile.h), then
 * the rating (feedback.h). Events and durations go to stats.h.
 *
 * flows_new registers the handlers; the struct holds only pointers and is
 * freed by flows_free after the dialog has no turn left. */
#ifndef DVCBOT_FLOW_H
#define DVCBOT_FLOW_H

#include "dvcbot/dialog.h"
#include "dvcbot/flowdef.h"
#include "dvcbot/stats.h"

#define FLOW_MAX_FAILURES 3
#define FLOW_MODE "flow"

struct flows;

struct flows *flows_new(struct dialog *d, const struct flow_set *defs, struct stats *st);
void flows_free(struct flows *f);

/* A dialog_on_message filter (ud = the struct flows): /start and /menu while
 * a flow runs are answered with the offer to go on (the turn is taken); an
 * expired flow is dropped and the user told, then greeted as usual. The
 * caller registers it, so it can order it after the hand-off's staff filter. */
bool flows_filter(struct dialog_turn *t, void *ud);

/* The procedure of the flow in the user's session (running or paused), or
 * NULL; for hand-off context. */
const struct intent *flows_current(const struct flows *f, const struct dialog_turn *t);

#endif
