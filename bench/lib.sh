# shellcheck shell=bash
#
# bench/lib.sh -- what bench/run.sh and bench/latency.sh share: messages,
# stopping by PID, finding or building dotsecd, the systems under test
# (their configurations and start), the upstream's query log and cache,
# percentiles, and the after-run check.  Sourced after world.sh's
# variables are known to be needed, never run.
#
# The caller sets, before it calls these functions:
#   REPO BENCH_BUILD_DIR BENCH_THREADS BENCH_CACHE_SIZE BENCH_SERVER_CPUS
#   NICE (an array: the command prefix of the system's nice value)
#   BENCH_NICE
# and may set:
#   BENCH_TAG          the prefix of messages [bench]
#   BENCH_UPSTREAMS    the DoT upstreams (addresses, port 853, name
#                      dns.test) every system forwards to
#                      [$WORLD_UPSTREAM_ADDR]
#   BENCH_ROUND_ROBIN  round_robin_upstreams of dotsecd and Stubby; empty:
#                      dotsecd's default (not written), 1 for Stubby
#
# shellcheck disable=SC2154,SC2034 # the variables above and WORLD_*; STOP_RC, SYS_* are read by the caller

SYS_PID=""		# the system under test, while it runs
SYS_ADDR=""
STOP_RC=0

say() {
	printf '%s: %s\n' "${BENCH_TAG:-bench}" "$*" >&2
}

die() {
	printf '%s: FATAL: %s\n' "${BENCH_TAG:-bench}" "$*" >&2
	exit 1
}

# ---------------------------------------------------------------- set-up

need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 ||
			die "'$t' not found (scripts/install-deps.sh --bench installs it)"
	done
}

# warn_deps PROGRAM...: a warning for each program that a fresh machine
# would not get from `scripts/install-deps.sh --bench` (installed by hand
# here); the bench still runs.
warn_deps() {
	local out
	out=$(bash "$REPO/scripts/deps-check.sh" --bench "$@" 2>&1) && return 0
	printf '%s\n' "$out" | sed -n "s/^gap /${BENCH_TAG:-bench}: WARNING: /p; /^deps-check/s/^/${BENCH_TAG:-bench}: WARNING: /p" >&2
}

# stop_pid PID: TERM, up to 10 s, then KILL; sets STOP_RC to its exit
# status (not in a subshell: only this shell can wait for its children).
stop_pid() {
	local pid=$1 i=0 rc=0
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null || rc=$?
		STOP_RC=$rc
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		say "PID $pid still running 10 s after TERM; sending KILL"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || rc=$?
	STOP_RC=$rc
}


# The daemon: $DOTSECD, ./src/dotsecd, or a build of a copy of the
# repository in $BENCH_BUILD_DIR (never configured in the repository
# itself), rebuilt when a source file is newer than the binary.
find_dotsecd() {
	local src=$BENCH_BUILD_DIR/src bin
	if [ -n "${DOTSECD:-}" ]; then
		[ -x "$DOTSECD" ] || die "DOTSECD=$DOTSECD is not executable"
		return 0
	fi
	if [ -x "$REPO/src/dotsecd" ]; then
		DOTSECD=$REPO/src/dotsecd
		return 0
	fi
	bin=$src/src/dotsecd
	if [ -x "$bin" ] && [ -z "$(find "$REPO/src" "$REPO/configure.ac" \
		"$REPO/Makefile.am" -newer "$bin" -print -quit)" ]; then
		DOTSECD=$bin
		return 0
	fi
	say "building dotsecd in $src (log: $BENCH_BUILD_DIR/build.log)"
	mkdir -p "$src" || die "cannot create $src"
	(cd "$REPO" && tar --exclude=./.git --exclude=./bench -cf - .) |
		(cd "$src" && tar xf -) || die "cannot copy $REPO to $src"
	if ! (cd "$src" && { [ -x configure ] && [ -f Makefile ] ||
		{ ./autogen.sh && ./configure; }; } && make -j"$(nproc)") \
		>"$BENCH_BUILD_DIR/build.log" 2>&1; then
		tail -n 30 "$BENCH_BUILD_DIR/build.log" >&2
		die "the build failed; see $BENCH_BUILD_DIR/build.log"
	fi
	DOTSECD=$bin
}

# ---------------------------------------------------------------- queries

# The hot set: answers of every kind from the secure and insecure zones,
# none larger than 1232 bytes (no TC).
hot_names() {
	local t=$WORLD_TLD z
	for z in sec8 sec13 sec15; do
		printf 'www.%s.%s A\nwww.%s.%s AAAA\nwww.%s.%s TXT\nnx.%s.%s A\n' \
			"$z" "$t" "$z" "$t" "$z" "$t" "$z" "$t"
	done
	printf 'www.insecure.%s A\nwww.insecure.%s AAAA\n' "$t" "$t"
	printf 'www.sec8.%s MX\ncname.sec8.%s A\n' "$t" "$t"
}

