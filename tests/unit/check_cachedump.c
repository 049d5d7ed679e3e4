/*
 * check_cachedump.c -- the answer cache on disk (warm restart): a dump
 * read back gives the same replies; what is not written (bogus, stale);
 * answers that expired while dotsecd was stopped; TTLs aged by the time on
 * disk and never made longer; another fingerprint or format version;
 * truncation at every byte and every corrupted byte refused whole; every
 * entry checked like a store; answers already cached kept; the cache's
 * bound; the file's mode and atomic replacement; dumps and loads while
 * other threads use the cache; and the fingerprint of a configuration.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "dnsfix.h"
#include "dnsmsg.h"
#include "dsconfig.h"
#include "frontcache.h"
#include "suites.h"

#define WALL	1700000000	/* the wall clock at the dump */

static const uint8_t fp_a[FC_FINGERPRINT_LEN] = { 0xaa, 1, 2, 3 };
static const uint8_t fp_b[FC_FINGERPRINT_LEN] = { 0xbb, 1, 2, 3 };

/* A reply to q: rcode; n A records with ttls in the answer section, or
 * (n 0) a SOA of TTL ttls[0] in the authority section; an OPT when q had
 * EDNS. */
static void
make_reply(struct pkt *p, const struct dnsmsg_query *q, int rcode,
    const uint32_t *ttls, unsigned n, uint8_t tag)
{
	unsigned i;

	p->len = 0;
	p16(p, q->id);
	p->b[p->len++] = (uint8_t)(0x80 | (q->rd ? 1 : 0));
	p->b[p->len++] = (uint8_t)(0x80 | rcode);
	p16(p, 1);
	p16(p, n);
	p16(p, n == 0 ? 1 : 0);
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
	if (n == 0) {
		/* example. SOA . . 1 2 3 4 5, owner by pointer to the
		 * question's last label would need its offset: use root. */
		p->b[p->len++] = 0;
		p16(p, 6);	/* SOA */
		p16(p, DNS_CLASS_IN);
		p32(p, ttls[0]);
		p16(p, 2 + 20);
		p->b[p->len++] = 0;
		p->b[p->len++] = 0;
		for (i = 1; i <= 5; i++)
			p32(p, i);
	}
	if (q->edns) {
		p->b[p->len++] = 0;
		p16(p, DNS_TYPE_OPT);
		p16(p, 1232);
		p32(p, q->do_bit ? 0x8000 : 0);
		p16(p, 0);
	}
}

struct item {
	const char *name;
	uint16_t type;
	bool do_bit, cd, edns;
	int rcode;
	uint32_t ttl1, ttl2;	/* ttl2 0: one record */
	enum fc_verdict v;
};

/* A little of everything that a cache holds. */
static const struct item items[] = {
	{ "www.sec.example.", DNS_TYPE_A, true, false, true, 0, 300, 3600,
	    FC_SECURE },
	{ "www.sec.example.", DNS_TYPE_A, false, false, true, 0, 300, 0,
	    FC_SECURE },
	{ "www.insec.example.", DNS_TYPE_AAAA, false, false, false, 0, 120,
	    0, FC_INSECURE },
	{ "nx.sec.example.", DNS_TYPE_A, true, false, true, 3, 900, 0,
	    FC_SECURE },
	{ "cd.example.", DNS_TYPE_A, true, true, true, 0, 60, 0,
	    FC_INSECURE },
	{ "nodata.example.", DNS_TYPE_MX, false, false, true, 0, 1000, 0,
	    FC_INSECURE },
};
#define NITEMS	(sizeof(items) / sizeof(items[0]))

static void
item_query(const struct item *it, struct dnsmsg_query *q)
{
	make_query(q, it->name, it->type, it->do_bit, it->cd, it->edns);
}

static void
item_store(struct frontcache *fc, const struct item *it, uint32_t now)
{
	struct dnsmsg_query q;
	struct pkt p;
	uint32_t ttls[2] = { it->ttl1, it->ttl2 };
	bool nodata = it->rcode == 3 || it->type == DNS_TYPE_MX;

	item_query(it, &q);
	make_reply(&p, &q, it->rcode, ttls, nodata ? 0 : it->ttl2 ? 2 : 1, 7);
	ck_assert_msg(frontcache_store(fc, &q, p.b, p.len, it->v, now),
	    "store %s", it->name);
}

static struct frontcache *
filled_cache(uint32_t now)
{
	struct frontcache *fc = frontcache_create(1 << 20, 86400);
	size_t i;

	ck_assert_ptr_nonnull(fc);
	for (i = 0; i < NITEMS; i++)
		item_store(fc, &items[i], now);
	return fc;
}

static size_t
cache_entries(struct frontcache *fc)
{
	struct fc_stats st;

	frontcache_get_stats(fc, &st);
	return st.entries;
}

