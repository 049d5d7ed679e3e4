/*
 * upstreams.c -- one getdns context per upstream of each route, and the
 * health of each: failover within upstream_stall_timeout, probes back.
 *
 * A query whose upstream has been silent on an established connection (or
 * at all, for plain DNS) for two round trips, or TCP's retransmission
 * time-out if longer (upstream_hedge_ms: between a sixteenth and half of
 * upstream_stall_timeout; a quarter until its round trip is known, from
 * answers to queries sent on a connection already up) is also sent to
 * another usable upstream: a hedge, a second struct uq whose parent is
 * the query.  The first answer wins.  When the hedge's does, the query's
 * request on the silent upstream stays (the query without a callback, id
 * 0): it still counts as waiting there, so that a dark upstream is found
 * unusable after upstream_stall_timeout as before, and a late answer
 * still tells that it lives.  So a query sent just as its upstream went
 * dark waits a few round trips, not the whole stall time.  A plain
 * forward zone's upstream has no connection to wait for and is hedged
 * alike.  (A connection still being set up is left to the stall time and
 * getdns's own time-outs: its handshake takes round trips a hedge cannot
 * know.)
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "clock.h"
#include "dnsmsg.h"
#include "dsconfig.h"
#include "log.h"
#include "resolver.h"
#include "route.h"
#include "stats.h"
#include "upstreams.h"

#define TICK_MS		10	/* how often silence is checked */
#define PROBE_EVERY_MS	1000	/* a probe of an unusable upstream */
#define PROBE_WAIT_MS	2000	/* a probe unanswered this long failed */
#define HEDGES_PER_TICK	256	/* at most, the rest at the next tick */

struct pool;
struct uq;

struct member {
	struct pool *p;
	int index;		/* in the route's upstream list */
	struct resolver *res;	/* NULL if it could not be made */
	char name[160];		/* "ADDR@PORT#AUTHNAME" */
	unsigned outstanding;	/* queries waiting on it */
	struct timespec waiting_since;	/* since then no reply came while
					   queries waited */
	struct upstream_rtt rtt;	/* its round trip */
	bool down;
	struct timespec down_at;
	bool probing;
	uint64_t probe_id;
	struct timespec probe_at;
	char addr[80];		/* "ADDR", or "ADDR@PORT" when the port is
				   not the transport's usual one */
	char why[200];		/* its last failure, "" after a success */
	struct timespec why_at;	/* when (monotonic) */
	time_t why_wall;	/* when (wall clock) */
};

struct pool {
	struct upstreams *u;
	const struct ds_fwd_zone *zone;	/* NULL: the default upstreams */
	size_t next;		/* round robin */
	size_t n;
	struct member *m;
};

/* A query in flight on a member; it moves to another member on failure. */
struct uq {
	struct upstreams *u;
	struct pool *p;
	struct member *m;
	uint64_t id, rid;	/* ours, and the resolver's */
	resolver_done_fn cb;
	void *arg;
	char *name;
	uint16_t qtype;
	unsigned tries;
	struct timespec sent;	/* to its current member */
	bool on_ready;		/* ... on a connection already up: its
				   answer times the round trip */
	bool submitting;	/* inside resolver_query */
	bool moving;		/* being sent again after a stall */
	bool cancelled;		/* ... and cancelled meanwhile */
	bool sync_failed;	/* ... which called back with a failure */
	bool sync_done;		/* ... which called back with the answer */
	bool leg_dead;		/* its request on m failed or was cancelled:
				   its hedge carries it */
	bool hedged;		/* a hedge was sent (once per query) */
	struct uq *hedge;	/* its hedge in flight, or NULL */
	struct uq *parent;	/* a hedge: the query it doubles (id 0) */
	/* cb NULL: answered by its hedge; only its request on m is left. */
	struct uq *next, *prev;
};

