/* flowdef — guided-submission flows as data: the "flow" section of each
 * procedure's intents/<id>.json and the command words of intents/_flow.json.
 *
 * A flow is an ordered list of steps. An instruction step shows a text (its
 * own "say", or "say_step": n = the n-th of the procedure's steps) with a
 * button "Xong, tiếp tục". A question step ("ask") fills a slot of a type
 * (name, date, cccd, phone, commune, choice, text) whose validator lives in
 * validate.c. intents/README.md documents every field.
 *
 * flow_set_load checks everything (dvcbot check reports through it) and
 * builds read-only definitions. Strings point into the catalog's parsed JSON:
 * the catalog must outlive the set. Nothing here does I/O besides reporting. */
#ifndef DVCBOT_FLOWDEF_H
#define DVCBOT_FLOWDEF_H

#include "dvcbot/catalog.h"
#include "dvcbot/validate.h"

#include <stdbool.h>
#include <stddef.h>

#define FLOW_MAX_STEPS 30
#define FLOW_MAX_SLOTS 10
#define FLOW_MAX_OPTIONS 8
#define FLOW_SLOT_ID_MAX 24      /* bytes; keeps "f:edit:<slot>" short */
#define FLOW_LABEL_MAX 60        /* bytes of a slot label */
#define FLOW_OPTION_MAX 40       /* bytes of an option (a button label) */

enum flow_slot_type {
    SLOT_NAME, SLOT_DATE, SLOT_CCCD, SLOT_PHONE, SLOT_COMMUNE, SLOT_CHOICE, SLOT_TEXT,
    SLOT_TYPE_COUNT
};

/* Fields of the user's saved profile (profile.h) a slot may fill. */
enum profile_field {
    PROFILE_NONE = -1,
    PROFILE_NAME, PROFILE_BIRTH_DATE, PROFILE_CCCD, PROFILE_PHONE, PROFILE_COMMUNE,
    PROFILE_FIELD_COUNT
};

struct flow_step {
    const char *text;            /* instruction, or the question */
    const char *slot;            /* NULL for an instruction */
    enum flow_slot_type type;
    const char *label;           /* names the answer in summaries */
    const char *hint;            /* shown with "trợ giúp"; NULL: the type's default */
    enum profile_field profile;  /* PROFILE_NONE unless the answer is about the user */
    enum valid_date_rule when;
    const char *options[FLOW_MAX_OPTIONS];
    size_t n_options;
    unsigned min, max;           /* characters, for name, commune and text */
    bool optional;
};

struct flow_def {
    const struct intent *in;     /* the procedure */
    struct flow_step *steps;
    size_t n_steps;
};

enum flow_command {
    FLOW_CMD_NONE, FLOW_CMD_BACK, FLOW_CMD_CANCEL, FLOW_CMD_HELP, FLOW_CMD_MENU,
    FLOW_CMD_NEXT, FLOW_CMD_EDIT, FLOW_CMD_ASSIST, FLOW_CMD_COUNT
};

struct flow_set;

/* Reads every procedure's flow and _flow.json; reports each problem and
 * returns NULL when there was any. Every procedure must have a flow. */
struct flow_set *flow_set_load(const struct catalog *cat, catalog_report_fn report, void *ud);
void flow_set_free(struct flow_set *set);

const struct flow_def *flow_set_find(const struct flow_set *set, const char *procedure_id);
size_t flow_set_size(const struct flow_set *set);
const struct flow_def *flow_set_at(const struct flow_set *set, size_t i);

/* Which command a typed line is (compared folded: no case, no diacritics).
 * For FLOW_CMD_EDIT ("sửa ngày sinh") the folded rest ("ngay sinh", maybe
 * "") goes to rest (cap bytes). */
enum flow_command flow_set_command(const struct flow_set *set, const char *text, char *rest,
                                   size_t cap);

/* Index of the step of the slot named by folded words (its id or its label,
 * whole or an unambiguous part), or -1. */
int flow_def_find_slot(const struct flow_def *def, const char *folded);
int flow_def_slot_step(const struct flow_def *def, const char *slot);

const char *flow_slot_type_name(enum flow_slot_type t);
const char *profile_field_name(enum profile_field f);
int profile_field_from_name(const char *name);

#endif
