/*
 * synth.c -- answers made here from validated NSEC3 records (synth.h).
 *
 * A zone (its apex, lower case) holds at most two NSEC3 chains, each a
 * set of records sorted by owner hash, the zone's signed SOA and the
 * wildcard RRsets learnt from expanded answers.  Zones sit in a hash
 * table keyed by their name; a question looks up each of its suffixes,
 * longest first, and takes the first zone found.
 */
#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "dnsmsg.h"
#include "log.h"
#include "wire.h"
#include "synth.h"

#define HASH_LEN	20		/* SHA-1, the only NSEC3 hash */
#define B32_LEN		32		/* HASH_LEN in base32hex */
#define ZONE_BUCKETS	1024
#define MAX_CHAINS	2
#define LEARN_MAX	64		/* records of one reply looked at */
#define LEARN_ARENA	16384		/* bytes of their RDATA */
#define MAX_LABELS	128

#define TYPE_DNAME	39
#define NSEC3_OPTOUT	0x01

/*
 * An RRset as it goes into a reply.  data holds the owner (wire, lower
 * case), then each record's RDATA and then each signature's RDATA, each
 * preceded by its length in two bytes.
 */
struct rrset {
	uint32_t expiry;	/* the caches' clock */
	uint16_t type;
	uint16_t nrr, nsig;
	size_t owner_len;
	size_t datalen;
	uint8_t data[];
};

struct n3rec {
	uint8_t hash[HASH_LEN];
	uint8_t next[HASH_LEN];
	uint8_t flags;
	const uint8_t *bitmap;	/* into rs */
	uint16_t bmlen;
	struct rrset *rs;
};

/* An NSEC record (RFC 4034 section 4): its owner is rs's, lower case. */
struct nsrec {
	uint8_t *next;		/* the next owner name, lower case */
	size_t nlen;
	const uint8_t *bitmap;	/* into rs */
	uint16_t bmlen;
	struct rrset *rs;
};

struct chain {
	bool used;
	uint16_t iterations;
	uint8_t saltlen;
	uint8_t salt[255];
	uint32_t learnt;	/* when a record last came in */
	struct n3rec *v;	/* sorted by hash */
	size_t n, cap;
};

struct zone {
	struct zone *next;	/* in its bucket */
	uint8_t name[DNS_MAX_NAME];
	size_t len;
	int labels;
	uint32_t last_used;
	struct chain chain[MAX_CHAINS];
	struct nsrec *nsec;	/* sorted by owner, canonical order */
	size_t nnsec, capnsec;
	struct rrset *soa;
	struct rrset **wild;
	size_t nwild, capwild;
};

struct synth {
	pthread_mutex_t lock;
	struct zone *bucket[ZONE_BUCKETS];
	size_t nzones, nrecords, bytes, max_bytes;
	struct synth_stats st;
};

static void
name_lower(uint8_t *dst, const uint8_t *src, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		dst[i] = src[i] >= 'A' && src[i] <= 'Z' ?
		    (uint8_t)(src[i] + ('a' - 'A')) : src[i];
}

static uint32_t
name_hash(const uint8_t *name, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ name[i]) * 16777619u;
	return h;
}

/* Offsets of the labels of a well-formed wire name; returns their number
 * (the root not counted), or -1. */
static int
label_offsets(const uint8_t *name, size_t len, size_t *off)
{
	size_t pos = 0;
	int n = 0;

	while (pos < len && name[pos] != 0) {
		if (n >= MAX_LABELS || name[pos] > 63)
			return -1;
		off[n++] = pos;
		pos += (size_t)name[pos] + 1;
	}
	return pos + 1 == len ? n : -1;
}

/* SHA-1 for the NSEC3 hashes, fetched once: OpenSSL 3's one-shot SHA1()
 * looks the algorithm up again on every call, which cost a cold,
 * synthesised answer more than the hashing itself.  Kept for the life of
 * the process, so it stays reachable. */
static const EVP_MD *sha1_md;
static pthread_once_t sha1_once = PTHREAD_ONCE_INIT;

static void
sha1_fetch(void)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
#endif
	if (sha1_md == NULL)
		sha1_md = EVP_sha1();
}

/* The hash of a lower-case wire name for chain c (RFC 5155 section 5).
 * False when the digest failed (no memory). */
static bool
nsec3_hash(const struct chain *c, const uint8_t *name, size_t len,
    uint8_t out[HASH_LEN])
{
	uint8_t buf[DNS_MAX_NAME + 255];
	unsigned i;

	memcpy(buf, name, len);
	memcpy(buf + len, c->salt, c->saltlen);
	if (EVP_Digest(buf, len + c->saltlen, out, NULL, sha1_md, NULL) != 1)
		return false;
	for (i = 0; i < c->iterations; i++) {
		memcpy(buf, out, HASH_LEN);
		memcpy(buf + HASH_LEN, c->salt, c->saltlen);
		if (EVP_Digest(buf, HASH_LEN + (size_t)c->saltlen, out, NULL,
		    sha1_md, NULL) != 1)
			return false;
	}
	return true;
}

static bool
b32_decode(const uint8_t *in, uint8_t out[HASH_LEN])
{
	unsigned i, bits = 0, n = 0;
	uint32_t acc = 0;

	for (i = 0; i < B32_LEN; i++) {
		uint8_t c = in[i];
		int v;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'v')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'V')
			v = c - 'A' + 10;
		else
			return false;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	return n == HASH_LEN;
}

/* A type bitmap (RFC 4034 section 4.1.2) checked: windows in rising
 * order, each 1 to 32 bytes, filling it exactly. */
static bool
bitmap_ok(const uint8_t *bm, size_t len)
{
	size_t pos = 0;
	int last = -1;

	while (pos < len) {
		if (len - pos < 2 || bm[pos] <= last || bm[pos + 1] == 0 ||
		    bm[pos + 1] > 32 || len - pos - 2 < bm[pos + 1])
			return false;
		last = bm[pos];
		pos += 2 + (size_t)bm[pos + 1];
	}
	return true;
}

static bool
bitmap_has(const uint8_t *bm, size_t len, uint16_t type)
{
	size_t pos = 0;
	unsigned win = type >> 8, bit = type & 0xff;

	while (pos + 2 <= len) {
		size_t wl = bm[pos + 1];

		if (bm[pos] == win)
			return bit / 8 < wl &&
			    (bm[pos + 2 + bit / 8] & (0x80 >> (bit % 8)));
		pos += 2 + wl;
	}
	return false;
}

static size_t
rrset_size(const struct rrset *rs)
{
	return sizeof(*rs) + rs->datalen;
}

/* The RDATA of record i of rs (signatures after the records). */
static const uint8_t *
rrset_rdata(const struct rrset *rs, unsigned i, uint16_t *len)
{
	const uint8_t *p = rs->data + rs->owner_len;

	while (i-- > 0)
		p += 2 + get16(p);
	*len = get16(p);
	return p + 2;
}

