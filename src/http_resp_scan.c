/* http_resp_scan — a whole, plain HTTP/1.x response read in one pass. See
 * include/dvcbot/http_resp_scan.h. */
#include "dvcbot/http_resp_scan.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

/* RFC 9110 token characters (a header name), as a bit map of ASCII:
 * ALPHA DIGIT ! # $ % & ' * + - . ^ _ ` | ~ (tests/unit/test_http_resp_scan.c
 * checks it against that list). */
static const uint64_t tchar_lo = 0x03ff6cfa00000000ULL, tchar_hi = 0x57ffffffc7fffffeULL;

static bool is_tchar(unsigned char c)
{
    return c < 64 ? (tchar_lo >> c) & 1 : c < 128 && (tchar_hi >> (c - 64)) & 1;
}

/* Printable ASCII or a tab. */
static bool is_text(unsigned char c)
{
    return (unsigned char)(c - 0x20) < 0x5f || c == '\t';
}

bool http_resp_scan_tchar(unsigned char c)
{
    return is_tchar(c);
}

static bool name_is(const char *p, size_t n, const char *word, size_t wn)
{
    return n == wn && strncasecmp(p, word, n) == 0;
}

#define NAME_IS(p, n, w) name_is((p), (n), (w), sizeof(w) - 1)

enum conn_token { CONN_NONE, CONN_KEEP, CONN_CLOSE };

struct head {
    bool have_length;
    size_t length;
    enum conn_token conn;
};

/* One header line p[0..n) (no CRLF) into h; false to give up. */
static bool header(const char *p, size_t n, struct head *h)
{
    size_t i = 0;
    while (i < n && p[i] != ':') {
        if (!is_tchar((unsigned char)p[i]))
            return false;
        i++;
    }
    if (i == 0 || i == n)
        return false;
    size_t nl = i++;
    while (i < n && p[i] == ' ')
        i++;
    const char *v = p + i;
    size_t vl = n - i;
    for (size_t k = 0; k < vl; k++)
        if (!is_text((unsigned char)v[k]))
            return false;
    if (NAME_IS(p, nl, "content-length")) {
        if (h->have_length || vl == 0 || vl > 9)
            return false;
        size_t len = 0;
        for (size_t k = 0; k < vl; k++) {
            if (v[k] < '0' || v[k] > '9')
                return false;
            len = len * 10 + (size_t)(v[k] - '0');
        }
        h->have_length = true;
        h->length = len;
        return true;
    }
    if (NAME_IS(p, nl, "connection")) {
        if (h->conn != CONN_NONE)
            return false;
        if (NAME_IS(v, vl, "keep-alive"))
            h->conn = CONN_KEEP;
        else if (NAME_IS(v, vl, "close"))
            h->conn = CONN_CLOSE;
        else
            return false;
        return true;
    }
    return !NAME_IS(p, nl, "transfer-encoding") && !NAME_IS(p, nl, "upgrade") &&
           !NAME_IS(p, nl, "proxy-connection");
}

bool http_resp_scan(const char *data, size_t n, struct http_resp_scan *out)
{
    static const char v11[] = "HTTP/1.1 ", v10[] = "HTTP/1.0 ";
    if (n < 17 || (memcmp(data, v11, 9) != 0 && memcmp(data, v10, 9) != 0))
        return false;
    bool minor1 = data[7] == '1';
    unsigned status = 0;
    for (size_t i = 9; i < 12; i++) {
        if (data[i] < '0' || data[i] > '9')
            return false;
        status = status * 10 + (unsigned)(data[i] - '0');
    }
    if (status < 200 || status > 599 || status == 204 || status == 304 || data[12] != ' ')
        return false;
    size_t limit = n < HTTP_RESP_SCAN_MAX_HEAD ? n : HTTP_RESP_SCAN_MAX_HEAD;
    const char *eol = memchr(data + 13, '\r', limit - 13);
    if (!eol)
        return false;
    for (const char *r = data + 13; r < eol; r++)
        if (!is_text((unsigned char)*r))
            return false;
    struct head h = {0};
    const char *p = eol;
    for (;;) {
        /* p is at a CR that ends a line */
        if ((size_t)(p - data) + 2 > limit || p[1] != '\n')
            return false;
        p += 2;
        if ((size_t)(p - data) + 2 > limit)
            return false;
        if (p[0] == '\r') { /* the empty line */
            if (p[1] != '\n')
                return false;
            p += 2;
            break;
        }
        eol = memchr(p, '\r', limit - (size_t)(p - data));
        if (!eol || !header(p, (size_t)(eol - p), &h))
            return false;
        p = eol;
    }
    if (!h.have_length || (size_t)(data + n - p) != h.length)
        return false;
    out->status = status;
    out->keep_alive = minor1 ? h.conn != CONN_CLOSE : h.conn == CONN_KEEP;
    out->body = p;
    out->body_len = h.length;
    return true;
}
