# shellcheck shell=bash
#
# world.sh -- a local signed DNS world for dotsec's system tests.
#
# Source it from bash, then call world_start.  Everything is built from
# nothing in a fresh directory ($WORLD_DIR, under ${TMPDIR:-/tmp}) and served
# on random loopback addresses 127.N.M.x (one /24 per world, so several test
# scripts can run in parallel under `make -j check`), standard ports 53/853.
# Needs root (ports 53 and 853), nsd, unbound, unbound-control, openssl,
# dnssec-keygen, dnssec-signzone, dnssec-dsfromkey, dnssec-revoke, dig, kdig,
# ss, python3.
#
#   world_start        build and start everything; on any failure it prints
#                      why, dumps every log, stops what it started and exits
#                      the calling script with status 1.
#   world_stop         stop every process by PID and remove $WORLD_DIR
#                      (kept when WORLD_KEEP=1).
#   world_dump_logs    print every log of the world (and files registered
#                      with world_register_log, e.g. dotsecd's stderr).
#   world_register_log FILE [TITLE]
#   world_start_reference   start a validating unbound (validator iterator,
#                      ede: yes, the test anchor) on $WORLD_REF_ADDR@53 that
#                      forwards to the upstream in clear text: a reference
#                      for verdicts and RFC 8914 codes; never give it to
#                      dotsecd.
#   world_upstream_ctl ARGS...   unbound-control on the good upstream
#                      (e.g. world_upstream_ctl flush_type . DNSKEY).
#   world_upstream_count QNAME QTYPE   how many queries for QNAME/QTYPE the
#                      good upstream has logged (case-insensitive).
#   world_canary_count  lines in the canary log (must stay 0).
#   world_start_second_upstream   start a second good DoT upstream (same
#                      certificate and CA) on $WORLD_UPSTREAM2_ADDR@853;
#                      exports WORLD_UPSTREAM2_ADDR, WORLD_UPSTREAM2_CONF,
#                      WORLD_UPSTREAM2_LOG.  Optional: world_start does not.
#   world_upstream_pid 1|2   PID of good upstream 1 ($WORLD_UPSTREAM_ADDR)
#                      or 2 ($WORLD_UPSTREAM2_ADDR), empty when not running.
#   world_upstream_kill 1|2 [SIGNAL]   stop it by PID (default KILL).
#   world_upstream_restart 1|2   start it again, same configuration; waits
#                      until it answers over DoT.
#   world_register_pid PID   stop PID (by PID, TERM then KILL) with the
#                      world, e.g. a test's own extra unbound.
#   world_root_serial  the root SOA serial NSD serves now.
#
# A live root KSK roll (RFC 5011), in three steps, in this order (a step
# out of order returns 1 and changes nothing).  Each re-signs the root with
# the same ZSK (the DS records of example. and below stay valid), the
# DNSKEY RRset signed by the KSKs only (dnssec-signzone -x; before the
# first step the ZSK signs it too), bumps the root SOA serial, sends NSD a
# SIGHUP and waits (10 s at most) until NSD serves the new serial, then
# flushes `. DNSKEY` and `.` (SOA, NS) from every good upstream that runs
# (unbound-control flush_type . DNSKEY; flush .), so the next query for
# . DNSKEY through an upstream sees the new set.  Each returns 0, or 1 with
# a message on stderr; a signing failure dies like world_start.  Takes
# about 0.1 s.  Set WORLD_ROOT_DNSKEY_TTL=10 before world_start for roll
# tests (a validator's cached copy expires soon after each step).
#   world_roll_publish  KSK2 ($WORLD_KSK2_TAG, same algorithm as KSK1)
#                      joins the DNSKEY RRset; KSK1 and KSK2 both sign it.
#   world_roll_revoke  KSK1 gets the REVOKE bit (dnssec-revoke: flags 385,
#                      tag $WORLD_KSK1_REVOKED_TAG); the RRset holds the
#                      revoked KSK1 and KSK2 and is signed by both (the
#                      revoked key signs itself, as RFC 5011 requires).
#   world_roll_remove  KSK1 gone; the RRset is signed by KSK2 alone.
# What a validator sees (tests/system/test_world_roll.sh): a static KSK1
# anchor (DS or DNSKEY) validates until world_roll_revoke and is bogus from
# then on -- a static anchor knows nothing of revocation, and the revoked
# KSK1 is another key (its DS and DNSKEY differ) -- so world_start_reference
# (static KSK1 anchor) goes bogus at revoke too; a static KSK2 anchor
# validates from world_roll_publish on; an RFC 5011 tracker seeded with
# KSK1 follows the whole roll.
#
# Exports after world_start:
#   WORLD_DIR             the temporary directory of this world
#   WORLD_NET             "127.N.M": the /24 of this world
#   WORLD_NSD_ADDR        NSD, authoritative for every zone (port 53)
#   WORLD_UPSTREAM_ADDR   the good DoT upstream (recursive unbound)
#   WORLD_UPSTREAM_PORT   853 (all DoT instances)
#   WORLD_AUTH_NAME       "dns.test": the name in the good certificate
#   WORLD_CA_FILE         the test CA (PEM) that issued the good certificate
#   WORLD_SPKI_PIN        base64(sha256(SPKI)) of the good upstream's key
#   WORLD_BAD_PIN         a well-formed pin of a key no upstream uses
#   WORLD_WRONGNAME_ADDR  DoT upstream whose certificate (same CA) is for
#                         "wrong.test" (port 853)
#   WORLD_BADCA_ADDR      DoT upstream with a "dns.test" certificate from a
#                         second CA that nobody trusts (port 853)
#   WORLD_BADCA_FILE      that second CA (for checks only)
#   WORLD_PLAIN_ADDR      clear-text port 53 of the good upstream process,
#                         for checks of the world only; never give to dotsecd
#   WORLD_REF_ADDR        address of world_start_reference's unbound
#   WORLD_DOTSECD_ADDR    address suggested for dotsecd to listen on
#   WORLD_CLIENT_ADDR     source address for clients (dig -b)
#   WORLD_TA_FILE         trust anchor of the test root: zone-format DS line
#   WORLD_TA_DNSKEY_FILE  the same anchor as a zone-format DNSKEY line
#   WORLD_TA2_FILE        the root's second KSK (KSK2) as a zone-format DS
#                         line; KSK2 exists from world_start on but is only
#                         in the zone after world_roll_publish
#   WORLD_TA2_DNSKEY_FILE KSK2 as a zone-format DNSKEY line
#   WORLD_KSK1_TAG WORLD_KSK2_TAG   key tags of the root KSKs (KSK1 is the
#                         one of WORLD_TA_FILE)
#   WORLD_KSK1_REVOKED_TAG   the tag of KSK1 with the REVOKE bit set (the
#                         tag a validator sees after world_roll_revoke)
#   WORLD_ZSK_TAG         the root ZSK's tag (the same throughout a roll)
#   WORLD_ROOT_SERIAL     the root SOA serial served (1, +1 per roll step)
#   WORLD_ROLL_STATE      none, published, revoked or removed
#   WORLD_ROOT_DNSKEY_TTL the TTL of the root DNSKEY RRset and of the root
#                         SOA (record and minimum, so also the negative
#                         TTL).  Input: set it before world_start (10 for
#                         roll tests); default 300 like every other TTL.
#   WORLD_NSD_PID         NSD's PID (SIGHUP reloads changed zone files)
#   WORLD_UPSTREAM_LOG    the good upstream's log (log-queries: yes); lines
#                         "... info: 127.a.b.c NAME. TYPE IN"
#   WORLD_WRONGNAME_LOG WORLD_BADCA_LOG   the same for the two bad upstreams
#   WORLD_CANARY_LOG      what arrived in clear text at port 53 of any
#                         upstream address (UDP or TCP); must stay empty
#   WORLD_UPSTREAM_CONF   the good upstream's unbound.conf (unbound-control -c)
#   WORLD_NSD_LOG         NSD's log
#   WORLD_TLD             "example": the signed TLD under the test root.
#                         Not "test.": dotsecd answers test., invalid.,
#                         onion. etc. itself with NXDOMAIN (RFC 6761), so
#                         a world under test. never reaches the upstream.
# Zones, all children of the signed TLD (ECDSAP256SHA256, NSEC), itself
# under the signed test root "." (ECDSAP256SHA256, NSEC); every signed zone
# has a KSK and a ZSK; all TTLs 300 (but see WORLD_ROOT_DNSKEY_TTL).  The
# root also has an unpublished second KSK for the roll.  Each zone has www.<zone> A
# 192.0.2.<octet>, AAAA 2001:db8::<octet>, TXT "www.<zone>";
# *.wild.<zone> A 198.51.100.<octet> and a TXT; nx.<zone> does not exist;
# www.<zone> MX is NODATA:
#   WORLD_ZONE_SEC8=sec8.example       secure, RSASHA256 (8), NSEC     octet 8
#       also big.sec8.example TXT: WORLD_BIG_COUNT (16) records, ~1500
#       bytes, and cname.sec8.example CNAME www.sec13.example.
#   WORLD_ZONE_SEC13=sec13.example     secure, ECDSAP256SHA256 (13), NSEC3
#                                      (no salt, 0 iterations)        octet 13
#   WORLD_ZONE_SEC15=sec15.example     secure, ED25519 (15), NSEC     octet 15
#   WORLD_ZONE_INSECURE=insecure.example  unsigned, no DS             octet 20
#   WORLD_ZONE_BADSIG=badsig.example   RRSIG of www A corrupted (one base64
#                                      character changed); www AAAA has
#                                      its good RRSIG and a corrupted
#                                      copy (secure: one verifies)    octet 21
#   WORLD_ZONE_EXPIRED=expired.example every signature valid only in
#                                      January 2020 (signed with -P)  octet 22
#   WORLD_ZONE_DSMISMATCH=dsmismatch.example  the DS in example. is that of
#                                      a key the zone does not have   octet 23
#   WORLD_ZONE_NONSEC=nonsec.example   every NSEC (and its RRSIG) removed:
#                                      NXDOMAIN/NODATA come without proof;
#                                      positive answers still secure  octet 24
#   WORLD_ZONE_NOSIG=nosig.example     the RRSIG of www A removed (AAAA
#                                      still signed)                  octet 25
#   WORLD_BIG_NAME=big.sec8.example  WORLD_BIG_COUNT=16
#   WORLD_CNAME_NAME=cname.sec8.example  WORLD_CNAME_TARGET=www.sec13.example
# Signatures of the good zones are valid from 1 hour before world_start to
# 30 days after it.  lib.sh's ds_cases lists the query cases and verdicts.

