/* flow_button — a flow's own buttons pressed inside it (see flow_button.h). */
#include "dvcbot/flow_button.h"

#include <stdlib.h>
#include <string.h>

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

void flow_button_offer(struct flow_ctx *c, bool yes)
{
    for (size_t k = 0; k < c->s.def->n_steps; k++) {
        if (yes && c->s.offer[k]) {
            flow_state_set_answer(&c->s, k, c->s.offer[k]);
            c->s.pre |= 1u << k;
        }
        free(c->s.offer[k]);
        c->s.offer[k] = NULL;
    }
    c->s.offering = false;
    flow_turn_skip_prefilled(c);
    flow_turn_show(c, NULL);
}

static bool on_option(struct flow_ctx *c, const struct flow_step *s, const char *rest)
{
    char *end;
    unsigned long k = strtoul(rest, &end, 10);
    if (!*rest || *end || k >= s->n_options)
        return false;
    flow_turn_store(c, s->options[k]);
    flow_turn_advance(c, NULL);
    return true;
}

static bool on_unit(struct flow_ctx *c, const char *code)
{
    const struct commune_unit *u = commune_list_by_code(c->fl->communes, code);
    if (!u)
        return false;
    flow_turn_take_unit(c, u, NULL);
    return true;
}

/* Buttons carrying the step index, pressed at that step. */
static bool on_step_button(struct flow_ctx *c, const char *arg)
{
    size_t i;
    const char *rest;
    const struct flow_step *s = flow_turn_step(c);
    bool here = false;
    if (indexed(arg, "back:", &i, NULL) && i == c->s.i) {
        flow_turn_back(c);
        return true;
    }
    if (!s)
        return false;
    if (indexed(arg, "next:", &i, NULL) && (here = i == c->s.i) && s->kind == FLOW_STEP_SAY)
        flow_turn_advance(c, NULL);
    else if (indexed(arg, "yes:", &i, NULL) && (here = i == c->s.i) && s->kind == FLOW_STEP_CHECK)
        flow_turn_check_answered(c, true);
    else if (indexed(arg, "no:", &i, NULL) && (here = i == c->s.i) && s->kind == FLOW_STEP_CHECK)
        flow_turn_check_answered(c, false);
    else if (indexed(arg, "keep:", &i, NULL) && (here = i == c->s.i) && s->slot &&
             flow_state_answer(&c->s, i))
        flow_turn_advance(c, NULL);
    else if (indexed(arg, "skip:", &i, NULL) && (here = i == c->s.i) && s->optional) {
        flow_turn_store(c, NULL);
        flow_turn_advance(c, NULL);
    } else if (indexed(arg, "opt:", &i, &rest) && (here = i == c->s.i) && s->type == SLOT_CHOICE)
        return on_option(c, s, rest);
    else if (indexed(arg, "cm:", &i, &rest) && (here = i == c->s.i) && s->type == SLOT_COMMUNE)
        return on_unit(c, rest);
    else
        return false;
    return here;
}

void flow_button_pressed(struct flow_ctx *c, const char *arg)
{
    if (c->s.offering && (strcmp(arg, "prof:yes") == 0 || strcmp(arg, "prof:no") == 0))
        flow_button_offer(c, strcmp(arg, "prof:yes") == 0);
    else if (strcmp(arg, "cancel") == 0)
        flow_turn_cancel(c);
    else if (strcmp(arg, "help") == 0)
        flow_view_help(c);
    else if (c->s.offering)
        flow_view_current(c, NULL);
    else if (strcmp(arg, "nocode") == 0 && flow_turn_at_code(c))
        flow_end_without_code(c);
    else if (strcmp(arg, "edit") == 0)
        flow_view_edit_choose(c);
    else if (strncmp(arg, "edit:", 5) == 0)
        flow_turn_edit(c, flow_def_slot_step(c->s.def, arg + 5));
    else if (!on_step_button(c, arg))
        flow_turn_show(c, NULL); /* resume, or a stale button */
}