struct upstreams {
	const struct ds_config *cfg;
	struct event_base *base;
	struct route *rt;
	struct stats *st;
	struct event *tick;
	bool ticking;
	uint64_t next_id;
	struct uq *uqs;
	size_t npools;		/* 1 + cfg->nfwd_zones */
	struct pool *pools;	/* [0] the default, [1 + i] zone i */
	char last_error[600];
	char default_str[512];
};

static void member_done(void *, int, const uint8_t *, size_t, const char *);
static void hedge_done(void *, int, const uint8_t *, size_t, const char *);
static void tick(evutil_socket_t, short, void *);
static int dispatch(struct uq *, const struct member *);

static void
now_ts(struct timespec *t)
{
	clock_gettime(CLOCK_MONOTONIC, t);
}

/* The default upstreams' counters, by index (stats.h). */
static bool
counted(const struct member *m)
{
	return m->p->zone == NULL && m->p->u->st != NULL &&
	    m->index < STATS_UPSTREAMS;
}

static void
arm_tick(struct upstreams *u)
{
	struct timeval tv = { 0, TICK_MS * 1000 };

	if (!u->ticking) {
		u->ticking = true;
		evtimer_add(u->tick, &tv);
	}
}

/* A new context for m: a fresh connection on its next query. */
static void
member_renew(struct member *m)
{
	struct upstreams *u = m->p->u;

	resolver_delete(m->res);
	m->res = resolver_create(u->base, u->cfg, m->p->zone, m->index);
	if (m->res == NULL)
		ds_err("upstream %s: no getdns context; it stays unusable",
		    m->name);
	else if (m->p->zone == NULL)
		resolver_set_stats(m->res, u->st);
}

/* m's last failure is why (in plain words: resolver_last_error). */
static void
member_failed(struct member *m, const char *why)
{
	snprintf(m->why, sizeof(m->why), "%s", why ? why : "failed");
	now_ts(&m->why_at);
	m->why_wall = time(NULL);
	if (counted(m))
		stats_upstream_error(m->p->u->st, m->index, m->why);
}

/* The failure is fresh: recent, and no success since. */
static bool
failure_fresh(const struct member *m)
{
	return m->why[0] != '\0' &&
	    ms_since(&m->why_at) <= UPSTREAMS_FAILURE_AGE * 1000LL;
}

/* m failed (why; detail, if not NULL, only for the log): unusable. */
static void
member_down(struct member *m, const char *why, const char *detail)
{
	member_failed(m, why);
	if (m->down)
		return;
	m->down = true;
	now_ts(&m->down_at);
	m->probe_at = m->down_at;
	if (counted(m)) {
		atomic_store_explicit(&m->p->u->st->up_down[m->index], 1,
		    memory_order_relaxed);
		stats_inc(&m->p->u->st->up_failovers[m->index]);
	}
	ds_warn("upstream %s%s%s unusable: %s%s%s%s", m->name, m->p->zone ?
	    " of forward zone " : "", m->p->zone ? m->p->zone->name : "",
	    m->why, detail ? " (" : "", detail ? detail : "",
	    detail ? ")" : "");
	arm_tick(m->p->u);
}

static void
member_up(struct member *m)
{
	if (m->why[0] != '\0' && counted(m))
		stats_upstream_error(m->p->u->st, m->index, NULL);
	m->why[0] = '\0';
	if (!m->down)
		return;
	m->down = false;
	if (counted(m))
		atomic_store_explicit(&m->p->u->st->up_down[m->index], 0,
		    memory_order_relaxed);
	ds_notice("upstream %s%s%s usable again after %lld ms", m->name,
	    m->p->zone ? " of forward zone " : "", m->p->zone ?
	    m->p->zone->name : "", ms_since(&m->down_at));
}

/* Silence longer than this, with queries waiting, makes m unusable. */
static long long
stall_ms(const struct member *m)
{
	const struct ds_config *cfg = m->p->u->cfg;
	long long t = cfg->upstream_stall_ms;

	if (m->rtt.srtt_us / 1000 * 4 > t)
		t = m->rtt.srtt_us / 1000 * 4;
	return t;
}

