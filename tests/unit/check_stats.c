/*
 * check_stats.c -- the workers' counters added up: Prometheus text parsed
 * back (sums, histogram, HELP/TYPE once per family, snprintf-like
 * truncation), the QTYPE buckets, latency buckets and the log line.
 */
#include "config.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"
#include "dsconfig.h"
#include "frontcache.h"
#include "stats.h"
#include "suites.h"

#define NFAM_MAX	64

/* Two workers, every field of each set to base * 1000 + a field number,
 * so that a sum tells which fields went into it. */
struct two {
	struct stats w[2];
	struct stats *p[2];
};

#define SET(s, f, v)	atomic_store_explicit(&(s)->f, (v), \
			    memory_order_relaxed)

static void
fill(struct stats *s, uint64_t base)
{
	unsigned i, k = 0;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < 2; i++)
		SET(s, queries[i], base * 1000 + k++);
	for (i = 0; i < STATS_QTYPES; i++)
		SET(s, qtype[i], base * 1000 + k++);
	for (i = 0; i < STATS_RCODES; i++)
		SET(s, rcode[i], base * 1000 + k++);
	for (i = 0; i < STATS_VERDICTS; i++)
		SET(s, verdict[i], base * 1000 + k++);
	SET(s, dropped, base * 1000 + 100);
	SET(s, refused_acl, base * 1000 + 101);
	SET(s, ratelimited, base * 1000 + 102);
	SET(s, overloaded, base * 1000 + 103);
	SET(s, cache_hits, base * 1000 + 104);
	SET(s, cache_misses, base * 1000 + 105);
	SET(s, timeouts, base * 1000 + 106);
	SET(s, upstream_queries, base * 1000 + 107);
	SET(s, upstream_errors, base * 1000 + 108);
	SET(s, tcp_accepted, base * 1000 + 109);
	SET(s, tcp_open, (int64_t)base);
	SET(s, upstream_last_ok, (int64_t)(1700000000 + base));
}

static void
two_init(struct two *t)
{
	fill(&t->w[0], 1);
	fill(&t->w[1], 2);
	t->p[0] = &t->w[0];
	t->p[1] = &t->w[1];
}

/* Expected sum for a field set by fill() with number k. */
static double
sum_of(unsigned k)
{
	return 1000.0 * 1 + k + 1000.0 * 2 + k;
}

/* The rendered text, malloc'ed; the caller frees it. */
static char *
render(struct stats *const *s, size_t n, const struct stats_anchor *a)
{
	size_t need, got;
	char *buf;

	need = stats_render(s, n, a, NULL, 0);
	ck_assert_uint_gt(need, 0);
	buf = malloc(need + 1);
	ck_assert_ptr_nonnull(buf);
	got = stats_render(s, n, a, buf, need + 1);
	ck_assert_uint_eq(got, need);
	ck_assert_uint_eq(strlen(buf), need);
	return buf;
}

/* The value of the one sample line "key value"; fails when key is on no
 * line or on more than one. */
static double
sample(const char *text, const char *key)
{
	const char *line = text, *nl;
	size_t klen = strlen(key);
	double v = NAN;
	int found = 0;
	char *end;

	for (; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		ck_assert_msg(nl != NULL, "stats_render: unterminated line");
		if ((size_t)(nl - line) > klen &&
		    strncmp(line, key, klen) == 0 && line[klen] == ' ') {
			v = strtod(line + klen + 1, &end);
			ck_assert_msg(end == nl, "stats_render: '%.*s' has "
			    "junk after its value", (int)(nl - line), line);
			found++;
		}
	}
	ck_assert_msg(found == 1, "stats_render: '%s' on %d lines", key,
	    found);
	return v;
}

