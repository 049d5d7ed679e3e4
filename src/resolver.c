/*
 * resolver.c -- getdns in stub mode, strict DNS-over-TLS, on the worker's
 * libevent loop.
 *
 * Deliberate answers to what getdns 1.6.0 does by default:
 *   - REQUIRED authentication is downgraded silently unless the transport
 *     list is TLS alone: the list is exactly { TLS }.
 *   - Debian's libgetdns_ex_event.so exports nothing: the getdns_eventloop
 *     interface is implemented here on libevent, which is also where
 *     TCP_NODELAY is set on upstream streams (getdns never sets it).
 *   - idle_timeout 0 costs a handshake per query; the backoff after a TLS
 *     failure is an hour: both come from the configuration.
 *   - With no usable anchor getdns would fetch root-anchors.xml over plain
 *     HTTP: the verify CA is set to "" so that it never fetches anything.
 *   - The context is created without reading the OS's resolv.conf, and
 *     never appends a search suffix.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
/* The kernel's struct tcp_info (tcpi_segs_in, which glibc's copy in
 * <netinet/tcp.h> lacks); it also gives TCP_NODELAY and TCP_INFO. */
#include <linux/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/event.h>
#include <getdns/getdns.h>
#include <getdns/getdns_extra.h>
#include <openssl/evp.h>

#include "clock.h"
#include "dsconfig.h"
#include "log.h"
#include "resolver.h"
#include "stats.h"

/* TCP states (the kernel's, include/net/tcp_states.h): <linux/tcp.h>
 * has no names for them. */
#define DS_TCP_SYN_SENT	2
#define DS_TCP_CLOSE	7

/* A TLS handshake that failed after this long was cut by getdns's own
 * handshake timeout (2.5 s at least in getdns 1.6.0), not refused. */
#define HS_TIMED_OUT_MS	2000

struct evloop {
	getdns_eventloop loop;	/* first: getdns casts back to us */
	struct event_base *base;
	struct resolver *r;	/* whose connection events are watched */
};

/* One scheduled getdns event: the libevent callback's argument. */
struct evloop_ev {
	struct evloop *el;
	getdns_eventloop_event *gev;
};

/* Where the connection to the upstream stands, as the event loop and
 * getdns's connection log see it. */
enum conn_phase {
	CONN_NONE,		/* no connection */
	CONN_CONNECTING,	/* TCP connection under way */
	CONN_TCP,		/* TCP up, TLS handshake under way */
	CONN_READY		/* TLS up (or plain TCP up), or a reply came */
};

struct resolver {
	getdns_context *ctx;
	struct evloop *evloop;
	getdns_dict *ext;	/* DO + CD for every query */
	char upstreams[512];
	char last_error[600];
	struct stats *st;
	const struct ds_config *cfg;
	bool plain;		/* a plain forward zone: no TLS */
	bool pinned;		/* its upstream has an SPKI pinset */
	int index;		/* its upstream's, or -1: several */
	enum conn_phase phase;
	struct timespec opened;	/* when the connection was opened */
	bool conn_failed;	/* this connection's failure is recorded */
	char conn_fail[48];	/* how its TCP connection failed, or "" */
	char failure[200];	/* the last failure, in plain words */
	unsigned failure_seq;	/* counts failures */
};

/* One query in flight; freed in the getdns callback. */
struct rquery {
	struct resolver *r;
	resolver_done_fn cb;
	void *arg;
	unsigned failure_seq;	/* r's when it was sent */
};

static void evloop_cleanup(getdns_eventloop *);
static getdns_return_t evloop_schedule(getdns_eventloop *, int, uint64_t,
    getdns_eventloop_event *);
static getdns_return_t evloop_clear(getdns_eventloop *,
    getdns_eventloop_event *);