void
upstream_rtt_sample(struct upstream_rtt *r, long long us)
{
	long long d;

	if (us < 0)
		us = 0;
	if (r->n == 0) {
		r->srtt_us = us;
		r->rttvar_us = us / 2;
	} else {
		d = r->srtt_us > us ? r->srtt_us - us : us - r->srtt_us;
		r->rttvar_us = (3 * r->rttvar_us + d) / 4;
		r->srtt_us = (7 * r->srtt_us + us) / 8;
	}
	if (r->n < UPSTREAM_RTT_CAP)
		r->n++;
}

long long
upstream_hedge_ms(const struct upstream_rtt *r, long long stall_ms)
{
	long long t, rto;

	if (r->n == 0)
		return stall_ms / 4;
	t = 2 * r->srtt_us;
	rto = r->srtt_us + 4 * r->rttvar_us;
	if (rto > t)
		t = rto;
	t = (t + 999) / 1000;
	if (t < stall_ms / 16)
		t = stall_ms / 16;
	if (t > stall_ms / 2)
		t = stall_ms / 2;
	return t;
}

/* Silence this long, with q waiting as long, sends q to another
 * upstream as well. */
static long long
hedge_ms(const struct member *m)
{
	return upstream_hedge_ms(&m->rtt, m->p->u->cfg->upstream_stall_ms);
}

/* The member for the next query of p, other than not: the first usable
 * one (ordered) or the next usable one in turn (round robin); when none
 * is usable, the one that failed first, tried anyway.  NULL if there is
 * no other member at all. */
static struct member *
choose(struct pool *p, const struct member *not)
{
	struct member *best = NULL;
	size_t i, k;

	for (k = 0; k < p->n; k++) {
		i = p->u->cfg->round_robin ? (p->next + k) % p->n : k;
		if (&p->m[i] == not || p->m[i].res == NULL || p->m[i].down)
			continue;
		if (p->u->cfg->round_robin)
			p->next = (i + 1) % p->n;
		return &p->m[i];
	}
	for (i = 0; i < p->n; i++) {
		struct member *m = &p->m[i];

		if (m == not || m->res == NULL)
			continue;
		if (best == NULL || m->down_at.tv_sec < best->down_at.tv_sec ||
		    (m->down_at.tv_sec == best->down_at.tv_sec &&
		    m->down_at.tv_nsec < best->down_at.tv_nsec))
			best = m;
	}
	return best;
}

/* q in flight: at the head of u's list (uq_free takes it out). */
static void
uq_link(struct upstreams *u, struct uq *q)
{
	q->prev = NULL;
	q->next = u->uqs;
	if (u->uqs)
		u->uqs->prev = q;
	u->uqs = q;
}

static void
uq_free(struct uq *q)
{
	struct upstreams *u = q->u;

	if (q->prev)
		q->prev->next = q->next;
	else
		u->uqs = q->next;
	if (q->next)
		q->next->prev = q->prev;
	free(q->name);
	free(q);
}

/* Stop q's request on its member, if it is still in flight. */
static void
leg_cancel(struct uq *q)
{
	if (q->leg_dead)
		return;
	if (q->m->res != NULL)
		resolver_cancel(q->m->res, q->rid);
	q->m->outstanding--;
	q->leg_dead = true;
}

/* Drop q's hedge, if it has one, without its callback. */
static void
hedge_drop(struct uq *q)
{
	struct uq *h = q->hedge;

	if (h == NULL)
		return;
	q->hedge = NULL;
	h->parent = NULL;
	if (h->moving) {
		/* member_stall frees it. */
		h->cancelled = true;
		return;
	}
	leg_cancel(h);
	uq_free(h);
}

