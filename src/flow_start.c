/* flow_start — starting a guided flow ("flow:<procedure id>"): the saved
 * answers offered, a volunteer's resident's commune filled in; and the
 * flow's buttons pressed after it ended. See flow.h and flow_turn.h. */
#include "dvcbot/clock.h"
#include "dvcbot/flow_turn.h"
#include "dvcbot/followup.h"
#include "dvcbot/mem.h"
#include "dvcbot/profile.h"

#include <stdio.h>
#include <stdlib.h>

struct start {
    struct flows *fl;
    struct dialog_turn *t;
};

static void offer_saved(struct flow_ctx *c, const struct profile *p)
{
    snprintf(c->s.pc, sizeof c->s.pc, "%s",
             p->consent == PROFILE_AGREED ? "yes" : p->consent == PROFILE_REFUSED ? "no" : "");
    for (size_t i = 0; i < c->s.def->n_steps; i++) {
        const struct flow_step *st = &c->s.def->steps[i];
        if (st->slot && st->profile != PROFILE_NONE && p->values[st->profile]) {
            c->s.offer[i] = xstrdup(p->values[st->profile]);
            c->s.offering = true;
        }
    }
}

static void on_profile(const struct profile *p, void *ud)
{
    struct start *s = ud;
    struct flow_ctx c;
    if (flow_turn_load(&c, s->fl, s->t)) {
        if (p)
            offer_saved(&c, p);
        flow_turn_begin(&c);
        flow_turn_commit(&c);
    }
    dialog_turn_done(s->t);
    free(s);
}

/* A volunteer runs the flow for a resident of their commune: it fills the
 * commune questions (the list's name when it knows the commune). */
static void prefill_assisted(struct flow_ctx *c, const char *commune)
{
    struct commune_match m;
    commune_list_match(c->fl->communes, commune, &m);
    bool known = m.found == COMMUNE_FOUND || m.found == COMMUNE_FOUND_OLD;
    c->s.assist = xstrdup(commune);
    for (size_t i = 0; i < c->s.def->n_steps; i++) {
        const struct flow_step *s = &c->s.def->steps[i];
        if (s->slot && s->type == SLOT_COMMUNE) {
            flow_state_set_answer(&c->s, i, known ? m.unit->label : commune);
            c->s.pre |= 1u << i;
        }
    }
}

void flow_start(struct dialog_turn *t, void *ud)
{
    struct flows *fl = ud;
    const struct flow_def *def = flow_set_find(fl->defs, t->arg);
    if (!def) {
        dialog_turn_reply(t, "help", NULL, 0);
        return;
    }
    if (dialog_turn_refuse_degraded(t))
        return;
    struct flow_ctx c;
    if (flow_turn_load(&c, fl, t) && !c.s.finished)
        stats_flow_abandoned(fl->st, c.s.def->in->id, t->user_key); /* the previous one */
    flow_state_clear(&c.s);
    const char *commune = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(t->session, "assist"),
                                         "commune"));
    flow_state_init(&c.s, def, flow_turn_now());
    dialog_turn_set_mode(t, FLOW_MODE);
    followup_remember(t->session, def->in->id, clock_now()); /* questions after it are about it */
    stats_flow_started(fl->st, def->in->id, t->user_key);
    if (commune) {
        prefill_assisted(&c, commune);
        flow_turn_begin(&c);
        flow_turn_commit(&c);
        dialog_turn_done(t);
        return;
    }
    flow_turn_commit(&c);
    struct start *s = xcalloc(1, sizeof *s);
    s->fl = fl;
    s->t = t;
    if (profile_load(t->deps->store, t->user_key, on_profile, s) != 0)
        on_profile(NULL, s);
}

void flow_stale(struct dialog_turn *t, void *ud)
{
    (void)ud;
    if (t->replies.n == 0)
        dialog_turn_render(t, "flow_stale", NULL, 0);
    dialog_turn_done(t);
}
