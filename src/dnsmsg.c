/*
 * dnsmsg.c -- DNS wire format on bytes: parse and check client queries,
 * build error replies with Extended DNS Errors (RFC 8914), and shape an
 * upstream reply for one client.
 *
 * The input comes from the network and from resolver libraries, and this
 * code is fuzzed: every read is checked against the message length, names
 * are limited to 255 bytes and labels to 63, and compression pointers must
 * point backward into the message after the header, which rules out loops.
 * Nothing is allocated; replies go into caller buffers.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dnsmsg.h"
#include "wire.h"

/* Header flags: the first group is in byte 2, the second in byte 3. */
#define FLAG_QR		0x80
#define FLAG_AA		0x04
#define FLAG_TC		0x02
#define FLAG_RD		0x01
#define FLAG_RA		0x80
#define FLAG_AD		0x20
#define FLAG_CD		0x10
#define OPCODE_QUERY	0

#define RR_FIXED_LEN	10	/* type, class, TTL, RDLENGTH */
#define QD_FIXED_LEN	4	/* qtype, qclass */
#define EDNS_DO		0x80	/* in byte 2 of the OPT TTL */
#define EDE_FIXED_LEN	6	/* option code, length, info-code */
/* Longest EDE text whose option still fits a 16-bit RDLENGTH. */
#define EDE_TEXT_MAX	(0xffff - EDE_FIXED_LEN)

#define MAX_LABELS	128	/* 255 bytes hold at most 127 labels */
/* A name has at most 127 labels, so a sane encoding never needs more
 * pointers than that; the limit bounds the work on hostile input. */
#define MAX_JUMPS	128
#define MAX_PTR_TARGET	0x3fff
#define COMP_ENTRIES	256

/* Types whose RDATA is rewritten, RFC 3597 section 4. */
#define TYPE_MD		3
#define TYPE_MF		4
#define TYPE_MB		7
#define TYPE_MG		8
#define TYPE_MR		9
#define TYPE_MINFO	14
#define TYPE_RP		17
#define TYPE_AFSDB	18
#define TYPE_RT		21
#define TYPE_SIG	24
#define TYPE_PX		26
#define TYPE_NXT	30
#define TYPE_SRV	33
#define TYPE_NAPTR	35

/* A decompressed name, and where each of its labels was in the message so
 * that a suffix can be read again later. */
struct dname {
	uint8_t wire[DNS_MAX_NAME];
	size_t len;			/* including the root label */
	size_t nlabels;			/* not counting the root */
	size_t flat[MAX_LABELS];	/* offset of each label in wire */
	size_t src[MAX_LABELS];		/* offset of each label in msg */
};

struct rr {
	struct dname owner;
	uint16_t type;
	uint16_t rclass;
	size_t fixed;		/* offset of the type field */
	size_t rdata;		/* offset of the RDATA */
	size_t rdlen;
	size_t end;		/* offset just after the record */
};

/* An output buffer that keeps counting past its capacity, so that the
 * size of a reply is known even when it does not fit. */
struct wbuf {
	uint8_t *buf;
	size_t cap;
	size_t len;
};

/* One name (suffix) already in the output.  Its bytes are compared by
 * reading it again from upstream, never from the output, so that
 * compression does not depend on how much of the output fit. */
struct comp_entry {
	size_t up_off;
	uint32_t hash;
	uint16_t out_off;
	uint16_t len;
};

struct shape_ctx {
	const struct dnsmsg_query *q;
	const struct dnsmsg_shape_opts *o;
	const uint8_t *up;
	size_t uplen;
	struct dname qd;	/* upstream's question name */
	size_t rr_start;	/* offset of upstream's first record */
	uint16_t count[3];	/* upstream's AN, NS and AR counts */
	struct comp_entry comp[COMP_ENTRIES];
	size_t ncomp;
	struct wbuf w;
};

enum shape_mode {
	SHAPE_FULL,
	SHAPE_NO_ADDITIONAL,
	SHAPE_TC,
	SHAPE_TC_NO_TEXT
};

static uint8_t
lower(uint8_t c)
{
	/* ASCII only: DNS names compare case-insensitively on A-Z alone. */
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}


/*
 * Read the name at off, following compression pointers when allowed.  A
 * pointer must point after the header and before itself: each jump then
 * goes strictly backward, so pointer loops cannot happen, and MAX_JUMPS
 * bounds the work.  Labels of type 0x40 and 0x80 are refused.  *end is the
 * offset just after the name's own bytes at off.
 */
