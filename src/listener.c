/*
 * listener.c -- DNS over UDP and TCP on a libevent loop.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "dnsmsg.h"
#include "listener.h"
#include "log.h"
#include "stats.h"
#include "tlsserve.h"
#include "wire.h"

/* RFC 8467: a padded query's reply is padded to a multiple of this. */
#define PAD_BLOCK	468

/* A client that does not read its replies may hold this much. */
#define CONN_MAX_OUTPUT	(256 * 1024)
/* Datagrams read per wake-up (one recvmmsg) before giving other events a
 * turn; the replies made while they are handled leave in one sendmmsg. */
#define UDP_BATCH	64
#define UDP_SLOT	65536	/* a datagram's room: only what arrives is
				   touched, the rest stays unmapped */

/* One side of a batch of datagrams (sendmmsg/recvmmsg arrays). */
struct udp_batch {
	struct mmsghdr msg[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct sockaddr_storage peer[UDP_BATCH];
	union {
		struct cmsghdr align;
		uint8_t buf[256];
	} cb[UDP_BATCH];
	uint8_t *slots;		/* UDP_BATCH x UDP_SLOT */
	unsigned n;		/* replies queued (send side), datagrams
				   read by the last recvmmsg (receive side) */
};

static uint8_t *
udp_slot(struct udp_batch *b, unsigned i)
{
	return b->slots + (size_t)i * UDP_SLOT;
}

struct listener {
	struct event_base *base;
	int fd;
	enum ds_transport transport;
	struct listener_opts opts;
	listener_query_fn cb;
	void *arg;
	struct event *ev;
	unsigned nconns;
	unsigned pending;	/* requests not yet given back */
	bool closed;		/* deleted; freed when pending is 0 */
	bool pktinfo;		/* UDP on a wildcard address */
	bool paused;		/* listener_pause: no new queries */
	bool batching;		/* inside udp_read: UDP replies wait in tx */
	struct udp_batch *rx, *tx;	/* UDP only */
	struct conn *conns;	/* TCP connections */
};

struct conn {
	struct listener *l;
	struct bufferevent *bev;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	unsigned inflight;
	bool paused;		/* reading stopped at tcp_max_inflight */
	bool eof;		/* the client closed its side */
	bool dead;		/* to be closed from the loop */
	bool handshaking;	/* TLS: no query before the handshake */
	const void *ident;	/* TLS: opts.identify's verdict */
	struct ds_req *reqs;
	struct event *read_timer;	/* a partial message is waiting */
	struct conn *next, *prev;
};

static bool udp_want_pktinfo(int);
static void udp_read(evutil_socket_t, short, void *);
static void tcp_accept(evutil_socket_t, short, void *);
static void conn_read(struct bufferevent *, void *);
static void conn_write(struct bufferevent *, void *);
static void req_edns_wants(const struct listener *, struct ds_req *);
static void conn_event(struct bufferevent *, short, void *);
static void conn_close(struct conn *);
static void conn_read_timo(evutil_socket_t, short, void *);
static void req_free(struct ds_req *);
static void listener_free(struct listener *);
static struct udp_batch *udp_batch_new(bool, bool);

const char *
listener_addr_str(const struct sockaddr *addr, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)addr;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		port = ntohs(s6->sin6_port);
	} else if (addr->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)addr;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		port = ntohs(s4->sin_port);
	}
	snprintf(buf, len, "%s@%u", host, port);
	return buf;
}

int
listener_bind(const struct sockaddr *addr, socklen_t len,
    enum ds_transport transport, bool reuseport)
{
	char name[64];
	int fd, one = 1;

