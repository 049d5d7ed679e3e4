#!/bin/bash
# test_roll.sh -- a full root KSK roll (RFC 5011) while dotsecd runs and
# answers a steady stream of queries, with hold-downs of 20 s:
#   publish KSK2 (signed by KSK1) -> dotsecd marks KSK2 ADDPEND, then VALID
#   after the hold-down -> KSK1 revoked -> KSK1 REVOKED -> KSK1 removed.
# Every query of the stream must validate (NOERROR, AD), with no restart.
# Then a second run: dotsecd is down during the whole roll and comes back
# after KSK1 was removed: it must say so clearly (SERVFAIL with an EDE, a
# log line naming the key tags), not crash, and not validate with nothing.
#
# Run: DOTSECD=/path/to/dotsecd bash tests/system/test_roll.sh
set -eu
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ds_init
ds_require_dotsecd
# Short root DNSKEY TTL: the validators' cached copy expires quickly.
export WORLD_ROOT_DNSKEY_TTL=10
world_start

T=$WORLD_TLD
HOLD=20
state=$WORLD_DIR/roll-state
file=$state/root.anchor
t0=$(date +%s)
timeline=""

mark() {
	timeline="$timeline$(printf '  t+%3ss  %s' "$(($(date +%s) - t0))" "$*")
"
	printf 'roll: t+%ss %s\n' "$(($(date +%s) - t0))" "$*"
}

# key_state TAG: the ;;state= number of the key with that id, or "".
key_state() {
	sed -n "s/.*id = $1 .*;;state=\([0-9]\).*/\1/p" "$file" 2>/dev/null |
		head -n 1
}