START_TEST(test_render_sums)
{
	static const char *const tr[2] = { "udp", "tcp" };
	static const char *const rc[STATS_RCODES] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
		"REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
		"NOTZONE", "DSOTYPENI", "12", "13", "14", "15"
	};
	static const struct {
		const char *name;
		unsigned k;
	} plain[] = {
		{ "dotsec_dropped_total", 100 },
		{ "dotsec_refused_acl_total", 101 },
		{ "dotsec_ratelimited_total", 102 },
		{ "dotsec_overloaded_total", 103 },
		{ "dotsec_cache_hits_total", 104 },
		{ "dotsec_cache_misses_total", 105 },
		{ "dotsec_timeouts_total", 106 },
		{ "dotsec_upstream_queries_total", 107 },
		{ "dotsec_upstream_errors_total", 108 },
		{ "dotsec_tcp_accepted_total", 109 },
	};
	struct stats_anchor a = { 2, 1699999999, 1 };
	struct two t;
	char key[128], *text;
	unsigned i, k = 0;

	two_init(&t);
	text = render(t.p, 2, &a);
	for (i = 0; i < 2; i++) {
		snprintf(key, sizeof(key),
		    "dotsec_queries_total{transport=\"%s\"}", tr[i]);
		ck_assert_double_eq(sample(text, key), sum_of(k++));
	}
	for (i = 0; i < STATS_QTYPES; i++) {
		snprintf(key, sizeof(key),
		    "dotsec_queries_by_type_total{type=\"%s\"}",
		    stats_qtype_names[i]);
		ck_assert_double_eq(sample(text, key), sum_of(k++));
	}
	for (i = 0; i < STATS_RCODES; i++) {
		snprintf(key, sizeof(key),
		    "dotsec_responses_total{rcode=\"%s\"}", rc[i]);
		ck_assert_double_eq(sample(text, key), sum_of(k++));
	}
	for (i = 0; i < STATS_VERDICTS; i++) {
		snprintf(key, sizeof(key),
		    "dotsec_validation_total{verdict=\"%s\"}",
		    stats_verdict_names[i]);
		ck_assert_double_eq(sample(text, key), sum_of(k++));
	}
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		ck_assert_double_eq(sample(text, plain[i].name),
		    sum_of(plain[i].k));
	/* Gauges: connections add up, the last success is the latest. */
	ck_assert_double_eq(sample(text, "dotsec_tcp_connections"), 3);
	ck_assert_double_eq(sample(text,
	    "dotsec_upstream_last_success_timestamp_seconds"), 1700000002);
	ck_assert_double_eq(sample(text, "dotsec_anchor_keys"), 2);
	ck_assert_double_eq(sample(text,
	    "dotsec_anchor_last_success_timestamp_seconds"), 1699999999);
	ck_assert_double_eq(sample(text, "dotsec_anchor_probe_ok"), 1);
	free(text);
}
END_TEST

START_TEST(test_render_zero_and_null)
{
	struct stats *none[2] = { NULL, NULL };
	struct stats_anchor a = { 0, 0, -1 };
	char *text;

	/* No workers at all, and slots not filled in yet. */
	text = render(NULL, 0, &a);
	ck_assert_double_eq(sample(text,
	    "dotsec_queries_total{transport=\"udp\"}"), 0);
	ck_assert_double_eq(sample(text,
	    "dotsec_upstream_latency_seconds_count"), 0);
	ck_assert_double_eq(sample(text, "dotsec_anchor_probe_ok"), -1);
	free(text);
	text = render(none, 2, NULL);
	ck_assert_double_eq(sample(text, "dotsec_dropped_total"), 0);
	ck_assert_msg(strstr(text, "dotsec_anchor") == NULL,
	    "stats_render: anchor metrics without an anchor");
	free(text);
}
END_TEST

START_TEST(test_render_upstreams)
{
	static const char yml[] = "upstream_recursive_servers:\n"
	    "  - address_data: 192.0.2.1\n    tls_auth_name: a.example\n"
	    "  - address_data: 192.0.2.2\n    tls_port: 8853\n"
	    "    tls_auth_name: b.example\ncache_size: 2097152\n";
	struct ds_config *cfg = config_parse(yml, strlen(yml), "t", NULL,
	    NULL);
	struct stats *w[2];
	char *text;

	ck_assert_ptr_nonnull(cfg);
	w[0] = calloc(1, sizeof(struct stats));
	w[1] = calloc(1, sizeof(struct stats));
	ck_assert(w[0] && w[1]);
	atomic_store(&w[0]->cfg, cfg);
	atomic_store(&w[1]->cfg, cfg);
	stats_inc(&w[0]->up_tls_handshakes[0]);
	stats_inc(&w[1]->up_tls_handshakes[0]);
	stats_inc(&w[1]->up_tls_failures[1]);
	stats_inc(&w[0]->up_conn_failures[1]);
	stats_inc(&w[0]->up_conn_failures[1]);
	text = render(w, 2, NULL);
	ck_assert_double_eq(sample(text, "dotsec_upstream_tls_handshakes_"
	    "total{upstream=\"192.0.2.1@853\"}"), 2);
	ck_assert_double_eq(sample(text, "dotsec_upstream_tls_handshakes_"
	    "total{upstream=\"192.0.2.2@8853\"}"), 0);
	ck_assert_double_eq(sample(text, "dotsec_upstream_tls_failures_"
	    "total{upstream=\"192.0.2.2@8853\"}"), 1);
	ck_assert_double_eq(sample(text, "dotsec_upstream_connection_"
	    "failures_total{upstream=\"192.0.2.2@8853\"}"), 2);
	ck_assert_double_eq(sample(text, "dotsec_cache_size_bytes"),
	    2097152);
	free(text);
	free(w[0]);
	free(w[1]);
	config_free(cfg);
}
END_TEST

