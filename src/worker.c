/*
 * worker.c -- one event loop, and the path of a client's query through it.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "acl.h"
#include "anchorfile.h"
#include "dnsmsg.h"
#include "dsconfig.h"
#include "frontcache.h"
#include "listener.h"
#include "log.h"
#include "ratelimit.h"
#include "relay.h"
#include "resolver.h"
#include "route.h"
#include "stats.h"
#include "synth.h"
#include "tlsserve.h"
#include "upstreams.h"
#include "validator.h"
#include "worker.h"

struct query;

/* How long a client waits for a fresh answer before stale data. */
#define STALE_WAIT_MS	1800

struct worker {
	const struct ds_config *cfg;
	unsigned index;
	struct event_base *base;
	struct upstreams *up;	/* the resolvers of every route */
	unsigned gen;		/* counts route changes: an answer from
				   before one is not cached */
	struct relay *relay;
	struct validator *val;
	struct frontcache *fc;	/* shared by the workers; NULL: none */
	struct frontcache *kc;	/* the relays' shared DS/DNSKEY replies */
	struct synth *synth;	/* validated NSEC3, shared; NULL: none */
	struct listener **listeners;
	unsigned nlisteners;
	struct query *queries;	/* every query not yet freed */
	unsigned nqueries;	/* in the list, answered or not */
	unsigned nwaiting;	/* not answered yet: max_inflight */
	bool overloaded;	/* logged once per episode */
	pthread_t thread;
	bool running;

	/* Trust anchor hand-over from the prober's thread. */
	pthread_mutex_t anchor_lock;
	char **pending_anchors;	/* under anchor_lock */
	/* A flush from the control channel, under anchor_lock. */
	struct {
		struct flush_wait *fw;	/* NULL: none pending */
		enum fc_drop how;
		uint8_t name[DNS_MAX_NAME];
		size_t len;
		uint16_t qtype;
	} flush;
	_Atomic unsigned waiting;	/* nwaiting, for other threads */
	struct event *anchor_ev;
	/* Validators replaced by a new anchor set, until their queries are
	 * done; checked by retire_timer. */
	struct validator *retired[8];
	unsigned nretired;
	struct event *retire_timer;

	struct stats stats;
	struct ratelimit *rl;
	char **anchors;		/* the set the validator trusts */
	const struct ds_config *pending_cfg;	/* under anchor_lock */
	struct event *reconf_ev;
	/* Upstream sets replaced by a reload, deleted after a grace time. */
	struct upstreams *old_up[4];
	struct timespec old_up_since[4];
	unsigned nold_up;
	FILE *query_log;	/* shared, not owned; NULL: off */
	/* Stopping: listeners paused, the loop ends when the last query is
	 * answered or at drain_deadline. */
	struct event *drain_ev, *drain_timer;
	unsigned drain_ms;
	struct timespec drain_deadline;
	/* Worker 0, with the metrics endpoint on: an idle node asks the
	 * upstream something small now and then, so that /healthz tells a
	 * quiet node from a dead upstream. */
	struct event *health_timer;
	bool health_pending;
};

/*
 * A client's query.  It is answered once (answered), and freed when it is
 * answered and no backend callback is still to come (pending): libunbound
 * queries are never cancelled, their callback always comes and finds the
 * query here even after a timeout answered it.
 */
struct query {
	struct worker *w;
	struct ds_req *req;	/* NULL once answered */
	struct dnsmsg_query q;
	struct event *timer;
	bool cd_path;		/* on the resolver, not the validator */
	bool pending;		/* a backend callback is still to come */
	bool submitting;	/* inside the backend's submit call, whose
				   callback may run before it returns */
	bool cache_hit;		/* answered within the submit call */
	bool synthesized;	/* made from validated NSEC3 (synth.h) */
	bool refresh;		/* a prefetch: no client, the answer only
				   replaces the cached one */
	int verdict;		/* enum stats_verdict, -1 none yet */
	unsigned gen;		/* the worker's gen when it was asked */
	struct timespec start;
	uint64_t gd_id;		/* upstream query, cd_path */
	struct upstreams *up;	/* the set of gd_id */
	struct query *next, *prev;
};

static const char *client_identity_label(const struct worker *,
    const struct ds_req *);
static bool client_identity_allowed(struct worker *, const struct ds_req *);
static const void *client_identify(void *, struct ssl_st *);

/* The query log's names of enum ds_transport. */
static const char *const transport_names[] = { "udp", "tcp", "dot" };

static void client_query(void *, struct ds_req *);
static void query_timo(evutil_socket_t, short, void *);
static void validate_done(void *, enum validator_verdict, int,
    const uint8_t *, size_t, const char *);
static void cd_done(void *, int, const uint8_t *, size_t, const char *);
static void drain_begin(evutil_socket_t, short, void *);
static void retire_validator(struct worker *, struct validator *);
static void drain_check(evutil_socket_t, short, void *);

/* Put qr, already filled in, at the head of its worker's list. */
static void
query_link(struct query *qr)
{
	struct worker *w = qr->w;

	qr->next = w->queries;
	if (w->queries)
		w->queries->prev = qr;
	w->queries = qr;
	w->nqueries++;
}

static void
query_free(struct query *qr)
{
	struct worker *w = qr->w;

	if (qr->prev)
		qr->prev->next = qr->next;
	else
		w->queries = qr->next;
	if (qr->next)
		qr->next->prev = qr->prev;
	w->nqueries--;
	if (qr->req)
		w->nwaiting--;
	atomic_store_explicit(&w->waiting, w->nwaiting,
	    memory_order_relaxed);
	if (qr->timer)
		event_free(qr->timer);
	if (qr->req)
		listener_drop(qr->req);
	free(qr);
}

/* Every reply to a client leaves here: counted, and logged when
 * query_log is on. */
static void
send_reply(struct worker *w, struct ds_req *req, const uint8_t *buf,
    size_t len, const struct query *qr)
{
	stats_inc(&w->stats.rcode[buf[3] & 0x0f]);
	if (w->query_log != NULL && qr != NULL) {
		char client[64], name[4 * DNS_MAX_NAME + 2];

		listener_addr_str((struct sockaddr *)&req->peer, client,
		    sizeof(client));
		if (dnsmsg_name_to_str(qr->q.qname, qr->q.qname_len, name,
		    sizeof(name)) < 0)
			snprintf(name, sizeof(name), "?");
		/* One fprintf per line: stdio locks the stream. */
		fprintf(w->query_log, "%ld %s %s %s %u rcode=%d verdict=%s "
		    "cache=%s ms=%lld%s%s\n", (long)time(NULL), client,
		    transport_names[req->transport], name,
		    qr->q.qtype, buf[3] & 0x0f, qr->verdict >= 0 ?
		    stats_verdict_names[qr->verdict] : "none",
		    qr->synthesized ? "synth" : qr->cache_hit ? "hit" : "miss",
		    ms_since(&qr->start),
		    req->transport == DS_TLS ? " id=" : "",
		    req->transport == DS_TLS ? client_identity_label(w, req) :
		    "");
	}
	listener_reply(req, buf, len);
}

