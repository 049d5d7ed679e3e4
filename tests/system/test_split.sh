#!/bin/bash
# test_split: routing by domain.  Forward zones (a plain-DNS one, DoT ones
# with their own CA and trust anchors), negative trust anchors, the
# special-use names dotsecd answers itself, changes by SIGHUP and
# include_dir under a query stream, the NetworkManager dispatcher script,
# bad forward_zones input, and real clients (glibc, Python) in a private
# mount namespace whose /etc/resolv.conf names dotsecd.
#
# The corporate servers (world_start_corp) answer corp.example (unsigned;
# bogus when validated from the root), vault.internal (signed, its own DS)
# and broken.internal (signed, www A's RRSIG corrupted).  Their logs and
# the default upstream's say which server saw which name.

. "$(dirname "$0")/lib.sh"
ds_init
ds_require_dotsecd
ds_require unshare mount getent
world_start
world_start_corp

CORP=$WORLD_CORP_ZONE
VAULT=$WORLD_VAULT_ZONE
BROKEN=$WORLD_BROKEN_ZONE
INC=$WORLD_DIR/conf.d
mkdir -p "$INC"

# zones_conf CORP_DNSSEC: the forward zones and negative trust anchors of
# the main configuration.
zones_conf() {
	cat <<EOF
include_dir: "$INC"
forward_zones:
  - name: $CORP
    transport: plain
    dnssec: $1
    upstream_recursive_servers:
      - address_data: $WORLD_CORPPLAIN_ADDR
  - name: $VAULT
    tls_ca_file: "$WORLD_CORP_CA_FILE"
    upstream_recursive_servers:
      - address_data: $WORLD_CORPDOT_ADDR
        tls_auth_name: "$WORLD_CORP_AUTH_NAME"
    trust_anchors:
      - "$WORLD_VAULT_DS"
  - name: $BROKEN
    tls_ca_file: "$WORLD_CORP_CA_FILE"
    upstream_recursive_servers:
      - address_data: $WORLD_CORPDOT_ADDR
        tls_auth_name: "$WORLD_CORP_AUTH_NAME"
    trust_anchors:
      - "$WORLD_BROKEN_DS"
domain_insecure:
  - $WORLD_ZONE_BADSIG
EOF
}

# served_names LOG: the names a server was asked, one a line, lower case.
served_names() {
	awk '/ info: / && $NF == "IN" { print tolower($(NF-2)) }' "$1"
}

# names_outside LOG ZONE...: the names in LOG not at or below any ZONE.
names_outside() {
	local log=$1
	shift
	served_names "$log" | while read -r n; do
		local z ok=0
		for z in "$@"; do
			case $n in "$z." | *".$z.") ok=1 ;; esac
		done
		[ "$ok" = 1 ] || printf '%s\n' "$n"
	done
}

# names_inside LOG ZONE...: the names in LOG at or below any ZONE.
names_inside() {
	local log=$1 z
	shift
	for z in "$@"; do
		served_names "$log" | grep -E "(^|\.)${z//./\\.}\.$" || true
	done
}

# upstream_total: every query the default upstream was asked so far.
upstream_total() {
	served_names "$WORLD_UPSTREAM_LOG" | wc -l
}

ds_dotsecd_start workers=2 "extra=$(zones_conf insecure)
metrics_address: $WORLD_DOTSECD_ADDR@9153"

# ------------------------------------------------------------ forward zones

ds_dig "plain forward zone: answered by its server, no AD" "www.$CORP" A +dnssec
ds_expect_rcode NOERROR
ds_expect_answer_has 192.0.2.80
ds_expect_noflag ad

ds_dig "plain forward zone over TCP" "www.$CORP" AAAA +tcp
ds_expect_rcode NOERROR
ds_expect_answer_has 2001:db8::80

ds_dig "plain forward zone with CD=1 (the resolver path)" "x.wild.$CORP" A +cd +dnssec
ds_expect_rcode NOERROR
ds_expect_answer_has 198.51.100.80
ds_expect_noflag ad

ds_dig "DoT forward zone, own CA, own trust anchor: AD" "www.$VAULT" A +dnssec
ds_expect_rcode NOERROR
ds_expect_answer_has 192.0.2.81
ds_expect_flag ad

