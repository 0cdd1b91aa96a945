/* http_scan — what the plain-HTTP readers share. See
 * include/dvcbot/http_scan.h. */
#include "dvcbot/http_scan.h"

#include <string.h>

const uint64_t http_scan_tchar_map[4] = {0x03ff6cfa00000000ULL, 0x57ffffffc7fffffeULL, 0, 0};

static bool take_length(const char *v, size_t vl, struct http_scan_framing *f)
{
    if (f->have_length || vl == 0 || vl > 9)
        return false;
    size_t len = 0;
    for (size_t k = 0; k < vl; k++) {
        if (v[k] < '0' || v[k] > '9')
            return false;
        len = len * 10 + (size_t)(v[k] - '0');
    }
    f->have_length = true;
    f->length = len;
    return true;
}

static bool take_connection(const char *v, size_t vl, struct http_scan_framing *f)
{
    if (f->conn != HTTP_SCAN_CONN_NONE)
        return false;
    if (HTTP_SCAN_NAME_IS(v, vl, "keep-alive"))
        f->conn = HTTP_SCAN_CONN_KEEP;
    else if (HTTP_SCAN_NAME_IS(v, vl, "close"))
        f->conn = HTTP_SCAN_CONN_CLOSE;
    else
        return false;
    return true;
}

bool http_scan_framing_header(const char *name, size_t nl, const char *v, size_t vl,
                              struct http_scan_framing *f)
{
    if (HTTP_SCAN_NAME_IS(name, nl, "content-length"))
        return take_length(v, vl, f);
    if (HTTP_SCAN_NAME_IS(name, nl, "connection"))
        return take_connection(v, vl, f);
    return !HTTP_SCAN_NAME_IS(name, nl, "transfer-encoding") && !HTTP_SCAN_NAME_IS(name, nl, "upgrade") &&
           !HTTP_SCAN_NAME_IS(name, nl, "proxy-connection");
}

const char *http_scan_lines(const char *data, const char *p, size_t limit, http_scan_line_fn line, void *ctx)
{
    for (;;) {
        /* p is at a CR that ends a line */
        if ((size_t)(p - data) + 2 > limit || p[1] != '\n')
            return NULL;
        p += 2;
        if ((size_t)(p - data) + 2 > limit)
            return NULL;
        if (p[0] == '\r') /* the empty line */
            return p[1] == '\n' ? p + 2 : NULL;
        const char *eol = memchr(p, '\r', limit - (size_t)(p - data));
        if (!eol || !line(ctx, p, (size_t)(eol - p)))
            return NULL;
        p = eol;
    }
}
