/*
 * check_frontcache.c -- the wire-level answer cache: hits patched for their
 * client, TTL aging and expiry, serve-stale, key normalisation (case, DO,
 * CD, EDNS), what is never stored, LRU eviction under the byte bound,
 * resizing in place, and several threads at once.
 */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "dnsfix.h"
#include "dnsmsg.h"
#include "frontcache.h"
#include "suites.h"

/* A reply to q with n A records of the given TTLs (and address byte
 * tag), rcode, flags byte 2/3 extras, and an OPT when q had EDNS. */
static void
make_reply(struct pkt *p, const struct dnsmsg_query *q, int rcode,
    const uint32_t *ttls, unsigned n, uint8_t tag, bool tc)
{
	unsigned i;

	p->len = 0;
	p16(p, q->id);
	p->b[p->len++] = (uint8_t)(0x80 | (q->rd ? 1 : 0) | (tc ? 2 : 0));
	p->b[p->len++] = (uint8_t)(0x80 | 0x20 | rcode);
	p16(p, 1);
	p16(p, n);
	p16(p, 0);
	p16(p, q->edns ? 1 : 0);
	memcpy(p->b + p->len, q->qname, q->qname_len);
	p->len += q->qname_len;
	p16(p, q->qtype);
	p16(p, q->qclass);
	for (i = 0; i < n; i++) {
		p16(p, 0xc00c);
		p16(p, DNS_TYPE_A);
		p16(p, DNS_CLASS_IN);
		p32(p, ttls[i]);
		p16(p, 4);
		p->b[p->len++] = 192;
		p->b[p->len++] = 0;
		p->b[p->len++] = (uint8_t)i;
		p->b[p->len++] = tag;
	}
	if (q->edns) {
		p->b[p->len++] = 0;
		p16(p, DNS_TYPE_OPT);
		p16(p, 1232);
		p32(p, q->do_bit ? 0x8000 : 0);
		p16(p, 0);
	}
}

/* Make the query for name (DO, EDNS as given) into q, a NOERROR reply with
 * n A records of TTLs ttls into p, and store it with verdict v at now. */
static bool
put(struct frontcache *fc, struct dnsmsg_query *q, struct pkt *p,
    const char *name, bool do_bit, bool edns, const uint32_t *ttls,
    unsigned n, enum fc_verdict v, uint32_t now)
{
	make_query(q, name, DNS_TYPE_A, do_bit, false, edns);
	make_reply(p, q, 0, ttls, n, 1, false);
	return frontcache_store(fc, q, p->b, p->len, v, now);
}

static uint32_t
ttl_of(const uint8_t *m, unsigned i, size_t qname_len)
{
	size_t off = DNS_HEADER_LEN + qname_len + 4 + i * 16 + 6;

	return ((uint32_t)m[off] << 24) | ((uint32_t)m[off + 1] << 16) |
	    ((uint32_t)m[off + 2] << 8) | m[off + 3];
}

START_TEST(test_fresh_hit_patched_and_aged)
{
	struct frontcache *fc = frontcache_create(1 << 20, 0);
	struct dnsmsg_query q, q2;
	struct pkt p;
	uint32_t ttls[2] = { 300, 100 };
	uint8_t out[4096];
	size_t len;
	enum fc_verdict v = FC_INSECURE;

	ck_assert_ptr_nonnull(fc);
	make_query(&q, "www.example.", DNS_TYPE_A, true, false, true);
	make_reply(&p, &q, 0, ttls, 2, 7, false);
	ck_assert(frontcache_store(fc, &q, p.b, p.len, FC_SECURE, 1000));

	/* Another client, other ID, other letter case, no RD, DO set. */
	make_query(&q2, "WwW.ExAmple.", DNS_TYPE_A, true, false, true);
	q2.id = 0xbeef;
	q2.rd = false;
	ck_assert_int_eq(frontcache_lookup(fc, &q2, 1040, false, 4096, out,
	    sizeof(out), &len, &v), FC_FRESH);
	ck_assert_uint_eq(len, p.len);
	ck_assert_int_eq(v, FC_SECURE);
	ck_assert_uint_eq(dnsmsg_get_id(out), 0xbeef);
	ck_assert_int_eq(out[2] & 0x01, 0);		/* RD from q2 */
	ck_assert_int_eq(out[3] & 0x20, 0x20);		/* AD: secure, DO */
	ck_assert_mem_eq(out + DNS_HEADER_LEN, q2.qname, q2.qname_len);
	ck_assert_uint_eq(ttl_of(out, 0, q2.qname_len), 260);
	ck_assert_uint_eq(ttl_of(out, 1, q2.qname_len), 60);
	/* Everything after the TTLs is unchanged. */
	ck_assert_mem_eq(out + len - 15, p.b + p.len - 15, 15);
	frontcache_delete(fc);
}
END_TEST

