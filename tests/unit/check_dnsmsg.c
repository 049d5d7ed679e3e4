/*
 * check_dnsmsg.c -- unit tests of dnsmsg: query checks, error replies,
 * reply shaping (flags, DNSSEC records, OPT and EDE, compression,
 * truncation) and the small helpers.
 *
 * Packets are built with the p_* helpers and replies are read back with a
 * parser of this file (t_parse), written apart from dnsmsg.c, so that the
 * assertions look at decompressed names and real sections, not at offsets
 * that happen to match.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dnsmsg.h"
#include "suites.h"

#define PKT_MAX		65536
#define TNAME		256
#define TMAX_RR		3000

/* Header flags, byte 2 then byte 3. */
#define T_QR		0x80
#define T_AA		0x04
#define T_TC		0x02
#define T_RD		0x01
#define T_RA		0x80
#define T_Z		0x40
#define T_AD		0x20
#define T_CD		0x10

#define T_CLASS_CH	3
#define T_TYPE_SRV	33
#define T_TYPE_PRIVATE	65280

enum { SEC_AN, SEC_NS, SEC_AR };

struct pkt {
	uint8_t b[PKT_MAX];
	size_t len;
};

/* ---- packet building ---- */

static void
p_u8(struct pkt *p, uint8_t v)
{
	ck_assert_msg(p->len < PKT_MAX, "test helper: packet buffer full");
	p->b[p->len++] = v;
}

static void
p_u16(struct pkt *p, uint16_t v)
{
	p_u8(p, (uint8_t)(v >> 8));
	p_u8(p, (uint8_t)v);
}

static void
p_u32(struct pkt *p, uint32_t v)
{
	p_u16(p, (uint16_t)(v >> 16));
	p_u16(p, (uint16_t)v);
}

static void
p_bytes(struct pkt *p, const void *d, size_t n)
{
	const uint8_t *b = d;
	size_t i;

	for (i = 0; i < n; i++)
		p_u8(p, b[i]);
}

static void
p_set16(struct pkt *p, size_t off, uint16_t v)
{
	p->b[off] = (uint8_t)(v >> 8);
	p->b[off + 1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *b)
{
	return (uint16_t)((b[0] << 8) | b[1]);
}

static uint32_t
get32(const uint8_t *b)
{
	return ((uint32_t)get16(b) << 16) | get16(b + 2);
}

/* The labels of text ("www.example.com." or "www"), without the root
 * label.  Returns the offset of the first label. */
static size_t
p_labels(struct pkt *p, const char *text)
{
	size_t start = p->len;
	const char *s = text;

	while (*s != '\0' && !(s[0] == '.' && s[1] == '\0')) {
		const char *dot = strchr(s, '.');
		size_t n = dot != NULL ? (size_t)(dot - s) : strlen(s);

		p_u8(p, (uint8_t)n);
		p_bytes(p, s, n);
		s += n;
		if (*s == '.')
			s++;
	}
	return start;
}

/* A name: the labels of text (may be NULL), then a pointer to ptr, or the
 * root label when ptr is 0.  Returns where it starts. */
static size_t
p_owner(struct pkt *p, const char *text, uint16_t ptr)
{
	size_t start = p->len;

	if (text != NULL)
		p_labels(p, text);
	if (ptr != 0)
		p_u16(p, (uint16_t)(0xc000 | ptr));
	else
		p_u8(p, 0);
	return start;
}

static size_t
p_name(struct pkt *p, const char *text)
{
	return p_owner(p, text, 0);
}

static void
p_header(struct pkt *p, uint16_t id, uint8_t f2, uint8_t f3, uint16_t qd,
    uint16_t an, uint16_t ns, uint16_t ar)
{
	p->len = 0;
	p_u16(p, id);
	p_u8(p, f2);
	p_u8(p, f3);
	p_u16(p, qd);
	p_u16(p, an);
	p_u16(p, ns);
	p_u16(p, ar);
}

static void
p_question(struct pkt *p, const char *name, uint16_t type, uint16_t cls)
{
	p_name(p, name);
	p_u16(p, type);
	p_u16(p, cls);
}

static void
p_count(struct pkt *p, int sec)
{
	size_t off = 6 + 2 * (size_t)sec;

	p_set16(p, off, (uint16_t)(get16(p->b + off) + 1));
}

/* Type, class, TTL and a zero RDLENGTH; returns the RDLENGTH offset for
 * p_rdend once the RDATA is written. */
static size_t
p_rr(struct pkt *p, uint16_t type, uint16_t cls, uint32_t ttl)
{
	size_t off;

	p_u16(p, type);
	p_u16(p, cls);
	p_u32(p, ttl);
	off = p->len;
	p_u16(p, 0);
	return off;
}

static void
p_rdend(struct pkt *p, size_t rdlen_off)
{
	p_set16(p, rdlen_off, (uint16_t)(p->len - rdlen_off - 2));
}

static void
add_a(struct pkt *p, int sec, const char *owner, uint16_t ptr, uint8_t last)
{
	size_t r;

	p_count(p, sec);
	p_owner(p, owner, ptr);
	r = p_rr(p, DNS_TYPE_A, DNS_CLASS_IN, 300);
	p_u32(p, 0xc0000200u | last);
	p_rdend(p, r);
}

static void
add_rrsig(struct pkt *p, int sec, const char *owner, uint16_t ptr,
    uint16_t covered)
{
	static const uint8_t sig[16] = "0123456789abcdef";
	size_t r;

	p_count(p, sec);
	p_owner(p, owner, ptr);
	r = p_rr(p, DNS_TYPE_RRSIG, DNS_CLASS_IN, 300);
	p_u16(p, covered);
	p_u8(p, 8);
	p_u8(p, 2);
	p_u32(p, 300);
	p_u32(p, 0x70000000u);
	p_u32(p, 0x60000000u);
	p_u16(p, 4711);
	p_name(p, "example.com.");	/* signer: never compressed */
	p_bytes(p, sig, sizeof(sig));
	p_rdend(p, r);
}

static void
add_nsec(struct pkt *p, int sec, const char *owner, uint16_t ptr)
{
	static const uint8_t bitmap[] = { 0, 2, 0x60, 0x01 };
	size_t r;

	p_count(p, sec);
	p_owner(p, owner, ptr);
	r = p_rr(p, DNS_TYPE_NSEC, DNS_CLASS_IN, 300);
	p_name(p, "zzz.example.com.");
	p_bytes(p, bitmap, sizeof(bitmap));
	p_rdend(p, r);
}

static void
add_nsec3(struct pkt *p, int sec, const char *owner, uint16_t ptr)
{
	size_t r, i;

	p_count(p, sec);
	p_owner(p, owner, ptr);
	r = p_rr(p, DNS_TYPE_NSEC3, DNS_CLASS_IN, 300);
	p_u8(p, 1);
	p_u8(p, 0);
	p_u16(p, 0);
	p_u8(p, 0);
	p_u8(p, 20);
	for (i = 0; i < 20; i++)
		p_u8(p, (uint8_t)(0xc0 + i));
	p_u16(p, 0x0001);
	p_u8(p, 0x40);
	p_rdend(p, r);
}

/* An OPT record; pad > 0 adds a Padding option (RFC 7830) of pad bytes. */
static void
add_opt(struct pkt *p, uint16_t udp, uint8_t version, bool do_bit,
    uint16_t pad)
{
	size_t r, i;

	p_count(p, SEC_AR);
	p_u8(p, 0);
	p_u16(p, DNS_TYPE_OPT);
	p_u16(p, udp);
	p_u8(p, 0);
	p_u8(p, version);
	p_u8(p, do_bit ? 0x80 : 0);
	p_u8(p, 0);
	r = p->len;
	p_u16(p, 0);
	if (pad > 0) {
		p_u16(p, 12);
		p_u16(p, pad);
		for (i = 0; i < pad; i++)
			p_u8(p, 0);
	}
	p_rdend(p, r);
}

static void
mk_query(struct pkt *p, const char *name, uint16_t type, bool edns,
    uint16_t udp, bool do_bit)
{
	p_header(p, 0x1234, T_RD, 0, 1, 0, 0, 0);
	p_question(p, name, type, DNS_CLASS_IN);
	if (edns)
		add_opt(p, udp, 0, do_bit, 0);
}

static void
mk_up(struct pkt *p, uint8_t f2, uint8_t f3, const char *name,
    uint16_t type)
{
	p_header(p, 0x9999, f2, f3, 1, 0, 0, 0);
	p_question(p, name, type, DNS_CLASS_IN);
}

/*
 * The upstream answer most shaping tests use, for a qname of the form
 * www.example.com. (any case), so that offset 16 is "example.com.":
 *   AN  www A 192.0.2.1; www RRSIG A
 *   NS  example.com NS ns1.example.com; RRSIG NS; NSEC; abcdef NSEC3
 *   AR  ns1 A 192.0.2.53 (owner points into the NS RDATA); OPT, padded
 */
static void
mk_std_up(struct pkt *p, const char *qname)
{
	size_t r, ns1;

	mk_up(p, T_QR | T_RD, T_RA | T_AD, qname, DNS_TYPE_A);
	add_a(p, SEC_AN, NULL, 12, 1);
	add_rrsig(p, SEC_AN, NULL, 12, DNS_TYPE_A);
	p_count(p, SEC_NS);
	p_owner(p, NULL, 16);
	r = p_rr(p, DNS_TYPE_NS, DNS_CLASS_IN, 3600);
	ns1 = p_owner(p, "ns1", 16);
	p_rdend(p, r);
	add_rrsig(p, SEC_NS, NULL, 16, DNS_TYPE_NS);
	add_nsec(p, SEC_NS, NULL, 16);
	add_nsec3(p, SEC_NS, "abcdef", 16);
	add_a(p, SEC_AR, NULL, (uint16_t)ns1, 53);
	add_opt(p, 1232, 0, true, 20);
}

/* ---- reading replies back, independently of dnsmsg.c ---- */

struct trr {
	int sec;
	char owner[TNAME];
	uint16_t type, rclass;
	uint32_t ttl;
	size_t off;		/* where the record starts */
	size_t rdoff, rdlen;
};

struct tmsg {
	uint16_t id;
	uint8_t f2, f3;
	uint16_t count[4];
	char qname[TNAME];
	uint16_t qtype, qclass;
	size_t qend;		/* offset after the question */
	size_t nrr;
	struct trr rr[TMAX_RR];
};

/* Decompress the name at *pos into dotted text (label bytes as they are:
 * the tests use plain labels).  Pointers must point backward; labels are
 * at most 63 bytes and names at most 255. */
static bool
t_name(const uint8_t *m, size_t len, size_t *pos, char *out)
{
	size_t p = *pos, wire = 1, o = 0, hops = 0;
	bool jumped = false;

	for (;;) {
		uint8_t b;

		if (p >= len)
			return false;
		b = m[p];
		if (b == 0)
			break;
		if ((b & 0xc0) == 0xc0) {
			size_t t;

			if (p + 1 >= len || ++hops > 130)
				return false;
			t = ((size_t)(b & 0x3f) << 8) | m[p + 1];
			if (t >= p)
				return false;
			if (!jumped)
				*pos = p + 2;
			jumped = true;
			p = t;
			continue;
		}
		if (b > 63 || p + 1 + b > len)
			return false;
		wire += 1 + (size_t)b;
		if (wire > DNS_MAX_NAME)
			return false;
		memcpy(out + o, m + p + 1, b);
		o += b;
		out[o++] = '.';
		p += 1 + (size_t)b;
	}
	if (!jumped)
		*pos = p + 1;
	if (o == 0)
		out[o++] = '.';
	out[o] = '\0';
	return true;
}

/* Walk a whole reply; false unless every count matches the records and
 * the last record ends exactly at len. */
static bool
t_parse(const uint8_t *m, size_t len, struct tmsg *t)
{
	size_t pos = DNS_HEADER_LEN, i;
	int s;

	if (len < DNS_HEADER_LEN)
		return false;
	t->id = get16(m);
	t->f2 = m[2];
	t->f3 = m[3];
	for (i = 0; i < 4; i++)
		t->count[i] = get16(m + 4 + 2 * i);
	t->nrr = 0;
	t->qname[0] = '\0';
	if (t->count[0] > 1)
		return false;
	if (t->count[0] == 1) {
		if (!t_name(m, len, &pos, t->qname) || len - pos < 4)
			return false;
		t->qtype = get16(m + pos);
		t->qclass = get16(m + pos + 2);
		pos += 4;
	}
	t->qend = pos;
	for (s = 0; s < 3; s++) {
		for (i = 0; i < t->count[s + 1]; i++) {
			struct trr *r;

			if (t->nrr >= TMAX_RR)
				return false;
			r = &t->rr[t->nrr++];
			r->sec = s;
			r->off = pos;
			if (!t_name(m, len, &pos, r->owner) || len - pos < 10)
				return false;
			r->type = get16(m + pos);
			r->rclass = get16(m + pos + 2);
			r->ttl = get32(m + pos + 4);
			r->rdlen = get16(m + pos + 8);
			r->rdoff = pos + 10;
			if (len - r->rdoff < r->rdlen)
				return false;
			pos = r->rdoff + r->rdlen;
		}
	}
	return pos == len;
}

static const struct trr *
t_find(const struct tmsg *t, int sec, uint16_t type, size_t nth)
{
	size_t i;

	for (i = 0; i < t->nrr; i++)
		if (t->rr[i].sec == sec && t->rr[i].type == type && nth-- == 0)
			return &t->rr[i];
	return NULL;
}

static size_t
t_ntype(const struct tmsg *t, int sec, uint16_t type)
{
	size_t i, n = 0;

	for (i = 0; i < t->nrr; i++)
		if (t->rr[i].sec == sec && t->rr[i].type == type)
			n++;
	return n;
}

/* ---- common setups ---- */

static void
q_make(struct dnsmsg_query *q, const char *name, uint16_t type, bool edns,
    bool do_bit)
{
	struct pkt p;
	int rc;

	mk_query(&p, name, type, edns, 4096, do_bit);
	rc = dnsmsg_parse_query(p.b, p.len, q);
	ck_assert_msg(rc == 0, "test setup: query for %s parses (got %d)",
	    name, rc);
}

static struct dnsmsg_shape_opts
opts_default(void)
{
	struct dnsmsg_shape_opts o;

	memset(&o, 0, sizeof(o));
	o.ad = false;
	o.keep_dnssec = false;
	o.max_size = DNS_MAX_MSG;
	o.edns_size = 1232;
	o.ede_code = DNS_EDE_NONE;
	o.ede_text = NULL;
	return o;
}

static int
pq(const struct pkt *p, struct dnsmsg_query *q)
{
	return dnsmsg_parse_query(p->b, p->len, q);
}

/* ==== dnsmsg_parse_query ==== */

START_TEST(pq_short)
{
	struct pkt p;
	struct dnsmsg_query q;

	mk_query(&p, "example.com.", DNS_TYPE_A, false, 0, false);
	ck_assert_msg(dnsmsg_parse_query(p.b, DNS_HEADER_LEN - 1, &q) == -1,
	    "dnsmsg_parse_query: truncated header -> drop");
	ck_assert_msg(dnsmsg_parse_query(p.b, 0, &q) == -1,
	    "dnsmsg_parse_query: empty packet -> drop");
}
END_TEST

START_TEST(pq_qr)
{
	struct pkt p;
	struct dnsmsg_query q;

	mk_query(&p, "example.com.", DNS_TYPE_A, false, 0, false);
	p.b[2] |= T_QR;
	ck_assert_msg(pq(&p, &q) == -1,
	    "dnsmsg_parse_query: QR=1 -> drop");
	/* Even a bare header with QR=1 and an otherwise bad opcode. */
	p_header(&p, 1, T_QR | (5 << 3), 0, 0, 0, 0, 0);
	ck_assert_msg(pq(&p, &q) == -1,
	    "dnsmsg_parse_query: QR=1 wins over opcode -> drop");
}
END_TEST

START_TEST(pq_ok)
{
	struct pkt p;
	struct dnsmsg_query q;

	mk_query(&p, "www.example.com.", DNS_TYPE_AAAA, false, 0, false);
	ck_assert_msg(pq(&p, &q) == 0,
	    "dnsmsg_parse_query: plain query -> 0");
	ck_assert_msg(q.id == 0x1234, "dnsmsg_parse_query: plain query id");
	ck_assert_msg(q.opcode == 0 && q.rd && !q.cd && !q.ad,
	    "dnsmsg_parse_query: plain query flags");
	ck_assert_msg(q.question_ok, "dnsmsg_parse_query: question_ok");
	ck_assert_msg(q.qname_len == 17 &&
	    memcmp(q.qname, p.b + 12, 17) == 0,
	    "dnsmsg_parse_query: qname copied in wire form");
	ck_assert_msg(q.qtype == DNS_TYPE_AAAA && q.qclass == DNS_CLASS_IN,
	    "dnsmsg_parse_query: qtype/qclass");
	ck_assert_msg(!q.edns && !q.do_bit && q.edns_version == 0 &&
	    q.udp_size == 512,
	    "dnsmsg_parse_query: no EDNS -> udp_size 512, DO clear");
}
END_TEST

START_TEST(pq_root_name)
{
	struct pkt p;
	struct dnsmsg_query q;

	mk_query(&p, ".", DNS_TYPE_NS, false, 0, false);
	ck_assert_msg(pq(&p, &q) == 0 && q.qname_len == 1 &&
	    q.qname[0] == 0, "dnsmsg_parse_query: root qname -> 0");
}
END_TEST

START_TEST(pq_case_kept)
{
	struct pkt p;
	struct dnsmsg_query q;

	mk_query(&p, "WwW.ExAmPlE.CoM.", DNS_TYPE_A, false, 0, false);
	ck_assert_msg(pq(&p, &q) == 0,
	    "dnsmsg_parse_query: mixed case -> 0");
	ck_assert_msg(q.qname_len == 17 &&
	    memcmp(q.qname, "\3WwW\7ExAmPlE\3CoM", 17) == 0,
	    "dnsmsg_parse_query: qname case kept");
}
END_TEST

START_TEST(pq_flags)
{
	struct pkt p;
	struct dnsmsg_query q;

	mk_query(&p, "example.com.", DNS_TYPE_A, false, 0, false);
	p.b[2] = 0;
	p.b[3] = T_CD;
	ck_assert_msg(pq(&p, &q) == 0 && q.cd && !q.ad && !q.rd,
	    "dnsmsg_parse_query: CD only");
	p.b[3] = T_AD;
	ck_assert_msg(pq(&p, &q) == 0 && !q.cd && q.ad && !q.rd,
	    "dnsmsg_parse_query: AD only");
	p.b[2] = T_RD;
	p.b[3] = 0;
	ck_assert_msg(pq(&p, &q) == 0 && !q.cd && !q.ad && q.rd,
	    "dnsmsg_parse_query: RD only");
	p.b[2] = T_RD | T_TC;
	p.b[3] = T_AD | T_CD | T_Z;
	ck_assert_msg(pq(&p, &q) == 0 && q.cd && q.ad && q.rd,
	    "dnsmsg_parse_query: all flags (TC, Z ignored)");
}
END_TEST

START_TEST(pq_opcode)
{
	struct pkt p;
	struct dnsmsg_query q;
	int op;

	for (op = 1; op < 16; op++) {
		mk_query(&p, "example.com.", DNS_TYPE_A, true, 4096, true);
		p.b[2] = (uint8_t)((op << 3) | T_RD);
		ck_assert_msg(pq(&p, &q) == DNS_RCODE_NOTIMP,
		    "dnsmsg_parse_query: opcode %d -> NOTIMP", op);
		ck_assert_msg(q.opcode == op && q.id == 0x1234 && q.rd,
		    "dnsmsg_parse_query: opcode %d header kept", op);
		ck_assert_msg(!q.question_ok && !q.edns,
		    "dnsmsg_parse_query: opcode %d -> nothing parsed", op);
	}
}
END_TEST

START_TEST(pq_qdcount)
{
	struct pkt p;
	struct dnsmsg_query q;

	mk_query(&p, "example.com.", DNS_TYPE_A, false, 0, false);
	p_set16(&p, 4, 0);
	ck_assert_msg(pq(&p, &q) == DNS_RCODE_FORMERR && !q.question_ok,
	    "dnsmsg_parse_query: QDCOUNT 0 -> FORMERR");
	p_set16(&p, 4, 2);
	ck_assert_msg(pq(&p, &q) == DNS_RCODE_FORMERR && !q.question_ok,
	    "dnsmsg_parse_query: QDCOUNT 2 -> FORMERR");
}
END_TEST

START_TEST(pq_an_ns_count)
{
	struct pkt p;
	struct dnsmsg_query q;

	mk_query(&p, "example.com.", DNS_TYPE_A, false, 0, false);
	add_a(&p, SEC_AN, NULL, 12, 1);
	ck_assert_msg(pq(&p, &q) == DNS_RCODE_FORMERR,
	    "dnsmsg_parse_query: ANCOUNT 1 -> FORMERR");
	mk_query(&p, "example.com.", DNS_TYPE_A, false, 0, false);
	add_a(&p, SEC_NS, NULL, 12, 1);
	ck_assert_msg(pq(&p, &q) == DNS_RCODE_FORMERR,
	    "dnsmsg_parse_query: NSCOUNT 1 -> FORMERR");
}
END_TEST

START_TEST(pq_compressed_qname)
{
	struct pkt p;
	struct dnsmsg_query q;

	p_header(&p, 7, 0, 0, 1, 0, 0, 0);
	p_owner(&p, "www", 12);
	p_u16(&p, DNS_TYPE_A);
	p_u16(&p, DNS_CLASS_IN);
	ck_assert_msg(pq(&p, &q) == DNS_RCODE_FORMERR && !q.question_ok,
	    "dnsmsg_parse_query: compressed qname -> FORMERR");
	p_header(&p, 7, 0, 0, 1, 0, 0, 0);
	p_u16(&p, 0xc000 | 4);
	p_u16(&p, DNS_TYPE_A);
	p_u16(&p, DNS_CLASS_IN);
	ck_assert_msg(pq(&p, &q) == DNS_RCODE_FORMERR,
	    "dnsmsg_parse_query: qname pointer into header -> FORMERR");
}
END_TEST

START_TEST(pq_label_types)
{
	struct pkt p;
	struct dnsmsg_query q;
	static const uint8_t types[] = { 0x40, 0x80, 0x41, 0xbf };
	size_t i;

	for (i = 0; i < sizeof(types); i++) {
		p_header(&p, 7, 0, 0, 1, 0, 0, 0);
		p_labels(&p, "www");
		p_u8(&p, types[i]);
		p_bytes(&p, "example", 7);
		p_u8(&p, 0);
		p_u16(&p, DNS_TYPE_A);
		p_u16(&p, DNS_CLASS_IN);
		ck_assert_msg(pq(&p, &q) == DNS_RCODE_FORMERR,
		    "dnsmsg_parse_query: label byte 0x%02x -> FORMERR",
		    types[i]);
	}
}
END_TEST

/* A name of n labels of len bytes each, as text. */
static void
long_name(char *buf, size_t n, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		memset(buf + o, (int)('a' + i % 26), len);
		o += len;
		buf[o++] = '.';
	}
	buf[o] = '\0';
}

