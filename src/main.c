/*
 * main.c -- dotsecd: command line, start-up order, life of the daemon.
 *
 * Start-up order: read and check the configuration; bind every listen
 * socket (one set per worker, SO_REUSEPORT when there are several); build
 * each worker (getdns, relay, libunbound); confine the process; load the
 * answer cache the last run saved (cache_persist); start the workers;
 * wait for a signal; stop the workers, save the answer cache, and free
 * everything.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <time.h>
#include <getopt.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "anchor.h"
#include "clock.h"
#include "anchorfile.h"
#include "dsconfig.h"
#include "frontcache.h"
#include "route.h"
#include "sandbox.h"
#include "http.h"
#include "listener.h"
#include "log.h"
#include "service.h"
#include "stats.h"
#include "synth.h"
#include "tlsserve.h"
#include "control.h"
#include "ctlcmd.h"
#include "runtime.h"
#include "worker.h"

#define DS_DEFAULT_CONFIG DS_SYSCONFDIR "/dotsecd.yml"
/* The answer cache over a restart (cache_persist), in state_dir. */
#define DS_CACHE_DUMP "cache.dump"

static void usage(FILE *);
static void config_error(void *, const char *);
static int check_anchor_file(const char *);
static void signal_cb(evutil_socket_t, short, void *);
static void anchors_changed(void *, char *const *);
static int drop_privileges(const struct ds_config *);
struct evbuffer;
struct runtime;
static int reload(struct evbuffer *);
static int load_config(struct evbuffer *, const struct runtime *);
static void reload_tls(struct evbuffer *, const struct ds_config *);

/* The workers, for the trust anchor hand-over and the metrics. */
static struct worker *workers[DS_MAX_WORKERS];
static unsigned nworkers;
static struct anchor_mgr *anchors;
/* The answer cache the workers share; resized in place on SIGHUP. */
static struct frontcache *answer_cache;
/* The DS and DNSKEY replies the workers' relays share; likewise. */
static struct frontcache *key_cache;
/* The validated NSEC3 records answers are made from; likewise. */
static struct synth *synth;
/* The DoT listener's certificates (tlsserve.h); NULL: no DoT listener. */
static struct tlsserve *tls;
#define MAX_LISTEN_TLS	16
/* The configuration file and every configuration loaded: a reload keeps
 * the old ones (the workers may still read them) until exit. */
static const char *config_path;
static struct ds_config **configs;
static unsigned configs_cap;
/* Negative trust anchors and forward zones added by dotsec-control. */
static struct runtime *runtime_state;
static struct event *nta_timer;
static unsigned nconfigs;
static time_t config_loaded_at;
static struct stats *worker_st[DS_MAX_WORKERS];

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: dotsecd [-t] [-c FILE] [-h] [-V]\n"
	    "  -c, -C FILE  configuration file (default %s)\n"
	    "  -t           check the configuration and exit (0: valid)\n"
	    "  -h, --help   this text\n"
	    "  -V, --version\n", DS_DEFAULT_CONFIG);
}

static void
config_error(void *arg, const char *line)
{
	int *n = arg;

	fprintf(stderr, "%s\n", line);
	(*n)++;
}

/* The trust anchor file must exist and hold at least one DS or DNSKEY
 * record: libunbound would only find out at the first query. */
static int
check_anchor_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int found = 0;

	if (f == NULL) {
		fprintf(stderr, "trust_anchor_file %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *c = strchr(line, ';');

		if (c)
			*c = '\0';
		if (strstr(line, " DS ") || strstr(line, "\tDS\t") ||
		    strstr(line, " DNSKEY ") || strstr(line, "\tDNSKEY\t"))
			found++;
	}
	fclose(f);
	if (found == 0) {
		fprintf(stderr, "trust_anchor_file %s: no DS or DNSKEY "
		    "record\n", path);
		return -1;
	}
	return 0;
}

/*
 * The group of the control socket: that of the user dotsecd becomes (or
 * its own), and the uids of that group's members, who may talk to it
 * too: looked up now, since the sandbox keeps /etc out of reach later.
 * Returns the gid; *members (malloc'd, may be NULL) gets the uids.
 */
static gid_t ctl_gid = (gid_t)-1;
static gid_t
control_group(const struct ds_config *cfg, uid_t **members, size_t *n)
{
	struct passwd *pw;
	struct group *gr;
	size_t i, k = 0;

	*members = NULL;
	*n = 0;
	ctl_gid = getegid();
	if (geteuid() == 0 && cfg->user != NULL && cfg->user[0] != '\0' &&
	    (pw = getpwnam(cfg->user)) != NULL)
		ctl_gid = pw->pw_gid;
	if ((gr = getgrgid(ctl_gid)) == NULL || gr->gr_mem == NULL)
		return ctl_gid;
	while (gr->gr_mem[k] != NULL)
		k++;
	if (k == 0 || (*members = calloc(k, sizeof(**members))) == NULL)
		return ctl_gid;
	for (i = 0; i < k; i++)
		if ((pw = getpwnam(gr->gr_mem[i])) != NULL)
			(*members)[(*n)++] = pw->pw_uid;
	return ctl_gid;
}

/*
 * Started as root: give the state directory to the configured user, then
 * become that user for good.  Started as anyone else (e.g. with
 * CAP_NET_BIND_SERVICE): nothing to do.  Returns 0, or -1 after logging.
 */