static bool
name_read(const uint8_t *msg, size_t len, size_t off, bool allow_ptr,
    struct dname *n, size_t *end)
{
	size_t pos = off, jumps = 0;
	bool jumped = false;

	n->len = 0;
	n->nlabels = 0;
	for (;;) {
		uint8_t b;
		size_t target;

		if (pos >= len)
			return false;
		b = msg[pos];
		if (b == 0) {
			n->wire[n->len++] = 0;
			if (!jumped)
				*end = pos + 1;
			return true;
		}
		switch (b & 0xc0) {
		case 0x00:
			if (len - pos - 1 < b)
				return false;
			/* Room for this label and the root label. */
			if (n->len + 1 + b + 1 > DNS_MAX_NAME)
				return false;
			n->flat[n->nlabels] = n->len;
			n->src[n->nlabels] = pos;
			n->nlabels++;
			memcpy(n->wire + n->len, msg + pos, (size_t)b + 1);
			n->len += (size_t)b + 1;
			pos += (size_t)b + 1;
			break;
		case 0xc0:
			if (!allow_ptr || len - pos < 2 || ++jumps > MAX_JUMPS)
				return false;
			target = ((size_t)(b & 0x3f) << 8) | msg[pos + 1];
			if (target < DNS_HEADER_LEN || target >= pos)
				return false;
			if (!jumped) {
				*end = pos + 2;
				jumped = true;
			}
			pos = target;
			break;
		default:
			return false;
		}
	}
}

/* Read a resource record at off: owner, fixed part, and RDATA bounds. */
static bool
rr_read(const uint8_t *msg, size_t len, size_t off, struct rr *rr)
{
	size_t pos;

	if (!name_read(msg, len, off, true, &rr->owner, &pos))
		return false;
	if (len - pos < RR_FIXED_LEN)
		return false;
	rr->type = get16(msg + pos);
	rr->rclass = get16(msg + pos + 2);
	rr->rdlen = get16(msg + pos + 8);
	rr->fixed = pos;
	rr->rdata = pos + RR_FIXED_LEN;
	if (len - rr->rdata < rr->rdlen)
		return false;
	rr->end = rr->rdata + rr->rdlen;
	return true;
}

static void
w_put(struct wbuf *w, const void *p, size_t n)
{
	if (n > 0 && n <= w->cap && w->len <= w->cap - n)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void
w_u8(struct wbuf *w, uint8_t v)
{
	w_put(w, &v, 1);
}

static void
w_u16(struct wbuf *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	w_put(w, b, 2);
}

/* Overwrite a 16-bit field written earlier, if it fit. */
static void
w_set16(struct wbuf *w, size_t off, uint16_t v)
{
	if (w->cap >= 2 && off <= w->cap - 2) {
		w->buf[off] = (uint8_t)(v >> 8);
		w->buf[off + 1] = (uint8_t)v;
	}
}

static bool
ede_valid(int code)
{
	return code >= 0 && code <= 0xffff;
}

/* Our OPT record: RFC 6891 section 6.1.2, plus EDE, RFC 8914 section 2. */
static void
write_opt(struct wbuf *w, uint16_t size, uint8_t ext_rcode, bool do_bit,
    int ede_code, const char *ede_text)
{
	size_t tlen = 0;

	if (ede_text != NULL) {
		tlen = strnlen(ede_text, (size_t)EDE_TEXT_MAX + 1);
		/* Dropped rather than cut, which could split a UTF-8
		 * sequence. */
		if (tlen > EDE_TEXT_MAX)
			tlen = 0;
	}
	w_u8(w, 0);
	w_u16(w, DNS_TYPE_OPT);
	w_u16(w, size);
	w_u8(w, ext_rcode);
	w_u8(w, 0);		/* version */
	w_u8(w, do_bit ? EDNS_DO : 0);
	w_u8(w, 0);
	if (!ede_valid(ede_code)) {
		w_u16(w, 0);
		return;
	}
	w_u16(w, (uint16_t)(EDE_FIXED_LEN + tlen));
	w_u16(w, DNS_EDNS_OPT_EDE);
	w_u16(w, (uint16_t)(2 + tlen));
	w_u16(w, (uint16_t)ede_code);
	w_put(w, ede_text, tlen);
}

/* Walk the options of an OPT RDATA: each header and value must fit. */
static bool
opt_options_ok(const uint8_t *p, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		size_t olen;

		if (len - pos < 4)
			return false;
		olen = get16(p + pos + 2);
		if (len - pos - 4 < olen)
			return false;
		pos += 4 + olen;
	}
	return true;
}

