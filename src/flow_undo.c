/* flow_undo — a guided flow cancelled by mistake, brought back (see
 * flow_turn.h): its state waits FLOW_UNDO_S in the session under
 * FLOW_UNDO_KEY, {"at": when, "f": the flow as session.flow held it}. */
#include "dvcbot/flow_turn.h"

#include <stdlib.h>

static long kept_at(const cJSON *kept)
{
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(kept, "at");
    return cJSON_IsNumber(at) ? (long)at->valuedouble : 0;
}

void flow_undo_keep(struct flow_ctx *c)
{
    cJSON *session = c->t->session;
    cJSON_DeleteItemFromObjectCaseSensitive(session, FLOW_UNDO_KEY);
    cJSON *kept = cJSON_AddObjectToObject(session, FLOW_UNDO_KEY);
    if (!kept)
        return;
    cJSON_AddNumberToObject(kept, "at", (double)flow_turn_now());
    cJSON_AddItemToObject(kept, "f", flow_state_encode(&c->s));
}

void flow_undo_prune(cJSON *session, long now)
{
    const cJSON *kept = cJSON_GetObjectItemCaseSensitive(session, FLOW_UNDO_KEY);
    if (kept && now - kept_at(kept) > FLOW_UNDO_S)
        cJSON_DeleteItemFromObjectCaseSensitive(session, FLOW_UNDO_KEY);
}

void flow_undo_forget(cJSON *session)
{
    cJSON_DeleteItemFromObjectCaseSensitive(session, FLOW_UNDO_KEY);
}

bool flow_undo_restore(struct flows *fl, struct dialog_turn *t)
{
    long now = flow_turn_now();
    cJSON *kept = cJSON_DetachItemFromObjectCaseSensitive(t->session, FLOW_UNDO_KEY);
    cJSON *f = kept ? cJSON_DetachItemFromObjectCaseSensitive(kept, "f") : NULL;
    bool fresh = f && now - kept_at(kept) <= FLOW_UNDO_S;
    cJSON_Delete(kept);
    if (!fresh) {
        cJSON_Delete(f);
        return false;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(t->session, "flow");
    cJSON_AddItemToObject(t->session, "flow", f);
    struct flow_ctx c;
    if (!flow_turn_load(&c, fl, t)) {
        cJSON_DeleteItemFromObjectCaseSensitive(t->session, "flow");
        return false;
    }
    c.s.seen = now;
    dialog_turn_set_mode(t, FLOW_MODE);
    if (!c.s.finished)
        stats_flow_undone(fl->st, c.s.def->in->id, t->user_key); /* counted abandoned at the cancel */
    char *said = flow_view_text(&c, "flow_undone", NULL, 0);
    char *note = flow_view_note(said);
    flow_view_current(&c, note);
    free(note);
    free(said);
    flow_turn_commit(&c);
    return true;
}

void flow_undo_pressed(struct dialog_turn *t, void *ud)
{
    if (!flow_undo_restore(ud, t))
        dialog_turn_render(t, "flow_undo_gone", NULL, 0);
    dialog_turn_done(t);
}
