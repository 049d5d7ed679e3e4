#!/bin/bash
# test_control: dotsec-control and the control socket.
# 1. status, stats, reload (with the errors of a broken file), usage.
# 2. Who may talk: the socket's mode (0660), a refused peer (another uid),
#    logged.
# 3. Flush, proved with data changed on the authoritative side (and the
#    upstream's cache flushed): before the flush dotsecd still answers the
#    old data, after it the new, from the upstream (its log), on every
#    worker; the rest of the cache stays.  flush NAME TYPE, flush zone,
#    flush all, flush bogus.
# 4. Control requests under a query load: no query lost.
# 5. Bad control input (too long, binary, too slow) closes that
#    connection, and dotsecd goes on serving.
# 6. Negative trust anchors: added, listed, kept across a reload, removed,
#    expiring on time (and logged); forward zones added (plain and DoT with
#    a CA of their own), listed, kept across a reload, removed.
# 7. explain on every case of the test world: secure NSEC and NSEC3 zones
#    of algorithms 8, 13 and 15, an insecure delegation, NXDOMAIN proofs,
#    and each bogus zone with its failing link named; --json; the caches
#    left as they were.
# 8. cache dump FILE / cache load FILE: after flush all, the loaded dump
#    answers the hot set with no upstream query; a bad dump is refused.
# 9. TLS resumption: status and stats count resumed sessions as the
#    upstream saw them, over TLS 1.2 (resumed) and 1.3 (getdns 1.6 never
#    resumes).
. "$(dirname "$0")/lib.sh"
ds_init
ds_require_dotsecd
ds_require dnsperf python3 setpriv stat
world_start
world_start_corp

CTL=${DOTSEC_CONTROL:-$(dirname "$DOTSECD")/dotsec-control}
[ -x "$CTL" ] || ds_die "dotsec-control not found at $CTL (set DOTSEC_CONTROL)"
T=$WORLD_TLD
INS=www.$WORLD_ZONE_INSECURE

ds_dotsecd_start workers=2
ctl() { CTL_RC=0; CTL_OUT=$("$CTL" -s "$DS_CTL" "$@" 2>&1) || CTL_RC=$?; }
ctl_case() { # NAME RC COMMAND...: the exit status must be RC
	local name=$1 rc=$2
	shift 2
	ds_case "$name"
	ctl "$@"
	DS_OUT=$CTL_OUT
	[ "$CTL_RC" = "$rc" ] || ds_fail "exit status $CTL_RC, expected $rc"
}
has() { printf '%s\n' "$CTL_OUT" | grep -qF -- "$1" || ds_fail "no '$1' in the output"; }

# --- 1. status, stats, reload, usage -----------------------------------
ds_dig "a first query" "www.$WORLD_ZONE_SEC8" A +dnssec
ds_expect_rcode NOERROR
ctl_case "status" 0 status
has "version "
has "workers 2"
has "upstream $WORLD_UPSTREAM_ADDR@853#$WORLD_AUTH_NAME: usable"
has "tls handshakes "
# The upstream answered the first query's chain: a median of its round
# trips, in tenths of a millisecond, over that many answers.
printf '%s\n' "$CTL_OUT" | grep -qE "upstream $WORLD_UPSTREAM_ADDR@853#$WORLD_AUTH_NAME: usable; median rtt [0-9]+\.[0-9] ms \(last [1-9][0-9]* answers\); smoothed rtt" ||
	ds_fail "no median rtt over the answers of the first query"
