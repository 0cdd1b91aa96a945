/* http_wire — an http:// URL taken apart, and a request written out as
 * bytes. See include/dvcbot/http_wire.h. */
#include "dvcbot/http_wire.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool has_space_or_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7f)
            return true;
    return false;
}

/* "80", "8081": 1..65535, digits only. */
static bool parse_port(const char *p, size_t n, unsigned *out)
{
    unsigned v = 0;
    if (n == 0 || n > 5)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)p[i]))
            return false;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    if (v == 0 || v > 65535)
        return false;
    *out = v;
    return true;
}

/* host (and port) of the authority a..a+n into u. */
static bool split_authority(const char *a, size_t n, struct http_wire_url *u)
{
    const char *host = a, *port = NULL;
    size_t host_len;
    if (n > 0 && *a == '[') {
        const char *close = memchr(a, ']', n);
        if (!close)
            return false;
        host = a + 1;
        host_len = (size_t)(close - host);
        if (close + 1 < a + n) {
            if (close[1] != ':')
                return false;
            port = close + 2;
        }
    } else {
        const char *colon = memchr(a, ':', n);
        host_len = colon ? (size_t)(colon - a) : n;
        port = colon ? colon + 1 : NULL;
    }
    if (host_len == 0 || host_len >= sizeof u->host || n >= sizeof u->authority)
        return false;
    u->port = 80;
    if (port && !parse_port(port, (size_t)(a + n - port), &u->port))
        return false;
    memcpy(u->host, host, host_len);
    u->host[host_len] = '\0';
    memcpy(u->authority, a, n);
    u->authority[n] = '\0';
    return true;
}

bool http_wire_url_split(const char *url, struct http_wire_url *out)
{
    if (!url || strncasecmp(url, "http://", 7) != 0 || has_space_or_control(url))
        return false;
    const char *a = url + 7;
    size_t n = strcspn(a, "/?#");
    if (memchr(a, '@', n))
        return false;
    if (!split_authority(a, n, out))
        return false;
    out->target = a + n;
    out->target_len = strcspn(out->target, "#");
    return true;
}

bool http_wire_url_is_plain(const char *url)
{
    if (!url || strncasecmp(url, "http://", 7) != 0)
        return false;
    const char *a = url + 7;
    return !memchr(a, '@', strcspn(a, "/?#"));
}

/* Whether line is the header name (followed by ':'), in any case. */
static bool header_is(const char *line, const char *name)
{
    size_t n = strlen(name);
    return strncasecmp(line, name, n) == 0 && line[n] == ':';
}

static bool caller_sets(const char *const *lines, const char *name)
{
    for (size_t i = 0; lines && lines[i]; i++)
        if (header_is(lines[i], name))
            return true;
    return false;
}

/* "Name:" followed by nothing but blanks: curl's way to drop a header. */
static bool header_empty(const char *line)
{
    const char *colon = strchr(line, ':');
    return colon && colon[1 + strspn(colon + 1, " \t")] == '\0';
}

static void put_header(struct buf *out, const char *name, const char *value)
{
    buf_puts(out, name);
    buf_puts(out, ": ");
    buf_puts(out, value);
    buf_puts(out, "\r\n");
}

void http_wire_build(struct buf *out, const struct http_wire_url *u, const struct http_client_request *req,
                     bool post)
{
    const char *const *lines = req->headers;
    buf_reserve(out, 160 + u->target_len + (post ? req->body_len : 0));
    buf_puts(out, post ? "POST " : "GET ");
    if (u->target_len == 0 || u->target[0] != '/')
        buf_putc(out, '/');
    buf_append(out, u->target, u->target_len);
    buf_puts(out, " HTTP/1.1\r\n");
    if (!caller_sets(lines, "Host"))
        put_header(out, "Host", u->authority);
    if (!caller_sets(lines, "User-Agent"))
        put_header(out, "User-Agent", "dvcbot");
    if (!caller_sets(lines, "Accept"))
        put_header(out, "Accept", "*/*");
    if (post) {
        buf_puts(out, "Content-Length: ");
        buf_put_udecimal(out, req->body_len);
        buf_puts(out, "\r\n");
        if (!caller_sets(lines, "Content-Type"))
            put_header(out, "Content-Type", "application/x-www-form-urlencoded");
    }
    for (size_t i = 0; lines && lines[i]; i++) {
        if (header_empty(lines[i]) || header_is(lines[i], "Content-Length"))
            continue;
        buf_puts(out, lines[i]);
        buf_puts(out, "\r\n");
    }
    buf_puts(out, "\r\n");
    if (post && req->body_len)
        buf_append(out, req->body, req->body_len);
}