START_TEST(test_render_histogram)
{
	static const char *const le[STATS_LAT_BUCKETS] = {
		"0.001", "0.002", "0.005", "0.01", "0.02", "0.05", "0.1",
		"0.2", "0.5", "1", "2", "+Inf"
	};
	/* Cumulative counts expected for the round trips below. */
	static const double want[STATS_LAT_BUCKETS] = {
		2, 3, 3, 3, 3, 3, 3, 4, 4, 5, 5, 6
	};
	struct stats w[2];
	struct stats *p[2] = { &w[0], &w[1] };
	char key[128], *text;
	double prev = 0, v;
	unsigned i;

	memset(w, 0, sizeof(w));
	stats_upstream_latency(&w[0], 500);
	stats_upstream_latency(&w[0], 1000);
	stats_upstream_latency(&w[0], 1500);
	stats_upstream_latency(&w[1], 150000);
	stats_upstream_latency(&w[1], 999000);
	stats_upstream_latency(&w[1], 3000000);
	text = render(p, 2, NULL);
	for (i = 0; i < STATS_LAT_BUCKETS; i++) {
		snprintf(key, sizeof(key),
		    "dotsec_upstream_latency_seconds_bucket{le=\"%s\"}",
		    le[i]);
		v = sample(text, key);
		ck_assert_msg(v >= prev, "stats_render: bucket le=%s (%g) "
		    "below the one before (%g)", le[i], v, prev);
		ck_assert_double_eq(v, want[i]);
		prev = v;
	}
	ck_assert_double_eq(sample(text,
	    "dotsec_upstream_latency_seconds_count"), prev);
	ck_assert_double_eq_tol(sample(text,
	    "dotsec_upstream_latency_seconds_sum"), 4.152, 1e-9);
	ck_assert_ptr_nonnull(strstr(text,
	    "dotsec_upstream_latency_seconds_sum 4.152000\n"));
	free(text);
}
END_TEST

/* "# HELP name ..." or "# TYPE name type": the name into out. */
static void
comment_name(const char *line, const char *nl, char *out, size_t len)
{
	const char *p = line + 7, *e = p;

	while (e < nl && *e != ' ')
		e++;
	ck_assert_uint_lt((size_t)(e - p), len);
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
}

