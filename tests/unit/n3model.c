/*
 * n3model.c -- a model NSEC3 zone for the synth tests (n3model.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "dnsmsg.h"
#include "n3model.h"
#include "wire.h"

#define T_A	1
#define T_NS	2
#define T_CNAME	5
#define T_SOA	6
#define T_DS	43
#define T_RRSIG	46
#define T_DNSKEY 48
#define T_NSEC	47
#define T_NSEC3	50
#define T_NSEC3PARAM 51

void
n3m_query(struct dnsmsg_query *q, const uint8_t *name, size_t len,
    uint16_t type)
{
	memset(q, 0, sizeof(*q));
	memcpy(q->qname, name, len);
	q->qname_len = len;
	q->qtype = type;
	q->qclass = DNS_CLASS_IN;
	q->question_ok = true;
	q->rd = true;
}

int
n3m_wire(const char *name, uint8_t *out)
{
	size_t len = 0;
	const char *p = name;

	if (strcmp(name, ".") == 0) {
		out[0] = 0;
		return 1;
	}
	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		size_t i;

		if (l == 0 || l > 63 || len + l + 2 > 255)
			return -1;
		out[len++] = (uint8_t)l;
		for (i = 0; i < l; i++) {
			char c = p[i];

			out[len++] = (uint8_t)(c >= 'A' && c <= 'Z' ?
			    c + ('a' - 'A') : c);
		}
		p += l;
		if (*p == '.')
			p++;
	}
	out[len++] = 0;
	return (int)len;
}

static int
labels(const uint8_t *n)
{
	int c = 0;

	while (*n != 0) {
		c++;
		n += *n + 1;
	}
	return c;
}

/* Whether a is b or below it (lower-case wire names). */
static bool
at_or_below(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t pos = 0;

	while (alen - pos > blen) {
		if (a[pos] == 0)
			return false;
		pos += (size_t)a[pos] + 1;
	}
	return alen - pos == blen && memcmp(a + pos, b, blen) == 0;
}

static bool
eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

static void
hash(const struct n3model *m, const uint8_t *name, size_t len,
    uint8_t out[20])
{
	uint8_t buf[255 + 255];
	unsigned i;

	memcpy(buf, name, len);
	memcpy(buf + len, m->salt, m->saltlen);
	SHA1(buf, len + m->saltlen, out);
	for (i = 0; i < m->iterations; i++) {
		memcpy(buf, out, 20);
		memcpy(buf + 20, m->salt, m->saltlen);
		SHA1(buf, 20 + (size_t)m->saltlen, out);
	}
}

void
n3m_init(struct n3model *m, const char *apex, uint16_t iterations,
    const uint8_t *salt, uint8_t saltlen, bool optout, int64_t wall)
{
	static const uint16_t apex_types[] = { T_A, 0 };

	memset(m, 0, sizeof(*m));
	m->apex_len = (size_t)n3m_wire(apex, m->apex);
	m->iterations = iterations;
	memcpy(m->salt, salt, saltlen);
	m->saltlen = saltlen;
	m->optout = optout;
	m->ttl = 300;
	m->wall = wall;
	(void)n3m_add(m, "@", apex_types, false);
}

static const struct n3m_name *
find(const struct n3model *m, const uint8_t *n, size_t len)
{
	unsigned i;

	for (i = 0; i < m->nnames; i++)
		if (eq(m->names[i].wire, m->names[i].len, n, len))
			return &m->names[i];
	return NULL;
}

static bool
has_type(const struct n3m_name *n, uint16_t t)
{
	unsigned i;

	for (i = 0; i < n->ntypes; i++)
		if (n->types[i] == t)
			return true;
	return false;
}

static bool
is_deleg(const struct n3model *m, const struct n3m_name *n)
{
	return has_type(n, T_NS) &&
	    !eq(n->wire, n->len, m->apex, m->apex_len);
}

