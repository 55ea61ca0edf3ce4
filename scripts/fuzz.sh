#!/usr/bin/env bash
# Runs every Go fuzz target in the module for a fixed time each.
#
# Usage: scripts/fuzz.sh [FUZZTIME] [PACKAGES...]
#   FUZZTIME  per-target budget as `go test -fuzztime` takes it (default 5s)
#   PACKAGES  package patterns to search (default ./...)
#
# Targets are discovered with `go test -list`, so a new Fuzz* function is
# picked up without editing this script. Go fuzzes one target of one package
# per run, hence the loop. A crasher found is written by Go to
# PKG/testdata/fuzz/FuzzName/ and makes this script exit non-zero after all
# targets have run.
set -euo pipefail

cd "$(dirname "$0")/.."
command -v go >/dev/null 2>&1 || export PATH="/usr/local/go/bin:$PATH"

fuzztime=${1:-5s}
shift || true
[ "$#" -gt 0 ] || set -- ./...

# Only packages whose test files declare a fuzz function need a test binary
# built for listing; the rest are skipped cheaply.
pkgs=()
while IFS=' ' read -r pkg dir files; do
	[ -n "$files" ] || continue
	for f in $files; do
		if grep -q '^func Fuzz' "$dir/$f"; then
			pkgs+=("$pkg")
			break
		fi
	done
done < <(go list -e -f '{{.ImportPath}} {{.Dir}} {{join .TestGoFiles " "}} {{join .XTestGoFiles " "}}' "$@")

ran=0
failed=()
for pkg in "${pkgs[@]}"; do
	list=$(go test -list '^Fuzz' "$pkg")
	for name in $(grep -E '^Fuzz[A-Za-z0-9_]*$' <<<"$list" || true); do
		echo "=== fuzz $pkg $name ($fuzztime)"
		ran=$((ran + 1))
		dir=$(go list -f '{{.Dir}}' "$pkg")/testdata/fuzz/$name
		before=$( (ls "$dir" 2>/dev/null || true) | wc -l)
		if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime 1s "$pkg"; then
			# Go's fuzzer sometimes reports "context deadline exceeded" when
			# the time runs out mid-step, without any crashing input. Only a
			# new input in testdata/fuzz is a finding; otherwise try once more.
			after=$( (ls "$dir" 2>/dev/null || true) | wc -l)
			if [ "$after" -gt "$before" ] || ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime 1s "$pkg"; then
				failed+=("$pkg.$name")
			fi
		fi
	done
done

if [ "$ran" -eq 0 ]; then
	echo "fuzz: no fuzz targets found in $*"
	exit 0
fi
echo "fuzz summary: $ran targets, ${#failed[@]} with failures"
if [ "${#failed[@]}" -gt 0 ]; then
	printf '  FAILED %s\n' "${failed[@]}" >&2
	exit 1
fi
