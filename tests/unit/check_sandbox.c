/*
 * check_sandbox.c -- the seccomp filter dotsecd installs, run in a child:
 * allowed calls work, forbidden ones kill it with SIGSYS.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "dsconfig.h"
#include "sandbox.h"
#include "suites.h"

enum forbidden { F_NONE, F_EXECVE, F_PACKET, F_PTRACE, F_FORK };

/* In a child: the filter, then allowed calls (their results written to
 * the pipe), then the forbidden call.  Returns the child's wait status;
 * what the allowed calls gave is in out. */
static int
run_child(enum forbidden f, char *out, size_t outlen)
{
	int p[2], status = 0;
	pid_t pid;
	ssize_t n;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char buf[64];
		int s;

		close(p[0]);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
		    sandbox_seccomp(false) != 0)
			_exit(3);
		/* Allowed: a UDP socket, time, our pid, a write. */
		s = socket(AF_INET, SOCK_DGRAM, 0);
		snprintf(buf, sizeof(buf), "inet=%d pid=%d", s >= 0 ? 1 : 0,
		    getpid() > 0);
		if (write(p[1], buf, strlen(buf)) < 0)
			_exit(4);
		close(p[1]);
		switch (f) {
		case F_EXECVE:
			/* A path that does not exist: allowed, execve would
			 * return ENOENT and the child exit 0; only the
			 * filter's own verdict kills it. */
			execl("/nonexistent/dotsec-check", "x", (char *)NULL);
			break;
		case F_PACKET:
			(void)socket(AF_PACKET, SOCK_RAW, 0);
			break;
		case F_PTRACE:
			(void)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
			break;
		case F_FORK:
			if (fork() == 0)
				_exit(0);
			break;
		case F_NONE:
			break;
		}
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], out, outlen - 1);
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static void
expect_sigsys(enum forbidden f, const char *what)
{
	char out[64];
	int st = run_child(f, out, sizeof(out));

	ck_assert_msg(strcmp(out, "inet=1 pid=1") == 0,
	    "sandbox_seccomp: the allowed calls before %s gave '%s'", what,
	    out);
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
	    "sandbox_seccomp: %s must die of SIGSYS (status %#x)", what, st);
}

START_TEST(test_allowed)
{
	char out[64];
	int st = run_child(F_NONE, out, sizeof(out));

	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "sandbox_seccomp: a child that only makes allowed calls exits "
	    "0 (status %#x; 3: the filter was not installed)", st);
	ck_assert_str_eq(out, "inet=1 pid=1");
}
END_TEST

START_TEST(test_execve)
{
	expect_sigsys(F_EXECVE, "execve");
}
END_TEST

START_TEST(test_af_packet)
{
	expect_sigsys(F_PACKET, "socket(AF_PACKET)");
}
END_TEST

START_TEST(test_fork)
{
	char out[64];
	int st;

	if (!DS_SANITIZER_BUILD) {
		expect_sigsys(F_FORK, "fork (clone without CLONE_THREAD)");
		return;
	}
	st = run_child(F_FORK, out, sizeof(out));
	ck_assert_msg(WIFEXITED(st),
	    "sandbox_seccomp (sanitizer build): clone allowed (%#x)", st);
}
END_TEST

START_TEST(test_ptrace)
{
	char out[64];
	int st;

	if (!DS_SANITIZER_BUILD) {
		expect_sigsys(F_PTRACE, "ptrace");
		return;
	}
	/* LeakSanitizer needs it: the sanitizer build allows it, and says
	 * so in sandbox.c; the child lives on. */
	st = run_child(F_PTRACE, out, sizeof(out));
	ck_assert_msg(WIFEXITED(st),
	    "sandbox_seccomp (sanitizer build): ptrace allowed (%#x)", st);
}
END_TEST

/* The whole sandbox in a child, as dotsecd applies it: files outside
 * what Landlock allows cannot be opened, state_dir can be written. */
START_TEST(test_landlock)
{
	char state[] = "/tmp/check-sandbox-state.XXXXXX";
	char other[] = "/tmp/check-sandbox-other.XXXXXX";
	char out[256], path[300];
	struct ds_config *cfg;
	int p[2], st = 0;
	ssize_t n;
	pid_t pid;

	ck_assert_ptr_nonnull(mkdtemp(state));
	ck_assert_ptr_nonnull(mkdtemp(other));
	ck_assert_ptr_nonnull(cfg = config_default());
	free(cfg->state_dir);
	cfg->state_dir = strdup(state);
	ck_assert_int_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		char buf[256];
		int w, o, r, e;

		close(p[0]);
		if (sandbox_apply(cfg) != 0)
			_exit(3);
		snprintf(path, sizeof(path), "%s/w", state);
		w = open(path, O_WRONLY | O_CREAT, 0600);
		snprintf(path, sizeof(path), "%s/w", other);
		o = open(path, O_WRONLY | O_CREAT, 0600);
		e = o < 0 ? errno : 0;
		r = open("/etc/ssl/openssl.cnf", O_RDONLY);
		snprintf(buf, sizeof(buf), "state=%d other=%d/%s ssl=%d",
		    w >= 0, o >= 0, e == EACCES ? "EACCES" : strerror(e),
		    r >= 0);
		if (write(p[1], buf, strlen(buf)) < 0)
			_exit(4);
		_exit(0);
	}
	ck_assert_int_ge(pid, 0);
	close(p[1]);
	n = read(p[0], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "sandbox_apply in a child: status %#x (3: not applied)", st);
	ck_assert_msg(strcmp(out, "state=1 other=0/EACCES ssl=1") == 0,
	    "sandbox_apply: Landlock: %s", out);
	snprintf(path, sizeof(path), "%s/w", state);
	unlink(path);
	rmdir(state);
	rmdir(other);
	config_free(cfg);
}
END_TEST

Suite *
sandbox_suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("seccomp");

	tcase_add_test(tc, test_allowed);
	tcase_add_test(tc, test_execve);
	tcase_add_test(tc, test_af_packet);
	tcase_add_test(tc, test_fork);
	tcase_add_test(tc, test_ptrace);
	tcase_add_test(tc, test_landlock);
	suite_add_tcase(s, tc);
	return s;
}
