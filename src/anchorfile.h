/*
 * anchorfile.h -- the root trust anchor on disk: libunbound's autotrust
 * state file (RFC 5011, written by ub_ctx_add_ta_autr()) and plain
 * zone-format seed files of DS/DNSKEY records, read into one structure;
 * the set of keys a validator is to trust; an atomic file write.
 *
 * libunbound offers no API that returns its anchors, so this module reads
 * the file the way validator/autotrust.c does:
 *   ; autotrust trust anchor file
 *   ;;id: . 1
 *   ;;last_queried: 1732000000 ;;Tue Nov 19 07:06:40 2024
 *   ;;last_success: ...       ;;next_probe_time: ...
 *   ;;query_failed: 0         ;;query_interval: ...   ;;retry_time: ...
 *   .	172800	IN	DNSKEY	257 3 8 AwEAA... ;{id = 20326 (ksk), size =
 *	2048b} ;;state=2 [  VALID  ] ;;count=0 ;;lastchange=1732... ;;Tue ...
 * A file with an ";;id:" header is an autotrust file and each of its keys
 * must carry ";;state=N" (libunbound ignores a key without one; here it is
 * an error).  A file without the header is a seed: zone-format records
 * "owner [ttl] [class] type rdata", with $ORIGIN and $TTL, an empty owner
 * repeating the previous one, and parentheses spanning lines.  Records of
 * other types than DS and DNSKEY are skipped, as libunbound does; all keys
 * must be for one owner name, as libunbound demands.
 *
 * Nothing here logs; failures are described in the caller's err buffer.
 * No function keeps a pointer to its arguments.
 */
#ifndef DS_ANCHORFILE_H
#define DS_ANCHORFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The states of validator/autotrust.c (the ";;state=" digit); AK_SEED is
 * a key read from a line without one. */
enum anchor_key_state {
	AK_SEED = -1,
	AK_START = 0,
	AK_ADDPEND = 1,
	AK_VALID = 2,
	AK_MISSING = 3,
	AK_REVOKED = 4,
	AK_REMOVED = 5
};

/* The DNSKEY flag bits that matter here (RFC 4034 2.1.1, RFC 5011 3). */
#define ANCHOR_FLAG_ZONE	0x0100
#define ANCHOR_FLAG_REVOKE	0x0080
#define ANCHOR_FLAG_SEP		0x0001

struct anchor_key {
	/* Normalized "OWNER IN TYPE RDATA": owner in lower case and fully
	 * qualified, no TTL, single spaces, numbers in decimal, the DNSKEY
	 * key in canonical base64 in one piece, the DS digest in upper-case
	 * hex in one piece.  Two files holding the same record give the
	 * same string.  Owned by the anchor_file. */
	char *rr;
	bool is_ds;
	/* RFC 4034 appendix B over the DNSKEY as it is (with its REVOKE
	 * bit, so a revoked key has a new tag); for a DS, its key tag. */
	unsigned keytag;
	unsigned algorithm;
	unsigned flags;		/* the DNSKEY flags; 0 for a DS */
	int state;		/* enum anchor_key_state */
	long lastchange;	/* ";;lastchange=", 0 if none */
	int count;		/* ";;count=" (hold-down count), 0 if none */
};

struct anchor_file {
	struct anchor_key *keys;	/* in file order; owned */
	size_t nkeys;
	/* The header lines of an autotrust file; 0 in a seed file. */
	long last_queried, last_success, next_probe_time, query_failed;
	/* ";;REVOKED": libunbound saw every key revoked and treats the zone
	 * as having no trust anchor at all (anchorfile_trusted() is then
	 * empty).  The keys are still listed. */
	bool revoked;
};

/*
 * Parse len bytes of text (no NUL terminator needed; a NUL inside is an
 * error).  name is used in error messages only.  af is overwritten (its
 * old contents are not freed).
 * Returns 0, or -1 with "name:LINE: why" in err (LINE is where the record
 * starts; "name: why" for errors of the whole file, such as a file without
 * any DS or DNSKEY record, or an allocation failure); af is then empty and
 * needs no anchorfile_free().
 */
int anchorfile_parse(const char *text, size_t len, const char *name,
    struct anchor_file *af, char *err, size_t errlen);

/* Read (at most 1 MiB) and parse the file at path.  Returns 0, or -1
 * with "path: strerror" or a parse error in err; af is then empty. */
int anchorfile_read(const char *path, struct anchor_file *af, char *err,
    size_t errlen);

/* Free what af holds and zero it.  Takes a zeroed or half-filled one, and
 * NULL. */
void anchorfile_free(struct anchor_file *af);

/*
 * The records a validator is to trust, as libunbound would: DS records
 * (seed, or in any state but REVOKED), DNSKEYs in state VALID or MISSING,
 * and seed DNSKEYs; never a DNSKEY with the REVOKE flag set (whatever its
 * state: a revoked seed is not trusted), and nothing at all if the file
 * says ";;REVOKED".
 * Returns a strcmp-sorted NULL-terminated array of copies of the keys' rr
 * strings, without duplicates, *n (may be NULL) set to their number, which
 * may be 0; free with anchorfile_free_set().  NULL on allocation failure.
 */
char **anchorfile_trusted(const struct anchor_file *af, size_t *n);

/* Free a set from anchorfile_trusted().  Takes NULL. */
void anchorfile_free_set(char **set);

/* A copy of a NULL-terminated set of records (free with
 * anchorfile_free_set); NULL on allocation failure. */
char **anchorfile_copy_set(char *const *set);

/* Whether two sorted sets (as anchorfile_trusted() returns) hold the same
 * records, whatever order the files had them in.  NULL equals only NULL. */
bool anchorfile_set_equal(char *const *a, char *const *b);

/* "SEED", "START", "ADDPEND", "VALID", "MISSING", "REVOKED", "REMOVED";
 * "UNKNOWN" for anything else.  Static strings. */
const char *anchor_key_state_str(int state);

/*
 * Replace the file at path with len bytes of data, whole or not at all:
 * write a temporary file in the same directory (mode 0644), fsync it,
 * rename it over path, fsync the directory.
 * Returns 0, or -1 with the path and strerror in err; the old file is then
 * untouched and no temporary file is left behind -- except when only the
 * final fsync of the directory failed ("replaced, but ..."): the new file
 * is then in place, but may not survive a crash.
 */
int anchorfile_write_atomic(const char *path, const void *data, size_t len,
    char *err, size_t errlen);

/* Print what the state file text (len bytes, named path) holds, as
 * dotsec-anchor show and dotsec-control anchor do: its keys with state,
 * trust and last change, then the probe times.  Returns 0, or -1 with the
 * reason in err. */
int anchorfile_show(const char *text, size_t len, const char *path,
    FILE *out, char *err, size_t errlen);

#endif /* DS_ANCHORFILE_H */
