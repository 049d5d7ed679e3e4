/*
 * relay.c -- loopback endpoint between libunbound and getdns.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/rand.h>

#include "clock.h"
#include "dnsmsg.h"
#include "frontcache.h"
#include "listener.h"
#include "log.h"
#include "relay.h"
#include "resolver.h"
#include "route.h"
#include "upstreams.h"
#include "stats.h"

struct rrq;

/* How long a zone whose keys were asked for (by libunbound, or by the
 * relay for it) counts as known to this worker's validator: no key
 * prefetch for it meanwhile (keycache_chain).  Longer than libunbound
 * keeps them only costs the prefetch; shorter would ask again for keys
 * it holds. */
#define KEYS_ASKED_SEC	300
#define KEYS_ASKED_SLOTS	1024

struct relay {
	struct upstreams *up;	/* not owned: the worker's */
	struct listener *udp, *tcp;
	struct in_addr addr;
	char ip[INET_ADDRSTRLEN];
	unsigned port;
	uint16_t edns_size;
	unsigned max_inflight, inflight;
	struct rrq *rqs;	/* in flight, for cancellation */
	uint64_t nqueries, nfailures, nmerged;
	struct stats *st;
	struct frontcache *kc;	/* shared key cache, not owned; NULL: none */
	/* Zones whose keys this relay was asked for lately, by a hash of
	 * the name: a hint, a collision just overwrites. */
	struct {
		uint64_t h;
		uint32_t until;
	} asked[KEYS_ASKED_SLOTS];
};

/* One libunbound query on its way to the upstream, or one the relay asks
 * for the key cache on its own (req NULL; keycache_chain). */
struct rrq {
	struct relay *rl;
	struct ds_req *req;
	struct dnsmsg_query q;
	uint64_t id;
	struct timespec start;
	bool submitting;	/* inside upstreams_query */
	bool done;		/* relay_done ran */
	struct upstreams *up;	/* the set it was sent on */
	struct rrq *next, *prev;
	/* The same question asked again while this one is in flight
	 * (libunbound retransmitting to a slow upstream): answered with
	 * this one's reply, never sent upstream themselves. */
	struct rrq *followers, *fnext;
};

static bool relay_accept(void *, const struct sockaddr *, socklen_t);
static void relay_query(void *, struct ds_req *);
static void relay_done(void *, int, const uint8_t *, size_t, const char *);
static void rrq_send(struct relay *, struct rrq *, const char *);
static void keycache_chain(struct relay *, const struct dnsmsg_query *);

static bool
relay_accept(void *arg, const struct sockaddr *peer, socklen_t len)
{
	struct relay *rl = arg;
	const struct sockaddr_in *s4 = (const void *)peer;

	/* Only libunbound, bound to the relay's own address, may ask. */
	return len >= sizeof(*s4) && peer->sa_family == AF_INET &&
	    s4->sin_addr.s_addr == rl->addr.s_addr;
}

static void
relay_error(struct relay *rl, struct ds_req *req,
    const struct dnsmsg_query *q, int rcode)
{
	uint8_t out[512];
	int n;

	n = dnsmsg_error(q, rcode, DNS_EDE_NONE, NULL, rl->edns_size, out,
	    sizeof(out));
	if (n > 0)
		listener_reply(req, out, (size_t)n);
	else
		listener_drop(req);
}

/* Count an upstream failure and log it; clients learn why from the
 * per-upstream EDE text (upstreams.h). */
static void
relay_failed(struct relay *rl, const char *why)
{
	rl->nfailures++;
	if (rl->st)
		stats_inc(&rl->st->upstream_errors);
	ds_info("relay: %s", why ? why : "upstream failed");
}

/* The upstream's reply shaped for r's question (its ID, letter case and
 * transport's size limit), DNSSEC records kept, AD clear, no EDE.
 * Returns the length in out, or < 0 (see dnsmsg_shape). */
static int
rrq_shape(const struct relay *rl, const struct rrq *r, const uint8_t *reply,
    size_t len, uint8_t *out, size_t outlen)
{
	struct dnsmsg_shape_opts o;

	memset(&o, 0, sizeof(o));
	o.keep_dnssec = true;
	o.max_size = r->req != NULL && r->req->transport == DS_UDP ?
	    dnsmsg_udp_limit(&r->q, rl->edns_size) : DNS_MAX_MSG;
	o.edns_size = rl->edns_size;
	o.ede_code = DNS_EDE_NONE;
	return dnsmsg_shape(&r->q, reply, len, &o, out, outlen);
}

