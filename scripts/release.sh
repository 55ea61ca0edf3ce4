#!/usr/bin/env bash
# Builds the release files of Lookout into OUT (default bin/release):
# static `lookout` binaries for every target, the Linux desktop app package
# (`fyne package`), and SHA256SUMS over all of them.
#
# Usage: scripts/release.sh            (or `make release`)
# Environment:
#   VERSION  version stamped into the binaries (default: git describe)
#   COMMIT   commit stamped into the binaries (default: git rev-parse HEAD)
#   OUT      output directory (default: bin/release; emptied first)
#   TARGETS  space-separated GOOS/GOARCH[/GOARM] list (default: all below)
#   APP      1 to package the Linux app (default), 0 to skip it
#
# The node binaries are reproducible: CGO_ENABLED=0, -trimpath, an empty
# build ID, no VCS stamp but VERSION and COMMIT, so the same source, Go
# version and targets give the same bytes on any machine. The app package
# is repacked with fixed order, owners and times; its binary is built by
# `fyne package` with cgo and the system's C compiler and libraries, so it
# is the same only with the same Debian packages (docs/operations.md).
set -euo pipefail

cd "$(dirname "$0")/.."
command -v go >/dev/null 2>&1 || export PATH=/usr/local/go/bin:$PATH

VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
COMMIT=${COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
OUT=${OUT:-bin/release}
TARGETS=${TARGETS:-linux/amd64 linux/arm64 linux/arm/7 windows/amd64 darwin/arm64 darwin/amd64}
APP=${APP:-1}
# fyne.io/tools, the `fyne` packaging command, pinned.
FYNE_TOOLS=fyne.io/tools/cmd/fyne@v1.7.4

case "$VERSION$COMMIT" in
*[!A-Za-z0-9._+-]*)
	echo "release: VERSION and COMMIT may hold only letters, digits and . _ + -" >&2
	exit 2
	;;
esac

case "$OUT" in
"" | / | . | .. | "$HOME")
	echo "release: refusing OUT=$OUT; give a directory of its own" >&2
	exit 2
	;;
esac
rm -rf "$OUT"
mkdir -p "$OUT"
ldflags="-s -w -buildid= -X main.version=$VERSION -X main.commit=$COMMIT"

for t in $TARGETS; do
	IFS=/ read -r goos goarch goarm <<<"$t"
	name="lookout-$VERSION-$goos-$goarch"
	[ -n "$goarm" ] && name="${name}v$goarm"
	[ "$goos" = windows ] && name="$name.exe"
	echo "release: $name"
	GOOS=$goos GOARCH=$goarch GOARM=$goarm CGO_ENABLED=0 \
		go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$OUT/$name" ./cmd/lookout
done

if [ "$APP" = 1 ]; then
	echo "release: lookout-app-$VERSION-linux-amd64.tar.xz (fyne package)"
	app_version=${VERSION#v}
	# fyne wants a dotted numeric version; a git describe suffix is dropped.
	app_version=$(printf '%s' "$app_version" | grep -oE '^[0-9]+(\.[0-9]+){0,2}' || true)
	# `fyne package -release` bumps Build in FyneApp.toml and builds that
	# number in: start from the committed file and put it back after.
	tmp=$(mktemp -d)
	trap 'cp "$tmp/FyneApp.toml" cmd/lookout-app/FyneApp.toml; rm -rf "$tmp"' EXIT
	cp cmd/lookout-app/FyneApp.toml "$tmp/FyneApp.toml"
	# GOFLAGS is pinned (fyne folds any -ldflags= in it into the build) and
	# the caller's CGO_*FLAGS are dropped: fyne adds its own, fixed ones.
	(
		cd cmd/lookout-app
		env -u CGO_CFLAGS -u CGO_CPPFLAGS -u CGO_CXXFLAGS -u CGO_LDFLAGS \
			GOFLAGS=-buildvcs=false CGO_ENABLED=1 \
			go run "$FYNE_TOOLS" package -os linux -release \
			${app_version:+--app-version "$app_version"} --name Lookout
	)
	# Repack with fixed order, owners, modes (whatever the umask) and times
	# (the commit's), so only the app binary itself can differ between two
	# builds.
	mkdir -m 0755 "$tmp/pkg"
	tar -xJf cmd/lookout-app/Lookout.tar.xz -C "$tmp/pkg"
	rm -f cmd/lookout-app/Lookout.tar.xz
	epoch=$(git log -1 --format=%ct 2>/dev/null || echo 0)
	tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner --mode=go-w,a+rX --format=gnu \
		-C "$tmp/pkg" -cf - . | xz -9 -T1 >"$OUT/lookout-app-$VERSION-linux-amd64.tar.xz"
fi

(cd "$OUT" && sha256sum -- * >SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS)
echo "release: $(ls "$OUT" | wc -l) files in $OUT"
