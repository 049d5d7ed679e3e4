#!/bin/bash
# tests/docker/check.sh -- build the container image from the Dockerfile and
# run it against the local signed test world (tests/system/world.sh).
#
# No Docker engine runs here: podman (with runc) builds and runs the
# image, on a throwaway Debian 12 base made with debootstrap from the
# machine's own apt mirror (read from the apt sources at run time).  All of
# podman's storage lives in one temporary directory; nothing in /etc is
# changed.  Needs root and the system tests' tools (scripts/install-deps.sh);
# installs podman, runc and debootstrap when they are missing.
#
# The container runs with --network=host (so it reaches the world's DoT
# upstream on loopback), --read-only, and a configuration mounted over
# /etc/dotsec that listens on a free 127.x.y.z address, port 53.  Checks:
#   - the image has a HEALTHCHECK, a numeric non-root USER and the VOLUME
#   - dotsecd starts, as uid 10053 (podman exec id -u, podman top, and the
#     host's view of the process), with cap_net_bind_service as its only
#     effective capability, and binds port 53
#   - the state volume /var/lib/dotsec is writable by that user, and
#     dotsec-anchor show reads the trust anchor state dotsecd keeps there
#   - a secure name: NOERROR with AD (UDP and TCP)
#   - a bogus name (www.badsig.example): SERVFAIL with an EDE
#   - the image's HEALTHCHECK command passes (podman healthcheck run)
#   - the image's own configuration is valid (dotsecd -t in the image)
#   - podman stop: dotsecd (PID 1) exits with status 0
# Prints "docker: N passed, M failed" and exits 0 only when all passed.  On
# failure it prints the container's log and the world's logs.  Everything
# it made (container, images, storage) and started is removed on exit.
#
# Environment: DOCKER_CHECK_KEEP=1 keeps the temporary directory (and the
# world's) for a post-mortem.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/system/world.sh
. "$TOP/tests/system/world.sh"

PATH="$PATH:/usr/sbin:/sbin"
NAME=dotsec-check
BASE=localhost/dotsec-check-base:bookworm
IMAGE=localhost/dotsec:check
W=""
P=()
PASS=0
FAIL=0
CONTAINER_MADE=0
NAME2=dotsec-check-bridge
BRIDGE_MADE=0
T0=$(date +%s)

say() { printf 'docker: %s\n' "$*"; }
ok() { PASS=$((PASS + 1)); say "ok: $*"; }
bad() { FAIL=$((FAIL + 1)); say "FAILED: $*"; }

die() {
	say "FATAL: $*"
	FAIL=$((FAIL + 1))
	exit 1
}

podman_() { podman "${P[@]}" "$@"; }

# What podman leaves on the host outside $W: its blob cache and network
# run directory, and netavark's firewall chains and IPv4 forwarding (the
# default network of the build's RUN steps and of the published-port run).
# Whatever was not there before this script is removed again at exit.
HOST_SAVED=0
host_state_save() {
	local d
	HOST_NEW_DIRS=""
	for d in /var/lib/containers /run/containers; do
		[ -e "$d" ] || HOST_NEW_DIRS="$HOST_NEW_DIRS $d"
	done
	HOST_FORWARD=$(cat /proc/sys/net/ipv4/ip_forward 2>/dev/null)
	HOST_FW_CLEAN=""
	for t in iptables ip6tables; do
		command -v "$t" >/dev/null 2>&1 || continue
		{ "$t" -t nat -S; "$t" -t filter -S; } 2>/dev/null | grep -q NETAVARK ||
			HOST_FW_CLEAN="$HOST_FW_CLEAN $t"
	done
	HOST_SAVED=1
}