START_TEST(pq_name_length)
{
	struct pkt p;
	struct dnsmsg_query q;
	char name[600];

	/* 3 * 64 + 62 + 1 = 255 bytes: the longest name. */
	long_name(name, 3, 63);
	long_name(name + strlen(name), 1, 61);
	mk_query(&p, name, DNS_TYPE_A, false, 0, false);
	ck_assert_msg(pq(&p, &q) == 0 && q.qname_len == 255,
	    "dnsmsg_parse_query: 255-byte name -> 0");
	/* 4 * 64 + 1 = 257 bytes. */
	long_name(name, 4, 63);
	mk_query(&p, name, DNS_TYPE_A, false, 0, false);
	ck_assert_msg(pq(&p, &q) == DNS_RCODE_FORMERR,
	    "dnsmsg_parse_query: 257-byte name -> FORMERR");
	/* 3 * 64 + 63 + 1 = 256 bytes. */
	long_name(name, 3, 63);
	long_name(name + strlen(name), 1, 62);
	mk_query(&p, name, DNS_TYPE_A, false, 0, false);
	ck_assert_msg(pq(&p, &q) == DNS_RCODE_FORMERR,
	    "dnsmsg_parse_query: 256-byte name -> FORMERR");
	/* 127 labels of 1 byte: 255 bytes; 128 of them: 257. */
	long_name(name, 127, 1);
	mk_query(&p, name, DNS_TYPE_A, false, 0, false);
	ck_assert_msg(pq(&p, &q) == 0 && q.qname_len == 255,
	    "dnsmsg_parse_query: 127 labels -> 0");
	long_name(name, 128, 1);
	mk_query(&p, name, DNS_TYPE_A, false, 0, false);
	ck_assert_msg(pq(&p, &q) == DNS_RCODE_FORMERR,
	    "dnsmsg_parse_query: 128 labels -> FORMERR");
}
END_TEST

START_TEST(pq_truncated_name)
{
	struct pkt p;
	struct dnsmsg_query q;

	mk_query(&p, "www.example.com.", DNS_TYPE_A, false, 0, false);
	ck_assert_msg(dnsmsg_parse_query(p.b, 12 + 16, &q) ==
	    DNS_RCODE_FORMERR && !q.question_ok,
	    "dnsmsg_parse_query: name without root -> FORMERR");
	ck_assert_msg(dnsmsg_parse_query(p.b, 12 + 6, &q) ==
	    DNS_RCODE_FORMERR,
	    "dnsmsg_parse_query: label cut by end -> FORMERR");
	ck_assert_msg(dnsmsg_parse_query(p.b, 12, &q) == DNS_RCODE_FORMERR,
	    "dnsmsg_parse_query: header only -> FORMERR");
}
END_TEST

START_TEST(pq_truncated_question)
{
	struct pkt p;
	struct dnsmsg_query q;

	mk_query(&p, "www.example.com.", DNS_TYPE_A, false, 0, false);
	ck_assert_msg(dnsmsg_parse_query(p.b, p.len - 1, &q) ==
	    DNS_RCODE_FORMERR && !q.question_ok,
	    "dnsmsg_parse_query: qclass cut -> FORMERR");
	ck_assert_msg(dnsmsg_parse_query(p.b, p.len - 4, &q) ==
	    DNS_RCODE_FORMERR && !q.question_ok,
	    "dnsmsg_parse_query: qtype missing -> FORMERR");
}
END_TEST

START_TEST(pq_formerr_qtypes)
{
	static const uint16_t types[] = {
		0, DNS_TYPE_OPT, DNS_TYPE_TSIG, DNS_TYPE_TKEY
	};
	struct pkt p;
	struct dnsmsg_query q;
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		mk_query(&p, "example.com.", types[i], false, 0, false);
		ck_assert_msg(pq(&p, &q) == DNS_RCODE_FORMERR,
		    "dnsmsg_parse_query: qtype %u -> FORMERR", types[i]);
		ck_assert_msg(q.question_ok && q.qtype == types[i],
		    "dnsmsg_parse_query: qtype %u question kept", types[i]);
	}
}
END_TEST

START_TEST(pq_notimp_qtypes)
{
	static const uint16_t types[] = {
		DNS_TYPE_AXFR, DNS_TYPE_IXFR, DNS_TYPE_MAILA, DNS_TYPE_MAILB
	};
	struct pkt p;
	struct dnsmsg_query q;
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		mk_query(&p, "example.com.", types[i], true, 1400, false);
		ck_assert_msg(pq(&p, &q) == DNS_RCODE_NOTIMP,
		    "dnsmsg_parse_query: qtype %u -> NOTIMP", types[i]);
		ck_assert_msg(q.question_ok && q.edns,
		    "dnsmsg_parse_query: qtype %u question and EDNS kept",
		    types[i]);
	}
	/* ANY is an ordinary query here. */
	mk_query(&p, "example.com.", DNS_TYPE_ANY, false, 0, false);
	ck_assert_msg(pq(&p, &q) == 0, "dnsmsg_parse_query: ANY -> 0");
}
END_TEST