int
n3m_add(struct n3model *m, const char *name, const uint16_t *types,
    bool ds)
{
	struct n3m_name *n;
	char full[600];
	int len;

	if (m->nnames == N3M_MAX_NAMES)
		return -1;
	n = &m->names[m->nnames];
	if (strcmp(name, "@") == 0) {
		memcpy(n->wire, m->apex, m->apex_len);
		len = (int)m->apex_len;
	} else {
		uint8_t w[255];
		int wl;

		if (strlen(name) > 300)
			return -1;
		snprintf(full, sizeof(full), "%s.", name);
		if ((wl = n3m_wire(full, w)) < 0 ||
		    (size_t)wl - 1 + m->apex_len > 255)
			return -1;
		memcpy(n->wire, w, (size_t)wl - 1);
		memcpy(n->wire + wl - 1, m->apex, m->apex_len);
		len = wl - 1 + (int)m->apex_len;
	}
	if (find(m, n->wire, (size_t)len) != NULL)
		return -1;
	n->len = (size_t)len;
	n->ntypes = 0;
	while (types[n->ntypes] != 0 && n->ntypes < N3M_MAX_TYPES) {
		n->types[n->ntypes] = types[n->ntypes];
		n->ntypes++;
	}
	n->ds = ds;
	/* A delegation at a wildcard is not a zone anyone can serve (RFC
	 * 4592 section 4.2). */
	if (n->wire[0] == 1 && n->wire[1] == '*' && has_type(n, T_NS))
		return -1;
	m->nnames++;
	return 0;
}

/* The delegation at or above n (strictly above when strict), if any. */
static const struct n3m_name *
cut_above(const struct n3model *m, const uint8_t *n, size_t len, bool strict)
{
	unsigned i;

	for (i = 0; i < m->nnames; i++) {
		const struct n3m_name *d = &m->names[i];

		if (!is_deleg(m, d) || !at_or_below(n, len, d->wire, d->len))
			continue;
		if (strict && eq(n, len, d->wire, d->len))
			continue;
		return d;
	}
	return NULL;
}

/* Whether n exists: it has records, or names below it do (an empty
 * non-terminal). */
static bool
exists(const struct n3model *m, const uint8_t *n, size_t len)
{
	unsigned i;

	for (i = 0; i < m->nnames; i++)
		if (at_or_below(m->names[i].wire, m->names[i].len, n, len))
			return true;
	return false;
}

static int
cmp_rec(const void *a, const void *b)
{
	return memcmp(((const struct n3m_rec *)a)->hash,
	    ((const struct n3m_rec *)b)->hash, 20);
}

static void
bitmap(struct n3m_rec *r, const uint16_t *t, unsigned n)
{
	uint8_t win[256][32];
	unsigned used[256] = { 0 }, i, w;

	memset(win, 0, sizeof(win));
	for (i = 0; i < n; i++) {
		unsigned b = t[i] & 0xff;

		w = t[i] >> 8;
		win[w][b / 8] |= (uint8_t)(0x80 >> (b % 8));
		if (b / 8 + 1 > used[w])
			used[w] = b / 8 + 1;
	}
	r->bmlen = 0;
	for (w = 0; w < 256; w++) {
		if (used[w] == 0 || r->bmlen + 2 + used[w] > sizeof(r->bitmap))
			continue;
		r->bitmap[r->bmlen++] = (uint8_t)w;
		r->bitmap[r->bmlen++] = (uint8_t)used[w];
		memcpy(r->bitmap + r->bmlen, win[w], used[w]);
		r->bmlen += used[w];
	}
}

/* Add the chain record for name n (wire), with types t. */
static void
chain_add(struct n3model *m, const uint8_t *n, size_t len, const uint16_t *t,
    unsigned nt)
{
	struct n3m_rec *r;
	unsigned i;

	hash(m, n, len, m->chain[m->nchain].hash);
	for (i = 0; i < m->nchain; i++)
		if (memcmp(m->chain[i].hash, m->chain[m->nchain].hash, 20) ==
		    0)
			return;
	r = &m->chain[m->nchain++];
	bitmap(r, t, nt);
}

