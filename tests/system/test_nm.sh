#!/usr/bin/env bash
# test_nm.sh -- deploy/networkmanager/90-dotsec, the NetworkManager
# dispatcher script, alone: it runs with the environment NetworkManager
# gives it (env -i and the variables), writes its include files into a
# temporary directory and "reloads" by appending a line to a file.  Needs
# neither dotsecd nor NetworkManager nor root.
#
# DOTSEC_NM_SCRIPT runs another copy of the script (default: the tree's).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
trap '_ds_on_exit' EXIT
trap 'exit 1' INT TERM HUP
ds_require python3 find

script=${DOTSEC_NM_SCRIPT:-${abs_top_srcdir:-$DS_SYSTEM_DIR/../..}/deploy/networkmanager/90-dotsec}
dir=$(mktemp -d "${TMPDIR:-/tmp}/dotsec-nm.XXXXXX") || ds_die "mktemp failed"
# shellcheck disable=SC2317 # the EXIT trap
nm_on_exit() {
	local rc=$?
	rm -rf "$dir"
	# _ds_on_exit judges by $?: hand it the script's own status.
	(exit "$rc")
	_ds_on_exit
}
trap nm_on_exit EXIT

inc=$dir/conf.d # not there yet: the script makes it
reloads=$dir/reloads
notices=$dir/notices
# A logger that keeps the notices where the test reads them.
mkdir "$dir/bin"
cat >"$dir/bin/logger" <<LOGGER
#!/bin/sh
printf '%s\n' "\$*" >>'$notices'
LOGGER
chmod 0755 "$dir/bin/logger"
: >"$reloads"
: >"$notices"

VPN=5f0e6b8e-1f63-4a52-9a3b-1d2c3e4f5a6b
LAN=0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d

# run_nm IFACE ACTION [VAR=VALUE ...]: run the script as NetworkManager
# does; NM_RC and NM_OUT (stdout and stderr) keep status and output.
# RELOAD, if set, replaces the reload command.
NM_RC=0
NM_OUT=""
reload_cmd="echo reload >>'$reloads'"
run_nm() {
	local iface=$1 action=$2
	shift 2
	NM_RC=0
	NM_OUT=$(cd / && env -i PATH="$dir/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
		DOTSEC_INCLUDE_DIR="$inc" \
		DOTSEC_RELOAD="${RELOAD-$reload_cmd}" \
		NM_DISPATCHER_ACTION="$action" "$@" \
		"$script" "$iface" "$action" 2>&1) || NM_RC=$?
	DS_OUT="status $NM_RC; output: $NM_OUT
notices: $(cat "$notices")
files in $inc: $(files | tr '\n' ' ')"
}

# The names in the include directory, one a line, dot files too.
files() {
	find "$inc" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort
}

nreloads() { wc -l <"$reloads"; }