	listener_addr_str(addr, name, sizeof(name));
	fd = socket(addr->sa_family, (transport == DS_TCP ? SOCK_STREAM :
	    SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ds_err("socket for %s/%s: %s", name,
		    transport == DS_TCP ? "tcp" : "udp", strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
	    sizeof(one)) != 0)
		ds_warn("SO_REUSEPORT on %s: %s", name, strerror(errno));
	if (addr->sa_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	if (bind(fd, addr, len) != 0) {
		ds_err("cannot bind %s/%s: %s", name,
		    transport == DS_TCP ? "tcp" : "udp", strerror(errno));
		close(fd);
		return -1;
	}
	if (transport == DS_TCP && listen(fd, 256) != 0) {
		ds_err("cannot listen on %s/tcp: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
listener_set_rcvbuf(int fd, unsigned bytes, const char *name)
{
	int want = (int)bytes, got = 0;
	socklen_t len = sizeof(got);

	if (bytes == 0)
		return 0;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want,
	    sizeof(want)) != 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want)) != 0) {
		ds_err("so_rcvbuf %u on %s: %s", bytes, name, strerror(errno));
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) != 0) {
		ds_err("so_rcvbuf on %s: cannot read it back: %s", name,
		    strerror(errno));
		return -1;
	}
	/* The kernel doubles the value for its bookkeeping. */
	if (got < want)
		ds_warn("so_rcvbuf %u on %s: the kernel gives %d bytes "
		    "(raise net.core.rmem_max, or start dotsecd privileged)",
		    bytes, name, got);
	return got;
}

/* A batch; rx: its headers point at its slots, peers and control
 * buffers once and for all (pktinfo: with room for the destination). */
static struct udp_batch *
udp_batch_new(bool rx, bool pktinfo)
{
	struct udp_batch *b;
	unsigned i;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	if ((b->slots = malloc((size_t)UDP_BATCH * UDP_SLOT)) == NULL) {
		free(b);
		return NULL;
	}
	for (i = 0; rx && i < UDP_BATCH; i++) {
		struct msghdr *mh = &b->msg[i].msg_hdr;

		b->iov[i].iov_base = udp_slot(b, i);
		b->iov[i].iov_len = UDP_SLOT;
		mh->msg_name = &b->peer[i];
		mh->msg_namelen = sizeof(b->peer[i]);
		mh->msg_iov = &b->iov[i];
		mh->msg_iovlen = 1;
		if (pktinfo) {
			mh->msg_control = b->cb[i].buf;
			mh->msg_controllen = sizeof(b->cb[i].buf);
		}
	}
	return b;
}

static void
udp_batch_free(struct udp_batch *b)
{
	if (b == NULL)
		return;
	free(b->slots);
	free(b);
}

static void
listener_free(struct listener *l)
{
	udp_batch_free(l->rx);
	udp_batch_free(l->tx);
	free(l);
}

struct listener *
listener_create(struct event_base *base, int fd, enum ds_transport transport,
    const struct listener_opts *opts, listener_query_fn cb, void *arg)
{
	struct listener *l;

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		ds_err("listener: out of memory");
		return NULL;
	}
	l->base = base;
	l->fd = fd;
	l->transport = transport;
	l->opts = *opts;
	l->cb = cb;
	l->arg = arg;
	if (transport == DS_UDP) {
		l->pktinfo = udp_want_pktinfo(fd);
		if ((l->rx = udp_batch_new(true, l->pktinfo)) == NULL ||
		    (l->tx = udp_batch_new(false, false)) == NULL) {
			ds_err("listener: out of memory");
			listener_free(l);
			return NULL;
		}
	}
	if (evutil_make_socket_nonblocking(fd) != 0 ||
	    (l->ev = event_new(base, fd, EV_READ | EV_PERSIST,
	    transport == DS_UDP ? udp_read : tcp_accept, l)) == NULL ||
	    event_add(l->ev, NULL) != 0) {
		ds_err("listener: cannot watch socket %d", fd);
		if (l->ev)
			event_free(l->ev);
		listener_free(l);
		return NULL;
	}
	return l;
}

static void
listener_free_if_done(struct listener *l)
{
	if (l->closed && l->pending == 0 && l->conns == NULL)
		listener_free(l);
}

void
listener_delete(struct listener *l)
{
	if (l == NULL)
		return;
	event_free(l->ev);
	l->ev = NULL;
	close(l->fd);
	l->fd = -1;
	/* closed is set last: conn_close would free l under our feet. */
	while (l->conns)
		conn_close(l->conns);
	l->closed = true;
	listener_free_if_done(l);
}

static struct ds_req *
req_new(struct listener *l, const uint8_t *pkt, size_t len)
{
	struct ds_req *req;

	/* One allocation holds the request and its bytes. */
	if ((req = calloc(1, sizeof(*req) + len)) == NULL)
		return NULL;
	req->pkt = (uint8_t *)(req + 1);
	memcpy(req->pkt, pkt, len);
	req->len = len;
	req->l = l;
	req->transport = l->transport;
	l->pending++;
	return req;
}