ds_dig "DoT forward zone, own trust anchor, broken signature: SERVFAIL + EDE" "www.$BROKEN" A +dnssec
ds_expect_rcode SERVFAIL
ds_expect_ede 6

ds_dig "domain_insecure: bogus data answered, AD=0" "www.$WORLD_ZONE_BADSIG" A +dnssec
ds_expect_rcode NOERROR
ds_expect_answer_has 192.0.2.21
ds_expect_noflag ad

ds_dig "a name with no route of its own: default upstream, AD" "www.$WORLD_ZONE_SEC8" A +dnssec
ds_expect_rcode NOERROR
ds_expect_flag ad

ds_dig "CD=1 outside the forward zones: default upstream" "www.$WORLD_ZONE_SEC13" A +cd
ds_expect_rcode NOERROR
ds_expect_answer_has 192.0.2.13

ds_dig "DS of a forward zone's apex goes where its parent goes" "$CORP" DS +dnssec
ds_expect_rcode NXDOMAIN

ds_case "the plain server saw only names of its zone (UDP, TCP, CD=1, libunbound's fetches)"
out=$(names_outside "$WORLD_CORPPLAIN_LOG" "$CORP")
[ -z "$out" ] || ds_fail "the plain server was asked: $(echo $out)"
[ "$(names_inside "$WORLD_CORPPLAIN_LOG" "$CORP" | grep -c .)" -ge 3 ] ||
	ds_fail "the plain server saw fewer than 3 queries of its zone"

ds_case "the DoT zone server saw only names of its zones"
out=$(names_outside "$WORLD_CORPDOT_LOG" "$VAULT" "$BROKEN" "$CORP")
[ -z "$out" ] || ds_fail "the corporate DoT server was asked: $(echo $out)"
names_inside "$WORLD_CORPDOT_LOG" "$VAULT" | grep -qx "$VAULT." ||
	ds_fail "no DNSKEY query of $VAULT reached its own server"

ds_case "the default upstream saw no forward-zone name"
out=$(names_inside "$WORLD_UPSTREAM_LOG" "$VAULT" "$BROKEN"; served_names "$WORLD_UPSTREAM_LOG" | grep -E "(^|\.)${CORP//./\\.}\.$" | grep -vx "$CORP." || true)
[ -z "$out" ] || ds_fail "the default upstream was asked: $(echo $out)"

ds_case "-t lists the forward zones, with a warning for the plain one"
out=$("$DOTSECD" -t -c "$DS_CONF" 2>&1)
grep -q "warning: forward zone $CORP\..*transport plain" <<<"$out" ||
	ds_fail "no warning for the plain zone: $out"
grep -q "forward zone $VAULT\..*DNS-over-TLS" <<<"$out" ||
	ds_fail "the DoT zone is not listed: $out"
grep -q "negative trust anchor $WORLD_ZONE_BADSIG" <<<"$out" ||
	ds_fail "the negative trust anchor is not listed: $out"

ds_case "the plain zone is warned about at start"
grep -q "forward zone $CORP\..*clear text" "$DS_STDERR" ||
	ds_fail "no warning in dotsecd's log"
ds_case "the negative trust anchor is logged at start"
grep -q "negative trust anchor $WORLD_ZONE_BADSIG\." "$DS_STDERR" ||
	ds_fail "no line for $WORLD_ZONE_BADSIG in dotsecd's log"

# ------------------------------------------------------------ special-use names

before=$(upstream_total)
ds_dig "localhost A" localhost A
ds_expect_rcode NOERROR
ds_expect_answer_has 127.0.0.1
ds_dig "a name below localhost, AAAA" www.localhost AAAA
ds_expect_rcode NOERROR
ds_expect_answer_has ::1
ds_dig "localhost MX: no data" localhost MX
ds_expect_rcode NOERROR
ds_expect_ancount 0
for n in x.invalid www.test x.onion nas.home.arpa; do
	ds_dig "$n: NXDOMAIN" "$n" A
	ds_expect_rcode NXDOMAIN