/* Answer every follower of r with the upstream's reply (status 0), or
 * SERVFAIL; free them. */
static void
followers_answer(struct relay *rl, struct rrq *r, int status,
    const uint8_t *reply, size_t len)
{
	uint8_t out[DNS_MAX_MSG];

	while (r->followers != NULL) {
		struct rrq *f = r->followers;
		int n = -1;

		r->followers = f->fnext;
		if (status == 0)
			n = rrq_shape(rl, f, reply, len, out, sizeof(out));
		if (n < 0)
			relay_error(rl, f->req, &f->q, DNS_RCODE_SERVFAIL);
		else
			listener_reply(f->req, out, (size_t)n);
		free(f);
	}
}

/* Drop every follower of r without an answer (the relay is going). */
static void
followers_drop(struct rrq *r)
{
	while (r->followers != NULL) {
		struct rrq *f = r->followers;

		r->followers = f->fnext;
		listener_drop(f->req);
		free(f);
	}
}

/* The query in flight asking the same question as q, if any. */
static struct rrq *
rrq_find(struct relay *rl, const struct dnsmsg_query *q)
{
	struct rrq *r;

	for (r = rl->rqs; r != NULL; r = r->next)
		if (r->q.qtype == q->qtype && r->q.qclass == q->qclass &&
		    r->q.qname_len == q->qname_len && r->q.cd == q->cd &&
		    r->q.do_bit == q->do_bit &&
		    dnsmsg_name_equal(r->q.qname, q->qname, q->qname_len))
			return r;
	return NULL;
}

/*
 * The key cache: the DS and DNSKEY replies that the relays of every worker
 * fetched, shared, so that a zone's keys cross the network once, not once
 * per worker.  It holds the upstream's replies exactly as the relay gave
 * them to libunbound, which validates them as it would the upstream's:
 * nothing in it is trusted for being there.  The root's DNSKEY is left
 * out: the trust anchor prober (RFC 5011) must see the upstream's.
 */
static bool
keycache_type(const struct dnsmsg_query *q)
{
	return q->qclass == DNS_CLASS_IN && (q->qtype == DNS_TYPE_DS ||
	    (q->qtype == DNS_TYPE_DNSKEY && q->qname_len > 1));
}

static uint64_t
name_hash(const uint8_t *name, size_t len)
{
	uint64_t h = 14695981039346656037ull;
	size_t i;

	for (i = 0; i < len; i++) {
		uint8_t c = name[i];

		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c + ('a' - 'A'));
		h = (h ^ c) * 1099511628211ull;
	}
	return h | 1;	/* 0: an empty slot */
}

static void
keys_asked(struct relay *rl, const uint8_t *name, size_t len, uint32_t now)
{
	uint64_t h = name_hash(name, len);

	rl->asked[h % KEYS_ASKED_SLOTS].h = h;
	rl->asked[h % KEYS_ASKED_SLOTS].until = now + KEYS_ASKED_SEC;
}

static bool
keys_known(const struct relay *rl, const uint8_t *name, size_t len,
    uint32_t now)
{
	uint64_t h = name_hash(name, len);

	return rl->asked[h % KEYS_ASKED_SLOTS].h == h &&
	    (int32_t)(rl->asked[h % KEYS_ASKED_SLOTS].until - now) > 0;
}

/* Answer req from the key cache; true if it was. */
static bool
keycache_answer(struct relay *rl, struct ds_req *req,
    const struct dnsmsg_query *q)
{
	uint8_t out[DNS_MAX_MSG];
	size_t len;

	if (rl->kc == NULL || !keycache_type(q) ||
	    frontcache_lookup(rl->kc, q, now_sec(), false,
	    req->transport == DS_UDP ? dnsmsg_udp_limit(q, rl->edns_size) :
	    DNS_MAX_MSG, out, sizeof(out), &len, NULL) != FC_FRESH)
		return false;
	if (rl->st)
		stats_inc(&rl->st->upstream_shared);
	listener_reply(req, out, len);
	return true;
}