START_TEST(pq_class)
{
	static const uint16_t classes[] = { 0, T_CLASS_CH, 4, 254, 255 };
	struct pkt p;
	struct dnsmsg_query q;
	size_t i;

	for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		p_header(&p, 7, 0, 0, 1, 0, 0, 0);
		p_question(&p, "version.bind.", 16, classes[i]);
		ck_assert_msg(pq(&p, &q) == DNS_RCODE_REFUSED &&
		    q.question_ok && q.qclass == classes[i],
		    "dnsmsg_parse_query: class %u -> REFUSED", classes[i]);
	}
}
END_TEST

START_TEST(pq_edns)
{
	struct pkt p;
	struct dnsmsg_query q;

	mk_query(&p, "example.com.", DNS_TYPE_A, true, 4096, true);
	ck_assert_msg(pq(&p, &q) == 0, "dnsmsg_parse_query: EDNS -> 0");
	ck_assert_msg(q.edns && q.udp_size == 4096 && q.do_bit &&
	    q.edns_version == 0, "dnsmsg_parse_query: EDNS 4096 DO");
	mk_query(&p, "example.com.", DNS_TYPE_A, true, 1232, false);
	ck_assert_msg(pq(&p, &q) == 0 && q.edns && q.udp_size == 1232 &&
	    !q.do_bit, "dnsmsg_parse_query: EDNS 1232 no DO");
	mk_query(&p, "example.com.", DNS_TYPE_A, true, 100, false);
	ck_assert_msg(pq(&p, &q) == 0 && q.udp_size == 512,
	    "dnsmsg_parse_query: EDNS size 100 -> 512");
	mk_query(&p, "example.com.", DNS_TYPE_A, true, 0, false);
	ck_assert_msg(pq(&p, &q) == 0 && q.udp_size == 512,
	    "dnsmsg_parse_query: EDNS size 0 -> 512");
	mk_query(&p, "example.com.", DNS_TYPE_A, true, 512, false);
	ck_assert_msg(pq(&p, &q) == 0 && q.udp_size == 512,
	    "dnsmsg_parse_query: EDNS size 512");
	mk_query(&p, "example.com.", DNS_TYPE_A, true, 65535, true);
	ck_assert_msg(pq(&p, &q) == 0 && q.udp_size == 65535,
	    "dnsmsg_parse_query: EDNS size 65535");
}
END_TEST

START_TEST(pq_badvers)
{
	struct pkt p;
	struct dnsmsg_query q;

	p_header(&p, 0x4321, T_RD, 0, 1, 0, 0, 0);
	p_question(&p, "example.com.", DNS_TYPE_A, DNS_CLASS_IN);
	add_opt(&p, 1400, 1, true, 0);
	ck_assert_msg(pq(&p, &q) == DNS_RCODE_BADVERS,
	    "dnsmsg_parse_query: EDNS version 1 -> BADVERS");
	ck_assert_msg(q.edns && q.edns_version == 1 && q.udp_size == 1400 &&
	    q.do_bit && q.question_ok,
	    "dnsmsg_parse_query: BADVERS fills the EDNS fields");
	p.b[p.len - 5] = 255;
	ck_assert_msg(pq(&p, &q) == DNS_RCODE_BADVERS &&
	    q.edns_version == 255,
	    "dnsmsg_parse_query: EDNS version 255 -> BADVERS");
}
END_TEST

START_TEST(pq_opt_owner)
{
	struct pkt p;
	struct dnsmsg_query q;
	size_t r;

	mk_query(&p, "example.com.", DNS_TYPE_A, false, 0, false);
	p_count(&p, SEC_AR);
	p_name(&p, "example.");
	r = p_rr(&p, DNS_TYPE_OPT, 4096, 0);
	p_rdend(&p, r);
	ck_assert_msg(pq(&p, &q) == DNS_RCODE_FORMERR,
	    "dnsmsg_parse_query: OPT not owned by root -> FORMERR");
	mk_query(&p, "example.com.", DNS_TYPE_A, false, 0, false);
	p_count(&p, SEC_AR);
	p_owner(&p, NULL, 12);
	r = p_rr(&p, DNS_TYPE_OPT, 4096, 0);
	p_rdend(&p, r);
	ck_assert_msg(pq(&p, &q) == DNS_RCODE_FORMERR,
	    "dnsmsg_parse_query: OPT owned by qname pointer -> FORMERR");
}
END_TEST

START_TEST(pq_two_opts)
{
	struct pkt p;
	struct dnsmsg_query q;

	mk_query(&p, "example.com.", DNS_TYPE_A, true, 4096, false);
	add_opt(&p, 4096, 0, false, 0);
	ck_assert_msg(pq(&p, &q) == DNS_RCODE_FORMERR,
	    "dnsmsg_parse_query: two OPTs -> FORMERR");
	ck_assert_msg(q.edns && q.question_ok,
	    "dnsmsg_parse_query: two OPTs, first one recorded");
}
END_TEST

START_TEST(pq_opt_options)
{
	struct pkt p;
	struct dnsmsg_query q;
	size_t r;

	/* A client cookie and an empty option: well formed. */
	mk_query(&p, "example.com.", DNS_TYPE_A, false, 0, false);
	p_count(&p, SEC_AR);
	p_u8(&p, 0);
	r = p_rr(&p, DNS_TYPE_OPT, 4096, 0x8000);
	p_u16(&p, 10);
	p_u16(&p, 8);
	p_bytes(&p, "cookie!!", 8);
	p_u16(&p, 65001);
	p_u16(&p, 0);
	p_rdend(&p, r);
	ck_assert_msg(pq(&p, &q) == 0 && q.edns && q.do_bit,
	    "dnsmsg_parse_query: OPT with options -> 0");

	/* Option data longer than the RDATA. */
	mk_query(&p, "example.com.", DNS_TYPE_A, false, 0, false);
	p_count(&p, SEC_AR);
	p_u8(&p, 0);
	r = p_rr(&p, DNS_TYPE_OPT, 4096, 0);
	p_u16(&p, 10);
	p_u16(&p, 8);
	p_bytes(&p, "cook", 4);
	p_rdend(&p, r);
	p_bytes(&p, "ie!!", 4);	/* the rest lies after the RDATA */
	ck_assert_msg(pq(&p, &q) == DNS_RCODE_FORMERR && q.edns,
	    "dnsmsg_parse_query: option overruns RDATA -> FORMERR");

	/* Half an option header. */
	mk_query(&p, "example.com.", DNS_TYPE_A, false, 0, false);
	p_count(&p, SEC_AR);
	p_u8(&p, 0);
	r = p_rr(&p, DNS_TYPE_OPT, 4096, 0);
	p_u16(&p, 10);
	p_u8(&p, 0);
	p_rdend(&p, r);
	ck_assert_msg(pq(&p, &q) == DNS_RCODE_FORMERR,
	    "dnsmsg_parse_query: partial option header -> FORMERR");
}
END_TEST

START_TEST(pq_truncated_record)
{
	struct pkt p;
	struct dnsmsg_query q;

	mk_query(&p, "example.com.", DNS_TYPE_A, true, 4096, false);
	p_set16(&p, p.len - 2, 4);	/* RDLENGTH 4, no RDATA */
	ck_assert_msg(pq(&p, &q) == DNS_RCODE_FORMERR,
	    "dnsmsg_parse_query: OPT RDATA past the end -> FORMERR");
	mk_query(&p, "example.com.", DNS_TYPE_A, true, 4096, false);
	ck_assert_msg(dnsmsg_parse_query(p.b, p.len - 3, &q) ==
	    DNS_RCODE_FORMERR && !q.edns,
	    "dnsmsg_parse_query: OPT fixed part cut -> FORMERR");
	mk_query(&p, "example.com.", DNS_TYPE_A, false, 0, false);
	add_a(&p, SEC_AR, "x.", 0, 1);
	ck_assert_msg(dnsmsg_parse_query(p.b, p.len - 1, &q) ==
	    DNS_RCODE_FORMERR,
	    "dnsmsg_parse_query: additional A cut -> FORMERR");
	mk_query(&p, "example.com.", DNS_TYPE_A, true, 4096, false);
	p_set16(&p, 10, 2);
	ck_assert_msg(pq(&p, &q) == DNS_RCODE_FORMERR,
	    "dnsmsg_parse_query: ARCOUNT beyond records -> FORMERR");
}
END_TEST

START_TEST(pq_additional_skip)
{
	struct pkt p;
	struct dnsmsg_query q;

	/* A non-OPT record with a compressed owner before the OPT. */
	mk_query(&p, "example.com.", DNS_TYPE_A, false, 0, false);
	add_a(&p, SEC_AR, "x", 12, 1);
	add_opt(&p, 2048, 0, true, 0);
	add_a(&p, SEC_AR, NULL, 12, 2);
	ck_assert_msg(pq(&p, &q) == 0,
	    "dnsmsg_parse_query: non-OPT additional skipped -> 0");
	ck_assert_msg(q.edns && q.udp_size == 2048 && q.do_bit,
	    "dnsmsg_parse_query: OPT after other records read");
	/* ... but its owner is still checked. */
	mk_query(&p, "example.com.", DNS_TYPE_A, false, 0, false);
	add_a(&p, SEC_AR, NULL, 400, 1);
	ck_assert_msg(pq(&p, &q) == DNS_RCODE_FORMERR,
	    "dnsmsg_parse_query: forward pointer in additional -> FORMERR");
}
END_TEST

START_TEST(pq_trailing)
{
	struct pkt p;
	struct dnsmsg_query q;

	mk_query(&p, "example.com.", DNS_TYPE_A, true, 4096, false);
	p_bytes(&p, "\xff\xff\xff", 3);
	ck_assert_msg(pq(&p, &q) == 0 && q.edns,
	    "dnsmsg_parse_query: trailing bytes ignored -> 0");
}
END_TEST

START_TEST(pq_precedence)
{
	struct pkt p;
	struct dnsmsg_query q;

	/* Opcode is checked before the counts. */
	p_header(&p, 1, 2 << 3, 0, 0, 3, 0, 0);
	ck_assert_msg(pq(&p, &q) == DNS_RCODE_NOTIMP,
	    "dnsmsg_parse_query: opcode over QDCOUNT -> NOTIMP");
	/* The counts before the question. */
	p_header(&p, 1, 0, 0, 1, 1, 0, 0);
	p_u8(&p, 0x40);
	ck_assert_msg(pq(&p, &q) == DNS_RCODE_FORMERR && !q.question_ok,
	    "dnsmsg_parse_query: ANCOUNT over bad name -> FORMERR");
	/* A malformed additional section over a NOTIMP qtype. */
	mk_query(&p, "example.com.", DNS_TYPE_AXFR, true, 4096, false);
	add_opt(&p, 4096, 0, false, 0);
	ck_assert_msg(pq(&p, &q) == DNS_RCODE_FORMERR,
	    "dnsmsg_parse_query: two OPTs over AXFR -> FORMERR");
	/* A malformed additional section over BADVERS in the same OPT. */
	p_header(&p, 1, 0, 0, 1, 0, 0, 0);
	p_question(&p, "example.com.", DNS_TYPE_A, DNS_CLASS_IN);
	add_opt(&p, 4096, 1, false, 0);
	p_set16(&p, p.len - 2, 3);
	p_bytes(&p, "\0\12\0", 3);
	ck_assert_msg(pq(&p, &q) == DNS_RCODE_FORMERR,
	    "dnsmsg_parse_query: bad options over BADVERS -> FORMERR");
	/* BADVERS over the question's checks. */
	p_header(&p, 1, 0, 0, 1, 0, 0, 0);
	p_question(&p, "example.com.", DNS_TYPE_TKEY, T_CLASS_CH);
	add_opt(&p, 4096, 1, false, 0);
	ck_assert_msg(pq(&p, &q) == DNS_RCODE_BADVERS,
	    "dnsmsg_parse_query: BADVERS over TKEY and CH -> BADVERS");
	/* qtype FORMERR over class. */
	p_header(&p, 1, 0, 0, 1, 0, 0, 0);
	p_question(&p, "example.com.", DNS_TYPE_OPT, T_CLASS_CH);
	ck_assert_msg(pq(&p, &q) == DNS_RCODE_FORMERR,
	    "dnsmsg_parse_query: qtype OPT over class CH -> FORMERR");
	/* qtype NOTIMP over class. */
	p_header(&p, 1, 0, 0, 1, 0, 0, 0);
	p_question(&p, "example.com.", DNS_TYPE_AXFR, T_CLASS_CH);
	ck_assert_msg(pq(&p, &q) == DNS_RCODE_NOTIMP,
	    "dnsmsg_parse_query: AXFR over class CH -> NOTIMP");
}
END_TEST

/* ==== dnsmsg_error ==== */

START_TEST(err_plain)
{
	struct pkt p;
	struct dnsmsg_query q;
	static struct tmsg t;
	uint8_t out[512];
	int n;

	mk_query(&p, "WwW.Example.COM.", DNS_TYPE_A, false, 0, false);
	p.b[3] = T_CD | T_AD;
	ck_assert(pq(&p, &q) == 0);
	n = dnsmsg_error(&q, DNS_RCODE_SERVFAIL, DNS_EDE_NONE, NULL, 1232,
	    out, sizeof(out));
	ck_assert_msg(n == 12 + 17 + 4,
	    "dnsmsg_error: SERVFAIL without EDNS length (got %d)", n);
	ck_assert_msg(t_parse(out, (size_t)n, &t),
	    "dnsmsg_error: SERVFAIL reply parses");
	ck_assert_msg(t.id == 0x1234, "dnsmsg_error: ID echoed");
	ck_assert_msg(t.f2 == (T_QR | T_RD),
	    "dnsmsg_error: QR, opcode QUERY, RD (got 0x%02x)", t.f2);
	ck_assert_msg(t.f3 == (T_RA | T_CD | DNS_RCODE_SERVFAIL),
	    "dnsmsg_error: RA, CD, rcode, no AD (got 0x%02x)", t.f3);
	ck_assert_msg(t.count[0] == 1 && t.count[1] == 0 &&
	    t.count[2] == 0 && t.count[3] == 0,
	    "dnsmsg_error: counts 1/0/0/0 without EDNS");
	ck_assert_msg(memcmp(out + 12, p.b + 12, 17 + 4) == 0,
	    "dnsmsg_error: question echoed with its case");

	q.rd = false;
	q.cd = false;
	n = dnsmsg_error(&q, DNS_RCODE_REFUSED, DNS_EDE_PROHIBITED, "no",
	    1232, out, sizeof(out));
	ck_assert_msg(n == 33 && out[2] == T_QR &&
	    out[3] == (T_RA | DNS_RCODE_REFUSED) && get16(out + 10) == 0,
	    "dnsmsg_error: REFUSED, no RD/CD, EDE without EDNS -> no OPT");
}
END_TEST