static void evloop_run(getdns_eventloop *);
static void evloop_run_once(getdns_eventloop *, int);
static void evloop_fire(evutil_socket_t, short, void *);
static void getdns_logged(void *, uint64_t, getdns_loglevel_type,
    const char *, va_list) __attribute__((format(printf, 4, 0)));
static int set_upstreams(struct resolver *, const struct ds_config *,
    const struct ds_fwd_zone *, int);
static void count_event(struct resolver *, const char *);
static void count_resumed(struct resolver *);
static void note_event(struct resolver *, const char *);
static void resolver_done(getdns_context *, getdns_callback_type_t,
    getdns_dict *, void *, getdns_transaction_t);

static getdns_eventloop_vmt evloop_vmt = {
	evloop_cleanup, evloop_schedule, evloop_clear, evloop_run,
	evloop_run_once
};

static void
evloop_cleanup(getdns_eventloop *loop)
{
	free(loop);
}

/* A connection under way: did its TCP connection come up, or fail?  getdns
 * logs neither, and reads (so clears) the socket's error itself; the
 * kernel's TCP_INFO tells without changing anything.  A connection that
 * closed before it was ever up was refused (a reset came back, so a
 * segment arrived) or unreachable (an ICMP error, no segment). */
static void
conn_observe(struct resolver *r, int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (r->phase != CONN_CONNECTING)
		return;
	memset(&ti, 0, sizeof(ti));
	/* Not a TCP socket (a plain zone's UDP): nothing to learn. */
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return;
	if (ti.tcpi_state == DS_TCP_SYN_SENT)
		return;
	if (ti.tcpi_state == DS_TCP_CLOSE) {
		bool segs = len >= offsetof(struct tcp_info, tcpi_segs_in) +
		    sizeof(ti.tcpi_segs_in);

		snprintf(r->conn_fail, sizeof(r->conn_fail), "%s",
		    !segs || ti.tcpi_segs_in > 0 ? "connection refused" :
		    "unreachable");
		r->phase = CONN_NONE;
		return;
	}
	r->phase = r->plain ? CONN_READY : CONN_TCP;
}

static void
evloop_fire(evutil_socket_t fd, short what, void *arg)
{
	struct evloop_ev *e = arg;
	getdns_eventloop_event *gev = e->gev;

	if (fd >= 0 && e->el->r != NULL)
		conn_observe(e->el->r, fd);
	/* One callback per firing: getdns may clear the event inside it. */
	if ((what & EV_READ) && gev->read_cb)
		gev->read_cb(gev->userarg);
	else if ((what & EV_WRITE) && gev->write_cb)
		gev->write_cb(gev->userarg);
	else if ((what & EV_TIMEOUT) && gev->timeout_cb)
		gev->timeout_cb(gev->userarg);
}

static void
set_nodelay(int fd)
{
	int type = 0, one = 1;
	socklen_t len = sizeof(type);

	/* Pipelined queries on a DoT stream stall ~40 ms under Nagle and
	 * delayed ACKs; getdns never disables Nagle itself. */
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
	    type == SOCK_STREAM)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
}

static getdns_return_t
evloop_schedule(getdns_eventloop *loop, int fd, uint64_t timeout,
    getdns_eventloop_event *gev)
{
	struct evloop *el = (struct evloop *)loop;
	struct evloop_ev *e;
	struct event *ev;
	short what = 0;
	struct timeval tv;

	if (fd >= 0 && (gev->read_cb || gev->write_cb)) {
		set_nodelay(fd);
		if (gev->read_cb)
			what |= EV_READ | EV_PERSIST;
		if (gev->write_cb)
			what |= EV_WRITE | EV_PERSIST;
	} else
		fd = -1;
	if ((e = malloc(sizeof(*e))) == NULL)
		return GETDNS_RETURN_MEMORY_ERROR;
	e->el = el;
	e->gev = gev;
	ev = event_new(el->base, fd, what, evloop_fire, e);
	if (ev == NULL) {
		free(e);
		return GETDNS_RETURN_MEMORY_ERROR;
	}
	tv.tv_sec = (time_t)(timeout / 1000);
	tv.tv_usec = (suseconds_t)((timeout % 1000) * 1000);
	if (event_add(ev, gev->timeout_cb ? &tv : NULL) != 0) {
		event_free(ev);
		free(e);
		return GETDNS_RETURN_GENERIC_ERROR;
	}
	gev->ev = ev;
	return GETDNS_RETURN_GOOD;
}

