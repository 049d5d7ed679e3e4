/*
 * frontcache.h -- dotsec's own wire-level answer cache, in front of
 * libunbound.
 *
 * It holds replies exactly as they were shaped for a client, after
 * validation, keyed by the lower-cased name, type, class and the query bits
 * that change a reply's bytes (DO, CD, EDNS present).  A hit copies the
 * bytes, patches ID, RD, AD and the question's letter case for the new
 * client, and ages every TTL by the time spent in the cache: no parsing,
 * no allocation, no libunbound call.  It is shared by the workers: one
 * lock per shard, never a global one.  Each shard is bounded in bytes and
 * evicts its least recently used entries.
 *
 * Expired entries are kept for stale_max more seconds when serve-stale is
 * on (RFC 8767) and handed out only when asked for (FC_STALE): every TTL
 * 30, and an EDE 3 (Stale Answer) option when the reply has an OPT.
 *
 * For a warm restart the fresh secure and insecure answers can be written
 * to a file and read back (frontcache_dump, frontcache_load; the format is
 * described in frontcache.c).  Both may run while workers use the cache:
 * each takes one shard's lock at a time.
 */
#ifndef DS_FRONTCACHE_H
#define DS_FRONTCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dnsmsg_query;
struct frontcache;

enum fc_result {
	FC_MISS = 0,
	FC_FRESH,
	FC_STALE
};

/* What the validator said of a stored answer. */
enum fc_verdict {
	FC_INSECURE = 0,
	FC_SECURE,		/* a hit sets AD when its client asks */
	FC_BOGUS		/* a SERVFAIL kept bogus_ttl, never stale */
};

/* The TTL of a stale answer (RFC 8767 section 4). */
#define FC_STALE_TTL	30

struct fc_stats {
	unsigned long long hits, misses, stale, stores, evictions;
	size_t entries, bytes, max_bytes;
};

/* A cache of at most max_bytes (entries and their bookkeeping), keeping
 * expired entries stale_max seconds (0: drop them at once).  NULL on
 * failure (logged). */
struct frontcache *frontcache_create(size_t max_bytes, uint32_t stale_max);
void frontcache_delete(struct frontcache *fc);

/* Change the bounds in place: entries are kept, the least recently used
 * ones evicted until every shard fits again. */
void frontcache_set_limits(struct frontcache *fc, size_t max_bytes,
    uint32_t stale_max);

/* Store the reply shaped for q (its whole, untruncated form), seen at now
 * (seconds, any monotonic clock), with the validator's verdict v (FC_SECURE
 * or FC_INSECURE).  Not stored, returning false: rcode other than NOERROR
 * or NXDOMAIN, TC set, no record with a TTL, a TTL of 0, a malformed
 * reply, or an entry larger than a shard. */
bool frontcache_store(struct frontcache *fc, const struct dnsmsg_query *q,
    const uint8_t *reply, size_t len, enum fc_verdict v, uint32_t now);

/* Store the SERVFAIL reply given to q for bogus data, for ttl seconds, so
 * that a bogus name does not send every client's query upstream again.
 * It is never served stale.  False when not stored (ttl 0, malformed,
 * too large). */
bool frontcache_store_bogus(struct frontcache *fc,
    const struct dnsmsg_query *q, const uint8_t *reply, size_t len,
    uint32_t ttl, uint32_t now);

/* Look up q at now.  FC_FRESH: out holds the reply for q (ID, RD, AD and
 * question case patched, TTLs aged), *outlen its length.  With want_stale,
 * an entry past its TTL but within stale_max gives FC_STALE (TTLs 30, EDE
 * 3 when there is an OPT).  A reply longer than max_len (the client's UDP
 * limit) is not served: FC_MISS.  v, when not NULL, gets the entry's
 * verdict. */
enum fc_result frontcache_lookup(struct frontcache *fc,
    const struct dnsmsg_query *q, uint32_t now, bool want_stale,
    size_t max_len, uint8_t *out, size_t outcap, size_t *outlen,
    enum fc_verdict *v);

