/*
 * stats.c -- the workers' counters added up, as Prometheus text and as one
 * log line.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsconfig.h"
#include "frontcache.h"
#include "synth.h"
#include "stats.h"
#include "worker.h"

/* DNS RR types with a bucket of their own (RFC 1035, 3596, 4034). */
#define T_A		1
#define T_CNAME		5
#define T_PTR		12
#define T_MX		15
#define T_TXT		16
#define T_AAAA		28
#define T_DS		43
#define T_DNSKEY	48

/* The sum of every worker's struct stats, in plain integers. */
struct totals {
	uint64_t queries[3];
	uint64_t qtype[STATS_QTYPES];
	uint64_t rcode[STATS_RCODES];
	uint64_t verdict[STATS_VERDICTS];
	uint64_t dropped;
	uint64_t refused_acl;
	uint64_t ratelimited;
	uint64_t overloaded;
	uint64_t cache_hits;
	uint64_t stale_answers;
	uint64_t prefetches;
	uint64_t upstream_shared;
	uint64_t upstream_key_prefetches;
	uint64_t upstream_hedges;
	uint64_t prefetch_failures;
	uint64_t cache_misses;
	uint64_t timeouts;
	uint64_t upstream_queries;
	uint64_t upstream_errors;
	uint64_t upstream_merged;
	uint64_t upstream_latency[STATS_LAT_BUCKETS];	/* per bucket */
	uint64_t upstream_latency_sum_us;
	int64_t upstream_last_ok;	/* the latest over the workers */
	int64_t tcp_open;
	uint64_t tcp_accepted;
	uint64_t tls_handshakes, tls_handshake_failures;
	uint64_t up_hs[STATS_UPSTREAMS], up_tlsf[STATS_UPSTREAMS];
	uint64_t up_resumed[STATS_UPSTREAMS];
	uint64_t up_connf[STATS_UPSTREAMS];
	uint64_t up_failovers[STATS_UPSTREAMS];
	int64_t up_down[STATS_UPSTREAMS];
	uint64_t fwd_queries[STATS_ZONES];
	uint64_t dot_identity[STATS_IDENTITIES + 1];
	uint64_t local_answers;
	const struct ds_config *cfg;
};

/* An snprintf-like writer: off counts every byte asked for, even those
 * that did not fit, so that the caller learns the length needed. */
struct out {
	char *buf;
	size_t len;
	size_t off;
};

static uint64_t ld(atomic_uint_fast64_t *);
static int64_t lds(atomic_int_fast64_t *);
static void totals_sum(struct stats *const *, size_t, struct totals *);
static void out_identities(struct out *, const struct totals *);
static void out_printf(struct out *, const char *, ...)
	__attribute__((format(printf, 2, 3)));
static void out_head(struct out *, const char *, const char *,
    const char *);
static void out_upstreams(struct out *, const struct totals *);
static void out_counter(struct out *, const char *, const char *,
    uint64_t);
static void out_gauge(struct out *, const char *, const char *, int64_t);
static void out_labelled(struct out *, const char *, const char *,
    const char *, const char *const *, const uint64_t *, size_t);
static void out_latency(struct out *, const struct totals *);
static void out_frontcache(struct out *);

static _Atomic(struct frontcache *) stats_fc;
static _Atomic(struct synth *) stats_synth;
static void out_synth(struct out *);

void
stats_init(struct stats *s)
{
	pthread_mutex_init(&s->err_lock, NULL);
}

void
stats_fini(struct stats *s)
{
	pthread_mutex_destroy(&s->err_lock);
}

void
stats_upstream_error(struct stats *s, unsigned i, const char *why)
{
	if (i >= STATS_UPSTREAMS)
		return;
	pthread_mutex_lock(&s->err_lock);
	snprintf(s->up_error[i], sizeof(s->up_error[i]), "%s",
	    why ? why : "");
	s->up_error_at[i] = why ? time(NULL) : 0;
	pthread_mutex_unlock(&s->err_lock);
}