/* The dump of fc at now, WALL + dt, read into memory; its length. */
static uint8_t *
dump_bytes(struct frontcache *fc, const uint8_t *fp, uint32_t now,
    int64_t dt, size_t *len, size_t *entries)
{
	char dir[] = "/tmp/check_cachedump.XXXXXX", path[128], err[256];
	struct fc_persist_stats st;
	struct stat sb;
	uint8_t *buf;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cache.dump", dir);
	ck_assert_msg(frontcache_dump(fc, path, fp, now, WALL + dt, &st, err,
	    sizeof(err)) == 0, "dump: %s", err);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_ptr_nonnull(buf = malloc((size_t)sb.st_size + 1));
	ck_assert_ptr_nonnull(f = fopen(path, "rb"));
	ck_assert_uint_eq(fread(buf, 1, (size_t)sb.st_size, f),
	    (size_t)sb.st_size);
	fclose(f);
	unlink(path);
	rmdir(dir);
	*len = (size_t)sb.st_size;
	if (entries != NULL)
		*entries = st.entries;
	return buf;
}

static enum fc_result
get(struct frontcache *fc, const struct item *it, uint32_t now,
    uint8_t *out, size_t *len, enum fc_verdict *v)
{
	struct dnsmsg_query q;

	item_query(it, &q);
	return frontcache_lookup(fc, &q, now, false, DNS_MAX_MSG, out,
	    DNS_MAX_MSG, len, v);
}

static uint32_t
rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

/* The TTL of the first record of a reply to it. */
static uint32_t
first_ttl(const struct item *it, const uint8_t *m)
{
	uint8_t w[DNS_MAX_NAME];
	size_t qlen = wire_name(it->name, w);
	bool nodata = it->rcode == 3 || it->type == DNS_TYPE_MX;

	return rd32(m + DNS_HEADER_LEN + qlen + 4 + (nodata ? 1 : 2) + 4);
}

START_TEST(test_round_trip)
{
	struct frontcache *fc = filled_cache(1000), *fc2;
	struct fc_persist_stats st;
	struct dnsmsg_query q;
	struct pkt p;
	uint8_t *dump, a[DNS_MAX_MSG], b[DNS_MAX_MSG];
	uint32_t ttl = 100;
	size_t len, n, la, lb, i;
	enum fc_verdict va, vb;
	char err[256];

	/* Neither a bogus verdict nor a stale answer is written. */
	make_query(&q, "bogus.example.", DNS_TYPE_A, true, false, true);
	p.len = (size_t)dnsmsg_error(&q, DNS_RCODE_SERVFAIL, 6, NULL, 1232,
	    p.b, sizeof(p.b));
	ck_assert(frontcache_store_bogus(fc, &q, p.b, p.len, 600, 1000));
	make_query(&q, "stale.example.", DNS_TYPE_A, false, false, false);
	make_reply(&p, &q, 0, &ttl, 1, 1);
	ck_assert(frontcache_store(fc, &q, p.b, p.len, FC_SECURE, 800));
	ck_assert_uint_eq(cache_entries(fc), NITEMS + 2);

	/* Dumped 40 s after the stores, read by a new cache whose clock
	 * starts elsewhere, at the same wall-clock second. */
	dump = dump_bytes(fc, fp_a, 1040, 0, &len, &n);
	ck_assert_uint_eq(n, NITEMS);
	fc2 = frontcache_create(1 << 20, 86400);
	ck_assert_int_eq(frontcache_load_mem(fc2, dump, len, fp_a, 7, WALL,
	    &st, err, sizeof(err)), FC_LOAD_OK);
	ck_assert_uint_eq(st.entries, NITEMS);
	ck_assert_uint_eq(st.loaded, NITEMS);
	ck_assert_uint_eq(st.expired + st.present + st.skipped, 0);
	ck_assert_uint_eq(cache_entries(fc2), NITEMS);
	for (i = 0; i < NITEMS; i++) {
		ck_assert_int_eq(get(fc, &items[i], 1040, a, &la, &va),
		    FC_FRESH);
		ck_assert_int_eq(get(fc2, &items[i], 7, b, &lb, &vb),
		    FC_FRESH);
		ck_assert_uint_eq(la, lb);
		ck_assert_msg(memcmp(a, b, la) == 0, "%s: bytes differ",
		    items[i].name);
		ck_assert_int_eq(va, vb);
		ck_assert_uint_eq(first_ttl(&items[i], b),
		    items[i].ttl1 - 40);
		/* And they age on the new clock. */
		ck_assert_int_eq(get(fc2, &items[i], 17, b, &lb, &vb),
		    FC_FRESH);
		ck_assert_uint_eq(first_ttl(&items[i], b),
		    items[i].ttl1 - 50);
	}
	make_query(&q, "bogus.example.", DNS_TYPE_A, true, false, true);
	ck_assert_int_eq(frontcache_lookup(fc2, &q, 7, true, DNS_MAX_MSG, b,
	    sizeof(b), &lb, NULL), FC_MISS);
	make_query(&q, "stale.example.", DNS_TYPE_A, false, false, false);
	ck_assert_int_eq(frontcache_lookup(fc2, &q, 7, true, DNS_MAX_MSG, b,
	    sizeof(b), &lb, NULL), FC_MISS);

	/* A dump of the loaded cache is the same file again. */
	{
		uint8_t *again;
		size_t len2;

		again = dump_bytes(fc2, fp_a, 7, 0, &len2, NULL);
		ck_assert_uint_eq(len2, len);
		ck_assert(memcmp(again, dump, len) == 0);
		free(again);
	}
	free(dump);
	frontcache_delete(fc);
	frontcache_delete(fc2);
}
END_TEST

