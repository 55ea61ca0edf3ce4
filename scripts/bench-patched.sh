#!/bin/sh
# bench-patched.sh PATCH OUT [lookout-bench flags]: runs the benchmark
# against go-libp2p-pubsub with PATCH applied (a proposal for the library,
# docs/patches/), writing perf.md and perf.json to OUT, never to docs/.
# The project's go.mod is not changed: the build uses a copy of it with a
# replace directive, through -modfile.
set -eu
patch=$(realpath "$1") out=$2
shift 2
case $(realpath -m "$out") in "$(realpath docs)"*) echo "bench-patched: OUT must not be under docs/ (patched figures are not the project's)" >&2; exit 2;; esac
mod=github.com/libp2p/go-libp2p-pubsub
src=$(go list -m -f '{{.Dir}}' $mod)
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp"; rm -rf "$tmp"' EXIT
cp -r "$src" "$tmp/pubsub"
chmod -R u+w "$tmp/pubsub"
patch -s -d "$tmp/pubsub" -p1 < "$patch"
cp go.mod "$tmp/go.mod"
cp go.sum "$tmp/go.sum"
go mod edit -modfile="$tmp/go.mod" -replace=$mod="$tmp/pubsub"
used=$(GOFLAGS="-modfile=$tmp/go.mod" go list -m -f '{{.Replace.Dir}}' $mod)
[ "$used" = "$tmp/pubsub" ] || { echo "bench-patched: the build would not use the patched $mod" >&2; exit 1; }
echo "bench-patched: $mod from $used, with $(basename "$patch")" >&2
mkdir -p "$out"
GOFLAGS="-modfile=$tmp/go.mod" go run ./cmd/lookout-bench --out "$out" "$@"
