/*
 * check_anchorfile.c -- the trust anchor state file: libunbound's
 * autotrust format (a real file written by libunbound 1.17 is among the
 * fixtures), zone-format seeds, errors with line numbers, the trusted
 * set, and the atomic write.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "anchorfile.h"
#include "suites.h"

#define NELEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* The IANA root KSKs (trust-anchors/root.key). */
#define K20326 "AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+" \
	"/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQ" \
	"uCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWg" \
	"vIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1" \
	"uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5" \
	"qihylGa8subX2Nn6UwNR1AkUTV74bU="
#define K38696 "AwEAAa96jeuknZlaeSrvyAJj6ZHv28hhOKkx3rLGXVaC6rXTsDc449/ci" \
	"dltpkyGwCJNnOAlFNKF2jBosZBU5eeHspaQWOmOElZsjICMQMC3aeHbGiShvZsx4w" \
	"MYSjH8e7Vrhbu6irwCzVBApESjbUdpWWmEnhathWu1jo+siFUiRAAxm9qyJNg/wOZ" \
	"qqzL/dL/q8PkcRU5oUKEpUge71M3ej2/7CPqpdVwuMoTvoB+ZOT4YeGyxMvHmbrxl" \
	"FzGOHOijtzN+u1TQNatX2XBuzZNQ1K+s2CXkPIZo7s6JgZyvaBevYtxPvYLw4z9mR" \
	"7K2vaF18UYH9Z9GNUUeayffKC73PYc="
#define DS20326 "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237" \
	"C7F8EC8D"
#define DS38696 "683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4" \
	"C0FB2B16"
/* The test world's root KSK, in the real file of the fixtures. */
#define K31047 "FvH4IwAwNuCaxaAmCpIMaZjKo3rwRTECCekVN3iVzCcvcWvMERaqz/G9l" \
	"UR6MdETjJBY3NvRafMgOlLDjuvFOw=="

#define HEADER "; autotrust trust anchor file\n;;id: . 1\n" \
	";;last_queried: 1732000000 ;;Tue Nov 19 07:06:40 2024\n" \
	";;last_success: 1731999000 ;;Tue Nov 19 06:50:00 2024\n" \
	";;next_probe_time: 1732043200 ;;Tue Nov 19 19:06:40 2024\n" \
	";;query_failed: 2\n;;query_interval: 43200\n;;retry_time: 8640\n"
/* A key line as unbound's autr_write_contents() writes it. */
#define AUTR(flags, key, tag, state, name) \
	".\t172800\tIN\tDNSKEY\t" flags " 3 8 " key " ;{id = " tag \
	" (ksk), size = 2048b} ;;state=" state " [" name "] ;;count=0 " \
	";;lastchange=1700000000 ;;Tue Nov 14 22:13:20 2023\n"

static int
parse(const char *text, struct anchor_file *af, char *err, size_t errlen)
{
	return anchorfile_parse(text, strlen(text), "t", af, err, errlen);
}

/* Parse text that must parse; returns the trusted set. */
static char **
parse_ok(const char *what, const char *text, struct anchor_file *af,
    size_t *n)
{
	char err[512];
	char **set;

	ck_assert_msg(parse(text, af, err, sizeof(err)) == 0,
	    "anchorfile_parse: %s: %s", what, err);
	set = anchorfile_trusted(af, n);
	ck_assert_msg(set != NULL, "anchorfile_trusted: %s: NULL", what);
	return set;
}

/* ---------------------------------------------------------------- formats */

