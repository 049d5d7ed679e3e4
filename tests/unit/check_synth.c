/*
 * check_synth.c -- answers made from validated NSEC3 records (src/synth.c)
 * against a model zone (n3model.h): whatever synth answers must be what
 * the zone's content says, for every kind of name; and the rules that keep
 * it from answering (opt-out, zone cuts, iterations, DS, expiry, flush).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "dnsmsg.h"
#include "log.h"
#include "n3model.h"
#include "suites.h"
#include "synth.h"

#define WALL	1796601600	/* 2026-12-07 */
#define NOW	1000

static const uint16_t t_a_txt[] = { DNS_TYPE_A, DNS_TYPE_TXT, 0 };
static const uint16_t t_a[] = { DNS_TYPE_A, 0 };
static const uint16_t t_txt[] = { DNS_TYPE_TXT, 0 };
static const uint16_t t_cname[] = { DNS_TYPE_CNAME, 0 };
static const uint16_t t_ns[] = { DNS_TYPE_NS, 0 };

/* A zone with every kind of name: plain names, empty non-terminals,
 * wildcards with and without the asked type, a CNAME, a signed and an
 * unsigned delegation. */
static void
zone_kind(struct n3model *m, const char *salt, uint16_t iter, bool optout,
    bool nsec)
{
	char name[32];
	int i;

	n3m_init(m, "zone.example.", iter, (const uint8_t *)salt,
	    (uint8_t)strlen(salt), optout, WALL);
	ck_assert_int_eq(n3m_add(m, "www", t_a_txt, false), 0);
	ck_assert_int_eq(n3m_add(m, "a.b.c", t_a, false), 0);
	ck_assert_int_eq(n3m_add(m, "x.y.deep", t_txt, false), 0);
	ck_assert_int_eq(n3m_add(m, "*.wild", t_a_txt, false), 0);
	ck_assert_int_eq(n3m_add(m, "*.txtonly", t_txt, false), 0);
	ck_assert_int_eq(n3m_add(m, "*.deep", t_a, false), 0);
	ck_assert_int_eq(n3m_add(m, "cn", t_cname, false), 0);
	ck_assert_int_eq(n3m_add(m, "*.cnw", t_cname, false), 0);
	ck_assert_int_eq(n3m_add(m, "signed", t_ns, true), 0);
	ck_assert_int_eq(n3m_add(m, "unsigned", t_ns, false), 0);
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "h%d", i);
		ck_assert_int_eq(n3m_add(m, name, i % 3 ? t_a : t_txt, false),
		    0);
	}
	m->nsec = nsec;
	n3m_build(m);
}

static void
zone(struct n3model *m, const char *salt, uint16_t iter, bool optout)
{
	zone_kind(m, salt, iter, optout, false);
}

static const char *const shapes[] = {
	"n%d", "n%d.www", "n%d.wild", "q.n%d.wild", "n%d.txtonly", "h%d",
	"n%d.b.c", "c", "b.c", "n%d.c", "n%d.y.deep", "y.deep", "n%d.deep",
	"n%d.cnw", "n%d.signed", "n%d.unsigned", "signed", "unsigned", "cn",
	"n%d.cn", "www", "*.wild", "@", "a.b.c", "n%d.a.b.c",
	/* in NSEC order just after the delegations, whose NSEC proves them
	 * absent: so that it is learnt */
	"signedz%d", "unsignedz%d"
};
#define NSHAPES (sizeof(shapes) / sizeof(shapes[0]))

static const uint16_t qtypes[] = {
	DNS_TYPE_A, DNS_TYPE_TXT, DNS_TYPE_AAAA, DNS_TYPE_MX
};

static size_t
qname_of(const struct n3model *m, unsigned shape, int n, uint8_t *wire)
{
	char rel[64], full[128];
	uint8_t w[255];
	int len;

	const char *d = strstr(shapes[shape], "%d");

	if (d != NULL)
		snprintf(rel, sizeof(rel), "%.*s%d%s",
		    (int)(d - shapes[shape]), shapes[shape], n, d + 2);
	else
		snprintf(rel, sizeof(rel), "%s", shapes[shape]);
	if (strcmp(rel, "@") == 0)
		snprintf(full, sizeof(full), "zone.example.");
	else
		snprintf(full, sizeof(full), "%s.zone.example.", rel);
	len = n3m_wire(full, w);
	ck_assert_int_gt(len, 0);
	memcpy(wire, w, (size_t)len);
	(void)m;
	return (size_t)len;
}

