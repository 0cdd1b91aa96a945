/* tpl — reply texts from templates/<name>.txt, rendered with named variables.
 *
 * Staff edit the texts without recompiling. A template file looks like:
 *
 *     ## lines starting with "##" are comments
 *     Xin chào! Hồ sơ {{code}} đang ở trạng thái: {{status}}.
 *     ---
 *     Tra cứu hồ sơ khác | i:tra_cuu_ho_so
 *     {{pay_label}} | pay:{{code}}
 *
 * Text above "---" is the message; each line below is a button "label |
 * payload". A button whose label or payload renders empty is left out, so a
 * variable set to "" hides an optional button. Variables are {{name}} with
 * name in [a-z0-9_]. Which variables each template may use is declared in
 * replies.c (the registry `dvcbot check` validates against).
 *
 * A struct tpl_set owns every template it loaded; tpl_set_free releases it. */
#ifndef DVCBOT_TPL_H
#define DVCBOT_TPL_H

#include "dvcbot/msg.h"

#include <stdbool.h>
#include <stddef.h>

#define TPL_NAME_MAX 64
#define TPL_VAR_MAX 64

struct tpl_set;

struct tpl_var {
    const char *name;
    const char *value;
};

/* Loads every <name>.txt of dir. Returns NULL with a message in *err (caller
 * frees) when the directory cannot be read or a file is malformed. */
struct tpl_set *tpl_set_load(const char *dir, char **err);
void tpl_set_free(struct tpl_set *set);

bool tpl_exists(const struct tpl_set *set, const char *name);
size_t tpl_count(const struct tpl_set *set);
const char *tpl_name_at(const struct tpl_set *set, size_t i);

/* Appends one rendered reply to out. Variables missing from vars render as ""
 * (and are logged). Returns the reply, or NULL when the template does not
 * exist (a reply saying so is still appended, so the user is never left
 * without an answer). */
struct bot_reply *tpl_render(const struct tpl_set *set, const char *name,
                             const struct tpl_var *vars, size_t nvars, struct bot_replies *out);

/* Renders only the text part into a fresh string (caller frees); NULL when
 * the template does not exist. */
char *tpl_render_text(const struct tpl_set *set, const char *name,
                      const struct tpl_var *vars, size_t nvars);

/* Writes the given variables into every template of the set, once, where
 * they appear ({{name}} in the text or a button): values that do not change
 * while the service runs, such as a setting said in words (see
 * replies_fill_settings). Other variables stay for tpl_render. The values
 * are copied. */
void tpl_set_fill(struct tpl_set *set, const struct tpl_var *vars, size_t nvars);

/* Calls fn for every distinct {{variable}} the template uses. */
void tpl_each_var(const struct tpl_set *set, const char *name,
                  void (*fn)(const char *var, void *ud), void *ud);

#endif
