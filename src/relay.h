/*
 * relay.h -- the loopback endpoint libunbound forwards to.  Debian's
 * libunbound has no TLS, so it speaks clear DNS to this relay inside
 * dotsecd, which sends every query on through the worker's resolver
 * (getdns, strict DoT) with DO and CD, and returns the raw upstream reply
 * with the query's own ID and without the upstream's OPT options (padding).
 *
 * The relay listens on UDP and TCP on a random 127/8 address and port,
 * and accepts packets only from that same address (libunbound's
 * outgoing-interface), so that other local users cannot use it.
 */
#ifndef DS_RELAY_H
#define DS_RELAY_H

#include <stdint.h>
#include <time.h>

struct event_base;
struct resolver;
struct relay;

/* Start a relay on base in front of up (not owned): each question goes
 * to the resolver its route picks, and a special-use name is answered
 * here.  edns_size is the UDP size the relay advertises.  Returns NULL
 * after logging. */
struct stats;
struct upstreams;
/* st (may be NULL) gets the upstream counters: queries, errors, latency,
 * time of the last good reply. */
struct relay *relay_create(struct event_base *base, struct upstreams *up,
    uint16_t edns_size, unsigned max_inflight, struct stats *st);

/* Close the relay; queries in flight are cancelled.  Takes NULL. */
void relay_delete(struct relay *rl);

/* New queries go to up from now on (not owned); those in flight finish
 * on the resolver they were sent on. */
void relay_set_upstreams(struct relay *rl, struct upstreams *up);

/* Share the DS and DNSKEY replies (but the root's DNSKEY) with the other
 * workers' relays through kc (not owned; NULL: none), before the loop
 * runs. */
struct frontcache;
void relay_set_keycache(struct relay *rl, struct frontcache *kc);

/* The relay's address ("127.a.b.c") and port. */
const char *relay_ip(const struct relay *rl);
unsigned relay_port(const struct relay *rl);

/* Number of upstream queries sent, and failed, since start. */
uint64_t relay_queries(const struct relay *rl);
uint64_t relay_failures(const struct relay *rl);

/* Questions answered by a query already in flight (not sent again). */
uint64_t relay_merged(const struct relay *rl);

#endif /* DS_RELAY_H */
