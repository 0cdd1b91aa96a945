/* flowdef — parse and check each procedure's flow from the catalog's JSON; what
 * every flow shares (intents/_flow.json, the command words) is in
 * flowdef_shared.c. */
#include "dvcbot/flowdef.h"
#include "dvcbot/flowdef_internal.h"
#include "dvcbot/strmap.h"
#include "dvcbot/buf.h"
#include "dvcbot/mem.h"
#include "dvcbot/normalize.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLOW_EXTRA "flow" /* intents/_flow.json */
#define DOCUMENT_MARK "{document}"

static const char *const type_names[SLOT_TYPE_COUNT] = {
    "name", "date", "cccd", "phone", "commune", "choice", "text",
};
static const char *const profile_names[PROFILE_FIELD_COUNT] = {
    "name", "birth_date", "cccd", "phone", "commune",
};
/* The slot type each profile field holds. */
static const enum flow_slot_type profile_types[PROFILE_FIELD_COUNT] = {
    SLOT_NAME, SLOT_DATE, SLOT_CCCD, SLOT_PHONE, SLOT_COMMUNE,
};

const char *flow_slot_type_name(enum flow_slot_type t)
{
    return (unsigned)t < SLOT_TYPE_COUNT ? type_names[t] : "unknown";
}

const char *profile_field_name(enum profile_field f)
{
    return f >= 0 && f < PROFILE_FIELD_COUNT ? profile_names[f] : "";
}

int profile_field_from_name(const char *name)
{
    for (int i = 0; i < PROFILE_FIELD_COUNT; i++)
        if (strcmp(profile_names[i], name) == 0)
            return i;
    return PROFILE_NONE;
}

static int type_from_name(const char *name)
{
    for (int i = 0; i < SLOT_TYPE_COUNT; i++)
        if (strcmp(type_names[i], name) == 0)
            return i;
    return -1;
}

static const struct flow_check *check_named(const struct flow_set *set, const char *name)
{
    for (size_t i = 0; i < set->n_checks; i++)
        if (strcmp(set->checks[i].name, name) == 0)
            return &set->checks[i];
    return NULL;
}

/* ===== One step ===== */

static const char *const step_keys[] = {
    "say", "say_step", "ask", "slot", "type", "label", "hint", "profile", "when", "options", "said",
    "min", "max", "optional", "check", "document", "screen", "if", "assist", NULL,
};
/* Keys any kind of step may carry. */
static const char *const common_keys[] = {"screen", "if", "assist", NULL};

static void parse_instruction(struct checker *c, const char *f, const cJSON *js,
                              const struct intent *in, struct flow_step *st)
{
    static const char *const own[] = {"say", "say_step", NULL};
    const cJSON *say = cJSON_GetObjectItemCaseSensitive(js, "say");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(js, "say_step");
    st->kind = FLOW_STEP_SAY;
    if (say && n) {
        problemf(&c->pb, c->file, f, "give either say or say_step, not both");
    } else if (say) {
        if (!nonempty(say))
            problemf(&c->pb, c->file, f, "say must be a non-empty string");
        else
            st->text = say->valuestring;
    } else {
        size_t max = in->proc ? in->proc->n_steps : 0;
        if (!cJSON_IsNumber(n) || n->valuedouble != (double)(int)n->valuedouble ||
            n->valuedouble < 1 || n->valuedouble > (double)max)
            problemf(&c->pb, c->file, f, "say_step must be a step number 1..%zu of procedure.steps", max);
        else
            st->text = in->proc->steps[(int)n->valuedouble - 1];
    }
    for (const cJSON *k = js->child; k; k = k->next)
        if (!listed(own, k->string) && !listed(common_keys, k->string))
            problemf(&c->pb, c->file, f, "'%s' does not belong to an instruction step", k->string);
}