void
stats_upstream_rtt(struct stats *s, unsigned i, uint64_t us)
{
	unsigned k;

	if (i >= STATS_UPSTREAMS)
		return;
	/* Only the worker's own thread writes its ring. */
	k = atomic_load_explicit(&s->up_rtt_next[i], memory_order_relaxed);
	atomic_store_explicit(&s->up_rtt_us[i][k % STATS_RTT_SAMPLES],
	    (uint_least32_t)(us == 0 ? 1 : us > UINT32_MAX ? UINT32_MAX : us),
	    memory_order_relaxed);
	atomic_store_explicit(&s->up_rtt_next[i], (k + 1) % STATS_RTT_SAMPLES,
	    memory_order_relaxed);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t
stats_upstream_rtt_median(struct stats *const *s, unsigned n, unsigned i,
    unsigned *count)
{
	uint32_t v[DS_MAX_WORKERS * STATS_RTT_SAMPLES];
	unsigned w, k, m = 0;

	*count = 0;
	if (i >= STATS_UPSTREAMS)
		return 0;
	for (w = 0; w < n && w < DS_MAX_WORKERS; w++)
		for (k = 0; k < STATS_RTT_SAMPLES; k++) {
			uint32_t x = atomic_load_explicit(
			    &s[w]->up_rtt_us[i][k], memory_order_relaxed);

			if (x != 0)
				v[m++] = x;
		}
	*count = m;
	if (m == 0)
		return 0;
	qsort(v, m, sizeof(v[0]), cmp_u32);
	return m % 2 ? v[m / 2] : ((uint64_t)v[m / 2 - 1] + v[m / 2]) / 2;
}

void
stats_upstream_error_get(struct stats *s, unsigned i, char *buf, size_t len,
    time_t *at)
{
	*at = 0;
	if (len > 0)
		buf[0] = '\0';
	if (i >= STATS_UPSTREAMS)
		return;
	pthread_mutex_lock(&s->err_lock);
	snprintf(buf, len, "%s", s->up_error[i]);
	*at = s->up_error_at[i];
	pthread_mutex_unlock(&s->err_lock);
}

void
stats_set_frontcache(struct frontcache *fc)
{
	atomic_store(&stats_fc, fc);
}

/* The answer cache in front of libunbound, when there is one. */
static void
out_frontcache(struct out *o)
{
	struct frontcache *fc = atomic_load(&stats_fc);
	struct fc_stats st;

	if (fc == NULL)
		return;
	frontcache_get_stats(fc, &st);
	out_gauge(o, "answer_cache_entries",
	    "Answers held in the answer cache.", (int64_t)st.entries);
	out_gauge(o, "answer_cache_bytes",
	    "Memory used by the answer cache.", (int64_t)st.bytes);
	out_gauge(o, "answer_cache_max_bytes",
	    "The answer cache's bound (its share of cache_size).",
	    (int64_t)st.max_bytes);
	out_counter(o, "answer_cache_evictions_total",
	    "Answers evicted to keep the answer cache in its bound.",
	    st.evictions);
}

void
stats_set_synth(struct synth *s)
{
	atomic_store(&stats_synth, s);
}

/* Answers made from validated NSEC3 records (src/synth.h). */
static void
out_synth(struct out *o)
{
	static const char *const kind[] = {
		NULL, "nodata", "nxdomain", "wildcard_nodata", "wildcard"
	};
	struct synth *s = atomic_load(&stats_synth);
	struct synth_stats st;
	unsigned i;

	if (s == NULL)
		return;
	synth_get_stats(s, &st);
	out_head(o, "synthesized_total", "counter",
	    "Answers made here from validated NSEC3 records (RFC 8198), by "
	    "the proof they carry.");
	for (i = SYNTH_NODATA; i <= SYNTH_WILDCARD; i++)
		out_printf(o, "dotsec_synthesized_total{proof=\"%s\"} %llu\n",
		    kind[i], st.answers[i]);
	out_gauge(o, "synth_records",
	    "Validated NSEC3 records held to make answers from.",
	    (int64_t)st.records);
	out_gauge(o, "synth_zones", "Zones those records belong to.",
	    (int64_t)st.zones);
	out_gauge(o, "synth_bytes",
	    "Memory used by them, with the zones' SOAs and wildcards.",
	    (int64_t)st.bytes);
}

const double stats_latency_bounds_ms[STATS_LAT_BUCKETS] = {
	1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, INFINITY
};

const char *const stats_qtype_names[STATS_QTYPES] = {
	"A", "AAAA", "CNAME", "MX", "TXT", "PTR", "DNSSEC", "other"
};

const char *const stats_verdict_names[STATS_VERDICTS] = {
	"secure", "insecure", "bogus", "failed", "cd"
};

/* RFC 6895's names; 12..15 are unassigned and shown as numbers. */
static const char *const rcode_names[STATS_RCODES] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "DSOTYPENI",
	"12", "13", "14", "15"
};

