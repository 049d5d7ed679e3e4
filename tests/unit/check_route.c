/*
 * check_route.c -- the route table: longest suffix, DS at a zone's apex,
 * special-use names answered here, and what a reload changes.
 */
#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"
#include "dsconfig.h"
#include "route.h"
#include "suites.h"

static void
ignore(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "check_route: config: %s\n", line);
}

static struct ds_config *
parse(const char *text)
{
	struct ds_config *cfg = config_parse(text, strlen(text), "r.yml",
	    ignore, NULL);

	ck_assert_msg(cfg != NULL, "config_parse failed:\n%s", text);
	return cfg;
}

static const char base_conf[] =
    "forward_zones:\n"
    "  - name: corp.example\n"
    "    transport: plain\n"
    "    upstream_recursive_servers:\n"
    "      - address_data: 127.0.0.1\n"
    "  - name: a.corp.example\n"
    "    upstream_recursive_servers:\n"
    "      - address_data: 127.0.0.2\n"
    "        tls_auth_name: dns.a\n"
    "  - name: 10.in-addr.arpa\n"
    "    transport: plain\n"
    "    upstream_recursive_servers:\n"
    "      - address_data: 127.0.0.3\n"
    "domain_insecure:\n"
    "  - broken.example\n"
    "local_zones_disable:\n"
    "  - home.arpa\n";

static int
lookup(const struct route *rt, const char *name, uint16_t type)
{
	uint8_t w[DNS_MAX_NAME];
	int n = route_name_to_wire(name, w, sizeof(w));

	ck_assert_msg(n > 0, "route_name_to_wire %s", name);
	return route_lookup(rt, w, (size_t)n, type);
}

START_TEST(test_lookup)
{
	struct ds_config *cfg = parse(base_conf);
	struct route *rt = route_create(cfg);
	/* "x.corp" is one label here: not below corp.example. */
	static const uint8_t dotlabel[] = {
		6, 'x', '.', 'c', 'o', 'r', 'p', 7, 'e', 'x', 'a', 'm', 'p',
		'l', 'e', 0
	};
	static const uint8_t upper[] = {
		3, 'W', 'W', 'W', 4, 'C', 'O', 'R', 'P', 7, 'E', 'x', 'A', 'm',
		'P', 'l', 'E', 0
	};
	static const struct { const char *name; uint16_t type; int want; } c[] = {
		{ "www.corp.example.", DNS_TYPE_A, 0 },
		{ "corp.example.", DNS_TYPE_SOA, 0 },
		{ "corp.example.", DNS_TYPE_DNSKEY, 0 },
		{ "corp.example.", DNS_TYPE_DS, ROUTE_DEFAULT },
		{ "x.a.corp.example.", DNS_TYPE_A, 1 },
		{ "a.corp.example.", DNS_TYPE_A, 1 },
		{ "a.corp.example.", DNS_TYPE_DS, 0 },
		{ "b.a.corp.example.", DNS_TYPE_DS, 1 },
		{ "notcorp.example.", DNS_TYPE_A, ROUTE_DEFAULT },
		{ "example.", DNS_TYPE_A, ROUTE_DEFAULT },
		{ ".", DNS_TYPE_DNSKEY, ROUTE_DEFAULT },
		{ "3.2.1.10.in-addr.arpa.", DNS_TYPE_PTR, 2 },
		{ "3.2.168.192.in-addr.arpa.", DNS_TYPE_PTR, ROUTE_LOCAL },
		{ "localhost.", DNS_TYPE_A, ROUTE_LOCAL },
		{ "www.test.", DNS_TYPE_A, ROUTE_LOCAL },
		{ "x.onion.", DNS_TYPE_A, ROUTE_LOCAL },
		{ "printer.local.", DNS_TYPE_A, ROUTE_LOCAL },
		{ "nas.home.arpa.", DNS_TYPE_A, ROUTE_DEFAULT },
		{ "broken.example.", DNS_TYPE_A, ROUTE_DEFAULT },
	};
	size_t i;

	ck_assert_ptr_nonnull(rt);
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		ck_assert_msg(lookup(rt, c[i].name, c[i].type) == c[i].want,
		    "route_lookup %s type %u: %d, expected %d", c[i].name,
		    c[i].type, lookup(rt, c[i].name, c[i].type), c[i].want);
	ck_assert_msg(route_lookup(rt, dotlabel, sizeof(dotlabel),
	    DNS_TYPE_A) == ROUTE_DEFAULT,
	    "route_lookup: a label holding a dot is not a label boundary");
	ck_assert_msg(route_lookup(rt, upper, sizeof(upper), DNS_TYPE_A) == 0,
	    "route_lookup: upper case matches");
	route_delete(rt);
	config_free(cfg);
}
END_TEST

/* A forward zone named like a special-use zone takes it over; a root
 * forward zone does not. */
