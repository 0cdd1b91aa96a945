/* flowdef — guided-submission flows as data: the "flow" section of each
 * procedure's intents/<id>.json and the shared parts in intents/_flow.json
 * (command words, readiness checks, portal screens).
 *
 * A flow is an ordered list of steps of three kinds:
 *  - an instruction ("say", or "say_step": n = the n-th of the procedure's
 *    steps) with a button "Xong, tiếp tục";
 *  - a question ("ask") filling a slot of a type (name, date, cccd, phone,
 *    commune, choice, text) whose validator lives in validate.c;
 *  - a readiness check ("check": a name in _flow.json "checks"): a yes/no
 *    question; "no" shows a help screen, then the user goes on or stops.
 * Any step may name the portal screen it belongs to ("screen": an id of
 * _flow.json "screens"): a question says on which screen its answer will be
 * needed, an instruction walks through that screen. A step may apply only on
 * one branch: "if": {"<slot of an earlier choice>": "<option>" or [options]}.
 * A text addressed to the user about themselves ("Anh/chị đã có VNeID…")
 * reads, for a volunteer helping a resident, with _flow.json "assist_words"
 * replaced ("Người dân đã có VNeID…"), or as the step's "assist" text.
 * Every procedure's flow starts with its readiness checks, asks nothing that
 * VNeID fills on the portal (profile name, birth_date, cccd, phone) and walks
 * every screen the data marks "required" (Nộp hồ sơ, payment) on every branch.
 * intents/README.md documents every field.
 *
 * flow_set_load checks everything (dvcbot check reports through it) and
 * builds read-only definitions. Strings point into the catalog's parsed JSON
 * (or into the set, for check questions with their document filled in): the
 * catalog must outlive the set. Nothing here does I/O besides reporting. */
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
#define FLOW_MAX_SAID 24         /* "said" phrases of one choice */
#define FLOW_MAX_CHECKS 8        /* in _flow.json */
#define FLOW_MAX_SCREENS 12      /* in _flow.json */
#define FLOW_NAME_MAX 24         /* bytes of a check or screen id */
#define FLOW_DOCUMENT_MAX 120    /* bytes of a check's document */
#define FLOW_PORTAL_PREFIX "https://dichvucong.gov.vn/"

enum flow_step_kind { FLOW_STEP_SAY, FLOW_STEP_ASK, FLOW_STEP_CHECK };

enum flow_slot_type {
    SLOT_NAME, SLOT_DATE, SLOT_CCCD, SLOT_PHONE, SLOT_COMMUNE, SLOT_CHOICE, SLOT_TEXT,
    SLOT_TYPE_COUNT
};

/* Fields of the user's saved profile (profile.h) a slot may fill. Flows of
 * procedures may only use commune: the rest VNeID fills on the portal. */
enum profile_field {
    PROFILE_NONE = -1,
    PROFILE_NAME, PROFILE_BIRTH_DATE, PROFILE_CCCD, PROFILE_PHONE, PROFILE_COMMUNE,
    PROFILE_FIELD_COUNT
};

/* A readiness check of _flow.json "checks". */
struct flow_check {
    const char *name;            /* "vneid", "photo" */
    const char *ask;             /* may hold "{document}" */
    const char *yes, *no;        /* button labels */
    const char *screen;          /* help screen (templates/<screen>.txt) shown on "no" */
    bool stops;                  /* "then": "stop": what is missing takes days; offer to stop */
};

/* A portal screen of _flow.json "screens". */
struct flow_screen {
    const char *id;              /* "submit" */
    const char *name;            /* "Nộp hồ sơ": shown to the user */
    bool required;               /* every flow walks it on every branch */
    bool link;                   /* its first instruction shows the procedure's portal page */
    bool fee;                    /* its first instruction shows the procedure's fee_text */
};

/* The step applies only when the answer of the choice at step `step` is one
 * of its options whose bit is set in `options`. step < 0: always. */
struct flow_cond {
    int step;
    unsigned options;
};

