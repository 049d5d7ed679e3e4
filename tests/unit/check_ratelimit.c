/*
 * check_ratelimit.c -- token buckets per client address.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <string.h>

#include "ratelimit.h"
#include "suites.h"

static struct sockaddr_in
v4(const char *text)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, text, &s.sin_addr), 1);
	return s;
}

START_TEST(test_bucket)
{
	struct ratelimit *rl = ratelimit_create(10);
	struct sockaddr_in a = v4("192.0.2.1"), b = v4("192.0.2.2");
	int i, ok = 0;

	ck_assert_ptr_nonnull(rl);
	for (i = 0; i < 20; i++)
		ok += ratelimit_allow(rl, (struct sockaddr *)&a, 1000);
	ck_assert_msg(ok == 10, "ratelimit: a burst of 20 at once -> 10 "
	    "allowed (got %d)", ok);
	ck_assert_msg(ratelimit_allow(rl, (struct sockaddr *)&b, 1000),
	    "ratelimit: another address has its own bucket");
	ck_assert_msg(!ratelimit_allow(rl, (struct sockaddr *)&a, 1050),
	    "ratelimit: 50 ms later, half a token: refused");
	ck_assert_msg(ratelimit_allow(rl, (struct sockaddr *)&a, 1100),
	    "ratelimit: 100 ms later, one token: allowed");
	ok = 0;
	for (i = 0; i < 30; i++)
		ok += ratelimit_allow(rl, (struct sockaddr *)&a, 60000);
	ck_assert_msg(ok == 10, "ratelimit: the bucket never holds more "
	    "than qps tokens (got %d)", ok);
	ratelimit_delete(rl);
}
END_TEST

START_TEST(test_off_and_v6)
{
	struct ratelimit *off = ratelimit_create(0), *rl = ratelimit_create(2);
	struct sockaddr_in6 x, y;
	struct sockaddr_in a = v4("192.0.2.1");
	int i;

	for (i = 0; i < 1000; i++)
		ck_assert(ratelimit_allow(off, (struct sockaddr *)&a, 1));
	memset(&x, 0, sizeof(x));
	x.sin6_family = AF_INET6;
	y = x;
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8:1:2::1", &x.sin6_addr),
	    1);
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8:1:2::ffff",
	    &y.sin6_addr), 1);
	ck_assert(ratelimit_allow(rl, (struct sockaddr *)&x, 5));
	ck_assert(ratelimit_allow(rl, (struct sockaddr *)&y, 5));
	ck_assert_msg(!ratelimit_allow(rl, (struct sockaddr *)&x, 5),
	    "ratelimit: two addresses of one /64 share a bucket");
	ratelimit_delete(off);
	ratelimit_delete(rl);
}
END_TEST

Suite *
ratelimit_suite(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("bucket");

	tcase_add_test(tc, test_bucket);
	tcase_add_test(tc, test_off_and_v6);
	suite_add_tcase(s, tc);
	return s;
}