/* ---- the store ---- */

static void
chain_clear(struct synth *s, struct chain *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		s->bytes -= rrset_size(c->v[i].rs);
		free(c->v[i].rs);
	}
	s->nrecords -= c->n;
	s->bytes -= c->cap * sizeof(*c->v);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

static void
nsrec_free(struct synth *s, struct nsrec *r)
{
	s->bytes -= rrset_size(r->rs) + r->nlen;
	free(r->rs);
	free(r->next);
}

static void
zone_free(struct synth *s, struct zone *z)
{
	size_t i;

	for (i = 0; i < MAX_CHAINS; i++)
		chain_clear(s, &z->chain[i]);
	for (i = 0; i < z->nnsec; i++)
		nsrec_free(s, &z->nsec[i]);
	s->nrecords -= z->nnsec;
	s->bytes -= z->capnsec * sizeof(*z->nsec);
	free(z->nsec);
	if (z->soa != NULL) {
		s->bytes -= rrset_size(z->soa);
		free(z->soa);
	}
	for (i = 0; i < z->nwild; i++) {
		s->bytes -= rrset_size(z->wild[i]);
		free(z->wild[i]);
	}
	s->bytes -= z->capwild * sizeof(*z->wild) + sizeof(*z);
	free(z->wild);
	free(z);
	s->nzones--;
}

static struct zone *
zone_find(struct synth *s, const uint8_t *name, size_t len)
{
	struct zone *z;

	for (z = s->bucket[name_hash(name, len) % ZONE_BUCKETS]; z != NULL;
	    z = z->next)
		if (z->len == len && memcmp(z->name, name, len) == 0)
			return z;
	return NULL;
}

/* name: lower case, well formed. */
static struct zone *
zone_get(struct synth *s, const uint8_t *name, size_t len, uint32_t now)
{
	struct zone *z = zone_find(s, name, len);
	uint32_t b;

	if (z != NULL)
		return z;
	if ((z = calloc(1, sizeof(*z))) == NULL)
		return NULL;
	memcpy(z->name, name, len);
	z->len = len;
	z->labels = dnsmsg_name_labels(name, len);
	z->last_used = now;
	b = name_hash(name, len) % ZONE_BUCKETS;
	z->next = s->bucket[b];
	s->bucket[b] = z;
	s->nzones++;
	s->bytes += sizeof(*z);
	return z;
}

static void
zone_unlink(struct synth *s, struct zone *z)
{
	struct zone **pp = &s->bucket[name_hash(z->name, z->len) %
	    ZONE_BUCKETS];

	while (*pp != z)
		pp = &(*pp)->next;
	*pp = z->next;
	zone_free(s, z);
}

/* Drop z's records that expired by now. */
static void
zone_expire(struct synth *s, struct zone *z, uint32_t now)
{
	size_t i, j, k;

	for (k = 0; k < MAX_CHAINS; k++) {
		struct chain *c = &z->chain[k];

		for (i = j = 0; i < c->n; i++) {
			if ((int32_t)(c->v[i].rs->expiry - now) > 0) {
				c->v[j++] = c->v[i];
				continue;
			}
			s->bytes -= rrset_size(c->v[i].rs);
			free(c->v[i].rs);
			s->nrecords--;
		}
		c->n = j;
	}
	for (i = j = 0; i < z->nnsec; i++) {
		if ((int32_t)(z->nsec[i].rs->expiry - now) > 0) {
			z->nsec[j++] = z->nsec[i];
			continue;
		}
		nsrec_free(s, &z->nsec[i]);
		s->nrecords--;
	}
	z->nnsec = j;
	for (i = j = 0; i < z->nwild; i++) {
		if ((int32_t)(z->wild[i]->expiry - now) > 0) {
			z->wild[j++] = z->wild[i];
			continue;
		}
		s->bytes -= rrset_size(z->wild[i]);
		free(z->wild[i]);
	}
	z->nwild = j;
	if (z->soa != NULL && (int32_t)(z->soa->expiry - now) <= 0) {
		s->bytes -= rrset_size(z->soa);
		free(z->soa);
		z->soa = NULL;
	}
}

/* Halve z's NSEC3 and NSEC records (every other one goes): a zone alone
 * larger than the store keeps part of its proofs instead of losing them
 * all.  False when it has none left. */
static bool
zone_halve(struct synth *s, struct zone *z)
{
	size_t i, j, k, dropped = 0;

	for (k = 0; k < MAX_CHAINS; k++) {
		struct chain *c = &z->chain[k];

		for (i = j = 0; i < c->n; i++) {
			if (i % 2 == 0 && c->n > 1) {
				s->bytes -= rrset_size(c->v[i].rs);
				free(c->v[i].rs);
				s->nrecords--;
				dropped++;
				continue;
			}
			c->v[j++] = c->v[i];
		}
		c->n = j;
	}
	for (i = j = 0; i < z->nnsec; i++) {
		if (i % 2 == 0 && z->nnsec > 1) {
			nsrec_free(s, &z->nsec[i]);
			s->nrecords--;
			dropped++;
			continue;
		}
		z->nsec[j++] = z->nsec[i];
	}
	z->nnsec = j;
	return dropped > 0;
}

/* Make room: expired records first, then whole zones, least recently
 * used first, never keep (the zone being filled); the last zone left is
 * halved rather than dropped. */
static void
make_room(struct synth *s, uint32_t now, const struct zone *keep)
{
	struct zone *z, *lru;
	size_t b;

	if (s->bytes <= s->max_bytes)
		return;
	for (b = 0; b < ZONE_BUCKETS; b++)
		for (z = s->bucket[b]; z != NULL; z = z->next)
			zone_expire(s, z, now);
	while (s->bytes > s->max_bytes) {
		lru = NULL;
		for (b = 0; b < ZONE_BUCKETS; b++)
			for (z = s->bucket[b]; z != NULL; z = z->next)
				if (z != keep && (lru == NULL ||
				    (int32_t)(z->last_used -
				    lru->last_used) < 0))
					lru = z;
		if (lru == NULL)
			break;
		if (s->nzones == 1) {
			if (!zone_halve(s, lru))
				zone_unlink(s, lru);
			continue;
		}
		zone_unlink(s, lru);
	}
}

/* ---- learning ---- */

struct lrec {
	unsigned section;
	uint16_t type;
	uint32_t ttl;
	uint8_t owner[DNS_MAX_NAME];	/* lower case */
	size_t owner_len;
	const uint8_t *rdata;		/* in the arena */
	uint16_t rdlen;
};

struct learn {
	const struct dnsmsg_query *q;
	struct lrec rec[LEARN_MAX];
	unsigned n;
	uint8_t arena[LEARN_ARENA];
	size_t used;
};

