/*
 * sigfilter.c -- a loopback DNS forwarder that leaves one RRSIG alone
 * (sigfilter.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dnsmsg.h"
#include "log.h"
#include "sigfilter.h"
#include "wire.h"

/* The relay answers within dotsecd's timeout, 60 s at most; the explain
 * context gives up long before. */
#define RELAY_WAIT_MS	10000
/* A TCP client that sends half a request this long is dropped. */
#define CLIENT_WAIT_MS	2000
#define MAX_CONNS	8

struct sigfilter {
	pthread_t thread;
	bool running;
	int ufd, tfd, wake[2];
	int conns[MAX_CONNS];
	struct sockaddr_in relay;	/* IPv4 loopback, as relay.c binds it */
	unsigned port;
	pthread_mutex_t lock;	/* the target */
	uint8_t owner[DNS_MAX_NAME];
	size_t owner_len;
	uint16_t covers;
	uint8_t keep[DNS_MAX_MSG];
	size_t keep_len;
	uint8_t q[DNS_MAX_MSG + 2], r[DNS_MAX_MSG + 2], out[DNS_MAX_MSG + 2];
};

/* The offset just after the question of msg (its name cannot be
 * compressed: nothing comes before it to point to), or 0. */
static size_t
question_end(const uint8_t *msg, size_t len)
{
	size_t pos = DNS_HEADER_LEN;

	while (pos < len && msg[pos] != 0) {
		if ((msg[pos] & 0xc0) != 0 || pos - DNS_HEADER_LEN +
		    msg[pos] + 1 >= DNS_MAX_NAME)
			return 0;
		pos += 1 + (size_t)msg[pos];
	}
	if (pos >= len || len - pos < 5)
		return 0;
	return pos + 5;
}

/* ---- the rewrite --------------------------------------------------------- */

struct rw {
	const uint8_t *owner, *keep;
	size_t owner_len, keep_len;
	uint16_t covers;
	uint8_t *out;
	size_t cap, len;
	uint16_t count[3];
	bool small;
};

static int
rw_record(void *arg, const struct dnsmsg_record *r)
{
	struct rw *w = arg;
	size_t need = r->owner_len + 10 + r->rdlen;

	if (r->type == DNS_TYPE_RRSIG && r->rdlen >= 2 &&
	    get16(r->rdata) == w->covers && r->owner_len == w->owner_len &&
	    dnsmsg_name_equal(r->owner, w->owner, w->owner_len) &&
	    !(r->rdlen == w->keep_len &&
	    memcmp(r->rdata, w->keep, w->keep_len) == 0))
		return 0;	/* another signature of the RRset */
	if (w->cap - w->len < need) {
		w->small = true;
		return 1;
	}
	memcpy(w->out + w->len, r->owner, r->owner_len);
	w->len += r->owner_len;
	put16(w->out + w->len, r->type);
	put16(w->out + w->len + 2, r->rclass);
	put16(w->out + w->len + 4, (uint16_t)(r->ttl >> 16));
	put16(w->out + w->len + 6, (uint16_t)r->ttl);
	put16(w->out + w->len + 8, r->rdlen);
	w->len += 10;
	memcpy(w->out + w->len, r->rdata, r->rdlen);
	w->len += r->rdlen;
	w->count[r->section]++;
	return 0;
}

int
sigfilter_rewrite(const uint8_t *msg, size_t len, const uint8_t *owner,
    size_t owner_len, uint16_t covers, const uint8_t *keep, size_t keep_len,
    uint8_t *out, size_t outlen)
{
	struct rw w;
	size_t pos;
	int rc;

	if (len < DNS_HEADER_LEN || get16(msg + 4) != 1 ||
	    (pos = question_end(msg, len)) == 0)
		return -1;
	if (outlen < pos)
		return -2;
	memcpy(out, msg, pos);
	memset(&w, 0, sizeof(w));
	w.owner = owner;
	w.owner_len = owner_len;
	w.covers = covers;
	w.keep = keep;
	w.keep_len = keep_len;
	w.out = out;
	w.cap = outlen;
	w.len = pos;
	rc = dnsmsg_records(msg, len, rw_record, &w);
	if (w.small)
		return -2;
	if (rc != 0)
		return -1;
	put16(out + 6, w.count[0]);
	put16(out + 8, w.count[1]);
	put16(out + 10, w.count[2]);
	return (int)w.len;
}

/* ---- the forwarder --------------------------------------------------------- */

static int bind_port(int, const struct sigfilter *, unsigned);

/* Wait up to ms for fd to be ready for what (POLLIN or POLLOUT). */
static bool
wait_fd(int fd, short what, int ms)
{
	struct pollfd p = { fd, what, 0 };
	int n;

	do
		n = poll(&p, 1, ms);
	while (n < 0 && errno == EINTR);
	return n == 1 && (p.revents & what) != 0;
}

/* Read or write exactly n bytes of a stream socket, each step within
 * ms. */