START_TEST(test_empty_cache)
{
	struct frontcache *fc = frontcache_create(1 << 20, 0);
	struct fc_persist_stats st;
	uint8_t *dump;
	size_t len, n;
	char err[256];

	dump = dump_bytes(fc, fp_a, 5, 0, &len, &n);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(len, 64 + 40);
	ck_assert_int_eq(frontcache_load_mem(fc, dump, len, fp_a, 5, WALL,
	    &st, err, sizeof(err)), FC_LOAD_OK);
	ck_assert_uint_eq(st.entries + st.loaded, 0);
	free(dump);
	frontcache_delete(fc);
}
END_TEST

START_TEST(test_expired_while_stopped)
{
	struct frontcache *fc = filled_cache(1000), *fc2;
	struct fc_persist_stats st;
	uint8_t *dump, b[DNS_MAX_MSG];
	size_t len, lb, i, live = 0;
	char err[256];

	/* Dumped 10 s after the stores; read 290 s later: of TTLs 300,
	 * 120, 900, 60 and 1000, those of 300 s and less are gone. */
	dump = dump_bytes(fc, fp_a, 1010, 0, &len, NULL);
	fc2 = frontcache_create(1 << 20, 86400);
	ck_assert_int_eq(frontcache_load_mem(fc2, dump, len, fp_a, 50,
	    WALL + 290, &st, err, sizeof(err)), FC_LOAD_OK);
	for (i = 0; i < NITEMS; i++) {
		enum fc_result r = get(fc2, &items[i], 50, b, &lb, NULL);

		if (items[i].ttl1 <= 300) {
			ck_assert_msg(r == FC_MISS, "%s loaded",
			    items[i].name);
			continue;
		}
		live++;
		ck_assert_int_eq(r, FC_FRESH);
		ck_assert_uint_eq(first_ttl(&items[i], b),
		    items[i].ttl1 - 300);
	}
	ck_assert_uint_eq(st.loaded, live);
	ck_assert_uint_eq(st.expired, NITEMS - live);
	/* Not kept for serve-stale either. */
	ck_assert_int_eq(get(fc2, &items[0], 50, b, &lb, NULL), FC_MISS);
	frontcache_delete(fc2);

	/* The wall clock set back an hour: the TTLs are those of the dump,
	 * not longer. */
	fc2 = frontcache_create(1 << 20, 86400);
	ck_assert_int_eq(frontcache_load_mem(fc2, dump, len, fp_a, 50,
	    WALL - 3600, &st, err, sizeof(err)), FC_LOAD_OK);
	ck_assert_uint_eq(st.loaded, NITEMS);
	for (i = 0; i < NITEMS; i++) {
		ck_assert_int_eq(get(fc2, &items[i], 50, b, &lb, NULL),
		    FC_FRESH);
		ck_assert_uint_eq(first_ttl(&items[i], b),
		    items[i].ttl1 - 10);
	}
	frontcache_delete(fc2);

	/* Exactly at the expiry of the 60 s one: gone. */
	fc2 = frontcache_create(1 << 20, 86400);
	ck_assert_int_eq(frontcache_load_mem(fc2, dump, len, fp_a, 50,
	    WALL + 50, &st, err, sizeof(err)), FC_LOAD_OK);
	ck_assert_uint_eq(st.expired, 1);
	ck_assert_uint_eq(st.loaded, NITEMS - 1);
	frontcache_delete(fc2);
	free(dump);
	frontcache_delete(fc);
}
END_TEST

START_TEST(test_other_fingerprint)
{
	struct frontcache *fc = filled_cache(1000), *fc2;
	struct fc_persist_stats st;
	uint8_t *dump;
	size_t len;
	char err[256] = "";

	dump = dump_bytes(fc, fp_a, 1000, 0, &len, NULL);
	fc2 = frontcache_create(1 << 20, 86400);
	ck_assert_int_eq(frontcache_load_mem(fc2, dump, len, fp_b, 1000,
	    WALL, &st, err, sizeof(err)), FC_LOAD_OTHER);
	ck_assert_msg(strstr(err, "fingerprint") != NULL, "err: %s", err);
	ck_assert_uint_eq(st.loaded, 0);
	ck_assert_uint_eq(cache_entries(fc2), 0);

	/* Another format version: refused as such. */
	dump[11] = 2;
	ck_assert_int_eq(frontcache_load_mem(fc2, dump, len, fp_a, 1000,
	    WALL, &st, err, sizeof(err)), FC_LOAD_OTHER);
	ck_assert_msg(strstr(err, "version 2") != NULL, "err: %s", err);
	ck_assert_uint_eq(cache_entries(fc2), 0);
	free(dump);
	frontcache_delete(fc);
	frontcache_delete(fc2);
}
END_TEST