unsigned
stats_qtype_index(uint16_t qtype)
{
	switch (qtype) {
	case T_A:
		return 0;
	case T_AAAA:
		return 1;
	case T_CNAME:
		return 2;
	case T_MX:
		return 3;
	case T_TXT:
		return 4;
	case T_PTR:
		return 5;
	case T_DS:
	case T_DNSKEY:
		return 6;
	default:
		return 7;
	}
}

void
stats_upstream_latency(struct stats *s, uint64_t us)
{
	unsigned i;

	/* The last bound is +Inf, so the loop always stops on a bucket. */
	for (i = 0; i < STATS_LAT_BUCKETS - 1; i++)
		if ((double)us <= stats_latency_bounds_ms[i] * 1000.0)
			break;
	stats_inc(&s->upstream_latency[i]);
	atomic_fetch_add_explicit(&s->upstream_latency_sum_us, us,
	    memory_order_relaxed);
}

static uint64_t
ld(atomic_uint_fast64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static int64_t
lds(atomic_int_fast64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static void
totals_sum(struct stats *const *s, size_t n, struct totals *t)
{
	size_t w;
	unsigned i;

	memset(t, 0, sizeof(*t));
	for (w = 0; w < n; w++) {
		struct stats *x = s[w];
		int64_t last;

		if (x == NULL)
			continue;
		for (i = 0; i < 3; i++)
			t->queries[i] += ld(&x->queries[i]);
		for (i = 0; i < STATS_QTYPES; i++)
			t->qtype[i] += ld(&x->qtype[i]);
		for (i = 0; i < STATS_RCODES; i++)
			t->rcode[i] += ld(&x->rcode[i]);
		for (i = 0; i < STATS_VERDICTS; i++)
			t->verdict[i] += ld(&x->verdict[i]);
		t->dropped += ld(&x->dropped);
		t->refused_acl += ld(&x->refused_acl);
		t->ratelimited += ld(&x->ratelimited);
		t->overloaded += ld(&x->overloaded);
		t->cache_hits += ld(&x->cache_hits);
		t->cache_misses += ld(&x->cache_misses);
		t->timeouts += ld(&x->timeouts);
		t->stale_answers += ld(&x->stale_answers);
		t->prefetches += ld(&x->prefetches);
		t->upstream_shared += ld(&x->upstream_shared);
		t->upstream_key_prefetches += ld(&x->upstream_key_prefetches);
		t->upstream_hedges += ld(&x->upstream_hedges);
		t->prefetch_failures += ld(&x->prefetch_failures);
		t->upstream_queries += ld(&x->upstream_queries);
		t->upstream_errors += ld(&x->upstream_errors);
		t->upstream_merged += ld(&x->upstream_merged);
		for (i = 0; i < STATS_LAT_BUCKETS; i++)
			t->upstream_latency[i] += ld(&x->upstream_latency[i]);
		t->upstream_latency_sum_us += ld(&x->upstream_latency_sum_us);
		last = lds(&x->upstream_last_ok);
		if (last > t->upstream_last_ok)
			t->upstream_last_ok = last;
		t->tcp_open += lds(&x->tcp_open);
		t->tcp_accepted += ld(&x->tcp_accepted);
		t->tls_handshakes += ld(&x->tls_handshakes);
		t->tls_handshake_failures += ld(&x->tls_handshake_failures);
		for (i = 0; i < STATS_UPSTREAMS; i++) {
			t->up_hs[i] += ld(&x->up_tls_handshakes[i]);
			t->up_resumed[i] += ld(&x->up_tls_resumptions[i]);
			t->up_tlsf[i] += ld(&x->up_tls_failures[i]);
			t->up_connf[i] += ld(&x->up_conn_failures[i]);
			t->up_failovers[i] += ld(&x->up_failovers[i]);
			t->up_down[i] += lds(&x->up_down[i]);
		}
		for (i = 0; i < STATS_ZONES; i++)
			t->fwd_queries[i] += ld(&x->fwd_queries[i]);
		for (i = 0; i <= STATS_IDENTITIES; i++)
			t->dot_identity[i] += ld(&x->dot_identity[i]);
		t->local_answers += ld(&x->local_answers);
		if (t->cfg == NULL)
			t->cfg = atomic_load_explicit(&x->cfg,
			    memory_order_acquire);
	}
}

/* Per-upstream counters, labelled "ADDR@PORT" from the configuration in
 * force. */
static void
out_upstreams(struct out *o, const struct totals *t)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} fam[] = {
		{ "upstream_tls_handshakes_total",
		  "TLS connections opened to each upstream.",
		  offsetof(struct totals, up_hs) },
		{ "upstream_tls_resumptions_total",
		  "Of those, connections whose TLS session was resumed "
		  "(no certificate sent, none checked).",
		  offsetof(struct totals, up_resumed) },
		{ "upstream_tls_failures_total",
		  "TLS authentication failures of each upstream.",
		  offsetof(struct totals, up_tlsf) },
		{ "upstream_connection_failures_total",
		  "Failed connections to each upstream.",
		  offsetof(struct totals, up_connf) },
		{ "upstream_unusable_total",
		  "Times a worker found the upstream unusable (failed, or "
		  "silent while queries waited) and sent its queries "
		  "elsewhere.",
		  offsetof(struct totals, up_failovers) },
	};
	size_t f, i, n;

	if (t->cfg == NULL)
		return;
	n = t->cfg->nupstreams < STATS_UPSTREAMS ? t->cfg->nupstreams :
	    STATS_UPSTREAMS;
	for (f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		const uint64_t *v = (const uint64_t *)(const void *)
		    ((const char *)t + fam[f].off);

		out_head(o, fam[f].name, "counter", fam[f].help);
		for (i = 0; i < n; i++)
			out_printf(o, "dotsec_%s{upstream=\"%s@%u\"} %llu\n",
			    fam[f].name, t->cfg->upstreams[i].address,
			    t->cfg->upstreams[i].port,
			    (unsigned long long)v[i]);
	}
	out_head(o, "upstream_unusable_workers", "gauge",
	    "Workers that find the upstream unusable now (0: usable).");
	for (i = 0; i < n; i++)
		out_printf(o, "dotsec_upstream_unusable_workers{upstream="
		    "\"%s@%u\"} %lld\n", t->cfg->upstreams[i].address,
		    t->cfg->upstreams[i].port, (long long)t->up_down[i]);
	/* Forward zones: a plain zone's queries leave the host in clear
	 * text, and say so in their label. */
	out_head(o, "forward_queries_total", "counter",
	    "Queries sent to each forward zone's upstreams.");
	for (i = 0; i < t->cfg->nfwd_zones && i < STATS_ZONES; i++)
		out_printf(o, "dotsec_forward_queries_total{zone=\"%s\","
		    "transport=\"%s\"} %llu\n", t->cfg->fwd_zones[i].name,
		    t->cfg->fwd_zones[i].transport == DS_FWD_PLAIN ? "plain" :
		    "tls", (unsigned long long)t->fwd_queries[i]);
	out_identities(o, t);
	out_counter(o, "local_answers_total",
	    "Special-use names answered by dotsecd itself.",
	    t->local_answers);
	out_head(o, "cache_size_bytes", "gauge",
	    "Memory configured for the caches (cache_size).");
	out_printf(o, "dotsec_cache_size_bytes %u\n", t->cfg->cache_size);
}