START_TEST(err_no_question)
{
	struct pkt p;
	struct dnsmsg_query q;
	uint8_t out[512];
	int n;

	mk_query(&p, "example.com.", DNS_TYPE_A, false, 0, false);
	p.b[2] = (4 << 3) | T_RD;	/* NOTIFY */
	ck_assert(pq(&p, &q) == DNS_RCODE_NOTIMP);
	n = dnsmsg_error(&q, DNS_RCODE_NOTIMP, DNS_EDE_NONE, NULL, 1232, out,
	    sizeof(out));
	ck_assert_msg(n == 12, "dnsmsg_error: no question -> header only");
	ck_assert_msg(out[2] == (T_QR | (4 << 3) | T_RD),
	    "dnsmsg_error: opcode echoed (got 0x%02x)", out[2]);
	ck_assert_msg(out[3] == (T_RA | DNS_RCODE_NOTIMP) &&
	    get16(out + 4) == 0 && get16(out + 10) == 0,
	    "dnsmsg_error: NOTIMP, QDCOUNT 0");

	/* A truncated question is not echoed either. */
	mk_query(&p, "example.com.", DNS_TYPE_A, false, 0, false);
	ck_assert(dnsmsg_parse_query(p.b, p.len - 2, &q) ==
	    DNS_RCODE_FORMERR);
	n = dnsmsg_error(&q, DNS_RCODE_FORMERR, DNS_EDE_NONE, NULL, 1232, out,
	    sizeof(out));
	ck_assert_msg(n == 12 && get16(out + 4) == 0 &&
	    (out[3] & 0x0f) == DNS_RCODE_FORMERR,
	    "dnsmsg_error: FORMERR for a cut question, no question");
}
END_TEST

START_TEST(err_edns)
{
	static const uint8_t opt[] = {
		0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0
	};
	struct dnsmsg_query q;
	static struct tmsg t;
	uint8_t out[512];
	int n;

	q_make(&q, "example.com.", DNS_TYPE_A, true, true);
	n = dnsmsg_error(&q, DNS_RCODE_SERVFAIL, DNS_EDE_NONE, NULL, 1232,
	    out, sizeof(out));
	ck_assert_msg(n == 12 + 13 + 4 + 11,
	    "dnsmsg_error: EDNS, no EDE length (got %d)", n);
	ck_assert_msg(t_parse(out, (size_t)n, &t) && t.count[3] == 1,
	    "dnsmsg_error: EDNS reply has one additional");
	ck_assert_msg(memcmp(out + n - 11, opt, 11) == 0,
	    "dnsmsg_error: OPT bytes (size 1232, DO) exact");

	q.do_bit = false;
	n = dnsmsg_error(&q, DNS_RCODE_SERVFAIL, DNS_EDE_NONE, NULL, 4096,
	    out, sizeof(out));
	ck_assert_msg(n == 40 && get16(out + n - 8) == 4096 &&
	    out[n - 4] == 0, "dnsmsg_error: OPT size 4096, DO clear");
}
END_TEST

START_TEST(err_ede)
{
	static const uint8_t opt[] = {
		0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 13,
		0, 15, 0, 9, 0, 18, 'b', 'l', 'o', 'c', 'k', 'e', 'd'
	};
	static const uint8_t opt_notext[] = {
		0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 6,
		0, 15, 0, 2, 0, 6
	};
	struct dnsmsg_query q;
	static struct tmsg t;
	uint8_t out[512];
	int n;

	q_make(&q, "example.com.", DNS_TYPE_A, true, false);
	n = dnsmsg_error(&q, DNS_RCODE_REFUSED, DNS_EDE_PROHIBITED, "blocked",
	    1232, out, sizeof(out));
	ck_assert_msg(n == 29 + (int)sizeof(opt),
	    "dnsmsg_error: EDE with text length (got %d)", n);
	ck_assert_msg(t_parse(out, (size_t)n, &t),
	    "dnsmsg_error: EDE reply parses");
	ck_assert_msg(memcmp(out + 29, opt, sizeof(opt)) == 0,
	    "dnsmsg_error: EDE option bytes with text exact");

	n = dnsmsg_error(&q, DNS_RCODE_SERVFAIL, DNS_EDE_DNSSEC_BOGUS, NULL,
	    1232, out, sizeof(out));
	ck_assert_msg(n == 29 + (int)sizeof(opt_notext) &&
	    memcmp(out + 29, opt_notext, sizeof(opt_notext)) == 0,
	    "dnsmsg_error: EDE option bytes without text exact");

	n = dnsmsg_error(&q, DNS_RCODE_SERVFAIL, DNS_EDE_OTHER, "", 1232,
	    out, sizeof(out));
	ck_assert_msg(n == 29 + 17 && get16(out + 29 + 15) == 0,
	    "dnsmsg_error: EDE code 0 with empty text");
}
END_TEST

START_TEST(err_badvers)
{
	struct pkt p;
	struct dnsmsg_query q;
	static struct tmsg t;
	uint8_t out[512];
	int n;

	p_header(&p, 0x4321, T_RD, 0, 1, 0, 0, 0);
	p_question(&p, "example.com.", DNS_TYPE_A, DNS_CLASS_IN);
	add_opt(&p, 1400, 1, true, 0);
	ck_assert(pq(&p, &q) == DNS_RCODE_BADVERS);
	n = dnsmsg_error(&q, DNS_RCODE_BADVERS, DNS_EDE_NONE, NULL, 1232,
	    out, sizeof(out));
	ck_assert_msg(n > 0 && t_parse(out, (size_t)n, &t),
	    "dnsmsg_error: BADVERS reply parses");
	ck_assert_msg((out[3] & 0x0f) == 0,
	    "dnsmsg_error: BADVERS low bits 0 in header");
	ck_assert_msg(t.count[3] == 1 && t.rr[0].type == DNS_TYPE_OPT,
	    "dnsmsg_error: BADVERS has an OPT");
	ck_assert_msg(t.rr[0].ttl == 0x01008000u,
	    "dnsmsg_error: BADVERS OPT TTL ext-rcode 1, version 0, DO "
	    "(got 0x%08x)", t.rr[0].ttl);
	ck_assert_msg(t.rr[0].rclass == 1232,
	    "dnsmsg_error: BADVERS OPT carries our size");
}
END_TEST

START_TEST(err_outlen)
{
	struct dnsmsg_query q;
	uint8_t out[512];
	int n, m;
	size_t len;

	q_make(&q, "example.com.", DNS_TYPE_A, true, false);
	n = dnsmsg_error(&q, DNS_RCODE_SERVFAIL, DNS_EDE_NETWORK_ERROR,
	    "upstream down", 1232, out, sizeof(out));
	ck_assert_msg(n > 0, "dnsmsg_error: full buffer works");
	m = dnsmsg_error(&q, DNS_RCODE_SERVFAIL, DNS_EDE_NETWORK_ERROR,
	    "upstream down", 1232, out, (size_t)n);
	ck_assert_msg(m == n, "dnsmsg_error: exact buffer works");
	for (len = 0; len < (size_t)n; len++) {
		m = dnsmsg_error(&q, DNS_RCODE_SERVFAIL, DNS_EDE_NETWORK_ERROR,
		    "upstream down", 1232, out, len);
		ck_assert_msg(m == -1,
		    "dnsmsg_error: buffer of %zu < %d -> -1", len, n);
	}
}
END_TEST

/* ==== dnsmsg_shape ==== */

static int
shape(const struct dnsmsg_query *q, const struct pkt *up,
    const struct dnsmsg_shape_opts *o, uint8_t *out, size_t outlen)
{
	return dnsmsg_shape(q, up->b, up->len, o, out, outlen);
}

START_TEST(sh_id_case)
{
	struct dnsmsg_query q;
	struct dnsmsg_shape_opts o = opts_default();
	struct pkt up;
	static struct tmsg t;
	static uint8_t out[PKT_MAX];
	int n;

	q_make(&q, "WwW.ExAmple.COM.", DNS_TYPE_A, false, false);
	mk_std_up(&up, "www.example.com.");
	n = shape(&q, &up, &o, out, sizeof(out));
	ck_assert_msg(n > 0, "dnsmsg_shape: case-different question -> ok");
	ck_assert_msg(t_parse(out, (size_t)n, &t),
	    "dnsmsg_shape: reply parses");
	ck_assert_msg(t.id == 0x1234, "dnsmsg_shape: client ID restored");
	ck_assert_msg(memcmp(out + 12, q.qname, q.qname_len) == 0 &&
	    t.qtype == DNS_TYPE_A && t.qclass == DNS_CLASS_IN,
	    "dnsmsg_shape: client's question bytes restored");
	ck_assert_msg(get16(out + t.qend) == (0xc000 | 12),
	    "dnsmsg_shape: answer owner is a pointer to the question");
	ck_assert_msg(strcmp(t.rr[0].owner, "WwW.ExAmple.COM.") == 0,
	    "dnsmsg_shape: answer owner decompresses to the qname");
}
END_TEST

START_TEST(sh_flags)
{
	struct dnsmsg_query q;
	struct dnsmsg_shape_opts o = opts_default();
	struct pkt up;
	static uint8_t out[PKT_MAX];
	int n, i;

	q_make(&q, "www.example.com.", DNS_TYPE_A, false, false);
	mk_std_up(&up, "www.example.com.");
	for (i = 0; i < 32; i++) {
		bool ad = i & 1, rd = i & 2, cd = i & 4, aa = i & 8;
		bool up_ad = i & 16;
		uint8_t f2, f3;

		q.rd = rd;
		q.cd = cd;
		o.ad = ad;
		/* Upstream: opcode bits and RD must not leak through. */
		up.b[2] = (uint8_t)(T_QR | (aa ? T_AA : 0) | (rd ? 0 : T_RD));
		up.b[3] = (uint8_t)((up_ad ? T_AD : 0) | (cd ? 0 : T_CD) |
		    T_Z | DNS_RCODE_NXDOMAIN);
		n = shape(&q, &up, &o, out, sizeof(out));
		ck_assert_msg(n > 0, "dnsmsg_shape: flags case %d -> ok", i);
		f2 = (uint8_t)(T_QR | (aa ? T_AA : 0) | (rd ? T_RD : 0));
		f3 = (uint8_t)(T_RA | (ad ? T_AD : 0) | (cd ? T_CD : 0) |
		    DNS_RCODE_NXDOMAIN);
		ck_assert_msg(out[2] == f2,
		    "dnsmsg_shape: flags case %d byte 2 0x%02x != 0x%02x", i,
		    out[2], f2);
		ck_assert_msg(out[3] == f3,
		    "dnsmsg_shape: flags case %d byte 3 0x%02x != 0x%02x", i,
		    out[3], f3);
	}
	/* A truncated upstream answer is not passed on as complete. */
	up.b[2] = T_QR | T_TC;
	up.b[3] = T_RA;
	n = shape(&q, &up, &o, out, sizeof(out));
	ck_assert_msg(n > 0 && (out[2] & T_TC),
	    "dnsmsg_shape: upstream TC=1 -> TC=1");
	/* Upstream opcode other than QUERY: ours is QUERY anyway. */
	up.b[2] = T_QR | (2 << 3);
	up.b[3] = T_RA | DNS_RCODE_SERVFAIL;
	n = shape(&q, &up, &o, out, sizeof(out));
	ck_assert_msg(n > 0 && (out[2] & 0x78) == 0 &&
	    dnsmsg_get_rcode(out) == DNS_RCODE_SERVFAIL,
	    "dnsmsg_shape: opcode QUERY, rcode SERVFAIL from upstream");
}
END_TEST

START_TEST(sh_strip_dnssec)
{
	struct dnsmsg_query q;
	struct dnsmsg_shape_opts o = opts_default();
	struct pkt up;
	static struct tmsg t;
	static uint8_t out[PKT_MAX];
	int n;

	q_make(&q, "www.example.com.", DNS_TYPE_A, false, false);
	mk_std_up(&up, "www.example.com.");
	n = shape(&q, &up, &o, out, sizeof(out));
	ck_assert_msg(n > 0 && t_parse(out, (size_t)n, &t),
	    "dnsmsg_shape: !keep_dnssec reply parses");
	ck_assert_msg(t.count[1] == 1 && t.rr[0].type == DNS_TYPE_A,
	    "dnsmsg_shape: !keep_dnssec answer is the A only");
	ck_assert_msg(t.count[2] == 1 &&
	    t_ntype(&t, SEC_NS, DNS_TYPE_NS) == 1,
	    "dnsmsg_shape: !keep_dnssec authority is the NS only");
	ck_assert_msg(t.count[3] == 1 &&
	    t_ntype(&t, SEC_AR, DNS_TYPE_A) == 1,
	    "dnsmsg_shape: !keep_dnssec additional is the glue only");
	ck_assert_msg(strcmp(t_find(&t, SEC_AR, DNS_TYPE_A, 0)->owner,
	    "ns1.example.com.") == 0,
	    "dnsmsg_shape: glue owner (pointer into NS RDATA) right");

	/* RRSIG in the additional section too. */
	mk_std_up(&up, "www.example.com.");
	add_rrsig(&up, SEC_AR, "ns1", 16, DNS_TYPE_A);
	n = shape(&q, &up, &o, out, sizeof(out));
	ck_assert_msg(n > 0 && t_parse(out, (size_t)n, &t) &&
	    t.count[3] == 1 && t_ntype(&t, SEC_AR, DNS_TYPE_RRSIG) == 0,
	    "dnsmsg_shape: !keep_dnssec strips additional RRSIG");
}
END_TEST