has "anchor 1 trusted key"
has "queries in flight 0"
has "config $DS_CONF (loaded "
ctl_case "stats: the counters of /metrics, name value" 0 stats
n=$(printf '%s\n' "$CTL_OUT" | awk '$1 == "dotsec_queries_total{transport=\"udp\"}" { print $2 }')
[ "${n:-0}" -ge 1 ] || ds_fail "dotsec_queries_total{transport=\"udp\"} ${n:-missing}"
printf '%s\n' "$CTL_OUT" | grep -q '^#' && ds_fail "comment lines in the output"
printf '%s\n' "$CTL_OUT" | awk 'NF != 2 { bad = 1 } END { exit !bad }' && ds_fail "a line that is not 'name value'"
ctl_case "reload: ok" 0 reload
has "reloaded"
cp "$DS_CONF" "$DS_CONF.good"
printf 'no_such_key: 1\n' >>"$DS_CONF"
ctl_case "reload of a broken file: refused, with the error and its line" 1 reload
has "no_such_key"
has "$DS_CONF"
has "the running configuration stays"
printf '%s\n' "$CTL_OUT" | grep -qE ':[0-9]+' || ds_fail "no line number"
cp "$DS_CONF.good" "$DS_CONF"
ds_dig "after the refused reload, still answering" "www.$WORLD_ZONE_SEC8" A +dnssec
ds_expect_rcode NOERROR
ds_expect_flag ad
ctl_case "anchor: the trust anchor state, as dotsec-anchor show prints it" 0 anchor
has "$DS_CONF.state/root.anchor"
has "TAG   ALG TYPE"
has "last_success:"
ANCHOR_TOOL=$(dirname "$DOTSECD")/dotsec-anchor
if [ -x "$ANCHOR_TOOL" ]; then
	ds_case "anchor: the same keys as dotsec-anchor show"
	want=$("$ANCHOR_TOOL" show -s "$DS_CONF.state" 2>&1 | awk '$1 ~ /^[0-9]+$/ { print $1, $3, $6 }')
	got=$(printf '%s\n' "$CTL_OUT" | awk '$1 ~ /^[0-9]+$/ { print $1, $3, $6 }')
	DS_OUT="dotsec-anchor: $want; control: $got"
	[ -n "$got" ] && [ "$got" = "$want" ] || ds_fail "they differ"
fi
ctl_case "an unknown command: exit 1" 1 frobnicate
has "unknown command"
ds_case "no command: usage, exit 2"
rc=0; DS_OUT=$("$CTL" -s "$DS_CTL" 2>&1) || rc=$?
[ "$rc" = 2 ] || ds_fail "exit status $rc"
ds_case "no such socket: exit 1, says so"
rc=0; DS_OUT=$("$CTL" -s "$WORLD_DIR/nothing.sock" status 2>&1) || rc=$?
[ "$rc" = 1 ] || ds_fail "exit status $rc"
printf '%s\n' "$DS_OUT" | grep -q 'is dotsecd running' || ds_fail "no hint"

# --- 2. who may talk ------------------------------------------------------
ds_case "the socket is mode 0660"
DS_OUT=$(stat -c '%a %U %G' "$DS_CTL")
[ "${DS_OUT%% *}" = 660 ] || ds_fail "mode ${DS_OUT%% *}"
# Another uid: kept out by the mode first; with the mode opened up, by
# dotsecd's own check of the peer (SO_PEERCRED), which logs it.
chmod o+x "$WORLD_DIR"
ds_case "another uid: refused by the socket's mode"
rc=0; DS_OUT=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" -s "$DS_CTL" status 2>&1) || rc=$?
[ "$rc" = 1 ] || ds_fail "exit status $rc"
chmod 0666 "$DS_CTL"
ds_case "another uid: refused by dotsecd (SO_PEERCRED), and logged"
rc=0; DS_OUT=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" -s "$DS_CTL" status 2>&1) || rc=$?
[ "$rc" = 1 ] || ds_fail "exit status $rc"
printf '%s\n' "$DS_OUT" | grep -q '^version' && ds_fail "the status was given"
ds_wait_stderr 'control: refused uid 65534' 30 || ds_fail "no log line for the refused peer"
chmod 0660 "$DS_CTL"
chmod o-x "$WORLD_DIR"

