#!/usr/bin/env bash
# Installs the system packages Lookout's build and tests need, and only those
# that are missing. Idempotent: on a machine that already has everything it
# does nothing and touches no package list.
#
# Usage: scripts/install-deps.sh [--app] [--nat]
#   gcc, libc6-dev                     -- cgo, needed by `go test -race`
#   pkg-config, libgl1-mesa-dev, xorg-dev -- to build the Fyne app (cmd/lookout-app)
#   xvfb, imagemagick                  -- the app's smoke test (virtual screen, screenshot)
#   xdotool                            -- taps in the phone build's simulation (TestMobileTouch)
#   systemd                            -- systemd-analyze verify checks the service unit
#   dbus-daemon                        -- the app's notification check runs against a private session bus
#   iproute2, nftables                 -- the NAT test bed (node/reach/netbed: namespaces, home routers)
#   --app is accepted for older callers; everything above is always wanted
#   because `make test` builds and runs the app.
#   --nat adds miniupnpd-nftables      -- UPnP routers in the NAT test bed (`make test-nat` only)
#
# Runs as root on Debian 12 (as on the developers' and CI machines). Go itself
# is expected at /usr/local/go; it is not installed here.
set -euo pipefail

want=(gcc libc6-dev pkg-config libgl1-mesa-dev xorg-dev xvfb imagemagick xdotool systemd dbus-daemon iproute2 nftables)
for arg in "$@"; do
	case "$arg" in
	--app) ;;
	--nat) want+=(miniupnpd-nftables) ;;
	-h | --help)
		sed -n '2,19p' "$0"
		exit 0
		;;
	*)
		echo "install-deps: unknown option: $arg (try --help)" >&2
		exit 2
		;;
	esac
done

installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

missing=()
for pkg in "${want[@]}"; do
	installed "$pkg" || missing+=("$pkg")
done

if [ "${#missing[@]}" -eq 0 ]; then
	exit 0
fi

echo "install-deps: installing ${missing[*]}"

if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-deps: apt-get not found; install by hand: ${missing[*]}" >&2
	exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo=(sudo)
	else
		echo "install-deps: not root and no sudo; install by hand: ${missing[*]}" >&2
		exit 1
	fi
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT

if ! "${sudo[@]}" apt-get update -qq >"$log" 2>&1; then
	cat "$log" >&2
	echo "install-deps: apt-get update failed" >&2
	exit 1
fi
if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
	cat "$log" >&2
	echo "install-deps: failed to install: ${missing[*]}" >&2
	exit 1
fi

for pkg in "${missing[@]}"; do
	if ! installed "$pkg"; then
		echo "install-deps: $pkg still not installed after apt-get install" >&2
		exit 1
	fi
done
echo "install-deps: done"
