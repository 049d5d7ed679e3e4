/*
 * fuzz_anchorfile.c -- libFuzzer target: any bytes as the trust anchor
 * state file (libUnbound's autotrust format, or zone-format seed lines).
 *
 * anchorfile_parse() either fails with a message or gives keys; then the
 * trusted set must come out sorted, and equal to itself.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "anchorfile.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct anchor_file af;
	char err[512], **set;
	size_t n = 0, i;

	memset(&af, 0, sizeof(af));
	if (anchorfile_parse((const char *)data, size, "fuzz.anchor", &af, err,
	    sizeof(err)) != 0) {
		if (err[0] == '\0')
			fuzz_fail("anchorfile_parse failed without a reason");
		anchorfile_free(&af);
		return 0;
	}
	if ((set = anchorfile_trusted(&af, &n)) == NULL)
		fuzz_fail("anchorfile_trusted: NULL");
	for (i = 0; i + 1 < n; i++)
		if (strcmp(set[i], set[i + 1]) > 0)
			fuzz_fail("trusted set not sorted at %zu", i);
	if (set[n] != NULL)
		fuzz_fail("trusted set not NULL-terminated");
	if (!anchorfile_set_equal(set, set))
		fuzz_fail("a set differs from itself");
	for (i = 0; i < af.nkeys; i++)
		(void)anchor_key_state_str(af.keys[i].state);
	anchorfile_free_set(set);
	anchorfile_free(&af);
	return 0;
}