START_TEST(test_real_autotrust)
{
	static const char path[] = DS_SRCDIR
	    "/tests/unit/fixtures/autotrust-real.anchor";
	struct anchor_file af;
	char err[512];
	char **set;
	size_t n;

	ck_assert_msg(anchorfile_read(path, &af, err, sizeof(err)) == 0,
	    "anchorfile_read: libunbound's own file: %s", err);
	ck_assert_uint_eq(af.nkeys, 1);
	ck_assert_uint_eq(af.keys[0].keytag, 31047);
	ck_assert_uint_eq(af.keys[0].algorithm, 13);
	ck_assert_uint_eq(af.keys[0].flags, 257);
	ck_assert(!af.keys[0].is_ds);
	ck_assert_int_eq(af.keys[0].state, AK_VALID);
	ck_assert_int_eq(af.keys[0].count, 0);
	ck_assert_int_eq(af.keys[0].lastchange, 1795636296L);
	ck_assert_int_eq(af.last_queried, 1795636296L);
	ck_assert_int_eq(af.last_success, 1795636296L);
	ck_assert_int_eq(af.next_probe_time, 1795639814L);
	ck_assert_int_eq(af.query_failed, 0);
	ck_assert(!af.revoked);
	ck_assert_str_eq(af.keys[0].rr, ". IN DNSKEY 257 3 13 " K31047);
	set = anchorfile_trusted(&af, &n);
	ck_assert_ptr_nonnull(set);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(set[0], af.keys[0].rr);
	ck_assert_ptr_null(set[1]);
	anchorfile_free_set(set);
	anchorfile_free(&af);
}
END_TEST

/* One autotrust file per state: the state, its name, whether trusted. */
static const struct {
	const char *digit, *pad, *name;
	int state;
	size_t trusted;
} states[] = {
	{ "0", "  START  ", "START", AK_START, 0 },
	{ "1", " ADDPEND ", "ADDPEND", AK_ADDPEND, 0 },
	{ "2", "  VALID  ", "VALID", AK_VALID, 1 },
	{ "3", " MISSING ", "MISSING", AK_MISSING, 1 },
	{ "4", " REVOKED ", "REVOKED", AK_REVOKED, 0 },
	{ "5", " REMOVED ", "REMOVED", AK_REMOVED, 0 },
};

START_TEST(test_states)
{
	struct anchor_file af;
	char text[4096];
	char **set;
	size_t n;

	(void)snprintf(text, sizeof(text), "%s.\t172800\tIN\tDNSKEY\t257 3 8 "
	    "%s ;{id = 20326 (ksk), size = 2048b} ;;state=%s [%s] ;;count=%d"
	    " ;;lastchange=1700000000 ;;Tue Nov 14 22:13:20 2023\n", HEADER,
	    K20326, states[_i].digit, states[_i].pad, _i);
	set = parse_ok(states[_i].name, text, &af, &n);
	ck_assert_uint_eq(af.nkeys, 1);
	ck_assert_int_eq(af.keys[0].state, states[_i].state);
	ck_assert_int_eq(af.keys[0].count, _i);
	ck_assert_int_eq(af.keys[0].lastchange, 1700000000L);
	ck_assert_uint_eq(af.keys[0].keytag, 20326);
	ck_assert_str_eq(anchor_key_state_str(af.keys[0].state),
	    states[_i].name);
	ck_assert_int_eq(af.last_queried, 1732000000L);
	ck_assert_int_eq(af.last_success, 1731999000L);
	ck_assert_int_eq(af.next_probe_time, 1732043200L);
	ck_assert_int_eq(af.query_failed, 2);
	ck_assert_msg(n == states[_i].trusted,
	    "anchorfile_trusted: state %s: %zu trusted, expected %zu",
	    states[_i].name, n, states[_i].trusted);
	anchorfile_free_set(set);
	anchorfile_free(&af);
}
END_TEST

START_TEST(test_state_str)
{
	ck_assert_str_eq(anchor_key_state_str(AK_SEED), "SEED");
	ck_assert_str_eq(anchor_key_state_str(AK_START), "START");
	ck_assert_str_eq(anchor_key_state_str(AK_REMOVED), "REMOVED");
	ck_assert_str_eq(anchor_key_state_str(6), "UNKNOWN");
	ck_assert_str_eq(anchor_key_state_str(-2), "UNKNOWN");
}
END_TEST

START_TEST(test_seed_root_key)
{
	static const char path[] = DS_SRCDIR "/trust-anchors/root.key";
	struct anchor_file af;
	char err[512];
	char **set;
	size_t n;

	ck_assert_msg(anchorfile_read(path, &af, err, sizeof(err)) == 0,
	    "anchorfile_read: root.key: %s", err);
	ck_assert_uint_eq(af.nkeys, 2);
	ck_assert_uint_eq(af.keys[0].keytag, 20326);
	ck_assert_uint_eq(af.keys[1].keytag, 38696);
	ck_assert_int_eq(af.keys[0].state, AK_SEED);
	ck_assert_int_eq(af.keys[1].state, AK_SEED);
	ck_assert_int_eq(af.last_queried, 0);
	ck_assert_str_eq(af.keys[0].rr, ". IN DNSKEY 257 3 8 " K20326);
	set = anchorfile_trusted(&af, &n);
	ck_assert_ptr_nonnull(set);
	ck_assert_uint_eq(n, 2);
	anchorfile_free_set(set);
	anchorfile_free(&af);
}
END_TEST

