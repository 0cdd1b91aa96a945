/* http_scan — what the one-pass readers of plain HTTP/1.x heads share
 * (http_req_scan for the server's requests, http_resp_scan for the client's
 * responses): the characters of names and values, the header lines up to
 * the empty line, and the framing headers (Content-Length, Connection and
 * those that make a message other than plain). Nothing is allocated. */
#ifndef DVCBOT_HTTP_SCAN_H
#define DVCBOT_HTTP_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <strings.h>

/* RFC 9110 token characters (a header name), as a bit map of the 256
 * bytes: ALPHA DIGIT ! # $ % & ' * + - . ^ _ ` | ~
 * (tests/unit/test_http_resp_scan.c checks it against that list). */
extern const uint64_t http_scan_tchar_map[4];

static inline bool http_scan_tchar(unsigned char c)
{
    return (http_scan_tchar_map[c >> 6] >> (c & 63)) & 1;
}

/* Printable ASCII or a tab. */
static inline bool http_scan_text(unsigned char c)
{
    return (unsigned char)(c - 0x20) < 0x5f || c == '\t';
}

/* Whether p[0..n) is word (lower case) in any case. */
static inline bool http_scan_name_is(const char *p, size_t n, const char *word, size_t wn)
{
    return n == wn && strncasecmp(p, word, n) == 0;
}

#define HTTP_SCAN_NAME_IS(p, n, w) http_scan_name_is((p), (n), (w), sizeof(w) - 1)

/* The framing a head's headers declared. */
enum http_scan_conn { HTTP_SCAN_CONN_NONE, HTTP_SCAN_CONN_KEEP, HTTP_SCAN_CONN_CLOSE };
struct http_scan_framing {
    bool have_length;
    size_t length;
    enum http_scan_conn conn;
};

/* One header (name[0..nl), value v[0..vl)) for the framing: a
 * Content-Length (the first, 1 to 9 digits) or a Connection (the first,
 * "keep-alive" or "close") is taken into f; Transfer-Encoding, Upgrade and
 * Proxy-Connection, a second Content-Length or Connection, or one of
 * another form, answer false (not the plain form); any other header true. */
bool http_scan_framing_header(const char *name, size_t nl, const char *v, size_t vl,
                              struct http_scan_framing *f);

/* What http_should_keep_alive says of a message of version 1.<minor1 ? 1 : 0>
 * with that Connection header. */
static inline bool http_scan_keep_alive(bool minor1, enum http_scan_conn conn)
{
    return minor1 ? conn != HTTP_SCAN_CONN_CLOSE : conn == HTTP_SCAN_CONN_KEEP;
}

/* The header lines of a head: p is at the CR that ends the start line,
 * data[0..limit) what may be read. Calls line(ctx, start, length) for each
 * header line (without its CRLF; its CR follows it in the data) until the
 * empty line. Returns where the body starts, or NULL when a line is not
 * ended by CRLF within limit or line() answers false. */
typedef bool (*http_scan_line_fn)(void *ctx, const char *line, size_t len);
const char *http_scan_lines(const char *data, const char *p, size_t limit, http_scan_line_fn line, void *ctx);

#endif
