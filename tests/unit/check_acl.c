/*
 * check_acl.c -- address prefixes: parsing and matching.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>

#include "acl.h"
#include "suites.h"

static struct sockaddr_storage ss;

static const struct sockaddr *
addr(const char *text)
{
	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':')) {
		struct sockaddr_in6 *s6 = (void *)&ss;
		s6->sin6_family = AF_INET6;
		ck_assert_int_eq(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (void *)&ss;
		s4->sin_family = AF_INET;
		ck_assert_int_eq(inet_pton(AF_INET, text, &s4->sin_addr), 1);
	}
	return (const struct sockaddr *)&ss;
}

START_TEST(test_parse)
{
	struct acl_prefix p;
	char err[128];

	ck_assert_int_eq(acl_parse("127.0.0.0/8", &p, err, sizeof(err)), 0);
	ck_assert_msg(p.family == AF_INET && p.bits == 8 && p.addr[0] == 127,
	    "acl_parse: 127.0.0.0/8");
	ck_assert_int_eq(acl_parse("::1", &p, err, sizeof(err)), 0);
	ck_assert_msg(p.family == AF_INET6 && p.bits == 128,
	    "acl_parse: ::1 -> /128");
	ck_assert_int_eq(acl_parse("10.1.2.3", &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.bits, 32);
	ck_assert_msg(acl_parse("10.0.0.1/8", &p, err, sizeof(err)) == -1 &&
	    strstr(err, "beyond") != NULL,
	    "acl_parse: host bits set -> error (%s)", err);
	ck_assert_msg(acl_parse("10.0.0.0/33", &p, err, sizeof(err)) == -1,
	    "acl_parse: /33 for IPv4 -> error");
	ck_assert_msg(acl_parse("fe80::/129", &p, err, sizeof(err)) == -1,
	    "acl_parse: /129 -> error");
	ck_assert_msg(acl_parse("host.example/24", &p, err, sizeof(err)) == -1,
	    "acl_parse: a name -> error");
	ck_assert_msg(acl_parse("10.0.0.0/", &p, err, sizeof(err)) == -1,
	    "acl_parse: empty length -> error");
	ck_assert_msg(acl_parse("10.0.0.0/8x", &p, err, sizeof(err)) == -1,
	    "acl_parse: trailing text -> error");
	ck_assert_msg(acl_parse("", &p, err, sizeof(err)) == -1,
	    "acl_parse: empty -> error");
	ck_assert_int_eq(acl_parse("0.0.0.0/0", &p, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_match)
{
	struct acl_prefix l[3];
	char err[128];

	ck_assert_int_eq(acl_parse("127.0.0.0/8", &l[0], err, 128), 0);
	ck_assert_int_eq(acl_parse("192.0.2.128/25", &l[1], err, 128), 0);
	ck_assert_int_eq(acl_parse("2001:db8::/32", &l[2], err, 128), 0);
	ck_assert_msg(acl_allows(l, 3, addr("127.1.2.3")),
	    "acl_allows: 127.1.2.3 in 127/8");
	ck_assert_msg(!acl_allows(l, 3, addr("128.0.0.1")),
	    "acl_allows: 128.0.0.1 refused");
	ck_assert_msg(acl_allows(l, 3, addr("192.0.2.200")),
	    "acl_allows: 192.0.2.200 in /25");
	ck_assert_msg(!acl_allows(l, 3, addr("192.0.2.127")),
	    "acl_allows: 192.0.2.127 outside the /25");
	ck_assert_msg(acl_allows(l, 3, addr("2001:db8:1::5")),
	    "acl_allows: IPv6 in 2001:db8::/32");
	ck_assert_msg(!acl_allows(l, 3, addr("2001:db9::5")),
	    "acl_allows: IPv6 outside");
	ck_assert_msg(acl_allows(l, 3, addr("::ffff:127.0.0.1")),
	    "acl_allows: IPv4-mapped 127.0.0.1 matches 127/8");
	ck_assert_msg(!acl_allows(l, 3, addr("::1")),
	    "acl_allows: ::1 not listed");
	ck_assert_msg(!acl_allows(l, 0, addr("127.0.0.1")),
	    "acl_allows: an empty list allows nobody");
}
END_TEST

Suite *
acl_suite(void)
{
	Suite *s = suite_create("acl");
	TCase *tc = tcase_create("prefixes");

	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_match);
	suite_add_tcase(s, tc);
	return s;
}