static void
out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	char *dst = NULL;
	size_t room = 0;
	int r;

	if (o->off < o->len) {
		dst = o->buf + o->off;
		room = o->len - o->off;
	}
	va_start(ap, fmt);
	r = vsnprintf(dst, room, fmt, ap);
	va_end(ap);
	if (r > 0)
		o->off += (size_t)r;
}

/* The # HELP and # TYPE lines of one metric family. */
static void
out_head(struct out *o, const char *name, const char *type, const char *help)
{
	out_printf(o, "# HELP dotsec_%s %s\n# TYPE dotsec_%s %s\n", name, help,
	    name, type);
}

static void
out_counter(struct out *o, const char *name, const char *help, uint64_t v)
{
	out_head(o, name, "counter", help);
	out_printf(o, "dotsec_%s %llu\n", name, (unsigned long long)v);
}

static void
out_gauge(struct out *o, const char *name, const char *help, int64_t v)
{
	out_head(o, name, "gauge", help);
	out_printf(o, "dotsec_%s %lld\n", name, (long long)v);
}

/* A counter family with one label; the values come from fixed tables,
 * none of which needs escaping. */
static void
out_labelled(struct out *o, const char *name, const char *help,
    const char *label, const char *const *values, const uint64_t *v,
    size_t n)
{
	size_t i;

	out_head(o, name, "counter", help);
	for (i = 0; i < n; i++)
		out_printf(o, "dotsec_%s{%s=\"%s\"} %llu\n", name, label,
		    values[i], (unsigned long long)v[i]);
}

