/* flow_start — starting a guided flow ("flow:<procedure id>"): the saved
 * answers offered, a volunteer's resident's commune filled in; and the
 * flow's buttons pressed after it ended. See flow.h and flow_turn.h. */
#include "dvcbot/clock.h"
#include "dvcbot/flow_said.h"
#include "dvcbot/flow_turn.h"
#include "dvcbot/followup.h"
#include "dvcbot/mem.h"
#include "dvcbot/profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct start {
    struct flows *fl;
    struct dialog_turn *t;
    uint32_t said; /* steps the request answered */
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
        c.said = s->said;
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

/* Answers the user typed or chose in the unfinished flow c (not those
 * filled in from the saved profile or for a volunteer), within its idle
 * time: what starting another flow would throw away. */
bool flow_turn_has_own_answers(const struct flow_ctx *c, long now)
{
    if (c->s.finished || now - c->s.seen > (long)c->t->deps->cfg->flow_idle_s)
        return false;
    for (size_t i = 0; i < c->s.def->n_steps; i++)
        if (flow_state_answer(&c->s, i) && !flow_state_prefilled(&c->s, i))
            return true;
    return false;
}

/* "flow:<id>" with answers given in an unfinished flow: the same procedure
 * goes on where it stopped; another one is asked about first (go on with
 * the old one, or leave it: "flow:<id>" FLOW_START_FRESH). */
static void keep_unfinished(struct flow_ctx *c, const struct flow_def *def)
{
    c->s.seen = flow_turn_now();
    dialog_turn_set_mode(c->t, FLOW_MODE);
    if (c->s.def != def) {
        flow_view_switch_ask(c, def->in);
        return;
    }
    char *said = flow_view_text(c, "flow_going_on", NULL, 0);
    char *note = flow_view_note(said);
    flow_view_current(c, note);
    free(note);
    free(said);
}

void flow_start(struct dialog_turn *t, void *ud)
{
    struct flows *fl = ud;
    char id[BOT_PAYLOAD_MAX + 1];
    snprintf(id, sizeof id, "%s", t->arg);
    size_t n = strlen(id), sfx = strlen(FLOW_START_FRESH);
    bool fresh = n > sfx && strcmp(id + n - sfx, FLOW_START_FRESH) == 0;
    if (fresh)
        id[n - sfx] = '\0';
    const struct flow_def *def = flow_set_find(fl->defs, id);
    if (!def) {
        dialog_turn_reply(t, "help", NULL, 0);
        return;
    }
    if (dialog_turn_refuse_degraded(t))
        return;
    struct flow_ctx c;
    bool had = flow_turn_load(&c, fl, t);
    if (had && !fresh && flow_turn_has_own_answers(&c, flow_turn_now())) {
        keep_unfinished(&c, def);
        flow_turn_commit(&c);
        dialog_turn_done(t);
        return;
    }
    if (had && !c.s.finished)
        stats_flow_abandoned(fl->st, c.s.def->in->id, t->user_key); /* the previous one */
    flow_state_clear(&c.s);
    flow_undo_forget(t->session); /* the flow cancelled before is left for good */
    const char *commune = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(t->session, "assist"),
                                         "commune"));
    flow_state_init(&c.s, def, flow_turn_now());
    dialog_turn_set_mode(t, FLOW_MODE);
    followup_remember(t->session, def->in->id, clock_now()); /* questions after it are about it */
    stats_flow_started(fl->st, def->in->id, t->user_key);
    c.said = flow_said_take(&c.s, t->session);
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
    s->said = c.said;
    if (profile_load(t->deps->store, t->user_key, on_profile, s) != 0)
        on_profile(NULL, s);
}

void flow_stale(struct dialog_turn *t, void *ud)
{
    struct flows *fl = ud;
    struct flow_ctx c;
    bool paused = flow_turn_load(&c, fl, t);
    long now = flow_turn_now();
    if (paused && t->replies.n == 0 && now - c.s.seen <= (long)t->deps->cfg->flow_idle_s) {
        c.s.seen = now; /* a button of a flow paused for a question: it goes on */
        dialog_turn_set_mode(t, FLOW_MODE);
        flow_view_current(&c, NULL);
        flow_turn_commit(&c);
        dialog_turn_done(t);
        return;
    }
    flow_state_clear(&c.s);
    if (t->replies.n == 0)
        dialog_turn_render(t, "flow_stale", NULL, 0);
    dialog_turn_done(t);
}