# --- 3. flush -------------------------------------------------------------
upq() { world_upstream_settle; world_upstream_count "$1" "$2"; }
# answers NAME WANT: the A of NAME from 6 fresh client ports (either
# worker) is WANT every time.
answers() {
	local i
	for i in 1 2 3 4 5 6; do
		ds_dig "$3 ($i)" "$1" A
		ds_expect_rcode NOERROR
		ds_expect_answer_has "$2"
	done
}
answers "$INS" 192.0.2.20 "insecure www: the original data"
ds_dig "sec15 www: cached, to show the rest of the cache stays" "www.$WORLD_ZONE_SEC15" A +dnssec
ds_expect_flag ad
world_insecure_set 77 || ds_die "cannot change the insecure zone"
answers "$INS" 192.0.2.20 "changed upstream, not flushed: still the cached data"
c0=$(upq "$INS" A)
s0=$(upq "www.$WORLD_ZONE_SEC15" A)
ctl_case "flush NAME TYPE" 0 flush "$INS" A
has "flushed"
answers "$INS" 192.0.2.77 "after flush NAME A: the new data"
ds_case "flush NAME A: the upstream was asked again, once"
c1=$(upq "$INS" A)
DS_OUT="upstream queries for $INS A: $c0 -> $c1"
[ "$c1" = $((c0 + 1)) ] || ds_fail "expected $((c0 + 1))"
ds_dig "flush NAME A kept the rest: sec15 www" "www.$WORLD_ZONE_SEC15" A +dnssec
ds_expect_flag ad
ds_case "flush NAME A: sec15 www came from the cache"
[ "$(upq "www.$WORLD_ZONE_SEC15" A)" = "$s0" ] || ds_fail "asked upstream again"

world_insecure_set 78 || ds_die "cannot change the insecure zone"
answers "$INS" 192.0.2.77 "changed again: cached"
ctl_case "flush zone" 0 flush zone "$WORLD_ZONE_INSECURE"
answers "$INS" 192.0.2.78 "after flush zone: the new data"
ds_dig "flush zone kept the rest: sec15 www" "www.$WORLD_ZONE_SEC15" A +dnssec
ds_expect_flag ad
ds_case "flush zone: sec15 www came from the cache"
[ "$(upq "www.$WORLD_ZONE_SEC15" A)" = "$s0" ] || ds_fail "asked upstream again"

world_insecure_set 79 || ds_die "cannot change the insecure zone"
answers "$INS" 192.0.2.78 "changed a third time: cached"
ctl_case "flush all" 0 flush all
answers "$INS" 192.0.2.79 "after flush all: the new data"
ds_dig "after flush all: a secure name still validates" "www.$WORLD_ZONE_SEC13" A +dnssec
ds_expect_rcode NOERROR
ds_expect_flag ad

ds_dig "bogus: first query" "www.$WORLD_ZONE_BADSIG" A +dnssec
ds_expect_rcode SERVFAIL
b0=$(upq "www.$WORLD_ZONE_BADSIG" A)
ds_dig "bogus: again, from the remembered verdict" "www.$WORLD_ZONE_BADSIG" A +dnssec
ds_expect_rcode SERVFAIL
ds_case "bogus: the verdict was remembered"
[ "$(upq "www.$WORLD_ZONE_BADSIG" A)" = "$b0" ] || ds_fail "asked again before the flush"
ctl_case "flush bogus" 0 flush bogus
ds_dig "after flush bogus: asked afresh (still bogus)" "www.$WORLD_ZONE_BADSIG" A +dnssec
ds_expect_rcode SERVFAIL
ds_case "flush bogus: the upstream was asked again"
b1=$(upq "www.$WORLD_ZONE_BADSIG" A)
DS_OUT="upstream queries: $b0 -> $b1"
[ "$b1" -gt "$b0" ] || ds_fail "not asked again"
ctl_case "flush with a bad type: exit 1" 1 flush "$INS" NOTATYPE
ctl_case "flush with a bad name: exit 1" 1 flush "a..b"

# --- 4. under load ------------------------------------------------------------
qf=$WORLD_DIR/control-load.txt
for n in "www.$WORLD_ZONE_SEC8" "www.$WORLD_ZONE_SEC13" "www.$WORLD_ZONE_SEC15" "$INS"; do
	printf '%s A\n' "$n"
done >"$qf"
perf_out=$WORLD_DIR/control-dnsperf.out
world_register_log "$perf_out" "dnsperf output (control under load)"
dnsperf -s "$DS_ADDR" -p "$DS_PORT" -a "$WORLD_CLIENT_ADDR" -d "$qf" \
	-l 6 -Q 400 -c 4 -t 3 >"$perf_out" 2>&1 &
perf_pid=$!
sleep 1
bad=0
for i in 1 2 3 4 5; do
	ctl status; [ "$CTL_RC" = 0 ] || bad=$((bad + 1))
	ctl stats; [ "$CTL_RC" = 0 ] || bad=$((bad + 1))
	ctl flush all; [ "$CTL_RC" = 0 ] || bad=$((bad + 1))
	sleep 0.5
