/* http_resp_scan — a whole, plain HTTP/1.x response read in one pass. See
 * include/dvcbot/http_resp_scan.h. */
#include "dvcbot/http_resp_scan.h"
#include "dvcbot/http_scan.h"

#include <string.h>

bool http_resp_scan_tchar(unsigned char c)
{
    return http_scan_tchar(c);
}

/* One header line p[0..n) (no CRLF) into the framing f; false to give up. */
static bool header(void *f, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && p[i] != ':') {
        if (!http_scan_tchar((unsigned char)p[i]))
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
        if (!http_scan_text((unsigned char)v[k]))
            return false;
    return http_scan_framing_header(p, nl, v, vl, f);
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
        if (!http_scan_text((unsigned char)*r))
            return false;
    struct http_scan_framing h = {0};
    const char *p = http_scan_lines(data, eol, limit, header, &h);
    if (!p)
        return false;
    if (!h.have_length || (size_t)(data + n - p) != h.length)
        return false;
    out->status = status;
    out->keep_alive = http_scan_keep_alive(minor1, h.conn);
    out->body = p;
    out->body_len = h.length;
    return true;
}
