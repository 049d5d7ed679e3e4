/*
 * check_sigfilter.c -- the reply rewrite of explain's signature filter
 * (sigfilter.h): the other RRSIGs of one RRset go, everything else stays,
 * and compression pointers into what went cannot break the names after.
 */
#include "config.h"

#include <string.h>

#include <check.h>

#include "dnsfix.h"
#include "dnsmsg.h"
#include "sigfilter.h"
#include "suites.h"

/* An RRSIG RDATA covering type, key tag tag, signed by "example.", with a
 * one-byte signature sig. */
static size_t
rrsig_rdata(uint8_t *out, uint16_t type, uint16_t tag, uint8_t sig)
{
	struct pkt p = { .len = 0 };

	p16(&p, type);
	p.b[p.len++] = 13;	/* algorithm */
	p.b[p.len++] = 2;	/* labels */
	p32(&p, 300);
	p32(&p, 2000000000u);
	p32(&p, 1700000000u);
	p16(&p, tag);
	p.len += wire_name("example.", p.b + p.len);
	p.b[p.len++] = sig;
	memcpy(out, p.b, p.len);
	return p.len;
}

static void
rr(struct pkt *p, const uint8_t *owner, size_t olen, uint16_t type,
    const uint8_t *rdata, size_t rdlen)
{
	memcpy(p->b + p->len, owner, olen);
	p->len += olen;
	p16(p, type);
	p16(p, 1);
	p32(p, 300);
	p16(p, (unsigned)rdlen);
	memcpy(p->b + p->len, rdata, rdlen);
	p->len += rdlen;
}

struct seen {
	unsigned n[3], sigs_www_a, sigs_other;
	bool kept, mx_ok;
	uint8_t keep[64];
	size_t keep_len;
};

static int
seen_cb(void *arg, const struct dnsmsg_record *r)
{
	struct seen *s = arg;
	uint8_t www[DNS_MAX_NAME], mail[DNS_MAX_NAME];
	size_t wl = wire_name("www.example.", www);
	size_t ml = wire_name("mail.example.", mail);

	s->n[r->section]++;
	if (r->type == DNS_TYPE_RRSIG) {
		if (r->owner_len == wl &&
		    dnsmsg_name_equal(r->owner, www, wl) &&
		    r->rdata[0] == 0 && r->rdata[1] == DNS_TYPE_A) {
			s->sigs_www_a++;
			s->kept = r->rdlen == s->keep_len &&
			    memcmp(r->rdata, s->keep, s->keep_len) == 0;
		} else
			s->sigs_other++;
	}
	/* MX 10 mail.example., whose name pointed into a dropped RRSIG's
	 * owner in the original: written out whole now. */
	if (r->type == 15 && r->rdlen == 2 + ml &&
	    memcmp(r->rdata + 2, mail, ml) == 0)
		s->mx_ok = true;
	return 0;
}