/* Teach s what the validator passed on for name/type. */
static void
teach(struct synth *s, const struct n3model *m, const uint8_t *name,
    size_t len, uint16_t t, uint32_t now, int64_t wall)
{
	uint8_t pkt[4096];
	struct dnsmsg_query q;
	int n;

	n3m_query(&q, name, len, t);
	n = n3m_reply(m, name, len, t, pkt, sizeof(pkt));
	ck_assert_int_ge(n, 0);
	if (n > 0)
		synth_learn(s, &q, pkt, (size_t)n, now, wall);
}

struct seen {
	unsigned ttl_min, ttl_max;
	unsigned nsec3;		/* NSEC3 or NSEC records */
	uint8_t salt[256];
	int saltlen;		/* -1: none seen yet */
	bool mixed;		/* two NSEC3 parameter sets in one reply */
	unsigned answers;
	uint8_t rdata[16];
	size_t rdlen;
};

static int
look(void *arg, const struct dnsmsg_record *r)
{
	struct seen *sn = arg;

	if (r->ttl < sn->ttl_min)
		sn->ttl_min = r->ttl;
	if (r->ttl > sn->ttl_max)
		sn->ttl_max = r->ttl;
	if (r->type == DNS_TYPE_NSEC)
		sn->nsec3++;
	if (r->type == DNS_TYPE_NSEC3 && r->rdlen > 5) {
		int sl = r->rdata[4];

		sn->nsec3++;
		if (sn->saltlen >= 0 && (sl != sn->saltlen ||
		    memcmp(sn->salt, r->rdata + 5, (size_t)sl) != 0))
			sn->mixed = true;
		sn->saltlen = sl;
		memcpy(sn->salt, r->rdata + 5, (size_t)sl);
	}
	if (r->section == 0 && r->type != DNS_TYPE_RRSIG) {
		sn->answers++;
		if (r->rdlen <= sizeof(sn->rdata)) {
			memcpy(sn->rdata, r->rdata, r->rdlen);
			sn->rdlen = r->rdlen;
		}
	}
	return 0;
}

/* Ask s for name/type and check what it says against the model.  Returns
 * the kind of answer. */
static enum synth_kind
ask(struct synth *s, const struct n3model *m, const uint8_t *name,
    size_t len, uint16_t t, uint32_t now, struct seen *sn)
{
	uint8_t pkt[8192], wname[255], rd[16];
	struct dnsmsg_query q;
	enum synth_kind kind;
	enum n3m_truth truth = n3m_truth(m, name, len, t);
	size_t pos, rdlen;
	int n;

	n3m_query(&q, name, len, t);
	n = synth_answer(s, &q, now, pkt, sizeof(pkt), &kind);
	ck_assert_int_ge(n, 0);
	if (n == 0) {
		ck_assert_int_eq(kind, SYNTH_NONE);
		return SYNTH_NONE;
	}
	memset(sn, 0, sizeof(*sn));
	sn->ttl_min = UINT32_MAX;
	sn->saltlen = -1;
	ck_assert_int_eq(dnsmsg_records(pkt, (size_t)n, look, sn), 0);
	ck_assert_msg(!sn->mixed, "two NSEC3 chains mixed in one proof");
	ck_assert_msg(pkt[3] & 0x20, "no AD");
	switch (kind) {
	case SYNTH_NODATA:
		ck_assert_msg(truth == N3M_NODATA, "NODATA, truth %d", truth);
		break;
	case SYNTH_WILDCARD_NODATA:
		ck_assert_msg(truth == N3M_WILD_NODATA,
		    "wildcard NODATA, truth %d", truth);
		break;
	case SYNTH_NXDOMAIN:
		ck_assert_msg(truth == N3M_NXDOMAIN, "NXDOMAIN, truth %d",
		    truth);
		break;
	case SYNTH_WILDCARD:
		ck_assert_msg(truth == N3M_WILD_ANSWER,
		    "wildcard answer, truth %d", truth);
		/* The data of the wildcard the zone would expand. */
		for (pos = 0; !(name[pos] == 0); pos += name[pos] + 1) {
			wname[0] = 1;
			wname[1] = '*';
			memcpy(wname + 2, name + pos + name[pos] + 1,
			    len - pos - name[pos] - 1);
			if (n3m_truth(m, wname, len - pos - name[pos] + 1, t) ==
			    N3M_ANSWER)
				break;
		}
		rdlen = n3m_rdata(wname, len - pos - name[pos] + 1, t, rd);
		ck_assert_uint_eq(sn->answers, 1);
		ck_assert_uint_eq(sn->rdlen, rdlen);
		ck_assert_mem_eq(sn->rdata, rd, rdlen);
		break;
	default:
		ck_abort_msg("kind %d", kind);
	}
	ck_assert_int_eq(dnsmsg_get_rcode(pkt), kind == SYNTH_NXDOMAIN ?
	    DNS_RCODE_NXDOMAIN : DNS_RCODE_NOERROR);
	if (kind != SYNTH_WILDCARD)
		ck_assert_uint_eq(sn->answers, 0);
	ck_assert_uint_gt(sn->nsec3, 0);
	return kind;
}

