/*
 * frontcache.c -- the wire-level answer cache in front of libunbound.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "dnsmsg.h"
#include "frontcache.h"
#include "log.h"
#include "wire.h"

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

/* Build an entry for reply and put it in its shard, in place of the
 * entry of the same key, or (replace false) not when there is one. */
static bool
store_entry(struct frontcache *fc, const struct dnsmsg_query *q,
    const uint8_t *reply, size_t len, const uint16_t *offs, uint16_t noffs,
    uint16_t opt_off, uint32_t ttl, enum fc_verdict v, uint32_t now,
    bool replace, bool *present)
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
	if (*pp != NULL && !replace) {
		pthread_mutex_unlock(&s->lock);
		free(e);
		*present = true;
		return false;
	}
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

/* Whether reply may be stored as an answer (frontcache_store), and its
 * index. */
static bool
answer_ok(const uint8_t *reply, size_t len, uint16_t *offs, uint16_t *noffs,
    uint16_t *opt_off, uint32_t *minttl)
{
	int rcode;

	if (len < DNS_HEADER_LEN)
		return false;
	rcode = reply[3] & 0x0f;
	return (rcode == DNS_RCODE_NOERROR || rcode == DNS_RCODE_NXDOMAIN) &&
	    !(reply[2] & FLAG_TC) &&
	    index_reply(reply, len, offs, noffs, opt_off, minttl) &&
	    *noffs != 0 && *minttl != 0;
}

bool
frontcache_store(struct frontcache *fc, const struct dnsmsg_query *q,
    const uint8_t *reply, size_t len, enum fc_verdict v, uint32_t now)
{
	uint16_t offs[FC_MAX_RRS], noffs, opt_off;
	uint32_t minttl;

	if (v == FC_BOGUS ||
	    !answer_ok(reply, len, offs, &noffs, &opt_off, &minttl))
		return false;
	return store_entry(fc, q, reply, len, offs, noffs, opt_off, minttl, v,
	    now, true, NULL);
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
	    FC_BOGUS, now, true, NULL);
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

/* -------------------------------------------------------------- dump, load */

/*
 * The dump file, version 1.  Integers are unsigned and big-endian.
 *
 *   header, 64 bytes:
 *     0   8  magic "DSFCDUMP"
 *     8   4  format version: 1
 *     12  4  0
 *     16  8  when it was written: wall-clock seconds since the epoch
 *     24 32  fingerprint (FC_FINGERPRINT_LEN bytes, from the caller)
 *     56  8  0
 *   then the entries, each:
 *     0   1  verdict: 0 insecure, 1 secure
 *     1   1  0
 *     2   2  key length K, 6..260: the name in wire form, lower case,
 *            uncompressed; type; class; one byte of query bits (1 DO,
 *            2 CD, 4 EDNS; DO only with EDNS)
 *     4   2  reply length L, 12..65535
 *     6   8  expiry: wall-clock seconds since the epoch at which the
 *            reply's smallest TTL reaches 0
 *     14  K  the key
 *     14+K L the reply as stored (a hit patches its ID, flags and
 *            question case for each client), every TTL as it was at
 *            the time of the dump
 *   and a trailer, 40 bytes:
 *     0   4  number of entries
 *     4   4  0
 *     8  32  SHA-256 of every byte before the trailer
 *
 * Only fresh secure and insecure answers are written: not bogus verdicts
 * (a SERVFAIL remembered briefly, not an answer) nor entries past their
 * TTL that serve-stale keeps.  Each shard goes from its least to its most
 * recently used entry, so that storing them in order gives the same LRU
 * order again.
 *
 * Loading checks the file whole first (magic, version, every length, key
 * syntax, entry count, checksum) without storing anything, then the
 * fingerprint, then reads it again and hands each entry to the same
 * checks as frontcache_store, plus: the reply's question is the key's.
 * An entry past its expiry is skipped; the others have every TTL aged by
 * the time since the dump (never made longer if the clock went back).
 * The file is replaced only by rename, so the inode read twice does not
 * change in between; the second pass checks every length again anyway.
 */

