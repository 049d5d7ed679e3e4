#!/bin/bash
# test_deps: every program that a test of `make check` requires is installed
# here and comes from a Debian package that scripts/install-deps.sh installs
# (named there, pulled in as a dependency, or Essential / Priority
# required).  Otherwise the README's test command fails on a fresh Debian 12
# machine even where it passes on one with tools installed by hand.
#
# The programs are the arguments of every `ds_require` (lib.sh and the
# test scripts) and `_world_need` (world.sh) line under tests/system/.  A
# program that is not installed at all fails too: it is not a skip.
# Runs first in `make check`; it starts nothing and takes seconds.

. "$(dirname "$0")/lib.sh"
trap '_ds_on_exit' EXIT
trap 'exit 1' INT TERM HUP

# The programs the tests name, one a line: the arguments of lib.sh's and
# world.sh's require helpers, continuation lines joined, variables and
# options left out.
required_programs() {
	sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$DS_SYSTEM_DIR"/*.sh |
		grep -E '^[[:space:]]*(ds_require|_world_need)[[:space:]]' |
		sed -E 's/^[[:space:]]*[a-z_]+[[:space:]]+//; s/[;|&#].*//' |
		tr ' \t' '\n\n' | grep -E '^[A-Za-z0-9][A-Za-z0-9._+-]*$' | sort -u
}

progs=$(required_programs)
ds_case "the tests name the programs they require"
# ds_init's own list and world.sh's are always there: an empty or short
# list means the parsing above broke, not that nothing is needed.
for p in dig kdig nsd unbound dnsperf dnssec-signzone; do
	grep -qxF "$p" <<<"$progs" || ds_fail "'$p' not found among the required programs: $(echo $progs)"
done

out=$(bash "$DS_SYSTEM_DIR/../../scripts/deps-check.sh" $progs 2>&1)
rc=$?
ds_case "deps-check.sh ran"
[ "$rc" -le 1 ] || ds_fail "deps-check.sh failed (status $rc): $out"

for p in $progs; do
	ds_case "program $p is installed by install-deps.sh"
	line=$(grep -E "^(ok|gap) $p[ ]" <<<"$out" | head -n 1)
	case $line in
	"ok "*) [ "${DS_VERBOSE:-0}" = 1 ] && echo "$line" ;;
	"gap "*) ds_fail "${line#gap }" ;;
	*) ds_fail "deps-check.sh said nothing of it" ;;
	esac
done
ds_finish
