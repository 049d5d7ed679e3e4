/*
 * ctlcmd.c -- the requests of the control channel (ctlcmd.h).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>

#include "anchor.h"
#include "anchorfile.h"
#include "control.h"
#include "ctlcmd.h"
#include "dnsmsg.h"
#include "dsconfig.h"
#include "explain.h"
#include "frontcache.h"
#include "route.h"
#include "stats.h"
#include "upstreams.h"
#include "worker.h"

/* How long flush waits for every worker to renew its validator. */
#define FLUSH_WAIT_SEC	5

static const struct {
	const char *name;
	uint16_t type;
} types[] = {
	{ "A", 1 }, { "NS", 2 }, { "CNAME", 5 }, { "SOA", 6 }, { "PTR", 12 },
	{ "MX", 15 }, { "TXT", 16 }, { "AAAA", 28 }, { "SRV", 33 },
	{ "NAPTR", 35 }, { "DNAME", 39 }, { "DS", 43 }, { "SSHFP", 44 },
	{ "RRSIG", 46 }, { "NSEC", 47 }, { "DNSKEY", 48 }, { "NSEC3", 50 },
	{ "NSEC3PARAM", 51 }, { "TLSA", 52 }, { "CDS", 59 },
	{ "CDNSKEY", 60 }, { "ZONEMD", 63 }, { "SVCB", 64 }, { "HTTPS", 65 },
	{ "CAA", 257 }
};

/* A type's mnemonic or TYPEnnn (RFC 3597); 0 when neither. */
static uint16_t
parse_type(const char *s)
{
	unsigned long v;
	char *end;
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(s, types[i].name) == 0)
			return types[i].type;
	if (strncasecmp(s, "TYPE", 4) == 0 && s[4] != '\0') {
		v = strtoul(s + 4, &end, 10);
		if (*end == '\0' && v > 0 && v <= 65535)
			return (uint16_t)v;
	}
	return 0;
}

static void
sum_stats(const struct ctl_daemon *d, struct stats **st)
{
	unsigned i;

	for (i = 0; i < d->nworkers; i++)
		st[i] = worker_stats(d->workers[i]);
}

