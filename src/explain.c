/*
 * explain.c -- dotsec-control explain (explain.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <openssl/evp.h>
#include <unbound.h>

#include "dnsmsg.h"
#include "dsconfig.h"
#include "explain.h"
#include "route.h"
#include "sigfilter.h"
#include "validator.h"
#include "wire.h"

#define MAX_TEXT_NAME	(4 * DNS_MAX_NAME + 2)

/* One resource record of a reply, its owner expanded to text. */
struct rr {
	char owner[MAX_TEXT_NAME];
	uint16_t type;
	uint32_t ttl;
	const uint8_t *rdata;
	uint16_t rdlen;
	int section;		/* 1 answer, 2 authority */
};

struct ex {
	struct evbuffer *out;
	bool json;
	bool first_zone;	/* JSON: no comma before the first zone */
	time_t now;
	/* For the verdict on one RRSIG alone (sigfilter.h). */
	const struct ds_config *cfg;
	char *const *anchors;
	const char *relay_ip;
	unsigned relay_port;
	struct sigfilter *filter;	/* started on first use */
	bool filter_failed;
	const char *qname;		/* the question of the reply shown */
	int qtype;
};

/* Expand the (possibly compressed) name at off into text; *next gets the
 * offset after it in place.  Returns 0 or -1. */
static int
expand(const uint8_t *pkt, size_t len, size_t off, char *out, size_t outlen,
    size_t *next)
{
	uint8_t wire[DNS_MAX_NAME];
	size_t w = 0, hops = 0;
	bool jumped = false;

	while (off < len) {
		uint8_t l = pkt[off];

		if ((l & 0xc0) == 0xc0) {
			if (off + 1 >= len || ++hops > 64)
				return -1;
			if (!jumped)
				*next = off + 2;
			jumped = true;
			off = (size_t)(l & 0x3f) << 8 | pkt[off + 1];
			continue;
		}
		if (l & 0xc0 || off + 1 + l > len || w + 1 + l > sizeof(wire))
			return -1;
		memcpy(wire + w, pkt + off, (size_t)l + 1);
		w += (size_t)l + 1;
		off += (size_t)l + 1;
		if (l == 0) {
			if (!jumped)
				*next = off;
			return dnsmsg_name_to_str(wire, w, out, outlen) < 0 ?
			    -1 : 0;
		}
	}
	return -1;
}

/* Call fn for each record of the answer and authority sections. */
static int
each_rr(const uint8_t *pkt, size_t len,
    void (*fn)(struct ex *, const struct rr *, void *), struct ex *x,
    void *arg)
{
	size_t off = DNS_HEADER_LEN, next;
	unsigned qd, an, ns, i;
	char skip[MAX_TEXT_NAME];
	struct rr r;

	if (len < DNS_HEADER_LEN)
		return -1;
	qd = get16(pkt + 4);
	an = get16(pkt + 6);
	ns = get16(pkt + 8);
	for (i = 0; i < qd; i++) {
		if (expand(pkt, len, off, skip, sizeof(skip), &next) != 0 ||
		    next + 4 > len)
			return -1;
		off = next + 4;
	}
	for (i = 0; i < an + ns; i++) {
		if (expand(pkt, len, off, r.owner, sizeof(r.owner), &next) !=
		    0 || next + 10 > len)
			return -1;
		r.type = get16(pkt + next);
		r.ttl = get32(pkt + next + 4);
		r.rdlen = get16(pkt + next + 8);
		r.rdata = pkt + next + 10;
		r.section = i < an ? 1 : 2;
		if (next + 10 + r.rdlen > len)
			return -1;
		off = next + 10 + r.rdlen;
		fn(x, &r, arg);
	}
	return 0;
}

/* RFC 4034 appendix B. */
static unsigned
key_tag(const uint8_t *rdata, size_t len)
{
	unsigned long ac = 0;
	size_t i;

	for (i = 0; i < len; i++)
		ac += (i & 1) ? rdata[i] : (unsigned long)rdata[i] << 8;
	ac += (ac >> 16) & 0xffff;
	return (unsigned)(ac & 0xffff);
}

