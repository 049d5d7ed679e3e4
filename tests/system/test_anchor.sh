#!/bin/bash
# test_anchor.sh -- the managed trust anchor's state: seeded from
# trust_anchor_file on first start, turned into libunbound's autotrust
# format by the start-up probe (which goes out through the relay and the
# DoT upstream like every query), reused on restart, a corrupt file kept
# aside and replaced from the seed, probes repeated on anchor_probe_interval,
# and a clear start-up error when state_dir cannot be written.
#
# Run: DOTSECD=/path/to/dotsecd bash tests/system/test_anchor.sh
set -eu
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ds_init
ds_require_dotsecd
world_start

T=$WORLD_TLD
state=$WORLD_DIR/anchor-state
file=$state/root.anchor

# wait_for COND_COMMAND...: up to 10 s.
wait_for() {
	local i=0
	while [ $i -lt 50 ]; do
		if "$@"; then
			return 0
		fi
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}
# shellcheck disable=SC2317 # called through wait_for
has_state() { grep -q ';;state=2' "$file" 2>/dev/null; }

probes0=$(world_upstream_count . DNSKEY)
ds_dotsecd_start state_dir="$state"

ds_case "first start: state file seeded from trust_anchor_file"
DS_OUT=$(cat "$DS_STDERR")
[ -f "$file" ] || ds_fail "no $file"
grep -q "seeded from $WORLD_TA_FILE" "$DS_STDERR" ||
	ds_fail "no 'seeded from' log line"

ds_case "the start-up probe makes libunbound write the autotrust state"
if ! wait_for has_state; then
	DS_OUT=$(cat "$file" 2>&1)
	ds_fail "no key in state VALID (;;state=2) within 10 s"
fi
grep -q ';;next_probe_time:' "$file" ||
	ds_fail "no next_probe_time in the state file"

ds_case "DS seed tracked as its DNSKEY: same key, the validators (and caches) stay"
sleep 1
DS_OUT=$(cat "$DS_STDERR")
if grep -q 'validator renewed' "$DS_STDERR"; then
	ds_fail "validators renewed although the trusted key did not change"
fi

ds_case "the probe reached the upstream over DoT (upstream logged . DNSKEY)"
probes1=$(world_upstream_count . DNSKEY)
[ "$probes1" -gt "$probes0" ] || ds_fail "upstream saw no . DNSKEY query"

ds_dig "validation with the managed anchor" +dnssec "www.sec8.$T" A
ds_expect_rcode NOERROR
ds_expect_flag ad

ds_dotsecd_stop

# Restart on the same state: no seeding again.
ds_dotsecd_start state_dir="$state"
ds_case "restart: the existing state file is used, not seeded again"
DS_OUT=$(cat "$DS_STDERR")
if grep -q "seeded from" "$DS_STDERR"; then
	ds_fail "seeded again although the state file was valid"
fi
ds_dig "validation after restart" +dnssec "www.sec13.$T" A
ds_expect_rcode NOERROR
ds_expect_flag ad
ds_dotsecd_stop

# A corrupt state file is kept aside and replaced from the seed.
printf 'this is not an anchor file\n;;state=7\n' >"$file"
ds_dotsecd_start state_dir="$state"
ds_case "corrupt state: kept aside with a .bad- suffix, logged, seeded again"
DS_OUT=$(cat "$DS_STDERR")
aside=$(find "$state" -name 'root.anchor.bad-*' | head -n 1)
[ -n "$aside" ] || ds_fail "no root.anchor.bad-* file"
[ -z "$aside" ] || grep -q 'this is not an anchor file' "$aside" ||
	ds_fail "the file kept aside is not the corrupt one"
grep -q "cannot be used; kept as" "$DS_STDERR" ||
	ds_fail "no log line about the corrupt file"
grep -q "seeded from" "$DS_STDERR" || ds_fail "not seeded again"
ds_dig "validation after recovering from a corrupt state" +dnssec \
	"www.sec15.$T" A
ds_expect_rcode NOERROR
ds_expect_flag ad
ds_dotsecd_stop

# anchor_probe_interval makes the prober come back.
ds_dotsecd_start state_dir="$state" extra="anchor_probe_interval: 1"
ds_case "anchor_probe_interval 1: at least three probes in 6 s"
sleep 6
n=$(grep -c 'trust anchor: probing . DNSKEY' "$DS_STDERR" || true)
DS_OUT="probes logged: $n"
[ "$n" -ge 3 ] || ds_fail "only $n probes"
ds_dig "validation while probing" +dnssec "www.sec8.$T" A
ds_expect_rcode NOERROR
ds_expect_flag ad
ds_dotsecd_stop

# state_dir that cannot be created or written: a clear error, exit 1.
blocker=$WORLD_DIR/not-a-dir
printf 'x\n' >"$blocker"
conf=$WORLD_DIR/bad-state.yml
ds_dotsecd_conf "$conf" state_dir="$blocker/state"
ds_case "unwritable state_dir: start-up error naming it, exit 1"
rc=0
DS_OUT=$(timeout 10 "$DOTSECD" -c "$conf" 2>&1) || rc=$?
[ "$rc" = 1 ] || ds_fail "exit status $rc, expected 1"
[[ $DS_OUT == *"state_dir $blocker/state"* ]] ||
	ds_fail "the error does not name the directory"

ds_finish
