#!/bin/bash
# test_dot_resolved.sh -- a real DoT client nobody here wrote: Debian's
# systemd-resolved with DNSOverTLS=yes, pointed at dotsecd's DoT listener
# (listen_tls_addresses) by address, port and name, resolves through it.
#
# resolved runs privately: the binary
# from the systemd-resolved package that scripts/install-deps.sh
# downloads (never installed: it would take over /etc/resolv.conf),
# unpacked into the world's directory and started in a mount namespace
# of its own (unshare -m) with a private /run, its own resolved.conf, a
# passwd entry for systemd-resolve, and the world's CA as the system's CA
# bundle.  Its stub listens on a world address (DNSStubListenerExtra).
# Checks:
#  - through resolved's stub: www.sec13 A is the world's address; the
#    bogus www.badsig is SERVFAIL (dotsecd validated and refused it);
#  - dotsecd's query log shows those queries arriving over DoT (dot), and
#    its stats count TLS handshakes and DoT queries;
#  - with a wrong name in DNS=...#NAME, resolved (strict DoT) gets no
#    answer through dotsecd's listener.
#
# Run: DOTSECD=/path/to/dotsecd bash tests/system/test_dot_resolved.sh
set -eu
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

DEB_DIR=${DOTSEC_RESOLVED_DEB_DIR:-/var/cache/dotsec/debs}

ds_init
ds_require_dotsecd
ds_require unshare dpkg-deb openssl
deb=$(ls "$DEB_DIR"/systemd-resolved_*.deb 2>/dev/null | head -n 1 || true)
[ -n "$deb" ] || ds_die "no systemd-resolved package in $DEB_DIR: run scripts/install-deps.sh (it downloads it, and does not install it)"
world_start

T=$WORLD_TLD
D=$WORLD_DIR/resolved
mkdir -p "$D/root" "$D/run" "$D/etc"
dpkg-deb -x "$deb" "$D/root"
RESOLVED=$D/root/lib/systemd/systemd-resolved
[ -x "$RESOLVED" ] || ds_die "no systemd-resolved in $deb"
NAME=dot.test
DOT_PORT=8853
STUB=$WORLD_NET.31

# The listener's certificate, from the world's CA.
printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n' "$NAME" >"$D/svc.ext"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$D/svc.key" -out "$D/svc.csr" -subj "/CN=$NAME" 2>/dev/null
openssl x509 -req -in "$D/svc.csr" -CA "$WORLD_CA_FILE" \
	-CAkey "${WORLD_CA_FILE%.pem}.key" -set_serial 77 -days 30 \
	-extfile "$D/svc.ext" -out "$D/svc.pem" 2>/dev/null
chmod 600 "$D/svc.key"

ds_dotsecd_start extra="listen_tls_addresses:
  - $WORLD_DOTSECD_ADDR@$DOT_PORT
tls_service_pem: \"$D/svc.pem\"
tls_service_key: \"$D/svc.key\"
query_log: \"$D/queries.log\""

RPID=""
stop_resolved() {
	[ -n "$RPID" ] || return 0
	kill "$RPID" 2>/dev/null || true
	wait "$RPID" 2>/dev/null || true
	RPID=""
}

