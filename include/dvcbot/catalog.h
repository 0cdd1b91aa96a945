/* catalog — the intents and procedures of intents/<id>.json, loaded once.
 *
 * One JSON file per catalog id of ../shared/catalog.tsv (ids kept exactly).
 * The catalog owns every string and the parsed JSON of each file; pointers it
 * hands out stay valid until catalog_free. Other modules (flows, matcher) read
 * their own sections of a file through `intent->json`. */
#ifndef DVCBOT_CATALOG_H
#define DVCBOT_CATALOG_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

enum intent_kind { INTENT_PROCEDURE, INTENT_ACTION, INTENT_CHAT, INTENT_FALLBACK };

/* Facts of one administrative procedure (thủ tục hành chính). */
struct procedure_info {
    const char *audience;        /* who it is for */
    const char *const *documents;/* required documents */
    size_t n_documents;
    const char *fee_text;        /* fee as people should read it, exemptions included */
    long fee_vnd;                /* amount to pay online; 0 free; -1 varies (see fee_text) */
    const char *processing_time;
    const char *agency;          /* competent agency */
    const char *level;           /* "xa" | "tinh" | "cong_an" | ... */
    const char *online;          /* "toan_trinh" | "mot_phan" */
    const char *portal_url;      /* entry point on dichvucong.gov.vn */
    const char *const *steps;    /* ordered steps of the online submission */
    size_t n_steps;
    const char *legal_basis;
    const char *last_reviewed;   /* YYYY-MM-DD */
};

struct intent {
    const char *id;              /* catalog id, e.g. "khai_sinh" */
    enum intent_kind kind;
    const char *name;            /* Vietnamese name */
    const struct procedure_info *proc; /* NULL unless kind == INTENT_PROCEDURE */
    const cJSON *json;           /* the whole file, owned by the catalog */
};

struct catalog;

/* Loads every <id>.json under dir. Returns NULL with a message in *err
 * (caller frees) naming the file and the problem. */
struct catalog *catalog_load(const char *dir, char **err);
void catalog_free(struct catalog *cat);

const struct intent *catalog_find(const struct catalog *cat, const char *id);
size_t catalog_size(const struct catalog *cat);
const struct intent *catalog_at(const struct catalog *cat, size_t i);

#endif