done
# (dig warns about any .local name it is asked to send: kdig does not)
ds_case "printer.local: NXDOMAIN"
DS_OUT=$(kdig -b "$WORLD_CLIENT_ADDR" @"$DS_ADDR" +time=5 +retry=0 printer.local A 2>&1)
grep -q 'status: NXDOMAIN' <<<"$DS_OUT" || ds_fail "not NXDOMAIN"
ds_dig "RFC 1918 reverse: NXDOMAIN with the zone's SOA" 4.3.2.10.in-addr.arpa PTR
ds_expect_rcode NXDOMAIN
ds_section AUTHORITY | grep -q '^10\.in-addr\.arpa\..*SOA' ||
	ds_fail "no SOA of 10.in-addr.arpa in the authority section"
for n in 1.1.168.192.in-addr.arpa 7.16.172.in-addr.arpa 1.254.169.in-addr.arpa \
	1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.e.f.ip6.arpa \
	1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa; do
	ds_dig "RFC 6303 zone: $n" "$n" PTR
	ds_expect_rcode NXDOMAIN
done
ds_dig "PTR of 127.0.0.1" 1.0.0.127.in-addr.arpa PTR
ds_expect_rcode NOERROR
ds_expect_answer_has localhost.
ds_dig "PTR of ::1" 1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa PTR
ds_expect_rcode NOERROR
ds_expect_answer_has localhost.
ds_dig "10.in-addr.arpa SOA at the apex" 10.in-addr.arpa SOA
ds_expect_rcode NOERROR
ds_expect_answer_has "localhost. nobody.invalid."
ds_case "special-use names sent nothing upstream"
[ "$(upstream_total)" = "$before" ] ||
	ds_fail "the default upstream got $(($(upstream_total) - before)) queries"
out=$(served_names "$WORLD_UPSTREAM_LOG" | grep -E 'localhost|invalid\.$|test\.$|onion\.$|local\.$|home\.arpa\.$|in-addr\.arpa\.$|ip6\.arpa\.$' || true)
[ -z "$out" ] || ds_fail "the default upstream was asked: $(echo $out)"
ds_dig "example. stays an ordinary name (RFC 6761 6.5)" "$WORLD_TLD" SOA +dnssec
ds_expect_rcode NOERROR
ds_expect_flag ad

ds_case "/metrics counts each forward zone's queries, the plain one labelled so, and the local answers"
DS_OUT=$(world_dotsecd_metrics)
n=$(awk -v m="dotsec_forward_queries_total{zone=\"$CORP.\",transport=\"plain\"}" '$1 == m { print $2 }' <<<"$DS_OUT")
[ "${n:-0}" -ge 2 ] || ds_fail "plain zone queries: '${n:-none}'"
n=$(awk -v m="dotsec_forward_queries_total{zone=\"$VAULT.\",transport=\"tls\"}" '$1 == m { print $2 }' <<<"$DS_OUT")
[ "${n:-0}" -ge 1 ] || ds_fail "DoT zone queries: '${n:-none}'"
n=$(awk '$1 == "dotsec_local_answers_total" { print $2 }' <<<"$DS_OUT")
[ "${n:-0}" -ge 15 ] || ds_fail "local answers: '${n:-none}'"

# ------------------------------------------------------------ real clients