/* "Đã chụp ảnh {document} chưa?" with the step's document. */
static char *fill_document(const char *ask, const char *document)
{
    struct buf b;
    buf_init(&b);
    const char *mark = strstr(ask, DOCUMENT_MARK);
    if (!mark) {
        buf_puts(&b, ask);
    } else {
        buf_printf(&b, "%.*s%s%s", (int)(mark - ask), ask, document,
                   mark + strlen(DOCUMENT_MARK));
    }
    return buf_steal(&b);
}

static void parse_check(struct checker *c, const char *f, const cJSON *js, struct flow_step *st)
{
    static const char *const own[] = {"check", "document", NULL};
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(js, "check");
    const cJSON *doc = cJSON_GetObjectItemCaseSensitive(js, "document");
    st->kind = FLOW_STEP_CHECK;
    for (const cJSON *k = js->child; k; k = k->next)
        if (!listed(own, k->string) && strcmp(k->string, "screen") != 0 &&
            strcmp(k->string, "assist") != 0)
            problemf(&c->pb, c->file, f, "'%s' does not belong to a readiness check", k->string);
    st->check = nonempty(name) ? check_named(c->set, name->valuestring) : NULL;
    if (!st->check) {
        problemf(&c->pb, c->file, f, "check must name one of the checks of _flow.json");
        return;
    }
    bool wants = strstr(st->check->ask, DOCUMENT_MARK) != NULL;
    if (wants && (!nonempty(doc) || strlen(doc->valuestring) > FLOW_DOCUMENT_MAX))
        problemf(&c->pb, c->file, f, "check %s needs a document (what to photograph, at most %d bytes)",
                st->check->name, FLOW_DOCUMENT_MAX);
    else if (!wants && doc)
        problemf(&c->pb, c->file, f, "check %s takes no document", st->check->name);
    st->owned = fill_document(st->check->ask, nonempty(doc) ? doc->valuestring : "");
    st->text = st->owned;
}

static void parse_options(struct checker *c, const char *f, const cJSON *opts,
                          struct flow_step *st)
{
    int n = cJSON_GetArraySize(opts);
    if (!cJSON_IsArray(opts) || n < 2 || n > FLOW_MAX_OPTIONS) {
        problemf(&c->pb, c->file, f, "options must be an array of 2..%d strings", FLOW_MAX_OPTIONS);
        return;
    }
    const cJSON *o;
    cJSON_ArrayForEach(o, opts) {
        if (!nonempty(o) || strlen(o->valuestring) > FLOW_OPTION_MAX) {
            problemf(&c->pb, c->file, f, "every option must be a string of 1..%d bytes", FLOW_OPTION_MAX);
            return;
        }
        for (size_t i = 0; i < st->n_options; i++)
            if (strcmp(st->options[i], o->valuestring) == 0)
                problemf(&c->pb, c->file, f, "option '%s' is listed twice", o->valuestring);
        st->options[st->n_options++] = o->valuestring;
    }
}

/* "said": one list of phrases per option, each naming that option in the
 * user's words ("1 năm" for "12 tháng", "bị mất" for "Làm lại (mất
 * thẻ)"); kept folded, one buffer. */
static void parse_said(struct checker *c, const char *f, const cJSON *said, struct flow_step *st)
{
    if (!said)
        return;
    if (st->type != SLOT_CHOICE || !cJSON_IsArray(said) ||
        (size_t)cJSON_GetArraySize(said) != st->n_options) {
        problemf(&c->pb, c->file, f, "said must be an array with one list of phrases per option");
        return;
    }
    struct buf b;
    buf_init(&b);
    size_t offs[FLOW_MAX_SAID];
    unsigned char k = 0;
    for (const cJSON *list = said->child; list; list = list->next, k++) {
        for (const cJSON *p = cJSON_IsArray(list) ? list->child : NULL; p; p = p->next) {
            size_t n = 0;
            char *folded = nonempty(p) && strlen(p->valuestring) <= FLOW_OPTION_MAX
                               ? norm_fold(p->valuestring, strlen(p->valuestring), &n) : NULL;
            if (!folded || !n || st->n_said == FLOW_MAX_SAID) {
                problemf(&c->pb, c->file, f, "said: at most %d phrases in all, each 1..%d bytes",
                         FLOW_MAX_SAID, FLOW_OPTION_MAX);
                free(folded);
                break;
            }
            offs[st->n_said] = b.len;
            st->said_opt[st->n_said++] = k;
            buf_printf(&b, "%s", folded);
            buf_putc(&b, '\0');
            free(folded);
        }
        if (!cJSON_IsArray(list))
            problemf(&c->pb, c->file, f, "said: each option's phrases are a list of strings");
    }
    st->said_owned = buf_steal(&b);
    for (size_t i = 0; i < st->n_said; i++) {
        st->said[i] = st->said_owned + offs[i];
        for (size_t j = 0; j < i; j++)
            if (strcmp(st->said[i], st->said[j]) == 0)
                problemf(&c->pb, c->file, f, "said: phrase '%s' is listed twice", st->said[i]);
    }
}