# start_resolved AUTH_NAME: resolved in its own mount namespace, forwarding
# over DoT to dotsecd's listener, authenticated as AUTH_NAME.
start_resolved() {
	stop_resolved
	cat >"$D/etc/resolved.conf" <<EOF
[Resolve]
DNS=$WORLD_DOTSECD_ADDR:$DOT_PORT#$1
Domains=~.
FallbackDNS=
DNSOverTLS=yes
DNSSEC=no
Cache=no
LLMNR=no
MulticastDNS=no
DNSStubListener=no
DNSStubListenerExtra=$STUB:53
EOF
	cp /etc/passwd "$D/etc/passwd"
	cp /etc/group "$D/etc/group"
	grep -q '^systemd-resolve:' "$D/etc/passwd" ||
		echo 'systemd-resolve:x:64990:64990::/run/systemd:/usr/sbin/nologin' >>"$D/etc/passwd"
	grep -q '^systemd-resolve:' "$D/etc/group" ||
		echo 'systemd-resolve:x:64990:' >>"$D/etc/group"
	printf 'nameserver %s\n' "$STUB" >"$D/etc/resolv.conf"
	: >"$D/resolved.log"
	world_register_log "$D/resolved.log" "systemd-resolved"
	unshare -m --propagation private sh -c '
		set -e
		d=$1
		mount -t tmpfs tmpfs /run
		mkdir -p /run/systemd/resolved.conf.d
		cp "$d/etc/resolved.conf" /run/systemd/resolved.conf.d/dotsec.conf
		mount --bind "$d/etc/passwd" /etc/passwd
		mount --bind "$d/etc/group" /etc/group
		mount --bind "$d/etc/resolv.conf" /etc/resolv.conf
		mount --bind "$2" /etc/ssl/certs/ca-certificates.crt
		SYSTEMD_LOG_LEVEL=debug SYSTEMD_LOG_TARGET=console exec "$3"
	' sh "$D" "$WORLD_CA_FILE" "$RESOLVED" >"$D/resolved.log" 2>&1 &
	RPID=$!
	local i=0
	until grep -q "Using DNS server\|Switching to system DNS server" "$D/resolved.log" ||
		ss -Hlnu "src $STUB:53" | grep -q .; do
		kill -0 "$RPID" 2>/dev/null || ds_die "systemd-resolved exited at start; see its log below"
		[ $i -lt 100 ] || ds_die "systemd-resolved not listening on $STUB:53 after 10 s"
		sleep 0.1
		i=$((i + 1))
	done
	i=0
	until ss -Hlnu "src $STUB:53" | grep -q .; do
		[ $i -lt 100 ] || ds_die "systemd-resolved not listening on $STUB:53 after 10 s"
		sleep 0.1
		i=$((i + 1))
	done
}

# rdig CASE NAME TYPE: ask resolved's stub.
rdig() {
	ds_case "$1"
	DS_OUT=$(dig -b "$WORLD_CLIENT_ADDR" @"$STUB" +time=8 +tries=1 "$2" "$3" 2>&1) || true
}

start_resolved "$NAME"

rdig "resolved (DNSOverTLS=yes) -> dotsecd's DoT: www.sec13 A" "www.sec13.$T" A
want=$(dig -b "$WORLD_CLIENT_ADDR" @"$DS_ADDR" -p "$DS_PORT" +short "www.sec13.$T" A)
printf '%s\n' "$DS_OUT" | grep -q 'status: NOERROR' || ds_fail "not NOERROR"
[ -n "$want" ] && [ "$(printf '%s\n' "$DS_OUT" | awk '$4 == "A" { print $5 }' | head -n 1)" = "$want" ] ||
	ds_fail "not the address dotsecd gives over UDP ($want)"

rdig "resolved -> dotsecd: www.badsig A is SERVFAIL (validated by dotsecd)" "www.badsig.$T" A
printf '%s\n' "$DS_OUT" | grep -q 'status: SERVFAIL' || ds_fail "not SERVFAIL"

ds_case "dotsecd's query log: resolved's queries arrived over DoT"
DS_OUT=$(cat "$D/queries.log" 2>/dev/null || true)
grep -q " dot www.sec13.$T\. " "$D/queries.log" || ds_fail "no DoT query for www.sec13"
grep -q " dot www.badsig.$T\. " "$D/queries.log" || ds_fail "no DoT query for www.badsig"

ds_case "dotsecd counted resolved's handshake and DoT queries"
DS_OUT=$("$(dirname "$DOTSECD")/dotsec-control" -s "$DS_CTL" stats 2>&1) || true
printf '%s\n' "$DS_OUT" | grep -q '^dotsec_tls_handshakes_total [1-9]' || ds_fail "no handshake counted"
printf '%s\n' "$DS_OUT" | grep -q '^dotsec_queries_total{transport="tls"} [1-9]' || ds_fail "no DoT query counted"

start_resolved wrong.test
rdig "resolved with DNS=...#wrong.test: strict DoT refuses dotsecd's certificate, no answer" "www.sec8.$T" A
! printf '%s\n' "$DS_OUT" | grep -q 'status: NOERROR' || ds_fail "answered though the name does not match"
! grep -q " dot www.sec8.$T\. " "$D/queries.log" || ds_fail "the query reached dotsecd"

stop_resolved
ds_dotsecd_stop
ds_finish