/* Send bytes to the client, once. */
static void
query_answer(struct query *qr, const uint8_t *buf, size_t len)
{
	if (qr->req == NULL)
		return;
	send_reply(qr->w, qr->req, buf, len, qr);
	qr->req = NULL;
	qr->w->nwaiting--;
	atomic_store_explicit(&qr->w->waiting, qr->w->nwaiting,
	    memory_order_relaxed);
	if (qr->timer)
		evtimer_del(qr->timer);
}

static void
reply_error(struct worker *w, struct ds_req *req,
    const struct dnsmsg_query *q, int rcode, int ede, const char *text,
    const struct query *qr)
{
	uint8_t out[1024];
	int n;

	n = dnsmsg_error(q, rcode, ede, text, (uint16_t)w->cfg->edns_udp_size,
	    out, sizeof(out));
	if (n < 0)
		n = dnsmsg_error(q, rcode, ede, NULL,
		    (uint16_t)w->cfg->edns_udp_size, out, sizeof(out));
	if (n > 0)
		send_reply(w, req, out, (size_t)n, qr);
	else
		listener_drop(req);
}

static void
query_error(struct query *qr, int rcode, int ede, const char *text)
{
	if (qr->req == NULL)
		return;
	reply_error(qr->w, qr->req, &qr->q, rcode, ede, text, qr);
	qr->req = NULL;
	qr->w->nwaiting--;
	atomic_store_explicit(&qr->w->waiting, qr->w->nwaiting,
	    memory_order_relaxed);
	if (qr->timer)
		evtimer_del(qr->timer);
}

static size_t
client_limit(const struct worker *w, const struct ds_req *req,
    const struct dnsmsg_query *q)
{
	return req->transport == DS_UDP ?
	    dnsmsg_udp_limit(q, (uint16_t)w->cfg->edns_udp_size) :
	    DNS_MAX_MSG;
}

/* Shape an upstream or libunbound reply for the client and send it.
 * A validated answer (store) also goes into the front cache, whole, even
 * when its client was answered already (by a timeout, or stale data):
 * the next client gets it fresh.  True if it was stored. */
static bool
query_shape(struct query *qr, const uint8_t *pkt, size_t len, bool ad,
    bool store, enum fc_verdict verdict)
{
	struct worker *w = qr->w;
	struct dnsmsg_shape_opts o;
	uint8_t out[DNS_MAX_MSG];
	bool stored = false;
	int n;

	memset(&o, 0, sizeof(o));
	o.ad = ad;
	o.keep_dnssec = qr->q.do_bit;
	o.edns_size = (uint16_t)w->cfg->edns_udp_size;
	o.ede_code = DNS_EDE_NONE;
	if (store && w->fc != NULL && qr->gen == w->gen) {
		o.max_size = DNS_MAX_MSG;
		n = dnsmsg_shape(&qr->q, pkt, len, &o, out, sizeof(out));
		if (n > 0) {
			stored = frontcache_store(w->fc, &qr->q, out,
			    (size_t)n, verdict, now_sec());
			if (qr->req != NULL && (size_t)n <=
			    client_limit(w, qr->req, &qr->q)) {
				query_answer(qr, out, (size_t)n);
				return stored;
			}
		}
	}
	if (qr->req == NULL)
		return stored;
	o.max_size = client_limit(w, qr->req, &qr->q);
	n = dnsmsg_shape(&qr->q, pkt, len, &o, out, sizeof(out));
	if (n < 0) {
		ds_warn("reply for query %u could not be shaped (%d)",
		    qr->q.qtype, n);
		query_error(qr, DNS_RCODE_SERVFAIL, DNS_EDE_INVALID_DATA,
		    "upstream reply was malformed");
		return stored;
	}
	query_answer(qr, out, (size_t)n);
	return stored;
}

/* Whether q's name may be answered from, and teach, the validated NSEC3
 * records: aggressive_nsec on, the default route (a forward zone has its
 * own world), no negative trust anchor above it. */
static bool
synth_may(const struct worker *w, const struct dnsmsg_query *q)
{
	return w->synth != NULL && w->cfg->aggressive_nsec &&
	    route_lookup(upstreams_route(w->up), q->qname, q->qname_len,
	    q->qtype) == ROUTE_DEFAULT &&
	    !route_insecure(w->cfg, q->qname, q->qname_len);
}

/* RFC 8767: when the upstream cannot answer, data past its TTL (30 s
 * TTLs, EDE 3) is better than a SERVFAIL.  True if qr was answered. */
static bool
answer_stale(struct query *qr)
{
	struct worker *w = qr->w;
	uint8_t out[DNS_MAX_MSG];
	size_t len;
	enum fc_result r;

	if (qr->req == NULL || w->fc == NULL || !w->cfg->serve_stale)
		return false;
	r = frontcache_lookup(w->fc, &qr->q, now_sec(), true,
	    client_limit(w, qr->req, &qr->q), out, sizeof(out), &len, NULL);
	if (r == FC_MISS)
		return false;
	if (r == FC_STALE)
		stats_inc(&w->stats.stale_answers);
	query_answer(qr, out, len);
	return true;
}

/* SERVFAIL with the reason; kept bogus_ttl in the front cache, so that
 * clients asking for a bogus name again do not send it upstream again.
 * libunbound itself fetches a bogus name again on the next query, so the
 * reply is stored for every EDNS/DO variant of the question, not only
 * this client's. */
static void
bogus_answer(struct query *qr, int ede, const char *text)
{
	static const struct { bool edns, do_bit; } variant[3] = {
		{ true, true }, { true, false }, { false, false }
	};
	struct worker *w = qr->w;
	struct dnsmsg_query vq;
	uint8_t out[1024];
	size_t tld = 0;
	unsigned i;
	int n;

	/* The keys that failed may be in the key cache that the relays
	 * share, where they would outlive libunbound's own bogus TTL: drop
	 * what it holds of the name's top-level domain, so that the next
	 * attempt asks the upstream again. */
	if (w->kc != NULL && qr->q.qname_len > 1) {
		while (tld + 1 + qr->q.qname[tld] < qr->q.qname_len - 1)
			tld += 1 + (size_t)qr->q.qname[tld];
		(void)frontcache_drop_below(w->kc, qr->q.qname + tld,
		    qr->q.qname_len - tld);
	}
	for (i = 0; w->fc != NULL && w->cfg->bogus_ttl > 0 &&
	    qr->gen == w->gen && i < 3; i++) {
		vq = qr->q;
		vq.edns = variant[i].edns;
		vq.do_bit = variant[i].do_bit;
		n = dnsmsg_error(&vq, DNS_RCODE_SERVFAIL, ede, text,
		    (uint16_t)w->cfg->edns_udp_size, out, sizeof(out));
		/* Served only to clients with room for it (lookup checks). */
		if (n > 0)
			(void)frontcache_store_bogus(w->fc, &vq, out,
			    (size_t)n, w->cfg->bogus_ttl, now_sec());
	}
	query_error(qr, DNS_RCODE_SERVFAIL, ede, text);
}

