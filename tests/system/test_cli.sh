#!/usr/bin/env bash
# test_cli.sh -- dotsecd's command line and configuration check, and
# listening on IPv4 and IPv6 over UDP and TCP with two workers.  Needs no
# DNS world: the queries used (CH class) are answered by dotsecd itself.
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
ds_init
ds_require_dotsecd

dir=$(mktemp -d "${TMPDIR:-/tmp}/dotsec-cli.XXXXXX")
anchor=${abs_top_srcdir:-$DS_SYSTEM_DIR/../..}/trust-anchors/root.key
pid=""
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup_cli() {
	[ -z "$pid" ] || kill "$pid" 2>/dev/null || true
	rm -rf "$dir"
}
# shellcheck disable=SC2317 # the EXIT trap
cli_on_exit() {
	local rc=$?
	set +e
	cleanup_cli
	# _ds_on_exit judges by $?: hand it the script's own status.
	(exit "$rc")
	_ds_on_exit
}
trap cli_on_exit EXIT

# run_cli ARGS...: run dotsecd; CLI_OUT and CLI_RC keep output and status.
CLI_OUT=""
CLI_RC=0
run_cli() {
	CLI_RC=0
	CLI_OUT=$("$DOTSECD" "$@" 2>&1) || CLI_RC=$?
	DS_OUT=$CLI_OUT
}

ds_case "-V prints the version, exit 0"
run_cli -V
[ "$CLI_RC" = 0 ] || ds_fail "status $CLI_RC"
[[ $CLI_OUT == "dotsecd "[0-9]* ]] || ds_fail "no version"

ds_case "--help prints usage, exit 0"
run_cli --help
[ "$CLI_RC" = 0 ] || ds_fail "status $CLI_RC"
[[ $CLI_OUT == *"-t"* && $CLI_OUT == *"-c"* ]] || ds_fail "no usage text"

ds_case "an unknown option: usage, exit 1"
run_cli --no-such-option
[ "$CLI_RC" = 1 ] || ds_fail "status $CLI_RC"

port=$((20000 + RANDOM % 20000))
cat >"$dir/good.yml" <<CONF
listen_addresses:
  - 127.0.0.1@$port
  - ::1@$port
upstream_recursive_servers:
  - address_data: 127.0.0.1
    tls_port: 1
    tls_auth_name: "dns.invalid"
trust_anchor_file: $anchor
state_dir: $dir/state
user: ""
timeout: 1000
workers: 2
CONF

ds_case "-t on a valid file: exit 0"
run_cli -t -c "$dir/good.yml"
[ "$CLI_RC" = 0 ] || ds_fail "status $CLI_RC"
[[ $CLI_OUT == *valid* ]] || ds_fail "no verdict printed"

ds_case "-t -C (Stubby's flag) on a valid file: exit 0"
run_cli -t -C "$dir/good.yml"
[ "$CLI_RC" = 0 ] || ds_fail "status $CLI_RC"

cat >"$dir/bad.yml" <<CONF
listen_addresses:
  - 127.0.0.1@$port
no_such_key: 1
trust_anchor_file: $anchor
timeout: soon
dns_transport_list:
  - GETDNS_TRANSPORT_UDP
  - GETDNS_TRANSPORT_TLS
CONF
ds_case "-t on a bad file: every error with its line, exit 1"
run_cli -t -c "$dir/bad.yml"
[ "$CLI_RC" = 1 ] || ds_fail "status $CLI_RC"
[[ $CLI_OUT == *"bad.yml:3:"*no_such_key* ]] ||
	ds_fail "unknown key not reported at line 3"
[[ $CLI_OUT == *"bad.yml:5:"*timeout* ]] ||
	ds_fail "bad type not reported at line 5"
[[ $CLI_OUT == *"bad.yml:"[67]":"*dns_transport_list* ]] ||
	ds_fail "clear-text transport not refused at line 6 or 7"

sed "s|^trust_anchor_file: .*|trust_anchor_file: $dir/none.key|" \
	"$dir/good.yml" >"$dir/noanchor.yml"
ds_case "-t with a missing trust anchor file: names it, exit 1"
run_cli -t -c "$dir/noanchor.yml"
[ "$CLI_RC" = 1 ] || ds_fail "status $CLI_RC"
[[ $CLI_OUT == *"$dir/none.key"* ]] || ds_fail "file not named"

ds_case "a missing configuration file: names it, exit 1"
run_cli -c "$dir/missing.yml"
[ "$CLI_RC" = 1 ] || ds_fail "status $CLI_RC"
[[ $CLI_OUT == *"$dir/missing.yml"* ]] || ds_fail "file not named"

# The daemon itself, two workers, on IPv4 and IPv6 loopback.
"$DOTSECD" -c "$dir/good.yml" >"$dir/stderr" 2>&1 &
pid=$!
world_register_log "$dir/stderr" "dotsecd stderr"
up=0
for _ in $(seq 1 50); do
	if dig +time=1 +tries=1 @127.0.0.1 -p "$port" version.bind CH TXT \
		>/dev/null 2>&1; then
		up=1
		break
	fi
	sleep 0.1
done
ds_case "dotsecd starts and answers on 127.0.0.1@$port"
[ "$up" = 1 ] || ds_fail "no answer within 5 s"

for addr in 127.0.0.1 ::1; do
	for proto in +notcp +tcp; do
		ds_case "CH query on $addr $proto -> REFUSED"
		DS_OUT=$(dig +time=2 +tries=1 "$proto" @"$addr" -p "$port" \
			version.bind CH TXT 2>&1) || true
		[[ $DS_OUT == *"status: REFUSED"* ]] || ds_fail "no REFUSED"
	done
done

ds_case "SIGTERM: exit 0 within 10 s"
kill -TERM "$pid"
rc=0
for _ in $(seq 1 100); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
	ds_fail "still running after 10 s"
else
	wait "$pid" || rc=$?
	[ "$rc" = 0 ] || ds_fail "exit status $rc"
fi
pid=""

ds_finish
