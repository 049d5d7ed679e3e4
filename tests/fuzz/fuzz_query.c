/*
 * fuzz_query.c -- libFuzzer target: any bytes as a client's query.
 *
 * dnsmsg_parse_query() reads the input.  When it asks for an error reply
 * (>0), dnsmsg_error() builds it without and with an EDE text; a
 * well-formed query (0) is turned into presentation text with
 * dnsmsg_name_to_str(), and gets the SERVFAIL + EDE reply the worker sends
 * for a bogus answer.  Every reply is built a second time into a heap
 * buffer of exactly its length (ASan sees a write past it) and once into
 * a buffer one byte short, which must be refused; an error reply that
 * echoes the question must be a response dnsmsg_shape() accepts.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"
#include "fuzz.h"

#define EDNS_SIZE	1232

static uint8_t out[DNS_MAX_MSG];
static uint8_t shaped[DNS_MAX_MSG];
static char text[4 * DNS_MAX_NAME + 2];

static const char ede_text[] =
    "fuzz: signature expired for example.com. DNSKEY (a reason text)";

static void
check_error(const struct dnsmsg_query *q, int rcode, int ede,
    const char *txt)
{
	struct dnsmsg_shape_opts o;
	uint8_t *b;
	int n, m, want_rcode;

	n = dnsmsg_error(q, rcode, ede, txt, EDNS_SIZE, out, sizeof(out));
	if (n < DNS_HEADER_LEN)
		fuzz_fail("dnsmsg_error(rcode %d, ede %d) returned %d into "
		    "64 KiB", rcode, ede, n);
	if ((b = malloc((size_t)n)) == NULL)
		abort();
	if ((m = dnsmsg_error(q, rcode, ede, txt, EDNS_SIZE, b, (size_t)n))
	    != n)
		fuzz_fail("dnsmsg_error gave %d, then %d into %d bytes", n, m,
		    n);
	if (memcmp(b, out, (size_t)n) != 0)
		fuzz_fail("dnsmsg_error wrote different bytes the second time");
	if ((m = dnsmsg_error(q, rcode, ede, txt, EDNS_SIZE, b,
	    (size_t)n - 1)) != -1)
		fuzz_fail("dnsmsg_error returned %d into %d bytes for a "
		    "%d-byte reply", m, n - 1, n);
	free(b);

	if (dnsmsg_get_id(out) != q->id || !(out[2] & 0x80))
		fuzz_fail("error reply without the query's ID or QR");
	want_rcode = rcode > 0x0f && !q->edns ? DNS_RCODE_SERVFAIL :
	    rcode & 0x0f;
	if (dnsmsg_get_rcode(out) != want_rcode)
		fuzz_fail("error reply rcode %d, wanted %d",
		    dnsmsg_get_rcode(out), want_rcode);

	/* An error reply that echoes the question and needs no extended
	 * rcode is a well-formed response to q. */
	if (q->question_ok && (rcode <= 0x0f || !q->edns)) {
		memset(&o, 0, sizeof(o));
		o.keep_dnssec = true;
		o.max_size = DNS_MAX_MSG;
		o.edns_size = EDNS_SIZE;
		o.ede_code = DNS_EDE_NONE;
		m = dnsmsg_shape(q, out, (size_t)n, &o, shaped,
		    sizeof(shaped));
		if (m < 0)
			fuzz_fail("dnsmsg_shape returned %d on dnsmsg_error's "
			    "own reply (rcode %d)", m, rcode);
	}
}

static void
check_name(const struct dnsmsg_query *q)
{
	char *b;
	int n, m;

	n = dnsmsg_name_to_str(q->qname, q->qname_len, text, sizeof(text));
	if (n < 1 || (size_t)n != strlen(text))
		fuzz_fail("dnsmsg_name_to_str returned %d on a parsed qname",
		    n);
	if ((b = malloc((size_t)n + 1)) == NULL)
		abort();
	if ((m = dnsmsg_name_to_str(q->qname, q->qname_len, b,
	    (size_t)n + 1)) != n || strcmp(b, text) != 0)
		fuzz_fail("dnsmsg_name_to_str: %d, then %d into %d bytes", n,
		    m, n + 1);
	if ((m = dnsmsg_name_to_str(q->qname, q->qname_len, b,
	    (size_t)n)) != -1)
		fuzz_fail("dnsmsg_name_to_str returned %d into %d bytes for "
		    "%d characters", m, n, n);
	free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dnsmsg_query q;
	size_t limit;
	int rc, n;

	rc = dnsmsg_parse_query(data, size, &q);
	if (rc > 0) {
		check_error(&q, rc, DNS_EDE_NONE, NULL);
		check_error(&q, rc, DNS_EDE_OTHER, ede_text);
	} else if (rc == 0) {
		if (!q.question_ok || q.udp_size < DNS_MIN_UDP)
			fuzz_fail("query accepted without a question or with "
			    "udp_size %u", q.udp_size);
		check_name(&q);
		check_error(&q, DNS_RCODE_SERVFAIL,
		    DNS_EDE_SIGNATURE_EXPIRED, ede_text);
		check_error(&q, DNS_RCODE_SERVFAIL,
		    DNS_EDE_NO_REACHABLE_AUTHORITY, NULL);
		limit = dnsmsg_udp_limit(&q, EDNS_SIZE);
		if (limit < DNS_MIN_UDP || limit > EDNS_SIZE)
			fuzz_fail("dnsmsg_udp_limit returned %zu", limit);
	} else if (rc != -1) {
		fuzz_fail("dnsmsg_parse_query returned %d", rc);
	}

	/* The input itself as a wire name: malformed names are refused,
	 * never read past. */
	n = dnsmsg_name_to_str(data, size, text, sizeof(text));
	if (n >= 0 && (size_t)n != strlen(text))
		fuzz_fail("dnsmsg_name_to_str returned %d for %zu characters",
		    n, strlen(text));
	return 0;
}