static void
put_str(struct ex *x, const char *s)
{
	evbuffer_add(x->out, "\"", 1);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			evbuffer_add_printf(x->out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			evbuffer_add_printf(x->out, "\\u%04x", *s);
		else
			evbuffer_add(x->out, s, 1);
	}
	evbuffer_add(x->out, "\"", 1);
}

static void
fmt_sigtime(time_t now, uint32_t v, char *buf, size_t len)
{
	time_t t = now + (time_t)(int32_t)(v - (uint32_t)now);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%u", v);
}

/* A type's mnemonic for the common ones, else TYPEnnn (RFC 3597). */
static const char *
type_name(uint16_t t, char *buf, size_t len)
{
	static const struct { uint16_t t; const char *n; } m[] = {
		{ 1, "A" }, { 2, "NS" }, { 5, "CNAME" }, { 6, "SOA" },
		{ 12, "PTR" }, { 15, "MX" }, { 16, "TXT" }, { 28, "AAAA" },
		{ 33, "SRV" }, { 43, "DS" }, { 46, "RRSIG" }, { 47, "NSEC" },
		{ 48, "DNSKEY" }, { 50, "NSEC3" }, { 51, "NSEC3PARAM" },
		{ 64, "SVCB" }, { 65, "HTTPS" }, { 257, "CAA" }
	};
	size_t i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (m[i].t == t)
			return m[i].n;
	snprintf(buf, len, "TYPE%u", t);
	return buf;
}

static const char *
status_of(const struct ub_result *r)
{
	return r->secure ? "secure" : r->bogus ? "bogus" : "insecure";
}

/* ---- what each reply holds -------------------------------------------- */

struct zone_keys {
	const char *zone;		/* the zone's name */
	const struct ub_result *dnskey;	/* may be NULL */
	bool any;			/* JSON: an item was written */
};

/* What the validator makes of one RRSIG. */
struct sig_check {
	const char *word;	/* "verified", "not accepted", "not checked" */
	bool alone;		/* asked again with the other RRSIGs of its
				   RRset left out */
	char why[256];
};

/* The RRSIGs at r's owner covering what r covers, in res. */
struct sig_count {
	const struct rr *r;
	unsigned n;
};

static void
count_cb(struct ex *x, const struct rr *o, void *arg)
{
	struct sig_count *c = arg;

	(void)x;
	if (o->type == DNS_TYPE_RRSIG && o->rdlen >= 2 &&
	    get16(o->rdata) == get16(c->r->rdata) &&
	    strcasecmp(o->owner, c->r->owner) == 0)
		c->n++;
}

/* libunbound's reason why res is bogus, in plain words. */
static const char *
bogus_reason(const struct ub_result *res)
{
	return res->why_bogus ? validator_reason(res->why_bogus) : "bogus";
}

/* What res says of an RRSIG whose verdict is the reply's. */
static void
sig_verdict(const struct ub_result *res, struct sig_check *c)
{
	if (res->secure) {
		c->word = "verified";
		c->why[0] = '\0';
	} else if (res->bogus) {
		c->word = "not accepted";
		snprintf(c->why, sizeof(c->why), "%s", bogus_reason(res));
	} else {
		c->word = "not checked";
		snprintf(c->why, sizeof(c->why), "the reply was not "
		    "validated");
	}
}

/* Ask name/type again through the signature filter, with r the only
 * RRSIG of its RRset in every reply: libunbound's verdict on it. */
static void
check_alone(struct ex *x, const struct rr *r, const char *name, int type,
    struct sig_check *c)
{
	uint8_t owner[DNS_MAX_NAME];
	struct ub_ctx *ctx;
	struct ub_result *res = NULL;
	int wl, rc;

