/*
 * route.h -- where a name goes: the default upstreams, a forward zone's
 * own upstreams, or nowhere (a special-use name answered here).  Built
 * from a configuration; knows nothing of sockets or libraries.
 *
 * The longest matching suffix decides, between the forward zones
 * (forward_zones and include_dir) and the special-use zones that are
 * served locally (ds_special_zones less local_zones_disable).  A forward
 * zone named exactly like a special-use zone takes it over.  A DS
 * question for a forward zone's own apex goes where the zone's parent
 * goes: the parent holds the DS (RFC 4035 section 3.1.4.1).
 */
#ifndef DS_ROUTE_H
#define DS_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ds_config;
struct dnsmsg_query;
struct route;

#define ROUTE_DEFAULT	(-1)	/* the default upstreams */
#define ROUTE_LOCAL	(-2)	/* answered here: route_local() */

/* The table for cfg (read, not kept).  NULL on allocation failure
 * (logged). */
struct route *route_create(const struct ds_config *cfg);
void route_delete(struct route *rt);

/* Where the question for name (wire form, len bytes) and qtype goes:
 * the index of a forward zone in cfg->fwd_zones, ROUTE_DEFAULT or
 * ROUTE_LOCAL. */
int route_lookup(const struct route *rt, const uint8_t *name, size_t len,
    uint16_t qtype);

/* Whether name (wire form, any case) is at or below one of cfg's negative
 * trust anchors (domain_insecure, with the runtime ones): its answers are
 * never validated, so never made from validated records either. */
bool route_insecure(const struct ds_config *cfg, const uint8_t *name,
    size_t len);

/* When q's name is served locally, write the reply to q into out (RFC
 * 6761, RFC 6303, RFC 7686, RFC 8375: localhost addresses, NXDOMAIN with
 * the zone's SOA, the zone's own SOA and NS at its apex) and return its
 * length; 0 when q's name is not served locally; -1 when out is too
 * small. */
int route_local(const struct route *rt, const struct dnsmsg_query *q,
    uint16_t edns_size, uint8_t *out, size_t outlen);

/* For a reload from a to b: call fn once for every name (presentation,
 * final dot) at and below which answers may differ: a forward zone added,
 * removed or changed in any way, a negative trust anchor added or
 * removed, a special-use zone turned on or off.  Returns how many. */
size_t route_changes(const struct ds_config *a, const struct ds_config *b,
    void (*fn)(void *arg, const char *name), void *arg);

/* Whether cfg has dotsecd answer the special-use zone name (one of
 * ds_special_zones) itself: not turned off by local_zones_disable, not
 * taken over by a forward zone of the same name. */
int route_local_zone(const struct ds_config *cfg, const char *name);

/* Describe cfg's routes for an operator, one line per call of fn, with
 * warn set on the lines that deserve a warning (a transport: plain zone,
 * whose names leave the host in clear text). */
void route_describe(const struct ds_config *cfg,
    void (*fn)(void *arg, int warn, const char *line), void *arg);

/* Wire form of a presentation name without escapes ("corp.example." or
 * "corp.example"), lower case, into out (DNS_MAX_NAME bytes).  Returns
 * its length, or -1 when it is not such a name. */
int route_name_to_wire(const char *name, uint8_t *out, size_t outlen);

#endif /* DS_ROUTE_H */
