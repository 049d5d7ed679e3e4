#!/bin/bash
# test_systemd.sh -- systemd integration without systemd running: the
# sd_notify protocol (READY=1 at start, RELOADING=1 then READY=1 on
# SIGHUP, STOPPING=1 on SIGTERM) seen on a NOTIFY_SOCKET of our own, and
# socket activation with systemd-socket-activate, over TCP and UDP.
#
# Run: DOTSECD=/path/to/dotsecd bash tests/system/test_systemd.sh
set -eu
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ds_init
ds_require_dotsecd
ds_require systemd-socket-activate python3
world_start
T=$WORLD_TLD

# --- sd_notify
sock=$WORLD_DIR/notify.sock
python3 - "$sock" >"$WORLD_DIR/notify.log" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(1)
end = time.time() + 60
while time.time() < end:
    try:
        print(s.recv(4096).decode().replace("\n", " "), flush=True)
    except socket.timeout:
        pass
PY
world_register_pid $!
for _ in $(seq 1 50); do [ -S "$sock" ] && break; sleep 0.1; done
export NOTIFY_SOCKET=$sock
# shellcheck disable=SC2119 # no arguments: the defaults
ds_dotsecd_start
unset NOTIFY_SOCKET
wait_line() {
	local i=0
	while [ $i -lt 50 ]; do
		[ "$(grep -c "$1" "$WORLD_DIR/notify.log")" -ge "$2" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
ds_case "sd_notify: READY=1 once serving"
DS_OUT=$(cat "$WORLD_DIR/notify.log")
wait_line READY=1 1 || ds_fail "no READY=1"
kill -HUP "$DS_PID"
ds_case "sd_notify: SIGHUP -> RELOADING=1, then READY=1 again"
wait_line RELOADING=1 1 || ds_fail "no RELOADING=1"
wait_line READY=1 2 || ds_fail "no second READY=1"
DS_OUT=$(cat "$WORLD_DIR/notify.log")
ds_dotsecd_stop
ds_case "sd_notify: SIGTERM -> STOPPING=1"
wait_line STOPPING=1 1 || ds_fail "no STOPPING=1"
DS_OUT=$(cat "$WORLD_DIR/notify.log")

# --- socket activation: listen_addresses names a port nobody uses; the
# sockets come from systemd-socket-activate.
conf=$WORLD_DIR/activated.yml
ds_dotsecd_conf "$conf" listen="$WORLD_NET.41@5999"
port=$((20000 + RANDOM % 20000))
# activate [--datagram] ARGS: start dotsecd under systemd-socket-activate
activate() {
	systemd-socket-activate "$@" -l "$WORLD_NET.40:$port" \
		"$DOTSECD" -c "$conf" >"$WORLD_DIR/activated.log" 2>&1 &
	apid=$!
	world_register_pid "$apid"
	world_register_log "$WORLD_DIR/activated.log" "dotsecd (activated)"
	sleep 0.5
}
activate
ds_case "socket activation (TCP): answers on the passed socket"
DS_OUT=$(dig +tcp +time=5 +tries=2 +dnssec @"$WORLD_NET.40" -p "$port" \
	"www.sec8.$T" A 2>&1) || true
[[ $DS_OUT == *"status: NOERROR"* && $DS_OUT == *" ad"* ]] ||
	ds_fail "no validated answer"
ds_case "socket activation: logged, listen_addresses not bound"
DS_OUT=$(cat "$WORLD_DIR/activated.log")
grep -q 'socket activation: 1 sockets passed' "$WORLD_DIR/activated.log" ||
	ds_fail "not logged"
if ss -ltnu | grep -q "$WORLD_NET.41:5999"; then
	ds_fail "listen_addresses bound although sockets were passed"
fi
kill -TERM "$apid"
wait "$apid" || true

port=$((port + 1))
activate --datagram
ds_case "socket activation (UDP): answers on the passed socket"
DS_OUT=$(dig +notcp +time=5 +tries=2 +dnssec @"$WORLD_NET.40" -p "$port" \
	"www.sec13.$T" A 2>&1) || true
[[ $DS_OUT == *"status: NOERROR"* && $DS_OUT == *" ad"* ]] ||
	ds_fail "no validated answer"
kill -TERM "$apid"
wait "$apid" || true

ds_finish