START_TEST(test_render_help_type)
{
	static const char *const fams[] = {
		"dotsec_queries_total", "dotsec_queries_by_type_total",
		"dotsec_responses_total", "dotsec_validation_total",
		"dotsec_dropped_total", "dotsec_refused_acl_total",
		"dotsec_ratelimited_total", "dotsec_overloaded_total",
		"dotsec_cache_hits_total", "dotsec_cache_misses_total",
		"dotsec_timeouts_total", "dotsec_stale_answers_total",
		"dotsec_prefetches_total", "dotsec_prefetch_failures_total",
		"dotsec_upstream_queries_total",
		"dotsec_upstream_errors_total",
		"dotsec_upstream_merged_total",
		"dotsec_upstream_shared_total",
		"dotsec_upstream_key_prefetches_total",
		"dotsec_upstream_hedged_total",
		"dotsec_upstream_latency_seconds",
		"dotsec_upstream_last_success_timestamp_seconds",
		"dotsec_tcp_connections", "dotsec_tcp_accepted_total",
		"dotsec_tls_handshakes_total",
		"dotsec_tls_handshake_failures_total",
		"dotsec_anchor_keys",
		"dotsec_anchor_last_success_timestamp_seconds",
		"dotsec_anchor_probe_ok",
	};
	struct {
		char name[96];
		char type[16];
		int help, ntype;
	} fam[NFAM_MAX];
	struct stats_anchor a = { 1, 0, -1 };
	struct two t;
	char *text, name[96];
	const char *line, *nl, *want;
	size_t nfam = 0, i, j, n;

	two_init(&t);
	text = render(t.p, 2, &a);
	ck_assert_int_eq(text[strlen(text) - 1], '\n');
	for (line = text; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		ck_assert_ptr_nonnull(nl);
		if (strncmp(line, "# HELP ", 7) == 0 ||
		    strncmp(line, "# TYPE ", 7) == 0) {
			comment_name(line, nl, name, sizeof(name));
			for (i = 0; i < nfam; i++)
				if (strcmp(fam[i].name, name) == 0)
					break;
			if (i == nfam) {
				ck_assert_uint_lt(nfam, NFAM_MAX);
				memset(&fam[nfam], 0, sizeof(fam[0]));
				strcpy(fam[nfam].name, name);
				nfam++;
			}
			if (line[2] == 'H') {
				fam[i].help++;
			} else {
				fam[i].ntype++;
				n = (size_t)(nl - line) - 8 - strlen(name);
				ck_assert_uint_lt(n, sizeof(fam[i].type));
				memcpy(fam[i].type, line + 8 + strlen(name),
				    n);
				fam[i].type[n] = '\0';
			}
			continue;
		}
		ck_assert_msg(line[0] != '#', "stats_render: stray comment");
		/* A sample: its family's TYPE must come before it. */
		n = strcspn(line, "{ ");
		for (i = 0; i < nfam; i++) {
			j = strlen(fam[i].name);
			if (fam[i].ntype == 0 || j > n ||
			    strncmp(line, fam[i].name, j) != 0)
				continue;
			if (j == n)
				break;
			if (strcmp(fam[i].type, "histogram") == 0 &&
			    (strncmp(line + j, "_bucket{", 8) == 0 ||
			    strncmp(line + j, "_sum ", 5) == 0 ||
			    strncmp(line + j, "_count ", 7) == 0))
				break;
		}
		ck_assert_msg(i < nfam, "stats_render: '%.*s' has no TYPE "
		    "line before it", (int)(nl - line), line);
	}
	for (i = 0; i < nfam; i++) {
		ck_assert_msg(fam[i].help == 1 && fam[i].ntype == 1,
		    "stats_render: %s has %d HELP and %d TYPE lines",
		    fam[i].name, fam[i].help, fam[i].ntype);
	}
	ck_assert_uint_eq(nfam, sizeof(fams) / sizeof(fams[0]));
	for (j = 0; j < nfam; j++) {
		for (i = 0; i < nfam; i++)
			if (strcmp(fam[i].name, fams[j]) == 0)
				break;
		ck_assert_msg(i < nfam, "stats_render: no %s", fams[j]);
		n = strlen(fams[j]);
		if (strcmp(fams[j], "dotsec_upstream_latency_seconds") == 0)
			want = "histogram";
		else if (n > 6 && strcmp(fams[j] + n - 6, "_total") == 0)
			want = "counter";
		else
			want = "gauge";
		ck_assert_msg(strcmp(fam[i].type, want) == 0,
		    "stats_render: %s is a %s, not a %s", fams[j],
		    fam[i].type, want);
	}
	free(text);
}
END_TEST

START_TEST(test_render_truncated)
{
	struct stats_anchor a = { 2, 0, 0 };
	struct two t;
	char small[10], *full, *buf;
	size_t need;

	two_init(&t);
	full = render(t.p, 2, &a);
	need = strlen(full);
	/* Like snprintf: the length needed, and a terminated prefix. */
	memset(small, 'x', sizeof(small));
	ck_assert_uint_eq(stats_render(t.p, 2, &a, small, sizeof(small)),
	    need);
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
	ck_assert_int_eq(strncmp(small, full, sizeof(small) - 1), 0);
	/* One byte short: the NUL does not fit. */
	buf = malloc(need);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(stats_render(t.p, 2, &a, buf, need), need);
	ck_assert_uint_eq(strlen(buf), need - 1);
	ck_assert_int_eq(strncmp(buf, full, need - 1), 0);
	free(buf);
	free(full);
}
END_TEST