/* The longest EDE text a SERVFAIL to qr can carry: its client's limit
 * (and reply_error's buffer) less the header, the question, the OPT
 * record and the EDE option's own four bytes and info-code. */
static size_t
ede_text_room(const struct query *qr)
{
	size_t limit = client_limit(qr->w, qr->req, &qr->q);
	size_t fixed = 12 + qr->q.qname_len + 4 + 11 + 4 + 2;

	if (limit > 1024)
		limit = 1024;
	return limit > fixed ? limit - fixed : 0;
}

/* SERVFAIL, EDE 22, for a query no upstream answered: the text names
 * every upstream of the query's route with its last failure
 * (upstreams_failure_text); when none of them failed lately, why, or that
 * no answer came in time.  Not the relay's last failure: an answer since
 * may have made it stale, which the upstreams' own record knows. */
static void
upstream_failed(struct query *qr, const char *why)
{
	struct worker *w = qr->w;
	char text[512];
	size_t len = sizeof(text), room;

	if (qr->req == NULL || answer_stale(qr))
		return;
	room = ede_text_room(qr);
	if (room + 1 < len)
		len = room + 1;
	if (upstreams_failure_text(qr->cd_path && qr->up ? qr->up : w->up,
	    &qr->q, text, len) == 0)
		snprintf(text, len, "%s", why ? why :
		    "no answer from the upstreams in time");
	query_error(qr, DNS_RCODE_SERVFAIL, DNS_EDE_NO_REACHABLE_AUTHORITY,
	    text);
}

/* A secure or insecure answer from libunbound, shaped for qr's client (RFC
 * 6840 5.8: AD only to a client that showed it understands it) and kept in
 * the front cache.  True if it was stored. */
static bool
shape_validated(struct query *qr, enum validator_verdict v,
    const uint8_t *pkt, size_t len)
{
	struct worker *w = qr->w;

	if (v == VAL_SECURE && qr->gen == w->gen && synth_may(w, &qr->q))
		synth_learn(w->synth, &qr->q, pkt, len, now_sec(),
		    (int64_t)time(NULL));
	return query_shape(qr, pkt, len, v == VAL_SECURE &&
	    (qr->q.do_bit || qr->q.ad), true, v == VAL_SECURE ?
	    FC_SECURE : FC_INSECURE);
}

/* A prefetch's answer replaces the cached one when it is a validated
 * answer; anything else (SERVFAIL, bogus, no answer) leaves the cached
 * one to expire as usual: it was validated, and its TTL still holds. */
static void
refresh_done(struct query *qr, enum validator_verdict v, const uint8_t *pkt,
    size_t len, const char *why)
{
	struct worker *w = qr->w;
	char name[4 * DNS_MAX_NAME + 2];

	if ((v == VAL_SECURE || v == VAL_INSECURE) &&
	    dnsmsg_get_rcode(pkt) != DNS_RCODE_SERVFAIL &&
	    shape_validated(qr, v, pkt, len))
		return;
	stats_inc(&w->stats.prefetch_failures);
	if (dnsmsg_name_to_str(qr->q.qname, qr->q.qname_len, name,
	    sizeof(name)) < 0)
		snprintf(name, sizeof(name), "?");
	ds_debug("worker %u: prefetch %s type %u not stored: %s", w->index,
	    name, qr->q.qtype, v == VAL_BOGUS ? (why ? why : "bogus") :
	    v == VAL_FAILED ? "no answer" : "answer not cacheable");
}

static void
validate_done(void *arg, enum validator_verdict v, int rcode,
    const uint8_t *pkt, size_t len, const char *why)
{
	struct query *qr = arg;
	struct stats *st = &qr->w->stats;

	qr->pending = false;
	if (qr->refresh) {
		refresh_done(qr, v, pkt, len, why);
		if (!qr->submitting)
			query_free(qr);
		return;
	}
	qr->cache_hit = qr->submitting;
	stats_inc(qr->submitting ? &st->cache_hits : &st->cache_misses);
	qr->verdict = v == VAL_SECURE ? STATS_SECURE : v == VAL_INSECURE ?
	    STATS_INSECURE : v == VAL_BOGUS ? STATS_BOGUS : STATS_FAILED;
	stats_inc(&st->verdict[qr->verdict]);
	switch (v) {
	case VAL_SECURE:
	case VAL_INSECURE:
		/* libunbound keeps a failed resolution in its cache for a
		 * while and serves it as a plain SERVFAIL reply: it still
		 * owes the client the reason. */
		if (dnsmsg_get_rcode(pkt) == DNS_RCODE_SERVFAIL) {
			upstream_failed(qr, NULL);
			break;
		}
		(void)shape_validated(qr, v, pkt, len);
		break;
	case VAL_BOGUS:
		if (qr->req)
			ds_info("bogus: %s", why ? why : "(no reason)");
		bogus_answer(qr, validator_ede(why), validator_reason(why));
		break;
	case VAL_FAILED:
		if (rcode != DNS_RCODE_SERVFAIL && qr->req)
			ds_info("validator failed with rcode %d", rcode);
		upstream_failed(qr, NULL);
		break;
	}
	if (!qr->submitting)
		query_free(qr);
}

static void
cd_done(void *arg, int status, const uint8_t *reply, size_t len,
    const char *why)
{
	struct query *qr = arg;

	qr->pending = false;
	qr->verdict = STATS_CD;
	stats_inc(&qr->w->stats.verdict[STATS_CD]);
	if (status == 0)
		query_shape(qr, reply, len, false, false, FC_INSECURE);
	else
		upstream_failed(qr, why);
	if (!qr->submitting)
		query_free(qr);
}

static void
query_timo(evutil_socket_t fd, short what, void *arg)
{
	struct query *qr = arg;

	(void)fd;
	(void)what;
	stats_inc(&qr->w->stats.timeouts);
	upstream_failed(qr, NULL);
	if (qr->cd_path && qr->pending) {
		upstreams_cancel(qr->up, qr->gd_id);
		qr->pending = false;
	}
	if (!qr->pending)
		query_free(qr);
}

/* Prefetch: an answer asked for in the last tenth of its TTL is fetched
 * again in the background, through the validator's refresh context (whose
 * answers carry fresh TTLs), so that it is replaced before it expires and
 * its clients never wait for the upstream.  Queries in flight count
 * against max_inflight; none is started beyond it. */