START_TEST(test_ad_only_when_asked)
{
	struct frontcache *fc = frontcache_create(1 << 20, 0);
	struct dnsmsg_query q;
	struct pkt p;
	uint32_t ttl = 60;
	uint8_t out[4096];
	size_t len;

	ck_assert(put(fc, &q, &p, "a.example.", false, true, &ttl, 1, FC_SECURE, 10));
	/* Secure, but neither DO nor AD in the query: no AD (RFC 6840). */
	ck_assert_int_eq(frontcache_lookup(fc, &q, 10, false, 4096, out,
	    sizeof(out), &len, NULL), FC_FRESH);
	ck_assert_int_eq(out[3] & 0x20, 0);
	q.ad = true;
	ck_assert_int_eq(frontcache_lookup(fc, &q, 10, false, 4096, out,
	    sizeof(out), &len, NULL), FC_FRESH);
	ck_assert_int_eq(out[3] & 0x20, 0x20);
	/* An insecure entry never gets AD. */
	ck_assert(frontcache_store(fc, &q, p.b, p.len, FC_INSECURE, 10));
	ck_assert_int_eq(frontcache_lookup(fc, &q, 10, false, 4096, out,
	    sizeof(out), &len, NULL), FC_FRESH);
	ck_assert_int_eq(out[3] & 0x20, 0);
	frontcache_delete(fc);
}
END_TEST

START_TEST(test_key_bits)
{
	struct frontcache *fc = frontcache_create(1 << 20, 0);
	struct dnsmsg_query q, o;
	struct pkt p;
	uint32_t ttl = 60;
	uint8_t out[4096];
	size_t len;

	ck_assert(put(fc, &q, &p, "k.example.", true, true, &ttl, 1, FC_SECURE, 10));
	make_query(&o, "k.example.", DNS_TYPE_A, false, false, true);
	ck_assert_int_eq(frontcache_lookup(fc, &o, 10, false, 4096, out,
	    sizeof(out), &len, NULL), FC_MISS);		/* DO differs */
	make_query(&o, "k.example.", DNS_TYPE_A, true, true, true);
	ck_assert_int_eq(frontcache_lookup(fc, &o, 10, false, 4096, out,
	    sizeof(out), &len, NULL), FC_MISS);		/* CD differs */
	make_query(&o, "k.example.", DNS_TYPE_A, false, false, false);
	ck_assert_int_eq(frontcache_lookup(fc, &o, 10, false, 4096, out,
	    sizeof(out), &len, NULL), FC_MISS);		/* no EDNS */
	make_query(&o, "k.example.", DNS_TYPE_AAAA, true, false, true);
	ck_assert_int_eq(frontcache_lookup(fc, &o, 10, false, 4096, out,
	    sizeof(out), &len, NULL), FC_MISS);		/* type differs */
	make_query(&o, "k.examplf.", DNS_TYPE_A, true, false, true);
	ck_assert_int_eq(frontcache_lookup(fc, &o, 10, false, 4096, out,
	    sizeof(out), &len, NULL), FC_MISS);		/* name differs */
	make_query(&o, "K.EXAMPLE.", DNS_TYPE_A, true, false, true);
	ck_assert_int_eq(frontcache_lookup(fc, &o, 10, false, 4096, out,
	    sizeof(out), &len, NULL), FC_FRESH);	/* case only */
	frontcache_delete(fc);
}
END_TEST

