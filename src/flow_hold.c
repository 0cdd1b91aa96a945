/* flow_hold — a flow set aside while its user, a volunteer, assists a
 * resident (see flow.h): session.flow moves to FLOW_HELD_KEY and back. In
 * /admin/stats it counts abandoned while set aside, taken back (as an undone
 * cancel) when it returns within DVCBOT_FLOW_IDLE: the resident's flows take
 * the user's place among the flows in progress, so the sweep cannot see it. */
#include "dvcbot/flow_turn.h"

#include <string.h>

const struct intent *flows_hold(struct flows *fl, struct dialog_turn *t)
{
    struct flow_ctx c;
    if (cJSON_GetObjectItemCaseSensitive(t->session, FLOW_HELD_KEY) || !flow_turn_load(&c, fl, t))
        return NULL;
    const struct intent *in = c.s.def->in;
    bool keep = flow_turn_has_own_answers(&c, flow_turn_now());
    flow_state_clear(&c.s);
    if (!keep)
        return NULL; /* nothing the user gave: the next flow may replace it */
    cJSON *f = cJSON_DetachItemFromObjectCaseSensitive(t->session, "flow");
    cJSON_AddItemToObject(t->session, FLOW_HELD_KEY, f);
    if (dialog_turn_mode(t) && strcmp(dialog_turn_mode(t), FLOW_MODE) == 0)
        dialog_turn_set_mode(t, NULL);
    stats_flow_abandoned(fl->st, in->id, t->user_key); /* unless it comes back in time */
    return in;
}

const struct intent *flows_unhold(struct flows *fl, struct dialog_turn *t)
{
    if (!cJSON_GetObjectItemCaseSensitive(t->session, FLOW_HELD_KEY))
        return NULL;
    struct flow_ctx c;
    if (flow_turn_load(&c, fl, t)) {
        bool busy = !c.s.finished;
        flow_state_clear(&c.s);
        if (busy)
            return NULL; /* a resident's flow left half-done: the held one waits */
    }
    cJSON *f = cJSON_DetachItemFromObjectCaseSensitive(t->session, FLOW_HELD_KEY);
    cJSON_DeleteItemFromObjectCaseSensitive(t->session, "flow");
    cJSON_AddItemToObject(t->session, "flow", f);
    if (!flow_turn_load(&c, fl, t)) {
        cJSON_DeleteItemFromObjectCaseSensitive(t->session, "flow");
        return NULL;
    }
    const struct intent *in = c.s.def->in;
    bool expired = flow_turn_now() - c.s.seen > (long)t->deps->cfg->flow_idle_s;
    flow_state_clear(&c.s);
    if (expired) { /* set aside longer than it may wait: stays abandoned */
        const struct tpl_var v[] = {{"name", in->name}, {"id", in->id}};
        cJSON_DeleteItemFromObjectCaseSensitive(t->session, "flow");
        dialog_turn_render(t, "flow_expired", v, 2);
        return NULL;
    }
    stats_flow_undone(fl->st, in->id, t->user_key); /* in progress again, not abandoned */
    return in;
}