static void parse_bounds(struct checker *c, const char *f, const cJSON *js, struct flow_step *st)
{
    const cJSON *mn = cJSON_GetObjectItemCaseSensitive(js, "min");
    const cJSON *mx = cJSON_GetObjectItemCaseSensitive(js, "max");
    bool sized = st->type == SLOT_NAME || st->type == SLOT_COMMUNE || st->type == SLOT_TEXT;
    st->min = 2;
    st->max = st->type == SLOT_TEXT ? 200 : 60;
    if ((mn || mx) && !sized) {
        problemf(&c->pb, c->file, f, "min/max only apply to name, commune and text slots");
        return;
    }
    if (mn) {
        if (!cJSON_IsNumber(mn) || mn->valuedouble < 1 || mn->valuedouble > VALIDATE_TEXT_MAX_CHARS)
            problemf(&c->pb, c->file, f, "min must be 1..%d", VALIDATE_TEXT_MAX_CHARS);
        else
            st->min = (unsigned)mn->valuedouble;
    }
    if (mx) {
        if (!cJSON_IsNumber(mx) || mx->valuedouble < 1 || mx->valuedouble > VALIDATE_TEXT_MAX_CHARS)
            problemf(&c->pb, c->file, f, "max must be 1..%d", VALIDATE_TEXT_MAX_CHARS);
        else
            st->max = (unsigned)mx->valuedouble;
    }
    if (st->min > st->max)
        problemf(&c->pb, c->file, f, "min is larger than max");
}

static void parse_when(struct checker *c, const char *f, const cJSON *when, struct flow_step *st)
{
    static const char *const words[] = {"any", "past", "future", "recent", "upcoming"};
    static const enum valid_date_rule rules[] = {VALID_DATE_ANY, VALID_DATE_NOT_FUTURE,
        VALID_DATE_NOT_PAST, VALID_DATE_RECENT, VALID_DATE_UPCOMING};
    st->when = VALID_DATE_ANY;
    if (when && st->type != SLOT_DATE)
        problemf(&c->pb, c->file, f, "when only applies to date slots");
    if (!when || st->type != SLOT_DATE)
        return;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (nonempty(when) && strcmp(when->valuestring, words[i]) == 0) {
            st->when = rules[i];
            return;
        }
    problemf(&c->pb, c->file, f, "when must be past, recent, future, upcoming or any");
}

static void parse_profile(struct checker *c, const char *f, const cJSON *p, struct flow_step *st)
{
    st->profile = PROFILE_NONE;
    if (!p)
        return;
    int pf = nonempty(p) ? profile_field_from_name(p->valuestring) : PROFILE_NONE;
    if (pf == PROFILE_NONE)
        problemf(&c->pb, c->file, f, "profile must be one of name, birth_date, cccd, phone, commune");
    else if (profile_types[pf] != st->type)
        problemf(&c->pb, c->file, f, "profile %s needs a slot of type %s", profile_names[pf],
                type_names[profile_types[pf]]);
    else if (pf != PROFILE_COMMUNE)
        problemf(&c->pb, c->file, f, "profile %s: VNeID fills it on the portal, do not ask it", profile_names[pf]);
    else
        st->profile = (enum profile_field)pf;
}