int
dnsmsg_opt_find(const uint8_t *msg, size_t len, size_t *rdlen_at,
    size_t *end)
{
	struct dname n;
	struct rr rr;
	size_t pos = DNS_HEADER_LEN, i, nrr;
	uint16_t qd;

	if (msg == NULL || len < DNS_HEADER_LEN)
		return -1;
	qd = get16(msg + 4);
	nrr = (size_t)get16(msg + 6) + get16(msg + 8) + get16(msg + 10);
	for (i = 0; i < qd; i++) {
		if (!name_read(msg, len, pos, true, &n, &pos) ||
		    len - pos < QD_FIXED_LEN)
			return -1;
		pos += QD_FIXED_LEN;
	}
	for (i = 0; i < nrr; i++) {
		if (!rr_read(msg, len, pos, &rr))
			return -1;
		pos = rr.end;
		/* Only the additional section may hold it. */
		if (rr.type == DNS_TYPE_OPT && i >= nrr - get16(msg + 10)) {
			if (!opt_options_ok(msg + rr.rdata, rr.rdlen))
				return -1;
			*rdlen_at = rr.rdata - 2;
			*end = rr.end;
			return 0;
		}
	}
	return -1;
}

bool
dnsmsg_opt_has(const uint8_t *msg, size_t rdlen_at, size_t end,
    uint16_t code)
{
	size_t pos = rdlen_at + 2;

	while (end - pos >= 4) {
		if (get16(msg + pos) == code)
			return true;
		pos += 4 + (size_t)get16(msg + pos + 2);
	}
	return false;
}

int
dnsmsg_parse_query(const uint8_t *pkt, size_t len, struct dnsmsg_query *q)
{
	struct dname n;
	struct rr rr;
	size_t pos, i;
	uint16_t qdcount, ancount, nscount, arcount;
	bool have_opt = false;

	memset(q, 0, sizeof(*q));
	q->udp_size = DNS_MIN_UDP;
	if (pkt == NULL || len < DNS_HEADER_LEN || (pkt[2] & FLAG_QR))
		return -1;
	q->id = get16(pkt);
	q->opcode = (uint8_t)((pkt[2] >> 3) & 0x0f);
	q->rd = (pkt[2] & FLAG_RD) != 0;
	q->ad = (pkt[3] & FLAG_AD) != 0;
	q->cd = (pkt[3] & FLAG_CD) != 0;
	/* Other opcodes give the sections other meanings (UPDATE), so
	 * nothing after the header is looked at. */
	if (q->opcode != OPCODE_QUERY)
		return DNS_RCODE_NOTIMP;
	qdcount = get16(pkt + 4);
	ancount = get16(pkt + 6);
	nscount = get16(pkt + 8);
	arcount = get16(pkt + 10);
	if (qdcount != 1 || ancount != 0 || nscount != 0)
		return DNS_RCODE_FORMERR;

	/* Nothing precedes the question, so a pointer in it is an error. */
	if (!name_read(pkt, len, DNS_HEADER_LEN, false, &n, &pos))
		return DNS_RCODE_FORMERR;
	if (len - pos < QD_FIXED_LEN)
		return DNS_RCODE_FORMERR;
	memcpy(q->qname, n.wire, n.len);
	q->qname_len = n.len;
	q->qtype = get16(pkt + pos);
	q->qclass = get16(pkt + pos + 2);
	q->question_ok = true;
	pos += QD_FIXED_LEN;

	/* The additional section is read before the question is judged: the
	 * error reply must carry an OPT when the query had one (RFC 6891
	 * section 7), and a malformed message is a FORMERR whatever it
	 * asks. */
	for (i = 0; i < arcount; i++) {
		if (!rr_read(pkt, len, pos, &rr))
			return DNS_RCODE_FORMERR;
		pos = rr.end;
		if (rr.type != DNS_TYPE_OPT)
			continue;
		if (have_opt || rr.owner.len != 1)
			return DNS_RCODE_FORMERR;
		have_opt = true;
		q->edns = true;
		q->udp_size = rr.rclass < DNS_MIN_UDP ? DNS_MIN_UDP :
		    rr.rclass;
		q->edns_version = pkt[rr.fixed + 5];
		q->do_bit = (pkt[rr.fixed + 6] & EDNS_DO) != 0;
		if (!opt_options_ok(pkt + rr.rdata, rr.rdlen))
			return DNS_RCODE_FORMERR;
	}

	/* An unknown EDNS version means we cannot know what the rest
	 * means, so it is answered before the question's checks. */
	if (q->edns && q->edns_version != 0)
		return DNS_RCODE_BADVERS;
	switch (q->qtype) {
	case 0:
	case DNS_TYPE_OPT:
	case DNS_TYPE_TSIG:
	case DNS_TYPE_TKEY:
		return DNS_RCODE_FORMERR;
	case DNS_TYPE_AXFR:
	case DNS_TYPE_IXFR:
	case DNS_TYPE_MAILA:
	case DNS_TYPE_MAILB:
		return DNS_RCODE_NOTIMP;
	default:
		break;
	}
	if (q->qclass != DNS_CLASS_IN)
		return DNS_RCODE_REFUSED;
	return 0;
}

