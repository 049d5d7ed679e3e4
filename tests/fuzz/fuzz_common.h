/*
 * fuzz_common.h -- checks the shaping targets share.
 */
#ifndef DS_FUZZ_COMMON_H
#define DS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "dnsmsg.h"

/* n (> 0) is what dnsmsg_shape(q, up, uplen, o, out, 64 KiB) returned.
 * Aborts unless the reply fits o->max_size, has q's ID and QR, is built
 * the same into exactly n bytes, is refused (-2) in n - 1 bytes, and is
 * accepted by dnsmsg_shape() as a response to q (not -1). */
void fuzz_check_shaped(const struct dnsmsg_query *q, const uint8_t *up,
    size_t uplen, const struct dnsmsg_shape_opts *o, const uint8_t *out,
    int n);

#endif /* DS_FUZZ_COMMON_H */
