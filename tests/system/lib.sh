# shellcheck shell=bash
#
# lib.sh -- helpers for dotsec's system tests: the world (world.sh), dotsecd
# with a generated configuration, dig and assertions over its output, and
# one summary line per test script.
#
# A test script does:
#   . "$(dirname "$0")/lib.sh"
#   ds_init                      # traps, tools, DOTSECD
#   world_start
#   ds_dotsecd_start [key=value ...]
#   ds_dig "case name" www.sec8.example A +dnssec
#   ds_expect_rcode NOERROR; ds_expect_flag ad; ...
#   ds_finish                    # summary; exit 1 if any case failed
#
# On exit (normal or not) everything started is stopped by PID; when a case
# failed or the script died, every log (servers and dotsecd's stderr) is
# printed first.  The exit status is 0 or 1, never 77.
#
# Environment:
#   DOTSECD            the daemon (default $abs_top_builddir/src/dotsecd)
#   DS_DIG_TIME        dig +time (default 5 s)
#   DS_VERBOSE=1       print every dig output, not only failing ones
#   DS_START_WAIT      seconds dotsecd has to answer after its start
#                      (default 30; more under valgrind)
#   DS_STOP_WAIT       seconds dotsecd has to exit after SIGTERM (default
#                      10; more under valgrind, whose leak check runs then)
#   WORLD_KEEP=1       keep the world's directory
#   DS_SANDBOX=log|no  sandbox_log: yes (denied system calls logged by the
#                      kernel, not fatal), or sandbox: no

# shellcheck source-path=SCRIPTDIR
# shellcheck source=world.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/world.sh"

DS_SYSTEM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DS_TEST=$(basename "$0" .sh)
DS_CASES=0
DS_CASES_FAILED=0
DS_FAILED_LIST=""
DS_CASE=""
DS_CASE_BAD=0
DS_CASE_OPEN=0
DS_OUT=""
DS_DIG_RC=0
DS_PID=""
DS_PID_WRAPPER=""
DS_STDERR=""
DS_CONF=""
DS_RUN=0
DS_FINISHED=0

# ---------------------------------------------------------------- set-up

ds_die() {
	printf '%s: FATAL: %s\n' "$DS_TEST" "$*" >&2
	exit 1
}

ds_require() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 ||
			ds_die "required program '$t' not found"
	done
}

ds_init() {
	PATH="$PATH:/usr/sbin:/sbin"
	trap '_ds_on_exit' EXIT
	trap 'exit 1' INT TERM HUP
	ds_require dig kdig python3 ss awk
	if [ -z "${DOTSECD:-}" ]; then
		if [ -n "${abs_top_builddir:-}" ]; then
			DOTSECD=$abs_top_builddir/src/dotsecd
		else
			DOTSECD=$(cd "$DS_SYSTEM_DIR/../.." && pwd)/src/dotsecd
		fi
	fi
	export DOTSECD
}

# Call only when the script needs dotsecd.
ds_require_dotsecd() {
	[ -x "$DOTSECD" ] ||
		ds_die "dotsecd not found or not executable at '$DOTSECD' (build it, or set DOTSECD=/path/to/dotsecd)"
}

_ds_on_exit() {
	local rc=$?
	set +e
	_ds_case_close
	# A script that did not reach ds_finish has not run all its cases:
	# whatever its status, it failed.
	[ "$DS_FINISHED" != 0 ] || [ "$rc" -ne 0 ] || rc=1
	if [ "$rc" -ne 0 ] || [ "$DS_CASES_FAILED" -ne 0 ]; then
		rc=1
		if [ -n "$DS_PID" ] && ! kill -0 "$DS_PID" 2>/dev/null; then
			printf '%s: dotsecd (PID %s) is not running any more\n' \
				"$DS_TEST" "$DS_PID" >&2
		fi
		printf '\n%s: FAILED; logs follow\n' "$DS_TEST" >&2
		world_dump_logs >&2
	fi
	_ds_dotsecd_kill
	world_stop
	if [ "$DS_FINISHED" = 0 ]; then
		printf '%s: %d cases, %d passed, %d failed (script stopped early, status %d)\n' \
			"$DS_TEST" "$DS_CASES" "$((DS_CASES - DS_CASES_FAILED))" \
			"$DS_CASES_FAILED" "$rc" >&2
	fi
	exit "$rc"
}

