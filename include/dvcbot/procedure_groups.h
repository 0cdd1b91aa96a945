/* procedure_groups — the procedures by topic, for the procedure menu: one
 * message of topic buttons, then each topic on one screen (36 procedures
 * were four messages, eight on Zalo).
 *
 * intents/_groups.json, in menu order:
 *     {"groups": [{"id": "ho_tich", "name": "Hộ tịch",
 *                  "procedures": ["khai_sinh", "khai_tu", ...]}, ...]}
 * Every procedure of the catalog is in exactly one group, in the order the
 * group lists them; a group holds 1 to PROCEDURE_GROUP_MAX procedures (its
 * screen and a "back" button fit two Zalo messages), there are at most
 * PROCEDURE_GROUPS_MAX groups; ids are a-z 0-9 _ (they go into button
 * payloads), names at most CATALOG_SHORT_NAME_MAX bytes (button labels).
 * Without the file there are no groups and the menu lists every procedure.
 *
 * The catalog loads and owns the groups (catalog_groups); their strings
 * point into its JSON. */
#ifndef DVCBOT_PROCEDURE_GROUPS_H
#define DVCBOT_PROCEDURE_GROUPS_H

#include "dvcbot/catalog.h"

#include <cjson/cJSON.h>
#include <stddef.h>

#define PROCEDURE_GROUPS_FILE "_groups.json"
#define PROCEDURE_GROUP_MAX 9     /* procedures in one group */
#define PROCEDURE_GROUPS_MAX 10
#define PROCEDURE_GROUP_ID_MAX 24

struct procedure_group {
    const char *id;
    const char *name;
    const struct intent **procs;
    size_t n;
};

struct procedure_groups;

/* Reads the parsed _groups.json (root; NULL: no groups) against cat, every
 * problem reported to pb. Returns NULL when there was one or no file. */
struct procedure_groups *procedure_groups_load(const struct catalog *cat, const cJSON *root,
                                               struct problems *pb);
void procedure_groups_free(struct procedure_groups *g);

/* 0 for NULL. */
size_t procedure_groups_size(const struct procedure_groups *g);
const struct procedure_group *procedure_groups_at(const struct procedure_groups *g, size_t i);
/* NULL when no group has that id. */
const struct procedure_group *procedure_groups_find(const struct procedure_groups *g, const char *id);

#endif
