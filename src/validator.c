/*
 * validator.c -- libunbound in event mode, forwarding to the relay.
 *
 * Deliberate answers to libunbound 1.17.1 on Debian:
 *   - every non-zero return of a ub_ctx_* call is fatal: a rejected
 *     forwarder would leave libunbound recursing from its root hints;
 *   - do-not-query-localhost: no, or it refuses to forward to 127/8;
 *   - outgoing-interface is the relay's own address, the only source the
 *     relay accepts;
 *   - outbound-msg-retry: 0, accepted only from a config file, so that a
 *     failing upstream makes a query fail in milliseconds, not seconds;
 *   - trust-anchor-signaling: no, so no _ta-XXXX queries leave the host.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <unbound.h>
#include <unbound-event.h>

#include "dnsmsg.h"
#include "dsconfig.h"
#include "log.h"
#include "route.h"
#include "validator.h"

struct vq;

struct validator {
	struct ub_ctx *ctx;
	struct ub_ctx *fresh;	/* prefetch: no message or RRset cache */
	struct vq *vqs;		/* in flight, freed on delete */
};

struct vq {
	struct validator *v;
	validator_done_fn cb;
	void *arg;
	struct vq *next, *prev;
};

static void validator_done(void *, int, void *, int, int, char *, int);

/* libunbound applies cache-min-ttl and cache-max-ttl to the whole process
 * (its MIN_TTL and MAX_TTL are globals, set whenever a context starts), so
 * every context dotsecd starts, the anchor prober's included, sets the
 * bounds of the newest configuration: a context started with other
 * bounds would undo cache_max_ttl for all. */
static _Atomic unsigned ttl_min, ttl_max = 86400;

/* Serialises ub_ctx_config, whose parser is not thread-safe. */
static pthread_mutex_t ub_config_lock = PTHREAD_MUTEX_INITIALIZER;
/* Where libunbound's option files go: state_dir (under the lock). */
static char option_dir[2048];

static void
vq_unlink(struct vq *q)
{
	struct validator *v = q->v;

	if (q->prev)
		q->prev->next = q->next;
	else
		v->vqs = q->next;
	if (q->next)
		q->next->prev = q->prev;
}

static int
set_opt(struct ub_ctx *ctx, const char *opt, const char *val)
{
	int rc = ub_ctx_set_option(ctx, opt, val);

	if (rc != 0) {
		ds_err("libunbound: cannot set %s %s: %s", opt, val,
		    ub_strerror(rc));
		return -1;
	}
	return 0;
}

/* Options libunbound takes only from a file: outbound-msg-retry, and for
 * the refresh context a forward zone with forward-no-cache. */