/* DoT queries by client identity: the identities access_control names
 * (a bounded set), and "other".  A label value escapes \\, " and
 * newlines. */
static void
out_identities(struct out *o, const struct totals *t)
{
	size_t i, n = t->cfg->nacl_ids;
	const char *p;

	out_head(o, "dot_queries_total", "counter",
	    "DoT queries by the client identity access_control names.");
	for (i = 0; i <= STATS_IDENTITIES; i++) {
		if (i < STATS_IDENTITIES && i >= n)
			continue;
		out_printf(o, "dotsec_dot_queries_total{identity=\"");
		p = i < n ? t->cfg->acl_ids[i].id : "other";
		for (; *p != '\0'; p++)
			out_printf(o, "%s%c", *p == '\\' || *p == '"' ||
			    *p == '\n' ? "\\" : "", *p == '\n' ? 'n' : *p);
		out_printf(o, "\"} %llu\n",
		    (unsigned long long)t->dot_identity[i]);
	}
}

static void
out_latency(struct out *o, const struct totals *t)
{
	uint64_t cum = 0;
	unsigned i;

	out_head(o, "upstream_latency_seconds", "histogram",
	    "Round-trip time of upstream queries.");
	for (i = 0; i < STATS_LAT_BUCKETS; i++) {
		cum += t->upstream_latency[i];
		if (isinf(stats_latency_bounds_ms[i]))
			out_printf(o, "dotsec_upstream_latency_seconds_bucket"
			    "{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
		else
			out_printf(o, "dotsec_upstream_latency_seconds_bucket"
			    "{le=\"%g\"} %llu\n",
			    stats_latency_bounds_ms[i] / 1000.0,
			    (unsigned long long)cum);
	}
	/* Microseconds as seconds, exactly, without floating point. */
	out_printf(o, "dotsec_upstream_latency_seconds_sum %llu.%06llu\n",
	    (unsigned long long)(t->upstream_latency_sum_us / 1000000),
	    (unsigned long long)(t->upstream_latency_sum_us % 1000000));
	/* The count is the +Inf bucket of the same snapshot, so the two
	 * agree even while the workers keep counting. */
	out_printf(o, "dotsec_upstream_latency_seconds_count %llu\n",
	    (unsigned long long)cum);
}

size_t
stats_render(struct stats *const *s, size_t n,
    const struct stats_anchor *anchor, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };
	struct totals t;
	static const char *const transports[3] = { "udp", "tcp", "tls" };

	totals_sum(s, n, &t);
	if (len > 0)
		buf[0] = '\0';

	out_labelled(&o, "queries_total", "Client queries received.",
	    "transport", transports, t.queries, 3);
	out_labelled(&o, "queries_by_type_total", "Client queries by QTYPE.",
	    "type", stats_qtype_names, t.qtype, STATS_QTYPES);
	out_labelled(&o, "responses_total", "Replies sent, by RCODE.",
	    "rcode", rcode_names, t.rcode, STATS_RCODES);
	out_labelled(&o, "validation_total", "DNSSEC validation verdicts.",
	    "verdict", stats_verdict_names, t.verdict, STATS_VERDICTS);
	out_counter(&o, "dropped_total",
	    "Malformed queries dropped without a reply.", t.dropped);
	out_counter(&o, "refused_acl_total",
	    "Queries refused by access_control.", t.refused_acl);
	out_counter(&o, "ratelimited_total",
	    "Queries over the per-client rate limit.", t.ratelimited);
	out_counter(&o, "overloaded_total",
	    "Queries refused over max_inflight.", t.overloaded);
	out_counter(&o, "cache_hits_total",
	    "Queries answered from the cache.", t.cache_hits);
	out_counter(&o, "cache_misses_total",
	    "Queries not found in the cache.", t.cache_misses);
	out_counter(&o, "timeouts_total",
	    "Queries that reached their deadline.", t.timeouts);
	out_counter(&o, "stale_answers_total",
	    "Expired answers served because no upstream answered "
	    "(serve_stale).", t.stale_answers);
	out_counter(&o, "prefetches_total",
	    "Popular answers fetched again before they expired (prefetch).",
	    t.prefetches);
	out_counter(&o, "prefetch_failures_total",
	    "Prefetches that brought no usable answer; the entry expires as "
	    "usual.", t.prefetch_failures);
	out_frontcache(&o);
	out_synth(&o);
	out_counter(&o, "upstream_queries_total",
	    "Queries sent to upstream resolvers.", t.upstream_queries);
	out_counter(&o, "upstream_errors_total",
	    "Upstream queries that failed.", t.upstream_errors);
	out_counter(&o, "upstream_merged_total",
	    "Questions answered by an upstream query already in flight.",
	    t.upstream_merged);
	out_counter(&o, "upstream_shared_total",
	    "DS and DNSKEY questions of a worker's validator answered with "
	    "what another worker had fetched (the key cache).",
	    t.upstream_shared);
	out_counter(&o, "upstream_key_prefetches_total",
	    "DS and DNSKEY queries sent for the key cache alongside a zone's "
	    "first query, before its validator asks.",
	    t.upstream_key_prefetches);
	out_counter(&o, "upstream_hedged_total",
	    "Upstream queries also sent to a second upstream because the "
	    "first had been silent too long (the first answer wins).",
	    t.upstream_hedges);
	out_latency(&o, &t);
	out_gauge(&o, "upstream_last_success_timestamp_seconds",
	    "Unix time of the latest good upstream reply, 0: never.",
	    t.upstream_last_ok);
	out_gauge(&o, "tcp_connections", "Client TCP connections open.",
	    t.tcp_open);
	out_counter(&o, "tcp_accepted_total",
	    "Client TCP connections accepted (DoT too).", t.tcp_accepted);
	out_counter(&o, "tls_handshakes_total",
	    "DoT listener: TLS handshakes completed.", t.tls_handshakes);
	out_counter(&o, "tls_handshake_failures_total",
	    "DoT listener: TLS handshakes failed or timed out.",
	    t.tls_handshake_failures);
	out_upstreams(&o, &t);
	if (anchor != NULL) {
		out_gauge(&o, "anchor_keys", "Trusted root keys.",
		    (int64_t)anchor->nkeys);
		out_gauge(&o, "anchor_last_success_timestamp_seconds",
		    "Unix time of the last trust anchor probe that "
		    "validated, 0: never.", (int64_t)anchor->last_success);
		out_gauge(&o, "anchor_probe_ok",
		    "1: the last trust anchor probe validated, 0: it failed, "
		    "-1: no probe yet.", (int64_t)anchor->last_probe_ok);
	}
	return o.off;
}

