/* http_client_prep — checking an outgoing request before curl sees it
 * (method, URL, header lines) and making its curl header list, for
 * http_client.c.
 *
 * No state and no callbacks. The header list http_client_headers_build
 * makes is the caller's (curl_slist_free_all); running out of memory aborts,
 * as xmalloc does. */
#ifndef DVCBOT_HTTP_CLIENT_PREP_H
#define DVCBOT_HTTP_CLIENT_PREP_H

#include "dvcbot/http_client.h"

#include <curl/curl.h>
#include <stdbool.h>

/* Whether req can be sent at all: a URL, a sane timeout, a body when
 * body_len says there is one. */
bool http_client_request_valid(const struct http_client_request *req);
/* The method: 1 for POST, 0 for GET, -1 when not allowed (another method,
 * or GET with a body). */
int http_client_method_is_post(const struct http_client_request *req);
/* Copies the host of an http:// or https:// URL into out, for logs (never
 * the credentials; cut at HTTP_CLIENT_HOST_MAX - 1 bytes); false for any
 * other URL. curl checks the rest when it parses the URL. */
bool http_client_url_host(const char *url, char out[HTTP_CLIENT_HOST_MAX]);
/* False for a header line with CR or LF (header injection). */
bool http_client_header_ok(const char *line);
/* The same for every line of a NULL-terminated list (NULL: none). */
bool http_client_headers_ok(const char *const *lines);
/* The caller's header lines (NULL-terminated, or NULL) into *out; for POST
 * "Expect:" is added unless the caller set Expect, so that curl does not
 * wait for a "100 Continue". Returns 0, or -1 (nothing made) on a line
 * http_client_header_ok refuses. */
int http_client_headers_build(const char *const *lines, bool post, struct curl_slist **out);
/* True when list (made for a POST when list_post) is what
 * http_client_headers_build would make of lines and post: a kept easy
 * handle can send it again. */
bool http_client_headers_same(const struct curl_slist *list, bool list_post, const char *const *lines,
                              bool post);

#endif