START_TEST(test_forward_takes_over)
{
	struct ds_config *cfg = parse(
	    "forward_zones:\n"
	    "  - name: onion\n"
	    "    upstream_recursive_servers:\n"
	    "      - address_data: 127.0.0.1\n"
	    "        tls_auth_name: tor.example\n"
	    "  - name: .\n"
	    "    upstream_recursive_servers:\n"
	    "      - address_data: 127.0.0.2\n"
	    "        tls_auth_name: root.example\n");
	struct route *rt = route_create(cfg);

	ck_assert_ptr_nonnull(rt);
	ck_assert_int_eq(lookup(rt, "x.onion.", DNS_TYPE_A), 0);
	ck_assert_int_eq(lookup(rt, "www.example.", DNS_TYPE_A), 1);
	ck_assert_int_eq(lookup(rt, "x.test.", DNS_TYPE_A), ROUTE_LOCAL);
	ck_assert_int_eq(lookup(rt, "localhost.", DNS_TYPE_A), ROUTE_LOCAL);
	route_delete(rt);
	config_free(cfg);
}
END_TEST

struct reply {
	uint8_t b[512];
	int len;
};

static void
local(const struct route *rt, const char *name, uint16_t type, bool edns,
    struct reply *r)
{
	struct dnsmsg_query q;
	int n;

	memset(&q, 0, sizeof(q));
	q.id = 0x4242;
	q.rd = true;
	q.question_ok = true;
	n = route_name_to_wire(name, q.qname, sizeof(q.qname));
	ck_assert_int_gt(n, 0);
	q.qname_len = (size_t)n;
	q.qtype = type;
	q.qclass = DNS_CLASS_IN;
	q.edns = edns;
	q.udp_size = edns ? 1232 : 512;
	r->len = route_local(rt, &q, 1232, r->b, sizeof(r->b));
}

static unsigned
u16(const struct reply *r, size_t off)
{
	return (unsigned)(r->b[off] << 8 | r->b[off + 1]);
}

/* rcode, and the counts of answer, authority, additional */
static void
expect(const struct reply *r, const char *what, int rcode, unsigned an,
    unsigned ns, unsigned ar)
{
	ck_assert_msg(r->len > 12, "%s: no reply (%d)", what, r->len);
	ck_assert_msg(u16(r, 0) == 0x4242, "%s: ID", what);
	ck_assert_msg((r->b[2] & 0x84) == 0x84, "%s: QR and AA", what);
	ck_assert_msg((r->b[3] & 0x20) == 0, "%s: never AD", what);
	ck_assert_msg((r->b[3] & 0x0f) == rcode, "%s: rcode %d, expected %d",
	    what, r->b[3] & 0x0f, rcode);
	ck_assert_msg(u16(r, 6) == an && u16(r, 8) == ns && u16(r, 10) == ar,
	    "%s: counts %u/%u/%u, expected %u/%u/%u", what, u16(r, 6),
	    u16(r, 8), u16(r, 10), an, ns, ar);
}

static bool
contains(const struct reply *r, const void *bytes, size_t n)
{
	return memmem(r->b, (size_t)r->len, bytes, n) != NULL;
}

