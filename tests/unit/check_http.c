/*
 * check_http.c -- the metrics and health endpoint on a loopback port: the
 * test runs the loop and fetches with a plain socket client.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "http.h"
#include "stats.h"
#include "suites.h"

#define MAX_AGE		30
#define RESP_MAX	65536

/* A fixture: one loop, one endpoint, two workers' stats and what the
 * snapshot hands out. */
struct fx {
	struct event_base *base;
	struct http_srv *srv;
	struct stats w[2];
	struct stats *p[2];
	struct stats_anchor anchor;
	const char *why;
	int nsnap;
};

/* What one fetch read back. */
struct resp {
	char text[RESP_MAX];
	size_t len;
	int fd;
	int done;
	int status;
	const char *body;
	struct event_base *base;
};

static void
snap(void *arg, struct stats *const **s, size_t *n, struct stats_anchor *a,
    const char **why)
{
	struct fx *f = arg;

	f->nsnap++;
	*s = f->p;
	*n = 2;
	*a = f->anchor;
	*why = f->why;
}

static void
fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	f->p[0] = &f->w[0];
	f->p[1] = &f->w[1];
	f->anchor.nkeys = 1;
	f->anchor.last_probe_ok = 1;
	f->anchor.last_success = time(NULL);
	atomic_store(&f->w[1].upstream_last_ok, (int64_t)time(NULL));
	f->base = event_base_new();
	ck_assert_ptr_nonnull(f->base);
	f->srv = http_create(f->base, "127.0.0.1@0", MAX_AGE, snap, f);
	ck_assert_ptr_nonnull(f->srv);
	ck_assert_uint_gt(http_port(f->srv), 0);
}

static void
fx_free(struct fx *f)
{
	http_delete(f->srv);
	event_base_free(f->base);
}

static void
client_read(evutil_socket_t fd, short what, void *arg)
{
	struct resp *r = arg;
	ssize_t n;

	(void)what;
	n = recv(fd, r->text + r->len, sizeof(r->text) - 1 - r->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		r->len += (size_t)n;
	if (n <= 0 || r->len == sizeof(r->text) - 1) {
		r->done = 1;
		event_base_loopbreak(r->base);
	}
}

static void
client_timo(evutil_socket_t fd, short what, void *arg)
{
	struct resp *r = arg;

	(void)fd;
	(void)what;
	event_base_loopbreak(r->base);
}

/* Send req to the endpoint, run the loop until the server closes, and
 * parse the status line.  The server is on this thread's loop, so the
 * client reads through the same loop. */
static void
fetch(struct fx *f, const char *req, struct resp *r)
{
	struct sockaddr_in sin;
	struct timeval tv = { 5, 0 };
	struct event *rd, *timo;
	size_t off = 0, len = strlen(req);
	ssize_t n;
	char *hdr_end;

	memset(r, 0, sizeof(*r));
	r->base = f->base;
	r->status = -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)http_port(f->srv));
	r->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(r->fd, 0);
	/* The kernel completes the handshake from the listen queue. */
	ck_assert_int_eq(connect(r->fd, (struct sockaddr *)&sin,
	    sizeof(sin)), 0);
	while (off < len) {
		n = send(r->fd, req + off, len - off, MSG_NOSIGNAL);
		ck_assert_int_gt(n, 0);
		off += (size_t)n;
	}
	ck_assert_int_eq(fcntl(r->fd, F_SETFL, O_NONBLOCK), 0);
	rd = event_new(f->base, r->fd, EV_READ | EV_PERSIST, client_read, r);
	timo = evtimer_new(f->base, client_timo, r);
	ck_assert_ptr_nonnull(rd);
	ck_assert_ptr_nonnull(timo);
	ck_assert_int_eq(event_add(rd, NULL), 0);
	ck_assert_int_eq(evtimer_add(timo, &tv), 0);
	ck_assert_int_ge(event_base_dispatch(f->base), 0);
	event_free(rd);
	event_free(timo);
	close(r->fd);
	ck_assert_msg(r->done, "http: no reply to '%s' in 5 s", req);
	r->text[r->len] = '\0';
	if (r->len > 0)
		ck_assert_int_eq(sscanf(r->text, "HTTP/1.%*d %d", &r->status),
		    1);
	hdr_end = strstr(r->text, "\r\n\r\n");
	r->body = hdr_end != NULL ? hdr_end + 4 : r->text + r->len;
}

static void
get(struct fx *f, const char *path, struct resp *r)
{
	char req[256];

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\n\r\n", path);
	fetch(f, req, r);
}

