#!/bin/bash
# test_privdrop.sh -- started as root, dotsecd binds its sockets, gives the
# anchor state directory to the configured user and becomes that user for
# good: the running process has its uid and gid, no capabilities, still
# answers on port 53 and still keeps the anchor state (written as that
# user).  A user that does not exist stops the start with a clear error.
#
# Run: DOTSECD=/path/to/dotsecd bash tests/system/test_privdrop.sh
set -eu
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ds_init
ds_require_dotsecd
ds_require ps stat
[ "$(id -u)" = 0 ] || ds_die "test_privdrop needs root"
world_start
T=$WORLD_TLD

# Files the unprivileged user must read after the drop, outside the
# world's root-only directory.
D=$WORLD_DIR/pub
mkdir -p "$D"
chmod 755 "$WORLD_DIR" "$D"
cp "$WORLD_CA_FILE" "$D/ca.pem"
cp "$WORLD_TA_FILE" "$D/root.ds"
chmod 644 "$D/ca.pem" "$D/root.ds"
uid=$(id -u nobody)
gid=$(id -g nobody)

ds_dotsecd_start user=nobody ca_file="$D/ca.pem" anchor="$D/root.ds" \
	state_dir="$D/state"

ds_case "the process runs as nobody ($uid:$gid), not root"
DS_OUT=$(ps -o uid=,gid=,user=,args= -p "$DS_PID")
read -r puid pgid _ <<<"$DS_OUT"
[ "$puid" = "$uid" ] || ds_fail "uid $puid"
[ "$pgid" = "$gid" ] || ds_fail "gid $pgid"

ds_case "no capabilities left and no supplementary groups"
DS_OUT=$(grep -E '^(CapEff|CapPrm|Groups):' "/proc/$DS_PID/status")
grep -q '^CapEff:[[:space:]]*0*$' "/proc/$DS_PID/status" ||
	ds_fail "effective capabilities left"
grep -q '^CapPrm:[[:space:]]*0*$' "/proc/$DS_PID/status" ||
	ds_fail "permitted capabilities left"
groups=$(sed -n 's/^Groups:[[:space:]]*//p' "/proc/$DS_PID/status")
[ -z "${groups// /}" ] || [ "${groups// /}" = "$gid" ] ||
	ds_fail "supplementary groups: $groups"

ds_case "the drop is logged"
DS_OUT=$(cat "$DS_STDERR")
grep -q 'running as user nobody' "$DS_STDERR" || ds_fail "not logged"

ds_dig "still answers on port 53, validating" +dnssec "www.sec8.$T" A
ds_expect_rcode NOERROR
ds_expect_flag ad
ds_dig "over TCP too" +tcp +dnssec "www.sec13.$T" A
ds_expect_rcode NOERROR
ds_expect_flag ad

ds_case "the anchor state belongs to nobody and the probe rewrote it"
i=0
while [ $i -lt 50 ] && ! grep -q ';;state=2' "$D/state/root.anchor" 2>/dev/null; do
	sleep 0.2
	i=$((i + 1))
done
DS_OUT=$(ls -la "$D/state"; cat "$D/state/root.anchor" 2>&1)
[ "$(stat -c %u "$D/state")" = "$uid" ] || ds_fail "state_dir not owned by nobody"
[ "$(stat -c %u "$D/state/root.anchor")" = "$uid" ] ||
	ds_fail "root.anchor not owned by nobody"
grep -q ';;state=2' "$D/state/root.anchor" ||
	ds_fail "no autotrust state written"
ds_dotsecd_stop

ds_case "a user that does not exist: start-up error naming it, exit 1"
conf=$WORLD_DIR/nouser.yml
ds_dotsecd_conf "$conf" user=no-such-user-dotsec state_dir="$D/state2"
rc=0
DS_OUT=$(timeout 10 "$DOTSECD" -c "$conf" 2>&1) || rc=$?
[ "$rc" = 1 ] || ds_fail "exit status $rc"
[[ $DS_OUT == *"no-such-user-dotsec"* ]] || ds_fail "user not named"

ds_finish
