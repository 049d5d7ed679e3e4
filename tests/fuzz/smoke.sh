#!/bin/bash
# Run each libFuzzer target for a while on a copy of its seed corpus and
# fail if any of them crashes (a sanitizer report, a broken invariant, a
# leak, a timeout or running out of memory).  `make fuzz-smoke` runs this.
#
# Usage: smoke.sh SECONDS MAX_LEN CORPUS_DIR DICT_DIR TARGET...
#   CORPUS_DIR/NAME/ holds the seeds of the target NAME; it is only read:
#   every run works on a copy in a temporary directory, removed afterwards
#   unless the target failed (its log and crash input stay there).
#   DICT_DIR/NAME.dict, when it exists, is given to libFuzzer as -dict.
# Prints, for each target, libFuzzer's final figures (executions, speed,
# coverage counters cov/ft, corpus) and, on a crash, the sanitizer report
# and the crashing input in hex.  Exit 1 when a target failed.
set -u

if [ "$#" -lt 5 ]; then
	sed -n '2,14p' "$0" >&2
	exit 2
fi
seconds=$1 max_len=$2 corpus_dir=$3 dict_dir=$4
shift 4

status=0
summary=()
for target in "$@"; do
	name=$(basename "$target")
	name=${name%.exe}
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/dotsec-fuzz-$name.XXXXXX") || exit 1
	mkdir "$tmp/corpus" "$tmp/artifacts"
	nseeds=0
	if [ -d "$corpus_dir/$name" ]; then
		cp -R "$corpus_dir/$name/." "$tmp/corpus/"
		chmod -R u+w "$tmp/corpus"
		nseeds=$(find "$tmp/corpus" -type f | wc -l)
	fi
	dict=()
	[ -f "$dict_dir/$name.dict" ] && dict=("-dict=$dict_dir/$name.dict")
	echo "fuzz-smoke: $name: ${seconds}s, $nseeds seeds, -max_len=$max_len${dict:+ ${dict[*]##*/}}"
	rc=0
	"$target" -max_total_time="$seconds" -max_len="$max_len" \
		-timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$tmp/artifacts/" "${dict[@]}" \
		"$tmp/corpus" >"$tmp/$name.log" 2>&1 || rc=$?
	log=$tmp/$name.log
	# The last status line ("#N DONE cov: C ft: F corp: ...") and the
	# final stats of -print_final_stats=1.
	done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1)
	grep -E '^stat::' "$log" | sed "s/^/fuzz-smoke: $name: /"
	[ -n "$done_line" ] && echo "fuzz-smoke: $name: $done_line"
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	# After a crash there is no DONE line: the last status line counts.
	last_line=$(grep -E '^#[0-9]+[[:space:]].* cov: ' "$log" | tail -n 1)
	cov=$(sed -n 's/.* cov: \([0-9]*\) .*/\1/p' <<<"$last_line")
	ft=$(sed -n 's/.* ft: \([0-9]*\) .*/\1/p' <<<"$last_line")
	corp=$(sed -n 's/.* corp: \([^ ]*\) .*/\1/p' <<<"$last_line")
	crashes=$(find "$tmp/artifacts" -type f | wc -l)
	if [ "$rc" -eq 0 ] && [ -n "$done_line" ] && [ "$crashes" -eq 0 ]; then
		verdict=PASS
	else
		verdict=FAIL
		status=1
	fi
	line="$name: $verdict: ${execs:-?} executions (${speed:-?}/s), cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}, exit $rc, $crashes crash file(s)"
	echo "fuzz-smoke: $line"
	summary+=("$line")
	if [ "$verdict" = FAIL ]; then
		# The report: what follows libFuzzer's last status line.
		echo "fuzz-smoke: $name: the end of its log ($log):"
		awk '/^#[0-9]+[[:space:]]/ { n = 0; next } { line[n++] = $0 }
		    END { for (i = 0; i < n; i++) print line[i] }' "$log" |
			tail -n 150 | sed "s/^/    /"
		for f in "$tmp"/artifacts/*; do
			[ -f "$f" ] || continue
			echo "fuzz-smoke: $name: $(basename "$f") ($(wc -c <"$f") bytes), hex:"
			od -An -tx1 -v "$f" | tr -d ' \n' | fold -w 128 | sed 's/^/    /'
			echo
			echo "fuzz-smoke: $name: reproduce with: $target $f"
		done
		echo "fuzz-smoke: $name: kept $tmp"
	else
		rm -rf "$tmp"
	fi
done

echo "fuzz-smoke: summary"
for line in "${summary[@]}"; do
	echo "fuzz-smoke:   $line"
done
[ "$status" -eq 0 ] && echo "fuzz-smoke: all $# targets passed" ||
	echo "fuzz-smoke: a target FAILED"
exit "$status"
