/* console_page — the staff console's files under templates/console/: the
 * two HTML pages (login.html, console.html) rendered with {{variables}}
 * (values HTML-escaped, html_escape.h) and the static script and style sheet served as they
 * are. Everything is read once at start; a struct console_pages owns it. */
#ifndef DVCBOT_CONSOLE_PAGE_H
#define DVCBOT_CONSOLE_PAGE_H

#include "dvcbot/buf.h"
#include "dvcbot/config.h"
#include "dvcbot/tpl.h"

#include <stddef.h>

struct console_pages;

/* NULL with "cannot read '<path>': ..." in *err (caller frees). */
struct console_pages *console_pages_load(const struct config *cfg, char **err);
void console_pages_free(struct console_pages *p);

/* Appends page `name` with every {{var}} replaced by its escaped value (""
 * when not given). Returns 0, or -1 for an unknown page. */
int console_page_render(const struct console_pages *p, const char *name, const struct tpl_var *vars,
                        size_t nvars, struct buf *out);
/* A static file ("console.js", "console.css"): its bytes and content type,
 * or NULL. */
const char *console_page_static(const struct console_pages *p, const char *name, size_t *len,
                                const char **content_type);

#endif