static bool
question_valid(const struct dnsmsg_query *q)
{
	return q->question_ok && q->qname_len >= 1 &&
	    q->qname_len <= DNS_MAX_NAME;
}

int
dnsmsg_error(const struct dnsmsg_query *q, int rcode, int ede_code,
    const char *ede_text, uint16_t edns_size, uint8_t *out, size_t outlen)
{
	struct wbuf w = { out, outlen, 0 };
	bool question = question_valid(q);
	uint8_t f2, f3;

	/* Rcodes above 15 need an OPT for their upper bits; without one
	 * (or out of range) the best we can say is SERVFAIL. */
	if (rcode < 0 || rcode > 0xfff || (rcode > 0x0f && !q->edns))
		rcode = DNS_RCODE_SERVFAIL;
	f2 = (uint8_t)(FLAG_QR | ((q->opcode & 0x0f) << 3) |
	    (q->rd ? FLAG_RD : 0));
	f3 = (uint8_t)(FLAG_RA | (q->cd ? FLAG_CD : 0) | (rcode & 0x0f));
	w_u16(&w, q->id);
	w_u8(&w, f2);
	w_u8(&w, f3);
	w_u16(&w, question ? 1 : 0);
	w_u16(&w, 0);
	w_u16(&w, 0);
	w_u16(&w, q->edns ? 1 : 0);
	if (question) {
		w_put(&w, q->qname, q->qname_len);
		w_u16(&w, q->qtype);
		w_u16(&w, q->qclass);
	}
	if (q->edns)
		write_opt(&w, edns_size, (uint8_t)(rcode >> 4), q->do_bit,
		    ede_code, ede_text);
	if (w.len > outlen)
		return -1;
	return (int)w.len;
}

int
dnsmsg_name_labels(const uint8_t *name, size_t len)
{
	size_t pos = 0;
	int n = 0;

	while (pos < len && name[pos] != 0) {
		if (name[pos] > 63)
			return -1;
		pos += 1 + (size_t)name[pos];
		n++;
	}
	return pos + 1 == len ? n : -1;
}

int
dnsmsg_name_below(const uint8_t *name, size_t len, const uint8_t *zone,
    size_t zlen)
{
	size_t pos = 0;
	int n = dnsmsg_name_labels(name, len);

	if (n < 0 || zlen == 0 || zlen > len)
		return -1;
	/* Walk the labels of name until as many bytes are left as zone
	 * has: only a suffix starting on a label boundary can match. */
	while (len - pos > zlen) {
		pos += 1 + (size_t)name[pos];
	}
	if (len - pos != zlen || !dnsmsg_name_equal(name + pos, zone, zlen))
		return -1;
	return n;
}