	c->alone = true;
	c->word = "not checked";
	snprintf(c->why, sizeof(c->why), "the filter could not be started");
	if (x->filter == NULL && !x->filter_failed &&
	    (x->filter = sigfilter_start(x->relay_ip, x->relay_port)) == NULL)
		x->filter_failed = true;
	if (x->filter == NULL)
		return;
	if ((wl = route_name_to_wire(r->owner, owner, sizeof(owner))) < 0 ||
	    sigfilter_target(x->filter, owner, (size_t)wl, get16(r->rdata),
	    r->rdata, r->rdlen) != 0) {
		snprintf(c->why, sizeof(c->why), "bad owner name");
		return;
	}
	if ((ctx = validator_explain_context(x->cfg, x->relay_ip,
	    sigfilter_port(x->filter), x->anchors)) == NULL) {
		snprintf(c->why, sizeof(c->why), "no validator (see the log)");
		return;
	}
	if ((rc = ub_resolve(ctx, name, type, 1, &res)) != 0)
		snprintf(c->why, sizeof(c->why), "%s", ub_strerror(rc));
	else
		sig_verdict(res, c);
	ub_resolve_free(res);
	ub_ctx_delete(ctx);
}

/* The validator's verdict on r, an RRSIG of res: res's own when r is the
 * only signature of its RRset and res is secure, or r signs the answer
 * to the question; else asked again with r alone (res's question when r
 * has company in its RRset, r's own RRset's otherwise). */
static void
check_sig(struct ex *x, const struct ub_result *res, const struct rr *r,
    struct sig_check *c)
{
	struct sig_count n = { r, 0 };
	bool validated = res->secure || res->bogus;

	c->alone = false;
	if (validated && res->answer_packet != NULL)
		(void)each_rr(res->answer_packet, (size_t)res->answer_len,
		    count_cb, x, &n);
	if (n.n > 1) {
		check_alone(x, r, x->qname, x->qtype, c);
		return;
	}
	/* A bogus reply: its verdict is r's only if r signs the answer to
	 * the question.  Another RRset (a SOA or NSEC of a proof, a CNAME)
	 * is asked for on its own; an NSEC3 cannot be. */
	if (res->bogus && (get16(r->rdata) != x->qtype ||
	    strcasecmp(r->owner, x->qname) != 0)) {
		if (get16(r->rdata) != DNS_TYPE_NSEC3) {
			check_alone(x, r, r->owner, get16(r->rdata), c);
			return;
		}
		c->word = "not checked";
		snprintf(c->why, sizeof(c->why), "an NSEC3 cannot be asked "
		    "for on its own; the reply was not accepted: %s",
		    bogus_reason(res));
		return;
	}
	sig_verdict(res, c);
}

static void
rrsig_line(struct ex *x, const struct ub_result *res, const struct rr *r)
{
	char signer[MAX_TEXT_NAME], inc[32], exp[32], tb[16];
	uint8_t wire[DNS_MAX_NAME];
	struct sig_check c;
	size_t n;

	if (r->rdlen < 19)
		return;
	/* The signer's name is never compressed (RFC 4034 3.1.7). */
	for (n = 18; n < r->rdlen && r->rdata[n] != 0 &&
	    n - 18 < sizeof(wire); n += 1 + r->rdata[n])
		;
	if (n >= r->rdlen || n - 18 + 1 > sizeof(wire))
		return;
	memcpy(wire, r->rdata + 18, n - 18 + 1);
	if (dnsmsg_name_to_str(wire, n - 18 + 1, signer, sizeof(signer)) < 0)
		return;
	fmt_sigtime(x->now, get32(r->rdata + 8), exp, sizeof(exp));
	fmt_sigtime(x->now, get32(r->rdata + 12), inc, sizeof(inc));
	check_sig(x, res, r, &c);
	if (x->json) {
		evbuffer_add_printf(x->out, "{\"owner\":");
		put_str(x, r->owner);
		evbuffer_add_printf(x->out, ",\"covers\":%u,\"algorithm\":%u,"
		    "\"key_tag\":%u,\"signer\":", get16(r->rdata), r->rdata[2],
		    get16(r->rdata + 16));
		put_str(x, signer);
		evbuffer_add_printf(x->out, ",\"inception\":\"%s\","
		    "\"expiration\":\"%s\",\"check\":", inc, exp);
		put_str(x, c.word);
		evbuffer_add_printf(x->out, ",\"alone\":%s", c.alone ? "true" :
		    "false");
		if (c.why[0] != '\0') {
			evbuffer_add_printf(x->out, ",\"why\":");
			put_str(x, c.why);
		}
		evbuffer_add(x->out, "}", 1);
		return;
	}
	evbuffer_add_printf(x->out, "    RRSIG %s by %s key %u/%u, valid "
	    "%s .. %s%s: %s%s%s%s\n", type_name(get16(r->rdata), tb, sizeof(tb)),
	    signer, get16(r->rdata + 16),
	    r->rdata[2], inc, exp, (int32_t)(get32(r->rdata + 8) -
	    (uint32_t)x->now) < 0 ? " (EXPIRED)" : (int32_t)(get32(r->rdata +
	    12) - (uint32_t)x->now) > 0 ? " (NOT YET VALID)" : "", c.word,
	    c.alone ? " alone" : "", c.why[0] != '\0' ? ": " : "", c.why);
}

