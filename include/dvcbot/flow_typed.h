/* flow_typed — a line typed while a flow runs: its commands (hủy, menu,
 * trợ giúp, quay lại, sửa <mục>), "có" / "không" at the saved-data offer or
 * at a check, "tiếp tục" at an instruction, the answer to the question, or
 * the dossier code at the code step. Works on the turn's decoded state
 * (flow_turn.h); owns nothing, frees nothing. */
#ifndef DVCBOT_FLOW_TYPED_H
#define DVCBOT_FLOW_TYPED_H

#include "dvcbot/flow_turn.h"

#include <stdbool.h>

/* Renders the reply into the turn. Returns true when the turn was handed
 * on (the code typed went to the lookup, which finishes the turn), false
 * when the caller still must. */
bool flow_typed_text(struct flow_ctx *c, const char *text);

#endif
