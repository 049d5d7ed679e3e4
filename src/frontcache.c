/*
 * frontcache.c -- the wire-level answer cache in front of libunbound.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"
#include "frontcache.h"
#include "log.h"

/* A power of two; with 2-4 workers, collisions on a shard lock are rare. */
#define FC_SHARDS	16
#define FC_MAX_RRS	512
#define FC_KEY_MAX	(DNS_MAX_NAME + 5)
#define FC_MIN_BUCKETS	64

#define FLAG_RD		0x01	/* in byte 2 */
#define FLAG_TC		0x02
#define FLAG_AD		0x20	/* in byte 3 */

#define KEY_DO		0x01
#define KEY_CD		0x02
#define KEY_EDNS	0x04

struct fc_entry {
	struct fc_entry *hnext;		/* hash chain */
	struct fc_entry *prev, *next;	/* LRU list, most recent first */
	uint32_t hash;
	uint32_t stored;		/* when, in the caller's seconds */
	uint32_t ttl;			/* the smallest TTL at that time */
	uint16_t keylen, nttl;
	uint16_t opt_off;		/* 0: the reply has no OPT */
	uint16_t len;
	uint8_t verdict;		/* enum fc_verdict */
	bool refreshing;		/* handed out for a prefetch */
	size_t size;			/* counted against the bound */
	uint16_t ttl_off[];		/* then key bytes, then reply bytes */
};

struct fc_shard {
	pthread_mutex_t lock;
	struct fc_entry **buckets;
	size_t nbuckets, count, bytes, max_bytes;
	struct fc_entry *head, *tail;
	unsigned long long hits, misses, stale, stores, evictions;
};

struct frontcache {
	uint32_t stale_max;		/* read without lock: a word */
	struct fc_shard shard[FC_SHARDS];
};

static uint8_t *
entry_key(struct fc_entry *e)
{
	return (uint8_t *)&e->ttl_off[e->nttl];
}