static void
rrq_unlink(struct rrq *r)
{
	struct relay *rl = r->rl;

	if (r->prev)
		r->prev->next = r->next;
	else
		rl->rqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	rl->inflight--;
}

static void
relay_query(void *arg, struct ds_req *req)
{
	struct relay *rl = arg;
	struct rrq *r, *lead;
	char name[4 * DNS_MAX_NAME + 2];
	int rc;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		ds_err("relay: out of memory");
		listener_drop(req);
		return;
	}
	rc = dnsmsg_parse_query(req->pkt, req->len, &r->q);
	if (rc < 0) {
		listener_drop(req);
		free(r);
		return;
	}
	if (rc > 0) {
		relay_error(rl, req, &r->q, rc);
		free(r);
		return;
	}
	if (rl->kc != NULL && keycache_type(&r->q))
		keys_asked(rl, r->q.qname, r->q.qname_len, now_sec());
	if (keycache_answer(rl, req, &r->q)) {
		free(r);
		return;
	}
	if ((lead = rrq_find(rl, &r->q)) != NULL) {
		/* Already on its way upstream: wait for that answer. */
		r->rl = rl;
		r->req = req;
		r->fnext = lead->followers;
		lead->followers = r;
		rl->nmerged++;
		if (rl->st)
			stats_inc(&rl->st->upstream_merged);
		return;
	}
	if (rl->inflight >= rl->max_inflight) {
		ds_warn("relay: %u upstream queries in flight, refusing more",
		    rl->inflight);
		relay_error(rl, req, &r->q, DNS_RCODE_SERVFAIL);
		free(r);
		return;
	}
	if (dnsmsg_name_to_str(r->q.qname, r->q.qname_len, name,
	    sizeof(name)) < 0) {
		relay_error(rl, req, &r->q, DNS_RCODE_FORMERR);
		free(r);
		return;
	}
	if (route_lookup(upstreams_route(rl->up), r->q.qname, r->q.qname_len,
	    r->q.qtype) == ROUTE_LOCAL) {
		/* A special-use name (libunbound asking for a DS or DNSKEY
		 * on the way): it never leaves the host. */
		uint8_t out[512];
		int n = route_local(upstreams_route(rl->up), &r->q,
		    rl->edns_size, out, sizeof(out));

		if (n > 0)
			listener_reply(req, out, (size_t)n);
		else
			relay_error(rl, req, &r->q, DNS_RCODE_SERVFAIL);
		free(r);
		return;
	}
	r->rl = rl;
	r->req = req;
	/* A zone's first query: its keys, asked for at the same time. */
	if (!keycache_type(&r->q))
		keycache_chain(rl, &r->q);
	rrq_send(rl, r, name);
}

/* Send r (r->rl, r->q and r->req set; name: r->q's name as text)
 * upstream; r is freed when done.  A failure to send is answered at once
 * (SERVFAIL). */
static void
rrq_send(struct relay *rl, struct rrq *r, const char *name)
{
	int rc;

	r->next = rl->rqs;
	if (rl->rqs)
		rl->rqs->prev = r;
	rl->rqs = r;
	rl->inflight++;
	rl->nqueries++;
	if (rl->st)
		stats_inc(&rl->st->upstream_queries);
	clock_gettime(CLOCK_MONOTONIC, &r->start);
	ds_debug("relay: %s %u -> upstream%s", name, r->q.qtype,
	    r->req == NULL ? " (key cache)" : "");
	/* getdns may answer before upstreams_query returns: r lives on
	 * until then (see relay_done). */
	r->submitting = true;
	r->up = rl->up;
	rc = upstreams_query(rl->up, &r->q, name, relay_done, r, &r->id);
	r->submitting = false;
	if (rc != 0) {
		rrq_unlink(r);
		relay_failed(rl, upstreams_last_error(rl->up));
		if (r->req != NULL)
			relay_error(rl, r->req, &r->q, DNS_RCODE_SERVFAIL);
		free(r);
	} else if (r->done)
		free(r);
}