START_TEST(sh_keep_dnssec)
{
	struct dnsmsg_query q;
	struct dnsmsg_shape_opts o = opts_default();
	struct pkt up;
	static struct tmsg t;
	static uint8_t out[PKT_MAX];
	const struct trr *r;
	int n;

	q_make(&q, "www.example.com.", DNS_TYPE_A, true, true);
	mk_std_up(&up, "www.example.com.");
	o.keep_dnssec = true;
	o.ad = true;
	n = shape(&q, &up, &o, out, sizeof(out));
	ck_assert_msg(n > 0 && t_parse(out, (size_t)n, &t),
	    "dnsmsg_shape: keep_dnssec reply parses");
	ck_assert_msg(t.count[1] == 2 &&
	    t_ntype(&t, SEC_AN, DNS_TYPE_A) == 1 &&
	    t_ntype(&t, SEC_AN, DNS_TYPE_RRSIG) == 1,
	    "dnsmsg_shape: keep_dnssec answer A + RRSIG");
	ck_assert_msg(t.count[2] == 4 &&
	    t_ntype(&t, SEC_NS, DNS_TYPE_NS) == 1 &&
	    t_ntype(&t, SEC_NS, DNS_TYPE_RRSIG) == 1 &&
	    t_ntype(&t, SEC_NS, DNS_TYPE_NSEC) == 1 &&
	    t_ntype(&t, SEC_NS, DNS_TYPE_NSEC3) == 1,
	    "dnsmsg_shape: keep_dnssec authority NS, RRSIG, NSEC, NSEC3");
	r = t_find(&t, SEC_NS, DNS_TYPE_NSEC3, 0);
	ck_assert_msg(strcmp(r->owner, "abcdef.example.com.") == 0,
	    "dnsmsg_shape: NSEC3 owner right");
	ck_assert_msg(t.count[3] == 2 &&
	    t_ntype(&t, SEC_AR, DNS_TYPE_A) == 1 &&
	    t.rr[t.nrr - 1].type == DNS_TYPE_OPT,
	    "dnsmsg_shape: keep_dnssec additional glue + our OPT last");
	ck_assert_msg(out[3] & T_AD, "dnsmsg_shape: AD set when asked");
}
END_TEST

START_TEST(sh_qtype_dnssec)
{
	static const uint16_t types[] = {
		DNS_TYPE_RRSIG, DNS_TYPE_NSEC, DNS_TYPE_NSEC3
	};
	struct dnsmsg_query q;
	struct dnsmsg_shape_opts o = opts_default();
	struct pkt up;
	static struct tmsg t;
	static uint8_t out[PKT_MAX];
	size_t i;
	int n;

	for (i = 0; i < 3; i++) {
		uint16_t ty = types[i];

		q_make(&q, "www.example.com.", ty, false, false);
		mk_up(&up, T_QR | T_RD, T_RA, "www.example.com.", ty);
		/* One record of each DNSSEC type in the answer, and an
		 * RRSIG and an NSEC in the authority. */
		add_rrsig(&up, SEC_AN, NULL, 12, DNS_TYPE_A);
		add_nsec(&up, SEC_AN, NULL, 12);
		add_nsec3(&up, SEC_AN, NULL, 12);
		add_rrsig(&up, SEC_NS, NULL, 16, DNS_TYPE_SOA);
		add_nsec(&up, SEC_NS, NULL, 16);
		n = shape(&q, &up, &o, out, sizeof(out));
		ck_assert_msg(n > 0 && t_parse(out, (size_t)n, &t),
		    "dnsmsg_shape: qtype %u reply parses", ty);
		ck_assert_msg(t.count[1] == 1 && t.rr[0].type == ty,
		    "dnsmsg_shape: qtype %u keeps only its own type in the "
		    "answer", ty);
		ck_assert_msg(t.count[2] == (ty == DNS_TYPE_NSEC3 ? 0 : 1) &&
		    (t.count[2] == 0 || t.rr[1].type == ty),
		    "dnsmsg_shape: qtype %u authority keeps only its type",
		    ty);
	}
}
END_TEST

START_TEST(sh_opt)
{
	struct dnsmsg_query q;
	struct dnsmsg_shape_opts o = opts_default();
	struct pkt up;
	static struct tmsg t;
	static uint8_t out[PKT_MAX];
	const struct trr *r;
	int n;

	/* Upstream's OPT (with padding) is gone when the client had none. */
	q_make(&q, "www.example.com.", DNS_TYPE_A, false, false);
	mk_std_up(&up, "www.example.com.");
	n = shape(&q, &up, &o, out, sizeof(out));
	ck_assert_msg(n > 0 && t_parse(out, (size_t)n, &t) &&
	    t_ntype(&t, SEC_AR, DNS_TYPE_OPT) == 0,
	    "dnsmsg_shape: no EDNS in query -> no OPT");

	/* Ours replaces it when the client had one. */
	q_make(&q, "www.example.com.", DNS_TYPE_A, true, true);
	o.edns_size = 1400;
	n = shape(&q, &up, &o, out, sizeof(out));
	ck_assert_msg(n > 0 && t_parse(out, (size_t)n, &t) &&
	    t_ntype(&t, SEC_AR, DNS_TYPE_OPT) == 1,
	    "dnsmsg_shape: EDNS in query -> exactly one OPT");
	r = t_find(&t, SEC_AR, DNS_TYPE_OPT, 0);
	ck_assert_msg(strcmp(r->owner, ".") == 0 && r->rclass == 1400 &&
	    r->ttl == 0x00008000u && r->rdlen == 0,
	    "dnsmsg_shape: our OPT: root, size 1400, DO, no padding");

	q_make(&q, "www.example.com.", DNS_TYPE_A, true, false);
	n = shape(&q, &up, &o, out, sizeof(out));
	ck_assert_msg(n > 0 && t_parse(out, (size_t)n, &t),
	    "dnsmsg_shape: EDNS without DO parses");
	r = t_find(&t, SEC_AR, DNS_TYPE_OPT, 0);
	ck_assert_msg(r != NULL && r->ttl == 0,
	    "dnsmsg_shape: our OPT without DO");

	/* An extended rcode cannot be carried in 4 bits: refused. */
	mk_std_up(&up, "www.example.com.");
	mk_up(&up, T_QR, T_RA, "www.example.com.", DNS_TYPE_A);
	add_opt(&up, 4096, 0, false, 0);
	up.b[up.len - 6] = 1;	/* the TTL's top byte: BADVERS */
	n = shape(&q, &up, &o, out, sizeof(out));
	ck_assert_msg(n == -1,
	    "dnsmsg_shape: upstream extended rcode -> -1 (got %d)", n);

	/* An OPT in the answer section is dropped too. */
	mk_up(&up, T_QR, T_RA, "www.example.com.", DNS_TYPE_A);
	add_opt(&up, 4096, 0, false, 4);
	p_set16(&up, 10, 0);
	p_set16(&up, 6, 1);
	add_a(&up, SEC_AN, NULL, 12, 7);
	n = shape(&q, &up, &o, out, sizeof(out));
	ck_assert_msg(n > 0 && t_parse(out, (size_t)n, &t) &&
	    t.count[1] == 1 && t.rr[0].type == DNS_TYPE_A &&
	    t_ntype(&t, SEC_AR, DNS_TYPE_OPT) == 1,
	    "dnsmsg_shape: OPT in the answer section dropped");
}
END_TEST

START_TEST(sh_ede)
{
	static const uint8_t opt[] = {
		0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 11,
		0, 15, 0, 7, 0, 3, 's', 't', 'a', 'l', 'e'
	};
	struct dnsmsg_query q;
	struct dnsmsg_shape_opts o = opts_default();
	struct pkt up;
	static struct tmsg t;
	static uint8_t out[PKT_MAX];
	int n;

	q_make(&q, "www.example.com.", DNS_TYPE_A, true, true);
	mk_std_up(&up, "www.example.com.");
	o.ede_code = DNS_EDE_STALE_ANSWER;
	o.ede_text = "stale";
	n = shape(&q, &up, &o, out, sizeof(out));
	ck_assert_msg(n > (int)sizeof(opt) && t_parse(out, (size_t)n, &t),
	    "dnsmsg_shape: EDE reply parses");
	ck_assert_msg(memcmp(out + n - sizeof(opt), opt, sizeof(opt)) == 0,
	    "dnsmsg_shape: EDE option bytes exact at the end");

	o.ede_text = NULL;
	n = shape(&q, &up, &o, out, sizeof(out));
	ck_assert_msg(n > 0 && get16(out + n - 2) == 3 &&
	    get16(out + n - 4) == 2 && get16(out + n - 6) == 15,
	    "dnsmsg_shape: EDE without text");

	q_make(&q, "www.example.com.", DNS_TYPE_A, false, false);
	o.ede_text = "stale";
	n = shape(&q, &up, &o, out, sizeof(out));
	ck_assert_msg(n > 0 && t_parse(out, (size_t)n, &t) &&
	    t_ntype(&t, SEC_AR, DNS_TYPE_OPT) == 0,
	    "dnsmsg_shape: EDE without EDNS in query -> no OPT");
}
END_TEST

START_TEST(sh_ptr_into_stripped)
{
	struct dnsmsg_query q;
	struct dnsmsg_shape_opts o = opts_default();
	struct pkt up;
	static struct tmsg t;
	static uint8_t out[PKT_MAX];
	const struct trr *r;
	size_t sub, rr, pos;
	char name[TNAME];
	int n;

	q_make(&q, "www.example.com.", DNS_TYPE_A, false, false);
	mk_up(&up, T_QR, T_RA, "www.example.com.", DNS_TYPE_A);
	/* The only literal "sub" label lies in an RRSIG that goes. */
	p_count(&up, SEC_NS);
	sub = p_owner(&up, "sub", 16);
	rr = p_rr(&up, DNS_TYPE_RRSIG, DNS_CLASS_IN, 60);
	p_bytes(&up, "\0\2\10\3", 4);
	p_rdend(&up, rr);
	p_count(&up, SEC_NS);
	p_owner(&up, NULL, (uint16_t)sub);
	rr = p_rr(&up, DNS_TYPE_NS, DNS_CLASS_IN, 60);
	p_owner(&up, "ns1", (uint16_t)sub);
	p_rdend(&up, rr);
	add_a(&up, SEC_AR, "ns1", (uint16_t)sub, 9);
	n = shape(&q, &up, &o, out, sizeof(out));
	ck_assert_msg(n > 0 && t_parse(out, (size_t)n, &t),
	    "dnsmsg_shape: pointer into stripped record -> parses");
	ck_assert_msg(t.count[2] == 1 && t.rr[0].type == DNS_TYPE_NS,
	    "dnsmsg_shape: pointer into stripped record, NS kept only");
	ck_assert_msg(strcmp(t.rr[0].owner, "sub.example.com.") == 0,
	    "dnsmsg_shape: owner via stripped record is %s", t.rr[0].owner);
	pos = t.rr[0].rdoff;
	ck_assert_msg(t_name(out, (size_t)n, &pos, name) &&
	    strcmp(name, "ns1.sub.example.com.") == 0 &&
	    pos == t.rr[0].rdoff + t.rr[0].rdlen,
	    "dnsmsg_shape: NS RDATA via stripped record is %s", name);
	r = t_find(&t, SEC_AR, DNS_TYPE_A, 0);
	ck_assert_msg(r != NULL &&
	    strcmp(r->owner, "ns1.sub.example.com.") == 0,
	    "dnsmsg_shape: glue owner via stripped record");
	/* And compressed: the glue owner is one pointer. */
	ck_assert_msg(out[r->off] >= 0xc0,
	    "dnsmsg_shape: glue owner compressed to the NS target");
}
END_TEST

START_TEST(sh_soa)
{
	struct dnsmsg_query q;
	struct dnsmsg_shape_opts o = opts_default();
	struct pkt up;
	static struct tmsg t;
	static uint8_t out[PKT_MAX];
	const struct trr *r;
	size_t rr, mname, pos;
	char name[TNAME];
	uint8_t tail[20];
	int n, i;

	q_make(&q, "nope.example.com.", DNS_TYPE_A, false, false);
	mk_up(&up, T_QR | T_AA, T_RA | DNS_RCODE_NXDOMAIN,
	    "nope.example.com.", DNS_TYPE_A);
	p_count(&up, SEC_NS);
	p_owner(&up, NULL, 17);
	rr = p_rr(&up, DNS_TYPE_SOA, DNS_CLASS_IN, 3600);
	mname = p_name(&up, "ns1.example.com.");
	p_owner(&up, "hostmaster", (uint16_t)(mname + 4));
	for (i = 0; i < 20; i++)
		tail[i] = (uint8_t)(i * 13 + 1);
	p_bytes(&up, tail, 20);
	p_rdend(&up, rr);
	ck_assert(get16(up.b + rr) == 17 + 13 + 20);
	n = shape(&q, &up, &o, out, sizeof(out));
	ck_assert_msg(n > 0 && t_parse(out, (size_t)n, &t),
	    "dnsmsg_shape: SOA reply parses");
	ck_assert_msg(dnsmsg_get_rcode(out) == DNS_RCODE_NXDOMAIN &&
	    (out[2] & T_AA), "dnsmsg_shape: NXDOMAIN and AA kept");
	r = t_find(&t, SEC_NS, DNS_TYPE_SOA, 0);
	ck_assert_msg(r != NULL && strcmp(r->owner, "example.com.") == 0,
	    "dnsmsg_shape: SOA owner");
	pos = r->rdoff;
	ck_assert_msg(t_name(out, (size_t)n, &pos, name) &&
	    strcmp(name, "ns1.example.com.") == 0,
	    "dnsmsg_shape: SOA MNAME is %s", name);
	ck_assert_msg(t_name(out, (size_t)n, &pos, name) &&
	    strcmp(name, "hostmaster.example.com.") == 0,
	    "dnsmsg_shape: SOA RNAME is %s", name);
	ck_assert_msg(pos + 20 == r->rdoff + r->rdlen &&
	    memcmp(out + pos, tail, 20) == 0,
	    "dnsmsg_shape: SOA numbers copied, RDLENGTH recomputed");
	/* ns1 + pointer, hostmaster + pointer, 20 bytes. */
	ck_assert_msg(r->rdlen == 6 + 13 + 20,
	    "dnsmsg_shape: SOA MNAME compressed (RDLENGTH %zu)", r->rdlen);
}
END_TEST