/* RFC 4034 section 6.1, on lower-case wire names. */
static int
canon(const uint8_t *a, const uint8_t *b)
{
	const uint8_t *la[128], *lb[128];
	int na = 0, nb = 0, i;

	for (; *a != 0; a += *a + 1)
		la[na++] = a;
	for (; *b != 0; b += *b + 1)
		lb[nb++] = b;
	for (i = 1; i <= na && i <= nb; i++) {
		const uint8_t *x = la[na - i], *y = lb[nb - i];
		int c = memcmp(x + 1, y + 1, x[0] < y[0] ? x[0] : y[0]);

		if (c != 0)
			return c;
		if (x[0] != y[0])
			return x[0] < y[0] ? -1 : 1;
	}
	return na - nb;
}

static int
cmp_nsec(const void *a, const void *b)
{
	return canon(((const struct n3m_nsec *)a)->owner,
	    ((const struct n3m_nsec *)b)->owner);
}

/* The NSEC chain: every name with records and every delegation, not the
 * empty non-terminals, not glue. */
static void
build_nsec(struct n3model *m)
{
	unsigned i, j;

	m->nnsec = 0;
	for (i = 0; i < m->nnames; i++) {
		const struct n3m_name *n = &m->names[i];
		struct n3m_nsec *r = &m->nsecs[m->nnsec];
		uint16_t t[N3M_MAX_TYPES + 8];
		unsigned nt = 0;
		struct n3m_rec tmp;

		if (cut_above(m, n->wire, n->len, true) != NULL)
			continue;
		if (is_deleg(m, n)) {
			t[nt++] = T_NS;
			if (n->ds)
				t[nt++] = T_DS;
		} else {
			for (j = 0; j < n->ntypes; j++)
				t[nt++] = n->types[j];
			if (eq(n->wire, n->len, m->apex, m->apex_len)) {
				t[nt++] = T_SOA;
				t[nt++] = T_NS;
				t[nt++] = T_DNSKEY;
			}
		}
		t[nt++] = T_RRSIG;
		t[nt++] = T_NSEC;
		bitmap(&tmp, t, nt);
		memcpy(r->bitmap, tmp.bitmap, tmp.bmlen);
		r->bmlen = tmp.bmlen;
		memcpy(r->owner, n->wire, n->len);
		r->olen = n->len;
		m->nnsec++;
	}
	qsort(m->nsecs, m->nnsec, sizeof(m->nsecs[0]), cmp_nsec);
	for (i = 0; i < m->nnsec; i++) {
		const struct n3m_nsec *nx = &m->nsecs[(i + 1) % m->nnsec];

		memcpy(m->nsecs[i].next, nx->owner, nx->olen);
		m->nsecs[i].nlen = nx->olen;
	}
}

void
n3m_build(struct n3model *m)
{
	unsigned i, j;

	m->nchain = 0;
	for (i = 0; i < m->nnames; i++) {
		const struct n3m_name *n = &m->names[i];
		uint16_t t[N3M_MAX_TYPES + 6];
		unsigned nt = 0;
		size_t pos;

		if (cut_above(m, n->wire, n->len, true) != NULL)
			continue;	/* glue: not in the chain */
		if (is_deleg(m, n)) {
			if (!n->ds && m->optout)
				continue;
			t[nt++] = T_NS;
			if (n->ds) {
				t[nt++] = T_DS;
				t[nt++] = T_RRSIG;
			}
		} else {
			for (j = 0; j < n->ntypes; j++)
				t[nt++] = n->types[j];
			t[nt++] = T_RRSIG;
			if (eq(n->wire, n->len, m->apex, m->apex_len)) {
				t[nt++] = T_SOA;
				t[nt++] = T_NS;
				t[nt++] = T_DNSKEY;
				t[nt++] = T_NSEC3PARAM;
			}
		}
		/* Sorted, for the bitmap's sake it does not matter. */
		chain_add(m, n->wire, n->len, t, nt);
		/* Its empty non-terminals up to the apex. */
		for (pos = n->wire[0] + 1; n->len - pos > m->apex_len;
		    pos += (size_t)n->wire[pos] + 1)
			if (find(m, n->wire + pos, n->len - pos) == NULL)
				chain_add(m, n->wire + pos, n->len - pos, t, 0);
	}
	qsort(m->chain, m->nchain, sizeof(m->chain[0]), cmp_rec);
	for (i = 0; i < m->nchain; i++)
		memcpy(m->chain[i].next, m->chain[(i + 1) % m->nchain].hash, 20);
	if (m->nsec)
		build_nsec(m);
}