static void
prefetch(struct worker *w, const struct dnsmsg_query *q)
{
	char name[4 * DNS_MAX_NAME + 2];
	struct query *qr;
	int rc;

	if (w->nqueries >= w->cfg->max_inflight ||
	    dnsmsg_name_to_str(q->qname, q->qname_len, name,
	    sizeof(name)) < 0)
		return;
	if ((qr = calloc(1, sizeof(*qr))) == NULL) {
		ds_err("worker %u: out of memory, prefetch dropped", w->index);
		return;
	}
	qr->w = w;
	qr->q = *q;
	qr->gen = w->gen;
	qr->refresh = true;
	qr->verdict = -1;
	clock_gettime(CLOCK_MONOTONIC, &qr->start);
	query_link(qr);
	stats_inc(&w->stats.prefetches);
	ds_debug("worker %u: prefetch %s type %u", w->index, name, q->qtype);
	qr->pending = true;
	qr->submitting = true;
	rc = validator_refresh(w->val, name, q->qtype, validate_done, qr);
	qr->submitting = false;
	if (rc != 0) {
		qr->pending = false;
		stats_inc(&w->stats.prefetch_failures);
	}
	if (!qr->pending)
		query_free(qr);
}

/* Answer a special-use name here, when the route table serves it
 * locally.  True if req was answered. */
static bool
answer_local(struct worker *w, struct ds_req *req, struct query *qr)
{
	uint8_t out[512];
	int n = route_local(upstreams_route(w->up), &qr->q,
	    (uint16_t)w->cfg->edns_udp_size, out, sizeof(out));

	if (n == 0)
		return false;
	stats_inc(&w->stats.local_answers);
	qr->verdict = STATS_INSECURE;
	stats_inc(&w->stats.verdict[STATS_INSECURE]);
	if (n > 0 && (size_t)n <= client_limit(w, req, &qr->q))
		send_reply(w, req, out, (size_t)n, qr);
	else
		reply_error(w, req, &qr->q, DNS_RCODE_SERVFAIL, DNS_EDE_OTHER,
		    "local answer too large", qr);
	return true;
}

/* Answer from validated NSEC3 records (synth.h) when they prove the
 * answer: no upstream, no libunbound.  True if req was answered. */
static bool
answer_synth(struct worker *w, struct ds_req *req, struct query *qr)
{
	uint8_t pkt[16384], out[DNS_MAX_MSG];
	struct dnsmsg_shape_opts o;
	int n;

	if (qr->q.cd || !synth_may(w, &qr->q))
		return false;
	n = synth_answer(w->synth, &qr->q, (uint32_t)qr->start.tv_sec, pkt,
	    sizeof(pkt), NULL);
	if (n <= 0)
		return false;
	memset(&o, 0, sizeof(o));
	o.ad = qr->q.do_bit || qr->q.ad;
	o.keep_dnssec = qr->q.do_bit;
	o.edns_size = (uint16_t)w->cfg->edns_udp_size;
	o.ede_code = DNS_EDE_NONE;
	o.max_size = client_limit(w, req, &qr->q);
	n = dnsmsg_shape(&qr->q, pkt, (size_t)n, &o, out, sizeof(out));
	if (n <= 0)
		return false;
	qr->synthesized = true;
	qr->verdict = STATS_SECURE;
	stats_inc(&w->stats.verdict[STATS_SECURE]);
	send_reply(w, req, out, (size_t)n, qr);
	return true;
}

static void
client_query(void *arg, struct ds_req *req)
{
	struct worker *w = arg;
	struct query tmp, *qr = &tmp;
	char name[4 * DNS_MAX_NAME + 2];
	struct timeval tv;
	unsigned deadline_ms = w->cfg->timeout_ms;
	int rc;

	stats_inc(&w->stats.queries[req->transport]);
	/* On the stack until it must outlive this call: a front cache hit
	 * and every refusal allocate nothing. */
	memset(&tmp, 0, sizeof(tmp));
	qr->verdict = -1;
	clock_gettime(CLOCK_MONOTONIC, &qr->start);
	rc = dnsmsg_parse_query(req->pkt, req->len, &qr->q);
	if (!acl_allows(w->cfg->acl, w->cfg->nacl,
	    (struct sockaddr *)&req->peer)) {
		/* TCP clients from elsewhere never get this far (closed at
		 * accept); UDP ones get REFUSED, or nothing if so told. */
		stats_inc(&w->stats.refused_acl);
		if (rc < 0 || (w->cfg->acl_drop && req->transport == DS_UDP))
			listener_drop(req);
		else
			reply_error(w, req, &qr->q, DNS_RCODE_REFUSED,
			    DNS_EDE_PROHIBITED, NULL, qr);
		return;
	}
	if (req->transport == DS_TLS && !client_identity_allowed(w, req)) {
		stats_inc(&w->stats.refused_acl);
		if (rc < 0)
			listener_drop(req);
		else
			reply_error(w, req, &qr->q, DNS_RCODE_REFUSED,
			    DNS_EDE_PROHIBITED, "client identity refused", qr);
		return;
	}
	if (!ratelimit_allow(w->rl, (struct sockaddr *)&req->peer,
	    (unsigned long long)qr->start.tv_sec * 1000 +
	    (unsigned long long)qr->start.tv_nsec / 1000000)) {
		stats_inc(&w->stats.ratelimited);
		if (rc >= 0 && w->cfg->ratelimit_refuse)
			reply_error(w, req, &qr->q, DNS_RCODE_REFUSED,
			    DNS_EDE_OTHER, "rate limit", qr);
		else
			listener_drop(req);
		return;
	}
	if (rc != 0) {
		if (rc < 0) {
			stats_inc(&w->stats.dropped);
			listener_drop(req);
		} else
			reply_error(w, req, &qr->q, rc, DNS_EDE_NONE, NULL,
			    qr);
		return;
	}
	stats_inc(&w->stats.qtype[stats_qtype_index(qr->q.qtype)]);
	if (w->fc != NULL && !qr->q.cd) {
		uint8_t out[DNS_MAX_MSG];
		size_t len;
		enum fc_verdict fv;
		enum fc_result r;
		bool refresh;

		r = frontcache_lookup_refresh(w->fc, &qr->q,
		    (uint32_t)qr->start.tv_sec, client_limit(w, req, &qr->q),
		    out, sizeof(out), &len, &fv, &refresh);
		if (r == FC_FRESH) {
			stats_inc(&w->stats.cache_hits);
			qr->cache_hit = true;
			qr->verdict = fv == FC_SECURE ? STATS_SECURE :
			    fv == FC_BOGUS ? STATS_BOGUS : STATS_INSECURE;
			stats_inc(&w->stats.verdict[qr->verdict]);
			send_reply(w, req, out, len, qr);
			if (refresh && w->cfg->prefetch)
				prefetch(w, &qr->q);
			return;
		}
		/* Expired data kept for serve-stale: the client waits at
		 * most 1.8 s for a fresh answer (RFC 8767 5). */
		if (w->cfg->serve_stale && frontcache_lookup(w->fc, &qr->q,
		    (uint32_t)qr->start.tv_sec, true, DNS_MAX_MSG, out,
		    sizeof(out), &len, NULL) != FC_MISS) {
			if (deadline_ms > STALE_WAIT_MS)
				deadline_ms = STALE_WAIT_MS;
		}
	}
	/* Special-use names never leave the host (route.h). */
	if (answer_local(w, req, qr) || answer_synth(w, req, qr))
		return;
	/* Queries already answered (libunbound may still work on them after
	 * a timeout) do not count: they hold no client. */
	if (w->nwaiting >= w->cfg->max_inflight) {
		/* Full: refuse new work cleanly, keep serving the rest. */
		if (!w->overloaded)
			ds_warn("worker %u: %u queries in flight, refusing new "
			    "ones", w->index, w->nwaiting);
		w->overloaded = true;
		stats_inc(&w->stats.overloaded);
		reply_error(w, req, &qr->q, DNS_RCODE_REFUSED, DNS_EDE_OTHER,
		    "too many queries in flight", qr);
		return;
	}
	w->overloaded = false;
	/* Only names that made it this far once are in the cache: the text
	 * form, which libunbound and getdns take, is needed from here on. */
	if (dnsmsg_name_to_str(qr->q.qname, qr->q.qname_len, name,
	    sizeof(name)) < 0) {
		reply_error(w, req, &qr->q, DNS_RCODE_FORMERR, DNS_EDE_NONE,
		    NULL, qr);
		return;
	}
	if ((qr = malloc(sizeof(*qr))) == NULL) {
		ds_err("worker %u: out of memory, query dropped", w->index);
		listener_drop(req);
		return;
	}
	*qr = tmp;
	qr->w = w;
	qr->req = req;
	qr->gen = w->gen;
	query_link(qr);
	w->nwaiting++;
	atomic_store_explicit(&w->waiting, w->nwaiting, memory_order_relaxed);
	if ((qr->timer = evtimer_new(w->base, query_timo, qr)) == NULL) {
		query_error(qr, DNS_RCODE_SERVFAIL, DNS_EDE_OTHER,
		    "out of memory");
		query_free(qr);
		return;
	}
	tv.tv_sec = deadline_ms / 1000;
	tv.tv_usec = (deadline_ms % 1000) * 1000;
	evtimer_add(qr->timer, &tv);
	qr->pending = true;
	qr->submitting = true;
	if (qr->q.cd) {
		/* The client validates, or wants the data anyway. */
		qr->cd_path = true;
		qr->up = w->up;
		rc = upstreams_query(w->up, &qr->q, name, cd_done, qr,
		    &qr->gd_id);
	} else
		rc = validator_resolve(w->val, name, qr->q.qtype,
		    validate_done, qr);
	qr->submitting = false;
	if (rc != 0) {
		/* getdns refuses at once while every upstream is backed off
		 * after failures; libunbound only on internal errors. */
		qr->pending = false;
		if (qr->cd_path)
			upstream_failed(qr, upstreams_last_error(qr->up));
		else
			query_error(qr, DNS_RCODE_SERVFAIL, DNS_EDE_OTHER,
			    "cannot start validation");
	}
	/* Answered already (from the cache), or failed to start. */
	if (!qr->pending)
		query_free(qr);
}

