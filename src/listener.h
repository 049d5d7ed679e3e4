/*
 * listener.h -- DNS over UDP and TCP sockets on a libevent loop: receive
 * queries, hand each to a callback as a request, send the reply back.
 * Serves clients and, on loopback, the relay.
 *
 * TCP follows RFC 7766: several queries may be in flight on one
 * connection and are answered as they complete, in any order; the 2-byte
 * framing survives partial reads and writes; an idle connection is closed;
 * connections and in-flight queries per connection are capped.
 */
#ifndef DS_LISTENER_H
#define DS_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct event_base;
struct listener;
struct stats;
struct conn;

/* DS_TLS: DNS over TLS (RFC 7858), framed as over TCP; its sockets are
 * bound as DS_TCP. */
enum ds_transport { DS_UDP = 0, DS_TCP = 1, DS_TLS = 2 };

/* One query in flight.  The listener owns it until the handler gives it
 * back with listener_reply() or listener_drop(), exactly once. */
struct ds_req {
	uint8_t *pkt;			/* the query bytes */
	size_t len;
	enum ds_transport transport;
	struct sockaddr_storage peer;	/* who asked */
	socklen_t peerlen;
	/* private */
	bool has_dst;			/* UDP on a wildcard address: */
	struct sockaddr_storage dst;	/* the address the query was sent
					   to, the reply's source */
	int ifindex;
	bool keepalive;			/* stream: the query asked for the
					   TCP keepalive option (RFC 7828) */
	bool pad;			/* DoT: the query was padded */
	const void *ident;		/* DoT: what identify said */
	struct listener *l;
	struct conn *conn;		/* TCP; NULL once the client left */
	struct ds_req *next, *prev;	/* the connection's requests */
};

/*
 * Called for each query received, from the loop.  The handler owns req and
 * must give it back, now or later, with listener_reply() or
 * listener_drop().
 */
typedef void (*listener_query_fn)(void *arg, struct ds_req *req);

/* DoT: once a client's TLS handshake is done, what identifies it (an
 * opaque pointer, given with each of the connection's requests as
 * req->ident). */
struct ssl_st;
typedef const void *(*listener_identify_fn)(void *arg, struct ssl_st *ssl);

/* Decide whether a peer may talk to this listener; NULL accepts all. */
typedef bool (*listener_accept_fn)(void *arg, const struct sockaddr *peer,
    socklen_t len);

struct listener_opts {
	unsigned tcp_idle_timeout_ms;	/* close an idle TCP connection */
	unsigned tcp_max_connections;	/* per listener */
	unsigned tcp_max_inflight;	/* per connection; reading pauses */
	unsigned tcp_read_timeout_ms;	/* a started message must be whole
					   within this (slowloris); 0: off */
	listener_accept_fn accept;	/* TCP: at accept; UDP: per packet */
	void *accept_arg;
	bool accept_tcp_only;		/* apply accept to TCP only */
	struct stats *stats;		/* TCP connection counters; NULL */
	struct tlsserve *tls;		/* DS_TLS: the certificates */
	listener_identify_fn identify;	/* DS_TLS, with accept_arg; NULL */
	unsigned tls_handshake_timeout_ms;	/* DS_TLS */
};

/* Serve DNS on fd, a bound UDP socket or a listening TCP socket (the
 * listener takes it over, sets it non-blocking and closes it in
 * listener_delete).  Returns NULL after logging on failure. */
struct listener *listener_create(struct event_base *base, int fd,
    enum ds_transport transport, const struct listener_opts *opts,
    listener_query_fn cb, void *arg);

/* Close every socket and connection; requests still held by the handler
 * stay valid and must still be given back.  Never call it from inside a
 * listener callback.  Takes NULL. */
void listener_delete(struct listener *l);

/* Send the reply for req (over TCP with its length prefix; over UDP as one
 * datagram) and free req.  A reply to a client that already left is
 * discarded. */
void listener_reply(struct ds_req *req, const uint8_t *buf, size_t len);

/* Free req without answering. */
void listener_drop(struct ds_req *req);

/* Stop taking new queries (no more reads, accepts, or reads on open
 * connections) while the answers to those in flight still go out: for
 * a graceful stop. */
void listener_pause(struct listener *l);

/* Whether replies are still waiting to be written to TCP clients. */
bool listener_output_pending(const struct listener *l);

/* Open a socket of the given transport bound to addr (SO_REUSEADDR, and
 * SO_REUSEPORT when reuseport is set, IPV6_V6ONLY for IPv6, listening for
 * TCP).  Returns the fd, or -1 after logging with the address. */
int listener_bind(const struct sockaddr *addr, socklen_t len,
    enum ds_transport transport, bool reuseport);

/* Give the socket fd (named name in messages) a receive buffer of at
 * least bytes: SO_RCVBUFFORCE while privileged, else SO_RCVBUF, which
 * net.core.rmem_max caps (logged).  0 leaves the system's default.
 * Returns the size the kernel reports, 0 for bytes 0, or -1 (logged). */
int listener_set_rcvbuf(int fd, unsigned bytes, const char *name);

/* Format addr as "ADDR@PORT" into buf. */
const char *listener_addr_str(const struct sockaddr *addr, char *buf,
    size_t len);

#endif /* DS_LISTENER_H */