/* The last failure of each upstream of p, "ADDR[@PORT]: reason; ...", in
 * buf (len > 0), those without a fresh one as "no recent failure"; cut
 * at an entry's end with "; ..." (or within the first with "...") when
 * it does not fit.  Returns the length, 0 (buf "") when no upstream of p
 * has a fresh failure. */
static size_t
pool_failures(const struct pool *p, char *buf, size_t len)
{
	char full[2048];
	size_t i, off = 0, cut;
	bool any = false;

	buf[0] = '\0';
	full[0] = '\0';
	for (i = 0; i < p->n && off < sizeof(full); i++) {
		const struct member *m = &p->m[i];
		bool fresh = failure_fresh(m);

		any = any || fresh;
		off += (size_t)snprintf(full + off, sizeof(full) - off,
		    "%s%s: %s", i ? "; " : "", m->addr, fresh ? m->why :
		    "no recent failure");
	}
	if (!any)
		return 0;
	off = strlen(full);
	if (off < len) {
		memcpy(buf, full, off + 1);
		return off;
	}
	/* The last entry boundary with room for "; ..." after it. */
	for (cut = len - 1 >= 5 ? len - 1 - 5 : 0; cut > 0; cut--)
		if (full[cut] == ';' && full[cut + 1] == ' ')
			break;
	if (cut > 0)
		snprintf(buf, len, "%.*s; ...", (int)cut, full);
	else if (len > 4)
		snprintf(buf, len, "%.*s...", (int)(len - 4), full);
	return strlen(buf);
}

/* u->last_error: the last failure of each upstream of p, or why. */
static void
set_last_error(struct upstreams *u, const struct pool *p, const char *why)
{
	if (pool_failures(p, u->last_error, sizeof(u->last_error)) == 0)
		snprintf(u->last_error, sizeof(u->last_error), "%s",
		    why ? why : "no upstream answered");
}

/* The query failed for good: its callback, with every upstream's last
 * failure. */
static void
uq_fail(struct uq *q, const char *why)
{
	set_last_error(q->u, q->p, why);
	q->cb(q->arg, -1, NULL, 0, q->u->last_error);
	uq_free(q);
}

static void
member_done(void *arg, int status, const uint8_t *reply, size_t len,
    const char *why)
{
	struct uq *q = arg;
	struct member *m = q->m;
	long long us;

	m->outstanding--;
	if (status == 0) {
		us = us_since(&q->sent);
		if (counted(m))
			stats_upstream_rtt(m->p->u->st, m->index,
			    (uint64_t)(us > 0 ? us : 0));
		now_ts(&m->waiting_since);
		if (q->on_ready) {
			upstream_rtt_sample(&m->rtt, us);
			if (counted(m))
				atomic_store_explicit(
				    &m->p->u->st->up_srtt_ms[m->index],
				    m->rtt.srtt_us >= 1500 ?
				    (m->rtt.srtt_us + 500) / 1000 : 1,
				    memory_order_relaxed);
		}
		member_up(m);
		if (q->cb == NULL) {
			uq_free(q);
			return;
		}
		hedge_drop(q);
		q->cb(q->arg, 0, reply, len, NULL);
		if (q->submitting)
			q->sync_done = true;
		else
			uq_free(q);
		return;
	}
	member_down(m, why, NULL);
	if (q->cb == NULL) {
		uq_free(q);
		return;
	}
	if (q->submitting) {
		/* dispatch() goes on with another member. */
		q->sync_failed = true;
		return;
	}
	if (q->hedge != NULL) {
		/* The hedge carries it (hedge_done). */
		q->leg_dead = true;
		return;
	}
	if (dispatch(q, m) != 0)
		uq_fail(q, why);
}

/* The hedge of the query arg answered or failed (the hedge itself is
 * freed by its caller). */