/* A fresh lookup (no stale data) that also says, once per entry, when a
 * secure or insecure entry is in the last tenth of its TTL: *refresh is
 * then true, and the caller should fetch the answer again and store it
 * (prefetch), before the entry expires.  An entry whose refresh failed is
 * not handed out again; it expires as usual. */
enum fc_result frontcache_lookup_refresh(struct frontcache *fc,
    const struct dnsmsg_query *q, uint32_t now, size_t max_len, uint8_t *out,
    size_t outcap, size_t *outlen, enum fc_verdict *v, bool *refresh);

/* Drop every entry for zone (wire form, any case) and the names below it,
 * in every shard.  Returns how many were dropped. */
size_t frontcache_drop_below(struct frontcache *fc, const uint8_t *zone,
    size_t zlen);

/* Drop entries, in every shard: all of them, the bogus verdicts, those
 * at and below name (wire form, any case), or those of name itself (of
 * type qtype, or of every type when qtype is 0).  Returns how many. */
enum fc_drop { FC_DROP_ALL, FC_DROP_BOGUS, FC_DROP_BELOW, FC_DROP_NAME };
size_t frontcache_drop(struct frontcache *fc, enum fc_drop how,
    const uint8_t *name, size_t len, uint16_t qtype);

void frontcache_get_stats(struct frontcache *fc, struct fc_stats *st);

/* What a dump is valid for: the SHA-256 of the trust anchors and of the
 * settings that change answers (config_answer_fingerprint).  A dump is
 * loaded only by a cache given the same fingerprint. */
#define FC_FINGERPRINT_LEN	32

struct fc_persist_stats {
	size_t entries;		/* dump: written; load: in the file */
	size_t loaded;		/* load: stored in the cache */
	size_t expired;		/* load: past their TTL by now */
	size_t present;		/* load: the cache had the name already */
	size_t skipped;		/* load: refused by the store's checks, or
				   larger than a shard */
};

enum fc_load_result {
	FC_LOAD_OK = 0,		/* read; st says what came of each entry */
	FC_LOAD_NONE,		/* no such file */
	FC_LOAD_OTHER,		/* intact, but made with another fingerprint
				   or format version: nothing loaded */
	FC_LOAD_BAD		/* unreadable, truncated or corrupted:
				   nothing loaded */
};

/* Write every fresh secure or insecure answer to path, atomically (a
 * temporary file of mode 0600 in the same directory, fsync, rename),
 * with its expiry in wall-clock time.  now is the cache's clock (as for
 * a store), wall the seconds since the epoch at the same moment.
 * Returns 0, or -1 with the reason in err (path is then untouched).
 * st, when not NULL, gets the number of entries written. */
int frontcache_dump(struct frontcache *fc, const char *path,
    const uint8_t fp[FC_FINGERPRINT_LEN], uint32_t now, int64_t wall,
    struct fc_persist_stats *st, char *err, size_t errlen);

/* Read a dump and store its answers that are still fresh at wall, aged
 * by the time they spent on disk, each checked like a store; an answer
 * the cache holds already is kept, not replaced.  The file is checked
 * whole (layout, every length, the checksum) before anything is stored,
 * and never trusted.  Besides the cache's own entries (bounded as
 * always), the loader allocates two buffers of 64 KiB.  err gets the
 * reason unless FC_LOAD_OK; st, when not NULL, the counts. */
enum fc_load_result frontcache_load(struct frontcache *fc, const char *path,
    const uint8_t fp[FC_FINGERPRINT_LEN], uint32_t now, int64_t wall,
    struct fc_persist_stats *st, char *err, size_t errlen);

/* The same from len bytes at data (tests, fuzzing). */
enum fc_load_result frontcache_load_mem(struct frontcache *fc,
    const void *data, size_t len, const uint8_t fp[FC_FINGERPRINT_LEN],
    uint32_t now, int64_t wall, struct fc_persist_stats *st, char *err,
    size_t errlen);

#endif /* DS_FRONTCACHE_H */
