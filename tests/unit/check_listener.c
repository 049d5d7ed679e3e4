/*
 * check_listener.c -- UDP and TCP serving on loopback sockets: RFC 7766
 * framing across partial reads, pipelining with out-of-order replies, the
 * in-flight cap, half-close, idle timeout and the connection cap.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "listener.h"
#include "suites.h"

#define MAX_HELD 16

/* A fixture: one loop, one listener, a handler that either echoes at once
 * or holds requests for the test to answer. */
struct fx {
	struct event_base *base;
	struct listener *l;
	struct sockaddr_in addr;
	bool hold;
	struct ds_req *held[MAX_HELD];
	int nheld;
	int nseen;
};

static void
on_query(void *arg, struct ds_req *req)
{
	struct fx *f = arg;

	f->nseen++;
	if (f->hold && f->nheld < MAX_HELD) {
		f->held[f->nheld++] = req;
		return;
	}
	listener_reply(req, req->pkt, req->len);
}

static unsigned fx_read_timeout_ms;	/* for the next fx_init */

static void
fx_init(struct fx *f, enum ds_transport t, unsigned max_inflight,
    unsigned idle_ms, unsigned max_conns)
{
	struct listener_opts o;
	socklen_t len = sizeof(f->addr);
	int fd;

	memset(f, 0, sizeof(*f));
	f->base = event_base_new();
	ck_assert_ptr_nonnull(f->base);
	f->addr.sin_family = AF_INET;
	f->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = listener_bind((struct sockaddr *)&f->addr, sizeof(f->addr), t,
	    false);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&f->addr, &len),
	    0);
	memset(&o, 0, sizeof(o));
	o.tcp_idle_timeout_ms = idle_ms;
	o.tcp_max_connections = max_conns;
	o.tcp_max_inflight = max_inflight;
	o.tcp_read_timeout_ms = fx_read_timeout_ms;
	f->l = listener_create(f->base, fd, t, &o, on_query, f);
	ck_assert_ptr_nonnull(f->l);
}

static void
fx_free(struct fx *f)
{
	int i;

	listener_delete(f->l);
	for (i = 0; i < f->nheld; i++)
		if (f->held[i])
			listener_drop(f->held[i]);
	event_base_free(f->base);
}

/* Run the loop for about ms milliseconds. */
static void
spin(struct fx *f, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
}

static int
tcp_connect(struct fx *f)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&f->addr,
	    sizeof(f->addr)), 0);
	return fd;
}

/* Read one framed message (non-blocking after the loop ran); returns its
 * length, 0 on EOF, -1 when nothing is there. */