struct flow_step {
    enum flow_step_kind kind;
    const char *text;            /* instruction, question or check question */
    const char *slot;            /* questions only; NULL otherwise */
    enum flow_slot_type type;
    const char *label;           /* names the answer in summaries */
    const char *hint;            /* shown with "trợ giúp"; NULL: the type's default */
    enum profile_field profile;  /* PROFILE_NONE unless the answer is about the user */
    enum valid_date_rule when;
    const char *options[FLOW_MAX_OPTIONS];
    size_t n_options;
    /* "said": phrases (folded) that name an option in the user's own words,
     * said_opt[k] the option of said[k] (flow_said.h). */
    const char *said[FLOW_MAX_SAID];
    unsigned char said_opt[FLOW_MAX_SAID];
    size_t n_said;
    unsigned min, max;           /* characters, for name, commune and text */
    bool optional;
    int screen;                  /* index in the set's screens, -1 for none */
    const struct flow_check *check; /* checks only */
    struct flow_cond cond;
    /* The text for a volunteer running the flow for a resident ("Người dân
     * đã có…"): the step's "assist", else its text with _flow.json
     * "assist_words" replaced; NULL when that is the text itself. */
    const char *assist_text;
    /* A choice's options as that volunteer reads them ("Chính người dân"
     * for "Chính anh/chị"), the same way; NULL where unchanged. Answers keep
     * options[k]: only what is shown differs. */
    char *assist_options[FLOW_MAX_OPTIONS];
    char *owned;                 /* internal: a check question with its document */
    char *assist_owned;          /* internal: assist_text */
    char *said_owned;            /* internal: the folded "said" phrases */
};

struct flow_def {
    const struct intent *in;     /* the procedure */
    struct flow_step *steps;
    size_t n_steps;
};

enum flow_command {
    FLOW_CMD_NONE, FLOW_CMD_BACK, FLOW_CMD_CANCEL, FLOW_CMD_HELP, FLOW_CMD_MENU,
    FLOW_CMD_NEXT, FLOW_CMD_EDIT, FLOW_CMD_ASSIST, FLOW_CMD_YES, FLOW_CMD_NO, FLOW_CMD_COUNT
};

struct flow_set;

/* Reads every procedure's flow and _flow.json; reports each problem and
 * returns NULL when there was any. Every procedure must have a flow. */
struct flow_set *flow_set_load(const struct catalog *cat, catalog_report_fn report, void *ud);
void flow_set_free(struct flow_set *set);

const struct flow_def *flow_set_find(const struct flow_set *set, const char *procedure_id);
size_t flow_set_size(const struct flow_set *set);
const struct flow_def *flow_set_at(const struct flow_set *set, size_t i);

size_t flow_set_n_screens(const struct flow_set *set);
const struct flow_screen *flow_set_screen(const struct flow_set *set, int i);
size_t flow_set_n_checks(const struct flow_set *set);
/* The portal's search address ("…?key="): the procedure's name appended
 * (percent-encoded) finds a procedure without a page of its own. */
const char *flow_set_portal_search(const struct flow_set *set);
const struct flow_check *flow_set_check(const struct flow_set *set, size_t i);

/* Which command a typed line is (compared folded: no case, no diacritics).
 * For FLOW_CMD_EDIT ("sửa ngày sinh") the folded rest ("ngay sinh", maybe
 * "") goes to rest (cap bytes; rest may be NULL when cap is 0). */
enum flow_command flow_set_command(const struct flow_set *set, const char *text, char *rest,
                                   size_t cap);
/* The same question when the rest of an edit does not matter. */
enum flow_command flow_set_command_of(const struct flow_set *set, const char *text);
/* Whether a folded word is one people type around an answer they correct
 * ("nham", "roi": _flow.json correction_words). */
bool flow_set_is_correction_word(const struct flow_set *set, const char *folded);

/* Index of the step of the slot named by folded words (its id or its label,
 * whole or an unambiguous part), or -1. */
int flow_def_find_slot(const struct flow_def *def, const char *folded);
int flow_def_slot_step(const struct flow_def *def, const char *slot);

const char *flow_slot_type_name(enum flow_slot_type t);
const char *profile_field_name(enum profile_field f);
int profile_field_from_name(const char *name);

#endif
