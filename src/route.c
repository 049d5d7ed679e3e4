/*
 * route.c -- the route table: forward zones and locally served special-use
 * zones, matched by the longest suffix.  A handful of entries: a linear
 * scan costs less than any index would.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anchorfile.h"
#include "dnsmsg.h"
#include "dsconfig.h"
#include "log.h"
#include "route.h"

struct rentry {
	uint8_t wire[DNS_MAX_NAME];	/* lower case */
	size_t len;
	int labels;
	int route;		/* a forward zone's index, or ROUTE_LOCAL */
	const char *special;	/* the special-use zone's name, or NULL */
};

struct route {
	struct rentry *e;
	size_t n;
};

/* The SOA and NS of every locally served zone (RFC 6303 section 3). */
#define LOCAL_TTL	10800u
static const uint8_t soa_rdata[] = {
	9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't', 0,
	6, 'n', 'o', 'b', 'o', 'd', 'y', 7, 'i', 'n', 'v', 'a', 'l', 'i', 'd', 0,
	0, 0, 0, 1,		/* serial */
	0, 0, 0x0e, 0x10,	/* refresh 3600 */
	0, 0, 0x04, 0xb0,	/* retry 1200 */
	0, 0x09, 0x3a, 0x80,	/* expire 604800 */
	0, 0, 0x2a, 0x30	/* minimum 10800 */
};
static const uint8_t localhost_wire[] = {
	9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't', 0
};
static const uint8_t loop4[4] = { 127, 0, 0, 1 };
static const uint8_t loop6[16] = { [15] = 1 };
/* 1.0.0.127.in-addr.arpa. */
static const uint8_t ptr127_wire[] = {
	1, '1', 1, '0', 1, '0', 3, '1', '2', '7',
	7, 'i', 'n', '-', 'a', 'd', 'd', 'r', 4, 'a', 'r', 'p', 'a', 0
};

int
route_name_to_wire(const char *name, uint8_t *out, size_t outlen)
{
	size_t pos = 0, lab;
	const char *p = name, *dot;

	if (strcmp(name, ".") == 0) {
		if (outlen < 1)
			return -1;
		out[0] = 0;
		return 1;
	}
	while (*p != '\0') {
		dot = strchr(p, '.');
		lab = dot ? (size_t)(dot - p) : strlen(p);
		if (lab == 0 || lab > 63 || pos + 1 + lab + 1 > outlen ||
		    pos + 1 + lab + 1 > DNS_MAX_NAME)
			return -1;
		out[pos++] = (uint8_t)lab;
		for (; lab > 0; lab--, p++) {
			if (*p == '\\')
				return -1;
			out[pos++] = (uint8_t)(*p >= 'A' && *p <= 'Z' ?
			    *p + 32 : *p);
		}
		if (*p == '.')
			p++;
	}
	out[pos++] = 0;
	return (int)pos;
}

static bool
name_in(const char *name, char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

static const struct ds_fwd_zone *
fwd_find(const struct ds_config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nfwd_zones; i++)
		if (strcmp(cfg->fwd_zones[i].name, name) == 0)
			return &cfg->fwd_zones[i];
	return NULL;
}

/* Whether cfg answers the special-use zone name itself. */
static bool
served_locally(const struct ds_config *cfg, const char *name)
{
	return !name_in(name, cfg->local_zones_disable,
	    cfg->nlocal_zones_disable) && fwd_find(cfg, name) == NULL;
}

int
route_local_zone(const struct ds_config *cfg, const char *name)
{
	return served_locally(cfg, name);
}

static int
entry_add(struct route *rt, const char *name, int route,
    const char *special)
{
	struct rentry *e = &rt->e[rt->n];
	int len = route_name_to_wire(name, e->wire, sizeof(e->wire));

	if (len < 0) {
		ds_err("route: '%s' is not a usable zone name", name);
		return -1;
	}
	e->len = (size_t)len;
	e->labels = dnsmsg_name_labels(e->wire, e->len);
	e->route = route;
	e->special = special;
	rt->n++;
	return 0;
}

struct route *
route_create(const struct ds_config *cfg)
{
	struct route *rt;
	size_t nspecial = 0, i;

	while (ds_special_zones[nspecial] != NULL)
		nspecial++;
	if ((rt = calloc(1, sizeof(*rt))) == NULL ||
	    (rt->e = calloc(cfg->nfwd_zones + nspecial + 1,
	    sizeof(*rt->e))) == NULL) {
		ds_err("route: out of memory");
		free(rt);
		return NULL;
	}
	for (i = 0; i < cfg->nfwd_zones; i++)
		if (entry_add(rt, cfg->fwd_zones[i].name, (int)i, NULL) != 0)
			goto fail;
	for (i = 0; i < nspecial; i++)
		if (served_locally(cfg, ds_special_zones[i]) &&
		    entry_add(rt, ds_special_zones[i], ROUTE_LOCAL,
		    ds_special_zones[i]) != 0)
			goto fail;
	return rt;
fail:
	route_delete(rt);
	return NULL;
}

