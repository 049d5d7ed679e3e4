#!/bin/bash
# tests/deploy/check.sh -- static checks of what deploys dotsecd, offline
# except for npm and apt installs from the package registries:
#   - deploy/kubernetes: every object against the Kubernetes API schemas
#     (npm kubernetes-models: types, required fields, enums, formats; the
#     field lists of @kubernetes/client-node's models: unknown fields), one
#     file at a time and as rendered by `kubectl kustomize` (when kubectl
#     is installed); and the validator itself rejects broken copies
#   - the dotsecd.yml of the ConfigMap and the container's configuration
#     pass `dotsecd -t` (trust_anchor_file pointed at the source tree's)
#   - conf/dotsecd.service.in, with the paths substituted as make does,
#     passes `systemd-analyze verify`, and `systemd-analyze security`
#     rates its exposure at most MAX_EXPOSURE
#   - src/dotsecd and src/dotsec-anchor as built: hardening-check
#     (devscripts) reports no "no"
#   - doc/dotsecd.8 and doc/dotsecd.yml.5 pass mandoc's lint (or groff -ww),
#     and dotsecd.yml.5 describes every key of conf/dotsecd.yml
# Prints "deploy: N passed, M failed"; exits 0 only when all passed.
#
# Environment: DOTSECD (default $abs_top_builddir/src/dotsecd, else
# src/dotsecd of this tree; dotsec-anchor is looked for next to it), CC
# (default cc: the compiler of the hardening-check probe).
set -uo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$TOP/tests/deploy
K8S=$TOP/deploy/kubernetes
PATH="$PATH:/usr/sbin:/sbin"
DOTSECD=${DOTSECD:-${abs_top_builddir:-$TOP}/src/dotsecd}
ANCHOR_TOOL=$(dirname "$DOTSECD")/dotsec-anchor
# systemd-analyze security's overall exposure level (0.0 to 10.0) of
# dotsecd.service must not exceed this.
MAX_EXPOSURE=1.5
# Pinned, so that a new release cannot change the verdict unseen.
NPM_PKGS=(kubernetes-models@5.1.0 js-yaml@4.1.0)
CLIENT_NODE=@kubernetes/client-node@1.3.0
PASS=0
FAIL=0
W=""

say() { printf 'deploy: %s\n' "$*"; }
ok() { PASS=$((PASS + 1)); say "ok: $*"; }
bad() { FAIL=$((FAIL + 1)); say "FAILED: $*"; }
indent() { sed 's/^/  | /'; }

on_exit() {
	local rc=$?
	trap - EXIT
	[ -n "$W" ] && rm -rf "$W"
	[ "$FAIL" -eq 0 ] && [ "$rc" -eq 0 ] || rc=1
	say "$PASS passed, $FAIL failed"
	exit "$rc"
}
trap on_exit EXIT
trap 'exit 1' INT TERM HUP

W=$(mktemp -d "${TMPDIR:-/tmp}/dotsec-deploy.XXXXXX") || exit 1

# ------------------------------------------------------------ Kubernetes
k8s_ready=0
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	bad "node and npm are needed for the Kubernetes schema check"
elif ! (cd "$W" && npm install --no-audit --no-fund --loglevel=error \
	--no-save "${NPM_PKGS[@]}" >npm.log 2>&1 &&
	npm pack --silent "$CLIENT_NODE" >>npm.log 2>&1); then
	indent <"$W/npm.log"
	bad "npm install ${NPM_PKGS[*]} $CLIENT_NODE failed"
else
	mkdir -p "$W/client-node-models"
	if tar -xzf "$W"/kubernetes-client-node-*.tgz -C "$W/client-node-models" \
		--strip-components=4 package/dist/gen/models/; then
		echo '{"type": "module"}' >"$W/client-node-models/package.json"
		k8s_ready=1
	else
		bad "cannot unpack $CLIENT_NODE"
	fi
fi

validate() {
	node "$HERE/k8s-validate.mjs" "$W" "$@"
}

