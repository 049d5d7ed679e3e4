/*
 * http.c -- GET /metrics and GET /healthz with libevent's evhttp.
 *
 * The endpoint is small on purpose: two read-only resources, short
 * requests, a timeout, and nothing that a slow client can make big.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "http.h"
#include "listener.h"
#include "log.h"
#include "stats.h"

/* A request is a line and a few headers; it has no body. */
#define HTTP_MAX_HEADERS	8192
#define HTTP_MAX_BODY		1024
#define HTTP_TIMEOUT_SECS	10
#define HTTP_BACKLOG		16
/* The first guess for /metrics; it is some 5 KB. */
#define HTTP_METRICS_GUESS	8192
#define HTTP_REASON_MAX		512

struct http_srv {
	struct evhttp *http;
	int fd;
	unsigned port;
	unsigned health_max_age;
	http_snapshot_fn snap;
	void *arg;
};

static int http_parse_addr(const char *, struct sockaddr_storage *,
    socklen_t *);
static int http_listen(const char *, const struct sockaddr_storage *,
    socklen_t, unsigned *);
static void http_request(struct evhttp_request *, void *);
static void http_reply(struct evhttp_request *, int, const char *,
    const char *, const char *, size_t);
static void http_metrics(struct http_srv *, struct evhttp_request *);
static void http_health(struct http_srv *, struct evhttp_request *);
static void http_snapshot(struct http_srv *, struct stats *const **,
    size_t *, struct stats_anchor *, const char **);
static void reason_add(char *, size_t, const char *);
static void json_escape(const char *, char *, size_t);

/*
 * "ADDR@PORT", "ADDR#PORT" or "[ADDR]@PORT", numeric only (no lookups for
 * a listening address).  Returns 0, or -1 when spec is not such a text.
 */
static int
http_parse_addr(const char *spec, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	char host[INET6_ADDRSTRLEN];
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	const char *h = spec, *sep, *p;
	size_t hlen;
	unsigned long port = 0;

	/* Neither '@' nor '#' occurs in a numeric address, so the first
	 * one is the separator, IPv6 included. */
	sep = spec + strcspn(spec, "@#");
	if (*sep == '\0' || sep[1] == '\0')
		return -1;
	hlen = (size_t)(sep - spec);
	if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	for (p = sep + 1; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		port = port * 10 + (unsigned long)(*p - '0');
		if (port > 65535)
			return -1;
	}

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*sin6);
		return 0;
	}
	return -1;
}

/* A listening TCP socket on ss, its port in *port.  Returns the socket, or
 * -1 after logging. */
static int
http_listen(const char *spec, const struct sockaddr_storage *ss,
    socklen_t sslen, unsigned *port)
{
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	int fd, one = 1;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0) {
		ds_err("metrics endpoint %s: socket: %s", spec,
		    strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) != 0) {
		ds_err("metrics endpoint %s: SO_REUSEADDR: %s", spec,
		    strerror(errno));
		goto fail;
	}
	/* "[::]@PORT" means IPv6 only, as for the DNS listeners. */
	if (ss->ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one)) != 0) {
		ds_err("metrics endpoint %s: IPV6_V6ONLY: %s", spec,
		    strerror(errno));
		goto fail;
	}
	if (bind(fd, (const struct sockaddr *)ss, sslen) != 0) {
		ds_err("metrics endpoint: cannot bind %s: %s", spec,
		    strerror(errno));
		goto fail;
	}
	if (listen(fd, HTTP_BACKLOG) != 0) {
		ds_err("metrics endpoint %s: listen: %s", spec,
		    strerror(errno));
		goto fail;
	}
	if (getsockname(fd, (struct sockaddr *)&bound, &blen) != 0) {
		ds_err("metrics endpoint %s: getsockname: %s", spec,
		    strerror(errno));
		goto fail;
	}
	*port = bound.ss_family == AF_INET6 ?
	    ntohs(((struct sockaddr_in6 *)&bound)->sin6_port) :
	    ntohs(((struct sockaddr_in *)&bound)->sin_port);
	return fd;
fail:
	close(fd);
	return -1;
}

