#!/bin/bash
# test_world_roll.sh -- the world's live root KSK roll (RFC 5011), without
# dotsecd: world_roll_publish, world_roll_revoke and world_roll_remove on a
# world whose root DNSKEY RRset has a 10 s TTL, checked three ways:
#  - what NSD and the upstream serve after each step (key tags, who signs
#    the DNSKEY RRset, the new SOA serial at once);
#  - libunbound (unbound-host, Debian's nettle build) with static anchors:
#    KSK1 or KSK2, as DS and as DNSKEY, at every step;
#  - two RFC 5011 trackers that follow the roll from the KSK1 anchor alone:
#    a validating unbound daemon (auto-trust-anchor-file, 20 s hold-downs,
#    permit-small-holddown: yes -- fine for the OpenSSL daemon, never for
#    Debian's libunbound) on $WORLD_NET.40, forwarding in clear text to
#    $WORLD_PLAIN_ADDR, never queried while it should be probing: it
#    probes on its own (every 5 s at most: half the TTL); and libunbound
#    itself (unbound-host with auto-trust-anchor-file, a fresh context per
#    probe, once a second, as dotsecd probes), without
#    permit-small-holddown.  Both must reach KSK2 VALID, KSK1 REVOKED and
#    KSK1 gone, and still validate after KSK1 is removed.
# Prints each tracker's state file whenever it changes, a table of the
# static-anchor verdicts, and the timeline (seconds since the world was
# up).  About a minute.
set -eu
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ds_init
ds_require unbound unbound-host unbound-control
WORLD_ROOT_DNSKEY_TTL=10
world_start

T=$WORLD_TLD
Q=www.sec8.$T
HOLDDOWN=20
# How long to wait for a tracker to reach a state: a hold-down, two probe
# intervals and slack.
WAIT_STATE=60
T0=$(date +%s%N)
T_REMOVE=0
TIMELINE=""
TABLE=""

# ---------------------------------------------------------------- helpers

elapsed() {
	awk -v a="$T0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'
}

# mark EVENT: a line of the timeline, printed now and again at the end.
mark() {
	local l
	l=$(printf '%6ss  %s' "$(elapsed)" "$*")
	TIMELINE="$TIMELINE$l
"
	printf 'roll: %s\n' "$l"
}

# dnskey_tags SERVER [+norec]: "tags of the DNSKEYs / tags of the RRSIGs
# over them", each sorted, e.g. "2486 12579 33946 / 2486 12579".
dnskey_tags() {
	local k s
	k=$(dig "${@:2}" +dnssec +multi +time=2 +tries=1 @"$1" . DNSKEY 2>/dev/null |
		sed -n 's/.*key id = \([0-9]*\).*/\1/p' | sort -n | tr '\n' ' ')
	s=$(dig "${@:2}" +dnssec +time=2 +tries=1 @"$1" . DNSKEY 2>/dev/null |
		awk '$4 == "RRSIG" && $5 == "DNSKEY" { print $11 }' | sort -n | tr '\n' ' ')
	printf '%s/ %s\n' "$k" "${s% }"
}

# sorted TAG...: the tags sorted, in dnskey_tags' format.
sorted() {
	printf '%s\n' "$@" | sort -n | tr '\n' ' ' | sed 's/ $//'
}