START_TEST(test_metrics)
{
	struct fx f;
	struct resp *r = malloc(sizeof(*r));

	ck_assert_ptr_nonnull(r);
	fx_init(&f);
	atomic_store(&f.w[0].queries[STATS_UDP], 5);
	atomic_store(&f.w[1].queries[STATS_UDP], 7);
	atomic_store(&f.w[1].cache_hits, 42);
	get(&f, "/metrics", r);
	ck_assert_int_eq(r->status, 200);
	ck_assert_ptr_nonnull(strstr(r->text, "\r\nContent-Type: text/plain; "
	    "version=0.0.4"));
	ck_assert_ptr_nonnull(strstr(r->body,
	    "\ndotsec_queries_total{transport=\"udp\"} 12\n"));
	ck_assert_ptr_nonnull(strstr(r->body,
	    "\ndotsec_cache_hits_total 42\n"));
	ck_assert_ptr_nonnull(strstr(r->body,
	    "\ndotsec_anchor_probe_ok 1\n"));
	ck_assert_int_eq(f.nsnap, 1);
	/* A query string does not change the resource. */
	get(&f, "/metrics?name[]=x", r);
	ck_assert_int_eq(r->status, 200);
	fx_free(&f);
	free(r);
}
END_TEST

START_TEST(test_metrics_head)
{
	struct fx f;
	struct resp *r = malloc(sizeof(*r));

	ck_assert_ptr_nonnull(r);
	fx_init(&f);
	fetch(&f, "HEAD /metrics HTTP/1.0\r\n\r\n", r);
	ck_assert_int_eq(r->status, 200);
	ck_assert_ptr_nonnull(strstr(r->text, "\r\nContent-Length: "));
	ck_assert_str_eq(r->body, "");
	fetch(&f, "HEAD /healthz HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n", r);
	ck_assert_int_eq(r->status, 200);
	ck_assert_ptr_nonnull(strstr(r->text, "\r\nContent-Length: 16\r\n"));
	ck_assert_str_eq(r->body, "");
	fx_free(&f);
	free(r);
}
END_TEST

START_TEST(test_health_ok)
{
	struct fx f;
	struct resp *r = malloc(sizeof(*r));

	ck_assert_ptr_nonnull(r);
	fx_init(&f);
	get(&f, "/healthz", r);
	ck_assert_int_eq(r->status, 200);
	ck_assert_ptr_nonnull(strstr(r->text,
	    "\r\nContent-Type: application/json"));
	ck_assert_str_eq(r->body, "{\"status\":\"ok\"}\n");
	/* An anchor not probed yet is no reason to fail. */
	f.anchor.last_probe_ok = -1;
	f.anchor.last_success = 0;
	get(&f, "/healthz", r);
	ck_assert_int_eq(r->status, 200);
	/* Just within the age. */
	atomic_store(&f.w[1].upstream_last_ok,
	    (int64_t)time(NULL) - MAX_AGE + 2);
	get(&f, "/healthz", r);
	ck_assert_int_eq(r->status, 200);
	fx_free(&f);
	free(r);
}
END_TEST

START_TEST(test_health_stale)
{
	struct fx f;
	struct resp *r = malloc(sizeof(*r));

	ck_assert_ptr_nonnull(r);
	fx_init(&f);
	atomic_store(&f.w[1].upstream_last_ok, (int64_t)time(NULL) - 100);
	get(&f, "/healthz", r);
	ck_assert_int_eq(r->status, 503);
	ck_assert_str_eq(r->body, "{\"status\":\"fail\",\"reason\":"
	    "\"no upstream answer in 30 s\"}\n");
	/* Never answered at all. */
	atomic_store(&f.w[1].upstream_last_ok, 0);
	get(&f, "/healthz", r);
	ck_assert_int_eq(r->status, 503);
	ck_assert_ptr_nonnull(strstr(r->body, "no upstream answer in 30 s"));
	fx_free(&f);
	free(r);
}
END_TEST

START_TEST(test_health_anchor)
{
	struct fx f;
	struct resp *r = malloc(sizeof(*r));

	ck_assert_ptr_nonnull(r);
	fx_init(&f);
	f.anchor.last_probe_ok = 0;
	f.anchor.last_success = 86400;
	get(&f, "/healthz", r);
	ck_assert_int_eq(r->status, 503);
	ck_assert_str_eq(r->body, "{\"status\":\"fail\",\"reason\":"
	    "\"anchor probe failing since the last success at "
	    "1970-01-02T00:00:00Z\"}\n");
	f.anchor.last_success = 0;
	get(&f, "/healthz", r);
	ck_assert_int_eq(r->status, 503);
	ck_assert_ptr_nonnull(strstr(r->body,
	    "anchor probe failing, never validated"));
	/* Both at once: each reason is named. */
	atomic_store(&f.w[1].upstream_last_ok, 0);
	get(&f, "/healthz", r);
	ck_assert_int_eq(r->status, 503);
	ck_assert_ptr_nonnull(strstr(r->body, "\"no upstream answer in 30 s; "
	    "anchor probe failing, never validated\""));
	fx_free(&f);
	free(r);
}
END_TEST