/* The RRSIGs of a reply, as one list. */
struct sig_list {
	bool any;
	uint16_t covers;	/* 0: all */
	const struct ub_result *res;
};

static void
sig_cb(struct ex *x, const struct rr *r, void *arg)
{
	struct sig_list *l = arg;

	if (r->type != DNS_TYPE_RRSIG || r->rdlen < 2 ||
	    (l->covers != 0 && get16(r->rdata) != l->covers))
		return;
	if (x->json && l->any)
		evbuffer_add(x->out, ",", 1);
	l->any = true;
	rrsig_line(x, l->res, r);
}

/* The RRSIGs of res, the reply to name/type. */
static void
sigs(struct ex *x, const struct ub_result *res, const char *name, int type,
    uint16_t covers)
{
	struct sig_list l = { false, covers, res };

	x->qname = name;
	x->qtype = type;

	if (x->json)
		evbuffer_add_printf(x->out, ",\"rrsigs\":[");
	if (res->answer_packet != NULL)
		(void)each_rr(res->answer_packet, (size_t)res->answer_len,
		    sig_cb, x, &l);
	if (x->json)
		evbuffer_add_printf(x->out, "]");
}

/* Whether DNSKEY rdata k (of zone) has the digest of DS rdata d. */
static bool
ds_matches(const char *zone, const uint8_t *d, size_t dlen, const uint8_t *k,
    size_t klen)
{
	uint8_t owner[DNS_MAX_NAME], md[EVP_MAX_MD_SIZE];
	const EVP_MD *alg;
	unsigned mdlen = 0;
	EVP_MD_CTX *c;
	int olen = route_name_to_wire(zone, owner, sizeof(owner));
	bool ok;

	if (olen < 0 || dlen < 4 || klen < 4 || get16(d) != key_tag(k, klen) ||
	    d[2] != k[3])
		return false;
	alg = d[3] == 1 ? EVP_sha1() : d[3] == 2 ? EVP_sha256() :
	    d[3] == 4 ? EVP_sha384() : NULL;
	if (alg == NULL || (c = EVP_MD_CTX_new()) == NULL)
		return false;
	ok = EVP_DigestInit_ex(c, alg, NULL) == 1 &&
	    EVP_DigestUpdate(c, owner, (size_t)olen) == 1 &&
	    EVP_DigestUpdate(c, k, klen) == 1 &&
	    EVP_DigestFinal_ex(c, md, &mdlen) == 1 &&
	    mdlen == dlen - 4 && memcmp(md, d + 4, mdlen) == 0;
	EVP_MD_CTX_free(c);
	return ok;
}

static void
ds_items(struct ex *x, const struct zone_keys *zk, const struct ub_result *ds)
{
	int i, j;

	for (i = 0; ds->havedata && ds->data[i] != NULL; i++) {
		const uint8_t *d = (const uint8_t *)ds->data[i];
		size_t dl = (size_t)ds->len[i];
		int match = -1;

		if (dl < 4)
			continue;
		for (j = 0; zk->dnskey && zk->dnskey->havedata &&
		    zk->dnskey->data[j] != NULL; j++)
			if (ds_matches(zk->zone,
			    d, dl, (const uint8_t *)zk->dnskey->data[j],
			    (size_t)zk->dnskey->len[j]))
				match = (int)key_tag((const uint8_t *)
				    zk->dnskey->data[j],
				    (size_t)zk->dnskey->len[j]);
		if (x->json) {
			evbuffer_add_printf(x->out, "%s{\"key_tag\":%u,"
			    "\"algorithm\":%u,\"digest_type\":%u,"
			    "\"matches_dnskey\":", i ? "," : "", get16(d), d[2],
			    d[3]);
			if (match >= 0)
				evbuffer_add_printf(x->out, "%d}", match);
			else
				evbuffer_add_printf(x->out, "null}");
		} else if (match >= 0)
			evbuffer_add_printf(x->out, "    DS %u/%u digest type %u: "
			    "matches DNSKEY %d\n", get16(d), d[2], d[3], match);
		else
			evbuffer_add_printf(x->out, "    DS %u/%u digest type %u: "
			    "matches no DNSKEY of the zone\n", get16(d), d[2],
			    d[3]);
	}
}

