#!/bin/bash
# test_world.sh -- check the test world itself, without dotsecd:
#  - NSD serves each zone as built (algorithms, NSEC/NSEC3, the damage);
#  - the DoT upstreams present the certificates they should (kdig);
#  - libunbound (unbound-host, the library dotsecd uses, Debian's nettle
#    build) gives each case the expected verdict: secure, insecure or bogus,
#    and its why_bogus text is printed;
#  - a validating unbound with "ede: yes" (world_start_reference) gives the
#    reference RFC 8914 code of each bogus case;
#  - the upstream's query log and the clear-text canary work.
# Prints a table per case at the end.
set -eu
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ds_init
ds_require unbound-host
world_start
world_start_reference

T=$WORLD_TLD
NSD=$WORLD_NSD_ADDR
TABLE=""

# -------------------------------------------------------------- NSD content

nsd_dig() {
	DS_OUT=$(dig +norec +dnssec +time=2 +tries=1 @"$NSD" "$@" 2>&1) || true
}

ds_case "NSD: DNSKEY algorithm of each secure zone"
for za in sec8:8 sec13:13 sec15:15 badsig:13 nosig:13 nonsec:13 \
	expired:13 dsmismatch:13 "$T":13 .:13; do
	z=${za%%:*}
	a=${za##*:}
	case $z in
	.) zone=. ;;
	"$T") zone=$T. ;;
	*) zone=$z.$T. ;;
	esac
	nsd_dig "$zone" DNSKEY
	n=$(ds_section ANSWER | awk -v a="$a" '$4 == "DNSKEY" && $7 == a' | wc -l)
	[ "$n" -ge 2 ] || ds_fail "$zone: expected 2 DNSKEYs of algorithm $a, got $n"
done

ds_case "NSD: NSEC in sec8, NSEC3 in sec13"
nsd_dig nx.sec8."$T" A
ds_section_types AUTHORITY | grep -qx NSEC || ds_fail "no NSEC for nx.sec8"
nsd_dig nx.sec13."$T" A
ds_section_types AUTHORITY | grep -qx NSEC3 || ds_fail "no NSEC3 for nx.sec13"

ds_case "NSD: www.badsig A has an RRSIG (corrupted)"
nsd_dig www.badsig."$T" A
ds_expect_rrsig ANSWER

ds_case "NSD: www.nosig A has no RRSIG, www.nosig AAAA has one"
nsd_dig www.nosig."$T" A
ds_expect_no_rrsig ANSWER
nsd_dig www.nosig."$T" AAAA
ds_expect_rrsig ANSWER

ds_case "NSD: nonsec NXDOMAIN and NODATA come without NSEC"
nsd_dig nx.nonsec."$T" A
ds_expect_rcode NXDOMAIN
! ds_section_types AUTHORITY | grep -qxE 'NSEC|NSEC3' || ds_fail "NSEC present"
nsd_dig www.nonsec."$T" MX
ds_expect_rcode NOERROR
! ds_section_types AUTHORITY | grep -qxE 'NSEC|NSEC3' || ds_fail "NSEC present"

ds_case "NSD: expired signatures end in 2020"
nsd_dig www.expired."$T" A
ds_section ANSWER | awk '$4 == "RRSIG" { print $9 }' | grep -qx 20200201000000 ||
	ds_fail "RRSIG expiration is not 20200201000000"

ds_case "NSD: the DS of dsmismatch matches no DNSKEY key tag"
nsd_dig dsmismatch."$T" DS
dstag=$(ds_section ANSWER | awk '$4 == "DS" { print $5 }')
nsd_dig dsmismatch."$T" DNSKEY
ktags=$(dig +norec +multi +time=2 +tries=1 @"$NSD" dsmismatch."$T" DNSKEY |
	sed -n 's/.*key id = \([0-9]*\).*/\1/p' | tr '\n' ' ')
