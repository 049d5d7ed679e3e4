/*
 * fuzz_control.c -- libFuzzer target: any bytes as a control request line
 * (control.h).
 *
 * control_parse() either refuses the line or splits it into words; then
 * every word must be non-empty printable ASCII without a space, lie inside
 * the buffer, and the words joined by single spaces must equal the line
 * with its runs of spaces collapsed and trimmed.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "control.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[CONTROL_MAX_LINE], joined[CONTROL_MAX_LINE];
	char want[CONTROL_MAX_LINE];
	char *argv[CONTROL_MAX_ARGS];
	size_t i, j = 0, w = 0;
	int argc, k;

	argc = control_parse((const char *)data, size, argv, CONTROL_MAX_ARGS,
	    buf, sizeof(buf));
	if (argc < 0) {
		/* Refused: too long, a byte outside printable ASCII and
		 * space, or too many words. */
		return 0;
	}
	if (size > CONTROL_MAX_LINE - 1)
		fuzz_fail("a line of %zu bytes was accepted", size);
	if (argc > CONTROL_MAX_ARGS)
		fuzz_fail("%d words", argc);
	for (k = 0; k < argc; k++) {
		size_t n;

		if (argv[k] < buf || argv[k] >= buf + sizeof(buf))
			fuzz_fail("word %d outside the buffer", k);
		n = strlen(argv[k]);
		if (n == 0)
			fuzz_fail("word %d is empty", k);
		for (i = 0; i < n; i++)
			if ((unsigned char)argv[k][i] < 0x21 ||
			    (unsigned char)argv[k][i] > 0x7e)
				fuzz_fail("word %d holds byte %#x", k,
				    (unsigned char)argv[k][i]);
		if (k > 0)
			joined[j++] = ' ';
		memcpy(joined + j, argv[k], n);
		j += n;
	}
	joined[j] = '\0';
	for (i = 0; i < size; i++) {
		if (data[i] == ' ') {
			if (w > 0 && want[w - 1] != ' ')
				want[w++] = ' ';
		} else if (data[i] < 0x21 || data[i] > 0x7e)
			fuzz_fail("byte %#x at %zu accepted", data[i], i);
		else
			want[w++] = (char)data[i];
	}
	if (w > 0 && want[w - 1] == ' ')
		w--;
	want[w] = '\0';
	if (strcmp(joined, want) != 0)
		fuzz_fail("words '%s' do not make up the line '%s'", joined,
		    want);
	return 0;
}
