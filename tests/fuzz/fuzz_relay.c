/*
 * fuzz_relay.c -- libFuzzer target: the relay's packet handling (src/relay.c)
 * without sockets, libunbound or getdns.
 *
 * Input layout:
 *   [0]    0x01 the query came over TCP (else UDP); 0x02 the upstream
 *          failed (relay_done with status != 0)
 *   [1..2] the relay's edns_size: 512 + (value % 3585), so 512..4096 as
 *          edns_udp_size allows
 *   [3..4] L, the length of the query (cut to what is left)
 *   then   L bytes: the query from libunbound
 *   rest   the upstream's answer, as getdns returns it
 * relay_query(): dnsmsg_parse_query(), dropped on -1, an error reply
 * (relay_error: dnsmsg_error into 512 bytes, EDE none) on >0, FORMERR when
 * dnsmsg_name_to_str() fails.  relay_done(): the answer shaped with
 * keep_dnssec, AD clear, max_size dnsmsg_udp_limit() over UDP and 65535
 * over TCP, the relay's edns_size, no EDE; SERVFAIL when that fails.  A
 * shaped reply must fit, and be accepted again by dnsmsg_shape().
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"
#include "fuzz.h"
#include "fuzz_common.h"

#define CTL_LEN		5
#define RELAY_ERR_BUF	512	/* relay_error's reply buffer */

static uint8_t out[DNS_MAX_MSG];

/* relay_error(): the reply, or a drop when it does not fit in 512. */
static void
relay_error(const struct dnsmsg_query *q, int rcode, uint16_t edns_size)
{
	uint8_t *b;
	int n;

	if ((b = malloc(RELAY_ERR_BUF)) == NULL)
		abort();
	n = dnsmsg_error(q, rcode, DNS_EDE_NONE, NULL, edns_size, b,
	    RELAY_ERR_BUF);
	if (n > 0 && (n < DNS_HEADER_LEN || dnsmsg_get_id(b) != q->id))
		fuzz_fail("relay error reply of %d bytes, rcode %d", n, rcode);
	free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dnsmsg_query q;
	struct dnsmsg_shape_opts o;
	char name[4 * DNS_MAX_NAME + 2];
	const uint8_t *pkt, *reply;
	size_t len, rlen;
	uint16_t edns_size;
	bool tcp, failed;
	int rc, n;

	if (size < CTL_LEN)
		return 0;
	tcp = (data[0] & 0x01) != 0;
	failed = (data[0] & 0x02) != 0;
	edns_size = (uint16_t)(DNS_MIN_UDP +
	    (data[1] << 8 | data[2]) % (4096 - DNS_MIN_UDP + 1));
	len = (size_t)(data[3] << 8 | data[4]);
	pkt = data + CTL_LEN;
	if (len > size - CTL_LEN)
		len = size - CTL_LEN;
	reply = pkt + len;
	rlen = size - CTL_LEN - len;

	/* relay_query() */
	rc = dnsmsg_parse_query(pkt, len, &q);
	if (rc < 0)
		return 0;
	if (rc > 0) {
		relay_error(&q, rc, edns_size);
		return 0;
	}
	if (dnsmsg_name_to_str(q.qname, q.qname_len, name,
	    sizeof(name)) < 0) {
		relay_error(&q, DNS_RCODE_FORMERR, edns_size);
		return 0;
	}

	/* relay_done() */
	n = -1;
	if (!failed) {
		memset(&o, 0, sizeof(o));
		o.ad = false;
		o.keep_dnssec = true;
		o.max_size = !tcp ? dnsmsg_udp_limit(&q, edns_size) :
		    DNS_MAX_MSG;
		o.edns_size = edns_size;
		o.ede_code = DNS_EDE_NONE;
		n = dnsmsg_shape(&q, reply, rlen, &o, out, sizeof(out));
		if (n > 0)
			fuzz_check_shaped(&q, reply, rlen, &o, out, n);
		else if (n != -1)
			fuzz_fail("dnsmsg_shape returned %d into 64 KiB", n);
	}
	if (n < 0)
		relay_error(&q, DNS_RCODE_SERVFAIL, edns_size);
	return 0;
}