WORLD_PIDS=""
WORLD_EXTRA_LOGS=""
WORLD_NET_LOCK=""
WORLD_REF_STARTED=0

_world_say() {
	printf 'world: %s\n' "$*" >&2
}

_world_die() {
	printf 'world: FAILED: %s\n' "$*" >&2
	world_dump_logs >&2
	WORLD_LOGS_DUMPED=1
	WORLD_KEEP=${WORLD_KEEP:-1}
	world_stop
	exit 1
}

_world_need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 ||
			PATH="$PATH:/usr/sbin:/sbin" command -v "$t" >/dev/null 2>&1 ||
			_world_die "required program '$t' not found (install it: nsd, unbound, bind9-utils, bind9-dnsutils, knot-dnsutils, openssl, iproute2, python3)"
	done
}

# Run a command quietly; on failure show its output and die.
_world_run() {
	local out
	if ! out=$("$@" 2>&1); then
		printf '%s\n' "$out" >&2
		_world_die "command failed: $*"
	fi
}

world_register_log() {
	WORLD_EXTRA_LOGS="$WORLD_EXTRA_LOGS$1|${2:-$1}
"
}

_world_cat() {
	local f=$1 title=$2
	[ -n "$f" ] || return 0
	printf '\n===== %s (%s) =====\n' "$title" "$f"
	if [ -f "$f" ]; then
		cat "$f"
	else
		printf '(no such file)\n'
	fi
}

world_dump_logs() {
	local line
	[ -n "${WORLD_DIR:-}" ] || return 0
	if [ "${WORLD_LOGS_DUMPED:-0}" = 1 ]; then
		printf 'world: logs printed above\n'
		return 0
	fi
	_world_cat "$WORLD_DIR/nsd.log" "NSD log"
	_world_cat "$WORLD_DIR/nsd.stderr" "NSD stderr"
	_world_cat "$WORLD_DIR/good/unbound.log" "good upstream unbound log"
	_world_cat "$WORLD_DIR/good/unbound.stderr" "good upstream unbound stderr"
	_world_cat "$WORLD_DIR/wrongname/unbound.log" "wrong-name upstream log"
	_world_cat "$WORLD_DIR/wrongname/unbound.stderr" "wrong-name upstream stderr"
	_world_cat "$WORLD_DIR/badca/unbound.log" "bad-CA upstream log"
	_world_cat "$WORLD_DIR/badca/unbound.stderr" "bad-CA upstream stderr"
	_world_cat "$WORLD_DIR/canary.log" "clear-text canary log"
	_world_cat "$WORLD_DIR/canary.stderr" "clear-text canary stderr"
	if [ "$WORLD_REF_STARTED" = 1 ]; then
		_world_cat "$WORLD_DIR/ref/unbound.log" "reference validator log"
		_world_cat "$WORLD_DIR/ref/unbound.stderr" "reference validator stderr"
	fi
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		_world_cat "${line%%|*}" "${line#*|}"
	done <<EOF
$WORLD_EXTRA_LOGS
EOF
	printf '\n===== end of logs (world %s) =====\n' "$WORLD_DIR"
}

