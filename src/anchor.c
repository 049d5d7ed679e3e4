/*
 * anchor.c -- the managed root trust anchor: state file, RFC 5011 probes
 * through libunbound's autotrust, hand-over of the trusted keys.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <unbound.h>
#include <unbound-event.h>

#include "anchor.h"
#include "anchorfile.h"
#include "dnsmsg.h"
#include "dsconfig.h"
#include "fetch.h"
#include "log.h"
#include "rfc7958.h"
#include "stats.h"
#include "validator.h"

#define ANCHOR_FILE		"root.anchor"
/* Without anything better from the file: RFC 5011's active refresh is at
 * most 15 days and at least an hour; retries likewise. */
#define PROBE_DEFAULT_SECS	3600
#define PROBE_RETRY_SECS	3600

struct anchor_mgr {
	const struct ds_config *cfg;
	char *path;
	char **trusted;		/* never empty */
	char summary[1024];	/* tags and states after the last read */
	struct event_base *base;
	char relay_ip[64];
	unsigned relay_port;
	anchor_changed_fn changed;
	void *arg;
	struct event *timer;	/* next probe */
	struct event *reap;	/* delete the probe context, outside it */
	struct ub_ctx *probe;
	bool probe_ok;
	char probe_why[512];
	/* For readers on other threads (metrics). */
	atomic_int info_probe_ok;	/* -1 none yet, 0, 1 */
	atomic_long info_last_success;
	atomic_uint info_nkeys;
};

static int cmp_unsigned(const void *, const void *);
static void probe_timo(evutil_socket_t, short, void *);
static void probe_done(void *, int, void *, int, int, char *, int);
static void probe_reap(evutil_socket_t, short, void *);

/* libunbound exits the whole process when it cannot replace its anchor
 * file: prove the directory writable before it ever gets the file. */
static int
check_state_dir(const char *dir)
{
	char path[4096];
	int fd;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		ds_err("state_dir %s: cannot create it: %s", dir,
		    strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/.dotsecd-write-test.%d", dir,
	    (int)getpid());
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0) {
		ds_err("state_dir %s is not writable: %s (dotsecd keeps the "
		    "root trust anchor state there)", dir, strerror(errno));
		return -1;
	}
	close(fd);
	unlink(path);
	return 0;
}