START_TEST(test_truncated_every_byte)
{
	struct frontcache *fc = filled_cache(1000), *fc2;
	struct fc_persist_stats st;
	uint8_t *dump, *copy;
	size_t len, k;
	char err[256];

	dump = dump_bytes(fc, fp_a, 1000, 0, &len, NULL);
	fc2 = frontcache_create(1 << 20, 86400);
	for (k = 0; k < len; k++) {
		/* A copy of exactly k bytes, so that ASan sees any read
		 * past them. */
		copy = malloc(k ? k : 1);
		memcpy(copy, dump, k);
		err[0] = '\0';
		ck_assert_msg(frontcache_load_mem(fc2, copy, k, fp_a, 1000,
		    WALL, &st, err, sizeof(err)) == FC_LOAD_BAD,
		    "%zu of %zu bytes accepted", k, len);
		ck_assert_msg(err[0] != '\0', "%zu bytes: no reason", k);
		ck_assert_uint_eq(st.loaded, 0);
		free(copy);
	}
	ck_assert_uint_eq(cache_entries(fc2), 0);
	/* One byte too many. */
	copy = malloc(len + 1);
	memcpy(copy, dump, len);
	copy[len] = 0;
	ck_assert_int_eq(frontcache_load_mem(fc2, copy, len + 1, fp_a, 1000,
	    WALL, &st, err, sizeof(err)), FC_LOAD_BAD);
	ck_assert_uint_eq(cache_entries(fc2), 0);
	free(copy);
	free(dump);
	frontcache_delete(fc);
	frontcache_delete(fc2);
}
END_TEST

START_TEST(test_corrupted_every_byte)
{
	struct frontcache *fc = filled_cache(1000), *fc2;
	struct fc_persist_stats st;
	uint8_t *dump;
	size_t len, k;
	unsigned bit;
	enum fc_load_result r;
	char err[256];

	dump = dump_bytes(fc, fp_a, 1000, 0, &len, NULL);
	fc2 = frontcache_create(1 << 20, 86400);
	for (k = 0; k < len; k++) {
		for (bit = 0; bit < 8; bit++) {
			dump[k] ^= (uint8_t)(1u << bit);
			r = frontcache_load_mem(fc2, dump, len, fp_a, 1000,
			    WALL, &st, err, sizeof(err));
			/* Only the version field says OTHER. */
			ck_assert_msg(r == FC_LOAD_BAD || (r == FC_LOAD_OTHER &&
			    k >= 8 && k < 12), "byte %zu bit %u: %d", k, bit,
			    (int)r);
			dump[k] ^= (uint8_t)(1u << bit);
		}
	}
	/* Every byte replaced by random ones. */
	srandom(1234);
	for (k = 0; k < 2000; k++) {
		size_t at = (size_t)random() % len;
		uint8_t old = dump[at];

		dump[at] = (uint8_t)(old + 1 + random() % 255);
		ck_assert_int_ne(frontcache_load_mem(fc2, dump, len, fp_a,
		    1000, WALL, &st, err, sizeof(err)), FC_LOAD_OK);
		dump[at] = old;
	}
	ck_assert_uint_eq(cache_entries(fc2), 0);
	/* And the intact one still loads. */
	ck_assert_int_eq(frontcache_load_mem(fc2, dump, len, fp_a, 1000, WALL,
	    &st, err, sizeof(err)), FC_LOAD_OK);
	ck_assert_uint_eq(st.loaded, NITEMS);
	free(dump);
	frontcache_delete(fc);
	frontcache_delete(fc2);
}
END_TEST

/* A dump written here, with a valid checksum, for entries the cache
 * would never have written. */
struct forge {
	uint8_t b[8192];
	size_t len;
	uint32_t n;
};

static void
forge_start(struct forge *f)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->b, "DSFCDUMP", 8);
	f->b[11] = 1;
	f->b[19] = 0;
	{
		uint64_t w = WALL;
		int i;

		for (i = 0; i < 8; i++)
			f->b[16 + i] = (uint8_t)(w >> (56 - 8 * i));
	}
	memcpy(f->b + 24, fp_a, FC_FINGERPRINT_LEN);
	f->len = 64;
}

static void
forge_entry(struct forge *f, uint8_t verdict, const uint8_t *key,
    size_t keylen, const uint8_t *reply, size_t len, uint64_t expiry)
{
	uint8_t *h = f->b + f->len;
	int i;

	h[0] = verdict;
	h[1] = 0;
	h[2] = (uint8_t)(keylen >> 8);
	h[3] = (uint8_t)keylen;
	h[4] = (uint8_t)(len >> 8);
	h[5] = (uint8_t)len;
	for (i = 0; i < 8; i++)
		h[6 + i] = (uint8_t)(expiry >> (56 - 8 * i));
	memcpy(h + 14, key, keylen);
	memcpy(h + 14 + keylen, reply, len);
	f->len += 14 + keylen + len;
	f->n++;
}