static int
read_frame(int fd, uint8_t *buf, size_t len)
{
	uint8_t hdr[2];
	ssize_t n;
	size_t mlen, got = 0;

	n = recv(fd, hdr, 2, MSG_DONTWAIT);
	if (n == 0)
		return 0;
	if (n != 2)
		return -1;
	mlen = (size_t)hdr[0] << 8 | hdr[1];
	ck_assert_uint_le(mlen, len);
	while (got < mlen) {
		n = recv(fd, buf + got, mlen - got, MSG_DONTWAIT);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return (int)mlen;
}

/* Send the len bytes of m as one framed message. */
static void
send_bytes(int fd, const uint8_t *m, size_t len)
{
	uint8_t buf[300];

	ck_assert_uint_le(len + 2, sizeof(buf));
	buf[0] = (uint8_t)(len >> 8);
	buf[1] = (uint8_t)len;
	memcpy(buf + 2, m, len);
	ck_assert_int_eq(send(fd, buf, len + 2, 0), (ssize_t)(len + 2));
}

static void
send_frame(int fd, const char *msg)
{
	send_bytes(fd, (const uint8_t *)msg, strlen(msg));
}

/* A zero-length frame ends the stream (nothing that short is a query),
 * but the answers owed for the queries before it still go out: one held
 * by the handler, answered after the bad frame arrived, and one echoed at
 * once. */
START_TEST(test_tcp_zero_frame_flushes)
{
	struct fx f;
	uint8_t buf[300];
	uint8_t zero[2] = { 0, 0 };
	int fd, n, got = 0, eof = 0, i;

	fx_init(&f, DS_TCP, 16, 5000, 8);
	f.hold = true;
	fd = tcp_connect(&f);
	send_frame(fd, "held-query");
	spin(&f, 50);
	ck_assert_int_eq(f.nheld, 1);
	f.hold = false;
	send_frame(fd, "echoed-query");
	ck_assert_int_eq(send(fd, zero, 2, 0), 2);
	send_frame(fd, "after-the-end");
	spin(&f, 50);
	/* The frame after the zero-length one is never read. */
	ck_assert_int_eq(f.nseen, 2);
	listener_reply(f.held[0], f.held[0]->pkt, f.held[0]->len);
	f.held[0] = NULL;
	spin(&f, 100);
	for (i = 0; i < 3; i++) {
		n = read_frame(fd, buf, sizeof(buf));
		if (n > 0)
			got++;
		else if (n == 0) {
			eof = 1;
			break;
		}
	}
	ck_assert_int_eq(got, 2);
	ck_assert_int_eq(eof, 1);
	close(fd);
	fx_free(&f);
}
END_TEST

/* so_rcvbuf: 0 leaves the default; a size is set and read back (the
 * tests run privileged, so rmem_max does not cap it). */
START_TEST(test_udp_rcvbuf)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0), def = 0, got = 0;
	socklen_t len = sizeof(def);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &def, &len), 0);
	ck_assert_int_eq(listener_set_rcvbuf(fd, 0, "test"), 0);
	len = sizeof(got);
	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len), 0);
	ck_assert_int_eq(got, def);
	ck_assert_int_ge(listener_set_rcvbuf(fd, 8 << 20, "test"), 8 << 20);
	len = sizeof(got);
	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len), 0);
	ck_assert_int_ge(got, 8 << 20);
	ck_assert_int_gt(got, def);
	close(fd);
	/* A closed descriptor: an error, not a crash. */
	ck_assert_int_eq(listener_set_rcvbuf(fd, 1 << 20, "test"), -1);
}
END_TEST

START_TEST(test_udp_echo)
{
	struct fx f;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	uint8_t buf[64];

	fx_init(&f, DS_UDP, 10, 1000, 10);
	ck_assert_int_eq(sendto(fd, "hello-udp", 9, 0,
	    (struct sockaddr *)&f.addr, sizeof(f.addr)), 9);
	spin(&f, 50);
	ck_assert_msg(recv(fd, buf, sizeof(buf), MSG_DONTWAIT) == 9 &&
	    memcmp(buf, "hello-udp", 9) == 0,
	    "listener udp: the reply goes back to the sender");
	close(fd);
	fx_free(&f);
}
END_TEST

START_TEST(test_udp_wildcard_source)
{
	struct fx f;
	struct listener_opts o;
	struct sockaddr_in any, to;
	socklen_t len = sizeof(any);
	int lfd, fd;
	uint8_t buf[64];

	/* Bound to 0.0.0.0 and asked on 127.0.0.2: the reply must come
	 * from 127.0.0.2, or a connected client never sees it. */
	memset(&f, 0, sizeof(f));
	f.base = event_base_new();
	memset(&any, 0, sizeof(any));
	any.sin_family = AF_INET;
	any.sin_addr.s_addr = htonl(INADDR_ANY);
	lfd = listener_bind((struct sockaddr *)&any, sizeof(any), DS_UDP,
	    false);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&any, &len), 0);
	memset(&o, 0, sizeof(o));
	o.tcp_max_inflight = 1;
	f.l = listener_create(f.base, lfd, DS_UDP, &o, on_query, &f);
	ck_assert_ptr_nonnull(f.l);
	to = any;
	to.sin_addr.s_addr = htonl(0x7f000002);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
	ck_assert_int_eq(send(fd, "where", 5, 0), 5);
	spin(&f, 50);
	ck_assert_msg(recv(fd, buf, sizeof(buf), MSG_DONTWAIT) == 5,
	    "listener udp: on a wildcard socket the reply leaves from the "
	    "address the query was sent to");
	close(fd);
	fx_free(&f);
}
END_TEST