static getdns_return_t
evloop_clear(getdns_eventloop *loop, getdns_eventloop_event *gev)
{
	(void)loop;
	if (gev->ev != NULL) {
		struct evloop_ev *e = event_get_callback_arg(gev->ev);

		event_free(gev->ev);
		free(e);
		gev->ev = NULL;
	}
	return GETDNS_RETURN_GOOD;
}

static void
evloop_run(getdns_eventloop *loop)
{
	(void)event_base_dispatch(((struct evloop *)loop)->base);
}

static void
evloop_run_once(getdns_eventloop *loop, int blocking)
{
	(void)event_base_loop(((struct evloop *)loop)->base,
	    EVLOOP_ONCE | (blocking ? 0 : EVLOOP_NONBLOCK));
}

static void
getdns_logged(void *arg, uint64_t systems, getdns_loglevel_type level,
    const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;
	enum ds_log_level l;

	(void)systems;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	count_event(arg, msg);
	note_event(arg, msg);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	/* getdns reports every TLS failure (with the upstream and the
	 * OpenSSL reason) at NOTICE or above: keep those visible. */
	if (level <= GETDNS_LOG_ERR)
		l = DS_LOG_ERR;
	else if (level <= GETDNS_LOG_NOTICE)
		l = DS_LOG_NOTICE;
	else
		l = DS_LOG_DEBUG;
	ds_log(l, "getdns: %s", msg);
}

/* getdns logs every upstream connection event as "ADDR  : Event ...":
 * count handshakes and failures of r's upstream. */
static void
count_event(struct resolver *r, const char *msg)
{
	atomic_uint_fast64_t *c;

	if (r == NULL || r->st == NULL || r->index < 0 ||
	    r->index >= STATS_UPSTREAMS)
		return;
	if (strstr(msg, ": Conn opened: TLS") != NULL)
		c = r->st->up_tls_handshakes;
	else if (strstr(msg, ": Verify failed") != NULL)
		c = r->st->up_tls_failures;
	else if (strstr(msg, ": Conn failed") != NULL)
		c = r->st->up_conn_failures;
	else
		return;
	stats_inc(&c[r->index]);
}

/* A TLS connection of r answered without a certificate check: getdns
 * 1.6 checks none on a resumed session (stub.c, tls_do_handshake). */
static void
count_resumed(struct resolver *r)
{
	if (r->plain || r->st == NULL || r->index < 0 ||
	    r->index >= STATS_UPSTREAMS)
		return;
	stats_inc(&r->st->up_tls_resumptions[r->index]);
}

/* s contains the lower-case word w, in any case. */
static bool
has_word(const char *s, const char *w)
{
	size_t n = strlen(w);

	for (; *s != '\0'; s++) {
		size_t i;

		for (i = 0; i < n && s[i] != '\0' &&
		    tolower((unsigned char)s[i]) == w[i]; i++)
			;
		if (i == n)
			return true;
	}
	return false;
}

