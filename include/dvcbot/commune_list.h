/* commune_list — the communes and wards of Sơn La and Lai Châu after the
 * 2025 arrangement (intents/_communes.json, with the resolutions as source),
 * and what a resident types matched against them.
 *
 * A typed name is compared folded (no case, no diacritics: commune.h), with
 * "xã", "phường", "thị trấn" and the province left out; it may name a unit of
 * today or one of the old units merged into it ("xã Hua La" → phường Chiềng
 * Cơi), spelled as in older lists, with a typo or two, inside a longer line
 * ("bản Hua La, xã Chiềng Cơi"). A name that fits several units (the same
 * name in both provinces, an old commune of one district that shares its
 * name with a unit elsewhere) asks the user to choose; a date or random text
 * fits nothing and gets the likeliest units at most.
 *
 * commune_list_load reads the catalog's extra "communes"; without that file
 * the list is empty (commune_list_size 0) and callers accept free text.
 * Strings point into the catalog's JSON or into the list: the catalog must
 * outlive the list. Pure after loading: no I/O, no state. */
#ifndef DVCBOT_COMMUNE_LIST_H
#define DVCBOT_COMMUNE_LIST_H

#include "dvcbot/catalog.h"

#include <stdbool.h>
#include <stddef.h>

#define COMMUNE_LIST_CANDIDATES 4
#define COMMUNE_CODE_MAX 7          /* "03670" and room to spare, with the NUL */

struct commune_unit {
    const char *name;               /* "Chiềng Cơi" */
    const char *type;               /* "xã" | "phường" */
    const char *province;           /* "Sơn La" | "Lai Châu" */
    const char *code;               /* 5-digit administrative code */
    const char *label;              /* name, or "Đoàn Kết (Lai Châu)" when both provinces have it */
};

enum commune_found {
    COMMUNE_FOUND,                  /* unit: a unit of today, or a typo of one */
    COMMUNE_FOUND_OLD,              /* unit, and old: the old unit merged into it */
    COMMUNE_CHOOSE,                 /* several units fit: cands (2+) */
    COMMUNE_UNKNOWN,                /* nothing fits: cands holds the likeliest (maybe none) */
};

struct commune_match {
    enum commune_found found;
    const struct commune_unit *unit;
    const char *old;                /* as written in the resolution: "xã Hua La" */
    const struct commune_unit *cands[COMMUNE_LIST_CANDIDATES];
    const char *cand_old[COMMUNE_LIST_CANDIDATES]; /* the old unit a candidate fits by, or NULL */
    size_t n_cands;
};

struct commune_list;

/* Reports each problem of _communes.json and returns NULL when there was any;
 * an empty list when the file is absent. */
struct commune_list *commune_list_load(const struct catalog *cat, catalog_report_fn report,
                                       void *ud);
/* The same from the parsed file (NULL: an empty list); root must outlive it. */
struct commune_list *commune_list_from_json(const cJSON *root, catalog_report_fn report, void *ud);
void commune_list_free(struct commune_list *l);

size_t commune_list_size(const struct commune_list *l);
const struct commune_unit *commune_list_at(const struct commune_list *l, size_t i);
const struct commune_unit *commune_list_by_code(const struct commune_list *l, const char *code);

void commune_list_match(const struct commune_list *l, const char *text, struct commune_match *out);

#endif