START_TEST(test_seed_ds)
{
	/* Lower-case hex, a TTL, a split digest, an algorithm name. */
	static const char text[] =
	    "; root.ds\n"
	    ". 86400 IN DS 20326 8 2 e06d44b80b8f1d39a95c0b0d7c65d08458e8804"
	    "09bbc683457104237c7f8ec8d\n"
	    ".\tIN\tDS\t38696 RSASHA256 2 683D2D0ACB8C9B712A1948B27F74121929"
	    " 8D0A450D612C483AF444A4C0FB2B16\n";
	struct anchor_file af;
	char **set;
	size_t n;

	set = parse_ok("DS seed", text, &af, &n);
	ck_assert_uint_eq(af.nkeys, 2);
	ck_assert(af.keys[0].is_ds);
	ck_assert_uint_eq(af.keys[0].keytag, 20326);
	ck_assert_uint_eq(af.keys[0].algorithm, 8);
	ck_assert_uint_eq(af.keys[0].flags, 0);
	ck_assert_int_eq(af.keys[0].state, AK_SEED);
	ck_assert_str_eq(af.keys[0].rr, ". IN DS 20326 8 2 " DS20326);
	ck_assert_str_eq(af.keys[1].rr, ". IN DS 38696 8 2 " DS38696);
	ck_assert_uint_eq(n, 2);
	anchorfile_free_set(set);
	anchorfile_free(&af);
}
END_TEST

START_TEST(test_revoked_keytag)
{
	/* The REVOKE bit changes the tag (RFC 5011 3): 20326 -> 20454. */
	static const char text[] = ". IN DNSKEY 385 3 8 " K20326 "\n";
	struct anchor_file af;
	char **set;
	size_t n;

	set = parse_ok("revoked seed", text, &af, &n);
	ck_assert_uint_eq(af.keys[0].keytag, 20454);
	ck_assert_uint_eq(af.keys[0].flags & ANCHOR_FLAG_REVOKE,
	    ANCHOR_FLAG_REVOKE);
	ck_assert_msg(n == 0, "anchorfile_trusted: a seed with the REVOKE "
	    "flag is trusted");
	anchorfile_free_set(set);
	anchorfile_free(&af);
}
END_TEST

START_TEST(test_multiline)
{
	/* The key split over lines, comments inside the parentheses, the
	 * ;;state= after the closing one; and a seed likewise. */
	static const char autr[] = HEADER
	    ". 172800 IN DNSKEY 257 3 8 (\n"
	    "\tAwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4R"
	    "gWOq ; first\n"
	    "\t7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuC"
	    "aSnI\n"
	    "\tDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgv"
	    "IWgb"
	    "9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIds"
	    "IXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihyl"
	    "Ga8subX2Nn6UwNR1AkUTV74bU=\n"
	    "\t) ;{id = 20326 (ksk), size = 2048b} ;;state=3 [ MISSING ] "
	    ";;count=0 ;;lastchange=1700000000\n";
	static const char seed[] =
	    "$TTL 172800\n"
	    "$ORIGIN .\n"
	    "@ IN DNSKEY ( 257 3 8\n"
	    "  " K38696 " ) ; KSK-2024\n"
	    "  IN DNSKEY 257 3 8 ( " K20326 "\n"
	    "  )\n"
	    "@ 3600 IN RRSIG DNSKEY 8 0 172800 20261201000000 20261101000000"
	    " 20326 . AAAA\n";
	struct anchor_file af;
	char **set;
	size_t n;

	set = parse_ok("multi-line autotrust", autr, &af, &n);
	ck_assert_uint_eq(af.nkeys, 1);
	ck_assert_int_eq(af.keys[0].state, AK_MISSING);
	ck_assert_str_eq(af.keys[0].rr, ". IN DNSKEY 257 3 8 " K20326);
	ck_assert_uint_eq(n, 1);
	anchorfile_free_set(set);
	anchorfile_free(&af);

	set = parse_ok("multi-line seed", seed, &af, &n);
	ck_assert_uint_eq(af.nkeys, 2);
	ck_assert_uint_eq(af.keys[0].keytag, 38696);
	ck_assert_uint_eq(af.keys[1].keytag, 20326);
	ck_assert_str_eq(af.keys[1].rr, ". IN DNSKEY 257 3 8 " K20326);
	ck_assert_uint_eq(n, 2);
	anchorfile_free_set(set);
	anchorfile_free(&af);
}
END_TEST