done
wait "$perf_pid" || true
ds_case "under load: every control request answered ok"
DS_OUT="$bad failed"
[ "$bad" = 0 ] || ds_fail "$bad control requests failed"
ds_case "under load: no query lost, every answer NOERROR"
DS_OUT=$(cat "$perf_out")
completed=$(awk '/Queries completed:/ { print $3; exit }' "$perf_out")
lost=$(awk '/Queries lost:/ { print $3; exit }' "$perf_out")
noerror=$(awk '/Response codes:/ { for (i = 1; i < NF; i++) if ($i == "NOERROR") print $(i + 1) + 0 }' "$perf_out" | head -n 1)
[ "${completed:-0}" -ge 1000 ] || ds_fail "only ${completed:-0} queries completed"
[ "${lost:-x}" = 0 ] || ds_fail "${lost:-?} queries lost"
[ "${noerror:-0}" = "${completed:-x}" ] || ds_fail "${noerror:-0} NOERROR of ${completed:-?}"

# --- 5. bad input ---------------------------------------------------------------
# raw BYTES_EXPR WAIT: send python bytes to the socket, wait up to WAIT s
# for the reply and the close; prints the reply, then CLOSED or OPEN.
raw() {
	python3 - "$DS_CTL" "$1" "$2" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(eval(sys.argv[2]))
s.settimeout(float(sys.argv[3]))
data = b""
state = "OPEN"
try:
    while True:
        b = s.recv(4096)
        if not b:
            state = "CLOSED"
            break
        data += b
except socket.timeout:
    pass
except ConnectionResetError:
    state = "CLOSED"
print(data.decode(errors="replace").strip())
print(state)
EOF
}
ds_case "a line of 2000 bytes: an error, and that connection closed"
DS_OUT=$(raw "b'a' * 2000" 3)
printf '%s\n' "$DS_OUT" | grep -q '^error ' || ds_fail "no error reply"
printf '%s\n' "$DS_OUT" | tail -n 1 | grep -qx CLOSED || ds_fail "not closed"
ds_case "binary bytes: an error, and that connection closed"
DS_OUT=$(raw "b'stat\\x00\\xffus\\n'" 3)
printf '%s\n' "$DS_OUT" | grep -q '^error ' || ds_fail "no error reply"
printf '%s\n' "$DS_OUT" | tail -n 1 | grep -qx CLOSED || ds_fail "not closed"
ds_case "half a request, then silence: closed after the read timeout (5 s)"
DS_OUT=$(raw "b'stat'" 8)
printf '%s\n' "$DS_OUT" | tail -n 1 | grep -qx CLOSED || ds_fail "still open after 8 s"
ds_case "two requests on one connection: two replies"
DS_OUT=$(raw "b'status\\nstats\\n'" 2)
[ "$(printf '%s\n' "$DS_OUT" | grep -c '^ok ')" = 2 ] || ds_fail "not two ok replies"
# explain is answered from a thread; the request sent behind it on the
# same connection waits for that reply, then is read and answered.
ds_case "explain, then status, on one connection: both replies, in order"
DS_OUT=$(raw "b'explain www.$WORLD_ZONE_SEC8 A\\nstatus\\n'" 5)
[ "$(printf '%s\n' "$DS_OUT" | grep -c '^ok ')" = 2 ] || ds_fail "not two ok replies"
printf '%s\n' "$DS_OUT" | awk '/^verdict: /{v=NR} /^upstream/{if(!u)u=NR} END{exit !(v && u && v < u)}' ||
	ds_fail "not the explain's verdict first, then the status"
ctl_case "after the bad input: status still ok" 0 status
ds_dig "after the bad input: still answering" "www.$WORLD_ZONE_SEC8" A +dnssec
ds_expect_rcode NOERROR

# --- 7. explain -------------------------------------------------------------------
# explain_case NAME TYPE VERDICT-LINE-REGEX [MORE-FIXED-STRINGS...]
explain_case() {
	local name=$1 type=$2 re=$3
	shift 3
	ctl_case "explain $name $type" 0 explain "$name" "$type"
	printf '%s\n' "$CTL_OUT" | grep -qE "^verdict: $re" ||
		ds_fail "verdict line not /^verdict: $re/"
	for k in "$@"; do has "$k"; done
}
explain_case "www.$WORLD_ZONE_SEC8" A 'secure \(AD\)$' \
	"zone $WORLD_ZONE_SEC8." "DNSKEY" "/8 flags 257 SEP" "digest type 2: matches DNSKEY" \
	"RRSIG A by $WORLD_ZONE_SEC8. key"