static void
forge_end(struct forge *f)
{
	unsigned mdlen = 0;

	f->b[f->len] = (uint8_t)(f->n >> 24);
	f->b[f->len + 1] = (uint8_t)(f->n >> 16);
	f->b[f->len + 2] = (uint8_t)(f->n >> 8);
	f->b[f->len + 3] = (uint8_t)f->n;
	memset(f->b + f->len + 4, 0, 4);
	ck_assert(EVP_Digest(f->b, f->len, f->b + f->len + 8, &mdlen,
	    EVP_sha256(), NULL) == 1);
	f->len += 40;
}

/* The key of q as the cache makes it. */
static size_t
key_of(const struct dnsmsg_query *q, uint8_t *key)
{
	size_t i, n = q->qname_len;

	for (i = 0; i < n; i++)
		key[i] = q->qname[i] >= 'A' && q->qname[i] <= 'Z' ?
		    (uint8_t)(q->qname[i] + 32) : q->qname[i];
	key[n] = (uint8_t)(q->qtype >> 8);
	key[n + 1] = (uint8_t)q->qtype;
	key[n + 2] = (uint8_t)(q->qclass >> 8);
	key[n + 3] = (uint8_t)q->qclass;
	key[n + 4] = (uint8_t)((q->do_bit ? 1 : 0) | (q->cd ? 2 : 0) |
	    (q->edns ? 4 : 0));
	return n + 5;
}

START_TEST(test_checked_like_a_store)
{
	struct frontcache *fc = frontcache_create(1 << 20, 0);
	struct fc_persist_stats st;
	struct dnsmsg_query q, q2;
	struct forge f;
	struct pkt p;
	uint8_t key[300], out[DNS_MAX_MSG];
	uint32_t ttl = 300, zero = 0;
	size_t klen, olen;
	char err[256];

	make_query(&q, "www.example.", DNS_TYPE_A, false, false, true);
	klen = key_of(&q, key);
	forge_start(&f);
	/* Refused by the store's checks: SERVFAIL, TC, TTL 0, trailing
	 * garbage, the question of another name, of another type. */
	make_reply(&p, &q, 2, &ttl, 1, 1);
	forge_entry(&f, 1, key, klen, p.b, p.len, WALL + 300);
	make_reply(&p, &q, 0, &ttl, 1, 1);
	p.b[2] |= 0x02;
	forge_entry(&f, 1, key, klen, p.b, p.len, WALL + 300);
	make_reply(&p, &q, 0, &zero, 1, 1);
	forge_entry(&f, 1, key, klen, p.b, p.len, WALL + 300);
	make_reply(&p, &q, 0, &ttl, 1, 1);
	p.b[p.len++] = 0;
	forge_entry(&f, 1, key, klen, p.b, p.len, WALL + 300);
	make_query(&q2, "www.exampla.", DNS_TYPE_A, false, false, true);
	make_reply(&p, &q2, 0, &ttl, 1, 1);
	forge_entry(&f, 1, key, klen, p.b, p.len, WALL + 300);
	make_query(&q2, "www.example.", DNS_TYPE_AAAA, false, false, true);
	make_reply(&p, &q2, 0, &ttl, 1, 1);
	forge_entry(&f, 1, key, klen, p.b, p.len, WALL + 300);
	/* A good one, in upper case in its question: stored. */
	make_query(&q2, "WWW.Example.", DNS_TYPE_A, false, false, true);
	make_reply(&p, &q2, 0, &ttl, 1, 9);
	forge_entry(&f, 1, key, klen, p.b, p.len, WALL + 300);
	forge_end(&f);
	ck_assert_int_eq(frontcache_load_mem(fc, f.b, f.len, fp_a, 10, WALL,
	    &st, err, sizeof(err)), FC_LOAD_OK);
	ck_assert_uint_eq(st.entries, 7);
	ck_assert_uint_eq(st.skipped, 6);
	ck_assert_uint_eq(st.loaded, 1);
	ck_assert_int_eq(frontcache_lookup(fc, &q, 10, false, DNS_MAX_MSG,
	    out, sizeof(out), &olen, NULL), FC_FRESH);
	ck_assert_uint_eq(out[olen - 11 - 1], 9);	/* its A record */
	ck_assert(memcmp(out + DNS_HEADER_LEN, q.qname, q.qname_len) == 0);

	/* Keys dotsecd never makes: the whole file is refused. */
	{
		static const struct {
			const char *why;
			size_t at;
			uint8_t val;
		} bad[] = {
			{ "upper case", 1, 'W' },
			{ "label past the name", 0, 40 },
			{ "label of 64", 0, 64 },
			{ "unknown query bit", 17, 0x0c },
			{ "DO without EDNS", 17, 0x01 },
			{ "verdict bogus", 1000, FC_BOGUS },
		};
		size_t i;
		uint8_t k2[300];

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			memcpy(k2, key, klen);
			if (bad[i].at < klen)
				k2[bad[i].at] = bad[i].val;
			forge_start(&f);
			make_reply(&p, &q, 0, &ttl, 1, 1);
			forge_entry(&f, bad[i].at < klen ? 1 : bad[i].val, k2,
			    klen, p.b, p.len, WALL + 300);
			forge_end(&f);
			ck_assert_msg(frontcache_load_mem(fc, f.b, f.len, fp_a,
			    10, WALL, &st, err, sizeof(err)) == FC_LOAD_BAD,
			    "%s accepted", bad[i].why);
		}
	}
	frontcache_delete(fc);
}
END_TEST

