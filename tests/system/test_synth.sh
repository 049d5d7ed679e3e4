#!/bin/bash
# test_synth.sh -- aggressive use of validated NSEC3 (aggressive_nsec,
# src/synth.c), differentially: every name of a generated set (existing
# names, NODATA, NXDOMAIN, wildcard expansions and wildcard NODATA, empty
# non-terminals and names below them, a CNAME, the zone apex, DS; in the
# NSEC3 zone without salt, in one with salt and 5 iterations, in an
# opt-out one, and in the two NSEC zones) is asked of dotsecd with aggressive_nsec off, a fresh
# libunbound validating each, and then of a new dotsecd with it on.  The
# second must give the same rcode, AD and answer records (TTLs aside) for
# every name, while answering many of them without the upstream.  Then the
# salted zone is signed again with a new salt (a second NSEC3 chain): the
# answers stay the same, and no reply mixes the two chains.
#
# Run: DOTSECD=/path/to/dotsecd bash tests/system/test_synth.sh
set -eu
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ds_init
ds_require_dotsecd
WORLD_SYNTH_ZONES=1
world_start

T=$WORLD_TLD
CTL=${DOTSEC_CONTROL:-$(dirname "$DOTSECD")/dotsec-control}
[ -x "$CTL" ] || ds_die "dotsec-control not found at $CTL (set DOTSEC_CONTROL)"
D=$WORLD_DIR/synth
mkdir -p "$D"

# names PREFIX: "NAME TYPE" lines for each zone; PREFIX makes the made-up
# labels of one set differ from another's.
names() {
	local p=$1 z i t
	for z in sec13 n3 n3opt sec15 sec8; do
		z=$z.$T
		for t in A TXT MX; do
			printf 'www.%s %s\n%s %s\n' "$z" "$t" "$z" "$t"
			printf '*.wild.%s %s\nc.%s %s\nb.c.%s %s\n' "$z" "$t" "$z" \
				"$t" "$z" "$t"
		done
		printf '%s DS\nwww.%s DS\n' "$z" "$z"
		for i in $(seq 1 25); do
			printf '%s%s.%s A\n' "$p" "$i" "$z"
			printf '%s%s.wild.%s A\n' "$p" "$i" "$z"
			printf '%s%s.wild.%s MX\n' "$p" "$i" "$z"
			printf 'q.%s%s.wild.%s TXT\n' "$p" "$i" "$z"
			printf '%s%s.t.%s TXT\n' "$p" "$i" "$z"
			printf '%s%s.t.%s A\n' "$p" "$i" "$z"
			printf '%s%s.deep.%s A\n' "$p" "$i" "$z"
			printf '%s%s.y.deep.%s A\n' "$p" "$i" "$z"
			printf '%s%s.b.c.%s A\n' "$p" "$i" "$z"
			printf '%s%s.www.%s A\n' "$p" "$i" "$z"
			printf '%s%s.cn.%s A\n' "$p" "$i" "$z"
			printf 'h%s.%s A\nh%s.%s TXT\n' "$((i * 6 + ${#p}))" "$z" \
				"$((i * 6 + 1))" "$z"
		done
		printf 'cn.%s A\ny.deep.%s TXT\nx.y.deep.%s TXT\n' "$z" "$z" "$z"
	done
}