bool
resolver_verify_reason(const char *line, bool pinned, char *out,
    size_t outlen)
{
	const char *p, *end, *what;
	char text[160];
	long num = -1;
	size_t n;

	if (strstr(line, ": Verify fail: ") != NULL) {
		/* Strict TLS with neither a name nor a pin to check. */
		snprintf(out, outlen, "TLS authentication failed (no "
		    "tls_auth_name or pin to check)");
		return true;
	}
	if ((p = strstr(line, ": Verify failed : ")) == NULL)
		return false;
	/* "TLS - *Failure* - (62) \"hostname mismatch\"" (OpenSSL's code
	 * and text), or "TLS - *Failure* -  Pinset validation failure" and
	 * "... Remote did not offer certificate" (getdns's own). */
	if ((end = strstr(p, "*Failure*")) != NULL)
		p = end + strlen("*Failure*");
	else
		p += strlen(": Verify failed : ");
	while (*p == ' ' || *p == '-')
		p++;
	if (*p == '(') {
		char *e;

		num = strtol(p + 1, &e, 10);
		p = e;
		while (*p == ')' || *p == ' ' || *p == '"')
			p++;
	}
	snprintf(text, sizeof(text), "%s", p);
	n = strlen(text);
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' ' ||
	    text[n - 1] == '"'))
		text[--n] = '\0';
	if (num == 62 || has_word(text, "hostname mismatch"))
		what = "hostname mismatch";
	else if (num == 65 || has_word(text, "pinset"))
		what = "pin mismatch";
	else if (has_word(text, "did not offer certificate"))
		what = "no certificate";
	/* No chain to a trusted certificate: unable to get issuer
	 * certificate (2), self-signed certificate (18) or one in the
	 * chain (19), unable to get local issuer certificate (20), unable
	 * to verify the first certificate (21), certificate not trusted
	 * (27).  With a pinset, getdns 1.6.0 checks the pins alone (OpenSSL
	 * DANE), so these say that no pinned key is in the chain. */
	else if (num == 2 || num == 18 || num == 19 || num == 20 ||
	    num == 21 || num == 27)
		what = pinned ? "pin mismatch" : "untrusted CA";
	else
		what = n > 0 ? text : "certificate rejected";
	snprintf(out, outlen, "TLS authentication failed (%s)", what);
	return true;
}

static void
set_failure(struct resolver *r, const char *why)
{
	snprintf(r->failure, sizeof(r->failure), "%s", why);
	r->failure_seq++;
}

/* A connection failed without a certificate check that failed: how far
 * it came says why. */
static const char *
conn_failure(const struct resolver *r)
{
	bool slow = ms_since(&r->opened) >= HS_TIMED_OUT_MS;

	if (r->conn_fail[0] != '\0')
		return r->conn_fail;
	switch (r->phase) {
	case CONN_CONNECTING:
		return slow ? "timed out connecting" : "could not connect";
	case CONN_TCP:
		return slow ? "timed out in the TLS handshake" :
		    "TLS handshake failed";
	case CONN_READY:
		return "connection lost";
	case CONN_NONE:
	default:
		return "could not connect";
	}
}

bool
resolver_ready(const struct resolver *r)
{
	return r->plain || r->phase == CONN_READY;
}

const char *
resolver_timeout_reason(const struct resolver *r)
{
	switch (r->phase) {
	case CONN_CONNECTING:
		return "timed out connecting";
	case CONN_TCP:
		return "timed out in the TLS handshake";
	case CONN_READY:
	case CONN_NONE:
	default:
		return "timed out (no answer)";
	}
}

/* getdns's connection log, for the failure of r's upstream in plain
 * words: "Conn opened", "Verify passed", "Verify failed" (see
 * resolver_verify_reason) and "Conn closed: TLS - *Failure*" (every
 * failed connection, with no reason: conn_failure). */
static void
note_event(struct resolver *r, const char *msg)
{
	char why[sizeof(r->failure)];

	if (r == NULL)
		return;
	if (strstr(msg, ": Conn opened: ") != NULL) {
		r->phase = CONN_CONNECTING;
		r->conn_failed = false;
		r->conn_fail[0] = '\0';
		clock_gettime(CLOCK_MONOTONIC, &r->opened);
	} else if (strstr(msg, ": Verify passed") != NULL)
		r->phase = CONN_READY;
	else if (resolver_verify_reason(msg, r->pinned, why, sizeof(why))) {
		set_failure(r, why);
		r->conn_failed = true;
	} else if (strstr(msg, ": Conn closed: ") != NULL) {
		/* Logged once per query waiting on a failed connection:
		 * the first says it. */
		if (strstr(msg, "*Failure*") != NULL && !r->conn_failed) {
			set_failure(r, conn_failure(r));
			r->conn_failed = true;
		}
		r->phase = CONN_NONE;
	}
}

