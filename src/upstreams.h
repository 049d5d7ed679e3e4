/*
 * upstreams.h -- the resolvers of one configuration's routes: the default
 * upstreams and one getdns context per forward zone, with the route table
 * (route.h) that picks among them.  A worker holds one set; a reload that
 * changes any upstream or route builds a new set, and the old one lives on
 * until its queries are done.
 */
#ifndef DS_UPSTREAMS_H
#define DS_UPSTREAMS_H

#include <stddef.h>

struct event_base;
struct ds_config;
struct dnsmsg_query;
struct resolver;
struct route;
struct stats;
struct upstreams;

/* Build the set for cfg (kept: it must outlive the set) on base; st (may
 * be NULL) gets the per-zone query counters and the default upstreams'
 * per-upstream counters.  Returns NULL after logging. */
struct upstreams *upstreams_create(struct event_base *base,
    const struct ds_config *cfg, struct stats *st);

/* Free u and its resolvers (their queries are cancelled without
 * callbacks).  Takes NULL. */
void upstreams_delete(struct upstreams *u);

/* The resolver that q goes to, counted for its forward zone; NULL when
 * q's name is served locally (route_local on upstreams_route). */
struct resolver *upstreams_pick(struct upstreams *u,
    const struct dnsmsg_query *q);

/* The default upstreams' resolver. */
struct resolver *upstreams_default(struct upstreams *u);

/* The route table. */
const struct route *upstreams_route(const struct upstreams *u);

/* Every resolver of the set, i < upstreams_count(u). */
size_t upstreams_count(const struct upstreams *u);
struct resolver *upstreams_get(struct upstreams *u, size_t i);

#endif /* DS_UPSTREAMS_H */