/* Teach s from every shape with numbers 0..teach_n-1, then ask every shape
 * and type with numbers 100..100+ask_n-1; counts[kind] gets the
 * answers. */
static void
run(struct synth *s, const struct n3model *m, int teach_n, int ask_n,
    unsigned counts[SYNTH_WILDCARD + 1])
{
	uint8_t name[255];
	struct seen sn;
	size_t len;
	unsigned sh, t;
	int i;

	for (sh = 0; sh < NSHAPES; sh++)
		for (i = 0; i < teach_n; i++)
			for (t = 0; t < 4; t++) {
				len = qname_of(m, sh, i, name);
				teach(s, m, name, len, qtypes[t], NOW, WALL);
			}
	memset(counts, 0, sizeof(unsigned) * (SYNTH_WILDCARD + 1));
	for (sh = 0; sh < NSHAPES; sh++)
		for (i = 100; i < 100 + ask_n; i++)
			for (t = 0; t < 4; t++) {
				len = qname_of(m, sh, i, name);
				counts[ask(s, m, name, len, qtypes[t], NOW + 1,
				    &sn)]++;
			}
}

/* Each kind of proof was made (and ask() checked every one). */
static void
expect_every_kind(const unsigned c[SYNTH_WILDCARD + 1])
{
	ck_assert_uint_gt(c[SYNTH_NODATA], 0);
	ck_assert_uint_gt(c[SYNTH_NXDOMAIN], 0);
	ck_assert_uint_gt(c[SYNTH_WILDCARD], 0);
	ck_assert_uint_gt(c[SYNTH_WILDCARD_NODATA], 0);
}

/* Nothing answered at or below the delegations (shapes 14-17). */
static void
expect_nothing_at_cuts(struct synth *s, const struct n3model *m)
{
	uint8_t name[255], pkt[4096];
	struct dnsmsg_query q;
	unsigned i, t;
	size_t len;

	for (i = 0; i < 200; i++)
		for (t = 0; t < 4; t++) {
			len = qname_of(m, 14 + i % 4, (int)i, name);
			n3m_query(&q, name, len, qtypes[t]);
			ck_assert_int_eq(synth_answer(s, &q, NOW + 1, pkt,
			    sizeof(pkt), NULL), 0);
		}
}

/* Teach s the NXDOMAIN replies of n names next to the apex, signatures
 * seen at wall. */
static void
teach_absent(struct synth *s, const struct n3model *m, int n, int64_t wall)
{
	uint8_t name[255];
	size_t len;
	int i;

	for (i = 0; i < n; i++) {
		len = qname_of(m, 0, i, name);
		teach(s, m, name, len, DNS_TYPE_A, NOW, wall);
	}
}

START_TEST(test_every_kind_agrees)
{
	struct n3model *m = malloc(sizeof(*m));
	struct synth *s = synth_create(1 << 22);
	unsigned c[SYNTH_WILDCARD + 1];

	zone(m, "\xab\xcd", 3, false);
	run(s, m, 30, 30, c);
	expect_every_kind(c);
	synth_delete(s);
	free(m);
}
END_TEST

/* The same with NSEC records (RFC 4035), which libunbound uses itself
 * but slowly for new names under a wildcard. */
START_TEST(test_nsec_every_kind_agrees)
{
	struct n3model *m = malloc(sizeof(*m));
	struct synth *s = synth_create(1 << 22);
	unsigned c[SYNTH_WILDCARD + 1];

	zone_kind(m, "", 0, false, true);
	run(s, m, 30, 30, c);
	expect_every_kind(c);
	expect_nothing_at_cuts(s, m);
	synth_delete(s);
	free(m);
}
END_TEST