# wait_state TAG STATE SECONDS: until the key is in that state.
wait_state() {
	local i=0 max=$(($3 * 5))
	while [ $i -lt $max ]; do
		[ "$(key_state "$1")" != "$2" ] || return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

# wait_gone TAG SECONDS: until the key is no longer in the file.
wait_gone() {
	local i=0 max=$(($2 * 5))
	while [ $i -lt $max ]; do
		grep -q "id = $1 " "$file" || return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

ANCHOR_TOOL=${DOTSEC_ANCHOR:-$(dirname "$DOTSECD")/dotsec-anchor}
[ -x "$ANCHOR_TOOL" ] || ds_die "dotsec-anchor not found at $ANCHOR_TOOL"

show() {
	printf -- '--- %s ---\n' "$1"
	cat "$file" 2>/dev/null || true
	"$ANCHOR_TOOL" show -f "$file" || true
}

# tool_says LABEL TAG STATE: dotsec-anchor show lists the key in that state.
tool_says() {
	ds_case "dotsec-anchor show at '$1': key $2 $3"
	DS_OUT=$("$ANCHOR_TOOL" show -f "$file" 2>&1) || ds_fail "exit status $?"
	printf '%s\n' "$DS_OUT" | sed 's/^/  dotsec-anchor: /'
	awk -v t="$2" -v s="$3" '$1 == t && $0 ~ (" " s " ") { f = 1 }
		END { exit !f }' <<<"$DS_OUT" || ds_fail "key $2 not shown as $3"
}

roll_conf="anchor_add_holddown: $HOLD
anchor_del_holddown: $HOLD
anchor_keep_missing: $HOLD
anchor_probe_interval: 2"

# ---------------------------------------------------------------- run 1
ds_dotsecd_start state_dir="$state" timeout=4000 extra="$roll_conf"
mark "dotsecd started, anchor: KSK1 $WORLD_KSK1_TAG (DS)"

ds_case "start: KSK1 $WORLD_KSK1_TAG VALID in the state file"
wait_state "$WORLD_KSK1_TAG" 2 15 || { DS_OUT=$(show start); ds_fail "not VALID"; }
tool_says start "$WORLD_KSK1_TAG" VALID

# The stream: one validated query every 0.3 s, results in a file.
stream=$WORLD_DIR/stream.log
: >"$stream"
(
	while [ ! -f "$WORLD_DIR/stream.stop" ]; do
		out=$(dig +time=3 +tries=1 +dnssec @"$DS_ADDR" -p "$DS_PORT" \
			"www.sec8.$T" A 2>&1) || true
		st=$(sed -n 's/.*status: \([A-Z]*\).*/\1/p' <<<"$out" | head -n 1)
		fl=$(sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p' <<<"$out" | head -n 1)
		ad=no
		[[ " $fl " == *" ad "* ]] && ad=yes
		printf '%s %s %s\n' "$(date +%s)" "${st:-NONE}" "$ad" >>"$stream"
		sleep 0.3
	done
) &
stream_pid=$!

world_roll_publish
mark "KSK2 $WORLD_KSK2_TAG published (DNSKEY signed by KSK1 and KSK2)"
ds_case "publish: KSK2 $WORLD_KSK2_TAG reaches ADDPEND"
if wait_state "$WORLD_KSK2_TAG" 1 20; then
	mark "KSK2 ADDPEND"
	tool_says publish "$WORLD_KSK2_TAG" ADDPEND
else
	DS_OUT=$(show publish)
	ds_fail "KSK2 not ADDPEND within 20 s"
fi
ds_case "publish: KSK2 VALID after the $HOLD s hold-down"
if wait_state "$WORLD_KSK2_TAG" 2 $((HOLD + 25)); then
	mark "KSK2 VALID"
	tool_says hold-down "$WORLD_KSK2_TAG" VALID
else
	DS_OUT=$(show hold-down)
	ds_fail "KSK2 not VALID within $((HOLD + 25)) s"
fi
ds_case "the validators got the new set without a restart"
DS_OUT=$(grep -E 'trusted keys changed|validator renewed' "$DS_STDERR" || true)
grep -q 'validator renewed' "$DS_STDERR" || ds_fail "no hand-over logged"

world_roll_revoke
mark "KSK1 revoked (REVOKE bit, tag $WORLD_KSK1_REVOKED_TAG)"
ds_case "revoke: KSK1 REVOKED in the state file"
if wait_state "$WORLD_KSK1_REVOKED_TAG" 4 20; then
	mark "KSK1 REVOKED"
	tool_says revoke "$WORLD_KSK1_REVOKED_TAG" REVOKED
else
	DS_OUT=$(show revoke)
	ds_fail "KSK1 not REVOKED within 20 s"
fi

world_roll_remove
mark "KSK1 removed; root signed by KSK2 only"
# Keep the stream going over several probes and cache expiries.
sleep 8
ds_case "remove: queries keep validating with KSK2 alone"
ds_dig "after the roll: secure name" +dnssec "www.sec13.$T" A
ds_expect_rcode NOERROR
ds_expect_flag ad
if wait_gone "$WORLD_KSK1_REVOKED_TAG" $((HOLD + 20)); then
	mark "KSK1 gone from the state file (del-holddown)"
	tool_says remove "$WORLD_KSK2_TAG" VALID
else
	mark "KSK1 still listed after $((HOLD + 20)) s"
fi

touch "$WORLD_DIR/stream.stop"
wait "$stream_pid" || true
total=$(wc -l <"$stream")
good=$(awk '$2 == "NOERROR" && $3 == "yes"' "$stream" | wc -l)
ds_case "every query during the roll validated (NOERROR with AD)"
DS_OUT="$good of $total queries NOERROR+AD; others: $(awk '!($2 == "NOERROR" && $3 == "yes")' "$stream" | head -n 5)"
[ "$total" -ge 50 ] || ds_fail "only $total queries in the stream"
[ "$good" = "$total" ] || ds_fail "$((total - good)) queries did not validate"
mark "stream: $good of $total queries answered with AD"
show "after the roll"
ds_dotsecd_stop

printf 'roll timeline:\n%s' "$timeline"

# ---------------------------------------------------------------- run 2
# A fresh world; dotsecd learns KSK1, is stopped, the whole roll happens
# without it, and it comes back after KSK1 is gone.
world_stop
export WORLD_ROOT_DNSKEY_TTL=10
world_start
state=$WORLD_DIR/down-state
file=$state/root.anchor
ds_dotsecd_start state_dir="$state" timeout=3000 extra="$roll_conf"
ds_case "down run: KSK1 learnt before going down"
wait_state "$WORLD_KSK1_TAG" 2 15 || { DS_OUT=$(show start2); ds_fail "not VALID"; }
ds_dotsecd_stop
world_roll_publish
world_roll_revoke
world_roll_remove
ds_dotsecd_start state_dir="$state" timeout=3000 extra="$roll_conf"
sleep 3
ds_dig "down run: secure name after missing the roll" +dnssec "www.sec8.$T" A
ds_expect_rcode SERVFAIL
ds_expect_noflag ad
# The keys do not match: DNSKEY missing (9), or bogus (6).
ds_expect_ede 6 9
ds_case "down run: a log line names the trusted key tags"
DS_OUT=$(grep 'probe of the root DNSKEY set failed' "$DS_STDERR" || true)
[ -n "$DS_OUT" ] || ds_fail "no probe failure logged"
[[ $DS_OUT == *"$WORLD_KSK1_TAG/"* ]] || ds_fail "KSK1's tag not named"
ds_case "down run: the anchor is not emptied"
DS_OUT=$(cat "$file")
grep -q "id = $WORLD_KSK1_TAG " "$file" || ds_fail "KSK1 gone from the state"
ds_dotsecd_stop

ds_finish