# Stop one process by PID: TERM, wait up to 5 s, then KILL.
_world_kill() {
	local pid=$1 i=0
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	kill -TERM "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		_world_say "PID $pid did not stop on TERM; sending KILL"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

world_stop() {
	local pid
	# Reverse order of start.
	for pid in $WORLD_PIDS; do
		_world_kill "$pid"
	done
	WORLD_PIDS=""
	if [ -n "$WORLD_NET_LOCK" ]; then
		rmdir "$WORLD_NET_LOCK" 2>/dev/null || true
		WORLD_NET_LOCK=""
	fi
	if [ -n "${WORLD_DIR:-}" ] && [ -d "$WORLD_DIR" ]; then
		if [ "${WORLD_KEEP:-0}" = 1 ]; then
			_world_say "kept $WORLD_DIR"
		else
			rm -rf "$WORLD_DIR"
		fi
	fi
}

_world_addpid() {
	WORLD_PIDS="$1 $WORLD_PIDS"
}

# _world_wait WHAT PID SECONDS COMMAND...: retry COMMAND every 0.1 s until it
# succeeds; die when PID has exited or after SECONDS.
_world_wait() {
	local what=$1 pid=$2 secs=$3 i=0
	shift 3
	while ! "$@" >/dev/null 2>&1; do
		if ! kill -0 "$pid" 2>/dev/null; then
			_world_die "$what (PID $pid) exited during start-up"
		fi
		if [ $i -ge $((secs * 10)) ]; then
			_world_die "$what (PID $pid) not up after ${secs}s: $*"
		fi
		sleep 0.1
		i=$((i + 1))
	done
}

_world_listening() {
	# _world_listening PROTO(t|u) ADDR PORT
	ss -Hln"$1" "src $2:$3" | grep -q .
}

_world_pick_net() {
	local i n lockdir=${TMPDIR:-/tmp}
	for i in $(seq 1 100); do
		n="127.$((RANDOM % 190 + 64)).$((RANDOM % 254 + 1))"
		if ss -Hlntua | grep -qF " $n."; then
			continue
		fi
		if mkdir "$lockdir/dotsec-world-net.$n" 2>/dev/null; then
			WORLD_NET_LOCK="$lockdir/dotsec-world-net.$n"
			WORLD_NET=$n
			return 0
		fi
		: "$i"
	done
	_world_die "no free 127.x.y.0/24 found"
}

# ---------------------------------------------------------------- TLS

_world_tls() {
	local d=$WORLD_DIR/tls
	mkdir -p "$d"
	_world_run openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		-nodes -keyout "$d/ca.key" -out "$d/ca.pem" -days 30 \
		-subj "/CN=dotsec test CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign"
	_world_run openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		-nodes -keyout "$d/ca2.key" -out "$d/ca2.pem" -days 30 \
		-subj "/CN=dotsec untrusted CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign"
	_world_leaf "$d" good dns.test ca
	_world_leaf "$d" wrongname wrong.test ca
	_world_leaf "$d" badca dns.test ca2
	_world_leaf "$d" unused dns.test ca
	WORLD_CA_FILE=$d/ca.pem
	WORLD_BADCA_FILE=$d/ca2.pem
	WORLD_SPKI_PIN=$(_world_pin "$d/good.key")
	WORLD_BAD_PIN=$(_world_pin "$d/unused.key")
	[ -n "$WORLD_SPKI_PIN" ] || _world_die "cannot compute the SPKI pin"
}

# _world_leaf DIR NAME DNSNAME CA
_world_leaf() {
	local d=$1 n=$2 dns=$3 ca=$4
	printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
		"$dns" >"$d/$n.ext"
	_world_run openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		-nodes -keyout "$d/$n.key" -out "$d/$n.csr" -subj "/CN=$dns"
	_world_run openssl x509 -req -in "$d/$n.csr" -CA "$d/$ca.pem" \
		-CAkey "$d/$ca.key" -set_serial "$((RANDOM * 32768 + RANDOM + 1))" \
		-days 30 -extfile "$d/$n.ext" -out "$d/$n.pem"
}

_world_pin() {
	openssl pkey -in "$1" -pubout -outform DER 2>/dev/null |
		openssl dgst -sha256 -binary | openssl base64 -A
}

# ---------------------------------------------------------------- zones

# _world_keygen ZONE ALG [BITS [TTL]]: sets _ksk and _zsk to key file base
# names (DNSKEY TTL 300 unless TTL is given).
_world_keygen() {
	local zone=$1 alg=$2 bits=${3:-} ttl=${4:-300} kd=$WORLD_DIR/keys b=()
	[ -n "$bits" ] && b=(-b "$bits")
	_ksk=$kd/$(dnssec-keygen -q -K "$kd" -a "$alg" "${b[@]}" -L "$ttl" -n ZONE -f KSK "$zone" 2>"$WORLD_DIR/keygen.err") ||
		{ cat "$WORLD_DIR/keygen.err" >&2; _world_die "dnssec-keygen $alg $zone"; }
	_zsk=$kd/$(dnssec-keygen -q -K "$kd" -a "$alg" "${b[@]}" -L "$ttl" -n ZONE "$zone" 2>"$WORLD_DIR/keygen.err") ||
		{ cat "$WORLD_DIR/keygen.err" >&2; _world_die "dnssec-keygen $alg $zone"; }
}

# _world_tag KEYBASE: the key tag in a K<zone>+<alg>+<tag> file name.
_world_tag() {
	local t=${1##*+}
	printf '%s\n' "$((10#$t))"
}

# _world_ds KEYBASE: the DS (SHA-256) of a key, zone format.
_world_ds() {
	dnssec-dsfromkey -2 "$1.key" 2>/dev/null ||
		_world_die "dnssec-dsfromkey $1"
}

# _world_body ZONE OCTET: the common zone content.
_world_body() {
	local z=$1 o=$2
	cat <<EOF
\$ORIGIN $z.
\$TTL 300
@	SOA	ns.$WORLD_TLD. hostmaster.$WORLD_TLD. 1 3600 900 604800 300
@	NS	ns.$WORLD_TLD.
www	A	192.0.2.$o
www	AAAA	2001:db8::$o
www	TXT	"www.$z"
*.wild	A	198.51.100.$o
*.wild	TXT	"wildcard in $z"
EOF
}

# _world_sign ZONE INFILE [signzone options...] -- KEYBASE...
_world_sign() {
	local z=$1 in=$2 opts=() keys=() k
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	for k in "$@"; do
		keys+=("$k.key")
		cat "$k.key" >>"$in"
	done
	if [ ${#opts[@]} -eq 0 ]; then
		opts=(-s "$WORLD_SIG_START" -e "$WORLD_SIG_END")
	fi
	_world_run dnssec-signzone -O full "${opts[@]}" -o "$z" \
		-d "$WORLD_DIR/keys" -K "$WORLD_DIR/keys" \
		-f "$WORLD_DIR/zones/$z.signed" "$in" "${keys[@]}"
}

# _world_corrupt_rrsig ZONE [TYPE [copy]]: flip one base64 character in
# the middle of the signature of www.ZONE TYPE (A) in its signed file;
# with copy, keep the good RRSIG and add the corrupted one after it.
_world_corrupt_rrsig() {
	local z=$1 t=${2:-A} copy=${3:-} f=$WORLD_DIR/zones/$1.signed
	awk -v o="www.$z." -v t="$t" -v copy="$copy" '
		$1 == o && $4 == "RRSIG" && $5 == t {
		if (copy != "") print
		s = $NF; p = int(length(s) / 2); c = substr(s, p, 1)
		r = (c == "A") ? "B" : "A"
		$NF = substr(s, 1, p - 1) r substr(s, p + 1); n++ }
		{ print } END { if (n != 1) exit 1 }' "$f" >"$f.tmp" ||
		_world_die "could not corrupt the RRSIG of www.$z $t"
	mv "$f.tmp" "$f"
}

# The child zones of $WORLD_TLD, by their first label.
_world_zone_names() {
	printf '%s\n' sec8 sec13 sec15 insecure badsig expired dsmismatch \
		nonsec nosig
	[ "${WORLD_SYNTH_ZONES:-0}" = 0 ] || printf '%s\n' n3 n3opt
	[ "${WORLD_MANY_NAMES:-0}" = 0 ] || printf '%s\n' many
}

# WORLD_MANY_NAMES=N: many.$WORLD_TLD, NSEC3 (no salt, 0 iterations), with
# nN A 192.0.2.1 for N names: unique names that exist, whose answers no
# cache can make from proofs (the benchmark's miss run).
_world_many_zone() {
	local z=many.$WORLD_TLD
	{
		_world_body "$z" 31
		awk -v n="$WORLD_MANY_NAMES" 'BEGIN {
			for (i = 1; i <= n; i++) printf "n%d\tA\t192.0.2.1\n", i }'
	} >"$WORLD_DIR/zones/$z.zone"
	_world_keygen "$z" ECDSAP256SHA256
	_world_sign "$z" "$WORLD_DIR/zones/$z.zone" -s "$WORLD_SIG_START" \
		-e "$WORLD_SIG_END" -3 - -H 0 -- "$_ksk" "$_zsk"
	_world_ds "$_ksk" >>"$tz"
}

# _world_n3_body ZONE: many names for the NSEC3 proofs of test_synth: 150
# hNNN (A, or TXT for every third), empty non-terminals (a.b.c, x.y.deep),
# wildcards with A and TXT (*.wild), with TXT only (*.t), below an empty
# non-terminal (*.deep), and a CNAME.
_world_n3_body() {
	local z=$1 i
	_world_body "$z" 30
	for i in $(seq 1 150); do
		if [ $((i % 3)) = 0 ]; then
			printf 'h%s\tTXT\t"h%s"\n' "$i" "$i"
		else
			printf 'h%s\tA\t192.0.2.%s\n' "$i" "$i"
		fi
	done
	printf 'a.b.c\tA\t192.0.2.1\nx.y.deep\tTXT\t"deep"\n'
	printf '*.t\tTXT\t"txt only"\n*.deep\tA\t192.0.2.2\n'
	printf 'cn\tCNAME\twww.%s.\n' "$z"
}

# WORLD_SYNTH_ZONES=1: n3.$WORLD_TLD (NSEC3, salt, 5 iterations) and
# n3opt.$WORLD_TLD (NSEC3 opt-out), both with _world_n3_body.  world_n3_resign
# signs n3 again with another salt.
_world_synth_zones() {
	local z
	z=n3.$WORLD_TLD
	_world_n3_body "$z" >"$WORLD_DIR/zones/$z.zone"
	cp "$WORLD_DIR/zones/$z.zone" "$WORLD_DIR/zones/$z.unsigned"
	_world_keygen "$z" ECDSAP256SHA256
	WORLD_N3_KEYS="$_ksk $_zsk"
	_world_sign "$z" "$WORLD_DIR/zones/$z.zone" -s "$WORLD_SIG_START" \
		-e "$WORLD_SIG_END" -3 abcd -H 5 -- "$_ksk" "$_zsk"
	_world_ds "$_ksk" >>"$tz"
	z=n3opt.$WORLD_TLD
	_world_n3_body "$z" >"$WORLD_DIR/zones/$z.zone"
	_world_keygen "$z" ECDSAP256SHA256
	_world_sign "$z" "$WORLD_DIR/zones/$z.zone" -s "$WORLD_SIG_START" \
		-e "$WORLD_SIG_END" -3 - -H 0 -A -- "$_ksk" "$_zsk"
	_world_ds "$_ksk" >>"$tz"
}

# world_n3_resign SALT: sign n3.$WORLD_TLD again, same content, with a new
# NSEC3 salt (a new chain), reload NSD and flush the upstream's copy.
world_n3_resign() {
	local z=n3.$WORLD_TLD in=$WORLD_DIR/zones/n3.$WORLD_TLD.resign k keys=()
	cp "$WORLD_DIR/zones/$z.unsigned" "$in"
	for k in $WORLD_N3_KEYS; do keys+=("$k"); done
	_world_sign "$z" "$in" -s "$WORLD_SIG_START" -e "$WORLD_SIG_END" \
		-3 "$1" -H 5 -- "${keys[@]}"
	kill -HUP "$WORLD_NSD_PID"
	sleep 1
	world_upstream_ctl flush_zone "$z" >/dev/null
}

_world_zones() {
	local zd=$WORLD_DIR/zones kd=$WORLD_DIR/keys tz=$WORLD_DIR/zones/$WORLD_TLD.zone
	local z i ghost tmp rttl
	mkdir -p "$zd" "$kd"
	WORLD_SIG_START=$(date -u -d '1 hour ago' +%Y%m%d%H%M%S)
	WORLD_SIG_END=$(date -u -d '30 days' +%Y%m%d%H%M%S)

	cat >"$tz" <<EOF
\$ORIGIN $WORLD_TLD.
\$TTL 300
@	SOA	ns.$WORLD_TLD. hostmaster.$WORLD_TLD. 1 3600 900 604800 300
@	NS	ns.$WORLD_TLD.
ns	A	$WORLD_NSD_ADDR
EOF
	for z in $(_world_zone_names); do
		printf '%s\tNS\tns.%s.\n' "$z" "$WORLD_TLD" >>"$tz"
	done

	# sec8.$WORLD_TLD: RSASHA256, NSEC, the big RRset and the CNAME.
	z=sec8.$WORLD_TLD
	_world_body "$z" 8 >"$zd/$z.zone"
	{
		printf 'cname\tCNAME\twww.sec13.%s.\n' "$WORLD_TLD"
		for i in $(seq -w 1 "$WORLD_BIG_COUNT"); do
			printf 'big\tTXT\t"record %s of the big RRset: %s"\n' "$i" \
				"0123456789abcdef0123456789abcdef0123456789abcdef"
		done
	} >>"$zd/$z.zone"
	_world_keygen "$z" RSASHA256 2048
	_world_sign "$z" "$zd/$z.zone" -- "$_ksk" "$_zsk"
	_world_ds "$_ksk" >>"$tz"

	# sec13.$WORLD_TLD: ECDSAP256SHA256, NSEC3 without salt, 0 iterations.
	z=sec13.$WORLD_TLD
	_world_body "$z" 13 >"$zd/$z.zone"
	_world_keygen "$z" ECDSAP256SHA256
	_world_sign "$z" "$zd/$z.zone" -s "$WORLD_SIG_START" -e "$WORLD_SIG_END" \
		-3 - -H 0 -- "$_ksk" "$_zsk"
	_world_ds "$_ksk" >>"$tz"

	# sec15.$WORLD_TLD: ED25519, NSEC.
	z=sec15.$WORLD_TLD
	_world_body "$z" 15 >"$zd/$z.zone"
	_world_keygen "$z" ED25519
	_world_sign "$z" "$zd/$z.zone" -- "$_ksk" "$_zsk"
	_world_ds "$_ksk" >>"$tz"

	# insecure.$WORLD_TLD: unsigned, no DS.
	z=insecure.$WORLD_TLD
	_world_body "$z" 20 >"$zd/$z.signed"

	# badsig.$WORLD_TLD: flip one base64 character in the middle of the
	# signature of www A.
	z=badsig.$WORLD_TLD
	_world_body "$z" 21 >"$zd/$z.zone"
	_world_keygen "$z" ECDSAP256SHA256
	_world_sign "$z" "$zd/$z.zone" -- "$_ksk" "$_zsk"
	_world_ds "$_ksk" >>"$tz"
	_world_corrupt_rrsig "$z"
	_world_corrupt_rrsig "$z" AAAA copy

	# expired.$WORLD_TLD: every signature valid only in January 2020.
	z=expired.$WORLD_TLD
	_world_body "$z" 22 >"$zd/$z.zone"
	_world_keygen "$z" ECDSAP256SHA256
	_world_sign "$z" "$zd/$z.zone" -s 20200101000000 -e 20200201000000 -P \
		-- "$_ksk" "$_zsk"
	_world_ds "$_ksk" >>"$tz"

	# dsmismatch.$WORLD_TLD: signed with its own keys, but the DS in $WORLD_TLD. is
	# that of a key that is not in the zone.
	z=dsmismatch.$WORLD_TLD
	_world_body "$z" 23 >"$zd/$z.zone"
	_world_keygen "$z" ECDSAP256SHA256
	ghost=$kd/$(dnssec-keygen -q -K "$kd" -a ECDSAP256SHA256 -L 300 -n ZONE \
		-f KSK "$z" 2>/dev/null) || _world_die "dnssec-keygen ghost key"
	_world_sign "$z" "$zd/$z.zone" -- "$_ksk" "$_zsk"
	_world_ds "$ghost" >>"$tz"

	# nonsec.$WORLD_TLD: NSEC records and their signatures removed.
	z=nonsec.$WORLD_TLD
	_world_body "$z" 24 >"$zd/$z.zone"
	_world_keygen "$z" ECDSAP256SHA256
	_world_sign "$z" "$zd/$z.zone" -- "$_ksk" "$_zsk"
	_world_ds "$_ksk" >>"$tz"
	tmp=$zd/$z.tmp
	awk '$4 == "NSEC" || ($4 == "RRSIG" && $5 == "NSEC") { n++; next }
		{ print } END { if (n < 2) exit 1 }' "$zd/$z.signed" >"$tmp" ||
		_world_die "could not strip the NSEC records of $z"
	mv "$tmp" "$zd/$z.signed"

	# nosig.$WORLD_TLD: the RRSIG of www A removed.
	z=nosig.$WORLD_TLD
	_world_body "$z" 25 >"$zd/$z.zone"
	_world_keygen "$z" ECDSAP256SHA256
	_world_sign "$z" "$zd/$z.zone" -- "$_ksk" "$_zsk"
	_world_ds "$_ksk" >>"$tz"
	tmp=$zd/$z.tmp
	awk -v o="www.$z." '$1 == o && $4 == "RRSIG" && $5 == "A" { n++; next }
		{ print } END { if (n != 1) exit 1 }' "$zd/$z.signed" >"$tmp" ||
		_world_die "could not remove the RRSIG of www.$z A"
	mv "$tmp" "$zd/$z.signed"

	[ "${WORLD_SYNTH_ZONES:-0}" = 0 ] || _world_synth_zones
	[ "${WORLD_MANY_NAMES:-0}" = 0 ] || _world_many_zone

	# $WORLD_TLD.: ECDSAP256SHA256, NSEC.
	_world_keygen "$WORLD_TLD" ECDSAP256SHA256
	_world_sign "$WORLD_TLD" "$tz" -- "$_ksk" "$_zsk"

	# The root: root.base is its unsigned content without DNSKEYs, with
	# @SERIAL@ for the SOA serial (re-signed by the world_roll_* steps).
	# KSK2 is made now but only published by world_roll_publish; the
	# revoked form of KSK1 is made in a directory of its own (so that
	# dnssec-signzone cannot pick it up) and moved in by world_roll_revoke.
	rttl=$WORLD_ROOT_DNSKEY_TTL
	cat >"$zd/root.base" <<EOF
\$ORIGIN .
\$TTL 300
@	$rttl	SOA	ns.$WORLD_TLD. hostmaster.$WORLD_TLD. @SERIAL@ 3600 900 604800 $rttl
@	NS	ns.$WORLD_TLD.
$WORLD_TLD.	NS	ns.$WORLD_TLD.
ns.$WORLD_TLD.	A	$WORLD_NSD_ADDR
EOF
	_world_ds "$_ksk" >>"$zd/root.base"
	_world_keygen . ECDSAP256SHA256 "" "$rttl"
	WORLD_ROOT_KSK1=$_ksk
	WORLD_ROOT_ZSK=$_zsk
	WORLD_ROOT_KSK2=$kd/$(dnssec-keygen -q -K "$kd" -a ECDSAP256SHA256 \
		-L "$rttl" -n ZONE -f KSK . 2>"$WORLD_DIR/keygen.err") ||
		{ cat "$WORLD_DIR/keygen.err" >&2; _world_die "dnssec-keygen KSK2 ."; }
	mkdir -p "$kd/revoked"
	cp "$WORLD_ROOT_KSK1.key" "$WORLD_ROOT_KSK1.private" "$kd/revoked/"
	WORLD_ROOT_KSK1R=$(dnssec-revoke -K "$kd/revoked" \
		"$kd/revoked/${WORLD_ROOT_KSK1##*/}" 2>"$WORLD_DIR/keygen.err") ||
		{ cat "$WORLD_DIR/keygen.err" >&2; _world_die "dnssec-revoke KSK1"; }
	WORLD_ROOT_KSK1R=$kd/$(basename "$WORLD_ROOT_KSK1R")
	WORLD_ROOT_SERIAL=1
	_world_root_sign "$WORLD_ROOT_KSK1" "$WORLD_ROOT_ZSK"
	WORLD_ROLL_STATE=none
	WORLD_KSK1_TAG=$(_world_tag "$WORLD_ROOT_KSK1")
	WORLD_KSK2_TAG=$(_world_tag "$WORLD_ROOT_KSK2")
	WORLD_KSK1_REVOKED_TAG=$(_world_tag "$WORLD_ROOT_KSK1R")
	WORLD_ZSK_TAG=$(_world_tag "$WORLD_ROOT_ZSK")
	WORLD_TA_FILE=$WORLD_DIR/root.ds
	WORLD_TA_DNSKEY_FILE=$WORLD_DIR/root.dnskey
	WORLD_TA2_FILE=$WORLD_DIR/root-ksk2.ds
	WORLD_TA2_DNSKEY_FILE=$WORLD_DIR/root-ksk2.dnskey
	_world_ds "$WORLD_ROOT_KSK1" >"$WORLD_TA_FILE"
	grep -v '^;' "$WORLD_ROOT_KSK1.key" >"$WORLD_TA_DNSKEY_FILE"
	_world_ds "$WORLD_ROOT_KSK2" >"$WORLD_TA2_FILE"
	grep -v '^;' "$WORLD_ROOT_KSK2.key" >"$WORLD_TA2_DNSKEY_FILE"
}

# _world_root_sign [-x] KEYBASE...: write root.signed from root.base with
# the serial $WORLD_ROOT_SERIAL and these keys (each KSK signs the DNSKEY
# RRset, the ZSK everything else and, without -x, the DNSKEY RRset too; a
# revoked key signs only the DNSKEY RRset).  The new file replaces the old
# one by rename.
_world_root_sign() {
	local zd=$WORLD_DIR/zones opts=(-s "$WORLD_SIG_START" -e "$WORLD_SIG_END")
	if [ "$1" = -x ]; then
		opts+=(-x)
		shift
	fi
	sed "s/@SERIAL@/$WORLD_ROOT_SERIAL/" "$zd/root.base" >"$zd/root.zone"
	_world_sign . "$zd/root.zone" "${opts[@]}" -- "$@"
	mv "$zd/..signed" "$zd/root.signed"
}

# ---------------------------------------------------------------- servers

_world_nsd() {
	local d=$WORLD_DIR/nsd z pid
	mkdir -p "$d/xfr"
	cat >"$d/nsd.conf" <<EOF
server:
	ip-address: $WORLD_NSD_ADDR@53
	do-ip6: no
	port: 53
	server-count: 1
	username: ""
	chroot: ""
	database: ""
	zonesdir: "$WORLD_DIR/zones"
	zonelistfile: "$d/zone.list"
	xfrdfile: "$d/xfrd.state"
	xfrdir: "$d/xfr"
	pidfile: "$d/nsd.pid"
	logfile: "$WORLD_DIR/nsd.log"
	verbosity: 2
	rrl-ratelimit: 0
	rrl-whitelist-ratelimit: 0
	zonefiles-write: 0
	hide-version: yes
remote-control:
	control-enable: no
zone:
	name: "."
	zonefile: "root.signed"
zone:
	name: "$WORLD_TLD."
	zonefile: "$WORLD_TLD.signed"
EOF
	for z in $(_world_zone_names); do
		printf 'zone:\n\tname: "%s.%s."\n\tzonefile: "%s.%s.signed"\n' \
			"$z" "$WORLD_TLD" "$z" "$WORLD_TLD" >>"$d/nsd.conf"
	done
	_world_run nsd-checkconf "$d/nsd.conf"
	nsd -d -c "$d/nsd.conf" >"$WORLD_DIR/nsd.stderr" 2>&1 &
	pid=$!
	_world_addpid "$pid"
	WORLD_NSD_PID=$pid
	_world_wait "NSD" "$pid" 15 dig +norec +time=1 +tries=1 \
		@"$WORLD_NSD_ADDR" "www.nosig.$WORLD_TLD." A
}

# _world_unbound NAME ADDR CERTNAME [CLEARTEXT_ADDR]
_world_unbound() {
	local n=$1 addr=$2 cert=$3 plain=${4:-} d=$WORLD_DIR/$1 pid
	mkdir -p "$d"
	{
		cat <<EOF
server:
	verbosity: 1
	num-threads: 1
	interface-automatic: no
	interface: $addr@853
EOF
		[ -z "$plain" ] || printf '\tinterface: %s@53\n' "$plain"
		cat <<EOF
	port: 53
	tls-port: 853
	tls-service-key: "$WORLD_DIR/tls/$cert.key"
	tls-service-pem: "$WORLD_DIR/tls/$cert.pem"
	do-ip6: no
	do-not-query-localhost: no
	access-control: 127.0.0.0/8 allow
	username: ""
	chroot: ""
	directory: "$d"
	pidfile: "$d/unbound.pid"
	logfile: "$d/unbound.log"
	use-syslog: no
	log-time-ascii: yes
	log-queries: yes
	log-servfail: yes
	module-config: "iterator"
	qname-minimisation: no
	harden-referral-path: no
	so-reuseport: no
	incoming-num-tcp: 100
	outgoing-range: 128
	num-queries-per-thread: 64
	prefetch: no
	minimal-responses: yes
	# num.query.tls.resume and the like (unbound-control stats)
	extended-statistics: yes
stub-zone:
	name: "."
	stub-addr: $WORLD_NSD_ADDR@53
remote-control:
	control-enable: yes
	control-interface: "$d/control.sock"
	control-use-cert: no
EOF
	} >"$d/unbound.conf"
	_world_run unbound-checkconf "$d/unbound.conf"
	unbound -d -c "$d/unbound.conf" >"$d/unbound.stderr" 2>&1 &
	pid=$!
	_world_addpid "$pid"
	_world_pid=$pid
}

_world_start_unbounds() {
	local p_good p_wrong p_bad
	_world_unbound good "$WORLD_UPSTREAM_ADDR" good "$WORLD_PLAIN_ADDR"
	p_good=$_world_pid
	_world_unbound wrongname "$WORLD_WRONGNAME_ADDR" wrongname
	p_wrong=$_world_pid
	_world_unbound badca "$WORLD_BADCA_ADDR" badca
	p_bad=$_world_pid
	WORLD_UPSTREAM_CONF=$WORLD_DIR/good/unbound.conf
	WORLD_UPSTREAM_LOG=$WORLD_DIR/good/unbound.log
	WORLD_WRONGNAME_LOG=$WORLD_DIR/wrongname/unbound.log
	WORLD_BADCA_LOG=$WORLD_DIR/badca/unbound.log
	_world_wait "good upstream unbound (DoT)" "$p_good" 15 \
		_world_listening t "$WORLD_UPSTREAM_ADDR" 853
	_world_wait "good upstream unbound (clear text)" "$p_good" 15 \
		_world_listening u "$WORLD_PLAIN_ADDR" 53
	_world_wait "wrong-name upstream unbound" "$p_wrong" 15 \
		_world_listening t "$WORLD_WRONGNAME_ADDR" 853
	_world_wait "bad-CA upstream unbound" "$p_bad" 15 \
		_world_listening t "$WORLD_BADCA_ADDR" 853
	# End to end: DoT with the test CA, through the iterator, to NSD.
	_world_wait "good upstream unbound (DoT query)" "$p_good" 15 \
		_world_dot_ok "$WORLD_UPSTREAM_ADDR"
}

_world_dot_ok() {
	kdig +tls +tls-ca="$WORLD_CA_FILE" +tls-hostname="$WORLD_AUTH_NAME" \
		+time=2 +retry=0 @"$1" -p 853 "www.sec8.$WORLD_TLD." A |
		grep -q 'status: NOERROR'
}

_world_canary() {
	local pid
	python3 "$WORLD_SYSTEM_DIR/canary.py" "$WORLD_DIR/canary.log" \
		"$WORLD_DIR/canary.ready" 53 "$WORLD_UPSTREAM_ADDR" \
		"$WORLD_WRONGNAME_ADDR" "$WORLD_BADCA_ADDR" \
		>"$WORLD_DIR/canary.stderr" 2>&1 &
	pid=$!
	_world_addpid "$pid"
	WORLD_CANARY_LOG=$WORLD_DIR/canary.log
	_world_wait "clear-text canary" "$pid" 10 test -f "$WORLD_DIR/canary.ready"
}

world_start_reference() {
	local d=$WORLD_DIR/ref pid
	mkdir -p "$d"
	cat >"$d/unbound.conf" <<EOF
server:
	verbosity: 1
	num-threads: 1
	interface-automatic: no
	interface: $WORLD_REF_ADDR@53
	do-ip6: no
	do-not-query-localhost: no
	access-control: 127.0.0.0/8 allow
	username: ""
	chroot: ""
	directory: "$d"
	pidfile: "$d/unbound.pid"
	logfile: "$d/unbound.log"
	use-syslog: no
	log-time-ascii: yes
	module-config: "validator iterator"
	trust-anchor-file: "$WORLD_TA_FILE"
	val-log-level: 2
	ede: yes
	so-reuseport: no
	qname-minimisation: no
forward-zone:
	name: "."
	forward-addr: $WORLD_PLAIN_ADDR@53
remote-control:
	control-enable: no
EOF
	_world_run unbound-checkconf "$d/unbound.conf"
	unbound -d -c "$d/unbound.conf" >"$d/unbound.stderr" 2>&1 &
	pid=$!
	_world_addpid "$pid"
	WORLD_REF_STARTED=1
	_world_wait "reference validator" "$pid" 15 \
		_world_listening u "$WORLD_REF_ADDR" 53
}

world_upstream_ctl() {
	unbound-control -c "$WORLD_UPSTREAM_CONF" "$@"
}

# world_insecure_set OCTET: change insecure.<tld>'s data on the
# authoritative side (www A 192.0.2.OCTET, a new serial), wait until NSD
# serves it, and flush the good upstream's cache of that zone, so that a
# resolver that asks again gets the new data and one that does not keeps
# the old.  For the control tool's flush proofs.
world_insecure_set() {
	local z=insecure.$WORLD_TLD f=$WORLD_DIR/zones/insecure.$WORLD_TLD.signed
	local i=0 serial
	WORLD_INSECURE_SERIAL=$((${WORLD_INSECURE_SERIAL:-1} + 1))
	serial=$WORLD_INSECURE_SERIAL
	_world_body "$z" 20 |
		sed -e "s/ 1 3600 900 604800 300/ $serial 3600 900 604800 300/" \
			-e "s/^www\tA\t192.0.2.20\$/www\tA\t192.0.2.$1/" >"$f.new" &&
		mv "$f.new" "$f" || return 1
	kill -HUP "$WORLD_NSD_PID" 2>/dev/null || return 1
	while [ "$(dig +short +norec @"$WORLD_NSD_ADDR" "$z" SOA 2>/dev/null |
		awk '{ print $3 }')" != "$serial" ]; do
		[ $i -lt 100 ] || { _world_say "world_insecure_set: NSD does not serve serial $serial"; return 1; }
		[ $((i % 20)) != 19 ] || kill -HUP "$WORLD_NSD_PID" 2>/dev/null || true
		sleep 0.1
		i=$((i + 1))
	done
	world_upstream_ctl flush_zone "$z" >/dev/null
}

# world_register_pid PID: stop PID (TERM, then KILL after 5 s) with the
# world, before the world's own processes.
world_register_pid() {
	_world_addpid "$1"
}

# world_dotsecd_metrics: the /metrics page of the dotsecd under test (its
# metrics_address WORLD_DOTSECD_ADDR@9153), or the client's error.
world_dotsecd_metrics() {
	python3 -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' \
		"http://$WORLD_DOTSECD_ADDR:9153/metrics" 2>&1
}

# world_deadup LOG WHAT ARGS...: tests/system/deadup.py serve ARGS (failing
# listeners: silent, closing, SYN black hole, silent UDP), its output in
# LOG (registered as WHAT), stopped by PID with the world.  Returns once
# it is ready; dies if it is not within 10 s.
world_deadup() {
	local log=$1 what=$2 i=0
	shift 2
	world_register_log "$log" "$what"
	python3 "$DS_SYSTEM_DIR/deadup.py" serve "$@" >"$log" 2>&1 &
	world_register_pid $!
	until grep -qx ready "$log"; do
		[ $i -lt 100 ] || ds_die "deadup.py not ready after 10 s: $(cat "$log")"
		sleep 0.1
		i=$((i + 1))
	done
}

# ---------------------------------------------------------------- root KSK roll

# The root SOA serial NSD serves now (empty if it does not answer).
world_root_serial() {
	dig +norec +short +time=1 +tries=1 @"$WORLD_NSD_ADDR" . SOA 2>/dev/null |
		awk 'NF >= 7 { print $3; exit }'
}

# _world_roll_check STEP FROM: the roll must be at FROM.
_world_roll_check() {
	[ "$WORLD_ROLL_STATE" = "$2" ] && return 0
	_world_say "world_roll_$1: the roll is at '$WORLD_ROLL_STATE', expected '$2'"
	return 1
}

# _world_roll_reload STEP: SIGHUP NSD, wait (at most 10 s) until it serves
# the root with serial $WORLD_ROOT_SERIAL, then flush every running good
# upstream's cache of the root's DNSKEY RRset (and of its SOA/NS:
# `flush .`), so that the next query for . DNSKEY reaches NSD.
_world_roll_reload() {
	local i=0 served="" n conf
	if ! kill -HUP "$WORLD_NSD_PID" 2>/dev/null; then
		_world_say "world_roll_$1: NSD (PID $WORLD_NSD_PID) is not running"
		return 1
	fi
	while :; do
		served=$(world_root_serial)
		[ "$served" != "$WORLD_ROOT_SERIAL" ] || break
		if [ $i -ge 100 ]; then
			_world_say "world_roll_$1: NSD serves root serial '$served' 10s after SIGHUP, expected $WORLD_ROOT_SERIAL"
			return 1
		fi
		# A reload NSD missed (it looks at the zone file's mtime):
		# ask again every 2 s.
		[ $((i % 20)) != 19 ] || kill -HUP "$WORLD_NSD_PID" 2>/dev/null || true
		sleep 0.1
		i=$((i + 1))
	done
	# Every good upstream that runs (one that is down starts empty).
	for n in 1 2; do
		[ -n "$(world_upstream_pid "$n")" ] || continue
		conf=$WORLD_UPSTREAM_CONF
		[ "$n" = 1 ] || conf=$WORLD_UPSTREAM2_CONF
		if ! unbound-control -c "$conf" flush_type . DNSKEY >/dev/null ||
			! unbound-control -c "$conf" flush . >/dev/null; then
			_world_say "world_roll_$1: unbound-control flush on upstream $n failed"
			return 1
		fi
	done
}

# world_roll_publish: KSK2 joins the root DNSKEY RRset, which KSK1 and KSK2
# both sign.
world_roll_publish() {
	_world_roll_check publish none || return 1
	WORLD_ROOT_SERIAL=$((WORLD_ROOT_SERIAL + 1))
	_world_root_sign -x "$WORLD_ROOT_KSK1" "$WORLD_ROOT_KSK2" "$WORLD_ROOT_ZSK"
	_world_roll_reload publish || return 1
	WORLD_ROLL_STATE=published
}

# world_roll_revoke: KSK1 with the REVOKE bit (flags 385, tag
# $WORLD_KSK1_REVOKED_TAG) replaces KSK1; the DNSKEY RRset is signed by the
# revoked KSK1 and by KSK2.
world_roll_revoke() {
	_world_roll_check revoke published || return 1
	cp "$WORLD_DIR/keys/revoked/${WORLD_ROOT_KSK1R##*/}.key" \
		"$WORLD_DIR/keys/revoked/${WORLD_ROOT_KSK1R##*/}.private" \
		"$WORLD_DIR/keys/" || return 1
	WORLD_ROOT_SERIAL=$((WORLD_ROOT_SERIAL + 1))
	_world_root_sign -x "$WORLD_ROOT_KSK1R" "$WORLD_ROOT_KSK2" "$WORLD_ROOT_ZSK"
	_world_roll_reload revoke || return 1
	WORLD_ROLL_STATE=revoked
}

# world_roll_remove: KSK1 gone; the DNSKEY RRset is signed by KSK2 only.
world_roll_remove() {
	_world_roll_check remove revoked || return 1
	WORLD_ROOT_SERIAL=$((WORLD_ROOT_SERIAL + 1))
	_world_root_sign -x "$WORLD_ROOT_KSK2" "$WORLD_ROOT_ZSK"
	_world_roll_reload remove || return 1
	WORLD_ROLL_STATE=removed
}

# world_upstream_count QNAME QTYPE: queries logged by the good upstream.
world_upstream_count() {
	local q=${1%.}.
	awk -v q="$q" -v t="$2" 'tolower($(NF-2)) == tolower(q) &&
		$(NF-1) == t && $NF == "IN" && / info: / { n++ }
		END { print n + 0 }' "$WORLD_UPSTREAM_LOG"
}

# world_upstream_settle: wait until the upstream's query log stops
# growing (at most 2 s), so that counts taken after it are final.
world_upstream_settle() {
	local a b i=0
	b=$(wc -l <"$WORLD_UPSTREAM_LOG")
	while [ $i -lt 20 ]; do
		sleep 0.2
		a=$b
		b=$(wc -l <"$WORLD_UPSTREAM_LOG")
		[ "$a" != "$b" ] || return 0
		i=$((i + 1))
	done
}

world_canary_count() {
	if [ -f "$WORLD_CANARY_LOG" ]; then
		wc -l <"$WORLD_CANARY_LOG" | tr -d ' '
	else
		echo 0
	fi
}

world_start() {
	local t0 t1
	t0=$(date +%s.%N)
	WORLD_SYSTEM_DIR=${WORLD_SYSTEM_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
	PATH="$PATH:/usr/sbin:/sbin"
	_world_need nsd nsd-checkconf unbound unbound-checkconf unbound-control \
		openssl dnssec-keygen dnssec-signzone dnssec-dsfromkey dnssec-revoke \
		dig kdig ss python3 awk
	[ "$(id -u)" = 0 ] || _world_die "the system tests need root (ports 53 and 853 on 127.x addresses)"
	WORLD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dotsec-world.XXXXXX") ||
		_world_die "mktemp failed"
	_world_pick_net
	WORLD_NSD_ADDR=$WORLD_NET.1
	WORLD_UPSTREAM_ADDR=$WORLD_NET.2
	WORLD_WRONGNAME_ADDR=$WORLD_NET.3
	WORLD_BADCA_ADDR=$WORLD_NET.4
	WORLD_PLAIN_ADDR=$WORLD_NET.5
	WORLD_REF_ADDR=$WORLD_NET.6
	WORLD_DOTSECD_ADDR=$WORLD_NET.10
	WORLD_CLIENT_ADDR=$WORLD_NET.20
	WORLD_UPSTREAM_PORT=853
	WORLD_AUTH_NAME=dns.test
	WORLD_TLD=${WORLD_TLD:-example}
	WORLD_ZONE_SEC8=sec8.$WORLD_TLD
	WORLD_ZONE_SEC13=sec13.$WORLD_TLD
	WORLD_ZONE_SEC15=sec15.$WORLD_TLD
	WORLD_ZONE_INSECURE=insecure.$WORLD_TLD
	WORLD_ZONE_BADSIG=badsig.$WORLD_TLD
	WORLD_ZONE_EXPIRED=expired.$WORLD_TLD
	WORLD_ZONE_DSMISMATCH=dsmismatch.$WORLD_TLD
	WORLD_ZONE_NONSEC=nonsec.$WORLD_TLD
	WORLD_ZONE_NOSIG=nosig.$WORLD_TLD
	WORLD_BIG_NAME=big.sec8.$WORLD_TLD
	WORLD_BIG_COUNT=16
	WORLD_CNAME_NAME=cname.sec8.$WORLD_TLD
	WORLD_CNAME_TARGET=www.sec13.$WORLD_TLD
	WORLD_NSD_LOG=$WORLD_DIR/nsd.log
	WORLD_ROOT_DNSKEY_TTL=${WORLD_ROOT_DNSKEY_TTL:-300}
	case $WORLD_ROOT_DNSKEY_TTL in
	'' | *[!0-9]*) _world_die "WORLD_ROOT_DNSKEY_TTL must be a number of seconds" ;;
	esac
	export WORLD_DIR WORLD_NET WORLD_NSD_ADDR WORLD_UPSTREAM_ADDR \
		WORLD_WRONGNAME_ADDR WORLD_BADCA_ADDR WORLD_PLAIN_ADDR WORLD_REF_ADDR \
		WORLD_DOTSECD_ADDR WORLD_CLIENT_ADDR WORLD_UPSTREAM_PORT \
		WORLD_AUTH_NAME WORLD_ZONE_SEC8 WORLD_ZONE_SEC13 WORLD_ZONE_SEC15 \
		WORLD_ZONE_INSECURE WORLD_ZONE_BADSIG WORLD_ZONE_EXPIRED \
		WORLD_ZONE_DSMISMATCH WORLD_ZONE_NONSEC WORLD_ZONE_NOSIG \
		WORLD_BIG_NAME WORLD_BIG_COUNT WORLD_CNAME_NAME WORLD_CNAME_TARGET \
		WORLD_NSD_LOG WORLD_TLD WORLD_ROOT_DNSKEY_TTL

	_world_tls
	_world_zones
	export WORLD_CA_FILE WORLD_BADCA_FILE WORLD_SPKI_PIN WORLD_BAD_PIN \
		WORLD_TA_FILE WORLD_TA_DNSKEY_FILE WORLD_TA2_FILE \
		WORLD_TA2_DNSKEY_FILE WORLD_KSK1_TAG WORLD_KSK2_TAG \
		WORLD_KSK1_REVOKED_TAG WORLD_ZSK_TAG WORLD_ROOT_SERIAL \
		WORLD_ROLL_STATE

	# The canary first: it must own port 53 of the upstream addresses.
	_world_canary
	_world_nsd
	_world_start_unbounds
	export WORLD_UPSTREAM_CONF WORLD_UPSTREAM_LOG WORLD_WRONGNAME_LOG \
		WORLD_BADCA_LOG WORLD_CANARY_LOG
	t1=$(date +%s.%N)
	_world_say "up in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')s: $WORLD_NET.0/24, dir $WORLD_DIR"
}

# ---------------------------------------------------------------- upstreams 1 and 2

# world_start_second_upstream: a second good DoT upstream, for tests that
# need two (tests/stress).  Not started by world_start.  A recursive unbound
# like the good one (same "dns.test" certificate from the test CA, same
# stub to NSD, log-queries: yes) on $WORLD_UPSTREAM2_ADDR@853 only: no
# clear-text port, and the canary does not watch its port 53.  Exports
# WORLD_UPSTREAM2_ADDR, WORLD_UPSTREAM2_CONF, WORLD_UPSTREAM2_LOG.  Dies
# like world_start when it does not come up.
world_start_second_upstream() {
	local pid
	WORLD_UPSTREAM2_ADDR=$WORLD_NET.7
	WORLD_UPSTREAM2_CONF=$WORLD_DIR/good2/unbound.conf
	WORLD_UPSTREAM2_LOG=$WORLD_DIR/good2/unbound.log
	export WORLD_UPSTREAM2_ADDR WORLD_UPSTREAM2_CONF WORLD_UPSTREAM2_LOG
	_world_unbound good2 "$WORLD_UPSTREAM2_ADDR" good
	pid=$_world_pid
	world_register_log "$WORLD_UPSTREAM2_LOG" "second good upstream unbound log"
	world_register_log "$WORLD_DIR/good2/unbound.stderr" \
		"second good upstream unbound stderr"
	_world_wait "second good upstream unbound (DoT)" "$pid" 15 \
		_world_listening t "$WORLD_UPSTREAM2_ADDR" 853
	_world_wait "second good upstream unbound (DoT query)" "$pid" 15 \
		_world_dot_ok "$WORLD_UPSTREAM2_ADDR"
}

# _world_upstream_dir 1|2: the directory of a good upstream.
_world_upstream_dir() {
	case $1 in
	1) printf '%s\n' "$WORLD_DIR/good" ;;
	2) printf '%s\n' "$WORLD_DIR/good2" ;;
	*) _world_die "_world_upstream_dir: no upstream '$1' (1 or 2)" ;;
	esac
}