# ---------------------------------------------------------------- systems

wait_listening() {
	# wait_listening PID ADDR: UDP and TCP port 53 bound, within 20 s.
	local pid=$1 addr=$2 i=0
	while ! { ss -Hlnu "src $addr:53" | grep -q . &&
		ss -Hlnt "src $addr:53" | grep -q .; }; do
		kill -0 "$pid" 2>/dev/null || return 1
		[ $i -lt 200 ] || return 1
		sleep 0.1
		i=$((i + 1))
	done
}

wait_local_answer() {
	# wait_local_answer PID ADDR: any reply to version.bind CH TXT, which
	# dotsecd and Unbound answer themselves (nothing goes upstream).
	local pid=$1 addr=$2 i=0
	while ! dig +time=1 +tries=1 -b "$WORLD_CLIENT_ADDR" @"$addr" \
		version.bind CH TXT >/dev/null 2>&1; do
		kill -0 "$pid" 2>/dev/null || return 1
		[ $i -lt 20 ] || return 1
		i=$((i + 1))
	done
}

# upstream_addrs: the upstreams' addresses, one a line.
upstream_addrs() {
	# shellcheck disable=SC2086 # a list of addresses
	printf '%s\n' ${BENCH_UPSTREAMS:-$WORLD_UPSTREAM_ADDR}
}

# upstream_entries INDENT: the upstreams as getdns-style YAML list items
# (dotsecd and Stubby).
upstream_entries() {
	local a
	for a in $(upstream_addrs); do
		printf '%s- address_data: %s\n%s  tls_port: %s\n%s  tls_auth_name: "%s"\n' \
			"$1" "$a" "$1" "$WORLD_UPSTREAM_PORT" "$1" "$WORLD_AUTH_NAME"
	done
}

conf_dotsec() {
	cat <<EOF
listen_addresses:
  - $1@53
upstream_recursive_servers:
$(upstream_entries "  ")
tls_ca_file: "$WORLD_CA_FILE"
trust_anchor_file: "$WORLD_TA_FILE"
state_dir: "$2"
user: ""
workers: $BENCH_THREADS
cache_size: $BENCH_CACHE_SIZE
prefetch: 1
log_level: notice
EOF
	[ -z "${BENCH_ROUND_ROBIN:-}" ] ||
		printf 'round_robin_upstreams: %s\n' "$BENCH_ROUND_ROBIN"
	[ -z "${BENCH_DOTSEC_EXTRA:-}" ] || printf '%s\n' "$BENCH_DOTSEC_EXTRA"
	[ -z "${BENCH_DOT_PEM:-}" ] ||
		printf 'listen_tls_addresses:\n  - %s@853\ntls_service_pem: "%s"\ntls_service_key: "%s"\n' \
			"$1" "$BENCH_DOT_PEM" "$BENCH_DOT_KEY"
}

# Stubby 0.3 (getdns 1.6): validation on, the test root's key as the only
# trust anchor, and the zero-configuration anchor fetch pointed at a
# loopback port where nothing listens.
conf_stubby() {
	cat <<EOF
resolution_type: GETDNS_RESOLUTION_STUB
dns_transport_list:
  - GETDNS_TRANSPORT_TLS
tls_authentication: GETDNS_AUTHENTICATION_REQUIRED
tls_query_padding_blocksize: 128
round_robin_upstreams: ${BENCH_ROUND_ROBIN:-1}
idle_timeout: 10000
timeout: 5000
limit_outstanding_queries: 0
tls_ca_file: "$WORLD_CA_FILE"
dnssec: GETDNS_EXTENSION_TRUE
dnssec_trust_anchors: "$WORLD_TA_DNSKEY_FILE"
trust_anchors_url: "http://127.0.0.1:9/root-anchors.xml"
appdata_dir: "$2"
listen_addresses:
  - $1@53
upstream_recursive_servers:
$(upstream_entries "  ")
EOF
}