static void parse_question(struct checker *c, const char *f, const cJSON *js, struct flow_step *st)
{
    static const char *const own[] = {"ask", "slot", "type", "label", "hint", "profile", "when",
                                      "options", "said", "min", "max", "optional", NULL};
    const cJSON *ask = cJSON_GetObjectItemCaseSensitive(js, "ask");
    const cJSON *slot = cJSON_GetObjectItemCaseSensitive(js, "slot");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(js, "type");
    const cJSON *label = cJSON_GetObjectItemCaseSensitive(js, "label");
    const cJSON *hint = cJSON_GetObjectItemCaseSensitive(js, "hint");
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(js, "options");
    const cJSON *opt = cJSON_GetObjectItemCaseSensitive(js, "optional");
    st->kind = FLOW_STEP_ASK;
    for (const cJSON *k = js->child; k; k = k->next)
        if (!listed(own, k->string) && !listed(common_keys, k->string))
            problemf(&c->pb, c->file, f, "'%s' does not belong to a question", k->string);
    if (!nonempty(ask))
        problemf(&c->pb, c->file, f, "ask must be a non-empty string");
    else
        st->text = ask->valuestring;
    if (!nonempty(slot) || !catalog_valid_id(slot->valuestring, FLOW_SLOT_ID_MAX))
        problemf(&c->pb, c->file, f, "slot must be an id of a-z 0-9 _ (at most %d bytes)", FLOW_SLOT_ID_MAX);
    else
        st->slot = slot->valuestring;
    int t = nonempty(type) ? type_from_name(type->valuestring) : -1;
    if (t < 0) {
        problemf(&c->pb, c->file, f, "type must be one of name, date, cccd, phone, commune, choice, text");
        return;
    }
    st->type = (enum flow_slot_type)t;
    if (!nonempty(label) || strlen(label->valuestring) > FLOW_LABEL_MAX)
        problemf(&c->pb, c->file, f, "label must be a string of 1..%d bytes", FLOW_LABEL_MAX);
    else
        st->label = label->valuestring;
    if (hint && !nonempty(hint))
        problemf(&c->pb, c->file, f, "hint must be a non-empty string");
    st->hint = nonempty(hint) ? hint->valuestring : NULL;
    if (opt && !cJSON_IsBool(opt))
        problemf(&c->pb, c->file, f, "optional must be true or false");
    st->optional = cJSON_IsTrue(opt);
    if (st->type == SLOT_CHOICE)
        parse_options(c, f, opts, st);
    else if (opts)
        problemf(&c->pb, c->file, f, "options only apply to choice slots");
    parse_said(c, f, cJSON_GetObjectItemCaseSensitive(js, "said"), st);
    parse_bounds(c, f, js, st);
    parse_when(c, f, cJSON_GetObjectItemCaseSensitive(js, "when"), st);
    parse_profile(c, f, cJSON_GetObjectItemCaseSensitive(js, "profile"), st);
}

static void parse_screen(struct checker *c, const char *f, const cJSON *js, struct flow_step *st)
{
    const cJSON *screen = cJSON_GetObjectItemCaseSensitive(js, "screen");
    st->screen = -1;
    if (!screen)
        return;
    st->screen = nonempty(screen) ? screen_index(c->set, screen->valuestring) : -1;
    if (st->screen < 0)
        problemf(&c->pb, c->file, f, "screen must be one of the screens of _flow.json");
}