static uint64_t
ld(atomic_uint_fast64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static void
put_time(struct evbuffer *out, time_t t)
{
	struct tm tm;
	char buf[64];

	if (t == 0 || gmtime_r(&t, &tm) == NULL) {
		evbuffer_add_printf(out, "never");
		return;
	}
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
	evbuffer_add_printf(out, "%s", buf);
}

static int
cmd_status(struct ctl_daemon *d, struct evbuffer *out)
{
	struct stats *st[DS_MAX_WORKERS];
	struct stats_anchor an;
	struct fc_stats fs, ks;
	const struct ds_config *cfg;
	time_t loaded, now = time(NULL);
	unsigned i, w, down, waiting = 0;

	cfg = d->config(&loaded);
	sum_stats(d, st);
	evbuffer_add_printf(out, "version %s\n", PACKAGE_VERSION);
	evbuffer_add_printf(out, "uptime %lld s (since ",
	    (long long)(now - d->started));
	put_time(out, d->started);
	evbuffer_add_printf(out, ")\nworkers %u\nconfig %s (loaded ",
	    d->nworkers, cfg->path);
	put_time(out, loaded);
	evbuffer_add_printf(out, ")\n");
	for (i = 0; i < cfg->nupstreams; i++) {
		const struct ds_upstream *u = &cfg->upstreams[i];
		uint64_t hs = 0, rs = 0, tf = 0, cf = 0, fo = 0;
		int64_t srtt = 0;

		down = 0;
		for (w = 0; w < d->nworkers && i < STATS_UPSTREAMS; w++) {
			down += atomic_load_explicit(&st[w]->up_down[i],
			    memory_order_relaxed) != 0;
			hs += ld(&st[w]->up_tls_handshakes[i]);
			rs += ld(&st[w]->up_tls_resumptions[i]);
			tf += ld(&st[w]->up_tls_failures[i]);
			cf += ld(&st[w]->up_conn_failures[i]);
			fo += ld(&st[w]->up_failovers[i]);
			if (atomic_load_explicit(&st[w]->up_srtt_ms[i],
			    memory_order_relaxed) > srtt)
				srtt = atomic_load_explicit(
				    &st[w]->up_srtt_ms[i],
				    memory_order_relaxed);
		}
		evbuffer_add_printf(out, "upstream %s@%u%s%s: ", u->address,
		    u->port, u->auth_name ? "#" : "",
		    u->auth_name ? u->auth_name : "");
		if (i >= STATS_UPSTREAMS)
			evbuffer_add_printf(out, "(not counted)\n");
		else if (down == 0)
			evbuffer_add_printf(out, "usable");
		else
			evbuffer_add_printf(out, "unusable on %u of %u "
			    "workers (probed every second)", down,
			    d->nworkers);
		if (i < STATS_UPSTREAMS) {
			char why[160], last[160] = "";
			time_t at, last_at = 0;

			/* The latest failure any worker saw, if it is
			 * recent and no answer came since. */
			for (w = 0; w < d->nworkers; w++) {
				stats_upstream_error_get(st[w], i, why,
				    sizeof(why), &at);
				if (at > last_at && why[0] != '\0') {
					last_at = at;
					snprintf(last, sizeof(last), "%s", why);
				}
			}
			unsigned nrtt;
			uint64_t med = stats_upstream_rtt_median(st,
			    d->nworkers, i, &nrtt);

			if (nrtt > 0)
				evbuffer_add_printf(out, "; median rtt %.1f ms "
				    "(last %u answers)", (double)med / 1000.0,
				    nrtt);
			else
				evbuffer_add_printf(out, "; median rtt - (no "
				    "answer yet)");
			evbuffer_add_printf(out, "; smoothed rtt %lld ms (the "
			    "slowest worker's); tls handshakes %llu (%llu "
			    "resumed), tls failures %llu, connection failures "
			    "%llu, found unusable %llu times; ", (long long)srtt,
			    (unsigned long long)hs, (unsigned long long)rs,
			    (unsigned long long)tf,
			    (unsigned long long)cf, (unsigned long long)fo);
			if (last_at != 0 && now - last_at <=
			    UPSTREAMS_FAILURE_AGE) {
				evbuffer_add_printf(out, "last failure %lld s "
				    "ago: %s\n", (long long)(now - last_at),
				    last);
			} else
				evbuffer_add_printf(out, "no recent "
				    "failure\n");
		}
	}
	anchor_info(d->anchors, &an);
	evbuffer_add_printf(out, "anchor %u trusted key%s; last probe %s; "
	    "last validated probe ", an.nkeys, an.nkeys == 1 ? "" : "s",
	    an.last_probe_ok < 0 ? "none yet" : an.last_probe_ok ? "ok" :
	    "failed");
	put_time(out, an.last_success);
	frontcache_get_stats(d->answers, &fs);
	frontcache_get_stats(d->keys, &ks);
	evbuffer_add_printf(out, "\ncache answers %zu entries, %zu of %zu "
	    "bytes; keys %zu entries, %zu of %zu bytes\n", fs.entries,
	    fs.bytes, fs.max_bytes, ks.entries, ks.bytes, ks.max_bytes);
	for (w = 0; w < d->nworkers; w++)
		waiting += worker_waiting(d->workers[w]);
	evbuffer_add_printf(out, "queries in flight %u\n", waiting);
	return 0;
}

/* The metrics' samples, as "name value" lines: /metrics itself without
 * its comments.  There is no reset: the counters of /metrics only grow. */
static int
cmd_stats(struct ctl_daemon *d, struct evbuffer *out)
{
	struct stats *st[DS_MAX_WORKERS];
	struct stats_anchor an;
	size_t need, len;
	char *buf, *p, *nl;

	sum_stats(d, st);
	anchor_info(d->anchors, &an);
	need = stats_render(st, d->nworkers, &an, NULL, 0);
	if ((buf = malloc(need + 1)) == NULL) {
		evbuffer_add_printf(out, "out of memory\n");
		return -1;
	}
	len = stats_render(st, d->nworkers, &an, buf, need + 1);
	buf[len < need ? len : need] = '\0';
	for (p = buf; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		if (*p != '#')
			evbuffer_add(out, p, (size_t)(nl - p + 1));
	}
	free(buf);
	return 0;
}

static int
flush_usage(struct evbuffer *out)
{
	evbuffer_add_printf(out, "usage: flush NAME [TYPE] | flush zone NAME "
	    "| flush bogus | flush all\n");
	return -1;
}

static int
cmd_flush(struct ctl_daemon *d, int argc, char **argv, struct evbuffer *out)
{
	enum fc_drop how;
	uint8_t wire[DNS_MAX_NAME];
	const char *name = ".";
	struct flush_wait *fw;
	struct timespec until;
	uint16_t qtype = 0;
	unsigned w, started = 0, left;
	int len = 1, rc = 0;

	wire[0] = 0;
	if (argc < 2 || argc > 3)
		return flush_usage(out);
	if (strcmp(argv[1], "all") == 0 && argc == 2)
		how = FC_DROP_ALL;
	else if (strcmp(argv[1], "bogus") == 0 && argc == 2)
		how = FC_DROP_BOGUS;
	else if (strcmp(argv[1], "zone") == 0) {
		if (argc != 3)
			return flush_usage(out);
		how = FC_DROP_BELOW;
		name = argv[2];
	} else {
		how = FC_DROP_NAME;
		name = argv[1];
		if (argc == 3 && (qtype = parse_type(argv[2])) == 0) {
			evbuffer_add_printf(out, "%s: not a record type\n",
			    argv[2]);
			return -1;
		}
	}
	if ((how == FC_DROP_BELOW || how == FC_DROP_NAME) &&
	    (len = route_name_to_wire(name, wire, sizeof(wire))) < 0) {
		evbuffer_add_printf(out, "%s: not a domain name\n", name);
		return -1;
	}
	if ((fw = calloc(1, sizeof(*fw))) == NULL) {
		evbuffer_add_printf(out, "out of memory\n");
		return -1;
	}
	pthread_mutex_init(&fw->lock, NULL);
	pthread_cond_init(&fw->cond, NULL);
	fw->refs = 1;
	pthread_mutex_lock(&fw->lock);
	fw->left = d->nworkers;
	pthread_mutex_unlock(&fw->lock);
	for (w = 0; w < d->nworkers; w++)
		if (worker_flush(d->workers[w], how, wire, (size_t)len, qtype,
		    fw) == 0)
			started++;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += FLUSH_WAIT_SEC;
	pthread_mutex_lock(&fw->lock);
	fw->left -= d->nworkers - started;
	while (fw->left > 0 && fw->refs > 1 &&
	    pthread_cond_timedwait(&fw->cond, &fw->lock, &until) == 0)
		;
	left = fw->left;
	pthread_mutex_unlock(&fw->lock);
	flush_wait_release(fw);
	if (started < d->nworkers || left > 0) {
		evbuffer_add_printf(out, "flush not done on %u of %u workers "
		    "(busy with an earlier flush, stopping, or unable to "
		    "renew their validator: see the log)\n",
		    d->nworkers - started + left, d->nworkers);
		rc = -1;
	} else
		evbuffer_add_printf(out, "flushed %s%s%s%s on %u worker%s\n",
		    how == FC_DROP_ALL ? "everything" : how == FC_DROP_BOGUS ?
		    "every bogus verdict" : how == FC_DROP_BELOW ? "zone " :
		    "", how == FC_DROP_BELOW || how == FC_DROP_NAME ? name : "",
		    qtype ? " " : "", qtype ? argv[2] : "", d->nworkers,
		    d->nworkers == 1 ? "" : "s");
	return rc;
}

/* What dotsec-anchor show prints, from the state file libunbound keeps
 * (RFC 5011), as it is now. */
static int
cmd_anchor(struct ctl_daemon *d, struct evbuffer *out)
{
	const char *path = anchor_state_path(d->anchors);
	char err[512], *text = NULL, *shown = NULL;
	size_t len = 0, slen = 0;
	FILE *f, *m;
	int rc = -1;

	if ((f = fopen(path, "r")) == NULL) {
		evbuffer_add_printf(out, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if ((text = malloc(1 << 20)) != NULL)
		len = fread(text, 1, 1 << 20, f);
	if (text == NULL || ferror(f) || !feof(f)) {
		evbuffer_add_printf(out, "%s: cannot read it whole\n", path);
		fclose(f);
		free(text);
		return -1;
	}
	fclose(f);
	if ((m = open_memstream(&shown, &slen)) == NULL) {
		evbuffer_add_printf(out, "out of memory\n");
		free(text);
		return -1;
	}
	if (anchorfile_show(text, len, path, m, err, sizeof(err)) == 0)
		rc = 0;
	fclose(m);
	if (rc == 0)
		evbuffer_add(out, shown, slen);
	else
		evbuffer_add_printf(out, "%s\n", err);
	free(shown);
	free(text);
	return rc;
}

/* An explain, answered from a thread of its own. */
struct explain_job {
	struct control_pending *later;
	const struct ds_config *cfg;	/* configurations stay until exit */
	char **anchors;
	char relay_ip[64];
	unsigned relay_port;
	char name[CONTROL_MAX_LINE];
	uint16_t qtype;
	bool json;
	struct evbuffer *out;
};

static void *
explain_thread(void *arg)
{
	struct explain_job *j = arg;
	struct control_pending *later = j->later;
	struct evbuffer *out = j->out;
	int rc;

	rc = explain_run(j->cfg, j->anchors, j->relay_ip, j->relay_port,
	    j->name, j->qtype, j->json, out);
	anchorfile_free_set(j->anchors);
	free(j);
	/* The last thing this thread does: the daemon may stop after it. */
	control_finish(later, rc, out);
	return NULL;
}

/* explain NAME [TYPE] [--json]: through the first worker's relay, on a
 * thread of its own, since it may take seconds (an upstream that does
 * not answer) and the main loop serves signals, metrics and the other
 * connections meanwhile. */
static int
cmd_explain(struct ctl_daemon *d, int argc, char **argv,
    struct evbuffer *out, struct control_pending *later)
{
	struct explain_job *j;
	const char *name = NULL;
	uint16_t qtype = DNS_TYPE_A;
	bool json = false;
	pthread_attr_t attr;
	pthread_t tid;
	time_t loaded;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (name == NULL)
			name = argv[i];
		else if ((qtype = parse_type(argv[i])) == 0) {
			evbuffer_add_printf(out, "%s: not a record type\n",
			    argv[i]);
			return -1;
		}
	}
	if (name == NULL) {
		evbuffer_add_printf(out, "usage: explain NAME [TYPE] "
		    "[--json]\n");
		return -1;
	}
	if (control_pending_full(later)) {
		evbuffer_add_printf(out, "busy: %d explains are running; try "
		    "again when one is done\n", CONTROL_MAX_LATER);
		return -1;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->out = evbuffer_new()) == NULL) {
		free(j);
		evbuffer_add_printf(out, "out of memory\n");
		return -1;
	}
	if ((j->anchors = d->anchors_copy()) == NULL) {
		evbuffer_free(j->out);
		free(j);
		evbuffer_add_printf(out, "no trust anchor\n");
		return -1;
	}
	j->later = later;
	j->cfg = d->config(&loaded);
	snprintf(j->relay_ip, sizeof(j->relay_ip), "%s",
	    worker_relay_ip(d->workers[0]));
	j->relay_port = worker_relay_port(d->workers[0]);
	snprintf(j->name, sizeof(j->name), "%s", name);
	j->qtype = qtype;
	j->json = json;
	control_pending_begin(later);
	if ((rc = pthread_attr_init(&attr)) == 0 &&
	    (rc = pthread_attr_setdetachstate(&attr,
	    PTHREAD_CREATE_DETACHED)) == 0)
		rc = pthread_create(&tid, &attr, explain_thread, j);
	(void)pthread_attr_destroy(&attr);
	if (rc != 0) {
		/* Answered at once, through the same path. */
		evbuffer_add_printf(j->out, "cannot start a thread: %s\n",
		    strerror(rc));
		control_finish(later, -1, j->out);
		anchorfile_free_set(j->anchors);
		free(j);
	}
	return CONTROL_LATER;
}

static void
help(struct evbuffer *out)
{
	evbuffer_add_printf(out, "commands: status, stats, flush NAME "
	    "[TYPE], flush zone NAME, flush bogus, flush all, reload, nta add "
	    "NAME [SECONDS], nta remove NAME, nta list, forward add NAME "
	    "ADDR[@PORT][#AUTHNAME]... [--plain] [--insecure] [--ca FILE], "
	    "forward remove NAME, forward list, anchor, explain NAME [TYPE] "
	    "[--json], cache dump FILE, cache load FILE\n");
}

int
ctlcmd_run(void *arg, int argc, char **argv, struct evbuffer *out,
    struct control_pending *later)
{
	struct ctl_daemon *d = arg;

	if (strcmp(argv[0], "status") == 0 && argc == 1)
		return cmd_status(d, out);
	if (strcmp(argv[0], "stats") == 0 && argc == 1)
		return cmd_stats(d, out);
	if (strcmp(argv[0], "flush") == 0)
		return cmd_flush(d, argc, argv, out);
	if (strcmp(argv[0], "reload") == 0 && argc == 1) {
		if (d->reload(out) != 0)
			return -1;
		evbuffer_add_printf(out, "ok\n");
		return 0;
	}
	if (strcmp(argv[0], "cache") == 0)
		return d->cache(argc, argv, out);
	if (strcmp(argv[0], "explain") == 0)
		return cmd_explain(d, argc, argv, out, later);
	if (strcmp(argv[0], "anchor") == 0 && argc == 1)
		return cmd_anchor(d, out);
	if (strcmp(argv[0], "nta") == 0 || strcmp(argv[0], "forward") == 0)
		return d->runtime(argc, argv, out);
	if (strcmp(argv[0], "help") == 0) {
		help(out);
		return 0;
	}
	evbuffer_add_printf(out, "unknown command or wrong arguments: %s\n",
	    argv[0]);
	help(out);
	return -1;
}