# Unbound as a validating, caching forwarder over DoT, with dotsecd's cache
# sizes, prefetch and aggressive NSEC.
conf_unbound() {
	cat <<EOF
server:
	verbosity: 0
	num-threads: $BENCH_THREADS
	interface-automatic: no
	interface: $1@53
$([ -z "${BENCH_DOT_PEM:-}" ] || printf '\tinterface: %s@853\n\ttls-port: 853\n\ttls-service-pem: "%s"\n\ttls-service-key: "%s"\n' \
		"$1" "$BENCH_DOT_PEM" "$BENCH_DOT_KEY")
	port: 53
	do-ip6: no
	do-not-query-localhost: no
	access-control: 127.0.0.0/8 allow
	username: ""
	chroot: ""
	directory: "$2"
	pidfile: "$2/unbound.pid"
	logfile: "$2/unbound.log"
	use-syslog: no
	module-config: "validator iterator"
	trust-anchor-file: "$WORLD_TA_FILE"
	tls-cert-bundle: "$WORLD_CA_FILE"
	aggressive-nsec: yes
	msg-cache-size: $((BENCH_CACHE_SIZE / 4))
	rrset-cache-size: $((BENCH_CACHE_SIZE / 2))
	key-cache-size: $((BENCH_CACHE_SIZE / 4))
	prefetch: yes
	prefetch-key: yes
	so-reuseport: yes
remote-control:
	control-enable: no
forward-zone:
	name: "."
	forward-tls-upstream: yes
$(for a in $(upstream_addrs); do
		printf '\tforward-addr: %s@%s#%s\n' "$a" "$WORLD_UPSTREAM_PORT" "$WORLD_AUTH_NAME"
	done)
EOF
}

# Knot Resolver 5 as a validating, caching forwarder over DoT
# (policy.TLS_FORWARD, certificates checked against the test CA), the
# test root's key as its only, read-only trust anchor, and dotsecd's
# cache size.  One process (kresd scales by running more of them).
conf_kresd() {
	local a sep=""
	cat <<EOF
net.ipv6 = false
net.listen('$1', 53, { kind = 'dns' })
$([ -z "${BENCH_DOT_PEM:-}" ] || printf "net.listen('%s', 853, { kind = 'tls' })\nnet.tls('%s', '%s')\n" \
		"$1" "$BENCH_DOT_PEM" "$BENCH_DOT_KEY")
cache.open($BENCH_CACHE_SIZE, 'lmdb://$2/cache')
trust_anchors.remove('.')
trust_anchors.add_file('$WORLD_TA_FILE', true)
EOF
	printf 'policy.add(policy.all(policy.TLS_FORWARD({'
	for a in $(upstream_addrs); do
		printf "%s\n\t{'%s@%s', hostname='%s', ca_file='%s'}" "$sep" "$a" \
			"$WORLD_UPSTREAM_PORT" "$WORLD_AUTH_NAME" "$WORLD_CA_FILE"
		sep=","
	done
	printf '\n})))\n'
}

# start_system SYSTEM RUNDIR: start it on its own address, pinned; sets
# SYS_PID and SYS_ADDR.
start_system() {
	local sys=$1 d=$2 cmd=() local_answer=1
	case $sys in
	dotsec)
		SYS_ADDR=$WORLD_NET.10
		mkdir -p "$d/state"
		conf_dotsec "$SYS_ADDR" "$d/state" >"$d/dotsecd.yml"
		cmd=("$DOTSECD" -c "$d/dotsecd.yml")
		;;
	stubby)
		SYS_ADDR=$WORLD_NET.11
		mkdir -p "$d/appdata"
		conf_stubby "$SYS_ADDR" "$d/appdata" >"$d/stubby.yml"
		cmd=(stubby -C "$d/stubby.yml" -v 3)
		local_answer=0
		;;
	unbound)
		SYS_ADDR=$WORLD_NET.12
		conf_unbound "$SYS_ADDR" "$d" >"$d/unbound.conf"
		unbound-checkconf "$d/unbound.conf" >"$d/checkconf.out" 2>&1 ||
			{ cat "$d/checkconf.out" >&2; die "bad unbound.conf"; }
		cmd=(unbound -d -c "$d/unbound.conf")
		;;
	kresd)
		SYS_ADDR=$WORLD_NET.13
		conf_kresd "$SYS_ADDR" "$d" >"$d/kresd.conf"
		cmd=(kresd -n -q -c "$d/kresd.conf" "$d")
		local_answer=0
		;;
	*) die "unknown system '$sys'" ;;
	esac
	if ss -Hlnua "src $SYS_ADDR:53" | grep -q .; then
		die "$SYS_ADDR:53 is already in use"
	fi
	# taskset execs the command: $! is the daemon's own PID.
	"${NICE[@]}" taskset -c "$BENCH_SERVER_CPUS" "${cmd[@]}" >"$d/stderr" 2>&1 &
	SYS_PID=$!
	if ! wait_listening "$SYS_PID" "$SYS_ADDR" ||
		{ [ "$local_answer" = 1 ] &&
			! wait_local_answer "$SYS_PID" "$SYS_ADDR"; }; then
		cat "$d/stderr" >&2
		die "$sys (PID $SYS_PID) did not come up on $SYS_ADDR@53"
	fi
}