/* "if": {"<slot of an earlier choice>": "<option>" | ["<option>", ...]}. */
static void parse_cond(struct checker *c, const char *f, const cJSON *js, const struct flow_def *def,
                       size_t at, struct flow_step *st)
{
    const cJSON *cond = cJSON_GetObjectItemCaseSensitive(js, "if");
    st->cond.step = -1;
    if (!cond)
        return;
    const cJSON *on = cJSON_IsObject(cond) ? cond->child : NULL;
    if (!on || on->next) {
        problemf(&c->pb, c->file, f, "if must name one earlier choice: {\"<slot>\": \"<option>\"}");
        return;
    }
    int step = flow_def_slot_step(def, on->string);
    if (step < 0 || (size_t)step >= at || def->steps[step].type != SLOT_CHOICE ||
        def->steps[step].cond.step >= 0) {
        problemf(&c->pb, c->file, f, "if: '%s' is not an earlier choice asked on every branch", on->string);
        return;
    }
    const struct flow_step *choice = &def->steps[step];
    unsigned mask = 0;
    const cJSON *item = cJSON_IsArray(on) ? on->child : on;
    for (; item; item = cJSON_IsArray(on) ? item->next : NULL) {
        int k = -1;
        for (size_t o = 0; nonempty(item) && o < choice->n_options; o++)
            if (strcmp(choice->options[o], item->valuestring) == 0)
                k = (int)o;
        if (k < 0) {
            problemf(&c->pb, c->file, f, "if: every value must be an option of '%s'", on->string);
            return;
        }
        mask |= 1u << k;
    }
    if (!mask)
        problemf(&c->pb, c->file, f, "if: name at least one option of '%s'", on->string);
    st->cond.step = step;
    st->cond.options = mask;
}

static void parse_step(struct checker *c, const char *f, const cJSON *js, struct flow_def *def,
                       size_t at)
{
    struct flow_step *st = &def->steps[at];
    memset(st, 0, sizeof *st);
    st->profile = PROFILE_NONE;
    st->screen = -1;
    st->cond.step = -1;
    if (!cJSON_IsObject(js)) {
        problemf(&c->pb, c->file, f, "must be an object");
        return;
    }
    for (const cJSON *k = js->child; k; k = k->next)
        if (!listed(step_keys, k->string))
            problemf(&c->pb, c->file, f, "unknown key '%s'", k->string);
    bool is_ask = cJSON_GetObjectItemCaseSensitive(js, "ask") != NULL;
    bool is_check = cJSON_GetObjectItemCaseSensitive(js, "check") != NULL;
    bool is_say = cJSON_GetObjectItemCaseSensitive(js, "say") ||
                  cJSON_GetObjectItemCaseSensitive(js, "say_step");
    if (is_ask + is_check + is_say != 1)
        problemf(&c->pb, c->file, f, "a step is either an instruction (say, say_step), a question (ask) or a "
                      "readiness check (check)");
    else if (is_say)
        parse_instruction(c, f, js, def->in, st);
    else if (is_check)
        parse_check(c, f, js, st);
    else
        parse_question(c, f, js, st);
    parse_screen(c, f, js, st);
    parse_cond(c, f, js, def, at, st);
    flowdef_assist_text(c, f, js, st);
    if (st->kind == FLOW_STEP_CHECK && st->cond.step >= 0)
        problemf(&c->pb, c->file, f, "a readiness check applies on every branch (no if)");
}

/* ===== One flow ===== */

static void check_unique_slots(struct checker *c, const struct flow_def *def)
{
    size_t slots = 0;
    bool profile_seen[PROFILE_FIELD_COUNT] = {false};
    for (size_t i = 0; i < def->n_steps; i++) {
        const struct flow_step *s = &def->steps[i];
        if (!s->slot)
            continue;
        slots++;
        for (size_t j = 0; j < i; j++)
            if (def->steps[j].slot && strcmp(def->steps[j].slot, s->slot) == 0)
                problemf(&c->pb, c->file, "flow.steps", "slot '%s' is asked twice", s->slot);
        if (s->profile != PROFILE_NONE) {
            if (profile_seen[s->profile])
                problemf(&c->pb, c->file, "flow.steps", "profile %s is filled by two slots",
                        profile_names[s->profile]);
            profile_seen[s->profile] = true;
        }
    }
    if (slots > FLOW_MAX_SLOTS)
        problemf(&c->pb, c->file, "flow.steps", "at most %d questions per flow", FLOW_MAX_SLOTS);
}