static int
learn_collect(void *arg, const struct dnsmsg_record *r)
{
	struct learn *l = arg;
	struct lrec *lr;

	if (r->section > 1 || r->rclass != DNS_CLASS_IN)
		return 0;
	if (!(r->type == DNS_TYPE_NSEC3 || r->type == DNS_TYPE_NSEC ||
	    r->type == DNS_TYPE_SOA ||
	    r->type == DNS_TYPE_RRSIG || (r->section == 0 &&
	    r->type == l->q->qtype)))
		return 0;
	if (l->n == LEARN_MAX || LEARN_ARENA - l->used < r->rdlen)
		return 1;	/* enough: the rest is not looked at */
	lr = &l->rec[l->n++];
	lr->section = r->section;
	lr->type = r->type;
	lr->ttl = r->ttl;
	name_lower(lr->owner, r->owner, r->owner_len);
	lr->owner_len = r->owner_len;
	memcpy(l->arena + l->used, r->rdata, r->rdlen);
	lr->rdata = l->arena + l->used;
	lr->rdlen = r->rdlen;
	l->used += r->rdlen;
	return 0;
}

/* RRSIG RDATA: type covered, algorithm, labels, original TTL, expiration,
 * inception, key tag, signer, signature. */
#define SIG_FIXED	18

/* Whether sig (an RRSIG record) covers type at owner, is signed by zone
 * (lower case), has the label count labels (or any, when labels < 0), and
 * is within its validity at wall.  *left gets the seconds it has left. */
static bool
sig_fits(const struct lrec *sig, const uint8_t *owner, size_t owner_len,
    uint16_t type, const uint8_t *zone, size_t zlen, int labels,
    int64_t wall, uint32_t *left)
{
	uint8_t signer[DNS_MAX_NAME];
	uint32_t w = (uint32_t)wall;
	int32_t exp_left, inc_left;

	if (sig->type != DNS_TYPE_RRSIG || sig->rdlen < SIG_FIXED + 1 ||
	    sig->owner_len != owner_len ||
	    memcmp(sig->owner, owner, owner_len) != 0 ||
	    get16(sig->rdata) != type)
		return false;
	if (labels >= 0 && sig->rdata[3] != labels)
		return false;
	if ((size_t)sig->rdlen - SIG_FIXED < zlen)
		return false;
	name_lower(signer, sig->rdata + SIG_FIXED, zlen);
	if (memcmp(signer, zone, zlen) != 0)
		return false;
	/* RFC 4034 section 3.1.5: serial number arithmetic. */
	exp_left = (int32_t)(get32(sig->rdata + 8) - w);
	inc_left = (int32_t)(get32(sig->rdata + 12) - w);
	if (exp_left <= 0 || inc_left > 0)
		return false;
	*left = (uint32_t)exp_left;
	return true;
}

/* An RRset of the records rr[0..nrr-1] and the signatures of l that fit,
 * with owner as given; NULL when no signature fits or out of memory.
 * *ttl comes in as the records' smallest TTL and leaves capped by the
 * signatures' time left. */
static struct rrset *
rrset_make(const struct learn *l, const struct lrec *const *rr,
    unsigned nrr, const uint8_t *owner, size_t owner_len,
    const uint8_t *sig_owner, size_t sig_owner_len, const uint8_t *zone,
    size_t zlen, int labels, int64_t wall, uint32_t *ttl)
{
	const struct lrec *sig[LEARN_MAX];
	unsigned nsig = 0, i;
	size_t datalen = owner_len;
	struct rrset *rs;
	uint8_t *p;
	uint32_t left;

	for (i = 0; i < l->n; i++)
		if (l->rec[i].section == rr[0]->section &&
		    sig_fits(&l->rec[i], sig_owner, sig_owner_len,
		    rr[0]->type, zone, zlen, labels, wall, &left)) {
			sig[nsig++] = &l->rec[i];
			if (left < *ttl)
				*ttl = left;
		}
	if (nsig == 0 || *ttl == 0)
		return NULL;
	for (i = 0; i < nrr; i++)
		datalen += 2 + (size_t)rr[i]->rdlen;
	for (i = 0; i < nsig; i++)
		datalen += 2 + (size_t)sig[i]->rdlen;
	if ((rs = malloc(sizeof(*rs) + datalen)) == NULL)
		return NULL;
	rs->type = rr[0]->type;
	rs->nrr = (uint16_t)nrr;
	rs->nsig = (uint16_t)nsig;
	rs->owner_len = owner_len;
	rs->datalen = datalen;
	memcpy(rs->data, owner, owner_len);
	p = rs->data + owner_len;
	for (i = 0; i < nrr + nsig; i++) {
		const struct lrec *r = i < nrr ? rr[i] : sig[i - nrr];

		put16(p, r->rdlen);
		memcpy(p + 2, r->rdata, r->rdlen);
		p += 2 + r->rdlen;
	}
	return rs;
}

static int
hash_cmp(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, HASH_LEN);
}

static struct chain *
chain_for(struct synth *s, struct zone *z, uint16_t iterations,
    uint8_t saltlen, const uint8_t *salt)
{
	struct chain *c, *oldest = NULL;
	unsigned i;

	for (i = 0; i < MAX_CHAINS; i++) {
		c = &z->chain[i];
		if (c->used && c->iterations == iterations &&
		    c->saltlen == saltlen &&
		    memcmp(c->salt, salt, saltlen) == 0)
			return c;
	}
	for (i = 0; i < MAX_CHAINS; i++) {
		c = &z->chain[i];
		if (!c->used)
			break;
		if (oldest == NULL ||
		    (int32_t)(c->learnt - oldest->learnt) < 0)
			oldest = c;
	}
	if (i == MAX_CHAINS) {
		c = oldest;
		chain_clear(s, c);
	}
	c->used = true;
	c->iterations = iterations;
	c->saltlen = saltlen;
	memcpy(c->salt, salt, saltlen);
	return c;
}