# check_served STEP "KEYTAGS" "SIGTAGS": what NSD serves, and what the
# upstream serves at once (its cache was flushed by the roll step).
check_served() {
	local want got srv keys sigs
	read -r -a keys <<<"$2"
	read -r -a sigs <<<"$3"
	want="$(sorted "${keys[@]}") / $(sorted "${sigs[@]}")"
	for srv in "NSD:$WORLD_NSD_ADDR:+norec" "upstream:$WORLD_PLAIN_ADDR:+rec"; do
		ds_case "$1: ${srv%%:*} serves DNSKEY tags / DNSKEY signers $want"
		srv=${srv#*:}
		got=$(dnskey_tags "${srv%:*}" "${srv#*:}")
		DS_OUT=$got
		[ "$got" = "$want" ] || ds_fail "got $got"
	done
	ds_case "$1: NSD serves root serial $WORLD_ROOT_SERIAL"
	DS_OUT=$(world_root_serial)
	[ "$DS_OUT" = "$WORLD_ROOT_SERIAL" ] || ds_fail "serial '$DS_OUT'"
}

# Static anchors for libunbound (unbound-host), one config each.
uh_conf() {
	# uh_conf NAME LINE: LINE is the trust-anchor line of the config.
	cat >"$WORLD_DIR/roll/uh-$1.conf" <<EOF
server:
	do-not-query-localhost: no
	do-ip6: no
	$2
forward-zone:
	name: "."
	forward-addr: $WORLD_PLAIN_ADDR@53
EOF
}

# uh_verdict CONF: UH_VERDICT is secure, insecure, bogus or unknown, and
# UH_WHY the why_bogus text.  A fresh libunbound context every time.
UH_VERDICT=""
UH_WHY=""
uh_verdict() {
	DS_OUT=$(unbound-host -C "$1" -v -t A "$Q" 2>&1) || true
	UH_WHY=$(printf '%s\n' "$DS_OUT" | sed -n 's/^validation failure <[^>]*>: //p' | head -n 1)
	case $DS_OUT in
	*"(BOGUS"*) UH_VERDICT=bogus ;;
	*"(insecure)"*) UH_VERDICT=insecure ;;
	*"(secure)"*) UH_VERDICT=secure ;;
	*) UH_VERDICT=unknown ;;
	esac
}

# static_checks STEP EXPECT_KSK1 EXPECT_KSK2: libunbound with each static
# anchor (DS and DNSKEY form of KSK1 and of KSK2).
static_checks() {
	local step=$1 a exp
	for a in ksk1-ds ksk1-dnskey ksk2-ds ksk2-dnskey; do
		case $a in
		ksk1-*) exp=$2 ;;
		*) exp=$3 ;;
		esac
		ds_case "$step: libunbound, static anchor $a only: $Q A is $exp"
		uh_verdict "$WORLD_DIR/roll/uh-$a.conf"
		[ "$UH_VERDICT" = "$exp" ] ||
			ds_fail "libunbound says $UH_VERDICT ${UH_WHY:+($UH_WHY)}"
		TABLE="$TABLE$(printf '%-8s %-12s %-8s %s' "$step" "$a" "$UH_VERDICT" "${UH_WHY:--}")
"
	done
}

# ta_states FILE: "TAG=STATE ..." of an autotrust file, by tag ("seed"
# before its first write).
ta_states() {
	[ -f "$1" ] || { echo missing; return 0; }
	grep -q ';;state=' "$1" || { echo seed; return 0; }
	awk '/;;state=/ {
		id = $0; sub(/.*id = /, "", id); sub(/[^0-9].*/, "", id)
		st = $0; sub(/.*;;state=[0-9]* *\[ */, "", st); sub(/ *\].*/, "", st)
		print id "=" st }' "$1" | sort -n | tr '\n' ' ' | sed 's/ $//'
}

# ta_field FILE NAME: the value of ";;NAME: V" in an autotrust file.
ta_field() {
	sed -n "s/^;;$2: \\([0-9]*\\).*/\\1/p" "$1" | head -n 1
}

# has STATES TAG=STATE: the state list contains it.
has() {
	case " $1 " in
	*" $2 "*) return 0 ;;
	esac
	return 1
}

# ---------------------------------------------------------------- trackers

mkdir -p "$WORLD_DIR/roll" "$WORLD_DIR/tracker"
uh_conf ksk1-ds "trust-anchor-file: \"$WORLD_TA_FILE\""
uh_conf ksk1-dnskey "trust-anchor-file: \"$WORLD_TA_DNSKEY_FILE\""
uh_conf ksk2-ds "trust-anchor-file: \"$WORLD_TA2_FILE\""
uh_conf ksk2-dnskey "trust-anchor-file: \"$WORLD_TA2_DNSKEY_FILE\""