# ds_finish: print the summary, exit 0 or 1 (the EXIT trap cleans up).
ds_finish() {
	_ds_case_close
	DS_FINISHED=1
	printf '%s: %d cases, %d passed, %d failed\n' "$DS_TEST" "$DS_CASES" \
		"$((DS_CASES - DS_CASES_FAILED))" "$DS_CASES_FAILED"
	if [ "$DS_CASES_FAILED" -ne 0 ]; then
		printf '%s: failed cases:\n%s' "$DS_TEST" "$DS_FAILED_LIST"
		exit 1
	fi
	exit 0
}

# ---------------------------------------------------------------- cases

_ds_case_close() {
	[ "$DS_CASE_OPEN" = 1 ] || return 0
	DS_CASE_OPEN=0
	DS_CASES=$((DS_CASES + 1))
	if [ "$DS_CASE_BAD" = 1 ]; then
		DS_CASES_FAILED=$((DS_CASES_FAILED + 1))
		DS_FAILED_LIST="$DS_FAILED_LIST  - $DS_CASE
"
	elif [ "${DS_VERBOSE:-0}" = 1 ]; then
		printf 'ok: %s\n' "$DS_CASE"
	fi
}

# ds_case NAME: start a case that is not a dig (DS_OUT is cleared).
ds_case() {
	_ds_case_close
	DS_CASE=$1
	DS_CASE_BAD=0
	DS_CASE_OPEN=1
	DS_OUT=""
}

# ds_fail MESSAGE: the current case failed; print why (and, the first time,
# the output it is about).
ds_fail() {
	printf '\nFAIL [%s] %s: %s\n' "$DS_TEST" "$DS_CASE" "$*"
	if [ "$DS_CASE_BAD" = 0 ] && [ -n "$DS_OUT" ]; then
		printf -- '--- output of the case ---\n%s\n--- end ---\n' "$DS_OUT"
	fi
	DS_CASE_BAD=1
}

# ds_check DESCRIPTION COMMAND...: a case of its own that passes when the
# command succeeds.
ds_check() {
	local what=$1
	shift
	ds_case "$what"
	if ! DS_OUT=$("$@" 2>&1); then
		ds_fail "command failed: $*"
	fi
}

# ---------------------------------------------------------------- dotsecd