/* Index of the first record of c whose hash is not below h. */
static size_t
chain_lower(const struct chain *c, const uint8_t *h)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (hash_cmp(c->v[mid].hash, h) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool
chain_insert(struct synth *s, struct chain *c, const struct n3rec *r)
{
	size_t i = chain_lower(c, r->hash);

	if (i < c->n && hash_cmp(c->v[i].hash, r->hash) == 0) {
		s->bytes -= rrset_size(c->v[i].rs);
		free(c->v[i].rs);
		c->v[i] = *r;
		s->bytes += rrset_size(r->rs);
		return true;
	}
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 16;
		struct n3rec *nv = realloc(c->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return false;
		s->bytes += (ncap - c->cap) * sizeof(*nv);
		c->v = nv;
		c->cap = ncap;
	}
	memmove(c->v + i + 1, c->v + i, (c->n - i) * sizeof(*c->v));
	c->v[i] = *r;
	c->n++;
	s->nrecords++;
	s->bytes += rrset_size(r->rs);
	return true;
}

/* One NSEC3 record of a validated reply, into its zone's chain. */
static void
learn_nsec3(struct synth *s, const struct learn *l, const struct lrec *r,
    uint32_t now, int64_t wall)
{
	const uint8_t *d = r->rdata, *zone;
	struct n3rec n3;
	struct zone *z;
	struct chain *c;
	size_t zlen, pos;
	uint32_t ttl = r->ttl;
	uint8_t saltlen;
	int labels;

	/* Owner: the base32hex hash, one label, above the zone. */
	if (r->owner_len < 1 + B32_LEN + 1 || r->owner[0] != B32_LEN ||
	    !b32_decode(r->owner + 1, n3.hash))
		return;
	zone = r->owner + 1 + B32_LEN;
	zlen = r->owner_len - 1 - B32_LEN;
	/* RDATA: algorithm 1 (SHA-1), flags (opt-out alone), iterations,
	 * salt, a 20-byte next hash, the type bitmap. */
	if (r->rdlen < 5 || d[0] != 1 || (d[1] & ~NSEC3_OPTOUT) != 0 ||
	    get16(d + 2) > SYNTH_MAX_ITERATIONS)
		return;
	saltlen = d[4];
	pos = 5 + (size_t)saltlen;
	if (r->rdlen < pos + 1 + HASH_LEN || d[pos] != HASH_LEN)
		return;
	memcpy(n3.next, d + pos + 1, HASH_LEN);
	pos += 1 + HASH_LEN;
	if (!bitmap_ok(d + pos, r->rdlen - pos))
		return;
	n3.flags = d[1];
	labels = dnsmsg_name_labels(r->owner, r->owner_len);
	n3.rs = rrset_make(l, &r, 1, r->owner, r->owner_len, r->owner,
	    r->owner_len, zone, zlen, labels, wall, &ttl);
	if (n3.rs == NULL)
		return;
	n3.rs->expiry = now + ttl;
	n3.bitmap = n3.rs->data + n3.rs->owner_len + 2 + pos;
	n3.bmlen = (uint16_t)(r->rdlen - pos);
	if ((z = zone_get(s, zone, zlen, now)) == NULL ||
	    (c = chain_for(s, z, get16(d + 2), saltlen, d + 5)) == NULL ||
	    !chain_insert(s, c, &n3)) {
		free(n3.rs);
		return;
	}
	c->learnt = now;
	s->st.learnt++;
}

/* RFC 4034 section 6.1: lower-case wire names compared label by label
 * from the root, each label as a string of bytes (a shorter one first
 * when it is a prefix), a name before the names below it. */
static int
canon_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t ao[MAX_LABELS], bo[MAX_LABELS];
	int na = label_offsets(a, alen, ao), nb = label_offsets(b, blen, bo);
	int i;

	for (i = 1; i <= na && i <= nb; i++) {
		const uint8_t *la = a + ao[na - i], *lb = b + bo[nb - i];
		size_t l = la[0] < lb[0] ? la[0] : lb[0];
		int c = memcmp(la + 1, lb + 1, l);

		if (c != 0)
			return c;
		if (la[0] != lb[0])
			return la[0] < lb[0] ? -1 : 1;
	}
	return na - nb;
}

/* Index of the first NSEC of z whose owner is not below name (canonical
 * order). */