START_TEST(test_expiry_and_stale)
{
	struct frontcache *fc = frontcache_create(1 << 20, 100);
	struct frontcache *nostale = frontcache_create(1 << 20, 0);
	struct dnsmsg_query q;
	struct pkt p;
	uint32_t ttls[2] = { 50, 20 };
	uint8_t out[4096];
	size_t len;
	struct fc_stats st;

	ck_assert(put(fc, &q, &p, "s.example.", true, true, ttls, 2, FC_SECURE, 100));
	ck_assert(frontcache_store(nostale, &q, p.b, p.len, FC_SECURE, 100));
	/* The smallest TTL decides: fresh at +19, expired at +20. */
	ck_assert_int_eq(frontcache_lookup(fc, &q, 119, false, 4096, out,
	    sizeof(out), &len, NULL), FC_FRESH);
	ck_assert_uint_eq(ttl_of(out, 1, q.qname_len), 1);
	ck_assert_int_eq(frontcache_lookup(fc, &q, 120, false, 4096, out,
	    sizeof(out), &len, NULL), FC_MISS);
	/* Stale only when asked: TTL 30 everywhere and an EDE 3. */
	ck_assert_int_eq(frontcache_lookup(fc, &q, 120, true, 4096, out,
	    sizeof(out), &len, NULL), FC_STALE);
	ck_assert_uint_eq(len, p.len + 6);
	ck_assert_uint_eq(ttl_of(out, 0, q.qname_len), FC_STALE_TTL);
	ck_assert_uint_eq(ttl_of(out, 1, q.qname_len), FC_STALE_TTL);
	/* OPT RDLENGTH 6, then option 15 length 2 info-code 3. */
	ck_assert_int_eq(out[len - 8], 0);
	ck_assert_int_eq(out[len - 7], 6);
	{
		static const uint8_t ede[6] = { 0, 15, 0, 2, 0, 3 };

		ck_assert_mem_eq(out + len - 6, ede, 6);
	}
	ck_assert_int_eq(dnsmsg_get_rcode(out), 0);
	/* Without room for the EDE, not served. */
	ck_assert_int_eq(frontcache_lookup(fc, &q, 120, true, p.len, out,
	    sizeof(out), &len, NULL), FC_MISS);
	/* Past stale_max: gone for good. */
	ck_assert_int_eq(frontcache_lookup(fc, &q, 220, true, 4096, out,
	    sizeof(out), &len, NULL), FC_MISS);
	frontcache_get_stats(fc, &st);
	ck_assert_uint_eq(st.entries, 0);
	ck_assert_uint_eq(st.stale, 1);
	/* With stale_max 0 an expired entry is dropped at once. */
	ck_assert_int_eq(frontcache_lookup(nostale, &q, 120, true, 4096, out,
	    sizeof(out), &len, NULL), FC_MISS);
	frontcache_get_stats(nostale, &st);
	ck_assert_uint_eq(st.entries, 0);
	frontcache_delete(fc);
	frontcache_delete(nostale);
}
END_TEST

START_TEST(test_stale_without_edns)
{
	struct frontcache *fc = frontcache_create(1 << 20, 100);
	struct dnsmsg_query q;
	struct pkt p;
	uint32_t ttl = 5;
	uint8_t out[4096];
	size_t len;

	ck_assert(put(fc, &q, &p, "n.example.", false, false, &ttl, 1, FC_INSECURE, 0));
	ck_assert_int_eq(frontcache_lookup(fc, &q, 10, true, 512, out,
	    sizeof(out), &len, NULL), FC_STALE);
	ck_assert_uint_eq(len, p.len);		/* no OPT: no EDE */
	ck_assert_uint_eq(ttl_of(out, 0, q.qname_len), FC_STALE_TTL);
	frontcache_delete(fc);
}
END_TEST

