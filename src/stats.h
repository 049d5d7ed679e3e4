/*
 * stats.h -- counters and histograms of dotsecd, one struct per worker.
 *
 * A worker's thread is the only writer of its struct; readers (the
 * metrics endpoint, SIGUSR1) add up every worker's struct from another
 * thread.  Every field is a relaxed C11 atomic, so a reader sees each
 * value whole, never torn.
 */
#ifndef DS_STATS_H
#define DS_STATS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define STATS_RCODES		16	/* rcode 0..15 */
#define STATS_QTYPES		8	/* see stats_qtype_index() */
#define STATS_LAT_BUCKETS	12	/* see stats_latency_bounds_ms */
#define STATS_UPSTREAMS		8	/* upstreams counted one by one */
#define STATS_RTT_SAMPLES	32	/* round trips kept per upstream */
#define STATS_ZONES		32	/* forward zones counted one by one */
#define STATS_IDENTITIES	32	/* = ACL_MAX_IDENTITIES */

enum stats_transport { STATS_UDP = 0, STATS_TCP = 1 };

enum stats_verdict {
	STATS_SECURE = 0, STATS_INSECURE, STATS_BOGUS, STATS_FAILED,
	STATS_CD,		/* CD=1: not validated */
	STATS_VERDICTS
};

struct stats {
	/* client queries */
	atomic_uint_fast64_t queries[3];		/* by ds_transport */
	atomic_uint_fast64_t qtype[STATS_QTYPES];
	atomic_uint_fast64_t rcode[STATS_RCODES];	/* replies sent */
	atomic_uint_fast64_t verdict[STATS_VERDICTS];
	atomic_uint_fast64_t dropped;		/* malformed, no reply */
	atomic_uint_fast64_t refused_acl;	/* access_control */
	atomic_uint_fast64_t ratelimited;	/* over ratelimit_qps */
	atomic_uint_fast64_t overloaded;	/* over max_inflight */
	atomic_uint_fast64_t cache_hits;	/* answered at once */
	atomic_uint_fast64_t cache_misses;
	atomic_uint_fast64_t timeouts;		/* our own deadline */
	atomic_uint_fast64_t stale_answers;	/* RFC 8767 */
	atomic_uint_fast64_t prefetches;	/* refreshed before expiry */
	atomic_uint_fast64_t prefetch_failures;	/* ... not refreshed */
	/* upstream (the relay's queries through getdns) */
	atomic_uint_fast64_t upstream_queries;
	atomic_uint_fast64_t upstream_errors;
	atomic_uint_fast64_t upstream_merged;	/* asked again while in
						   flight: not sent */
	atomic_uint_fast64_t upstream_shared;	/* DS/DNSKEY answered from
						   the relays' key cache */
	atomic_uint_fast64_t upstream_key_prefetches;	/* asked for it */
	atomic_uint_fast64_t upstream_hedges;	/* sent to a second upstream
						   while the first was silent */
	atomic_uint_fast64_t upstream_latency[STATS_LAT_BUCKETS];
	atomic_uint_fast64_t upstream_latency_sum_us;
	atomic_int_fast64_t upstream_last_ok;	/* time() of the last
						   good upstream reply */
	/* per upstream, by its index in upstream_recursive_servers, from
	 * getdns's connection log */
	atomic_uint_fast64_t up_tls_handshakes[STATS_UPSTREAMS];
	atomic_uint_fast64_t up_tls_resumptions[STATS_UPSTREAMS];	/* of
						   those, resumed sessions */
	atomic_uint_fast64_t up_tls_failures[STATS_UPSTREAMS];
	atomic_uint_fast64_t up_conn_failures[STATS_UPSTREAMS];
	/* dotsecd's own view (upstreams.h): 1 while this worker finds the
	 * upstream unusable; how often it was found so */
	atomic_int_fast64_t up_down[STATS_UPSTREAMS];
	atomic_uint_fast64_t up_failovers[STATS_UPSTREAMS];
	atomic_int_fast64_t up_srtt_ms[STATS_UPSTREAMS];	/* smoothed
						   round trip, 0: none yet */
	/* The last STATS_RTT_SAMPLES round trips of each upstream, in
	 * microseconds (0: no sample), written in turn from rtt_next. */
	atomic_uint_least32_t up_rtt_us[STATS_UPSTREAMS][STATS_RTT_SAMPLES];
	atomic_uint up_rtt_next[STATS_UPSTREAMS];
	/* Each upstream's last failure in plain words ("" none, or an
	 * answer since) and its wall-clock time, for dotsec-control status;
	 * under err_lock (stats_init). */
	pthread_mutex_t err_lock;
	char up_error[STATS_UPSTREAMS][160];
	time_t up_error_at[STATS_UPSTREAMS];
	/* queries sent to each forward zone's upstreams, by its index in
	 * the configuration's fwd_zones; and names answered here */
	atomic_uint_fast64_t fwd_queries[STATS_ZONES];
	atomic_uint_fast64_t local_answers;
	/* the configuration in force (its upstreams name the labels, its
	 * cache_size is reported); configurations live until exit */
	_Atomic(const struct ds_config *) cfg;
	/* connections */
	atomic_int_fast64_t tcp_open;		/* gauge */
	atomic_uint_fast64_t tcp_accepted;
	atomic_uint_fast64_t tls_handshakes;	/* DoT listener */
	atomic_uint_fast64_t tls_handshake_failures;
	/* DoT queries by the access_control identity rule their client met
	 * (its position; the last: none, "other"). */
	atomic_uint_fast64_t dot_identity[STATS_IDENTITIES + 1];
};