static int
load_file_options(struct ub_ctx *ctx, const char *fwd, bool no_cache)
{
	const char *dir = getenv("TMPDIR");
	char path[4096], text[512];
	int fd = -1, rc, n;

	n = snprintf(text, sizeof(text), "server:\n\toutbound-msg-retry: 0\n");
	if (no_cache)
		n += snprintf(text + n, sizeof(text) - (size_t)n,
		    "forward-zone:\n\tname: \".\"\n\tforward-addr: %s\n"
		    "\tforward-no-cache: yes\n", fwd);
	/* In state_dir, the one place the sandbox lets dotsecd write;
	 * elsewhere (tests, before a validator knew it) TMPDIR. */
	pthread_mutex_lock(&ub_config_lock);
	if (option_dir[0] != '\0') {
		snprintf(path, sizeof(path), "%s/.dotsecd-ub.XXXXXX",
		    option_dir);
		fd = mkstemp(path);
	}
	pthread_mutex_unlock(&ub_config_lock);
	if (fd < 0)
		snprintf(path, sizeof(path), "%s/dotsecd-ub.XXXXXX",
		    dir && *dir ? dir : "/tmp");
	if (fd < 0 && (fd = mkstemp(path)) < 0) {
		ds_err("libunbound: cannot create %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (write(fd, text, (size_t)n) != (ssize_t)n) {
		ds_err("libunbound: cannot write %s: %s", path,
		    strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	/* libunbound reads the file with a flex scanner whose state is
	 * global: two workers building validators at once (a reload, new
	 * trust anchors) made it abort the process ("fatal flex scanner
	 * internal error"). */
	pthread_mutex_lock(&ub_config_lock);
	rc = ub_ctx_config(ctx, path);
	pthread_mutex_unlock(&ub_config_lock);
	unlink(path);
	if (rc != 0) {
		ds_err("libunbound: cannot load options: %s", ub_strerror(rc));
		return -1;
	}
	return 0;
}

/* cache_size is for the whole daemon: a quarter goes to the answer cache
 * in front (frontcache), a sixteenth to the DS and DNSKEY replies the
 * relays share, the rest to libunbound, each worker its share:
 * messages a quarter, RRsets three eighths, validated keys a quarter, and
 * with prefetch the refresh context's keys the last eighth (its message
 * and RRset caches hold nothing).  Without prefetch the RRsets get that
 * eighth too.  libunbound never serves expired data itself: the answer
 * cache does it, where dotsecd can add the EDE 3 that says so. */
static int
set_cache_options(struct ub_ctx *ctx, const struct ds_config *cfg,
    bool fresh)
{
	unsigned share = (cfg->cache_size - ds_answer_cache_bytes(cfg) -
	    ds_key_cache_bytes(cfg) - ds_synth_bytes(cfg)) /
	    (cfg->workers ? cfg->workers : 1);
	char msg[32], rrset[32], key[32], bogus[16];

	if (fresh) {
		/* forward-no-cache: nothing is stored in these two. */
		snprintf(msg, sizeof(msg), "%u", 65536u);
		snprintf(rrset, sizeof(rrset), "%u", 65536u);
		snprintf(key, sizeof(key), "%u", share / 8);
	} else {
		snprintf(msg, sizeof(msg), "%u", share / 4);
		snprintf(rrset, sizeof(rrset), "%u", cfg->prefetch ?
		    share / 8 * 3 : share / 2);
		snprintf(key, sizeof(key), "%u", share / 4);
	}
	snprintf(bogus, sizeof(bogus), "%u", cfg->bogus_ttl);
	if (set_opt(ctx, "msg-cache-size:", msg) != 0 ||
	    set_opt(ctx, "rrset-cache-size:", rrset) != 0 ||
	    set_opt(ctx, "key-cache-size:", key) != 0 ||
	    set_opt(ctx, "val-bogus-ttl:", bogus) != 0 ||
	    set_opt(ctx, "prefetch-key:", cfg->prefetch ? "yes" : "no") != 0 ||
	    set_opt(ctx, "serve-expired:", "no") != 0)
		return -1;
	return 0;
}

/* no_cache: the forward zone has forward-no-cache, so every question goes
 * upstream and nothing is stored but validated keys (the refresh
 * context). */
static int
ub_setup(struct ub_ctx *ctx, const char *relay_ip, unsigned relay_port,
    unsigned timeout_ms, bool no_cache)
{
	char maxrtt[16], minrtt[16], minttl[16], maxttl[16];

	char fwd[128];
	int rc;

	snprintf(fwd, sizeof(fwd), "%s@%u", relay_ip, relay_port);
	/* The relay always answers: SERVFAIL at once when getdns fails, by
	 * getdns's timeout (dotsecd's timeout) at the latest.  libunbound's
	 * retransmit timer, derived from the relay's sub-millisecond round
	 * trips, was 50 ms, and with outbound-msg-retry 0 it gave up on
	 * every upstream reply slower than that: SERVFAIL for a slow but
	 * healthy upstream.  So the timer starts above dotsecd's timeout
	 * (infra-cache-min-rtt), capped at 6 s: above 12 s (PROBE_MAXRTO)
	 * libunbound treats a server as down and only probes it.  A timer
	 * doubled by a lost reply stays under 12 s (infra-cache-max-rtt).
	 * Keep probing: the relay is the only "server" and must not be
	 * written off after an upstream outage. */
	snprintf(minrtt, sizeof(minrtt), "%u",
	    timeout_ms + 500 < 6000 ? timeout_ms + 500 : 6000);
	snprintf(minttl, sizeof(minttl), "%u", atomic_load(&ttl_min));
	snprintf(maxttl, sizeof(maxttl), "%u", atomic_load(&ttl_max));
	snprintf(maxrtt, sizeof(maxrtt), "%u", 12000);
	if (load_file_options(ctx, fwd, no_cache) != 0 ||
	    set_opt(ctx, "infra-cache-min-rtt:", minrtt) != 0 ||
	    set_opt(ctx, "infra-cache-max-rtt:", maxrtt) != 0 ||
	    set_opt(ctx, "infra-keep-probing:", "yes") != 0 ||
	    set_opt(ctx, "cache-min-ttl:", minttl) != 0 ||
	    set_opt(ctx, "cache-max-ttl:", maxttl) != 0 ||
	    set_opt(ctx, "do-not-query-localhost:", "no") != 0 ||
	    set_opt(ctx, "outgoing-interface:", relay_ip) != 0 ||
	    set_opt(ctx, "trust-anchor-signaling:", "no") != 0 ||
	    set_opt(ctx, "aggressive-nsec:", "yes") != 0 ||
	    set_opt(ctx, "edns-buffer-size:", "1232") != 0 ||
	    /* dotsecd answers the special-use names itself (route.h);
	     * libunbound's own answers for them are turned off, here and
	     * in set_route_options, so that a forward zone or
	     * local_zones_disable can send them upstream. */
	    set_opt(ctx, "local-zone:", "test. nodefault") != 0 ||
	    set_opt(ctx, "local-zone:", "home.arpa. nodefault") != 0 ||
	    set_opt(ctx, "unblock-lan-zones:", "yes") != 0 ||
	    set_opt(ctx, "insecure-lan-zones:", "yes") != 0)
		return -1;
	if (!no_cache && (rc = ub_ctx_set_fwd(ctx, fwd)) != 0) {
		ds_err("libunbound: cannot forward to the relay %s: %s", fwd,
		    ub_strerror(rc));
		return -1;
	}
	return 0;
}

int
validator_ub_setup(struct ub_ctx *ctx, const char *relay_ip,
    unsigned relay_port, unsigned timeout_ms)
{
	return ub_setup(ctx, relay_ip, relay_port, timeout_ms, false);
}

/* What libunbound must know of the routes (route.h): dotsecd answers the
 * special-use names itself, so libunbound's own local zones of the same
 * names are off (a forward zone or local_zones_disable may send them
 * upstream); names below a negative trust anchor or an insecure forward
 * zone are not validated; a forward zone's own trust anchors. */
static int
set_route_options(struct ub_ctx *ctx, const struct ds_config *cfg)
{
	char opt[DNS_MAX_NAME * 4 + 16];
	size_t i, j;
	int rc;

	for (i = 0; ds_special_zones[i] != NULL; i++) {
		/* ub_setup already turned these two off. */
		if (strcmp(ds_special_zones[i], "test.") != 0 &&
		    strcmp(ds_special_zones[i], "home.arpa.") != 0) {
			snprintf(opt, sizeof(opt), "%s nodefault",
			    ds_special_zones[i]);
			if (set_opt(ctx, "local-zone:", opt) != 0)
				return -1;
		}
		/* A special-use zone sent upstream (a forward zone, or
		 * local_zones_disable) must pass libunbound: nodefault alone
		 * does not keep its built-in answer from it. */
		if (!route_local_zone(cfg, ds_special_zones[i])) {
			snprintf(opt, sizeof(opt), "%s transparent",
			    ds_special_zones[i]);
			if (set_opt(ctx, "local-zone:", opt) != 0)
				return -1;
		}
	}
	for (i = 0; i < cfg->ndomain_insecure; i++)
		if (set_opt(ctx, "domain-insecure:",
		    cfg->domain_insecure[i]) != 0)
			return -1;
	for (i = 0; i < cfg->nfwd_zones; i++) {
		const struct ds_fwd_zone *z = &cfg->fwd_zones[i];

		if (z->insecure && set_opt(ctx, "domain-insecure:",
		    z->name) != 0)
			return -1;
		for (j = 0; z->trust_anchors && z->trust_anchors[j]; j++) {
			if ((rc = ub_ctx_add_ta(ctx,
			    z->trust_anchors[j])) != 0) {
				ds_err("libunbound: forward zone %s: trust "
				    "anchor '%s': %s", z->name,
				    z->trust_anchors[j], ub_strerror(rc));
				return -1;
			}
		}
	}
	return 0;
}

/* A context on base with the caches for its role and the anchors. */
/* The trust anchors, each a DS or DNSKEY line.  0, or -1 after logging. */
static int
add_anchors(struct ub_ctx *ctx, char *const *anchors)
{
	size_t i;
	int rc;

	for (i = 0; anchors[i] != NULL; i++)
		if ((rc = ub_ctx_add_ta(ctx, anchors[i])) != 0) {
			ds_err("libunbound: trust anchor '%s': %s", anchors[i],
			    ub_strerror(rc));
			return -1;
		}
	return 0;
}

/* Set ctx up as every validating context of dotsecd: forwarding to the
 * relay (fresh: without cache), the cache shares, the routes, the trust
 * anchors.  0, or -1 after logging. */
static int
context_setup(struct ub_ctx *ctx, const struct ds_config *cfg,
    const char *relay_ip, unsigned relay_port, char *const *anchors,
    bool fresh)
{
	if (ub_setup(ctx, relay_ip, relay_port, cfg->timeout_ms, fresh) != 0 ||
	    set_cache_options(ctx, cfg, fresh) != 0 ||
	    set_route_options(ctx, cfg) != 0 ||
	    add_anchors(ctx, anchors) != 0)
		return -1;
	return 0;
}

static struct ub_ctx *
context_create(struct event_base *base, const struct ds_config *cfg,
    const char *relay_ip, unsigned relay_port, char *const *anchors,
    bool fresh)
{
	struct ub_ctx *ctx;

	if ((ctx = ub_ctx_create_event(base)) == NULL) {
		ds_err("libunbound: cannot create an event context");
		return NULL;
	}
	if (context_setup(ctx, cfg, relay_ip, relay_port, anchors, fresh) !=
	    0) {
		ub_ctx_delete(ctx);
		return NULL;
	}
	return ctx;
}

struct ub_ctx *
validator_explain_context(const struct ds_config *cfg, const char *relay_ip,
    unsigned relay_port, char *const *anchors)
{
	struct ub_ctx *ctx;

	if ((ctx = ub_ctx_create()) == NULL) {
		ds_err("libunbound: cannot create a context");
		return NULL;
	}
	/* Like a validator's refresh context: nothing cached, every
	 * question asked; the reasons of a bogus verdict in full. */
	if (context_setup(ctx, cfg, relay_ip, relay_port, anchors, true) !=
	    0 || set_opt(ctx, "val-log-level:", "2") != 0) {
		ub_ctx_delete(ctx);
		return NULL;
	}
	return ctx;
}

struct validator *
validator_create(struct event_base *base, const struct ds_config *cfg,
    const char *relay_ip, unsigned relay_port, char *const *anchors)
{
	struct validator *v;

	if (anchors == NULL || anchors[0] == NULL) {
		ds_err("validator: no trust anchor given");
		return NULL;
	}
	if ((v = calloc(1, sizeof(*v))) == NULL) {
		ds_err("validator: out of memory");
		return NULL;
	}
	atomic_store(&ttl_min, cfg->cache_min_ttl);
	atomic_store(&ttl_max, cfg->cache_max_ttl);
	pthread_mutex_lock(&ub_config_lock);
	snprintf(option_dir, sizeof(option_dir), "%s", cfg->state_dir);
	pthread_mutex_unlock(&ub_config_lock);
	if ((v->ctx = context_create(base, cfg, relay_ip, relay_port, anchors,
	    false)) == NULL)
		goto fail;
	if (cfg->prefetch && (v->fresh = context_create(base, cfg, relay_ip,
	    relay_port, anchors, true)) == NULL)
		goto fail;
	return v;
fail:
	validator_delete(v);
	return NULL;
}

unsigned
validator_inflight(const struct validator *v)
{
	const struct vq *q;
	unsigned n = 0;

	for (q = v->vqs; q; q = q->next)
		n++;
	return n;
}

void
validator_delete(struct validator *v)
{
	if (v == NULL)
		return;
	if (v->ctx)
		ub_ctx_delete(v->ctx);
	if (v->fresh)
		ub_ctx_delete(v->fresh);
	while (v->vqs) {
		struct vq *q = v->vqs;

		v->vqs = q->next;
		free(q);
	}
	free(v);
}

static int
resolve(struct validator *v, struct ub_ctx *ctx, const char *name,
    uint16_t qtype, validator_done_fn cb, void *arg)
{
	struct vq *q;
	int rc, id = 0;

	if ((q = calloc(1, sizeof(*q))) == NULL) {
		ds_err("validator: out of memory");
		return -1;
	}
	q->v = v;
	q->cb = cb;
	q->arg = arg;
	/* Linked first: a cache hit calls validator_done (which unlinks
	 * and frees q) before ub_resolve_event returns. */
	q->next = v->vqs;
	if (v->vqs)
		v->vqs->prev = q;
	v->vqs = q;
	rc = ub_resolve_event(ctx, name, qtype, DNS_CLASS_IN, q,
	    validator_done, &id);
	if (rc != 0) {
		ds_err("libunbound: resolve %s/%u: %s", name, qtype,
		    ub_strerror(rc));
		vq_unlink(q);
		free(q);
		return -1;
	}
	return 0;
}

int
validator_resolve(struct validator *v, const char *name, uint16_t qtype,
    validator_done_fn cb, void *arg)
{
	return resolve(v, v->ctx, name, qtype, cb, arg);
}

int
validator_refresh(struct validator *v, const char *name, uint16_t qtype,
    validator_done_fn cb, void *arg)
{
	if (v->fresh == NULL)
		return -1;
	return resolve(v, v->fresh, name, qtype, cb, arg);
}

static void
validator_done(void *arg, int rcode, void *pkt, int len, int sec,
    char *why, int ratelimited)
{
	struct vq *q = arg;
	enum validator_verdict verdict;

	(void)ratelimited;
	vq_unlink(q);
	if (rcode != 0 || pkt == NULL || len < DNS_HEADER_LEN) {
		/* The packet is an internal buffer then: only rcode counts. */
		q->cb(q->arg, VAL_FAILED, rcode ? rcode : DNS_RCODE_SERVFAIL,
		    NULL, 0, why);
	} else {
		verdict = sec == 2 ? VAL_SECURE : sec == 1 ? VAL_BOGUS :
		    VAL_INSECURE;
		q->cb(q->arg, verdict, 0, pkt, (size_t)len, why);
	}
	free(q);
}

const char *
validator_reason(const char *why)
{
	const char *p;

	if (why == NULL)
		return "DNSSEC validation failed";
	/* "validation failure <name. A IN>: reason from 127.x.y.z ...";
	 * a later query that meets the same broken key gets "... key for
	 * validation Z. is marked as invalid because of a previous
	 * validation failure <Q>: reason ...": the innermost reason is the
	 * one after the last "<...>: ". */
	if ((p = strstr(why, ">: ")) == NULL)
		return why;
	for (;;) {
		const char *next = strstr(p + 3, ">: ");

		if (next == NULL)
			return p + 3;
		p = next;
	}
}

int
validator_ede(const char *why)
{
	static const struct {
		const char *text;
		int ede;
	} map[] = {
		{ "signature expired", DNS_EDE_SIGNATURE_EXPIRED },
		{ "signature before inception", DNS_EDE_SIGNATURE_NOT_YET_VALID },
		{ "no signatures", DNS_EDE_RRSIGS_MISSING },
		{ "no RRSIG", DNS_EDE_RRSIGS_MISSING },
		{ "no DNSKEY", DNS_EDE_DNSKEY_MISSING },
		{ "DNSKEY missing", DNS_EDE_DNSKEY_MISSING },
		{ "no keys have a DS", DNS_EDE_DNSKEY_MISSING },
		{ "did not match a DS", DNS_EDE_DNSKEY_MISSING },
		{ "zone key bit", DNS_EDE_NO_ZONE_KEY_BIT },
		{ "no NSEC", DNS_EDE_NSEC_MISSING },
		/* A negative answer (e.g. to DS) without its proof. */
		{ "no DNSSEC records", DNS_EDE_NSEC_MISSING },
		{ "NSEC missing", DNS_EDE_NSEC_MISSING },
		{ "nsec proof", DNS_EDE_NSEC_MISSING },
	};
	const char *reason;
	size_t i;

	if (why == NULL)
		return DNS_EDE_DNSSEC_BOGUS;
	/* Match only the reason: the query name could contain any word. */
	reason = validator_reason(why);
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcasestr(reason, map[i].text) != NULL)
			return map[i].ede;
	return DNS_EDE_DNSSEC_BOGUS;
}
