/*
 * sandbox.c -- capabilities, no_new_privs, core dumps, RLIMIT_NOFILE,
 * Landlock and the seccomp allow-list (sandbox.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/landlock.h>

#ifdef HAVE_SECCOMP
#include <seccomp.h>
#endif

#include "dsconfig.h"
#include "log.h"
#include "sandbox.h"

#define MAX_ROOTS 64

/* What Landlock lets dotsecd read, once applied (for reloads). */
static char *read_roots[MAX_ROOTS];
static size_t nread_roots;
static bool landlock_on;

/* ---------------------------------------------------------------- Landlock */

static int
landlock_abi(void)
{
#ifdef SYS_landlock_create_ruleset
	return (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
#else
	errno = ENOSYS;
	return -1;
#endif
}

/* Every file-system right this kernel's Landlock knows. */
static uint64_t
fs_rights(int abi)
{
	uint64_t r = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;	/* ABI 1 */

#ifdef LANDLOCK_ACCESS_FS_REFER
	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
#endif
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
	if (abi >= 3)
		r |= LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
	(void)abi;
	return r;
}

#define READ_RIGHTS	(LANDLOCK_ACCESS_FS_READ_FILE | \
			 LANDLOCK_ACCESS_FS_READ_DIR)

/* The directory a file is in (a copy), or the path itself when dir. */
static char *
dir_of(const char *path, bool dir)
{
	char *c = strdup(path), *slash;

	if (c == NULL || dir)
		return c;
	if ((slash = strrchr(c, '/')) == NULL) {
		free(c);
		return strdup(".");
	}
	if (slash == c)
		slash[1] = '\0';
	else
		*slash = '\0';
	return c;
}

static void
root_add(const char *path, bool dir)
{
	char *d, real[PATH_MAX];
	size_t i;

	if (path == NULL || *path == '\0' || nread_roots == MAX_ROOTS)
		return;
	if ((d = dir_of(path, dir)) == NULL)
		return;
	if (realpath(d, real) == NULL) {
		free(d);
		return;		/* absent: nothing to allow */
	}
	free(d);
	for (i = 0; i < nread_roots; i++)
		if (strcmp(read_roots[i], real) == 0)
			return;
	read_roots[nread_roots++] = strdup(real);
}

/* The read-only set: the files the configuration names (their
 * directories, so that a file replaced by rename is still readable on
 * reload), and what the libraries read at run time. */
static void
collect_read_roots(const struct ds_config *cfg)
{
	static const char *const system[] = {
		"/etc/ssl",		/* OpenSSL: the CA store, openssl.cnf */
		"/usr/lib/ssl",
		"/usr/share/ca-certificates",
		"/usr/share/dns",	/* getdns reads root.key per context */
		"/usr/lib",		/* OpenSSL providers, gconv */
		"/etc/localtime",	/* log time stamps */
		"/dev/urandom",
		NULL
	};
	size_t i;

	if (strcmp(cfg->path, "(defaults)") != 0)
		root_add(cfg->path, false);
	root_add(cfg->include_dir, true);
	root_add(cfg->tls_ca_file, false);
	root_add(cfg->tls_ca_path, true);
	/* The DoT listener's files, re-read on reload (rotation). */
	root_add(cfg->tls_service_pem, false);
	root_add(cfg->tls_service_key, false);
	root_add(cfg->tls_client_ca, false);
	for (i = 0; i < cfg->nfwd_zones; i++)
		root_add(cfg->fwd_zones[i].tls_ca_file, false);
	root_add(cfg->trust_anchor_file, false);
	root_add(cfg->anchor_bootstrap_xml, false);
	root_add(cfg->anchor_bootstrap_sig, false);
	root_add(cfg->anchor_bootstrap_ca, false);
	root_add(cfg->anchor_bootstrap_url_ca, false);
	for (i = 0; system[i] != NULL; i++)
		root_add(system[i], true);
	if (DS_SANITIZER_BUILD)
		root_add("/proc", true);
}

