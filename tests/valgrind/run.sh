#!/bin/bash
# run.sh -- system tests with dotsecd under valgrind (memcheck): fails when
# valgrind reports any error (invalid read/write, use of uninitialised
# values, bad free, ...) or any definitely lost block, or when the test
# itself fails.
#
#   DOTSECD=/path/to/dotsecd bash tests/valgrind/run.sh [TEST.sh ...]
#
# DOTSECD must be a build WITHOUT --enable-sanitizers (valgrind and
# AddressSanitizer do not mix); default as for the system tests
# ($abs_top_builddir/src/dotsecd, else ../../src/dotsecd from here).  The
# tests are names in tests/system (default: test_hostile.sh, the hostile
# queries over UDP and TCP, which resolve through the relay and getdns as
# well).  Each runs with DOTSECD pointing at a wrapper script that execs
#   valgrind --error-exitcode=99 --leak-check=full
#            --errors-for-leak-kinds=definite --suppressions=dotsec.supp
# on the real dotsecd, so lib.sh's "stops on SIGTERM with status 0" case
# also fails on any valgrind error; lib.sh waits longer for start and stop
# (DS_START_WAIT, DS_STOP_WAIT: 120 s) and dig longer for replies
# (DS_DIG_TIME: 20 s).  dotsec.supp holds only the known getdns report
# (see the file for why).  The valgrind logs (one per dotsecd run) are
# checked after each test and printed when something is wrong.
#
# test_cache.sh is not a good choice here: under valgrind the relay is slow
# enough that libunbound retransmits to it, and the upstream's query log
# then counts those retransmissions as cache misses.
#
# Prints "valgrind: N tests, P passed, F failed" last; exit status 0 or 1.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SYSDIR=$HERE/../system
SUPP=$HERE/dotsec.supp

die() {
	printf 'valgrind: FATAL: %s\n' "$*" >&2
	exit 1
}

command -v valgrind >/dev/null 2>&1 ||
	die "valgrind not found (apt-get install valgrind)"
if [ -z "${DOTSECD:-}" ]; then
	if [ -n "${abs_top_builddir:-}" ]; then
		DOTSECD=$abs_top_builddir/src/dotsecd
	else
		DOTSECD=$(cd "$HERE/../.." && pwd)/src/dotsecd
	fi
fi
[ -x "$DOTSECD" ] || die "dotsecd not found or not executable at '$DOTSECD'"
case $DOTSECD in /*) ;; *) DOTSECD=$(pwd)/$DOTSECD ;; esac
if grep -qa -e __asan_init -e __ubsan_handle "$DOTSECD"; then
	die "$DOTSECD is a sanitizer build; valgrind needs a build configured without --enable-sanitizers"
fi
[ -f "$SUPP" ] || die "no suppression file $SUPP"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/dotsec-valgrind.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM HUP

if [ $# -eq 0 ]; then
	set -- test_hostile.sh
fi

tests=0 passed=0 failed=0
for t in "$@"; do
	t=${t##*/}
	[ -f "$SYSDIR/$t" ] || die "no system test $SYSDIR/$t"
	tests=$((tests + 1))
	logdir=$TMP/${t%.sh}
	mkdir -p "$logdir"
	wrapper=$logdir/dotsecd-valgrind
	# %p: one log per dotsecd run (a test may start it several times).
	cat >"$wrapper" <<EOF
#!/bin/sh
exec valgrind --error-exitcode=99 --leak-check=full \\
	--errors-for-leak-kinds=definite --show-leak-kinds=definite \\
	--num-callers=40 --suppressions='$SUPP' \\
	--log-file='$logdir/valgrind.%p.log' '$DOTSECD' "\$@"
EOF
	chmod +x "$wrapper"
	printf 'valgrind: running %s with dotsecd under valgrind\n' "$t"
	start=$SECONDS
	rc=0
	# DS_SANDBOX=no: valgrind runs the daemon's system calls itself,
	# and a seccomp filter installed by the daemon would apply to
	# valgrind's own calls too.
	DOTSECD=$wrapper DS_START_WAIT=120 DS_STOP_WAIT=120 DS_DIG_TIME=20 \
		DS_SANDBOX=no bash "$SYSDIR/$t" >"$logdir/test.log" 2>&1 ||
		rc=$?

	# Valgrind's verdicts, from each log.
	problems=""
	nlogs=0
	for log in "$logdir"/valgrind.*.log; do
		[ -f "$log" ] || continue
		nlogs=$((nlogs + 1))
		errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -n 1)
		lost=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tail -n 1 | tr -d ,)
		if [ -z "$errs" ]; then
			problems="$problems ${log##*/}: no ERROR SUMMARY (valgrind did not finish: killed?);"
		elif [ "$errs" != 0 ]; then
			problems="$problems ${log##*/}: $errs errors;"
		fi
		if [ -n "$lost" ] && [ "$lost" != 0 ]; then
			problems="$problems ${log##*/}: $lost bytes definitely lost;"
		fi
	done
	[ "$nlogs" -gt 0 ] || problems=" no valgrind log: dotsecd never ran under valgrind;"
	summary=$(grep -E "^${t%.sh}: [0-9]+ cases" "$logdir/test.log" | tail -n 1)
	if [ "$rc" = 0 ] && [ -z "$problems" ]; then
		passed=$((passed + 1))
		printf 'valgrind: %s: PASS in %d s (%s; %d dotsecd run(s), no error, nothing definitely lost)\n' \
			"$t" "$((SECONDS - start))" "${summary:-no summary}" "$nlogs"
	else
		failed=$((failed + 1))
		printf 'valgrind: %s: FAIL in %d s (test status %d: %s)%s\n' "$t" \
			"$((SECONDS - start))" "$rc" "${summary:-no summary}" \
			"${problems:+; valgrind:$problems}"
		for log in "$logdir"/valgrind.*.log; do
			[ -f "$log" ] || continue
			printf '\n===== %s =====\n' "$log"
			cat "$log"
		done
		printf '\n===== the test output (%s) =====\n' "$t"
		# The test's own failures first; its logs (all of them) after.
		grep -E '^FAIL |^[a-z_]+: ' "$logdir/test.log" | head -n 60
		printf -- '--- full output ---\n'
		cat "$logdir/test.log"
	fi
done
printf 'valgrind: %d tests, %d passed, %d failed\n' "$tests" "$passed" "$failed"
[ "$failed" = 0 ]
