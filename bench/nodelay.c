/*
 * nodelay.so -- an LD_PRELOAD shim that sets TCP_NODELAY on every TCP
 * socket the program accepts (accept, accept4).
 *
 * Debian 12's unbound 1.17 sets no TCP_NODELAY on the connections its DoT
 * port accepts, so Nagle's algorithm holds back a reply written while an
 * earlier segment is unacknowledged (the TLS session tickets after a
 * handshake, a previous reply) until the client's delayed ACK comes, about
 * 40 ms on Linux.  bench/latency.sh runs the test world's upstreams under
 * this shim when BENCH_NODELAY_UPSTREAM=1, so that its numbers are those
 * of the proxies, not of that wait.
 *
 * Build: cc -O2 -shared -fPIC -o nodelay.so nodelay.c -ldl
 * Use:   LD_PRELOAD=/path/to/nodelay.so unbound -d -c unbound.conf
 *
 * The first socket it changes is reported on stderr, once per process
 * ("nodelay: TCP_NODELAY set on accepted sockets of PID N"), unless
 * NODELAY_QUIET is set.  Other sockets (Unix, UDP) are left alone, and
 * errno is what accept left.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef int (*accept_fn)(int, struct sockaddr *, socklen_t *);
typedef int (*accept4_fn)(int, struct sockaddr *, socklen_t *, int);

static int reported;

static void set_nodelay(int fd)
{
	int saved = errno, type = 0, one = 1;
	socklen_t len = sizeof type;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
	    type == SOCK_STREAM &&
	    getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) &&
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0 &&
	    !__atomic_exchange_n(&reported, 1, __ATOMIC_RELAXED) &&
	    getenv("NODELAY_QUIET") == NULL) {
		char msg[96];
		int n = snprintf(msg, sizeof msg,
				 "nodelay: TCP_NODELAY set on accepted sockets of PID %ld\n",
				 (long)getpid());

		if (n > 0 && write(2, msg, (size_t)n) < 0) {
			/* nothing to be done */
		}
	}
	errno = saved;
}

int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	static accept_fn real;
	int r;

	if (real == NULL)
		real = (accept_fn)dlsym(RTLD_NEXT, "accept");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	r = real(fd, addr, len);
	if (r >= 0)
		set_nodelay(r);
	return r;
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	static accept4_fn real;
	int r;

	if (real == NULL)
		real = (accept4_fn)dlsym(RTLD_NEXT, "accept4");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	r = real(fd, addr, len, flags);
	if (r >= 0)
		set_nodelay(r);
	return r;
}