static uint8_t *
entry_reply(struct fc_entry *e)
{
	return entry_key(e) + e->keylen;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The key of q: lower-cased name, type, class, and the bits that change
 * the reply's bytes.  Returns its length. */
static size_t
make_key(const struct dnsmsg_query *q, uint8_t *key, uint32_t *hash)
{
	uint32_t h = 2166136261u;	/* FNV-1a */
	size_t i, n = 0;

	for (i = 0; i < q->qname_len; i++) {
		uint8_t c = q->qname[i];

		key[n++] = c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
	}
	put16(key + n, q->qtype);
	put16(key + n + 2, q->qclass);
	key[n + 4] = (uint8_t)((q->do_bit ? KEY_DO : 0) | (q->cd ? KEY_CD : 0) |
	    (q->edns ? KEY_EDNS : 0));
	n += 5;
	for (i = 0; i < n; i++) {
		h ^= key[i];
		h *= 16777619u;
	}
	*hash = h;
	return n;
}

/* Skip the name at *pos (labels, ending in a zero or a pointer). */
static bool
skip_name(const uint8_t *m, size_t len, size_t *pos)
{
	size_t p = *pos;

	for (;;) {
		if (p >= len)
			return false;
		if ((m[p] & 0xc0) == 0xc0) {
			if (p + 2 > len)
				return false;
			*pos = p + 2;
			return true;
		}
		if (m[p] & 0xc0)
			return false;
		if (m[p] == 0) {
			*pos = p + 1;
			return true;
		}
		p += (size_t)m[p] + 1;
	}
}

/* Find the TTL of every record but the OPT (which must be last), and the
 * smallest of them. */
static bool
index_reply(const uint8_t *m, size_t len, uint16_t *offs, uint16_t *noffs,
    uint16_t *opt_off, uint32_t *minttl)
{
	size_t pos = DNS_HEADER_LEN, total, i;
	uint32_t min = UINT32_MAX;

	if (len < DNS_HEADER_LEN || len > DNS_MAX_MSG || get16(m + 4) != 1)
		return false;
	total = (size_t)get16(m + 6) + get16(m + 8) + get16(m + 10);
	if (!skip_name(m, len, &pos) || len - pos < 4)
		return false;
	pos += 4;
	*noffs = 0;
	*opt_off = 0;
	for (i = 0; i < total; i++) {
		size_t start = pos;
		uint32_t ttl;

		if (!skip_name(m, len, &pos) || len - pos < 10)
			return false;
		if (get16(m + pos) == DNS_TYPE_OPT) {
			if (i + 1 != total || pos != start + 1)
				return false;
			*opt_off = (uint16_t)start;
		} else {
			if (*noffs >= FC_MAX_RRS)
				return false;
			offs[(*noffs)++] = (uint16_t)(pos + 4);
			ttl = get32(m + pos + 4);
			/* RFC 2181 8: a TTL with the top bit set is 0. */
			if (ttl & 0x80000000u)
				ttl = 0;
			if (ttl < min)
				min = ttl;
		}
		pos += 10;
		if (len - pos < get16(m + pos - 2))
			return false;
		pos += get16(m + pos - 2);
	}
	if (pos != len)
		return false;
	*minttl = min;
	return true;
}

static void
lru_unlink(struct fc_shard *s, struct fc_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		s->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		s->tail = e->prev;
	e->prev = e->next = NULL;
}

static void
lru_push(struct fc_shard *s, struct fc_entry *e)
{
	e->prev = NULL;
	e->next = s->head;
	if (s->head)
		s->head->prev = e;
	else
		s->tail = e;
	s->head = e;
}

static struct fc_entry **
find_slot(struct fc_shard *s, const uint8_t *key, size_t keylen,
    uint32_t hash)
{
	struct fc_entry **pp = &s->buckets[(hash >> 4) & (s->nbuckets - 1)];

	for (; *pp != NULL; pp = &(*pp)->hnext) {
		struct fc_entry *e = *pp;

		if (e->hash == hash && e->keylen == keylen &&
		    memcmp(entry_key(e), key, keylen) == 0)
			break;
	}
	return pp;
}

/* Take e out of the shard and free it. */
static void
entry_remove(struct fc_shard *s, struct fc_entry *e)
{
	struct fc_entry **pp = find_slot(s, entry_key(e), e->keylen, e->hash);

	if (*pp == e)
		*pp = e->hnext;
	lru_unlink(s, e);
	s->count--;
	s->bytes -= e->size;
	free(e);
}

static void
shard_fit(struct fc_shard *s)
{
	while (s->bytes > s->max_bytes && s->tail != NULL) {
		entry_remove(s, s->tail);
		s->evictions++;
	}
}

/* Double the bucket table when the chains grow long.  Failing to grow
 * only makes chains longer. */
static void
shard_grow(struct fc_shard *s)
{
	struct fc_entry **nb, *e, *next;
	size_t n = s->nbuckets * 2, i;

	if (s->count <= s->nbuckets || (nb = calloc(n, sizeof(*nb))) == NULL)
		return;
	for (i = 0; i < s->nbuckets; i++) {
		for (e = s->buckets[i]; e != NULL; e = next) {
			next = e->hnext;
			e->hnext = nb[(e->hash >> 4) & (n - 1)];
			nb[(e->hash >> 4) & (n - 1)] = e;
		}
	}
	free(s->buckets);
	s->buckets = nb;
	s->nbuckets = n;
}

struct frontcache *
frontcache_create(size_t max_bytes, uint32_t stale_max)
{
	struct frontcache *fc;
	unsigned i;

	if ((fc = calloc(1, sizeof(*fc))) == NULL) {
		ds_err("front cache: out of memory");
		return NULL;
	}
	fc->stale_max = stale_max;
	for (i = 0; i < FC_SHARDS; i++) {
		struct fc_shard *s = &fc->shard[i];

		s->nbuckets = FC_MIN_BUCKETS;
		s->max_bytes = max_bytes / FC_SHARDS;
		if ((s->buckets = calloc(s->nbuckets,
		    sizeof(*s->buckets))) == NULL ||
		    pthread_mutex_init(&s->lock, NULL) != 0) {
			ds_err("front cache: cannot set up shard %u", i);
			free(s->buckets);
			s->buckets = NULL;
			while (i-- > 0) {
				pthread_mutex_destroy(&fc->shard[i].lock);
				free(fc->shard[i].buckets);
			}
			free(fc);
			return NULL;
		}
	}
	return fc;
}

void
frontcache_delete(struct frontcache *fc)
{
	unsigned i;

	if (fc == NULL)
		return;
	for (i = 0; i < FC_SHARDS; i++) {
		struct fc_shard *s = &fc->shard[i];
		struct fc_entry *e, *next;

		for (e = s->head; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
		free(s->buckets);
		pthread_mutex_destroy(&s->lock);
	}
	free(fc);
}

void
frontcache_set_limits(struct frontcache *fc, size_t max_bytes,
    uint32_t stale_max)
{
	unsigned i;

	__atomic_store_n(&fc->stale_max, stale_max, __ATOMIC_RELAXED);
	for (i = 0; i < FC_SHARDS; i++) {
		struct fc_shard *s = &fc->shard[i];

		pthread_mutex_lock(&s->lock);
		s->max_bytes = max_bytes / FC_SHARDS;
		shard_fit(s);
		pthread_mutex_unlock(&s->lock);
	}
}

/* Build an entry for reply and put it in its shard. */
static bool
store_entry(struct frontcache *fc, const struct dnsmsg_query *q,
    const uint8_t *reply, size_t len, const uint16_t *offs, uint16_t noffs,
    uint16_t opt_off, uint32_t ttl, enum fc_verdict v, uint32_t now)
{
	uint8_t key[FC_KEY_MAX];
	uint32_t hash;
	size_t keylen, size;
	struct fc_shard *s;
	struct fc_entry *e, **pp;

	keylen = make_key(q, key, &hash);
	/* The question bytes are patched on every hit: same length only. */
	if (len < DNS_HEADER_LEN + q->qname_len)
		return false;
	size = sizeof(*e) + noffs * sizeof(uint16_t) + keylen + len;
	s = &fc->shard[hash & (FC_SHARDS - 1)];
	if ((e = malloc(size)) == NULL)
		return false;
	e->hnext = e->prev = e->next = NULL;
	e->hash = hash;
	e->stored = now;
	e->ttl = ttl;
	e->keylen = (uint16_t)keylen;
	e->nttl = noffs;
	e->opt_off = opt_off;
	e->len = (uint16_t)len;
	e->verdict = (uint8_t)v;
	e->refreshing = false;
	e->size = size;
	memcpy(e->ttl_off, offs, noffs * sizeof(uint16_t));
	memcpy(entry_key(e), key, keylen);
	memcpy(entry_reply(e), reply, len);

	pthread_mutex_lock(&s->lock);
	pp = find_slot(s, key, keylen, hash);
	if (*pp != NULL)
		entry_remove(s, *pp);
	if (size > s->max_bytes) {
		pthread_mutex_unlock(&s->lock);
		free(e);
		return false;
	}
	pp = &s->buckets[(hash >> 4) & (s->nbuckets - 1)];
	e->hnext = *pp;
	*pp = e;
	lru_push(s, e);
	s->count++;
	s->bytes += size;
	s->stores++;
	shard_fit(s);
	shard_grow(s);
	pthread_mutex_unlock(&s->lock);
	return true;
}

bool
frontcache_store(struct frontcache *fc, const struct dnsmsg_query *q,
    const uint8_t *reply, size_t len, enum fc_verdict v, uint32_t now)
{
	uint16_t offs[FC_MAX_RRS], noffs, opt_off;
	uint32_t minttl;
	int rcode;

	if (len < DNS_HEADER_LEN || v == FC_BOGUS)
		return false;
	rcode = reply[3] & 0x0f;
	if ((rcode != DNS_RCODE_NOERROR && rcode != DNS_RCODE_NXDOMAIN) ||
	    (reply[2] & FLAG_TC) ||
	    !index_reply(reply, len, offs, &noffs, &opt_off, &minttl) ||
	    noffs == 0 || minttl == 0)
		return false;
	return store_entry(fc, q, reply, len, offs, noffs, opt_off, minttl, v,
	    now);
}

bool
frontcache_store_bogus(struct frontcache *fc, const struct dnsmsg_query *q,
    const uint8_t *reply, size_t len, uint32_t ttl, uint32_t now)
{
	uint16_t offs[FC_MAX_RRS], noffs, opt_off;
	uint32_t minttl;

	if (ttl == 0 || len < DNS_HEADER_LEN ||
	    (reply[3] & 0x0f) != DNS_RCODE_SERVFAIL ||
	    !index_reply(reply, len, offs, &noffs, &opt_off, &minttl) ||
	    noffs != 0)
		return false;
	return store_entry(fc, q, reply, len, offs, 0, opt_off, ttl,
	    FC_BOGUS, now);
}

/* Copy e for q into out: ID, RD, AD, question case, TTLs. */
static size_t
entry_copy(struct fc_entry *e, const struct dnsmsg_query *q, uint32_t age,
    bool stale, uint8_t *out)
{
	size_t len = e->len;
	uint16_t i;

	memcpy(out, entry_reply(e), len);
	put16(out, q->id);
	out[2] = (uint8_t)((out[2] & ~FLAG_RD) | (q->rd ? FLAG_RD : 0));
	out[3] = (uint8_t)((out[3] & ~FLAG_AD) | (e->verdict == FC_SECURE &&
	    (q->do_bit || q->ad) ? FLAG_AD : 0));
	memcpy(out + DNS_HEADER_LEN, q->qname, q->qname_len);
	for (i = 0; i < e->nttl; i++) {
		uint8_t *p = out + e->ttl_off[i];
		uint32_t ttl = get32(p);

		if (ttl & 0x80000000u)
			ttl = 0;
		put32(p, stale ? FC_STALE_TTL : ttl > age ? ttl - age : 0);
	}
	if (stale && e->opt_off != 0) {
		/* The OPT is last: grow its RDATA by one EDE option. */
		uint8_t *rdlen = out + e->opt_off + 9;

		put16(rdlen, (uint16_t)(get16(rdlen) + 6));
		put16(out + len, 15);	/* EDE, RFC 8914 */
		put16(out + len + 2, 2);
		put16(out + len + 4, 3);	/* Stale Answer */
		len += 6;
	}
	return len;
}

static enum fc_result
lookup(struct frontcache *fc, const struct dnsmsg_query *q, uint32_t now,
    bool want_stale, size_t max_len, uint8_t *out, size_t outcap,
    size_t *outlen, enum fc_verdict *v, bool *refresh)
{
	uint8_t key[FC_KEY_MAX];
	uint32_t hash, age, stale_max;
	size_t keylen, need;
	struct fc_shard *s;
	struct fc_entry *e;
	enum fc_result r = FC_MISS;

	keylen = make_key(q, key, &hash);
	stale_max = __atomic_load_n(&fc->stale_max, __ATOMIC_RELAXED);
	s = &fc->shard[hash & (FC_SHARDS - 1)];
	pthread_mutex_lock(&s->lock);
	e = *find_slot(s, key, keylen, hash);
	if (e == NULL)
		goto miss;
	age = now > e->stored ? now - e->stored : 0;
	if (age >= e->ttl) {
		if (age - e->ttl >= stale_max || e->verdict == FC_BOGUS) {
			entry_remove(s, e);
			goto miss;
		}
		if (!want_stale)
			goto miss;
		r = FC_STALE;
	} else
		r = FC_FRESH;
	need = e->len + (r == FC_STALE && e->opt_off != 0 ? 6 : 0);
	if (need > max_len || need > outcap)
		goto miss;
	*outlen = entry_copy(e, q, age, r == FC_STALE, out);
	if (v != NULL)
		*v = (enum fc_verdict)e->verdict;
	/* The last tenth of its life: unbound's prefetch window.  A TTL
	 * under 10 s has none. */
	if (refresh != NULL && r == FC_FRESH && !e->refreshing &&
	    e->verdict != FC_BOGUS && age >= e->ttl - e->ttl / 10) {
		e->refreshing = true;
		*refresh = true;
	}
	lru_unlink(s, e);
	lru_push(s, e);
	if (r == FC_STALE)
		s->stale++;
	else
		s->hits++;
	pthread_mutex_unlock(&s->lock);
	return r;
miss:
	s->misses++;
	pthread_mutex_unlock(&s->lock);
	return FC_MISS;
}

enum fc_result
frontcache_lookup(struct frontcache *fc, const struct dnsmsg_query *q,
    uint32_t now, bool want_stale, size_t max_len, uint8_t *out,
    size_t outcap, size_t *outlen, enum fc_verdict *v)
{
	return lookup(fc, q, now, want_stale, max_len, out, outcap, outlen, v,
	    NULL);
}

enum fc_result
frontcache_lookup_refresh(struct frontcache *fc, const struct dnsmsg_query *q,
    uint32_t now, size_t max_len, uint8_t *out, size_t outcap,
    size_t *outlen, enum fc_verdict *v, bool *refresh)
{
	*refresh = false;
	return lookup(fc, q, now, false, max_len, out, outcap, outlen, v,
	    refresh);
}

size_t
frontcache_drop_below(struct frontcache *fc, const uint8_t *zone,
    size_t zlen)
{
	return frontcache_drop(fc, FC_DROP_BELOW, zone, zlen, 0);
}

size_t
frontcache_drop(struct frontcache *fc, enum fc_drop how,
    const uint8_t *name, size_t len, uint16_t qtype)
{
	struct fc_entry *e, *next;
	size_t i, n = 0;
	bool hit;

	for (i = 0; i < FC_SHARDS; i++) {
		struct fc_shard *s = &fc->shard[i];

		pthread_mutex_lock(&s->lock);
		for (e = s->head; e != NULL; e = next) {
			/* The key is the name, then type, class, flags. */
			const uint8_t *k = entry_key(e);
			size_t nl = (size_t)e->keylen - 5;

			next = e->next;
			switch (how) {
			case FC_DROP_ALL:
				hit = true;
				break;
			case FC_DROP_BOGUS:
				hit = e->verdict == FC_BOGUS;
				break;
			case FC_DROP_BELOW:
				hit = dnsmsg_name_below(k, nl, name, len) >= 0;
				break;
			case FC_DROP_NAME:
			default:
				hit = nl == len &&
				    dnsmsg_name_equal(k, name, len) &&
				    (qtype == 0 || get16(k + nl) == qtype);
				break;
			}
			if (hit) {
				entry_remove(s, e);
				n++;
			}
		}
		pthread_mutex_unlock(&s->lock);
	}
	return n;
}

void
frontcache_get_stats(struct frontcache *fc, struct fc_stats *st)
{
	unsigned i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < FC_SHARDS; i++) {
		struct fc_shard *s = &fc->shard[i];

		pthread_mutex_lock(&s->lock);
		st->hits += s->hits;
		st->misses += s->misses;
		st->stale += s->stale;
		st->stores += s->stores;
		st->evictions += s->evictions;
		st->entries += s->count;
		st->bytes += s->bytes;
		st->max_bytes += s->max_bytes;
		pthread_mutex_unlock(&s->lock);
	}
}