static void
req_free(struct ds_req *req)
{
	struct listener *l = req->l;
	struct conn *c = req->conn;

	if (c) {
		if (req->prev)
			req->prev->next = req->next;
		else
			c->reqs = req->next;
		if (req->next)
			req->next->prev = req->prev;
		c->inflight--;
		/* Never read or close from here: the handler may be inside
		 * conn_read.  Both continue from the loop instead. */
		if (c->paused && !l->paused &&
		    c->inflight < l->opts.tcp_max_inflight) {
			c->paused = false;
			bufferevent_enable(c->bev, EV_READ);
			/* Frames may already wait in the input buffer. */
			bufferevent_trigger(c->bev, EV_READ,
			    BEV_TRIG_IGNORE_WATERMARKS |
			    BEV_TRIG_DEFER_CALLBACKS);
		} else if (c->eof && c->inflight == 0)
			bufferevent_trigger(c->bev, EV_WRITE,
			    BEV_TRIG_IGNORE_WATERMARKS |
			    BEV_TRIG_DEFER_CALLBACKS);
	}
	free(req);
	l->pending--;
	listener_free_if_done(l);
}

/* On a socket bound to a wildcard address, ask the kernel for each
 * datagram's destination address, so that the reply leaves from the
 * address the client asked (a multi-homed host would otherwise answer
 * from its primary address, and the client would drop the reply). */
static bool
udp_want_pktinfo(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int one = 1;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return false;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)&ss;
		if (s4->sin_addr.s_addr != htonl(INADDR_ANY))
			return false;
		return setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one,
		    sizeof(one)) == 0;
	}
	if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)&ss;
		if (!IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr))
			return false;
		return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
		    sizeof(one)) == 0;
	}
	return false;
}

/* Take the destination address out of a received datagram's control
 * messages. */
static void
udp_get_dst(struct msghdr *mh, struct ds_req *req)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			struct sockaddr_in *s4 = (void *)&req->dst;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			s4->sin_family = AF_INET;
			s4->sin_addr = pi.ipi_addr;
			req->ifindex = pi.ipi_ifindex;
			req->has_dst = true;
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			struct sockaddr_in6 *s6 = (void *)&req->dst;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			s6->sin6_family = AF_INET6;
			s6->sin6_addr = pi.ipi6_addr;
			req->ifindex = (int)pi.ipi6_ifindex;
			req->has_dst = true;
		}
	}
}

/* Address a UDP reply to req's client, from the query's destination
 * address when known (a pktinfo control message in cb). */
static void
udp_reply_hdr(struct msghdr *mh, struct iovec *iov,
    struct sockaddr_storage *peer, uint8_t *cb, size_t cblen,
    const struct ds_req *req)
{
	struct cmsghdr *c;

	memset(mh, 0, sizeof(*mh));
	memcpy(peer, &req->peer, req->peerlen);
	mh->msg_name = peer;
	mh->msg_namelen = req->peerlen;
	mh->msg_iov = iov;
	mh->msg_iovlen = 1;
	if (!req->has_dst)
		return;
	memset(cb, 0, cblen);
	mh->msg_control = cb;
	c = (struct cmsghdr *)cb;
	if (req->dst.ss_family == AF_INET) {
		struct in_pktinfo pi;

		memset(&pi, 0, sizeof(pi));
		pi.ipi_spec_dst = ((const struct sockaddr_in *)&req->dst)->sin_addr;
		mh->msg_controllen = CMSG_SPACE(sizeof(pi));
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	} else {
		struct in6_pktinfo pi;

		memset(&pi, 0, sizeof(pi));
		pi.ipi6_addr =
		    ((const struct sockaddr_in6 *)&req->dst)->sin6_addr;
		pi.ipi6_ifindex = (unsigned)req->ifindex;
		mh->msg_controllen = CMSG_SPACE(sizeof(pi));
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	}
}

static void
udp_send_failed(const struct sockaddr_storage *peer)
{
	char name[64];

	ds_info("udp reply to %s: %s", listener_addr_str(
	    (const struct sockaddr *)peer, name, sizeof(name)),
	    strerror(errno));
}

