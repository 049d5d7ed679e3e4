/*
 * ratelimit.c -- token buckets per client address.
 */
#include "config.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

#define RL_SLOTS	8192	/* per worker: about 300 kB */

struct slot {
	uint8_t key[16];
	uint8_t used;
	double tokens;
	unsigned long long last_ms;
};

struct ratelimit {
	unsigned qps;
	struct slot slots[RL_SLOTS];
};

struct ratelimit *
ratelimit_create(unsigned qps)
{
	struct ratelimit *rl = calloc(1, sizeof(*rl));

	if (rl)
		rl->qps = qps;
	return rl;
}

void
ratelimit_delete(struct ratelimit *rl)
{
	free(rl);
}

/* FNV-1a over the key. */
static uint32_t
hash(const uint8_t *k, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ k[i]) * 16777619u;
	return h;
}

bool
ratelimit_allow(struct ratelimit *rl, const struct sockaddr *addr,
    unsigned long long now_ms)
{
	uint8_t key[16];
	struct slot *s;

	if (rl == NULL || rl->qps == 0)
		return true;
	memset(key, 0, sizeof(key));
	if (addr->sa_family == AF_INET)
		memcpy(key, &((const struct sockaddr_in *)(const void *)addr)->
		    sin_addr, 4);
	else if (addr->sa_family == AF_INET6)
		/* Hosts get a /64: counting single addresses would let one
		 * host walk its own subnet. */
		memcpy(key + 4, ((const struct sockaddr_in6 *)(const void *)
		    addr)->sin6_addr.s6_addr, 8), key[0] = 6;
	s = &rl->slots[hash(key, sizeof(key)) % RL_SLOTS];
	if (!s->used || memcmp(s->key, key, sizeof(key)) != 0) {
		memcpy(s->key, key, sizeof(key));
		s->used = 1;
		s->tokens = rl->qps;
		s->last_ms = now_ms;
	} else {
		double add = (double)(now_ms - s->last_ms) * rl->qps / 1000.0;

		s->tokens = s->tokens + add > rl->qps ? rl->qps :
		    s->tokens + add;
		s->last_ms = now_ms;
	}
	if (s->tokens < 1.0)
		return false;
	s->tokens -= 1.0;
	return true;
}