# libunbound as an RFC 5011 tracker: a fresh context per probe (each
# unbound-host run primes the root DNSKEY RRset and rewrites the file).
LIB_TA=$WORLD_DIR/roll/lib-root.autotrust
cp "$WORLD_TA_FILE" "$LIB_TA"
uh_conf lib-5011 "auto-trust-anchor-file: \"$LIB_TA\"
	add-holddown: $HOLDDOWN
	del-holddown: $HOLDDOWN
	keep-missing: $HOLDDOWN"
lib_probe() {
	uh_verdict "$WORLD_DIR/roll/uh-lib-5011.conf"
	LIB_VERDICT=$UH_VERDICT
	LIB_WHY=$UH_WHY
}

# The unbound daemon as an RFC 5011 tracker.
TRK_ADDR=$WORLD_NET.40
TRK_DIR=$WORLD_DIR/tracker
TRK_TA=$TRK_DIR/root.autotrust
cp "$WORLD_TA_FILE" "$TRK_TA"
cat >"$TRK_DIR/unbound.conf" <<EOF
server:
	verbosity: 2
	num-threads: 1
	interface-automatic: no
	interface: $TRK_ADDR@53
	do-ip6: no
	do-not-query-localhost: no
	access-control: 127.0.0.0/8 allow
	username: ""
	chroot: ""
	directory: "$TRK_DIR"
	pidfile: "$TRK_DIR/unbound.pid"
	logfile: "$TRK_DIR/unbound.log"
	use-syslog: no
	log-time-ascii: yes
	module-config: "validator iterator"
	auto-trust-anchor-file: "$TRK_TA"
	add-holddown: $HOLDDOWN
	del-holddown: $HOLDDOWN
	keep-missing: $HOLDDOWN
	permit-small-holddown: yes
	val-log-level: 2
	so-reuseport: no
	qname-minimisation: no
	prefetch: no
forward-zone:
	name: "."
	forward-addr: $WORLD_PLAIN_ADDR@53
remote-control:
	control-enable: yes
	control-interface: "$TRK_DIR/control.sock"
	control-use-cert: no
EOF
world_register_log "$TRK_DIR/unbound.conf" "RFC 5011 tracker (unbound) configuration"
world_register_log "$TRK_DIR/unbound.log" "RFC 5011 tracker (unbound) log"
world_register_log "$TRK_DIR/unbound.stderr" "RFC 5011 tracker (unbound) stderr"
world_register_log "$TRK_TA" "RFC 5011 tracker (unbound) autotrust file"
world_register_log "$LIB_TA" "RFC 5011 tracker (libunbound) autotrust file"

trk_ctl() {
	unbound-control -c "$TRK_DIR/unbound.conf" "$@"
}
# trk_dig ARGS...: a query to the tracker daemon, output in DS_OUT.
trk_dig() {
	DS_OUT=$(dig +dnssec +time=3 +tries=1 @"$TRK_ADDR" "$@" 2>&1) || true
}
trk_secure() {
	trk_dig "$Q" A
	[ "$(ds_rcode)" = NOERROR ] && case " $(ds_flags) " in *" ad "*) ;; *) false ;; esac
}

TRK_SEEN=""
LIB_SEEN=""
# show_changes: print a tracker's file (and mark the timeline) when its
# states changed since the last look.
show_changes() {
	local s
	s=$(ta_states "$TRK_TA")
	if [ "$s" != "$TRK_SEEN" ]; then
		mark "daemon autotrust: $s"
		sed 's/^/    daemon| /' "$TRK_TA"
		TRK_SEEN=$s
	fi
	s=$(ta_states "$LIB_TA")
	if [ "$s" != "$LIB_SEEN" ]; then
		mark "libunbound autotrust: $s"
		sed 's/^/    libunbound| /' "$LIB_TA"
		LIB_SEEN=$s
	fi
}

