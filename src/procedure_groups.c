/* procedure_groups — intents/_groups.json: the procedures by topic. */
#include "dvcbot/procedure_groups.h"
#include "dvcbot/mem.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct procedure_groups {
    struct procedure_group *items;
    size_t n;
};

/* Reads one group's procedures into g; counts each in seen (by catalog index). */
static bool read_procedures(const struct catalog *cat, const cJSON *list, struct procedure_group *g,
                            const char *field, unsigned char *seen, struct problems *pb)
{
    int n = cJSON_GetArraySize(list);
    if (!cJSON_IsArray(list) || n < 1 || n > PROCEDURE_GROUP_MAX) {
        problemf(pb, PROCEDURE_GROUPS_FILE, field, "procedures must list 1 to %d procedure ids (at most "
                 "%d: one screen)", PROCEDURE_GROUP_MAX, PROCEDURE_GROUP_MAX);
        return false;
    }
    bool ok = true;
    g->procs = xcalloc((size_t)n, sizeof *g->procs);
    const cJSON *e;
    cJSON_ArrayForEach(e, list) {
        const char *id = cJSON_GetStringValue(e);
        int k = id ? catalog_index(cat, id) : -1;
        if (k < 0) {
            problemf(pb, PROCEDURE_GROUPS_FILE, field, "%s is not a catalog id", id ? id : "(not a string)");
            ok = false;
        } else if (catalog_at(cat, (size_t)k)->kind != INTENT_PROCEDURE) {
            problemf(pb, PROCEDURE_GROUPS_FILE, field, "%s is not a procedure", id);
            ok = false;
        } else if (seen[k]++) {
            problemf(pb, PROCEDURE_GROUPS_FILE, field, "%s is listed twice (one group each)", id);
            ok = false;
        } else {
            g->procs[g->n++] = catalog_at(cat, (size_t)k);
        }
    }
    return ok;
}

static bool read_group(const struct catalog *cat, const cJSON *e, size_t i, struct procedure_groups *gs,
                       unsigned char *seen, struct problems *pb)
{
    char field[32];
    snprintf(field, sizeof field, "groups[%zu]", i);
    struct procedure_group *g = &gs->items[gs->n];
    memset(g, 0, sizeof *g);
    g->id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "id"));
    g->name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name"));
    bool ok = true;
    if (!catalog_valid_id(g->id, PROCEDURE_GROUP_ID_MAX)) {
        problemf(pb, PROCEDURE_GROUPS_FILE, field, "id must be 1-%d characters a-z, 0-9, _",
                 PROCEDURE_GROUP_ID_MAX);
        ok = false;
    } else if (procedure_groups_find(gs, g->id)) {
        problemf(pb, PROCEDURE_GROUPS_FILE, field, "id %s is used twice", g->id);
        ok = false;
    }
    if (!g->name || !*g->name || strlen(g->name) > CATALOG_SHORT_NAME_MAX) {
        problemf(pb, PROCEDURE_GROUPS_FILE, field, "name must be 1-%d bytes (it is a button label)",
                 CATALOG_SHORT_NAME_MAX);
        ok = false;
    }
    if (!ok)
        return false;
    ok = read_procedures(cat, cJSON_GetObjectItemCaseSensitive(e, "procedures"), g, field, seen, pb);
    gs->n++; /* freed with the rest even when refused */
    return ok;
}

struct procedure_groups *procedure_groups_load(const struct catalog *cat, const cJSON *root,
                                               struct problems *pb)
{
    if (!root)
        return NULL;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "groups");
    int n = cJSON_GetArraySize(list);
    if (!cJSON_IsArray(list) || n < 1 || n > PROCEDURE_GROUPS_MAX) {
        problemf(pb, PROCEDURE_GROUPS_FILE, "groups", "must be an array of 1-%d groups {id, name, procedures}",
                 PROCEDURE_GROUPS_MAX);
        return NULL;
    }
    struct procedure_groups *gs = xcalloc(1, sizeof *gs);
    gs->items = xcalloc((size_t)n, sizeof *gs->items);
    unsigned char *seen = xcalloc(catalog_size(cat) + 1, 1);
    bool ok = true;
    for (int i = 0; i < n; i++)
        ok = read_group(cat, cJSON_GetArrayItem(list, i), (size_t)i, gs, seen, pb) && ok;
    for (size_t k = 0; ok && k < catalog_size(cat); k++) {
        if (catalog_at(cat, k)->kind == INTENT_PROCEDURE && !seen[k]) {
            problemf(pb, PROCEDURE_GROUPS_FILE, "groups", "%s is in no group", catalog_at(cat, k)->id);
            ok = false;
        }
    }
    free(seen);
    if (!ok) {
        procedure_groups_free(gs);
        return NULL;
    }
    return gs;
}

void procedure_groups_free(struct procedure_groups *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n; i++)
        free(g->items[i].procs);
    free(g->items);
    free(g);
}

size_t procedure_groups_size(const struct procedure_groups *g)
{
    return g ? g->n : 0;
}

const struct procedure_group *procedure_groups_at(const struct procedure_groups *g, size_t i)
{
    return g && i < g->n ? &g->items[i] : NULL;
}

const struct procedure_group *procedure_groups_find(const struct procedure_groups *g, const char *id)
{
    for (size_t i = 0; g && id && i < g->n; i++)
        if (strcmp(g->items[i].id, id) == 0)
            return &g->items[i];
    return NULL;
}
