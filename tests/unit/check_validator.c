/*
 * check_validator.c -- the parts of the validator that need no network:
 * mapping libunbound's bogus reasons onto RFC 8914 info-codes.
 */
#include "config.h"

#include <check.h>
#include <string.h>

#include "dnsmsg.h"
#include "suites.h"
#include "validator.h"

static const struct {
	const char *why;
	int ede;
} reasons[] = {
	{ "validation failure <x.test. A IN>: signature expired from "
	  "127.1.2.3 for key x.test. while building chain of trust",
	  DNS_EDE_SIGNATURE_EXPIRED },
	{ "validation failure <x.test. A IN>: signature before inception "
	  "date from 127.1.2.3", DNS_EDE_SIGNATURE_NOT_YET_VALID },
	{ "validation failure <x.test. A IN>: no signatures from 127.1.2.3",
	  DNS_EDE_RRSIGS_MISSING },
	{ "validation failure <x.test. A IN>: no keys have a DS with "
	  "algorithm RSASHA256 from 127.1.2.3", DNS_EDE_DNSKEY_MISSING },
	{ "validation failure <x.test. A IN>: No DNSKEY record from "
	  "127.1.2.3 for key x.test. while building chain of trust",
	  DNS_EDE_DNSKEY_MISSING },
	{ "validation failure <nope.x.test. A IN>: no NSEC records from "
	  "127.1.2.3", DNS_EDE_NSEC_MISSING },
	{ "validation failure <nx.x.test. A IN>: no DNSSEC records from "
	  "127.1.2.3 for DS nx.x.test. while building chain of trust",
	  DNS_EDE_NSEC_MISSING },
	{ "validation failure <x.test. A IN>: signature crypto failed from "
	  "127.1.2.3", DNS_EDE_DNSSEC_BOGUS },
	{ "validation failure <www.x.test. A IN>: key for validation x.test. "
	  "is marked as invalid because of a previous validation failure "
	  "<a.x.test. A IN>: signature expired from 127.1.2.3 for key x.test. "
	  "while building chain of trust", DNS_EDE_SIGNATURE_EXPIRED },
	{ "validation failure <x.test. A IN>: ECDSA signature verification "
	  "failed from 127.1.2.3", DNS_EDE_DNSSEC_BOGUS },
	{ "something libunbound has not said before", DNS_EDE_DNSSEC_BOGUS },
};

START_TEST(test_ede_map)
{
	ck_assert_msg(validator_ede(reasons[_i].why) == reasons[_i].ede,
	    "validator_ede: '%s' -> %d, expected %d", reasons[_i].why,
	    validator_ede(reasons[_i].why), reasons[_i].ede);
}
END_TEST

START_TEST(test_ede_name_not_matched)
{
	/* A query name that contains a reason's words must not decide. */
	const char *why = "validation failure <signature-expired.no-"
	    "signatures.test. A IN>: signature crypto failed from 127.0.0.9";

	ck_assert_msg(validator_ede(why) == DNS_EDE_DNSSEC_BOGUS,
	    "validator_ede: words in the query name -> 6, got %d",
	    validator_ede(why));
}
END_TEST

START_TEST(test_ede_null)
{
	ck_assert_int_eq(validator_ede(NULL), DNS_EDE_DNSSEC_BOGUS);
	ck_assert_ptr_nonnull(validator_reason(NULL));
}
END_TEST

START_TEST(test_reason_text)
{
	ck_assert_str_eq(validator_reason("validation failure <a. A IN>: "
	    "no signatures from 127.0.0.9"), "no signatures from 127.0.0.9");
	ck_assert_str_eq(validator_reason("plain text"), "plain text");
	ck_assert_str_eq(validator_reason("validation failure <b. A IN>: key "
	    "for validation a. is marked as invalid because of a previous "
	    "validation failure <a. A IN>: no signatures from 127.0.0.9"),
	    "no signatures from 127.0.0.9");
}
END_TEST

Suite *
validator_suite(void)
{
	Suite *s = suite_create("validator");
	TCase *tc = tcase_create("ede");

	tcase_add_loop_test(tc, test_ede_map, 0,
	    (int)(sizeof(reasons) / sizeof(reasons[0])));
	tcase_add_test(tc, test_ede_name_not_matched);
	tcase_add_test(tc, test_ede_null);
	tcase_add_test(tc, test_reason_text);
	suite_add_tcase(s, tc);
	return s;
}