START_TEST(test_never_below_a_cut_or_for_ds)
{
	struct n3model *m = malloc(sizeof(*m));
	struct synth *s = synth_create(1 << 22);
	unsigned c[SYNTH_WILDCARD + 1];
	uint8_t name[255], pkt[4096];
	struct dnsmsg_query q;
	size_t len;

	zone(m, "", 0, false);
	run(s, m, 30, 5, c);
	expect_nothing_at_cuts(s, m);
	/* A DS question, even for a name proven absent. */
	len = qname_of(m, 0, 1234, name);
	n3m_query(&q, name, len, DNS_TYPE_DS);
	ck_assert_int_eq(synth_answer(s, &q, NOW + 1, pkt, sizeof(pkt),
	    NULL), 0);
	synth_delete(s);
	free(m);
}
END_TEST

START_TEST(test_optout_proves_no_nxdomain)
{
	struct n3model *m = malloc(sizeof(*m));
	struct synth *s = synth_create(1 << 22);
	unsigned c[SYNTH_WILDCARD + 1];

	zone(m, "\x01", 1, true);
	run(s, m, 30, 30, c);
	ck_assert_uint_gt(c[SYNTH_NODATA], 0);
	ck_assert_uint_eq(c[SYNTH_NXDOMAIN], 0);
	ck_assert_uint_eq(c[SYNTH_WILDCARD], 0);
	ck_assert_uint_eq(c[SYNTH_WILDCARD_NODATA], 0);
	synth_delete(s);
	free(m);
}
END_TEST

START_TEST(test_iteration_limit)
{
	struct n3model *m = malloc(sizeof(*m));
	struct synth *s = synth_create(1 << 22);
	struct synth_stats st;
	unsigned c[SYNTH_WILDCARD + 1];

	zone(m, "", SYNTH_MAX_ITERATIONS + 1, false);
	run(s, m, 5, 5, c);
	synth_get_stats(s, &st);
	ck_assert_uint_eq(st.records, 0);
	ck_assert_uint_eq(c[SYNTH_NONE], NSHAPES * 5 * 4);
	synth_delete(s);
	s = synth_create(1 << 22);
	zone(m, "", SYNTH_MAX_ITERATIONS, false);
	run(s, m, 5, 5, c);
	synth_get_stats(s, &st);
	ck_assert_uint_gt(st.records, 0);
	ck_assert_uint_lt(c[SYNTH_NONE], NSHAPES * 5 * 4);
	synth_delete(s);
	free(m);
}
END_TEST

/* A re-sign with new NSEC3 parameters: both chains learnt, and no proof
 * takes records from both. */
START_TEST(test_two_chains_never_mixed)
{
	struct n3model *m = malloc(sizeof(*m)), *m2 = malloc(sizeof(*m2));
	struct synth *s = synth_create(1 << 22);
	unsigned c[SYNTH_WILDCARD + 1];

	zone(m, "\x11\x22", 2, false);
	zone(m2, "\x33", 0, false);
	run(s, m, 10, 1, c);
	run(s, m2, 10, 30, c);
	ck_assert_uint_gt(c[SYNTH_NXDOMAIN], 0);
	synth_delete(s);
	free(m);
	free(m2);
}
END_TEST

START_TEST(test_ttl_and_expiry)
{
	struct n3model *m = malloc(sizeof(*m));
	struct synth *s = synth_create(1 << 22);
	uint8_t name[255];
	struct seen sn;
	size_t len;

	zone(m, "", 0, false);
	teach_absent(s, m, 300, WALL);
	/* The SOA comes again with a TTL (and minimum) of 100. */
	m->ttl = 100;
	len = qname_of(m, 20, 0, name);		/* www MX: NODATA */
	teach(s, m, name, len, DNS_TYPE_MX, NOW, WALL);
	len = qname_of(m, 0, 500, name);
	ck_assert_int_eq(ask(s, m, name, len, DNS_TYPE_A, NOW + 10, &sn),
	    SYNTH_NXDOMAIN);
	ck_assert_uint_eq(sn.ttl_max, 90);
	ck_assert_uint_eq(sn.ttl_min, 90);
	/* Past the SOA's TTL: no negative answer without it. */
	ck_assert_int_eq(ask(s, m, name, len, DNS_TYPE_A, NOW + 100, &sn),
	    SYNTH_NONE);
	synth_delete(s);

	/* Signatures that expire in 50 s bound the records' life. */
	s = synth_create(1 << 22);
	m->ttl = 300;
	teach_absent(s, m, 300, WALL + 86400 - 50);
	len = qname_of(m, 0, 500, name);
	ck_assert_int_eq(ask(s, m, name, len, DNS_TYPE_A, NOW + 10, &sn),
	    SYNTH_NXDOMAIN);
	ck_assert_uint_le(sn.ttl_max, 40);
	ck_assert_int_eq(ask(s, m, name, len, DNS_TYPE_A, NOW + 50, &sn),
	    SYNTH_NONE);
	synth_delete(s);
	free(m);
}
END_TEST

