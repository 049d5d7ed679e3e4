#!/bin/bash
# test_badinput.sh -- malformed and unsupported queries, raw, over UDP and
# TCP (dnsraw.py): no reply to what cannot be answered (shorter than a
# header, QR=1); NOTIMP for opcodes other than QUERY and for AXFR/IXFR/MAILA;
# FORMERR for QDCOUNT 0 or 2, a compression pointer in the question, a
# truncated question or name, two OPT records (and the other FORMERR cases
# of src/dnsmsg.h); REFUSED for class CH/ANY; BADVERS (with an OPT) for EDNS
# version 1.  Each reply has the query's ID, QR=1 and its opcode, and echoes
# the question where it could be parsed.  After each bad packet a normal
# query still gets NOERROR; then 300 mutated queries, and it still answers.
#
# Run: DOTSECD=/path/to/dotsecd bash tests/system/test_badinput.sh
set -eu
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ds_init
ds_require_dotsecd
world_start
ds_dotsecd_start timeout=3000

GOOD=www.sec8.$WORLD_TLD
# Warm the cache so that the liveness queries are quick.
ds_dig "warm-up: $GOOD A" "$GOOD" A
ds_expect_rcode NOERROR

ds_raw badinput "$GOOD"

ds_dig "still answering with dig after everything: $GOOD A" "$GOOD" A
ds_expect_rcode NOERROR
ds_expect_flag ad

ds_dotsecd_stop
ds_finish
