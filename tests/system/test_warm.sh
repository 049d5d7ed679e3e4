#!/bin/bash
# test_warm.sh -- warm restart (cache_persist): on SIGTERM dotsecd writes
# its answer cache to state_dir/cache.dump (mode 0600), and the next start
# serves the same answers (rcode, AD, data; TTLs aged, never longer)
# without a single new upstream query for them: secure positive, NODATA
# and NXDOMAIN, insecure positive and NXDOMAIN, a CNAME chain.  A bogus
# verdict is not kept over a restart.  A truncated dump, random bytes and
# a dump with one byte changed are logged and ignored, and dotsecd starts
# and answers; so is a dump made under another configuration (a
# domain_insecure added) or other trust anchors, and one made while a
# negative trust anchor added with dotsec-control was in force (it does
# not survive the restart).  Runs with the sandbox on (the default), so
# the dump is written under Landlock and seccomp.
#
# Run: DOTSECD=/path/to/dotsecd bash tests/system/test_warm.sh
set -eu
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ds_init
ds_require_dotsecd
ds_require stat cmp od
world_start

T=$WORLD_TLD
STATE=$WORLD_DIR/warm.state
DUMP=$STATE/cache.dump
SAVED=$WORLD_DIR/cache.dump.saved
mkdir -p "$STATE"

# The hot set: QNAME QTYPE RCODE AD
HOT="www.sec13.$T A NOERROR yes
www.sec8.$T AAAA NOERROR yes
nx.sec15.$T A NXDOMAIN yes
www.sec13.$T MX NOERROR yes
www.insecure.$T A NOERROR no
nx.insecure.$T A NXDOMAIN no
cname.sec8.$T A NOERROR yes"

# What must be the same after the restart: rcode, the AD flag, and every
# record of every section without its TTL.
normal() {
	printf '%s\n' "$DS_OUT" | awk '
		/->>HEADER<<-/ { match($0, /status: [A-Z]*/); print substr($0, RSTART, RLENGTH) }
		/^;; flags:/ { f = $0; sub(/;.*$/, "", f); sub(/^;; flags:/, "", f)
			print "ad=" (f ~ / ad( |$)/ ? "yes" : "no") }
		/^;; (ANSWER|AUTHORITY|ADDITIONAL) SECTION:/ { s = $2; next }
		/^$/ { s = "" }
		s != "" && !/^;/ { $2 = ""; print s, $0 }'
}

# The smallest TTL of the answer and authority sections.
min_ttl() {
	printf '%s\n' "$DS_OUT" | awk '
		/^;; (ANSWER|AUTHORITY) SECTION:/ { on = 1; next }
		/^;; ADDITIONAL SECTION:/ || /^$/ { on = 0 }
		on && !/^;/ && (m == "" || $2 < m) { m = $2 }
		END { print m + 0 }'
}

# Zone of a name: what follows the first label.
zone_of() { printf '%s' "${1#*.}"; }

# upstream_counts: one line per hot name: its count, its zone's DNSKEY and
# DS counts.
upstream_counts() {
	local q t r a
	while read -r q t r a; do
		printf '%s %s %s %s %s\n' "$q" "$t" "$(world_upstream_count "$q" "$t")" \
			"$(world_upstream_count "$(zone_of "$q")" DNSKEY)" \
			"$(world_upstream_count "$(zone_of "$q")" DS)"
	done <<<"$HOT"
}

start_persist() {
	ds_dotsecd_start timeout=3000 state_dir="$STATE" extra="cache_persist: 1
$1"
}

# ---- run 1: a cold start fills the cache; SIGTERM writes the dump.
rm -f "$DUMP"
start_persist ""
ds_case "run 1: no dump at the first start is not an error"
DS_OUT=$(cat "$DS_STDERR")
grep -q "answer cache: .* ignored" "$DS_STDERR" &&
	ds_fail "a missing dump was reported as ignored"

declare -A WANT TTL1
while read -r q t r a; do
	ds_dig "run 1: $q $t" +dnssec "$q" "$t"
	ds_expect_rcode "$r"
	if [ "$a" = yes ]; then ds_expect_flag ad; else ds_expect_noflag ad; fi
	WANT["$q $t"]=$(normal)
	TTL1["$q $t"]=$(min_ttl)
done <<<"$HOT"
# A bogus verdict: remembered while running, not over a restart.
ds_dig "run 1: bogus www.badsig.$T A" +dnssec "www.badsig.$T" A
ds_expect_rcode SERVFAIL
world_upstream_settle
B1=$(world_upstream_count "www.badsig.$T" A)

ds_dotsecd_stop
ds_case "run 1: the dump was written on SIGTERM, mode 0600, and logged"
DS_OUT=$(grep "answer cache" "$DS_STDERR" || true)
if [ ! -f "$DUMP" ]; then
	ds_fail "no $DUMP after SIGTERM"
