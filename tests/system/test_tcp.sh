#!/bin/bash
# test_tcp.sh -- DNS over TCP from clients (RFC 7766):
#  - kdig +tcp +keepopen: several queries on one connection (strace counts
#    kdig's connect() calls: exactly one), each answered correctly;
#  - pipelining: every query written at once on one connection, replies
#    matched by ID in any order; a query split over two writes;
#  - stalled TCP clients do not block other clients.
#
# Run: DOTSECD=/path/to/dotsecd bash tests/system/test_tcp.sh
set -eu
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ds_init
ds_require_dotsecd
ds_require strace
world_start
ds_dotsecd_start timeout=3000

T=$WORLD_TLD

# QNAME QTYPE RCODE AD(yes/no) DATA
QUERIES="www.sec8.$T A NOERROR yes 192.0.2.8
www.sec13.$T AAAA NOERROR yes 2001:db8::13
nx.sec15.$T A NXDOMAIN yes -
www.insecure.$T A NOERROR no 192.0.2.20
www.badsig.$T A SERVFAIL no -
foo.wild.sec13.$T A NOERROR yes 198.51.100.13
cname.sec8.$T A NOERROR yes 192.0.2.13
$WORLD_BIG_NAME TXT NOERROR yes record
www.sec15.$T TXT NOERROR yes \"www.sec15.$T\""

args=()
while read -r q t _; do
	args+=("$q" "$t")
done <<EOF
$QUERIES
EOF

trace=$WORLD_DIR/kdig.strace
ds_case "kdig +tcp +keepopen: $((${#args[@]} / 2)) queries on one connection"
DS_OUT=$(strace -f -qq -e trace=connect -o "$trace" kdig -b "$WORLD_CLIENT_ADDR" \
	@"$DS_ADDR" -p "$DS_PORT" +tcp +keepopen +time=5 +retry=0 "${args[@]}" 2>&1) ||
	ds_fail "kdig failed"
KDIG_OUT=$DS_OUT
conns=$(grep -c "connect(.*htons($DS_PORT).*inet_addr(\"$DS_ADDR\")" "$trace" || true)
[ "$conns" = 1 ] || ds_fail "kdig made $conns connections to dotsecd, expected 1"

# Split kdig's output into one block per reply and check them in order.
i=0
while read -r q t rcode ad data; do
	i=$((i + 1))
	ds_case "kdig keepopen reply $i: $q $t -> $rcode"
	DS_OUT=$(printf '%s\n' "$KDIG_OUT" | awk -v n="$i" '
		/->>HEADER<<-/ { k++ }
		k == n { print }')
	if [ -z "$DS_OUT" ]; then
		DS_OUT=$KDIG_OUT
		ds_fail "no reply number $i"
		continue
	fi
	st=$(printf '%s\n' "$DS_OUT" | sed -n 's/.*status: \([A-Z]*\);.*/\1/p')
	[ "$st" = "$rcode" ] || ds_fail "status $st, expected $rcode"
	fl=$(printf '%s\n' "$DS_OUT" | sed -n 's/^;; Flags: \([^;]*\);.*/\1/p')
	qn=$(printf '%s\n' "$DS_OUT" | awk '/^;; QUESTION SECTION:/ { getline; print $2; exit }')
	[ "$qn" = "$q." ] || ds_fail "question $qn, expected $q."
	case " $fl " in
	*" ad "*) [ "$ad" = yes ] || ds_fail "AD set" ;;
	*) [ "$ad" = no ] || ds_fail "AD not set (flags: $fl)" ;;
	esac
	if [ "$data" != - ]; then
		printf '%s\n' "$DS_OUT" | awk '/^;; ANSWER SECTION:/ { on = 1; next } on' |
			grep -qF -- "$data" || ds_fail "answer lacks $data"
	fi
done <<EOF
$QUERIES
EOF

ds_raw pipeline "www.sec8.$T:A:NOERROR" "nx.sec8.$T:A:NXDOMAIN" \
	"www.sec13.$T:AAAA:NOERROR" "www.badsig.$T:A:SERVFAIL" \
	"www.insecure.$T:A:NOERROR" "foo.wild.sec15.$T:A:NOERROR" \
	"$WORLD_BIG_NAME:TXT:NOERROR" "www.nosig.$T:A:SERVFAIL" \
	"nx.sec13.$T:A:NXDOMAIN" "www.expired.$T:A:SERVFAIL"

ds_raw slowclient "www.sec8.$T"

ds_dotsecd_stop
ds_finish