static int
landlock_rule(int ruleset, const char *path, uint64_t rights, uint64_t all)
{
#ifdef SYS_landlock_add_rule
	struct landlock_path_beneath_attr pb;
	int fd, rc;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) < 0)
		return 0;	/* gone meanwhile: nothing to allow */
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = rights & all;
	pb.parent_fd = fd;
	rc = (int)syscall(SYS_landlock_add_rule, ruleset,
	    LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	if (rc != 0 && errno == EINVAL) {
		/* A file, not a directory: only file rights apply. */
		pb.allowed_access &= LANDLOCK_ACCESS_FS_READ_FILE |
		    LANDLOCK_ACCESS_FS_WRITE_FILE;
		rc = (int)syscall(SYS_landlock_add_rule, ruleset,
		    LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	}
	if (rc != 0)
		ds_err("sandbox: Landlock rule for %s: %s", path,
		    strerror(errno));
	close(fd);
	return rc;
#else
	(void)ruleset;
	(void)path;
	(void)rights;
	(void)all;
	return -1;
#endif
}

static int
landlock_apply(const struct ds_config *cfg)
{
#if defined(SYS_landlock_create_ruleset) && defined(SYS_landlock_restrict_self)
	struct landlock_ruleset_attr ra;
	int abi = landlock_abi(), ruleset;
	uint64_t all;
	size_t i;

	if (abi < 1) {
		ds_notice("sandbox: this kernel has no Landlock (%s); file "
		    "access is not confined", strerror(errno));
		return 0;
	}
	all = fs_rights(abi);
	collect_read_roots(cfg);
	memset(&ra, 0, sizeof(ra));
	ra.handled_access_fs = all;
	if ((ruleset = (int)syscall(SYS_landlock_create_ruleset, &ra,
	    sizeof(ra), 0)) < 0) {
		ds_err("sandbox: Landlock ruleset: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < nread_roots; i++)
		if (landlock_rule(ruleset, read_roots[i], READ_RIGHTS,
		    all) != 0)
			goto fail;
	/* state_dir: the anchor state and libunbound's option files. */
	if (landlock_rule(ruleset, cfg->state_dir, all &
	    ~(uint64_t)(LANDLOCK_ACCESS_FS_EXECUTE |
	    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
	    LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SOCK |
	    LANDLOCK_ACCESS_FS_MAKE_SYM), all) != 0)
		goto fail;
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) {
		ds_err("sandbox: Landlock: %s", strerror(errno));
		goto fail;
	}
	close(ruleset);
	landlock_on = true;
	ds_info("sandbox: Landlock ABI %d: %zu directories readable, %s "
	    "writable", abi, nread_roots, cfg->state_dir);
	return 0;
fail:
	close(ruleset);
	return -1;
#else
	(void)cfg;
	ds_notice("sandbox: built without Landlock; file access is not "
	    "confined");
	return 0;
#endif
}

bool
sandbox_blocks_read(const char *path, bool dir)
{
	char real[PATH_MAX], *d;
	size_t i, n;

	if (!landlock_on || path == NULL || *path == '\0')
		return false;
	if ((d = dir_of(path, dir)) == NULL)
		return true;
	if (realpath(d, real) == NULL) {
		/* No such directory: opening the file fails anyway, with
		 * its own clear error. */
		free(d);
		return false;
	}
	free(d);
	for (i = 0; i < nread_roots; i++) {
		n = strlen(read_roots[i]);
		if (strncmp(real, read_roots[i], n) == 0 &&
		    (real[n] == '\0' || real[n] == '/' ||
		    (n == 1 && read_roots[i][0] == '/')))
			return false;
	}
	return true;
}

/* ---------------------------------------------------------------- seccomp */

#ifdef HAVE_SECCOMP
/* Argument arg equal to v: SCMP_A0(SCMP_CMP_EQ, v) with every field set
 * (the macro leaves datum_b to the compiler, which clang warns about). */
static struct scmp_arg_cmp
arg_eq(unsigned arg, scmp_datum_t v)
{
	struct scmp_arg_cmp c = { arg, SCMP_CMP_EQ, v, 0 };

	return c;
}

/* The system calls a running dotsecd makes, by what they serve. */
static const int allowed[] = {
	/* memory, threads, signals, time: glibc, libevent, OpenSSL */
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(mprotect), SCMP_SYS(madvise), SCMP_SYS(futex),
	SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(sched_yield),
	SCMP_SYS(sched_getaffinity), SCMP_SYS(gettid), SCMP_SYS(getpid),
	SCMP_SYS(tgkill), SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(sigaltstack),
	SCMP_SYS(restart_syscall), SCMP_SYS(exit), SCMP_SYS(exit_group),
	SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres),
	SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(getrandom),
	SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid),
	SCMP_SYS(getegid), SCMP_SYS(uname), SCMP_SYS(sysinfo),
	SCMP_SYS(getrlimit), SCMP_SYS(prlimit64), SCMP_SYS(getrusage),
	SCMP_SYS(membarrier),
	/* files: reloads, the anchor state (written atomically), the
	 * query log, libunbound's option files, CA files */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(lseek),
	SCMP_SYS(close), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	SCMP_SYS(statx), SCMP_SYS(stat), SCMP_SYS(lstat), SCMP_SYS(openat),
	SCMP_SYS(open), SCMP_SYS(unlink), SCMP_SYS(unlinkat),
	SCMP_SYS(rename), SCMP_SYS(renameat), SCMP_SYS(renameat2),
	SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(ftruncate),
	SCMP_SYS(fchmod), SCMP_SYS(fcntl), SCMP_SYS(getdents64),
	SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(access),
	SCMP_SYS(faccessat), SCMP_SYS(faccessat2), SCMP_SYS(umask),
	SCMP_SYS(getcwd), SCMP_SYS(dup), SCMP_SYS(dup2), SCMP_SYS(dup3),
	SCMP_SYS(pipe2), SCMP_SYS(eventfd2),
	/* event loops */
	SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_pwait2), SCMP_SYS(poll),
	SCMP_SYS(ppoll), SCMP_SYS(select), SCMP_SYS(pselect6),
	/* sockets (socket and socketpair itself: below, by family):
	 * clients, the relay, upstreams, metrics, sd_notify */
	SCMP_SYS(connect), SCMP_SYS(bind), SCMP_SYS(listen),
	SCMP_SYS(accept), SCMP_SYS(accept4), SCMP_SYS(sendto),
	SCMP_SYS(sendmsg), SCMP_SYS(sendmmsg), SCMP_SYS(recvfrom),
	SCMP_SYS(recvmsg), SCMP_SYS(recvmmsg), SCMP_SYS(shutdown),
	SCMP_SYS(setsockopt), SCMP_SYS(getsockopt), SCMP_SYS(getsockname),
	SCMP_SYS(getpeername),
};