explain_case "www.$WORLD_ZONE_SEC13" A 'secure \(AD\)$' \
	"zone $WORLD_ZONE_SEC13." "/13 flags 257 SEP"
explain_case "www.$WORLD_ZONE_SEC15" AAAA 'secure \(AD\)$' \
	"zone $WORLD_ZONE_SEC15." "/15 flags 257 SEP" "RRSIG AAAA by"
explain_case "nx.$WORLD_ZONE_SEC13" A 'secure \(AD\)$' "rcode 3" "proof: NSEC3 "
explain_case "nx.$WORLD_ZONE_SEC8" A 'secure \(AD\)$' "rcode 3" "proof: NSEC "
explain_case "$INS" A "insecure: no DS for $WORLD_ZONE_INSECURE\\. " \
	"zone $WORLD_ZONE_INSECURE." "proof: NSEC $WORLD_ZONE_INSECURE."
explain_case "www.$WORLD_ZONE_BADSIG" A \
	"bogus \\(EDE 6\\): www\\.$WORLD_ZONE_BADSIG\\. A: .*signature"
explain_case "www.$WORLD_ZONE_EXPIRED" A \
	"bogus \\(EDE 7\\): $WORLD_ZONE_EXPIRED\\. DNSKEY: signature expired" "(EXPIRED)"
explain_case "www.$WORLD_ZONE_DSMISMATCH" A \
	"bogus \\(EDE 9\\): $WORLD_ZONE_DSMISMATCH\\. DNSKEY: " "matches no DNSKEY of the zone"
explain_case "nx.$WORLD_ZONE_NONSEC" A \
	"bogus \\(EDE 12\\): nx\\.$WORLD_ZONE_NONSEC\\. A: .*no DNSSEC records"
explain_case "www.$WORLD_ZONE_NOSIG" A \
	"bogus \\(EDE 10\\): www\\.$WORLD_ZONE_NOSIG\\. A: no signatures"
# Each RRSIG with the validator's verdict on it: the only signature of
# its RRset takes the reply's; one of several is asked again alone.
# rrsig_has TYPE SIGNER TAG-REGEX VERDICT-REGEX: such a line in CTL_OUT.
rrsig_has() {
	printf '%s\n' "$CTL_OUT" | grep -qE "^    RRSIG $1 by ${2//./\\.} key $3/[0-9]+, valid .*: $4" ||
		ds_fail "no 'RRSIG $1 by $2 key $3 ...: $4' line"
}
ksk() { # ZONE: the tag of its SEP key in CTL_OUT
	printf '%s\n' "$CTL_OUT" | awk -v z="zone $1" '$0 == z { on = 1; next }
		/^zone / { on = 0 } on && $1 == "DNSKEY" && / SEP$/ { split($2, a, "/"); print a[1]; exit }'
}
ctl_case "explain: each RRSIG checked by the validator" 0 explain "www.$WORLD_ZONE_BADSIG" AAAA
printf '%s\n' "$CTL_OUT" | grep -q '^verdict: secure (AD)$' || ds_fail "not secure"
rrsig_has AAAA "$WORLD_ZONE_BADSIG." '[0-9]+' 'verified alone$'
rrsig_has AAAA "$WORLD_ZONE_BADSIG." '[0-9]+' 'not accepted alone: .*signature verification failed'
k=$(ksk "$WORLD_ZONE_BADSIG.")
[ -n "$k" ] || ds_fail "no SEP key of $WORLD_ZONE_BADSIG."
rrsig_has DNSKEY "$WORLD_ZONE_BADSIG." "$k" 'verified alone$'
rrsig_has DNSKEY "$WORLD_ZONE_BADSIG." "[0-9]+" 'not accepted alone: signature missing'
rrsig_has DS "$T." '[0-9]+' 'verified$'
ctl_case "explain: a bogus RRSIG alone on its RRset" 0 explain "www.$WORLD_ZONE_BADSIG" A
rrsig_has A "$WORLD_ZONE_BADSIG." '[0-9]+' 'not accepted: .*signature verification failed'
# A bogus reply's verdict is not that of every RRSIG in it: nonsec's
# NXDOMAIN lacks its NSEC records, but the SOA beside them is signed well.
ctl_case "explain: a proof's SOA in a bogus reply, checked on its own" 0 explain "nx.$WORLD_ZONE_NONSEC" A
rrsig_has SOA "$WORLD_ZONE_NONSEC." '[0-9]+' 'verified alone$'
ctl_case "explain: expired signatures of the DNSKEY set" 0 explain "www.$WORLD_ZONE_EXPIRED" A
k=$(ksk "$WORLD_ZONE_EXPIRED.")
rrsig_has DNSKEY "$WORLD_ZONE_EXPIRED." "$k" 'not accepted alone: signature expired'
ctl_case "explain --json: one JSON document" 0 explain "www.$WORLD_ZONE_EXPIRED" A --json
printf '%s\n' "$CTL_OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["verdict"] == "bogus", d["verdict"]
assert d["ede"] == 7, d["ede"]
assert d["failing_link"].endswith(" DNSKEY"), d["failing_link"]
assert [z["zone"] for z in d["zones"]][0] == "."
ks = [r for z in d["zones"] if z["zone"].startswith("expired.")
      for r in z["dnskey"]["rrsigs"]]