START_TEST(test_cached_answer_kept)
{
	struct frontcache *fc = filled_cache(1000), *fc2;
	struct fc_persist_stats st;
	struct dnsmsg_query q;
	struct pkt p;
	uint8_t *dump, out[DNS_MAX_MSG];
	uint32_t ttl = 50;
	size_t len, olen;
	char err[256];

	dump = dump_bytes(fc, fp_a, 1000, 0, &len, NULL);
	/* The running cache got a newer answer for the first item. */
	fc2 = frontcache_create(1 << 20, 86400);
	item_query(&items[0], &q);
	make_reply(&p, &q, 0, &ttl, 1, 99);
	ck_assert(frontcache_store(fc2, &q, p.b, p.len, FC_SECURE, 5));
	ck_assert_int_eq(frontcache_load_mem(fc2, dump, len, fp_a, 5, WALL,
	    &st, err, sizeof(err)), FC_LOAD_OK);
	ck_assert_uint_eq(st.present, 1);
	ck_assert_uint_eq(st.loaded, NITEMS - 1);
	ck_assert_int_eq(frontcache_lookup(fc2, &q, 5, false, DNS_MAX_MSG,
	    out, sizeof(out), &olen, NULL), FC_FRESH);
	ck_assert_uint_eq(olen, p.len);
	ck_assert_uint_eq(out[olen - 11 - 1], 99);
	free(dump);
	frontcache_delete(fc);
	frontcache_delete(fc2);
}
END_TEST

START_TEST(test_bounded_by_the_cache)
{
	struct frontcache *big = frontcache_create(4 << 20, 0), *small;
	struct fc_persist_stats st;
	struct fc_stats cs;
	struct dnsmsg_query q;
	struct pkt p;
	uint8_t *dump, out[DNS_MAX_MSG];
	uint32_t ttl = 3600;
	size_t len, olen;
	char name[64], err[256];
	unsigned i, kept_recent = 0, kept_old = 0;

	for (i = 0; i < 4000; i++) {
		snprintf(name, sizeof(name), "n%u.example.", i);
		make_query(&q, name, DNS_TYPE_A, false, false, true);
		make_reply(&p, &q, 0, &ttl, 1, 1);
		ck_assert(frontcache_store(big, &q, p.b, p.len, FC_INSECURE,
		    10));
	}
	dump = dump_bytes(big, fp_a, 10, 0, &len, NULL);
	small = frontcache_create(64 << 10, 0);
	ck_assert_int_eq(frontcache_load_mem(small, dump, len, fp_a, 10, WALL,
	    &st, err, sizeof(err)), FC_LOAD_OK);
	ck_assert_uint_eq(st.entries, 4000);
	frontcache_get_stats(small, &cs);
	ck_assert_uint_le(cs.bytes, cs.max_bytes);
	ck_assert_uint_lt(cs.entries, 4000);
	/* What was used last survives; the oldest went first. */
	for (i = 0; i < 4000; i++) {
		snprintf(name, sizeof(name), "n%u.example.", i);
		make_query(&q, name, DNS_TYPE_A, false, false, true);
		if (frontcache_lookup(small, &q, 10, false, DNS_MAX_MSG, out,
		    sizeof(out), &olen, NULL) != FC_FRESH)
			continue;
		if (i >= 3900)
			kept_recent++;
		if (i < 100)
			kept_old++;
	}
	ck_assert_uint_gt(kept_recent, 90);
	ck_assert_uint_eq(kept_old, 0);
	free(dump);
	frontcache_delete(big);
	frontcache_delete(small);
}
END_TEST

