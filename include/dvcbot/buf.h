/* buf — a growable byte buffer that is always NUL-terminated.
 *
 * A zeroed struct buf (or one after buf_init) is empty and owns nothing.
 * The buffer owns `data`; buf_free releases it, buf_steal hands it to the
 * caller (who frees it with free()) and leaves the buffer empty. */
#ifndef DVCBOT_BUF_H
#define DVCBOT_BUF_H

#include <stdarg.h>
#include <stddef.h>

/* The first allocation: most buffers (a reply, a JSON body, a Redis key)
 * fit in it, so they grow by doubling from here at most once or twice. */
#define BUF_FIRST_CAP 256

struct buf {
    char *data;  /* NULL while nothing was ever appended */
    size_t len;
    size_t cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
/* Keeps the allocation, sets len to 0. */
void buf_reset(struct buf *b);
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
/* The decimal form of v, without printf (strfmt.h). */
void buf_put_udecimal(struct buf *b, unsigned long long v);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Appends s as a JSON string literal, quotes included. */
void buf_json_str(struct buf *b, const char *s);
void buf_json_strn(struct buf *b, const char *s, size_t len);
/* The same for text sent with Telegram's parse_mode HTML: & < > become
 * &amp; &lt; &gt; first, in the same pass. */
void buf_json_html_strn(struct buf *b, const char *s, size_t len);
/* Returns the contents (never NULL) and empties the buffer. */
char *buf_steal(struct buf *b);
/* The contents as a C string; "" when empty. Valid until the next change. */
const char *buf_cstr(const struct buf *b);

#endif
