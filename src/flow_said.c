/* flow_said — options said in the user's own words (see flow_said.h). */
#include "dvcbot/flow_said.h"
#include "dvcbot/normalize.h"

#include <stdio.h>
#include <string.h>

int flow_said_option(const struct flow_step *s, const char *folded, size_t len)
{
    int found = -1;
    for (size_t i = 0; i < s->n_said; i++) {
        if (!norm_has_words(folded, len, s->said[i], strlen(s->said[i])))
            continue;
        if (found >= 0 && found != s->said_opt[i])
            return -1;
        found = s->said_opt[i];
    }
    return found;
}

void flow_said_note(cJSON *session, const struct flow_def *def, const char *line)
{
    if (!session || !def || !line)
        return; /* "phí bao nhiêu": still about the procedure noted */
    cJSON_DeleteItemFromObjectCaseSensitive(session, FLOW_SAID_KEY);
    size_t len = strlen(line);
    cJSON *answers = NULL;
    for (size_t i = 0; i < def->n_steps; i++) {
        const struct flow_step *s = &def->steps[i];
        int k = s->n_said ? flow_said_option(s, line, len) : -1;
        if (k < 0)
            continue;
        if (!answers)
            answers = cJSON_CreateObject();
        cJSON_AddNumberToObject(answers, s->slot, k);
    }
    if (!answers)
        return;
    cJSON *note = cJSON_AddObjectToObject(session, FLOW_SAID_KEY);
    cJSON_AddStringToObject(note, "p", def->in->id);
    cJSON_AddItemToObject(note, "a", answers);
}

uint32_t flow_said_take(struct flow_state *s, cJSON *session)
{
    const cJSON *note = cJSON_GetObjectItemCaseSensitive(session, FLOW_SAID_KEY);
    const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(note, "p"));
    const cJSON *answers = NULL;
    if (p && strcmp(p, s->def->in->id) == 0)
        answers = cJSON_GetObjectItemCaseSensitive(note, "a");
    uint32_t filled = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, answers) {
        int step = a->string ? flow_def_slot_step(s->def, a->string) : -1;
        const struct flow_step *st = step >= 0 ? &s->def->steps[step] : NULL;
        if (!st || st->type != SLOT_CHOICE || !cJSON_IsNumber(a) || a->valuedouble < 0 ||
            a->valuedouble >= (double)st->n_options)
            continue;
        flow_state_set_answer(s, (size_t)step, st->options[(size_t)a->valuedouble]);
        s->pre |= 1u << step;
        filled |= 1u << step;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(session, FLOW_SAID_KEY);
    return filled;
}
