/*
 * nfdelay -- hold every packet of an NFQUEUE queue for a fixed time, then
 * let it go, in the order the packets came; optionally drop a share of
 * them at random.  bench/latency.sh uses it to give the DoT leg of its
 * test world a real round-trip time where the kernel has no sch_netem:
 *
 *     iptables -t mangle -A OUTPUT -p tcp --dport 853 -j NFQUEUE --queue-num 0
 *     iptables -t mangle -A OUTPUT -p tcp --sport 853 -j NFQUEUE --queue-num 0
 *     nfdelay -q 0 -d 10 -l 1
 *
 * Every packet crosses OUTPUT once (on loopback both ends are local), so
 * -d 10 gives 10 ms each way, a round trip of 20 ms.
 *
 * Usage: nfdelay [-q QUEUE] [-d DELAY_MS] [-l LOSS_PERCENT] [-s SEED]
 *   -q  queue number [0]
 *   -d  milliseconds each packet is held, fractions allowed [10]
 *   -l  percentage of packets dropped (NF_DROP at once), fractions
 *       allowed [0]
 *   -s  seed of the drop decisions [1]: the same seed drops the same
 *       packets of the same sequence
 *
 * It prints one line when the queue is bound ("nfdelay: ready ...") and,
 * on SIGTERM or SIGINT, the counts (packets, dropped, most held at once,
 * how late the latest release was, how many were more than 1 ms late)
 * after letting every held packet go.
 *
 * Build: cc -O2 -o nfdelay nfdelay.c -lnetfilter_queue -lnfnetlink
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

/* Held packets, oldest first: a ring that grows when full. */
struct held {
	uint32_t id;
	uint64_t due_ns;
};

static struct held *ring;
static size_t ring_cap, ring_head, ring_len;

static uint64_t delay_ns;
static uint32_t loss_threshold;	/* drop when rand32 < this */
static uint64_t rng_state;