void
stats_log_line(struct stats *const *s, size_t n, char *buf, size_t len)
{
	struct totals t;
	uint64_t replies = 0;
	unsigned i;

	if (len == 0)
		return;
	totals_sum(s, n, &t);
	for (i = 0; i < STATS_RCODES; i++)
		replies += t.rcode[i];
	/* A line too long for buf is cut short, which snprintf does. */
	(void)snprintf(buf, len, "stats: queries %llu (udp %llu, tcp %llu, "
	    "dot %llu), "
	    "replies %llu (NOERROR %llu, NXDOMAIN %llu, SERVFAIL %llu, "
	    "REFUSED %llu), secure %llu, insecure %llu, bogus %llu, "
	    "failed %llu, cd %llu, cache hits %llu, misses %llu, "
	    "dropped %llu, acl %llu, ratelimited %llu, overloaded %llu, "
	    "timeouts %llu, upstream %llu, errors %llu, tcp open %lld",
	    (unsigned long long)(t.queries[0] + t.queries[1] +
	    t.queries[2]),
	    (unsigned long long)t.queries[0],
	    (unsigned long long)t.queries[1],
	    (unsigned long long)t.queries[2],
	    (unsigned long long)replies,
	    (unsigned long long)t.rcode[0],
	    (unsigned long long)t.rcode[3],
	    (unsigned long long)t.rcode[2],
	    (unsigned long long)t.rcode[5],
	    (unsigned long long)t.verdict[STATS_SECURE],
	    (unsigned long long)t.verdict[STATS_INSECURE],
	    (unsigned long long)t.verdict[STATS_BOGUS],
	    (unsigned long long)t.verdict[STATS_FAILED],
	    (unsigned long long)t.verdict[STATS_CD],
	    (unsigned long long)t.cache_hits,
	    (unsigned long long)t.cache_misses,
	    (unsigned long long)t.dropped,
	    (unsigned long long)t.refused_acl,
	    (unsigned long long)t.ratelimited,
	    (unsigned long long)t.overloaded,
	    (unsigned long long)t.timeouts,
	    (unsigned long long)t.upstream_queries,
	    (unsigned long long)t.upstream_errors,
	    (long long)t.tcp_open);
}
