#!/usr/bin/env bash
# test_anchor_tool.sh -- dotsec-anchor: bootstrap from a root-anchors.xml
# signed by a test CA (made fresh by tests/unit/fixtures/mkfixtures.sh),
# show, and the exit codes: 1 usage, 2 verification or parse failure,
# 3 I/O error.  Needs no DNS world and sends nothing anywhere.
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
ds_init
ds_require openssl cmp

srcdir=${abs_top_srcdir:-$DS_SYSTEM_DIR/../..}
if [ -z "${DOTSEC_ANCHOR:-}" ]; then
	if [ -n "${abs_top_builddir:-}" ]; then
		DOTSEC_ANCHOR=$abs_top_builddir/src/dotsec-anchor
	else
		DOTSEC_ANCHOR=$srcdir/src/dotsec-anchor
	fi
fi
[ -x "$DOTSEC_ANCHOR" ] ||
	ds_die "no executable dotsec-anchor at '$DOTSEC_ANCHOR'" \
		"(build it, or set DOTSEC_ANCHOR)"

dir=$(mktemp -d "${TMPDIR:-/tmp}/dotsec-anchor-tool.XXXXXX")
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup_tool() {
	chmod -R u+w "$dir" 2>/dev/null || true
	rm -rf "$dir"
}
# _ds_on_exit reads the script's status from $?: keep it across the clean-up.
ds_rc=0
trap 'ds_rc=$?; set +e; cleanup_tool; (exit "$ds_rc"); _ds_on_exit' EXIT

fx=$dir/fixtures
bash "$srcdir/tests/unit/fixtures/mkfixtures.sh" "$fx" \
	>"$dir/mkfixtures.log" 2>&1 ||
	ds_die "mkfixtures.sh failed: $(cat "$dir/mkfixtures.log")"
state=$dir/state
mkdir "$state"

# run ARGS...: run dotsec-anchor; OUT and RC keep its output and status.
OUT=""
RC=0
run() {
	RC=0
	OUT=$("$DOTSEC_ANCHOR" "$@" 2>&1) || RC=$?
	DS_OUT="\$ dotsec-anchor $*
$OUT"
}
expect_rc() {
	[ "$RC" = "$1" ] || ds_fail "exit status $RC, expected $1"
}
expect_out() {
	[[ $OUT == *"$1"* ]] || ds_fail "output lacks '$1'"
}
# show_line TAG TYPE: the line of show's output for that key.
show_line() {
	printf '%s\n' "$OUT" | awk -v t="$1" -v y="$2" '$1 == t && $3 == y'
}
bootstrap() {
	run bootstrap --xml "$fx/root-anchors.xml" --sig "$fx/good.p7s" \
		--ca "$fx/ca.pem" "$@"
}

# ---------------------------------------------------------------- usage

ds_case "-h prints usage, exit 0"
run -h
expect_rc 0
expect_out "bootstrap --xml FILE --sig FILE"
expect_out "3 I/O error"

ds_case "no command: exit 1"
run
expect_rc 1

ds_case "unknown command: exit 1"
run frobnicate
expect_rc 1

ds_case "bootstrap without --sig: exit 1"
run bootstrap --xml "$fx/root-anchors.xml" -s "$state"
expect_rc 1

ds_case "-s and -f together: exit 1"
run show -s "$state" -f "$state/root.anchor"
expect_rc 1

ds_case "an unknown option: exit 1"
run show --frobnicate
expect_rc 1

ds_case "show with a bootstrap option: exit 1"
run show --xml "$fx/root-anchors.xml"
expect_rc 1

# ---------------------------------------------------------------- bootstrap

ds_case "bootstrap with a test CA: exit 0, a seed file of DS records"
bootstrap -s "$state"
expect_rc 0
expect_out "2 DS records"
if [ -f "$state/root.anchor" ]; then
	grep -q '^\. IN DS 20326 8 2 E06D44B8' "$state/root.anchor" ||
		ds_fail "no DS 20326 in the state file"
	grep -q '^\. IN DS 38696 8 2 683D2D0A' "$state/root.anchor" ||
		ds_fail "no DS 38696 in the state file"
	grep -q '19036' "$state/root.anchor" &&
		ds_fail "the expired KeyDigest 19036 was written"
	[ "$(stat -c %a "$state/root.anchor")" = 644 ] ||
		ds_fail "mode $(stat -c %a "$state/root.anchor"), expected 644"
else
	ds_fail "no $state/root.anchor"
fi

ds_case "show lists the DS records in state SEED, trusted"
run show -s "$state"
expect_rc 0
for tag in 20326 38696; do
	line=$(show_line "$tag" DS)
	if [ -z "$line" ]; then
		ds_fail "no line for DS $tag"
		continue
	fi
	[ "$(printf '%s\n' "$line" | awk '{ print $2, $4, $5, $6 }')" = "8 - SEED yes" ] ||
		ds_fail "DS $tag: '$line', expected algorithm 8, no REVOKE, SEED, trusted"
