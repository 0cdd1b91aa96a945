/* http_resp_scan — a whole, plain HTTP/1.x response read in one pass.
 *
 * The own HTTP client (http_plain) hands every read to http_parser, which
 * walks the bytes one at a time through its state machine: ~4 600
 * instructions for a Bot API answer of ~300 bytes, most of them the
 * headers'. When the first read of an exchange holds exactly one complete
 * response in the plain form servers send, http_resp_scan reads it with
 * memchr and a few compares instead.
 *
 * The plain form: "HTTP/1.1 " or "HTTP/1.0 ", a status of three digits from
 * 200 to 599 other than 204 and 304, a space, a reason of printable ASCII;
 * header lines "Name: value" ending in CRLF, the name a token, the value
 * printable ASCII or tabs; exactly one Content-Length of at most 9 digits
 * (spaces before it only); Connection, if there, exactly "keep-alive" or
 * "close" (any case); no Transfer-Encoding, Upgrade or Proxy-Connection;
 * at most HTTP_RESP_SCAN_MAX_HEAD bytes up to the empty line; then the body
 * of Content-Length bytes and nothing after it. On anything else it answers
 * false WITHOUT deciding, and the caller gives the bytes to http_parser as
 * before: whatever it accepts, http_parser reads the same way (same status,
 * body and keep-alive; tests/unit/test_http_resp_scan.c compares the two
 * on fixed cases and on mutations).
 *
 * Nothing is allocated: the body points into the data. */
#ifndef DVCBOT_HTTP_RESP_SCAN_H
#define DVCBOT_HTTP_RESP_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_RESP_SCAN_MAX_HEAD 8192

struct http_resp_scan {
    unsigned status;
    bool keep_alive;  /* what http_should_keep_alive says */
    const char *body; /* into the data */
    size_t body_len;
};

/* True when data[0..n) is exactly one complete response of the plain form
 * (out filled); false, deciding nothing, otherwise. */
bool http_resp_scan(const char *data, size_t n, struct http_resp_scan *out);

/* Whether c may be in a header name (an RFC 9110 token character); for the
 * unit test of the scan's table. */
bool http_resp_scan_tchar(unsigned char c);

#endif
