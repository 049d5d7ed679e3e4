/*
 * check_rfc7958.c -- root-anchors.xml: the KeyDigests valid at a time,
 * every malformed case, the zone-format output, and the CMS signature
 * check against test CAs (tests/unit/fixtures, made by mkfixtures.sh).
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rfc7958.h"
#include "suites.h"

#define NELEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define FIXTURES	DS_SRCDIR "/tests/unit/fixtures/"

#define D19036 "49AAC11D7B6F6446702E54A1607371607A1A41855200FD2CE1CDDE32" \
	"F24E8FB5"
#define D20326 "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237" \
	"C7F8EC8D"
#define D38696 "683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4" \
	"C0FB2B16"

/* Epoch times of the fixture's validity bounds. */
#define T_2010_07_15	1279152000L
#define T_2017_02_02	1485993600L
#define T_2019_01_11	1547164800L
#define T_2024_07_18	1721260800L
#define T_2026_11_25	1795636296L

/* The whole file, NUL-terminated, in a malloc'd buffer. */
static char *
fixture(const char *name, size_t *len)
{
	char path[512];
	char *buf;
	long n;
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s%s", FIXTURES, name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open fixture %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* A document with the given KeyDigest elements (and Zone "."). */
#define DOC(body) "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" \
	"<TrustAnchor id=\"x\" source=\"http://example.invalid/\">\n" \
	"<Zone>.</Zone>\n" body "</TrustAnchor>\n"
#define KD(attrs, inner) "<KeyDigest " attrs ">\n" inner "</KeyDigest>\n"
/* The attributes of a KeyDigest valid from 2017-02-02. */
#define A_OK "id=\"a\" validFrom=\"2017-02-02T00:00:00Z\""
#define FIELDS(tag, digest) "<KeyTag>" tag "</KeyTag>\n" \
	"<Algorithm>8</Algorithm>\n<DigestType>2</DigestType>\n" \
	"<Digest>" digest "</Digest>\n"

static int
parse(const char *xml, time_t now, struct rfc7958_ds **ds, size_t *n,
    char *err, size_t errlen)
{
	return rfc7958_parse(xml, strlen(xml), now, ds, n, err, errlen);
}

/* ---------------------------------------------------------------- XML */

START_TEST(test_parse_now)
{
	struct rfc7958_ds *ds;
	char err[512];
	size_t n, len;
	char *xml = fixture("root-anchors.xml", &len);

	ck_assert_msg(rfc7958_parse(xml, len, T_2026_11_25, &ds, &n, err,
	    sizeof(err)) == 0, "rfc7958_parse: fixture: %s", err);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(ds[0].id, "Klajeyz");
	ck_assert_uint_eq(ds[0].keytag, 20326);
	ck_assert_uint_eq(ds[0].algorithm, 8);
	ck_assert_uint_eq(ds[0].digest_type, 2);
	ck_assert_str_eq(ds[0].digest, D20326);
	ck_assert_int_eq(ds[0].valid_from, T_2017_02_02);
	ck_assert_int_eq(ds[0].valid_until, (time_t)-1);
	ck_assert_str_eq(ds[1].id, "Kmyv6jo");
	ck_assert_uint_eq(ds[1].keytag, 38696);
	ck_assert_str_eq(ds[1].digest, D38696);
	ck_assert_int_eq(ds[1].valid_from, T_2024_07_18);
	free(ds);
	free(xml);
}
END_TEST

START_TEST(test_parse_expired_and_future)
{
	struct rfc7958_ds *ds;
	char err[512];
	size_t n, len;
	char *xml = fixture("root-anchors.xml", &len);

	/* 2018: 19036 not expired yet, 38696 not valid yet. */
	ck_assert_int_eq(rfc7958_parse(xml, len, 1527811200L, &ds, &n, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(ds[0].keytag, 19036);
	ck_assert_str_eq(ds[0].digest, D19036);
	ck_assert_int_eq(ds[0].valid_from, T_2010_07_15);
	ck_assert_int_eq(ds[0].valid_until, T_2019_01_11);
	ck_assert_uint_eq(ds[1].keytag, 20326);
	free(ds);
	/* validUntil is the last valid second. */
	ck_assert_int_eq(rfc7958_parse(xml, len, T_2019_01_11, &ds, &n, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	free(ds);
	ck_assert_int_eq(rfc7958_parse(xml, len, T_2019_01_11 + 1, &ds, &n,
	    err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(ds[0].keytag, 20326);
	free(ds);
	/* validFrom is the first. */
	ck_assert_int_eq(rfc7958_parse(xml, len, T_2024_07_18 - 1, &ds, &n,
	    err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 1);
	free(ds);
	ck_assert_int_eq(rfc7958_parse(xml, len, T_2024_07_18, &ds, &n, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	free(ds);
	free(xml);
}
END_TEST

START_TEST(test_parse_none_valid)
{
	struct rfc7958_ds *ds = (void *)1;
	char err[512];
	size_t n = 9, len;
	char *xml = fixture("root-anchors.xml", &len);

	ck_assert_int_eq(rfc7958_parse(xml, len, 1262304000L, &ds, &n, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "no key valid at 2010-01-01T00:00:00Z") !=
	    NULL, "got '%s'", err);
	ck_assert_ptr_null(ds);
	ck_assert_uint_eq(n, 0);
	free(xml);
}
END_TEST

START_TEST(test_parse_offsets)
{
	/* The same instant in three spellings, and fractions. */
	static const char xml[] = DOC(
	    KD("id=\"a\" validFrom=\"2017-02-02T02:30:00+02:30\"",
		FIELDS("1", D20326))
	    KD("id=\"b\" validFrom=\"2017-02-01T19:00:00-05:00\"",
		FIELDS("2", D20326))
	    KD("id=\"c\" validFrom=\"2017-02-02T00:00:00.5Z\" "
		"validUntil=\"2017-02-03T00:00:00\"", FIELDS("3", D20326)));
	struct rfc7958_ds *ds;
	char err[512];
	size_t n;

	ck_assert_msg(parse(xml, T_2017_02_02, &ds, &n, err, sizeof(err)) ==
	    0, "rfc7958_parse: %s", err);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(ds[0].valid_from, T_2017_02_02);
	ck_assert_int_eq(ds[1].valid_from, T_2017_02_02);
	ck_assert_int_eq(ds[2].valid_from, T_2017_02_02);
	ck_assert_int_eq(ds[2].valid_until, T_2017_02_02 + 86400);
	free(ds);
}
END_TEST

static const struct {
	const char *what, *xml, *expect;
} bad[] = {
	{ "truncated", "<?xml version=\"1.0\"?>\n<TrustAnchor>\n<Zone>.",
	    "line 3: " },
	{ "mismatched tag", DOC(KD(A_OK,
	    "<KeyTag>1</Algorithm>")), "mismatched tag" },
	{ "not XML", "KeyTag 20326", "syntax error" },
	{ "empty", "", "root-anchors.xml: line 1: " },
	{ "missing digest", DOC(KD(A_OK,
	    "<KeyTag>1</KeyTag><Algorithm>8</Algorithm>"
	    "<DigestType>2</DigestType>")), "KeyDigest 'a' without Digest" },
	{ "missing keytag", DOC(KD(A_OK,
	    "<Algorithm>8</Algorithm><DigestType>2</DigestType>"
	    "<Digest>" D20326 "</Digest>")), "KeyDigest 'a' without KeyTag" },
	{ "bad hex", DOC(KD(A_OK,
	    FIELDS("1", "E06D44B80G"))), "Digest is not hex" },
	{ "odd hex", DOC(KD(A_OK,
	    FIELDS("1", "E06"))), "Digest is not hex" },
	{ "short SHA-256", DOC(KD(A_OK,
	    FIELDS("1", "E06D44B8"))), "has 8 hex digits, not 64" },
	{ "wrong zone", "<TrustAnchor><Zone>example.</Zone>" KD("id=\"a\" "
	    "validFrom=\"2017-02-02T00:00:00Z\"", FIELDS("1", D20326))
	    "</TrustAnchor>", "Zone is 'example.', not '.'" },
	{ "no zone", "<TrustAnchor>" KD("id=\"a\" validFrom=\"2017-02-02T00:"
	    "00:00Z\"", FIELDS("1", D20326)) "</TrustAnchor>", "no <Zone>" },
	{ "two zones", "<TrustAnchor><Zone>.</Zone><Zone>.</Zone>"
	    "</TrustAnchor>", "more than one <Zone>" },
	{ "no KeyDigest", DOC(""), "no <KeyDigest>" },
	{ "no id", DOC(KD("validFrom=\"2017-02-02T00:00:00Z\"",
	    FIELDS("1", D20326))), "KeyDigest without an id" },
	{ "long id", DOC(KD("id=\"0123456789012345678901234567890123456789"
	    "012345678901234567890123\" validFrom=\"2017-02-02T00:00:00Z\"",
	    FIELDS("1", D20326))), "id longer than 63" },
	{ "no validFrom", DOC(KD("id=\"a\"", FIELDS("1", D20326))),
	    "KeyDigest 'a' without validFrom" },
	{ "bad validFrom", DOC(KD("id=\"a\" validFrom=\"2017-02-30T00:00:"
	    "00Z\"", FIELDS("1", D20326))), "bad validFrom" },
	{ "bad offset", DOC(KD("id=\"a\" validFrom=\"2017-02-02T00:00:00+2\"",
	    FIELDS("1", D20326))), "bad validFrom" },
	{ "bad validUntil", DOC(KD(A_OK " validUntil=\"soon\"",
	    FIELDS("1", D20326))), "bad validUntil" },
	{ "until before from", DOC(KD("id=\"a\" validFrom=\"2017-02-02T00:00:"
	    "00Z\" validUntil=\"2016-02-02T00:00:00Z\"", FIELDS("1", D20326))),
	    "validUntil before validFrom" },
	{ "keytag range", DOC(KD(A_OK,
	    FIELDS("65536", D20326))), "bad KeyTag '65536'" },
	{ "two keytags", DOC(KD(A_OK,
	    "<KeyTag>1</KeyTag>" FIELDS("1", D20326))), "with two <KeyTag>" },
	{ "element in a leaf", DOC(KD(A_OK, "<KeyTag>1<b/></KeyTag>")),
	    "element <b> inside <KeyTag>" },
	{ "wrong root", "<Anchor><Zone>.</Zone></Anchor>",
	    "the root element is <Anchor>" },
	{ "doctype", "<?xml version=\"1.0\"?>\n<!DOCTYPE TrustAnchor [\n"
	    "<!ENTITY a \"aaaaaaaaaa\">\n]>\n<TrustAnchor><Zone>&a;</Zone>"
	    "</TrustAnchor>", "DOCTYPE is not allowed" },
	/* A bad KeyDigest fails the file even when it is not valid now. */
	{ "bad expired", DOC(KD("id=\"old\" validFrom=\"2010-01-01T00:00:"
	    "00Z\" validUntil=\"2011-01-01T00:00:00Z\"", FIELDS("1", "XX"))
	    KD(A_OK,
	    FIELDS("1", D20326))), "KeyDigest 'old': Digest is not hex" },
};

START_TEST(test_parse_bad)
{
	struct rfc7958_ds *ds = (void *)1;
	char err[512];
	size_t n = 9;

	err[0] = '\0';
	ck_assert_msg(parse(bad[_i].xml, T_2026_11_25, &ds, &n, err,
	    sizeof(err)) == -1, "rfc7958_parse: %s: accepted", bad[_i].what);
	ck_assert_msg(strstr(err, bad[_i].expect) != NULL,
	    "rfc7958_parse: %s: expected '%s' in '%s'", bad[_i].what,
	    bad[_i].expect, err);
	ck_assert_ptr_null(ds);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_ignores_extensions)
{
	/* RFC 9718's PublicKey and Flags, and anything unknown. */
	static const char xml[] = DOC(KD("id=\"a\" validFrom=\"2017-02-02T00:"
	    "00:00Z\" extra=\"1\"", "<PublicKey>AwEAAQ==</PublicKey>"
	    "<Flags>257</Flags><Future><KeyTag>x</KeyTag></Future>"
	    FIELDS(" 20326 ", "\n  e06d44b80b8f1d39a95c0b0d7c65d08458e880409"
	    "bbc683457104237c7f8ec8d\n")) "<Other/>");
	struct rfc7958_ds *ds;
	char err[512];
	size_t n;

	ck_assert_msg(parse(xml, T_2026_11_25, &ds, &n, err, sizeof(err)) ==
	    0, "rfc7958_parse: %s", err);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(ds[0].keytag, 20326);
	ck_assert_str_eq(ds[0].digest, "e06d44b80b8f1d39a95c0b0d7c65d08458e88"
	    "0409bbc683457104237c7f8ec8d");
	free(ds);
}
END_TEST

START_TEST(test_to_zone)
{
	struct rfc7958_ds ds[2];
	char *z;

	memset(ds, 0, sizeof(ds));
	ds[0].keytag = 20326;
	ds[0].algorithm = 8;
	ds[0].digest_type = 2;
	(void)snprintf(ds[0].digest, sizeof(ds[0].digest), "%s",
	    "e06d44b80b8f1d39a95c0b0d7c65d08458e88"
	    "0409bbc683457104237c7f8ec8d");
	ds[1].keytag = 38696;
	ds[1].algorithm = 8;
	ds[1].digest_type = 2;
	(void)snprintf(ds[1].digest, sizeof(ds[1].digest), "%s", D38696);
	z = rfc7958_to_zone(ds, 2);
	ck_assert_ptr_nonnull(z);
	ck_assert_str_eq(z, ". IN DS 20326 8 2 " D20326 "\n"
	    ". IN DS 38696 8 2 " D38696 "\n");
	free(z);
	z = rfc7958_to_zone(ds, 0);
	ck_assert_ptr_nonnull(z);
	ck_assert_str_eq(z, "");
	free(z);
}
END_TEST

/* ---------------------------------------------------------------- CMS */

/* Verify the fixture XML (tampered at byte flip when >= 0) with the
 * signature sig_name against ca_name. */
static int
verify(const char *sig_name, const char *ca_name, const char *email,
    long flip, char *err, size_t errlen)
{
	char ca[512];
	size_t xlen, slen;
	char *xml = fixture("root-anchors.xml", &xlen);
	char *sig = fixture(sig_name, &slen);
	int rc;

	(void)snprintf(ca, sizeof(ca), "%s%s", FIXTURES, ca_name);
	if (flip >= 0)
		xml[flip] ^= 0x01;
	err[0] = '\0';
	rc = rfc7958_verify(xml, xlen, sig, slen, ca, email, err, errlen);
	free(xml);
	free(sig);
	return rc;
}

START_TEST(test_verify_good)
{
	char err[1024];

	ck_assert_msg(verify("good.p7s", "ca.pem", NULL, -1, err,
	    sizeof(err)) == 0, "rfc7958_verify: DER: %s", err);
	ck_assert_msg(verify("good-pem.p7s", "ca.pem", "dnssec@iana.org", -1,
	    err, sizeof(err)) == 0, "rfc7958_verify: PEM: %s", err);
	ck_assert_msg(verify("san.p7s", "ca.pem", NULL, -1, err,
	    sizeof(err)) == 0, "rfc7958_verify: subjectAltName: %s", err);
	ck_assert_msg(verify("good.p7s", "ca.pem", "DNSSEC@IANA.ORG", -1, err,
	    sizeof(err)) == 0, "rfc7958_verify: address case: %s", err);
	/* The right CA for the other signature. */
	ck_assert_msg(verify("otherca.p7s", "ca2.pem", NULL, -1, err,
	    sizeof(err)) == 0, "rfc7958_verify: second CA: %s", err);
	ck_assert_msg(verify("wrongmail.p7s", "ca.pem", "other@example.org",
	    -1, err, sizeof(err)) == 0, "rfc7958_verify: --email: %s", err);
}
END_TEST

START_TEST(test_verify_tampered)
{
	char err[1024];
	size_t len;
	char *xml = fixture("root-anchors.xml", &len);
	const char *p = strstr(xml, "E06D44B8");

	ck_assert_ptr_nonnull(p);
	/* One bit of the 20326 digest; and the last byte. */
	ck_assert_int_eq(verify("good.p7s", "ca.pem", NULL, p - xml, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "does not verify") != NULL, "got '%s'",
	    err);
	ck_assert_int_eq(verify("good.p7s", "ca.pem", NULL, (long)len - 1, err,
	    sizeof(err)), -1);
	free(xml);
}
END_TEST

START_TEST(test_verify_wrong_email)
{
	char err[1024];

	ck_assert_int_eq(verify("wrongmail.p7s", "ca.pem", NULL, -1, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "no signer certificate is for "
	    "dnssec@iana.org") != NULL, "got '%s'", err);
	ck_assert_int_eq(verify("good.p7s", "ca.pem", "dnssec@iana.org.evil",
	    -1, err, sizeof(err)), -1);
	ck_assert_int_eq(verify("good.p7s", "ca.pem", "dnssec@iana.or", -1,
	    err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_verify_other_ca)
{
	char err[1024];

	ck_assert_int_eq(verify("otherca.p7s", "ca.pem", NULL, -1, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "does not verify") != NULL, "got '%s'",
	    err);
	ck_assert_int_eq(verify("good.p7s", "ca2.pem", NULL, -1, err,
	    sizeof(err)), -1);
	/* ICANN's CA is read, and trusts no test signature. */
	ck_assert_int_eq(verify("good.p7s", "../../../trust-anchors/"
	    "icannbundle.pem", NULL, -1, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "does not verify") != NULL, "got '%s'",
	    err);
}
END_TEST

START_TEST(test_verify_bad_inputs)
{
	char err[1024];
	size_t len;
	char *xml = fixture("root-anchors.xml", &len);

	ck_assert_int_eq(verify("good.p7s", "no-such-ca.pem", NULL, -1, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "no-such-ca.pem: ") != NULL, "got '%s'",
	    err);
	/* A CA file without certificates. */
	ck_assert_int_eq(verify("good.p7s", "root-anchors.xml", NULL, -1, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "no certificate") != NULL, "got '%s'", err);
	ck_assert_int_eq(rfc7958_verify(xml, len, "garbage", 7, FIXTURES
	    "ca.pem", NULL, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "not a CMS") != NULL, "got '%s'", err);
	ck_assert_int_eq(rfc7958_verify(xml, len, "", 0, FIXTURES "ca.pem",
	    NULL, err, sizeof(err)), -1);
	free(xml);
}
END_TEST

Suite *
rfc7958_suite(void)
{
	Suite *s = suite_create("rfc7958");
	TCase *tc;

	tc = tcase_create("xml");
	tcase_add_test(tc, test_parse_now);
	tcase_add_test(tc, test_parse_expired_and_future);
	tcase_add_test(tc, test_parse_none_valid);
	tcase_add_test(tc, test_parse_offsets);
	tcase_add_loop_test(tc, test_parse_bad, 0, (int)NELEMS(bad));
	tcase_add_test(tc, test_ignores_extensions);
	tcase_add_test(tc, test_to_zone);
	suite_add_tcase(s, tc);

	tc = tcase_create("cms");
	tcase_add_test(tc, test_verify_good);
	tcase_add_test(tc, test_verify_tampered);
	tcase_add_test(tc, test_verify_wrong_email);
	tcase_add_test(tc, test_verify_other_ca);
	tcase_add_test(tc, test_verify_bad_inputs);
	suite_add_tcase(s, tc);
	return s;
}