[ -n "$dstag" ] || ds_fail "no DS for dsmismatch in $T."
case " $ktags " in
*" $dstag "*) ds_fail "DS tag $dstag is among the DNSKEY tags $ktags" ;;
esac

ds_case "NSD: insecure has no DS"
nsd_dig insecure."$T" DS
ds_expect_ancount 0

ds_case "NSD: big.sec8 TXT has $WORLD_BIG_COUNT records, more than 1400 bytes"
DS_OUT=$(dig +norec +tcp +time=2 +tries=1 @"$NSD" "$WORLD_BIG_NAME" TXT 2>&1) || true
ds_expect_ancount "$WORLD_BIG_COUNT"
size=$(printf '%s\n' "$DS_OUT" | sed -n 's/.*MSG SIZE  rcvd: \([0-9]*\).*/\1/p')
[ "${size:-0}" -gt 1400 ] || ds_fail "message size $size"

# -------------------------------------------------------------- TLS

dot() {
	# dot ADDR kdig-options...: one query over DoT to ADDR@853.
	local a=$1
	shift
	DS_OUT=$(kdig +tls +time=2 +retry=0 @"$a" -p 853 "$@" www.sec8."$T" A 2>&1) || true
	printf '%s\n' "$DS_OUT" | grep -q 'status: NOERROR'
}
ds_case "DoT good upstream: test CA, name dns.test"
dot "$WORLD_UPSTREAM_ADDR" +tls-ca="$WORLD_CA_FILE" +tls-hostname=dns.test ||
	ds_fail "no answer"
ds_case "DoT good upstream: SPKI pin alone"
dot "$WORLD_UPSTREAM_ADDR" +tls-pin="$WORLD_SPKI_PIN" || ds_fail "no answer"
ds_case "DoT good upstream: wrong pin refused"
! dot "$WORLD_UPSTREAM_ADDR" +tls-pin="$WORLD_BAD_PIN" || ds_fail "answered"
ds_case "DoT good upstream: untrusted CA refused"
! dot "$WORLD_UPSTREAM_ADDR" +tls-ca="$WORLD_BADCA_FILE" +tls-hostname=dns.test ||
	ds_fail "answered"
ds_case "DoT wrong-name upstream: refused for dns.test"
! dot "$WORLD_WRONGNAME_ADDR" +tls-ca="$WORLD_CA_FILE" +tls-hostname=dns.test ||
	ds_fail "answered"
ds_case "DoT wrong-name upstream: works for wrong.test (control)"
dot "$WORLD_WRONGNAME_ADDR" +tls-ca="$WORLD_CA_FILE" +tls-hostname=wrong.test ||
	ds_fail "no answer"
ds_case "DoT bad-CA upstream: refused with the test CA"
! dot "$WORLD_BADCA_ADDR" +tls-ca="$WORLD_CA_FILE" +tls-hostname=dns.test ||
	ds_fail "answered"
ds_case "DoT bad-CA upstream: works with its own CA (control)"
dot "$WORLD_BADCA_ADDR" +tls-ca="$WORLD_BADCA_FILE" +tls-hostname=dns.test ||
	ds_fail "no answer"

# -------------------------------------------------------------- logs

ds_case "upstream query log counts a DoT query"
before=$(world_upstream_count www.sec15."$T" TXT)
DS_OUT=$(kdig +tls +tls-ca="$WORLD_CA_FILE" +tls-hostname=dns.test +time=2 \
	+retry=0 @"$WORLD_UPSTREAM_ADDR" -p 853 WWW.sec15."$T" TXT 2>&1) || true
sleep 0.2
after=$(world_upstream_count www.sec15."$T" TXT)
[ "$after" = $((before + 1)) ] || ds_fail "count $before -> $after"

ds_case "unbound-control on the good upstream"
DS_OUT=$(world_upstream_ctl status 2>&1) || ds_fail "unbound-control status failed"

