/*
 * fuzz_synth.c -- libFuzzer target: src/synth.c fed with arbitrary NSEC3
 * (or NSEC) sets.  The input builds a zone (tests/unit/n3model.h: names from a small
 * alphabet, so that wildcards, empty non-terminals and delegations collide
 * with the questions), its NSEC3 parameters, and a sequence of questions;
 * each is either taught (the secure reply a validator passes on, with
 * whatever subset of the chain its proof holds) or asked.  Whatever synth
 * answers must be what the zone holds: NXDOMAIN only for a name that does
 * not exist and no wildcard covers, NODATA only for a name that exists
 * without the type, a wildcard answer only with the wildcard's data, never
 * a NOERROR or NXDOMAIN that a validator would not give as secure.
 *
 * Layout:
 *   byte 0   bit 0 opt-out; bits 1-2 iterations (0..3); bit 3 raw mode;
 *            bit 4 a second chain (another salt) taught as well; bit 5
 *            NSEC records instead of NSEC3
 *   byte 1   salt length (0..7), then the salt
 *   byte     n, the number of names (0..31), then 2 bytes per name: its
 *            shape (name_at) and its types (bit 0 A, 1 TXT, 2 CNAME,
 *            3 NS, 4 DS with NS)
 *   rest     3 bytes per question: shape (name_at), qtype (A, TXT, MX,
 *            CNAME by the low 2 bits; bit 7 teaches instead of asking),
 *            and a clock step (0..15 s)
 * Raw mode: after byte 1 and the salt, the rest is replies (2-byte length,
 * then the bytes) taught for "a.zone.example. A"; then every name shape
 * is asked, and an answer must only be well formed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"
#include "fuzz.h"
#include "log.h"
#include "synth.h"
#include "../unit/n3model.h"

#define WALL	1796601600

static const char *const labels[] = { "a", "b", "*", "c" };
static const uint16_t qtypes[] = {
	DNS_TYPE_A, DNS_TYPE_TXT, DNS_TYPE_MX, DNS_TYPE_CNAME
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ds_log_set_level(DS_LOG_ERR);
	return 0;
}

/* A relative name of 1..3 labels from one byte. */
static void
name_at(uint8_t b, char *out, size_t len)
{
	unsigned depth = 1 + (b & 3) % 3, i;
	size_t o = 0;

	out[0] = '\0';
	b >>= 2;
	for (i = 0; i < depth; i++) {
		o += (size_t)snprintf(out + o, len - o, "%s%s", i ? "." : "",
		    labels[b & 3]);
		b >>= 2;
	}
}

static size_t
qname(uint8_t b, uint8_t *wire)
{
	char rel[16], full[64];

	name_at(b, rel, sizeof(rel));
	snprintf(full, sizeof(full), "%s.zone.example.", rel);
	return (size_t)n3m_wire(full, wire);
}

struct look {
	unsigned answers;
	uint8_t rdata[16];
	size_t rdlen;
};

static int
look_rr(void *arg, const struct dnsmsg_record *r)
{
	struct look *l = arg;

	if (r->section == 0 && r->type != DNS_TYPE_RRSIG) {
		l->answers++;
		if (r->rdlen <= sizeof(l->rdata)) {
			memcpy(l->rdata, r->rdata, r->rdlen);
			l->rdlen = r->rdlen;
		}
	}
	return 0;
}

/* The data of the wildcard the zone expands for name. */
static size_t
wild_rdata(const struct n3model *m, const uint8_t *name, size_t len,
    uint16_t t, uint8_t *rd)
{
	uint8_t w[255];
	size_t pos, wl;

	for (pos = 0; name[pos] != 0; pos += (size_t)name[pos] + 1) {
		wl = len - pos - name[pos] + 1;
		w[0] = 1;
		w[1] = '*';
		memcpy(w + 2, name + pos + name[pos] + 1, wl - 2);
		if (n3m_truth(m, w, wl, t) == N3M_ANSWER)
			return n3m_rdata(w, wl, t, rd);
	}
	return 0;
}

