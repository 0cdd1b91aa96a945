/* flow_end — the closing step of a guided flow: "Đã nộp xong? Gõ mã hồ sơ".
 *
 * Reaching it counts the flow finished. The code typed there is timed from
 * the flow's start (stats_record_code_given: the "under 5 minutes" figure)
 * and handed to the lookup as "hs:sub:<code>", which asks for the owner
 * proof and subscribes the user; the consent and rating questions follow
 * once it is followed (flows_followed). */
#include "dvcbot/buf.h"
#include "dvcbot/dossier.h"
#include "dvcbot/dossier_reply.h"
#include "dvcbot/feedback.h"
#include "dvcbot/flow.h"
#include "dvcbot/flow_turn.h"
#include "dvcbot/log.h"
#include "dvcbot/profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void flow_end_view(struct flow_ctx *c, const char *note)
{
    char n[24], total[24], back[32];
    size_t k, all;
    flow_state_position(&c->s, c->s.i, &k, &all);
    snprintf(n, sizeof n, "%zu", k);
    snprintf(total, sizeof total, "%zu", all);
    snprintf(back, sizeof back, "f:back:%zu", c->s.i);
    const struct tpl_var v[] = {
        {"n", n}, {"total", total}, {"back", back}, {"note", note ? note : ""},
        {"assist", c->s.assist ? "vol:start" : ""},
        {"household", c->s.assist ? "hh:start" : ""},
    };
    flow_view_render(c, "flow_code", v, sizeof v / sizeof v[0]);
}

static void count_finished(struct flow_ctx *c)
{
    if (!c->s.finished) {
        long secs = flow_turn_now() - c->s.t0;
        const char *commune = flow_turn_commune(c);
        c->s.finished = true;
        stats_flow_finished(c->fl->st, c->s.def->in->id, c->t->user_key, secs, commune);
        if (c->s.assist)
            stats_assist(c->fl->st, c->t->user_key, c->s.def->in->id, commune);
        log_fmt(LOG_INFO, "flow finished", "\"procedure\":%s,\"seconds\":%ld",
                log_q(c->s.def->in->id), secs);
    }
}

void flow_end_reached(struct flow_ctx *c)
{
    count_finished(c);
    flow_end_view(c, NULL);
}

/* ===== After the flow: consent, rating ===== */

/* The answers about the user (only when not assisting someone). */
static bool profile_values(const struct flow_ctx *c, const char *values[PROFILE_FIELD_COUNT],
                           struct buf *labels)
{
    bool any = false;
    memset(values, 0, sizeof(const char *) * PROFILE_FIELD_COUNT);
    for (size_t i = 0; !c->s.assist && i < c->s.def->n_steps; i++) {
        const struct flow_step *s = &c->s.def->steps[i];
        const char *v = s->slot ? flow_state_answer(&c->s, i) : NULL;
        if (v && s->profile != PROFILE_NONE && flow_state_applies(&c->s, i)) {
            values[s->profile] = v;
            buf_printf(labels, "%s%s", labels->len ? ", " : "", s->label);
            any = true;
        }
    }
    return any;
}

/* session.after: what the consent and rating questions need once the flow
 * has gone: {"id", "commune", "save": {field: value}, "fields", "code"}. */
static cJSON *leave_after(struct flow_ctx *c, const char *code)
{
    const char *commune = flow_turn_commune(c);
    cJSON *after = feedback_after_begin(c->t, c->s.def->in->id, commune ? commune : "");
    if (code)
        cJSON_AddStringToObject(after, "code", code);
    const char *values[PROFILE_FIELD_COUNT];
    struct buf labels;
    buf_init(&labels);
    if (profile_values(c, values, &labels)) {
        if (strcmp(c->s.pc, "yes") == 0) {
            if (profile_save(c->t->deps->store, c->t->user_key, values) != 0)
                log_msg(LOG_WARN, "profile not saved: redis unavailable");
        } else if (!c->s.pc[0]) {
            cJSON *save = cJSON_AddObjectToObject(after, "save");
            for (int f = 0; f < PROFILE_FIELD_COUNT; f++)
                if (values[f])
                    cJSON_AddStringToObject(save, profile_field_name((enum profile_field)f), values[f]);
            cJSON_AddStringToObject(after, "fields", labels.data);
        }
    }
    buf_free(&labels);
    return after;
}