static bool
io_all(int fd, uint8_t *buf, size_t n, bool rd, int ms)
{
	size_t done = 0;

	while (done < n) {
		ssize_t k;

		if (!wait_fd(fd, rd ? POLLIN : POLLOUT, ms))
			return false;
		k = rd ? recv(fd, buf + done, n - done, 0) :
		    send(fd, buf + done, n - done, MSG_NOSIGNAL);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k <= 0)
			return false;
		done += (size_t)k;
	}
	return true;
}

/* The relay's reply to the query q (qlen bytes) into f->r, over UDP or
 * TCP as the client asked; its length, or -1. */
static ssize_t
ask_relay(struct sigfilter *f, size_t qlen, bool tcp)
{
	int fd = socket(AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) |
	    SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	ssize_t n = -1;
	uint8_t len[2];

	if (fd < 0)
		return -1;
	/* The relay answers only its own address (relay.c). */
	if (bind_port(fd, f, 0) != 0)
		goto done;
	if (connect(fd, (struct sockaddr *)&f->relay, sizeof(f->relay)) != 0 &&
	    errno != EINPROGRESS)
		goto done;
	if (!tcp) {
		if (!wait_fd(fd, POLLOUT, RELAY_WAIT_MS) ||
		    send(fd, f->q, qlen, 0) != (ssize_t)qlen ||
		    !wait_fd(fd, POLLIN, RELAY_WAIT_MS))
			goto done;
		n = recv(fd, f->r, DNS_MAX_MSG, 0);
		goto done;
	}
	put16(len, (uint16_t)qlen);
	if (!io_all(fd, len, 2, false, RELAY_WAIT_MS) ||
	    !io_all(fd, f->q, qlen, false, RELAY_WAIT_MS) ||
	    !io_all(fd, len, 2, true, RELAY_WAIT_MS) ||
	    !io_all(fd, f->r, get16(len), true, RELAY_WAIT_MS))
		goto done;
	n = get16(len);
done:
	close(fd);
	return n;
}

/* A reply that cannot be rewritten must not reach the validator as it
 * came (its verdict would not be the one RRSIG's): SERVFAIL for the
 * question of f->q into f->out + 2, its length, or -1. */
static int
servfail(struct sigfilter *f, size_t qlen)
{
	size_t pos = question_end(f->q, qlen);

	if (pos == 0)
		return -1;
	memcpy(f->out + 2, f->q, pos);
	f->out[2 + 2] |= 0x80;			/* QR */
	f->out[2 + 3] = (uint8_t)((f->out[2 + 3] & 0xf0) | 2);	/* SERVFAIL */
	put16(f->out + 2 + 4, 1);
	put16(f->out + 2 + 6, 0);
	put16(f->out + 2 + 8, 0);
	put16(f->out + 2 + 10, 0);
	return (int)pos;
}

/* The relay's reply to f->q, filtered, into f->out + 2; its length or
 * -1. */
static int
answer(struct sigfilter *f, size_t qlen, bool tcp)
{
	ssize_t n = ask_relay(f, qlen, tcp);
	int m;

	if (n < DNS_HEADER_LEN)
		return -1;
	pthread_mutex_lock(&f->lock);
	m = sigfilter_rewrite(f->r, (size_t)n, f->owner, f->owner_len,
	    f->covers, f->keep, f->keep_len, f->out + 2, DNS_MAX_MSG);
	pthread_mutex_unlock(&f->lock);
	if (m < 0)
		m = servfail(f, qlen);
	return m;
}

static void
serve_udp(struct sigfilter *f)
{
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	ssize_t n = recvfrom(f->ufd, f->q, DNS_MAX_MSG, 0,
	    (struct sockaddr *)&from, &flen);
	int m;

	if (n < DNS_HEADER_LEN || (m = answer(f, (size_t)n, false)) < 0)
		return;
	(void)sendto(f->ufd, f->out + 2, (size_t)m, 0,
	    (struct sockaddr *)&from, flen);
}

/* One request of a TCP client; false when the connection is done. */
static bool
serve_tcp(struct sigfilter *f, int fd)
{
	uint8_t len[2];
	int m;

	if (!io_all(fd, len, 2, true, CLIENT_WAIT_MS) || get16(len) <
	    DNS_HEADER_LEN || !io_all(fd, f->q, get16(len), true,
	    CLIENT_WAIT_MS) || (m = answer(f, get16(len), true)) < 0)
		return false;
	put16(f->out, (uint16_t)m);
	return io_all(fd, f->out, (size_t)m + 2, false, CLIENT_WAIT_MS);
}