START_TEST(test_not_stored)
{
	struct frontcache *fc = frontcache_create(1 << 20, 0);
	struct dnsmsg_query q;
	struct pkt p;
	uint32_t ttls[2] = { 60, 0 }, one = 60;
	uint8_t out[4096];
	size_t len;
	struct fc_stats st;

	make_query(&q, "x.example.", DNS_TYPE_A, true, false, true);
	make_reply(&p, &q, DNS_RCODE_SERVFAIL, &one, 1, 1, false);
	ck_assert(!frontcache_store(fc, &q, p.b, p.len, FC_INSECURE, 0));
	make_reply(&p, &q, DNS_RCODE_REFUSED, &one, 1, 1, false);
	ck_assert(!frontcache_store(fc, &q, p.b, p.len, FC_INSECURE, 0));
	make_reply(&p, &q, 0, &one, 1, 1, true);	/* TC */
	ck_assert(!frontcache_store(fc, &q, p.b, p.len, FC_INSECURE, 0));
	make_reply(&p, &q, 0, ttls, 2, 1, false);	/* a TTL of 0 */
	ck_assert(!frontcache_store(fc, &q, p.b, p.len, FC_INSECURE, 0));
	make_reply(&p, &q, 0, NULL, 0, 1, false);	/* no record */
	ck_assert(!frontcache_store(fc, &q, p.b, p.len, FC_INSECURE, 0));
	make_reply(&p, &q, 0, &one, 1, 1, false);	/* cut short */
	ck_assert(!frontcache_store(fc, &q, p.b, p.len - 1, FC_INSECURE, 0));
	ck_assert(!frontcache_store(fc, &q, p.b, 5, FC_INSECURE, 0));
	frontcache_get_stats(fc, &st);
	ck_assert_uint_eq(st.entries, 0);
	/* An NXDOMAIN with its SOA is stored. */
	make_reply(&p, &q, DNS_RCODE_NXDOMAIN, &one, 1, 1, false);
	ck_assert(frontcache_store(fc, &q, p.b, p.len, FC_SECURE, 0));
	ck_assert_int_eq(frontcache_lookup(fc, &q, 0, false, 4096, out,
	    sizeof(out), &len, NULL), FC_FRESH);
	ck_assert_int_eq(dnsmsg_get_rcode(out), DNS_RCODE_NXDOMAIN);
	frontcache_delete(fc);
}
END_TEST

/* The prefetch hint: once per entry, in the last tenth of its smallest
 * TTL, never for a bogus entry or a TTL under 10 s, and again for the
 * entry that replaces it. */
