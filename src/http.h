/*
 * http.h -- the metrics and health endpoint: GET /metrics (Prometheus
 * text) and GET /healthz (JSON), served with libevent's evhttp.
 */
#ifndef DS_HTTP_H
#define DS_HTTP_H

#include <stddef.h>

#include <event2/event.h>

#include "stats.h"

struct http_srv;

/*
 * The data the endpoint reads, called on the endpoint's loop once per
 * request.  It sets *s to an array of *n worker structs (which must stay
 * valid until the next call), fills *anchor (preset to no keys, never
 * probed), and may set *unhealthy_reason (preset to NULL) to a string
 * that makes /healthz fail; that string must live until the next call.
 */
typedef void (*http_snapshot_fn)(void *arg, struct stats *const **s,
    size_t *n, struct stats_anchor *anchor, const char **unhealthy_reason);

/*
 * Listen on addr_spec, "ADDR@PORT" or "ADDR#PORT" with a numeric IPv4 or
 * IPv6 address ("127.0.0.1@9153", "[::1]@9153", "::1@9153"); PORT 0 picks
 * a free port (see http_port()).  /healthz is healthy when a worker's
 * upstream answered within health_max_age seconds, the trust anchor's
 * last probe did not fail, and the snapshot gives no unhealthy reason.
 * Returns NULL after logging why (a bind error names the address); free
 * with http_delete().
 */
struct http_srv *http_create(struct event_base *base, const char *addr_spec,
    unsigned health_max_age, http_snapshot_fn snap, void *arg);

/* Close the socket and every connection; takes NULL. */
void http_delete(struct http_srv *srv);

/* The port listened on, in host order. */
unsigned http_port(const struct http_srv *srv);

#endif /* DS_HTTP_H */