int
dnsmsg_answer(const struct dnsmsg_query *q, int rcode,
    const struct dnsmsg_rr *rrs, unsigned nan, unsigned nns,
    uint16_t edns_size, uint8_t *out, size_t outlen)
{
	struct wbuf w = { out, outlen, 0 };
	unsigned i;

	if (!question_valid(q) || rcode < 0 || rcode > 0x0f)
		return -1;
	w_u16(&w, q->id);
	w_u8(&w, (uint8_t)(FLAG_QR | FLAG_AA | ((q->opcode & 0x0f) << 3) |
	    (q->rd ? FLAG_RD : 0)));
	w_u8(&w, (uint8_t)(FLAG_RA | (q->cd ? FLAG_CD : 0) | rcode));
	w_u16(&w, 1);
	w_u16(&w, (uint16_t)nan);
	w_u16(&w, (uint16_t)nns);
	w_u16(&w, q->edns ? 1 : 0);
	w_put(&w, q->qname, q->qname_len);
	w_u16(&w, q->qtype);
	w_u16(&w, q->qclass);
	for (i = 0; i < nan + nns; i++) {
		if (rrs[i].owner == NULL)
			w_u16(&w, 0xc000 | DNS_HEADER_LEN);	/* the question */
		else
			w_put(&w, rrs[i].owner, rrs[i].owner_len);
		w_u16(&w, rrs[i].type);
		w_u16(&w, DNS_CLASS_IN);
		w_u16(&w, (uint16_t)(rrs[i].ttl >> 16));
		w_u16(&w, (uint16_t)rrs[i].ttl);
		w_u16(&w, rrs[i].rdlen);
		w_put(&w, rrs[i].rdata, rrs[i].rdlen);
	}
	if (q->edns)
		write_opt(&w, edns_size, 0, q->do_bit, DNS_EDE_NONE, NULL);
	if (w.len > outlen)
		return -1;
	return (int)w.len;
}

/* Hashes of every suffix of n, computed from the root up so that each
 * suffix's hash depends only on its own bytes. */
static void
suffix_hashes(const struct dname *n, uint32_t *h)
{
	uint32_t acc = 2166136261u;	/* FNV-1a */
	size_t i, j;

	for (i = n->nlabels; i-- > 0;) {
		size_t end = i + 1 < n->nlabels ? n->flat[i + 1] : n->len - 1;

		for (j = n->flat[i]; j < end; j++) {
			acc ^= lower(n->wire[j]);
			acc *= 16777619u;
		}
		h[i] = acc;
	}
}

static void
comp_add(struct shape_ctx *c, size_t out_off, size_t up_off, size_t len,
    uint32_t hash)
{
	struct comp_entry *e;

	if (c->ncomp >= COMP_ENTRIES || out_off > MAX_PTR_TARGET)
		return;
	e = &c->comp[c->ncomp++];
	e->out_off = (uint16_t)out_off;
	e->up_off = up_off;
	e->len = (uint16_t)len;
	e->hash = hash;
}

/* Write n, its longest suffix already in the output becoming a pointer,
 * and remember the labels written here as targets for later names. */
static void
write_name_comp(struct shape_ctx *c, const struct dname *n)
{
	uint32_t h[MAX_LABELS];
	uint8_t by_len[DNS_MAX_NAME + 1];	/* suffix length -> label */
	struct dname tmp;
	size_t i, k, best = n->nlabels, best_entry = 0, start, end;

	suffix_hashes(n, h);
	memset(by_len, 0xff, sizeof(by_len));
	for (i = 0; i < n->nlabels; i++)
		by_len[n->len - n->flat[i]] = (uint8_t)i;
	for (k = 0; k < c->ncomp; k++) {
		const struct comp_entry *e = &c->comp[k];

		i = by_len[e->len];
		if (i < best && h[i] == e->hash) {
			best = i;
			best_entry = k;
		}
	}
	/* The hash only picks the candidate; the bytes decide.  On a
	 * collision the name is just written in full. */
	if (best < n->nlabels) {
		const struct comp_entry *e = &c->comp[best_entry];

		if (!name_read(c->up, c->uplen, e->up_off, true, &tmp, &end) ||
		    tmp.len != e->len ||
		    !dnsmsg_name_equal(tmp.wire, n->wire + n->flat[best], tmp.len))
			best = n->nlabels;
	}
	start = c->w.len;
	for (i = 0; i < best; i++)
		comp_add(c, start + n->flat[i], n->src[i], n->len - n->flat[i],
		    h[i]);
	if (best == n->nlabels) {
		w_put(&c->w, n->wire, n->len);
		return;
	}
	w_put(&c->w, n->wire, n->flat[best]);
	w_u16(&c->w, (uint16_t)(0xc000 | c->comp[best_entry].out_off));
}

/*
 * How the RDATA of a type is made: 'C' a name that may be compressed
 * (RFC 1035 types), 'U' a name that upstream may have compressed but that
 * must not be compressed again (RFC 3597 section 4), a digit that many
 * bytes, 's' a character-string, 'r' the rest.  NULL: opaque, copied as
 * it is.
 */
