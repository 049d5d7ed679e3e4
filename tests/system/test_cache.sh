#!/bin/bash
# test_cache.sh -- answers come from dotsecd's cache (libunbound's message
# and RRset caches): the second query for a name, over either transport,
# with or without DO, in any case of letters, sends nothing new to the
# upstream (counted in the upstream's query log, log-queries: yes).
# Positive secure, NXDOMAIN, NODATA, insecure; the DNSKEY/DS chain is not
# fetched again either.  A bogus verdict is remembered for bogus_ttl.
#
# Run: DOTSECD=/path/to/dotsecd bash tests/system/test_cache.sh
set -eu
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ds_init
ds_require_dotsecd
world_start
ds_dotsecd_start timeout=3000

T=$WORLD_TLD

# cached LABEL QNAME QTYPE RCODE AD(yes|no)
cached() {
	local label=$1 q=$2 t=$3 rcode=$4 ad=$5 c0 c1 c2 k1 k2 zone
	zone=${q#*.}
	c0=$(world_upstream_count "$q" "$t")
	ds_dig "$label: first query $q $t" +dnssec "$q" "$t"
	ds_expect_rcode "$rcode"
	if [ "$ad" = yes ]; then ds_expect_flag ad; else ds_expect_noflag ad; fi
	world_upstream_settle
	c1=$(world_upstream_count "$q" "$t")
	k1=$(world_upstream_count "$zone" DNSKEY)
	ds_case "$label: the first query reached the upstream"
	DS_OUT=$(tail -n 30 "$WORLD_UPSTREAM_LOG")
	[ "$c1" -gt "$c0" ] || ds_fail "upstream count for $q $t stayed $c0"

	ds_dig "$label: again over UDP, DO=1" +notcp +dnssec "$q" "$t"
	ds_expect_rcode "$rcode"
	if [ "$ad" = yes ]; then ds_expect_flag ad; fi
	ds_dig "$label: again over TCP, DO=0" +tcp "$q" "$t"
	ds_expect_rcode "$rcode"
	if [ "$ad" = yes ]; then ds_expect_flag ad; fi
	ds_dig "$label: again, upper case" +dnssec "$(printf '%s' "$q" | tr '[:lower:]' '[:upper:]')" "$t"
	ds_expect_rcode "$rcode"
	world_upstream_settle
	c2=$(world_upstream_count "$q" "$t")
	k2=$(world_upstream_count "$zone" DNSKEY)
	ds_case "$label: nothing new reached the upstream ($c1 queries for it)"
	DS_OUT=$(tail -n 30 "$WORLD_UPSTREAM_LOG")
	[ "$c2" = "$c1" ] || ds_fail "upstream count for $q $t went from $c1 to $c2"
	[ "$k2" = "$k1" ] || ds_fail "upstream count for $zone DNSKEY went from $k1 to $k2"
}

cached "secure A (NSEC3 zone)" "www.sec13.$T" A NOERROR yes
cached "secure AAAA (RSA zone)" "www.sec8.$T" AAAA NOERROR yes
cached "secure NXDOMAIN" "nx.sec15.$T" A NXDOMAIN yes
cached "secure NODATA" "www.sec13.$T" MX NOERROR yes
cached "insecure A" "www.insecure.$T" A NOERROR no
cached "CNAME into another zone" "cname.sec8.$T" A NOERROR yes

# Bogus: the verdict is remembered (bogus_ttl, 60 s by default), so a
# client asking again for a bogus name does not send it upstream again,
# and still learns why (the EDE).
q=www.badsig.$T
ds_dig "bogus: first query" +dnssec "$q" A
ds_expect_rcode SERVFAIL
ds_expect_ede 6
world_upstream_settle
b1=$(world_upstream_count "$q" A)
ds_dig "bogus: second query" +dnssec "$q" A
ds_expect_rcode SERVFAIL
ds_expect_ede 6
ds_dig "bogus: third query, upper case, DO=0" "$(printf '%s' "$q" | tr '[:lower:]' '[:upper:]')" A
ds_expect_rcode SERVFAIL
ds_expect_ede 6
world_upstream_settle
b2=$(world_upstream_count "$q" A)
ds_case "bogus: the verdict was remembered ($b1 upstream queries)"
[ "$b2" = "$b1" ] || ds_fail "upstream queries for the bogus $q A went from $b1 to $b2"

ds_dotsecd_stop
ds_finish
