/*
 * dotsec-control.c -- ask a running dotsecd, through its control socket,
 * to report or to act (dotsec-control(8)).
 *
 * Exit status: 0 the daemon said ok; 1 it said error, refused us, or could
 * not be reached; 2 usage.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"

#define DEFAULT_SOCKET	"/run/dotsec/control.sock"
/* flush waits for every worker (at most 5 s); reload may read big
 * files. */
#define REPLY_TIMEOUT_MS	30000

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: dotsec-control [-s SOCKET] COMMAND [ARG...]\n"
	    "commands:\n"
	    "  status                      version, uptime, upstreams, cache\n"
	    "  stats                       the counters of /metrics\n"
	    "  flush NAME [TYPE]           forget NAME (one type, or all)\n"
	    "  flush zone NAME             forget NAME and every name below\n"
	    "  flush bogus                 forget every bogus verdict\n"
	    "  flush all                   forget everything cached\n"
	    "  reload                      read the configuration again\n"
	    "  nta add NAME [SECONDS]      a negative trust anchor (1 h; "
	    "at most a week)\n"
	    "  nta remove NAME | nta list\n"
	    "  forward add NAME ADDR[@PORT][#AUTHNAME]... [--plain] "
	    "[--insecure] [--ca FILE]\n"
	    "  forward remove NAME | forward list\n"
	    "  anchor                      the root trust anchor state, "
	    "as dotsec-anchor show\n"
	    "  explain NAME [TYPE] [--json] why NAME validates or fails, "
	    "link by link\n"
	    "  cache dump FILE | cache load FILE  the answer cache, as "
	    "cache_persist\n"
	    "socket: -s SOCKET, else $DOTSEC_CONTROL_SOCKET, else "
	    DEFAULT_SOCKET "\n");
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read exactly n bytes (n 0: up to and including a LF, into at most cap
 * bytes), by the deadline.  Returns the count read, or -1 with errno. */
static ssize_t
read_until(int fd, char *buf, size_t cap, size_t n, long long deadline)
{
	size_t got = 0;

	while (n == 0 ? got == 0 || buf[got - 1] != '\n' : got < n) {
		struct pollfd p = { fd, POLLIN, 0 };
		long long left = deadline - now_ms();
		ssize_t r;

		if (got == cap) {
			errno = EMSGSIZE;
			return -1;
		}
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (poll(&p, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		r = read(fd, buf + got, n == 0 ? 1 : n - got);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		if (r == 0) {
			errno = ECONNRESET;
			return -1;
		}
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int
main(int argc, char **argv)
{
	const char *path = getenv("DOTSEC_CONTROL_SOCKET");
	char line[CONTROL_MAX_LINE], head[64], *body = NULL;
	struct sockaddr_un sun;
	size_t len = 0, blen;
	long long deadline;
	ssize_t r;
	int ch, fd, i, ok;

	if (path == NULL || path[0] == '\0')
		path = DEFAULT_SOCKET;
	/* A daemon that turns us away closes at once: a write error, not
	 * a signal. */
	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "+s:h")) != -1) {
		switch (ch) {
		case 's':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (argc - optind > CONTROL_MAX_ARGS) {
		fprintf(stderr, "dotsec-control: at most %d words\n",
		    CONTROL_MAX_ARGS);
		return 2;
	}
	for (i = optind; i < argc; i++) {
		size_t n = strlen(argv[i]), j;

		for (j = 0; j < n; j++)
			if ((unsigned char)argv[i][j] < 0x21 ||
			    (unsigned char)argv[i][j] > 0x7e) {
				fprintf(stderr, "dotsec-control: '%s': "
				    "printable ASCII words only\n", argv[i]);
				return 2;
			}
		if (n == 0 || len + n + 2 > sizeof(line)) {
			fprintf(stderr, "dotsec-control: request empty or "
			    "longer than %d bytes\n", CONTROL_MAX_LINE - 1);
			return 2;
		}
		if (len > 0)
			line[len++] = ' ';
		memcpy(line + len, argv[i], n);
		len += n;
	}
	line[len++] = '\n';

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "dotsec-control: %s: path too long\n", path);
		return 1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		fprintf(stderr, "dotsec-control: %s: %s%s\n", path,
		    strerror(errno), errno == EACCES ? " (root, dotsecd's "
		    "user or its group only)" : errno == ENOENT ||
		    errno == ECONNREFUSED ? " (is dotsecd running, with "
		    "control_socket set to this path?)" : "");
		return 1;
	}
	if (write(fd, line, len) != (ssize_t)len) {
		fprintf(stderr, "dotsec-control: %s: cannot send: %s%s\n",
		    path, strerror(errno), errno == EPIPE ? " (closed by "
		    "dotsecd: refused? see its log)" : "");
		close(fd);
		return 1;
	}
	deadline = now_ms() + REPLY_TIMEOUT_MS;
	if ((r = read_until(fd, head, sizeof(head) - 1, 0, deadline)) < 0) {
		fprintf(stderr, "dotsec-control: %s: no reply: %s%s\n", path,
		    strerror(errno), errno == ECONNRESET ? " (closed by "
		    "dotsecd: refused? see its log)" : "");
		close(fd);
		return 1;
	}
	head[r] = '\0';
	if (sscanf(head, "ok %zu", &blen) == 1)
		ok = 1;
	else if (sscanf(head, "error %zu", &blen) == 1)
		ok = 0;
	else {
		fprintf(stderr, "dotsec-control: %s: not a reply: %s", path,
		    head);
		close(fd);
		return 1;
	}
	if (blen > 64u * 1024 * 1024 || (body = malloc(blen + 1)) == NULL) {
		fprintf(stderr, "dotsec-control: reply of %zu bytes refused\n",
		    blen);
		close(fd);
		return 1;
	}
	if (blen > 0 && read_until(fd, body, blen, blen, deadline) < 0) {
		fprintf(stderr, "dotsec-control: %s: reply cut short: %s\n",
		    path, strerror(errno));
		free(body);
		close(fd);
		return 1;
	}
	close(fd);
	fwrite(body, 1, blen, ok ? stdout : stderr);
	free(body);
	return ok ? 0 : 1;
}
