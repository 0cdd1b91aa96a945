/* flow_read — what a line typed in a guided flow is besides an answer: a
 * question about a fact, a greeting, a request for something else (see
 * flow_turn.h). */
#include "dvcbot/flow_turn.h"
#include "dvcbot/normalize.h"

#include <stdlib.h>
#include <string.h>

/* The turn's text classified once (t->match, t->line), for the readers
 * below and the dialog's routing after. */
static void classify(struct flow_ctx *c)
{
    dialog_turn_classify(c->t);
}

/* A question about one fact ("phí bao nhiêu") of the flow's procedure or of
 * one the line names: its answer above the step, which stays. Not a flow
 * command nor a check's option; where an answer is expected (a question,
 * the code step), only a line that asks. */
bool flow_read_fact(struct flow_ctx *c)
{
    const char *text = c->t->msg->text;
    if (!c->fl->fact || c->t->msg->kind != BOT_MSG_TEXT ||
        flow_set_command_of(c->fl->defs, text) != FLOW_CMD_NONE)
        return false;
    const struct flow_step *s = flow_turn_step(c);
    if (!c->s.offering && s && s->kind == FLOW_STEP_CHECK && flow_turn_check_option(c, text) >= 0)
        return false;
    bool answer_expected = !c->s.offering && (!flow_turn_step(c) || (s && s->slot));
    classify(c);
    char *fact = c->fl->fact(c->t, c->s.def->in, answer_expected, c->fl->fact_ud);
    if (!fact)
        return false;
    char *note = flow_view_note(fact);
    flow_view_current(c, note);
    free(note);
    free(fact);
    return true;
}

/* Requests no answer to a question can be ("gặp cán bộ", "xóa dữ liệu của
 * tôi", "mạng yếu quá" typed where the child's name is asked): the matcher
 * sure of one of them (FLOW_ASKS_ACTION_AT) leaves the flow even where an
 * answer is expected. Not don_vi_hanh_chinh: commune names and addresses
 * read as it; nor gio_lam_viec: a date answer naming its weekday ("5/9,
 * hôm đó thứ bảy") reads as it. */
#define FLOW_ASKS_ACTION_AT 0.9
static const char *const actions_leaving[] = {
    "gap_can_bo", "tra_cuu_ho_so", "thanh_toan", "xoa_du_lieu", "khieu_nai",
    "mang_yeu",
};

static bool asks_for_action(struct flow_ctx *c)
{
    classify(c);
    if (c->t->match.score < FLOW_ASKS_ACTION_AT)
        return false;
    for (size_t i = 0; i < sizeof actions_leaving / sizeof actions_leaving[0]; i++)
        if (strcmp(c->t->match.id, actions_leaving[i]) == 0)
            return true;
    return false;
}

/* At a question whose answers have a form (a date, a number, an option), a
 * line that is none of them and that the matcher is sure names another
 * procedure ("đăng ký khai tử" where the birth date is asked). At a name
 * too, which any words fit: people's names read as nothing to the matcher
 * ("Lò Thị Kết", "Quàng Văn Hôn"), "tôi muốn đăng ký kết hôn" as kết hôn
 * (was kept as the child's name). Not at free text, which may read as
 * anything. */
static bool names_another_procedure(struct flow_ctx *c, const struct flow_step *s,
                                    const char *text)
{
    if (s->type != SLOT_DATE && s->type != SLOT_CCCD && s->type != SLOT_PHONE &&
        s->type != SLOT_CHOICE && s->type != SLOT_NAME)
        return false;
    char out[VALIDATE_OUT_MAX];
    if (s->type != SLOT_NAME && flow_turn_validate(s, c->s.assist != NULL, text, out, sizeof out) == VALID_OK)
        return false;
    classify(c);
    const struct intent *in = catalog_find(c->t->deps->catalog, c->t->match.id);
    return in && in->kind == INTENT_PROCEDURE && in != c->s.def->in &&
           c->t->match.score >= FLOW_ASKS_ACTION_AT;
}