#define DUMP_MAGIC	"DSFCDUMP"
#define DUMP_VERSION	1
#define DUMP_HEADER	64
#define DUMP_ENTRY	14
#define DUMP_TRAILER	40
#define DUMP_MIN_KEY	6		/* the root: 1 byte, then 5 */
#define DUMP_BUF	65536
#define DUMP_SCRATCH	(FC_KEY_MAX + DNS_MAX_MSG)

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint64_t
get64(const uint8_t *p)
{
	return ((uint64_t)get32(p) << 32) | get32(p + 4);
}

static void
ferr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
ferr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- writing */

struct dump_wr {
	int fd;
	uint8_t *buf;
	size_t n;
	EVP_MD_CTX *md;
	int err;		/* errno of the first failure, 0 */
};

static void
wr_flush(struct dump_wr *w)
{
	size_t off = 0;
	ssize_t r;

	while (w->err == 0 && off < w->n) {
		r = write(w->fd, w->buf + off, w->n - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			w->err = r < 0 ? errno : EIO;
		else
			off += (size_t)r;
	}
	w->n = 0;
}

/* Append n bytes, hashed unless for the trailer's checksum. */
static void
wr_put(struct dump_wr *w, const uint8_t *p, size_t n, bool hash)
{
	size_t k;

	if (hash && w->err == 0 && EVP_DigestUpdate(w->md, p, n) != 1)
		w->err = EIO;
	while (n > 0 && w->err == 0) {
		if (w->n == DUMP_BUF)
			wr_flush(w);
		k = DUMP_BUF - w->n < n ? DUMP_BUF - w->n : n;
		memcpy(w->buf + w->n, p, k);
		w->n += k;
		p += k;
		n -= k;
	}
}

/* The bytes of the fresh answers of s, under its lock, into out (at least
 * s->bytes long: an entry's bookkeeping is larger than its dump header).
 * Returns the length; *count grows by the number of entries. */
static size_t
shard_dump(struct fc_shard *s, uint32_t now, int64_t wall, uint8_t *out,
    size_t *count)
{
	struct fc_entry *e;
	size_t n = 0;
	uint32_t age;
	uint16_t i;

	for (e = s->tail; e != NULL; e = e->prev) {
		uint8_t *h = out + n, *r;

		age = now > e->stored ? now - e->stored : 0;
		if (e->verdict == FC_BOGUS || age >= e->ttl)
			continue;
		h[0] = e->verdict;
		h[1] = 0;
		put16(h + 2, e->keylen);
		put16(h + 4, e->len);
		put64(h + 6, (uint64_t)wall + (e->ttl - age));
		memcpy(h + DUMP_ENTRY, entry_key(e), e->keylen);
		r = h + DUMP_ENTRY + e->keylen;
		memcpy(r, entry_reply(e), e->len);
		for (i = 0; i < e->nttl; i++) {
			uint32_t ttl = get32(r + e->ttl_off[i]);

			if (ttl & 0x80000000u)
				ttl = 0;
			put32(r + e->ttl_off[i], ttl > age ? ttl - age : 0);
		}
		n += DUMP_ENTRY + e->keylen + e->len;
		(*count)++;
	}
	return n;
}

/* The entries of every shard, one shard's lock at a time: its bytes are
 * copied under the lock, written after. */
static void
dump_shards(struct frontcache *fc, struct dump_wr *w, uint32_t now,
    int64_t wall, size_t *count)
{
	uint8_t *snap = NULL, *p;
	size_t cap = 0, n;
	unsigned i;

	for (i = 0; i < FC_SHARDS && w->err == 0; i++) {
		struct fc_shard *s = &fc->shard[i];

		pthread_mutex_lock(&s->lock);
		while (s->bytes > cap) {
			size_t want = s->bytes + s->bytes / 4;

			pthread_mutex_unlock(&s->lock);
			if ((p = realloc(snap, want)) == NULL) {
				w->err = ENOMEM;
				free(snap);
				return;
			}
			snap = p;
			cap = want;
			pthread_mutex_lock(&s->lock);
		}
		n = s->bytes == 0 ? 0 : shard_dump(s, now, wall, snap, count);
		pthread_mutex_unlock(&s->lock);
		wr_put(w, snap, n, true);
	}
	free(snap);
}

/* fsync the directory of path, so that the rename lasts.  Some file
 * systems cannot (EINVAL): the rename is then as durable as they make
 * it.  Returns 0 or an errno value. */
static int
sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, rc = 0;

	if (slash == NULL)
		dir = strdup(".");
	else
		dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
	if (dir == NULL)
		return ENOMEM;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		rc = errno;
	else {
		if (fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP)
			rc = errno;
		close(fd);
	}
	free(dir);
	return rc;
}