/* Decode base64 text into out; returns the length or -1. */
static int
b64_decode(const char *text, uint8_t *out, size_t outlen)
{
	size_t len = strlen(text), pad = 0;
	int n;

	if (len == 0 || len % 4 != 0 || len / 4 * 3 > outlen)
		return -1;
	n = EVP_DecodeBlock(out, (const unsigned char *)text, (int)len);
	if (n < 0)
		return -1;
	if (text[len - 1] == '=')
		pad++;
	if (text[len - 2] == '=')
		pad++;
	return n - (int)pad;
}

/* The upstreams of the default route (zone NULL) or of a forward zone,
 * all of them or only the one at index only; a plain zone's are set with
 * "port", without TLS settings. */
static int
set_upstreams(struct resolver *r, const struct ds_config *cfg,
    const struct ds_fwd_zone *zone, int only)
{
	const struct ds_upstream *ups = zone ? zone->upstreams : cfg->upstreams;
	size_t nups = zone ? zone->nupstreams : cfg->nupstreams;
	bool plain = zone != NULL && zone->transport == DS_FWD_PLAIN;
	getdns_list *list = NULL, *pins = NULL;
	getdns_dict *d = NULL, *pin = NULL;
	getdns_return_t ret;
	size_t i, j, off = 0;
	int rc = -1;

	r->upstreams[0] = '\0';
	if ((list = getdns_list_create()) == NULL)
		goto fail;
	if (only >= 0) {
		ups += only;
		nups = 1;
	}
	for (i = 0; i < nups; i++) {
		const struct ds_upstream *u = &ups[i];
		getdns_bindata addr, type;
		const struct sockaddr_storage *ss = &u->addr;

		if ((d = getdns_dict_create()) == NULL)
			goto fail;
		if (ss->ss_family == AF_INET6) {
			const struct sockaddr_in6 *s6 = (const void *)ss;
			type.data = (uint8_t *)"IPv6";
			addr.data = (uint8_t *)s6->sin6_addr.s6_addr;
			addr.size = 16;
		} else {
			const struct sockaddr_in *s4 = (const void *)ss;
			type.data = (uint8_t *)"IPv4";
			addr.data = (uint8_t *)&s4->sin_addr.s_addr;
			addr.size = 4;
		}
		type.size = 4;
		ret = getdns_dict_set_bindata(d, "address_type", &type);
		if (!ret)
			ret = getdns_dict_set_bindata(d, "address_data",
			    &addr);
		if (!ret)
			ret = getdns_dict_set_int(d, plain ? "port" :
			    "tls_port", u->port);
		if (!ret && u->auth_name)
			ret = getdns_dict_util_set_string(d, "tls_auth_name",
			    u->auth_name);
		if (ret)
			goto getdns_fail;
		if (u->npins > 0) {
			if ((pins = getdns_list_create()) == NULL)
				goto fail;
			for (j = 0; j < u->npins; j++) {
				uint8_t raw[48];
				getdns_bindata v;
				int n = b64_decode(u->pins[j].value, raw,
				    sizeof(raw));

				if (n != 32) {
					ds_err("upstream %s: pin '%s' is not "
					    "a base64 SHA-256 digest",
					    u->address, u->pins[j].value);
					goto fail;
				}
				v.data = raw;
				v.size = 32;
				if ((pin = getdns_dict_create()) == NULL)
					goto fail;
				ret = getdns_dict_util_set_string(pin,
				    "digest", "sha256");
				if (!ret)
					ret = getdns_dict_set_bindata(pin,
					    "value", &v);
				if (!ret)
					ret = getdns_list_set_dict(pins, j,
					    pin);
				getdns_dict_destroy(pin);
				pin = NULL;
				if (ret)
					goto getdns_fail;
			}
			ret = getdns_dict_set_list(d, "tls_pubkey_pinset",
			    pins);
			getdns_list_destroy(pins);
			pins = NULL;
			if (ret)
				goto getdns_fail;
		}
		if ((ret = getdns_list_set_dict(list, i, d)) != 0)
			goto getdns_fail;
		getdns_dict_destroy(d);
		d = NULL;
		if (off < sizeof(r->upstreams))
			off += (size_t)snprintf(r->upstreams + off,
			    sizeof(r->upstreams) - off, "%s%s@%u%s%s%s",
			    i ? ", " : "", u->address, u->port,
			    u->auth_name ? "#" : "",
			    u->auth_name ? u->auth_name : "",
			    plain ? " (plain)" : "");
	}
	ret = getdns_context_set_upstream_recursive_servers(r->ctx, list);
	if (ret)
		goto getdns_fail;
	rc = 0;
	goto fail;
getdns_fail:
	ds_err("getdns: cannot set upstreams: %s",
	    getdns_get_errorstr_by_id(ret));
fail:
	getdns_dict_destroy(pin);
	getdns_list_destroy(pins);
	getdns_dict_destroy(d);
	getdns_list_destroy(list);
	return rc;
}

