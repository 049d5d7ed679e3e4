/*
 * check_upstreams.c -- an upstream's round-trip estimate and the silence
 * after which a query waiting on it is also sent to another upstream
 * (the hedge).
 */
#include "config.h"

#include <check.h>

#include "suites.h"
#include "upstreams.h"

static struct upstream_rtt
steady(long long us, int n)
{
	struct upstream_rtt r = { 0, 0, 0 };
	int i;

	for (i = 0; i < n; i++)
		upstream_rtt_sample(&r, us);
	return r;
}

/* Until an answer has measured it, a quarter of the stall time; after
 * one, three round trips (srtt + 4 rttvar, rttvar starting at half the
 * first answer), then less as its answers agree, down to two. */
START_TEST(test_hedge_first_answers)
{
	struct upstream_rtt r = { 0, 0, 0 };
	static const long long want[] = { 60, 50, 43, 40, 40 };
	size_t i;

	ck_assert_int_eq(upstream_hedge_ms(&r, 500), 125);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		upstream_rtt_sample(&r, 20000);
		ck_assert_msg(upstream_hedge_ms(&r, 500) == want[i],
		    "after %zu answers of 20 ms: %lld ms, want %lld", i + 1,
		    upstream_hedge_ms(&r, 500), want[i]);
	}
}
END_TEST

/* A steady 20 ms upstream: two round trips (40 ms), well below the
 * eighth of the stall time (62 ms) that it waited before. */
START_TEST(test_hedge_steady)
{
	struct upstream_rtt r = steady(20000, 40);

	ck_assert_int_eq(r.n, 40);
	ck_assert_int_eq(r.srtt_us, 20000);
	ck_assert_int_le(r.rttvar_us, 1000);
	ck_assert_int_eq(upstream_hedge_ms(&r, 500), 40);
	/* A longer stall time does not delay it: the round trip decides. */
	ck_assert_int_eq(upstream_hedge_ms(&r, 600), 40);
}
END_TEST

/* An upstream whose answers vary (some come from its cache, some it had
 * to resolve) waits srtt + 4 rttvar, more than two round trips. */
START_TEST(test_hedge_varying)
{
	struct upstream_rtt r = { 0, 0, 0 };
	long long t;
	int i;

	for (i = 0; i < 40; i++)
		upstream_rtt_sample(&r, i % 2 ? 10000 : 50000);
	ck_assert_int_gt(r.rttvar_us, 10000);
	t = upstream_hedge_ms(&r, 500);
	ck_assert_int_gt(t, 2 * r.srtt_us / 1000 + 1);
	ck_assert_int_eq(t, (r.srtt_us + 4 * r.rttvar_us + 999) / 1000);
}
END_TEST

/* Bounds: a loopback upstream waits a sixteenth of the stall time, never
 * a few microseconds; a slow or erratic one at most half of it. */
START_TEST(test_hedge_bounds)
{
	struct upstream_rtt r = steady(300, 20);
	int i;

	ck_assert_int_eq(upstream_hedge_ms(&r, 500), 31);
	ck_assert_int_eq(upstream_hedge_ms(&r, 6000), 375);
	r = steady(400000, 20);
	ck_assert_int_eq(upstream_hedge_ms(&r, 500), 250);
	for (i = 0; i < 20; i++)
		upstream_rtt_sample(&r, i % 2 ? 1000 : 200000);
	ck_assert_int_eq(upstream_hedge_ms(&r, 500), 250);
}
END_TEST

/* The estimate itself: the first answer sets it, later ones move it an
 * eighth (srtt) and a quarter (rttvar) of the way; a negative time (a
 * clock step) counts as 0. */
START_TEST(test_rtt_sample)
{
	struct upstream_rtt r = { 0, 0, 0 };

	upstream_rtt_sample(&r, 8000);
	ck_assert_int_eq(r.srtt_us, 8000);
	ck_assert_int_eq(r.rttvar_us, 4000);
	upstream_rtt_sample(&r, 16000);
	ck_assert_int_eq(r.srtt_us, 9000);
	ck_assert_int_eq(r.rttvar_us, 5000);
	upstream_rtt_sample(&r, -5);
	ck_assert_int_eq(r.srtt_us, 7875);
	ck_assert_int_eq(r.rttvar_us, (3 * 5000 + 9000) / 4);
	ck_assert_int_eq(r.n, 3);
}
END_TEST

Suite *
upstreams_suite(void)
{
	Suite *s = suite_create("upstreams");
	TCase *tc = tcase_create("rtt");

	tcase_add_test(tc, test_hedge_first_answers);
	tcase_add_test(tc, test_hedge_steady);
	tcase_add_test(tc, test_hedge_varying);
	tcase_add_test(tc, test_hedge_bounds);
	tcase_add_test(tc, test_rtt_sample);
	suite_add_tcase(s, tc);
	return s;
}
