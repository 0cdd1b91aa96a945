/* flowdef_shared — intents/_flow.json, what every flow shares: the command
 * words (and which command a typed line is), the portal's screens, the
 * readiness checks and the portal's search address. */
#include "dvcbot/flowdef_internal.h"
#include "dvcbot/buf.h"
#include "dvcbot/mem.h"
#include "dvcbot/normalize.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const command_names[FLOW_CMD_COUNT] = {
    "", "back", "cancel", "help", "menu", "next", "edit", "assist", "yes", "no",
};

/* ===== _flow.json: command words ===== */

static void parse_commands(struct checker *c, struct flow_set *set, const cJSON *extra)
{
    const cJSON *cmds = cJSON_GetObjectItemCaseSensitive(extra, "commands");
    if (!cJSON_IsObject(cmds)) {
        problemf(&c->pb, c->file, "commands", "missing object (_flow.json holds the flow command words)");
        return;
    }
    for (int k = 1; k < FLOW_CMD_COUNT; k++) {
        char field[40];
        snprintf(field, sizeof field, "commands.%s", command_names[k]);
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(cmds, command_names[k]);
        int n = cJSON_GetArraySize(arr);
        if (!cJSON_IsArray(arr) || n < 1 || n > MAX_WORDS) {
            problemf(&c->pb, c->file, field, "must be an array of 1..%d words", MAX_WORDS);
            continue;
        }
        const cJSON *w;
        cJSON_ArrayForEach(w, arr) {
            char *f = nonempty(w) ? norm_fold(w->valuestring, strlen(w->valuestring), NULL) : NULL;
            if (!f || !*f) {
                problemf(&c->pb, c->file, field, "every word must fold to letters or digits");
                free(f);
                continue;
            }
            set->words[k][set->n_words[k]++] = f;
            if (!strmap_has(&set->command_of, f))
                strmap_put(&set->command_of, f, (void *)(intptr_t)k);
        }
    }
    for (const cJSON *k = cmds->child; k; k = k->next) {
        bool known = false;
        for (int i = 1; i < FLOW_CMD_COUNT; i++)
            known = known || strcmp(command_names[i], k->string) == 0;
        if (!known)
            problemf(&c->pb, c->file, "commands", "unknown command '%s'", k->string);
    }
}

/* ===== _flow.json: portal screens and readiness checks ===== */

static bool optional_bool(struct checker *c, const char *field, const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v && !cJSON_IsBool(v))
        problemf(&c->pb, c->file, field, "%s must be true or false", key);
    return cJSON_IsTrue(v);
}

/* "screens": [{"id": "submit", "name": "Nộp hồ sơ", "required": true, "link": false,
 * "fee": false}, ...] */
static void parse_screens(struct checker *c, struct flow_set *set, const cJSON *extra)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(extra, "screens"), *js;
    int n = cJSON_GetArraySize(arr), links = 0;
    if (!cJSON_IsArray(arr) || n < 1 || n > FLOW_MAX_SCREENS) {
        problemf(&c->pb, c->file, "screens", "must be an array of 1..%d portal screens", FLOW_MAX_SCREENS);
        return;
    }
    cJSON_ArrayForEach(js, arr) {
        char field[40];
        snprintf(field, sizeof field, "screens[%zu]", set->n_screens);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(js, "id");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(js, "name");
        if (!nonempty(id) || !catalog_valid_id(id->valuestring, FLOW_NAME_MAX) ||
            screen_index(set, id->valuestring) >= 0 || !nonempty(name)) {
            problemf(&c->pb, c->file, field, "needs a unique id (a-z 0-9 _) and a name");
            continue;
        }
        struct flow_screen *s = &set->screens[set->n_screens++];
        s->id = id->valuestring;
        s->name = name->valuestring;
        s->required = optional_bool(c, field, js, "required");
        s->link = optional_bool(c, field, js, "link");
        s->fee = optional_bool(c, field, js, "fee");
        links += s->link;
    }
    if (links != 1)
        problemf(&c->pb, c->file, "screens", "exactly one screen shows the procedure's portal page (link)");
}