# ---------------------------------------------------------------- measures

# upstream_queries_since OFFSET FILE [LOG]: the queries the upstream logged
# (log-queries) from byte OFFSET of its log (default the first upstream's)
# on; their count by type and a sample go to FILE.
upstream_queries_since() {
	tail -c +"$(($1 + 1))" "${3:-$WORLD_UPSTREAM_LOG}" |
		awk -v f="$2" '/ info: / && $NF == "IN" { n++; t[$(NF - 1)]++
			if (n <= 30) s = s $(NF - 2) " " $(NF - 1) "\n" }
		END { for (k in t) printf "%s %d\n", k, t[k] >f
			printf "first queries:\n%s", s >f; print n + 0 }'
}

# log_size [LOG]: the size of an upstream's log (default the first's).
# shellcheck disable=SC2120 # LOG is optional
log_size() {
	stat -c %s "${1:-$WORLD_UPSTREAM_LOG}"
}

# flush_upstream [CONF]: empty an upstream's caches (default the first
# upstream's; CONF is another's unbound.conf) so that each run starts from
# the same state.
# shellcheck disable=SC2120 # CONF is optional
flush_upstream() {
	local c
	for c in "flush_zone ." "flush_infra all" flush_requestlist; do
		if [ -n "${1:-}" ]; then
			# shellcheck disable=SC2086 # a command and its argument
			unbound-control -c "$1" $c >/dev/null 2>&1
		else
			# shellcheck disable=SC2086 # a command and its argument
			world_upstream_ctl $c >/dev/null 2>&1
		fi || die "cannot flush the upstream's cache (unbound-control $c${1:+ -c $1})"
	done
}

# percentiles_ms P...: the P-th percentiles (0 < P <= 1; nearest rank:
# the smallest value with at least P of all at or below it) of the
# microsecond values on stdin, one a line, in milliseconds with three
# decimals, on one line; "-" for each when there are no values.
percentiles_ms() {
	LC_ALL=C sort -n | awk -v ps="$*" '{ v[NR] = $1 }
		END {
			np = split(ps, p, " ")
			for (k = 1; k <= np; k++) {
				if (NR == 0) { out = out (k > 1 ? " " : "") "-"; continue }
				r = p[k] * NR
				r = (r > int(r)) ? int(r) + 1 : int(r)
				if (r < 1) r = 1
				out = out (k > 1 ? " " : "") sprintf("%.3f", v[r] / 1000)
			}
			print out
		}'
}

# latency_pcts VERBOSE_OUTPUT: "p50_ms p99_ms" from dnsperf -v's
# "> RCODE NAME TYPE SECONDS" lines (microsecond resolution).
latency_pcts() {
	awk '$1 == ">" && NF == 5 && $5 ~ /^[0-9.]+$/ {
		printf "%d\n", $5 * 1000000 + 0.5 }' "$1" | percentiles_ms 0.50 0.99
}

# The verdicts still right after the run: a secure answer with AD, a bogus
# one SERVFAIL.
check_system() {
	local addr=$1 out
	out=$(dig +dnssec +time=3 +tries=1 -b "$WORLD_CLIENT_ADDR" @"$addr" \
		"www.sec13.$WORLD_TLD" A 2>&1)
	printf '%s\n' "$out" | grep -q 'status: NOERROR' || { echo "no NOERROR"; return; }
	printf '%s\n' "$out" | grep -q '^;; flags:.* ad[ ;]' || { echo "no AD"; return; }
	out=$(dig +dnssec +time=6 +tries=1 -b "$WORLD_CLIENT_ADDR" @"$addr" \
		"www.badsig.$WORLD_TLD" A 2>&1)
	printf '%s\n' "$out" | grep -q 'status: SERVFAIL' || { echo "bogus not SERVFAIL"; return; }
	echo ok
}

# renice_world: the world's processes (and NSD's children) get BENCH_NICE.
renice_world() {
	local pid kid gkid
	[ -n "$BENCH_NICE" ] || return 0
	for pid in $WORLD_PIDS; do
		renice -n "$BENCH_NICE" -p "$pid" >/dev/null 2>&1 || true
		for kid in $(ps -o pid= --ppid "$pid"); do
			renice -n "$BENCH_NICE" -p "$kid" >/dev/null 2>&1 || true
			for gkid in $(ps -o pid= --ppid "$kid"); do
				renice -n "$BENCH_NICE" -p "$gkid" >/dev/null 2>&1 ||
					true
			done
		done
	done
}
