/*
 * ctlcmd.h -- what each request of the control channel (control.h) does:
 * status, stats, flush, reload, explain.  Runs on the main thread's loop
 * (explain goes on on a thread of its own); it reaches
 * the workers only through their thread-safe entry points (worker.h), and
 * reads their counters (stats.h).
 */
#ifndef DS_CTLCMD_H
#define DS_CTLCMD_H

#include <stddef.h>
#include <time.h>

struct anchor_mgr;
struct ds_config;
struct evbuffer;
struct frontcache;
struct worker;

/* The daemon as the commands see it. */
struct ctl_daemon {
	struct worker **workers;
	unsigned nworkers;
	struct frontcache *answers, *keys;
	const struct anchor_mgr *anchors;
	time_t started;				/* wall clock */
	/* The configuration in force and when it was loaded. */
	const struct ds_config *(*config)(time_t *loaded);
	/* Read the configuration file again; every error and warning also
	 * goes to out.  0: in force; -1: rejected, the old one stays. */
	int (*reload)(struct evbuffer *out);
	/* nta ... and forward ... (argv[0] is "nta" or "forward"). */
	int (*runtime)(int argc, char **argv, struct evbuffer *out);
	/* The trusted keys now, a copy (anchorfile_free_set). */
	char **(*anchors_copy)(void);
	/* cache dump FILE, cache load FILE. */
	int (*cache)(int argc, char **argv, struct evbuffer *out);
};

/* A control_fn (control.h); arg is a struct ctl_daemon. */
struct control_pending;
int ctlcmd_run(void *arg, int argc, char **argv, struct evbuffer *out,
    struct control_pending *later);

#endif /* DS_CTLCMD_H */