ds_case "canary: empty, then logs clear-text UDP and TCP, never answers"
[ "$(world_canary_count)" = 0 ] || ds_fail "canary log not empty at start"
for proto in +notcp +tcp; do
	if dig +time=1 +tries=1 "$proto" @"$WORLD_UPSTREAM_ADDR" www.sec8."$T" A \
		>/dev/null 2>&1; then
		ds_fail "the canary answered ($proto)"
	fi
done
dig +time=1 +tries=1 @"$WORLD_BADCA_ADDR" www.sec8."$T" A >/dev/null 2>&1 || true
sleep 0.2
n=$(world_canary_count)
[ "$n" -ge 3 ] || ds_fail "canary logged $n lines, expected at least 3"
DS_OUT=$(cat "$WORLD_CANARY_LOG")

# -------------------------------------------------------------- validation

UHCONF=$WORLD_DIR/unbound-host.conf
cat >"$UHCONF" <<EOF
server:
	do-not-query-localhost: no
	do-ip6: no
	trust-anchor-file: "$WORLD_TA_FILE"
forward-zone:
	name: "."
	forward-addr: $WORLD_PLAIN_ADDR@53
EOF

alg15=no
while read -r label qname qtype kind rcode cdrcode data ede; do
	# libunbound's verdict.
	ds_case "libunbound: $label ($qname $qtype) is $kind"
	DS_OUT=$(unbound-host -C "$UHCONF" -v -t "$qtype" "$qname" 2>&1) || true
	case $DS_OUT in
	*"(BOGUS"*) got=bogus ;;
	*"(insecure)"*) got=insecure ;;
	*"(secure)"*) got=secure ;;
	*) got=unknown ;;
	esac
	why=$(printf '%s\n' "$DS_OUT" | sed -n 's/^validation failure <[^>]*>: //p' | head -n 1)
	[ "$got" = "$kind" ] || ds_fail "libunbound says $got"
	if [ "$kind" != bogus ] && [ "$data" != - ]; then
		case $DS_OUT in
		*"$(printf '%s' "$data" | tr -d '"')"*) ;;
		*) ds_fail "data $data missing" ;;
		esac
	fi
	[ "$label" != sec15-a ] || [ "$got" != secure ] || alg15=yes

	# The reference validator's rcode, AD and EDE.
	ds_case "unbound ede reference: $label ($qname $qtype)"
	DS_OUT=$(dig +dnssec +time=3 +tries=1 @"$WORLD_REF_ADDR" "$qname" "$qtype" 2>&1) || true
	ds_expect_rcode "$rcode"
	refede=$(ds_ede_codes | tr '\n' ' ' | sed 's/ $//')
	case $kind in
	secure) ds_expect_flag ad ;;
	*) ds_expect_noflag ad ;;
	esac
	if [ "$kind" = bogus ]; then
		IFS=, read -r -a codes <<<"$ede"
		ds_expect_ede "${codes[@]}"
	fi
	DS_OUT=$(dig +dnssec +cd +time=3 +tries=1 @"$WORLD_REF_ADDR" "$qname" "$qtype" 2>&1) || true
	ds_expect_rcode "$cdrcode"
	TABLE="$TABLE$(printf '%-18s %-8s %-8s %-5s %s' "$label" "$kind" "$got" "${refede:--}" "${why:-}")
"
done <<EOF
$(ds_cases)
EOF

ds_case "libunbound validates ED25519 (algorithm 15)"
[ "$alg15" = yes ] || ds_fail "www.sec15.$T is not secure through libunbound"

printf '\nworld %s.0/24, libunbound %s\n' "$WORLD_NET" \
	"$(unbound-host -h 2>&1 | sed -n 's/^Version //p')"
printf '%-18s %-8s %-8s %-5s %s\n' case expected libunb. "EDE" "why_bogus (libunbound)"
printf '%s' "$TABLE"
printf 'ED25519 (alg 15) validated by libunbound: %s\n\n' "$alg15"
ds_finish