# answers FILE OUT: ask dotsecd every "NAME TYPE" of FILE with DO set;
# OUT gets one line per question: name, type, rcode, ad or -, and the
# answer records without TTLs, sorted.  OUT.nsec3 gets the NSEC3 salts
# seen in each reply.
answers() {
	dig -b "$WORLD_CLIENT_ADDR" @"$DS_ADDR" -p "$DS_PORT" +time=5 \
		+tries=1 +dnssec +multiline=no -f "$1" 2>&1 |
		python3 -c '
import sys
out = open(sys.argv[1], "w"); salts = open(sys.argv[1] + ".nsec3", "w")
cur = None
def flush():
    if cur is None:
        return
    out.write("%s %s %s %s | %s\n" % (cur["q"], cur["t"], cur["rcode"],
        "ad" if cur["ad"] else "-", " ; ".join(sorted(cur["an"]))))
    salts.write("%s %s %s\n" % (cur["q"], cur["t"],
        ",".join(sorted(set(cur["salt"]))) or "none"))
sec = None
for line in sys.stdin:
    line = line.rstrip("\n")
    if "->>HEADER<<-" in line:
        flush()
        cur = {"rcode": line.split("status: ")[1].split(",")[0],
               "ad": False, "an": [], "salt": [], "q": "?", "t": "?"}
        continue
    if cur is None:
        continue
    if line.startswith(";; flags:"):
        cur["ad"] = " ad" in line.split(";")[2]
    elif line.startswith(";; QUESTION SECTION"):
        sec = "q"
    elif line.startswith(";; ANSWER SECTION"):
        sec = "an"
    elif line.startswith(";; AUTHORITY SECTION"):
        sec = "ns"
    elif line.startswith(";;") or not line.strip():
        if not line.strip():
            sec = None
    elif sec == "q" and line.startswith(";"):
        f = line[1:].split()
        cur["q"], cur["t"] = f[0].lower(), f[2]
    elif sec in ("an", "ns"):
        f = line.split()
        if len(f) < 5:
            continue
        if sec == "an":
            cur["an"].append(" ".join([f[0].lower()] + f[2:]))
        elif f[3] == "NSEC3":
            cur["salt"].append(f[7].lower())
flush()
' "$2"
}

names s >"$D/set1"
names r >"$D/set2"
n1=$(wc -l <"$D/set1")

# The reference: aggressive_nsec off, each answer from libunbound.
ds_dotsecd_start extra="aggressive_nsec: 0"
answers "$D/set1" "$D/ref1"
answers "$D/set2" "$D/ref2"
ds_case "reference: an answer to each of the $n1 + $n1 questions"
DS_OUT=$(head -n 5 "$D/ref1")
[ "$(wc -l <"$D/ref1")" = "$n1" ] && [ "$(wc -l <"$D/ref2")" = "$n1" ] ||
	ds_fail "$(wc -l <"$D/ref1") and $(wc -l <"$D/ref2") answers"
ds_case "reference: the set has every kind of answer"
kinds=$(awk '{ k[$3 ($4 == "ad" ? "+ad" : "")]++ } END { for (x in k) printf "%s=%d ", x, k[x] }' "$D/ref1")
DS_OUT=$kinds
for k in NOERROR+ad NXDOMAIN+ad NXDOMAIN NOERROR; do
	case " $kinds" in *" $k="*) ;; *) ds_fail "no $k answer in the set" ;; esac
done
ds_dotsecd_stop

# compare REF GOT LABEL: the same answer for every question.
compare() {
	local diffs
	ds_case "$3: every answer equals the reference (rcode, AD, records)"
	diffs=$(diff "$1" "$2" || true)
	DS_OUT=$(printf '%s\n' "$diffs" | head -n 20)
	[ -z "$diffs" ] || ds_fail "$(printf '%s\n' "$diffs" | grep -c '^>') answers differ"
}

up_total() {
	grep -c ' info: .* IN$' "$WORLD_UPSTREAM_LOG" || true
}

# synthesized [PROOF...]: the answers made from NSEC3 (of these proofs).
synthesized() {
	"$CTL" -s "$DS_CTL" stats | awk -v want=" $* " '
		$1 ~ /^dotsec_synthesized_total/ {
			p = $1; sub(/.*proof="/, "", p); sub(/".*/, "", p)
			if (want == "  " || index(want, " " p " ")) n += $2
		}
		END { print n + 0 }'
}

# aggressive_nsec on (the default), the same questions.
ds_dotsecd_start
u0=$(up_total)
answers "$D/set1" "$D/got1"
compare "$D/ref1" "$D/got1" "set 1"
world_upstream_settle
u1=$(up_total)
s1=$(synthesized)
ds_case "set 1: answers were made from NSEC3 ($s1), the upstream was asked less"
DS_OUT="synthesized $s1; upstream queries $((u1 - u0)) for $n1 questions"
[ "$s1" -ge 100 ] || ds_fail "only $s1 answers synthesized"
[ $((u1 - u0)) -lt $((n1 - s1 + 20)) ] || ds_fail "upstream asked $((u1 - u0)) times"