START_TEST(test_rewrite_keeps_one_rrsig)
{
	struct pkt p = { .len = 0 };
	uint8_t www[DNS_MAX_NAME], sig[3][64], a[4] = { 192, 0, 2, 1 };
	uint8_t out[4096], mxr[4] = { 0, 10, 0, 0 };
	size_t wl, sl[3], mx_ptr_at;
	struct seen s;
	int n;

	/* Header: QR, one question, answer 4 (A, 3 RRSIGs of it), authority
	 * 2 (MX whose target is compressed, RRSIG MX), additional 0. */
	p16(&p, 0x1234);
	p16(&p, 0x8180);
	p16(&p, 1);
	p16(&p, 4);
	p16(&p, 2);
	p16(&p, 0);
	wl = wire_name("www.example.", www);
	memcpy(p.b + p.len, www, wl);
	p.len += wl;
	p16(&p, DNS_TYPE_A);
	p16(&p, 1);
	{
		/* Owners compressed to the question's name (offset 12). */
		uint8_t ptr[2] = { 0xc0, 12 };

		rr(&p, ptr, 2, DNS_TYPE_A, a, 4);
		sl[0] = rrsig_rdata(sig[0], DNS_TYPE_A, 1111, 0xaa);
		sl[1] = rrsig_rdata(sig[1], DNS_TYPE_A, 2222, 0xbb);
		sl[2] = rrsig_rdata(sig[2], DNS_TYPE_A, 2222, 0xcc);
		rr(&p, ptr, 2, DNS_TYPE_RRSIG, sig[0], sl[0]);
		/* The second RRSIG's owner written out: "mail" will point
		 * at its "example." below. */
		mx_ptr_at = p.len + 4;
		{
			uint8_t own[DNS_MAX_NAME];
			size_t ol = wire_name("www.example.", own);

			rr(&p, own, ol, DNS_TYPE_RRSIG, sig[1], sl[1]);
		}
		rr(&p, ptr, 2, DNS_TYPE_RRSIG, sig[2], sl[2]);
	}
	{
		uint8_t mx[16];
		size_t ml = 0;
		uint8_t msig[64];
		size_t msl = rrsig_rdata(msig, 15, 1111, 0xdd);

		/* MX 10 mail.<pointer to "example." of the RRSIG dropped>. */
		memcpy(mx, mxr, 2);
		ml = 2;
		mx[ml++] = 4;
		memcpy(mx + ml, "mail", 4);
		ml += 4;
		mx[ml++] = 0xc0;
		mx[ml++] = (uint8_t)mx_ptr_at;
		rr(&p, (const uint8_t[]){ 0xc0, 12 }, 2, 15, mx, ml);
		rr(&p, (const uint8_t[]){ 0xc0, 12 }, 2, DNS_TYPE_RRSIG, msig,
		    msl);
	}
	/* Sanity: the message as built reads. */
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(dnsmsg_records(p.b, p.len, seen_cb, &s), 0);
	ck_assert_uint_eq(s.sigs_www_a, 3);
	ck_assert(s.mx_ok);

	/* Keep the first (tag 1111): the second, whose owner "mail" pointed
	 * into, and the third go. */
	n = sigfilter_rewrite(p.b, p.len, www, wl, DNS_TYPE_A, sig[0], sl[0],
	    out, sizeof(out));
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq((unsigned)(out[6] << 8 | out[7]), 2);
	ck_assert_uint_eq((unsigned)(out[8] << 8 | out[9]), 2);
	ck_assert_uint_eq((unsigned)(out[10] << 8 | out[11]), 0);
	ck_assert_int_eq(memcmp(out, p.b, 4), 0);	/* id, flags */
	memset(&s, 0, sizeof(s));
	memcpy(s.keep, sig[0], sl[0]);
	s.keep_len = sl[0];
	ck_assert_int_eq(dnsmsg_records(out, (size_t)n, seen_cb, &s), 0);
	ck_assert_uint_eq(s.sigs_www_a, 1);
	ck_assert(s.kept);
	ck_assert_uint_eq(s.sigs_other, 1);	/* the MX's RRSIG stays */
	ck_assert(s.mx_ok);

	/* Keep one that is not there: every RRSIG of www A goes. */
	n = sigfilter_rewrite(p.b, p.len, www, wl, DNS_TYPE_A, a, 4, out,
	    sizeof(out));
	ck_assert_int_gt(n, 0);
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(dnsmsg_records(out, (size_t)n, seen_cb, &s), 0);
	ck_assert_uint_eq(s.sigs_www_a, 0);
	ck_assert_uint_eq(s.n[0], 1);

	/* Too small a buffer, and bad input. */
	ck_assert_int_eq(sigfilter_rewrite(p.b, p.len, www, wl, DNS_TYPE_A,
	    sig[1], sl[1], out, 40), -2);
	ck_assert_int_eq(sigfilter_rewrite(p.b, 11, www, wl, DNS_TYPE_A,
	    sig[1], sl[1], out, sizeof(out)), -1);
	ck_assert_int_eq(sigfilter_rewrite(p.b, p.len - 3, www, wl,
	    DNS_TYPE_A, sig[1], sl[1], out, sizeof(out)), -1);
}
END_TEST

Suite *
sigfilter_suite(void)
{
	Suite *s = suite_create("sigfilter");
	TCase *tc = tcase_create("rewrite");

	tcase_add_test(tc, test_rewrite_keeps_one_rrsig);
	suite_add_tcase(s, tc);
	return s;
}
