/*
 * upstreams.c -- one resolver per route of a configuration.
 */
#include "config.h"

#include <stdlib.h>

#include "dnsmsg.h"
#include "dsconfig.h"
#include "log.h"
#include "resolver.h"
#include "route.h"
#include "stats.h"
#include "upstreams.h"

struct upstreams {
	const struct ds_config *cfg;
	struct route *rt;
	struct stats *st;
	size_t n;		/* 1 + cfg->nfwd_zones */
	struct resolver *res[];	/* [0] the default, [1 + i] zone i */
};

struct upstreams *
upstreams_create(struct event_base *base, const struct ds_config *cfg,
    struct stats *st)
{
	struct upstreams *u;
	size_t i;

	if ((u = calloc(1, sizeof(*u) + (1 + cfg->nfwd_zones) *
	    sizeof(u->res[0]))) == NULL) {
		ds_err("upstreams: out of memory");
		return NULL;
	}
	u->cfg = cfg;
	u->st = st;
	u->n = 1 + cfg->nfwd_zones;
	if ((u->rt = route_create(cfg)) == NULL ||
	    (u->res[0] = resolver_create(base, cfg, NULL)) == NULL)
		goto fail;
	resolver_set_stats(u->res[0], st);
	for (i = 0; i < cfg->nfwd_zones; i++) {
		if ((u->res[1 + i] = resolver_create(base, cfg,
		    &cfg->fwd_zones[i])) == NULL) {
			ds_err("forward zone %s: its upstreams are not usable",
			    cfg->fwd_zones[i].name);
			goto fail;
		}
	}
	return u;
fail:
	upstreams_delete(u);
	return NULL;
}

void
upstreams_delete(struct upstreams *u)
{
	size_t i;

	if (u == NULL)
		return;
	for (i = 0; i < u->n; i++)
		resolver_delete(u->res[i]);
	route_delete(u->rt);
	free(u);
}

struct resolver *
upstreams_pick(struct upstreams *u, const struct dnsmsg_query *q)
{
	int r = route_lookup(u->rt, q->qname, q->qname_len, q->qtype);

	if (r == ROUTE_LOCAL)
		return NULL;
	if (r == ROUTE_DEFAULT)
		return u->res[0];
	if (u->st != NULL && r < STATS_ZONES)
		stats_inc(&u->st->fwd_queries[r]);
	return u->res[1 + r];
}

struct resolver *
upstreams_default(struct upstreams *u)
{
	return u->res[0];
}

const struct route *
upstreams_route(const struct upstreams *u)
{
	return u->rt;
}

size_t
upstreams_count(const struct upstreams *u)
{
	return u->n;
}

struct resolver *
upstreams_get(struct upstreams *u, size_t i)
{
	return u->res[i];
}
