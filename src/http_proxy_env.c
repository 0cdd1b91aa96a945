/* http_proxy_env — libcurl's proxy environment rules for http:// URLs. See
 * include/dvcbot/http_proxy_env.h. */
#include "dvcbot/http_proxy_env.h"
#include "dvcbot/log.h"
#include "dvcbot/mem.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* curl_getenv: an empty variable is no variable. */
static const char *env_value(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

void http_proxy_env_read(struct http_proxy_env *e)
{
    static const char *const proxy_vars[] = {"http_proxy", "all_proxy", "ALL_PROXY"};
    e->proxy_var = NULL;
    for (size_t i = 0; i < sizeof proxy_vars / sizeof proxy_vars[0] && !e->proxy_var; i++)
        if (env_value(proxy_vars[i]))
            e->proxy_var = proxy_vars[i];
    const char *no_proxy = env_value("no_proxy");
    if (!no_proxy)
        no_proxy = env_value("NO_PROXY");
    e->no_proxy = no_proxy ? xstrdup(no_proxy) : NULL;
    if (!e->proxy_var && env_value("HTTP_PROXY"))
        log_msg(LOG_WARN, "HTTP_PROXY is ignored, as libcurl ignores it: set http_proxy");
}

void http_proxy_env_free(struct http_proxy_env *e)
{
    free(e->no_proxy);
    e->no_proxy = NULL;
    e->proxy_var = NULL;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* A host name against one pattern: equal, or its tail after a dot. */
static bool name_matches(const char *tok, size_t tlen, const char *name, size_t nlen)
{
    if (tlen && tok[tlen - 1] == '.')
        tlen--;
    if (tlen && tok[0] == '.') {
        tok++;
        tlen--;
    }
    if (tlen == 0 || tlen > nlen)
        return false;
    if (tlen < nlen && name[nlen - tlen - 1] != '.')
        return false;
    return strncasecmp(tok, name + (nlen - tlen), tlen) == 0;
}

/* An IPv4 address against "a.b.c.d" or "a.b.c.d/bits". */
static bool ipv4_matches(const char *tok, size_t tlen, uint32_t addr)
{
    char net_text[INET_ADDRSTRLEN + 4];
    if (tlen >= sizeof net_text)
        return false;
    memcpy(net_text, tok, tlen);
    net_text[tlen] = '\0';
    unsigned bits = 32;
    char *slash = strchr(net_text, '/');
    if (slash) {
        char *end;
        unsigned long b = strtoul(slash + 1, &end, 10);
        if (slash[1] < '0' || slash[1] > '9' || *end || b > 32)
            return false;
        bits = b == 0 ? 32 : (unsigned)b; /* curl: "/0" compares the whole address */
        *slash = '\0';
    }
    struct in_addr net;
    if (inet_pton(AF_INET, net_text, &net) != 1)
        return false;
    uint32_t mask = bits == 32 ? UINT32_MAX : ~(UINT32_MAX >> bits);
    return ((ntohl(net.s_addr) ^ addr) & mask) == 0;
}

bool http_proxy_env_exempt(const char *list, const char *host)
{
    if (!list || !*list || !host || !*host)
        return false;
    if (strcmp(list, "*") == 0)
        return true;
    struct in_addr a;
    bool ipv4 = inet_pton(AF_INET, host, &a) == 1;
    uint32_t addr = ipv4 ? ntohl(a.s_addr) : 0;
    size_t nlen = strlen(host);
    if (!ipv4 && host[nlen - 1] == '.')
        nlen--;
    for (const char *p = list; *p;) {
        while (is_blank(*p))
            p++;
        const char *tok = p;
        while (*p && !is_blank(*p) && *p != ',')
            p++;
        size_t tlen = (size_t)(p - tok);
        if (tlen && (ipv4 ? ipv4_matches(tok, tlen, addr) : name_matches(tok, tlen, host, nlen)))
            return true;
        while (is_blank(*p))
            p++;
        if (*p != ',')
            break; /* the end, or a pattern after blanks only: curl 8 reads no further */
        while (*p == ',')
            p++;
    }
    return false;
}

bool http_proxy_env_applies(const struct http_proxy_env *e, const char *host)
{
    if (!e->proxy_var)
        return false;
    if (strchr(host, ':'))
        return !(e->no_proxy && strcmp(e->no_proxy, "*") == 0); /* IPv6: curl versions differ */
    return !http_proxy_env_exempt(e->no_proxy, host);
}
