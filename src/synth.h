/*
 * synth.h -- answers made here from validated NSEC3 and NSEC records:
 * aggressive use of the DNSSEC-validated cache (RFC 8198).  libunbound
 * does it only for NSEC, and slowly for names under a wildcard (each
 * costs more CPU than a miss); for NSEC3 zones (RFC 5155) not at all.
 *
 * It learns from replies that libunbound validated as secure: the NSEC3
 * and NSEC records of their authority section with the RRSIGs that came
 * with them,
 * the zone's SOA, and the RRsets that were expanded from a wildcard (an
 * RRSIG whose label count is less than its owner's).  For a later question
 * in the same zone it builds, without asking anyone, the reply a
 * validating resolver would give, with the proof a validator needs (RFC
 * 5155 section 7.2):
 *   - NODATA: the NSEC3 matching the name, without the type or CNAME;
 *   - NXDOMAIN: the closest encloser's NSEC3, the NSEC3 covering the next
 *     closer name and the one covering the wildcard at the closest
 *     encloser, and the SOA;
 *   - wildcard NODATA: the closest encloser, the next closer name's cover,
 *     and the wildcard's NSEC3 without the type or CNAME;
 *   - wildcard answer: a learnt wildcard RRset expanded to the name, with
 *     the NSEC3 covering the next closer name.
 * From NSEC records (RFC 4035 section 5.4) the same four, with the NSEC
 * matching the name, or covering it and, where needed, the wildcard at
 * the closest encloser (the longest ancestor of the name that the covering
 * NSEC's owner or next name lies at or below); a name whose covering
 * NSEC's next name is below it is an empty non-terminal: NODATA.
 * It never answers: a DS question, a meta or DNSSEC type; from an opt-out
 * NSEC3 for the next closer name or the wildcard (opt-out proves only
 * that no secure delegation exists); across a zone cut (a closest
 * encloser or a name with NS and no SOA, or with a DNAME, or an NSEC
 * owner with them above the name); with NSEC3
 * parameters other than SHA-1, flags other than opt-out, or more than
 * SYNTH_MAX_ITERATIONS iterations (RFC 9276); mixing two NSEC3 chains of a
 * zone (a re-sign with new parameters).  Every record of a synthesised
 * reply has the smallest TTL left of the records used (and, for a
 * negative answer, of the SOA's minimum field); a record's TTL never runs
 * past the expiration of its signatures.
 *
 * Whether a name may be answered here at all (the default route, no
 * negative trust anchor) is the caller's question.  The store is shared
 * by the workers under one lock and bounded in bytes: expired records go
 * first, then whole zones, least recently used first; a zone alone larger
 * than the bound loses every other record instead.
 */
#ifndef DS_SYNTH_H
#define DS_SYNTH_H

#include <stddef.h>
#include <stdint.h>

struct dnsmsg_query;
struct synth;

/* RFC 9276 section 3.2: no proof from a chain with more iterations (libunbound
 * 1.17 treats more than 150 as insecure). */
#define SYNTH_MAX_ITERATIONS	100

enum synth_kind {
	SYNTH_NONE = 0,
	SYNTH_NODATA,
	SYNTH_NXDOMAIN,
	SYNTH_WILDCARD_NODATA,
	SYNTH_WILDCARD
};

struct synth_stats {
	unsigned long long answers[SYNTH_WILDCARD + 1];	/* by kind */
	unsigned long long learnt;	/* records stored or renewed */
	size_t zones, records, bytes, max_bytes;
};

/* A store of at most max_bytes.  NULL on failure (logged). */
struct synth *synth_create(size_t max_bytes);
void synth_delete(struct synth *s);

/* A new bound (a reload): zones go until the store fits it. */
void synth_set_limit(struct synth *s, size_t max_bytes, uint32_t now);

/* Learn from pkt, libunbound's reply to q that it validated as secure,
 * received at now (the monotonic seconds of the caches) and wall (seconds
 * since the epoch, for the signatures' validity).  Anything it cannot use
 * is ignored. */
void synth_learn(struct synth *s, const struct dnsmsg_query *q,
    const uint8_t *pkt, size_t len, uint32_t now, int64_t wall);

/* A reply to q built from what was learnt, in the form libunbound gives
 * (ID 0, QR, RD, RA and AD set, DNSSEC records included, no OPT) for the
 * caller to shape for its client.  Returns its length, 0 when q cannot
 * be answered here, -1 when out is too small.  *kind, when not NULL, says
 * which proof it is. */
int synth_answer(struct synth *s, const struct dnsmsg_query *q, uint32_t now,
    uint8_t *out, size_t outcap, enum synth_kind *kind);

/* Forget every zone that could speak for name (wire form, any case) or a
 * name below it: the zones at and below it and those above it.  With
 * name NULL, forget everything.  Returns how many zones were dropped. */
size_t synth_drop(struct synth *s, const uint8_t *name, size_t len);

void synth_get_stats(struct synth *s, struct synth_stats *st);

#endif /* DS_SYNTH_H */
