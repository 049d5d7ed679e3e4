/*
 * fuzz_common.c -- checks the shaping targets share.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"
#include "fuzz.h"
#include "fuzz_common.h"

static uint8_t again[DNS_MAX_MSG];

void
fuzz_check_shaped(const struct dnsmsg_query *q, const uint8_t *up,
    size_t uplen, const struct dnsmsg_shape_opts *o, const uint8_t *out,
    int n)
{
	size_t limit = o->max_size < DNS_MAX_MSG ? o->max_size : DNS_MAX_MSG;
	uint8_t *b;
	int m;

	if (n < DNS_HEADER_LEN)
		fuzz_fail("dnsmsg_shape returned %d", n);
	if ((size_t)n > limit && limit >= DNS_MIN_UDP)
		fuzz_fail("dnsmsg_shape returned %d bytes for max_size %zu",
		    n, o->max_size);
	if (dnsmsg_get_id(out) != q->id || !(out[2] & 0x80))
		fuzz_fail("shaped reply without the query's ID or QR");

	/* The same reply again, into exactly its length (ASan sees a write
	 * past it) and into one byte less, which must be refused. */
	if ((b = malloc((size_t)n)) == NULL)
		abort();
	if ((m = dnsmsg_shape(q, up, uplen, o, b, (size_t)n)) != n)
		fuzz_fail("dnsmsg_shape gave %d, then %d into %d bytes", n, m,
		    n);
	if (memcmp(b, out, (size_t)n) != 0)
		fuzz_fail("dnsmsg_shape wrote different bytes the second time");
	if ((m = dnsmsg_shape(q, up, uplen, o, b, (size_t)n - 1)) != -2)
		fuzz_fail("dnsmsg_shape returned %d into %d bytes for a "
		    "%d-byte reply", m, n - 1, n);
	free(b);

	/* What we send is itself a well-formed response to q. */
	m = dnsmsg_shape(q, out, (size_t)n, o, again, sizeof(again));
	if (m == -1)
		fuzz_fail("dnsmsg_shape's own %d-byte reply is not a "
		    "well-formed response to the query", n);
}