START_TEST(test_refresh_hint)
{
	struct frontcache *fc = frontcache_create(1 << 20, 100);
	struct dnsmsg_query q, qs, qb;
	struct pkt p;
	uint32_t ttls[2] = { 300, 100 }, shortttl = 9;
	uint8_t out[4096], reply[512];
	size_t len;
	bool refresh;
	int n;

	ck_assert(put(fc, &q, &p, "pf.example.", true, true, ttls, 2,
	    FC_SECURE, 1000));
	/* Before the last tenth of the 100 s TTL: no hint. */
	ck_assert_int_eq(frontcache_lookup_refresh(fc, &q, 1089, 4096, out,
	    sizeof(out), &len, NULL, &refresh), FC_FRESH);
	ck_assert(!refresh);
	/* Plain lookups never take the hint. */
	ck_assert_int_eq(frontcache_lookup(fc, &q, 1090, false, 4096, out,
	    sizeof(out), &len, NULL), FC_FRESH);
	/* At 90 s: the hint, once; the answer is served each time. */
	ck_assert_int_eq(frontcache_lookup_refresh(fc, &q, 1090, 4096, out,
	    sizeof(out), &len, NULL, &refresh), FC_FRESH);
	ck_assert(refresh);
	ck_assert_uint_eq(ttl_of(out, 1, q.qname_len), 10);
	ck_assert_int_eq(frontcache_lookup_refresh(fc, &q, 1095, 4096, out,
	    sizeof(out), &len, NULL, &refresh), FC_FRESH);
	ck_assert(!refresh);
	/* The refreshed answer replaces the entry: fresh TTLs, and a hint
	 * again in its own last tenth. */
	ck_assert(put(fc, &q, &p, "pf.example.", true, true, ttls, 2,
	    FC_SECURE, 1095));
	ck_assert_int_eq(frontcache_lookup_refresh(fc, &q, 1105, 4096, out,
	    sizeof(out), &len, NULL, &refresh), FC_FRESH);
	ck_assert(!refresh);
	ck_assert_uint_eq(ttl_of(out, 1, q.qname_len), 90);
	ck_assert_int_eq(frontcache_lookup_refresh(fc, &q, 1186, 4096, out,
	    sizeof(out), &len, NULL, &refresh), FC_FRESH);
	ck_assert(refresh);
	/* Expired: a miss, no hint. */
	ck_assert_int_eq(frontcache_lookup_refresh(fc, &q, 1195, 4096, out,
	    sizeof(out), &len, NULL, &refresh), FC_MISS);
	ck_assert(!refresh);
	/* A 9 s TTL has no last tenth to speak of. */
	ck_assert(put(fc, &qs, &p, "short.example.", true, true, &shortttl, 1,
	    FC_INSECURE, 2000));
	ck_assert_int_eq(frontcache_lookup_refresh(fc, &qs, 2008, 4096, out,
	    sizeof(out), &len, NULL, &refresh), FC_FRESH);
	ck_assert(!refresh);
	/* A bogus verdict is never refreshed: it is only kept bogus_ttl. */
	make_query(&qb, "bogus.example.", DNS_TYPE_A, true, false, true);
	n = dnsmsg_error(&qb, DNS_RCODE_SERVFAIL, DNS_EDE_DNSSEC_BOGUS, NULL,
	    1232, reply, sizeof(reply));
	ck_assert_int_gt(n, 0);
	ck_assert(frontcache_store_bogus(fc, &qb, reply, (size_t)n, 60, 3000));
	ck_assert_int_eq(frontcache_lookup_refresh(fc, &qb, 3059, 4096, out,
	    sizeof(out), &len, NULL, &refresh), FC_FRESH);
	ck_assert(!refresh);
	frontcache_delete(fc);
}
END_TEST

START_TEST(test_bogus_kept_briefly)
{
	struct frontcache *fc = frontcache_create(1 << 20, 86400);
	struct dnsmsg_query q, q2;
	uint8_t reply[512], out[4096];
	int n;
	size_t len;
	enum fc_verdict v;

	make_query(&q, "bogus.example.", DNS_TYPE_A, true, false, true);
	n = dnsmsg_error(&q, DNS_RCODE_SERVFAIL, DNS_EDE_DNSSEC_BOGUS,
	    "signature invalid", 1232, reply, sizeof(reply));
	ck_assert_int_gt(n, 0);
	/* Not through the positive path, and not with a TTL of 0. */
	ck_assert(!frontcache_store(fc, &q, reply, (size_t)n, FC_BOGUS, 0));
	ck_assert(!frontcache_store_bogus(fc, &q, reply, (size_t)n, 0, 0));
	ck_assert(frontcache_store_bogus(fc, &q, reply, (size_t)n, 60, 100));
	make_query(&q2, "BOGUS.example.", DNS_TYPE_A, true, false, true);
	q2.id = 77;
	ck_assert_int_eq(frontcache_lookup(fc, &q2, 159, false, 4096, out,
	    sizeof(out), &len, &v), FC_FRESH);
	ck_assert_int_eq(v, FC_BOGUS);
	ck_assert_uint_eq(len, (size_t)n);
	ck_assert_uint_eq(dnsmsg_get_id(out), 77);
	ck_assert_int_eq(dnsmsg_get_rcode(out), DNS_RCODE_SERVFAIL);
	ck_assert_int_eq(out[3] & 0x20, 0);
	ck_assert_mem_eq(out + len - 17, "signature invalid", 17);
	/* Never served stale, even with serve-stale on. */
	ck_assert_int_eq(frontcache_lookup(fc, &q2, 160, true, 4096, out,
	    sizeof(out), &len, &v), FC_MISS);
	/* A NOERROR reply is no bogus entry. */
	{
		struct pkt p;
		uint32_t ttl = 60;

		make_reply(&p, &q, 0, &ttl, 1, 1, false);
		ck_assert(!frontcache_store_bogus(fc, &q, p.b, p.len, 60, 0));
	}
	frontcache_delete(fc);
}
END_TEST

