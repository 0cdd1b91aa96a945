/* netaddr: address parsing, CIDR lists, the groups limits count per, and
 * the client behind a trusted proxy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/netaddr.h"

static void test_ipv4_and_mapped_ipv6_are_one_address(void **state)
{
    (void)state;
    struct netaddr a, b;
    assert_true(netaddr_parse("203.0.113.9", &a));
    assert_true(netaddr_parse("::ffff:203.0.113.9", &b));
    assert_int_equal(a.family, 4);
    assert_int_equal(b.family, 4);
    char ga[NETADDR_TEXT_MAX], gb[NETADDR_TEXT_MAX];
    netaddr_group(&a, ga);
    netaddr_group(&b, gb);
    assert_string_equal(ga, "4:203.0.113.9");
    assert_string_equal(gb, ga);
    assert_false(netaddr_parse("203.0.113", &a));
    assert_false(netaddr_parse("203.0.113.9:80", &a));
    assert_false(netaddr_parse("", &a));
    assert_false(netaddr_parse("example.org", &a));
}

static void test_ipv6_counts_per_64(void **state)
{
    (void)state;
    struct netaddr a, b;
    assert_true(netaddr_parse("2001:db8:1:2:aaaa::1", &a));
    assert_true(netaddr_parse("2001:db8:1:2:ffff:ffff:ffff:ffff", &b));
    char ga[NETADDR_TEXT_MAX], gb[NETADDR_TEXT_MAX];
    netaddr_group(&a, ga);
    netaddr_group(&b, gb);
    assert_string_equal(ga, "6:2001:db8:1:2::/64");
    assert_string_equal(gb, ga);
    assert_true(netaddr_parse("2001:db8:1:3::1", &b));
    netaddr_group(&b, gb);
    assert_string_not_equal(gb, ga);
}

/* The mask of the address's limit group. */
static const char *masked(const char *text)
{
    static char out[NETADDR_TEXT_MAX];
    struct netaddr a;
    char group[NETADDR_TEXT_MAX];
    assert_true(netaddr_parse(text, &a));
    netaddr_group(&a, group);
    netaddr_mask(group, out);
    return out;
}

static void test_masks_keep_an_ipv6_48_written_out_whatever_the_compression(void **state)
{
    (void)state;
    /* Written out: the /48 cut at the third ':' of the compressed group gave
     * "2001:db8::*" for "2001:db8::1" and "" for "2001::1". Cut at the /48,
     * not the /64: a /64 is one subscriber, as precise as a whole IPv4
     * address, which the mask never shows (session 10: "2001:db8:0:1::1" was
     * "2001:db8:0:1:*", one household's line). */
    assert_string_equal(masked("2001:db8::1"), "2001:db8:0:*");
    assert_string_equal(masked("2001:0db8:0000:0000:0000:0000:0000:0001"), "2001:db8:0:*");
    assert_string_equal(masked("2001:db8:0:1::1"), "2001:db8:0:*");
    assert_string_equal(masked("2001:db8:0:ff01::1"), "2001:db8:0:*"); /* two households: one mask */
    assert_string_equal(masked("2001:db8:aa:bb:cc:dd:ee:ff"), "2001:db8:aa:*");
    assert_string_equal(masked("2001::1"), "2001:0:0:*");
    assert_string_equal(masked("::1"), "0:0:0:*");
    assert_string_equal(masked("fe80::1234:5678:9abc:def0"), "fe80:0:0:*");
    assert_string_equal(masked("::ffff:203.0.113.7"), "203.0.113.*"); /* IPv4-mapped: IPv4 */
    assert_string_equal(masked("203.0.113.7"), "203.0.113.*");
    char out[NETADDR_TEXT_MAX];
    const char *not_groups[] = {"unknown", "", "2001:db8::1", "6:nonsense/64", "4:1.2.3", "7:1.2.3.4"};
    for (size_t i = 0; i < sizeof not_groups / sizeof not_groups[0]; i++) {
        netaddr_mask(not_groups[i], out);
        assert_string_equal(out, "");
    }
    netaddr_mask(NULL, out);
    assert_string_equal(out, "");
}

static void test_cidr_lists(void **state)
{
    (void)state;
    const char *list = "127.0.0.1, 172.16.0.0/12,::1 ,2001:db8::/32";
    assert_true(netaddr_list_valid(list));
    assert_true(netaddr_list_valid(""));
    assert_false(netaddr_list_valid("10.0.0.0/33"));
    assert_false(netaddr_list_valid("10.0.0.0/"));
    assert_false(netaddr_list_valid("nginx"));
    struct netaddr a;
    const char *in[] = {"127.0.0.1", "172.16.0.1", "172.31.255.255", "::1", "2001:db8:ffff::1"};
    const char *out[] = {"127.0.0.2", "172.32.0.1", "172.15.255.255", "::2", "2001:db9::1", "10.0.0.1"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        assert_true(netaddr_parse(in[i], &a));
        assert_true(netaddr_in_list(&a, list));
    }
    for (size_t i = 0; i < sizeof out / sizeof out[0]; i++) {
        assert_true(netaddr_parse(out[i], &a));
        assert_false(netaddr_in_list(&a, list));
    }
    assert_true(netaddr_parse("10.1.2.3", &a));
    assert_false(netaddr_in_list(&a, NULL));
    assert_true(netaddr_in_list(&a, "0.0.0.0/0"));
}

static void test_forwarded_for_only_from_a_trusted_proxy_read_from_the_right(void **state)
{
    (void)state;
    char g[NETADDR_TEXT_MAX];
    const char *trusted = "10.0.0.0/8";
    /* nginx appended the address it saw; what the client wrote before is not believed */
    assert_true(netaddr_client_group("10.0.0.5", "1.1.1.1, 198.51.100.7", trusted, g));
    assert_string_equal(g, "4:198.51.100.7");
    /* a chain of trusted proxies is skipped */
    assert_true(netaddr_client_group("10.0.0.5", "198.51.100.7, 10.0.0.9", trusted, g));
    assert_string_equal(g, "4:198.51.100.7");
    /* from anyone else the header is ignored */
    assert_true(netaddr_client_group("203.0.113.1", "198.51.100.7", trusted, g));
    assert_string_equal(g, "4:203.0.113.1");
    assert_true(netaddr_client_group("10.0.0.5", "198.51.100.7", NULL, g));
    assert_string_equal(g, "4:10.0.0.5");
    /* garbage at the right end: the proxy itself */
    assert_true(netaddr_client_group("10.0.0.5", "198.51.100.7, nonsense", trusted, g));
    assert_string_equal(g, "4:10.0.0.5");
    assert_true(netaddr_client_group("10.0.0.5", "", trusted, g));
    assert_string_equal(g, "4:10.0.0.5");
    assert_true(netaddr_client_group("10.0.0.5", "2001:db8:1:2::9", trusted, g));
    assert_string_equal(g, "6:2001:db8:1:2::/64");
    assert_false(netaddr_client_group("", NULL, trusted, g));
    assert_string_equal(g, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_and_mapped_ipv6_are_one_address),
        cmocka_unit_test(test_ipv6_counts_per_64),
        cmocka_unit_test(test_masks_keep_an_ipv6_48_written_out_whatever_the_compression),
        cmocka_unit_test(test_cidr_lists),
        cmocka_unit_test(test_forwarded_for_only_from_a_trusted_proxy_read_from_the_right),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