/* "checks": {"vneid": {"ask", "yes", "no", "screen", "then": "stop" | "continue"}, ...} */
static void parse_checks(struct checker *c, struct flow_set *set, const cJSON *extra)
{
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(extra, "checks"), *js;
    if (!cJSON_IsObject(obj) || !obj->child || cJSON_GetArraySize(obj) > FLOW_MAX_CHECKS) {
        problemf(&c->pb, c->file, "checks", "must be an object of 1..%d readiness checks", FLOW_MAX_CHECKS);
        return;
    }
    cJSON_ArrayForEach(js, obj) {
        char field[48];
        snprintf(field, sizeof field, "checks.%.30s", js->string);
        const cJSON *ask = cJSON_GetObjectItemCaseSensitive(js, "ask");
        const cJSON *yes = cJSON_GetObjectItemCaseSensitive(js, "yes");
        const cJSON *no = cJSON_GetObjectItemCaseSensitive(js, "no");
        const cJSON *screen = cJSON_GetObjectItemCaseSensitive(js, "screen");
        const cJSON *then = cJSON_GetObjectItemCaseSensitive(js, "then");
        bool labels = nonempty(yes) && nonempty(no) && strlen(yes->valuestring) <= FLOW_OPTION_MAX &&
                      strlen(no->valuestring) <= FLOW_OPTION_MAX;
        bool stops = nonempty(then) && strcmp(then->valuestring, "stop") == 0;
        if (!catalog_valid_id(js->string, FLOW_NAME_MAX) || !nonempty(ask) || !labels ||
            !nonempty(screen) || !catalog_valid_id(screen->valuestring, 63) ||
            (!stops && (!nonempty(then) || strcmp(then->valuestring, "continue") != 0))) {
            problemf(&c->pb, c->file, field, "needs an id (a-z 0-9 _), ask, yes and no (button labels of 1..%d "
                    "bytes), screen (a help_ template) and then (stop or continue)",
                    FLOW_OPTION_MAX);
            continue;
        }
        set->checks[set->n_checks++] = (struct flow_check){
            .name = js->string, .ask = ask->valuestring, .yes = yes->valuestring,
            .no = no->valuestring, .screen = screen->valuestring, .stops = stops,
        };
    }
}

/* "correction_words": what people type around an answer they correct
 * ("nhầm rồi, bé gái"), each one word, kept folded. */
static void parse_correction_words(struct checker *c, struct flow_set *set, const cJSON *extra)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(extra, "correction_words");
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1) {
        problemf(&c->pb, c->file, "correction_words", "must be an array of words");
        return;
    }
    const cJSON *w;
    cJSON_ArrayForEach(w, arr) {
        char *f = nonempty(w) ? norm_fold(w->valuestring, strlen(w->valuestring), NULL) : NULL;
        if (!f || !*f || strchr(f, ' '))
            problemf(&c->pb, c->file, "correction_words", "every entry must be one word");
        else
            strmap_put(&set->correction_words, f, NULL);
        free(f);
    }
}

/* "assist_words": {"Anh/chị": "Người dân", ...}: how a text to the user
 * about themselves speaks of the resident a volunteer helps. */
static void parse_assist_words(struct checker *c, struct flow_set *set, const cJSON *extra)
{
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(extra, "assist_words"), *w;
    if (!cJSON_IsObject(obj) || cJSON_GetArraySize(obj) > FLOW_MAX_ASSIST_WORDS) {
        problemf(&c->pb, c->file, "assist_words", "must be an object of at most %d words and what a volunteer "
                "reads instead", FLOW_MAX_ASSIST_WORDS);
        return;
    }
    cJSON_ArrayForEach(w, obj) {
        if (!w->string[0] || !nonempty(w)) {
            problemf(&c->pb, c->file, "assist_words", "every word and its replacement must be non-empty");
            continue;
        }
        set->assist_from[set->n_assist_words] = w->string;
        set->assist_to[set->n_assist_words++] = w->valuestring;
    }
}

