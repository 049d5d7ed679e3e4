#!/bin/sh
# Install, on Debian 12, everything dotsec needs to build, to run and to
# run its whole test suite (`make check`: the system tests start NSD and
# unbound on loopback and drive them with dig, kdig and dnsperf).  Run as
# root.  `install-deps.sh --bench` also installs what bench/run.sh and
# bench/latency.sh run against (the peers, perf, iptables).  `--list
# [--bench]` prints the packages, one a line, and installs nothing
# (scripts/deps-check.sh reads that list).
set -eu

# systemd: systemd-socket-activate for the socket activation test.
# nettle-dev: libunbound.pc requires nettle and hogweed, which Debian's
# libunbound-dev does not pull in.
# dnsperf: the load cases of test_speed.sh.
# libseccomp-dev: optional for the build (configure --with-seccomp=auto
# uses it when found), installed so that dotsecd gets the filter.
# The Debian packages start their own unbound/NSD where systemd runs;
# the tests start private instances and need nothing from those.
PACKAGES="
build-essential autoconf automake pkg-config ca-certificates
libgetdns-dev libunbound-dev libssl-dev libevent-dev libyaml-dev
libexpat1-dev nettle-dev libsystemd-dev libseccomp-dev check
nsd unbound unbound-host bind9-utils bind9-dnsutils knot-dnsutils
ldnsutils openssl python3 strace iproute2 procps diffutils
systemd dnsperf
"

# bench/run.sh: the peers it measures, taskset (util-linux), perf for
# BENCH_PERF profiles.  bench/latency.sh: Knot Resolver as a fourth peer,
# iptables for the DoT leg's NFQUEUE and DROP rules in its namespace, and
# libnetfilter-queue-dev to build bench/nfdelay.c.
BENCH_PACKAGES="stubby unbound util-linux linux-perf knot-resolver iptables
libnetfilter-queue-dev"
bench=0

list=0
for a in "$@"; do
	case $a in
	--list) list=1 ;;
	--bench) PACKAGES="$PACKAGES $BENCH_PACKAGES"; bench=1 ;;
	*) echo "usage: $0 [--list] [--bench]" >&2; exit 2 ;;
	esac
done
if [ "$list" = 1 ]; then
	for p in $PACKAGES; do echo "$p"; done
	exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $PACKAGES
# systemd-resolved: downloaded, never installed (installing it would take
# over /etc/resolv.conf); tests/system/test_dot_resolved.sh unpacks it and
# runs it privately as a DoT client of dotsecd.
mkdir -p /var/cache/dotsec/debs
(cd /var/cache/dotsec/debs && rm -f systemd-resolved_*.deb &&
	apt-get download systemd-resolved)
# knot-resolver enables a system resolver of its own where systemd runs;
# the bench starts private instances and needs none.
if [ "$bench" = 1 ]; then
	systemctl disable --now kresd@1.service kres-cache-gc.service 2>/dev/null || true
fi