/* Send a UDP reply now, or, inside udp_read, queue it for udp_flush. */
static void
udp_send(struct listener *l, struct ds_req *req, const uint8_t *buf,
    size_t len)
{
	struct udp_batch *tx = l->tx;
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} cb;
	struct sockaddr_storage peer;
	struct msghdr mh;
	struct iovec iov;
	unsigned i;

	if (l->batching && tx->n < UDP_BATCH && len <= UDP_SLOT) {
		i = tx->n++;
		memcpy(udp_slot(tx, i), buf, len);
		tx->iov[i].iov_base = udp_slot(tx, i);
		tx->iov[i].iov_len = len;
		udp_reply_hdr(&tx->msg[i].msg_hdr, &tx->iov[i], &tx->peer[i],
		    tx->cb[i].buf, sizeof(tx->cb[i].buf), req);
		return;
	}
	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	udp_reply_hdr(&mh, &iov, &peer, cb.buf, sizeof(cb.buf), req);
	if (sendmsg(l->fd, &mh, 0) < 0)
		udp_send_failed(&peer);
}

/* Send the queued replies; one that cannot be sent is logged and
 * skipped, the rest still go. */
static void
udp_flush(struct listener *l)
{
	struct udp_batch *tx = l->tx;
	unsigned sent = 0;
	int r;

	while (sent < tx->n) {
		r = sendmmsg(l->fd, tx->msg + sent, tx->n - sent, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			udp_send_failed(&tx->peer[sent]);
			sent++;
		} else
			sent += (unsigned)r;
	}
	tx->n = 0;
}

static void
udp_read(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;
	struct udp_batch *rx = l->rx;
	unsigned i;
	int n;

	(void)what;
	/* The kernel wrote the lengths of the headers it filled last time;
	 * the rest is as udp_batch_new left it. */
	for (i = 0; i < rx->n; i++) {
		struct msghdr *mh = &rx->msg[i].msg_hdr;

		mh->msg_namelen = sizeof(rx->peer[i]);
		if (l->pktinfo)
			mh->msg_controllen = sizeof(rx->cb[i].buf);
	}
	rx->n = 0;
	n = recvmmsg(fd, rx->msg, UDP_BATCH, 0, NULL);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			ds_warn("udp recvmmsg: %s", strerror(errno));
		return;
	}
	rx->n = (unsigned)n;
	l->batching = true;
	for (i = 0; i < rx->n; i++) {
		struct msghdr *mh = &rx->msg[i].msg_hdr;
		struct ds_req *req;

		if (l->opts.accept && !l->opts.accept_tcp_only &&
		    !l->opts.accept(l->opts.accept_arg,
		    (struct sockaddr *)&rx->peer[i], mh->msg_namelen))
			continue;
		if ((req = req_new(l, rx->iov[i].iov_base,
		    rx->msg[i].msg_len)) == NULL) {
			ds_err("udp: out of memory, query dropped");
			continue;
		}
		memcpy(&req->peer, &rx->peer[i], mh->msg_namelen);
		req->peerlen = mh->msg_namelen;
		if (l->pktinfo)
			udp_get_dst(mh, req);
		l->cb(l->arg, req);
	}
	l->batching = false;
	if (!l->closed)
		udp_flush(l);
}

static const char *
tname(const struct listener *l)
{
	return l->transport == DS_TLS ? "dot" : "tcp";
}

static void
ms_tv(unsigned ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}

/* A connection's bufferevent: over TLS as the server of a handshake
 * still to come, else on the bare socket.  NULL: fd is still open. */