static void *
run(void *arg)
{
	struct sigfilter *f = arg;

	for (;;) {
		struct pollfd p[3 + MAX_CONNS];
		int i, n = 3, k;

		p[0] = (struct pollfd){ f->wake[0], POLLIN, 0 };
		p[1] = (struct pollfd){ f->ufd, POLLIN, 0 };
		p[2] = (struct pollfd){ f->tfd, POLLIN, 0 };
		for (i = 0; i < MAX_CONNS; i++)
			if (f->conns[i] >= 0)
				p[n++] = (struct pollfd){ f->conns[i], POLLIN,
				    0 };
		if ((k = poll(p, (nfds_t)n, -1)) < 0) {
			if (errno == EINTR)
				continue;
			ds_err("explain: sigfilter: poll: %s", strerror(errno));
			break;
		}
		if (p[0].revents != 0)
			break;
		if (p[1].revents & POLLIN)
			serve_udp(f);
		if (p[2].revents & POLLIN) {
			int c = accept4(f->tfd, NULL, NULL, SOCK_CLOEXEC |
			    SOCK_NONBLOCK);

			for (i = 0; c >= 0 && i < MAX_CONNS; i++)
				if (f->conns[i] < 0) {
					f->conns[i] = c;
					c = -1;
				}
			if (c >= 0)
				close(c);	/* too many: the client retries */
		}
		for (i = 3; i < n; i++) {
			int j;

			if (p[i].revents == 0 || serve_tcp(f, p[i].fd))
				continue;
			for (j = 0; j < MAX_CONNS; j++)
				if (f->conns[j] == p[i].fd)
					f->conns[j] = -1;
			close(p[i].fd);
		}
	}
	return NULL;
}

/* Bind fd to the relay's address and port (0: any). */
static int
bind_port(int fd, const struct sigfilter *f, unsigned port)
{
	struct sockaddr_in a = f->relay;

	a.sin_port = htons((uint16_t)port);
	return bind(fd, (struct sockaddr *)&a, sizeof(a));
}

static unsigned
bound_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		return 0;
	return ntohs(a.sin_port);
}

struct sigfilter *
sigfilter_start(const char *relay_ip, unsigned relay_port)
{
	struct sigfilter *f = calloc(1, sizeof(*f));
	int i, tries;

	if (f == NULL) {
		ds_err("explain: out of memory");
		return NULL;
	}
	f->ufd = f->tfd = f->wake[0] = f->wake[1] = -1;
	for (i = 0; i < MAX_CONNS; i++)
		f->conns[i] = -1;
	pthread_mutex_init(&f->lock, NULL);
	/* The relay's address, as a client connects to it. */
	f->relay.sin_family = AF_INET;
	f->relay.sin_port = htons((uint16_t)relay_port);
	if (inet_pton(AF_INET, relay_ip, &f->relay.sin_addr) != 1) {
		errno = EAFNOSUPPORT;
		goto fail;
	}
	/* One port for UDP and TCP: the kernel's choice for UDP, then the
	 * same for TCP (another if that one is taken). */
	for (tries = 0; tries < 16 && f->tfd < 0; tries++) {
		if (f->ufd >= 0)
			close(f->ufd);
		f->ufd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (f->ufd < 0 || bind_port(f->ufd, f, 0) != 0 ||
		    (f->port = bound_port(f->ufd)) == 0)
			goto fail;
		f->tfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (f->tfd < 0)
			goto fail;
		if (bind_port(f->tfd, f, f->port) != 0 ||
		    listen(f->tfd, MAX_CONNS) != 0) {
			close(f->tfd);
			f->tfd = -1;
		}
	}
	if (f->tfd < 0 || pipe2(f->wake, O_CLOEXEC) != 0)
		goto fail;
	if ((errno = pthread_create(&f->thread, NULL, run, f)) != 0)
		goto fail;
	f->running = true;
	return f;
fail:
	ds_err("explain: cannot start the signature filter on %s: %s",
	    relay_ip, strerror(errno));
	sigfilter_stop(f);
	return NULL;
}

unsigned
sigfilter_port(const struct sigfilter *f)
{
	return f->port;
}

int
sigfilter_target(struct sigfilter *f, const uint8_t *owner,
    size_t owner_len, uint16_t covers, const uint8_t *keep, size_t keep_len)
{
	if (owner_len > sizeof(f->owner) || keep_len > sizeof(f->keep))
		return -1;
	pthread_mutex_lock(&f->lock);
	memcpy(f->owner, owner, owner_len);
	f->owner_len = owner_len;
	f->covers = covers;
	memcpy(f->keep, keep, keep_len);
	f->keep_len = keep_len;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

void
sigfilter_stop(struct sigfilter *f)
{
	int i;

	if (f == NULL)
		return;
	if (f->running) {
		ssize_t k;

		do
			k = write(f->wake[1], "x", 1);
		while (k < 0 && errno == EINTR);
		pthread_join(f->thread, NULL);
	}
	for (i = 0; i < MAX_CONNS; i++)
		if (f->conns[i] >= 0)
			close(f->conns[i]);
	if (f->ufd >= 0)
		close(f->ufd);
	if (f->tfd >= 0)
		close(f->tfd);
	if (f->wake[0] >= 0)
		close(f->wake[0]);
	if (f->wake[1] >= 0)
		close(f->wake[1]);
	pthread_mutex_destroy(&f->lock);
	free(f);
}