# ds_dotsecd_conf FILE [key=value ...]: write a configuration.  Keys:
#   upstream=ADDR (default $WORLD_UPSTREAM_ADDR)  port=853
#   upstream2=ADDR (default none: a second upstream, same port, auth name
#   and pin)
#   auth_name=NAME (default $WORLD_AUTH_NAME; "" to omit)
#   pin=BASE64 (default none)  ca_file=FILE (default $WORLD_CA_FILE; "" omits)
#   timeout=MS (3000)  backoff=S (2)  workers=N (1)  log_level=debug
#   listen=ADDR@PORT (default $WORLD_DOTSECD_ADDR@53)
#   anchor=FILE (default $WORLD_TA_FILE)  extra=LINES (appended verbatim)
#   state_dir=DIR (default FILE.state: a fresh anchor state per run)
#   user=NAME (default "": stay root)
ds_dotsecd_conf() {
	local f=$1 kv k v
	local upstream=$WORLD_UPSTREAM_ADDR port=853 auth_name=$WORLD_AUTH_NAME
	local pin="" ca_file=$WORLD_CA_FILE timeout=3000 backoff=2 workers=1
	local log_level=debug listen=$WORLD_DOTSECD_ADDR@53 anchor=$WORLD_TA_FILE
	local extra="" state_dir=$1.state user="" upstream2="" u
	shift
	for kv in "$@"; do
		k=${kv%%=*}
		v=${kv#*=}
		case $k in
		upstream) upstream=$v ;;
		upstream2) upstream2=$v ;;
		port) port=$v ;;
		auth_name) auth_name=$v ;;
		pin) pin=$v ;;
		ca_file) ca_file=$v ;;
		timeout) timeout=$v ;;
		backoff) backoff=$v ;;
		workers) workers=$v ;;
		log_level) log_level=$v ;;
		listen) listen=$v ;;
		anchor) anchor=$v ;;
		state_dir) state_dir=$v ;;
		user) user=$v ;;
		extra) extra=$v ;;
		*) ds_die "ds_dotsecd_conf: unknown key '$k'" ;;
		esac
	done
	{
		printf 'listen_addresses:\n  - %s\n' "$listen"
		printf 'upstream_recursive_servers:\n'
		for u in "$upstream" $upstream2; do
			printf '  - address_data: %s\n    tls_port: %s\n' "$u" "$port"
			[ -z "$auth_name" ] || printf '    tls_auth_name: "%s"\n' "$auth_name"
			if [ -n "$pin" ]; then
				printf '    tls_pubkey_pinset:\n'
				printf '      - digest: "sha256"\n        value: "%s"\n' "$pin"
			fi
		done
		[ -z "$ca_file" ] || printf 'tls_ca_file: "%s"\n' "$ca_file"
		printf 'trust_anchor_file: "%s"\n' "$anchor"
		# Each run its own anchor state unless the test shares one.
		printf 'state_dir: "%s"\n' "$state_dir"
		# The world's files are root's: stay root unless a test
		# (test_privdrop) asks for a user.
		printf 'user: "%s"\n' "$user"
		printf 'timeout: %s\nworkers: %s\nlog_level: %s\ntls_backoff_time: %s\n' \
			"$timeout" "$workers" "$log_level" "$backoff"
		# Each run its own control socket, next to its configuration.
		printf 'control_socket: "%s"\n' "${f%.yml}.sock"
		[ -z "$extra" ] || printf '%s\n' "$extra"
		# DS_SANDBOX=log: denied calls logged, not fatal (building
		# the allow-list); DS_SANDBOX=no: off (valgrind).
		case ${DS_SANDBOX:-} in
		log) printf 'sandbox_log: true\n' ;;
		no) printf 'sandbox: false\n' ;;
		esac
	} >"$f"
}