# reached GOAL STATES FILE: the tracker whose file is FILE, with STATES
# (ta_states), has reached GOAL.
reached() {
	local st=$2 f=$3
	case $1 in
	ksk1-valid) has "$st" "$K1=VALID" ;;
	ksk2-addpend) has "$st" "$K2=ADDPEND" ;;
	ksk2-valid) has "$st" "$K2=VALID" ;;
	ksk1-revoked) has "$st" "$K1R=REVOKED" || has "$st" "$K1=REVOKED" ;;
	probed-after-remove)
		[ "$(ta_field "$f" last_success)" -gt "$T_REMOVE" ] 2>/dev/null ;;
	ksk1-gone)
		! has "$st" "$K1R=REVOKED" && ! has "$st" "$K1=REVOKED" &&
			! has "$st" "$K1=VALID" && has "$st" "$K2=VALID" ;;
	*) ds_die "reached: unknown goal $1" ;;
	esac
}

# track_until WHAT GOAL: every second, one libunbound probe and a look at
# both files, until both trackers have reached GOAL (see reached), or
# $WAIT_STATE s.  The daemon is not queried: it must probe on its own.  One
# case per tracker.
track_until() {
	local what=$1 goal=$2 i=0 tdone=0 ldone=0
	while :; do
		lib_probe
		show_changes
		if [ $tdone = 0 ] && reached "$goal" "$TRK_SEEN" "$TRK_TA"; then
			tdone=1
			mark "daemon: $what"
		fi
		if [ $ldone = 0 ] && reached "$goal" "$LIB_SEEN" "$LIB_TA"; then
			ldone=1
			mark "libunbound: $what"
		fi
		[ $tdone = 0 ] || [ $ldone = 0 ] || break
		[ $i -lt "$WAIT_STATE" ] || break
		sleep 1
		i=$((i + 1))
	done
	ds_case "RFC 5011 tracker (unbound daemon): $what within ${WAIT_STATE}s"
	DS_OUT=$(cat "$TRK_TA")
	[ $tdone = 1 ] || ds_fail "states: $TRK_SEEN"
	ds_case "RFC 5011 tracker (libunbound, a context per probe): $what within ${WAIT_STATE}s"
	DS_OUT=$(cat "$LIB_TA")
	[ $ldone = 1 ] || ds_fail "states: $LIB_SEEN (last probe: $LIB_VERDICT ${LIB_WHY:+$LIB_WHY})"
}

# ---------------------------------------------------------------- start

K1=$WORLD_KSK1_TAG
K2=$WORLD_KSK2_TAG
K1R=$WORLD_KSK1_REVOKED_TAG
ZSK=$WORLD_ZSK_TAG
printf 'root keys: KSK1 %s (revoked: %s), KSK2 %s, ZSK %s; DNSKEY TTL %s\n' \
	"$K1" "$K1R" "$K2" "$ZSK" "$WORLD_ROOT_DNSKEY_TTL"
mark "world up"

ds_case "start: root DNSKEY TTL and SOA negative TTL are $WORLD_ROOT_DNSKEY_TTL"
DS_OUT=$(dig +norec +time=2 +tries=1 @"$WORLD_NSD_ADDR" . DNSKEY; dig +norec +time=2 +tries=1 @"$WORLD_NSD_ADDR" . SOA)
ttls=$(printf '%s\n' "$DS_OUT" | awk '$1 == "." && ($4 == "DNSKEY" || $4 == "SOA") { print $4 "=" $2 }' | sort -u | tr '\n' ' ')
[ "$ttls" = "DNSKEY=10 SOA=10 " ] || ds_fail "TTLs: $ttls"
minimum=$(printf '%s\n' "$DS_OUT" | awk '$4 == "SOA" { print $NF }')
[ "$minimum" = 10 ] || ds_fail "SOA minimum $minimum"

ds_case "start: tags: KSK1, KSK2, revoked KSK1, ZSK all different"
[ "$(sorted "$K1" "$K2" "$K1R" "$ZSK" | tr ' ' '\n' | sort -u | wc -l)" = 4 ] ||
	ds_fail "tags $K1 $K2 $K1R $ZSK"
check_served start "$ZSK $K1" "$K1 $ZSK"
static_checks start secure bogus

unbound-checkconf "$TRK_DIR/unbound.conf" >/dev/null ||
	ds_die "unbound-checkconf $TRK_DIR/unbound.conf failed"