enum n3m_truth
n3m_truth(const struct n3model *m, const uint8_t *qname, size_t qlen,
    uint16_t qtype)
{
	const struct n3m_name *n, *w;
	uint8_t wname[255];
	size_t pos;

	if (!at_or_below(qname, qlen, m->apex, m->apex_len))
		return N3M_OUTSIDE;
	if (cut_above(m, qname, qlen, false) != NULL)
		return N3M_CUT;
	if ((n = find(m, qname, qlen)) != NULL) {
		if (has_type(n, qtype))
			return N3M_ANSWER;
		return has_type(n, T_CNAME) ? N3M_CNAME : N3M_NODATA;
	}
	if (exists(m, qname, qlen))
		return N3M_NODATA;
	/* The closest encloser. */
	for (pos = qname[0] + 1; !exists(m, qname + pos, qlen - pos);
	    pos += (size_t)qname[pos] + 1)
		;
	if (qlen - pos + 2 > 255)
		return N3M_NXDOMAIN;
	wname[0] = 1;
	wname[1] = '*';
	memcpy(wname + 2, qname + pos, qlen - pos);
	if (!exists(m, wname, qlen - pos + 2))
		return N3M_NXDOMAIN;
	/* A wildcard that is an empty non-terminal matches too, with no
	 * data (RFC 4592 section 2.2.2). */
	if ((w = find(m, wname, qlen - pos + 2)) == NULL)
		return N3M_WILD_NODATA;
	if (has_type(w, qtype))
		return N3M_WILD_ANSWER;
	return has_type(w, T_CNAME) ? N3M_WILD_CNAME : N3M_WILD_NODATA;
}

size_t
n3m_rdata(const uint8_t *owner, size_t olen, uint16_t type, uint8_t *out)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < olen; i++)
		h = (h ^ owner[i]) * 16777619u;
	if (type == T_A) {
		put32(out, h);
		return 4;
	}
	/* One character-string of eight hex digits, for any other type. */
	out[0] = 8;
	for (i = 0; i < 8; i++)
		out[1 + i] = (uint8_t)"0123456789abcdef"[(h >> (28 - 4 * i)) &
		    15];
	return 9;
}

struct msg {
	uint8_t *p;
	size_t cap, len;
	bool full;
	unsigned count[2];
};

static void
mput(struct msg *w, const void *d, size_t n)
{
	if (w->full || w->cap - w->len < n) {
		w->full = true;
		return;
	}
	memcpy(w->p + w->len, d, n);
	w->len += n;
}

static void
rr(struct msg *w, unsigned sec, const uint8_t *owner, size_t olen,
    uint16_t type, uint32_t ttl, const uint8_t *rdata, size_t rdlen)
{
	uint8_t f[10];

	put16(f, type);
	put16(f + 2, 1);
	put32(f + 4, ttl);
	put16(f + 8, (uint16_t)rdlen);
	mput(w, owner, olen);
	mput(w, f, sizeof(f));
	mput(w, rdata, rdlen);
	w->count[sec]++;
}