assert len(ks) == 2 and all(r["check"] == "not accepted" and r["alone"]
                            for r in ks), ks
assert any("expired" in r["why"] for r in ks), ks
' >/dev/null 2>&1 || ds_fail "not the JSON expected"
ctl_case "explain with a bad type: exit 1" 1 explain "$INS" NOTATYPE
ctl_case "explain without a name: exit 1" 1 explain
# The caches as they were: a cached secure answer and a remembered bogus
# verdict are still served from the cache after explain asked for them.
ds_dig "cached before explain" "www.$WORLD_ZONE_SEC8" A +dnssec
ds_dig "bogus before explain" "www.$WORLD_ZONE_BADSIG" A +dnssec
ctl explain "www.$WORLD_ZONE_SEC8" A
ctl explain "www.$WORLD_ZONE_BADSIG" A
e0=$(upq "www.$WORLD_ZONE_SEC8" A)
e1=$(upq "www.$WORLD_ZONE_BADSIG" A)
ds_dig "after explain: the cached answer" "www.$WORLD_ZONE_SEC8" A +dnssec
ds_expect_flag ad
ds_dig "after explain: the remembered bogus verdict" "www.$WORLD_ZONE_BADSIG" A +dnssec
ds_expect_rcode SERVFAIL
ds_case "explain left the caches as they were"
a0=$(upq "www.$WORLD_ZONE_SEC8" A)
a1=$(upq "www.$WORLD_ZONE_BADSIG" A)
DS_OUT="upstream A queries: sec8 $e0 -> $a0, badsig $e1 -> $a1"
[ "$a0" = "$e0" ] || ds_fail "sec8 asked upstream again"
[ "$a1" = "$e1" ] || ds_fail "badsig asked upstream again"

# --- 8. cache dump / load ---------------------------------------------------------
DUMP=$DS_CONF.state/manual.dump
ds_dig "hot: sec8" "www.$WORLD_ZONE_SEC8" A +dnssec
ds_dig "hot: sec13" "www.$WORLD_ZONE_SEC13" AAAA +dnssec
ctl_case "cache dump FILE" 0 cache dump "$DUMP"
has "answers written to $DUMP"
ds_case "the dump is mode 0600"
[ "$(stat -c %a "$DUMP")" = 600 ] || ds_fail "mode $(stat -c %a "$DUMP")"
ctl_case "flush all, before the load" 0 flush all
h0=$(upq "www.$WORLD_ZONE_SEC8" A)
h1=$(upq "www.$WORLD_ZONE_SEC13" AAAA)
ctl_case "cache load FILE" 0 cache load "$DUMP"
has "answers loaded from $DUMP"
ds_dig "after the load: sec8 www A, secure" "www.$WORLD_ZONE_SEC8" A +dnssec
ds_expect_rcode NOERROR
ds_expect_flag ad
ds_dig "after the load: sec13 www AAAA, secure" "www.$WORLD_ZONE_SEC13" AAAA +dnssec
ds_expect_flag ad
ds_case "after the load: answered from the loaded cache, no upstream query"
a0=$(upq "www.$WORLD_ZONE_SEC8" A)
a1=$(upq "www.$WORLD_ZONE_SEC13" AAAA)
DS_OUT="upstream queries: sec8 A $h0 -> $a0, sec13 AAAA $h1 -> $a1"
[ "$a0" = "$h0" ] || ds_fail "sec8 asked upstream"
[ "$a1" = "$h1" ] || ds_fail "sec13 asked upstream"
head -c 100 "$DUMP" >"$DUMP.cut"
ctl_case "cache load of a truncated dump: refused, exit 1" 1 cache load "$DUMP.cut"
has "ignored"
ctl_case "cache load of a missing file: exit 1" 1 cache load "$DS_CONF.state/none.dump"
ctl_case "cache with bad arguments: exit 1" 1 cache frob