START_TEST(sh_mx_cname)
{
	struct dnsmsg_query q;
	struct dnsmsg_shape_opts o = opts_default();
	struct pkt up;
	static struct tmsg t;
	static uint8_t out[PKT_MAX];
	const struct trr *r;
	size_t rr, web, pos;
	char name[TNAME];
	int n;

	q_make(&q, "www.example.com.", DNS_TYPE_MX, false, false);
	mk_up(&up, T_QR, T_RA, "www.example.com.", DNS_TYPE_MX);
	/* www CNAME web.example.com (uncompressed upstream) */
	p_count(&up, SEC_AN);
	p_owner(&up, NULL, 12);
	rr = p_rr(&up, DNS_TYPE_CNAME, DNS_CLASS_IN, 60);
	web = p_name(&up, "web.example.com.");
	p_rdend(&up, rr);
	/* web MX 10 mail.example.com (uncompressed upstream) */
	p_count(&up, SEC_AN);
	p_owner(&up, NULL, (uint16_t)web);
	rr = p_rr(&up, DNS_TYPE_MX, DNS_CLASS_IN, 60);
	p_u16(&up, 10);
	p_name(&up, "mail.example.com.");
	p_rdend(&up, rr);
	n = shape(&q, &up, &o, out, sizeof(out));
	ck_assert_msg(n > 0 && t_parse(out, (size_t)n, &t),
	    "dnsmsg_shape: CNAME/MX reply parses");
	r = t_find(&t, SEC_AN, DNS_TYPE_CNAME, 0);
	pos = r->rdoff;
	ck_assert_msg(t_name(out, (size_t)n, &pos, name) &&
	    strcmp(name, "web.example.com.") == 0 &&
	    pos == r->rdoff + r->rdlen,
	    "dnsmsg_shape: CNAME target is %s", name);
	ck_assert_msg(r->rdlen == 6,
	    "dnsmsg_shape: CNAME target compressed (RDLENGTH %zu)",
	    r->rdlen);
	r = t_find(&t, SEC_AN, DNS_TYPE_MX, 0);
	ck_assert_msg(strcmp(r->owner, "web.example.com.") == 0,
	    "dnsmsg_shape: MX owner via CNAME RDATA is %s", r->owner);
	ck_assert_msg(get16(out + r->rdoff) == 10,
	    "dnsmsg_shape: MX preference kept");
	pos = r->rdoff + 2;
	ck_assert_msg(t_name(out, (size_t)n, &pos, name) &&
	    strcmp(name, "mail.example.com.") == 0 &&
	    pos == r->rdoff + r->rdlen,
	    "dnsmsg_shape: MX exchange is %s", name);
	ck_assert_msg(r->rdlen == 2 + 5 + 2,
	    "dnsmsg_shape: MX exchange compressed (RDLENGTH %zu)", r->rdlen);
}
END_TEST

START_TEST(sh_verbatim)
{
	static const uint8_t opaque[] = { 0xc0, 0x0c, 0x03, 'a', 'b' };
	struct dnsmsg_query q;
	struct dnsmsg_shape_opts o = opts_default();
	struct pkt up;
	static struct tmsg t;
	static uint8_t out[PKT_MAX];
	const struct trr *r;
	size_t rr, srv_rd, sig_rd, sig_len;
	int n;

	q_make(&q, "www.example.com.", DNS_TYPE_ANY, true, true);
	mk_up(&up, T_QR, T_RA, "www.example.com.", DNS_TYPE_ANY);
	add_rrsig(&up, SEC_AN, NULL, 12, DNS_TYPE_A);
	sig_rd = up.len - (18 + 13 + 16);
	sig_len = 18 + 13 + 16;
	p_count(&up, SEC_AN);
	p_owner(&up, NULL, 12);
	rr = p_rr(&up, T_TYPE_SRV, DNS_CLASS_IN, 60);
	srv_rd = up.len;
	p_bytes(&up, "\0\1\0\2\0\x35", 6);
	p_name(&up, "srv.example.com.");
	p_rdend(&up, rr);
	p_count(&up, SEC_AN);
	p_owner(&up, NULL, 12);
	rr = p_rr(&up, T_TYPE_PRIVATE, DNS_CLASS_IN, 60);
	p_bytes(&up, opaque, sizeof(opaque));
	p_rdend(&up, rr);
	o.keep_dnssec = true;
	n = shape(&q, &up, &o, out, sizeof(out));
	ck_assert_msg(n > 0 && t_parse(out, (size_t)n, &t),
	    "dnsmsg_shape: verbatim reply parses");
	r = t_find(&t, SEC_AN, DNS_TYPE_RRSIG, 0);
	ck_assert_msg(r->rdlen == sig_len &&
	    memcmp(out + r->rdoff, up.b + sig_rd, sig_len) == 0,
	    "dnsmsg_shape: RRSIG RDATA (signer) copied verbatim");
	r = t_find(&t, SEC_AN, T_TYPE_SRV, 0);
	ck_assert_msg(r->rdlen == 6 + 17 &&
	    memcmp(out + r->rdoff, up.b + srv_rd, 6 + 17) == 0,
	    "dnsmsg_shape: SRV RDATA copied verbatim");
	r = t_find(&t, SEC_AN, T_TYPE_PRIVATE, 0);
	ck_assert_msg(r->rdlen == sizeof(opaque) &&
	    memcmp(out + r->rdoff, opaque, sizeof(opaque)) == 0,
	    "dnsmsg_shape: unknown type RDATA copied verbatim");
}
END_TEST

START_TEST(sh_srv_compressed)
{
	struct dnsmsg_query q;
	struct dnsmsg_shape_opts o = opts_default();
	struct pkt up;
	static struct tmsg t;
	static uint8_t out[PKT_MAX];
	const struct trr *r;
	size_t rr, pos, i;
	char name[TNAME];
	int n;

	q_make(&q, "_sip._udp.example.com.", T_TYPE_SRV, false, false);
	mk_up(&up, T_QR, T_RA, "_sip._udp.example.com.", T_TYPE_SRV);
	/* An RFC 2052 server compressed the target. */
	p_count(&up, SEC_AN);
	p_owner(&up, NULL, 12);
	rr = p_rr(&up, T_TYPE_SRV, DNS_CLASS_IN, 60);
	p_bytes(&up, "\0\1\0\2\0\x35", 6);
	p_owner(&up, "sip", 22);
	p_rdend(&up, rr);
	n = shape(&q, &up, &o, out, sizeof(out));
	ck_assert_msg(n > 0 && t_parse(out, (size_t)n, &t),
	    "dnsmsg_shape: compressed SRV reply parses");
	r = t_find(&t, SEC_AN, T_TYPE_SRV, 0);
	ck_assert_msg(r->rdlen == 6 + 17,
	    "dnsmsg_shape: SRV target written uncompressed (RDLENGTH %zu)",
	    r->rdlen);
	for (i = r->rdoff + 6; i < r->rdoff + r->rdlen; i += out[i] + 1u)
		ck_assert_msg(out[i] < 0x40,
		    "dnsmsg_shape: no pointer in SRV RDATA");
	pos = r->rdoff + 6;
	ck_assert_msg(t_name(out, (size_t)n, &pos, name) &&
	    strcmp(name, "sip.example.com.") == 0,
	    "dnsmsg_shape: SRV target is %s", name);
}
END_TEST

START_TEST(sh_mismatch)
{
	struct dnsmsg_query q;
	struct dnsmsg_shape_opts o = opts_default();
	struct pkt up;
	static uint8_t out[PKT_MAX];

	q_make(&q, "www.example.com.", DNS_TYPE_A, false, false);
	mk_std_up(&up, "www.example.net.");
	ck_assert_msg(shape(&q, &up, &o, out, sizeof(out)) == -1,
	    "dnsmsg_shape: other qname -> -1");
	mk_std_up(&up, "www.example.com.");
	up.b[12 + 17 + 1] = DNS_TYPE_AAAA;
	ck_assert_msg(shape(&q, &up, &o, out, sizeof(out)) == -1,
	    "dnsmsg_shape: other qtype -> -1");
	mk_std_up(&up, "www.example.com.");
	up.b[12 + 17 + 3] = T_CLASS_CH;
	ck_assert_msg(shape(&q, &up, &o, out, sizeof(out)) == -1,
	    "dnsmsg_shape: other qclass -> -1");
	mk_up(&up, T_QR, T_RA, "www.example.co.", DNS_TYPE_A);
	ck_assert_msg(shape(&q, &up, &o, out, sizeof(out)) == -1,
	    "dnsmsg_shape: shorter qname -> -1");
	mk_up(&up, T_QR, T_RA, "WWW.EXAMPLE.COM.", DNS_TYPE_A);
	ck_assert_msg(shape(&q, &up, &o, out, sizeof(out)) > 0,
	    "dnsmsg_shape: qname differing in case only -> ok");
	q.question_ok = false;
	ck_assert_msg(shape(&q, &up, &o, out, sizeof(out)) == -1,
	    "dnsmsg_shape: query without question -> -1");
}
END_TEST

START_TEST(sh_malformed)
{
	struct dnsmsg_query q;
	struct dnsmsg_shape_opts o = opts_default();
	struct pkt up;
	static uint8_t out[PKT_MAX];
	size_t rr, here;
	char name[600];

	q_make(&q, "www.example.com.", DNS_TYPE_A, false, false);

	mk_std_up(&up, "www.example.com.");
	up.b[2] &= (uint8_t)~T_QR;
	ck_assert_msg(shape(&q, &up, &o, out, sizeof(out)) == -1,
	    "dnsmsg_shape: QR=0 -> -1");
	mk_std_up(&up, "www.example.com.");
	ck_assert_msg(dnsmsg_shape(&q, up.b, 11, &o, out, sizeof(out)) == -1,
	    "dnsmsg_shape: shorter than a header -> -1");
	ck_assert_msg(dnsmsg_shape(&q, up.b, 12 + 17 + 3, &o, out,
	    sizeof(out)) == -1, "dnsmsg_shape: question cut -> -1");
	p_set16(&up, 4, 0);
	ck_assert_msg(shape(&q, &up, &o, out, sizeof(out)) == -1,
	    "dnsmsg_shape: QDCOUNT 0 -> -1");
	p_set16(&up, 4, 2);
	ck_assert_msg(shape(&q, &up, &o, out, sizeof(out)) == -1,
	    "dnsmsg_shape: QDCOUNT 2 -> -1");

	/* A pointer to itself, and one pointing forward. */
	mk_up(&up, T_QR, T_RA, "www.example.com.", DNS_TYPE_A);
	p_count(&up, SEC_AN);
	here = up.len;
	p_u16(&up, (uint16_t)(0xc000 | here));
	rr = p_rr(&up, DNS_TYPE_A, DNS_CLASS_IN, 60);
	p_u32(&up, 1);
	p_rdend(&up, rr);
	ck_assert_msg(shape(&q, &up, &o, out, sizeof(out)) == -1,
	    "dnsmsg_shape: pointer loop (self) -> -1");
	up.b[here + 1] = (uint8_t)(here + 20);
	ck_assert_msg(shape(&q, &up, &o, out, sizeof(out)) == -1,
	    "dnsmsg_shape: forward pointer -> -1");
	/* A cycle: the second owner points back into the first RDATA,
	 * whose bytes point forward to the second owner. */
	mk_up(&up, T_QR, T_RA, "www.example.com.", DNS_TYPE_A);
	p_count(&up, SEC_AN);
	p_owner(&up, NULL, 12);
	rr = p_rr(&up, DNS_TYPE_A, DNS_CLASS_IN, 60);
	here = up.len;
	p_u16(&up, (uint16_t)(0xc000 | (here + 4)));
	p_u16(&up, 0);
	p_rdend(&up, rr);
	add_a(&up, SEC_AN, NULL, (uint16_t)here, 1);
	ck_assert_msg(shape(&q, &up, &o, out, sizeof(out)) == -1,
	    "dnsmsg_shape: pointer cycle -> -1");
	up.b[here + 1] = 16;
	ck_assert_msg(shape(&q, &up, &o, out, sizeof(out)) > 0,
	    "dnsmsg_shape: same message without the cycle -> ok");

	/* Records cut short. */
	mk_std_up(&up, "www.example.com.");
	ck_assert_msg(dnsmsg_shape(&q, up.b, 12 + 21 + 2 + 5, &o, out,
	    sizeof(out)) == -1, "dnsmsg_shape: RR fixed part cut -> -1");
	ck_assert_msg(dnsmsg_shape(&q, up.b, 12 + 21 + 2 + 10 + 3, &o, out,
	    sizeof(out)) == -1, "dnsmsg_shape: RDATA cut -> -1");
	ck_assert_msg(dnsmsg_shape(&q, up.b, up.len - 1, &o, out,
	    sizeof(out)) == -1, "dnsmsg_shape: last record cut -> -1");
	p_set16(&up, 10, 3);
	ck_assert_msg(shape(&q, &up, &o, out, sizeof(out)) == -1,
	    "dnsmsg_shape: ARCOUNT beyond records -> -1");

	/* Bad label types. */
	mk_up(&up, T_QR, T_RA, "www.example.com.", DNS_TYPE_A);
	p_count(&up, SEC_AN);
	p_u8(&up, 0x41);
	p_u8(&up, 0);
	rr = p_rr(&up, DNS_TYPE_A, DNS_CLASS_IN, 60);
	p_u32(&up, 1);
	p_rdend(&up, rr);
	ck_assert_msg(shape(&q, &up, &o, out, sizeof(out)) == -1,
	    "dnsmsg_shape: label type 0x40 -> -1");
	up.b[up.len - 16] = 0x81;
	ck_assert_msg(shape(&q, &up, &o, out, sizeof(out)) == -1,
	    "dnsmsg_shape: label type 0x80 -> -1");

	/* 193 + 64 = 257 bytes, reached only through a pointer. */
	mk_up(&up, T_QR, T_RA, "www.example.com.", DNS_TYPE_A);
	long_name(name, 3, 63);
	p_count(&up, SEC_AN);
	here = p_name(&up, name);
	rr = p_rr(&up, DNS_TYPE_A, DNS_CLASS_IN, 60);
	p_u32(&up, 1);
	p_rdend(&up, rr);
	ck_assert_msg(shape(&q, &up, &o, out, sizeof(out)) > 0,
	    "dnsmsg_shape: 193-byte owner -> ok");
	long_name(name, 1, 63);
	name[strlen(name) - 1] = '\0';
	p_count(&up, SEC_AN);
	p_owner(&up, name, (uint16_t)here);
	rr = p_rr(&up, DNS_TYPE_A, DNS_CLASS_IN, 60);
	p_u32(&up, 1);
	p_rdend(&up, rr);
	ck_assert_msg(shape(&q, &up, &o, out, sizeof(out)) == -1,
	    "dnsmsg_shape: 257-byte name through pointer -> -1");

	/* RDATA that does not match its type. */
	mk_up(&up, T_QR, T_RA, "www.example.com.", DNS_TYPE_A);
	p_count(&up, SEC_AN);
	p_owner(&up, NULL, 12);
	rr = p_rr(&up, DNS_TYPE_MX, DNS_CLASS_IN, 60);
	p_u8(&up, 0);
	p_rdend(&up, rr);
	ck_assert_msg(shape(&q, &up, &o, out, sizeof(out)) == -1,
	    "dnsmsg_shape: MX RDATA of 1 byte -> -1");
	mk_up(&up, T_QR, T_RA, "www.example.com.", DNS_TYPE_A);
	p_count(&up, SEC_AN);
	p_owner(&up, NULL, 12);
	rr = p_rr(&up, DNS_TYPE_CNAME, DNS_CLASS_IN, 60);
	p_owner(&up, NULL, 12);
	p_u8(&up, 0);
	p_rdend(&up, rr);
	ck_assert_msg(shape(&q, &up, &o, out, sizeof(out)) == -1,
	    "dnsmsg_shape: CNAME RDATA with a trailing byte -> -1");
	mk_up(&up, T_QR, T_RA, "www.example.com.", DNS_TYPE_A);
	p_count(&up, SEC_AN);
	p_owner(&up, NULL, 12);
	rr = p_rr(&up, DNS_TYPE_CNAME, DNS_CLASS_IN, 60);
	p_labels(&up, "abc");
	p_rdend(&up, rr);
	p_u8(&up, 0);	/* the root label lies after the RDATA */
	ck_assert_msg(shape(&q, &up, &o, out, sizeof(out)) == -1,
	    "dnsmsg_shape: CNAME name running past RDATA -> -1");
	mk_up(&up, T_QR, T_RA, "www.example.com.", DNS_TYPE_A);
	p_count(&up, SEC_AN);
	p_owner(&up, NULL, 12);
	rr = p_rr(&up, DNS_TYPE_SOA, DNS_CLASS_IN, 60);
	p_owner(&up, NULL, 12);
	p_owner(&up, NULL, 12);
	p_u32(&up, 1);
	p_rdend(&up, rr);
	ck_assert_msg(shape(&q, &up, &o, out, sizeof(out)) == -1,
	    "dnsmsg_shape: SOA without its 20 bytes -> -1");

	/* A bad additional record is found even when truncation would
	 * drop the additional section. */
	mk_std_up(&up, "www.example.com.");
	add_a(&up, SEC_AR, NULL, (uint16_t)(up.len + 2), 1);
	o.max_size = 100;
	ck_assert_msg(shape(&q, &up, &o, out, sizeof(out)) == -1,
	    "dnsmsg_shape: bad additional record with truncation -> -1");
}
END_TEST