/* A greeting typed in the middle ("chào em" when coming back the next
 * day, where the birth date is asked): not an answer; the matcher sure of
 * it, the flow offers to go on as /start does. */
#define FLOW_GREETING_ID "chao_hoi"
bool flow_read_greets(struct flow_ctx *c, const struct bot_msg *m)
{
    if (m->kind != BOT_MSG_TEXT || flow_set_command_of(c->fl->defs, m->text) != FLOW_CMD_NONE)
        return false;
    classify(c);
    return strcmp(c->t->match.id, FLOW_GREETING_ID) == 0 && c->t->match.score >= FLOW_ASKS_ACTION_AT;
}

/* Typed text where no answer is expected (an instruction, a check, the
 * saved-data offer) that the matcher reads as another question, or where
 * one is, a request for something else: the user moved on. */
static bool asks_something_else(struct flow_ctx *c, const char *text)
{
    const struct flow_step *s = flow_turn_step(c);
    if (flow_set_command_of(c->fl->defs, text) != FLOW_CMD_NONE)
        return false;
    if (!c->s.offering && (!s || s->slot))
        return s && (asks_for_action(c) || names_another_procedure(c, s, text));
    if (s && s->kind == FLOW_STEP_CHECK && flow_turn_check_option(c, text) >= 0)
        return false;
    classify(c);
    const char *id = c->t->match.id;
    return strcmp(id, CATALOG_FALLBACK_ID) != 0 && strcmp(id, c->s.def->in->id) != 0;
}

/* Another module's button, or a question about something else: the flow
 * stays in the session but the mode goes. Help screens (r:) keep it. */
bool flow_read_leaves(struct flow_ctx *c, const struct bot_msg *m)
{
    if (m->kind == BOT_MSG_BUTTON)
        return strncmp(m->text, "f:", 2) != 0 &&
               strncmp(m->text, DIALOG_SCREEN_PAYLOAD, strlen(DIALOG_SCREEN_PAYLOAD)) != 0;
    return m->kind == BOT_MSG_TEXT && asks_something_else(c, m->text);
}

/* ===== The same message sent again ===== */

/* FNV-1a of the folded text (0 when it does not fold): the answer is told
 * again without keeping it in clear twice. */
static uint32_t typed_hash(const char *text)
{
    char f[FLOW_TYPED_FOLD_MAX];
    size_t n = norm_fold_into(text, strlen(text), f, sizeof f);
    if (n == NORM_ERROR || n == 0)
        return 0;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)f[i]) * 16777619u;
    return h;
}

void flow_read_note_typed(struct flow_ctx *c, const char *text)
{
    c->s.typed = typed_hash(text);
    c->s.typed_at = c->s.typed ? flow_turn_now() : 0;
}

/* Whether text answers the step the flow is at (so it is taken, even when
 * it is the answer before once more). */
static bool answers_here(const struct flow_ctx *c, const char *text)
{
    const struct flow_step *s = flow_turn_step(c);
    if (!s)
        return false;
    if (s->kind == FLOW_STEP_CHECK)
        return flow_turn_check_option(c, text) >= 0;
    if (!s->slot)
        return false;
    if (s->type == SLOT_COMMUNE && commune_list_size(c->fl->communes) > 0) {
        struct commune_match m;
        commune_list_match(c->fl->communes, text, &m);
        return m.found == COMMUNE_FOUND || m.found == COMMUNE_FOUND_OLD;
    }
    char out[VALIDATE_OUT_MAX];
    return flow_turn_validate(s, c->s.assist != NULL, text, out, sizeof out) == VALID_OK;
}

bool flow_read_repeat(struct flow_ctx *c, const char *text)
{
    if (!c->s.typed_at || c->s.offering || flow_turn_now() - c->s.typed_at > FLOW_REPEAT_S ||
        dialog_typed_number(text) > 0 || flow_set_command_of(c->fl->defs, text) != FLOW_CMD_NONE ||
        typed_hash(text) != c->s.typed || answers_here(c, text))
        return false;
    flow_view_with_note(c, "flow_repeated", NULL, 0);
    return true;
}
