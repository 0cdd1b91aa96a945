/* replies — which templates exist and which variables each may use.
 * Keep the table sorted by name; add a line when code renders a new template. */
#include "dvcbot/replies.h"

#include <string.h>

static const struct reply_spec specs[] = {
    {"ask_which", "a_id a_label a_name b_id b_label b_name"},
    {"busy_store", ""},
    {"degraded_note", ""},
    {"greeting", ""},
    {"help", ""},
    {"menu", ""},
    {"procedure_list", "part parts"},
    {"procedure_more_documents", "count"},
    {"procedure_online_mot_phan", ""},
    {"procedure_online_toan_trinh", ""},
    {"procedure_summary", "agency documents fee id name online time"},
    {"unknown", ""},
    {"unsupported_media", ""},
    {"zalo_more_buttons", ""},
};

const struct reply_spec *replies_specs(size_t *count)
{
    *count = sizeof specs / sizeof specs[0];
    return specs;
}

const struct reply_spec *replies_find(const char *name)
{
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        if (strcmp(specs[i].name, name) == 0)
            return &specs[i];
    return NULL;
}

bool replies_var_allowed(const struct reply_spec *spec, const char *var)
{
    size_t vlen = strlen(var);
    for (const char *p = spec->vars; *p;) {
        while (*p == ' ')
            p++;
        const char *end = p;
        while (*end && *end != ' ')
            end++;
        if ((size_t)(end - p) == vlen && strncmp(p, var, vlen) == 0)
            return true;
        p = end;
    }
    return false;
}
