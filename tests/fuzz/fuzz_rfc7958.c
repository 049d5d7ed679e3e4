/*
 * fuzz_rfc7958.c -- libFuzzer target: any bytes as root-anchors.xml.
 *
 * rfc7958_parse() either fails with a reason or gives at least one
 * KeyDigest valid at the fixed time used; rfc7958_to_zone() must then
 * give one DS line per KeyDigest.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "rfc7958.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rfc7958_ds *ds = NULL;
	char err[512], *zone, *p;
	size_t n = 0, lines = 0;

	/* A fixed "now" keeps runs reproducible: 2024-01-01T00:00:00Z. */
	if (rfc7958_parse(data, size, 1704067200, &ds, &n, err,
	    sizeof(err)) != 0) {
		if (ds != NULL || n != 0 || err[0] == '\0')
			fuzz_fail("rfc7958_parse: failure with results or "
			    "without a reason");
		return 0;
	}
	if (n == 0)
		fuzz_fail("rfc7958_parse: success with no key");
	if ((zone = rfc7958_to_zone(ds, n)) == NULL)
		fuzz_fail("rfc7958_to_zone: NULL");
	for (p = zone; *p; p++)
		if (*p == '\n')
			lines++;
	if (lines != n)
		fuzz_fail("rfc7958_to_zone: %zu lines for %zu keys", lines, n);
	free(zone);
	free(ds);
	return 0;
}