/* What a sanitizer build's leak check needs at exit. */
static const int sanitizer_extra[] = {
	SCMP_SYS(clone), SCMP_SYS(clone3), SCMP_SYS(ptrace),
	SCMP_SYS(wait4), SCMP_SYS(prctl), SCMP_SYS(getppid),
	SCMP_SYS(sched_getparam), SCMP_SYS(kill), SCMP_SYS(getdents),
};
#endif

int
sandbox_seccomp(bool log_only)
{
#ifdef HAVE_SECCOMP
	static const int families[] = { AF_INET, AF_INET6, AF_UNIX };
	static const unsigned long ioctls[] = { FIONREAD, FIONBIO, TCGETS };
	scmp_filter_ctx ctx;
	size_t i;
	int rc = 0;

	if ((ctx = seccomp_init(log_only ? SCMP_ACT_LOG :
	    SCMP_ACT_KILL_PROCESS)) == NULL) {
		ds_err("sandbox: seccomp_init failed");
		return -1;
	}
	for (i = 0; rc == 0 && i < sizeof(allowed) / sizeof(allowed[0]); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	for (i = 0; DS_SANITIZER_BUILD && rc == 0 &&
	    i < sizeof(sanitizer_extra) / sizeof(sanitizer_extra[0]); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sanitizer_extra[i],
		    0);
	for (i = 0; rc == 0 && i < 3; i++) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
		    arg_eq(0, (scmp_datum_t)families[i]));
		if (rc == 0 && families[i] == AF_UNIX)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
			    SCMP_SYS(socketpair), 1,
			    arg_eq(0, (scmp_datum_t)AF_UNIX));
	}
	for (i = 0; rc == 0 && i < 3; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		    arg_eq(1, (scmp_datum_t)ioctls[i]));
	/* New threads, never new processes: clone only with CLONE_THREAD,
	 * and clone3, whose flags a filter cannot see, answers ENOSYS so
	 * that glibc falls back to clone. */
	if (rc == 0 && !DS_SANITIZER_BUILD)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, (scmp_datum_t)CLONE_THREAD,
		    (scmp_datum_t)CLONE_THREAD));
	if (rc == 0 && !DS_SANITIZER_BUILD)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
		    SCMP_SYS(clone3), 0);
	/* Threads name themselves; nothing else of prctl. */
	if (rc == 0 && !DS_SANITIZER_BUILD)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
		    arg_eq(0, (scmp_datum_t)PR_SET_NAME));
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (rc == 0)
		rc = seccomp_load(ctx);
	if (rc != 0)
		ds_err("sandbox: seccomp filter: %s", strerror(-rc));
	seccomp_release(ctx);
	return rc == 0 ? 0 : -1;
