/*
 * clock.h -- the monotonic clock as the query path reads it: milliseconds
 * for its timers (worker, upstreams, resolver), seconds for the answer and
 * key caches (worker, relay, and main's cache dump and load).
 */
#ifndef DS_CLOCK_H
#define DS_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Time from t (CLOCK_MONOTONIC) to now in units of ns_per nanoseconds;
 * negative when t is in the future. */
static inline long long
clock_since(const struct timespec *t, long ns_per)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - t->tv_sec) * (1000000000 / ns_per) +
	    (now.tv_nsec - t->tv_nsec) / ns_per;
}

/* Milliseconds from t to now (clock_since). */
static inline long long
ms_since(const struct timespec *t)
{
	return clock_since(t, 1000000);
}

/* Microseconds from t to now (clock_since). */
static inline long long
us_since(const struct timespec *t)
{
	return clock_since(t, 1000);
}

/* Seconds on the monotonic clock, the caches' "now" (frontcache.h): the
 * coarse clock, cheap on the hot path, as precise as a TTL needs. */
static inline uint32_t
now_sec(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
	return (uint32_t)t.tv_sec;
}

#endif /* DS_CLOCK_H */
