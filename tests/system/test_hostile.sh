#!/bin/bash
# test_hostile.sh -- a corpus of hand-made hostile queries (hostile.py),
# each over UDP and over TCP, with the verdict src/dnsmsg.h documents:
# no reply for less than a header or QR=1; NOTIMP for opcodes other than
# QUERY (whatever follows the header) and for AXFR/IXFR/MAILA/MAILB;
# FORMERR for QDCOUNT != 1, ANCOUNT/NSCOUNT != 0, bad or compressed or
# truncated names (pointer to itself, into the header, past the end;
# labels of type 0x40/0x80; names over 255 bytes), an OPT outside the
# additional section, two OPTs, an OPT not owned by the root, bad RDLEN or
# option lengths, qtype 0/OPT/TSIG/TKEY; REFUSED for classes other than
# IN; BADVERS (with an OPT) for EDNS versions other than 0.  Odd but
# well-formed queries are answered: a 255-byte name, a 63-byte label,
# binary labels, trailing garbage, odd header flags and EDNS options.
# After each packet a normal query still gets NOERROR.  Then TCP framing
# abuse: a zero-length frame, a length prefix longer than the data and a
# close, a prefix shorter than the message, pipelined bad and good
# messages, a query trickled byte by byte, a 65535-byte frame.
#
# Run: DOTSECD=/path/to/dotsecd bash tests/system/test_hostile.sh
set -eu
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

READ_TIMEOUT_MS=2000

ds_init
ds_require_dotsecd
world_start
ds_dotsecd_start timeout=3000 extra="tcp_read_timeout: $READ_TIMEOUT_MS"

GOOD=www.sec8.$WORLD_TLD
# Warm the cache so that the liveness queries are quick.
ds_dig "warm-up: $GOOD A" "$GOOD" A
ds_expect_rcode NOERROR

out=$(DS_TCP_READ_TIMEOUT_MS=$READ_TIMEOUT_MS python3 \
	"$DS_SYSTEM_DIR/hostile.py" "$DS_ADDR" "$DS_PORT" "$WORLD_CLIENT_ADDR" \
	"$GOOD" 2>&1) || true
ds_script_cases "" "$out"
n=$DS_SCRIPT_CASES
corpus=$(printf '%s\n' "$out" | sed -n 's/^CORPUS\t//p')
ds_case "hostile.py ran: a corpus of at least 50 packets"
DS_OUT=$(printf '%s\n' "$out" | grep -v '^CASE' | head -n 40)
if [ "$n" = 0 ] || printf '%s\n' "$out" | grep -q '^Traceback'; then
	ds_fail "hostile.py did not run properly"
fi
[ "${corpus:-0}" -ge 50 ] || ds_fail "corpus of ${corpus:-0} packets, expected at least 50"
printf '%s: %s packets in the corpus, %s checks\n' "$DS_TEST" "${corpus:-0}" "$n"

ds_dig "still answering with dig after everything: $GOOD A" "$GOOD" A
ds_expect_rcode NOERROR
ds_expect_flag ad

ds_dotsecd_stop
ds_finish