struct ds_config;

/* Upper bounds (ms) of the latency buckets; the last is +Inf. */
extern const double stats_latency_bounds_ms[STATS_LAT_BUCKETS];

/* Index for the qtype counter: A, AAAA, CNAME, MX, TXT, PTR, DNSKEY/DS
 * (one bucket), other. */
unsigned stats_qtype_index(uint16_t qtype);
extern const char *const stats_qtype_names[STATS_QTYPES];
extern const char *const stats_verdict_names[STATS_VERDICTS];

/* Set up s (zeroed) / tear it down: the lock of the failure texts. */
void stats_init(struct stats *s);
void stats_fini(struct stats *s);

/* Upstream i's last failure (why NULL: none, it answered), from the
 * worker's thread; read it back, a copy, from any thread (*at 0: none). */
void stats_upstream_error(struct stats *s, unsigned i, const char *why);
void stats_upstream_error_get(struct stats *s, unsigned i, char *buf,
    size_t len, time_t *at);

/* Relaxed increments; tiny, inline. */
static inline void
stats_inc(atomic_uint_fast64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/* A round trip of us microseconds to upstream i, for its median. */
void stats_upstream_rtt(struct stats *s, unsigned i, uint64_t us);

/* The median of the round trips to upstream i that the n workers' stats
 * hold (their last STATS_RTT_SAMPLES each), in microseconds; *count gets
 * how many there were (0: no answer yet, and 0 is returned). */
uint64_t stats_upstream_rtt_median(struct stats *const *s, unsigned n,
    unsigned i, unsigned *count);

/* Record one upstream round trip of us microseconds. */
void stats_upstream_latency(struct stats *s, uint64_t us);

/* What the anchor manager says about itself, for the metrics. */
struct stats_anchor {
	unsigned nkeys;		/* trusted keys */
	time_t last_success;	/* last probe that validated, 0: never */
	int last_probe_ok;	/* 1, 0, or -1 when no probe yet */
};

/*
 * Render Prometheus text (exposition format 0.0.4) for the sum of the n
 * workers' stats, plus the anchor's state, into buf.  Returns the length
 * written, or the length needed (like snprintf) when len is too small.
 */
size_t stats_render(struct stats *const *s, size_t n,
    const struct stats_anchor *anchor, char *buf, size_t len);

/* The front cache whose size and counters the metrics report (NULL:
 * none); set once before the workers start. */
struct frontcache;
void stats_set_frontcache(struct frontcache *fc);

/* Report what synth (not owned; NULL: none) learnt and answered. */
struct synth;
void stats_set_synth(struct synth *s);

/* One log line with the main totals, for SIGUSR1. */
void stats_log_line(struct stats *const *s, size_t n, char *buf, size_t len);

#endif /* DS_STATS_H */