#else
	(void)log_only;
	return -1;
#endif
}

/* ---------------------------------------------------------------- privileges */

/* Every capability out of the bounding set, then out of the effective,
 * permitted and inheritable sets. */
static void
drop_capabilities(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	int cap, kept = 0;

	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (cap = 0; cap <= 63; cap++) {
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
			kept++;
	}
	if (kept > 0)
		ds_info("sandbox: %d capabilities stay in the bounding set "
		    "(no CAP_SETPCAP: the service manager bounds them)", kept);
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &h, d) != 0)
		ds_warn("sandbox: cannot drop capabilities: %s",
		    strerror(errno));
}

/* Enough descriptors for what the configuration allows: per worker its
 * listeners, client TCP connections, the relay's, and the upstreams'. */
static void
set_nofile(const struct ds_config *cfg)
{
	struct rlimit rl;
	unsigned long long need;
	size_t ups = cfg->nupstreams, i;

	for (i = 0; i < cfg->nfwd_zones; i++)
		ups += cfg->fwd_zones[i].nupstreams;
	need = (unsigned long long)(cfg->workers ? cfg->workers : 1) *
	    (2ULL * cfg->nlisten + cfg->tcp_max_connections + 2 + 256 +
	    4ULL * ups + 16) + 64;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ?
	    (rlim_t)need : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		ds_warn("sandbox: RLIMIT_NOFILE %llu: %s", need,
		    strerror(errno));
	else if (rl.rlim_cur < need)
		ds_warn("sandbox: RLIMIT_NOFILE is %llu, the configuration "
		    "may need %llu", (unsigned long long)rl.rlim_cur, need);
}

int
sandbox_apply(const struct ds_config *cfg)
{
	struct rlimit none = { 0, 0 };

	set_nofile(cfg);
	if (!cfg->sandbox) {
		ds_warn("sandbox: off (sandbox: no)");
		return 0;
	}
	if (!cfg->allow_core_dumps && (setrlimit(RLIMIT_CORE, &none) != 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0))
		ds_warn("sandbox: core dumps stay possible: %s",
		    strerror(errno));
	drop_capabilities();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		ds_err("sandbox: no_new_privs: %s", strerror(errno));
		return -1;
	}
	if (landlock_apply(cfg) != 0)
		return -1;
#ifdef HAVE_SECCOMP
	if (sandbox_seccomp(cfg->sandbox_log) != 0)
		return -1;
	ds_info("sandbox: seccomp allow-list in force (%s other calls)",
	    cfg->sandbox_log ? "logging" : "killing on");
#else
	ds_notice("sandbox: built without libseccomp; no system-call "
	    "filter");
#endif
	return 0;
}

void
sandbox_describe(const struct ds_config *cfg,
    void (*fn)(void *arg, const char *line), void *arg)
{
	char line[256];
	int abi = landlock_abi();

	if (!cfg->sandbox) {
		fn(arg, "sandbox: off (sandbox: no)");
		return;
	}
	fn(arg, "sandbox: no new privileges; every capability dropped "
	    "(bounding set included) after binding");
	fn(arg, cfg->allow_core_dumps ? "sandbox: core dumps allowed "
	    "(allow_core_dumps: yes)" : "sandbox: core dumps off");
	if (abi >= 1)
		snprintf(line, sizeof(line), "sandbox: Landlock ABI %d: read "
		    "only the files the configuration names and library "
		    "data, write only %s", abi, cfg->state_dir);
	else
		snprintf(line, sizeof(line), "sandbox: no Landlock on this "
		    "kernel: file access not confined");
	fn(arg, line);
#ifdef HAVE_SECCOMP
	fn(arg, cfg->sandbox_log ? "sandbox: seccomp allow-list, other "
	    "calls logged and allowed (sandbox_log: yes)" :
	    "sandbox: seccomp allow-list, other calls kill the process");
#else
	fn(arg, "sandbox: built without libseccomp: no system-call filter");
#endif
}
