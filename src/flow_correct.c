/* flow_correct — the answer to the question before, typed again at the
 * next one ("nhầm rồi, bé gái" where "Anh/chị là gì của trẻ?" is asked
 * after "Nam (con trai)" was taken). See flow_turn.h. */
#include "dvcbot/flow_turn.h"
#include "dvcbot/mem.h"
#include "dvcbot/normalize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The folded text without its correction words and punctuation (caller
 * frees); NULL when nothing else is left. */
static char *without_correction(const struct flow_set *set, const char *text)
{
    size_t n;
    char *f = norm_fold(text, strlen(text), &n);
    if (!f)
        return NULL;
    for (char *p = f; *p; p++)
        if (*p == ',' || *p == '.' || *p == '!' || *p == '?')
            *p = ' ';
    char *out = xmalloc(n + 1);
    size_t len = 0;
    char *save = NULL;
    for (char *w = strtok_r(f, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        if (flow_set_is_correction_word(set, w))
            continue;
        len += (size_t)snprintf(out + len, n + 1 - len, "%s%s", len ? " " : "", w);
    }
    free(f);
    if (!len) {
        free(out);
        return NULL;
    }
    return out;
}

/* The question answered last before the current step: the nearest one
 * before it that applies, when it holds an answer. */
static long previous_question(const struct flow_ctx *c)
{
    for (size_t i = c->s.i; i-- > 0;) {
        const struct flow_step *s = &c->s.def->steps[i];
        if (s->slot && flow_state_applies(&c->s, i))
            return flow_state_answer(&c->s, i) ? (long)i : -1;
    }
    return -1;
}

/* text (cleaned) as an answer of step s: a choice or a date, read as the
 * step itself reads it (flow_turn_validate). */
static bool read_as(const struct flow_ctx *c, const struct flow_step *s, const char *text, char *out,
                    size_t cap)
{
    return (s->type == SLOT_DATE || s->type == SLOT_CHOICE) &&
           flow_turn_validate(s, c->s.assist != NULL, text, out, cap) == VALID_OK;
}

bool flow_correct_previous(struct flow_ctx *c, const char *text)
{
    long p = previous_question(c);
    if (p < 0)
        return false;
    const struct flow_step *prev = &c->s.def->steps[p];
    if (prev->type == SLOT_DATE && c->s.def->steps[c->s.i].type == SLOT_DATE)
        return false; /* a wrong date for this question is no new one for that */
    char *clean = without_correction(c->fl->defs, text);
    char out[VALIDATE_OUT_MAX];
    bool read = clean && read_as(c, prev, clean, out, sizeof out);
    free(clean);
    if (!read || strcmp(out, flow_state_answer(&c->s, (size_t)p)) == 0)
        return false;
    flow_state_set_answer(&c->s, (size_t)p, out);
    size_t at = c->s.i;
    if (!flow_state_applies(&c->s, at)) { /* the new answer took another branch */
        at = (size_t)p + 1;
        while (at < c->s.def->n_steps && (!flow_state_applies(&c->s, at) || flow_state_answer(&c->s, at)))
            at++;
        c->s.i = at;
    }
    c->s.fails = 0;
    const struct tpl_var v[] = {{"label", prev->label}, {"value", flow_view_value(c, prev, out)}};
    if (c->s.i >= c->s.def->n_steps) {
        flow_end_reached(c);
        return true;
    }
    flow_view_with_note(c, "flow_corrected", v, 2);
    return true;
}
