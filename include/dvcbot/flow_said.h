/* flow_said — a choice's option said in the user's own words: the step's
 * "said" phrases (intents/<id>.json, one list per option, folded, matched
 * as whole words). Two uses:
 *  - an answer typed at the question: "1 năm" at "Đóng cho bao nhiêu
 *    tháng?" is "12 tháng";
 *  - the line that brought the procedure: "làm lại căn cước bị mất" has
 *    already answered "Anh/chị cần làm gì?" with "Làm lại (mất thẻ)". The
 *    typed line's answers are noted in the session (FLOW_SAID_KEY:
 *    {"p": procedure id, "a": {slot: option index}}, replaced by the next
 *    typed line about a procedure; a line about none, "phí bao nhiêu",
 *    keeps it) and taken by the flow of that procedure when it starts:
 *    those questions are not asked, a line says so, and a button changes
 *    the answer.
 * Pure: no I/O; the session is the caller's. */
#ifndef DVCBOT_FLOW_SAID_H
#define DVCBOT_FLOW_SAID_H

#include "dvcbot/flow_state.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define FLOW_SAID_KEY "fq"

/* The option of choice step s that folded text (len bytes) names by its
 * phrases, or -1 when none does or phrases of two options appear. */
int flow_said_option(const struct flow_step *s, const char *folded, size_t len);

/* Notes in session what the typed line (folded, as the matcher read it)
 * answers of def's choices, replacing an earlier note. def or line NULL
 * (a line about no procedure): the note stays. */
void flow_said_note(cJSON *session, const struct flow_def *def, const char *line);

/* A flow of s->def just started: fills the questions the noted line
 * answered (marked filled beforehand, so they are skipped) and removes the
 * note. Returns the steps filled (bit k: step k). */
uint32_t flow_said_take(struct flow_state *s, cJSON *session);

#endif
