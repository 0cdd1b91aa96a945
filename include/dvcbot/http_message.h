/* http_message — the text of HTTP/1.1 messages: status lines, URL
 * decoding, and a whole response written into a buffer.
 *
 * No state and no callbacks. http_url_decode returns a new string the
 * caller frees; http_format_response writes into the caller's buffer. The
 * connections that send these live in http_server.c. */
#ifndef DVCBOT_HTTP_MESSAGE_H
#define DVCBOT_HTTP_MESSAGE_H

#include "dvcbot/buf.h"

#include <stdbool.h>
#include <stddef.h>

/* The reason phrase of a status ("Not Found"), "Unknown" for one we do not use. */
const char *http_status_text(int status);
/* Percent-decoding as in application/x-www-form-urlencoded ('+' is a space).
 * Returns a new string (caller frees). */
char *http_url_decode(const char *s, size_t len);

/* The response into out (reset first): status line, Content-Type (ctype, or
 * text/plain UTF-8 when NULL), Content-Length, Connection (keep_alive),
 * nosniff, extra ("Name: value\r\n" lines or NULL), then the body. 204 and
 * 304 carry no body and no length; a HEAD response (head) says the length
 * of the body it leaves out. */
void http_format_response(struct buf *out, int status, const char *ctype, const char *body,
                          size_t body_len, const char *extra, bool keep_alive, bool head);

#endif
