/*
 * sandbox.h -- dotsecd confines itself once start-up is done: no new
 * privileges, no capabilities (bounding set included), no core dumps
 * unless allowed, a file-descriptor limit from the configuration,
 * Landlock (only the files it needs: read the configuration, CA, anchor
 * and library data; write state_dir) and a seccomp-bpf allow-list of the
 * system calls that running needs, with argument filters where they
 * matter (socket: AF_INET, AF_INET6, AF_UNIX only).  Anything else kills
 * the process, or with sandbox_log: yes is logged by the kernel and
 * allowed, to build the list for a new libc or OpenSSL.
 *
 * main calls sandbox_apply() once, after binding, dropping to the user
 * and building the workers, and before their threads start, so that
 * every thread inherits the filter and the Landlock domain.
 */
#ifndef DS_SANDBOX_H
#define DS_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

struct ds_config;

/* AddressSanitizer's leak check stops the world with clone and ptrace and
 * reads /proc at exit: in such a build the filter and Landlock allow it
 * that much more (1), else 0. */
#if defined(__SANITIZE_ADDRESS__)
#define DS_SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DS_SANITIZER_BUILD 1
#endif
#endif
#ifndef DS_SANITIZER_BUILD
#define DS_SANITIZER_BUILD 0
#endif

/* Confine the process as cfg says (cfg->sandbox, sandbox_log,
 * allow_core_dumps).  A part the kernel or the build lacks (no Landlock,
 * no libseccomp) is logged once and skipped.  Returns 0, or -1 after
 * logging when a part that is available could not be applied. */
int sandbox_apply(const struct ds_config *cfg);

/* Whether the sandbox is in force and path (a file, or with dir a
 * directory) is outside what Landlock lets dotsecd read.  A reload whose
 * configuration names such a file is refused. */
bool sandbox_blocks_read(const char *path, bool dir);

/* One line per part, what it will do on this kernel and build, for
 * dotsecd -t: fn(arg, line). */
void sandbox_describe(const struct ds_config *cfg,
    void (*fn)(void *arg, const char *line), void *arg);

/* The seccomp filter alone, as sandbox_apply installs it (kill, or log
 * with log_only): for the unit test, which runs it in a child.  Returns
 * 0, or -1 (also when built without libseccomp). */
int sandbox_seccomp(bool log_only);

#endif /* DS_SANDBOX_H */