/* A placeholder RRSIG over type at owner, labels as given. */
static void
sig(const struct n3model *m, struct msg *w, unsigned sec,
    const uint8_t *owner, size_t olen, uint16_t type, int nlabels)
{
	uint8_t rd[18 + 255 + 64];

	put16(rd, type);
	rd[2] = 13;
	rd[3] = (uint8_t)nlabels;
	put32(rd + 4, m->ttl);
	put32(rd + 8, (uint32_t)(m->wall + 86400));
	put32(rd + 12, (uint32_t)(m->wall - 3600));
	put16(rd + 16, 12345);
	memcpy(rd + 18, m->apex, m->apex_len);
	memset(rd + 18 + m->apex_len, 0xaa, 64);
	rr(w, sec, owner, olen, T_RRSIG, m->ttl, rd, 18 + m->apex_len + 64);
}

static const struct n3m_rec *
match(const struct n3model *m, const uint8_t *n, size_t len)
{
	uint8_t h[20];
	unsigned i;

	hash(m, n, len, h);
	for (i = 0; i < m->nchain; i++)
		if (memcmp(m->chain[i].hash, h, 20) == 0)
			return &m->chain[i];
	return NULL;
}

static const struct n3m_rec *
cover(const struct n3model *m, const uint8_t *n, size_t len)
{
	uint8_t h[20];
	unsigned i;

	hash(m, n, len, h);
	for (i = m->nchain; i-- > 0;)
		if (memcmp(m->chain[i].hash, h, 20) < 0)
			return &m->chain[i];
	return m->nchain ? &m->chain[m->nchain - 1] : NULL;
}

static void
nsec3(const struct n3model *m, struct msg *w, const struct n3m_rec *r)
{
	static const char b32[] = "0123456789abcdefghijklmnopqrstuv";
	uint8_t owner[255], rd[6 + 255 + 21 + 64];
	unsigned i, bits = 0, n = 1;
	uint32_t acc = 0;
	size_t len = 0;

	owner[0] = 32;
	for (i = 0; i < 20; i++) {
		acc = (acc << 8) | r->hash[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			owner[n++] = (uint8_t)b32[(acc >> bits) & 31];
		}
	}
	memcpy(owner + 33, m->apex, m->apex_len);
	rd[len++] = 1;
	rd[len++] = m->optout ? 1 : 0;
	put16(rd + len, m->iterations);
	len += 2;
	rd[len++] = m->saltlen;
	memcpy(rd + len, m->salt, m->saltlen);
	len += m->saltlen;
	rd[len++] = 20;
	memcpy(rd + len, r->next, 20);
	len += 20;
	memcpy(rd + len, r->bitmap, r->bmlen);
	len += r->bmlen;
	rr(w, 1, owner, 33 + m->apex_len, T_NSEC3, m->ttl, rd, len);
	sig(m, w, 1, owner, 33 + m->apex_len, T_NSEC3, labels(m->apex) + 1);
}

static void
soa(const struct n3model *m, struct msg *w)
{
	uint8_t rd[2 + 20];

	rd[0] = 0;
	rd[1] = 0;
	put32(rd + 2, 1);
	put32(rd + 6, 3600);
	put32(rd + 10, 900);
	put32(rd + 14, 604800);
	put32(rd + 18, m->ttl);
	rr(w, 1, m->apex, m->apex_len, T_SOA, m->ttl, rd, sizeof(rd));
	sig(m, w, 1, m->apex, m->apex_len, T_SOA, labels(m->apex));
}

/* The NSEC whose owner is n, or that covers it (the last one before,
 * wrapping round). */
static const struct n3m_nsec *
ns_match(const struct n3model *m, const uint8_t *n)
{
	unsigned i;

	for (i = 0; i < m->nnsec; i++)
		if (canon(m->nsecs[i].owner, n) == 0)
			return &m->nsecs[i];
	return NULL;
}

