/*
 * fuzz_cachedump.c -- libFuzzer target: any bytes as an answer cache dump
 * (src/frontcache.c, "dump, load"), read by frontcache_load_mem() into a
 * small cache (64 KiB, so that loads also evict).
 *
 * Layout: one control byte, then the dump.
 *   bit 0     before loading, write this target's fingerprint into the
 *             header and the SHA-256 of everything before the trailer
 *             into the trailer (a dump of at least 104 bytes), so that
 *             inputs get past both checks to the entries
 *   bits 1-7  n: the wall clock at the load is FUZZ_WALL + 60 * n - 600,
 *             around the seeds' dump time FUZZ_WALL, so that entries
 *             expire or not
 *
 * Invariants: a refused dump (FC_LOAD_OTHER, FC_LOAD_BAD) has a reason
 * and stores nothing; an accepted one accounts for every entry (loaded,
 * expired, present, skipped), the cache holds no more than it loaded and
 * stays in its bound; loading the same bytes again gives the same result
 * and counts, every entry stored the first time being stored again (if
 * it was evicted) or found in the cache.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "frontcache.h"
#include "fuzz.h"
#include "log.h"

#define FUZZ_WALL	1764547200	/* 2025-12-01, the seeds' dump time */
#define FUZZ_NOW	1000		/* the cache's clock */
#define FUZZ_CACHE	(64 * 1024)

/* What gen_corpus.py writes in the seeds' headers. */
static const uint8_t fuzz_fp[FC_FINGERPRINT_LEN] = {
	'f', 'u', 'z', 'z', '_', 'c', 'a', 'c', 'h', 'e', 'd', 'u', 'm', 'p'
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ds_log_set_level(DS_LOG_ERR);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frontcache *fc;
	struct fc_persist_stats st, st2;
	struct fc_stats cs;
	enum fc_load_result r, r2;
	uint8_t *dump;
	size_t len;
	unsigned mdlen = 0;
	int64_t wall;
	char err[512];

	if (size < 1)
		return 0;
	wall = FUZZ_WALL + 60 * (int64_t)(data[0] >> 1) - 600;
	len = size - 1;
	/* A copy of exactly len bytes: ASan sees a read past them. */
	if ((dump = malloc(len ? len : 1)) == NULL)
		return 0;
	memcpy(dump, data + 1, len);
	if ((data[0] & 1) && len >= 104) {
		memcpy(dump + 24, fuzz_fp, sizeof(fuzz_fp));
		if (EVP_Digest(dump, len - 40, dump + len - 32, &mdlen,
		    EVP_sha256(), NULL) != 1 || mdlen != 32)
			fuzz_fail("EVP_Digest failed");
	}
	if ((fc = frontcache_create(FUZZ_CACHE, 0)) == NULL)
		fuzz_fail("frontcache_create failed");

	err[0] = '\0';
	r = frontcache_load_mem(fc, dump, len, fuzz_fp, FUZZ_NOW, wall, &st,
	    err, sizeof(err));
	frontcache_get_stats(fc, &cs);
	switch (r) {
	case FC_LOAD_OK:
		if (st.loaded + st.expired + st.present + st.skipped !=
		    st.entries)
			fuzz_fail("%zu entries: %zu loaded, %zu expired, %zu "
			    "present, %zu skipped", st.entries, st.loaded,
			    st.expired, st.present, st.skipped);
		if (cs.entries > st.loaded)
			fuzz_fail("%zu cached, %zu loaded", cs.entries,
			    st.loaded);
		if (cs.bytes > cs.max_bytes)
			fuzz_fail("%zu bytes cached, bound %zu", cs.bytes,
			    cs.max_bytes);
		break;
	case FC_LOAD_OTHER:
	case FC_LOAD_BAD:
		if (err[0] == '\0')
			fuzz_fail("refused (%d) without a reason", (int)r);
		if (st.loaded != 0 || cs.entries != 0)
			fuzz_fail("refused (%d), yet %zu loaded, %zu cached",
			    (int)r, st.loaded, cs.entries);
		break;
	default:
		fuzz_fail("result %d from memory", (int)r);
	}

	/* Again, into the same cache. */
	r2 = frontcache_load_mem(fc, dump, len, fuzz_fp, FUZZ_NOW, wall, &st2,
	    err, sizeof(err));
	if (r2 != r || st2.entries != st.entries ||
	    st2.expired != st.expired)
		fuzz_fail("second load: %d, %zu entries, %zu expired; first: "
		    "%d, %zu, %zu", (int)r2, st2.entries, st2.expired,
		    (int)r, st.entries, st.expired);
	/* What was stored is stored again or found there; the rest is
	 * refused as before. */
	if (r == FC_LOAD_OK && (st2.loaded + st2.present !=
	    st.loaded + st.present || st2.skipped != st.skipped))
		fuzz_fail("second load: %zu loaded, %zu present, %zu skipped; "
		    "first: %zu, %zu, %zu", st2.loaded, st2.present,
		    st2.skipped, st.loaded, st.present, st.skipped);
	frontcache_delete(fc);
	free(dump);
	return 0;
}