# --- 6. nta and forward -----------------------------------------------------------
BAD=www.$WORLD_ZONE_BADSIG
ctl_case "nta add" 0 nta add "$WORLD_ZONE_BADSIG"
ds_dig "under the NTA: the bogus name is answered, without AD" "$BAD" A +dnssec
ds_expect_rcode NOERROR
ds_expect_noflag ad
ctl_case "nta list" 0 nta list
has "$WORLD_ZONE_BADSIG. expires in "
ds_wait_stderr "negative trust anchor $WORLD_ZONE_BADSIG added for 3600 s" 20 ||
	ds_fail "no log line for the new NTA"
ctl_case "reload keeps the NTA" 0 reload
ds_dig "after the reload: still under the NTA" "$BAD" A +dnssec
ds_expect_rcode NOERROR
ctl_case "nta remove" 0 nta remove "$WORLD_ZONE_BADSIG"
ds_dig "NTA removed: bogus again" "$BAD" A +dnssec
ds_expect_rcode SERVFAIL
ctl_case "nta add for 2 s" 0 nta add "$WORLD_ZONE_BADSIG" 2
ds_dig "a 2 s NTA: answered" "$BAD" A +dnssec
ds_expect_rcode NOERROR
sleep 3
ds_case "the NTA expired on time, and it was logged"
ds_wait_stderr "negative trust anchor $WORLD_ZONE_BADSIG. expired" 20 || ds_fail "no expiry logged"
ctl nta list
DS_OUT=$CTL_OUT
[ -z "$CTL_OUT" ] || ds_fail "still listed"
ds_dig "after the expiry: bogus again" "$BAD" A +dnssec
ds_expect_rcode SERVFAIL
ctl_case "nta add for more than a week: refused" 1 nta add "$WORLD_ZONE_BADSIG" 700000
ctl_case "nta remove of an unknown name: exit 1" 1 nta remove nothing.example

CORP=www.$WORLD_CORP_ZONE
ds_dig "before forward add: the corporate name does not exist publicly" "$CORP" A
ds_expect_rcode NXDOMAIN
ctl_case "forward add, plain, insecure" 0 forward add "$WORLD_CORP_ZONE" "$WORLD_CORPPLAIN_ADDR" --plain --insecure
ds_dig "forward add: the corporate server answers" "$CORP" A
ds_expect_rcode NOERROR
ds_expect_answer_has 192.0.2.80
ds_case "forward add: the corporate server was asked"
grep -qi " $CORP. A IN" "$WORLD_CORPPLAIN_LOG" || ds_fail "not in its log"
ctl_case "forward add, DoT with its own CA" 0 forward add "$WORLD_VAULT_ZONE" "$WORLD_CORPDOT_ADDR#$WORLD_CORP_AUTH_NAME" --insecure --ca "$WORLD_CORP_CA_FILE"
ds_dig "forward add (DoT): answered" "www.$WORLD_VAULT_ZONE" A
ds_expect_rcode NOERROR
ds_expect_answer_has 192.0.2.81
ctl_case "forward list" 0 forward list
has "$WORLD_CORP_ZONE. plain insecure $WORLD_CORPPLAIN_ADDR@53 (added by dotsec-control)"
has "$WORLD_VAULT_ZONE. tls insecure $WORLD_CORPDOT_ADDR@853#$WORLD_CORP_AUTH_NAME (added by dotsec-control)"
ctl_case "reload keeps the forward zones" 0 reload
ds_dig "after the reload: still forwarded" "$CORP" A
ds_expect_answer_has 192.0.2.80
ctl_case "forward remove" 0 forward remove "$WORLD_CORP_ZONE"
ds_dig "forward removed: the public answer again" "$CORP" A
ds_expect_rcode NXDOMAIN
ctl_case "forward add with a bad address: refused" 1 forward add bad.example 1.2.3
ctl_case "forward add without a server: refused" 1 forward add bad.example --plain
ctl_case "forward remove of a zone not added: exit 1" 1 forward remove nothing.example

