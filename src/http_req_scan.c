/* http_req_scan — a whole, plain HTTP/1.x request read in one pass. See
 * include/dvcbot/http_req_scan.h. */
#include "dvcbot/http_req_scan.h"
#include "dvcbot/http_scan.h"

#include <http_parser.h>
#include <string.h>
#include <strings.h>

#define ONES 0x0101010101010101ULL
#define HIGH 0x8080808080808080ULL

/* Whether one of the 8 bytes in w is below lo (<= 0x80) or above 0x7e. */
static bool word_outside(uint64_t w, uint64_t lo)
{
    return (((w - ONES * lo) & ~w) | (w + ONES) | w) & HIGH;
}

/* Whether p[0..n) is all printable ASCII but the space (lo 0x21), or
 * printable ASCII and tabs (lo 0x20, text): 8 bytes at a time. */
static bool all_in(const char *p, size_t n, uint64_t lo, bool text)
{
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        uint64_t w;
        memcpy(&w, p + k, 8);
        if (word_outside(w, lo))
            break;
    }
    for (; k < n; k++)
        if (text ? !http_scan_text((unsigned char)p[k]) : (unsigned char)(p[k] - 0x21) >= 0x5e)
            return false;
    return true;
}

struct head {
    const char *data;
    struct http_scan_framing f;
    struct http_req_scan *out;
};

/* The method and the space after it; the method's length + 1, 0 if none. */
static size_t method(const char *p, int *m)
{
    static const struct {
        const char text[9];
        unsigned char len;
        int method;
    } known[] = {
        {"GET ", 4, HTTP_GET},         {"POST ", 5, HTTP_POST},     {"HEAD ", 5, HTTP_HEAD},
        {"PUT ", 4, HTTP_PUT},         {"DELETE ", 7, HTTP_DELETE}, {"OPTIONS ", 8, HTTP_OPTIONS},
        {"PATCH ", 6, HTTP_PATCH},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (p[0] == known[i].text[0] && memcmp(p, known[i].text, known[i].len) == 0) {
            *m = known[i].method;
            return known[i].len;
        }
    return 0;
}

/* A header whose meaning the scan takes over (p[0..nl) its name, v[0..vl)
 * its value): the framing, and no Expect; false to give up. */
static bool special(const char *p, size_t nl, const char *v, size_t vl, struct head *h)
{
    return http_scan_framing_header(p, nl, v, vl, &h->f) && !HTTP_SCAN_NAME_IS(p, nl, "expect");
}

/* Names that special() looks at, by length and first letter. */
static bool maybe_special(const char *p, size_t nl)
{
    unsigned char c = (unsigned char)(p[0] | 0x20);
    switch (nl) {
    case 6: return c == 'e';
    case 7: return c == 'u';
    case 10: return c == 'c';
    case 14: return c == 'c';
    case 16: return c == 'p';
    case 17: return c == 't';
    default: return false;
    }
}

/* A longer name that starts as a framing header does ("Transfer-EncodingX"):
 * http_parser's name matching may read such a name otherwise (found by
 * fuzz_http), so it is left to http_parser. */
static bool framing_prefix(const char *p, size_t nl)
{
    static const char *const names[] = {"transfer-encoding", "content-length", "connection",
                                        "proxy-connection", "upgrade", "expect"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t k = strlen(names[i]);
        if (nl > k && strncasecmp(p, names[i], k) == 0)
            return true;
    }
    return false;
}

/* One header line p[0..n) (no CRLF) into the struct head hp; false to give up. */
static bool header(void *hp, const char *p, size_t n)
{
    struct head *h = hp;
    size_t i = 0;
    while (http_scan_tchar((unsigned char)p[i])) /* p[n] is the line's CR */
        i++;
    if (i == 0 || p[i] != ':' || h->out->n_headers == HTTP_REQ_SCAN_MAX_HEADERS)
        return false;
    size_t nl = i++;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    const char *v = p + i;
    size_t vl = n - i;
    if (!all_in(v, vl, 0x20, true))
        return false;
    if (maybe_special(p, nl) && !special(p, nl, v, vl, h))
        return false;
    if (framing_prefix(p, nl))
        return false;
    struct http_req_scan_header *hd = &h->out->headers[h->out->n_headers++];
    hd->name = (uint16_t)(p - h->data);
    hd->name_len = (uint16_t)nl;
    hd->value = (uint16_t)(v - h->data);
    hd->value_len = (uint16_t)vl;
    h->out->names_values += nl + vl;
    return true;
}

/* The request line up to its CR: method, target, version; where the CR is,
 * NULL if not the plain form. */
static const char *request_line(const char *data, size_t limit, bool *minor1, struct http_req_scan *out)
{
    size_t m = method(data, &out->method);
    if (!m)
        return NULL;
    const char *url = data + m;
    const char *sp = memchr(url, ' ', limit - m);
    if (!sp || sp == url || url[0] != '/')
        return NULL;
    if (!all_in(url, (size_t)(sp - url), 0x21, false))
        return NULL;
    out->url = url;
    out->url_len = (size_t)(sp - url);
    const char *v = sp + 1;
    if ((size_t)(v - data) + 10 > limit || memcmp(v, "HTTP/1.", 7) != 0 || (v[7] != '1' && v[7] != '0') ||
        v[8] != '\r')
        return NULL;
    *minor1 = v[7] == '1';
    return v + 8;
}

bool http_req_scan(const char *data, size_t n, struct http_req_scan *out)
{
    if (n < 18) /* "GET / HTTP/1.1\r\n\r\n" */
        return false;
    size_t limit = n < HTTP_REQ_SCAN_MAX_HEAD ? n : HTTP_REQ_SCAN_MAX_HEAD;
    out->n_headers = 0;
    out->names_values = 0;
    bool minor1;
    const char *p = request_line(data, limit, &minor1, out);
    if (!p)
        return false;
    struct head h = {.data = data, .out = out};
    p = http_scan_lines(data, p, limit, header, &h);
    if (!p)
        return false;
    size_t head = (size_t)(p - data);
    if (h.f.length > n - head)
        return false;
    out->have_length = h.f.have_length;
    out->keep_alive = http_scan_keep_alive(minor1, h.f.conn);
    out->body = p;
    out->body_len = h.f.length;
    out->used = head + h.f.length;
    return true;
}
