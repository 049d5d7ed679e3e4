/*
 * explain.h -- dotsec-control explain: why a name validates or fails.
 *
 * A libunbound context of its own (no cache: every question is asked
 * again; the workers' caches are neither read nor changed, though DS and
 * DNSKEY replies may come from the key cache the relays share, which only
 * holds the upstream's replies for their TTL) resolves, for the root and
 * each name between it and NAME, its SOA (to find the zone cuts), DNSKEY
 * and DS, then NAME itself, and prints what came back: the records, their
 * RRSIGs, the proofs of denial, and libunbound's own verdict for each.
 * The verdict is the validator's, never a second opinion: this code checks
 * no signature; it only computes key tags and DS digests to say which key
 * a DS names.  Each RRSIG gets the reply's verdict when it is the only one
 * of its RRset; one of several gets the verdict of a fresh context asked
 * the same question through sigfilter.h, which leaves it alone.
 */
#ifndef DS_EXPLAIN_H
#define DS_EXPLAIN_H

#include <stdbool.h>
#include <stdint.h>

struct ds_config;
struct evbuffer;

/* Explain name/qtype into out (text, or JSON with json).  Blocks while it
 * resolves: call it from a thread that is not the relay's.  Returns 0, or
 * -1 with the reason in out. */
int explain_run(const struct ds_config *cfg, char *const *anchors,
    const char *relay_ip, unsigned relay_port, const char *name,
    uint16_t qtype, bool json, struct evbuffer *out);

#endif /* DS_EXPLAIN_H */
