/*
 * suites.h -- every libcheck suite of the unit tests; check_dotsec.c runs
 * them all.  One suite per module, defined in tests/unit/check_<module>.c.
 */
#ifndef DS_SUITES_H
#define DS_SUITES_H

#include <check.h>

Suite *dnsmsg_suite(void);
Suite *config_suite(void);
Suite *validator_suite(void);
Suite *listener_suite(void);
Suite *resolver_suite(void);
Suite *acl_suite(void);
Suite *ratelimit_suite(void);
Suite *anchorfile_suite(void);
Suite *rfc7958_suite(void);
Suite *stats_suite(void);
Suite *http_suite(void);
Suite *frontcache_suite(void);
Suite *cachedump_suite(void);
Suite *route_suite(void);
Suite *upstreams_suite(void);
Suite *sandbox_suite(void);
Suite *synth_suite(void);
Suite *tlsserve_suite(void);
Suite *sigfilter_suite(void);

#endif /* DS_SUITES_H */