START_TEST(test_too_big_for_client)
{
	struct frontcache *fc = frontcache_create(1 << 20, 0);
	struct dnsmsg_query q;
	struct pkt p;
	uint32_t ttls[40];
	uint8_t out[4096];
	size_t len;
	unsigned i;

	for (i = 0; i < 40; i++)
		ttls[i] = 60;
	ck_assert(put(fc, &q, &p, "big.example.", true, true, ttls, 40, FC_SECURE, 0));
	ck_assert_uint_gt(p.len, 512);
	ck_assert_int_eq(frontcache_lookup(fc, &q, 0, false, 512, out,
	    sizeof(out), &len, NULL), FC_MISS);
	ck_assert_int_eq(frontcache_lookup(fc, &q, 0, false, p.len, out,
	    sizeof(out), &len, NULL), FC_FRESH);
	frontcache_delete(fc);
}
END_TEST

/* Store names 0..n-1; returns the bytes one entry takes (all equal). */
static void
fill(struct frontcache *fc, unsigned from, unsigned n, uint32_t now)
{
	struct dnsmsg_query q;
	struct pkt p;
	uint32_t ttl = 3600;
	char name[64];
	unsigned i;

	for (i = from; i < from + n; i++) {
		snprintf(name, sizeof(name), "n%05u.example.", i);
		make_query(&q, name, DNS_TYPE_A, true, false, true);
		make_reply(&p, &q, 0, &ttl, 1, (uint8_t)i, false);
		frontcache_store(fc, &q, p.b, p.len, FC_SECURE, now);
	}
}

static bool
present(struct frontcache *fc, unsigned i)
{
	struct dnsmsg_query q;
	uint8_t out[4096];
	size_t len;
	char name[64];

	snprintf(name, sizeof(name), "n%05u.example.", i);
	make_query(&q, name, DNS_TYPE_A, true, false, true);
	return frontcache_lookup(fc, &q, 0, false, 4096, out, sizeof(out),
	    &len, NULL) == FC_FRESH;
}

START_TEST(test_lru_byte_bound)
{
	struct frontcache *fc = frontcache_create(64 * 1024, 0);
	struct fc_stats st;
	unsigned i, kept = 0, old_kept = 0;

	fill(fc, 0, 200, 0);
	/* Touch the first 20: they become the most recent. */
	for (i = 0; i < 20; i++)
		ck_assert(present(fc, i));
	fill(fc, 200, 5000, 0);
	frontcache_get_stats(fc, &st);
	ck_assert_uint_le(st.bytes, 64 * 1024);
	ck_assert_uint_gt(st.evictions, 0);
	ck_assert_uint_gt(st.entries, 100);
	/* The newest are there, the oldest are gone. */
	for (i = 5100; i < 5200; i++)
		kept += present(fc, i);
	for (i = 20; i < 200; i++)
		old_kept += present(fc, i);
	ck_assert_uint_eq(kept, 100);
	ck_assert_uint_eq(old_kept, 0);
	frontcache_delete(fc);
}
END_TEST

