/* http_proxy_env — whether libcurl would send an http:// request through a
 * forward proxy named in the environment, so that http_client.c hands such
 * requests to curl (which connects through the proxy) and sends only the
 * others on the own keep-alive client (which knows no proxies).
 *
 * The rules are libcurl's (7.88, Debian 12; lib/url.c detect_proxy and
 * lib/noproxy.c):
 *   - the proxy for http:// is http_proxy, else all_proxy, else ALL_PROXY;
 *     an empty variable counts as unset. Upper-case HTTP_PROXY is not read
 *     ("httpoxy": under CGI it comes from a request's Proxy: header);
 *   - no_proxy (else NO_PROXY) exempts a host: "*" alone exempts every
 *     host; otherwise a list of patterns separated by commas (and blanks).
 *     A host name matches a pattern equal to it or ending it after a dot
 *     ("example.com" and ".example.com" both match "api.example.com", not
 *     "notexample.com"), case-insensitive, trailing dots ignored; an IPv4
 *     address matches an equal address or a CIDR range ("10.0.0.0/8").
 * Where curl versions differ the answer leans to "proxied" (the request then
 * goes through curl, which decides itself, at worst directly): patterns
 * after one separated by blanks only are ignored (curl 8 stops there), and
 * an IPv6 literal host is always "proxied" while a proxy is set.
 *
 * The environment is read once, by http_proxy_env_read; the struct owns
 * copies of what it keeps (http_proxy_env_free). No callbacks. */
#ifndef DVCBOT_HTTP_PROXY_ENV_H
#define DVCBOT_HTTP_PROXY_ENV_H

#include <stdbool.h>

struct http_proxy_env {
    const char *proxy_var;       /* the variable naming the proxy for http://; NULL: none */
    char *no_proxy;              /* copy of no_proxy / NO_PROXY; NULL: unset or empty */
};

/* Fills e from the environment. */
void http_proxy_env_read(struct http_proxy_env *e);
void http_proxy_env_free(struct http_proxy_env *e);
/* Whether an http:// request to host (a name, an IPv4 address, or an IPv6
 * address without brackets) would go through the proxy. */
bool http_proxy_env_applies(const struct http_proxy_env *e, const char *host);
/* curl's no_proxy test alone: whether host is exempt under list (NULL or
 * "": nothing is). */
bool http_proxy_env_exempt(const char *list, const char *host);

#endif
