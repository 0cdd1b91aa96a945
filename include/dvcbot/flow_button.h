/* flow_button — a flow's own buttons ("f:<arg>") pressed while it runs:
 * the saved-data offer (prof:yes / prof:no), cancel, help, edit, "để sau"
 * at the code step, and the buttons that carry their step's index (next,
 * back, yes / no of a check, keep, skip, an option, a commune). A button
 * of another step (an old message) shows where the flow is. Works on the
 * turn's decoded state (flow_turn.h); owns nothing, frees nothing. */
#ifndef DVCBOT_FLOW_BUTTON_H
#define DVCBOT_FLOW_BUTTON_H

#include "dvcbot/flow_turn.h"

#include <stdbool.h>

/* arg: the payload after "f:". Renders the reply into the turn. */
void flow_button_pressed(struct flow_ctx *c, const char *arg);
/* The saved-data offer answered (yes: take the saved answers); then the
 * first step still to ask, or the code step. Also for "có" / "không" typed. */
void flow_button_offer(struct flow_ctx *c, bool yes);

#endif
