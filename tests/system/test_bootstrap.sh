#!/bin/bash
# test_bootstrap.sh -- RFC 7958 bootstrap of the trust anchor state:
# a root-anchors.xml for the test root's KSK, signed (detached S/MIME, DER)
# by a test "IANA" CA, given to dotsecd as a file pair and as an https URL
# (a local https server with a certificate for its IP address).  A verified
# bootstrap seeds the state with the DS record and dotsecd validates; a
# tampered file or a wrong signer is refused, logged, and dotsecd falls
# back to trust_anchor_file.
#
# Run: DOTSECD=/path/to/dotsecd bash tests/system/test_bootstrap.sh
set -eu
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ds_init
ds_require_dotsecd
ds_require openssl python3
world_start
T=$WORLD_TLD
B=$WORLD_DIR/bootstrap
mkdir -p "$B"

# --- a test signer hierarchy: CA -> signer with e-mail dnssec@test.invalid
EMAIL=dnssec@test.invalid
ossl() { openssl "$@" >>"$B/openssl.log" 2>&1 || ds_die "openssl $1 failed (see $B/openssl.log)"; }
ossl req -x509 -newkey rsa:2048 -nodes -keyout "$B/ca.key" -out "$B/ca.pem" \
	-days 30 -subj "/CN=dotsec test root anchors CA" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign"
ossl req -newkey rsa:2048 -nodes -keyout "$B/signer.key" -out "$B/signer.csr" \
	-subj "/CN=dotsec test anchor signer/emailAddress=$EMAIL"
printf 'subjectAltName=email:%s\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=emailProtection\n' \
	"$EMAIL" >"$B/signer.ext"
ossl x509 -req -in "$B/signer.csr" -CA "$B/ca.pem" -CAkey "$B/ca.key" \
	-CAcreateserial -days 30 -out "$B/signer.pem" -extfile "$B/signer.ext"

# --- root-anchors.xml for the test root's KSK (its DS from the world)
read -r tag alg dt digest < <(awk '{for (i = 1; i <= NF; i++) if ($i == "DS") {print $(i+1), $(i+2), $(i+3), $(i+4); exit}}' "$WORLD_TA_FILE")
[ -n "${digest:-}" ] || ds_die "no DS in $WORLD_TA_FILE"
cat >"$B/root-anchors.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<TrustAnchor id="DOTSEC-TEST" source="https://example.invalid/root-anchors.xml">
<Zone>.</Zone>
<KeyDigest id="Ktest" validFrom="2020-01-01T00:00:00+00:00">
<KeyTag>$tag</KeyTag>
<Algorithm>$alg</Algorithm>
<DigestType>$dt</DigestType>
<Digest>$digest</Digest>
</KeyDigest>
</TrustAnchor>
XML
ossl cms -sign -binary -in "$B/root-anchors.xml" -signer "$B/signer.pem" \
	-inkey "$B/signer.key" -outform DER -out "$B/root-anchors.p7s"
# A tampered copy: the signature no longer matches.
sed 's/<KeyTag>/<KeyTag>1/' "$B/root-anchors.xml" >"$B/tampered.xml"

# expect_bootstrapped LABEL: the state holds the DS, validation works.
expect_bootstrapped() {
	ds_case "$1: state bootstrapped with the DS of tag $tag"
	DS_OUT=$(cat "$DS_STDERR")
	grep -q "bootstrapped from" "$DS_STDERR" || ds_fail "no bootstrap logged"
	# The DS as written, or the DNSKEY libunbound's first probe
	# tracks in its place.
	grep -qiE "DS[[:space:]]+${tag}[[:space:]]|id = ${tag} " \
		"$DS_STATE/root.anchor" ||
		ds_fail "the state file has no key $tag"
	ds_dig "$1: validation with the bootstrapped anchor" +dnssec \
		"www.sec8.$T" A
	ds_expect_rcode NOERROR
	ds_expect_flag ad
}

# --- the file pair
DS_STATE=$WORLD_DIR/bs-files
ds_dotsecd_start state_dir="$DS_STATE" anchor="$WORLD_DIR/none.key" \
	extra="anchor_bootstrap: 1
anchor_bootstrap_xml: $B/root-anchors.xml
anchor_bootstrap_sig: $B/root-anchors.p7s
anchor_bootstrap_ca: $B/ca.pem
anchor_bootstrap_email: $EMAIL"
expect_bootstrapped "file pair"
ds_dotsecd_stop