resolv=$WORLD_DIR/resolv.conf
hosts=$WORLD_DIR/hosts
printf 'nameserver %s\noptions trust-ad\n' "$DS_ADDR" >"$resolv"
printf '# no localhost here: it must come from dotsecd\n' >"$hosts"
# in_ns CMD...: CMD in a private mount namespace whose /etc/resolv.conf
# names dotsecd and whose /etc/hosts is empty; the host's stay untouched.
in_ns() {
	unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf &&
		mount --bind "$2" /etc/hosts && shift 2 && exec "$@"' \
		sh "$resolv" "$hosts" "$@"
}
for n in "www.$WORLD_ZONE_SEC8:192.0.2.8" "www.$CORP:192.0.2.80" "localhost:127.0.0.1"; do
	ds_case "glibc getent ahosts ${n%%:*}"
	DS_OUT=$(in_ns getent ahosts "${n%%:*}" 2>&1) || ds_fail "getent failed"
	grep -q "^${n#*:} " <<<"$DS_OUT" || ds_fail "no ${n#*:}"
	ds_case "Python getaddrinfo ${n%%:*}"
	DS_OUT=$(in_ns python3 -c 'import socket, sys
print(" ".join(sorted({a[4][0] for a in socket.getaddrinfo(sys.argv[1], 53)})))' "${n%%:*}" 2>&1) ||
		ds_fail "getaddrinfo failed"
	grep -qw "${n#*:}" <<<"$DS_OUT" || ds_fail "no ${n#*:}"
done
# ad_seen NAME: the AD bit of glibc's res_query answer for NAME A, as an
# application sees it (glibc clears it unless resolv.conf trusts the
# server: options trust-ad).
ad_seen() {
	in_ns python3 -c 'import ctypes, sys
r = ctypes.CDLL("libresolv.so.2")
buf = ctypes.create_string_buffer(4096)
n = r.res_query(sys.argv[1].encode(), 1, 1, buf, 4096)
if n < 12:
    sys.exit("res_query failed")
print("ad=%d" % ((buf.raw[3] >> 5) & 1))' "$1"
}
ds_case "AD reaches an application with options trust-ad"
DS_OUT=$(ad_seen "www.$WORLD_ZONE_SEC8" 2>&1)
[ "$DS_OUT" = ad=1 ] || ds_fail "got '$DS_OUT', expected ad=1"
ds_case "... and not for an insecure forward zone"
DS_OUT=$(ad_seen "www.$CORP" 2>&1)
[ "$DS_OUT" = ad=0 ] || ds_fail "got '$DS_OUT', expected ad=0"
ds_case "... and glibc clears it without trust-ad"
printf 'nameserver %s\n' "$DS_ADDR" >"$resolv"
DS_OUT=$(ad_seen "www.$WORLD_ZONE_SEC8" 2>&1)
[ "$DS_OUT" = ad=0 ] || ds_fail "got '$DS_OUT', expected ad=0"
ds_case "the host's /etc/resolv.conf was not touched"
grep -q "$DS_ADDR" /etc/resolv.conf && ds_fail "/etc/resolv.conf names dotsecd"

# ------------------------------------------------------------ changes without restart

# A query stream of names whose route never changes, running through
# every reload below: each reply must be NOERROR.
stream_log=$WORLD_DIR/stream.log
stream_stop=$WORLD_DIR/stream.stop
(
	while [ ! -e "$stream_stop" ]; do
		for n in "www.$WORLD_ZONE_SEC8 A" "www.$WORLD_ZONE_SEC13 AAAA" "www.$VAULT A" "www.$CORP A"; do
			# shellcheck disable=SC2086
			s=$(dig -b "$WORLD_CLIENT_ADDR" @"$DS_ADDR" +time=2 +tries=1 $n |
				sed -n 's/.*status: \([A-Z]*\),.*/\1/p')
			printf '%s %s\n' "$n" "${s:-TIMEOUT}" >>"$stream_log"
		done
		sleep 0.05
	done
) &
stream_pid=$!
world_register_pid "$stream_pid"
sleep 1

# hup_and_wait: SIGHUP, and wait for the reload's log line.
hup_and_wait() {
	local n
	n=$(grep -c 'reloaded' "$DS_STDERR")
	kill -HUP "$DS_PID"
	local i=0
	while [ "$(grep -c 'reloaded' "$DS_STDERR")" -le "$n" ]; do
		[ $i -lt 100 ] || { ds_fail "no 'reloaded' line after SIGHUP"; return; }
		sleep 0.1
		i=$((i + 1))
	done
	sleep 0.5	# the workers take the new configuration
}

ins=$WORLD_ZONE_INSECURE
ds_dig "before the include: $ins from the default upstream" "www.$ins" A
ds_expect_answer_has 192.0.2.20
up_before=$(upstream_total)
plain_before=$(names_inside "$WORLD_CORPPLAIN_LOG" "$ins" | grep -c . || true)

cat >"$INC/lab.yml" <<EOF
forward_zones:
  - name: $ins
    transport: plain
    upstream_recursive_servers:
      - address_data: $WORLD_CORPPLAIN_ADDR
EOF
hup_and_wait
ds_dig "include_dir + SIGHUP: the new zone's name goes to its server" "www.$ins" A
ds_expect_rcode NOERROR
ds_expect_answer_has 192.0.2.20
ds_case "... its cached answer was dropped: the plain server was asked"
[ "$(names_inside "$WORLD_CORPPLAIN_LOG" "$ins" | grep -c .)" -gt "$plain_before" ] ||
	ds_fail "the plain server did not see www.$ins"
ds_case "... and the new zone is logged as plain"
grep -q "forward zone $ins\..*lab.yml.*clear text" "$DS_STDERR" ||
	ds_fail "no warning naming $INC/lab.yml"

rm "$INC/lab.yml"
hup_and_wait
plain_mid=$(names_inside "$WORLD_CORPPLAIN_LOG" "$ins" | grep -c .)
ds_dig "include removed + SIGHUP: back on the default upstream" "www.$ins" A
ds_expect_rcode NOERROR
ds_case "... the plain server saw nothing more of it"
[ "$(names_inside "$WORLD_CORPPLAIN_LOG" "$ins" | grep -c .)" = "$plain_mid" ] ||
	ds_fail "the plain server was asked again"

# A reload with dnssec: validate for the corporate zone, which the signed
# example. says does not exist (bogus), and home.arpa sent upstream.
ds_dotsecd_conf "$DS_CONF.new" workers=2 "extra=$(zones_conf validate)
local_zones_disable:
  - home.arpa"
sed -i "s|^state_dir: .*|$(grep '^state_dir:' "$DS_CONF")|" "$DS_CONF.new"
mv "$DS_CONF.new" "$DS_CONF"
hup_and_wait
ds_dig "dnssec: validate on a zone the root does not delegate: SERVFAIL + EDE" "www.$CORP" A +dnssec
ds_expect_rcode SERVFAIL
ds_dig "... so dnssec: insecure is what answers it" "www.$VAULT" A +dnssec
ds_expect_rcode NOERROR
ds_expect_flag ad
# (The upstream answers it from its own built-in home.arpa. zone, which
# the signed test root denies: bogus.  What counts is who was asked.)
ds_dig "local_zones_disable: home.arpa is no longer answered by dotsecd" nas.home.arpa A +dnssec
ds_expect_noflag aa
ds_case "... but by the default upstream, through libunbound"
served_names "$WORLD_UPSTREAM_LOG" | grep -qx 'nas.home.arpa.' ||
	ds_fail "the default upstream was not asked for nas.home.arpa"

touch "$stream_stop"
wait "$stream_pid" 2>/dev/null
ds_case "no failed query for names whose route did not change"
bad=$(grep -v "$CORP A" "$stream_log" | grep -vc ' NOERROR$' || true)
total=$(grep -vc "$CORP A" "$stream_log" || true)
[ "$total" -ge 20 ] || ds_fail "only $total queries in the stream"
[ "$bad" = 0 ] || ds_fail "$bad of $total failed: $(grep -v "$CORP A" "$stream_log" | grep -v ' NOERROR$' | sort | uniq -c | tr '\n' ' ')"
ds_case "their answers stayed cached: no new upstream query for them"
out=$(awk -v from="$up_before" '/ info: / && $NF == "IN" { n++; if (n > from) print tolower($(NF-2)) }' "$WORLD_UPSTREAM_LOG" |
	grep -E "^www\.(${WORLD_ZONE_SEC8//./\\.}|${WORLD_ZONE_SEC13//./\\.})\.$" || true)
[ -z "$out" ] || ds_fail "asked upstream again: $(echo $out)"

# ------------------------------------------------------------ NetworkManager

# The dispatcher script, run as NetworkManager runs it: a VPN pushes a
# domain and its server; the domain is routed there until vpn-down.
nm() {
	env -i PATH="$PATH" DOTSEC_INCLUDE_DIR="$INC" \
		DOTSEC_RELOAD="kill -HUP $DS_PID" \
		CONNECTION_UUID=5b1e0c4e-1111-4222-8333-944455556666 \
		CONNECTION_ID="test vpn" DEVICE_IFACE=tun0 \
		VPN_IP4_DOMAINS="~$WORLD_ZONE_SEC15" \
		VPN_IP4_NAMESERVERS="$WORLD_CORPPLAIN_ADDR" \
		sh "$DS_SYSTEM_DIR/../../deploy/networkmanager/90-dotsec" tun0 "$1"
}
sec15=$WORLD_ZONE_SEC15
plain_before=$(names_inside "$WORLD_CORPPLAIN_LOG" "$sec15" | grep -c . || true)
n=$(grep -c 'reloaded' "$DS_STDERR")
ds_case "NetworkManager vpn-up: the script writes the route and reloads dotsecd"
nm vpn-up || ds_fail "the dispatcher script failed"
[ -f "$INC/nm-5b1e0c4e-1111-4222-8333-944455556666.yml" ] || ds_fail "no include file"
ds_wait_stderr "forward zone $sec15\..*nm-5b1e0c4e" 100 || ds_fail "dotsecd did not load the route"
sleep 0.5
ds_dig "vpn-up: the VPN's domain goes to the VPN's server, and still validates" "www.$sec15" A +dnssec
ds_expect_rcode NOERROR
ds_expect_flag ad
ds_case "... seen by the VPN's server"
[ "$(names_inside "$WORLD_CORPPLAIN_LOG" "$sec15" | grep -c .)" -gt "$plain_before" ] ||
	ds_fail "the VPN's server did not see www.$sec15"
ds_case "NetworkManager vpn-down: the route goes"
nm vpn-down || ds_fail "the dispatcher script failed"
[ ! -e "$INC/nm-5b1e0c4e-1111-4222-8333-944455556666.yml" ] || ds_fail "the include file is still there"
i=0
while [ "$(grep -c 'reloaded' "$DS_STDERR")" -lt $((n + 2)) ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ "$(grep -c 'reloaded' "$DS_STDERR")" -ge $((n + 2)) ] || ds_fail "dotsecd was not reloaded twice"
sleep 0.5
plain_mid=$(names_inside "$WORLD_CORPPLAIN_LOG" "$sec15" | grep -c .)
ds_dig "vpn-down: the domain is back on the default upstream" "www.$sec15" A +dnssec
ds_expect_rcode NOERROR
ds_expect_flag ad
ds_case "... and the VPN's server is not asked again"
[ "$(names_inside "$WORLD_CORPPLAIN_LOG" "$sec15" | grep -c .)" = "$plain_mid" ] ||
	ds_fail "the VPN's server was asked again"

# ------------------------------------------------------------ bad input

# bad_conf CASE LINE PATTERN YAML: dotsecd -t refuses YAML, naming the
# file and line LINE with a message matching PATTERN; a SIGHUP with it
# keeps the running configuration.
bad_conf() {
	local f=$WORLD_DIR/bad.yml
	ds_case "bad forward_zones: $1"
	printf 'upstream_recursive_servers:\n  - address_data: 127.0.0.1\n    tls_auth_name: dns.test\n%s\n' "$4" >"$f"
	if DS_OUT=$("$DOTSECD" -t -c "$f" 2>&1); then
		ds_fail "dotsecd -t accepted it"
	fi
	grep -qE "$f:$2: .*($3)" <<<"$DS_OUT" || ds_fail "no error at line $2 matching '$3'"
}
bad_conf "a zone without a name" 5 "needs 'name'" "forward_zones:
  - transport: plain
    upstream_recursive_servers:
      - address_data: 127.0.0.2"
bad_conf "a zone named twice" 9 "already defined at .*:5" "forward_zones:
  - name: lab.example
    upstream_recursive_servers:
      - address_data: 127.0.0.2
        tls_auth_name: dns.lab
  - name: Lab.Example.
    upstream_recursive_servers:
      - address_data: 127.0.0.3
        tls_auth_name: dns.lab"
bad_conf "transport: plain for the root" 6 "root" "forward_zones:
  - name: .
    transport: plain
    upstream_recursive_servers:
      - address_data: 127.0.0.2"
bad_conf "an unknown transport" 6 "unknown transport 'https'" "forward_zones:
  - name: lab.example
    transport: https
    upstream_recursive_servers:
      - address_data: 127.0.0.2"
ds_case "a SIGHUP with a bad include file keeps the running routes"
printf 'forward_zones:\n  - name: %s\n    transport: bogus\n' "$VAULT" >"$INC/bad.yml"
n=$(grep -c 'has errors' "$DS_STDERR")
kill -HUP "$DS_PID"
ds_wait_stderr "bad.yml:3: " 100 || ds_fail "no error naming bad.yml line 3"
rm -f "$INC/bad.yml"
ds_dig "... and dotsecd still answers through them" "www.$VAULT" AAAA +dnssec
ds_expect_rcode NOERROR
ds_expect_flag ad

# Reloads that change routes make every worker build a new validator at
# the same moment: libunbound's configuration parser is not thread-safe
# (it aborted the process once in a few reloads before it was locked).
ds_case "40 route-changing reloads in a row: dotsecd stays up"
for i in $(seq 1 40); do
	if [ $((i % 2)) = 1 ]; then
		printf 'domain_insecure:\n  - nta%d.example\n' "$i" >"$INC/nta.yml"
	else
		rm -f "$INC/nta.yml"
	fi
	kill -HUP "$DS_PID" 2>/dev/null || break
	sleep 0.1
done
rm -f "$INC/nta.yml"
sleep 1
kill -0 "$DS_PID" 2>/dev/null || ds_fail "dotsecd died: $(grep -i 'fatal\|error' "$DS_STDERR" | tail -n 3)"
ds_dig "... and answers" "www.$WORLD_ZONE_SEC8" A +dnssec
ds_expect_rcode NOERROR
ds_expect_flag ad

ds_case "all along, the plain server saw only the zones routed to it (libunbound's DS fetches of dnssec: validate included)"
out=$(names_outside "$WORLD_CORPPLAIN_LOG" "$CORP" "$ins" "$sec15")
[ -z "$out" ] || ds_fail "the plain server was asked: $(echo $out)"
grep -q "relay: $CORP\. 43 -> upstream" "$DS_STDERR" ||
	ds_fail "libunbound never asked for the DS of $CORP: the case proves nothing"

# A plain forward zone whose first server goes silent: a query on it is
# also sent to the zone's other server (the hedge, as for DoT upstreams)
# after a quarter of upstream_stall_timeout (nothing measured it yet), long
# before that server is found unusable (6 s) and within dig's 4 s.  Before,
# the hedge waited for an established connection, which plain DNS never
# has, so the query waited the whole stall time.  Ordered mode, so that the
# silent server gets the query first.
ds_dotsecd_stop
SILENT_UDP=$WORLD_NET.206
world_deadup "$WORLD_DIR/deadup.log" "deadup.py (a silent plain server)" \
	--silent-udp "$SILENT_UDP:53" --lifetime 900
ds_dotsecd_start workers=1 timeout=10000 "extra=round_robin_upstreams: 0
upstream_stall_timeout: 6000
metrics_address: $WORLD_DOTSECD_ADDR@9153
forward_zones:
  - name: $CORP
    transport: plain
    dnssec: insecure
    upstream_recursive_servers:
      - address_data: $SILENT_UDP
      - address_data: $WORLD_CORPPLAIN_ADDR"
DS_DIG_TIME=4 ds_dig "plain zone, first server silent: answered by the other" \
	"www.$CORP" A
ds_expect_rcode NOERROR
ds_expect_answer_has 192.0.2.80
ds_case "... through a hedge, the silent server not yet found unusable"
n=$(world_dotsecd_metrics |
	awk '$1 == "dotsec_upstream_hedged_total" { print $2 }')
DS_OUT="dotsec_upstream_hedged_total ${n:-none}"
[ "${n:-0}" -ge 1 ] || ds_fail "dotsec_upstream_hedged_total '${n:-none}'"
! grep -q "upstream $SILENT_UDP.*unusable" "$DS_STDERR" ||
	ds_fail "found unusable already: the answer came from the stall, not the hedge"
ds_dotsecd_stop

ds_finish
