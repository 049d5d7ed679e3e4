/*
 * fuzz_shape.c -- libFuzzer target: an upstream reply shaped for a client.
 *
 * Input layout (a 7-byte control block, then the upstream reply):
 *   [0]    query and shaping flags: 0x01 DO, 0x02 CD, 0x04 AD, 0x08 RD,
 *          0x10 keep_dnssec, 0x20 ad (set AD), 0x40 the query has EDNS,
 *          0x80 attach an EDE (info-code 6)
 *   [1..2] max_size = 512 + (value % 65024), so 512..65535
 *   [3]    0x01 take the qname from [6..]; otherwise it is the reply's own
 *          question name (0x04: its case flipped);
 *          0x02 take the qtype from [4..5]; otherwise the reply's;
 *          0x18 the EDE text: none, 40 bytes, 600 bytes, 3000 bytes
 *   [4..5] qtype (with 0x02)
 *   [6]    qname length N, then N bytes of wire name (with 0x01 only)
 *   rest   the upstream reply
 * A query for that question (class IN, the flags above) is built and
 * parsed with dnsmsg_parse_query(); when it is a valid query, the reply is
 * shaped with dnsmsg_shape().  A successful result must fit max_size and
 * be accepted again by dnsmsg_shape() as a response to the same query;
 * otherwise the target aborts.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dnsmsg.h"
#include "fuzz.h"
#include "fuzz_common.h"

#define CTL_LEN		7

static uint8_t out[DNS_MAX_MSG];
static char ede_text[3001];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	memset(ede_text, 'x', sizeof(ede_text) - 1);
	return 0;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The uncompressed wire name at off in msg: its length, or 0. */
static size_t
wire_name(const uint8_t *msg, size_t len, size_t off)
{
	size_t pos = off;

	while (pos < len && pos - off < DNS_MAX_NAME) {
		if (msg[pos] == 0)
			return pos + 1 - off <= DNS_MAX_NAME ? pos + 1 - off : 0;
		if (msg[pos] > 63)
			return 0;
		pos += (size_t)msg[pos] + 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t text_len[4] = { 0, 40, 600, 3000 };
	uint8_t pkt[DNS_HEADER_LEN + DNS_MAX_NAME + 4 + 11];
	struct dnsmsg_query q;
	struct dnsmsg_shape_opts o;
	const uint8_t *up, *name;
	size_t uplen, namelen, plen, i, tlen;
	uint16_t qtype = DNS_TYPE_A;
	uint8_t f, mode;
	bool reply_name = false;
	int n;

	if (size < CTL_LEN)
		return 0;
	f = data[0];
	mode = data[3];
	up = data + CTL_LEN;
	uplen = size - CTL_LEN;
	if (mode & 0x01) {
		namelen = data[6];
		if (namelen > uplen)
			return 0;
		name = up;
		up += namelen;
		uplen -= namelen;
	} else {
		namelen = wire_name(up, uplen, DNS_HEADER_LEN);
		name = up + DNS_HEADER_LEN;
		reply_name = namelen > 0;
		if (!reply_name) {
			name = (const uint8_t *)"";	/* the root */
			namelen = 1;
		}
	}
	if (namelen > DNS_MAX_NAME)
		return 0;
	if (mode & 0x02)
		qtype = (uint16_t)(data[4] << 8 | data[5]);
	else if (reply_name && uplen >= DNS_HEADER_LEN + namelen + 2)
		qtype = (uint16_t)(up[DNS_HEADER_LEN + namelen] << 8 |
		    up[DNS_HEADER_LEN + namelen + 1]);

	/* The query, as a client would send it. */
	memset(pkt, 0, DNS_HEADER_LEN);
	put16(pkt, 0x5a17);
	pkt[2] = (f & 0x08) ? 0x01 : 0;
	pkt[3] = (uint8_t)(((f & 0x04) ? 0x20 : 0) | ((f & 0x02) ? 0x10 : 0));
	put16(pkt + 4, 1);
	plen = DNS_HEADER_LEN;
	memcpy(pkt + plen, name, namelen);
	if (mode & 0x04)
		for (i = plen; i < plen + namelen; i++)
			if ((pkt[i] | 0x20) >= 'a' && (pkt[i] | 0x20) <= 'z')
				pkt[i] ^= 0x20;
	plen += namelen;
	put16(pkt + plen, qtype);
	put16(pkt + plen + 2, DNS_CLASS_IN);
	plen += 4;
	if (f & 0x40) {
		put16(pkt + 10, 1);
		pkt[plen++] = 0;		/* root */
		put16(pkt + plen, DNS_TYPE_OPT);
		put16(pkt + plen + 2, 4096);
		pkt[plen + 4] = 0;		/* extended rcode */
		pkt[plen + 5] = 0;		/* version */
		pkt[plen + 6] = (f & 0x01) ? 0x80 : 0;
		pkt[plen + 7] = 0;
		put16(pkt + plen + 8, 0);
		plen += 10;
	}
	if (dnsmsg_parse_query(pkt, plen, &q) != 0)
		return 0;

	memset(&o, 0, sizeof(o));
	o.keep_dnssec = (f & 0x10) != 0;
	o.ad = (f & 0x20) != 0;
	o.max_size = DNS_MIN_UDP +
	    (size_t)((data[1] << 8 | data[2]) % (DNS_MAX_MSG - DNS_MIN_UDP + 1));
	o.edns_size = 1232;
	o.ede_code = (f & 0x80) ? DNS_EDE_DNSSEC_BOGUS : DNS_EDE_NONE;
	tlen = text_len[(mode >> 3) & 3];
	o.ede_text = tlen > 0 ? ede_text + sizeof(ede_text) - 1 - tlen : NULL;

	n = dnsmsg_shape(&q, up, uplen, &o, out, sizeof(out));
	if (n > 0)
		fuzz_check_shaped(&q, up, uplen, &o, out, n);
	else if (n != -1)
		fuzz_fail("dnsmsg_shape returned %d into 64 KiB", n);
	return 0;
}