#define GD_CHECK(call) do {						\
	getdns_return_t ret_ = (call);					\
	if (ret_ != GETDNS_RETURN_GOOD) {				\
		ds_err("getdns: %s: %s", #call,				\
		    getdns_get_errorstr_by_id(ret_));			\
		goto fail;						\
	}								\
} while (0)

struct resolver *
resolver_create(struct event_base *base, const struct ds_config *cfg,
    const struct ds_fwd_zone *zone, int only)
{
	static getdns_transport_list_t tls_only[] = { GETDNS_TRANSPORT_TLS };
	static getdns_transport_list_t udp_tcp[] = {
		GETDNS_TRANSPORT_UDP, GETDNS_TRANSPORT_TCP
	};
	bool plain = zone != NULL && zone->transport == DS_FWD_PLAIN;
	const char *ca_file = zone != NULL && zone->tls_ca_file != NULL ?
	    zone->tls_ca_file : cfg->tls_ca_file;
	struct resolver *r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		ds_err("resolver: out of memory");
		return NULL;
	}
	/* 0: do not read /etc/resolv.conf or /etc/hosts. */
	GD_CHECK(getdns_context_create(&r->ctx, 0));
	if ((r->evloop = calloc(1, sizeof(*r->evloop))) == NULL)
		goto fail;
	r->evloop->loop.vmt = &evloop_vmt;
	r->evloop->base = base;
	r->evloop->r = r;
	if (getdns_context_set_eventloop(r->ctx, &r->evloop->loop) !=
	    GETDNS_RETURN_GOOD) {
		free(r->evloop);
		r->evloop = NULL;
		ds_err("getdns: cannot install the event loop");
		goto fail;
	}
	r->cfg = cfg;
	r->plain = plain;
	r->index = only;
	{
		const struct ds_upstream *ups = zone ? zone->upstreams :
		    cfg->upstreams;
		size_t i, nups = zone ? zone->nupstreams : cfg->nupstreams;

		/* One upstream per context in dotsecd: its pinset. */
		for (i = 0; i < nups; i++)
			if ((only < 0 || (size_t)only == i) &&
			    ups[i].npins > 0)
				r->pinned = true;
	}
	/* Connection events (debug level in getdns) feed the per-upstream
	 * counters; per-query stub messages only when debugging. */
	GD_CHECK(getdns_context_set_logfunc(r->ctx, r,
	    GETDNS_LOG_UPSTREAM_STATS | (ds_log_get_level() >= DS_LOG_DEBUG ?
	    GETDNS_LOG_SYS_STUB : 0), GETDNS_LOG_DEBUG, getdns_logged));
	GD_CHECK(getdns_context_set_resolution_type(r->ctx,
	    GETDNS_RESOLUTION_STUB));
	/* A plain zone: the operator's explicit choice, for that zone's
	 * names alone (route.h); every other context is TLS alone, with
	 * authentication required. */
	if (plain)
		GD_CHECK(getdns_context_set_dns_transport_list(r->ctx, 2,
		    udp_tcp));
	else {
		GD_CHECK(getdns_context_set_dns_transport_list(r->ctx, 1,
		    tls_only));
		GD_CHECK(getdns_context_set_tls_authentication(r->ctx,
		    GETDNS_AUTHENTICATION_REQUIRED));
	}
	GD_CHECK(getdns_context_set_trust_anchors_verify_CA(r->ctx, ""));
	GD_CHECK(getdns_context_set_append_name(r->ctx,
	    GETDNS_APPEND_NAME_NEVER));
	GD_CHECK(getdns_context_set_idle_timeout(r->ctx,
	    cfg->idle_timeout_ms));
	GD_CHECK(getdns_context_set_timeout(r->ctx, cfg->timeout_ms));
	GD_CHECK(getdns_context_set_tls_backoff_time(r->ctx,
	    (uint16_t)cfg->tls_backoff_time));
	GD_CHECK(getdns_context_set_tls_connection_retries(r->ctx,
	    (uint16_t)cfg->tls_connection_retries));
	GD_CHECK(getdns_context_set_limit_outstanding_queries(r->ctx,
	    (uint16_t)cfg->limit_outstanding_queries));
	GD_CHECK(getdns_context_set_round_robin_upstreams(r->ctx,
	    cfg->round_robin ? 1 : 0));
	GD_CHECK(getdns_context_set_tls_query_padding_blocksize(r->ctx,
	    (uint16_t)cfg->padding_blocksize));
	if (ca_file)
		GD_CHECK(getdns_context_set_tls_ca_file(r->ctx, ca_file));
	if (cfg->tls_ca_path)
		GD_CHECK(getdns_context_set_tls_ca_path(r->ctx,
		    cfg->tls_ca_path));
	if (cfg->tls_min_version)
		GD_CHECK(getdns_context_set_tls_min_version(r->ctx,
		    strcmp(cfg->tls_min_version, "GETDNS_TLS1_3") == 0 ?
		    GETDNS_TLS1_3 : GETDNS_TLS1_2));
	if (cfg->tls_max_version)
		GD_CHECK(getdns_context_set_tls_max_version(r->ctx,
		    strcmp(cfg->tls_max_version, "GETDNS_TLS1_3") == 0 ?
		    GETDNS_TLS1_3 : GETDNS_TLS1_2));
	if (set_upstreams(r, cfg, zone, only) != 0)
		goto fail;
	/* Every query asks for DNSSEC data (DO) and for the data even when
	 * the upstream thinks it bogus (CD): dotsecd validates itself. */
	GD_CHECK(getdns_str2dict(
	    "{ add_opt_parameters: { do_bit: 1 }, header: { cd: 1 } }",
	    &r->ext));
	return r;