/* An unconditional instruction walks the screen. */
static bool walks(const struct flow_def *def, int screen)
{
    for (size_t i = 0; i < def->n_steps; i++)
        if (def->steps[i].kind == FLOW_STEP_SAY && def->steps[i].screen == screen &&
            def->steps[i].cond.step < 0)
            return true;
    return false;
}

/* Readiness first; every question says where its answer goes; every
 * required screen walked by an instruction on every branch. */
static void check_shape(struct checker *c, const struct flow_def *def)
{
    size_t checks = 0;
    while (checks < def->n_steps && def->steps[checks].kind == FLOW_STEP_CHECK)
        checks++;
    if (checks == 0)
        problemf(&c->pb, c->file, "flow.steps", "a flow starts with its readiness checks (\"check\")");
    for (size_t i = checks; i < def->n_steps; i++) {
        const struct flow_step *s = &def->steps[i];
        char field[48];
        snprintf(field, sizeof field, "flow.steps[%zu]", i);
        if (s->kind == FLOW_STEP_CHECK)
            problemf(&c->pb, c->file, field, "readiness checks come first, before any other step");
        if (s->kind == FLOW_STEP_ASK && s->screen < 0)
            problemf(&c->pb, c->file, field, "a question names the portal screen its answer is needed on (screen)");
        else if (s->kind == FLOW_STEP_ASK && !walks(def, s->screen))
            problemf(&c->pb, c->file, field, "no instruction on every branch walks its screen '%s' (the answer "
                    "is shown there)", c->set->screens[s->screen].id);
    }
    for (size_t k = 0; k < c->set->n_screens; k++) {
        if (c->set->screens[k].required && !walks(def, (int)k))
            problemf(&c->pb, c->file, "flow.steps", "no instruction on every branch walks the screen '%s' (%s)",
                    c->set->screens[k].id, c->set->screens[k].name);
    }
}

static void parse_flow(struct checker *c, const struct intent *in, struct flow_def *def)
{
    def->in = in;
    const cJSON *flow = cJSON_GetObjectItemCaseSensitive(in->json, "flow");
    if (in->kind != INTENT_PROCEDURE) {
        if (flow)
            problemf(&c->pb, c->file, "flow", "only procedures have a flow");
        return;
    }
    if (!cJSON_IsObject(flow)) {
        problemf(&c->pb, c->file, "flow", "missing object (every procedure needs a guided flow)");
        return;
    }
    for (const cJSON *k = flow->child; k; k = k->next)
        if (strcmp(k->string, "steps") != 0)
            problemf(&c->pb, c->file, "flow", "unknown key '%s'", k->string);
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(flow, "steps");
    int n = cJSON_GetArraySize(steps);
    if (!cJSON_IsArray(steps) || n < 1 || n > FLOW_MAX_STEPS) {
        problemf(&c->pb, c->file, "flow.steps", "must be an array of 1..%d steps", FLOW_MAX_STEPS);
        return;
    }
    def->steps = xcalloc((size_t)n, sizeof *def->steps);
    size_t i = 0;
    const cJSON *js;
    cJSON_ArrayForEach(js, steps) {
        char field[48];
        snprintf(field, sizeof field, "flow.steps[%zu]", i);
        def->n_steps = i + 1; /* the steps before are parsed: conditions may name them */
        parse_step(c, field, js, def, i++);
    }
    check_unique_slots(c, def);
    check_shape(c, def);
}

/* ===== The set ===== */

