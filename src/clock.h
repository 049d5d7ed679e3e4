/*
 * clock.h -- milliseconds on the monotonic clock, for the timers of the
 * query path (worker, upstreams, resolver).
 */
#ifndef DS_CLOCK_H
#define DS_CLOCK_H

#include <time.h>

/* Milliseconds from t (CLOCK_MONOTONIC) to now; negative when t is in
 * the future. */
static inline long long
ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - t->tv_sec) * 1000 +
	    (now.tv_nsec - t->tv_nsec) / 1000000;
}

#endif /* DS_CLOCK_H */