# Every NSEC3 of the opt-out zone is flagged opt-out: its made-up names
# are never proven absent (NXDOMAIN) or covered by a wildcard from them;
# only a name's own NSEC3 proves its NODATA.
ds_case "opt-out zone: no NXDOMAIN or wildcard answer made from opt-out NSEC3"
s_before=$(synthesized nxdomain wildcard wildcard_nodata)
grep "^r[0-9a-z.]*n3opt" "$D/set2" >"$D/opt2"
answers "$D/opt2" "$D/optgot"
s_after=$(synthesized nxdomain wildcard wildcard_nodata)
DS_OUT="before $s_before, after $s_after ($(wc -l <"$D/opt2") questions: $(awk '{print $3}' "$D/optgot" | sort | uniq -c | tr '\n' ' '))"
[ "$s_after" = "$s_before" ] || ds_fail "answers were made for the opt-out zone"
grep -q NXDOMAIN "$D/optgot" || ds_fail "no NXDOMAIN among them: not a test"
s_after=$(synthesized)

# A new NSEC3 chain for n3 (another salt), the records of the old one still
# cached: the answers stay right and no reply mixes the chains.
world_n3_resign 0fedcba9
answers "$D/set2" "$D/got2"
compare "$D/ref2" "$D/got2" "set 2, after a re-sign with a new salt"
ds_case "set 2: no reply carries NSEC3 records of two chains"
DS_OUT=$(grep ',' "$D/got2.nsec3" | head -n 5)
[ -z "$DS_OUT" ] || ds_fail "mixed NSEC3 parameters"
ds_case "set 2: the new chain was learnt and used"
s2=$(synthesized)
DS_OUT="synthesized $s2 (was $s_after); salts: $(awk '{print $3}' "$D/got2.nsec3" | sort | uniq -c | tr '\n' ' ')"
[ "$s2" -gt "$s_after" ] || ds_fail "nothing synthesized after the re-sign"
grep -q ' 0fedcba9$' "$D/got2.nsec3" || ds_fail "the new chain never seen"

# Below a negative trust anchor nothing is validated, so nothing is made
# from validated records either: a new name there is answered without AD,
# by the upstream.
ds_case "negative trust anchor: no answer made from NSEC3 below it"
s_before=$(synthesized)
"$CTL" -s "$DS_CTL" nta add "n3.$T" 300 >/dev/null
answers <(printf 'ntacheck%s.n3.%s A\n' 1 "$T"; printf 'ntacheck%s.wild.n3.%s A\n' 2 "$T") "$D/nta"
s_after=$(synthesized)
DS_OUT="synthesized before $s_before, after $s_after
$(cat "$D/nta")"
[ "$s_after" = "$s_before" ] || ds_fail "answers were made below the anchor"
grep -q ' ad ' "$D/nta" && ds_fail "AD below a negative trust anchor"
grep -q '^ntacheck1.* NXDOMAIN - ' "$D/nta" || ds_fail "not an NXDOMAIN without AD"
"$CTL" -s "$DS_CTL" nta remove "n3.$T" >/dev/null

# A flush of the zone: its next new name goes to the upstream again.
ds_case "flush zone: the zone's records are forgotten"
"$CTL" -s "$DS_CTL" flush zone "n3.$T" >/dev/null
u2=$(world_upstream_count "flushcheck.n3.$T" A)
answers <(printf 'flushcheck.n3.%s A\n' "$T") "$D/flush"
world_upstream_settle
u3=$(world_upstream_count "flushcheck.n3.$T" A)
DS_OUT=$(cat "$D/flush")
[ "$u3" -gt "$u2" ] || ds_fail "the name was not asked upstream after the flush"
grep -q 'NXDOMAIN ad' "$D/flush" || ds_fail "not a secure NXDOMAIN"

ds_dotsecd_stop
ds_finish
