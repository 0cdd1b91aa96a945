/* flowdef_internal — what flowdef.c (the flows of the procedures, their
 * steps, the set) and flowdef_shared.c (intents/_flow.json: command words,
 * portal screens, readiness checks; which command a line is) share. Not for
 * other modules: they use flowdef.h. */
#ifndef DVCBOT_FLOWDEF_INTERNAL_H
#define DVCBOT_FLOWDEF_INTERNAL_H

#include "dvcbot/flowdef.h"
#include "dvcbot/strmap.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <string.h>

#define MAX_WORDS 16

#define FLOW_COMMAND_FOLD_MAX 256 /* bytes of a folded line that may be a command */
#define FLOW_MAX_ASSIST_WORDS 8

struct flow_set {
    struct flow_def *defs;
    size_t n;
    struct strmap by_id;         /* procedure id → its def (the first of an id) */
    char *words[FLOW_CMD_COUNT][MAX_WORDS]; /* folded command words */
    size_t n_words[FLOW_CMD_COUNT];
    struct strmap command_of;    /* folded word → its command (the first list naming it) */
    struct flow_screen screens[FLOW_MAX_SCREENS];
    size_t n_screens;
    struct flow_check checks[FLOW_MAX_CHECKS];
    size_t n_checks;
    const char *portal_search;   /* the portal's search, the name appended */
    struct strmap correction_words; /* folded words around a corrected answer (keys only) */
    const char *assist_from[FLOW_MAX_ASSIST_WORDS]; /* "Anh/chị" → assist_to "Người dân" */
    const char *assist_to[FLOW_MAX_ASSIST_WORDS];
    size_t n_assist_words;
};

struct checker {
    struct problems pb;
    const char *file;
    const struct flow_set *set;
};

static inline bool nonempty(const cJSON *j)
{
    return cJSON_IsString(j) && j->valuestring[0];
}

static inline int screen_index(const struct flow_set *set, const char *id)
{
    for (size_t i = 0; i < set->n_screens; i++)
        if (strcmp(set->screens[i].id, id) == 0)
            return (int)i;
    return -1;
}

static inline bool listed(const char *const *keys, const char *k)
{
    for (size_t i = 0; keys[i]; i++)
        if (strcmp(keys[i], k) == 0)
            return true;
    return false;
}

/* Reads _flow.json (the catalog's "flow" extra) into set, reporting its
 * problems through c. */
void flowdef_parse_shared(struct checker *c, struct flow_set *set, const cJSON *extra);
/* st's text as a volunteer reads it (the step's "assist", else the set's
 * assist words replaced), into st->assist_text; NULL when the same. */
void flowdef_assist_text(struct checker *c, const char *f, const cJSON *js, struct flow_step *st);

#endif