static struct bufferevent *
conn_bev_new(struct listener *l, int fd)
{
	struct bufferevent *bev;
	SSL *ssl;

	if (l->opts.tls == NULL)
		return bufferevent_socket_new(l->base, fd,
		    BEV_OPT_CLOSE_ON_FREE);
	if ((ssl = tlsserve_ssl_new(l->opts.tls)) == NULL)
		return NULL;
	if ((bev = bufferevent_openssl_socket_new(l->base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	/* A client may close without close_notify after its answers
	 * (RFC 7766's half-close has no TLS twin): an EOF, not an error. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* The TLS handshake of c ended: from now on, queries and the idle
 * timeout; or the reason it failed, logged. */
static void
conn_handshake_done(struct conn *c)
{
	struct listener *l = c->l;
	struct timeval tv;

	c->handshaking = false;
	if (l->opts.stats)
		stats_inc(&l->opts.stats->tls_handshakes);
	if (l->opts.identify)
		c->ident = l->opts.identify(l->opts.accept_arg,
		    bufferevent_openssl_get_ssl(c->bev));
	ms_tv(l->opts.tcp_idle_timeout_ms, &tv);
	bufferevent_set_timeouts(c->bev, &tv, NULL);
}

static void
conn_handshake_failed(struct conn *c, short what)
{
	struct listener *l = c->l;
	char name[64], why[256];
	unsigned long e;

	if (l->opts.stats)
		stats_inc(&l->opts.stats->tls_handshake_failures);
	if (what & BEV_EVENT_TIMEOUT)
		snprintf(why, sizeof(why), "not done within %u ms",
		    l->opts.tls_handshake_timeout_ms);
	else if ((e = bufferevent_get_openssl_error(c->bev)) != 0)
		ERR_error_string_n(e, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "connection closed");
	ds_info("dot: handshake with %s failed: %s",
	    listener_addr_str((struct sockaddr *)&c->peer, name,
	    sizeof(name)), why);
}

static void
tcp_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct listener *l = arg;
	struct sockaddr_storage peer;
	socklen_t plen;
	struct conn *c;
	struct timeval tv;
	int fd;

	(void)what;
	for (;;) {
		char name[64];

		plen = sizeof(peer);
		fd = accept4(lfd, (struct sockaddr *)&peer, &plen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				ds_warn("tcp accept: %s", strerror(errno));
			return;
		}
		if (l->opts.accept && !l->opts.accept(l->opts.accept_arg,
		    (struct sockaddr *)&peer, plen)) {
			close(fd);
			continue;
		}
		if (l->nconns >= l->opts.tcp_max_connections) {
			ds_info("%s: %u connections open, refusing %s",
			    tname(l), l->nconns, listener_addr_str(
			    (struct sockaddr *)&peer, name, sizeof(name)));
			close(fd);
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL ||
		    (c->bev = conn_bev_new(l, fd)) == NULL) {
			ds_err("%s: out of memory, connection closed",
			    tname(l));
			free(c);
			close(fd);
			continue;
		}
		c->l = l;
		c->handshaking = l->opts.tls != NULL;
		if (l->opts.stats) {
			atomic_fetch_add_explicit(&l->opts.stats->tcp_open, 1,
			    memory_order_relaxed);
			stats_inc(&l->opts.stats->tcp_accepted);
		}
		if (l->opts.tcp_read_timeout_ms > 0 &&
		    (c->read_timer = evtimer_new(l->base, conn_read_timo,
		    c)) == NULL) {
			ds_err("%s: out of memory, connection closed",
			    tname(l));
			bufferevent_free(c->bev);
			free(c);
			continue;
		}
		memcpy(&c->peer, &peer, plen);
		c->peerlen = plen;
		c->next = l->conns;
		if (l->conns)
			l->conns->prev = c;
		l->conns = c;
		l->nconns++;
		if (c->handshaking) {
			/* The whole handshake within the timeout, both
			 * ways (a client that never reads ours, too). */
			ms_tv(l->opts.tls_handshake_timeout_ms, &tv);
			bufferevent_set_timeouts(c->bev, &tv, &tv);
		} else {
			ms_tv(l->opts.tcp_idle_timeout_ms, &tv);
			bufferevent_set_timeouts(c->bev, &tv, NULL);
		}
		bufferevent_setcb(c->bev, conn_read, conn_write, conn_event,
		    c);
		bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	}
}

static void
conn_read_timo(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	char name[64];

	(void)fd;
	(void)what;
	ds_info("%s: %s did not complete a message within %u ms, closed",
	    tname(c->l), listener_addr_str((struct sockaddr *)&c->peer, name,
	    sizeof(name)), c->l->opts.tcp_read_timeout_ms);
	conn_close(c);
}

/* Run the read timer while a partial message waits for the client's next
 * bytes (not while dotsecd itself pauses reading). */
static void
conn_arm_read_timer(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct timeval tv;

	if (c->read_timer == NULL)
		return;
	if (c->paused || c->dead || evbuffer_get_length(in) == 0) {
		evtimer_del(c->read_timer);
		return;
	}
	if (evtimer_pending(c->read_timer, NULL))
		return;
	ms_tv(c->l->opts.tcp_read_timeout_ms, &tv);
	evtimer_add(c->read_timer, &tv);
}

static void
conn_close(struct conn *c)
{
	struct listener *l = c->l;
	struct ds_req *r;

	/* Requests still in the handler's hands outlive the connection:
	 * detach them so that their replies are discarded. */
	for (r = c->reqs; r; r = r->next)
		r->conn = NULL;
	if (c->prev)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	l->nconns--;
	if (l->opts.stats)
		atomic_fetch_sub_explicit(&l->opts.stats->tcp_open, 1,
		    memory_order_relaxed);
	if (c->read_timer)
		event_free(c->read_timer);
	bufferevent_free(c->bev);
	free(c);
	listener_free_if_done(l);
}

static void
conn_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct listener *l = c->l;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (!c->paused && !c->dead) {
		uint8_t hdr[2];
		size_t mlen;
		struct ds_req *req;
		uint8_t *pkt;

		if (evbuffer_copyout(in, hdr, 2) < 2)
			break;
		mlen = (size_t)hdr[0] << 8 | hdr[1];
		if (evbuffer_get_length(in) < mlen + 2)
			break;
		if (mlen == 0) {
			/* No query is that short: the stream is garbage.
			 * Read no more; the answers owed for the queries
			 * before it still go out, then the connection
			 * closes, as after the client's EOF. */
			evbuffer_drain(in, evbuffer_get_length(in));
			c->eof = true;
			bufferevent_disable(bev, EV_READ);
			conn_arm_read_timer(c);
			if (c->inflight == 0)
				conn_write(bev, c);
			return;
		}
		if ((pkt = evbuffer_pullup(in, (ev_ssize_t)(mlen + 2))) ==
		    NULL || (req = req_new(l, pkt + 2, mlen)) == NULL) {
			ds_err("%s: out of memory, connection closed",
			    tname(l));
			conn_close(c);
			return;
		}
		evbuffer_drain(in, mlen + 2);
		req_edns_wants(l, req);
		req->ident = c->ident;
		memcpy(&req->peer, &c->peer, c->peerlen);
		req->peerlen = c->peerlen;
		req->conn = c;
		req->next = c->reqs;
		if (c->reqs)
			c->reqs->prev = req;
		c->reqs = req;
		c->inflight++;
		if (c->inflight >= l->opts.tcp_max_inflight) {
			c->paused = true;
			bufferevent_disable(bev, EV_READ);
		}
		/* The reply may come back at once; c stays alive (see
		 * req_free). */
		l->cb(l->arg, req);
	}
	conn_arm_read_timer(c);
}

/* Which EDNS options a stream query's reply gets (conn_put_reply): the
 * TCP keepalive when asked for (RFC 7828), padding when the query was
 * padded and the connection is encrypted (RFC 8467). */
static void
req_edns_wants(const struct listener *l, struct ds_req *req)
{
	size_t at, end;

	if (dnsmsg_opt_find(req->pkt, req->len, &at, &end) != 0)
		return;
	req->keepalive = dnsmsg_opt_has(req->pkt, at, end,
	    DNS_EDNS_OPT_KEEPALIVE);
	req->pad = l->transport == DS_TLS && dnsmsg_opt_has(req->pkt, at,
	    end, DNS_EDNS_OPT_PADDING);
}

/* Queue the reply buf on c with its length, and with the options
 * req_edns_wants chose appended to its OPT record (a reply without one
 * goes as it is).  Returns 0, or -1 when out of memory. */
static int
conn_put_reply(struct conn *c, const struct ds_req *req, const uint8_t *buf,
    size_t len)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	uint8_t opts[6 + 4 + PAD_BLOCK], hdr[2], rdlen[2];
	size_t at = 0, end = 0, olen = 0, n, pad;

	if ((req->keepalive || req->pad) &&
	    dnsmsg_opt_find(buf, len, &at, &end) == 0) {
		if (req->keepalive) {
			unsigned t = c->l->opts.tcp_idle_timeout_ms / 100;

			put16(opts, DNS_EDNS_OPT_KEEPALIVE);
			put16(opts + 2, 2);
			put16(opts + 4, (uint16_t)(t > 65535 ? 65535 : t));
			olen = 6;
		}
		n = len + olen + 4;
		pad = (PAD_BLOCK - n % PAD_BLOCK) % PAD_BLOCK;
		if (req->pad && n + pad <= 65535) {
			put16(opts + olen, DNS_EDNS_OPT_PADDING);
			put16(opts + olen + 2, (uint16_t)pad);
			memset(opts + olen + 4, 0, pad);
			olen += 4 + pad;
		}
	}
	if (len + olen > 65535)
		olen = 0;
	put16(hdr, (uint16_t)(len + olen));
	if (olen == 0)
		return evbuffer_add(out, hdr, 2) != 0 ||
		    evbuffer_add(out, buf, len) != 0 ? -1 : 0;
	put16(rdlen, (uint16_t)(get16(buf + at) + olen));
	return evbuffer_add(out, hdr, 2) != 0 ||
	    evbuffer_add(out, buf, at) != 0 ||
	    evbuffer_add(out, rdlen, 2) != 0 ||
	    evbuffer_add(out, buf + at + 2, end - at - 2) != 0 ||
	    evbuffer_add(out, opts, olen) != 0 ||
	    evbuffer_add(out, buf + end, len - end) != 0 ? -1 : 0;
}

static void
conn_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	/* The output buffer drained: a client that closed its side gets
	 * its connection closed once every query has been answered. */
	if (c->dead || (c->eof && c->inflight == 0 &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0))
		conn_close(c);
}