START_TEST(test_drop_and_bound)
{
	struct n3model *m = malloc(sizeof(*m));
	struct synth *s = synth_create(1 << 22);
	struct synth_stats st;
	uint8_t name[255], other[255];
	struct seen sn;
	size_t len;
	int i, ol;

	zone(m, "", 0, false);
	teach_absent(s, m, 300, WALL);
	len = qname_of(m, 0, 500, name);
	ck_assert_int_eq(ask(s, m, name, len, DNS_TYPE_A, NOW + 1, &sn),
	    SYNTH_NXDOMAIN);
	ol = n3m_wire("other.example.", other);
	ck_assert_uint_eq(synth_drop(s, other, (size_t)ol), 0);
	/* A name in the zone: the zone goes. */
	ck_assert_uint_eq(synth_drop(s, name, len), 1);
	ck_assert_int_eq(ask(s, m, name, len, DNS_TYPE_A, NOW + 1, &sn),
	    SYNTH_NONE);
	synth_delete(s);

	/* 8 KiB: the store stays within it, and the one zone, larger than
	 * that, keeps part of its records rather than none. */
	s = synth_create(8192);
	for (i = 0; i < 200; i++) {
		len = qname_of(m, 0, i, name);
		teach(s, m, name, len, DNS_TYPE_A, NOW, WALL);
		synth_get_stats(s, &st);
		ck_assert_uint_le(st.bytes, 8192);
	}
	ck_assert_uint_eq(st.zones, 1);
	ck_assert_uint_gt(st.records, 4);
	synth_delete(s);
	free(m);
}
END_TEST

/* Cut-off and damaged replies teach nothing and break nothing. */
START_TEST(test_damaged_replies)
{
	struct n3model *m = malloc(sizeof(*m));
	struct synth *s = synth_create(1 << 22);
	struct synth_stats st;
	struct dnsmsg_query q;
	uint8_t name[255], pkt[4096], bad[4096];
	size_t len, cut;
	int n, i;

	zone(m, "", 0, false);
	len = qname_of(m, 0, 7, name);
	n3m_query(&q, name, len, DNS_TYPE_A);
	n = n3m_reply(m, name, len, DNS_TYPE_A, pkt, sizeof(pkt));
	ck_assert_int_gt(n, 0);
	for (cut = 0; cut < (size_t)n; cut++)
		synth_learn(s, &q, pkt, cut, NOW, WALL);
	synth_get_stats(s, &st);
	ck_assert_uint_eq(st.records, 0);
	srand(7);
	for (i = 0; i < 2000; i++) {
		memcpy(bad, pkt, (size_t)n);
		bad[12 + rand() % (n - 12)] ^= (uint8_t)(1 + rand() % 255);
		synth_learn(s, &q, bad, (size_t)n, NOW, WALL);
	}
	synth_delete(s);
	free(m);
}
END_TEST

Suite *
synth_suite(void)
{
	Suite *s = suite_create("synth");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_every_kind_agrees);
	tcase_add_test(tc, test_nsec_every_kind_agrees);
	tcase_add_test(tc, test_never_below_a_cut_or_for_ds);
	tcase_add_test(tc, test_optout_proves_no_nxdomain);
	tcase_add_test(tc, test_iteration_limit);
	tcase_add_test(tc, test_two_chains_never_mixed);
	tcase_add_test(tc, test_ttl_and_expiry);
	tcase_add_test(tc, test_drop_and_bound);
	tcase_add_test(tc, test_damaged_replies);
	suite_add_tcase(s, tc);
	return s;
}
