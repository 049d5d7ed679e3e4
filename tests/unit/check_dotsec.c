/*
 * check_dotsec.c -- runs every unit suite; exits non-zero if any test
 * failed.  CK_FORK stays on so that a crash fails one test, not the run.
 */
#include "config.h"

#include <stdlib.h>

#include "suites.h"

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(dnsmsg_suite());
	srunner_add_suite(sr, config_suite());
	srunner_add_suite(sr, validator_suite());
	srunner_add_suite(sr, listener_suite());
	srunner_add_suite(sr, resolver_suite());
	srunner_add_suite(sr, acl_suite());
	srunner_add_suite(sr, ratelimit_suite());
	srunner_add_suite(sr, anchorfile_suite());
	srunner_add_suite(sr, rfc7958_suite());
	srunner_add_suite(sr, stats_suite());
	srunner_add_suite(sr, http_suite());
	srunner_add_suite(sr, frontcache_suite());
	srunner_add_suite(sr, cachedump_suite());
	srunner_add_suite(sr, route_suite());
	srunner_add_suite(sr, upstreams_suite());
	srunner_add_suite(sr, sandbox_suite());
	srunner_add_suite(sr, synth_suite());
	srunner_add_suite(sr, tlsserve_suite());
	srunner_add_suite(sr, sigfilter_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