struct http_srv *
http_create(struct event_base *base, const char *addr_spec,
    unsigned health_max_age, http_snapshot_fn snap, void *arg)
{
	struct http_srv *srv;
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct evconnlistener *lev;
	char name[INET6_ADDRSTRLEN + 8];

	if (addr_spec == NULL || http_parse_addr(addr_spec, &ss,
	    &sslen) != 0) {
		ds_err("metrics endpoint: '%s' is not a numeric address with "
		    "@PORT", addr_spec != NULL ? addr_spec : "(null)");
		return NULL;
	}
	if ((srv = calloc(1, sizeof(*srv))) == NULL) {
		ds_err("metrics endpoint %s: out of memory", addr_spec);
		return NULL;
	}
	srv->fd = -1;
	srv->health_max_age = health_max_age;
	srv->snap = snap;
	srv->arg = arg;
	if ((srv->http = evhttp_new(base)) == NULL) {
		ds_err("metrics endpoint %s: evhttp_new failed", addr_spec);
		goto fail;
	}
	evhttp_set_max_headers_size(srv->http, HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(srv->http, HTTP_MAX_BODY);
	evhttp_set_timeout(srv->http, HTTP_TIMEOUT_SECS);
	/* Let every method through to http_request(), which answers 405
	 * where evhttp would answer 501. */
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
	    EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	/* Runs on base's loop for each complete request; the request is
	 * evhttp's, answered before the callback returns. */
	evhttp_set_gencb(srv->http, http_request, srv);

	if ((srv->fd = http_listen(addr_spec, &ss, sslen, &srv->port)) < 0)
		goto fail;
	/* Without LEV_OPT_CLOSE_ON_FREE: the socket is ours to close, on
	 * every path.  Backlog 0: listen() is done. */
	lev = evconnlistener_new(base, NULL, NULL, 0, 0, srv->fd);
	if (lev == NULL) {
		ds_err("metrics endpoint %s: evconnlistener_new failed",
		    addr_spec);
		goto fail;
	}
	if (evhttp_bind_listener(srv->http, lev) == NULL) {
		ds_err("metrics endpoint %s: evhttp_bind_listener failed",
		    addr_spec);
		evconnlistener_free(lev);
		goto fail;
	}
	if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port =
		    htons((uint16_t)srv->port);
	else
		((struct sockaddr_in *)&ss)->sin_port =
		    htons((uint16_t)srv->port);
	ds_info("metrics endpoint on %s (/metrics, /healthz)",
	    listener_addr_str((struct sockaddr *)&ss, name, sizeof(name)));
	return srv;
fail:
	http_delete(srv);
	return NULL;
}

void
http_delete(struct http_srv *srv)
{
	if (srv == NULL)
		return;
	/* Frees the bound listener and every connection. */
	if (srv->http != NULL)
		evhttp_free(srv->http);
	if (srv->fd >= 0)
		close(srv->fd);
	free(srv);
}

unsigned
http_port(const struct http_srv *srv)
{
	return srv->port;
}

static void
http_request(struct evhttp_request *req, void *arg)
{
	struct http_srv *srv = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	static const char not_allowed[] = "method not allowed\n";
	static const char not_found[] = "not found\n";

	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		if (evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD") != 0) {
			evhttp_send_error(req, HTTP_INTERNAL, NULL);
			return;
		}
		http_reply(req, 405, "Method Not Allowed", "text/plain",
		    not_allowed, sizeof(not_allowed) - 1);
	} else if (path != NULL && strcmp(path, "/metrics") == 0) {
		http_metrics(srv, req);
	} else if (path != NULL && strcmp(path, "/healthz") == 0) {
		http_health(srv, req);
	} else {
		http_reply(req, HTTP_NOTFOUND, "Not Found", "text/plain",
		    not_found, sizeof(not_found) - 1);
	}
}