struct flow_set *flow_set_load(const struct catalog *cat, catalog_report_fn report, void *ud)
{
    struct flow_set *set = xcalloc(1, sizeof *set);
    strmap_init(&set->command_of);
    strmap_init(&set->correction_words);
    strmap_init(&set->by_id);
    struct checker c = {.pb = {.report = report, .ud = ud}, .set = set};
    size_t procs = 0;
    flowdef_parse_shared(&c, set, catalog_extra(cat, FLOW_EXTRA));
    for (size_t i = 0; i < catalog_size(cat); i++)
        procs += catalog_at(cat, i)->kind == INTENT_PROCEDURE;
    set->defs = xcalloc(procs ? procs : 1, sizeof *set->defs);
    char file[96];
    for (size_t i = 0; i < catalog_size(cat); i++) {
        const struct intent *in = catalog_at(cat, i);
        snprintf(file, sizeof file, "%s.json", in->id);
        c.file = file;
        struct flow_def tmp = {0};
        parse_flow(&c, in, in->kind == INTENT_PROCEDURE ? &set->defs[set->n] : &tmp);
        if (in->kind == INTENT_PROCEDURE)
            set->n++;
    }
    if (c.pb.count) {
        flow_set_free(set);
        return NULL;
    }
    for (size_t i = 0; i < set->n; i++)
        if (!strmap_has(&set->by_id, set->defs[i].in->id))
            strmap_put(&set->by_id, set->defs[i].in->id, &set->defs[i]);
    return set;
}

void flow_set_free(struct flow_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++) {
        for (size_t s = 0; s < set->defs[i].n_steps; s++) {
            free(set->defs[i].steps[s].owned);
            free(set->defs[i].steps[s].assist_owned);
            for (size_t k = 0; k < FLOW_MAX_OPTIONS; k++)
                free(set->defs[i].steps[s].assist_options[k]);
            free(set->defs[i].steps[s].said_owned);
        }
        free(set->defs[i].steps);
    }
    free(set->defs);
    for (int k = 0; k < FLOW_CMD_COUNT; k++)
        for (size_t i = 0; i < set->n_words[k]; i++)
            free(set->words[k][i]);
    strmap_free(&set->command_of);
    strmap_free(&set->correction_words);
    strmap_free(&set->by_id);
    free(set);
}

/* By the id map (a look-up, not a strcmp per procedure: note_request asks
 * once a turn). */
const struct flow_def *flow_set_find(const struct flow_set *set, const char *procedure_id)
{
    return strmap_get(&set->by_id, procedure_id);
}

size_t flow_set_size(const struct flow_set *set)
{
    return set->n;
}

const struct flow_def *flow_set_at(const struct flow_set *set, size_t i)
{
    return i < set->n ? &set->defs[i] : NULL;
}

size_t flow_set_n_screens(const struct flow_set *set)
{
    return set->n_screens;
}

const struct flow_screen *flow_set_screen(const struct flow_set *set, int i)
{
    return i >= 0 && (size_t)i < set->n_screens ? &set->screens[i] : NULL;
}

const char *flow_set_portal_search(const struct flow_set *set)
{
    return set->portal_search;
}

size_t flow_set_n_checks(const struct flow_set *set)
{
    return set->n_checks;
}

const struct flow_check *flow_set_check(const struct flow_set *set, size_t i)
{
    return i < set->n_checks ? &set->checks[i] : NULL;
}

/* ===== Slots ===== */

int flow_def_slot_step(const struct flow_def *def, const char *slot)
{
    for (size_t i = 0; i < def->n_steps; i++)
        if (def->steps[i].slot && strcmp(def->steps[i].slot, slot) == 0)
            return (int)i;
    return -1;
}

int flow_def_find_slot(const struct flow_def *def, const char *folded)
{
    if (!*folded)
        return -1;
    int found = -1, n = 0;
    for (size_t i = 0; i < def->n_steps; i++) {
        const struct flow_step *s = &def->steps[i];
        if (!s->slot)
            continue;
        char *label = norm_fold(s->label, strlen(s->label), NULL);
        char id[FLOW_SLOT_ID_MAX + 1];
        snprintf(id, sizeof id, "%s", s->slot);
        for (char *p = id; *p; p++)
            if (*p == '_')
                *p = ' ';
        bool exact = (label && strcmp(label, folded) == 0) || strcmp(id, folded) == 0;
        bool part = (label && strstr(label, folded)) || strstr(id, folded);
        free(label);
        if (exact)
            return (int)i;
        if (part) {
            found = (int)i;
            n++;
        }
    }
    return n == 1 ? found : -1;
}
