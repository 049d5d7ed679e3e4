/*
 * n3model.h -- a model of one NSEC3-signed zone for the tests of
 * src/synth.c: its names and types, its NSEC3 chain (RFC 5155), what a
 * validating resolver concludes for any question (the truth), and the
 * reply a server gives and a validator passes on as secure, with its
 * proof records and placeholder signatures (synth checks their fields,
 * never the signature bytes: libunbound did that).
 *
 * The truth comes from the zone's content alone, not from the chain, so a
 * synthesised answer is checked against what the zone holds, as
 * libunbound's answer for the same question would be.
 */
#ifndef DS_N3MODEL_H
#define DS_N3MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define N3M_MAX_NAMES	512
#define N3M_MAX_TYPES	8

enum n3m_truth {
	N3M_ANSWER,		/* the name has the type */
	N3M_CNAME,		/* the name has a CNAME instead */
	N3M_NODATA,		/* the name exists (or is an empty
				   non-terminal) without the type */
	N3M_NXDOMAIN,
	N3M_WILD_ANSWER,	/* expanded from the wildcard */
	N3M_WILD_NODATA,	/* the wildcard exists without the type */
	N3M_WILD_CNAME,
	N3M_CUT,		/* at or below a delegation: another zone */
	N3M_OUTSIDE		/* not in the zone at all */
};

struct n3m_name {
	uint8_t wire[255];
	size_t len;
	uint16_t types[N3M_MAX_TYPES];
	unsigned ntypes;
	bool ds;		/* a delegation with a DS: signed child */
};

struct n3m_rec {		/* one NSEC3 record of the chain */
	uint8_t hash[20], next[20];
	uint8_t bitmap[64];
	size_t bmlen;
};

struct n3m_nsec {		/* one NSEC record (RFC 4034) */
	uint8_t owner[255], next[255];
	size_t olen, nlen;
	uint8_t bitmap[64];
	size_t bmlen;
};

struct n3model {
	uint8_t apex[255];
	size_t apex_len;
	uint16_t iterations;
	uint8_t salt[255];
	uint8_t saltlen;
	bool optout;		/* every record flagged, and unsigned
				   delegations left out (dnssec-signzone -A) */
	struct n3m_name names[N3M_MAX_NAMES];
	unsigned nnames;
	struct n3m_rec chain[2 * N3M_MAX_NAMES];
	unsigned nchain;
	bool nsec;		/* NSEC records instead (set it before
				   n3m_build); no opt-out then */
	struct n3m_nsec nsecs[N3M_MAX_NAMES];
	unsigned nnsec;
	uint32_t ttl;		/* of every record; SOA minimum too */
	int64_t wall;		/* signatures valid an hour before, a day
				   after */
};

/* A zone at apex (presentation, "sec.example."). */
void n3m_init(struct n3model *m, const char *apex, uint16_t iterations,
    const uint8_t *salt, uint8_t saltlen, bool optout, int64_t wall);

/* Add name (presentation, relative to the apex, "@" for it) with the
 * given types (0-terminated list; NS makes a delegation, whose child is
 * signed when ds).  Returns 0, -1 when full, malformed, there already,
 * or a wildcard with NS. */
int n3m_add(struct n3model *m, const char *name, const uint16_t *types,
    bool ds);

/* Compute the chain, after the last n3m_add. */
void n3m_build(struct n3model *m);

/* What a validator concludes for qname (wire) and qtype. */
enum n3m_truth n3m_truth(const struct n3model *m, const uint8_t *qname,
    size_t qlen, uint16_t qtype);

/* The rdata every A and TXT record of name has: derived from the name, so
 * that an expansion shows which wildcard it came from. */
size_t n3m_rdata(const uint8_t *owner, size_t olen, uint16_t type,
    uint8_t *out);

/* The reply a validator passes on as secure for qname/qtype, into out:
 * answer with signatures, or the proof (RFC 5155 section 7.2) with the
 * SOA.  0 when the validator would not call it secure (another zone, a
 * CNAME, an opt-out proof); -1 when out is too small. */
int n3m_reply(const struct n3model *m, const uint8_t *qname, size_t qlen,
    uint16_t qtype, uint8_t *out, size_t cap);

/* A question for name (wire) and type, class IN, as a parsed query. */
struct dnsmsg_query;
void n3m_query(struct dnsmsg_query *q, const uint8_t *name, size_t len,
    uint16_t type);

/* Wire form of a presentation name. */
int n3m_wire(const char *name, uint8_t *out);

#endif /* DS_N3MODEL_H */