fail:
	resolver_delete(r);
	return NULL;
}

void
resolver_delete(struct resolver *r)
{
	if (r == NULL)
		return;
	/* Destroying the context cancels its queries, whose callbacks then
	 * free their rquery; it also calls evloop_cleanup. */
	if (r->ctx)
		getdns_context_destroy(r->ctx);
	getdns_dict_destroy(r->ext);
	free(r);
}

static void
resolver_done(getdns_context *ctx, getdns_callback_type_t type,
    getdns_dict *resp, void *arg, getdns_transaction_t id)
{
	struct rquery *rq = arg;
	getdns_list *replies = NULL;
	getdns_bindata *raw = NULL;
	uint32_t status = 0;
	char why[sizeof(((struct resolver *)0)->failure)];

	(void)ctx;
	(void)id;
	if (type == GETDNS_CALLBACK_CANCEL) {
		getdns_dict_destroy(resp);
		free(rq);
		return;
	}
	if (type == GETDNS_CALLBACK_COMPLETE && resp != NULL &&
	    getdns_dict_get_list(resp, "replies_full", &replies) == 0 &&
	    getdns_list_get_bindata(replies, 0, &raw) == 0 &&
	    raw != NULL && raw->size > 0) {
		/* A resumed TLS session is not verified again: a reply
		 * before any "Verify" line came over a resumed one. */
		if (rq->r->phase == CONN_TCP) {
			rq->r->phase = CONN_READY;
			count_resumed(rq->r);
		}
		rq->cb(rq->arg, 0, raw->data, raw->size, NULL);
		goto done;
	}
	if (resp != NULL)
		(void)getdns_dict_get_int(resp, "status", &status);
	switch (type) {
	case GETDNS_CALLBACK_TIMEOUT:
		set_failure(rq->r, resolver_timeout_reason(rq->r));
		break;
	case GETDNS_CALLBACK_ERROR:
		/* The connection's failure, logged just before; none since
		 * the query was sent: getdns could not even connect. */
		if (rq->r->failure_seq == rq->failure_seq ||
		    rq->r->failure[0] == '\0')
			set_failure(rq->r, "could not connect");
		break;
	default:
		snprintf(why, sizeof(why), "no reply (getdns status %u)",
		    (unsigned)status);
		set_failure(rq->r, why);
		break;
	}
	snprintf(why, sizeof(why), "%s", rq->r->failure);
	snprintf(rq->r->last_error, sizeof(rq->r->last_error), "%s", why);
	rq->cb(rq->arg, -1, NULL, 0, why);
done:
	getdns_dict_destroy(resp);
	free(rq);
}

