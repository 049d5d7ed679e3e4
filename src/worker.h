/*
 * worker.h -- one thread with its own libevent loop, listeners, getdns
 * context (resolver), relay and libunbound context (validator), and the
 * policy that turns a client's query into a validated, shaped reply:
 *
 *   parse (FORMERR/NOTIMP/REFUSED/BADVERS, or drop)
 *   CD=1 -> resolver directly -> reply without AD, bogus data included
 *   else -> validator -> secure: AD (if DO or AD) | insecure: no AD |
 *           bogus: SERVFAIL + EDE | failed: SERVFAIL + EDE 22
 *   a deadline per query: SERVFAIL + EDE 22 when the upstream is silent.
 */
#ifndef DS_WORKER_H
#define DS_WORKER_H

struct ds_config;
struct worker;
struct tlsserve;

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "listener.h"

struct event_base;
struct stats;

/* The most workers a dotsecd runs (workers: 0..64, 0 one per CPU). */
#define DS_MAX_WORKERS 64

/* Build worker number index for cfg (kept, not copied: it must outlive the
 * worker), serving the bound sockets fds[0..nfds-1] of transports
 * types[0..nfds-1] (DS_TLS ones with the certificates of tls, which must
 * outlive the worker), and trusting anchors (copied).  The
 * worker owns the fds from here on, also on failure.  Returns NULL after
 * logging. */
struct worker *worker_create(const struct ds_config *cfg, unsigned index,
    const int *fds, const enum ds_transport *types, unsigned nfds,
    struct tlsserve *tls, char *const *anchors);

/* Give the worker a new set of trust anchors (copied), from any thread.
 * Between two queries the worker builds a new validator with them and
 * swaps it in; queries in flight finish on the old one, which is freed
 * when they are done.  If the new validator cannot be built, the old one
 * stays (logged). */
void worker_set_anchors(struct worker *w, char *const *anchors);

/* Give the worker a new configuration (kept, not copied: it must outlive
 * the worker), from any thread.  Between two queries the worker takes it:
 * new upstream or TLS settings get a new getdns context (queries in
 * flight finish on the old one), new cache settings a new validator
 * (its cache starts empty), a new rate limit a new table; everything
 * else the query path reads from the configuration directly. */
void worker_reconfigure(struct worker *w, const struct ds_config *cfg);

/* The worker's loop and relay, for the trust anchor prober. */
struct event_base *worker_base(struct worker *w);
const char *worker_relay_ip(const struct worker *w);
unsigned worker_relay_port(const struct worker *w);

/* Run the worker's loop in a new thread.  Returns 0 or -1 after logging. */
int worker_start(struct worker *w);

/* Ask the loop to stop (from any thread) and wait for the thread.  With
 * drain_ms > 0 the worker first stops taking queries and answers those in
 * flight, for at most drain_ms. */
void worker_stop(struct worker *w, unsigned drain_ms);

/* Log every query to f (shared by the workers, not owned); NULL: off.
 * Call before worker_start. */
void worker_set_query_log(struct worker *w, FILE *f);

/* Answer from fc (shared by the workers, not owned) before libunbound,
 * and store validated answers in it; NULL: off.  Call before
 * worker_start. */
struct frontcache;
void worker_set_frontcache(struct worker *w, struct frontcache *fc);

/* Share the relays' DS and DNSKEY replies through kc (not owned), before
 * the loop starts (relay.h). */
void worker_set_keycache(struct worker *w, struct frontcache *kc);

/* Answer from, and teach, the validated NSEC3 records of s (shared by the
 * workers, not owned; synth.h) when aggressive_nsec is on; before the
 * loop starts. */
struct synth;
void worker_set_synth(struct worker *w, struct synth *s);

/*
 * Flush (dotsec-control flush): the worker renews its validator (a fresh
 * libunbound context: libunbound has no flush of its own), so that its
 * cached data is gone, no answer from before is cached any more, and then
 * drops the matching entries of the answer cache and the key cache.  Each
 * worker drops them after its own renewal, so the last one to finish
 * leaves no old data behind.  fw counts the workers still to finish; each
 * signals it when done, and the last holder frees it.
 */
struct flush_wait {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned left;		/* workers not done */
	unsigned refs;		/* the caller, and each worker holding it */
};
enum fc_drop;
/* From any thread.  Returns 0, or -1 when a flush is still pending on
 * this worker (fw untouched). */
int worker_flush(struct worker *w, enum fc_drop how, const uint8_t *name,
    size_t len, uint16_t qtype, struct flush_wait *fw);
/* Drop a reference to fw; the last frees it. */
void flush_wait_release(struct flush_wait *fw);

/* Queries of this worker waiting for an answer (from any thread). */
unsigned worker_waiting(struct worker *w);

/* The worker's counters (read from any thread). */
struct stats *worker_stats(struct worker *w);

/* Free a stopped (or never started) worker.  Takes NULL. */
void worker_delete(struct worker *w);

#endif /* DS_WORKER_H */