static const char *
rdata_desc(uint16_t type)
{
	switch (type) {
	case DNS_TYPE_NS:
	case TYPE_MD:
	case TYPE_MF:
	case DNS_TYPE_CNAME:
	case TYPE_MB:
	case TYPE_MG:
	case TYPE_MR:
	case DNS_TYPE_PTR:
		return "C";
	case DNS_TYPE_SOA:
		return "CC44444";
	case TYPE_MINFO:
		return "CC";
	case DNS_TYPE_MX:
		return "2C";
	case TYPE_RP:
		return "UU";
	case TYPE_AFSDB:
	case TYPE_RT:
		return "2U";
	case TYPE_PX:
		return "2UU";
	case TYPE_SRV:
		return "222U";
	case TYPE_NAPTR:
		return "22sssU";
	case TYPE_SIG:
		return "224442Ur";
	case TYPE_NXT:
		return "Ur";
	default:
		return NULL;
	}
}

/* What rdata_process does besides checking: nothing, copy the RDATA to
 * the output with its 'C' names compressed again, or copy it with every
 * name written out whole. */
enum rdata_mode { RDATA_CHECK, RDATA_COMPRESS, RDATA_FLAT };

/* Check the RDATA of rr against its type and, unless mode is RDATA_CHECK,
 * copy it to the output with its names rewritten.  Names inside the RDATA
 * must end within it, and the fields must fill it exactly. */
static bool
rdata_process(struct shape_ctx *c, const struct rr *rr, enum rdata_mode mode)
{
	bool write = mode != RDATA_CHECK;
	const char *d = rdata_desc(rr->type);
	size_t pos = rr->rdata, end = rr->end, next;
	struct dname n;

	if (d == NULL) {
		if (write)
			w_put(&c->w, c->up + pos, rr->rdlen);
		return true;
	}
	for (; *d != '\0'; d++) {
		size_t len;

		switch (*d) {
		case 'C':
		case 'U':
			/* Reading with end as the length keeps the name's own
			 * bytes inside the RDATA. */
			if (!name_read(c->up, end, pos, true, &n, &next))
				return false;
			if (write) {
				if (*d == 'C' && mode == RDATA_COMPRESS)
					write_name_comp(c, &n);
				else
					w_put(&c->w, n.wire, n.len);
			}
			pos = next;
			continue;
		case 's':
			if (pos >= end)
				return false;
			len = (size_t)c->up[pos] + 1;
			break;
		case 'r':
			len = end - pos;
			break;
		default:
			len = (size_t)(*d - '0');
			break;
		}
		if (end - pos < len)
			return false;
		if (write)
			w_put(&c->w, c->up + pos, len);
		pos += len;
	}
	return pos == end;
}

static bool
rr_keep(const struct shape_ctx *c, uint16_t type)
{
	if (type == DNS_TYPE_OPT)
		return false;
	if (dnsmsg_is_dnssec_type(type))
		return c->o->keep_dnssec || c->q->qtype == type;
	return true;
}

/*
 * Build the reply in one of the shapes of the truncation rule.  Returns
 * its full length, which may exceed the buffer, or -1 when upstream's
 * records are malformed.  Every record is checked in every mode, so that
 * the answer about malformed input does not depend on the sizes.
 */