static void
hedge_done(void *arg, int status, const uint8_t *reply, size_t len,
    const char *why)
{
	struct uq *q = arg;

	q->hedge = NULL;
	if (status == 0) {
		q->cb(q->arg, 0, reply, len, NULL);
		/* Its request on the silent member stays, without a
		 * callback (see the top of this file). */
		q->cb = NULL;
		q->id = 0;
		if (q->leg_dead)
			uq_free(q);
		return;
	}
	/* Both failed: q goes on as any failed query. */
	if (q->leg_dead && dispatch(q, q->m) != 0)
		uq_fail(q, why);
}

/* Whether p has a usable member other than not. */
static bool
other_usable(const struct pool *p, const struct member *not)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (&p->m[i] != not && p->m[i].res != NULL && !p->m[i].down)
			return true;
	return false;
}

/* q has waited on a silent member long enough to be sent to another. */
static bool
hedge_due(const struct uq *q)
{
	const struct member *m = q->m;

	return q->parent == NULL && q->hedge == NULL && !q->hedged &&
	    !q->leg_dead && !q->submitting && !q->moving && !m->down &&
	    m->res != NULL && resolver_ready(m->res) &&
	    ms_since(&q->sent) >= hedge_ms(m) &&
	    ms_since(&m->waiting_since) >= hedge_ms(m) &&
	    other_usable(q->p, m);
}

/* Send q to one other member as well.  q may be answered, and freed,
 * before this returns. */
static void
hedge_send(struct uq *q)
{
	struct upstreams *u = q->u;
	struct pool *p = q->p;
	struct uq *h;
	size_t next;
	int rc;

	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->name = strdup(q->name)) == NULL) {
		free(h);
		return;
	}
	h->u = u;
	h->p = q->p;
	h->cb = hedge_done;
	h->arg = q;
	h->qtype = q->qtype;
	h->tries = q->p->n - 1;		/* one member, no further */
	h->parent = q;
	uq_link(u, h);
	q->hedged = true;
	q->hedge = h;
	if (u->st != NULL)
		stats_inc(&u->st->upstream_hedges);
	ds_debug("upstream %s silent for %lld ms: %s type %u also sent "
	    "elsewhere", q->m->name, ms_since(&q->m->waiting_since), q->name,
	    (unsigned)q->qtype);
	/* Out of turn: the round robin goes on as if there were no hedge
	 * (else the next query would go to the silent member again). */
	next = p->next;
	rc = dispatch(h, q->m);
	p->next = next;
	if (rc != 0) {
		/* No member took it: q waits on as before. */
		q->hedge = NULL;
		uq_free(h);
	}
}

/* Send q to a member other than not, then to others as each fails at
 * once.  0: sent (or already answered, and freed); -1: no member took
 * it (q not freed). */
static int
dispatch(struct uq *q, const struct member *not)
{
	struct member *m;
	int rc;

	while (q->tries < q->p->n && (m = choose(q->p, not)) != NULL) {
		q->tries++;
		q->m = m;
		q->leg_dead = false;
		if (m->outstanding++ == 0)
			now_ts(&m->waiting_since);
		now_ts(&q->sent);
		q->on_ready = m->res != NULL && resolver_ready(m->res);
		q->submitting = true;
		q->sync_failed = q->sync_done = false;
		rc = resolver_query(m->res, q->name, q->qtype, member_done, q,
		    &q->rid);
		q->submitting = false;
		if (q->sync_done) {
			uq_free(q);
			return 0;
		}
		if (rc == 0 && !q->sync_failed) {
			arm_tick(q->u);
			return 0;
		}
		if (rc != 0 && !q->sync_failed) {
			m->outstanding--;
			member_down(m, resolver_last_error(m->res), NULL);
		}
		q->leg_dead = true;
		not = m;
	}
	return -1;
}

static struct uq *
uq_find(struct upstreams *u, uint64_t id)
{
	struct uq *q;

	for (q = u->uqs; q != NULL; q = q->next)
		if (q->id == id)
			return q;
	return NULL;
}