/* text with the set's assist words replaced (caller frees). */
static char *assist_words_replaced(const struct flow_set *set, const char *text)
{
    struct buf b;
    buf_init(&b);
    for (const char *p = text; *p;) {
        size_t k = 0;
        while (k < set->n_assist_words && strncmp(p, set->assist_from[k], strlen(set->assist_from[k])) != 0)
            k++;
        if (k == set->n_assist_words) {
            buf_putc(&b, *p++);
        } else {
            buf_puts(&b, set->assist_to[k]);
            p += strlen(set->assist_from[k]);
        }
    }
    return buf_steal(&b);
}

void flowdef_assist_text(struct checker *c, const char *f, const cJSON *js, struct flow_step *st)
{
    const cJSON *own = cJSON_GetObjectItemCaseSensitive(js, "assist");
    if (own && !nonempty(own))
        problemf(&c->pb, c->file, f, "assist must be a non-empty string");
    for (size_t k = 0; k < st->n_options && k < FLOW_MAX_OPTIONS; k++) {
        char *option = assist_words_replaced(c->set, st->options[k]);
        if (strcmp(option, st->options[k]) == 0)
            free(option);
        else
            st->assist_options[k] = option;
    }
    if (!st->text)
        return;
    char *text = nonempty(own) ? xstrdup(own->valuestring) : assist_words_replaced(c->set, st->text);
    if (strcmp(text, st->text) == 0) {
        free(text);
        return;
    }
    st->assist_owned = text;
    st->assist_text = text;
}

bool flow_set_is_correction_word(const struct flow_set *set, const char *folded)
{
    return strmap_has(&set->correction_words, folded);
}

static void parse_portal_search(struct checker *c, struct flow_set *set, const cJSON *extra)
{
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(extra, "portal_search");
    if (!nonempty(url) || strncmp(url->valuestring, FLOW_PORTAL_PREFIX, strlen(FLOW_PORTAL_PREFIX)) != 0)
        problemf(&c->pb, c->file, "portal_search", "must be the portal's search address (%s…), the procedure's "
                "name is appended", FLOW_PORTAL_PREFIX);
    else
        set->portal_search = url->valuestring;
}

void flowdef_parse_shared(struct checker *c, struct flow_set *set, const cJSON *extra)
{
    static const char *const keys[] = {"commands", "screens", "checks", "portal_search",
                                       "correction_words", "assist_words", "comment", NULL};
    c->file = "_flow.json";
    for (const cJSON *k = extra ? extra->child : NULL; k; k = k->next)
        if (!listed(keys, k->string))
            problemf(&c->pb, c->file, "", "unknown key '%s'", k->string);
    parse_commands(c, set, extra);
    parse_screens(c, set, extra);
    parse_checks(c, set, extra);
    parse_portal_search(c, set, extra);
    parse_correction_words(c, set, extra);
    parse_assist_words(c, set, extra);
}

/* ===== Commands ===== */

/* Every message is asked whether it is a command (several modules, each
 * turn): folded on the stack, one lookup, the edit words' prefixes last. A
 * line that does not fold into FLOW_COMMAND_FOLD_MAX bytes is none. */
enum flow_command flow_set_command(const struct flow_set *set, const char *text, char *rest,
                                   size_t cap)
{
    if (cap)
        rest[0] = '\0';
    char f[FLOW_COMMAND_FOLD_MAX];
    size_t flen = norm_fold_into(text, strlen(text), f, sizeof f);
    if (flen == NORM_ERROR || flen == 0)
        return FLOW_CMD_NONE;
    void *k = strmap_get(&set->command_of, f);
    if (k)
        return (enum flow_command)(intptr_t)k;
    for (size_t i = 0; i < set->n_words[FLOW_CMD_EDIT]; i++) {
        const char *w = set->words[FLOW_CMD_EDIT][i];
        size_t wl = strlen(w);
        if (strncmp(f, w, wl) == 0 && f[wl] == ' ') {
            snprintf(rest, cap, "%s", f + wl + 1);
            return FLOW_CMD_EDIT;
        }
    }
    return FLOW_CMD_NONE;
}

enum flow_command flow_set_command_of(const struct flow_set *set, const char *text)
{
    return flow_set_command(set, text, NULL, 0);
}