static bool
client_allowed(void *arg, const struct sockaddr *peer, socklen_t len)
{
	struct worker *w = arg;

	(void)len;
	if (acl_allows(w->cfg->acl, w->cfg->nacl, peer))
		return true;
	stats_inc(&w->stats.refused_acl);
	return false;
}

/* DoT: the access_control identity rule a client's certificate meets,
 * under the configuration in force at its handshake (configurations live
 * until exit), or NULL. */
static const void *
client_identify(void *arg, struct ssl_st *ssl)
{
	struct worker *w = arg;

	return tlsserve_match(ssl, w->cfg->acl_ids, w->cfg->nacl_ids);
}

/* The metrics' and query log's position of a DoT request's identity
 * rule in the configuration in force; STATS_IDENTITIES: none ("other"). */
static size_t
client_identity_index(const struct worker *w, const struct ds_req *req)
{
	const struct acl_identity *id = req->ident;

	if (id == NULL || id < w->cfg->acl_ids ||
	    id >= w->cfg->acl_ids + w->cfg->nacl_ids)
		return STATS_IDENTITIES;
	return (size_t)(id - w->cfg->acl_ids);
}

static const char *
client_identity_label(const struct worker *w, const struct ds_req *req)
{
	size_t i = client_identity_index(w, req);

	return i < STATS_IDENTITIES ? w->cfg->acl_ids[i].id : "other";
}

/* Count a DoT query by its client's identity; whether the identity rule
 * it met lets it ask. */
static bool
client_identity_allowed(struct worker *w, const struct ds_req *req)
{
	const struct acl_identity *id = req->ident;

	stats_inc(&w->stats.dot_identity[client_identity_index(w, req)]);
	return id == NULL || !id->refuse;
}

/* Stopping: no new queries; the loop ends when the last one in flight is
 * answered, or at the deadline. */
static void
drain_begin(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct timeval tick = { 0, 20000 };
	unsigned i;

	(void)fd;
	(void)what;
	for (i = 0; i < w->nlisteners; i++)
		listener_pause(w->listeners[i]);
	clock_gettime(CLOCK_MONOTONIC, &w->drain_deadline);
	w->drain_deadline.tv_sec += w->drain_ms / 1000;
	w->drain_deadline.tv_nsec += (long)(w->drain_ms % 1000) * 1000000;
	if (w->drain_deadline.tv_nsec >= 1000000000) {
		w->drain_deadline.tv_sec++;
		w->drain_deadline.tv_nsec -= 1000000000;
	}
	ds_debug("worker %u: draining %u queries", w->index, w->nqueries);
	evtimer_add(w->drain_timer, &tick);
	drain_check(-1, 0, w);
}

static void
drain_check(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct query *qr;
	unsigned waiting = 0, i;

	(void)fd;
	(void)what;
	/* Queries already answered may still wait for libunbound's late
	 * callback: they do not hold the stop up. */
	for (qr = w->queries; qr; qr = qr->next)
		if (qr->req != NULL)
			waiting++;
	/* Answers given to TCP clients must also have left: the loop
	 * writes them, so it may not end before. */
	for (i = 0; waiting == 0 && i < w->nlisteners; i++)
		if (listener_output_pending(w->listeners[i]))
			waiting++;
	if (waiting == 0 || ms_since(&w->drain_deadline) >= 0) {
		if (waiting > 0)
			ds_warn("worker %u: %u queries unanswered at the end "
			    "of the drain", w->index, waiting);
		event_base_loopbreak(w->base);
	}
}

static unsigned
health_period(const struct ds_config *cfg)
{
	return cfg->health_max_age / 3 ? cfg->health_max_age / 3 : 1;
}

