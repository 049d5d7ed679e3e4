/*
 * dnsfix.h -- what the answer cache's suites (check_frontcache.c,
 * check_cachedump.c) build their queries and replies from.
 */
#ifndef DS_DNSFIX_H
#define DS_DNSFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dnsmsg.h"

/* A message being written. */
struct pkt {
	uint8_t b[4096];
	size_t len;
};

/* Append a 16-bit or 32-bit value, network order. */
void p16(struct pkt *p, unsigned v);
void p32(struct pkt *p, uint32_t v);

/* Wire form of a dotted name ("www.example."); returns its length. */
size_t wire_name(const char *s, uint8_t *out);

/* A parsed query for name/type, class IN, RD, with the given bits. */
void make_query(struct dnsmsg_query *q, const char *name, uint16_t type,
    bool do_bit, bool cd, bool edns);

#endif /* DS_DNSFIX_H */