# world_upstream_pid 1|2: the PID of the running good upstream 1
# ($WORLD_UPSTREAM_ADDR) or 2 ($WORLD_UPSTREAM2_ADDR), from its pidfile,
# printed only when it is running and was started by this world.
world_upstream_pid() {
	local d pid
	d=$(_world_upstream_dir "$1")
	[ -f "$d/unbound.pid" ] || return 0
	pid=$(tr -dc '0-9' <"$d/unbound.pid")
	[ -n "$pid" ] || return 0
	case " $WORLD_PIDS " in
	*" $pid "*) ;;
	*) return 0 ;;
	esac
	kill -0 "$pid" 2>/dev/null || return 0
	printf '%s\n' "$pid"
}

# world_upstream_kill 1|2 [SIGNAL]: stop good upstream 1 or 2 by PID with
# SIGNAL (default KILL, a crash) and wait (5 s at most) until it is gone.
world_upstream_kill() {
	local pid i=0
	pid=$(world_upstream_pid "$1")
	[ -n "$pid" ] || _world_die "world_upstream_kill: upstream $1 is not running"
	# (bash reports a job killed by a signal on stderr: not wanted here)
	{
		kill -"${2:-KILL}" "$pid" || true
		while kill -0 "$pid" && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -0 "$pid" || wait "$pid" || true
	} 2>/dev/null
	! kill -0 "$pid" 2>/dev/null ||
		_world_die "world_upstream_kill: upstream $1 (PID $pid) still running"
}