int
frontcache_dump(struct frontcache *fc, const char *path,
    const uint8_t fp[FC_FINGERPRINT_LEN], uint32_t now, int64_t wall,
    struct fc_persist_stats *st, char *err, size_t errlen)
{
	struct dump_wr w;
	uint8_t head[DUMP_HEADER], tail[DUMP_TRAILER];
	unsigned char md[EVP_MAX_MD_SIZE] = { 0 };
	unsigned mdlen = 0;
	size_t plen = strlen(path), count = 0;
	char *tmp;
	const char *step = "write";

	if (st != NULL)
		memset(st, 0, sizeof(*st));
	memset(&w, 0, sizeof(w));
	w.fd = -1;
	if ((tmp = malloc(plen + sizeof(".tmp.XXXXXX"))) == NULL ||
	    (w.buf = malloc(DUMP_BUF)) == NULL ||
	    (w.md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(w.md, EVP_sha256(), NULL) != 1) {
		ferr(err, errlen, "%s: out of memory", path);
		goto fail_free;
	}
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp.XXXXXX", sizeof(".tmp.XXXXXX"));
	/* O_EXCL, mode 0600. */
	if ((w.fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		ferr(err, errlen, "%s: cannot create a temporary file: %s",
		    path, strerror(errno));
		goto fail_free;
	}
	if (fchmod(w.fd, 0600) != 0) {
		w.err = errno;
		step = "fchmod";
		goto fail;
	}
	memset(head, 0, sizeof(head));
	memcpy(head, DUMP_MAGIC, 8);
	put32(head + 8, DUMP_VERSION);
	put64(head + 16, (uint64_t)wall);
	memcpy(head + 24, fp, FC_FINGERPRINT_LEN);
	wr_put(&w, head, sizeof(head), true);
	dump_shards(fc, &w, now, wall, &count);
	if (count > UINT32_MAX && w.err == 0)
		w.err = EOVERFLOW;
	memset(tail, 0, sizeof(tail));
	put32(tail, (uint32_t)count);
	if (w.err == 0 && (EVP_DigestFinal_ex(w.md, md, &mdlen) != 1 ||
	    mdlen != 32))
		w.err = EIO;
	memcpy(tail + 8, md, 32);
	wr_put(&w, tail, sizeof(tail), false);
	wr_flush(&w);
	if (w.err != 0)
		goto fail;
	step = "fsync";
	if (fsync(w.fd) != 0) {
		w.err = errno;
		goto fail;
	}
	step = "close";
	if (close(w.fd) != 0) {
		w.fd = -1;
		w.err = errno;
		goto fail;
	}
	w.fd = -1;
	step = "rename";
	if (rename(tmp, path) != 0) {
		w.err = errno;
		goto fail;
	}
	if ((w.err = sync_dir(path)) != 0) {
		/* Written and in place; only its durability is in doubt. */
		ferr(err, errlen, "%s: written, but its directory could not "
		    "be synced: %s", path, strerror(w.err));
	}
	free(tmp);
	free(w.buf);
	EVP_MD_CTX_free(w.md);
	if (st != NULL)
		st->entries = count;
	return 0;
fail:
	ferr(err, errlen, "%s: %s of %s: %s", path, step, tmp,
	    strerror(w.err));
	if (w.fd >= 0)
		close(w.fd);
	unlink(tmp);
fail_free:
	free(tmp);
	free(w.buf);
	EVP_MD_CTX_free(w.md);
	return -1;
}

/* ---- reading */

struct dump_rd {
	int fd;			/* -1: from mem */
	const uint8_t *mem;
	uint64_t size, pos;	/* the input's length; bytes taken */
	uint8_t *buf;		/* the file's bytes read ahead */
	size_t blen, boff;
	EVP_MD_CTX *md;		/* NULL: not hashed */
	int err;		/* errno of a failed read, 0 */
};

/* Take the next n bytes into dst, hashed when r->md.  False when the
 * input ends first or cannot be read. */
static bool
rd_get(struct dump_rd *r, uint8_t *dst, size_t n)
{
	size_t k, want = n;
	uint8_t *d = dst;
	ssize_t got;

	if (r->size - r->pos < n)
		return false;
	if (r->fd < 0)
		memcpy(dst, r->mem + r->pos, n);
	else {
		while (n > 0) {
			if (r->boff == r->blen) {
				got = read(r->fd, r->buf, DUMP_BUF);
				if (got < 0 && errno == EINTR)
					continue;
				if (got <= 0) {
					/* Shorter than fstat said. */
					r->err = got < 0 ? errno : 0;
					return false;
				}
				r->blen = (size_t)got;
				r->boff = 0;
			}
			k = r->blen - r->boff < n ? r->blen - r->boff : n;
			memcpy(d, r->buf + r->boff, k);
			r->boff += k;
			d += k;
			n -= k;
		}
	}
	r->pos += want;
	if (r->md != NULL && EVP_DigestUpdate(r->md, dst, want) != 1) {
		r->err = EIO;
		return false;
	}
	return true;
}

/* The key's name length when key is one dotsecd makes (lower case, well
 * formed, known query bits), else 0. */
static size_t
key_name_len(const uint8_t *key, size_t keylen)
{
	size_t p = 0, i;
	uint8_t bits = key[keylen - 1];

	for (;;) {
		if (p >= keylen - 5)
			return 0;
		if (key[p] == 0)
			break;
		if (key[p] > 63)
			return 0;
		for (i = p + 1; i <= p + key[p] && i < keylen - 5; i++)
			if (key[i] >= 'A' && key[i] <= 'Z')
				return 0;
		p += (size_t)key[p] + 1;
	}
	p++;
	if (p != keylen - 5 || p > DNS_MAX_NAME ||
	    (bits & ~(KEY_DO | KEY_CD | KEY_EDNS)) != 0 ||
	    ((bits & KEY_DO) && !(bits & KEY_EDNS)))
		return 0;
	return p;
}

/* One entry of the store pass: checked like a store, aged, stored. */
static void
load_entry(struct frontcache *fc, enum fc_verdict v, uint64_t expiry,
    const uint8_t *key, size_t keylen, uint8_t *reply, size_t len,
    uint32_t now, int64_t wall, struct fc_persist_stats *st)
{
	uint16_t offs[FC_MAX_RRS], noffs, opt_off, i;
	uint32_t minttl, age;
	uint64_t left;
	size_t nlen = keylen - 5;
	struct dnsmsg_query q;
	bool present = false;

	if (!answer_ok(reply, len, offs, &noffs, &opt_off, &minttl) ||
	    len < DNS_HEADER_LEN + nlen + 4 ||
	    !dnsmsg_name_equal(reply + DNS_HEADER_LEN, key, nlen) ||
	    memcmp(reply + DNS_HEADER_LEN + nlen, key + nlen, 4) != 0) {
		st->skipped++;
		return;
	}
	if (wall < 0)
		wall = 0;
	if (expiry <= (uint64_t)wall) {
		st->expired++;
		return;
	}
	left = expiry - (uint64_t)wall;
	/* A clock set back gives more time than the TTLs: they stay. */
	age = left >= minttl ? 0 : minttl - (uint32_t)left;
	for (i = 0; i < noffs; i++) {
		uint32_t ttl = get32(reply + offs[i]);

		put32(reply + offs[i], ttl > age ? ttl - age : 0);
	}
	memset(&q, 0, sizeof(q));
	memcpy(q.qname, key, nlen);
	q.qname_len = nlen;
	q.qtype = get16(key + nlen);
	q.qclass = get16(key + nlen + 2);
	q.do_bit = (key[nlen + 4] & KEY_DO) != 0;
	q.cd = (key[nlen + 4] & KEY_CD) != 0;
	q.edns = (key[nlen + 4] & KEY_EDNS) != 0;
	q.question_ok = true;
	if (store_entry(fc, &q, reply, len, offs, noffs, opt_off,
	    minttl - age, v, now, false, &present))
		st->loaded++;
	else if (present)
		st->present++;
	else
		st->skipped++;
}

/*
 * One pass over the dump.  The check pass (fc NULL) reads the header into
 * hdr and checks every length and key and the checksum; the store pass
 * checks the lengths again and stores.  Returns FC_LOAD_OK, or
 * FC_LOAD_BAD / FC_LOAD_OTHER with the reason in err.
 */
static enum fc_load_result
load_pass(struct frontcache *fc, struct dump_rd *r, uint8_t *hdr,
    uint8_t *scratch, uint32_t now, int64_t wall,
    struct fc_persist_stats *st, char *err, size_t errlen)
{
	uint8_t eh[DUMP_ENTRY], tail[DUMP_TRAILER];
	unsigned char md[EVP_MAX_MD_SIZE] = { 0 };
	unsigned mdlen = 0;
	uint64_t end, count = 0;
	size_t keylen, len;

	if (r->size < DUMP_HEADER + DUMP_TRAILER || !rd_get(r, hdr,
	    DUMP_HEADER)) {
		ferr(err, errlen, "truncated: %llu bytes",
		    (unsigned long long)r->size);
		return FC_LOAD_BAD;
	}
	if (memcmp(hdr, DUMP_MAGIC, 8) != 0) {
		ferr(err, errlen, "not an answer cache dump (no magic)");
		return FC_LOAD_BAD;
	}
	if (get32(hdr + 8) != DUMP_VERSION) {
		ferr(err, errlen, "format version %u, this dotsecd reads %u",
		    (unsigned)get32(hdr + 8), DUMP_VERSION);
		return FC_LOAD_OTHER;
	}
	if (get32(hdr + 12) != 0 || get64(hdr + 56) != 0) {
		ferr(err, errlen, "corrupted header");
		return FC_LOAD_BAD;
	}
	end = r->size - DUMP_TRAILER;
	while (r->pos < end) {
		if (end - r->pos < DUMP_ENTRY || !rd_get(r, eh, DUMP_ENTRY))
			goto truncated;
		keylen = get16(eh + 2);
		len = get16(eh + 4);
		if (eh[0] > FC_SECURE || eh[1] != 0 ||
		    keylen < DUMP_MIN_KEY || keylen > FC_KEY_MAX ||
		    len < DNS_HEADER_LEN) {
			ferr(err, errlen, "corrupted entry %llu at byte %llu",
			    (unsigned long long)count,
			    (unsigned long long)(r->pos - DUMP_ENTRY));
			return FC_LOAD_BAD;
		}
		if (end - r->pos < keylen + len ||
		    !rd_get(r, scratch, keylen + len))
			goto truncated;
		if (key_name_len(scratch, keylen) == 0) {
			ferr(err, errlen, "corrupted key in entry %llu",
			    (unsigned long long)count);
			return FC_LOAD_BAD;
		}
		count++;
		if (fc != NULL)
			load_entry(fc, (enum fc_verdict)eh[0], get64(eh + 6),
			    scratch, keylen, scratch + keylen, len, now,
			    wall, st);
	}
	if (r->md != NULL) {
		if (EVP_DigestFinal_ex(r->md, md, &mdlen) != 1 || mdlen != 32) {
			ferr(err, errlen, "SHA-256 failed");
			return FC_LOAD_BAD;
		}
		r->md = NULL;	/* the trailer is not hashed */
	}
	if (!rd_get(r, tail, DUMP_TRAILER))
		goto truncated;
	if (get32(tail) != count || get32(tail + 4) != 0) {
		ferr(err, errlen, "%llu entries, the trailer says %u",
		    (unsigned long long)count, (unsigned)get32(tail));
		return FC_LOAD_BAD;
	}
	if (fc == NULL && memcmp(tail + 8, md, 32) != 0) {
		ferr(err, errlen, "checksum mismatch: corrupted");
		return FC_LOAD_BAD;
	}
	st->entries = count;
	return FC_LOAD_OK;
truncated:
	if (r->err != 0)
		ferr(err, errlen, "read: %s", strerror(r->err));
	else
		ferr(err, errlen, "truncated in entry %llu (%llu bytes)",
		    (unsigned long long)count, (unsigned long long)r->size);
	return FC_LOAD_BAD;
}

/* Both passes over r, rewound by rewind between them. */
static enum fc_load_result
load_dump(struct frontcache *fc, struct dump_rd *r,
    bool (*rewind)(struct dump_rd *), const uint8_t *fp, uint32_t now,
    int64_t wall, struct fc_persist_stats *st, char *err, size_t errlen)
{
	struct fc_persist_stats dummy;
	uint8_t hdr[DUMP_HEADER], hdr2[DUMP_HEADER], *scratch;
	EVP_MD_CTX *md;
	enum fc_load_result res;

	if (st == NULL)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	scratch = malloc(DUMP_SCRATCH);
	md = EVP_MD_CTX_new();
	if (scratch == NULL || md == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		ferr(err, errlen, "out of memory");
		res = FC_LOAD_BAD;
		goto out;
	}
	r->md = md;
	res = load_pass(NULL, r, hdr, scratch, now, wall, st, err, errlen);
	r->md = NULL;
	if (res != FC_LOAD_OK)
		goto out;
	if (memcmp(hdr + 24, fp, FC_FINGERPRINT_LEN) != 0) {
		ferr(err, errlen, "made with other trust anchors or other "
		    "settings that change answers (fingerprint differs)");
		res = FC_LOAD_OTHER;
		goto out;
	}
	memset(st, 0, sizeof(*st));
	if (!rewind(r)) {
		ferr(err, errlen, "cannot read it again: %s",
		    strerror(r->err));
		res = FC_LOAD_BAD;
		goto out;
	}
	res = load_pass(fc, r, hdr2, scratch, now, wall, st, err, errlen);
	if (res == FC_LOAD_OK && memcmp(hdr, hdr2, sizeof(hdr)) != 0) {
		ferr(err, errlen, "changed while read");
		res = FC_LOAD_BAD;
	}
out:
	EVP_MD_CTX_free(md);
	free(scratch);
	return res;
}

static bool
rewind_mem(struct dump_rd *r)
{
	r->pos = 0;
	return true;
}

static bool
rewind_fd(struct dump_rd *r)
{
	r->pos = 0;
	r->blen = r->boff = 0;
	if (lseek(r->fd, 0, SEEK_SET) != 0) {
		r->err = errno;
		return false;
	}
	return true;
}

enum fc_load_result
frontcache_load_mem(struct frontcache *fc, const void *data, size_t len,
    const uint8_t fp[FC_FINGERPRINT_LEN], uint32_t now, int64_t wall,
    struct fc_persist_stats *st, char *err, size_t errlen)
{
	struct dump_rd r;

	memset(&r, 0, sizeof(r));
	r.fd = -1;
	r.mem = data;
	r.size = len;
	return load_dump(fc, &r, rewind_mem, fp, now, wall, st, err, errlen);
}

enum fc_load_result
frontcache_load(struct frontcache *fc, const char *path,
    const uint8_t fp[FC_FINGERPRINT_LEN], uint32_t now, int64_t wall,
    struct fc_persist_stats *st, char *err, size_t errlen)
{
	struct dump_rd r;
	struct stat sb;
	enum fc_load_result res;

	if (st != NULL)
		memset(st, 0, sizeof(*st));
	memset(&r, 0, sizeof(r));
	if ((r.fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) < 0) {
		ferr(err, errlen, "%s", strerror(errno));
		return errno == ENOENT ? FC_LOAD_NONE : FC_LOAD_BAD;
	}
	if (fstat(r.fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		ferr(err, errlen, "%s", !S_ISREG(sb.st_mode) ?
		    "not a regular file" : strerror(errno));
		close(r.fd);
		return FC_LOAD_BAD;
	}
	if ((r.buf = malloc(DUMP_BUF)) == NULL) {
		ferr(err, errlen, "out of memory");
		close(r.fd);
		return FC_LOAD_BAD;
	}
	r.size = (uint64_t)sb.st_size;
	res = load_dump(fc, &r, rewind_fd, fp, now, wall, st, err, errlen);
	free(r.buf);
	close(r.fd);
	return res;
}