done
expect_out "query_failed:    0"

ds_case "show -f names the file itself"
run show -f "$state/root.anchor"
expect_rc 0
[ -n "$(show_line 20326 DS)" ] || ds_fail "no DS 20326"

ds_case "bootstrap again: the file is replaced, no temporary file left"
bootstrap -f "$state/root.anchor"
expect_rc 0
n=$(find "$state" -mindepth 1 | wc -l)
[ "$n" = 1 ] || ds_fail "$n files in the state directory: $(ls -a "$state")"

ds_case "bootstrap with the PEM signature and the SAN signer"
run bootstrap --xml "$fx/root-anchors.xml" --sig "$fx/good-pem.p7s" \
	--ca "$fx/ca.pem" -f "$dir/pem.anchor"
expect_rc 0
run bootstrap --xml "$fx/root-anchors.xml" --sig "$fx/san.p7s" \
	--ca "$fx/ca.pem" --email dnssec@iana.org -f "$dir/san.anchor"
expect_rc 0

# ---------------------------------------------------------------- failures

cp "$state/root.anchor" "$dir/before.anchor"

ds_case "tampered XML: exit 2, the state file untouched"
sed 's/E06D44B8/E06D44B9/' "$fx/root-anchors.xml" >"$dir/tampered.xml"
run bootstrap --xml "$dir/tampered.xml" --sig "$fx/good.p7s" \
	--ca "$fx/ca.pem" -s "$state"
expect_rc 2
expect_out "does not verify"
cmp -s "$dir/before.anchor" "$state/root.anchor" ||
	ds_fail "the state file changed"

ds_case "a signer with another e-mail address: exit 2"
run bootstrap --xml "$fx/root-anchors.xml" --sig "$fx/wrongmail.p7s" \
	--ca "$fx/ca.pem" -s "$state"
expect_rc 2
expect_out "dnssec@iana.org"

ds_case "signed under another CA: exit 2"
run bootstrap --xml "$fx/root-anchors.xml" --sig "$fx/otherca.p7s" \
	--ca "$fx/ca.pem" -s "$state"
expect_rc 2

ds_case "ICANN's CA does not accept the test signature: exit 2"
run bootstrap --xml "$fx/root-anchors.xml" --sig "$fx/good.p7s" \
	--ca "$srcdir/trust-anchors/icannbundle.pem" -s "$state"
expect_rc 2
cmp -s "$dir/before.anchor" "$state/root.anchor" ||
	ds_fail "the state file changed"

ds_case "unwritable state directory: exit 3, naming the path"
bootstrap -s "$dir/no-such-dir"
expect_rc 3
expect_out "$dir/no-such-dir/root.anchor"
printf 'x\n' >"$dir/plainfile"
bootstrap -f "$dir/plainfile/root.anchor"
expect_rc 3
expect_out "$dir/plainfile/root.anchor"
if [ "$(id -u)" != 0 ]; then
	mkdir "$dir/ro"
	chmod 555 "$dir/ro"
	bootstrap -s "$dir/ro"
	expect_rc 3
	expect_out "Permission denied"
fi

ds_case "an XML file that cannot be read: exit 3"
run bootstrap --xml "$dir/missing.xml" --sig "$fx/good.p7s" \
	--ca "$fx/ca.pem" -s "$state"
expect_rc 3
expect_out "$dir/missing.xml"

ds_case "a CA file that cannot be read: exit 3"
run bootstrap --xml "$fx/root-anchors.xml" --sig "$fx/good.p7s" \
	--ca "$dir/missing-ca.pem" -s "$state"
expect_rc 3
expect_out "$dir/missing-ca.pem"

ds_case "show on a missing file: exit 3"
run show -f "$dir/missing.anchor"
expect_rc 3

ds_case "show on a corrupt file: exit 2, with the line"
printf '. IN DS 20326 8 2 %s\n. IN DS 1 8 2 XYZ\n' \
	E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D \
	>"$dir/corrupt.anchor"
run show -f "$dir/corrupt.anchor"
expect_rc 2
expect_out "$dir/corrupt.anchor:2:"

ds_case "show on libunbound's own autotrust file"
run show -f "$srcdir/tests/unit/fixtures/autotrust-real.anchor"
expect_rc 0
line=$(show_line 31047 DNSKEY)
[ "$(printf '%s\n' "$line" | awk '{ print $2, $4, $5, $6 }')" = "13 - VALID yes" ] ||
	ds_fail "DNSKEY 31047: '$line'"
expect_out "last_queried:    2026-11-25 19:51:36 UTC"
expect_out "next_probe_time: 2026-11-25 20:50:14 UTC"

ds_finish