/*
 * A name in a zone whose keys this worker's validator was not given
 * lately, and that the key cache does not hold: libunbound will ask,
 * after this query's answer, for the DS and DNSKEY of each zone between
 * the root and the name, one link after the other, a round trip each.
 * Ask now, alongside, for those of the name's top-level domain and of the
 * domain below it (the name itself when it is one of them), for a name
 * on the default route only, so that
 * libunbound's questions find them in the key cache, or on their way (a
 * question already in flight is merged, relay_query).  Only what neither
 * the key cache holds nor this relay is already asking for; never for a
 * name that stays on the host, and never past max_inflight.
 */
static void
keycache_chain(struct relay *rl, const struct dnsmsg_query *q)
{
	static const uint16_t types[2] = { DNS_TYPE_DS, DNS_TYPE_DNSKEY };
	size_t offs[DNS_MAX_NAME], off = 0;
	unsigned nl = 0, depth, t;
	char name[4 * DNS_MAX_NAME + 2];
	uint8_t out[DNS_MAX_MSG];
	size_t len;
	uint32_t now = now_sec();

	/* A forward zone's names never reach another route's upstreams:
	 * its keys come from its own trust anchors or upstream, and the
	 * parent's DS is libunbound's to ask for, if it wants it. */
	if (rl->kc == NULL || q->qclass != DNS_CLASS_IN ||
	    route_lookup(upstreams_route(rl->up), q->qname, q->qname_len,
	    q->qtype) != ROUTE_DEFAULT)
		return;
	while (off < q->qname_len && q->qname[off] != 0 &&
	    nl < DNS_MAX_NAME) {
		offs[nl++] = off;
		off += 1 + (size_t)q->qname[off];
	}
	for (depth = 1; depth <= 2 && depth <= nl; depth++) {
		struct dnsmsg_query dq = *q;

		/* As libunbound asks for keys: checking disabled, so that
		 * the reply is the same whatever the upstream thinks. */
		dq.cd = true;
		off = offs[nl - depth];
		dq.qname_len = q->qname_len - off;
		memcpy(dq.qname, q->qname + off, dq.qname_len);
		if (keys_known(rl, dq.qname, dq.qname_len, now))
			continue;
		keys_asked(rl, dq.qname, dq.qname_len, now);
		for (t = 0; t < 2; t++) {
			struct rrq *r;

			dq.qtype = types[t];
			if (frontcache_lookup(rl->kc, &dq, now, false,
			    DNS_MAX_MSG, out, sizeof(out), &len, NULL) ==
			    FC_FRESH || rrq_find(rl, &dq) != NULL)
				continue;
			if (rl->inflight >= rl->max_inflight ||
			    route_lookup(upstreams_route(rl->up), dq.qname,
			    dq.qname_len, dq.qtype) == ROUTE_LOCAL ||
			    dnsmsg_name_to_str(dq.qname, dq.qname_len, name,
			    sizeof(name)) < 0)
				return;
			if ((r = calloc(1, sizeof(*r))) == NULL)
				return;
			r->rl = rl;
			r->q = dq;
			if (rl->st)
				stats_inc(&rl->st->upstream_key_prefetches);
			rrq_send(rl, r, name);
		}
	}
}

static void
relay_done(void *arg, int status, const uint8_t *reply, size_t len,
    const char *why)
{
	struct rrq *r = arg;
	struct relay *rl = r->rl;
	uint8_t out[DNS_MAX_MSG];
	int n = -1;

	rrq_unlink(r);
	if (status == 0) {
		n = rrq_shape(rl, r, reply, len, out, sizeof(out));
		if (n < 0) {
			why = "malformed reply or reply to another question";
			ds_warn("relay: upstream reply rejected: %s (%s)", why,
			    upstreams_default_str(r->up));
		}
	}
	if (n < 0) {
		relay_failed(rl, why);
		if (r->req != NULL)
			relay_error(rl, r->req, &r->q, DNS_RCODE_SERVFAIL);
	} else {
		if (rl->st) {
			long long us = us_since(&r->start);

			stats_upstream_latency(rl->st,
			    (uint64_t)(us > 0 ? us : 0));
			atomic_store_explicit(&rl->st->upstream_last_ok,
			    (int_fast64_t)time(NULL), memory_order_relaxed);
		}
		/* Truncated (TC) replies are not stored: libunbound asks
		 * again over TCP, and that reply is. */
		if (rl->kc != NULL && keycache_type(&r->q))
			(void)frontcache_store(rl->kc, &r->q, out, (size_t)n,
			    FC_INSECURE, now_sec());
		if (r->req != NULL)
			listener_reply(r->req, out, (size_t)n);
	}
	followers_answer(rl, r, n < 0 ? -1 : 0, reply, len);
	r->done = true;
	if (!r->submitting)
		free(r);
}