# Delete the NETAVARK chains of one table, and the rules that jump to them.
netavark_fw_clean() {
	local t=$1 tab line c
	for tab in nat filter; do
		"$t" -t "$tab" -S 2>/dev/null | grep -E '^-A [^ ]+ .*-j NETAVARK' |
			grep -v '^-A NETAVARK' | while IFS= read -r line; do
			eval "\"\$t\" -t \"\$tab\" -D ${line#-A }"
		done
		for c in $("$t" -t "$tab" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^NETAVARK/ { print $2 }'); do
			"$t" -t "$tab" -F "$c" 2>/dev/null
		done
		for c in $("$t" -t "$tab" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^NETAVARK/ { print $2 }'); do
			"$t" -t "$tab" -X "$c" 2>/dev/null
		done
	done
}

host_state_restore() {
	local d t
	[ "$HOST_SAVED" = 1 ] || return 0
	for t in $HOST_FW_CLEAN; do
		netavark_fw_clean "$t"
	done
	if [ -n "$HOST_FORWARD" ] &&
		[ "$(cat /proc/sys/net/ipv4/ip_forward)" != "$HOST_FORWARD" ]; then
		echo "$HOST_FORWARD" >/proc/sys/net/ipv4/ip_forward
	fi
	for d in $HOST_NEW_DIRS; do
		rm -rf "$d"
	done
}

on_exit() {
	local rc=$? m
	trap - EXIT
	if [ "$FAIL" -ne 0 ] || [ "$rc" -ne 0 ]; then
		if [ "$CONTAINER_MADE" = 1 ]; then
			say "container log:"
			podman_ logs "$NAME" 2>&1 | sed 's/^/  | /'
		fi
		if [ "$BRIDGE_MADE" = 1 ]; then
			say "container log ($NAME2, default network):"
			podman_ logs "$NAME2" 2>&1 | sed 's/^/  | /'
		fi
		[ -n "${WORLD_DIR:-}" ] && world_dump_logs
	fi
	if [ -n "$W" ]; then
		if [ "$CONTAINER_MADE" = 1 ]; then
			podman_ rm -f -t 2 "$NAME" >/dev/null 2>&1
		fi
		if [ "$BRIDGE_MADE" = 1 ]; then
			podman_ rm -f -t 2 "$NAME2" >/dev/null 2>&1
		fi
		podman_ rmi -f "$IMAGE" "$BASE" >/dev/null 2>&1
		# The storage holds only what this script made.
		podman_ system reset -f >/dev/null 2>&1
		# Unmount whatever podman left mounted under $W, deepest first.
		for m in $(findmnt -rn -o TARGET | grep -F "$W/" | sort -r); do
			umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		done
		if [ "${DOCKER_CHECK_KEEP:-0}" = 1 ]; then
			say "kept $W"
		else
			rm -rf "$W"
		fi
	fi
	host_state_restore
	world_stop
	say "took $(($(date +%s) - T0)) s"
	[ "$FAIL" -eq 0 ] && [ "$rc" -eq 0 ] || rc=1
	say "$PASS passed, $FAIL failed"
	exit "$rc"
}
trap on_exit EXIT
trap 'exit 1' INT TERM HUP
[ "${DOCKER_CHECK_KEEP:-0}" = 1 ] && export WORLD_KEEP=1

[ "$(id -u)" = 0 ] || die "needs root (podman storage, port 53)"

# ------------------------------------------------------------ tools
need=()
for t in podman runc debootstrap; do
	command -v "$t" >/dev/null 2>&1 || need+=("$t")
done
if [ ${#need[@]} -gt 0 ]; then
	say "installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q "${need[@]}" >"${TMPDIR:-/tmp}/dotsec-docker-apt.log" 2>&1 ||
		{ apt-get update -q && apt-get install -y -q "${need[@]}"; } \
		>>"${TMPDIR:-/tmp}/dotsec-docker-apt.log" 2>&1 ||
		{ tail -n 20 "${TMPDIR:-/tmp}/dotsec-docker-apt.log"; die "apt-get install ${need[*]} failed"; }
	rm -f "${TMPDIR:-/tmp}/dotsec-docker-apt.log"
fi
for t in dig kdig ss findmnt; do
	command -v "$t" >/dev/null 2>&1 || die "required program '$t' not found"
done

W=$(mktemp -d "${TMPDIR:-/tmp}/dotsec-docker.XXXXXX") || die "mktemp failed"
chmod 0755 "$W"
# podman's defaults fail here: crun rejects hybrid cgroups, and raising
# rlimits is not permitted.  Use runc and the existing hard limits; keep
# every file of podman's under $W.
mkdir -p "$W/tmp"
cat >"$W/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=32768:32768"]
[engine]
runtime = "runc"
tmp_dir = "$W/tmp"
events_logger = "file"
[network]
network_config_dir = "$W/networks"
EOF
export CONTAINERS_CONF=$W/containers.conf
P=(--root "$W/storage" --runroot "$W/run")
host_state_save

# ------------------------------------------------------------ base image
MIRROR=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
	MIRROR=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
fi
if [ -z "$MIRROR" ] && [ -f /etc/apt/sources.list ]; then
	MIRROR=$(awk '$1 == "deb" && $2 !~ /^\[/ { print $2; exit }' /etc/apt/sources.list)
fi
[ -n "$MIRROR" ] || die "no Debian mirror found in the apt sources"
say "debootstrap (minbase, bookworm)"
t=$(date +%s)
debootstrap --variant=minbase bookworm "$W/rootfs" "$MIRROR" \
	>"$W/debootstrap.log" 2>&1 ||
	{ tail -n 30 "$W/debootstrap.log"; die "debootstrap failed"; }
rm -rf "$W"/rootfs/var/cache/apt/archives/*.deb "$W"/rootfs/var/lib/apt/lists/* \
	"$W/rootfs/etc/apt/sources.list"
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
	cp /etc/apt/sources.list.d/debian.sources "$W/rootfs/etc/apt/sources.list.d/"
else
	cp /etc/apt/sources.list "$W/rootfs/etc/apt/sources.list"
fi
tar -C "$W/rootfs" -c . | podman_ import --change 'CMD ["/bin/bash"]' - "$BASE" \
	>"$W/import.log" 2>&1 ||
	{ cat "$W/import.log"; die "podman import of the base image failed"; }
rm -rf "$W/rootfs"
say "base image made in $(($(date +%s) - t)) s"

# ------------------------------------------------------------ build
say "podman build (compiles dotsec and runs its unit tests)"
t=$(date +%s)
if ! podman_ build --format docker --build-arg "BASE_IMAGE=$BASE" \
	-t "$IMAGE" -f "$TOP/Dockerfile" "$TOP" >"$W/build.log" 2>&1; then
	tail -n 80 "$W/build.log"
	die "podman build failed"
fi
say "image built in $(($(date +%s) - t)) s"

hc=$(podman_ image inspect --format '{{json .Config.Healthcheck}}' "$IMAGE")
if [[ $hc == *kdig*version.bind* ]]; then
	ok "the image has a HEALTHCHECK: $hc"
else
	bad "no HEALTHCHECK in the image (podman inspect: $hc)"
fi
user=$(podman_ image inspect --format '{{.Config.User}}' "$IMAGE")
if [[ $user =~ ^[1-9][0-9]*(:[0-9]+)?$ ]]; then
	ok "the image's USER is numeric and not root: $user"
else
	bad "the image's USER is '$user', not a numeric non-root uid"
fi
vol=$(podman_ image inspect --format '{{json .Config.Volumes}}' "$IMAGE")
if [[ $vol == *'"/var/lib/dotsec"'* ]]; then
	ok "the image declares VOLUME /var/lib/dotsec"
else
	bad "no VOLUME /var/lib/dotsec in the image ($vol)"
fi
if out=$(podman_ run --rm --network=none --no-healthcheck "$IMAGE" -t 2>&1); then
	ok "the image's own configuration is valid: $out"
else
	bad "dotsecd -t on the image's configuration: $out"
fi

# ------------------------------------------------------------ world
world_start
ADDR=$WORLD_DOTSECD_ADDR

# The container's user must read these: not under $WORLD_DIR (mode 0700).
C=$W/etc-dotsec
mkdir -p "$C"
cp "$WORLD_CA_FILE" "$C/ca.pem"
cp "$WORLD_TA_FILE" "$C/root.ds"
cat >"$C/dotsecd.yml" <<EOF
listen_addresses:
  - $ADDR@53
upstream_recursive_servers:
  - address_data: $WORLD_UPSTREAM_ADDR
    tls_port: $WORLD_UPSTREAM_PORT
    tls_auth_name: "$WORLD_AUTH_NAME"
tls_ca_file: /etc/dotsec/ca.pem
trust_anchor_file: /etc/dotsec/root.ds
timeout: 3000
workers: 1
log_level: info
EOF
chmod 0755 "$C"
chmod 0644 "$C"/*

# ------------------------------------------------------------ run
# No --init: dotsecd is PID 1 and must handle SIGTERM itself.  No systemd
# runs here to time the health checks: the check below runs it by hand.
CONTAINER_MADE=1
if ! podman_ run -d --name "$NAME" --network=host --read-only \
	--health-interval=disable \
	-v "$C:/etc/dotsec:ro" -e "DOTSEC_HEALTH_ADDR=$ADDR" \
	"$IMAGE" >"$W/run.out" 2>&1; then
	cat "$W/run.out"
	die "podman run failed"
fi

running() {
	[ "$(podman_ inspect --format '{{.State.Running}}' "$NAME" 2>/dev/null)" = true ]
}

# Up: any reply to version.bind CH TXT (dotsecd answers REFUSED itself).
up=0
for _ in $(seq 1 60); do
	if dig +time=1 +tries=1 @"$ADDR" version.bind CH TXT >/dev/null 2>&1; then
		up=1
		break
	fi
	running || break
	sleep 0.5
done
podman_ logs "$NAME" >"$W/container.log" 2>&1
[ "$up" = 1 ] || die "dotsecd in the container did not answer on $ADDR@53 within 30 s"
ok "dotsecd in the container answers on $ADDR@53"

# Non-root: inside the container, in podman top, and seen from the host.
uid=$(podman_ exec "$NAME" id -u 2>&1)
if [ "$uid" = 10053 ]; then
	ok "podman exec id -u: $uid"
else
	bad "podman exec id -u gave '$uid', not 10053"
fi
top=$(podman_ top "$NAME" user huser args 2>&1)
if printf '%s\n' "$top" | awk 'NR > 1 && /dotsecd/ { f = 1; if ($1 == "root" || $1 == "0") r = 1 }
	END { exit !(f && !r) }'; then
	ok "podman top: dotsecd runs as $(printf '%s\n' "$top" | awk 'NR > 1 && /dotsecd/ { print $1 "/" $2; exit }')"
else
	bad "podman top does not show dotsecd as a non-root user:"
	printf '%s\n' "$top" | sed 's/^/  | /'
fi
pid=$(podman_ inspect --format '{{.State.Pid}}' "$NAME")
huid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
capeff=$(awk '/^CapEff:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
nnp=$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
seccomp=$(awk '/^Seccomp:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
comm=$(cat "/proc/$pid/comm" 2>/dev/null)
if [ "$comm" = dotsecd ] && [ "$huid" = 10053 ]; then
	ok "host PID $pid ($comm) has uid $huid"
else
	bad "host PID $pid: comm '$comm', uid '$huid' (expected dotsecd, 10053)"
fi
# CAP_NET_BIND_SERVICE, from the file capability, bound port 53 above as
# uid 10053; once bound, the sandbox drops it with every other one, and
# the process runs with no new privileges under its seccomp filter.
if [ "$capeff" = 0000000000000000 ]; then
	ok "effective capabilities after start-up: none ($capeff)"
else
	bad "effective capabilities $capeff, expected 0000000000000000 (the sandbox drops them)"
fi
if [ "$nnp" = 1 ] && [ "$seccomp" = 2 ]; then
	ok "sandboxed in the container: NoNewPrivs $nnp, Seccomp $seccomp"
else
	bad "not sandboxed in the container: NoNewPrivs '$nnp', Seccomp '$seccomp'"
fi

# The state volume (the managed trust anchor) is writable by dotsecd's user
# under --read-only.
# shellcheck disable=SC2016 # expanded by the container's shell
if out=$(podman_ exec "$NAME" sh -c 'f=/var/lib/dotsec/.write-test && : >"$f" && rm "$f" && ls -A /var/lib/dotsec' 2>&1); then
	ok "VOLUME /var/lib/dotsec is writable by uid 10053 (holds: $(printf '%s' "$out" | tr '\n' ' '))"
else
	bad "VOLUME /var/lib/dotsec is not writable by uid 10053: $out"
fi

if out=$(podman_ exec "$NAME" dotsec-anchor show -s /var/lib/dotsec 2>&1); then
	ok "dotsec-anchor show in the container reads the state:"
	printf '%s\n' "$out" | sed 's/^/  | /'
else
	bad "dotsec-anchor show -s /var/lib/dotsec in the container failed:"
	printf '%s\n' "$out" | sed 's/^/  | /'
fi

# A secure name, over UDP and TCP.
for tr in +notcp +tcp; do
	out=$(dig +dnssec +time=5 +tries=1 "$tr" @"$ADDR" "www.$WORLD_ZONE_SEC8" A 2>&1)
	if [[ $out == *"status: NOERROR"* ]] &&
		printf '%s\n' "$out" | grep -q '^;; flags:.* ad[ ;]' &&
		printf '%s\n' "$out" | grep -q "^www\.$WORLD_ZONE_SEC8\..*IN[[:space:]]*A[[:space:]]*192\.0\.2\.8"; then
		ok "www.$WORLD_ZONE_SEC8 A ($tr): NOERROR, AD, 192.0.2.8"
	else
		bad "www.$WORLD_ZONE_SEC8 A ($tr): expected NOERROR with AD and 192.0.2.8:"
		printf '%s\n' "$out" | sed 's/^/  | /'
	fi
done

# A bogus name: SERVFAIL with an Extended DNS Error.
out=$(dig +dnssec +time=5 +tries=1 @"$ADDR" "www.$WORLD_ZONE_BADSIG" A 2>&1)
if [[ $out == *"status: SERVFAIL"* ]] && [[ $out =~ EDE:\ [0-9]+ ]]; then
	ok "www.$WORLD_ZONE_BADSIG A: SERVFAIL, $(printf '%s\n' "$out" | grep -m1 -o 'EDE: .*')"
else
	bad "www.$WORLD_ZONE_BADSIG A: expected SERVFAIL with an EDE:"
	printf '%s\n' "$out" | sed 's/^/  | /'
fi

# The image's HEALTHCHECK command, run by podman in the container.
if out=$(podman_ healthcheck run "$NAME" 2>&1); then
	ok "podman healthcheck run: healthy ${out}"
else
	bad "podman healthcheck run failed: $out"
fi

# podman stop sends SIGTERM (STOPSIGNAL); dotsecd must exit 0 in time.
t=$(date +%s)
podman_ stop -t 10 "$NAME" >/dev/null 2>&1
podman_ logs "$NAME" >"$W/container.log" 2>&1
code=$(podman_ inspect --format '{{.State.ExitCode}}' "$NAME")
dt=$(($(date +%s) - t))
if [ "$code" = 0 ] && [ "$dt" -lt 10 ] && grep -q 'stopped' "$W/container.log"; then
	ok "podman stop: exit status 0 after ${dt} s"
else
	bad "podman stop: exit status '$code' after ${dt} s (expected 0, under 10 s, and 'stopped' in the log)"
fi

# ------------------------------------------------------------ published port
# As the Dockerfile's header runs it: the default (bridge) network, the port
# published on 127.0.0.1 only, so queries arrive from the network's gateway.
# The image's own access_control must let them in: an answer other than
# REFUSED proves it.  The upstream is this container's own loopback, where
# nothing listens (so nothing leaves the machine): SERVFAIL with EDE 22.
# The HEALTHCHECK runs with its defaults (127.0.0.1, port 53).
PORT=""
for _ in $(seq 1 50); do
	p=$((20000 + RANDOM % 30000))
	if ! ss -Hlntu "sport = :$p" | grep -q .; then
		PORT=$p
		break
	fi
done
[ -n "$PORT" ] || die "no free port on 127.0.0.1"
C2=$W/etc-dotsec-bridge
mkdir -p "$C2"
cp "$C/root.ds" "$C2/root.ds"
cp "$C/ca.pem" "$C2/ca.pem"
{
	printf 'listen_addresses:\n  - 0.0.0.0@53\n'
	# The image's access_control, as shipped.
	awk '/^access_control:/ { on = 1; print; next }
		on && /^[[:space:]]+-/ { print; next } { on = 0 }' \
		"$TOP/deploy/container/dotsecd.yml"
	cat <<EOF
upstream_recursive_servers:
  - address_data: 127.0.0.1
    tls_auth_name: "$WORLD_AUTH_NAME"
tls_ca_file: /etc/dotsec/ca.pem
trust_anchor_file: /etc/dotsec/root.ds
timeout: 2000
workers: 1
log_level: info
EOF
} >"$C2/dotsecd.yml"
chmod 0755 "$C2"
chmod 0644 "$C2"/*
grep -q '^access_control:' "$C2/dotsecd.yml" ||
	bad "no access_control in deploy/container/dotsecd.yml"
BRIDGE_MADE=1
if ! podman_ run -d --name "$NAME2" --read-only --health-interval=disable \
	-p "127.0.0.1:$PORT:53/udp" -p "127.0.0.1:$PORT:53/tcp" \
	-v "$C2:/etc/dotsec:ro" "$IMAGE" >"$W/run2.out" 2>&1; then
	cat "$W/run2.out"
	die "podman run on the default network failed"
fi
up=0
for _ in $(seq 1 60); do
	if dig +time=1 +tries=1 -p "$PORT" @127.0.0.1 version.bind CH TXT >/dev/null 2>&1; then
		up=1
		break
	fi
	[ "$(podman_ inspect --format '{{.State.Running}}' "$NAME2" 2>/dev/null)" = true ] || break
	sleep 0.5
done
if [ "$up" = 1 ]; then
	ok "published on 127.0.0.1:$PORT (default network): dotsecd answers"
	for tr in +notcp +tcp; do
		out=$(dig +time=5 +tries=1 "$tr" -p "$PORT" @127.0.0.1 "www.$WORLD_ZONE_SEC8" A 2>&1)
		if [[ $out == *"status: SERVFAIL"* ]] && [[ $out == *"EDE: 22"* ]]; then
			ok "published port ($tr): let in by the image's access_control (SERVFAIL, EDE 22: no upstream here)"
		else
			bad "published port ($tr): expected SERVFAIL with EDE 22 (REFUSED: access_control shut the gateway out):"
			printf '%s\n' "$out" | sed 's/^/  | /'
		fi
	done
	if out=$(podman_ healthcheck run "$NAME2" 2>&1); then
		ok "podman healthcheck run with the image's defaults: healthy ${out}"
	else
		bad "podman healthcheck run ($NAME2) failed: $out"
	fi
else
	bad "published on 127.0.0.1:$PORT (default network): no answer within 30 s"
fi
podman_ stop -t 10 "$NAME2" >/dev/null 2>&1
code=$(podman_ inspect --format '{{.State.ExitCode}}' "$NAME2")
if [ "$code" = 0 ]; then
	ok "podman stop ($NAME2): exit status 0"
else
	bad "podman stop ($NAME2): exit status '$code'"
fi
