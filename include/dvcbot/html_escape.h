/* html_escape — text made safe inside an HTML page we serve (the staff
 * console's {{variables}}, the payment return page). Nothing is allocated
 * but what the buf grows. (Telegram's parse_mode HTML has its own, shorter
 * escape: buf_json_html_strn, buf.h.) */
#ifndef DVCBOT_HTML_ESCAPE_H
#define DVCBOT_HTML_ESCAPE_H

#include "dvcbot/buf.h"

/* Appends s with & < > " ' escaped, for HTML text and attribute values. */
void html_escape(struct buf *out, const char *s);
/* The same, with each newline as <br> (a message shown as a paragraph). */
void html_escape_lines(struct buf *out, const char *s);

#endif