/* The answer cache's gauges appear once it is set, and follow it. */
START_TEST(test_render_answer_cache)
{
	struct frontcache *fc = frontcache_create(1 << 20, 0);
	struct dnsmsg_query q;
	uint8_t reply[512];
	char *text;
	int n;

	ck_assert_ptr_nonnull(fc);
	text = render(NULL, 0, NULL);
	ck_assert_ptr_null(strstr(text, "answer_cache"));
	free(text);
	stats_set_frontcache(fc);
	text = render(NULL, 0, NULL);
	ck_assert_double_eq(sample(text, "dotsec_answer_cache_entries"), 0);
	ck_assert_double_eq(sample(text, "dotsec_answer_cache_max_bytes"),
	    (double)(1 << 20));
	free(text);
	memset(&q, 0, sizeof(q));
	q.question_ok = true;
	memcpy(q.qname, "\001a\000", 3);
	q.qname_len = 3;
	q.qtype = DNS_TYPE_A;
	q.qclass = DNS_CLASS_IN;
	n = dnsmsg_error(&q, DNS_RCODE_SERVFAIL, DNS_EDE_NONE, NULL, 1232,
	    reply, sizeof(reply));
	ck_assert_int_gt(n, 0);
	ck_assert(frontcache_store_bogus(fc, &q, reply, (size_t)n, 60, 0));
	text = render(NULL, 0, NULL);
	ck_assert_double_eq(sample(text, "dotsec_answer_cache_entries"), 1);
	ck_assert_double_gt(sample(text, "dotsec_answer_cache_bytes"), 0);
	free(text);
	stats_set_frontcache(NULL);
	frontcache_delete(fc);
}
END_TEST

START_TEST(test_qtype_index)
{
	static const struct {
		uint16_t qtype;
		const char *name;
	} cases[] = {
		{ 1, "A" }, { 28, "AAAA" }, { 5, "CNAME" }, { 15, "MX" },
		{ 16, "TXT" }, { 12, "PTR" }, { 48, "DNSSEC" },
		{ 43, "DNSSEC" }, { 0, "other" }, { 2, "other" },
		{ 6, "other" }, { 33, "other" }, { 46, "other" },
		{ 255, "other" }, { 65535, "other" },
	};
	unsigned i, idx;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		idx = stats_qtype_index(cases[i].qtype);
		ck_assert_uint_lt(idx, STATS_QTYPES);
		ck_assert_msg(strcmp(stats_qtype_names[idx],
		    cases[i].name) == 0, "stats_qtype_index: %u -> %s, "
		    "not %s", cases[i].qtype, stats_qtype_names[idx],
		    cases[i].name);
	}
	ck_assert_str_eq(stats_verdict_names[STATS_SECURE], "secure");
	ck_assert_str_eq(stats_verdict_names[STATS_CD], "cd");
}
END_TEST

START_TEST(test_latency_buckets)
{
	static const struct {
		uint64_t us;
		unsigned bucket;
	} cases[] = {
		{ 0, 0 }, { 1000, 0 }, { 1001, 1 }, { 2000, 1 },
		{ 4999, 2 }, { 100000, 6 }, { 2000000, 10 },
		{ 2000001, 11 }, { UINT64_C(1) << 40, 11 },
	};
	struct stats s;
	uint64_t sum = 0;
	unsigned i, j;

	for (i = 1; i < STATS_LAT_BUCKETS; i++)
		ck_assert(stats_latency_bounds_ms[i] >
		    stats_latency_bounds_ms[i - 1]);
	ck_assert(isinf(stats_latency_bounds_ms[STATS_LAT_BUCKETS - 1]));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&s, 0, sizeof(s));
		stats_upstream_latency(&s, cases[i].us);
		for (j = 0; j < STATS_LAT_BUCKETS; j++)
			ck_assert_msg(atomic_load(&s.upstream_latency[j]) ==
			    (j == cases[i].bucket),
			    "stats_upstream_latency: %llu us in bucket %u",
			    (unsigned long long)cases[i].us, j);
		ck_assert_uint_eq(atomic_load(&s.upstream_latency_sum_us),
		    cases[i].us);
	}
	memset(&s, 0, sizeof(s));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		stats_upstream_latency(&s, cases[i].us);
		sum += cases[i].us;
	}
	ck_assert_uint_eq(atomic_load(&s.upstream_latency_sum_us), sum);
}
END_TEST

/* The median round trip of an upstream over every worker's last
 * STATS_RTT_SAMPLES answers: none, odd and even counts, a ring that wraps
 * (only the newest samples count), and other upstreams kept apart. */
