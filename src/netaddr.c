/* netaddr — parsing, CIDR lists, limit groups, the client behind a proxy. */
#include "dvcbot/netaddr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool netaddr_parse(const char *text, struct netaddr *out)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, text, out->bytes) == 1) {
        out->family = 4;
        return true;
    }
    if (inet_pton(AF_INET6, text, out->bytes) != 1)
        return false;
    out->family = 6;
    if (memcmp(out->bytes, mapped, sizeof mapped) == 0) {
        memmove(out->bytes, out->bytes + 12, 4);
        memset(out->bytes + 4, 0, 12);
        out->family = 4;
    }
    return true;
}

/* One list entry "addr" or "addr/bits" (of at most len bytes) into net and
 * bits. */
static bool parse_entry(const char *s, size_t len, struct netaddr *net, int *bits)
{
    char text[NETADDR_TEXT_MAX];
    if (len == 0 || len >= sizeof text)
        return false;
    memcpy(text, s, len);
    text[len] = '\0';
    char *slash = strchr(text, '/');
    if (slash)
        *slash = '\0';
    if (!netaddr_parse(text, net))
        return false;
    int max = net->family == 4 ? 32 : 128;
    *bits = max;
    if (slash) {
        char *end;
        long b = strtol(slash + 1, &end, 10);
        if (!isdigit((unsigned char)slash[1]) || *end || b < 0 || b > max)
            return false;
        *bits = (int)b;
    }
    return true;
}

static bool prefix_equal(const unsigned char *a, const unsigned char *b, int bits)
{
    int whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)whole) != 0)
        return false;
    if (!rest)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

/* Calls each entry; stops at the first for which fn returns true. Returns
 * 1 when fn did, 0 when the list ended, -1 for a malformed entry. */
static int each_entry(const char *list, bool (*fn)(const struct netaddr *, int, const void *),
                      const void *ud)
{
    for (const char *p = list; p && *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t len = strcspn(p, ", ");
        if (!len)
            break;
        struct netaddr net;
        int bits;
        if (!parse_entry(p, len, &net, &bits))
            return -1;
        if (fn && fn(&net, bits, ud))
            return 1;
        p += len;
    }
    return 0;
}

bool netaddr_list_valid(const char *list)
{
    return each_entry(list, NULL, NULL) == 0;
}

static bool contains(const struct netaddr *net, int bits, const void *ud)
{
    const struct netaddr *a = ud;
    return a->family == net->family && prefix_equal(a->bytes, net->bytes, bits);
}

bool netaddr_in_list(const struct netaddr *a, const char *list)
{
    return each_entry(list, contains, a) == 1;
}

void netaddr_group(const struct netaddr *a, char out[NETADDR_TEXT_MAX])
{
    char text[INET6_ADDRSTRLEN];
    if (a->family == 4) {
        inet_ntop(AF_INET, a->bytes, text, sizeof text);
        snprintf(out, NETADDR_TEXT_MAX, "4:%s", text);
        return;
    }
    unsigned char net[16] = {0};
    memcpy(net, a->bytes, 8);
    inet_ntop(AF_INET6, net, text, sizeof text);
    snprintf(out, NETADDR_TEXT_MAX, "6:%s/64", text);
}

void netaddr_mask(const char *group, char out[NETADDR_TEXT_MAX])
{
    char addr[NETADDR_TEXT_MAX];
    struct netaddr a;
    out[0] = '\0';
    if (!group || (group[0] != '4' && group[0] != '6') || group[1] != ':')
        return;
    const char *text = group + 2;
    size_t len = strcspn(text, "/");
    if (len >= sizeof addr)
        return;
    memcpy(addr, text, len);
    addr[len] = '\0';
    if (!netaddr_parse(addr, &a))
        return;
    const unsigned char *b = a.bytes;
    if (a.family == 4)
        snprintf(out, NETADDR_TEXT_MAX, "%u.%u.%u.*", b[0], b[1], b[2]);
    else
        snprintf(out, NETADDR_TEXT_MAX, "%x:%x:%x:*", (unsigned)(b[0] << 8 | b[1]),
                 (unsigned)(b[2] << 8 | b[3]), (unsigned)(b[4] << 8 | b[5]));
}

/* The rightmost address of xff[0..len) that is not a trusted proxy, into a. */
static bool client_from_xff(const char *xff, size_t len, const char *trusted, struct netaddr *a)
{
    while (len) {
        size_t end = len;
        while (end && (xff[end - 1] == ' ' || xff[end - 1] == '\t'))
            end--;
        size_t start = end;
        while (start && xff[start - 1] != ',')
            start--;
        size_t s = start;
        while (s < end && (xff[s] == ' ' || xff[s] == '\t'))
            s++;
        char text[NETADDR_TEXT_MAX];
        if (end - s == 0 || end - s >= sizeof text)
            return false;
        memcpy(text, xff + s, end - s);
        text[end - s] = '\0';
        if (!netaddr_parse(text, a))
            return false;
        if (!netaddr_in_list(a, trusted))
            return true;
        len = start ? start - 1 : 0;
    }
    return false;
}

bool netaddr_client_group(const char *peer, const char *xff, const char *trusted,
                          char out[NETADDR_TEXT_MAX])
{
    struct netaddr a, from_xff;
    out[0] = '\0';
    if (!peer || !netaddr_parse(peer, &a))
        return false;
    if (xff && netaddr_in_list(&a, trusted) && client_from_xff(xff, strlen(xff), trusted, &from_xff))
        a = from_xff;
    netaddr_group(&a, out);
    return true;
}
