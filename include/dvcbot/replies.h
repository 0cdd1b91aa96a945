/* replies — the registry of reply templates the code renders, and the
 * variables each may use.
 *
 * Every template name passed to tpl_render must be listed in replies.c with
 * the variables the code supplies for it. `dvcbot check` fails when a listed
 * template is missing from templates/, when a template uses a variable not
 * listed for it, or when templates/ holds a file nobody renders. */
#ifndef DVCBOT_REPLIES_H
#define DVCBOT_REPLIES_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct tpl_set;

struct reply_spec {
    const char *name; /* template file name without .txt */
    const char *vars; /* space-separated variable names, "" for none */
};

const struct reply_spec *replies_specs(size_t *count);
const struct reply_spec *replies_find(const char *name);
bool replies_var_allowed(const struct reply_spec *spec, const char *var);

/* Settings a reply may say, written into every template at start
 * (tpl_set_fill), so any template, data replies and help screens included,
 * may use them:
 *   {{flow_idle}}  how long a half-done guided flow waits (DVCBOT_FLOW_IDLE),
 *                  in words: "30 phút", "1 ngày" (duration_text);
 *   {{flow_undo}}  how long a cancelled flow can be taken up again
 *                  (FLOW_UNDO_S), in words.
 * With cfg NULL (`dvcbot check`) a placeholder is written, only so that the
 * check finds them supplied. */
void replies_fill_settings(struct tpl_set *set, const struct config *cfg);

#endif