int
upstreams_query(struct upstreams *u, const struct dnsmsg_query *q,
    const char *name, resolver_done_fn cb, void *arg, uint64_t *id)
{
	int r = route_lookup(u->rt, q->qname, q->qname_len, q->qtype);
	struct uq *uq;

	if (r == ROUTE_LOCAL) {
		snprintf(u->last_error, sizeof(u->last_error),
		    "%s is served locally", name);
		return -1;
	}
	if ((uq = calloc(1, sizeof(*uq))) == NULL ||
	    (uq->name = strdup(name)) == NULL) {
		free(uq);
		snprintf(u->last_error, sizeof(u->last_error),
		    "out of memory");
		return -1;
	}
	uq->u = u;
	uq->p = &u->pools[r == ROUTE_DEFAULT ? 0 : 1 + r];
	uq->id = ++u->next_id;
	uq->cb = cb;
	uq->arg = arg;
	uq->qtype = q->qtype;
	uq_link(u, uq);
	if (r >= 0 && u->st != NULL && r < STATS_ZONES)
		stats_inc(&u->st->fwd_queries[r]);
	/* Set first: the answer may come before dispatch returns. */
	*id = uq->id;
	if (dispatch(uq, NULL) != 0) {
		set_last_error(u, uq->p, NULL);
		uq_free(uq);
		return -1;
	}
	return 0;
}

void
upstreams_cancel(struct upstreams *u, uint64_t id)
{
	struct uq *q = uq_find(u, id);

	if (q == NULL)
		return;
	if (q->moving) {
		q->cancelled = true;
		return;
	}
	hedge_drop(q);
	leg_cancel(q);
	uq_free(q);
}

void
upstreams_fail_all(struct upstreams *u, const char *why)
{
	struct uq *q, *next;

	/* Hedges, and queries their hedges answered, first, without
	 * callbacks: each query fails once. */
	for (q = u->uqs; q != NULL; q = next) {
		next = q->next;
		if (q->parent != NULL)
			q->parent->hedge = NULL;
		if (q->parent != NULL || q->cb == NULL) {
			leg_cancel(q);
			uq_free(q);
		}
	}
	while ((q = u->uqs) != NULL) {
		leg_cancel(q);
		/* Unlinked before the callback, which may cancel others. */
		u->uqs = q->next;
		if (q->next)
			q->next->prev = NULL;
		q->next = q->prev = NULL;
		q->cb(q->arg, -1, NULL, 0, why);
		free(q->name);
		free(q);
	}
}

/* m was silent too long with queries waiting: unusable; its queries go
 * to another member now, and its connection is closed. */
static void
member_stall(struct member *m)
{
	struct upstreams *u = m->p->u;
	struct uq *q, *next, **moved;
	char detail[100];
	const char *why = resolver_timeout_reason(m->res);
	size_t n = 0, i;

	snprintf(detail, sizeof(detail), "no answer for %lld ms with %u "
	    "queries waiting", ms_since(&m->waiting_since), m->outstanding);
	member_down(m, why, detail);
	/* With no usable upstream to move them to, they wait on: a slow
	 * answer is better than none. */
	if (!other_usable(m->p, m))
		return;
	if ((moved = calloc(m->outstanding + 1, sizeof(*moved))) == NULL) {
		ds_err("upstreams: out of memory; queries on %s wait for "
		    "their time-out", m->name);
		return;
	}
	for (q = u->uqs; q != NULL; q = next) {
		next = q->next;
		if (q->m != m || q->submitting || q->leg_dead)
			continue;
		leg_cancel(q);
		if (q->cb == NULL) {
			uq_free(q);	/* its hedge answered it */
			continue;
		}
		if (q->hedge != NULL)
			continue;	/* its hedge carries it */
		q->moving = true;
		moved[n++] = q;
	}
	member_renew(m);
	for (i = 0; i < n; i++) {
		q = moved[i];
		q->moving = false;
		if (q->cancelled)
			uq_free(q);
		else if (dispatch(q, m) != 0)
			uq_fail(q, why);
	}
	free(moved);
}