START_TEST(test_rtt_median)
{
	static struct stats a, b;
	struct stats *both[2] = { &a, &b };
	unsigned n, i;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	ck_assert_uint_eq(stats_upstream_rtt_median(both, 2, 0, &n), 0);
	ck_assert_uint_eq(n, 0);
	stats_upstream_rtt(&a, 0, 3000);
	stats_upstream_rtt(&a, 0, 1000);
	stats_upstream_rtt(&b, 0, 90000);
	ck_assert_uint_eq(stats_upstream_rtt_median(both, 2, 0, &n), 3000);
	ck_assert_uint_eq(n, 3);
	stats_upstream_rtt(&b, 0, 5000);
	ck_assert_uint_eq(stats_upstream_rtt_median(both, 2, 0, &n), 4000);
	ck_assert_uint_eq(n, 4);
	/* Another upstream, and one beyond those counted. */
	stats_upstream_rtt(&a, 1, 7);
	stats_upstream_rtt(&a, STATS_UPSTREAMS, 7);
	ck_assert_uint_eq(stats_upstream_rtt_median(both, 2, 1, &n), 7);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(stats_upstream_rtt_median(both, 2, 0, &n), 4000);
	/* a's ring wraps: its old 3000 and 1000 are gone. */
	for (i = 0; i < STATS_RTT_SAMPLES; i++)
		stats_upstream_rtt(&a, 0, 200);
	ck_assert_uint_eq(stats_upstream_rtt_median(both, 2, 0, &n), 200);
	ck_assert_uint_eq(n, STATS_RTT_SAMPLES + 2);
	/* A round trip under a microsecond still counts as a sample. */
	memset(&b, 0, sizeof(b));
	stats_upstream_rtt(&b, 2, 0);
	ck_assert_uint_eq(stats_upstream_rtt_median(both, 2, 2, &n), 1);
	ck_assert_uint_eq(n, 1);
}
END_TEST

START_TEST(test_log_line)
{
	struct stats w[2];
	struct stats *p[2] = { &w[0], &w[1] };
	char line[512], tiny[16];

	memset(w, 0, sizeof(w));
	SET(&w[0], queries[STATS_UDP], 10);
	SET(&w[1], queries[STATS_UDP], 5);
	SET(&w[1], queries[STATS_TCP], 3);
	SET(&w[0], rcode[0], 12);
	SET(&w[1], rcode[2], 4);
	SET(&w[1], rcode[3], 2);
	SET(&w[0], verdict[STATS_SECURE], 7);
	SET(&w[1], verdict[STATS_BOGUS], 1);
	SET(&w[0], cache_hits, 9);
	SET(&w[1], upstream_errors, 6);
	SET(&w[0], tcp_open, 2);
	stats_log_line(p, 2, line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, "queries 18 (udp 15, tcp 3, dot 0)"));
	ck_assert_ptr_nonnull(strstr(line, "replies 18 (NOERROR 12, "
	    "NXDOMAIN 2, SERVFAIL 4"));
	ck_assert_ptr_nonnull(strstr(line, "secure 7,"));
	ck_assert_ptr_nonnull(strstr(line, "bogus 1,"));
	ck_assert_ptr_nonnull(strstr(line, "cache hits 9,"));
	ck_assert_ptr_nonnull(strstr(line, "errors 6,"));
	ck_assert_ptr_nonnull(strstr(line, "tcp open 2"));
	ck_assert_ptr_null(strchr(line, '\n'));
	/* Cut short, never overrun; len 0 writes nothing. */
	stats_log_line(p, 2, tiny, sizeof(tiny));
	ck_assert_uint_eq(strlen(tiny), sizeof(tiny) - 1);
	tiny[0] = 'x';
	stats_log_line(p, 2, tiny, 0);
	ck_assert_int_eq(tiny[0], 'x');
}
END_TEST

Suite *
stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("stats");

	tcase_add_test(tc, test_render_sums);
	tcase_add_test(tc, test_render_zero_and_null);
	tcase_add_test(tc, test_render_upstreams);
	tcase_add_test(tc, test_render_histogram);
	tcase_add_test(tc, test_render_help_type);
	tcase_add_test(tc, test_render_truncated);
	tcase_add_test(tc, test_render_answer_cache);
	tcase_add_test(tc, test_qtype_index);
	tcase_add_test(tc, test_latency_buckets);
	tcase_add_test(tc, test_log_line);
	tcase_add_test(tc, test_rtt_median);
	suite_add_tcase(s, tc);
	return s;
}
