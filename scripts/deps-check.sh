#!/bin/bash
# deps-check.sh [--bench] PROGRAM...: is each program installed here, and does it come
# from a Debian package that a fresh machine gets from scripts/install-deps.sh
# (named there, pulled in by one that is, or Essential / Priority required)?
#
# One line per program on stdout:
#   ok PROGRAM PATH PACKAGE WHY      WHY: listed, dependency, required, builtin
#   gap PROGRAM WHAT                 WHAT says what is missing, in words
# Exit 0 when every program is ok, 1 when any is a gap, 2 on a usage error
# or when apt knows no packages (run apt-get update first).
#
# Used by tests/system/test_deps.sh (a gap fails `make check`) and by
# bench/run.sh with --bench (against `install-deps.sh --bench`; a gap is a
# warning there).  Alternatives in a Depends line
# ("a | b") all count as pulled in: apt installs one of them.
set -u
bench=""
[ "${1:-}" = --bench ] && { bench=--bench; shift; }
[ $# -gt 0 ] || { echo "usage: $0 [--bench] PROGRAM..." >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
deps=$here/install-deps.sh
PATH="$PATH:/usr/sbin:/sbin"

listed=$(sh "$deps" --list $bench) || { echo "deps-check: $deps --list failed" >&2; exit 2; }
# shellcheck disable=SC2086
closure=$(apt-cache depends --recurse --no-recommends --no-suggests \
	--no-conflicts --no-breaks --no-replaces --no-enhances $listed 2>/dev/null |
	grep -vE '^[[:space:]<]' | sort -u)
if [ -z "$closure" ]; then
	echo "deps-check: apt-cache knows none of the packages of $deps (run apt-get update)" >&2
	exit 2
fi

# owner PATH...: the package that installed the first of these files
owner() {
	local f p
	for f in "$@"; do
		p=$(dpkg -S "$f" 2>/dev/null | grep -v "^diversion by" | head -n 1) || continue
		[ -n "$p" ] || continue
		p=${p%%: *}
		echo "${p%%:*}"
		return 0
	done
	return 1
}

gaps=0
for prog in "$@"; do
	if ! path=$(command -v "$prog" 2>/dev/null); then
		echo "gap $prog is not installed on this machine (no package of install-deps.sh provides it)"
		gaps=$((gaps + 1))
		continue
	fi
	case $path in
	/*) ;;
	*) echo "ok $prog $path - builtin"; continue ;;
	esac
	real=$(readlink -f "$path")
	# merged /usr: dpkg may record /bin/x for /usr/bin/x, or the reverse;
	# a shim earlier in PATH (pyenv) stands for the distribution's own
	# /usr/bin/x, which is what a fresh machine runs
	if ! pkg=$(owner "$path" "$real" "${path#/usr}" "${real#/usr}" \
		"/usr$path" "/usr$real" "/usr/bin/$prog" "/usr/sbin/$prog"); then
		echo "gap $prog ($path) belongs to no Debian package: installed by hand?"
		gaps=$((gaps + 1))
		continue
	fi
	if grep -qxF "$pkg" <<<"$listed"; then
		echo "ok $prog $path $pkg listed"
		continue
	fi
	prio=$(dpkg-query -W -f='${Priority} ${Essential}' "$pkg" 2>/dev/null)
	case $prio in
	required* | *yes) echo "ok $prog $path $pkg required"; continue ;;
	esac
	if grep -qxF "$pkg" <<<"$closure"; then
		echo "ok $prog $path $pkg dependency"
		continue
	fi
	echo "gap $prog ($path) comes from package $pkg, which install-deps.sh does not install"
	gaps=$((gaps + 1))
done
[ "$gaps" -eq 0 ]