static void
health_done(void *arg, int status, const uint8_t *reply, size_t len,
    const char *why)
{
	struct worker *w = arg;

	(void)reply;
	(void)len;
	w->health_pending = false;
	if (status == 0)
		atomic_store_explicit(&w->stats.upstream_last_ok,
		    (int_fast64_t)time(NULL), memory_order_relaxed);
	else
		ds_debug("worker %u: upstream health probe failed: %s",
		    w->index, why ? why : "(no reason)");
}

/* Every health_max_age / 3 seconds: when no upstream answer came in that
 * long, ask the upstream for the root's NS set (on the resolver, like a
 * CD=1 query: nothing to validate, nothing cached). */
static void
health_tick(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct timeval tv = { (time_t)health_period(w->cfg), 0 };
	int_fast64_t last = atomic_load_explicit(&w->stats.upstream_last_ok,
	    memory_order_relaxed);
	uint64_t id;	/* not kept: the probe is never cancelled */
	struct dnsmsg_query q;

	(void)fd;
	(void)what;
	evtimer_add(w->health_timer, &tv);
	if (w->health_pending || w->cfg->metrics_address == NULL ||
	    (int64_t)time(NULL) - last < (int64_t)health_period(w->cfg))
		return;
	memset(&q, 0, sizeof(q));
	q.question_ok = true;
	q.qname_len = 1;	/* the root */
	q.qtype = DNS_TYPE_NS;
	q.qclass = DNS_CLASS_IN;
	w->health_pending = true;
	if (upstreams_query(w->up, &q, ".", health_done, w, &id) != 0)
		w->health_pending = false;
}

/* Delete the oldest replaced upstream set, failing its queries first. */
static void
drop_oldest_upstreams(struct worker *w)
{
	struct upstreams *u = w->old_up[0];

	/* Every callback runs here (the relay's, the CD path's, the health
	 * probe's), none later. */
	upstreams_fail_all(u, "upstreams replaced by a reload");
	upstreams_delete(u);
	w->nold_up--;
	memmove(w->old_up, w->old_up + 1, sizeof(w->old_up[0]) *
	    w->nold_up);
	memmove(w->old_up_since, w->old_up_since + 1,
	    sizeof(w->old_up_since[0]) * w->nold_up);
}

static void
retire_timo(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct timeval tv = { 1, 0 };
	unsigned i = 0;

	(void)fd;
	(void)what;
	/* Outside every libunbound callback: deleting is safe here. */
	while (i < w->nretired) {
		if (validator_inflight(w->retired[i]) == 0) {
			validator_delete(w->retired[i]);
			w->retired[i] = w->retired[--w->nretired];
		} else
			i++;
	}
	/* A replaced set gets its queries' whole timeout, twice. */
	while (w->nold_up > 0 && ms_since(&w->old_up_since[0]) >
	    2 * (long long)w->cfg->timeout_ms + 1000) {
		drop_oldest_upstreams(w);
	}
	if (w->nretired > 0 || w->nold_up > 0)
		evtimer_add(w->retire_timer, &tv);
}

/* Swap in v; the old validator goes when its queries are done. */
static void
retire_validator(struct worker *w, struct validator *v)
{
	struct timeval now = { 0, 0 };

	if (w->nretired == sizeof(w->retired) / sizeof(w->retired[0])) {
		/* Changes do not come this fast: drop the oldest. */
		validator_delete(w->retired[0]);
		w->retired[0] = w->retired[--w->nretired];
	}
	w->retired[w->nretired++] = w->val;
	w->val = v;
	evtimer_add(w->retire_timer, &now);
}

void
flush_wait_release(struct flush_wait *fw)
{
	bool last;

	pthread_mutex_lock(&fw->lock);
	last = --fw->refs == 0;
	pthread_mutex_unlock(&fw->lock);
	if (last) {
		pthread_mutex_destroy(&fw->lock);
		pthread_cond_destroy(&fw->cond);
		free(fw);
	}
}

/* The flush pending on w, if any (worker_flush). */
static void
flush_now(struct worker *w)
{
	struct validator *v;
	struct flush_wait *fw;
	enum fc_drop how;
	uint8_t name[DNS_MAX_NAME];
	size_t len, n = 0;
	uint16_t qtype;

	pthread_mutex_lock(&w->anchor_lock);
	fw = w->flush.fw;
	w->flush.fw = NULL;
	how = w->flush.how;
	len = w->flush.len;
	memcpy(name, w->flush.name, len);
	qtype = w->flush.qtype;
	pthread_mutex_unlock(&w->anchor_lock);
	if (fw == NULL)
		return;
	v = validator_create(w->base, w->cfg, relay_ip(w->relay),
	    relay_port(w->relay), w->anchors);
	if (v != NULL) {
		retire_validator(w, v);
		w->gen++;
		if (w->fc != NULL)
			n = frontcache_drop(w->fc, how, name, len, qtype);
		/* The key cache holds upstream data, not verdicts. */
		if (w->kc != NULL && how != FC_DROP_BOGUS)
			(void)frontcache_drop(w->kc, how, name, len, qtype);
		/* Any zone whose records could prove an answer for the
		 * names flushed. */
		if (how == FC_DROP_ALL)
			(void)synth_drop(w->synth, NULL, 0);
		else if (how != FC_DROP_BOGUS)
			(void)synth_drop(w->synth, name, len);
		ds_info("worker %u: flushed: validator renewed, %zu cached "
		    "answers dropped", w->index, n);
	} else
		ds_err("worker %u: flush failed: no new validator; the "
		    "caches stay", w->index);
	pthread_mutex_lock(&fw->lock);
	if (v != NULL)
		fw->left--;
	pthread_cond_broadcast(&fw->cond);
	pthread_mutex_unlock(&fw->lock);
	flush_wait_release(fw);
}

int
worker_flush(struct worker *w, enum fc_drop how, const uint8_t *name,
    size_t len, uint16_t qtype, struct flush_wait *fw)
{
	pthread_mutex_lock(&w->anchor_lock);
	if (w->flush.fw != NULL || len > sizeof(w->flush.name)) {
		pthread_mutex_unlock(&w->anchor_lock);
		return -1;
	}
	pthread_mutex_lock(&fw->lock);
	fw->refs++;
	pthread_mutex_unlock(&fw->lock);
	w->flush.fw = fw;
	w->flush.how = how;
	memcpy(w->flush.name, name, len);
	w->flush.len = len;
	w->flush.qtype = qtype;
	pthread_mutex_unlock(&w->anchor_lock);
	event_active(w->anchor_ev, EV_READ, 0);
	return 0;
}

unsigned
worker_waiting(struct worker *w)
{
	return atomic_load(&w->waiting);
}