ds_dotsecd_stop

# --- 9. TLS session resumption, as status counts it ------------------------
# Three connections one after the other (idle_timeout 1 s closes each):
# over TLS 1.2 getdns offers the session of the previous one and the
# upstream resumes it; over TLS 1.3 getdns 1.6 offers a session without a
# ticket and every handshake is a full one.  status's count must agree
# with what the upstream saw (unbound counts the queries that came over
# resumed sessions: num.query.tls.resume).
up_resumed() {
	world_upstream_ctl stats_noreset | awk -F= '$1 == "num.query.tls.resume" { print $2 }'
}
for ver in GETDNS_TLS1_2 GETDNS_TLS1_3; do
	ds_dotsecd_start workers=1 "extra=idle_timeout: 1000
tls_max_version: $ver"
	before=$(up_resumed)
	for z in "$WORLD_ZONE_SEC8" "$WORLD_ZONE_SEC15" "$WORLD_ZONE_SEC13"; do
		sleep 2
		ds_dig "$ver: www.$z after the connection closed" "www.$z" A +dnssec
		ds_expect_rcode NOERROR
		ds_expect_flag ad
	done
	after=$(up_resumed)
	ctl_case "$ver: status counts handshakes and resumed sessions" 0 status
	line=$(printf '%s\n' "$CTL_OUT" | grep "^upstream $WORLD_UPSTREAM_ADDR@853")
	read -r hs rs < <(printf '%s\n' "$line" |
		sed -n 's/.*tls handshakes \([0-9]*\) (\([0-9]*\) resumed).*/\1 \2/p') || true
	DS_OUT="$line; upstream num.query.tls.resume $before -> $after"
	[ -n "$hs" ] && [ -n "$rs" ] || ds_fail "no 'tls handshakes N (M resumed)'"
	[ "$hs" -ge 4 ] || ds_fail "$hs handshakes, expected 4 (start-up and three queries)"
	if [ "$ver" = GETDNS_TLS1_2 ]; then
		[ "$rs" -ge 3 ] && [ "$rs" -lt "$hs" ] || ds_fail "$rs of $hs resumed, expected all but the first"
		[ "$after" -gt "$before" ] || ds_fail "the upstream saw no resumed session"
	else
		[ "$rs" = 0 ] || ds_fail "$rs resumed over TLS 1.3, the upstream saw $((after - before))"
		[ "$after" = "$before" ] || ds_fail "the upstream saw resumed sessions that status did not count"
	fi
	ctl_case "$ver: the resumptions in stats" 0 stats
	n=$(printf '%s\n' "$CTL_OUT" | awk -v k="dotsec_upstream_tls_resumptions_total{upstream=\"$WORLD_UPSTREAM_ADDR@853\"}" '$1 == k { print $2 }')
	[ "$n" = "$rs" ] || ds_fail "dotsec_upstream_tls_resumptions_total ${n:-missing}, status $rs"
	ds_dotsecd_stop
done

# --- A configured control_socket that cannot be made (its directory is a
# file) stops the start-up with a clear error.
f=$WORLD_DIR/ctl-bad.yml
ds_dotsecd_conf "$f"
sed -i "s|^control_socket: .*|control_socket: \"$WORLD_DIR/zones/$WORLD_ZONE_SEC8.zone/x.sock\"|" "$f"
ds_case "a control_socket path that cannot be made: dotsecd does not start, and says why"
rc=0; DS_OUT=$(timeout 10 "$DOTSECD" -c "$f" 2>&1) || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || ds_fail "exit status $rc"
printf '%s\n' "$DS_OUT" | grep -q 'control_socket' || ds_fail "no error naming control_socket"

ds_finish
