/*
 * fuzz_stream.c -- libFuzzer target: any bytes as what a DoT client sends
 * once its TLS session is up, through the listener's stream layer (RFC
 * 7766 framing, the in-flight cap, RFC 7828 keepalive and RFC 8467
 * padding of the replies).
 *
 * The listener serves a loopback TCP socket as DS_TLS without
 * certificates: the bytes after the handshake, in clear.  Each input is
 * written on a new connection, whose write side is then closed; the
 * handler answers each query that parses with an error reply (REFUSED,
 * with an OPT when the query had one), and any other message by echoing
 * it, half of them later than the ones after them.  Invariants on what
 * comes back: every frame is whole, no more frames than queries, and a
 * reply to a query whose OPT was read and asked for padding is a multiple
 * of 468 bytes long.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "dnsmsg.h"
#include "fuzz.h"
#include "listener.h"
#include "log.h"

#define MAX_HELD	8

static struct event_base *base;
static struct listener *lst;
static struct sockaddr_in addr;
static struct ds_req *held[MAX_HELD];
static size_t nheld, nqueries, npadded;

static void
answer(struct ds_req *req)
{
	struct dnsmsg_query q;
	uint8_t out[512];
	size_t at, end;
	int rc, n;

	rc = dnsmsg_parse_query(req->pkt, req->len, &q);
	if (rc < 0) {
		listener_reply(req, req->pkt, req->len);
		return;
	}
	/* Padding goes into the reply's OPT: one only when the parser read
	 * the query's (an early FORMERR has none). */
	if (q.edns && dnsmsg_opt_find(req->pkt, req->len, &at, &end) == 0 &&
	    dnsmsg_opt_has(req->pkt, at, end, DNS_EDNS_OPT_PADDING))
		npadded++;
	n = dnsmsg_error(&q, DNS_RCODE_REFUSED, DNS_EDE_NONE, NULL, 1232,
	    out, sizeof(out));
	if (n > 0)
		listener_reply(req, out, (size_t)n);
	else
		listener_drop(req);
}

static void
on_query(void *arg, struct ds_req *req)
{
	(void)arg;
	nqueries++;
	/* Every other one waits: replies out of order. */
	if (nqueries % 2 == 0 && nheld < MAX_HELD) {
		held[nheld++] = req;
		return;
	}
	answer(req);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct listener_opts o;
	socklen_t len = sizeof(addr);
	int fd;

	(void)argc;
	(void)argv;
	ds_log_set_level(DS_LOG_ERR);
	if ((base = event_base_new()) == NULL)
		fuzz_fail("no event base");
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = listener_bind((struct sockaddr *)&addr, sizeof(addr), DS_TCP,
	    false);
	if (fd < 0 || getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
		fuzz_fail("cannot bind a loopback socket");
	memset(&o, 0, sizeof(o));
	o.tcp_idle_timeout_ms = 1000;
	o.tcp_max_connections = 4;
	o.tcp_max_inflight = 4;
	o.tcp_read_timeout_ms = 1000;
	if ((lst = listener_create(base, fd, DS_TLS, &o, on_query, NULL)) ==
	    NULL)
		fuzz_fail("no listener");
	return 0;
}

/* A connection to the listener.  libFuzzer's timers interrupt system
 * calls: a connect cut short by EINTR goes on in the background, so its
 * end is waited for; the other calls are tried again. */
static int
connect_listener(void)
{
	struct pollfd p;
	socklen_t len = sizeof(int);
	int fd, err = 0;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		fuzz_fail("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
		return fd;
	if (errno != EINTR && errno != EINPROGRESS)
		fuzz_fail("connect: %s", strerror(errno));
	p.fd = fd;
	p.events = POLLOUT;
	while (poll(&p, 1, 1000) < 0)
		if (errno != EINTR)
			fuzz_fail("poll: %s", strerror(errno));
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
		fuzz_fail("connect: %s", strerror(err ? err : errno));
	return fd;
}

static void
send_all(int fd, const uint8_t *data, size_t size)
{
	ssize_t n;

	while (size > 0) {
		if ((n = send(fd, data, size, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			fuzz_fail("send: %s", strerror(errno));
		}
		data += n;
		size -= (size_t)n;
	}
}

/* Run the loop until it has nothing to do at once. */
static void
spin(void)
{
	int i;

	for (i = 0; i < 8; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t in[70000];
	size_t got = 0, pos, frames = 0, queries, i;
	int fd, idle = 0;
	ssize_t n;

	nqueries = nheld = npadded = 0;
	fd = connect_listener();
	spin();
	send_all(fd, data, size);
	shutdown(fd, SHUT_WR);
	/* Until the listener closes the connection (all answered after the
	 * client's EOF). */
	while (idle < 50) {
		struct pollfd p = { fd, POLLIN, 0 };

		spin();
		for (i = 0; i < nheld; i++)
			answer(held[i]);
		nheld = 0;
		if (poll(&p, 1, 1) <= 0) {
			idle++;
			continue;
		}
		n = recv(fd, in + got, sizeof(in) - got, MSG_DONTWAIT);
		if (n == 0)
			break;
		if (n < 0) {
			idle++;
			continue;
		}
		got += (size_t)n;
		if (got == sizeof(in))
			fuzz_fail("more replies than %zu bytes", sizeof(in));
	}
	close(fd);
	spin();
	queries = nqueries;
	for (pos = 0; pos < got; frames++) {
		size_t mlen;

		if (got - pos < 2)
			fuzz_fail("a reply's length cut short");
		mlen = (size_t)in[pos] << 8 | in[pos + 1];
		if (got - pos - 2 < mlen)
			fuzz_fail("a reply cut short: %zu of %zu bytes",
			    got - pos - 2, mlen);
		pos += 2 + mlen;
	}
	if (frames > queries)
		fuzz_fail("%zu replies to %zu queries", frames, queries);
	if (npadded > 0) {
		size_t padded = 0;

		/* Error replies are short: each padded one is one block. */
		for (pos = 0; pos < got; pos += 2 + ((size_t)in[pos] << 8 |
		    in[pos + 1]))
			if (((size_t)in[pos] << 8 | in[pos + 1]) == 468)
				padded++;
		if (padded < npadded)
			fuzz_fail("%zu padded queries, %zu replies of 468 "
			    "bytes", npadded, padded);
	}
	return 0;
}