static void
anchors_arrived(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct validator *v;
	char **set;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&w->anchor_lock);
	set = w->pending_anchors;
	w->pending_anchors = NULL;
	pthread_mutex_unlock(&w->anchor_lock);
	flush_now(w);
	if (set == NULL)
		return;
	v = validator_create(w->base, w->cfg, relay_ip(w->relay),
	    relay_port(w->relay), set);
	if (v == NULL)
		anchorfile_free_set(set);
	else {
		anchorfile_free_set(w->anchors);
		w->anchors = set;
	}
	if (v == NULL) {
		ds_err("worker %u: new trust anchors not installed; the "
		    "previous ones stay", w->index);
		return;
	}
	retire_validator(w, v);
	ds_info("worker %u: validator renewed with the new trust anchors",
	    w->index);
}

static bool
str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Whether two configurations give the same getdns context. */
static bool
same_upstreams(const struct ds_config *a, const struct ds_config *b)
{
	if (a->round_robin !=
	    b->round_robin || a->padding_blocksize != b->padding_blocksize ||
	    a->idle_timeout_ms != b->idle_timeout_ms ||
	    a->timeout_ms != b->timeout_ms ||
	    a->upstream_stall_ms != b->upstream_stall_ms ||
	    a->tls_backoff_time != b->tls_backoff_time ||
	    a->tls_connection_retries != b->tls_connection_retries ||
	    a->limit_outstanding_queries != b->limit_outstanding_queries ||
	    !str_eq(a->tls_ca_file, b->tls_ca_file) ||
	    !str_eq(a->tls_ca_path, b->tls_ca_path) ||
	    !str_eq(a->tls_min_version, b->tls_min_version) ||
	    !str_eq(a->tls_max_version, b->tls_max_version))
		return false;
	return config_upstreams_same(a->upstreams, a->nupstreams,
	    b->upstreams, b->nupstreams);
}

/* A route changed at and below name: the answers cached for it go. */
static void
route_changed(void *arg, const char *name)
{
	struct worker *w = arg;
	uint8_t wire[DNS_MAX_NAME];
	int len = route_name_to_wire(name, wire, sizeof(wire));
	size_t n;

	if (len < 0)
		return;
	if (w->kc != NULL)
		(void)frontcache_drop_below(w->kc, wire, (size_t)len);
	(void)synth_drop(w->synth, wire, (size_t)len);
	if (w->fc == NULL)
		return;
	n = frontcache_drop_below(w->fc, wire, (size_t)len);
	ds_info("worker %u: route of %s changed; %zu cached answers dropped",
	    w->index, name, n);
}

static void
reconf_arrived(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	const struct ds_config *cfg, *old = w->cfg;
	struct timeval now = { 0, 0 };
	size_t nchanged;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&w->anchor_lock);
	cfg = w->pending_cfg;
	w->pending_cfg = NULL;
	pthread_mutex_unlock(&w->anchor_lock);
	if (cfg == NULL)
		return;
	w->cfg = cfg;
	atomic_store(&w->stats.cfg, cfg);
	/* Answers of names whose route changed, in the answer cache and in
	 * libunbound's (a new validator), go; the rest stay. */
	nchanged = route_changes(old, cfg, route_changed, w);
	if (nchanged > 0)
		w->gen++;
	if (!same_upstreams(old, cfg) || nchanged > 0) {
		struct upstreams *u = upstreams_create(w->base, cfg,
		    &w->stats);

		if (u == NULL)
			ds_err("worker %u: new upstream settings not usable; "
			    "the previous upstreams stay", w->index);
		else {
			if (w->nold_up == sizeof(w->old_up) /
			    sizeof(w->old_up[0]))
				drop_oldest_upstreams(w);
			clock_gettime(CLOCK_MONOTONIC,
			    &w->old_up_since[w->nold_up]);
			w->old_up[w->nold_up++] = w->up;
			w->up = u;
			relay_set_upstreams(w->relay, u);
			evtimer_add(w->retire_timer, &now);
			ds_notice("worker %u: upstreams now %s; %zu forward "
			    "zones", w->index, upstreams_default_str(u),
			    cfg->nfwd_zones);
		}
	}
	if (nchanged > 0 || old->cache_size != cfg->cache_size ||
	    old->cache_min_ttl != cfg->cache_min_ttl ||
	    old->cache_max_ttl != cfg->cache_max_ttl ||
	    old->prefetch != cfg->prefetch ||
	    old->bogus_ttl != cfg->bogus_ttl) {
		struct validator *v = validator_create(w->base, cfg,
		    relay_ip(w->relay), relay_port(w->relay), w->anchors);

		if (v == NULL)
			ds_err("worker %u: new cache or route settings not "
			    "usable by libunbound", w->index);
		else {
			retire_validator(w, v);
			ds_notice("worker %u: %s changed; libunbound's caches "
			    "start again (the answer cache is kept%s)",
			    w->index, nchanged > 0 ? "routes" :
			    "cache settings", nchanged > 0 ?
			    " for names whose route did not change" : "");
		}
	}
	if (old->ratelimit_qps != cfg->ratelimit_qps) {
		struct ratelimit *rl = ratelimit_create(
		    cfg->ratelimit_qps == 0 ? 0 : (cfg->ratelimit_qps +
		    cfg->workers - 1) / cfg->workers);

		if (rl != NULL) {
			ratelimit_delete(w->rl);
			w->rl = rl;
		}
	}
}

void
worker_reconfigure(struct worker *w, const struct ds_config *cfg)
{
	pthread_mutex_lock(&w->anchor_lock);
	w->pending_cfg = cfg;
	pthread_mutex_unlock(&w->anchor_lock);
	event_active(w->reconf_ev, EV_READ, 0);
}

void
worker_set_anchors(struct worker *w, char *const *anchors)
{
	char **set = anchorfile_copy_set(anchors);

	if (set == NULL) {
		ds_err("worker %u: out of memory, trust anchors not handed "
		    "over", w->index);
		return;
	}
	pthread_mutex_lock(&w->anchor_lock);
	anchorfile_free_set(w->pending_anchors);
	w->pending_anchors = set;
	pthread_mutex_unlock(&w->anchor_lock);
	event_active(w->anchor_ev, EV_READ, 0);
}

struct event_base *
worker_base(struct worker *w)
{
	return w->base;
}

const char *
worker_relay_ip(const struct worker *w)
{
	return relay_ip(w->relay);
}

unsigned
worker_relay_port(const struct worker *w)
{
	return relay_port(w->relay);
}

