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
 */
#ifndef DS_UPSTREAMS_H
#define DS_UPSTREAMS_H

#include <stddef.h>
#include <stdint.h>

#include "resolver.h"

struct event_base;
struct ds_config;
struct dnsmsg_query;
struct route;
struct stats;
struct upstreams;

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

/* Why the last query failed, or NULL. */
const char *upstreams_last_error(const struct upstreams *u);

/* The route table. */
const struct route *upstreams_route(const struct upstreams *u);

/* The default upstreams, as text, for logs. */
const char *upstreams_default_str(const struct upstreams *u);

#endif /* DS_UPSTREAMS_H */