static const struct n3m_nsec *
ns_cover(const struct n3model *m, const uint8_t *n)
{
	unsigned i;

	for (i = m->nnsec; i-- > 0;)
		if (canon(m->nsecs[i].owner, n) < 0)
			return &m->nsecs[i];
	return m->nnsec ? &m->nsecs[m->nnsec - 1] : NULL;
}

static void
nsec(const struct n3model *m, struct msg *w, const struct n3m_nsec *r)
{
	uint8_t rd[255 + 64];

	memcpy(rd, r->next, r->nlen);
	memcpy(rd + r->nlen, r->bitmap, r->bmlen);
	rr(w, 1, r->owner, r->olen, T_NSEC, m->ttl, rd, r->nlen + r->bmlen);
	sig(m, w, 1, r->owner, r->olen, T_NSEC, labels(r->owner) -
	    (r->owner[0] == 1 && r->owner[1] == '*'));
}

/* n3m_reply for an NSEC zone (RFC 4035 section 3.1.3). */
static int
reply_nsec(const struct n3model *m, const uint8_t *qname, size_t qlen,
    uint16_t qtype, enum n3m_truth t, struct msg *w)
{
	const struct n3m_nsec *a, *b;
	uint8_t rd[16], wname[255];
	size_t pos, rdlen;

	if (t == N3M_NXDOMAIN || t == N3M_WILD_ANSWER ||
	    t == N3M_WILD_NODATA) {
		for (pos = qname[0] + 1; !exists(m, qname + pos, qlen - pos);
		    pos += (size_t)qname[pos] + 1)
			;
		wname[0] = 1;
		wname[1] = '*';
		memcpy(wname + 2, qname + pos, qlen - pos);
	}
	switch (t) {
	case N3M_ANSWER:
		rdlen = n3m_rdata(qname, qlen, qtype, rd);
		rr(w, 0, qname, qlen, qtype, m->ttl, rd, rdlen);
		sig(m, w, 0, qname, qlen, qtype, labels(qname) -
		    (qname[0] == 1 && qname[1] == '*'));
		return 0;
	case N3M_WILD_ANSWER:
		rdlen = n3m_rdata(wname, qlen - pos + 2, qtype, rd);
		rr(w, 0, qname, qlen, qtype, m->ttl, rd, rdlen);
		sig(m, w, 0, qname, qlen, qtype, labels(wname) - 1);
		nsec(m, w, ns_cover(m, qname));
		return 0;
	case N3M_NODATA:
		/* The name's own NSEC, or for an empty non-terminal the one
		 * before it, whose next name is below it. */
		if ((a = ns_match(m, qname)) == NULL)
			a = ns_cover(m, qname);
		soa(m, w);
		nsec(m, w, a);
		return 0;
	case N3M_WILD_NODATA:
		/* A wildcard that is an empty non-terminal owns no NSEC. */
		if ((b = ns_match(m, wname)) == NULL)
			return -1;
		a = ns_cover(m, qname);
		soa(m, w);
		nsec(m, w, a);
		if (b != a)
			nsec(m, w, b);
		return 0;
	default:	/* N3M_NXDOMAIN */
		a = ns_cover(m, qname);
		b = ns_cover(m, wname);
		soa(m, w);
		nsec(m, w, a);
		if (b != a)
			nsec(m, w, b);
		return 0;
	}
}