static void
dnskey_items(struct ex *x, const struct ub_result *k)
{
	int i;

	for (i = 0; k->havedata && k->data[i] != NULL; i++) {
		const uint8_t *r = (const uint8_t *)k->data[i];
		size_t rl = (size_t)k->len[i];

		if (rl < 4)
			continue;
		if (x->json)
			evbuffer_add_printf(x->out, "%s{\"key_tag\":%u,"
			    "\"algorithm\":%u,\"flags\":%u,\"sep\":%s}",
			    i ? "," : "", key_tag(r, rl), r[3], get16(r),
			    (get16(r) & 1) ? "true" : "false");
		else
			evbuffer_add_printf(x->out, "    DNSKEY %u/%u flags %u%s%s\n",
			    key_tag(r, rl), r[3], get16(r),
			    (get16(r) & 1) ? " SEP" : "",
			    (get16(r) & 0x80) ? " REVOKED" : "");
	}
}

/* The denial records of a negative reply (NSEC, NSEC3), by owner. */
static void
proof_cb(struct ex *x, const struct rr *r, void *arg)
{
	bool *any = arg;

	if (r->section != 2 || (r->type != DNS_TYPE_NSEC &&
	    r->type != DNS_TYPE_NSEC3))
		return;
	if (x->json) {
		evbuffer_add_printf(x->out, "%s{\"type\":\"%s\",\"owner\":",
		    *any ? "," : "", r->type == DNS_TYPE_NSEC ? "NSEC" :
		    "NSEC3");
		put_str(x, r->owner);
		evbuffer_add(x->out, "}", 1);
	} else
		evbuffer_add_printf(x->out, "    proof: %s %s\n",
		    r->type == DNS_TYPE_NSEC ? "NSEC" : "NSEC3", r->owner);
	*any = true;
}

static void
proofs(struct ex *x, const struct ub_result *res)
{
	bool any = false;

	if (x->json)
		evbuffer_add_printf(x->out, ",\"proof\":[");
	if (res->answer_packet != NULL)
		(void)each_rr(res->answer_packet, (size_t)res->answer_len,
		    proof_cb, x, &any);
	if (x->json)
		evbuffer_add_printf(x->out, "]");
}

/* One reply's headline: its verdict and, when bogus, libunbound's
 * reason. */
static void
verdict_of(struct ex *x, const char *what, const struct ub_result *r)
{
	if (x->json) {
		evbuffer_add_printf(x->out, "\"%s\":{\"status\":\"%s\","
		    "\"rcode\":%d,\"has_data\":%s", what, status_of(r),
		    r->rcode, r->havedata ? "true" : "false");
		if (r->why_bogus) {
			evbuffer_add_printf(x->out, ",\"why\":");
			put_str(x, r->why_bogus);
		}
		return;
	}
	evbuffer_add_printf(x->out, "  %s: %s, rcode %d%s%s%s\n", what,
	    status_of(r), r->rcode, r->havedata ? "" : ", no data",
	    r->why_bogus ? ": " : "", r->why_bogus ?
	    validator_reason(r->why_bogus) : "");
}

static struct ub_result *
ask(struct ub_ctx *ctx, const char *name, int type, struct evbuffer *err)
{
	struct ub_result *r = NULL;
	int rc = ub_resolve(ctx, name, type, 1, &r);

	if (rc != 0) {
		evbuffer_add_printf(err, "%s type %d: %s\n", name, type,
		    ub_strerror(rc));
		return NULL;
	}
	return r;
}

/* ---- the walk ---------------------------------------------------------- */

