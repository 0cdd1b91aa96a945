/* flow_typed — a line typed inside a flow (see flow_typed.h). */
#include "dvcbot/flow_typed.h"
#include "dvcbot/flow_button.h"

/* "có", "vâng", "chưa", "không", "rồi" typed at a check. Returns false for
 * anything else. */
static bool check_typed(struct flow_ctx *c, const char *text, enum flow_command cmd)
{
    int yes = cmd == FLOW_CMD_NEXT || cmd == FLOW_CMD_YES ? 1
              : cmd == FLOW_CMD_NO                        ? 0
                                                          : flow_turn_check_option(c, text);
    if (yes < 0)
        return false;
    flow_turn_check_answered(c, yes == 1);
    return true;
}

bool flow_typed_text(struct flow_ctx *c, const char *text)
{
    char rest[128];
    enum flow_command cmd = flow_set_command(c->fl->defs, text, rest, sizeof rest);
    const struct flow_step *s = flow_turn_step(c);
    switch (cmd) {
    case FLOW_CMD_CANCEL:
        flow_turn_cancel(c);
        return false;
    case FLOW_CMD_MENU: /* paused, as the menu button leaves it: "tiếp tục" goes on */
        dialog_turn_set_mode(c->t, NULL);
        dialog_reply_menu(c->t);
        return false;
    case FLOW_CMD_HELP:
        flow_view_help(c);
        return false;
    case FLOW_CMD_BACK:
        if (c->s.offering)
            flow_view_current(c, NULL);
        else
            flow_turn_back(c);
        return false;
    case FLOW_CMD_EDIT:
        if (c->s.offering)
            flow_view_current(c, NULL);
        else if (*rest)
            flow_turn_edit(c, flow_def_find_slot(c->s.def, rest));
        else
            flow_view_edit_choose(c);
        return false;
    default:
        break;
    }
    if (c->s.offering && (cmd == FLOW_CMD_YES || cmd == FLOW_CMD_NO)) {
        flow_button_offer(c, cmd == FLOW_CMD_YES);
        return false;
    }
    if (c->s.offering) {
        flow_view_with_note(c, "flow_use_buttons", NULL, 0);
        return false;
    }
    if (flow_turn_at_code(c))
        return flow_end_code_typed(c, text);
    if (s->kind == FLOW_STEP_CHECK && check_typed(c, text, cmd))
        return false;
    if (s->kind == FLOW_STEP_SAY && cmd == FLOW_CMD_NEXT) {
        flow_turn_advance(c, NULL);
        return false;
    }
    if ((cmd == FLOW_CMD_YES || cmd == FLOW_CMD_NO) && s->slot && s->type != SLOT_TEXT &&
        s->type != SLOT_CHOICE) {
        flow_view_current(c, NULL); /* "có" under "tiếp tục?" is no name, no date */
        return false;
    }
    if (s->slot) {
        size_t at = c->s.i;
        flow_turn_take_answer(c, text);
        if (c->s.i != at)
            flow_read_note_typed(c, text); /* taken: the same sent again is told */
    } else {
        flow_view_with_note(c, "flow_use_buttons", NULL, 0);
    }
    return false;
}