static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	if (c->handshaking) {
		if (what & BEV_EVENT_CONNECTED) {
			conn_handshake_done(c);
			/* Queries may have come with the last flight. */
			conn_read(bev, c);
			return;
		}
		conn_handshake_failed(c, what);
		conn_close(c);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		/* RFC 7766 6.2.4: a client may half-close after its last
		 * query; its answers are still owed. */
		c->eof = true;
		bufferevent_disable(bev, EV_READ);
		if (c->inflight == 0)
			conn_write(bev, c);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) &&
	    c->inflight > 0) {
		/* Idle only counts when nothing is owed to the client. */
		bufferevent_enable(bev, EV_READ);
		return;
	}
	conn_close(c);
}

void
listener_reply(struct ds_req *req, const uint8_t *buf, size_t len)
{
	struct listener *l = req->l;

	if (req->transport == DS_UDP) {
		if (!l->closed)
			udp_send(l, req, buf, len);
	} else if (req->conn != NULL && len <= 65535) {
		struct conn *c = req->conn;
		struct evbuffer *out = bufferevent_get_output(c->bev);

		if (evbuffer_get_length(out) > CONN_MAX_OUTPUT) {
			/* The client does not read: stop serving it, from
			 * the loop (we may be inside conn_read). */
			c->dead = true;
			bufferevent_disable(c->bev, EV_READ);
			bufferevent_trigger(c->bev, EV_WRITE,
			    BEV_TRIG_IGNORE_WATERMARKS |
			    BEV_TRIG_DEFER_CALLBACKS);
		} else if (conn_put_reply(c, req, buf, len) != 0)
			ds_err("%s: out of memory, reply lost", tname(l));
	}
	req_free(req);
}

void
listener_drop(struct ds_req *req)
{
	req_free(req);
}

bool
listener_output_pending(const struct listener *l)
{
	const struct conn *c;

	for (c = l->conns; c; c = c->next)
		if (!c->dead && evbuffer_get_length(
		    bufferevent_get_output(c->bev)) > 0)
			return true;
	return false;
}

void
listener_pause(struct listener *l)
{
	struct conn *c;

	if (l == NULL || l->paused)
		return;
	l->paused = true;
	if (l->ev)
		event_del(l->ev);
	for (c = l->conns; c; c = c->next) {
		c->paused = true;
		bufferevent_disable(c->bev, EV_READ);
		if (c->read_timer)
			evtimer_del(c->read_timer);
	}
}