static size_t
nsec_lower(const struct zone *z, const uint8_t *name, size_t len)
{
	size_t lo = 0, hi = z->nnsec;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct rrset *rs = z->nsec[mid].rs;

		if (canon_cmp(rs->data, rs->owner_len, name, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* One NSEC record of a validated reply, into the zone that signed it. */
static void
learn_nsec(struct synth *s, const struct learn *l, const struct lrec *r,
    uint32_t now, int64_t wall)
{
	uint8_t signer[DNS_MAX_NAME];
	struct nsrec ns;
	struct zone *z;
	size_t nlen, slen, i;
	uint32_t ttl = r->ttl;
	int labels;

	if (label_offsets(r->owner, r->owner_len, (size_t[MAX_LABELS]){ 0 })
	    < 0)
		return;
	/* RDATA: the next owner name, written out whole, then the bitmap. */
	for (nlen = 0; nlen < r->rdlen && r->rdata[nlen] != 0;
	    nlen += (size_t)r->rdata[nlen] + 1)
		;
	if (nlen >= r->rdlen || ++nlen > DNS_MAX_NAME ||
	    !bitmap_ok(r->rdata + nlen, r->rdlen - nlen))
		return;
	/* The signer, from a signature over it; the owner at or below. */
	for (i = 0; i < l->n; i++) {
		const struct lrec *g = &l->rec[i];

		if (g->type == DNS_TYPE_RRSIG && g->section == r->section &&
		    g->owner_len == r->owner_len && g->rdlen > SIG_FIXED &&
		    get16(g->rdata) == DNS_TYPE_NSEC &&
		    memcmp(g->owner, r->owner, r->owner_len) == 0)
			break;
	}
	if (i == l->n)
		return;
	for (slen = 0; SIG_FIXED + slen < l->rec[i].rdlen &&
	    l->rec[i].rdata[SIG_FIXED + slen] != 0;
	    slen += (size_t)l->rec[i].rdata[SIG_FIXED + slen] + 1)
		;
	if (SIG_FIXED + slen >= l->rec[i].rdlen || ++slen > DNS_MAX_NAME)
		return;
	name_lower(signer, l->rec[i].rdata + SIG_FIXED, slen);
	if (dnsmsg_name_below(r->owner, r->owner_len, signer, slen) < 0)
		return;
	/* A wildcard owner's signatures do not count its "*" label. */
	labels = dnsmsg_name_labels(r->owner, r->owner_len) -
	    (r->owner[0] == 1 && r->owner[1] == '*');
	ns.rs = rrset_make(l, &r, 1, r->owner, r->owner_len, r->owner,
	    r->owner_len, signer, slen, labels, wall, &ttl);
	if (ns.rs == NULL)
		return;
	ns.rs->expiry = now + ttl;
	ns.bitmap = ns.rs->data + ns.rs->owner_len + 2 + nlen;
	ns.bmlen = (uint16_t)(r->rdlen - nlen);
	ns.nlen = nlen;
	if ((ns.next = malloc(nlen)) == NULL ||
	    (z = zone_get(s, signer, slen, now)) == NULL) {
		free(ns.next);
		free(ns.rs);
		return;
	}
	name_lower(ns.next, r->rdata, nlen);
	i = nsec_lower(z, r->owner, r->owner_len);
	if (i < z->nnsec && z->nsec[i].rs->owner_len == r->owner_len &&
	    memcmp(z->nsec[i].rs->data, r->owner, r->owner_len) == 0) {
		nsrec_free(s, &z->nsec[i]);
		s->nrecords--;
	} else {
		if (z->nnsec == z->capnsec) {
			size_t ncap = z->capnsec ? z->capnsec * 2 : 16;
			struct nsrec *nv = realloc(z->nsec,
			    ncap * sizeof(*nv));

			if (nv == NULL) {
				free(ns.next);
				free(ns.rs);
				return;
			}
			s->bytes += (ncap - z->capnsec) * sizeof(*nv);
			z->nsec = nv;
			z->capnsec = ncap;
		}
		memmove(z->nsec + i + 1, z->nsec + i,
		    (z->nnsec - i) * sizeof(*z->nsec));
		z->nnsec++;
	}
	z->nsec[i] = ns;
	s->nrecords++;
	s->bytes += rrset_size(ns.rs) + nlen;
	s->st.learnt++;
}

/* The zone's SOA, signed by the zone itself. */
static void
learn_soa(struct synth *s, const struct learn *l, const struct lrec *r,
    uint32_t now, int64_t wall)
{
	struct zone *z = zone_find(s, r->owner, r->owner_len);
	struct rrset *rs;
	uint32_t ttl = r->ttl;

	if (z == NULL || r->section != 1 || r->rdlen < 22)
		return;
	rs = rrset_make(l, &r, 1, r->owner, r->owner_len, r->owner,
	    r->owner_len, z->name, z->len, z->labels, wall, &ttl);
	if (rs == NULL)
		return;
	rs->expiry = now + ttl;
	if (z->soa != NULL) {
		s->bytes -= rrset_size(z->soa);
		free(z->soa);
	}
	z->soa = rs;
	s->bytes += rrset_size(rs);
	s->st.learnt++;
}

/* An answer expanded from a wildcard: its RRSIGs have fewer labels than
 * the name (RFC 4035 section 5.3.2).  Kept as the wildcard's RRset. */
static void
learn_wildcard(struct synth *s, const struct learn *l, uint32_t now,
    int64_t wall)
{
	const struct dnsmsg_query *q = l->q;
	const struct lrec *rr[LEARN_MAX], *sig = NULL;
	uint8_t qname[DNS_MAX_NAME], wname[DNS_MAX_NAME];
	uint8_t signer[DNS_MAX_NAME];
	size_t off[MAX_LABELS], elen, zlen, i;
	unsigned nrr = 0;
	uint32_t ttl = UINT32_MAX;
	const uint8_t *encl;
	struct rrset *rs;
	struct zone *z;
	int nl, labels;

	name_lower(qname, q->qname, q->qname_len);
	if ((nl = label_offsets(qname, q->qname_len, off)) <= 0)
		return;
	for (i = 0; i < l->n; i++) {
		const struct lrec *r = &l->rec[i];

		if (r->section != 0)
			continue;
		/* Anything but the RRset and its signatures (a CNAME
		 * chain): not a plain wildcard answer. */
		if (r->owner_len != q->qname_len ||
		    memcmp(r->owner, qname, q->qname_len) != 0)
			return;
		if (r->type == q->qtype && q->qtype != DNS_TYPE_RRSIG) {
			rr[nrr++] = r;
			if (r->ttl < ttl)
				ttl = r->ttl;
		} else if (r->type == DNS_TYPE_RRSIG && r->rdlen > SIG_FIXED &&
		    get16(r->rdata) == q->qtype && sig == NULL)
			sig = r;
	}
	if (nrr == 0 || sig == NULL || (labels = sig->rdata[3]) >= nl)
		return;
	/* The encloser: the last labels labels of the name; the signer, the
	 * zone, is it or above it. */
	encl = qname + off[nl - labels];
	elen = q->qname_len - off[nl - labels];
	/* The signer's name, which the signature itself follows. */
	for (zlen = 0; SIG_FIXED + zlen < sig->rdlen &&
	    sig->rdata[SIG_FIXED + zlen] != 0;
	    zlen += (size_t)sig->rdata[SIG_FIXED + zlen] + 1)
		;
	if (SIG_FIXED + zlen >= sig->rdlen || ++zlen > DNS_MAX_NAME)
		return;
	name_lower(signer, sig->rdata + SIG_FIXED, zlen);
	if ((z = zone_find(s, signer, zlen)) == NULL ||
	    dnsmsg_name_below(encl, elen, z->name, z->len) < 0)
		return;
	wname[0] = 1;
	wname[1] = '*';
	if (elen + 2 > DNS_MAX_NAME)
		return;
	memcpy(wname + 2, encl, elen);
	rs = rrset_make(l, rr, nrr, wname, elen + 2, qname, q->qname_len,
	    z->name, z->len, labels, wall, &ttl);
	if (rs == NULL)
		return;
	rs->expiry = now + ttl;
	for (i = 0; i < z->nwild; i++)
		if (z->wild[i]->type == rs->type &&
		    z->wild[i]->owner_len == rs->owner_len &&
		    memcmp(z->wild[i]->data, rs->data, rs->owner_len) == 0)
			break;
	if (i == z->nwild) {
		if (z->nwild == z->capwild) {
			size_t ncap = z->capwild ? z->capwild * 2 : 4;
			struct rrset **nw = realloc(z->wild,
			    ncap * sizeof(*nw));

			if (nw == NULL) {
				free(rs);
				return;
			}
			s->bytes += (ncap - z->capwild) * sizeof(*nw);
			z->wild = nw;
			z->capwild = ncap;
		}
		z->nwild++;
	} else {
		s->bytes -= rrset_size(z->wild[i]);
		free(z->wild[i]);
	}
	z->wild[i] = rs;
	s->bytes += rrset_size(rs);
	s->st.learnt++;
}

void
synth_learn(struct synth *s, const struct dnsmsg_query *q,
    const uint8_t *pkt, size_t len, uint32_t now, int64_t wall)
{
	struct learn *l;
	unsigned i;
	int rcode;

	if (s == NULL || len < DNS_HEADER_LEN || q->qclass != DNS_CLASS_IN)
		return;
	rcode = dnsmsg_get_rcode(pkt);
	if (rcode != DNS_RCODE_NOERROR && rcode != DNS_RCODE_NXDOMAIN)
		return;
	if ((l = malloc(sizeof(*l))) == NULL)
		return;
	l->q = q;
	l->n = 0;
	l->used = 0;
	if (dnsmsg_records(pkt, len, learn_collect, l) < 0) {
		free(l);
		return;
	}
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < l->n; i++)
		if (l->rec[i].section == 1 &&
		    l->rec[i].type == DNS_TYPE_NSEC3)
			learn_nsec3(s, l, &l->rec[i], now, wall);
		else if (l->rec[i].section == 1 &&
		    l->rec[i].type == DNS_TYPE_NSEC)
			learn_nsec(s, l, &l->rec[i], now, wall);
	for (i = 0; i < l->n; i++)
		if (l->rec[i].section == 1 && l->rec[i].type == DNS_TYPE_SOA)
			learn_soa(s, l, &l->rec[i], now, wall);
	if (rcode == DNS_RCODE_NOERROR)
		learn_wildcard(s, l, now, wall);
	make_room(s, now, NULL);
	pthread_mutex_unlock(&s->lock);
	free(l);
}

/* ---- answering ---- */

static const struct n3rec *
fresh(const struct n3rec *r, uint32_t now)
{
	return r != NULL && (int32_t)(r->rs->expiry - now) > 0 ? r : NULL;
}

/* The record of c whose hash is h. */
static const struct n3rec *
find_match(const struct chain *c, const uint8_t *h, uint32_t now)
{
	size_t i = chain_lower(c, h);

	if (i < c->n && hash_cmp(c->v[i].hash, h) == 0)
		return fresh(&c->v[i], now);
	return NULL;
}

/* The record of c that covers h: its hash below h and its next hash
 * above, or, the last of the chain, wrapping round.  Only the record
 * just before h can be it. */
static const struct n3rec *
find_cover(const struct chain *c, const uint8_t *h, uint32_t now)
{
	size_t i = chain_lower(c, h);
	const struct n3rec *r;

	if (c->n == 0 || (i < c->n && hash_cmp(c->v[i].hash, h) == 0))
		return NULL;
	r = &c->v[i == 0 ? c->n - 1 : i - 1];
	if (hash_cmp(r->hash, r->next) < 0) {
		if (!(hash_cmp(r->hash, h) < 0 && hash_cmp(h, r->next) < 0))
			return NULL;
	} else if (!(hash_cmp(h, r->hash) > 0 || hash_cmp(h, r->next) < 0))
		return NULL;
	return fresh(r, now);
}

static bool
has(const struct n3rec *r, uint16_t type)
{
	return bitmap_has(r->bitmap, r->bmlen, type);
}

/* A zone cut or a redirection at the name of r: nothing below it, and
 * nothing but DS at it, comes from this zone's chain. */
static bool
is_cut(const struct n3rec *r)
{
	return (has(r, DNS_TYPE_NS) && !has(r, DNS_TYPE_SOA)) ||
	    has(r, TYPE_DNAME);
}

struct proof {
	enum synth_kind kind;
	const struct rrset *n3[3];	/* the NSEC3 or NSEC records */
	unsigned nn3;
	const struct rrset *wild;	/* SYNTH_WILDCARD */
};

static void
proof_add(struct proof *p, const struct rrset *r)
{
	unsigned i;

	for (i = 0; i < p->nn3; i++)
		if (p->n3[i] == r)
			return;
	p->n3[p->nn3++] = r;
}

static const struct rrset *
find_wild(const struct zone *z, const uint8_t *encl, size_t elen,
    uint16_t type, bool any_type, uint32_t now)
{
	size_t i;

	for (i = 0; i < z->nwild; i++) {
		const struct rrset *w = z->wild[i];

		if ((any_type || w->type == type) &&
		    w->owner_len == elen + 2 &&
		    memcmp(w->data + 2, encl, elen) == 0 &&
		    (int32_t)(w->expiry - now) > 0)
			return w;
	}
	return NULL;
}

/* The proof for qname (lower case, nl labels at offsets off, below or at
 * z) and qtype from chain c, if the records at hand make one. */
static bool
prove(const struct zone *z, const struct chain *c, const uint8_t *qname,
    size_t qlen, const size_t *off, int nl, uint16_t qtype, uint32_t now,
    struct proof *p)
{
	uint8_t h[HASH_LEN], wname[DNS_MAX_NAME];
	const struct n3rec *m, *cover, *wm;
	int i, k = nl - z->labels;

	memset(p, 0, sizeof(*p));
	if (!nsec3_hash(c, qname, qlen, h))
		return false;
	if ((m = find_match(c, h, now)) != NULL) {
		/* The name exists: NODATA when the type is not there
		 * (RFC 5155 section 7.2.3). */
		if (is_cut(m) || has(m, qtype) || has(m, DNS_TYPE_CNAME))
			return false;
		p->kind = SYNTH_NODATA;
		proof_add(p, m->rs);
		return true;
	}
	/* The closest encloser: the nearest ancestor known to exist, by
	 * its own NSEC3 or by a wildcard RRset learnt below it.  That it is
	 * the closest rests on the next closer name's cover, which no
	 * authentic chain gives for a name that exists. */
	for (i = 1; i <= k; i++) {
		size_t eo = i < nl ? off[i] : qlen - 1;
		const uint8_t *encl = qname + eo;
		size_t elen = qlen - eo;
		const uint8_t *nc = qname + off[i - 1];
		const struct rrset *wild;

		if (!nsec3_hash(c, encl, elen, h))
			return false;
		m = find_match(c, h, now);
		if (m == NULL && find_wild(z, encl, elen, 0, true, now) == NULL)
			continue;
		if (m != NULL && is_cut(m))
			return false;
		if (!nsec3_hash(c, nc, qlen - off[i - 1], h))
			return false;
		cover = find_cover(c, h, now);
		if (cover == NULL || (cover->flags & NSEC3_OPTOUT))
			return false;
		if ((wild = find_wild(z, encl, elen, qtype, false, now)) !=
		    NULL) {
			/* RFC 5155 section 7.2.6. */
			p->kind = SYNTH_WILDCARD;
			p->wild = wild;
			proof_add(p, cover->rs);
			return true;
		}
		if (m == NULL || elen + 2 > DNS_MAX_NAME)
			return false;
		wname[0] = 1;
		wname[1] = '*';
		memcpy(wname + 2, encl, elen);
		if (!nsec3_hash(c, wname, elen + 2, h))
			return false;
		if ((wm = find_match(c, h, now)) != NULL) {
			/* RFC 5155 section 7.2.5; with the type there, the
			 * wildcard's RRset would be needed. */
			if (is_cut(wm) || has(wm, qtype) ||
			    has(wm, DNS_TYPE_CNAME))
				return false;
			p->kind = SYNTH_WILDCARD_NODATA;
			proof_add(p, m->rs);
			proof_add(p, cover->rs);
			proof_add(p, wm->rs);
			return true;
		}
		if ((wm = find_cover(c, h, now)) == NULL ||
		    (wm->flags & NSEC3_OPTOUT))
			return false;
		/* RFC 5155 section 7.2.2. */
		p->kind = SYNTH_NXDOMAIN;
		proof_add(p, m->rs);
		proof_add(p, cover->rs);
		proof_add(p, wm->rs);
		return true;
	}
	return false;
}

static bool
ns_has(const struct nsrec *r, uint16_t type)
{
	return bitmap_has(r->bitmap, r->bmlen, type);
}

static bool
ns_is_cut(const struct nsrec *r)
{
	return (ns_has(r, DNS_TYPE_NS) && !ns_has(r, DNS_TYPE_SOA)) ||
	    ns_has(r, TYPE_DNAME);
}

/* The NSEC of z at or before name (canonical order), if fresh. */
static const struct nsrec *
nsec_floor(const struct zone *z, const uint8_t *name, size_t len,
    uint32_t now)
{
	size_t i = nsec_lower(z, name, len);
	const struct nsrec *r;

	if (i < z->nnsec && z->nsec[i].rs->owner_len == len &&
	    memcmp(z->nsec[i].rs->data, name, len) == 0)
		r = &z->nsec[i];
	else if (i > 0)
		r = &z->nsec[i - 1];
	else
		return NULL;
	return (int32_t)(r->rs->expiry - now) > 0 ? r : NULL;
}

static bool
ns_owns(const struct nsrec *r, const uint8_t *name, size_t len)
{
	return r->rs->owner_len == len &&
	    memcmp(r->rs->data, name, len) == 0;
}

/* Whether r, whose owner sorts before name, covers it: name before r's
 * next name, or r is the last of the zone (its next is the apex). */
static bool
ns_covers(const struct zone *z, const struct nsrec *r, const uint8_t *name,
    size_t len)
{
	return canon_cmp(name, len, r->next, r->nlen) < 0 ||
	    (r->nlen == z->len && memcmp(r->next, z->name, z->len) == 0);
}

/* Whether b is a (strict) descendant of a. */
static bool
below(const uint8_t *b, size_t blen, const uint8_t *a, size_t alen)
{
	return blen > alen && dnsmsg_name_below(b, blen, a, alen) >= 0;
}

/* The offset in qname of the closest encloser that r proves: the longest
 * of qname's ancestors that r's owner or next name is at or below. */
static size_t
ns_encloser(const uint8_t *qname, size_t qlen, const size_t *off, int nl,
    const struct nsrec *r)
{
	int i;

	for (i = 1; i <= nl; i++) {
		size_t o = i < nl ? off[i] : qlen - 1;

		if (dnsmsg_name_below(r->rs->data, r->rs->owner_len,
		    qname + o, qlen - o) >= 0 ||
		    dnsmsg_name_below(r->next, r->nlen, qname + o,
		    qlen - o) >= 0)
			return o;
	}
	return qlen - 1;
}

/* The proof for qname from z's NSEC records (RFC 4035 section 5.4, RFC
 * 8198), if the records at hand make one. */
static bool
prove_nsec(const struct zone *z, const uint8_t *qname, size_t qlen,
    const size_t *off, int nl, uint16_t qtype, uint32_t now,
    struct proof *p)
{
	uint8_t wname[DNS_MAX_NAME];
	const struct nsrec *r, *w;
	const struct rrset *wild;
	size_t ce, elen;

	memset(p, 0, sizeof(*p));
	if ((r = nsec_floor(z, qname, qlen, now)) == NULL)
		return false;
	if (ns_owns(r, qname, qlen)) {
		if (ns_is_cut(r) || ns_has(r, qtype) ||
		    ns_has(r, DNS_TYPE_CNAME))
			return false;
		p->kind = SYNTH_NODATA;
		proof_add(p, r->rs);
		return true;
	}
	if (!ns_covers(z, r, qname, qlen))
		return false;
	/* Below a delegation or a DNAME: another zone's, or redirected. */
	if (ns_is_cut(r) && below(qname, qlen, r->rs->data, r->rs->owner_len))
		return false;
	/* A name below qname exists: qname is an empty non-terminal. */
	if (below(r->next, r->nlen, qname, qlen)) {
		p->kind = SYNTH_NODATA;
		proof_add(p, r->rs);
		return true;
	}
	ce = ns_encloser(qname, qlen, off, nl, r);
	elen = qlen - ce;
	if (dnsmsg_name_below(qname + ce, elen, z->name, z->len) < 0 ||
	    elen + 2 > DNS_MAX_NAME)
		return false;
	if ((wild = find_wild(z, qname + ce, elen, qtype, false, now)) !=
	    NULL) {
		p->kind = SYNTH_WILDCARD;
		p->wild = wild;
		proof_add(p, r->rs);
		return true;
	}
	wname[0] = 1;
	wname[1] = '*';
	memcpy(wname + 2, qname + ce, elen);
	if ((w = nsec_floor(z, wname, elen + 2, now)) == NULL)
		return false;
	if (ns_owns(w, wname, elen + 2)) {
		if (ns_is_cut(w) || ns_has(w, qtype) ||
		    ns_has(w, DNS_TYPE_CNAME))
			return false;
		p->kind = SYNTH_WILDCARD_NODATA;
	} else if (ns_covers(z, w, wname, elen + 2) &&
	    !below(w->next, w->nlen, wname, elen + 2))
		p->kind = SYNTH_NXDOMAIN;
	else
		return false;
	proof_add(p, r->rs);
	proof_add(p, w->rs);
	return true;
}

struct wbuf {
	uint8_t *p;
	size_t cap, len;
	bool full;
};

static void
wput(struct wbuf *w, const void *d, size_t n)
{
	if (w->full || w->cap - w->len < n) {
		w->full = true;
		return;
	}
	memcpy(w->p + w->len, d, n);
	w->len += n;
}

static void
wrr(struct wbuf *w, const uint8_t *owner, size_t olen, uint16_t type,
    uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	uint8_t f[10];

	put16(f, type);
	put16(f + 2, DNS_CLASS_IN);
	put32(f + 4, ttl);
	put16(f + 8, rdlen);
	wput(w, owner, olen);
	wput(w, f, sizeof(f));
	wput(w, rdata, rdlen);
}

/* The records and signatures of rs, owned by owner (NULL: its own), with
 * ttl.  Returns how many. */
static unsigned
wrrset(struct wbuf *w, const struct rrset *rs, const uint8_t *owner,
    size_t olen, uint32_t ttl)
{
	unsigned i;

	if (owner == NULL) {
		owner = rs->data;
		olen = rs->owner_len;
	}
	for (i = 0; i < (unsigned)rs->nrr + rs->nsig; i++) {
		uint16_t len;
		const uint8_t *rd = rrset_rdata(rs, i, &len);

		wrr(w, owner, olen, i < rs->nrr ? rs->type : DNS_TYPE_RRSIG,
		    ttl, rd, len);
	}
	return (unsigned)rs->nrr + rs->nsig;
}

static uint32_t
left(const struct rrset *rs, uint32_t now, uint32_t ttl)
{
	uint32_t l = rs->expiry - now;

	return l < ttl ? l : ttl;
}

static int
build(const struct dnsmsg_query *q, const struct zone *z,
    const struct proof *p, uint32_t now, uint8_t *out, size_t outcap)
{
	struct wbuf w = { out, outcap, 0, false };
	uint8_t hdr[DNS_HEADER_LEN], f[4];
	uint32_t ttl = UINT32_MAX;
	unsigned an = 0, ns = 0, i;
	bool negative = p->kind != SYNTH_WILDCARD;

	for (i = 0; i < p->nn3; i++)
		ttl = left(p->n3[i], now, ttl);
	if (negative) {
		uint16_t len;
		const uint8_t *soa;

		if (z->soa == NULL || (int32_t)(z->soa->expiry - now) <= 0)
			return 0;
		ttl = left(z->soa, now, ttl);
		/* RFC 2308 section 5 and RFC 8198 section 5.4: the SOA's
		 * minimum bounds a negative answer. */
		soa = rrset_rdata(z->soa, 0, &len);
		if (get32(soa + len - 4) < ttl)
			ttl = get32(soa + len - 4);
	} else
		ttl = left(p->wild, now, ttl);
	if (ttl == 0)
		return 0;
	memset(hdr, 0, sizeof(hdr));
	hdr[2] = 0x80 | 0x01;			/* QR, RD */
	hdr[3] = (uint8_t)(0x80 | 0x20 |	/* RA, AD */
	    (p->kind == SYNTH_NXDOMAIN ? DNS_RCODE_NXDOMAIN : 0));
	put16(hdr + 4, 1);
	wput(&w, hdr, sizeof(hdr));
	wput(&w, q->qname, q->qname_len);
	put16(f, q->qtype);
	put16(f + 2, DNS_CLASS_IN);
	wput(&w, f, sizeof(f));
	if (p->kind == SYNTH_WILDCARD)
		an = wrrset(&w, p->wild, q->qname, q->qname_len, ttl);
	else
		ns += wrrset(&w, z->soa, NULL, 0, ttl);
	for (i = 0; i < p->nn3; i++)
		ns += wrrset(&w, p->n3[i], NULL, 0, ttl);
	if (w.full)
		return -1;
	put16(out + 6, (uint16_t)an);
	put16(out + 8, (uint16_t)ns);
	return (int)w.len;
}

/* The reply of proof p, counted, with z marked as used. */
static int
answer_from(struct synth *s, struct zone *z, const struct dnsmsg_query *q,
    const struct proof *p, uint32_t now, uint8_t *out, size_t outcap,
    enum synth_kind *kind)
{
	int n = build(q, z, p, now, out, outcap);

	if (n > 0) {
		z->last_used = now;
		s->st.answers[p->kind]++;
		if (kind != NULL)
			*kind = p->kind;
	}
	return n;
}

static bool
type_answerable(uint16_t t)
{
	return t != 0 && t != DNS_TYPE_DS && t != DNS_TYPE_RRSIG &&
	    t != DNS_TYPE_NSEC && t != DNS_TYPE_NSEC3 &&
	    t != DNS_TYPE_OPT && !(t >= 128 && t <= 255);
}

int
synth_answer(struct synth *s, const struct dnsmsg_query *q, uint32_t now,
    uint8_t *out, size_t outcap, enum synth_kind *kind)
{
	uint8_t qname[DNS_MAX_NAME];
	size_t off[MAX_LABELS];
	struct proof p;
	struct zone *z = NULL;
	int nl, i, n = 0;
	unsigned k, order[MAX_CHAINS];

	if (kind != NULL)
		*kind = SYNTH_NONE;
	if (s == NULL || q->qclass != DNS_CLASS_IN ||
	    !type_answerable(q->qtype))
		return 0;
	name_lower(qname, q->qname, q->qname_len);
	if ((nl = label_offsets(qname, q->qname_len, off)) < 0)
		return 0;
	pthread_mutex_lock(&s->lock);
	if (s->nzones == 0)
		goto out;
	for (i = 0; i <= nl && z == NULL; i++) {
		size_t o = i < nl ? off[i] : q->qname_len - 1;

		z = zone_find(s, qname + o, q->qname_len - o);
	}
	if (z == NULL)
		goto out;
	/* The chain learnt from last first: during a re-sign, the new one. */
	order[0] = 0;
	order[1] = 1;
	if (z->chain[1].used && (!z->chain[0].used ||
	    (int32_t)(z->chain[1].learnt - z->chain[0].learnt) > 0)) {
		order[0] = 1;
		order[1] = 0;
	}
	for (k = 0; k < MAX_CHAINS; k++) {
		const struct chain *c = &z->chain[order[k]];

		if (!c->used || c->n == 0 ||
		    !prove(z, c, qname, q->qname_len, off, nl, q->qtype, now,
		    &p))
			continue;
		n = answer_from(s, z, q, &p, now, out, outcap, kind);
		break;
	}
	if (n == 0 && z->nnsec > 0 &&
	    prove_nsec(z, qname, q->qname_len, off, nl, q->qtype, now, &p)) {
		n = answer_from(s, z, q, &p, now, out, outcap, kind);
	}
out:
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* ---- the rest ---- */

struct synth *
synth_create(size_t max_bytes)
{
	struct synth *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		ds_err("synth: out of memory");
		return NULL;
	}
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		ds_err("synth: cannot make a lock");
		free(s);
		return NULL;
	}
	s->max_bytes = max_bytes;
	(void)pthread_once(&sha1_once, sha1_fetch);
	if (sha1_md == NULL) {
		ds_err("synth: no SHA-1 in the crypto library");
		pthread_mutex_destroy(&s->lock);
		free(s);
		return NULL;
	}
	return s;
}

void
synth_set_limit(struct synth *s, size_t max_bytes, uint32_t now)
{
	pthread_mutex_lock(&s->lock);
	s->max_bytes = max_bytes;
	make_room(s, now, NULL);
	pthread_mutex_unlock(&s->lock);
}

size_t
synth_drop(struct synth *s, const uint8_t *name, size_t len)
{
	uint8_t lname[DNS_MAX_NAME];
	struct zone **pp, *z;
	size_t b, n = 0;

	if (s == NULL)
		return 0;
	if (name != NULL) {
		if (len > DNS_MAX_NAME)
			return 0;
		name_lower(lname, name, len);
	}
	pthread_mutex_lock(&s->lock);
	for (b = 0; b < ZONE_BUCKETS; b++) {
		pp = &s->bucket[b];
		while ((z = *pp) != NULL) {
			if (name == NULL ||
			    dnsmsg_name_below(z->name, z->len, lname, len) >= 0 ||
			    dnsmsg_name_below(lname, len, z->name, z->len) >= 0) {
				*pp = z->next;
				zone_free(s, z);
				n++;
			} else
				pp = &z->next;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

void
synth_delete(struct synth *s)
{
	if (s == NULL)
		return;
	(void)synth_drop(s, NULL, 0);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void
synth_get_stats(struct synth *s, struct synth_stats *st)
{
	pthread_mutex_lock(&s->lock);
	*st = s->st;
	st->zones = s->nzones;
	st->records = s->nrecords;
	st->bytes = s->bytes;
	st->max_bytes = s->max_bytes;
	pthread_mutex_unlock(&s->lock);
}