START_TEST(test_lru_touch_saves)
{
	struct frontcache *fc = frontcache_create(64 * 1024, 0);
	struct fc_stats st;
	unsigned i, survivors = 0;

	fill(fc, 0, 100, 0);
	/* Keep touching names 0..9 while new ones push the rest out. */
	for (i = 0; i < 40; i++) {
		unsigned k;

		for (k = 0; k < 10; k++)
			ck_assert(present(fc, k));
		fill(fc, 1000 + i * 50, 50, 0);
	}
	for (i = 0; i < 10; i++)
		survivors += present(fc, i);
	frontcache_get_stats(fc, &st);
	ck_assert_uint_gt(st.evictions, 0);
	ck_assert_uint_eq(survivors, 10);
	ck_assert(!present(fc, 50));
	frontcache_delete(fc);
}
END_TEST

START_TEST(test_resize_in_place)
{
	struct frontcache *fc = frontcache_create(1 << 20, 0);
	struct fc_stats st;
	unsigned i, kept = 0;

	fill(fc, 0, 1000, 0);
	frontcache_get_stats(fc, &st);
	ck_assert_uint_eq(st.entries, 1000);
	/* Growing keeps everything. */
	frontcache_set_limits(fc, 2 << 20, 0);
	frontcache_get_stats(fc, &st);
	ck_assert_uint_eq(st.entries, 1000);
	for (i = 0; i < 1000; i++)
		kept += present(fc, i);
	ck_assert_uint_eq(kept, 1000);
	/* Shrinking evicts down to the bound, keeping the rest. */
	frontcache_set_limits(fc, 32 * 1024, 0);
	frontcache_get_stats(fc, &st);
	ck_assert_uint_le(st.bytes, 32 * 1024);
	ck_assert_uint_gt(st.entries, 0);
	ck_assert_uint_lt(st.entries, 1000);
	ck_assert_uint_eq(st.max_bytes, 32 * 1024);
	frontcache_delete(fc);
}
END_TEST

START_TEST(test_replace_same_key)
{
	struct frontcache *fc = frontcache_create(1 << 20, 0);
	struct dnsmsg_query q;
	struct pkt p;
	uint32_t ttl = 60;
	uint8_t out[4096];
	size_t len;
	struct fc_stats st;

	ck_assert(put(fc, &q, &p, "r.example.", true, true, &ttl, 1, FC_SECURE, 0));
	make_reply(&p, &q, 0, &ttl, 1, 2, false);
	ck_assert(frontcache_store(fc, &q, p.b, p.len, FC_SECURE, 0));
	frontcache_get_stats(fc, &st);
	ck_assert_uint_eq(st.entries, 1);
	ck_assert_int_eq(frontcache_lookup(fc, &q, 0, false, 4096, out,
	    sizeof(out), &len, NULL), FC_FRESH);
	ck_assert_int_eq(out[len - 11 - 1], 2);	/* the newer tag */
	frontcache_delete(fc);
}
END_TEST

/* Several threads store and look up overlapping names; every hit must be
 * the reply of its own name (the tag byte is the name's number). */
struct thr_arg {
	struct frontcache *fc;
	unsigned seed;
	unsigned bad, hits;
};

static void *
hammer(void *arg)
{
	struct thr_arg *a = arg;
	unsigned i, x = a->seed;

	for (i = 0; i < 40000; i++) {
		struct dnsmsg_query q;
		struct pkt p;
		uint32_t ttl = 3600;
		uint8_t out[4096];
		size_t len;
		char name[64];
		unsigned k;

		x = x * 1103515245u + 12345u;
		k = (x >> 8) % 3000;
		snprintf(name, sizeof(name), "t%u.example.", k);
		make_query(&q, name, DNS_TYPE_A, true, false, true);
		if ((x >> 4) & 1) {
			make_reply(&p, &q, 0, &ttl, 1, (uint8_t)k, false);
			frontcache_store(a->fc, &q, p.b, p.len, FC_SECURE, 0);
		} else if (frontcache_lookup(a->fc, &q, 0, false, 4096, out,
		    sizeof(out), &len, NULL) == FC_FRESH) {
			a->hits++;
			if (len < 20 || out[len - 12] != (uint8_t)k ||
			    memcmp(out + DNS_HEADER_LEN, q.qname,
			    q.qname_len) != 0)
				a->bad++;
		}
		if (i % 5000 == 0)
			frontcache_set_limits(a->fc, (i / 5000) % 2 ?
			    96 * 1024 : 256 * 1024, 0);
	}
	return NULL;
}

