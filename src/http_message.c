/* http_message — the text of HTTP/1.1 messages. See
 * include/dvcbot/http_message.h. */
#include "dvcbot/http_message.h"
#include "dvcbot/mem.h"

#include <stddef.h>

/* ===== Status lines ===== */

const char *http_status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

/* ===== URL decoding ===== */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

char *http_url_decode(const char *s, size_t len)
{
    char *out = xmalloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%' && i + 2 < len && hex_value(s[i + 1]) >= 0 &&
                   hex_value(s[i + 2]) >= 0) {
            out[o++] = (char)(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

/* ===== Responses ===== */

void http_format_response(struct buf *out, int status, const char *ctype, const char *body,
                          size_t body_len, const char *extra, bool keep_alive, bool head)
{
    bool bodiless = status == 204 || status == 304;
    buf_reset(out);
    buf_reserve(out, body_len + 256);
    buf_puts(out, "HTTP/1.1 ");
    buf_put_udecimal(out, (unsigned long long)(status > 0 && status < 1000 ? status : 500));
    buf_putc(out, ' ');
    buf_puts(out, http_status_text(status));
    if (!bodiless) {
        buf_puts(out, "\r\nContent-Type: ");
        buf_puts(out, ctype ? ctype : "text/plain; charset=utf-8");
        buf_puts(out, "\r\nContent-Length: ");
        buf_put_udecimal(out, body_len);
    }
    buf_puts(out, keep_alive ? "\r\nConnection: keep-alive" : "\r\nConnection: close");
    buf_puts(out, "\r\nX-Content-Type-Options: nosniff\r\n");
    if (extra)
        buf_puts(out, extra);
    buf_puts(out, "\r\n");
    if (!bodiless && !head)
        buf_append(out, body, body_len);
}
