#!/bin/sh
# Install, on Debian 12, everything dotsec needs to build, to run and to
# run its whole test suite (the system tests start NSD and unbound on
# loopback and drive them with dig and kdig).  Run as root.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
	build-essential autoconf automake pkg-config ca-certificates \
	libgetdns-dev libunbound-dev libssl-dev libevent-dev libyaml-dev \
	libexpat1-dev nettle-dev libsystemd-dev check \
	nsd unbound unbound-host bind9-utils bind9-dnsutils knot-dnsutils \
	ldnsutils openssl python3 strace iproute2 procps diffutils \
	systemd
# systemd: systemd-socket-activate for the socket activation test.
# nettle-dev: libunbound.pc requires nettle and hogweed, which Debian's
# libunbound-dev does not pull in.
# The Debian packages start their own unbound/NSD where systemd runs;
# the tests start private instances and need nothing from those.
