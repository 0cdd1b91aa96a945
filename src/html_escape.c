/* html_escape — & < > " ' (and optionally newlines) for our HTML pages. */
#include "dvcbot/html_escape.h"

#include <stdbool.h>

static void escape(struct buf *out, const char *s, bool lines)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': buf_puts(out, "&amp;"); break;
        case '<': buf_puts(out, "&lt;"); break;
        case '>': buf_puts(out, "&gt;"); break;
        case '"': buf_puts(out, "&quot;"); break;
        case '\'': buf_puts(out, "&#39;"); break;
        case '\n': buf_puts(out, lines ? "<br>" : "\n"); break;
        default: buf_putc(out, *s); break;
        }
    }
}

void html_escape(struct buf *out, const char *s)
{
    escape(out, s, false);
}

void html_escape_lines(struct buf *out, const char *s)
{
    escape(out, s, true);
}