static unsigned long long n_packets, n_dropped, n_verdict_errors;
static unsigned long long n_enobufs;
static size_t max_held;
static uint64_t max_late_ns;
static unsigned long long n_late;	/* released more than 1 ms late */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: enough for a fair coin, the same for the same seed. */
static uint32_t rand32(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

static void ring_push(uint32_t id, uint64_t due)
{
	if (ring_len == ring_cap) {
		size_t cap = ring_cap ? ring_cap * 2 : 1024, i;
		struct held *n = malloc(cap * sizeof *n);

		if (n == NULL) {
			perror("nfdelay: malloc");
			exit(1);
		}
		for (i = 0; i < ring_len; i++)
			n[i] = ring[(ring_head + i) % ring_cap];
		free(ring);
		ring = n;
		ring_cap = cap;
		ring_head = 0;
	}
	ring[(ring_head + ring_len) % ring_cap] = (struct held){ id, due };
	ring_len++;
	if (ring_len > max_held)
		max_held = ring_len;
}

static void verdict(struct nfq_q_handle *qh, uint32_t id, uint32_t v)
{
	if (nfq_set_verdict(qh, id, v, 0, NULL) < 0)
		n_verdict_errors++;
}

/* Let go every held packet that is due (all of them with all set). */
static void release(struct nfq_q_handle *qh, int all)
{
	uint64_t t = now_ns();

	while (ring_len > 0) {
		struct held *h = &ring[ring_head];

		if (!all && h->due_ns > t)
			break;
		if (!all && t - h->due_ns > max_late_ns)
			max_late_ns = t - h->due_ns;
		if (!all && t - h->due_ns > 1000000)
			n_late++;
		verdict(qh, h->id, NF_ACCEPT);
		ring_head = (ring_head + 1) % ring_cap;
		ring_len--;
	}
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg,
		     struct nfq_data *nfa, void *data)
{
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	uint32_t id;

	(void)msg;
	(void)data;
	if (ph == NULL)
		return 0;
	id = ntohl(ph->packet_id);
	n_packets++;
	if (loss_threshold > 0 && rand32() < loss_threshold) {
		n_dropped++;
		verdict(qh, id, NF_DROP);
		return 0;
	}
	ring_push(id, now_ns() + delay_ns);
	return 0;
}

static double parse_number(const char *s, const char *what, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > max) {
		fprintf(stderr, "nfdelay: bad %s '%s' (0..%g)\n", what, s, max);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	unsigned queue = 0;
	double delay_ms = 10, loss_pct = 0;
	unsigned long long seed = 1;
	struct nfq_handle *h;
	struct nfq_q_handle *qh;
	struct sigaction sa;
	char buf[65536] __attribute__((aligned));
	int fd, c;

	while ((c = getopt(argc, argv, "q:d:l:s:")) != -1) {
		switch (c) {
		case 'q':
			queue = (unsigned)parse_number(optarg, "queue", 65535);
			break;
		case 'd':
			delay_ms = parse_number(optarg, "delay", 60000);
			break;
		case 'l':
			loss_pct = parse_number(optarg, "loss", 100);
			break;
		case 's':
			seed = (unsigned long long)parse_number(optarg, "seed", 1e18);
			break;
		default:
			fprintf(stderr, "usage: nfdelay [-q QUEUE] [-d DELAY_MS] [-l LOSS_PERCENT] [-s SEED]\n");
			return 2;
		}
	}
	delay_ns = (uint64_t)(delay_ms * 1e6);
	loss_threshold = (uint32_t)(loss_pct / 100.0 * 4294967295.0);
	rng_state = seed * 0x9E3779B97F4A7C15ull + 1;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	h = nfq_open();
	if (h == NULL) {
		perror("nfdelay: nfq_open");
		return 1;
	}
	qh = nfq_create_queue(h, queue, on_packet, NULL);
	if (qh == NULL) {
		perror("nfdelay: nfq_create_queue (another program on this queue?)");
		nfq_close(h);
		return 1;
	}
	/* The verdict needs the packet's ID only: no payload is copied. */
	if (nfq_set_mode(qh, NFQNL_COPY_META, 0) < 0) {
		perror("nfdelay: nfq_set_mode");
		return 1;
	}
	/* Room for every packet of a busy second; a full queue drops. */
	if (nfq_set_queue_maxlen(qh, 65536) < 0)
		perror("nfdelay: nfq_set_queue_maxlen (going on)");
	/* No payload is read: the kernel need not segment GSO packets. */
	nfq_set_queue_flags(qh, NFQA_CFG_F_GSO, NFQA_CFG_F_GSO);
	nfnl_rcvbufsiz(nfq_nfnlh(h), 8 << 20);
	fd = nfq_fd(h);

	fprintf(stderr, "nfdelay: ready: queue %u, delay %g ms, loss %g %%, seed %llu\n",
		queue, delay_ms, loss_pct, seed);

	while (!stop) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct timespec ts, *tp = NULL;
		int rv;

		if (ring_len > 0) {
			uint64_t t = now_ns(), due = ring[ring_head].due_ns;
			uint64_t wait = due > t ? due - t : 0;

			ts.tv_sec = (time_t)(wait / 1000000000u);
			ts.tv_nsec = (long)(wait % 1000000000u);
			tp = &ts;
		}
		rv = ppoll(&pfd, 1, tp, NULL);
		if (rv < 0 && errno != EINTR) {
			perror("nfdelay: ppoll");
			break;
		}
		if (rv > 0) {
			for (;;) {
				ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);

				if (n > 0) {
					nfq_handle_packet(h, buf, (int)n);
					continue;
				}
				if (n < 0 && errno == ENOBUFS) {
					/* The kernel could not queue a message:
					 * that packet is lost. */
					n_enobufs++;
					continue;
				}
				break;
			}
		}
		release(qh, 0);
	}
	release(qh, 1);
	fprintf(stderr, "nfdelay: %llu packets, %llu dropped, at most %zu held at once, "
		"latest release %.3f ms late, %llu released more than 1 ms late, "
		"%llu verdict errors, %llu ENOBUFS\n",
		n_packets, n_dropped, max_held, max_late_ns / 1e6, n_late,
		n_verdict_errors, n_enobufs);
	nfq_destroy_queue(qh);
	nfq_close(h);
	return 0;
}