# zones FILE: one line per forward zone, "NAME TRANSPORT ADDR,ADDR...".
zones() {
	awk '
	/^  - name: /              { z = $3; gsub(/"/, "", z); n++; name[n] = z; next }
	/^    transport: /         { tr[n] = $2; next }
	/^      - address_data: /  { a = $3; gsub(/"/, "", a)
	                             ad[n] = ad[n] (ad[n] == "" ? "" : ",") a }
	END { for (i = 1; i <= n; i++) print name[i], tr[i], ad[i] }' "$1"
}

# expect_zones FILE LINES: the file's zones are exactly LINES.
expect_zones() {
	local got
	[ -f "$1" ] || { ds_fail "$1 was not written"; return; }
	got=$(zones "$1")
	[ "$got" = "$2" ] || ds_fail "zones of $1:
$got
expected:
$2"
	# Nothing but forward_zones at the top (an include file may hold only
	# forward_zones and domain_insecure), and each zone has its three keys.
	[ "$(grep -vE '^(#|$| )' "$1")" = "forward_zones:" ] ||
		ds_fail "$1 has other top-level keys: $(grep -vE '^(#|$| )' "$1")"
	[ "$(grep -c '^    [a-z_]*:' "$1")" = "$((2 * $(printf '%s\n' "$2" | wc -l)))" ] ||
		ds_fail "$1: a zone with keys other than transport and upstream_recursive_servers"
}

# nm_case NAME: a case; expect_reloads N: N reloads since it began.
RELOADS_BEFORE=0
nm_case() {
	ds_case "$1"
	RELOADS_BEFORE=$(nreloads)
	: >"$notices"
}

expect_reloads() {
	local n=$(($(nreloads) - RELOADS_BEFORE))
	[ "$n" = "$1" ] || ds_fail "$n reloads, expected $1"
}

expect_rc() {
	[ "$NM_RC" = "$1" ] || ds_fail "exit status $NM_RC, expected $1"
}

# expect_notice PATTERN: a notice (grep -E) was logged with the tag
# dotsec-nm (the fake logger keeps its arguments).
expect_notice() {
	grep -qE -- "^-t dotsec-nm -- .*$1" "$notices" ||
		ds_fail "no notice matching '$1'"
}

expect_no_notice() {
	[ ! -s "$notices" ] || ds_fail "notices: $(cat "$notices")"
}

vfile=$inc/nm-$VPN.yml
lfile=$inc/nm-$LAN.yml

nm_case "the script is executable"
[ -x "$script" ] || ds_fail "$script is not executable"
[ "$(head -n 1 "$script")" = "#!/bin/sh" ] || ds_fail "not a /bin/sh script"

nm_case "vpn-up: one plain forward zone per domain, both name servers"
vpn_up() {
	run_nm tun0 vpn-up CONNECTION_UUID="$VPN" CONNECTION_ID="Corp VPN" \
		DEVICE_IFACE=eth0 VPN_IP_IFACE=tun0 \
		VPN_IP4_DOMAINS="corp.example ~lab.example" \
		VPN_IP6_DOMAINS="CORP.Example." \
		VPN_IP4_NAMESERVERS="10.8.0.1" VPN_IP6_NAMESERVERS="fd00:8::53" \
		IP4_DOMAINS="home.example" IP4_NAMESERVERS="192.168.1.1"
}
vpn_up
expect_rc 0
expect_zones "$vfile" "corp.example plain 10.8.0.1,fd00:8::53
lab.example plain 10.8.0.1,fd00:8::53"
expect_no_notice
[ "$(files)" = "nm-$VPN.yml" ] || ds_fail "other files in $inc: $(files)"
[ "$(stat -c %a "$inc")" = 755 ] || ds_fail "$inc has mode $(stat -c %a "$inc")"
[ "$(stat -c %a "$vfile")" = 644 ] || ds_fail "$vfile has mode $(stat -c %a "$vfile")"
grep -q '^#.*Corp VPN' "$vfile" || ds_fail "the header does not name the connection"
grep -q '^#.*eth0' "$vfile" || ds_fail "the header does not name the interface"
grep -qi '^#.*managed' "$vfile" || ds_fail "the header does not say the file is managed"

nm_case "vpn-up: dotsecd reloaded once"
[ "$(nreloads)" = 1 ] || ds_fail "$(nreloads) reloads, expected 1"

nm_case "the same vpn-up again: file unchanged, no reload"
before=$(cat "$vfile")
vpn_up
expect_rc 0
expect_reloads 0
[ "$(cat "$vfile")" = "$before" ] || ds_fail "the file changed"
[ "$(files)" = "nm-$VPN.yml" ] || ds_fail "files in $inc: $(files)"

nm_case "up with '~.', '~' and '.': no root zone, a notice"
run_nm eth0 up CONNECTION_UUID="$LAN" CONNECTION_ID="Wired" DEVICE_IFACE=eth0 \
	IP4_DOMAINS="~. HOME.example ~" IP4_NAMESERVERS="192.168.1.1" \
	IP6_DOMAINS=". ~v6.example" IP6_NAMESERVERS="2001:db8::53"
expect_rc 0
expect_zones "$lfile" "home.example plain 192.168.1.1,2001:db8::53
v6.example plain 192.168.1.1,2001:db8::53"
grep -qE 'name: "?\.?"?$' "$lfile" && ds_fail "a root zone was written"
expect_notice "'~\.'"
expect_notice "'~'"
expect_reloads 1

nm_case "up: a link-local name server is skipped, a notice"
run_nm eth0 up CONNECTION_UUID="$LAN" CONNECTION_ID="Wired" DEVICE_IFACE=eth0 \
	IP4_DOMAINS="home.example" IP4_NAMESERVERS="192.168.1.1" \
	IP6_NAMESERVERS="fe80::1%eth0 2001:db8::53 fe80::2"
expect_rc 0
expect_zones "$lfile" "home.example plain 192.168.1.1,2001:db8::53"
expect_notice 'fe80::1%eth0'
expect_notice 'fe80::2'

nm_case "up: domains with bad characters or too long are skipped, a notice"
long=$(printf '%064d' 0 | tr 0 a).example
run_nm eth0 up CONNECTION_UUID="$LAN" CONNECTION_ID="Wired" DEVICE_IFACE=eth0 \
	IP4_DOMAINS="bad;name home.example * a/b .x $long" \
	IP4_NAMESERVERS="192.168.1.1" \
	IP6_NAMESERVERS="2001:db8::53"
expect_rc 0
expect_zones "$lfile" "home.example plain 192.168.1.1,2001:db8::53"
expect_notice 'bad;name'
expect_notice "'\*'"
expect_notice 'a/b'
expect_notice "'\.x'"
expect_notice "'$long'"
expect_reloads 0

nm_case "up: addresses that are not numeric are skipped, a notice"
run_nm eth0 up CONNECTION_UUID="$LAN" CONNECTION_ID="Wired" DEVICE_IFACE=eth0 \
	IP4_DOMAINS="home.example" IP6_NAMESERVERS="2001:db8::53" \
	IP4_NAMESERVERS="192.168.1.1 ns.example 10.0.0.256 010.0.0.1 1.2.3 1:2::3::4 2001:db8::g"
expect_rc 0
expect_zones "$lfile" "home.example plain 192.168.1.1,2001:db8::53"
for a in ns.example 10.0.0.256 010.0.0.1 1.2.3 1:2::3::4 2001:db8::g; do
	expect_notice "'$a'"
done
expect_reloads 0

nm_case "a zone another include file defines is skipped, a notice"
# dotsecd takes each zone once: the VPN has corp.example, an include file
# written by hand has admin.example.
printf 'forward_zones:\n  - name: Admin.Example.  # by hand\n' >"$inc/admin.yml"
run_nm eth0 up CONNECTION_UUID="$LAN" CONNECTION_ID="Wired" DEVICE_IFACE=eth0 \
	IP4_DOMAINS="home.example corp.example admin.example" \
	IP4_NAMESERVERS="192.168.1.1" IP6_NAMESERVERS="2001:db8::53"
expect_rc 0
expect_zones "$lfile" "home.example plain 192.168.1.1,2001:db8::53"
expect_notice "'corp\.example'.*nm-$VPN\.yml"
expect_notice "'admin\.example'.*admin\.yml"
expect_reloads 0
rm -f "$inc/admin.yml"

nm_case "dhcp4-change with a new name server: file rewritten, reloaded"
run_nm eth0 dhcp4-change CONNECTION_UUID="$LAN" CONNECTION_ID="Wired" \
	DEVICE_IFACE=eth0 IP4_DOMAINS="home.example" IP4_NAMESERVERS="192.168.1.2" \
	IP6_NAMESERVERS="2001:db8::53"
expect_rc 0
expect_zones "$lfile" "home.example plain 192.168.1.2,2001:db8::53"
expect_reloads 1

nm_case "pre-up (and other actions): nothing changes"
before=$(cat "$vfile" "$lfile")
for action in pre-up pre-down vpn-pre-up vpn-pre-down hostname \
	connectivity-change reapply; do
	run_nm eth0 "$action" CONNECTION_UUID="$LAN" DEVICE_IFACE=eth0 \
		IP4_DOMAINS="other.example" IP4_NAMESERVERS="192.168.9.9"
	[ "$NM_RC" = 0 ] || ds_fail "$action: exit status $NM_RC"
done
[ "$(cat "$vfile" "$lfile")" = "$before" ] || ds_fail "a file changed"
[ "$(files | wc -l)" = 2 ] || ds_fail "files in $inc: $(files)"
expect_reloads 0

nm_case "down: the file removed, reloaded"
run_nm eth0 down CONNECTION_UUID="$LAN" DEVICE_IFACE=eth0
expect_rc 0
[ -e "$lfile" ] && ds_fail "$lfile still there"
[ -f "$vfile" ] || ds_fail "the other connection's file went too"
expect_reloads 1

nm_case "down of a connection without a file: no reload"
run_nm eth1 down CONNECTION_UUID="$LAN" DEVICE_IFACE=eth1
expect_rc 0
expect_reloads 0

nm_case "vpn-down: the file removed, reloaded"
run_nm tun0 vpn-down CONNECTION_UUID="$VPN" DEVICE_IFACE=eth0 VPN_IP_IFACE=tun0
expect_rc 0
[ -e "$vfile" ] && ds_fail "$vfile still there"
expect_reloads 1

nm_case "domains without name servers: no file, no reload"
run_nm eth0 up CONNECTION_UUID="$LAN" DEVICE_IFACE=eth0 IP4_DOMAINS="home.example"
expect_rc 0
[ -e "$lfile" ] && ds_fail "$lfile written"
expect_reloads 0

nm_case "name servers without domains: no file, no reload"
run_nm eth0 up CONNECTION_UUID="$LAN" DEVICE_IFACE=eth0 IP4_NAMESERVERS="192.168.1.1"
expect_rc 0
[ -e "$lfile" ] && ds_fail "$lfile written"
expect_reloads 0

nm_case "no name servers any more: the old file removed, reloaded"
run_nm eth0 up CONNECTION_UUID="$LAN" DEVICE_IFACE=eth0 \
	IP4_DOMAINS="home.example" IP4_NAMESERVERS="192.168.1.1"
[ -f "$lfile" ] || ds_fail "$lfile not written"
run_nm eth0 dhcp4-change CONNECTION_UUID="$LAN" DEVICE_IFACE=eth0 \
	IP4_DOMAINS="home.example"
expect_rc 0
[ -e "$lfile" ] && ds_fail "$lfile still there"
expect_reloads 2

nm_case "no CONNECTION_UUID: the file is named after the interface"
run_nm 'eth0:1' up IP4_DOMAINS="alias.example" IP4_NAMESERVERS="192.168.1.1"
expect_rc 0
expect_zones "$inc/nm-eth0_1.yml" "alias.example plain 192.168.1.1"
run_nm 'eth0:1' down
expect_rc 0
[ -e "$inc/nm-eth0_1.yml" ] && ds_fail "nm-eth0_1.yml still there"
expect_reloads 2

nm_case "a failed reload: exit status 1, reported"
RELOAD=false run_nm tun0 vpn-up CONNECTION_UUID="$VPN" \
	VPN_IP4_DOMAINS="corp.example" VPN_IP4_NAMESERVERS="10.8.0.1"
expect_rc 1
expect_notice 'reload'

# Without DOTSEC_RELOAD, and with dotsecd's control socket there: the
# reload goes through dotsec-control (a stand-in here that records it),
# and a configuration dotsecd rejects fails the script with dotsecd's
# words.
ctl_sock=$dir/control.sock
python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$ctl_sock"
cat >"$dir/bin/dotsec-control" <<CTL
#!/bin/sh
echo "dotsec-control \$*" >>'$reloads'
[ -z "\${CTL_FAIL:-}" ] && exit 0
echo "reload: conf.d/nm-x.yml:3: duplicate forward zone" >&2
exit 1
CTL
chmod 0755 "$dir/bin/dotsec-control"
nm_case "no DOTSEC_RELOAD, control socket there: reloaded with dotsec-control"
: >"$reloads"
RELOAD="" run_nm tun1 vpn-up CONNECTION_UUID="$VPN-2" DOTSEC_CONTROL_SOCKET="$ctl_sock" \
	VPN_IP4_DOMAINS="corp2.example" VPN_IP4_NAMESERVERS="10.9.0.1"
expect_rc 0
grep -qx 'dotsec-control reload' "$reloads" || ds_fail "dotsec-control reload not run"
nm_case "dotsecd rejects the files: exit 1, with dotsecd's reason"
RELOAD="" run_nm tun1 vpn-down CONNECTION_UUID="$VPN-2" DOTSEC_CONTROL_SOCKET="$ctl_sock" CTL_FAIL=1
expect_rc 1
expect_notice 'duplicate forward zone'
rm -f "$dir/bin/dotsec-control" "$ctl_sock"

nm_case "nothing else was left in the directory"
[ "$(files)" = "nm-$VPN.yml" ] || ds_fail "files in $inc: $(files)"

ds_finish