# world_upstream_restart 1|2: start good upstream 1 or 2 again, with its
# configuration as it was, and wait (15 s at most) until it answers over
# DoT.  Its cache starts empty.
world_upstream_restart() {
	local d addr pid
	d=$(_world_upstream_dir "$1")
	if [ "$1" = 1 ]; then addr=$WORLD_UPSTREAM_ADDR; else addr=$WORLD_UPSTREAM2_ADDR; fi
	[ -z "$(world_upstream_pid "$1")" ] ||
		_world_die "world_upstream_restart: upstream $1 is running"
	rm -f "$d/unbound.pid"
	unbound -d -c "$d/unbound.conf" >>"$d/unbound.stderr" 2>&1 &
	pid=$!
	_world_addpid "$pid"
	_world_wait "upstream $1 restarted (DoT)" "$pid" 15 \
		_world_listening t "$addr" 853
	_world_wait "upstream $1 restarted (DoT query)" "$pid" 15 \
		_world_dot_ok "$addr"
}

# ---------------------------------------------------------------- a corporate network

# world_start_corp: the internal DNS of a network that the test root does
# not delegate, for split-DNS tests.  Not started by world_start.  Zones,
# served by two servers of their own (unbound auth-zones; any other name
# they are asked goes on to the world's NSD, and shows in their logs):
#   WORLD_CORP_ZONE=corp.example     unsigned; example. (signed) proves it
#       does not exist, so validating it from the root is bogus.
#       www A 192.0.2.80, AAAA 2001:db8::80, TXT "corp"; *.wild A 198.51.100.80
#   WORLD_VAULT_ZONE=vault.internal  signed (ECDSAP256SHA256, NSEC) with
#       keys of its own; its DS in WORLD_VAULT_DS (one zone-format line).
#       www A 192.0.2.81
#   WORLD_BROKEN_ZONE=broken.internal  signed like vault.internal, DS in
#       WORLD_BROKEN_DS, but the RRSIG of www A corrupted.  www A 192.0.2.82
# Servers:
#   WORLD_CORPDOT_ADDR@853  DoT, certificate for WORLD_CORP_AUTH_NAME
#       (dns.corp.example) from a CA of its own, WORLD_CORP_CA_FILE (not
#       the world's CA); log WORLD_CORPDOT_LOG
#   WORLD_CORPPLAIN_ADDR@53 clear-text UDP and TCP; log WORLD_CORPPLAIN_LOG
world_start_corp() {
	local zd=$WORLD_DIR/zones d=$WORLD_DIR/tls z p1 p2
	WORLD_CORP_ZONE=corp.$WORLD_TLD
	WORLD_VAULT_ZONE=vault.internal
	WORLD_BROKEN_ZONE=broken.internal
	WORLD_CORPDOT_ADDR=$WORLD_NET.8
	WORLD_CORPPLAIN_ADDR=$WORLD_NET.9
	WORLD_CORP_AUTH_NAME=dns.corp.example
	# Its own CA: a forward zone's tls_ca_file must be what makes it work.
	_world_run openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		-nodes -keyout "$d/corpca.key" -out "$d/corpca.pem" -days 30 \
		-subj "/CN=dotsec test corporate CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign"
	_world_leaf "$d" corp "$WORLD_CORP_AUTH_NAME" corpca
	WORLD_CORP_CA_FILE=$d/corpca.pem

	z=$WORLD_CORP_ZONE
	{
		printf '$ORIGIN %s.\n$TTL 300\n' "$z"
		printf '@ SOA ns.%s. hostmaster.%s. 1 3600 900 604800 300\n' "$z" "$z"
		printf '@ NS ns.%s.\nns A 192.0.2.79\n' "$z"
		printf 'www A 192.0.2.80\nwww AAAA 2001:db8::80\nwww TXT "corp"\n'
		printf '*.wild A 198.51.100.80\n'
	} >"$zd/$z.signed"
	for z in "$WORLD_VAULT_ZONE" "$WORLD_BROKEN_ZONE"; do
		{
			printf '$ORIGIN %s.\n$TTL 300\n' "$z"
			printf '@ SOA ns.%s. hostmaster.%s. 1 3600 900 604800 300\n' "$z" "$z"
			printf '@ NS ns.%s.\nns A 192.0.2.79\n' "$z"
			if [ "$z" = "$WORLD_VAULT_ZONE" ]; then
				printf 'www A 192.0.2.81\n'
			else
				printf 'www A 192.0.2.82\n'
			fi
		} >"$zd/$z.zone"
		_world_keygen "$z" ECDSAP256SHA256
		_world_sign "$z" "$zd/$z.zone" -- "$_ksk" "$_zsk"
		if [ "$z" = "$WORLD_VAULT_ZONE" ]; then
			WORLD_VAULT_DS=$(_world_ds "$_ksk" | tr -s ' \t' ' ')
		else
			WORLD_BROKEN_DS=$(_world_ds "$_ksk" | tr -s ' \t' ' ')
		fi
	done
	_world_corrupt_rrsig "$WORLD_BROKEN_ZONE"

	_world_corp_server corpdot "interface: $WORLD_CORPDOT_ADDR@853
	tls-port: 853
	tls-service-key: \"$d/corp.key\"
	tls-service-pem: \"$d/corp.pem\""
	p1=$_world_pid
	_world_corp_server corpplain "interface: $WORLD_CORPPLAIN_ADDR@53"
	p2=$_world_pid
	WORLD_CORPDOT_LOG=$WORLD_DIR/corpdot/unbound.log
	WORLD_CORPPLAIN_LOG=$WORLD_DIR/corpplain/unbound.log
	export WORLD_CORP_ZONE WORLD_VAULT_ZONE WORLD_BROKEN_ZONE \
		WORLD_CORPDOT_ADDR WORLD_CORPPLAIN_ADDR WORLD_CORP_AUTH_NAME \
		WORLD_CORP_CA_FILE WORLD_VAULT_DS WORLD_BROKEN_DS \
		WORLD_CORPDOT_LOG WORLD_CORPPLAIN_LOG
	_world_wait "corporate DoT server" "$p1" 15 \
		_world_listening t "$WORLD_CORPDOT_ADDR" 853
	_world_wait "corporate plain server" "$p2" 15 \
		_world_listening u "$WORLD_CORPPLAIN_ADDR" 53
	_world_wait "corporate servers (queries)" "$p1" 15 _world_corp_ok
}