static void
probe_done(void *arg, int status, const uint8_t *reply, size_t len,
    const char *why)
{
	struct member *m = arg;

	(void)reply;
	(void)len;
	m->probing = false;
	if (status == 0)
		member_up(m);
	else
		member_failed(m, why ? why : "probe failed");
}

/* An unusable member is asked ". NS" once a second; an unanswered probe
 * is given up after PROBE_WAIT_MS, with a new connection for the next. */
static void
member_probe(struct member *m)
{
	if (m->probing) {
		if (ms_since(&m->probe_at) > PROBE_WAIT_MS) {
			resolver_cancel(m->res, m->probe_id);
			m->probing = false;
			/* A new connection, unless queries still wait on
			 * this one (the route's only usable upstream). */
			if (m->outstanding == 0)
				member_renew(m);
		}
		return;
	}
	if (ms_since(&m->probe_at) < PROBE_EVERY_MS)
		return;
	now_ts(&m->probe_at);
	if (m->res == NULL) {
		member_renew(m);
		return;
	}
	m->probing = true;
	if (resolver_query(m->res, ".", DNS_TYPE_NS, probe_done, m,
	    &m->probe_id) != 0)
		m->probing = false;
}

/* Hedge the queries that waited too long on a silent member.  Their ids
 * first: an answer that comes while one is sent may end others. */
static void
send_hedges(struct upstreams *u)
{
	uint64_t ids[HEDGES_PER_TICK];
	size_t n = 0, i;
	struct uq *q;

	for (q = u->uqs; q != NULL && n < HEDGES_PER_TICK; q = q->next)
		if (hedge_due(q))
			ids[n++] = q->id;
	for (i = 0; i < n; i++)
		if ((q = uq_find(u, ids[i])) != NULL && hedge_due(q))
			hedge_send(q);
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	struct upstreams *u = arg;
	size_t i, j;
	bool again = false;

	(void)fd;
	(void)what;
	u->ticking = false;
	for (i = 0; i < u->npools; i++) {
		for (j = 0; j < u->pools[i].n; j++) {
			struct member *m = &u->pools[i].m[j];

			if (!m->down && m->outstanding > 0) {
				again = true;
				if (ms_since(&m->waiting_since) > stall_ms(m))
					member_stall(m);
			}
			if (m->down) {
				again = true;
				member_probe(m);
			}
		}
	}
	send_hedges(u);
	if (again || u->uqs != NULL)
		arm_tick(u);
}

static int
pool_init(struct upstreams *u, struct pool *p, const struct ds_fwd_zone *z)
{
	const struct ds_upstream *ups = z ? z->upstreams : u->cfg->upstreams;
	size_t i;

	p->u = u;
	p->zone = z;
	p->n = z ? z->nupstreams : u->cfg->nupstreams;
	if ((p->m = calloc(p->n, sizeof(*p->m))) == NULL) {
		ds_err("upstreams: out of memory");
		return -1;
	}
	for (i = 0; i < p->n; i++) {
		struct member *m = &p->m[i];

		m->p = p;
		m->index = (int)i;
		snprintf(m->name, sizeof(m->name), "%s@%u%s%s",
		    ups[i].address, ups[i].port, ups[i].auth_name ? "#" : "",
		    ups[i].auth_name ? ups[i].auth_name : "");
		if (ups[i].port == (z != NULL &&
		    z->transport == DS_FWD_PLAIN ? 53u : 853u))
			snprintf(m->addr, sizeof(m->addr), "%s",
			    ups[i].address);
		else
			snprintf(m->addr, sizeof(m->addr), "%s@%u",
			    ups[i].address, ups[i].port);
		if ((m->res = resolver_create(u->base, u->cfg, z,
		    (int)i)) == NULL) {
			ds_err("upstream %s%s%s: no getdns context", m->name,
			    z ? " of forward zone " : "", z ? z->name : "");
			return -1;
		}
		if (z == NULL) {
			resolver_set_stats(m->res, u->st);
			if (counted(m))
				atomic_store_explicit(&u->st->up_down[i], 0,
				    memory_order_relaxed);
		}
	}
	return 0;
}

