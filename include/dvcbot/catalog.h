/* catalog — the intents and procedures of intents/<id>.json, loaded once.
 *
 * One JSON file per catalog id of ../shared/catalog.tsv (ids kept exactly).
 * The list of ids lives with the data, in intents/_catalog.tsv (a copy of
 * shared/catalog.tsv: "id<TAB>kind<TAB>Vietnamese name<TAB>gloss"), so a
 * deployment needs nothing outside its data dir. Every listed id must have
 * its <id>.json; a .json file that is neither listed nor starts with "_" is
 * an error. Files starting with "_" hold shared data (e.g. _abbreviations.json
 * for the matcher) and are reachable through catalog_extra.
 *
 * A file looks like (intents/README.md has the full format):
 *     {"id": "khai_sinh", "kind": "procedure", "name": "Đăng ký khai sinh",
 *      "short_name": "Khai sinh", "procedure": {...facts...},
 *      "match": {...matcher data...}, "flow": {...read by the flow engine...}}
 * A file that is not a procedure may name the template that answers it:
 *     {"id": "cam_on", "kind": "chat", ..., "reply": "thanks"}
 *
 * The catalog owns every string and the parsed JSON of each file; pointers it
 * hands out stay valid until catalog_free. Other modules (flows, matcher) read
 * their own sections of a file through `intent->json`. */
#ifndef DVCBOT_CATALOG_H
#define DVCBOT_CATALOG_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

enum intent_kind { INTENT_PROCEDURE, INTENT_ACTION, INTENT_CHAT, INTENT_FALLBACK };

/* The id every unmatched line gets. */
#define CATALOG_FALLBACK_ID "khac"
#define CATALOG_MANIFEST "_catalog.tsv"

struct fee_period;

/* Facts of one administrative procedure (thủ tục hành chính). The fee fields
 * are the lasting fee; the fee in force on a day is procedure_fee_at's. */
struct procedure_info {
    const char *audience;        /* who it is for */
    const char *const *documents;/* required documents */
    size_t n_documents;
    const char *fee_text;        /* fee as people should read it, exemptions included */
    long fee_vnd;                /* amount to pay online; 0 free; -1 varies (see fee_text) */
    bool fee_online_reduced;     /* submitting online lowers the fee */
    const char *processing_time;
    const char *agency;          /* competent agency */
    const char *level;           /* "xa" | "tinh" | "cong_an" | "bhxh" */
    const char *online;          /* "toan_trinh" | "mot_phan" | "truc_tiep" (at the office only) */
    const char *portal_url;      /* the procedure's own page on dichvucong.gov.vn when known */
    const char *portal_code;     /* national procedure code ("1.001193"), or NULL when not known */
    const char *const *steps;    /* ordered steps of the online submission */
    size_t n_steps;
    const char *legal_basis;
    const char *source;          /* the legal text checked, and how (who reads it: staff) */
    const char *notes;           /* caveats (varies by province, to verify); may be NULL */
    const char *opening;         /* a line said before the facts (condolences for khai tử); may be NULL */
    const char *online_note;     /* said after the online line, where it has an exception; may be NULL */
    const char *last_reviewed;   /* YYYY-MM-DD */
    const struct fee_period *fee_periods; /* fees in force for a while (procedure_fee.h) */
    size_t n_fee_periods;
};

struct intent {
    const char *id;              /* catalog id, e.g. "khai_sinh" */
    enum intent_kind kind;
    const char *name;            /* Vietnamese name */
    const char *short_name;      /* for buttons, <= CATALOG_SHORT_NAME_MAX bytes */
    const struct procedure_info *proc; /* NULL unless kind == INTENT_PROCEDURE */
    const char *reply;           /* template answering it ("reply" of a non-procedure file), or NULL */
    const cJSON *json;           /* the whole file, owned by the catalog */
};

#define CATALOG_SHORT_NAME_MAX 40

/* Receives one problem: the file (relative to the intents dir), the field
 * ("procedure.fee_vnd", "" for the whole file) and the reason. */
typedef void (*catalog_report_fn)(void *ud, const char *file, const char *field,
                                  const char *reason);

/* A catalog_report_fn keeping the first problem as "intents/<file>: <field>:
 * <reason>" in *(char **)ud (caller frees); later problems are dropped. */
void catalog_report_keep_first(void *ud, const char *file, const char *field, const char *reason);

/* The one reporter of problems in data files (catalog, flows, matcher
 * data): formats the reason, counts it and hands it to report. */
struct problems {
    catalog_report_fn report;
    void *ud;
    int count;
};
void problemf(struct problems *p, const char *file, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define CATALOG_ID_MAX 48 /* bytes of an intent id */

/* Whether s is an id of the data files (intent, group, slot, screen,
 * check): 1..max bytes of a-z, 0-9 and _. NULL is not one. */
bool catalog_valid_id(const char *s, size_t max);
/* The template named by obj's "reply" (inside obj, not copied), or NULL
 * when it has none that is an id. */
const char *catalog_reply_name(const cJSON *obj);

struct catalog;

/* Loads every <id>.json under dir. Returns NULL with a message in *err
 * (caller frees) naming the file and the problem. */
struct catalog *catalog_load(const char *dir, char **err);
/* The same, reporting every problem found (not just the first) to report;
 * returns NULL when there was any. */
struct catalog *catalog_load_report(const char *dir, catalog_report_fn report, void *ud);
void catalog_free(struct catalog *cat);

const struct intent *catalog_find(const struct catalog *cat, const char *id);
size_t catalog_size(const struct catalog *cat);
/* In the order of _catalog.tsv. */
const struct intent *catalog_at(const struct catalog *cat, size_t i);
/* Index of id in catalog order, or -1. */
int catalog_index(const struct catalog *cat, const char *id);

/* Parsed shared data file "_<name>.json" of the intents dir, or NULL when
 * there is none. */
const cJSON *catalog_extra(const struct catalog *cat, const char *name);

/* A hash of the name and bytes of every file the catalog was read from
 * (the matcher's cache key, matcher_cache.h). */
uint64_t catalog_digest(const struct catalog *cat);

const char *catalog_kind_name(enum intent_kind kind);

/* The procedures by topic (intents/_groups.json, procedure_groups.h), or
 * NULL when there is no such file. */
struct procedure_groups;
const struct procedure_groups *catalog_groups(const struct catalog *cat);

#endif