START_TEST(test_tcp_partial_frames)
{
	struct fx f;
	int fd, i, n;
	uint8_t buf[64];
	const uint8_t msg[] = { 0, 5, 'a', 'b', 'c', 'd', 'e', 0, 3, 'x',
	    'y', 'z' };

	fx_init(&f, DS_TCP, 10, 1000, 10);
	fd = tcp_connect(&f);
	/* One byte at a time: the length prefix itself arrives split. */
	for (i = 0; i < (int)sizeof(msg); i++) {
		ck_assert_int_eq(send(fd, msg + i, 1, 0), 1);
		spin(&f, 5);
	}
	spin(&f, 20);
	ck_assert_int_eq(f.nseen, 2);
	n = read_frame(fd, buf, sizeof(buf));
	ck_assert_msg(n == 5 && memcmp(buf, "abcde", 5) == 0,
	    "listener tcp: first frame reassembled from single bytes");
	n = read_frame(fd, buf, sizeof(buf));
	ck_assert_msg(n == 3 && memcmp(buf, "xyz", 3) == 0,
	    "listener tcp: second frame follows");
	close(fd);
	fx_free(&f);
}
END_TEST

START_TEST(test_tcp_out_of_order)
{
	struct fx f;
	int fd, n;
	uint8_t buf[64];

	fx_init(&f, DS_TCP, 10, 1000, 10);
	f.hold = true;
	fd = tcp_connect(&f);
	send_frame(fd, "first");
	send_frame(fd, "second");
	spin(&f, 30);
	ck_assert_msg(f.nheld == 2, "listener tcp: two queries in flight "
	    "on one connection (got %d)", f.nheld);
	/* Answer the second before the first. */
	listener_reply(f.held[1], (const uint8_t *)"two", 3);
	f.held[1] = NULL;
	spin(&f, 20);
	n = read_frame(fd, buf, sizeof(buf));
	ck_assert_msg(n == 3 && memcmp(buf, "two", 3) == 0,
	    "listener tcp: a later query answered first");
	listener_reply(f.held[0], (const uint8_t *)"one", 3);
	f.held[0] = NULL;
	spin(&f, 20);
	n = read_frame(fd, buf, sizeof(buf));
	ck_assert_msg(n == 3 && memcmp(buf, "one", 3) == 0,
	    "listener tcp: then the earlier one");
	close(fd);
	fx_free(&f);
}
END_TEST

START_TEST(test_tcp_inflight_cap)
{
	struct fx f;
	int fd;

	fx_init(&f, DS_TCP, 2, 1000, 10);
	f.hold = true;
	fd = tcp_connect(&f);
	send_frame(fd, "q1");
	send_frame(fd, "q2");
	send_frame(fd, "q3");
	spin(&f, 30);
	ck_assert_msg(f.nheld == 2, "listener tcp: at the cap of 2 in "
	    "flight, the third query waits (seen %d)", f.nheld);
	listener_reply(f.held[0], (const uint8_t *)"r1", 2);
	f.held[0] = NULL;
	spin(&f, 30);
	ck_assert_msg(f.nheld == 3, "listener tcp: one answered, the "
	    "waiting query is read (seen %d)", f.nheld);
	close(fd);
	fx_free(&f);
}
END_TEST

START_TEST(test_tcp_half_close)
{
	struct fx f;
	int fd, n;
	uint8_t buf[64];

	fx_init(&f, DS_TCP, 10, 1000, 10);
	f.hold = true;
	fd = tcp_connect(&f);
	send_frame(fd, "last");
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	spin(&f, 30);
	ck_assert_int_eq(f.nheld, 1);
	listener_reply(f.held[0], (const uint8_t *)"owed", 4);
	f.held[0] = NULL;
	spin(&f, 30);
	n = read_frame(fd, buf, sizeof(buf));
	ck_assert_msg(n == 4 && memcmp(buf, "owed", 4) == 0,
	    "listener tcp: a half-closed client still gets its answer");
	ck_assert_msg(read_frame(fd, buf, sizeof(buf)) == 0,
	    "listener tcp: then the connection is closed");
	close(fd);
	fx_free(&f);
}
END_TEST