START_TEST(test_local_answers)
{
	struct ds_config *cfg = parse(base_conf);
	struct route *rt = route_create(cfg);
	static const uint8_t lo4[] = { 0, 4, 127, 0, 0, 1 };
	static const uint8_t lo6[] = { 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 1 };
	static const uint8_t lh[] = { 9, 'l', 'o', 'c', 'a', 'l', 'h', 'o',
		's', 't', 0 };
	static const uint8_t z168[] = { 3, '1', '6', '8', 3, '1', '9', '2', 7,
		'i', 'n', '-', 'a', 'd', 'd', 'r', 4, 'a', 'r', 'p', 'a', 0 };
	struct reply r;

	ck_assert_ptr_nonnull(rt);
	local(rt, "localhost.", DNS_TYPE_A, true, &r);
	expect(&r, "localhost A", 0, 1, 0, 1);
	ck_assert(contains(&r, lo4, sizeof(lo4)));
	local(rt, "www.localhost.", DNS_TYPE_AAAA, false, &r);
	expect(&r, "www.localhost AAAA", 0, 1, 0, 0);
	ck_assert(contains(&r, lo6, sizeof(lo6)));
	local(rt, "localhost.", DNS_TYPE_MX, false, &r);
	expect(&r, "localhost MX: no data, SOA", 0, 0, 1, 0);
	local(rt, "www.test.", DNS_TYPE_A, false, &r);
	expect(&r, "www.test A: NXDOMAIN, SOA", DNS_RCODE_NXDOMAIN, 0, 1, 0);
	local(rt, "test.", DNS_TYPE_A, false, &r);
	expect(&r, "test. A: the apex exists, no data", 0, 0, 1, 0);
	local(rt, "x.invalid.", DNS_TYPE_A, false, &r);
	expect(&r, "x.invalid", DNS_RCODE_NXDOMAIN, 0, 1, 0);
	local(rt, "4.3.2.168.192.in-addr.arpa.", DNS_TYPE_PTR, false, &r);
	expect(&r, "192.168 PTR", DNS_RCODE_NXDOMAIN, 0, 1, 0);
	ck_assert_msg(contains(&r, z168, sizeof(z168)),
	    "192.168 PTR: the SOA is 168.192.in-addr.arpa's");
	local(rt, "168.192.in-addr.arpa.", DNS_TYPE_SOA, false, &r);
	expect(&r, "168.192.in-addr.arpa SOA", 0, 1, 0, 0);
	local(rt, "168.192.in-addr.arpa.", DNS_TYPE_NS, false, &r);
	expect(&r, "168.192.in-addr.arpa NS", 0, 1, 0, 0);
	ck_assert(contains(&r, lh, sizeof(lh)));
	local(rt, "1.0.0.127.in-addr.arpa.", DNS_TYPE_PTR, false, &r);
	expect(&r, "127.0.0.1 PTR", 0, 1, 0, 0);
	ck_assert(contains(&r, lh, sizeof(lh)));
	local(rt, "2.0.0.127.in-addr.arpa.", DNS_TYPE_PTR, false, &r);
	expect(&r, "127.0.0.2 PTR", DNS_RCODE_NXDOMAIN, 0, 1, 0);
	local(rt, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.0.ip6.arpa.", DNS_TYPE_PTR, false, &r);
	expect(&r, "::1 PTR", 0, 1, 0, 0);
	/* Not served here: routed, disabled, or ordinary names. */
	local(rt, "1.2.3.10.in-addr.arpa.", DNS_TYPE_PTR, false, &r);
	ck_assert_int_eq(r.len, 0);
	local(rt, "nas.home.arpa.", DNS_TYPE_A, false, &r);
	ck_assert_int_eq(r.len, 0);
	local(rt, "www.example.", DNS_TYPE_A, false, &r);
	ck_assert_int_eq(r.len, 0);
	route_delete(rt);
	config_free(cfg);
}
END_TEST

struct names {
	char buf[1024];
};

static void
collect(void *arg, const char *name)
{
	struct names *n = arg;

	strncat(n->buf, name, sizeof(n->buf) - strlen(n->buf) - 2);
	strcat(n->buf, " ");
}

START_TEST(test_changes)
{
	struct ds_config *a = parse(base_conf);
	struct ds_config *same = parse(base_conf);
	struct ds_config *b = parse(
	    "forward_zones:\n"
	    "  - name: corp.example\n"
	    "    transport: plain\n"
	    "    upstream_recursive_servers:\n"
	    "      - address_data: 127.0.0.1\n"
	    "  - name: a.corp.example\n"
	    "    upstream_recursive_servers:\n"
	    "      - address_data: 127.0.0.9\n"	/* changed */
	    "        tls_auth_name: dns.a\n"
	    "  - name: lab.example\n"		/* added; 10.in-addr gone */
	    "    transport: plain\n"
	    "    upstream_recursive_servers:\n"
	    "      - address_data: 127.0.0.3\n"
	    "domain_insecure:\n"
	    "  - other.example\n"
	    "local_zones_disable:\n"
	    "  - test\n");
	struct names n;

	memset(&n, 0, sizeof(n));
	ck_assert_uint_eq(route_changes(a, same, collect, &n), 0);
	ck_assert_str_eq(n.buf, "");
	ck_assert_uint_eq(route_changes(a, b, collect, &n), 8);
	/* 10.in-addr.arpa was routed, and is now local again. */
	ck_assert_str_eq(n.buf, "a.corp.example. 10.in-addr.arpa. "
	    "lab.example. broken.example. other.example. test. home.arpa. "
	    "10.in-addr.arpa. ");
	config_free(a);
	config_free(same);
	config_free(b);
}
END_TEST

START_TEST(test_name_to_wire)
{
	uint8_t w[DNS_MAX_NAME];

	ck_assert_int_eq(route_name_to_wire(".", w, sizeof(w)), 1);
	ck_assert_int_eq(route_name_to_wire("Corp.Example.", w, sizeof(w)), 14);
	ck_assert(memcmp(w, "\4corp\7example", 14) == 0);
	ck_assert_int_eq(route_name_to_wire("corp.example", w, sizeof(w)), 14);
	ck_assert_int_eq(route_name_to_wire("a..b", w, sizeof(w)), -1);
	ck_assert_int_eq(route_name_to_wire("a\\.b", w, sizeof(w)), -1);
	ck_assert_int_eq(route_name_to_wire("corp.example", w, 5), -1);
}
END_TEST

Suite *
route_suite(void)
{
	Suite *s = suite_create("route");
	TCase *tc = tcase_create("route");

	tcase_add_test(tc, test_lookup);
	tcase_add_test(tc, test_forward_takes_over);
	tcase_add_test(tc, test_local_answers);
	tcase_add_test(tc, test_changes);
	tcase_add_test(tc, test_name_to_wire);
	suite_add_tcase(s, tc);
	return s;
}