START_TEST(test_revoked_file)
{
	/* As autr_write_contents() writes it (the first line twice). */
	static const char text[] = "; autotrust trust anchor file\n"
	    ";;REVOKED\n; The zone has all keys revoked, and is\n" HEADER
	    AUTR("385", K20326, "20454", "4", " REVOKED ");
	struct anchor_file af;
	char **set;
	size_t n;

	set = parse_ok(";;REVOKED", text, &af, &n);
	ck_assert(af.revoked);
	ck_assert_uint_eq(af.nkeys, 1);
	ck_assert_uint_eq(n, 0);
	anchorfile_free_set(set);
	anchorfile_free(&af);
}
END_TEST

/* ---------------------------------------------------------------- errors */

static const struct {
	const char *what, *text, *expect;
} bad[] = {
	{ "state out of range", HEADER
	    AUTR("257", K20326, "20326", "9", " UNKNOWN "), "t:9: " },
	{ "not base64", ". IN DNSKEY 257 3 8 AwEA!AAA\n", "t:1: " },
	{ "bad base64 length", "\n. IN DNSKEY 257 3 8 AwEAA\n", "t:2: " },
	{ "bad header number", "; x\n;;id: . 1\n;;last_queried: soon\n",
	    "t:3: bad number in ;;last_queried" },
	{ "header before id", ";;last_success: 5\n", "t:1: ;;last_success "
	    "before ;;id:" },
	{ "garbage", "garbage here\n", "t:1: relative owner name" },
	{ "garbage with origin", "$ORIGIN .\ngarbage here\n",
	    "t:2: unknown record type 'here'" },
	{ "class CH", ". CH DS 20326 8 2 " DS20326 "\n", "t:1: class CH" },
	{ "no type", ". 3600 IN\n", "t:1: no record type" },
	{ "two names", ". IN DS 20326 8 2 " DS20326 "\nexample. IN DS 1 8 2 "
	    DS20326 "\n", "t:2: keys for two names" },
	{ "short digest", ". IN DS 20326 8 2 E06D44B8\n",
	    "t:1: DS digest of type 2 has 8 hex digits" },
	{ "hex", ". IN DS 20326 8 2 XX\n", "t:1: DS digest is not hex" },
	{ "key tag", ". IN DS 70000 8 2 " DS20326 "\n",
	    "t:1: bad DS key tag" },
	{ "DS short", ". IN DS 20326 8 2\n", "t:1: DS needs" },
	{ "protocol", ". IN DNSKEY 257 4 8 " K20326 "\n",
	    "t:1: bad DNSKEY protocol" },
	{ "algorithm", ". IN DNSKEY 257 3 NOPE " K20326 "\n",
	    "t:1: bad DNSKEY algorithm" },
	{ "no state in autotrust", HEADER ". IN DNSKEY 257 3 8 " K20326 "\n",
	    "t:9: key without ;;state=" },
	{ "closing parenthesis", "; x\n. IN DNSKEY 257 3 8 ) AAAA\n",
	    "t:2: ')' without '('" },
	{ "open parenthesis", ". IN DNSKEY 257 3 8 ( AAAA\n AAAA\n",
	    "t:1: '(' without ')'" },
	{ "empty file", "", "t: no DS or DNSKEY record" },
	{ "comments only", "; nothing\n;; here\n\n",
	    "t: no DS or DNSKEY record" },
	{ "only other types", ". IN NS a.root-servers.net.\n",
	    "t: no DS or DNSKEY record" },
	{ "id class", ";;id: . 3\n", "t:1: class 3 in ;;id:" },
	{ "id name", ";;id: example. 1\n" AUTR("257", K20326, "20326", "2",
	    "  VALID  "), "t: ;;id: names 'example.'" },
	{ "second id", ";;id: . 1\n;;id: . 1\n", "t:2: a second ;;id:" },
	{ "late REVOKED", ";;id: . 1\n;;REVOKED\n", "t:2: ;;REVOKED must" },
	{ "directive", "$INCLUDE /etc/passwd\n",
	    "t:1: unsupported directive" },
	{ "no owner", "  IN DS 20326 8 2 " DS20326 "\n",
	    "t:1: record without owner" },
	{ "empty label", "a..b. IN DS 20326 8 2 " DS20326 "\n",
	    "t:1: empty label" },
	{ "bad lastchange", HEADER ". IN DNSKEY 257 3 8 " K20326
	    " ;;state=2 ;;count=0 ;;lastchange=x\n",
	    "t:9: bad ;;lastchange=" },
};