int
n3m_reply(const struct n3model *m, const uint8_t *qname, size_t qlen,
    uint16_t qtype, uint8_t *out, size_t cap)
{
	struct msg w = { out, cap, 0, false, { 0, 0 } };
	enum n3m_truth t = n3m_truth(m, qname, qlen, qtype);
	const struct n3m_rec *ce = NULL, *nc = NULL, *wc = NULL;
	uint8_t hdr[12], q[4], rd[16], wname[255];
	size_t pos = 0, rdlen, nclen = 0;
	const uint8_t *ncname = NULL;
	int rcode = 0;

	if (t == N3M_CUT || t == N3M_OUTSIDE || t == N3M_CNAME ||
	    t == N3M_WILD_CNAME)
		return 0;
	if (m->nsec) {
		memset(hdr, 0, sizeof(hdr));
		hdr[2] = 0x81;
		hdr[3] = (uint8_t)(0xa0 | (t == N3M_NXDOMAIN ? 3 : 0));
		put16(hdr + 4, 1);
		mput(&w, hdr, sizeof(hdr));
		mput(&w, qname, qlen);
		put16(q, qtype);
		put16(q + 2, 1);
		mput(&w, q, sizeof(q));
		if (reply_nsec(m, qname, qlen, qtype, t, &w) < 0)
			return 0;
		if (w.full)
			return -1;
		put16(out + 6, (uint16_t)w.count[0]);
		put16(out + 8, (uint16_t)w.count[1]);
		return (int)w.len;
	}
	if (t == N3M_NXDOMAIN || t == N3M_WILD_ANSWER ||
	    t == N3M_WILD_NODATA) {
		size_t o;

		for (pos = qname[0] + 1; !exists(m, qname + pos, qlen - pos);
		    pos += (size_t)qname[pos] + 1)
			;
		/* The next closer name: one label more than the encloser. */
		for (o = 0; o < pos; o += (size_t)qname[o] + 1)
			nclen = o;
		ncname = qname + nclen;
		nclen = qlen - nclen;
		ce = match(m, qname + pos, qlen - pos);
		nc = cover(m, ncname, nclen);
		/* An opt-out span proves no more than "no secure
		 * delegation": not a secure answer. */
		if (m->optout || ce == NULL || nc == NULL)
			return 0;
		wname[0] = 1;
		wname[1] = '*';
		memcpy(wname + 2, qname + pos, qlen - pos);
		wc = t == N3M_NXDOMAIN ?
		    cover(m, wname, qlen - pos + 2) :
		    match(m, wname, qlen - pos + 2);
		if (wc == NULL)
			return 0;
	}
	memset(hdr, 0, sizeof(hdr));
	hdr[2] = 0x81;
	if (t == N3M_NXDOMAIN)
		rcode = 3;
	hdr[3] = (uint8_t)(0xa0 | rcode);
	put16(hdr + 4, 1);
	mput(&w, hdr, sizeof(hdr));
	mput(&w, qname, qlen);
	put16(q, qtype);
	put16(q + 2, 1);
	mput(&w, q, sizeof(q));
	switch (t) {
	case N3M_ANSWER:
		rdlen = n3m_rdata(qname, qlen, qtype, rd);
		rr(&w, 0, qname, qlen, qtype, m->ttl, rd, rdlen);
		sig(m, &w, 0, qname, qlen, qtype, labels(qname) -
		    (qname[0] == 1 && qname[1] == '*'));
		break;
	case N3M_WILD_ANSWER:
		rdlen = n3m_rdata(wname, qlen - pos + 2, qtype, rd);
		rr(&w, 0, qname, qlen, qtype, m->ttl, rd, rdlen);
		sig(m, &w, 0, qname, qlen, qtype, labels(wname) - 1);
		nsec3(m, &w, nc);
		break;
	case N3M_NODATA:
		if ((ce = match(m, qname, qlen)) == NULL)
			return 0;
		soa(m, &w);
		nsec3(m, &w, ce);
		break;
	default:
		soa(m, &w);
		nsec3(m, &w, ce);
		if (nc != ce)
			nsec3(m, &w, nc);
		if (wc != ce && wc != nc)
			nsec3(m, &w, wc);
		break;
	}
	if (w.full)
		return -1;
	put16(out + 6, (uint16_t)w.count[0]);
	put16(out + 8, (uint16_t)w.count[1]);
	return (int)w.len;
}