static void
check(const struct n3model *m, const uint8_t *name, size_t len, uint16_t t,
    const uint8_t *pkt, int n, enum synth_kind kind)
{
	enum n3m_truth truth = n3m_truth(m, name, len, t);
	struct look l;
	uint8_t rd[16];
	size_t rdlen;
	bool ok;

	memset(&l, 0, sizeof(l));
	if (dnsmsg_records(pkt, (size_t)n, look_rr, &l) != 0)
		fuzz_fail("synthesised reply does not parse");
	if (!(pkt[3] & 0x20))
		fuzz_fail("synthesised reply without AD");
	switch (kind) {
	case SYNTH_NODATA:
		ok = truth == N3M_NODATA && l.answers == 0;
		break;
	case SYNTH_WILDCARD_NODATA:
		ok = truth == N3M_WILD_NODATA && l.answers == 0;
		break;
	case SYNTH_NXDOMAIN:
		ok = truth == N3M_NXDOMAIN && l.answers == 0 &&
		    dnsmsg_get_rcode(pkt) == DNS_RCODE_NXDOMAIN;
		break;
	case SYNTH_WILDCARD:
		rdlen = wild_rdata(m, name, len, t, rd);
		ok = truth == N3M_WILD_ANSWER && l.answers == 1 &&
		    rdlen == l.rdlen && memcmp(rd, l.rdata, rdlen) == 0;
		break;
	default:
		ok = false;
	}
	if (!ok) {
		char s[1024];

		(void)dnsmsg_name_to_str(name, len, s, sizeof(s));
		fprintf(stderr, "%s type %u: synthesised kind %d, truth %d\n",
		    s, t, kind, truth);
		fuzz_fail("synthesised answer disagrees with the zone");
	}
	if (kind != SYNTH_NXDOMAIN && dnsmsg_get_rcode(pkt) != 0)
		fuzz_fail("rcode");
}

static void
raw(struct synth *s, const uint8_t *data, size_t size)
{
	uint8_t name[255], pkt[8192];
	struct dnsmsg_query q;
	size_t pos = 0, len;
	unsigned b, t;
	int n;

	len = qname(0, name);
	n3m_query(&q, name, len, DNS_TYPE_A);
	while (size - pos >= 2) {
		size_t l = ((size_t)data[pos] << 8 | data[pos + 1]);

		pos += 2;
		if (l > size - pos)
			l = size - pos;
		synth_learn(s, &q, data + pos, l, 1000, WALL);
		pos += l;
	}
	for (b = 0; b < 256; b++)
		for (t = 0; t < 4; t++) {
			struct dnsmsg_query a;

			len = qname((uint8_t)b, name);
			n3m_query(&a, name, len, qtypes[t]);
			n = synth_answer(s, &a, 1001, pkt, sizeof(pkt), NULL);
			if (n > 0 && dnsmsg_records(pkt, (size_t)n, look_rr,
			    &(struct look){ 0, { 0 }, 0 }) != 0)
				fuzz_fail("synthesised reply does not parse");
		}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct n3model m, m2;
	static const uint16_t tset[] = { DNS_TYPE_A, DNS_TYPE_TXT,
	    DNS_TYPE_CNAME, DNS_TYPE_NS };
	struct synth *s;
	uint8_t salt[8], name[255], pkt[8192];
	size_t pos = 0, saltlen, len;
	unsigned nnames, i, j;
	uint32_t now = 1000;
	uint8_t ctl;

	if (size < 2)
		return 0;
	ctl = data[pos++];
	saltlen = data[pos++] & 7;
	if (size - pos < saltlen)
		return 0;
	memcpy(salt, data + pos, saltlen);
	pos += saltlen;
	if ((s = synth_create(1 << 20)) == NULL)
		fuzz_fail("synth_create");
	if (ctl & 8) {
		raw(s, data + pos, size - pos);
		synth_delete(s);
		return 0;
	}
	n3m_init(&m, "zone.example.", (uint16_t)((ctl >> 1) & 3), salt,
	    (uint8_t)saltlen, ctl & 1, WALL);
	nnames = pos < size ? data[pos++] & 31 : 0;
	for (i = 0; i < nnames && size - pos >= 2; i++, pos += 2) {
		uint16_t types[5];
		unsigned nt = 0;
		char rel[16];

		name_at(data[pos], rel, sizeof(rel));
		for (j = 0; j < 4; j++)
			if (data[pos + 1] & (1 << j))
				types[nt++] = tset[j];
		if (nt == 0)
			types[nt++] = DNS_TYPE_A;
		types[nt] = 0;
		(void)n3m_add(&m, rel, types, (data[pos + 1] & 16) != 0);
	}
	m.nsec = (ctl & 32) != 0;
	n3m_build(&m);
	if (ctl & 16) {
		m2 = m;
		m2.salt[m2.saltlen++] = 0x5a;
		n3m_build(&m2);
	}
	for (; size - pos >= 3; pos += 3) {
		struct dnsmsg_query q;
		uint16_t t = qtypes[data[pos + 1] & 3];
		enum synth_kind kind;
		int n;

		now += data[pos + 2] & 15;
		len = qname(data[pos], name);
		n3m_query(&q, name, len, t);
		if (data[pos + 1] & 0x80) {
			const struct n3model *mm = (ctl & 16) &&
			    (data[pos + 1] & 0x40) ? &m2 : &m;

			n = n3m_reply(mm, name, len, t, pkt, sizeof(pkt));
			if (n > 0)
				synth_learn(s, &q, pkt, (size_t)n, now, WALL);
			continue;
		}
		n = synth_answer(s, &q, now, pkt, sizeof(pkt), &kind);
		if (n < 0)
			fuzz_fail("synth_answer: buffer too small");
		if (n > 0)
			check(&m, name, len, t, pkt, n, kind);
	}
	synth_delete(s);
	return 0;
}