START_TEST(sh_outlen)
{
	struct dnsmsg_query q;
	struct dnsmsg_shape_opts o = opts_default();
	struct pkt up;
	static uint8_t out[PKT_MAX];
	static uint8_t ref[PKT_MAX];
	int n, m;
	size_t len;

	q_make(&q, "www.example.com.", DNS_TYPE_A, true, true);
	mk_std_up(&up, "www.example.com.");
	o.keep_dnssec = true;
	n = shape(&q, &up, &o, ref, sizeof(ref));
	ck_assert_msg(n > 0, "dnsmsg_shape: reference reply");
	m = shape(&q, &up, &o, out, (size_t)n);
	ck_assert_msg(m == n && memcmp(out, ref, (size_t)n) == 0,
	    "dnsmsg_shape: exact buffer gives the same reply");
	for (len = 0; len < (size_t)n; len++) {
		m = shape(&q, &up, &o, out, len);
		ck_assert_msg(m == -2,
		    "dnsmsg_shape: buffer of %zu < %d -> -2 (got %d)", len,
		    n, m);
	}
	ck_assert_msg(dnsmsg_shape(&q, up.b, up.len, &o, NULL, 0) == -2,
	    "dnsmsg_shape: NULL buffer -> -2");
}
END_TEST

/* An upstream answer with na A records in the answer and nx A records in
 * the additional section. */
static void
mk_big_up(struct pkt *up, int na, int nx)
{
	int i;

	mk_up(up, T_QR, T_RA, "www.example.com.", DNS_TYPE_A);
	for (i = 0; i < na; i++)
		add_a(up, SEC_AN, NULL, 12, (uint8_t)i);
	for (i = 0; i < nx; i++)
		add_a(up, SEC_AR, "extra", 16, (uint8_t)i);
	add_opt(up, 4096, 0, false, 0);
}

START_TEST(sh_trunc_additional)
{
	struct dnsmsg_query q;
	struct dnsmsg_shape_opts o = opts_default();
	struct pkt up;
	static struct tmsg t;
	static uint8_t out[PKT_MAX];
	int n;

	q_make(&q, "www.example.com.", DNS_TYPE_A, true, false);
	mk_big_up(&up, 5, 40);
	o.max_size = DNS_MAX_MSG;
	n = shape(&q, &up, &o, out, sizeof(out));
	ck_assert_msg(n > 512 && t_parse(out, (size_t)n, &t) &&
	    t.count[3] == 41,
	    "dnsmsg_shape: untruncated reply has 40 glue + OPT");
	o.max_size = 512;
	n = shape(&q, &up, &o, out, sizeof(out));
	ck_assert_msg(n > 0 && n <= 512 && t_parse(out, (size_t)n, &t),
	    "dnsmsg_shape: additional dropped fits 512 (got %d)", n);
	ck_assert_msg(!(out[2] & T_TC),
	    "dnsmsg_shape: additional dropped -> TC clear");
	ck_assert_msg(t.count[1] == 5 && t.count[2] == 0 &&
	    t.count[3] == 1 && t.rr[5].type == DNS_TYPE_OPT,
	    "dnsmsg_shape: answer kept, additional only our OPT");
	ck_assert_msg(n == 12 + 21 + 5 * 16 + 11,
	    "dnsmsg_shape: additional-dropped length (got %d)", n);
}
END_TEST

START_TEST(sh_trunc_tc)
{
	struct dnsmsg_query q;
	struct dnsmsg_shape_opts o = opts_default();
	struct pkt up;
	static struct tmsg t;
	static uint8_t out[PKT_MAX];
	int n;

	q_make(&q, "www.example.com.", DNS_TYPE_A, true, true);
	mk_big_up(&up, 40, 3);
	o.max_size = 512;
	o.ede_code = DNS_EDE_STALE_ANSWER;
	o.ede_text = "x";
	n = shape(&q, &up, &o, out, sizeof(out));
	ck_assert_msg(n == 12 + 21 + 11 + 7,
	    "dnsmsg_shape: TC reply length with OPT+EDE (got %d)", n);
	ck_assert_msg(t_parse(out, (size_t)n, &t),
	    "dnsmsg_shape: TC reply parses");
	ck_assert_msg((out[2] & T_TC) && (out[2] & T_QR) &&
	    (out[3] & T_RA), "dnsmsg_shape: TC reply has TC=1");
	ck_assert_msg(t.count[0] == 1 && t.count[1] == 0 &&
	    t.count[2] == 0 && t.count[3] == 1 &&
	    t.rr[0].type == DNS_TYPE_OPT && t.rr[0].ttl == 0x8000,
	    "dnsmsg_shape: TC reply: question and our OPT only");
	ck_assert_msg(get16(out + n - 3) == DNS_EDE_STALE_ANSWER &&
	    out[n - 1] == 'x', "dnsmsg_shape: TC reply keeps the EDE");

	q_make(&q, "www.example.com.", DNS_TYPE_A, false, false);
	n = shape(&q, &up, &o, out, sizeof(out));
	ck_assert_msg(n == 12 + 21 && (out[2] & T_TC) &&
	    get16(out + 10) == 0,
	    "dnsmsg_shape: TC reply without EDNS is header + question");

	/* It fits exactly: no truncation. */
	mk_big_up(&up, 29, 0);
	n = shape(&q, &up, &o, out, sizeof(out));
	ck_assert_msg(n == 12 + 21 + 29 * 16 && !(out[2] & T_TC),
	    "dnsmsg_shape: reply of exactly 497 bytes not truncated");
	o.max_size = (size_t)n;
	ck_assert_msg(shape(&q, &up, &o, out, sizeof(out)) == n &&
	    !(out[2] & T_TC),
	    "dnsmsg_shape: reply of exactly max_size not truncated");
	o.max_size = (size_t)n - 1;
	ck_assert_msg(shape(&q, &up, &o, out, sizeof(out)) == 33 &&
	    (out[2] & T_TC),
	    "dnsmsg_shape: reply of max_size + 1 truncated");
}
END_TEST