int
resolver_query(struct resolver *r, const char *name, uint16_t qtype,
    resolver_done_fn cb, void *arg, uint64_t *id)
{
	struct rquery *rq;
	getdns_transaction_t tid = 0;
	getdns_return_t ret;

	if ((rq = malloc(sizeof(*rq))) == NULL) {
		ds_err("resolver: out of memory");
		return -1;
	}
	rq->r = r;
	rq->cb = cb;
	rq->arg = arg;
	rq->failure_seq = r->failure_seq;
	ret = getdns_general(r->ctx, name, qtype, r->ext, rq, &tid,
	    resolver_done);
	if (ret != GETDNS_RETURN_GOOD) {
		/* getdns refuses at once while its upstream is backed off
		 * after failures: the last one is the reason. */
		snprintf(r->last_error, sizeof(r->last_error), "%s",
		    r->failure[0] != '\0' ? r->failure :
		    "backed off after failures");
		ds_info("getdns: query %s/%u to %s: %s (%s)", name, qtype,
		    r->upstreams, getdns_get_errorstr_by_id(ret),
		    r->last_error);
		free(rq);
		return -1;
	}
	if (id)
		*id = tid;
	return 0;
}

void
resolver_cancel(struct resolver *r, uint64_t id)
{
	(void)getdns_cancel_callback(r->ctx, id);
}

struct getdns_context *
resolver_context(struct resolver *r)
{
	return r->ctx;
}

void
resolver_set_stats(struct resolver *r, struct stats *st)
{
	r->st = st;
}

const char *
resolver_last_error(const struct resolver *r)
{
	return r->last_error[0] ? r->last_error : NULL;
}

const char *
resolver_upstreams_str(const struct resolver *r)
{
	return r->upstreams;
}