START_TEST(test_file)
{
	struct frontcache *fc = filled_cache(1000), *fc2;
	struct fc_persist_stats st;
	char dir[] = "/tmp/check_cachedump.XXXXXX", path[128], err[256];
	struct stat sb;
	struct dirent *de;
	DIR *d;
	FILE *f;
	unsigned nfiles = 0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cache.dump", dir);
	fc2 = frontcache_create(1 << 20, 86400);
	ck_assert_int_eq(frontcache_load(fc2, path, fp_a, 1000, WALL, &st,
	    err, sizeof(err)), FC_LOAD_NONE);

	/* Replaces what was there; mode 0600 whatever the umask; no
	 * temporary file left. */
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("old\n", f);
	fclose(f);
	chmod(path, 0644);
	umask(022);
	ck_assert_msg(frontcache_dump(fc, path, fp_a, 1000, WALL, &st, err,
	    sizeof(err)) == 0, "dump: %s", err);
	ck_assert_uint_eq(st.entries, NITEMS);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 07777, 0600);
	ck_assert_ptr_nonnull(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			nfiles++;
	closedir(d);
	ck_assert_uint_eq(nfiles, 1);
	ck_assert_int_eq(frontcache_load(fc2, path, fp_a, 1000, WALL, &st,
	    err, sizeof(err)), FC_LOAD_OK);
	ck_assert_uint_eq(st.loaded, NITEMS);

	/* Truncated on disk. */
	ck_assert_int_eq(truncate(path, sb.st_size - 1), 0);
	ck_assert_int_eq(frontcache_load(fc2, path, fp_a, 1000, WALL, &st,
	    err, sizeof(err)), FC_LOAD_BAD);
	ck_assert_int_eq(truncate(path, 30), 0);
	ck_assert_int_eq(frontcache_load(fc2, path, fp_a, 1000, WALL, &st,
	    err, sizeof(err)), FC_LOAD_BAD);
	/* Not a file. */
	ck_assert_int_eq(frontcache_load(fc2, dir, fp_a, 1000, WALL, &st,
	    err, sizeof(err)), FC_LOAD_BAD);
	unlink(path);

	/* A directory that is not there: nothing written, a reason. */
	snprintf(path, sizeof(path), "%s/no/cache.dump", dir);
	err[0] = '\0';
	ck_assert_int_eq(frontcache_dump(fc, path, fp_a, 1000, WALL, &st,
	    err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "cache.dump") != NULL, "err: %s", err);
	ck_assert_int_eq(rmdir(dir), 0);
	frontcache_delete(fc);
	frontcache_delete(fc2);
}
END_TEST

/* Workers storing and looking up while the main thread dumps and
 * loads. */
struct worker_arg {
	struct frontcache *fc;
	unsigned id;
	volatile bool *stop;
};

static void *
busy(void *arg)
{
	struct worker_arg *a = arg;
	struct dnsmsg_query q;
	struct pkt p;
	uint8_t out[DNS_MAX_MSG];
	uint32_t ttl = 600;
	size_t olen;
	char name[64];
	unsigned i = 0;

	while (!*a->stop) {
		snprintf(name, sizeof(name), "w%u-%u.example.", a->id,
		    i++ % 500);
		make_query(&q, name, DNS_TYPE_A, false, false, true);
		make_reply(&p, &q, 0, &ttl, 1, 1);
		(void)frontcache_store(a->fc, &q, p.b, p.len, FC_SECURE, 100);
		(void)frontcache_lookup(a->fc, &q, 100, false, DNS_MAX_MSG,
		    out, sizeof(out), &olen, NULL);
	}
	return NULL;
}

START_TEST(test_while_in_use)
{
	struct frontcache *fc = frontcache_create(256 << 10, 0);
	struct fc_persist_stats st;
	struct worker_arg args[3];
	pthread_t th[3];
	volatile bool stop = false;
	char dir[] = "/tmp/check_cachedump.XXXXXX", path[128], err[256];
	unsigned i;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cache.dump", dir);
	for (i = 0; i < 3; i++) {
		args[i].fc = fc;
		args[i].id = i;
		args[i].stop = &stop;
		ck_assert_int_eq(pthread_create(&th[i], NULL, busy, &args[i]),
		    0);
	}
	for (i = 0; i < 50; i++) {
		ck_assert_msg(frontcache_dump(fc, path, fp_a, 100, WALL, &st,
		    err, sizeof(err)) == 0, "dump: %s", err);
		ck_assert_int_eq(frontcache_load(fc, path, fp_a, 100, WALL,
		    &st, err, sizeof(err)), FC_LOAD_OK);
		ck_assert_uint_eq(st.loaded + st.present + st.skipped,
		    st.entries);
	}
	stop = true;
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	unlink(path);
	rmdir(dir);
	frontcache_delete(fc);
}
END_TEST

/* ---- the fingerprint of a configuration */

static void
conf_err(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "check_cachedump: config: %s\n", line);
}

static void
fingerprint(const char *extra, char *const *anchors, uint8_t *out)
{
	char text[2048];
	struct ds_config *cfg;

	snprintf(text, sizeof(text),
	    "upstream_recursive_servers:\n"
	    "  - address_data: 192.0.2.1\n"
	    "    tls_auth_name: dns.example\n"
	    "%s", extra);
	cfg = config_parse(text, strlen(text), "fp.yml", conf_err, NULL);
	ck_assert_msg(cfg != NULL, "config_parse failed:\n%s", text);
	ck_assert_int_eq(config_answer_fingerprint(cfg, anchors, out), 0);
	config_free(cfg);
}