unbound -d -c "$TRK_DIR/unbound.conf" >"$TRK_DIR/unbound.stderr" 2>&1 &
TRK_PID=$!
world_register_pid "$TRK_PID"
i=0
until trk_secure; do
	kill -0 "$TRK_PID" 2>/dev/null || ds_die "the tracker unbound (PID $TRK_PID) exited"
	[ $i -lt 100 ] || ds_die "the tracker unbound does not validate $Q after 10s"
	sleep 0.1
	i=$((i + 1))
done
mark "tracker daemon up, validates $Q"
ds_case "start: tracker daemon validates $Q (AD)"
trk_secure || ds_fail "no AD"
track_until "KSK1 $K1 VALID" ksk1-valid
printf 'daemon: query_interval %ss, next probe in %ss\n' \
	"$(ta_field "$TRK_TA" query_interval)" \
	"$(($(ta_field "$TRK_TA" next_probe_time) - $(date +%s)))"

# ---------------------------------------------------------------- publish

world_roll_publish || ds_die "world_roll_publish failed"
mark "PUBLISH: KSK2 $K2 published (root serial $WORLD_ROOT_SERIAL)"
check_served publish "$ZSK $K1 $K2" "$K1 $K2"
static_checks publish secure secure
track_until "KSK2 $K2 ADDPEND" ksk2-addpend
track_until "KSK2 $K2 VALID (add-holddown ${HOLDDOWN}s)" ksk2-valid
ds_case "publish: tracker daemon validates $Q (AD)"
trk_secure || ds_fail "no AD"

# ---------------------------------------------------------------- revoke

world_roll_revoke || ds_die "world_roll_revoke failed"
mark "REVOKE: KSK1 revoked, now tag $K1R (root serial $WORLD_ROOT_SERIAL)"
check_served revoke "$ZSK $K2 $K1R" "$K2 $K1R"
# A static anchor has no notion of revocation: the revoked KSK1 is another
# key (flags 385, tag $K1R), so neither its DS nor its DNSKEY matches.
static_checks revoke bogus secure
track_until "KSK1 REVOKED" ksk1-revoked
ds_case "revoke: tracker daemon validates $Q (AD)"
trk_secure || ds_fail "no AD"

# ---------------------------------------------------------------- remove

world_roll_remove || ds_die "world_roll_remove failed"
T_REMOVE=$(date +%s)
mark "REMOVE: KSK1 removed (root serial $WORLD_ROOT_SERIAL)"
check_served remove "$ZSK $K2" "$K2"
static_checks remove bogus secure
# The next probe after the removal, on the daemon's own schedule.
track_until "a successful probe after the removal" probed-after-remove
ds_case "remove: tracker daemon validates $Q (AD)"
trk_secure || ds_fail "no AD"
ds_case "remove: tracker daemon validates $Q (AD) with its key cache flushed"
trk_ctl flush_zone . >/dev/null || ds_fail "unbound-control flush_zone . failed"
trk_secure || ds_fail "no AD"
ds_case "remove: libunbound with the tracked anchor file: $Q secure"
lib_probe
DS_OUT="$LIB_VERDICT $LIB_WHY"
[ "$LIB_VERDICT" = secure ] || ds_fail "libunbound says $LIB_VERDICT"
track_until "KSK1 gone, KSK2 VALID (del-holddown ${HOLDDOWN}s)" ksk1-gone
ds_case "end: tracker daemon validates $Q (AD)"
trk_secure || ds_fail "no AD"
ds_case "end: the tracker daemon is still running"
kill -0 "$TRK_PID" 2>/dev/null || ds_fail "PID $TRK_PID exited"
mark "end"

printf '\nlibunbound %s with static anchors (%s A):\n' \
	"$(unbound-host -h 2>&1 | sed -n 's/^Version //p')" "$Q"
printf '%-8s %-12s %-8s %s\n' step anchor verdict "why_bogus"
printf '%s' "$TABLE"
printf '\ntimeline (seconds since the world was up):\n%s\n' "$TIMELINE"
ds_finish
