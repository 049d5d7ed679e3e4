#!/bin/bash
# test_sandbox: a running dotsecd is confined, as its /proc status shows
# (seccomp filter in every thread, no new privileges, no capabilities),
# it still serves, dotsecd -t says what the sandbox does, and a reload that
# names a file outside what Landlock lets it read is refused while it
# keeps serving with the configuration it has.  With cache_persist, the
# answer cache is saved at the stop inside the sandbox.

. "$(dirname "$0")/lib.sh"
ds_init
ds_require_dotsecd
world_start

[ "${DS_SANDBOX:-}" = "" ] || ds_die "DS_SANDBOX=$DS_SANDBOX: this test checks the default sandbox"
ds_dotsecd_start workers=2

ds_dig "a query through the sandboxed daemon" "www.$WORLD_ZONE_SEC8" A +dnssec
ds_expect_rcode NOERROR
ds_expect_flag ad

# field NAME FILE: the value of "NAME:" in a /proc status file.
field() { awk -v f="$1:" '$1 == f { print $2 }' "$2"; }

ds_case "/proc status: seccomp filter mode (2), at least one filter"
st=/proc/$DS_PID/status
DS_OUT=$(cat "$st")
[ "$(field Seccomp "$st")" = 2 ] || ds_fail "Seccomp: $(field Seccomp "$st")"
[ "$(field Seccomp_filters "$st")" -ge 1 ] || ds_fail "Seccomp_filters: $(field Seccomp_filters "$st")"
ds_case "/proc status: NoNewPrivs 1"
[ "$(field NoNewPrivs "$st")" = 1 ] || ds_fail "NoNewPrivs: $(field NoNewPrivs "$st")"
ds_case "/proc status: no effective, permitted or bounding capability"
for f in CapEff CapPrm CapBnd CapAmb; do
	[ "$(field "$f" "$st")" = 0000000000000000 ] || ds_fail "$f: $(field "$f" "$st")"
done
ds_case "every thread is filtered"
n=0
for t in /proc/"$DS_PID"/task/*/status; do
	n=$((n + 1))
	[ "$(field Seccomp "$t")" = 2 ] || ds_fail "$t: Seccomp $(field Seccomp "$t")"
done
[ "$n" -ge 3 ] || ds_fail "only $n threads (main and two workers expected)"
ds_case "core dumps off: not dumpable"
# A process that is not dumpable has its /proc files owned by root.
[ "$(stat -c %u "/proc/$DS_PID/status")" = 0 ] || ds_fail "status not root's"

ds_case "dotsecd -t says what the sandbox does"
DS_OUT=$("$DOTSECD" -t -c "$DS_CONF" 2>&1)
grep -q 'sandbox: seccomp allow-list, other calls kill the process' <<<"$DS_OUT" ||
	ds_fail "no seccomp line"
grep -q 'sandbox: Landlock ABI [0-9]*: read only' <<<"$DS_OUT" ||
	ds_fail "no Landlock line"
grep -q 'sandbox: no new privileges' <<<"$DS_OUT" || ds_fail "no privileges line"

# A CA file outside every directory Landlock lets dotsecd read.
outside=$(mktemp -d /var/tmp/dotsec-outside.XXXXXX)
cp "$WORLD_CA_FILE" "$outside/ca.pem"
sed -i "s|^tls_ca_file: .*|tls_ca_file: \"$outside/ca.pem\"|" "$DS_CONF"
n=$(grep -c 'outside what the sandbox' "$DS_STDERR" || true)
kill -HUP "$DS_PID"
ds_case "a reload naming a file outside the Landlock set is refused, with a clear line"
ds_wait_stderr "names $outside/ca.pem, outside what the sandbox lets dotsecd read" 50 ||
	ds_fail "no refusal naming $outside/ca.pem"
ds_dig "... and dotsecd keeps serving" "www.$WORLD_ZONE_SEC13" A +dnssec
ds_expect_rcode NOERROR
ds_expect_flag ad
ds_case "... with the configuration it had (no 'reloaded' line)"
grep -q 'reload: .* reloaded' "$DS_STDERR" && ds_fail "the reload went through"
rm -rf "$outside"

# (its own case: dotsecd stops cleanly under the filter, status 0)
ds_dotsecd_stop

# cache_persist: the dump is written at the stop, under Landlock (only
# state_dir writable) and the seccomp filter (a call off the list kills).
ds_dotsecd_start workers=2 extra="cache_persist: 1"
ds_dig "cache_persist: a query to have something to save" "www.$WORLD_ZONE_SEC8" A +dnssec
ds_expect_rcode NOERROR
state=$(sed -n 's/^state_dir: "\(.*\)"$/\1/p' "$DS_CONF")
ds_dotsecd_stop
ds_case "cache_persist: the answer cache was saved in state_dir, mode 0600, under the sandbox"
DS_OUT=$(grep 'answer cache' "$DS_STDERR" || true)
grep -q 'answer cache: [1-9][0-9]* answers saved to ' "$DS_STDERR" || ds_fail "no 'answers saved' line"
[ "$(stat -c %a "$state/cache.dump" 2>/dev/null)" = 600 ] || ds_fail "no $state/cache.dump of mode 600"
ds_finish