# ds_dotsecd_start [wrapper=CMD] [key=value ...]: stop a running dotsecd,
# write a new configuration (see ds_dotsecd_conf), start
# `$DOTSECD -c FILE` (optionally under a wrapper command such as
# "strace -f -o FILE", given as one word list), and wait (bounded) until it
# answers a query.  Sets DS_ADDR, DS_PORT, DS_PID, DS_CONF, DS_STDERR and
# DS_CTL (its control socket).
ds_dotsecd_start() {
	local wrapper="" args=() kv i listen
	ds_require_dotsecd
	_ds_dotsecd_kill
	for kv in "$@"; do
		case $kv in
		wrapper=*) wrapper=${kv#wrapper=} ;;
		*) args+=("$kv") ;;
		esac
	done
	DS_RUN=$((DS_RUN + 1))
	DS_CONF=$WORLD_DIR/dotsecd-$DS_RUN.yml
	DS_STDERR=$WORLD_DIR/dotsecd-$DS_RUN.stderr
	DS_CTL=${DS_CONF%.yml}.sock
	ds_dotsecd_conf "$DS_CONF" "${args[@]}"
	listen=$(awk '/^listen_addresses:/ { getline; print $2; exit }' "$DS_CONF")
	DS_ADDR=${listen%@*}
	DS_PORT=${listen##*@}
	world_register_log "$DS_CONF" "dotsecd configuration (run $DS_RUN)"
	world_register_log "$DS_STDERR" "dotsecd stderr (run $DS_RUN)"
	if [ -n "$wrapper" ]; then
		ds_require ps
		# LeakSanitizer cannot run under ptrace (strace): in a
		# sanitizer build, a traced run checks everything but leaks.
		# shellcheck disable=SC2086 # the wrapper is a word list
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
			$wrapper "$DOTSECD" -c "$DS_CONF" >"$DS_STDERR" 2>&1 &
		DS_PID_WRAPPER=$!
		DS_PID=""
		i=0
		while [ -z "$DS_PID" ]; do
			# The wrapper's child once it is dotsecd (strace may
			# have a short-lived child of its own first).
			DS_PID=$(ps -o pid=,comm= --ppid "$DS_PID_WRAPPER" |
				awk -v c="$(basename "$DOTSECD" | cut -c1-15)" \
				'$2 == c { print $1; exit }')
			[ $i -lt 100 ] || ds_die "no child of the wrapper '$wrapper' after 10s"
			kill -0 "$DS_PID_WRAPPER" 2>/dev/null ||
				ds_die "wrapper '$wrapper' exited at start"
			[ -n "$DS_PID" ] || sleep 0.1
			i=$((i + 1))
		done
	else
		"$DOTSECD" -c "$DS_CONF" >"$DS_STDERR" 2>&1 &
		DS_PID=$!
		DS_PID_WRAPPER=""
	fi
	i=0
	# A CH-class query is answered (REFUSED) by dotsecd itself, without
	# the upstream; any reply at all means it is up.
	while ! dig +time=1 +tries=1 -b "$WORLD_CLIENT_ADDR" @"$DS_ADDR" \
		-p "$DS_PORT" version.bind CH TXT >/dev/null 2>&1; do
		if ! kill -0 "$DS_PID" 2>/dev/null; then
			wait "$DS_PID" 2>/dev/null || true
			ds_die "dotsecd exited during start-up (config $DS_CONF); see its stderr below"
		fi
		[ $i -lt $((${DS_START_WAIT:-30} * 2)) ] ||
			ds_die "dotsecd (PID $DS_PID) does not answer on $DS_ADDR@$DS_PORT after ${DS_START_WAIT:-30}s"
		sleep 0.5
		i=$((i + 1))
	done
}

# Stop dotsecd (and its wrapper) by PID; no checks.
_ds_dotsecd_kill() {
	[ -n "$DS_PID" ] || return 0
	if [ -n "$DS_PID_WRAPPER" ]; then
		kill -TERM "$DS_PID" 2>/dev/null || true
		_world_kill "$DS_PID_WRAPPER"
		_world_kill "$DS_PID"
	else
		_world_kill "$DS_PID"
	fi
	DS_PID=""
	DS_PID_WRAPPER=""
}

