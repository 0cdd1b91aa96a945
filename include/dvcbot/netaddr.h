/* netaddr — client addresses as limits see them.
 *
 * A limit "per address" counts per IPv4 address and per IPv6 /64 (one
 * household or phone gets a whole /64, so counting single IPv6 addresses
 * would give an attacker billions of sources). IPv4-mapped IPv6 addresses
 * (::ffff:a.b.c.d) count as IPv4.
 *
 * Behind a reverse proxy the TCP peer is the proxy: only when the peer is
 * one of the trusted proxies (DVCBOT_TRUSTED_PROXIES, a comma-separated list
 * of addresses and CIDR blocks) is X-Forwarded-For believed, read from the
 * right, skipping trusted proxies, as nginx's $proxy_add_x_forwarded_for
 * builds it. Pure functions; nothing is allocated. */
#ifndef DVCBOT_NETADDR_H
#define DVCBOT_NETADDR_H

#include <stdbool.h>
#include <stddef.h>

#define NETADDR_TEXT_MAX 64 /* an address or a group, with its NUL */

struct netaddr {
    int family;               /* 4 or 6 */
    unsigned char bytes[16];  /* network order; 4 used for IPv4 */
};

/* Parses a textual IPv4 or IPv6 address (no port, no brackets). */
bool netaddr_parse(const char *text, struct netaddr *out);
/* True when the list (addresses and CIDR blocks, commas and spaces
 * between) is well formed; an empty list is. */
bool netaddr_list_valid(const char *list);
/* True when a is in one of the list's entries. NULL or "" matches nothing. */
bool netaddr_in_list(const struct netaddr *a, const char *list);
/* The limit group of a: "4:1.2.3.4" or "6:2001:db8:1:2::/64". */
void netaddr_group(const struct netaddr *a, char out[NETADDR_TEXT_MAX]);
/* A limit group (netaddr_group: "4:1.2.3.4", "6:2001:db8::/64") masked
 * for logs and the sign-in trail: an IPv4 address without its last number
 * ("203.0.113.*", its /24), an IPv6 one as its /48 with its three groups
 * written out whatever the compression ("2001:db8::1" -> "2001:db8:0:*"),
 * an IPv4-mapped one as IPv4 (its group is "4:"). "" for anything else.
 * /48, not the /64 limits count by: a /64 is one subscriber (a household's
 * line, a phone), as precise as a whole IPv4 address; a /48 is a site or an
 * operator's pool of 256 home /56s, about what a /24 hides in (README,
 * "Addresses in logs"). */
void netaddr_mask(const char *group, char out[NETADDR_TEXT_MAX]);
/* The limit group of the client of a request that came from peer (its TCP
 * peer, text) with the X-Forwarded-For header xff (may be NULL). Returns
 * false when no address can be read (out is then ""). */
bool netaddr_client_group(const char *peer, const char *xff, const char *trusted,
                          char out[NETADDR_TEXT_MAX]);

#endif
