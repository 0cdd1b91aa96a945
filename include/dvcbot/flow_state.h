/* flow_state — one user's place in a guided flow, typed.
 *
 * The flow engine keeps it in the session (session.flow, JSON, so a flow
 * survives a restart and any process can continue it); it decodes it once
 * per turn into a struct flow_state, works on the struct and writes it back
 * at the end of the turn. The JSON:
 *   {"id": procedure, "i": step (n_steps = the closing code step),
 *    "a": {slot: answer}, "pre": [slots filled beforehand: the saved
 *    profile, a volunteer's resident, the request (flow_said.h)],
 *    "f": failures on this question, "t0": start, "seen": last activity
 *    (unix s), "ret": step to return to after an edit or -1, "pc": profile
 *    consent at start ("yes"|"no"|""), "offer": {slot: saved value} while the
 *    one-tap default is on offer, "assist": resident's commune when a
 *    volunteer runs it, "d": 1 while a check's "no" screen is shown, "fin": 1
 *    once the flow reached the code step, "cm": [commune codes on offer],
 *    "ty"/"ta": a hash of the last answer typed (folded; not the text) and
 *    when it was taken, to tell the same message sent again}.
 *
 * Steps that apply (flowdef.h "if") depend on the answers so far; "bước k/n"
 * counts the steps that apply plus the closing code step, so a branch
 * changes n (webchat's resume offer shows the same numbers).
 *
 * A struct flow_state owns its strings; flow_state_clear frees them. Pure:
 * no I/O, no clock. */
#ifndef DVCBOT_FLOW_STATE_H
#define DVCBOT_FLOW_STATE_H

#include "dvcbot/flowdef.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLOW_CANDIDATES 4        /* commune buttons offered at most */
#define FLOW_CANDIDATE_MAX 8     /* bytes of a commune code, with the NUL */

struct flow_state {
    const struct flow_def *def;
    size_t i;                      /* current step; def->n_steps: the code step */
    char *ans[FLOW_MAX_STEPS];     /* answer of each question step, or NULL */
    char *offer[FLOW_MAX_STEPS];   /* saved values on offer, by step */
    bool offering;
    uint32_t pre;                  /* bit k: step k's answer was filled beforehand */
    int fails;
    long t0, seen;
    long ret;                      /* step to return to after an edit, -1 */
    char pc[4];                    /* "yes" | "no" | "" */
    char *assist;                  /* NULL unless a volunteer runs the flow */
    bool detour;
    bool finished;
    char cand[FLOW_CANDIDATES][FLOW_CANDIDATE_MAX];
    size_t n_cand;
    uint32_t typed;                /* hash of the last answer typed, when typed_at */
    long typed_at;
};

/* A fresh state at step 0 of def. */
void flow_state_init(struct flow_state *s, const struct flow_def *def, long now);
/* Reads session.flow. Returns 0, or -1 (s cleared) when it is not an object
 * or names no flow of set. */
int flow_state_decode(const cJSON *obj, const struct flow_set *set, struct flow_state *s);
/* The JSON of s (caller owns it). */
cJSON *flow_state_encode(const struct flow_state *s);
void flow_state_clear(struct flow_state *s);

const char *flow_state_answer(const struct flow_state *s, size_t step);
/* Stores (a copy of) value, or forgets the answer with NULL; the answer is
 * no longer from the saved profile. */
void flow_state_set_answer(struct flow_state *s, size_t step, const char *value);
bool flow_state_prefilled(const struct flow_state *s, size_t step);

/* Whether step k applies: it has no condition, or the choice it depends on
 * was answered with one of its options. */
bool flow_state_applies(const struct flow_state *s, size_t step);
/* "Bước n/total" of step i (i = n_steps: the code step, the last). */
void flow_state_position(const struct flow_state *s, size_t i, size_t *n, size_t *total);

#endif