# ds_dotsecd_stop: stop dotsecd with SIGTERM; a case that fails when it
# had died before, does not stop within DS_STOP_WAIT (10) s, or exits with
# non-zero status.
ds_dotsecd_stop() {
	local i=0 rc pid=$DS_PID wait=${DS_STOP_WAIT:-10}
	[ -n "$pid" ] || return 0
	ds_case "dotsecd (run $DS_RUN) alive, stops on SIGTERM with status 0"
	if ! kill -0 "$pid" 2>/dev/null; then
		rc=0
		wait "$pid" 2>/dev/null || rc=$?
		ds_fail "dotsecd (PID $pid) had exited (status $rc) before the end of the test"
		DS_PID=""
		_ds_dotsecd_kill
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null && [ $i -lt $((wait * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		ds_fail "dotsecd (PID $pid) still running ${wait}s after SIGTERM; killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rc=0
	if [ -n "$DS_PID_WRAPPER" ]; then
		# The wrapper (e.g. strace) reports the tracee's status.
		wait "$DS_PID_WRAPPER" 2>/dev/null || rc=$?
	else
		wait "$pid" 2>/dev/null || rc=$?
	fi
	[ "$rc" = 0 ] || ds_fail "dotsecd exited with status $rc after SIGTERM"
	DS_PID=""
	DS_PID_WRAPPER=""
}

# The relay addresses dotsecd logged ("relay listening on ADDR@PORT").
ds_relays() {
	sed -n 's/.*relay listening on \([0-9a-fA-F:.]*@[0-9]*\).*/\1/p' "$DS_STDERR"
}

# ds_wait_stderr REGEX TENTHS: wait until dotsecd's log has a line matching
# REGEX (grep), at most TENTHS tenths of a second.  Fails if none came.
ds_wait_stderr() {
	local i=0
	until grep -q -- "$1" "$DS_STDERR"; do
		[ "$i" -lt "$2" ] || return 1
		sleep 0.1
		i=$((i + 1))
	done
}

# ---------------------------------------------------------------- dig

# ds_dig CASE ARGS...: start a case and run dig against dotsecd with
# +time/+tries bounded and the world's client source address.  The output
# is in DS_OUT, dig's status in DS_DIG_RC.  Every reply is checked for
# dig's warnings (malformed message, question or ID mismatch, RA=0).
ds_dig() {
	ds_case "$1"
	shift
	DS_DIG_START=$(date +%s%N)
	DS_DIG_RC=0
	DS_OUT=$(dig -b "$WORLD_CLIENT_ADDR" @"${DS_ADDR:?dotsecd not started}" \
		-p "$DS_PORT" +time="${DS_DIG_TIME:-5}" +tries=1 "$@" 2>&1) ||
		DS_DIG_RC=$?
	DS_DIG_MS=$((($(date +%s%N) - DS_DIG_START) / 1000000))
	if [ "${DS_VERBOSE:-0}" = 1 ]; then
		printf '%s\n' "$DS_OUT"
	fi
	if [ "$DS_DIG_RC" != 0 ] || ! printf '%s\n' "$DS_OUT" | grep -q '^;; Got answer:'; then
		ds_fail "no reply (dig status $DS_DIG_RC)"
		return 0
	fi
	if printf '%s\n' "$DS_OUT" | grep -qiE '^;; (warning|question section mismatch|.*mismatch)'; then
		ds_fail "dig reports a problem with the reply: $(printf '%s\n' "$DS_OUT" | grep -iE '^;; (warning|.*mismatch)' | head -n 3)"
	fi
	if printf '%s\n' "$DS_OUT" | grep -q '^;; Got answer:' &&
		[ "$(printf '%s\n' "$DS_OUT" | grep -c '^;; Got answer:')" != 1 ]; then
		ds_fail "more than one reply printed (a retry over TCP? use +ignore)"
	fi
}

# Accessors over DS_OUT.
ds_rcode() {
	printf '%s\n' "$DS_OUT" | sed -n 's/.*->>HEADER<<-.* status: \([A-Z0-9]*\),.*/\1/p' | head -n 1
}
ds_flags() {
	printf '%s\n' "$DS_OUT" | sed -n 's/^;; flags:\([^;]*\);.*/\1/p' | head -n 1
}
# ds_count QUERY|ANSWER|AUTHORITY|ADDITIONAL
ds_count() {
	printf '%s\n' "$DS_OUT" | sed -n "s/^;; flags:.* $1: \\([0-9]*\\).*/\\1/p" | head -n 1
}
ds_ede_codes() {
	printf '%s\n' "$DS_OUT" | sed -n 's/^; EDE: \([0-9]*\).*/\1/p'
}
# The EDE option's text, as dig prints it: "; EDE: 22 (No Reachable
# Authority): (TEXT)"; empty when it has none.
ds_ede_text() {
	printf '%s\n' "$DS_OUT" |
		sed -n 's/^; EDE: [0-9]* ([^)]*): (\(.*\))$/\1/p' | head -n 1
}
ds_opt_line() {
	printf '%s\n' "$DS_OUT" | grep '^; EDNS: ' | head -n 1
}
ds_question() {
	printf '%s\n' "$DS_OUT" |
		awk '/^;; QUESTION SECTION:/ { getline; sub(/^;/, ""); print $1; exit }'
}
# ds_section_types ANSWER|AUTHORITY|ADDITIONAL: the RR types of a section.
ds_section_types() {
	printf '%s\n' "$DS_OUT" | awk -v s=";; $1 SECTION:" '
		$0 == s { on = 1; next }
		on && /^$/ { exit }
		on && !/^;/ { print $4 }'
}
ds_section() {
	printf '%s\n' "$DS_OUT" | awk -v s=";; $1 SECTION:" '
		$0 == s { on = 1; next }
		on && /^$/ { exit }
		on { print }'
}

# Assertions: each records a failure of the current case and goes on.
ds_expect_rcode() {
	local r
	r=$(ds_rcode)
	[ "$r" = "$1" ] || ds_fail "rcode $r, expected $1"
}
ds_expect_flag() {
	local f
	for f in "$@"; do
		case " $(ds_flags) " in
		*" $f "*) ;;
		*) ds_fail "flag '$f' not set (flags:$(ds_flags))" ;;
		esac
	done
}
ds_expect_noflag() {
	local f
	for f in "$@"; do
		case " $(ds_flags) " in
		*" $f "*) ds_fail "flag '$f' set, expected clear (flags:$(ds_flags))" ;;
		esac
	done
}
# ds_expect_ede CODE...: exactly one EDE option, with one of the codes.
ds_expect_ede() {
	local got c n
	got=$(ds_ede_codes)
	n=$(printf '%s' "$got" | grep -c . || true)
	if [ "$n" = 0 ]; then
		ds_fail "no EDE option, expected one of: $*"
		return 0
	fi
	[ "$n" = 1 ] || ds_fail "$n EDE options, expected one"
	for c in "$@"; do
		[ "$(printf '%s\n' "$got" | head -n 1)" = "$c" ] && return 0
	done
	ds_fail "EDE $(printf '%s' "$got" | tr '\n' ' '), expected one of: $*"
}
# ds_expect_ede_text TEXT: the EDE option's text is exactly TEXT.
ds_expect_ede_text() {
	local t
	t=$(ds_ede_text)
	[ "$t" = "$1" ] || ds_fail "EDE text '$t', expected '$1'"
}
ds_expect_no_ede() {
	[ -z "$(ds_ede_codes)" ] || ds_fail "unexpected EDE $(ds_ede_codes | tr '\n' ' ')"
}
# ds_expect_opt [SIZE]: the reply has an OPT record (advertising SIZE).
ds_expect_opt() {
	local l
	l=$(ds_opt_line)
	if [ -z "$l" ]; then
		ds_fail "no OPT record in the reply"
		return 0
	fi
	case $l in
	*"version: 0,"*) ;;
	*) ds_fail "OPT is not version 0: $l" ;;
	esac
	if [ $# -gt 0 ]; then
		case $l in
		*"udp: $1") ;;
		*) ds_fail "OPT does not advertise $1: $l" ;;
		esac
	fi
}
ds_expect_no_opt() {
	[ -z "$(ds_opt_line)" ] || ds_fail "OPT record in the reply to a query without EDNS: $(ds_opt_line)"
}
# ds_expect_opt_do / ds_expect_opt_nodo: the DO bit of the reply's OPT.
ds_expect_opt_do() {
	case $(ds_opt_line) in
	*"flags: do"*|*"flags:do"*) ;;
	*) ds_fail "DO not echoed in the reply's OPT: $(ds_opt_line)" ;;
	esac
}
ds_expect_opt_nodo() {
	case $(ds_opt_line) in
	*"flags: do"*|*"flags:do"*) ds_fail "DO set in the reply's OPT, query had DO=0" ;;
	esac
}
ds_expect_ancount() {
	local n
	n=$(ds_count ANSWER)
	[ "$n" = "$1" ] || ds_fail "ANSWER count $n, expected $1"
}
ds_expect_ancount_min() {
	local n
	n=$(ds_count ANSWER)
	[ "${n:-0}" -ge "$1" ] || ds_fail "ANSWER count $n, expected at least $1"
}
# ds_expect_rrsig [SECTION]: an RRSIG in the section (default ANSWER).
ds_expect_rrsig() {
	ds_section_types "${1:-ANSWER}" | grep -qx RRSIG ||
		ds_fail "no RRSIG in the ${1:-ANSWER} section"
}
ds_expect_no_rrsig() {
	! ds_section_types "${1:-ANSWER}" | grep -qx RRSIG ||
		ds_fail "RRSIG in the ${1:-ANSWER} section"
}
# No RRSIG, NSEC or NSEC3 anywhere (DO=0).
ds_expect_no_dnssec_rrs() {
	local s
	for s in ANSWER AUTHORITY ADDITIONAL; do
		if ds_section_types "$s" | grep -qxE 'RRSIG|NSEC|NSEC3'; then
			ds_fail "DNSSEC records in the $s section of a reply to DO=0"
		fi
	done
}
# ds_expect_answer_has TEXT: some line of the answer section contains TEXT.
ds_expect_answer_has() {
	ds_section ANSWER | grep -qF -- "$1" ||
		ds_fail "answer section does not contain '$1'"
}
# ds_expect_question NAME: the reply's question, byte for byte (case).
ds_expect_question() {
	local q
	q=$(ds_question)
	[ "$q" = "$1" ] || ds_fail "question in the reply '$q', expected '$1' (case must be preserved)"
}
# ds_expect_max_ms MS: dig's round trip took at most MS milliseconds.
ds_expect_max_ms() {
	[ "$DS_DIG_MS" -le "$1" ] || ds_fail "reply took ${DS_DIG_MS}ms, limit $1ms"
}