# --- a tampered file: refused, fall back to trust_anchor_file
DS_STATE=$WORLD_DIR/bs-tampered
ds_dotsecd_start state_dir="$DS_STATE" extra="anchor_bootstrap: 1
anchor_bootstrap_xml: $B/tampered.xml
anchor_bootstrap_sig: $B/root-anchors.p7s
anchor_bootstrap_ca: $B/ca.pem
anchor_bootstrap_email: $EMAIL"
ds_case "tampered XML: refused, logged, seeded from trust_anchor_file"
DS_OUT=$(cat "$DS_STDERR")
grep -q "signature not valid" "$DS_STDERR" || ds_fail "no refusal logged"
grep -q "seeded from $WORLD_TA_FILE" "$DS_STDERR" || ds_fail "no fall-back"
ds_dig "tampered XML: still validates from the seed" +dnssec "www.sec8.$T" A
ds_expect_rcode NOERROR
ds_expect_flag ad
ds_dotsecd_stop

# --- a wrong signer e-mail: refused
DS_STATE=$WORLD_DIR/bs-email
ds_dotsecd_start state_dir="$DS_STATE" extra="anchor_bootstrap: 1
anchor_bootstrap_xml: $B/root-anchors.xml
anchor_bootstrap_sig: $B/root-anchors.p7s
anchor_bootstrap_ca: $B/ca.pem
anchor_bootstrap_email: someone-else@test.invalid"
ds_case "wrong signer e-mail: refused, seeded from trust_anchor_file"
DS_OUT=$(cat "$DS_STDERR")
grep -q "signature not valid" "$DS_STDERR" || ds_fail "no refusal logged"
if grep -q "bootstrapped from" "$DS_STDERR"; then
	ds_fail "bootstrapped although the signer's e-mail is wrong"
fi
ds_dotsecd_stop

# --- the https URL: a local server with a certificate for its address
addr=$WORLD_NET.61
port=$((20000 + RANDOM % 20000))
printf 'subjectAltName=IP:%s\n' "$addr" >"$B/https.ext"
ossl req -newkey rsa:2048 -nodes -keyout "$B/https.key" -out "$B/https.csr" \
	-subj "/CN=$addr"
ossl x509 -req -in "$B/https.csr" -CA "$B/ca.pem" -CAkey "$B/ca.key" \
	-CAcreateserial -days 30 -out "$B/https.pem" -extfile "$B/https.ext"
mkdir -p "$B/www/root-anchors"
cp "$B/root-anchors.xml" "$B/root-anchors.p7s" "$B/www/root-anchors/"
python3 - "$addr" "$port" "$B/https.pem" "$B/https.key" "$B/www" \
	>"$B/https.log" 2>&1 <<'PY' &
import functools, http.server, ssl, sys
addr, port, cert, key, root = sys.argv[1:6]
handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                            directory=root)
srv = http.server.HTTPServer((addr, int(port)), handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.timeout = 1
import time
end = time.time() + 120
while time.time() < end:
    srv.handle_request()
PY
world_register_pid $!
world_register_log "$B/https.log" "https server"
for _ in $(seq 1 50); do
	if ss -ltn | grep -q "$addr:$port"; then break; fi
	sleep 0.1
done

DS_STATE=$WORLD_DIR/bs-url
ds_dotsecd_start state_dir="$DS_STATE" anchor="$WORLD_DIR/none.key" \
	extra="anchor_bootstrap: 1
anchor_bootstrap_url: https://$addr:$port/root-anchors/root-anchors.xml
anchor_bootstrap_url_ca: $B/ca.pem
anchor_bootstrap_ca: $B/ca.pem
anchor_bootstrap_email: $EMAIL"
expect_bootstrapped "https URL"
ds_case "https URL: both files were fetched from the server"
DS_OUT=$(cat "$B/https.log")
grep -q 'GET /root-anchors/root-anchors.xml' "$B/https.log" ||
	ds_fail "root-anchors.xml not fetched"
grep -q 'GET /root-anchors/root-anchors.p7s' "$B/https.log" ||
	ds_fail "root-anchors.p7s not fetched"
ds_dotsecd_stop

# --- an https server dotsecd cannot authenticate: refused
DS_STATE=$WORLD_DIR/bs-url-untrusted
ds_dotsecd_start state_dir="$DS_STATE" extra="anchor_bootstrap: 1
anchor_bootstrap_url: https://$addr:$port/root-anchors/root-anchors.xml
anchor_bootstrap_url_ca: $WORLD_CA_FILE
anchor_bootstrap_ca: $B/ca.pem
anchor_bootstrap_email: $EMAIL"
ds_case "https server with an untrusted certificate: refused, seeded"
DS_OUT=$(cat "$DS_STDERR")
grep -q "TLS handshake failed" "$DS_STDERR" || ds_fail "no TLS failure logged"
grep -q "seeded from $WORLD_TA_FILE" "$DS_STDERR" || ds_fail "no fall-back"
ds_dotsecd_stop

ds_finish
