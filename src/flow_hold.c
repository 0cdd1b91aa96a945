/* flow_hold — a flow set aside while its user, a volunteer, assists a
 * resident (see flow.h): session.flow moves to FLOW_HELD_KEY and back. */
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
    stats_flow_back(fl->st, in->id, t->user_key); /* an assisted flow took its place there */
    flow_state_clear(&c.s);
    return in;
}