# ---------------------------------------------------------------- cases table

# ds_cases: the validation cases, one per line, fields separated by spaces:
#   LABEL QNAME QTYPE KIND RCODE CD_RCODE DATA EDE
# KIND is secure, insecure or bogus.  RCODE is the answer without CD;
# CD_RCODE the answer with CD=1 (bogus data handed over).  DATA is text
# that the answer section must contain ("-": empty answer).  EDE is the
# comma-separated list of acceptable RFC 8914 codes for a bogus case ("-"
# otherwise).  Why these codes, as observed with Debian 12's libunbound
# 1.17.1 (nettle) and unbound 1.17.1 with "ede: yes" (see test_world.sh):
#   badsig      "ECDSA signature verification failed" (libunbound, nettle);
#               unbound (OpenSSL): "signature crypto failed", EDE 6
#   expired     "signature expired ... for key expired.example. while
#               building chain of trust", EDE 7
#   dsmismatch  "no keys have a DS with algorithm ECDSAP256SHA256 ... for
#               key dsmismatch.example.", EDE 9 (6 accepted, as briefed)
#   nosig       "no signatures", EDE 10
#   nonsec      "no DNSSEC records ... for DS nx.nonsec.example. while
#               building chain of trust", EDE 12 (in unbound's source that
#               reason is only ever given with LDNS_EDE_NSEC_MISSING)
ds_cases() {
	local t=${WORLD_TLD:-example}
	cat <<EOF
sec8-a www.sec8.$t A secure NOERROR NOERROR 192.0.2.8 -
sec8-aaaa www.sec8.$t AAAA secure NOERROR NOERROR 2001:db8::8 -
sec8-txt www.sec8.$t TXT secure NOERROR NOERROR "www.sec8.$t" -
sec8-nxdomain nx.sec8.$t A secure NXDOMAIN NXDOMAIN - -
sec8-nodata www.sec8.$t MX secure NOERROR NOERROR - -
sec8-wildcard foo.wild.sec8.$t A secure NOERROR NOERROR 198.51.100.8 -
sec8-cname cname.sec8.$t A secure NOERROR NOERROR 192.0.2.13 -
sec13-a www.sec13.$t A secure NOERROR NOERROR 192.0.2.13 -
sec13-nxdomain nx.sec13.$t A secure NXDOMAIN NXDOMAIN - -
sec13-nodata www.sec13.$t MX secure NOERROR NOERROR - -
sec13-wildcard foo.wild.sec13.$t A secure NOERROR NOERROR 198.51.100.13 -
sec15-a www.sec15.$t A secure NOERROR NOERROR 192.0.2.15 -
sec15-nxdomain nx.sec15.$t A secure NXDOMAIN NXDOMAIN - -
sec15-nodata www.sec15.$t MX secure NOERROR NOERROR - -
sec15-wildcard foo.wild.sec15.$t A secure NOERROR NOERROR 198.51.100.15 -
nonsec-a-ok www.nonsec.$t A secure NOERROR NOERROR 192.0.2.24 -
nosig-aaaa-ok www.nosig.$t AAAA secure NOERROR NOERROR 2001:db8::25 -
insecure-a www.insecure.$t A insecure NOERROR NOERROR 192.0.2.20 -
insecure-nxdomain nx.insecure.$t A insecure NXDOMAIN NXDOMAIN - -
insecure-nodata www.insecure.$t MX insecure NOERROR NOERROR - -
insecure-wildcard foo.wild.insecure.$t A insecure NOERROR NOERROR 198.51.100.20 -
badsig-a www.badsig.$t A bogus SERVFAIL NOERROR 192.0.2.21 6
expired-a www.expired.$t A bogus SERVFAIL NOERROR 192.0.2.22 7
expired-nxdomain nx.expired.$t A bogus SERVFAIL NXDOMAIN - 7
dsmismatch-a www.dsmismatch.$t A bogus SERVFAIL NOERROR 192.0.2.23 9,6
nosig-a www.nosig.$t A bogus SERVFAIL NOERROR 192.0.2.25 10
nonsec-nxdomain nx.nonsec.$t A bogus SERVFAIL NXDOMAIN - 12
nonsec-nodata www.nonsec.$t MX bogus SERVFAIL NOERROR - 12
EOF
}