struct link {
	char what[MAX_TEXT_NAME + 32];
	char *why;		/* libunbound's, owned */
};

int
explain_run(const struct ds_config *cfg, char *const *anchors,
    const char *relay_ip, unsigned relay_port, const char *name,
    uint16_t qtype, bool json, struct evbuffer *out)
{
	struct ex x = { out, json, true, time(NULL), cfg, anchors, relay_ip,
	    relay_port, NULL, false, NULL, 0 };
	struct ub_ctx *ctx;
	struct ub_result *soa = NULL, *ds = NULL, *key = NULL, *ans = NULL;
	uint8_t wire[DNS_MAX_NAME];
	char qname[MAX_TEXT_NAME], anc[MAX_TEXT_NAME], insecure_at[MAX_TEXT_NAME];
	struct link bad = { "", NULL };
	char tb[16];
	struct evbuffer *err = evbuffer_new();
	int wl, labels, depth, rc = -1, ede;
	size_t off;

	insecure_at[0] = '\0';
	if (err == NULL)
		return -1;
	if ((wl = route_name_to_wire(name, wire, sizeof(wire))) < 0 ||
	    dnsmsg_name_to_str(wire, (size_t)wl, qname, sizeof(qname)) < 0) {
		evbuffer_add_printf(out, "%s: not a domain name\n", name);
		evbuffer_free(err);
		return -1;
	}
	if ((ctx = validator_explain_context(cfg, relay_ip, relay_port,
	    anchors)) == NULL) {
		evbuffer_add_printf(out, "cannot make a validator (see the "
		    "log)\n");
		evbuffer_free(err);
		return -1;
	}
	labels = dnsmsg_name_labels(wire, (size_t)wl);
	if (json) {
		evbuffer_add_printf(out, "{\"name\":");
		put_str(&x, qname);
		evbuffer_add_printf(out, ",\"type\":%u,\"zones\":[", qtype);
	} else
		evbuffer_add_printf(out, "explain %s %s (fresh, from the "
		    "root; libunbound's verdicts)\n", qname,
		    type_name(qtype, tb, sizeof(tb)));
	/* The root, then each name down to qname: a zone cut is a name
	 * with its own SOA. */
	for (depth = 0; depth <= labels; depth++) {
		struct zone_keys zk;
		int skip = labels - depth, i;

		for (off = 0, i = 0; i < skip; i++)
			off += 1 + (size_t)wire[off];
		if (dnsmsg_name_to_str(wire + off, (size_t)wl - off, anc,
		    sizeof(anc)) < 0)
			goto done;
		if (depth > 0) {
			if ((soa = ask(ctx, anc, DNS_TYPE_SOA, err)) == NULL)
				goto failed;
			if (!soa->havedata) {
				ub_resolve_free(soa);
				soa = NULL;
				continue;	/* not a zone cut */
			}
			ub_resolve_free(soa);
			soa = NULL;
			if ((ds = ask(ctx, anc, DNS_TYPE_DS, err)) == NULL)
				goto failed;
		}
		if ((key = ask(ctx, anc, DNS_TYPE_DNSKEY, err)) == NULL)
			goto failed;
		zk.zone = anc;
		zk.dnskey = key;
		if (json) {
			evbuffer_add_printf(out, "%s{\"zone\":", x.first_zone ?
			    "" : ",");
			x.first_zone = false;
			put_str(&x, anc);
		} else
			evbuffer_add_printf(out, "zone %s\n", anc);
		if (ds != NULL) {
			if (json)
				evbuffer_add(out, ",", 1);
			verdict_of(&x, "ds", ds);
			if (json)
				evbuffer_add_printf(out, ",\"records\":[");
			ds_items(&x, &zk, ds);
			if (json)
				evbuffer_add(out, "]", 1);
			sigs(&x, ds, anc, DNS_TYPE_DS, DNS_TYPE_DS);
			if (!ds->havedata)
				proofs(&x, ds);
			if (json)
				evbuffer_add(out, "}", 1);
			if (ds->bogus && bad.why == NULL) {
				snprintf(bad.what, sizeof(bad.what), "%s DS",
				    anc);
				bad.why = ds->why_bogus ?
				    strdup(ds->why_bogus) : NULL;
				if (bad.why == NULL)
					bad.why = strdup("bogus");
			}
			/* No DS (proven absent, or below a point that is
			 * insecure already): the chain ends here. */
			if (!ds->havedata && !ds->bogus &&
			    insecure_at[0] == '\0')
				snprintf(insecure_at, sizeof(insecure_at), "%s",
				    anc);
		}
		if (json)
			evbuffer_add(out, ",", 1);
		verdict_of(&x, "dnskey", key);
		if (json)
			evbuffer_add_printf(out, ",\"records\":[");
		dnskey_items(&x, key);
		if (json)
			evbuffer_add(out, "]", 1);
		sigs(&x, key, anc, DNS_TYPE_DNSKEY, DNS_TYPE_DNSKEY);
		if (json)
			evbuffer_add_printf(out, "}}");
		if (key->bogus && bad.why == NULL) {
			snprintf(bad.what, sizeof(bad.what), "%s DNSKEY", anc);
			bad.why = key->why_bogus ? strdup(key->why_bogus) :
			    NULL;
			if (bad.why == NULL)
				bad.why = strdup("bogus");
		}
		ub_resolve_free(ds);
		ub_resolve_free(key);
		ds = key = NULL;
		if (insecure_at[0] != '\0')
			break;	/* nothing below an insecure cut is signed */
	}
	if ((ans = ask(ctx, qname, qtype, err)) == NULL)
		goto failed;
	if (json) {
		evbuffer_add_printf(out, "],");
		verdict_of(&x, "answer", ans);
	} else
		verdict_of(&x, "answer", ans);
	sigs(&x, ans, qname, qtype, 0);
	if (!ans->havedata)
		proofs(&x, ans);
	if (json)
		evbuffer_add_printf(out, "}");
	/* The verdict: libunbound's, for the question; the first bogus link
	 * of the chain is named when there is one. */
	if (ans->bogus && bad.why == NULL) {
		snprintf(bad.what, sizeof(bad.what), "%s %s", qname,
		    type_name(qtype, tb, sizeof(tb)));
		bad.why = strdup(ans->why_bogus ? ans->why_bogus : "bogus");
	}
	ede = ans->bogus ? validator_ede(ans->why_bogus) : -1;
	if (json) {
		evbuffer_add_printf(out, ",\"verdict\":\"%s\"", ans->bogus ?
		    "bogus" : ans->secure ? "secure" : ans->rcode ==
		    DNS_RCODE_SERVFAIL ? "failed" : "insecure");
		if (ans->bogus) {
			evbuffer_add_printf(out, ",\"ede\":%d,\"failing_link\":",
			    ede);
			put_str(&x, bad.what);
			evbuffer_add_printf(out, ",\"reason\":");
			put_str(&x, validator_reason(bad.why));
		} else if (!ans->secure && insecure_at[0] != '\0') {
			evbuffer_add_printf(out, ",\"insecure_at\":");
			put_str(&x, insecure_at);
		}
		evbuffer_add_printf(out, "}\n");
	} else if (ans->bogus)
		evbuffer_add_printf(out, "verdict: bogus (EDE %d): %s: %s\n",
		    ede, bad.what, bad.why ? validator_reason(bad.why) : "");
	else if (ans->secure)
		evbuffer_add_printf(out, "verdict: secure (AD)\n");
	else if (ans->rcode == DNS_RCODE_SERVFAIL)
		evbuffer_add_printf(out, "verdict: no answer (SERVFAIL from "
		    "the upstream)\n");
	else if (insecure_at[0] != '\0')
		evbuffer_add_printf(out, "verdict: insecure: no DS for %s "
		    "(the chain of trust ends there)\n", insecure_at);
	else
		evbuffer_add_printf(out, "verdict: insecure (not validated "
		    "here: a negative trust anchor or an insecure forward "
		    "zone)\n");
	rc = 0;
	goto done;
failed:
	evbuffer_add_buffer(out, err);
done:
	ub_resolve_free(soa);
	ub_resolve_free(ds);
	ub_resolve_free(key);
	ub_resolve_free(ans);
	free(bad.why);
	ub_ctx_delete(ctx);
	sigfilter_stop(x.filter);
	evbuffer_free(err);
	return rc;
}