static int
drop_privileges(const struct ds_config *cfg)
{
	struct passwd *pw;
	char path[4200];

	if (geteuid() != 0)
		return 0;
	if (cfg->user == NULL || cfg->user[0] == '\0') {
		ds_warn("running as root: user is \"\" in %s", cfg->path);
		return 0;
	}
	errno = 0;
	if ((pw = getpwnam(cfg->user)) == NULL) {
		ds_err("user '%s' (%s): %s; create it (useradd --system "
		    "--no-create-home --shell /usr/sbin/nologin %s) or set "
		    "user: \"\" to run as root", cfg->user, cfg->path,
		    errno ? strerror(errno) : "no such user", cfg->user);
		return -1;
	}
	/* The anchor state is rewritten by libunbound as this user. */
	if (mkdir(cfg->state_dir, 0755) != 0 && errno != EEXIST) {
		ds_err("state_dir %s: cannot create it: %s", cfg->state_dir,
		    strerror(errno));
		return -1;
	}
	if (chown(cfg->state_dir, pw->pw_uid, pw->pw_gid) != 0) {
		ds_err("state_dir %s: cannot give it to %s: %s",
		    cfg->state_dir, cfg->user, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/root.anchor", cfg->state_dir);
	if (chown(path, pw->pw_uid, pw->pw_gid) != 0 && errno != ENOENT) {
		ds_err("%s: cannot give it to %s: %s", path, cfg->user,
		    strerror(errno));
		return -1;
	}
	if (setgroups(1, &pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		ds_err("cannot become user %s: %s", cfg->user,
		    strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		ds_err("could become root again after dropping to %s",
		    cfg->user);
		return -1;
	}
	ds_notice("running as user %s (uid %u, gid %u)", cfg->user,
	    (unsigned)pw->pw_uid, (unsigned)pw->pw_gid);
	return 0;
}

/* The trusted set as of now, for dotsec-control explain on the main
 * thread; the prober changes it on worker 0's. */
static pthread_mutex_t anchors_lock = PTHREAD_MUTEX_INITIALIZER;
static char **anchors_now;

static void
anchors_keep(char *const *set)
{
	char **c = anchorfile_copy_set(set);

	if (c == NULL) {
		ds_err("out of memory: dotsec-control explain keeps the "
		    "previous trust anchors");
		return;
	}
	pthread_mutex_lock(&anchors_lock);
	anchorfile_free_set(anchors_now);
	anchors_now = c;
	pthread_mutex_unlock(&anchors_lock);
}

/* For ctlcmd: a copy the caller frees with anchorfile_free_set. */
static char **
anchors_copy(void)
{
	char **c;

	pthread_mutex_lock(&anchors_lock);
	c = anchors_now ? anchorfile_copy_set(anchors_now) : NULL;
	pthread_mutex_unlock(&anchors_lock);
	return c;
}

/* On the prober's loop (worker 0): every worker gets its copy. */
static void
anchors_changed(void *arg, char *const *set)
{
	unsigned i;

	(void)arg;
	for (i = 0; i < nworkers; i++)
		worker_set_anchors(workers[i], set);
	anchors_keep(set);
}

/* One line of route_describe: logged, or printed for -t. */
static void
route_line(void *arg, int warn, const char *line)
{
	if (arg != NULL)
		printf("dotsecd: %s%s\n", warn ? "warning: " : "", line);
	else if (warn)
		ds_warn("%s", line);
	else
		ds_notice("%s", line);
}

static void
sandbox_line(void *arg, const char *line)
{
	(void)arg;
	printf("dotsecd: %s\n", line);
}

/* The first file that cfg has dotsecd read after a reload and that the
 * sandbox set up at start does not let it read, or NULL.  (The trust
 * anchor and bootstrap files are read at start only.) */
static const char *
outside_sandbox(const struct ds_config *cfg)
{
	const char *files[] = { cfg->path, cfg->tls_ca_file,
	    cfg->tls_service_pem, cfg->tls_service_key, cfg->tls_client_ca };
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (files[i] != NULL && sandbox_blocks_read(files[i], false))
			return files[i];
	if (cfg->include_dir != NULL &&
	    sandbox_blocks_read(cfg->include_dir, true))
		return cfg->include_dir;
	if (cfg->tls_ca_path != NULL &&
	    sandbox_blocks_read(cfg->tls_ca_path, true))
		return cfg->tls_ca_path;
	for (i = 0; i < cfg->nfwd_zones; i++)
		if (cfg->fwd_zones[i].tls_ca_file != NULL &&
		    sandbox_blocks_read(cfg->fwd_zones[i].tls_ca_file, false))
			return cfg->fwd_zones[i].tls_ca_file;
	return NULL;
}

static void
reload_error(void *arg, const char *line)
{
	struct evbuffer *out = arg;

	ds_err("reload: %s", line);
	if (out != NULL)
		evbuffer_add_printf(out, "%s\n", line);
}

/* A reload's message: logged at level, and told to the control client
 * (out, may be NULL). */
static void reload_say(struct evbuffer *, int, const char *, ...)
	__attribute__((format(printf, 3, 4)));
static void
reload_say(struct evbuffer *out, int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (level == DS_LOG_ERR)
		ds_err("%s", line);
	else if (level == DS_LOG_WARN)
		ds_warn("%s", line);
	else
		ds_notice("%s", line);
	if (out != NULL)
		evbuffer_add_printf(out, "%s\n", line);
}

/*
 * SIGHUP (and dotsec-control reload, which gets every message in out):
 * read the configuration file again; a file with errors is rejected whole
 * (each error logged) and the running configuration stays.  Settings that
 * need new sockets, another user or another anchor state only take effect
 * on a restart, and say so.  Returns 0 when the new file is in force.
 */
static int
reload(struct evbuffer *out)
{
	return load_config(out, runtime_state);
}

/* Whether two lists of listening addresses differ (as written). */
static bool
listen_changed(const struct ds_listen *a, size_t na,
    const struct ds_listen *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return true;
	for (i = 0; i < na; i++)
		if (strcmp(a[i].spec, b[i].spec) != 0)
			return true;
	return false;
}

/* Read the configuration file with rt's additions (runtime.h) and put it
 * in force; reload() with the additions in force. */
static int
load_config(struct evbuffer *out, const struct runtime *rt)
{
	struct ds_config *old = configs[nconfigs - 1], *cfg, **grown;
	const char *bad;
	char *overlay;
	size_t olen = 0;
	unsigned i;

	if (config_path == NULL) {
		reload_say(out, DS_LOG_WARN, "reload: started without a "
		    "configuration file, nothing to reload");
		return -1;
	}
	/* Every configuration stays until exit (workers may still read an
	 * older one): the list grows. */
	if (nconfigs == configs_cap) {
		unsigned cap = configs_cap ? configs_cap * 2 : 16;

		if ((grown = realloc(configs, cap * sizeof(*configs))) ==
		    NULL) {
			reload_say(out, DS_LOG_ERR, "reload: out of memory");
			return -1;
		}
		configs = grown;
		configs_cap = cap;
	}
	if ((overlay = runtime_overlay(rt, &olen)) == NULL) {
		reload_say(out, DS_LOG_ERR, "reload: out of memory");
		return -1;
	}
	service_notify("RELOADING=1");
	cfg = config_load_overlay(config_path, overlay, olen, reload_error,
	    out);
	free(overlay);
	if (cfg == NULL) {
		reload_say(out, DS_LOG_ERR, "reload: %s has errors; the running "
		    "configuration stays", config_path);
		service_notify("READY=1");
		return -1;
	}
	cfg->workers = nworkers;
	if ((bad = outside_sandbox(cfg)) != NULL) {
		reload_say(out, DS_LOG_ERR, "reload: %s names %s, outside what "
		    "the sandbox lets dotsecd read since start; the running "
		    "configuration stays (restart dotsecd to use it)",
		    config_path, bad);
		config_free(cfg);
		service_notify("READY=1");
		return -1;
	}
	if (listen_changed(cfg->listen, cfg->nlisten, old->listen,
	    old->nlisten))
		reload_say(out, DS_LOG_WARN, "reload: listen_addresses changes "
		    "need a restart");
	if (listen_changed(cfg->listen_tls, cfg->nlisten_tls,
	    old->listen_tls, old->nlisten_tls))
		reload_say(out, DS_LOG_WARN, "reload: listen_tls_addresses "
		    "changes need a restart");
	if (strcmp(cfg->state_dir, old->state_dir) != 0 ||
	    strcmp(cfg->user, old->user) != 0 ||
	    strcmp(cfg->control_socket, old->control_socket) != 0)
		reload_say(out, DS_LOG_WARN, "reload: state_dir, user and "
		    "control_socket changes need a restart");
	if (tls != NULL)
		reload_tls(out, cfg);
	ds_log_set_level(cfg->log_level);
	configs[nconfigs++] = cfg;
	config_loaded_at = time(NULL);
	route_describe(cfg, route_line, NULL);
	frontcache_set_limits(answer_cache, ds_answer_cache_bytes(cfg),
	    cfg->serve_stale ? DS_STALE_MAX_SEC : 0);
	frontcache_set_limits(key_cache, ds_key_cache_bytes(cfg), 0);
	synth_set_limit(synth, ds_synth_bytes(cfg), now_sec());
	for (i = 0; i < nworkers; i++)
		worker_reconfigure(workers[i], cfg);
	reload_say(out, DS_LOG_NOTICE, "reload: %s reloaded", config_path);
	service_notify("READY=1");
	return 0;
}

/* A reload re-reads the DoT listener's certificate, key and client CA:
 * new handshakes use them, open connections keep theirs.  A pair that
 * does not load leaves the one in force. */
static void
reload_tls(struct evbuffer *out, const struct ds_config *cfg)
{
	char err[512], serial[128];

	if (tlsserve_reload(tls, cfg, err, sizeof(err)) != 0) {
		reload_say(out, DS_LOG_ERR, "reload: dot: %s; the certificate "
		    "in force (serial %s) stays", err,
		    tlsserve_serial(tls, serial, sizeof(serial)));
		return;
	}
	reload_say(out, DS_LOG_NOTICE, "reload: dot: certificate serial %s "
	    "from %s%s", tlsserve_serial(tls, serial, sizeof(serial)),
	    cfg->tls_service_pem, cfg->tls_client_ca != NULL ?
	    ", client certificates required" : "");
}

/* Bind every worker's sockets of listen_tls_addresses (after the nfds
 * already in fds and types) and load the certificates.  Returns 0, or -1
 * after logging. */
static int
open_tls_listeners(const struct ds_config *cfg,
    int fds[][2 * 64 + MAX_LISTEN_TLS], enum ds_transport *types,
    unsigned *nfds)
{
	char serial[128];
	unsigned i, j;

	if ((tls = tlsserve_create(cfg)) == NULL)
		return -1;
	for (i = 0; i < nworkers; i++)
		for (j = 0; j < cfg->nlisten_tls; j++) {
			const struct ds_listen *ls = &cfg->listen_tls[j];

			types[*nfds + j] = DS_TLS;
			if ((fds[i][*nfds + j] = listener_bind(
			    (const struct sockaddr *)&ls->addr, ls->addrlen,
			    DS_TCP, nworkers > 1)) < 0)
				return -1;
			if (i == 0)
				ds_notice("listening on %s (dot, certificate "
				    "serial %s%s)", ls->spec, tlsserve_serial(
				    tls, serial, sizeof(serial)),
				    cfg->tls_client_ca != NULL ? ", client "
				    "certificates required" : "");
		}
	*nfds += (unsigned)cfg->nlisten_tls;
	return 0;
}

/* For the control channel. */
static const struct ds_config *
current_config(time_t *loaded)
{
	*loaded = config_loaded_at;
	return configs[nconfigs - 1];
}

/* The negative trust anchor timer: at the earliest expiry. */
static void
nta_arm(unsigned retry)
{
	time_t next = runtime_nta_next(runtime_state), now = time(NULL);
	struct timeval tv = { 0, 0 };

	if (nta_timer == NULL)
		return;
	if (next == 0) {
		evtimer_del(nta_timer);
		return;
	}
	tv.tv_sec = retry ? (time_t)retry : next > now ? next - now : 0;
	evtimer_add(nta_timer, &tv);
}

/* Expired anchors go, and the configuration is read again without them.
 * When it cannot be (the file broke meanwhile), they stay in force and
 * this is tried again in 10 s: an anchor never lapses silently. */
static void
nta_tick(evutil_socket_t fd, short what, void *arg)
{
	struct runtime *next;

	(void)fd;
	(void)what;
	(void)arg;
	if ((next = runtime_clone(runtime_state)) == NULL) {
		ds_err("negative trust anchors: out of memory; retrying");
		nta_arm(10);
		return;
	}
	if (runtime_nta_expire(next, time(NULL)) > 0) {
		if (load_config(NULL, next) != 0) {
			ds_err("negative trust anchors expired, but %s cannot "
			    "be read again; they stay in force, retrying in "
			    "10 s", config_path ? config_path : "(none)");
			runtime_delete(next);
			nta_arm(10);
			return;
		}
		runtime_delete(runtime_state);
		runtime_state = next;
	} else
		runtime_delete(next);
	nta_arm(0);
}

static void
forward_list(struct evbuffer *out)
{
	const struct ds_config *cfg = configs[nconfigs - 1];
	size_t i, j;

	for (i = 0; i < cfg->nfwd_zones; i++) {
		const struct ds_fwd_zone *z = &cfg->fwd_zones[i];

		evbuffer_add_printf(out, "%s %s %s", z->name,
		    z->transport == DS_FWD_PLAIN ? "plain" : "tls",
		    z->insecure ? "insecure" : "validate");
		for (j = 0; j < z->nupstreams; j++)
			evbuffer_add_printf(out, " %s@%u%s%s",
			    z->upstreams[j].address, z->upstreams[j].port,
			    z->upstreams[j].auth_name ? "#" : "",
			    z->upstreams[j].auth_name ?
			    z->upstreams[j].auth_name : "");
		if (strcmp(z->file, CONFIG_OVERLAY_NAME) == 0)
			evbuffer_add_printf(out, " (added by dotsec-control)\n");
		else
			evbuffer_add_printf(out, " (%s:%zu)\n", z->file,
			    z->line);
	}
}

/* dotsec-control nta and forward (ctlcmd.h): the change is tried on a
 * copy, and kept only when the configuration with it is in force. */
static int
runtime_request(int argc, char **argv, struct evbuffer *out)
{
	struct runtime *next;
	char err[512], *end;
	unsigned long secs = RUNTIME_NTA_DEFAULT;
	bool nta = strcmp(argv[0], "nta") == 0;
	int rc;

	if (argc == 2 && strcmp(argv[1], "list") == 0) {
		if (nta)
			runtime_nta_list(runtime_state, time(NULL), out);
		else
			forward_list(out);
		return 0;
	}
	if (argc < 3 || (strcmp(argv[1], "add") != 0 &&
	    strcmp(argv[1], "remove") != 0) ||
	    (strcmp(argv[1], "remove") == 0 && argc != 3) ||
	    (nta && argc > 4)) {
		evbuffer_add_printf(out, "usage: %s\n", nta ?
		    "nta add NAME [SECONDS] | nta remove NAME | nta list" :
		    "forward add NAME ADDR[@PORT][#AUTHNAME]... [--plain] "
		    "[--insecure] [--ca FILE] | forward remove NAME | "
		    "forward list");
		return -1;
	}
	if (nta && argc == 4) {
		secs = strtoul(argv[3], &end, 10);
		if (*end != '\0' || argv[3][0] < '0' || argv[3][0] > '9' ||
		    secs > RUNTIME_NTA_MAX) {
			evbuffer_add_printf(out, "%s: seconds, 1 to %u\n",
			    argv[3], RUNTIME_NTA_MAX);
			return -1;
		}
	}
	if ((next = runtime_clone(runtime_state)) == NULL) {
		evbuffer_add_printf(out, "out of memory\n");
		return -1;
	}
	err[0] = '\0';
	if (strcmp(argv[1], "remove") == 0)
		rc = nta ? runtime_nta_remove(next, argv[2], err, sizeof(err)) :
		    runtime_fwd_remove(next, argv[2], err, sizeof(err));
	else
		rc = nta ? runtime_nta_add(next, argv[2], (unsigned)secs,
		    time(NULL), err, sizeof(err)) :
		    runtime_fwd_add(next, argc - 2, argv + 2, err, sizeof(err));
	if (rc != 0) {
		evbuffer_add_printf(out, "%s\n", err);
		runtime_delete(next);
		return -1;
	}
	if (load_config(out, next) != 0) {
		evbuffer_add_printf(out, "%s %s %s: not done\n", argv[0],
		    argv[1], argv[2]);
		runtime_delete(next);
		return -1;
	}
	runtime_delete(runtime_state);
	runtime_state = next;
	if (nta && strcmp(argv[1], "add") == 0)
		ds_notice("negative trust anchor %s added for %lu s", argv[2],
		    secs);
	else
		ds_notice("%s %s %s: done", argv[0], argv[1], argv[2]);
	nta_arm(0);
	return 0;
}

static int64_t
wall_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec;
}

static double
ms_elapsed(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 +
	    (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* The dump's path and the fingerprint of cfg with the anchors in force;
 * false after logging. */
static bool
cache_dump_setup(const struct ds_config *cfg, const char *state_dir,
    char *path, size_t pathlen, uint8_t *fp)
{
	if ((size_t)snprintf(path, pathlen, "%s/" DS_CACHE_DUMP, state_dir) >=
	    pathlen) {
		ds_err("answer cache: state_dir %s: path too long", state_dir);
		return false;
	}
	if (config_answer_fingerprint(cfg, anchor_trusted(anchors), fp) !=
	    0) {
		ds_err("answer cache: out of memory");
		return false;
	}
	return true;
}

/*
 * cache_persist, at start, before the workers serve: the answers of the
 * last run, unless they expired meanwhile or were validated under other
 * trust anchors or settings.  The file is removed once read, whatever came
 * of it: a dump is used once, and a bad one is not met again.
 */
static void
cache_restore(const struct ds_config *cfg)
{
	struct fc_persist_stats st;
	struct timespec t0;
	enum fc_load_result r;
	uint8_t fp[FC_FINGERPRINT_LEN];
	char path[4200], err[512] = "";

	if (!cfg->cache_persist ||
	    !cache_dump_setup(cfg, cfg->state_dir, path, sizeof(path), fp))
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = frontcache_load(answer_cache, path, fp, now_sec(), wall_now(),
	    &st, err, sizeof(err));
	switch (r) {
	case FC_LOAD_NONE:
		ds_info("answer cache: no %s to load", path);
		return;
	case FC_LOAD_OK:
		ds_notice("answer cache: %zu answers loaded from %s in %.1f ms; "
		    "skipped: %zu expired meanwhile, %zu others (%zu cached "
		    "already, %zu refused)", st.loaded, path, ms_elapsed(&t0),
		    st.expired, st.present + st.skipped, st.present,
		    st.skipped);
		break;
	case FC_LOAD_OTHER:
		ds_notice("answer cache: %s ignored: %s", path, err);
		break;
	case FC_LOAD_BAD:
		ds_warn("answer cache: %s ignored: %s", path, err);
		break;
	}
	if (unlink(path) != 0 && errno != ENOENT)
		ds_warn("answer cache: cannot remove %s: %s", path,
		    strerror(errno));
}

/* cache_persist, at stop, the workers drained: the fresh validated
 * answers, for the next start.  cfg is the configuration in force. */
static void
cache_save(const struct ds_config *cfg, const char *state_dir)
{
	struct fc_persist_stats st;
	struct timespec t0;
	uint8_t fp[FC_FINGERPRINT_LEN];
	char path[4200], err[512] = "";

	if (!cfg->cache_persist || answer_cache == NULL ||
	    !cache_dump_setup(cfg, state_dir, path, sizeof(path), fp))
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (frontcache_dump(answer_cache, path, fp, now_sec(), wall_now(),
	    &st, err, sizeof(err)) != 0) {
		ds_err("answer cache: not saved: %s", err);
		return;
	}
	if (err[0] != '\0')
		ds_warn("answer cache: %s", err);
	ds_notice("answer cache: %zu answers saved to %s in %.1f ms",
	    st.entries, path, ms_elapsed(&t0));
}

/* dotsec-control cache dump FILE / cache load FILE (ctlcmd.h): what
 * cache_persist does at stop and start, by hand, while the workers run. */
static int
cache_request(int argc, char **argv, struct evbuffer *out)
{
	const struct ds_config *cfg = configs[nconfigs - 1];
	struct fc_persist_stats st;
	enum fc_load_result r;
	uint8_t fp[FC_FINGERPRINT_LEN];
	char err[512] = "", **set;
	int rc;

	if (argc != 3 || (strcmp(argv[1], "dump") != 0 &&
	    strcmp(argv[1], "load") != 0)) {
		evbuffer_add_printf(out, "usage: cache dump FILE | cache load "
		    "FILE\n");
		return -1;
	}
	if ((set = anchors_copy()) == NULL ||
	    config_answer_fingerprint(cfg, set, fp) != 0) {
		anchorfile_free_set(set);
		evbuffer_add_printf(out, "out of memory\n");
		return -1;
	}
	anchorfile_free_set(set);
	if (strcmp(argv[1], "dump") == 0) {
		rc = frontcache_dump(answer_cache, argv[2], fp, now_sec(),
		    wall_now(), &st, err, sizeof(err));
		if (rc != 0) {
			evbuffer_add_printf(out, "%s (under the sandbox only "
			    "state_dir %s is writable)\n", err,
			    cfg->state_dir);
			return -1;
		}
		evbuffer_add_printf(out, "%zu answers written to %s\n",
		    st.entries, argv[2]);
		return 0;
	}
	r = frontcache_load(answer_cache, argv[2], fp, now_sec(),
	    wall_now(), &st, err, sizeof(err));
	switch (r) {
	case FC_LOAD_OK:
		evbuffer_add_printf(out, "%zu answers loaded from %s; skipped: "
		    "%zu expired, %zu cached already, %zu refused\n",
		    st.loaded, argv[2], st.expired, st.present, st.skipped);
		return 0;
	case FC_LOAD_NONE:
		evbuffer_add_printf(out, "%s: no such file (or not readable "
		    "under the sandbox: state_dir %s is)\n", argv[2],
		    cfg->state_dir);
		return -1;
	case FC_LOAD_OTHER:
	case FC_LOAD_BAD:
	default:
		evbuffer_add_printf(out, "%s ignored: %s\n", argv[2], err);
		return -1;
	}
}

/* For the metrics endpoint, on the main loop. */
static void
metrics_snapshot(void *arg, struct stats *const **s, size_t *n,
    struct stats_anchor *anchor, const char **unhealthy)
{
	unsigned i;

	(void)arg;
	for (i = 0; i < nworkers; i++)
		worker_st[i] = worker_stats(workers[i]);
	*s = worker_st;
	*n = nworkers;
	anchor_info(anchors, anchor);
	*unhealthy = NULL;
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct event_base *base = arg;

	(void)what;
	if (sig == SIGUSR1) {
		struct stats *st[DS_MAX_WORKERS];
		char line[1024];
		unsigned i;

		for (i = 0; i < nworkers; i++)
			st[i] = worker_stats(workers[i]);
		stats_log_line(st, nworkers, line, sizeof(line));
		ds_notice("%s", line);
		return;
	}
	if (sig == SIGHUP) {
		(void)reload(NULL);
		return;
	}
	ds_notice("signal %d: stopping: no new queries, answering those in "
	    "flight", (int)sig);
	event_base_loopbreak(base);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = NULL;
	struct ds_config *cfg;
	struct http_srv *http = NULL;
	static int fds[DS_MAX_WORKERS][2 * 64 + MAX_LISTEN_TLS];
	static int act_fds[2 * 64];
	static enum ds_transport types[2 * 64 + MAX_LISTEN_TLS];
	static enum ds_transport act_types[2 * 64];
	unsigned nfds = 0;
	int nact = 0;
	struct event_base *base = NULL;
	struct event *sigs[4] = { NULL, NULL, NULL, NULL };
	struct control *ctl = NULL;
	static struct ctl_daemon ctl_daemon;
	uid_t *ctl_members = NULL;
	size_t ctl_nmembers = 0;
	int ctl_fd = -1;
	static const int signums[4] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	FILE *qlog = NULL;
	unsigned i, j;
	int ch, check_only = 0, nerr = 0, rc = 1;

	while ((ch = getopt_long(argc, argv, "c:C:thV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c':
		case 'C':
			path = optarg;
			break;
		case 't':
			check_only = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("dotsecd %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	if (path == NULL && access(DS_DEFAULT_CONFIG, F_OK) == 0)
		path = DS_DEFAULT_CONFIG;
	cfg = path ? config_load(path, config_error, &nerr) :
	    config_default();
	config_loaded_at = time(NULL);
	/* The seed must be there unless an RFC 7958 bootstrap provides the
	 * first anchor (a failed bootstrap then stops the start-up). */
	if (cfg != NULL && !cfg->anchor_bootstrap &&
	    check_anchor_file(cfg->trust_anchor_file) != 0)
		nerr++;
	if (cfg == NULL || nerr > 0) {
		fprintf(stderr, "dotsecd: %s: configuration not valid\n",
		    path ? path : "(defaults)");
		config_free(cfg);
		return 1;
	}
	if (check_only) {
		/* The DoT listener's files must load, too. */
		if (cfg->nlisten_tls > 0) {
			struct tlsserve *t = tlsserve_create(cfg);

			if (t == NULL) {
				fprintf(stderr, "dotsecd: %s: configuration "
				    "not valid\n", path ? path : "(defaults)");
				config_free(cfg);
				return 1;
			}
			tlsserve_free(t);
		}
		route_describe(cfg, route_line, stdout);
		sandbox_describe(cfg, sandbox_line, NULL);
		printf("dotsecd: %s: configuration valid\n",
		    path ? path : "(defaults)");
		config_free(cfg);
		return 0;
	}
	memset(fds, -1, sizeof(fds));
	config_path = path;
	if ((configs = calloc(16, sizeof(*configs))) == NULL ||
	    (runtime_state = runtime_create()) == NULL)
		ds_fatal("out of memory");
	configs_cap = 16;
	configs[nconfigs++] = cfg;
	ds_log_set_level(cfg->log_level);
	route_describe(cfg, route_line, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (evthread_use_pthreads() != 0)
		ds_fatal("libevent: no thread support");

	nworkers = cfg->workers;
	if (nworkers == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		nworkers = n > 0 ? (unsigned)n : 1;
	}
	if (nworkers > DS_MAX_WORKERS)
		nworkers = DS_MAX_WORKERS;
	/* The workers share out per-daemon budgets (cache_size) by it. */
	cfg->workers = nworkers;

	if (cfg->nlisten > 64)
		ds_fatal("%s: at most 64 listen_addresses", cfg->path);
	if (cfg->nlisten_tls > MAX_LISTEN_TLS)
		ds_fatal("%s: at most %d listen_tls_addresses", cfg->path,
		    MAX_LISTEN_TLS);
	/* Every listening socket first, while privileged (port 53): passed
	 * by the service manager (socket activation), or bound here. */
	nact = service_listen_fds(act_fds, act_types, 2 * 64);
	if (nact < 0)
		goto out;
	if (nact > 0) {
		ds_notice("socket activation: %d sockets passed; "
		    "listen_addresses is not used", nact);
		nfds = (unsigned)nact;
		for (j = 0; j < nfds; j++) {
			types[j] = act_types[j];
			if (types[j] == DS_UDP && listener_set_rcvbuf(
			    act_fds[j], cfg->so_rcvbuf,
			    "a socket-activated UDP socket") < 0)
				goto out;
		}
		for (i = 0; i < nworkers; i++)
			for (j = 0; j < nfds; j++)
				/* Each worker watches the same sockets. */
				if ((fds[i][j] = i == 0 ? act_fds[j] :
				    dup(act_fds[j])) < 0) {
					ds_err("dup: %s", strerror(errno));
					goto out;
				}
	}
	for (i = 0; nact == 0 && i < nworkers; i++) {
		nfds = (unsigned)(2 * cfg->nlisten);
		for (j = 0; j < cfg->nlisten; j++) {
			const struct ds_listen *ls = &cfg->listen[j];
			int *u = &fds[i][2 * j], *t = &fds[i][2 * j + 1];

			types[2 * j] = DS_UDP;
			types[2 * j + 1] = DS_TCP;

			*u = listener_bind((struct sockaddr *)&ls->addr,
			    ls->addrlen, DS_UDP, nworkers > 1);
			if (*u >= 0 && listener_set_rcvbuf(*u,
			    cfg->so_rcvbuf, ls->spec) < 0)
				goto out;
			*t = *u < 0 ? -1 : listener_bind(
			    (struct sockaddr *)&ls->addr, ls->addrlen,
			    DS_TCP, nworkers > 1);
			if (*u < 0 || *t < 0)
				goto out;
			if (i == 0)
				ds_notice("listening on %s (udp, tcp)",
				    ls->spec);
		}
	}
	/* The DoT listener's sockets, and its key read while root. */
	if (cfg->nlisten_tls > 0 && open_tls_listeners(cfg, fds, types,
	    &nfds) != 0)
		goto out;
	/* The control socket, while still root: in /run, with the group
	 * of the user dotsecd becomes. */
	if (cfg->control_socket[0] != '\0' &&
	    (ctl_fd = control_open(cfg->control_socket,
	    control_group(cfg, &ctl_members, &ctl_nmembers))) < 0) {
		/* Where the default path cannot be made (a read-only /run in
		 * a container, no root), serve without it; a path set in the
		 * configuration must work. */
		if (!config_is_default_control_socket(cfg))
			goto out;
		ds_warn("no control socket: set control_socket to a "
		    "writable path, or to \"\" to say none is wanted");
	}
	if (drop_privileges(cfg) != 0)
		goto out;
	/* From here on as the unprivileged user: the anchor state must be
	 * writable by it, which anchor_create proves. */
	if ((anchors = anchor_create(cfg)) == NULL)
		goto out;
	if ((answer_cache = frontcache_create(ds_answer_cache_bytes(cfg),
	    cfg->serve_stale ? DS_STALE_MAX_SEC : 0)) == NULL)
		goto out;
	stats_set_frontcache(answer_cache);
	if ((key_cache = frontcache_create(ds_key_cache_bytes(cfg), 0)) ==
	    NULL)
		goto out;
	if ((synth = synth_create(ds_synth_bytes(cfg))) == NULL)
		goto out;
	stats_set_synth(synth);
	for (i = 0; i < nworkers; i++) {
		workers[i] = worker_create(cfg, i, fds[i], types, nfds, tls,
		    anchor_trusted(anchors));
		/* The worker owns its fds now, also when it failed. */
		for (j = 0; j < nfds; j++)
			fds[i][j] = -1;
		if (workers[i] == NULL)
			goto out;
		worker_set_frontcache(workers[i], answer_cache);
		worker_set_keycache(workers[i], key_cache);
		worker_set_synth(workers[i], synth);
	}
	/* The prober runs on the first worker's loop, through its relay. */
	if (anchor_start(anchors, worker_base(workers[0]),
	    worker_relay_ip(workers[0]), worker_relay_port(workers[0]),
	    anchors_changed, NULL) != 0)
		goto out;

	if ((base = event_base_new()) == NULL)
		ds_fatal("libevent: cannot create the main loop");
	if (cfg->metrics_address != NULL && (http = http_create(base,
	    cfg->metrics_address, cfg->health_max_age, metrics_snapshot,
	    NULL)) == NULL)
		goto out;
	if (ctl_fd >= 0) {
		ctl_daemon.workers = workers;
		ctl_daemon.nworkers = nworkers;
		ctl_daemon.answers = answer_cache;
		ctl_daemon.keys = key_cache;
		ctl_daemon.anchors = anchors;
		ctl_daemon.started = time(NULL);
		ctl_daemon.config = current_config;
		ctl_daemon.reload = reload;
		ctl_daemon.runtime = runtime_request;
		ctl_daemon.anchors_copy = anchors_copy;
		ctl_daemon.cache = cache_request;
		anchors_keep(anchor_trusted(anchors));
		if ((nta_timer = evtimer_new(base, nta_tick, NULL)) == NULL)
			ds_fatal("libevent: cannot create a timer");
		ctl = control_start(base, ctl_fd, geteuid(), ctl_gid,
		    ctl_members, ctl_nmembers, ctlcmd_run, &ctl_daemon);
		ctl_fd = -1;	/* taken, also on failure */
		if (ctl == NULL)
			goto out;
		ds_notice("control socket %s", cfg->control_socket);
	}
	for (i = 0; i < 4; i++) {
		sigs[i] = evsignal_new(base, signums[i], signal_cb, base);
		if (sigs[i] == NULL || event_add(sigs[i], NULL) != 0)
			ds_fatal("libevent: cannot watch signal %d",
			    signums[i]);
	}
	if (cfg->query_log != NULL) {
		if ((qlog = fopen(cfg->query_log, "a")) == NULL) {
			ds_err("query_log %s: %s", cfg->query_log,
			    strerror(errno));
			goto out;
		}
		setvbuf(qlog, NULL, _IOLBF, 0);
		for (i = 0; i < nworkers; i++)
			worker_set_query_log(workers[i], qlog);
	}
	/* Everything is open, bound and built: confine the process before
	 * any thread of a worker runs, so that each inherits it. */
	if (sandbox_apply(cfg) != 0)
		goto out;
	/* Inside the sandbox: the dump is read like any untrusted input. */
	cache_restore(cfg);
	for (i = 0; i < nworkers; i++)
		if (worker_start(workers[i]) != 0)
			goto out;
	ds_notice("dotsecd %s started: %u worker%s, %zu upstream%s, "
	    "trust anchor state %s", PACKAGE_VERSION, nworkers,
	    nworkers == 1 ? "" : "s", cfg->nupstreams,
	    cfg->nupstreams == 1 ? "" : "s", anchor_state_path(anchors));
	service_notify("READY=1");
	event_base_dispatch(base);
	service_notify("STOPPING=1");
	rc = 0;
out:
	for (i = 0; i < DS_MAX_WORKERS; i++)
		for (j = 0; j < 2 * 64 + MAX_LISTEN_TLS; j++)
			if (fds[i][j] >= 0)
				close(fds[i][j]);
	/* An explain still running needs the first worker's relay: the
	 * control channel goes first, once its explains are done. */
	control_stop(ctl);
	/* Drain: every query in flight may still take the whole timeout. */
	for (i = 0; i < nworkers; i++)
		if (workers[i])
			worker_stop(workers[i], rc == 0 ?
			    cfg->timeout_ms + 500 : 0);
	/* Drained: the cache holds every answer it will get.  A start that
	 * failed leaves the last dump alone. */
	if (rc == 0)
		cache_save(configs[nconfigs - 1], cfg->state_dir);
	http_delete(http);
	if (nta_timer)
		event_free(nta_timer);
	if (ctl_fd >= 0)
		close(ctl_fd);
	free(ctl_members);
	if (qlog)
		fclose(qlog);
	/* The prober's loop is stopped: its context can go now. */
	anchor_delete(anchors);
	for (i = 0; i < nworkers; i++)
		worker_delete(workers[i]);
	stats_set_frontcache(NULL);
	frontcache_delete(answer_cache);
	frontcache_delete(key_cache);
	stats_set_synth(NULL);
	synth_delete(synth);
	tlsserve_free(tls);
	for (i = 0; i < 4; i++)
		if (sigs[i])
			event_free(sigs[i]);
	if (base)
		event_base_free(base);
	for (i = 0; i < nconfigs; i++)
		config_free(configs[i]);
	free(configs);
	runtime_delete(runtime_state);
	anchorfile_free_set(anchors_now);
	if (rc == 0)
		ds_notice("stopped");
	return rc;
}
