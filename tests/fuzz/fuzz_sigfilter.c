/*
 * fuzz_sigfilter.c -- libFuzzer target: explain's signature filter
 * rewriting a reply (sigfilter_rewrite), which comes from the upstream.
 *
 * Input layout:
 *   [0]      owner length N (at most 255), then N bytes of wire name
 *   [N+1..2] the type covered
 *   [N+3]    keep length K, then K bytes: the RDATA of the RRSIG kept
 *   rest     the reply
 * A successful rewrite must be a well-formed reply again (dnsmsg_records),
 * with no RRSIG at owner covering that type
 * but the one kept, and with exactly the input's other records, in
 * number.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dnsmsg.h"
#include "fuzz.h"
#include "sigfilter.h"
#include "wire.h"

static uint8_t out[DNS_MAX_MSG];

struct tally {
	const uint8_t *owner, *keep;
	size_t owner_len, keep_len;
	uint16_t covers;
	unsigned other, targeted, kept;
};

static int
tally_cb(void *arg, const struct dnsmsg_record *r)
{
	struct tally *t = arg;

	if (r->type == DNS_TYPE_RRSIG && r->rdlen >= 2 &&
	    get16(r->rdata) == t->covers &&
	    r->owner_len == t->owner_len &&
	    dnsmsg_name_equal(r->owner, t->owner, t->owner_len)) {
		t->targeted++;
		if (r->rdlen == t->keep_len &&
		    memcmp(r->rdata, t->keep, t->keep_len) == 0)
			t->kept++;
	} else
		t->other++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tally in, res;
	size_t n, k, pos;
	uint16_t covers;
	int m;

	if (size < 1 || (n = data[0]) > DNS_MAX_NAME || size < 1 + n + 3)
		return 0;
	covers = get16(data + 1 + n);
	k = data[3 + n];
	pos = 4 + n;
	if (size < pos + k)
		return 0;
	memset(&in, 0, sizeof(in));
	in.owner = data + 1;
	in.owner_len = n;
	in.covers = covers;
	in.keep = data + pos;
	in.keep_len = k;
	res = in;
	pos += k;
	m = sigfilter_rewrite(data + pos, size - pos, data + 1, n, covers,
	    data + 4 + n, k, out, sizeof(out));
	/* -2: names written out whole can outgrow a message. */
	if (m < 0)
		return 0;
	if (dnsmsg_records(data + pos, size - pos, tally_cb, &in) != 0)
		fuzz_fail("rewritten a reply dnsmsg_records refuses");
	if (dnsmsg_records(out, (size_t)m, tally_cb, &res) != 0)
		fuzz_fail("the rewrite is not a well-formed reply");
	if (res.targeted != res.kept || res.kept != in.kept)
		fuzz_fail("RRSIGs of the RRset: %u in, %u kept; out %u, %u "
		    "kept", in.targeted, in.kept, res.targeted, res.kept);
	if (res.other != in.other)
		fuzz_fail("other records: %u in, %u out", in.other, res.other);
	return 0;
}