START_TEST(test_errors)
{
	struct anchor_file af;
	char err[512];

	memset(&af, 0xa5, sizeof(af));
	ck_assert_msg(parse(bad[_i].text, &af, err, sizeof(err)) == -1,
	    "anchorfile_parse: %s: accepted", bad[_i].what);
	ck_assert_msg(strstr(err, bad[_i].expect) != NULL,
	    "anchorfile_parse: %s: expected '%s' in '%s'", bad[_i].what,
	    bad[_i].expect, err);
	ck_assert_msg(af.keys == NULL && af.nkeys == 0,
	    "anchorfile_parse: %s: af not emptied", bad[_i].what);
	anchorfile_free(&af);
}
END_TEST

START_TEST(test_nul_byte)
{
	static const char text[] = ". IN DS 20326 8 2 " DS20326 "\n\0x\n";
	struct anchor_file af;
	char err[512];

	ck_assert_int_eq(anchorfile_parse(text, sizeof(text) - 1, "t", &af,
	    err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "t:2: NUL byte") != NULL, "got '%s'", err);
}
END_TEST

START_TEST(test_read_missing)
{
	struct anchor_file af;
	char err[512];

	ck_assert_int_eq(anchorfile_read("/nonexistent/dotsec/root.anchor",
	    &af, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "/nonexistent/dotsec/root.anchor: ") ==
	    err && strstr(err, strerror(ENOENT)) != NULL, "got '%s'", err);
	ck_assert_ptr_null(af.keys);
	anchorfile_free(&af);
	anchorfile_free(NULL);
}
END_TEST

/* ---------------------------------------------------------------- sets */

