/* store_url — parsing of REDIS_URL (redis://host:port/db, unix:///path?db=N).
 * The contract is store_parse_url in store.h. */
#include "dvcbot/store.h"
#include "dvcbot/mem.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

/* Parses n decimal digits (n > 0) not above max. */
static bool parse_uint(const char *p, size_t n, long max, long *out)
{
    long v = 0;
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
        if (v > max)
            return false;
    }
    *out = v;
    return true;
}

static bool host_char_ok(char c, bool bracketed)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c == '-' || c == '.' || c == '_' || (bracketed && c == ':');
}

/* "host[:port][/db]" after "redis://"; host may be "[v6 address]". */
static int parse_tcp_url(const char *p, char **host, int *port, int *db)
{
    const char *end = p + strcspn(p, "/");
    const char *h = p, *h_end, *rest;
    bool bracketed = *p == '[';
    long v;

    if (bracketed) {
        h = p + 1;
        h_end = memchr(h, ']', (size_t)(end - h));
        if (!h_end)
            return STORE_EINVAL;
        rest = h_end + 1;
    } else {
        h_end = memchr(p, ':', (size_t)(end - p));
        if (!h_end)
            h_end = end;
        rest = h_end;
    }
    if (h_end == h)
        return STORE_EINVAL;
    for (const char *c = h; c < h_end; c++)
        if (!host_char_ok(*c, bracketed))
            return STORE_EINVAL;

    *port = STORE_DEFAULT_PORT;
    if (rest < end) {
        if (*rest != ':' || !parse_uint(rest + 1, (size_t)(end - rest - 1), 65535, &v) || v == 0)
            return STORE_EINVAL;
        *port = (int)v;
    }
    *db = 0;
    if (*end == '/' && end[1] != '\0') {
        if (!parse_uint(end + 1, strlen(end + 1), STORE_MAX_DB, &v))
            return STORE_EINVAL;
        *db = (int)v;
    }
    *host = xstrndup(h, (size_t)(h_end - h));
    return 0;
}

/* "/path/to.sock[?db=N]" after "unix://". */
static int parse_unix_url(const char *p, char **path, int *db)
{
    size_t n = strcspn(p, "?");
    struct sockaddr_un sun;
    long v;

    if (n < 2 || p[0] != '/' || p[n - 1] == '/' || n >= sizeof sun.sun_path)
        return STORE_EINVAL;
    *db = 0;
    if (p[n] == '?') {
        const char *q = p + n + 1;
        if (strncmp(q, "db=", 3) != 0 || !parse_uint(q + 3, strlen(q + 3), STORE_MAX_DB, &v))
            return STORE_EINVAL;
        *db = (int)v;
    }
    *path = xstrndup(p, n);
    return 0;
}

int store_parse_url(const char *url, char **host, int *port, char **path, int *db)
{
    if (!url || !host || !port || !path || !db)
        return STORE_EINVAL;
    *host = NULL;
    *path = NULL;
    *port = 0;
    *db = 0;
    if (strncasecmp(url, "redis://", 8) == 0)
        return parse_tcp_url(url + 8, host, port, db);
    if (strncasecmp(url, "unix://", 7) == 0)
        return parse_unix_url(url + 7, path, db);
    return STORE_EINVAL;
}