# ds_raw SUBCOMMAND ARGS...: run dnsraw.py against dotsecd; each of its
# "CASE<TAB>name<TAB>ok|fail<TAB>detail" lines becomes a case here.
# ds_script_cases PREFIX OUTPUT: one case per "CASE<TAB>name<TAB>ok|fail<TAB>
# detail" line of a helper script's OUTPUT (dnsraw.py, hostile.py), named
# PREFIX followed by the name; the number of them in DS_SCRIPT_CASES.
ds_script_cases() {
	local prefix=$1 line name res detail
	DS_SCRIPT_CASES=0
	while IFS= read -r line; do
		case $line in
		CASE*) ;;
		*) continue ;;
		esac
		IFS=$(printf '\t') read -r _ name res detail <<<"$line"
		ds_case "$prefix$name"
		DS_OUT=""
		[ "$res" = ok ] || ds_fail "$detail"
		DS_SCRIPT_CASES=$((DS_SCRIPT_CASES + 1))
	done <<EOF
$2
EOF
}

ds_raw() {
	local sub=$1 out n
	shift
	out=$(python3 "$DS_SYSTEM_DIR/dnsraw.py" "$sub" "$DS_ADDR" "$DS_PORT" \
		"$WORLD_CLIENT_ADDR" "$@" 2>&1) || true
	ds_script_cases "$sub: " "$out"
	n=$DS_SCRIPT_CASES
	if [ "$n" = 0 ] || printf '%s\n' "$out" | grep -q '^Traceback'; then
		ds_case "$sub: dnsraw.py ran"
		DS_OUT=$out
		ds_fail "dnsraw.py $sub did not run properly"
	fi
}
