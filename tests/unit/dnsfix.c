/*
 * dnsfix.c -- query and reply building blocks for the cache suites
 * (dnsfix.h).
 */
#include "config.h"

#include <string.h>

#include "dnsfix.h"

void
p16(struct pkt *p, unsigned v)
{
	p->b[p->len++] = (uint8_t)(v >> 8);
	p->b[p->len++] = (uint8_t)v;
}

void
p32(struct pkt *p, uint32_t v)
{
	p16(p, v >> 16);
	p16(p, v & 0xffff);
}

size_t
wire_name(const char *s, uint8_t *out)
{
	size_t n = 0;

	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		out[n++] = (uint8_t)l;
		memcpy(out + n, s, l);
		n += l;
		s += l + (dot ? 1 : 0);
	}
	out[n++] = 0;
	return n;
}

void
make_query(struct dnsmsg_query *q, const char *name, uint16_t type,
    bool do_bit, bool cd, bool edns)
{
	memset(q, 0, sizeof(*q));
	q->id = 0x1234;
	q->rd = true;
	q->cd = cd;
	q->question_ok = true;
	q->qname_len = wire_name(name, q->qname);
	q->qtype = type;
	q->qclass = DNS_CLASS_IN;
	q->edns = edns;
	q->do_bit = do_bit;
	q->udp_size = edns ? 1232 : 512;
}
