/*
 * fuzz.h -- what the libFuzzer targets of tests/fuzz share: the entry
 * points libFuzzer calls (declared here for -Wmissing-prototypes) and
 * fuzz_fail(), which reports a broken invariant and aborts so that
 * libFuzzer saves the input as a crash.
 */
#ifndef DS_FUZZ_H
#define DS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define fuzz_fail(...) do {						\
	fprintf(stderr, "%s:%d: invariant broken: ", __FILE__, __LINE__);	\
	fprintf(stderr, __VA_ARGS__);					\
	fputc('\n', stderr);						\
	abort();							\
} while (0)

#endif /* DS_FUZZ_H */