struct worker *
worker_create(const struct ds_config *cfg, unsigned index, const int *fds,
    const enum ds_transport *types, unsigned nfds, struct tlsserve *tls,
    char *const *anchors)
{
	struct worker *w;
	struct listener_opts lo;
	unsigned i;

	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->listeners = calloc(nfds, sizeof(*w->listeners))) == NULL) {
		ds_err("worker %u: out of memory", index);
		free(w);
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		return NULL;
	}
	w->cfg = cfg;
	w->index = index;
	pthread_mutex_init(&w->anchor_lock, NULL);
	stats_init(&w->stats);
	if ((w->base = event_base_new()) == NULL ||
	    (w->anchor_ev = event_new(w->base, -1, 0, anchors_arrived,
	    w)) == NULL ||
	    (w->retire_timer = evtimer_new(w->base, retire_timo, w)) ==
	    NULL) {
		ds_err("worker %u: cannot create an event base", index);
		goto fail;
	}
	if ((w->rl = ratelimit_create(cfg->ratelimit_qps == 0 ? 0 :
	    (cfg->ratelimit_qps + cfg->workers - 1) / cfg->workers)) ==
	    NULL ||
	    (w->drain_ev = event_new(w->base, -1, 0, drain_begin, w)) ==
	    NULL ||
	    (w->drain_timer = event_new(w->base, -1, EV_PERSIST, drain_check,
	    w)) == NULL ||
	    (w->reconf_ev = event_new(w->base, -1, 0, reconf_arrived, w)) ==
	    NULL || (w->health_timer = evtimer_new(w->base, health_tick,
	    w)) == NULL || (w->anchors = anchorfile_copy_set(anchors)) == NULL) {
		ds_err("worker %u: out of memory", index);
		goto fail;
	}
	atomic_store(&w->stats.cfg, cfg);
	if ((w->up = upstreams_create(w->base, cfg, &w->stats)) == NULL ||
	    (w->relay = relay_create(w->base, w->up,
	    (uint16_t)cfg->edns_udp_size,
	    cfg->limit_outstanding_queries, &w->stats)) == NULL ||
	    (w->val = validator_create(w->base, cfg, relay_ip(w->relay),
	    relay_port(w->relay), anchors)) == NULL)
		goto fail;
	memset(&lo, 0, sizeof(lo));
	lo.tcp_idle_timeout_ms = cfg->tcp_idle_timeout_ms;
	lo.tcp_max_connections = cfg->tcp_max_connections;
	lo.tcp_max_inflight = cfg->tcp_max_inflight;
	lo.tcp_read_timeout_ms = cfg->tcp_read_timeout_ms;
	lo.tls_handshake_timeout_ms = cfg->tls_handshake_timeout_ms;
	lo.stats = &w->stats;
	/* Over TCP, clients outside access_control are turned away at
	 * accept; over UDP the query path answers them (REFUSED). */
	lo.accept = client_allowed;
	lo.identify = client_identify;
	lo.accept_arg = w;
	lo.accept_tcp_only = true;
	for (i = 0; i < nfds; i++) {
		/* DoT: the same limits and answers as TCP, over TLS. */
		lo.tls = types[i] == DS_TLS ? tls : NULL;
		w->listeners[i] = listener_create(w->base, fds[i],
		    types[i], &lo, client_query, w);
		if (w->listeners[i] == NULL)
			goto fail;
		w->nlisteners++;
	}
	if (index == 0) {
		struct timeval tv = { (time_t)health_period(cfg), 0 };

		evtimer_add(w->health_timer, &tv);
	}
	return w;
fail:
	/* The fds not yet taken over by a listener are still ours. */
	for (i = w->nlisteners; i < nfds; i++)
		close(fds[i]);
	worker_delete(w);
	return NULL;
}

/* The answer to the start-up query: only logged. */
static void
prime_done(void *arg, enum validator_verdict v, int rcode, const uint8_t *pkt,
    size_t len, const char *why)
{
	struct worker *w = arg;

	(void)pkt;
	(void)len;
	ds_debug("worker %u: root DNSKEY at start: %s", w->index,
	    v == VAL_SECURE ? "secure" : v == VAL_FAILED ? "no answer" :
	    v == VAL_BOGUS ? (why ? why : "bogus") : "insecure");
	(void)rcode;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	ds_debug("worker %u running", w->index);
	/* The root's keys and an upstream connection now, as kresd does,
	 * so that the first client query does not wait for them. */
	if (validator_resolve(w->val, ".", DNS_TYPE_DNSKEY, prime_done, w) != 0)
		ds_info("worker %u: no start-up query of the root DNSKEY",
		    w->index);
	if (event_base_dispatch(w->base) < 0)
		ds_err("worker %u: event loop failed", w->index);
	return NULL;
}

int
worker_start(struct worker *w)
{
	int rc = pthread_create(&w->thread, NULL, worker_main, w);

	if (rc != 0) {
		ds_err("worker %u: cannot start a thread: %s", w->index,
		    strerror(rc));
		return -1;
	}
	w->running = true;
	return 0;
}

void
worker_stop(struct worker *w, unsigned drain_ms)
{
	if (!w->running)
		return;
	if (drain_ms > 0) {
		w->drain_ms = drain_ms;
		event_active(w->drain_ev, EV_TIMEOUT, 0);
	} else
		event_base_loopexit(w->base, NULL);
	pthread_join(w->thread, NULL);
	w->running = false;
}

void
worker_set_frontcache(struct worker *w, struct frontcache *fc)
{
	w->fc = fc;
}

void
worker_set_synth(struct worker *w, struct synth *s)
{
	w->synth = s;
}

void
worker_set_keycache(struct worker *w, struct frontcache *kc)
{
	w->kc = kc;
	relay_set_keycache(w->relay, kc);
}

void
worker_set_query_log(struct worker *w, FILE *f)
{
	w->query_log = f;
}

struct stats *
worker_stats(struct worker *w)
{
	return &w->stats;
}

void
worker_delete(struct worker *w)
{
	unsigned i;

	if (w == NULL)
		return;
	for (i = 0; i < w->nlisteners; i++)
		listener_delete(w->listeners[i]);
	/* Backends first: their callbacks must not run on freed queries.
	 * Deleting them runs no callback of ours. */
	validator_delete(w->val);
	for (i = 0; i < w->nretired; i++)
		validator_delete(w->retired[i]);
	relay_delete(w->relay);
	for (i = 0; i < w->nold_up; i++)
		upstreams_delete(w->old_up[i]);
	upstreams_delete(w->up);
	while (w->queries)
		query_free(w->queries);
	if (w->anchor_ev)
		event_free(w->anchor_ev);
	if (w->drain_ev)
		event_free(w->drain_ev);
	if (w->reconf_ev)
		event_free(w->reconf_ev);
	anchorfile_free_set(w->anchors);
	if (w->drain_timer)
		event_free(w->drain_timer);
	ratelimit_delete(w->rl);
	if (w->retire_timer)
		event_free(w->retire_timer);
	if (w->health_timer)
		event_free(w->health_timer);
	if (w->base)
		event_base_free(w->base);
	anchorfile_free_set(w->pending_anchors);
	if (w->flush.fw != NULL) {
		/* Never carried out: the caller stops waiting for us. */
		pthread_mutex_lock(&w->flush.fw->lock);
		pthread_cond_broadcast(&w->flush.fw->cond);
		pthread_mutex_unlock(&w->flush.fw->lock);
		flush_wait_release(w->flush.fw);
	}
	pthread_mutex_destroy(&w->anchor_lock);
	stats_fini(&w->stats);
	free(w->listeners);
	free(w);
}