START_TEST(test_fingerprint)
{
	static char a1[] = ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D";
	static char a2[] = ". IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16";
	char *set12[] = { a1, a2, NULL }, *set21[] = { a2, a1, NULL };
	char *set1[] = { a1, NULL };
	static const char fwd[] =
	    "forward_zones:\n"
	    "  - name: corp.example\n"
	    "    transport: plain\n"
	    "    upstream_recursive_servers:\n"
	    "      - address_data: 10.0.0.1\n"
	    "  - name: lab.example\n"
	    "    transport: plain\n"
	    "    upstream_recursive_servers:\n"
	    "      - address_data: 10.0.0.2\n";
	static const char fwd_swapped[] =
	    "forward_zones:\n"
	    "  - name: lab.example\n"
	    "    transport: plain\n"
	    "    upstream_recursive_servers:\n"
	    "      - address_data: 10.0.0.2\n"
	    "  - name: corp.example\n"
	    "    transport: plain\n"
	    "    upstream_recursive_servers:\n"
	    "      - address_data: 10.0.0.1\n";
	/* Each changes answers: each gives another fingerprint. */
	static const char *const changes[] = {
	    "cache_min_ttl: 60\n",
	    "cache_max_ttl: 3600\n",
	    "edns_udp_size: 4096\n",
	    "domain_insecure:\n  - broken.example\n",
	    "local_zones_disable:\n  - home.arpa\n",
	    "forward_zones:\n  - name: corp.example\n    transport: plain\n"
	    "    upstream_recursive_servers:\n"
	    "      - address_data: 10.0.0.1\n",
	    "forward_zones:\n  - name: corp.example\n    transport: plain\n"
	    "    dnssec: insecure\n"
	    "    upstream_recursive_servers:\n"
	    "      - address_data: 10.0.0.1\n",
	    "forward_zones:\n  - name: corp.example\n    transport: plain\n"
	    "    upstream_recursive_servers:\n"
	    "      - address_data: 10.0.0.9\n",
	};
	/* These do not. */
	static const char *const same[] = {
	    "log_level: debug\n",
	    "workers: 3\n",
	    "serve_stale: 1\n",
	    "cache_persist: 1\n",
	    "cache_size: 67108864\n",
	    "bogus_ttl: 5\n",
	    "prefetch: 0\n",
	};
	uint8_t base[32], fp[32], fp2[32];
	size_t i, j;
	uint8_t all[sizeof(changes) / sizeof(changes[0]) + 2][32];

	fingerprint("", set12, base);
	fingerprint("", set21, fp);
	ck_assert_msg(memcmp(base, fp, 32) == 0, "anchor order counts");
	fingerprint("", set1, fp);
	ck_assert_msg(memcmp(base, fp, 32) != 0, "anchors do not count");
	memcpy(all[0], fp, 32);
	for (i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		fingerprint(changes[i], set12, fp);
		ck_assert_msg(memcmp(base, fp, 32) != 0, "%s does not count",
		    changes[i]);
		memcpy(all[i + 1], fp, 32);
	}
	for (i = 0; i < sizeof(changes) / sizeof(changes[0]) + 1; i++)
		for (j = 0; j < i; j++)
			ck_assert_msg(memcmp(all[i], all[j], 32) != 0,
			    "changes %zu and %zu give one fingerprint", i, j);
	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		fingerprint(same[i], set12, fp);
		ck_assert_msg(memcmp(base, fp, 32) == 0, "%s counts",
		    same[i]);
	}
	fingerprint(fwd, set12, fp);
	fingerprint(fwd_swapped, set12, fp2);
	ck_assert_msg(memcmp(fp, fp2, 32) == 0, "forward zone order counts");
	/* Another upstream answers: another fingerprint. */
	{
		struct ds_config *cfg = config_default();

		ck_assert_ptr_nonnull(cfg);
		ck_assert_int_eq(config_answer_fingerprint(cfg, set12, fp),
		    0);
		ck_assert_msg(memcmp(base, fp, 32) != 0,
		    "upstreams do not count");
		config_free(cfg);
	}
}
END_TEST

Suite *
cachedump_suite(void)
{
	Suite *s = suite_create("cachedump");
	TCase *tc = tcase_create("cachedump");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_empty_cache);
	tcase_add_test(tc, test_expired_while_stopped);
	tcase_add_test(tc, test_other_fingerprint);
	tcase_add_test(tc, test_truncated_every_byte);
	tcase_add_test(tc, test_corrupted_every_byte);
	tcase_add_test(tc, test_checked_like_a_store);
	tcase_add_test(tc, test_cached_answer_kept);
	tcase_add_test(tc, test_bounded_by_the_cache);
	tcase_add_test(tc, test_file);
	tcase_add_test(tc, test_while_in_use);
	tcase_add_test(tc, test_fingerprint);
	suite_add_tcase(s, tc);
	return s;
}
