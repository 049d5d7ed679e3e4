/*
 * sigfilter.h -- a loopback DNS forwarder that leaves one RRSIG alone.
 *
 * dotsec-control explain shows, for each RRSIG on the path, whether the
 * validator accepts its RRset with that signature alone.  libunbound
 * says which RRsets verified, not which of their signatures did, and a
 * second validator of our own would not be its verdict.  So explain asks
 * a fresh libunbound context again through this forwarder, which passes
 * every question to the relay and, in every reply, drops the other
 * RRSIGs of the one RRset (owner, type covered): libunbound's verdict on
 * that RRset is then its verdict on the one signature.
 *
 * The forwarder is a thread with a UDP and a TCP socket on one loopback
 * port; it answers one request at a time (the explain context is
 * synchronous), and a relay that does not answer in time gets the
 * request dropped, as a lost datagram would be.
 */
#ifndef DOTSEC_SIGFILTER_H
#define DOTSEC_SIGFILTER_H

#include <stddef.h>
#include <stdint.h>

struct sigfilter;

/* Start forwarding to relay_ip@relay_port (UDP and TCP; an IPv4 address,
 * as the relay's always is), listening on relay_ip and a port of the
 * kernel's choice.  NULL on failure (logged). */
struct sigfilter *sigfilter_start(const char *relay_ip, unsigned relay_port);

/* The port it listens on (UDP and TCP alike). */
unsigned sigfilter_port(const struct sigfilter *f);

/* From now on, of the RRSIGs at owner (wire form, any case) covering
 * type covers, only the one whose RDATA is keep passes. */
int sigfilter_target(struct sigfilter *f, const uint8_t *owner,
    size_t owner_len, uint16_t covers, const uint8_t *keep, size_t keep_len);

/* Stop the thread and close the sockets. */
void sigfilter_stop(struct sigfilter *f);

/* The rewrite itself: copy the response msg into out with every name
 * written out whole, without the RRSIGs at owner covering covers other
 * than the one whose RDATA is keep (the section counts adjusted).
 * Returns the length written, -1 when msg is not a well-formed response,
 * -2 when outlen is too small. */
int sigfilter_rewrite(const uint8_t *msg, size_t len, const uint8_t *owner,
    size_t owner_len, uint16_t covers, const uint8_t *keep, size_t keep_len,
    uint8_t *out, size_t outlen);

#endif