START_TEST(sh_trunc_long_text)
{
	struct dnsmsg_query q;
	struct dnsmsg_shape_opts o = opts_default();
	struct pkt up;
	static struct tmsg t;
	static uint8_t out[PKT_MAX];
	char text[700];
	int n;

	memset(text, 'e', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	q_make(&q, "www.example.com.", DNS_TYPE_A, true, false);
	mk_big_up(&up, 1, 0);
	o.max_size = 512;
	o.ede_code = DNS_EDE_NETWORK_ERROR;
	o.ede_text = text;
	n = shape(&q, &up, &o, out, sizeof(out));
	ck_assert_msg(n == 12 + 21 + 11 + 6 && t_parse(out, (size_t)n, &t),
	    "dnsmsg_shape: TC with EDE text too long -> info-code only "
	    "(got %d)", n);
	ck_assert_msg((out[2] & T_TC) &&
	    get16(out + n - 2) == DNS_EDE_NETWORK_ERROR,
	    "dnsmsg_shape: TC with EDE code kept");
	o.max_size = DNS_MAX_MSG;
	n = shape(&q, &up, &o, out, sizeof(out));
	ck_assert_msg(n == 12 + 21 + 16 + 11 + 6 + 699,
	    "dnsmsg_shape: long EDE text kept when it fits");
}
END_TEST

START_TEST(sh_large)
{
	struct dnsmsg_query q;
	struct dnsmsg_shape_opts o = opts_default();
	static struct pkt up;
	static struct tmsg t;
	static uint8_t out[PKT_MAX];
	char label[16], want[64];
	int n, i;

	/* 2800 owners: more names than the compression table holds and
	 * offsets beyond what a pointer can reach. */
	q_make(&q, "www.example.com.", DNS_TYPE_A, false, false);
	mk_up(&up, T_QR, T_RA, "www.example.com.", DNS_TYPE_A);
	for (i = 0; i < 1400; i++) {
		snprintf(label, sizeof(label), "h%d", i);
		add_a(&up, SEC_AN, label, 16, (uint8_t)i);
		snprintf(label, sizeof(label), "h%d", i % 300);
		add_a(&up, SEC_AN, label, 16, (uint8_t)i);
	}
	n = shape(&q, &up, &o, out, sizeof(out));
	ck_assert_msg(n > 0x4000 && t_parse(out, (size_t)n, &t),
	    "dnsmsg_shape: large reply parses (got %d)", n);
	ck_assert_msg(t.count[1] == 2800, "dnsmsg_shape: 2800 answers");
	for (i = 0; i < 1400; i++) {
		snprintf(want, sizeof(want), "h%d.example.com.", i);
		ck_assert_msg(strcmp(t.rr[2 * i].owner, want) == 0,
		    "dnsmsg_shape: large reply owner %d is %s", 2 * i,
		    t.rr[2 * i].owner);
		snprintf(want, sizeof(want), "h%d.example.com.", i % 300);
		ck_assert_msg(strcmp(t.rr[2 * i + 1].owner, want) == 0,
		    "dnsmsg_shape: large reply owner %d is %s", 2 * i + 1,
		    t.rr[2 * i + 1].owner);
	}
}
END_TEST

/* ==== small helpers ==== */

START_TEST(udp_limit)
{
	struct dnsmsg_query q;

	q_make(&q, "example.com.", DNS_TYPE_A, false, false);
	ck_assert_msg(dnsmsg_udp_limit(&q, 4096) == 512,
	    "dnsmsg_udp_limit: no EDNS -> 512");
	q_make(&q, "example.com.", DNS_TYPE_A, true, false);
	q.udp_size = 4096;
	ck_assert_msg(dnsmsg_udp_limit(&q, 1232) == 1232,
	    "dnsmsg_udp_limit: client 4096, ours 1232 -> 1232");
	q.udp_size = 1400;
	ck_assert_msg(dnsmsg_udp_limit(&q, 4096) == 1400,
	    "dnsmsg_udp_limit: client 1400, ours 4096 -> 1400");
	q.udp_size = 4096;
	ck_assert_msg(dnsmsg_udp_limit(&q, 100) == 512,
	    "dnsmsg_udp_limit: ours 100 -> 512");
	q.udp_size = 512;
	ck_assert_msg(dnsmsg_udp_limit(&q, 4096) == 512,
	    "dnsmsg_udp_limit: client 512 -> 512");
	q.udp_size = 65535;
	ck_assert_msg(dnsmsg_udp_limit(&q, 65535) == 65535,
	    "dnsmsg_udp_limit: both 65535 -> 65535");
}
END_TEST

static int
n2s(const char *wire, size_t len, char *out, size_t outlen)
{
	return dnsmsg_name_to_str((const uint8_t *)wire, len, out, outlen);
}

/* dnsmsg_opt_find and dnsmsg_opt_has on a reply with a compressed
 * answer: the OPT of the additional section only, its options walked. */
START_TEST(opt_find)
{
	uint8_t m[] = {
		0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 1,
		1, 'a', 0, 0, 1, 0, 1,				/* a. A */
		0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4,
		0, 0, 41, 0x10, 0, 0, 0, 0x80, 0, 0, 10,	/* OPT */
		0, 11, 0, 2, 0, 100,			/* keepalive */
		0, 12, 0, 0,				/* padding */
	};
	size_t at = 0, end = 0;

	ck_assert_int_eq(dnsmsg_opt_find(m, sizeof(m), &at, &end), 0);
	ck_assert_uint_eq(at, 44);
	ck_assert_uint_eq(end, sizeof(m));
	ck_assert(dnsmsg_opt_has(m, at, end, DNS_EDNS_OPT_KEEPALIVE));
	ck_assert(dnsmsg_opt_has(m, at, end, DNS_EDNS_OPT_PADDING));
	ck_assert(!dnsmsg_opt_has(m, at, end, DNS_EDNS_OPT_EDE));
	/* An option that overruns the RDATA: malformed. */
	m[sizeof(m) - 1] = 1;
	ck_assert_int_eq(dnsmsg_opt_find(m, sizeof(m), &at, &end), -1);
	m[sizeof(m) - 1] = 0;
	/* Cut short: malformed. */
	ck_assert_int_eq(dnsmsg_opt_find(m, sizeof(m) - 5, &at, &end), -1);
	/* The same record counted in the answer section: not an OPT of the
	 * additional section. */
	m[7] = 2;
	m[11] = 0;
	ck_assert_int_eq(dnsmsg_opt_find(m, sizeof(m), &at, &end), -1);
	ck_assert_int_eq(dnsmsg_opt_find(m, 11, &at, &end), -1);
}
END_TEST

START_TEST(name_to_str)
{
	char out[4 * 255 + 1];
	uint8_t big[255];
	int n;
	size_t i;

	n = n2s("", 1, out, sizeof(out));
	ck_assert_msg(n == 1 && strcmp(out, ".") == 0,
	    "dnsmsg_name_to_str: root -> \".\"");
	n = n2s("\3www\7Example\3com", 17, out, sizeof(out));
	ck_assert_msg(n == 16 && strcmp(out, "www.Example.com.") == 0,
	    "dnsmsg_name_to_str: plain name (got %s)", out);
	n = n2s("\3a.b\7example", 13, out, sizeof(out));
	ck_assert_msg(n == 13 && strcmp(out, "a\\.b.example.") == 0,
	    "dnsmsg_name_to_str: dot in label (got %s)", out);
	n = n2s("\11\\\"();@$ x", 11, out, sizeof(out));
	ck_assert_msg(n == 18 &&
	    strcmp(out, "\\\\\\\"\\(\\)\\;\\@\\$\\ x.") == 0,
	    "dnsmsg_name_to_str: special characters (got %s)", out);
	n = n2s("\4\0\x7f\x80\xff", 6, out, sizeof(out));
	ck_assert_msg(n == 17 && strcmp(out, "\\000\\127\\128\\255.") == 0,
	    "dnsmsg_name_to_str: \\DDD escapes (got %s)", out);
	n = n2s("\3www\0zz", 7, out, sizeof(out));
	ck_assert_msg(n == 4 && strcmp(out, "www.") == 0,
	    "dnsmsg_name_to_str: bytes after the root ignored");

	/* Buffer sizes: the text plus its NUL fits, one less does not. */
	ck_assert_msg(n2s("\3www\7example", 13, out, 13) == 12,
	    "dnsmsg_name_to_str: buffer of text + NUL");
	ck_assert_msg(n2s("\3www\7example", 13, out, 12) == -1,
	    "dnsmsg_name_to_str: buffer one short -> -1");
	ck_assert_msg(n2s("", 1, out, 1) == -1,
	    "dnsmsg_name_to_str: root in 1 byte -> -1");
	ck_assert_msg(n2s("\1\1", 3, out, 5) == -1 &&
	    n2s("\1\1", 3, out, 6) == 5,
	    "dnsmsg_name_to_str: escape cut by buffer -> -1");

	/* Malformed names. */
	ck_assert_msg(n2s("\3www\7exam", 9, out, sizeof(out)) == -1,
	    "dnsmsg_name_to_str: label past the end -> -1");
	ck_assert_msg(n2s("\3www", 4, out, sizeof(out)) == -1,
	    "dnsmsg_name_to_str: no root -> -1");
	ck_assert_msg(n2s("\xc0\x0c", 2, out, sizeof(out)) == -1,
	    "dnsmsg_name_to_str: pointer -> -1");
	ck_assert_msg(n2s("\x40", 1, out, sizeof(out)) == -1,
	    "dnsmsg_name_to_str: label type 0x40 -> -1");
	ck_assert_msg(n2s("", 0, out, sizeof(out)) == -1,
	    "dnsmsg_name_to_str: empty -> -1");

	/* The worst name: 255 bytes, every byte a \DDD. */
	for (i = 0; i < 255; i++)
		big[i] = 0;
	for (i = 0; i + 64 <= 254; i += 64)
		big[i] = 63;
	big[192] = 61;
	n = dnsmsg_name_to_str(big, 255, out, sizeof(out));
	ck_assert_msg(n == 4 * 250 + 4 && (size_t)n < sizeof(out),
	    "dnsmsg_name_to_str: worst 255-byte name fits 4*255+1 (%d)",
	    n);
	big[192] = 62;	/* 256 bytes: no room for the root */
	ck_assert_msg(dnsmsg_name_to_str(big, 255, out, sizeof(out)) == -1,
	    "dnsmsg_name_to_str: name over 255 -> -1");
}
END_TEST

START_TEST(id_rcode_types)
{
	uint8_t h[DNS_HEADER_LEN] = { 0 };

	dnsmsg_set_id(h, 0xbeef);
	ck_assert_msg(h[0] == 0xbe && h[1] == 0xef &&
	    dnsmsg_get_id(h) == 0xbeef, "dnsmsg_set_id/get_id: 0xbeef");
	h[3] = 0xf3;
	ck_assert_msg(dnsmsg_get_rcode(h) == 3,
	    "dnsmsg_get_rcode: low 4 bits only");
	ck_assert_msg(dnsmsg_is_dnssec_type(DNS_TYPE_RRSIG) &&
	    dnsmsg_is_dnssec_type(DNS_TYPE_NSEC) &&
	    dnsmsg_is_dnssec_type(DNS_TYPE_NSEC3),
	    "dnsmsg_is_dnssec_type: RRSIG, NSEC, NSEC3");
	ck_assert_msg(!dnsmsg_is_dnssec_type(DNS_TYPE_DS) &&
	    !dnsmsg_is_dnssec_type(DNS_TYPE_DNSKEY) &&
	    !dnsmsg_is_dnssec_type(DNS_TYPE_A) &&
	    !dnsmsg_is_dnssec_type(51),
	    "dnsmsg_is_dnssec_type: DS, DNSKEY, A, NSEC3PARAM are not");
}
END_TEST

/* ==== random damage: nothing crashes, every result is consistent ==== */

static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

START_TEST(fuzz_parse_error)
{
	static struct pkt p, m;
	struct dnsmsg_query q;
	static struct tmsg t;
	uint8_t out[1024];
	uint32_t s = 12345;
	int i, j, rc, n;

	mk_query(&p, "www.example.com.", DNS_TYPE_A, true, 4096, true);
	add_a(&p, SEC_AR, "x", 12, 1);
	for (i = 0; i < 20000; i++) {
		memcpy(m.b, p.b, p.len);
		m.len = p.len;
		for (j = (int)(rnd(&s) % 4); j >= 0; j--)
			m.b[rnd(&s) % m.len] = (uint8_t)rnd(&s);
		m.len = rnd(&s) % 4 == 0 ? rnd(&s) % (p.len + 1) : p.len;
		rc = dnsmsg_parse_query(m.b, m.len, &q);
		ck_assert_msg(rc == -1 || rc == 0 || rc == DNS_RCODE_FORMERR ||
		    rc == DNS_RCODE_NOTIMP || rc == DNS_RCODE_REFUSED ||
		    rc == DNS_RCODE_BADVERS,
		    "dnsmsg_parse_query: random damage %d -> %d", i, rc);
		ck_assert_msg(q.qname_len <= DNS_MAX_NAME &&
		    q.udp_size >= 512,
		    "dnsmsg_parse_query: random damage %d, fields sane", i);
		if (rc < 0)
			continue;
		n = dnsmsg_error(&q, rc == 0 ? DNS_RCODE_SERVFAIL : rc,
		    DNS_EDE_OTHER, "t", 1232, out, sizeof(out));
		ck_assert_msg(n > 0 && t_parse(out, (size_t)n, &t),
		    "dnsmsg_error: after random damage %d, reply parses", i);
	}
}
END_TEST

START_TEST(fuzz_shape)
{
	static struct pkt p, m;
	static struct tmsg t;
	static uint8_t out[PKT_MAX];
	struct dnsmsg_query q;
	struct dnsmsg_shape_opts o = opts_default();
	static const size_t sizes[] = { 0, 40, 100, 512, 1232, 65535 };
	uint32_t s = 777;
	int i, j, n;

	q_make(&q, "www.example.com.", DNS_TYPE_A, true, true);
	mk_std_up(&p, "www.example.com.");
	for (i = 0; i < 20000; i++) {
		size_t outlen;

		memcpy(m.b, p.b, p.len);
		m.len = p.len;
		for (j = (int)(rnd(&s) % 4); j >= 0; j--)
			m.b[12 + 21 + rnd(&s) % (m.len - 33)] =
			    (uint8_t)rnd(&s);
		if (rnd(&s) % 8 == 0)
			m.len = rnd(&s) % (p.len + 1);
		o.keep_dnssec = rnd(&s) & 1;
		o.max_size = sizes[rnd(&s) % 6];
		outlen = rnd(&s) % 2 ? sizeof(out) : rnd(&s) % 400;
		n = dnsmsg_shape(&q, m.b, m.len, &o, out, outlen);
		ck_assert_msg(n >= -2 && n <= (int)outlen,
		    "dnsmsg_shape: random damage %d -> %d", i, n);
		if (n < 0)
			continue;
		ck_assert_msg(t_parse(out, (size_t)n, &t),
		    "dnsmsg_shape: random damage %d, reply parses", i);
		ck_assert_msg(t.count[0] == 1 &&
		    strcmp(t.qname, "www.example.com.") == 0 &&
		    t_ntype(&t, SEC_AR, DNS_TYPE_OPT) == 1,
		    "dnsmsg_shape: random damage %d, question and OPT", i);
	}
}
END_TEST

Suite *
dnsmsg_suite(void)
{
	Suite *s = suite_create("dnsmsg");
	TCase *tc;

	tc = tcase_create("parse_query");
	tcase_add_test(tc, pq_short);
	tcase_add_test(tc, pq_qr);
	tcase_add_test(tc, pq_ok);
	tcase_add_test(tc, pq_root_name);
	tcase_add_test(tc, pq_case_kept);
	tcase_add_test(tc, pq_flags);
	tcase_add_test(tc, pq_opcode);
	tcase_add_test(tc, pq_qdcount);
	tcase_add_test(tc, pq_an_ns_count);
	tcase_add_test(tc, pq_compressed_qname);
	tcase_add_test(tc, pq_label_types);
	tcase_add_test(tc, pq_name_length);
	tcase_add_test(tc, pq_truncated_name);
	tcase_add_test(tc, pq_truncated_question);
	tcase_add_test(tc, pq_formerr_qtypes);
	tcase_add_test(tc, pq_notimp_qtypes);
	tcase_add_test(tc, pq_class);
	tcase_add_test(tc, pq_edns);
	tcase_add_test(tc, pq_badvers);
	tcase_add_test(tc, pq_opt_owner);
	tcase_add_test(tc, pq_two_opts);
	tcase_add_test(tc, pq_opt_options);
	tcase_add_test(tc, pq_truncated_record);
	tcase_add_test(tc, pq_additional_skip);
	tcase_add_test(tc, pq_trailing);
	tcase_add_test(tc, pq_precedence);
	suite_add_tcase(s, tc);

	tc = tcase_create("error");
	tcase_add_test(tc, err_plain);
	tcase_add_test(tc, err_no_question);
	tcase_add_test(tc, err_edns);
	tcase_add_test(tc, err_ede);
	tcase_add_test(tc, err_badvers);
	tcase_add_test(tc, err_outlen);
	suite_add_tcase(s, tc);

	tc = tcase_create("shape");
	tcase_add_test(tc, sh_id_case);
	tcase_add_test(tc, sh_flags);
	tcase_add_test(tc, sh_strip_dnssec);
	tcase_add_test(tc, sh_keep_dnssec);
	tcase_add_test(tc, sh_qtype_dnssec);
	tcase_add_test(tc, sh_opt);
	tcase_add_test(tc, sh_ede);
	tcase_add_test(tc, sh_ptr_into_stripped);
	tcase_add_test(tc, sh_soa);
	tcase_add_test(tc, sh_mx_cname);
	tcase_add_test(tc, sh_verbatim);
	tcase_add_test(tc, sh_srv_compressed);
	tcase_add_test(tc, sh_mismatch);
	tcase_add_test(tc, sh_malformed);
	tcase_add_test(tc, sh_outlen);
	tcase_add_test(tc, sh_trunc_additional);
	tcase_add_test(tc, sh_trunc_tc);
	tcase_add_test(tc, sh_trunc_long_text);
	tcase_add_test(tc, sh_large);
	suite_add_tcase(s, tc);

	tc = tcase_create("helpers");
	tcase_add_test(tc, udp_limit);
	tcase_add_test(tc, name_to_str);
	tcase_add_test(tc, opt_find);
	tcase_add_test(tc, id_rcode_types);
	suite_add_tcase(s, tc);

	/* Sanitizer builds are slow; the default 4 s would be too short. */
	tc = tcase_create("random");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, fuzz_parse_error);
	tcase_add_test(tc, fuzz_shape);
	suite_add_tcase(s, tc);

	return s;
}