/* "20326/8 VALID, 38696/8 ADDPEND" */
static void
summarize(const struct anchor_file *af, char *out, size_t len)
{
	size_t i, off = 0;

	out[0] = '\0';
	for (i = 0; i < af->nkeys && off < len; i++) {
		const struct anchor_key *k = &af->keys[i];
		int n = snprintf(out + off, len - off, "%s%u/%u %s%s%s",
		    i ? ", " : "", k->keytag, k->algorithm,
		    k->is_ds ? "DS " : "",
		    (k->flags & 0x80) ? "REVOKE-bit " : "",
		    anchor_key_state_str(k->state));

		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/* Read a whole file (at most FETCH_MAX_BODY bytes), NUL-terminated.
 * Returns a malloc'd buffer, or NULL after logging. */
static char *
read_file(const char *path, size_t *len)
{
	char *text = NULL;
	size_t n = 0, cap = 0, got;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		ds_err("%s: %s", path, strerror(errno));
		return NULL;
	}
	do {
		if (n + 4096 + 1 > cap) {
			char *t;

			if (cap >= FETCH_MAX_BODY ||
			    (t = realloc(text, cap + 65536)) == NULL) {
				ds_err("%s: too large or out of memory", path);
				goto fail;
			}
			text = t;
			cap += 65536;
		}
		got = fread(text + n, 1, 4096, f);
		n += got;
	} while (got > 0);
	if (ferror(f)) {
		ds_err("%s: read error", path);
		goto fail;
	}
	fclose(f);
	text[n] = '\0';
	*len = n;
	return text;
fail:
	fclose(f);
	free(text);
	return NULL;
}

/* Put the seed (trust_anchor_file) in place as the state file. */
static int
seed_state(struct anchor_mgr *m)
{
	const char *src = m->cfg->trust_anchor_file;
	struct anchor_file af;
	char err[512], *text;
	size_t n = 0;
	int rc = -1;

	memset(&af, 0, sizeof(af));
	if ((text = read_file(src, &n)) == NULL)
		return -1;
	if (anchorfile_parse(text, n, src, &af, err, sizeof(err)) != 0) {
		ds_err("trust_anchor_file: %s", err);
		goto out;
	}
	if (anchorfile_write_atomic(m->path, text, n, err, sizeof(err)) != 0) {
		ds_err("trust anchor: %s", err);
		goto out;
	}
	ds_notice("trust anchor: state %s seeded from %s", m->path, src);
	rc = 0;
out:
	anchorfile_free(&af);
	free(text);
	return rc;
}

/*
 * RFC 7958: root-anchors.xml and its signature, from the configured file
 * pair or fetched from the URL, verified, turned into DS records and put in
 * place as the state file.  Returns 0, or -1 after logging.
 */
static int
bootstrap_state(struct anchor_mgr *m)
{
	const struct ds_config *cfg = m->cfg;
	char *xml = NULL, *sig = NULL, *zone = NULL, err[1024];
	char sigurl[2048];
	const char *from;
	struct rfc7958_ds *ds = NULL;
	size_t xlen = 0, slen = 0, n = 0, ulen;
	int rc = -1;

	if (cfg->anchor_bootstrap_xml && cfg->anchor_bootstrap_sig) {
		from = cfg->anchor_bootstrap_xml;
		if ((xml = read_file(cfg->anchor_bootstrap_xml, &xlen)) ==
		    NULL || (sig = read_file(cfg->anchor_bootstrap_sig,
		    &slen)) == NULL)
			goto out;
	} else {
		from = cfg->anchor_bootstrap_url;
		ulen = strlen(from);
		if (ulen > 4 && strcmp(from + ulen - 4, ".xml") == 0)
			snprintf(sigurl, sizeof(sigurl), "%.*s.p7s",
			    (int)(ulen - 4), from);
		else
			snprintf(sigurl, sizeof(sigurl), "%s.p7s", from);
		if (fetch_https(from, cfg->anchor_bootstrap_url_ca, 10000,
		    &xml, &xlen, err, sizeof(err)) != 0 ||
		    fetch_https(sigurl, cfg->anchor_bootstrap_url_ca, 10000,
		    &sig, &slen, err, sizeof(err)) != 0) {
			ds_err("trust anchor bootstrap: %s", err);
			goto out;
		}
	}
	if (rfc7958_verify(xml, xlen, sig, slen, cfg->anchor_bootstrap_ca,
	    cfg->anchor_bootstrap_email, err, sizeof(err)) != 0) {
		ds_err("trust anchor bootstrap: %s: signature not valid: %s",
		    from, err);
		goto out;
	}
	if (rfc7958_parse(xml, xlen, time(NULL), &ds, &n, err,
	    sizeof(err)) != 0) {
		ds_err("trust anchor bootstrap: %s: %s", from, err);
		goto out;
	}
	if ((zone = rfc7958_to_zone(ds, n)) == NULL) {
		ds_err("trust anchor bootstrap: out of memory");
		goto out;
	}
	if (anchorfile_write_atomic(m->path, zone, strlen(zone), err,
	    sizeof(err)) != 0) {
		ds_err("trust anchor: %s", err);
		goto out;
	}
	ds_notice("trust anchor: state %s bootstrapped from %s (signature "
	    "verified, %zu DS record%s)", m->path, from, n, n == 1 ? "" : "s");
	rc = 0;
out:
	free(xml);
	free(sig);
	free(zone);
	free(ds);
	return rc;
}

/* A state file from nothing: RFC 7958 if configured, else (or when that
 * fails) the shipped seed. */
static int
new_state(struct anchor_mgr *m)
{
	if (m->cfg->anchor_bootstrap) {
		if (bootstrap_state(m) == 0)
			return 0;
		ds_err("trust anchor: bootstrap failed, seeding from %s "
		    "instead", m->cfg->trust_anchor_file);
	}
	return seed_state(m);
}

/* "TAG/ALG TAG/ALG ..." of a set of records, sorted; NULL on error. */
static char *
key_ids(char *const *set)
{
	struct anchor_file af;
	char err[256], *text = NULL, *ids = NULL;
	size_t i, len = 0, off = 0;
	unsigned *id = NULL;

	memset(&af, 0, sizeof(af));
	for (i = 0; set[i] != NULL; i++)
		len += strlen(set[i]) + 1;
	if ((text = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0; set[i] != NULL; i++)
		off += (size_t)sprintf(text + off, "%s\n", set[i]);
	if (anchorfile_parse(text, off, "trusted set", &af, err,
	    sizeof(err)) != 0 || (id = calloc(af.nkeys + 1,
	    sizeof(*id))) == NULL || (ids = malloc(af.nkeys * 12 + 1)) ==
	    NULL)
		goto out;
	for (i = 0; i < af.nkeys; i++)
		id[i] = af.keys[i].keytag << 8 | af.keys[i].algorithm;
	qsort(id, af.nkeys, sizeof(*id), cmp_unsigned);
	off = 0;
	ids[0] = '\0';
	for (i = 0; i < af.nkeys; i++)
		off += (size_t)sprintf(ids + off, "%u/%u ", id[i] >> 8,
		    id[i] & 0xff);
out:
	anchorfile_free(&af);
	free(text);
	free(id);
	return ids;
}

static int
cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

/* Whether two sets trust the same keys (DS or DNSKEY form alike). */
static bool
same_keys(char *const *a, char *const *b)
{
	char *ia = key_ids(a), *ib = key_ids(b);
	bool same = ia && ib && strcmp(ia, ib) == 0;

	free(ia);
	free(ib);
	return same;
}

/*
 * Read the state file and take its trusted set.  Returns 1 when the set
 * changed, 0 when it did not, -1 when the file cannot be used (the
 * previous set stays).
 */
static int
load_state(struct anchor_mgr *m)
{
	struct anchor_file af;
	char err[512], summary[sizeof(m->summary)];
	char **set;
	size_t n = 0;
	int rc = -1;

	memset(&af, 0, sizeof(af));
	if (anchorfile_read(m->path, &af, err, sizeof(err)) != 0) {
		ds_err("trust anchor: %s", err);
		return -1;
	}
	summarize(&af, summary, sizeof(summary));
	if (strcmp(summary, m->summary) != 0) {
		ds_notice("trust anchor %s: %s", m->path, summary);
		snprintf(m->summary, sizeof(m->summary), "%s", summary);
	}
	if ((set = anchorfile_trusted(&af, &n)) == NULL) {
		ds_err("trust anchor: out of memory");
		goto out;
	}
	if (n == 0) {
		/* Never install an empty set: validation would stop without
		 * a word.  The old keys keep failing loudly instead. */
		ds_err("trust anchor %s: no key is trusted any more (%s); "
		    "keeping the previous keys: answers will fail validation "
		    "until an operator installs a new anchor", m->path,
		    summary);
		anchorfile_free_set(set);
		goto out;
	}
	if (m->trusted && anchorfile_set_equal(m->trusted, set)) {
		anchorfile_free_set(set);
		rc = 0;
		goto out;
	}
	/* The first probe turns a DS seed into the DNSKEY it matches: the
	 * same keys (tag and algorithm), trusted as before.  Handing that
	 * over would only throw the validators' caches away. */
	rc = m->trusted && same_keys(m->trusted, set) ? 0 : 1;
	anchorfile_free_set(m->trusted);
	m->trusted = set;
	atomic_store(&m->info_nkeys, (unsigned)n);
out:
	anchorfile_free(&af);
	return rc;
}

struct anchor_mgr *
anchor_create(const struct ds_config *cfg)
{
	struct anchor_mgr *m;
	size_t len;

	if (check_state_dir(cfg->state_dir) != 0)
		return NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		ds_err("trust anchor: out of memory");
		return NULL;
	}
	m->cfg = cfg;
	atomic_init(&m->info_probe_ok, -1);
	atomic_init(&m->info_last_success, 0);
	atomic_init(&m->info_nkeys, 0);
	len = strlen(cfg->state_dir) + sizeof(ANCHOR_FILE) + 2;
	if ((m->path = malloc(len)) == NULL) {
		ds_err("trust anchor: out of memory");
		goto fail;
	}
	snprintf(m->path, len, "%s/%s", cfg->state_dir, ANCHOR_FILE);
	if (access(m->path, F_OK) != 0) {
		if (new_state(m) != 0)
			goto fail;
	} else if (load_state(m) < 0) {
		char aside[4200];

		/* Keep the evidence, start again from the seed. */
		snprintf(aside, sizeof(aside), "%s.bad-%ld", m->path,
		    (long)time(NULL));
		if (rename(m->path, aside) != 0) {
			ds_err("trust anchor: cannot move %s aside: %s",
			    m->path, strerror(errno));
			goto fail;
		}
		ds_err("trust anchor: state file %s cannot be used; kept as "
		    "%s, seeding again from %s", m->path, aside,
		    cfg->anchor_bootstrap ? "an RFC 7958 bootstrap" :
		    cfg->trust_anchor_file);
		if (new_state(m) != 0)
			goto fail;
	}
	if (m->trusted == NULL && load_state(m) < 0)
		goto fail;
	if (m->trusted == NULL) {
		ds_err("trust anchor: no usable key in %s", m->path);
		goto fail;
	}
	return m;
fail:
	anchor_delete(m);
	return NULL;
}

void
anchor_info(const struct anchor_mgr *m, struct stats_anchor *out)
{
	out->nkeys = atomic_load(&m->info_nkeys);
	out->last_success = (time_t)atomic_load(&m->info_last_success);
	out->last_probe_ok = atomic_load(&m->info_probe_ok);
}

char *const *
anchor_trusted(const struct anchor_mgr *m)
{
	return m->trusted;
}

const char *
anchor_state_path(const struct anchor_mgr *m)
{
	return m->path;
}

static void
schedule(struct anchor_mgr *m, long secs)
{
	struct timeval tv;

	if (m->cfg->anchor_probe_interval > 0 &&
	    secs > (long)m->cfg->anchor_probe_interval)
		secs = (long)m->cfg->anchor_probe_interval;
	if (secs < 1)
		secs = 1;
	tv.tv_sec = secs;
	tv.tv_usec = 0;
	evtimer_add(m->timer, &tv);
	ds_debug("trust anchor: next probe in %ld s", secs);
}

static int
set_uint_opt(struct ub_ctx *ctx, const char *opt, unsigned v)
{
	char val[32];
	int rc;

	snprintf(val, sizeof(val), "%u", v);
	if ((rc = ub_ctx_set_option(ctx, opt, val)) != 0) {
		ds_err("libunbound: cannot set %s %s: %s", opt, val,
		    ub_strerror(rc));
		return -1;
	}
	return 0;
}

static void
probe_timo(evutil_socket_t fd, short what, void *arg)
{
	struct anchor_mgr *m = arg;
	int rc, id;

	(void)fd;
	(void)what;
	if (m->probe != NULL)
		return;
	/* A fresh context each time: libunbound rewrites the file when it
	 * primes the root DNSKEY set, which a long-lived context would do
	 * only when its cached copy expires.  permit-small-holddown is never
	 * set: it crashes Debian's build. */
	if ((m->probe = ub_ctx_create_event(m->base)) == NULL) {
		ds_err("trust anchor: cannot create a libunbound context");
		schedule(m, PROBE_RETRY_SECS);
		return;
	}
	if (validator_ub_setup(m->probe, m->relay_ip, m->relay_port,
	    m->cfg->timeout_ms) != 0 ||
	    set_uint_opt(m->probe, "add-holddown:",
	    m->cfg->anchor_add_holddown) != 0 ||
	    set_uint_opt(m->probe, "del-holddown:",
	    m->cfg->anchor_del_holddown) != 0 ||
	    set_uint_opt(m->probe, "keep-missing:",
	    m->cfg->anchor_keep_missing) != 0)
		goto fail;
	if ((rc = ub_ctx_add_ta_autr(m->probe, m->path)) != 0) {
		ds_err("trust anchor: libunbound rejects %s: %s", m->path,
		    ub_strerror(rc));
		goto fail;
	}
	m->probe_ok = false;
	m->probe_why[0] = '\0';
	rc = ub_resolve_event(m->probe, ".", DNS_TYPE_DNSKEY, DNS_CLASS_IN, m,
	    probe_done, &id);
	if (rc != 0) {
		ds_err("trust anchor: probe not started: %s", ub_strerror(rc));
		goto fail;
	}
	ds_debug("trust anchor: probing . DNSKEY");
	return;
fail:
	ub_ctx_delete(m->probe);
	m->probe = NULL;
	schedule(m, m->cfg->anchor_probe_interval ?
	    (long)m->cfg->anchor_probe_interval : PROBE_RETRY_SECS);
}

static void
probe_done(void *arg, int rcode, void *pkt, int len, int sec, char *why,
    int ratelimited)
{
	struct anchor_mgr *m = arg;

	(void)pkt;
	(void)len;
	(void)ratelimited;
	m->probe_ok = rcode == 0 && sec == 2;
	if (!m->probe_ok)
		snprintf(m->probe_why, sizeof(m->probe_why), "%s",
		    why ? validator_reason(why) : rcode ?
		    "no answer from the upstreams" : "not secure");
	/* The context may not be deleted inside its own callback. */
	event_active(m->reap, EV_TIMEOUT, 0);
}

static void
probe_reap(evutil_socket_t fd, short what, void *arg)
{
	struct anchor_mgr *m = arg;
	struct anchor_file af;
	char err[512];
	long next = PROBE_DEFAULT_SECS;
	int changed;

	(void)fd;
	(void)what;
	ub_ctx_delete(m->probe);
	m->probe = NULL;
	changed = load_state(m);
	atomic_store(&m->info_probe_ok, m->probe_ok ? 1 : 0);
	if (m->probe_ok)
		atomic_store(&m->info_last_success, (long)time(NULL));
	if (!m->probe_ok)
		ds_err("trust anchor: probe of the root DNSKEY set failed: %s "
		    "(keys: %s)", m->probe_why, m->summary);
	if (changed > 0) {
		ds_notice("trust anchor: trusted keys changed, handing them "
		    "to the validators");
		m->changed(m->arg, m->trusted);
	}
	memset(&af, 0, sizeof(af));
	if (m->probe_ok && anchorfile_read(m->path, &af, err, sizeof(err)) ==
	    0 && af.next_probe_time > 0)
		next = af.next_probe_time - (long)time(NULL);
	else if (!m->probe_ok)
		next = PROBE_RETRY_SECS;
	anchorfile_free(&af);
	schedule(m, next);
}

int
anchor_start(struct anchor_mgr *m, struct event_base *base,
    const char *relay_ip, unsigned relay_port, anchor_changed_fn changed,
    void *arg)
{
	struct timeval now = { 0, 0 };

	m->base = base;
	snprintf(m->relay_ip, sizeof(m->relay_ip), "%s", relay_ip);
	m->relay_port = relay_port;
	m->changed = changed;
	m->arg = arg;
	if ((m->timer = evtimer_new(base, probe_timo, m)) == NULL ||
	    (m->reap = event_new(base, -1, 0, probe_reap, m)) == NULL) {
		ds_err("trust anchor: cannot create timers");
		return -1;
	}
	/* RFC 5011 2.3: probe at start, then on the file's schedule. */
	evtimer_add(m->timer, &now);
	return 0;
}

void
anchor_delete(struct anchor_mgr *m)
{
	if (m == NULL)
		return;
	if (m->timer)
		event_free(m->timer);
	if (m->reap)
		event_free(m->reap);
	if (m->probe)
		ub_ctx_delete(m->probe);
	anchorfile_free_set(m->trusted);
	free(m->path);
	free(m);
}