else
	mode=$(stat -c %a "$DUMP")
	[ "$mode" = 600 ] || ds_fail "$DUMP has mode $mode, want 600"
	saved=$(sed -n 's/.*answer cache: \([0-9]*\) answers saved to .*/\1/p' "$DS_STDERR")
	[ "${saved:-0}" -ge "$(printf '%s\n' "$HOT" | wc -l)" ] ||
		ds_fail "answers saved: '${saved:-none}', want at least $(printf '%s\n' "$HOT" | wc -l)"
	cp -p "$DUMP" "$SAVED"
fi
ds_case "run 1: no temporary file left in state_dir"
DS_OUT=$(ls -la "$STATE")
for f in "$STATE"/cache.dump.tmp.*; do
	[ ! -e "$f" ] || ds_fail "a temporary file is left: $f"
done

# ---- run 2: warm.
world_upstream_settle
C1=$(upstream_counts)
start_persist ""
ds_case "run 2: the dump was loaded at start and removed"
DS_OUT=$(grep "answer cache" "$DS_STDERR" || true)
loaded=$(sed -n 's/.*answer cache: \([0-9]*\) answers loaded from .*/\1/p' "$DS_STDERR")
[ "${loaded:-0}" -ge "$(printf '%s\n' "$HOT" | wc -l)" ] ||
	ds_fail "answers loaded: '${loaded:-none}'"
[ ! -e "$DUMP" ] || ds_fail "$DUMP is still there after the start"

while read -r q t r a; do
	ds_dig "run 2: $q $t, from the restored cache" +dnssec "$q" "$t"
	ds_expect_rcode "$r"
	if [ "$a" = yes ]; then ds_expect_flag ad; else ds_expect_noflag ad; fi
	got=$(normal)
	if [ "$got" != "${WANT["$q $t"]}" ]; then
		ds_fail "reply differs from run 1's: $(diff <(printf '%s\n' "${WANT["$q $t"]}") <(printf '%s\n' "$got") | head -n 20)"
	fi
	ttl=$(min_ttl)
	[ "$ttl" -le "${TTL1["$q $t"]}" ] ||
		ds_fail "TTL $ttl, longer than run 1's ${TTL1["$q $t"]}"
	[ "$ttl" -gt 0 ] || ds_fail "TTL 0"
done <<<"$HOT"
world_upstream_settle
C2=$(upstream_counts)
ds_case "run 2: not one upstream query for the hot names (nor their zones' DNSKEY, DS)"
DS_OUT=$(diff <(printf '%s\n' "$C1") <(printf '%s\n' "$C2") || true)
[ "$C1" = "$C2" ] || ds_fail "upstream counts changed (name type count DNSKEY DS)"

ds_dig "run 2: bogus www.badsig.$T A again" +dnssec "www.badsig.$T" A
ds_expect_rcode SERVFAIL
world_upstream_settle
ds_case "run 2: the bogus verdict was not kept over the restart"
B2=$(world_upstream_count "www.badsig.$T" A)
[ "$B2" -gt "$B1" ] || ds_fail "no new upstream query for the bogus name ($B1, $B2)"
ds_dotsecd_stop
ds_case "run 2: dumped again on SIGTERM"
[ -f "$DUMP" ] || ds_fail "no $DUMP"

# ---- damaged dumps: logged, ignored, dotsecd starts and answers.
# bad_start LABEL REASON: start with the dump in place, expect the log line
# and a fresh answer that reached the upstream.
bad_start() {
	local label=$1 reason=$2 c0 c1
	world_upstream_settle
	c0=$(world_upstream_count "www.sec15.$T" A)
	start_persist "${3:-}"
	ds_case "$label: logged as ignored ($reason)"
	DS_OUT=$(grep "answer cache" "$DS_STDERR" || true)
	grep -q "answer cache: .*cache.dump ignored: .*$reason" "$DS_STDERR" ||
		ds_fail "no 'ignored: ...$reason' line"
	grep -q "answers loaded" "$DS_STDERR" && ds_fail "answers were loaded"
	[ ! -e "$DUMP" ] || ds_fail "the ignored dump is still there"
	ds_dig "$label: dotsecd answers" +dnssec "www.sec15.$T" A
	ds_expect_rcode NOERROR
	ds_expect_flag ad
	world_upstream_settle
	c1=$(world_upstream_count "www.sec15.$T" A)
	ds_case "$label: the name was fetched from the upstream"
	[ "$c1" -gt "$c0" ] || ds_fail "upstream count stayed $c0"
	ds_dotsecd_stop
	# What that run saved is not the next case's business.
	rm -f "$DUMP"
}

