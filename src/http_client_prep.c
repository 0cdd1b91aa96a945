/* http_client_prep — checking an outgoing request before curl sees it, and
 * its header list. See include/dvcbot/http_client_prep.h. */
#include "dvcbot/http_client_prep.h"
#include "dvcbot/log.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Copies the host of an http:// or https:// URL into out (for logs);
 * false for any other URL. curl checks the rest when it parses the URL. */
bool http_client_url_host(const char *url, char out[HTTP_CLIENT_HOST_MAX])
{
    const char *p;
    if (strncasecmp(url, "http://", 7) == 0)
        p = url + 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        p = url + 8;
    else
        return false;
    const char *at = p + strcspn(p, "/?#");
    const char *user = memchr(p, '@', (size_t)(at - p));
    if (user)
        p = user + 1; /* never log credentials */
    size_t n = *p == '[' ? strcspn(p, "]") + 1 : strcspn(p, ":/?#");
    if (n == 0 || (*p == '[' && p[n - 1] != ']'))
        return false;
    if (n >= HTTP_CLIENT_HOST_MAX)
        n = HTTP_CLIENT_HOST_MAX - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

static struct curl_slist *slist_add(struct curl_slist *list, const char *line)
{
    struct curl_slist *l = curl_slist_append(list, line);
    if (!l) {
        log_msg(LOG_ERROR, "out of memory");
        abort();
    }
    return l;
}

bool http_client_header_ok(const char *line)
{
    return !strpbrk(line, "\r\n");
}

bool http_client_headers_ok(const char *const *lines)
{
    for (size_t i = 0; lines && lines[i]; i++)
        if (!http_client_header_ok(lines[i]))
            return false;
    return true;
}

/* True when list holds exactly lines (plus "Expect:" for a POST without
 * one), as http_client_headers_build would make it. */
bool http_client_headers_same(const struct curl_slist *list, bool list_post, const char *const *lines,
                              bool post)
{
    if (list_post != post)
        return false;
    bool has_expect = false;
    for (size_t i = 0; lines && lines[i]; i++, list = list->next) {
        if (!list || strcmp(list->data, lines[i]) != 0)
            return false;
        if (strncasecmp(lines[i], "Expect:", 7) == 0)
            has_expect = true;
    }
    if (post && !has_expect) {
        if (!list || strcmp(list->data, "Expect:") != 0)
            return false;
        list = list->next;
    }
    return list == NULL;
}

/* Copies the caller's header lines. For POST, "Expect:" stops curl from
 * waiting for a "100 Continue" before large bodies unless the caller set
 * Expect. Returns -1 on a line with CR or LF (header injection). */
int http_client_headers_build(const char *const *lines, bool post, struct curl_slist **out)
{
    struct curl_slist *list = NULL;
    bool has_expect = false;
    for (size_t i = 0; lines && lines[i]; i++) {
        if (!http_client_header_ok(lines[i])) {
            curl_slist_free_all(list);
            return -1;
        }
        if (strncasecmp(lines[i], "Expect:", 7) == 0)
            has_expect = true;
        list = slist_add(list, lines[i]);
    }
    if (post && !has_expect)
        list = slist_add(list, "Expect:");
    *out = list;
    return 0;
}

/* Resolves the method: 1 for POST, 0 for GET, -1 when not allowed. */
int http_client_method_is_post(const struct http_client_request *req)
{
    if (!req->method)
        return req->body != NULL;
    if (strcmp(req->method, "POST") == 0)
        return 1;
    if (strcmp(req->method, "GET") == 0 && !req->body && !req->body_len)
        return 0;
    return -1;
}

bool http_client_request_valid(const struct http_client_request *req)
{
    return req && req->url && req->timeout_ms >= 0 && (req->body || !req->body_len);
}