/* The consent question when answers wait to be kept, else the rating. */
static void ask_consent_or_rating(struct dialog_turn *t, const cJSON *after)
{
    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(after, "fields");
    if (cJSON_GetObjectItemCaseSensitive(after, "save") && cJSON_IsString(fields)) {
        const struct tpl_var v = {"fields", fields->valuestring};
        dialog_turn_render(t, "consent_ask", &v, 1);
        dialog_turn_set_mode(t, PROFILE_CONSENT_MODE); /* "có" typed answers it */
        return;
    }
    feedback_ask_rating(t);
}

void flows_followed(struct dialog_turn *t, const char *code, void *ud)
{
    (void)ud;
    cJSON *after = cJSON_GetObjectItemCaseSensitive(t->session, "after");
    const char *mine = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(after, "code"));
    if (!mine || strcmp(mine, code) != 0 ||
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(after, "followed")))
        return;
    cJSON_AddTrueToObject(after, "followed");
    ask_consent_or_rating(t, after);
}

/* ===== The code ===== */

/* The end of a flow a volunteer ran for a resident: nothing is kept for
 * after it, and the volunteer is not asked the residents' satisfaction
 * question (the "hài lòng" figure is what residents say themselves; the
 * flow counts as an assist instead, stats_assist). */
static void end_assisted(struct flow_ctx *c, const char *code)
{
    const struct tpl_var v[] = {{"code", code ? code : ""}, {"household", "hh:start"},
                                {"name", c->s.def->in->name}};
    cJSON_DeleteItemFromObjectCaseSensitive(c->t->session, "after");
    flow_turn_drop(c, false);
    if (code)
        flow_view_render(c, "flow_code_taken", v, 2); /* flow_code_taken_assist */
    else
        dialog_turn_render(c->t, "flow_later_assist", &v[1], 2); /* "Để sau" */
}

/* Ends the flow. Returns true when the turn went to the lookup. */
static bool end_flow(struct flow_ctx *c, const char *code)
{
    if (c->s.assist) {
        end_assisted(c, code);
        return false;
    }
    cJSON *after = leave_after(c, code);
    struct dialog_turn *t = c->t;
    flow_turn_drop(c, false);
    const struct tpl_var v[] = {{"code", code ? code : ""}, {"household", "hh:start"}};
    if (code) {
        char payload[BOT_PAYLOAD_MAX + 1];
        dialog_turn_render(t, "flow_code_taken", v, 1);
        snprintf(payload, sizeof payload, "%s%s", DOSSIER_PAYLOAD_SUB, code);
        if (dialog_turn_route_payload(t, payload))
            return true;
    }
    ask_consent_or_rating(t, after);
    return false;
}

static void refuse_code(struct flow_ctx *c, const char *tpl_name)
{
    c->s.fails++;
    flow_view_with_note(c, tpl_name, NULL, 0);
    if (c->s.fails >= FLOW_MAX_FAILURES)
        dialog_turn_render(c->t, "flow_stuck", NULL, 0);
}

bool flow_end_code_typed(struct flow_ctx *c, const char *text)
{
    char code[DOSSIER_CODE_MAX + 1], date[VALIDATE_OUT_MAX];
    if (validate_date(text, VALID_DATE_ANY, (time_t)flow_turn_now(), date, sizeof date) == VALID_OK) {
        refuse_code(c, "flow_code_date");
        return false;
    }
    if (!dossier_code_find(text, code)) {
        refuse_code(c, "flow_code_invalid");
        return false;
    }
    long secs = flow_turn_now() - c->s.t0;
    stats_record_code_given(c->fl->st, c->s.def->in->id, flow_turn_commune(c), secs);
    log_fmt(LOG_INFO, "flow code given", "\"procedure\":%s,\"seconds\":%ld",
            log_q(c->s.def->in->id), secs);
    return end_flow(c, code);
}

bool flow_end_code_early(struct flow_ctx *c, const char *text, bool *handed)
{
    char code[DOSSIER_CODE_MAX + 1];
    if (c->s.i >= c->s.def->n_steps || c->s.def->steps[c->s.i].kind != FLOW_STEP_SAY ||
        !dossier_code_find(text, code) || !strpbrk(code, ".-"))
        return false;
    count_finished(c);
    *handed = flow_end_code_typed(c, text);
    return true;
}

void flow_end_without_code(struct flow_ctx *c)
{
    end_flow(c, NULL);
}