size=$(stat -c %s "$SAVED")
head -c $((size / 2)) "$SAVED" >"$DUMP"
bad_start "truncated dump" "truncated"

head -c $((size - 1)) "$SAVED" >"$DUMP"
bad_start "dump without its last byte" "truncated"

head -c 4096 /dev/urandom >"$DUMP"
bad_start "random bytes" "not an answer cache dump"

cp "$SAVED" "$DUMP"
# One byte changed: the last of the last reply (before the 40-byte
# trailer), which only the checksum can tell.
off=$((size - 41))
b=$(od -An -tu1 -j "$off" -N 1 "$SAVED" | tr -d ' ')
python3 -c 'import sys; sys.stdout.buffer.write(bytes([int(sys.argv[1])]))' \
	$(((b + 1) % 256)) |
	dd of="$DUMP" bs=1 seek="$off" conv=notrunc status=none
cmp -s "$SAVED" "$DUMP" && ds_die "the dump was not changed"
bad_start "one byte changed" "checksum mismatch"

: >"$DUMP"
bad_start "empty file" "truncated"

# ---- a dump made under another configuration or other trust anchors.
cp "$SAVED" "$DUMP"
bad_start "another configuration (domain_insecure added)" \
	"fingerprint differs" "domain_insecure:
  - other.$T"

# Other trust anchors: a fresh anchor state seeded from a file that also
# holds a second DS for the root.
OTHER_STATE=$WORLD_DIR/warm.other.state
mkdir -p "$OTHER_STATE"
cp "$WORLD_TA_FILE" "$WORLD_DIR/root2.ds"
printf '. IN DS 4242 13 2 %s\n' \
	"$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F)" \
	>>"$WORLD_DIR/root2.ds"
cp "$SAVED" "$OTHER_STATE/cache.dump"
world_upstream_settle
c0=$(world_upstream_count "www.sec15.$T" A)
ds_dotsecd_start timeout=3000 state_dir="$OTHER_STATE" \
	anchor="$WORLD_DIR/root2.ds" extra="cache_persist: 1"
ds_case "other trust anchors: logged as ignored (fingerprint differs)"
DS_OUT=$(grep "answer cache" "$DS_STDERR" || true)
grep -q "answer cache: .*cache.dump ignored: .*fingerprint differs" "$DS_STDERR" ||
	ds_fail "no 'ignored: ... fingerprint differs' line"
ds_dig "other trust anchors: dotsecd answers" +dnssec "www.sec15.$T" A
ds_expect_rcode NOERROR
ds_expect_flag ad
world_upstream_settle
ds_case "other trust anchors: the name was fetched from the upstream"
[ "$(world_upstream_count "www.sec15.$T" A)" -gt "$c0" ] ||
	ds_fail "upstream count stayed $c0"
ds_dotsecd_stop

# ---- a negative trust anchor added with dotsec-control does not survive
# a restart; the answers it let through must not either.
CTL=${DOTSEC_CONTROL:-$(dirname "$DOTSECD")/dotsec-control}
[ -x "$CTL" ] || ds_die "dotsec-control not found at $CTL (set DOTSEC_CONTROL)"
rm -f "$DUMP"
start_persist ""
ds_case "runtime NTA: dotsec-control nta add badsig.$T"
DS_OUT=$("$CTL" -s "$DS_CTL" nta add "badsig.$T" 2>&1) || ds_fail "exit status $?"
ds_dig "runtime NTA: www.badsig.$T A is insecure under it" +dnssec "www.badsig.$T" A
ds_expect_rcode NOERROR
ds_expect_noflag ad
ds_dotsecd_stop
start_persist ""
ds_case "runtime NTA: the dump made under it is ignored at the next start"
DS_OUT=$(grep "answer cache" "$DS_STDERR" || true)
grep -q "answer cache: .*cache.dump ignored: .*fingerprint differs" "$DS_STDERR" ||
	ds_fail "no 'ignored: ... fingerprint differs' line"
ds_dig "runtime NTA: www.badsig.$T A is bogus again, not the saved answer" +dnssec "www.badsig.$T" A
ds_expect_rcode SERVFAIL
ds_dotsecd_stop
rm -f "$DUMP"

# ---- cache_persist off: the dump is neither read nor written.
cp "$SAVED" "$DUMP"
ds_dotsecd_start timeout=3000 state_dir="$STATE"
ds_dotsecd_stop
ds_case "cache_persist off: the dump is left alone"
DS_OUT=$(grep "answer cache" "$DS_STDERR" || true)
cmp -s "$SAVED" "$DUMP" || ds_fail "$DUMP changed"
[ -z "$DS_OUT" ] || ds_fail "dotsecd logged about the answer cache"

ds_finish
