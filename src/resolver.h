/*
 * resolver.h -- the only way out of the host: one getdns context per worker
 * in stub mode, transport list TLS alone, authentication REQUIRED, bound to
 * the worker's libevent loop.  Every query carries DO and CD, so the
 * upstream returns DNSSEC data and cannot hide bogus answers behind its own
 * validation.
 */
#ifndef DS_RESOLVER_H
#define DS_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct ds_config;
struct resolver;
struct getdns_context;

/*
 * Called once per resolver_query() that was not cancelled, from the
 * worker's event loop.  On success status is 0 and reply/len hold the
 * upstream's raw reply; they are valid only until the callback returns.
 * On failure status is -1, reply is NULL, and why says what failed, in
 * plain words and without the upstream's address (resolver_last_error).
 */
typedef void (*resolver_done_fn)(void *arg, int status, const uint8_t *reply,
    size_t len, const char *why);

/* Create a context for cfg on base (cfg is read, not kept, except for
 * the per-upstream counters of resolver_set_stats): for the default
 * upstreams when zone is NULL, else for that forward zone's (its
 * tls_ca_file, or the top level's; with transport plain, UDP and TCP
 * without TLS); all of them, or with only >= 0 the one at that index
 * alone.  Returns NULL after logging the getdns error on failure. */
struct ds_fwd_zone;
struct resolver *resolver_create(struct event_base *base,
    const struct ds_config *cfg, const struct ds_fwd_zone *zone, int only);

struct stats;
/* Count each upstream's TLS handshakes and failures (from getdns's
 * connection log) in st, by the upstream's index in cfg. */
void resolver_set_stats(struct resolver *r, struct stats *st);

/* Free r; pending queries are cancelled without their callbacks.  Takes
 * NULL. */
void resolver_delete(struct resolver *r);

/* Ask the upstreams for name (presentation format, fully qualified) and
 * qtype, class IN, with DO and CD set.  Returns 0 and sets *id, or -1 after
 * logging (cb is then never called).  getdns may call cb before
 * resolver_query returns; *id is written after that. */
int resolver_query(struct resolver *r, const char *name, uint16_t qtype,
    resolver_done_fn cb, void *arg, uint64_t *id);

/* Cancel a query: its callback will not be called. */
void resolver_cancel(struct resolver *r, uint64_t id);

/* Why the last query failed (in its callback or in resolver_query), or
 * NULL when none has failed yet: the last failure of the upstream, in
 * plain words, from getdns's connection log and the state of the
 * connection's socket:
 *   "TLS authentication failed (hostname mismatch)", "... (untrusted
 *   CA)", "... (pin mismatch)", "... (no certificate)", "... (TEXT)"
 *   with OpenSSL's text for any other certificate error (see
 *   resolver_verify_reason);
 *   "connection refused" (a reset came back), "unreachable" (an ICMP
 *   error), "could not connect";
 *   "TLS handshake failed" (TCP was up), "connection lost" (TLS was up);
 *   "timed out connecting", "timed out in the TLS handshake", "timed out
 *   (no answer)" (resolver_timeout_reason).
 * While getdns backs the upstream off after failures, resolver_query
 * fails at once with the last of them.  Meant for contexts with one
 * upstream (only >= 0), as dotsecd makes them. */
const char *resolver_last_error(const struct resolver *r);

/* Why the upstream would be silent now, by how far its connection came:
 * "timed out connecting" (no TCP connection yet), "timed out in the TLS
 * handshake" or "timed out (no answer)". */
const char *resolver_timeout_reason(const struct resolver *r);

/* Whether r has no connection to set up before a query goes out: a
 * plain forward zone's UDP, or a connection that is up (TCP and TLS done,
 * or a reply came on it).  Then a query's time to its answer is the
 * upstream's round trip, and silence means the upstream, not the
 * handshake. */
bool resolver_ready(const struct resolver *r);

/* If line is getdns 1.6.0's log line of a failed certificate check
 * ("ADDR : Verify failed : TLS - *Failure* - (62) \"hostname
 * mismatch\"", or "... -  Pinset validation failure"), write the failure
 * in plain words to out ("TLS authentication failed (hostname
 * mismatch)") and return true; else false.  pinned: the upstream has a
 * pinset, so that a certificate without a trusted chain means that no
 * pinned key matched.  For tests. */
bool resolver_verify_reason(const char *line, bool pinned, char *out,
    size_t outlen);

/* The getdns context, for tests and diagnostics: read it, never change
 * it. */
struct getdns_context *resolver_context(struct resolver *r);

/* Text describing the upstreams, e.g. "127.0.0.1@853#dns.test", for logs
 * and EDE text. */
const char *resolver_upstreams_str(const struct resolver *r);

#endif /* DS_RESOLVER_H */