struct upstreams *
upstreams_create(struct event_base *base, const struct ds_config *cfg,
    struct stats *st)
{
	struct upstreams *u;
	size_t i, off = 0;

	if ((u = calloc(1, sizeof(*u))) == NULL ||
	    (u->pools = calloc(1 + cfg->nfwd_zones, sizeof(*u->pools))) ==
	    NULL) {
		ds_err("upstreams: out of memory");
		free(u);
		return NULL;
	}
	u->cfg = cfg;
	u->base = base;
	u->st = st;
	u->npools = 1 + cfg->nfwd_zones;
	if ((u->rt = route_create(cfg)) == NULL ||
	    (u->tick = evtimer_new(base, tick, u)) == NULL ||
	    pool_init(u, &u->pools[0], NULL) != 0)
		goto fail;
	for (i = 0; i < cfg->nfwd_zones; i++)
		if (pool_init(u, &u->pools[1 + i], &cfg->fwd_zones[i]) != 0)
			goto fail;
	for (i = 0; i < u->pools[0].n && off < sizeof(u->default_str); i++)
		off += (size_t)snprintf(u->default_str + off,
		    sizeof(u->default_str) - off, "%s%s", i ? ", " : "",
		    u->pools[0].m[i].name);
	return u;
fail:
	upstreams_delete(u);
	return NULL;
}

void
upstreams_delete(struct upstreams *u)
{
	size_t i, j;

	if (u == NULL)
		return;
	while (u->uqs != NULL)
		uq_free(u->uqs);
	for (i = 0; i < u->npools; i++) {
		for (j = 0; u->pools[i].m != NULL && j < u->pools[i].n; j++)
			resolver_delete(u->pools[i].m[j].res);
		free(u->pools[i].m);
	}
	free(u->pools);
	if (u->tick)
		event_free(u->tick);
	route_delete(u->rt);
	free(u);
}

const char *
upstreams_last_error(const struct upstreams *u)
{
	return u->last_error[0] ? u->last_error : NULL;
}

size_t
upstreams_failure_text(const struct upstreams *u,
    const struct dnsmsg_query *q, char *buf, size_t len)
{
	int r;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	r = route_lookup(u->rt, q->qname, q->qname_len, q->qtype);
	if (r == ROUTE_LOCAL || (r != ROUTE_DEFAULT &&
	    (r < 0 || (size_t)r + 1 >= u->npools)))
		return 0;
	if (r != ROUTE_DEFAULT) {
		size_t n = pool_failures(&u->pools[1 + r], buf, len);

		if (n > 0)
			return n;
	}
	/* A forward zone's upstreams all fine: the validator also asks the
	 * default upstreams, for the zones above it. */
	return pool_failures(&u->pools[0], buf, len);
}

size_t
upstreams_default_count(const struct upstreams *u)
{
	return u->pools[0].n;
}

const char *
upstreams_default_failure(const struct upstreams *u, size_t i,
    const char **addr, time_t *when)
{
	const struct member *m;

	if (i >= u->pools[0].n)
		return NULL;
	m = &u->pools[0].m[i];
	if (addr)
		*addr = m->addr;
	if (!failure_fresh(m))
		return NULL;
	if (when)
		*when = m->why_wall;
	return m->why;
}

const struct route *
upstreams_route(const struct upstreams *u)
{
	return u->rt;
}

const char *
upstreams_default_str(const struct upstreams *u)
{
	return u->default_str;
}
