# dotsecd in a container: a DNSSEC-validating DNS-over-TLS stub proxy.
#
#   docker build -t dotsec .
#   docker run -d --name dotsec -p 127.0.0.1:53:53/udp -p 127.0.0.1:53:53/tcp dotsec
#   dig +dnssec @127.0.0.1 example.com
#
# Publish the port on 127.0.0.1 (as above) or on a trusted network only,
# never on an address reachable from the Internet: the image's
# configuration lets every private address ask (access_control), since a
# published port reaches the container from its network's gateway.
#
# The daemon runs as the non-root user dotsec (uid 10053); the binary
# carries the file capability cap_net_bind_service, which is all it needs to
# bind port 53 (the configuration's user: key applies only to a daemon
# started as root).  Its configuration is /etc/dotsec/dotsecd.yml (from
# deploy/container/dotsecd.yml: 0.0.0.0@53, private networks allowed,
# Quad9 and Cloudflare over IPv4); mount another file there to change it.
# The HEALTHCHECK asks dotsecd for version.bind CH TXT (it answers REFUSED
# itself: any reply means alive) on $DOTSEC_HEALTH_ADDR port
# $DOTSEC_HEALTH_PORT (127.0.0.1 and 53 unless the configuration listens
# elsewhere).
#
# BASE_IMAGE lets a locally made Debian 12 image stand in for
# debian:bookworm-slim (see tests/docker/check.sh).
ARG BASE_IMAGE=debian:bookworm-slim

############################################################### build stage
FROM ${BASE_IMAGE} AS build
ARG DEBIAN_FRONTEND=noninteractive
# The -dev packages named in scripts/install-deps.sh (so that a new library
# needs no edit here), without the servers and tools that only the system
# tests need; libcap2-bin for setcap.  nettle-dev: libunbound.pc requires
# nettle and hogweed, but Debian 12's libunbound-dev does not depend on it.
COPY scripts/install-deps.sh /tmp/install-deps.sh
RUN set -e; \
	dev=$(grep -oE '[a-z0-9][a-z0-9.+]*(-[a-z0-9.+]+)*-dev' /tmp/install-deps.sh | sort -u); \
	echo "-dev packages of install-deps.sh:" $dev; \
	apt-get update; \
	apt-get install -y --no-install-recommends \
		build-essential autoconf automake pkg-config ca-certificates \
		check nettle-dev libcap2-bin $dev; \
	rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .
# Only the unit tests: the system tests need root, NSD and unbound.  Then
# the Debian packages that hold the shared libraries the installed
# programs load: the runtime stage installs those and nothing else.
RUN set -e; \
	./autogen.sh; \
	./configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var; \
	make -j"$(nproc)"; \
	if ! make check TESTS=tests/unit/check_dotsec; then \
		cat tests/unit/check_dotsec.log; exit 1; \
	fi; \
	make install DESTDIR=/staging; \
	setcap cap_net_bind_service=+ep /staging/usr/sbin/dotsecd; \
	getcap /staging/usr/sbin/dotsecd | grep -q cap_net_bind_service; \
	for b in /staging/usr/sbin/*; do ldd "$b"; done | \
		awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u | \
		while read -r lib; do \
			dpkg -S "$lib" 2>/dev/null || dpkg -S "/usr$lib" 2>/dev/null || \
			dpkg -S "${lib#/usr}"; \
		done | cut -d: -f1 | sort -u >/runtime-packages; \
	echo "runtime packages:" $(cat /runtime-packages); \
	grep -qx libgetdns10 /runtime-packages

############################################################# runtime stage
FROM ${BASE_IMAGE}
ARG DEBIAN_FRONTEND=noninteractive
# The runtime libraries found above (libgetdns10, libunbound8, libevent,
# libyaml, libssl3, ...), ca-certificates for the upstreams' certificates,
# knot-dnsutils (kdig, under 2 MB with its libraries) for the HEALTHCHECK
# and for debugging.
COPY --from=build /runtime-packages /tmp/runtime-packages
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
	$(cat /tmp/runtime-packages) ca-certificates knot-dnsutils \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages \
 && groupadd --system --gid 10053 dotsec \
 && useradd --system --uid 10053 --gid dotsec --no-create-home \
	--home-dir /var/lib/dotsec --shell /usr/sbin/nologin dotsec \
 && install -d -o dotsec -g dotsec -m 0750 /var/lib/dotsec \
 && install -d -m 0755 /etc/dotsec /usr/share/dotsec /usr/share/doc/dotsec

# dotsecd and dotsec-anchor (shows the managed trust anchor's state:
# dotsec-anchor show -s /var/lib/dotsec), root.key and the CA of the RFC 7958
# bootstrap.  COPY keeps the file capability (the security.capability
# attribute) set in the build stage; tests/docker/check.sh proves that
# dotsecd binds port 53 as uid 10053.
COPY --from=build /staging/usr/sbin/ /usr/sbin/
COPY --from=build /staging/usr/share/dotsec/ /usr/share/dotsec/
COPY --from=build /staging/etc/dotsecd.yml /usr/share/doc/dotsec/dotsecd.yml.example
COPY deploy/container/dotsecd.yml /etc/dotsec/dotsecd.yml
RUN set -e; \
	if ldd /usr/sbin/dotsecd | grep -F 'not found'; then exit 1; fi; \
	/usr/sbin/dotsecd -V; \
	/usr/sbin/dotsecd -t -c /etc/dotsec/dotsecd.yml; \
	[ "$(stat -c %u /usr/sbin/dotsecd)" = 0 ]

# State that the trust-anchor manager will keep (RFC 5011); unused so far.
VOLUME /var/lib/dotsec
WORKDIR /var/lib/dotsec

# 853: DNS-over-TLS, once listen_tls_addresses and a certificate are set
# in a mounted configuration (README.md, "Deployment").
EXPOSE 53/udp 53/tcp 853/tcp

# Numeric, so that Kubernetes' runAsNonRoot can check it.
USER 10053:10053

ENV DOTSEC_HEALTH_ADDR=127.0.0.1 DOTSEC_HEALTH_PORT=53
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
	CMD kdig +time=2 +retry=0 @"$DOTSEC_HEALTH_ADDR" -p "$DOTSEC_HEALTH_PORT" version.bind CH TXT >/dev/null || exit 1

# dotsecd stops cleanly (exit 0) on SIGTERM, also as PID 1.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/sbin/dotsecd", "-c", "/etc/dotsec/dotsecd.yml"]