START_TEST(test_trusted_rules)
{
	static const char autr[] = HEADER
	    AUTR("257", K20326, "20326", "2", "  VALID  ")
	    AUTR("257", K38696, "38696", "3", " MISSING ")
	    ". 172800 IN DNSKEY 257 3 8 AwEAAQ== ;;state=1 [ ADDPEND ]\n"
	    ". 172800 IN DNSKEY 385 3 8 AwEAAg== ;;state=4 [ REVOKED ]\n"
	    ". 172800 IN DNSKEY 257 3 8 AwEAAw== ;;state=0 [  START  ]\n"
	    ". 172800 IN DNSKEY 257 3 8 AwEABA== ;;state=5 [ REMOVED ]\n"
	    /* VALID but with the REVOKE flag: never trusted. */
	    ". 172800 IN DNSKEY 385 3 8 AwEABQ== ;;state=2 [  VALID  ]\n"
	    ". IN DS 20326 8 2 " DS20326 " ;;state=2\n"
	    ". IN DS 38696 8 2 " DS38696 " ;;state=4\n";
	static const char seed[] =
	    ". IN DNSKEY 257 3 8 " K20326 "\n"
	    ". IN DNSKEY 385 3 8 " K38696 "\n"
	    ". IN DS 38696 8 2 " DS38696 "\n";
	struct anchor_file af;
	char **set;
	size_t n;

	set = parse_ok("trust rules, autotrust", autr, &af, &n);
	ck_assert_uint_eq(af.nkeys, 9);
	ck_assert_uint_eq(n, 3);
	/* Sorted: DNSKEY 257 3 8 AwEAAa9 < AwEAAaz, then DS. */
	ck_assert_str_eq(set[0], ". IN DNSKEY 257 3 8 " K38696);
	ck_assert_str_eq(set[1], ". IN DNSKEY 257 3 8 " K20326);
	ck_assert_str_eq(set[2], ". IN DS 20326 8 2 " DS20326);
	ck_assert_ptr_null(set[3]);
	anchorfile_free_set(set);
	anchorfile_free(&af);

	set = parse_ok("trust rules, seed", seed, &af, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(set[0], ". IN DNSKEY 257 3 8 " K20326);
	ck_assert_str_eq(set[1], ". IN DS 38696 8 2 " DS38696);
	anchorfile_free_set(set);
	anchorfile_free(&af);
}
END_TEST

START_TEST(test_set_equal)
{
	/* The same keys in another order and spelling. */
	static const char a[] = HEADER
	    AUTR("257", K20326, "20326", "2", "  VALID  ")
	    AUTR("257", K38696, "38696", "2", "  VALID  ")
	    AUTR("385", K38696, "38824", "4", " REVOKED ");
	static const char b[] = "$ORIGIN .\n"
	    "@ IN DNSKEY 257 3 RSASHA256 " K38696 "\n"
	    ". 60 in dnskey 257 3 8 (" K20326 ")\n"
	    ". IN DNSKEY 257 3 8 " K20326 "\n";
	static const char c[] = ". IN DNSKEY 257 3 8 " K20326 "\n";
	struct anchor_file af;
	char **sa, **sb, **sc;
	char *empty[] = { NULL };
	size_t na, nb, nc;

	sa = parse_ok("set a", a, &af, &na);
	anchorfile_free(&af);
	sb = parse_ok("set b", b, &af, &nb);
	anchorfile_free(&af);
	sc = parse_ok("set c", c, &af, &nc);
	anchorfile_free(&af);
	ck_assert_uint_eq(na, 2);
	ck_assert_msg(nb == 2, "duplicates are trusted once: %zu", nb);
	ck_assert(anchorfile_set_equal(sa, sb));
	ck_assert(anchorfile_set_equal(sb, sa));
	ck_assert(!anchorfile_set_equal(sa, sc));
	ck_assert(!anchorfile_set_equal(sc, sa));
	ck_assert(!anchorfile_set_equal(sa, empty));
	ck_assert(anchorfile_set_equal(empty, empty));
	ck_assert(!anchorfile_set_equal(sa, NULL));
	ck_assert(anchorfile_set_equal(NULL, NULL));
	anchorfile_free_set(sa);
	anchorfile_free_set(sb);
	anchorfile_free_set(sc);
	anchorfile_free_set(NULL);
}
END_TEST

/* ---------------------------------------------------------------- writing */

struct tmpdir {
	char path[64];
};

static void
tmpdir_make(struct tmpdir *t)
{
	(void)snprintf(t->path, sizeof(t->path), "/tmp/check_anchor.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t->path));
}

/* Remove every file of the directory and the directory; how many files
 * there were. */
static unsigned
tmpdir_remove(struct tmpdir *t)
{
	char file[512];
	struct dirent *d;
	unsigned n = 0;
	DIR *dir;

	dir = opendir(t->path);
	ck_assert_ptr_nonnull(dir);
	while ((d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 ||
		    strcmp(d->d_name, "..") == 0)
			continue;
		(void)snprintf(file, sizeof(file), "%s/%s", t->path,
		    d->d_name);
		(void)unlink(file);
		n++;
	}
	closedir(dir);
	(void)rmdir(t->path);
	return n;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

static char *
slurp(const char *path)
{
	static char buf[8192];
	size_t n;
	FILE *f = fopen(path, "r");

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

START_TEST(test_write_replaces)
{
	static const char new_text[] = ". IN DS 20326 8 2 " DS20326 "\n";
	struct tmpdir t;
	struct stat st;
	char path[128], err[512];

	tmpdir_make(&t);
	(void)snprintf(path, sizeof(path), "%s/root.anchor", t.path);
	write_file(path, "an old and much longer content .................."
	    "..................................................\n");
	ck_assert_msg(anchorfile_write_atomic(path, new_text,
	    strlen(new_text), err, sizeof(err)) == 0,
	    "anchorfile_write_atomic: %s", err);
	ck_assert_str_eq(slurp(path), new_text);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644);
	/* And a file that did not exist yet. */
	(void)snprintf(path, sizeof(path), "%s/new.anchor", t.path);
	ck_assert_int_eq(anchorfile_write_atomic(path, "x", 1, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(slurp(path), "x");
	ck_assert_msg(tmpdir_remove(&t) == 2, "a temporary file was left");
}
END_TEST

START_TEST(test_write_fails_keeps_old)
{
	static const char old_text[] = "old content\n";
	static char big[64 * 1024];
	struct rlimit rl, saved;
	struct tmpdir t;
	char path[128], err[512];
	int rc;

	tmpdir_make(&t);
	(void)snprintf(path, sizeof(path), "%s/root.anchor", t.path);
	write_file(path, old_text);
	memset(big, 'x', sizeof(big));
	/* A file size limit makes the write fail half-way (EFBIG). */
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
	rl = saved;
	rl.rlim_cur = 4096;
	(void)signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	rc = anchorfile_write_atomic(path, big, sizeof(big), err,
	    sizeof(err));
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &saved), 0);
	(void)signal(SIGXFSZ, SIG_DFL);
	ck_assert_int_eq(rc, -1);
	ck_assert_msg(strstr(err, path) == err, "error does not start with "
	    "the path: '%s'", err);
	ck_assert_msg(strstr(err, strerror(EFBIG)) != NULL, "got '%s'", err);
	ck_assert_str_eq(slurp(path), old_text);
	ck_assert_msg(tmpdir_remove(&t) == 1, "a temporary file was left");
}
END_TEST

START_TEST(test_write_unwritable_dir)
{
	struct tmpdir t;
	char path[160], err[512];

	/* Root may write anywhere, so "unwritable" is made of a missing
	 * directory and of a regular file in the place of the directory. */
	ck_assert_int_eq(anchorfile_write_atomic(
	    "/nonexistent/dotsec/root.anchor", "x", 1, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "/nonexistent/dotsec/root.anchor") == err &&
	    strstr(err, strerror(ENOENT)) != NULL, "got '%s'", err);
	tmpdir_make(&t);
	(void)snprintf(path, sizeof(path), "%s/file", t.path);
	write_file(path, "x");
	(void)snprintf(path, sizeof(path), "%s/file/root.anchor", t.path);
	ck_assert_int_eq(anchorfile_write_atomic(path, "x", 1, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, path) == err &&
	    strstr(err, strerror(ENOTDIR)) != NULL, "got '%s'", err);
	if (geteuid() != 0) {
		(void)snprintf(path, sizeof(path), "%s/ro", t.path);
		ck_assert_int_eq(mkdir(path, 0555), 0);
		(void)snprintf(path, sizeof(path), "%s/ro/root.anchor",
		    t.path);
		ck_assert_int_eq(anchorfile_write_atomic(path, "x", 1, err,
		    sizeof(err)), -1);
		ck_assert_msg(strstr(err, strerror(EACCES)) != NULL,
		    "got '%s'", err);
		(void)snprintf(path, sizeof(path), "%s/ro", t.path);
		(void)rmdir(path);
	}
	(void)tmpdir_remove(&t);
}
END_TEST

Suite *
anchorfile_suite(void)
{
	Suite *s = suite_create("anchorfile");
	TCase *tc;

	tc = tcase_create("format");
	tcase_add_test(tc, test_real_autotrust);
	tcase_add_loop_test(tc, test_states, 0, (int)NELEMS(states));
	tcase_add_test(tc, test_state_str);
	tcase_add_test(tc, test_seed_root_key);
	tcase_add_test(tc, test_seed_ds);
	tcase_add_test(tc, test_revoked_keytag);
	tcase_add_test(tc, test_multiline);
	tcase_add_test(tc, test_revoked_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_errors, 0, (int)NELEMS(bad));
	tcase_add_test(tc, test_nul_byte);
	tcase_add_test(tc, test_read_missing);
	suite_add_tcase(s, tc);

	tc = tcase_create("sets");
	tcase_add_test(tc, test_trusted_rules);
	tcase_add_test(tc, test_set_equal);
	suite_add_tcase(s, tc);

	tc = tcase_create("write");
	tcase_add_test(tc, test_write_replaces);
	tcase_add_test(tc, test_write_fails_keeps_old);
	tcase_add_test(tc, test_write_unwritable_dir);
	suite_add_tcase(s, tc);
	return s;
}