START_TEST(test_tcp_idle_timeout)
{
	struct fx f;
	int fd;
	uint8_t b;

	fx_init(&f, DS_TCP, 10, 100, 10);
	fd = tcp_connect(&f);
	spin(&f, 250);
	ck_assert_msg(recv(fd, &b, 1, MSG_DONTWAIT) == 0,
	    "listener tcp: an idle connection is closed after the timeout");
	close(fd);
	fx_free(&f);
}
END_TEST

START_TEST(test_tcp_client_gone)
{
	struct fx f;
	int fd;

	fx_init(&f, DS_TCP, 10, 1000, 10);
	f.hold = true;
	fd = tcp_connect(&f);
	send_frame(fd, "bye");
	spin(&f, 20);
	ck_assert_int_eq(f.nheld, 1);
	close(fd);
	spin(&f, 20);
	/* The reply to a client that left is discarded, without harm. */
	listener_reply(f.held[0], (const uint8_t *)"late", 4);
	f.held[0] = NULL;
	spin(&f, 10);
	fx_free(&f);
}
END_TEST

START_TEST(test_tcp_connection_cap)
{
	struct fx f;
	int a, b;
	uint8_t c;

	fx_init(&f, DS_TCP, 10, 1000, 1);
	a = tcp_connect(&f);
	spin(&f, 20);
	b = tcp_connect(&f);
	spin(&f, 20);
	ck_assert_msg(recv(b, &c, 1, MSG_DONTWAIT) == 0,
	    "listener tcp: a connection over the cap is closed");
	ck_assert_msg(recv(a, &c, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN,
	    "listener tcp: the first connection stays open");
	close(a);
	close(b);
	fx_free(&f);
}
END_TEST

START_TEST(test_tcp_zero_length)
{
	struct fx f;
	int fd;
	uint8_t z[2] = { 0, 0 }, c;

	fx_init(&f, DS_TCP, 10, 1000, 10);
	fd = tcp_connect(&f);
	ck_assert_int_eq(send(fd, z, 2, 0), 2);
	spin(&f, 30);
	ck_assert_msg(recv(fd, &c, 1, MSG_DONTWAIT) == 0,
	    "listener tcp: a zero-length frame closes the connection");
	ck_assert_int_eq(f.nseen, 0);
	close(fd);
	fx_free(&f);
}
END_TEST

START_TEST(test_tcp_slowloris)
{
	struct fx f;
	const uint8_t msg[] = { 0, 6, 's', 'l', 'o', 'w', 'l', 'y' };
	int fd, i, closed = 0;
	uint8_t c;

	/* One byte every 60 ms keeps the idle timer (1 s) happy, but the
	 * message is not whole within the 200 ms read timeout. */
	fx_read_timeout_ms = 200;
	fx_init(&f, DS_TCP, 10, 1000, 10);
	fx_read_timeout_ms = 0;
	fd = tcp_connect(&f);
	for (i = 0; i < (int)sizeof(msg); i++) {
		if (send(fd, msg + i, 1, MSG_NOSIGNAL) != 1) {
			closed = 1;
			break;
		}
		spin(&f, 60);
		if (recv(fd, &c, 1, MSG_DONTWAIT) == 0) {
			closed = 1;
			break;
		}
	}
	ck_assert_msg(closed && f.nseen == 0, "listener tcp: a client "
	    "trickling one byte per 60 ms is closed by the 200 ms read "
	    "timeout before its message is read");
	close(fd);

	/* A message completed in time is served, and the timer stops. */
	fx_free(&f);
	fx_read_timeout_ms = 200;
	fx_init(&f, DS_TCP, 10, 1000, 10);
	fx_read_timeout_ms = 0;
	fd = tcp_connect(&f);
	ck_assert_int_eq(send(fd, msg, 3, 0), 3);
	spin(&f, 50);
	ck_assert_int_eq(send(fd, msg + 3, sizeof(msg) - 3, 0),
	    (ssize_t)(sizeof(msg) - 3));
	spin(&f, 300);
	ck_assert_msg(f.nseen == 1 && read_frame(fd, (uint8_t[16]){ 0 },
	    16) == 6, "listener tcp: a message split in two parts within "
	    "the read timeout is answered, and the connection stays");
	close(fd);
	fx_free(&f);
}
END_TEST

/* RFC 7828: a query over TCP that carries the keepalive option gets it in
 * its reply, with the idle timeout in units of 100 ms, appended to the
 * reply's OPT record; a query without it gets the reply unchanged. */
static size_t
keepalive_query(uint8_t *q, bool keepalive)
{
	static const uint8_t head[] = {
		0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1,
		1, 'a', 0, 0, 1, 0, 1,			/* a. A IN */
		0, 0, 41, 0x10, 0x00, 0, 0, 0x80, 0,	/* OPT, DO */
	};
	size_t n = sizeof(head);

	memcpy(q, head, n);
	q[n++] = 0;
	q[n++] = keepalive ? 4 : 0;	/* RDLENGTH */
	if (keepalive) {
		q[n++] = 0;
		q[n++] = 11;
		q[n++] = 0;
		q[n++] = 0;
	}
	return n;
}

START_TEST(test_tcp_keepalive)
{
	struct fx f;
	uint8_t q[64], r[128];
	size_t qlen;
	int fd, n;

	fx_init(&f, DS_TCP, 10, 2500, 10);
	fd = tcp_connect(&f);
	qlen = keepalive_query(q, true);
	send_bytes(fd, q, qlen);
	spin(&f, 30);
	n = read_frame(fd, r, sizeof(r));
	/* The echo: the query's bytes, its OPT 6 bytes longer. */
	ck_assert_msg(n == (int)qlen + 6, "listener tcp keepalive: reply of "
	    "%zu bytes + 6 (got %d)", qlen, n);
	ck_assert_msg(memcmp(r, q, qlen - 6) == 0 &&
	    r[qlen - 6] == 0 && r[qlen - 5] == 10,
	    "listener tcp keepalive: OPT RDLENGTH 4 + 6");
	ck_assert_msg(memcmp(r + qlen - 4, q + qlen - 4, 4) == 0,
	    "listener tcp keepalive: the query's options kept");
	ck_assert_msg(r[qlen] == 0 && r[qlen + 1] == 11 && r[qlen + 2] == 0 &&
	    r[qlen + 3] == 2 && r[qlen + 4] == 0 && r[qlen + 5] == 25,
	    "listener tcp keepalive: option 11, 2500 ms as 25");
	qlen = keepalive_query(q, false);
	send_bytes(fd, q, qlen);
	spin(&f, 30);
	n = read_frame(fd, r, sizeof(r));
	ck_assert_msg(n == (int)qlen && memcmp(r, q, qlen) == 0,
	    "listener tcp keepalive: not asked, not given");
	close(fd);
	fx_free(&f);
}
END_TEST

Suite *
listener_suite(void)
{
	Suite *s = suite_create("listener");
	TCase *tc = tcase_create("loopback");

	tcase_add_test(tc, test_udp_rcvbuf);
	tcase_add_test(tc, test_tcp_zero_frame_flushes);
	tcase_add_test(tc, test_udp_echo);
	tcase_add_test(tc, test_udp_wildcard_source);
	tcase_add_test(tc, test_tcp_partial_frames);
	tcase_add_test(tc, test_tcp_out_of_order);
	tcase_add_test(tc, test_tcp_inflight_cap);
	tcase_add_test(tc, test_tcp_half_close);
	tcase_add_test(tc, test_tcp_idle_timeout);
	tcase_add_test(tc, test_tcp_client_gone);
	tcase_add_test(tc, test_tcp_connection_cap);
	tcase_add_test(tc, test_tcp_zero_length);
	tcase_add_test(tc, test_tcp_slowloris);
	tcase_add_test(tc, test_tcp_keepalive);
	suite_add_tcase(s, tc);
	return s;
}