if [ "$k8s_ready" = 1 ]; then
	mapfile -t manifests < <(find "$K8S" -name '*.yaml' ! -name kustomization.yaml | sort)
	if [ ${#manifests[@]} -eq 0 ]; then
		bad "no manifest in $K8S"
	elif out=$(validate "${manifests[@]}" 2>&1); then
		ok "Kubernetes schemas, file by file:"
		printf '%s\n' "$out" | indent
	else
		bad "Kubernetes schemas, file by file:"
		printf '%s\n' "$out" | indent
	fi
	if command -v kubectl >/dev/null 2>&1; then
		for k in "$K8S" "$K8S/shared-dot"; do
			if ! kubectl kustomize "$k" >"$W/rendered.yaml" 2>"$W/kustomize.err"; then
				indent <"$W/kustomize.err"
				bad "kubectl kustomize $k failed"
			elif out=$(validate "$W/rendered.yaml" 2>&1); then
				ok "kubectl kustomize $k renders $(grep -c '^kind:' "$W/rendered.yaml") valid objects"
			else
				bad "kubectl kustomize $k output:"
				printf '%s\n' "$out" | indent
			fi
		done
	else
		say "note: kubectl not installed: kustomization.yaml not rendered"
	fi

	# The validator must catch what it is there for.
	ds=$K8S/daemonset.yaml
	sed 's/^\(          imagePullPolicy: IfNotPresent\)$/\1\n          imagePulPolicy: Always/' \
		"$ds" >"$W/bad-field.yaml"
	sed '0,/containerPort: 53/s//containerPort: "53"/' "$ds" >"$W/bad-type.yaml"
	sed '0,/protocol: UDP/s//protocol: UPD/' "$ds" >"$W/bad-enum.yaml"
	sed '/^  selector:$/,/^  updateStrategy:$/{/^  updateStrategy:$/!d}' "$ds" \
		>"$W/bad-required.yaml"
	for b in field type enum required; do
		if cmp -s "$ds" "$W/bad-$b.yaml"; then
			bad "could not make a copy of daemonset.yaml with a bad $b"
		elif out=$(validate "$W/bad-$b.yaml" 2>&1); then
			bad "the validator accepted daemonset.yaml with a bad $b"
		else
			ok "the validator rejects a bad $b: $(printf '%s\n' "$out" | sed -n 2p | sed 's/^ *//')"
		fi
	done
fi

# ------------------------------------------------------------ configurations
check_conf() {
	local what=$1 file=$2 out
	sed "s|^\([[:space:]]*trust_anchor_file:\).*|\1 \"$TOP/trust-anchors/root.key\"|" \
		"$file" >"$W/conf.yml"
	if out=$("$DOTSECD" -t -c "$W/conf.yml" 2>&1); then
		ok "$what passes dotsecd -t"
	else
		bad "$what fails dotsecd -t:"
		printf '%s\n' "$out" | indent
	fi
}
if [ ! -x "$DOTSECD" ]; then
	bad "dotsecd not found at '$DOTSECD' (build it, or set DOTSECD)"
else
	check_conf "deploy/container/dotsecd.yml" "$TOP/deploy/container/dotsecd.yml"
	if [ "$k8s_ready" = 1 ]; then
		if node -e '
			const y = require(process.argv[1]);
			const fs = require("fs");
			const d = y.load(fs.readFileSync(process.argv[2], "utf8"));
			process.stdout.write(d.data["dotsecd.yml"]);' \
			"$W/node_modules/js-yaml" "$K8S/configmap.yaml" >"$W/cm.yml"; then
			check_conf "the dotsecd.yml of deploy/kubernetes/configmap.yaml" "$W/cm.yml"
		else
			bad "cannot read dotsecd.yml out of configmap.yaml"
		fi
		# The shared DoT variant: its certificate paths pointed at a
		# pair made here (dotsecd -t loads them).
		if node -e '
			const y = require(process.argv[1]);
			const fs = require("fs");
			const d = y.load(fs.readFileSync(process.argv[2], "utf8"));
			process.stdout.write(d.data["dotsecd.yml"]);' \
			"$W/node_modules/js-yaml" "$K8S/shared-dot/configmap.yaml" >"$W/dot.yml" &&
			openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
				-days 1 -subj /CN=dotsec.test -keyout "$W/tls.key" \
				-out "$W/tls.crt" >/dev/null 2>&1 && chmod 600 "$W/tls.key"; then
			sed -i "s|/etc/dotsec-tls/|$W/|" "$W/dot.yml"
			check_conf "the dotsecd.yml of deploy/kubernetes/shared-dot/configmap.yaml" "$W/dot.yml"
		else
			bad "cannot read dotsecd.yml out of shared-dot/configmap.yaml, or make a certificate"
		fi
	fi
fi

# ------------------------------------------------------------ systemd unit
# The same substitution as Makefile.am's, with sbindir pointing at the
# binary under test so that verify finds an executable.
sed -e "s|@sbindir[@]|$(dirname "$DOTSECD")|g" \
	-e "s|@sysconfdir[@]|/etc|g" \
	-e "s|@localstatedir[@]|/var|g" \
	"$TOP/conf/dotsecd.service.in" >"$W/dotsecd.service"
if grep -n '@[a-z]*@' "$W/dotsecd.service"; then
	bad "conf/dotsecd.service.in has an unsubstituted @variable@"
elif ! command -v systemd-analyze >/dev/null 2>&1; then
	bad "systemd-analyze not found (package systemd): the unit is not checked"
elif out=$(cd "$W" && systemd-analyze verify --man=no "$W/dotsecd.service" 2>&1) &&
	! printf '%s\n' "$out" | grep -q 'dotsecd.service'; then
	ok "systemd-analyze verify: dotsecd.service"
else
	bad "systemd-analyze verify dotsecd.service:"
	printf '%s\n' "$out" | indent
fi
# The socket unit, next to the service it activates.
cp "$TOP/conf/dotsecd.socket" "$W/dotsecd.socket"
if command -v systemd-analyze >/dev/null 2>&1 &&
	out=$(cd "$W" && systemd-analyze verify --man=no "$W/dotsecd.socket" 2>&1) &&
	! printf '%s\n' "$out" | grep -q 'dotsecd.socket'; then
	ok "systemd-analyze verify: dotsecd.socket"
else
	bad "systemd-analyze verify dotsecd.socket:"
	printf '%s\n' "${out:-}" | indent
fi
# verify exits 0 on an unknown key: the check reads what it prints, and
# must see a misspelt one.
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$W/bad"
	sed 's/^ProtectSystem=/ProtectSytem=/' "$W/dotsecd.service" >"$W/bad/dotsecd.service"
	if (cd "$W" && systemd-analyze verify --man=no "$W/bad/dotsecd.service" 2>&1) |
		grep -q "dotsecd.service:.*ProtectSytem"; then
		ok "systemd-analyze verify reports a misspelt key"
	else
		bad "systemd-analyze verify let a misspelt key (ProtectSytem=) through"
	fi
fi

# How exposed the unit leaves the host: systemd-analyze security rates
# every sandboxing setting it lacks; the overall level must stay at most
# MAX_EXPOSURE, so that a setting lost in an edit shows here.
if ! command -v systemd-analyze >/dev/null 2>&1; then
	bad "systemd-analyze not found (package systemd): the unit's exposure is not checked"
else
	out=$(cd "$W" && systemd-analyze security --offline=yes --no-pager "$W/dotsecd.service" 2>&1)
	level=$(printf '%s\n' "$out" |
		sed -n 's/.*Overall exposure level for dotsecd\.service: \([0-9][0-9.]*\).*/\1/p')
	if [ -z "$level" ]; then
		bad "systemd-analyze security printed no overall exposure level for dotsecd.service:"
		printf '%s\n' "$out" | indent
	elif awk -v l="$level" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(l + 0 <= m + 0) }'; then
		ok "systemd-analyze security: dotsecd.service exposure $level (at most $MAX_EXPOSURE)"
	else
		bad "systemd-analyze security: dotsecd.service exposure $level, above $MAX_EXPOSURE; what it counts against the unit:"
		# The settings it counts, with their share: a number ends the line.
		printf '%s\n' "$out" | grep -E ' [0-9]+\.[0-9]+[[:space:]]*$' | indent
	fi
fi

# ------------------------------------------------------------ hardening
# The programs as built must carry what configure's hardening flags give
# them: PIE, stack protector, fortified functions, RELRO, immediate
# binding, control-flow protection.  A "no" from hardening-check fails.
# Two of its lines need a word:
#   - "Control flow integrity" looks for the IBT and SHSTK properties of the
#     program, which the linker sets only when every object it links has
#     them, the C start files (Scrt1.o, crti.o, crtn.o) included; Debian
#     12's glibc does not build those with them.  So the line is required
#     only where a program this toolchain links with -fcf-protection gets
#     the properties.
#   - "Stack clash protection: unknown" is no failure: hardening-check
#     recognises only the probe loop of a frame of variable size (alloca,
#     VLA), and dotsec has none.
if ! command -v hardening-check >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		devscripts >/dev/null 2>&1 ||
		say "note: devscripts could not be installed"
fi
if ! command -v hardening-check >/dev/null 2>&1; then
	bad "hardening-check not found (package devscripts): the programs are not checked"
else
	hc_opts=()
	printf 'int main(void) { return 0; }\n' >"$W/cfprobe.c"
	if ! "${CC:-cc}" -fcf-protection -o "$W/cfprobe" "$W/cfprobe.c" >"$W/cfprobe.log" 2>&1; then
		say "note: ${CC:-cc} -fcf-protection cannot build a program: control flow integrity required"
	elif ! LC_ALL=C readelf -n "$W/cfprobe" | grep -q 'x86 feature: IBT, SHSTK'; then
		hc_opts+=(--nocfprotection)
		say "note: ${CC:-cc} -fcf-protection links no program with IBT and SHSTK here (C start files without them): control flow integrity not required"
	fi
	for prog in "$DOTSECD" "$ANCHOR_TOOL" "$(dirname "$DOTSECD")/dotsec-control"; do
		if [ ! -f "$prog" ]; then
			bad "hardening-check: $prog not found (build it, or set DOTSECD)"
			continue
		fi
		hc_rc=0
		out=$(LC_ALL=C hardening-check "${hc_opts[@]}" "$prog" 2>&1) || hc_rc=$?
		nos=$(printf '%s\n' "$out" | grep -E '^ [^:]+: no' | grep -v '(ignored)$')
		if [ "$hc_rc" -eq 0 ] && [ -z "$nos" ]; then
			ok "hardening-check: $(basename "$prog")"
		else
			bad "hardening-check: $(basename "$prog") (exit $hc_rc):"
		fi
		printf '%s\n' "$out" | sed 1d | indent
	done
fi

# ------------------------------------------------------------ man pages
if ! command -v mandoc >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q mandoc >/dev/null 2>&1 ||
		say "note: mandoc could not be installed: groff -ww checks the pages"
fi
for m in "$TOP/doc/dotsecd.8" "$TOP/doc/dotsecd.yml.5"; do
	if command -v mandoc >/dev/null 2>&1; then
		out=$(mandoc -T lint -W warning "$m" 2>&1)
		tool="mandoc -T lint"
	else
		out=$(groff -man -ww -z "$m" 2>&1)
		tool="groff -ww"
	fi
	if [ -z "$out" ]; then
		ok "$tool: doc/$(basename "$m")"
	else
		bad "$tool: doc/$(basename "$m"):"
		printf '%s\n' "$out" | indent
	fi
done
# Every key of the annotated configuration, and the keys of an upstream
# entry, must have its own entry (.B key) in dotsecd.yml(5).
missing=""
for k in $(sed -n 's/^#\{0,1\}\([a-z_][a-z0-9_]*\):.*/\1/p' "$TOP/conf/dotsecd.yml" | sort -u) \
	address_data tls_port tls_auth_name tls_pubkey_pinset digest value; do
	grep -qE "^\.B[R]? $k( |\$)" "$TOP/doc/dotsecd.yml.5" || missing="$missing $k"
done
if [ -z "$missing" ]; then
	ok "dotsecd.yml(5) describes every key of conf/dotsecd.yml"
else
	bad "dotsecd.yml(5) lacks:$missing"
fi
