/* flow_state — a flow's place decoded from and encoded to session.flow. */
#include "dvcbot/flow_state.h"
#include "dvcbot/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void flow_state_init(struct flow_state *s, const struct flow_def *def, long now)
{
    memset(s, 0, sizeof *s);
    s->def = def;
    s->t0 = s->seen = now;
    s->ret = -1;
}

void flow_state_clear(struct flow_state *s)
{
    for (size_t k = 0; k < FLOW_MAX_STEPS; k++) {
        free(s->ans[k]);
        free(s->offer[k]);
    }
    free(s->assist);
    memset(s, 0, sizeof *s);
    s->ret = -1;
}

/* ===== Decoding ===== */

static long num(const cJSON *obj, const char *key, long fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? (long)v->valuedouble : fallback;
}

static const char *str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* {slot: value} into values[step]; unknown slots are dropped. */
static void read_slots(const struct flow_def *def, const cJSON *obj, char *values[])
{
    const cJSON *e;
    cJSON_ArrayForEach(e, obj) {
        int step = cJSON_IsString(e) ? flow_def_slot_step(def, e->string) : -1;
        if (step >= 0) {
            free(values[step]);
            values[step] = xstrdup(e->valuestring);
        }
    }
}

static void read_candidates(struct flow_state *s, const cJSON *arr)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        if (s->n_cand == FLOW_CANDIDATES)
            break;
        if (cJSON_IsString(e) && strlen(e->valuestring) < FLOW_CANDIDATE_MAX)
            snprintf(s->cand[s->n_cand++], FLOW_CANDIDATE_MAX, "%s", e->valuestring);
    }
}

int flow_state_decode(const cJSON *obj, const struct flow_set *set, struct flow_state *s)
{
    memset(s, 0, sizeof *s);
    s->ret = -1;
    const char *id = cJSON_IsObject(obj) ? str(obj, "id") : NULL;
    const struct flow_def *def = id ? flow_set_find(set, id) : NULL;
    if (!def)
        return -1;
    long now = num(obj, "seen", 0);
    flow_state_init(s, def, now);
    long i = num(obj, "i", 0);
    s->i = i < 0 ? 0 : (size_t)i > def->n_steps ? def->n_steps : (size_t)i;
    read_slots(def, cJSON_GetObjectItemCaseSensitive(obj, "a"), s->ans);
    const cJSON *offer = cJSON_GetObjectItemCaseSensitive(obj, "offer");
    s->offering = cJSON_IsObject(offer);
    read_slots(def, offer, s->offer);
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(obj, "pre")) {
        int step = cJSON_IsString(e) ? flow_def_slot_step(def, e->valuestring) : -1;
        if (step >= 0)
            s->pre |= 1u << step;
    }
    s->fails = (int)num(obj, "f", 0);
    s->t0 = num(obj, "t0", now);
    long ret = num(obj, "ret", -1);
    s->ret = ret >= 0 && (size_t)ret <= def->n_steps ? ret : -1;
    const char *pc = str(obj, "pc");
    snprintf(s->pc, sizeof s->pc, "%s", pc && (!strcmp(pc, "yes") || !strcmp(pc, "no")) ? pc : "");
    const char *assist = str(obj, "assist");
    s->assist = assist ? xstrdup(assist) : NULL;
    s->detour = num(obj, "d", 0) == 1;
    s->finished = num(obj, "fin", 0) == 1;
    read_candidates(s, cJSON_GetObjectItemCaseSensitive(obj, "cm"));
    s->typed = (uint32_t)num(obj, "ty", 0);
    s->typed_at = num(obj, "ta", 0);
    return 0;
}

/* ===== Encoding ===== */

static cJSON *slots_object(const struct flow_def *def, char *const values[])
{
    cJSON *o = cJSON_CreateObject();
    for (size_t k = 0; k < def->n_steps; k++)
        if (values[k] && def->steps[k].slot)
            cJSON_AddStringToObject(o, def->steps[k].slot, values[k]);
    return o;
}

cJSON *flow_state_encode(const struct flow_state *s)
{
    const struct flow_def *def = s->def;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", def->in->id);
    cJSON_AddNumberToObject(o, "i", (double)s->i);
    cJSON_AddItemToObject(o, "a", slots_object(def, s->ans));
    cJSON *pre = cJSON_AddArrayToObject(o, "pre");
    for (size_t k = 0; k < def->n_steps; k++)
        if ((s->pre >> k & 1u) && def->steps[k].slot)
            cJSON_AddItemToArray(pre, cJSON_CreateString(def->steps[k].slot));
    cJSON_AddNumberToObject(o, "f", s->fails);
    cJSON_AddNumberToObject(o, "t0", (double)s->t0);
    cJSON_AddNumberToObject(o, "seen", (double)s->seen);
    cJSON_AddNumberToObject(o, "ret", (double)s->ret);
    cJSON_AddStringToObject(o, "pc", s->pc);
    if (s->offering)
        cJSON_AddItemToObject(o, "offer", slots_object(def, s->offer));
    if (s->assist)
        cJSON_AddStringToObject(o, "assist", s->assist);
    if (s->detour)
        cJSON_AddNumberToObject(o, "d", 1);
    if (s->finished)
        cJSON_AddNumberToObject(o, "fin", 1);
    if (s->n_cand) {
        cJSON *cm = cJSON_AddArrayToObject(o, "cm");
        for (size_t k = 0; k < s->n_cand; k++)
            cJSON_AddItemToArray(cm, cJSON_CreateString(s->cand[k]));
    }
    if (s->typed_at) {
        cJSON_AddNumberToObject(o, "ty", (double)s->typed);
        cJSON_AddNumberToObject(o, "ta", (double)s->typed_at);
    }
    return o;
}

/* ===== Answers and branches ===== */

const char *flow_state_answer(const struct flow_state *s, size_t step)
{
    return step < s->def->n_steps ? s->ans[step] : NULL;
}

void flow_state_set_answer(struct flow_state *s, size_t step, const char *value)
{
    if (step >= s->def->n_steps)
        return;
    free(s->ans[step]);
    s->ans[step] = value ? xstrdup(value) : NULL;
    s->pre &= ~(1u << step);
}

bool flow_state_prefilled(const struct flow_state *s, size_t step)
{
    return step < s->def->n_steps && (s->pre >> step & 1u) && s->ans[step];
}

bool flow_state_applies(const struct flow_state *s, size_t step)
{
    if (step >= s->def->n_steps)
        return step == s->def->n_steps;
    const struct flow_cond *c = &s->def->steps[step].cond;
    if (c->step < 0)
        return true;
    const struct flow_step *choice = &s->def->steps[c->step];
    const char *a = s->ans[c->step];
    for (size_t k = 0; a && k < choice->n_options; k++)
        if ((c->options >> k & 1u) && strcmp(choice->options[k], a) == 0)
            return true;
    return false;
}

void flow_state_position(const struct flow_state *s, size_t i, size_t *n, size_t *total)
{
    size_t before = 0, all = 0;
    for (size_t k = 0; k < s->def->n_steps; k++) {
        if (!flow_state_applies(s, k))
            continue;
        all++;
        before += k < i;
    }
    *n = before + 1;
    *total = all + 1; /* the closing code step */
}