/* Send code with body[0..len) of type; on any failure, a bare 500. */
static void
http_reply(struct evhttp_request *req, int code, const char *reason,
    const char *type, const char *body, size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *buf;
	char clen[24];

	if (evhttp_add_header(h, "Content-Type", type) != 0 ||
	    evhttp_add_header(h, "Cache-Control", "no-store") != 0) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	/* evhttp 2.1 would send a HEAD reply's body, and no length. */
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		(void)snprintf(clen, sizeof(clen), "%zu", len);
		if (evhttp_add_header(h, "Content-Length", clen) != 0)
			evhttp_send_error(req, HTTP_INTERNAL, NULL);
		else
			evhttp_send_reply(req, code, reason, NULL);
		return;
	}
	if ((buf = evbuffer_new()) == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	if (evbuffer_add(buf, body, len) != 0) {
		evbuffer_free(buf);
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evhttp_send_reply(req, code, reason, buf);
	evbuffer_free(buf);
}

static void
http_snapshot(struct http_srv *srv, struct stats *const **s, size_t *n,
    struct stats_anchor *anchor, const char **why)
{
	*s = NULL;
	*n = 0;
	memset(anchor, 0, sizeof(*anchor));
	anchor->last_probe_ok = -1;
	*why = NULL;
	srv->snap(srv->arg, s, n, anchor, why);
	if (*s == NULL)
		*n = 0;
}

static void
http_metrics(struct http_srv *srv, struct evhttp_request *req)
{
	struct stats *const *s;
	struct stats_anchor anchor;
	const char *why;
	size_t n, len = HTTP_METRICS_GUESS, need;
	char *buf, *nbuf;
	int tries;

	http_snapshot(srv, &s, &n, &anchor, &why);
	if ((buf = malloc(len)) == NULL)
		goto oom;
	/* The workers keep counting, so a second render may need a few
	 * bytes more than the first said; hence the slack and the loop. */
	for (tries = 0; ; tries++) {
		need = stats_render(s, n, &anchor, buf, len);
		if (need < len)
			break;
		if (tries == 3) {
			free(buf);
			goto oom;
		}
		len = need + 256;
		if ((nbuf = realloc(buf, len)) == NULL) {
			free(buf);
			goto oom;
		}
		buf = nbuf;
	}
	http_reply(req, HTTP_OK, "OK", "text/plain; version=0.0.4; "
	    "charset=utf-8", buf, need);
	free(buf);
	return;
oom:
	ds_err("metrics endpoint: out of memory for /metrics");
	evhttp_send_error(req, HTTP_INTERNAL, NULL);
}

/* Append "; text" (or text, first) to the reason in buf. */
static void
reason_add(char *buf, size_t len, const char *text)
{
	size_t off = strlen(buf);

	if (off + 1 >= len)
		return;
	(void)snprintf(buf + off, len - off, "%s%s", off > 0 ? "; " : "",
	    text);
}

/* text as the inside of a JSON string, cut to fit out. */
static void
json_escape(const char *text, char *out, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	const unsigned char *p;

	for (p = (const unsigned char *)text; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			if (o + 2 >= len)
				break;
			out[o++] = '\\';
			out[o++] = (char)*p;
		} else if (*p < 0x20 || *p == 0x7f) {
			if (o + 6 >= len)
				break;
			memcpy(out + o, "\\u00", 4);
			out[o + 4] = hex[*p >> 4];
			out[o + 5] = hex[*p & 0xf];
			o += 6;
		} else {
			if (o + 1 >= len)
				break;
			out[o++] = (char)*p;
		}
	}
	out[o] = '\0';
}

static void
http_health(struct http_srv *srv, struct evhttp_request *req)
{
	struct stats *const *s;
	struct stats_anchor anchor;
	const char *why;
	char reason[HTTP_REASON_MAX], part[128], when[32];
	char esc[HTTP_REASON_MAX * 2], body[HTTP_REASON_MAX * 2 + 64];
	static const char ok[] = "{\"status\":\"ok\"}\n";
	time_t now = time(NULL);
	int64_t newest = 0, last;
	struct tm tm;
	size_t i, n;
	int blen;

	http_snapshot(srv, &s, &n, &anchor, &why);
	reason[0] = '\0';
	for (i = 0; i < n; i++) {
		if (s[i] == NULL)
			continue;
		last = atomic_load_explicit(&s[i]->upstream_last_ok,
		    memory_order_relaxed);
		if (last > newest)
			newest = last;
	}
	/* A clock stepped back makes a reply look younger, not stale. */
	if (newest <= 0 ||
	    (int64_t)now - newest > (int64_t)srv->health_max_age) {
		(void)snprintf(part, sizeof(part),
		    "no upstream answer in %u s", srv->health_max_age);
		reason_add(reason, sizeof(reason), part);
	}
	if (anchor.last_probe_ok == 0) {
		if (anchor.last_success != 0 &&
		    gmtime_r(&anchor.last_success, &tm) != NULL &&
		    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ",
		    &tm) != 0)
			(void)snprintf(part, sizeof(part), "anchor probe "
			    "failing since the last success at %s", when);
		else
			(void)snprintf(part, sizeof(part), "anchor probe "
			    "failing, never validated");
		reason_add(reason, sizeof(reason), part);
	}
	if (why != NULL)
		reason_add(reason, sizeof(reason), why);

	if (reason[0] == '\0') {
		http_reply(req, HTTP_OK, "OK", "application/json", ok,
		    sizeof(ok) - 1);
		return;
	}
	json_escape(reason, esc, sizeof(esc));
	blen = snprintf(body, sizeof(body),
	    "{\"status\":\"fail\",\"reason\":\"%s\"}\n", esc);
	if (blen < 0 || (size_t)blen >= sizeof(body)) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	http_reply(req, 503, "Service Unavailable", "application/json", body,
	    (size_t)blen);
}