START_TEST(test_threads)
{
	struct frontcache *fc = frontcache_create(256 * 1024, 0);
	pthread_t t[4];
	struct thr_arg a[4];
	struct fc_stats st;
	unsigned i, hits = 0;

	for (i = 0; i < 4; i++) {
		a[i].fc = fc;
		a[i].seed = i * 7919 + 1;
		a[i].bad = a[i].hits = 0;
		ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, &a[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ck_assert_uint_eq(a[i].bad, 0);
		hits += a[i].hits;
	}
	ck_assert_uint_gt(hits, 1000);
	frontcache_get_stats(fc, &st);
	ck_assert_uint_le(st.bytes, st.max_bytes);
	frontcache_delete(fc);
}
END_TEST


/* A route change drops the answers at and below the zone, in any case,
 * and nothing else: a name that only ends in the same letters stays. */
START_TEST(test_drop_below)
{
	static const char *const names[] = {
		"corp.example.", "www.corp.example.", "a.b.CORP.example.",
		"notcorp.example.", "www.other.example.", "example."
	};
	static const bool dropped[] = { true, true, true, false, false, false };
	struct frontcache *fc = frontcache_create(1 << 20, 0);
	const uint32_t ttl[1] = { 300 };
	struct dnsmsg_query q;
	struct pkt p;
	uint8_t zone[DNS_MAX_NAME], out[4096];
	size_t i, len, zlen;

	ck_assert_ptr_nonnull(fc);
	for (i = 0; i < 6; i++) {
		ck_assert(put(fc, &q, &p, names[i], true, true, ttl, 1,
		    FC_SECURE, 1000));
		ck_assert(put(fc, &q, &p, names[i], false, false, ttl, 1,
		    FC_SECURE, 1000));
	}
	zlen = wire_name("Corp.Example.", zone);
	ck_assert_uint_eq(frontcache_drop_below(fc, zone, zlen), 6);
	for (i = 0; i < 6; i++) {
		make_query(&q, names[i], DNS_TYPE_A, true, false, true);
		ck_assert_msg((frontcache_lookup(fc, &q, 1001, false, 4096, out,
		    sizeof(out), &len, NULL) == FC_MISS) == dropped[i],
		    "frontcache_drop_below corp.example: %s %s", names[i],
		    dropped[i] ? "kept" : "dropped");
	}
	zlen = wire_name("", zone);
	ck_assert_uint_eq(frontcache_drop_below(fc, zone, zlen), 6);
	frontcache_delete(fc);
}
END_TEST

Suite *
frontcache_suite(void)
{
	Suite *s = suite_create("frontcache");
	TCase *tc = tcase_create("frontcache");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fresh_hit_patched_and_aged);
	tcase_add_test(tc, test_ad_only_when_asked);
	tcase_add_test(tc, test_key_bits);
	tcase_add_test(tc, test_expiry_and_stale);
	tcase_add_test(tc, test_stale_without_edns);
	tcase_add_test(tc, test_not_stored);
	tcase_add_test(tc, test_bogus_kept_briefly);
	tcase_add_test(tc, test_refresh_hint);
	tcase_add_test(tc, test_too_big_for_client);
	tcase_add_test(tc, test_lru_byte_bound);
	tcase_add_test(tc, test_lru_touch_saves);
	tcase_add_test(tc, test_resize_in_place);
	tcase_add_test(tc, test_replace_same_key);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_drop_below);
	suite_add_tcase(s, tc);
	return s;
}