_world_corp_ok() {
	kdig +tls +tls-ca="$WORLD_CORP_CA_FILE" +tls-hostname="$WORLD_CORP_AUTH_NAME" \
		+time=2 +retry=0 @"$WORLD_CORPDOT_ADDR" -p 853 "www.$WORLD_CORP_ZONE." A |
		grep -q 'status: NOERROR' &&
		dig +time=2 +tries=1 @"$WORLD_CORPPLAIN_ADDR" "www.$WORLD_CORP_ZONE." A |
		grep -q 'status: NOERROR'
}

# _world_corp_server NAME "INTERFACE LINES": an unbound serving the
# corporate zones from their files (auth-zone), everything else through
# NSD; log-queries: yes.  Sets _world_pid.
_world_corp_server() {
	local n=$1 d=$WORLD_DIR/$1 z
	mkdir -p "$d"
	{
		printf 'server:\n\tverbosity: 1\n\tnum-threads: 1\n'
		printf '\tinterface-automatic: no\n\t%s\n\tport: 53\n' "$2"
		printf '\tdo-ip6: no\n\tdo-not-query-localhost: no\n'
		printf '\taccess-control: 127.0.0.0/8 allow\n'
		printf '\tusername: ""\n\tchroot: ""\n\tdirectory: "%s"\n' "$d"
		printf '\tpidfile: "%s/unbound.pid"\n\tlogfile: "%s/unbound.log"\n' "$d" "$d"
		printf '\tuse-syslog: no\n\tlog-time-ascii: yes\n\tlog-queries: yes\n'
		printf '\tmodule-config: "iterator"\n\tqname-minimisation: no\n'
		printf '\tharden-referral-path: no\n\tso-reuseport: no\n'
		printf '\tminimal-responses: yes\n'
		printf 'stub-zone:\n\tname: "."\n\tstub-addr: %s@53\n' "$WORLD_NSD_ADDR"
		printf 'remote-control:\n\tcontrol-enable: yes\n'
		printf '\tcontrol-interface: "%s/control.sock"\n\tcontrol-use-cert: no\n' "$d"
		for z in "$WORLD_CORP_ZONE" "$WORLD_VAULT_ZONE" "$WORLD_BROKEN_ZONE"; do
			printf 'auth-zone:\n\tname: "%s."\n\tzonefile: "%s"\n' \
				"$z" "$WORLD_DIR/zones/$z.signed"
			printf '\tfor-downstream: yes\n\tfor-upstream: yes\n'
		done
	} >"$d/unbound.conf"
	_world_run unbound-checkconf "$d/unbound.conf"
	unbound -d -c "$d/unbound.conf" >"$d/unbound.stderr" 2>&1 &
	_world_pid=$!
	_world_addpid "$_world_pid"
	world_register_log "$d/unbound.log" "$n unbound log"
	world_register_log "$d/unbound.stderr" "$n unbound stderr"
}
