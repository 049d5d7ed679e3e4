/*
 * ratelimit.h -- queries per second per client address: a token bucket
 * per address in a fixed-size table (one per worker, no locking).  A
 * client whose slot is taken by another address starts with a full
 * bucket: the table bounds memory, not accuracy under a flood of
 * addresses.  IPv6 clients are counted per /64.
 */
#ifndef DS_RATELIMIT_H
#define DS_RATELIMIT_H

#include <stdbool.h>
#include <sys/socket.h>

struct ratelimit;

/* qps tokens a second, bursts of up to qps.  qps 0 disables (always
 * allows).  Returns NULL on allocation failure. */
struct ratelimit *ratelimit_create(unsigned qps);
void ratelimit_delete(struct ratelimit *rl);

/* Whether a query from addr at now_ms (a monotonic clock) is within the
 * limit; takes a token when it is. */
bool ratelimit_allow(struct ratelimit *rl, const struct sockaddr *addr,
    unsigned long long now_ms);

#endif /* DS_RATELIMIT_H */