static long
shape_build(struct shape_ctx *c, enum shape_mode mode)
{
	const struct dnsmsg_query *q = c->q;
	const struct dnsmsg_shape_opts *o = c->o;
	struct wbuf *w = &c->w;
	uint16_t written[3] = { 0, 0, 0 };
	uint32_t h[MAX_LABELS];
	size_t pos = c->rr_start, i, s;
	bool tc = mode == SHAPE_TC || mode == SHAPE_TC_NO_TEXT;
	struct rr rr;
	uint8_t f2, f3;

	w->len = 0;
	c->ncomp = 0;
	/* An upstream TC stays set: the data is incomplete either way. */
	f2 = (uint8_t)(FLAG_QR | (c->up[2] & (FLAG_AA | FLAG_TC)) |
	    (tc ? FLAG_TC : 0) |
	    (q->rd ? FLAG_RD : 0));
	f3 = (uint8_t)(FLAG_RA | (o->ad ? FLAG_AD : 0) |
	    (q->cd ? FLAG_CD : 0) | (c->up[3] & 0x0f));
	w_u16(w, q->id);
	w_u8(w, f2);
	w_u8(w, f3);
	w_u16(w, 1);
	w_u16(w, 0);
	w_u16(w, 0);
	w_u16(w, 0);

	/* The client's own question bytes; upstream's copy (equal but for
	 * case) is where later names are compared against it. */
	w_put(w, q->qname, q->qname_len);
	w_u16(w, q->qtype);
	w_u16(w, q->qclass);
	suffix_hashes(&c->qd, h);
	for (i = 0; i < c->qd.nlabels; i++)
		comp_add(c, DNS_HEADER_LEN + c->qd.flat[i], c->qd.src[i],
		    c->qd.len - c->qd.flat[i], h[i]);

	for (s = 0; s < 3; s++) {
		for (i = 0; i < c->count[s]; i++) {
			size_t rdlen_off, rdata_off;

			if (!rr_read(c->up, c->uplen, pos, &rr) ||
			    !rdata_process(c, &rr, RDATA_CHECK))
				return -1;
			pos = rr.end;
			/* An extended rcode (BADVERS, BADCOOKIE...) cannot
			 * be passed on in 4 bits: not an answer to use. */
			if (rr.type == DNS_TYPE_OPT && c->up[rr.fixed + 4] != 0)
				return -1;
			if (tc || !rr_keep(c, rr.type) ||
			    (s == 2 && mode == SHAPE_NO_ADDITIONAL))
				continue;
			write_name_comp(c, &rr.owner);
			/* Type, class and TTL as they are. */
			w_put(w, c->up + rr.fixed, 8);
			rdlen_off = w->len;
			w_u16(w, 0);
			rdata_off = w->len;
			(void)rdata_process(c, &rr, RDATA_COMPRESS);
			w_set16(w, rdlen_off, (uint16_t)(w->len - rdata_off));
			written[s]++;
		}
	}

	if (q->edns) {
		write_opt(w, o->edns_size, 0, q->do_bit, o->ede_code,
		    mode == SHAPE_TC_NO_TEXT ? NULL : o->ede_text);
		written[2]++;
	}
	w_set16(w, 6, written[0]);
	w_set16(w, 8, written[1]);
	w_set16(w, 10, written[2]);
	return (long)w->len;
}

int
dnsmsg_shape(const struct dnsmsg_query *q, const uint8_t *up,
    size_t uplen, const struct dnsmsg_shape_opts *o, uint8_t *out,
    size_t outlen)
{
	struct shape_ctx c;
	size_t pos, limit;
	long len;

	if (up == NULL || uplen < DNS_HEADER_LEN || uplen > DNS_MAX_MSG ||
	    !(up[2] & FLAG_QR) || get16(up + 4) != 1)
		return -1;
	if (!question_valid(q))
		return -1;
	c.q = q;
	c.o = o;
	c.up = up;
	c.uplen = uplen;
	c.count[0] = get16(up + 6);
	c.count[1] = get16(up + 8);
	c.count[2] = get16(up + 10);
	if (!name_read(up, uplen, DNS_HEADER_LEN, false, &c.qd, &pos) ||
	    uplen - pos < QD_FIXED_LEN)
		return -1;
	if (c.qd.len != q->qname_len ||
	    !dnsmsg_name_equal(c.qd.wire, q->qname, q->qname_len) ||
	    get16(up + pos) != q->qtype || get16(up + pos + 2) != q->qclass)
		return -1;
	c.rr_start = pos + QD_FIXED_LEN;
	c.w.buf = out;
	c.w.cap = out == NULL ? 0 : outlen;
	c.w.len = 0;

	limit = o->max_size < DNS_MAX_MSG ? o->max_size : DNS_MAX_MSG;
	len = shape_build(&c, SHAPE_FULL);
	if (len < 0)
		return -1;
	if ((size_t)len > limit && c.count[2] > 0)
		len = shape_build(&c, SHAPE_NO_ADDITIONAL);
	if ((size_t)len > limit)
		len = shape_build(&c, SHAPE_TC);
	/* Even a bare TC reply may not fit when the EDE text is long; the
	 * info-code alone still tells the client what happened. */
	if ((size_t)len > limit && q->edns && o->ede_text != NULL)
		len = shape_build(&c, SHAPE_TC_NO_TEXT);
	if (len < 0)
		return -1;
	if ((size_t)len > c.w.cap)
		return -2;
	return (int)len;
}