START_TEST(test_health_reason)
{
	struct fx f;
	struct resp *r = malloc(sizeof(*r));

	ck_assert_ptr_nonnull(r);
	fx_init(&f);
	f.why = "shutting \"down\"\n";
	get(&f, "/healthz", r);
	ck_assert_int_eq(r->status, 503);
	ck_assert_str_eq(r->body, "{\"status\":\"fail\",\"reason\":"
	    "\"shutting \\\"down\\\"\\u000a\"}\n");
	fx_free(&f);
	free(r);
}
END_TEST

START_TEST(test_not_found_and_method)
{
	struct fx f;
	struct resp *r = malloc(sizeof(*r));

	ck_assert_ptr_nonnull(r);
	fx_init(&f);
	get(&f, "/nope", r);
	ck_assert_int_eq(r->status, 404);
	get(&f, "/metricsx", r);
	ck_assert_int_eq(r->status, 404);
	get(&f, "/", r);
	ck_assert_int_eq(r->status, 404);
	fetch(&f, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
	    "Connection: close\r\n\r\n", r);
	ck_assert_int_eq(r->status, 405);
	ck_assert_ptr_nonnull(strstr(r->text, "\r\nAllow: GET, HEAD\r\n"));
	fetch(&f, "DELETE /healthz HTTP/1.0\r\n\r\n", r);
	ck_assert_int_eq(r->status, 405);
	ck_assert_int_eq(f.nsnap, 0);
	fx_free(&f);
	free(r);
}
END_TEST

START_TEST(test_limits)
{
	struct fx f;
	struct resp *r = malloc(sizeof(*r));
	char *req;
	size_t i, len = 16384;

	ck_assert_ptr_nonnull(r);
	fx_init(&f);
	/* Headers far over the bound: refused, never served. */
	req = malloc(len + 64);
	ck_assert_ptr_nonnull(req);
	i = (size_t)snprintf(req, len + 64, "GET /metrics HTTP/1.1\r\n"
	    "X-Big: ");
	memset(req + i, 'a', len - i);
	strcpy(req + len, "\r\n\r\n");
	fetch(&f, req, r);
	ck_assert_msg(r->status == -1 || r->status >= 400,
	    "http: oversized headers answered %d", r->status);
	ck_assert_int_eq(f.nsnap, 0);
	/* A body over the bound: 413 before any handler runs. */
	fetch(&f, "POST /metrics HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 100000\r\n\r\n", r);
	ck_assert_int_eq(r->status, 413);
	free(req);
	fx_free(&f);
	free(r);
}
END_TEST

START_TEST(test_create_errors)
{
	static const char *const bad[] = {
		"127.0.0.1", "127.0.0.1@", "localhost@9153", "@9153",
		"127.0.0.1@65536", "127.0.0.1@x", "127.0.0.1@-1",
		"[::1@9153", "127.1@9153", "",
	};
	struct event_base *base = event_base_new();
	struct http_srv *a, *b;
	char spec[64];
	unsigned i;

	ck_assert_ptr_nonnull(base);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(http_create(base, bad[i], MAX_AGE, snap,
		    NULL) == NULL, "http_create: '%s' accepted", bad[i]);
	ck_assert_ptr_null(http_create(base, NULL, MAX_AGE, snap, NULL));
	/* The port is taken: NULL, after naming the address. */
	a = http_create(base, "127.0.0.1#0", MAX_AGE, snap, NULL);
	ck_assert_ptr_nonnull(a);
	snprintf(spec, sizeof(spec), "127.0.0.1@%u", http_port(a));
	b = http_create(base, spec, MAX_AGE, snap, NULL);
	ck_assert_ptr_null(b);
	http_delete(a);
	http_delete(NULL);
	event_base_free(base);
}
END_TEST

/* Whether this host has ::1 at all (some containers do not). */
static int
have_ipv6_loopback(void)
{
	struct sockaddr_in6 sin6;
	int fd, ok;

	fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_loopback;
	ok = bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0;
	close(fd);
	return ok;
}

START_TEST(test_create_ipv6)
{
	struct event_base *base;
	struct http_srv *srv;

	if (!have_ipv6_loopback())
		return;
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	srv = http_create(base, "[::1]@0", MAX_AGE, snap, NULL);
	ck_assert_ptr_nonnull(srv);
	ck_assert_uint_gt(http_port(srv), 0);
	http_delete(srv);
	srv = http_create(base, "::1@0", MAX_AGE, snap, NULL);
	ck_assert_ptr_nonnull(srv);
	http_delete(srv);
	event_base_free(base);
}
END_TEST

Suite *
http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("http");

	tcase_add_test(tc, test_metrics);
	tcase_add_test(tc, test_metrics_head);
	tcase_add_test(tc, test_health_ok);
	tcase_add_test(tc, test_health_stale);
	tcase_add_test(tc, test_health_anchor);
	tcase_add_test(tc, test_health_reason);
	tcase_add_test(tc, test_not_found_and_method);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_create_errors);
	tcase_add_test(tc, test_create_ipv6);
	suite_add_tcase(s, tc);
	return s;
}