void
route_delete(struct route *rt)
{
	if (rt == NULL)
		return;
	free(rt->e);
	free(rt);
}

/* The entry with the longest suffix of name, or NULL.  skip_apex_fwd: a
 * forward zone whose apex name is does not count (DS questions). */
static const struct rentry *
best(const struct route *rt, const uint8_t *name, size_t len,
    bool skip_apex_fwd)
{
	const struct rentry *b = NULL;
	size_t i;
	int n;

	for (i = 0; i < rt->n; i++) {
		const struct rentry *e = &rt->e[i];

		if (b != NULL && e->labels <= b->labels)
			continue;	/* forward zones come first: they win
					   a tie */
		if ((n = dnsmsg_name_below(name, len, e->wire, e->len)) < 0)
			continue;
		if (skip_apex_fwd && e->route >= 0 && n == e->labels)
			continue;
		b = e;
	}
	return b;
}

int
route_lookup(const struct route *rt, const uint8_t *name, size_t len,
    uint16_t qtype)
{
	const struct rentry *e = best(rt, name, len, qtype == DNS_TYPE_DS);

	return e == NULL ? ROUTE_DEFAULT : e->route;
}

int
route_local(const struct route *rt, const struct dnsmsg_query *q,
    uint16_t edns_size, uint8_t *out, size_t outlen)
{
	const struct rentry *e = best(rt, q->qname, q->qname_len,
	    q->qtype == DNS_TYPE_DS);
	struct dnsmsg_rr rr[2];
	unsigned nan = 0;
	int rcode = DNS_RCODE_NOERROR, n;
	bool apex, exists, localhost;

	if (e == NULL || e->route != ROUTE_LOCAL)
		return 0;
	memset(rr, 0, sizeof(rr));
	apex = dnsmsg_name_labels(q->qname, q->qname_len) == e->labels;
	localhost = strcmp(e->special, "localhost.") == 0;
	/* Names that exist: every apex, every name under localhost., and
	 * the loopback addresses' own reverse names. */
	exists = apex || localhost || (q->qname_len == sizeof(ptr127_wire) &&
	    dnsmsg_name_equal(q->qname, ptr127_wire, sizeof(ptr127_wire)));
	if (localhost && (q->qtype == DNS_TYPE_A || q->qtype == DNS_TYPE_ANY)) {
		rr[nan].type = DNS_TYPE_A;
		rr[nan].rdata = loop4;
		rr[nan++].rdlen = sizeof(loop4);
	}
	if (localhost && (q->qtype == DNS_TYPE_AAAA ||
	    q->qtype == DNS_TYPE_ANY)) {
		rr[nan].type = DNS_TYPE_AAAA;
		rr[nan].rdata = loop6;
		rr[nan++].rdlen = sizeof(loop6);
	}
	if (nan == 0 && exists && q->qtype == DNS_TYPE_PTR && !localhost &&
	    (!apex || strncmp(e->special, "1.0.0.0.", 8) == 0)) {
		/* 1.0.0.127.in-addr.arpa, and ::1's reverse name, which is
		 * the apex of its zone. */
		rr[nan].type = DNS_TYPE_PTR;
		rr[nan].rdata = localhost_wire;
		rr[nan++].rdlen = sizeof(localhost_wire);
	}
	if (nan == 0 && apex && q->qtype == DNS_TYPE_SOA) {
		rr[nan].type = DNS_TYPE_SOA;
		rr[nan].rdata = soa_rdata;
		rr[nan++].rdlen = sizeof(soa_rdata);
	} else if (nan == 0 && apex && q->qtype == DNS_TYPE_NS) {
		rr[nan].type = DNS_TYPE_NS;
		rr[nan].rdata = localhost_wire;
		rr[nan++].rdlen = sizeof(localhost_wire);
	}
	if (nan > 0) {
		rr[0].ttl = rr[1].ttl = LOCAL_TTL;
		n = dnsmsg_answer(q, rcode, rr, nan, 0, edns_size, out, outlen);
		return n < 0 ? -1 : n;
	}
	/* No data, or no such name: the zone's SOA says for how long. */
	if (!exists)
		rcode = DNS_RCODE_NXDOMAIN;
	rr[0].owner = e->wire;
	rr[0].owner_len = e->len;
	rr[0].type = DNS_TYPE_SOA;
	rr[0].ttl = LOCAL_TTL;
	rr[0].rdata = soa_rdata;
	rr[0].rdlen = sizeof(soa_rdata);
	n = dnsmsg_answer(q, rcode, rr, 0, 1, edns_size, out, outlen);
	return n < 0 ? -1 : n;
}