int
dnsmsg_records(const uint8_t *msg, size_t len,
    int (*fn)(void *arg, const struct dnsmsg_record *r), void *arg)
{
	struct shape_ctx c;
	uint8_t rdata[DNS_MAX_MSG];
	struct dnsmsg_record r;
	struct dname qd;
	size_t pos;
	uint16_t count[3];
	unsigned s, i;
	int rc;

	if (msg == NULL || len < DNS_HEADER_LEN || len > DNS_MAX_MSG ||
	    !(msg[2] & FLAG_QR) || get16(msg + 4) != 1)
		return -1;
	if (!name_read(msg, len, DNS_HEADER_LEN, true, &qd, &pos) ||
	    len - pos < QD_FIXED_LEN)
		return -1;
	pos += QD_FIXED_LEN;
	for (s = 0; s < 3; s++)
		count[s] = get16(msg + 6 + 2 * s);
	memset(&c, 0, offsetof(struct shape_ctx, comp));
	c.up = msg;
	c.uplen = len;
	for (s = 0; s < 3; s++) {
		for (i = 0; i < count[s]; i++) {
			struct rr rr;

			if (!rr_read(msg, len, pos, &rr))
				return -1;
			pos = rr.end;
			c.w.buf = rdata;
			c.w.cap = sizeof(rdata);
			c.w.len = 0;
			if (!rdata_process(&c, &rr, RDATA_FLAT) ||
			    c.w.len > UINT16_MAX)
				return -1;
			r.section = s;
			r.owner = rr.owner.wire;
			r.owner_len = rr.owner.len;
			r.type = rr.type;
			r.rclass = rr.rclass;
			r.ttl = ((uint32_t)get16(msg + rr.fixed + 4) << 16) |
			    get16(msg + rr.fixed + 6);
			r.rdata = rdata;
			r.rdlen = (uint16_t)c.w.len;
			if ((rc = fn(arg, &r)) != 0)
				return rc;
		}
	}
	return 0;
}

size_t
dnsmsg_udp_limit(const struct dnsmsg_query *q, uint16_t our_size)
{
	size_t limit;

	if (!q->edns)
		return DNS_MIN_UDP;
	limit = q->udp_size < our_size ? q->udp_size : our_size;
	return limit < DNS_MIN_UDP ? DNS_MIN_UDP : limit;
}

/* Append n bytes, keeping room for the final NUL. */
static bool
str_add(char *out, size_t outlen, size_t *o, const char *s, size_t n)
{
	if (outlen - *o <= n)
		return false;
	memcpy(out + *o, s, n);
	*o += n;
	return true;
}

int
dnsmsg_name_to_str(const uint8_t *name, size_t len, char *out,
    size_t outlen)
{
	size_t pos = 0, o = 0, i;

	if (name == NULL || out == NULL || outlen == 0)
		return -1;
	for (;;) {
		uint8_t b;

		if (pos >= len)
			return -1;
		b = name[pos];
		if (b == 0)
			break;
		if (b > 63 || len - pos - 1 < b ||
		    pos + 1 + b + 1 > DNS_MAX_NAME)
			return -1;
		for (i = pos + 1; i <= pos + b; i++) {
			uint8_t ch = name[i];
			char e[4];
			size_t n;

			switch (ch) {
			case '.': case '\\': case '"': case ';': case '(':
			case ')': case '@': case '$': case ' ':
				e[0] = '\\';
				e[1] = (char)ch;
				n = 2;
				break;
			default:
				if (ch >= 0x21 && ch <= 0x7e) {
					e[0] = (char)ch;
					n = 1;
				} else {
					e[0] = '\\';
					e[1] = (char)('0' + ch / 100);
					e[2] = (char)('0' + ch / 10 % 10);
					e[3] = (char)('0' + ch % 10);
					n = 4;
				}
				break;
			}
			if (!str_add(out, outlen, &o, e, n))
				return -1;
		}
		if (!str_add(out, outlen, &o, ".", 1))
			return -1;
		pos += (size_t)b + 1;
	}
	if (pos == 0 && !str_add(out, outlen, &o, ".", 1))
		return -1;
	out[o] = '\0';
	return (int)o;
}

uint16_t
dnsmsg_get_id(const uint8_t *pkt)
{
	return get16(pkt);
}

void
dnsmsg_set_id(uint8_t *pkt, uint16_t id)
{
	pkt[0] = (uint8_t)(id >> 8);
	pkt[1] = (uint8_t)id;
}

int
dnsmsg_get_rcode(const uint8_t *pkt)
{
	return pkt[3] & 0x0f;
}

bool
dnsmsg_name_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

bool
dnsmsg_is_dnssec_type(uint16_t type)
{
	return type == DNS_TYPE_RRSIG || type == DNS_TYPE_NSEC ||
	    type == DNS_TYPE_NSEC3;
}
