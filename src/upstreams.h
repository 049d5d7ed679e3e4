/*
 * upstreams.h -- the upstreams of one configuration's routes, and their
 * health: the default upstreams and each forward zone's, one getdns
 * context per upstream, with the route table (route.h) that picks the
 * route.  A worker holds one set; a reload that changes any upstream or
 * route builds a new set, and the old one lives on until its queries are
 * done.
 *
 * dotsecd, not getdns, decides which upstream of a route gets a query:
 * the first usable one (round_robin_upstreams: 0) or the next usable one
 * in turn (1).  An upstream is unusable from the moment it fails a query
 * (no connection, TLS authentication failed, getdns's timeout) or stays
 * silent for upstream_stall_timeout (or four times its smoothed RTT, if
 * longer) while queries wait on it: its waiting queries are sent again to
 * another upstream of the route at once, its connection is closed, and it
 * is probed in the background (". NS", once a second) until it answers.
 * No client waits on it meanwhile.  When every upstream of a route is
 * unusable, the one that failed first is tried anyway.
 *
 * Each upstream keeps its last failure in plain words (resolver.h,
 * resolver_last_error: "TLS authentication failed (hostname mismatch)",
 * "connection refused", "timed out in the TLS handshake", ...) and when it
 * came; an answer from it, or UPSTREAMS_FAILURE_AGE seconds, forget it.
 * A query that fails for good is told every upstream of its route with
 * its last failure (upstreams_failure_text), which the client gets as
 * the text of its EDE.
 */
#ifndef DS_UPSTREAMS_H
#define DS_UPSTREAMS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "resolver.h"

struct event_base;
struct ds_config;
struct dnsmsg_query;
struct route;
struct stats;
struct upstreams;

/* A failure older than this (seconds) is not reported. */
#define UPSTREAMS_FAILURE_AGE	300

/* Build the set for cfg (kept: it must outlive the set) on base; st (may
 * be NULL) gets the per-zone query counters and the default upstreams'
 * per-upstream counters and states.  Returns NULL after logging. */
struct upstreams *upstreams_create(struct event_base *base,
    const struct ds_config *cfg, struct stats *st);

/* Free u and its contexts; queries in flight are dropped without their
 * callbacks (call upstreams_fail_all first to answer them).  Takes
 * NULL. */
void upstreams_delete(struct upstreams *u);

/* Send q (name: its presentation form) to an upstream of its route, with
 * DO and CD, as resolver_query does; q's name must not be one served
 * locally (route_lookup on upstreams_route).  cb is called once, from the
 * loop, possibly before upstreams_query returns, unless cancelled.
 * Returns 0 and sets *id, or -1 (cb never called; upstreams_last_error
 * says why). */
int upstreams_query(struct upstreams *u, const struct dnsmsg_query *q,
    const char *name, resolver_done_fn cb, void *arg, uint64_t *id);

/* Cancel a query: its callback will not be called. */
void upstreams_cancel(struct upstreams *u, uint64_t id);

/* Call every waiting query's callback with a failure, now: before a
 * replaced set is deleted. */
void upstreams_fail_all(struct upstreams *u, const char *why);

/* Why the last query failed (upstreams_failure_text of its route), or
 * NULL. */
const char *upstreams_last_error(const struct upstreams *u);

/* The upstreams of the route of q's name and the last failure of each, for
 * the EDE text of a SERVFAIL: "ADDR[@PORT]: reason; ADDR: reason", in the
 * order of the configuration, the port only when it is not the
 * transport's usual one (853, or 53 for a plain forward zone); an
 * upstream without a failure in the last UPSTREAMS_FAILURE_AGE seconds,
 * or with an answer since, as "ADDR: no recent failure".  At most len - 1
 * bytes (len > 0): cut at the end of an entry with "; ..." (or within the
 * first with "...").  When no upstream of a forward zone's route has a
 * fresh failure, the default route's, which the validator asks for the
 * zones above it.  Returns the length written; 0, with buf "", when no
 * upstream of those routes has a fresh failure (or the name is served
 * locally). */
size_t upstreams_failure_text(const struct upstreams *u,
    const struct dnsmsg_query *q, char *buf, size_t len);

/* For a status report, from the thread whose loop runs u: the number of
 * default upstreams; and for upstream i of them (configuration order)
 * its address as upstreams_failure_text writes it (*addr, if addr is not
 * NULL; valid as long as u) and its last failure: the text (valid until
 * u's loop runs again), with its wall-clock time in *when (if not NULL);
 * NULL when it has none within UPSTREAMS_FAILURE_AGE seconds and no
 * answer since, or when i is out of range. */
size_t upstreams_default_count(const struct upstreams *u);
const char *upstreams_default_failure(const struct upstreams *u, size_t i,
    const char **addr, time_t *when);

/* The route table. */
const struct route *upstreams_route(const struct upstreams *u);

/* The default upstreams, as text, for logs. */
const char *upstreams_default_str(const struct upstreams *u);

/* An upstream's round trip, the time from query to answer of those sent
 * on a connection already up, smoothed as TCP smooths its own (RFC 6298):
 * srtt and its mean deviation rttvar, in microseconds; n answers measured
 * (capped at UPSTREAM_RTT_CAP).  Zeroed: nothing measured yet. */
#define UPSTREAM_RTT_CAP	1000
struct upstream_rtt {
	long long srtt_us;
	long long rttvar_us;
	unsigned n;
};

/* Add one answer's round trip (us; below 0 counts as 0) to r. */
void upstream_rtt_sample(struct upstream_rtt *r, long long us);

/* How long (ms) an upstream measured as r must have been silent, with a
 * query waiting on it as long, before that query is also sent to another
 * upstream (a hedge), given upstream_stall_timeout stall_ms: the larger
 * of two round trips and srtt + 4 rttvar (TCP's retransmission time-out:
 * three round trips after the first answer, and longer for an upstream
 * whose answers vary), at least a sixteenth of the stall time and at most
 * half of it; a quarter of the stall time until an answer has measured
 * it. */
long long upstream_hedge_ms(const struct upstream_rtt *r, long long stall_ms);

#endif /* DS_UPSTREAMS_H */