static bool
str_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool
fwd_same(const struct ds_fwd_zone *a, const struct ds_fwd_zone *b)
{
	return a->transport == b->transport && a->insecure == b->insecure &&
	    str_same(a->tls_ca_file, b->tls_ca_file) &&
	    anchorfile_set_equal(a->trust_anchors, b->trust_anchors) &&
	    config_upstreams_same(a->upstreams, a->nupstreams, b->upstreams,
	    b->nupstreams);
}

size_t
route_changes(const struct ds_config *a, const struct ds_config *b,
    void (*fn)(void *arg, const char *name), void *arg)
{
	const struct ds_fwd_zone *z;
	size_t i, n = 0;

	for (i = 0; i < a->nfwd_zones; i++) {
		z = fwd_find(b, a->fwd_zones[i].name);
		if (z == NULL || !fwd_same(&a->fwd_zones[i], z)) {
			fn(arg, a->fwd_zones[i].name);
			n++;
		}
	}
	for (i = 0; i < b->nfwd_zones; i++)
		if (fwd_find(a, b->fwd_zones[i].name) == NULL) {
			fn(arg, b->fwd_zones[i].name);
			n++;
		}
	for (i = 0; i < a->ndomain_insecure; i++)
		if (!name_in(a->domain_insecure[i], b->domain_insecure,
		    b->ndomain_insecure)) {
			fn(arg, a->domain_insecure[i]);
			n++;
		}
	for (i = 0; i < b->ndomain_insecure; i++)
		if (!name_in(b->domain_insecure[i], a->domain_insecure,
		    a->ndomain_insecure)) {
			fn(arg, b->domain_insecure[i]);
			n++;
		}
	for (i = 0; ds_special_zones[i] != NULL; i++)
		if (served_locally(a, ds_special_zones[i]) !=
		    served_locally(b, ds_special_zones[i])) {
			fn(arg, ds_special_zones[i]);
			n++;
		}
	return n;
}

void
route_describe(const struct ds_config *cfg,
    void (*fn)(void *arg, int warn, const char *line), void *arg)
{
	char line[1024];
	size_t i, j, off;

	for (i = 0; i < cfg->nfwd_zones; i++) {
		const struct ds_fwd_zone *z = &cfg->fwd_zones[i];
		bool plain = z->transport == DS_FWD_PLAIN;

		off = (size_t)snprintf(line, sizeof(line),
		    "forward zone %s (%s:%zu) -> ", z->name, z->file ?
		    z->file : cfg->path, z->line);
		for (j = 0; j < z->nupstreams && off < sizeof(line); j++)
			off += (size_t)snprintf(line + off, sizeof(line) - off,
			    "%s%s@%u%s%s", j ? ", " : "",
			    z->upstreams[j].address, z->upstreams[j].port,
			    z->upstreams[j].auth_name ? "#" : "",
			    z->upstreams[j].auth_name ?
			    z->upstreams[j].auth_name : "");
		if (off < sizeof(line))
			snprintf(line + off, sizeof(line) - off, "; %s; %s",
			    plain ? "transport plain: this zone's names "
			    "leave the host in clear text" : "DNS-over-TLS",
			    z->insecure ? "not validated (dnssec: insecure)" :
			    z->trust_anchors ? "validated against its own "
			    "trust anchors" : "validated");
		fn(arg, plain, line);
	}
	for (i = 0; i < cfg->ndomain_insecure; i++) {
		snprintf(line, sizeof(line), "negative trust anchor %s: "
		    "not validated at and below it", cfg->domain_insecure[i]);
		fn(arg, 0, line);
	}
	for (i = 0; i < cfg->nlocal_zones_disable; i++) {
		snprintf(line, sizeof(line), "special-use zone %s is not "
		    "answered locally (local_zones_disable)",
		    cfg->local_zones_disable[i]);
		fn(arg, 0, line);
	}
}

bool
route_insecure(const struct ds_config *cfg, const uint8_t *name, size_t len)
{
	uint8_t wire[DNS_MAX_NAME];
	size_t i;
	int n;

	for (i = 0; i < cfg->ndomain_insecure; i++) {
		n = route_name_to_wire(cfg->domain_insecure[i], wire,
		    sizeof(wire));
		if (n > 0 && dnsmsg_name_below(name, len, wire, (size_t)n) >= 0)
			return true;
	}
	return false;
}