static int
relay_bind(struct relay *rl, int *ufd, int *tfd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	uint8_t rnd[3];
	int tries;

	for (tries = 0; tries < 20; tries++) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			return -1;
		/* 127.X.Y.Z, avoiding 127.0.0.0/16 where other services
		 * usually live, and .0/.255 host bytes. */
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(0x7f000000u |
		    (uint32_t)(rnd[0] % 254 + 1) << 16 |
		    (uint32_t)rnd[1] << 8 | (uint32_t)(rnd[2] % 254 + 1));
		sin.sin_port = 0;
		if ((*ufd = listener_bind((struct sockaddr *)&sin,
		    sizeof(sin), DS_UDP, false)) < 0)
			continue;
		if (getsockname(*ufd, (struct sockaddr *)&sin, &len) != 0) {
			close(*ufd);
			continue;
		}
		if ((*tfd = listener_bind((struct sockaddr *)&sin,
		    sizeof(sin), DS_TCP, false)) < 0) {
			close(*ufd);
			continue;
		}
		rl->addr = sin.sin_addr;
		rl->port = ntohs(sin.sin_port);
		inet_ntop(AF_INET, &rl->addr, rl->ip, sizeof(rl->ip));
		return 0;
	}
	return -1;
}

struct relay *
relay_create(struct event_base *base, struct upstreams *up,
    uint16_t edns_size, unsigned max_inflight, struct stats *st)
{
	struct relay *rl;
	struct listener_opts lo;
	int ufd = -1, tfd = -1;

	if ((rl = calloc(1, sizeof(*rl))) == NULL) {
		ds_err("relay: out of memory");
		return NULL;
	}
	rl->up = up;
	rl->st = st;
	rl->edns_size = edns_size;
	rl->max_inflight = max_inflight;
	if (relay_bind(rl, &ufd, &tfd) != 0) {
		ds_err("relay: cannot bind a loopback address");
		free(rl);
		return NULL;
	}
	memset(&lo, 0, sizeof(lo));
	lo.tcp_idle_timeout_ms = 30000;
	lo.tcp_max_connections = 256;
	lo.tcp_max_inflight = max_inflight;
	lo.accept = relay_accept;
	lo.accept_arg = rl;
	rl->udp = listener_create(base, ufd, DS_UDP, &lo, relay_query, rl);
	if (rl->udp == NULL) {
		close(ufd);
		close(tfd);
		free(rl);
		return NULL;
	}
	rl->tcp = listener_create(base, tfd, DS_TCP, &lo, relay_query, rl);
	if (rl->tcp == NULL) {
		close(tfd);
		relay_delete(rl);
		return NULL;
	}
	ds_notice("relay listening on %s@%u", rl->ip, rl->port);
	return rl;
}

void
relay_delete(struct relay *rl)
{
	if (rl == NULL)
		return;
	listener_delete(rl->udp);
	listener_delete(rl->tcp);
	while (rl->rqs) {
		struct rrq *r = rl->rqs;

		rrq_unlink(r);
		upstreams_cancel(r->up, r->id);
		if (r->req != NULL)
			listener_drop(r->req);
		followers_drop(r);
		free(r);
	}
	free(rl);
}

void
relay_set_keycache(struct relay *rl, struct frontcache *kc)
{
	rl->kc = kc;
}

void
relay_set_upstreams(struct relay *rl, struct upstreams *up)
{
	rl->up = up;
}

const char *
relay_ip(const struct relay *rl)
{
	return rl->ip;
}

unsigned
relay_port(const struct relay *rl)
{
	return rl->port;
}

uint64_t
relay_queries(const struct relay *rl)
{
	return rl->nqueries;
}

uint64_t
relay_merged(const struct relay *rl)
{
	return rl->nmerged;
}

uint64_t
relay_failures(const struct relay *rl)
{
	return rl->nfailures;
}
