/* buf — a growable byte buffer that is always NUL-terminated.
 *
 * A zeroed struct buf (or one after buf_init) is empty and owns nothing.
 * The buffer owns `data`; buf_free releases it, buf_steal hands it to the
 * caller (who frees it with free()) and leaves the buffer empty. */
#ifndef DVCBOT_BUF_H
#define DVCBOT_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

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
/* buf_append when the bytes do not fit yet: grows the buffer first. */
void buf_append_grow(struct buf *b, const void *data, size_t len);

/* Appends len bytes. Inline: a write that fits (most do) is a copy, and a
 * string literal's length (buf_puts) is known when compiling. */
static inline void buf_append(struct buf *b, const void *data, size_t len)
{
    if (b->cap - b->len <= len) { /* also when nothing is allocated (cap 0) */
        buf_append_grow(b, data, len);
        return;
    }
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

static inline void buf_puts(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

static inline void buf_putc(struct buf *b, char c)
{
    buf_append(b, &c, 1);
}
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
