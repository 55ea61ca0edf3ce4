#!/usr/bin/env bash
# Scans Lookout for known vulnerabilities with govulncheck, offline from the
# public vulnerability database: the database is built here from the
# golang.org/x/vulndb module (its data/osv JSON files), which the Go module
# proxy serves like any module, with that module's own indexdb command.
#
#   scripts/vulncheck.sh [PACKAGES...]   (default ./...)
#
# VULNDB_VERSION and GOVULNCHECK_VERSION pin what is used; raise
# VULNDB_VERSION (`go list -m golang.org/x/vulndb@latest`) to get newer
# advisories. GOTOOLCHAIN chooses the Go whose standard library is checked
# (the Makefile passes the toolchain pinned in go.mod).
set -euo pipefail

VULNDB_VERSION=${VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}
GOVULNCHECK_VERSION=${GOVULNCHECK_VERSION:-v1.1.4}
GO=${GO:-go}

cache=${XDG_CACHE_HOME:-$HOME/.cache}/lookout-vulndb/$VULNDB_VERSION
if [ ! -f "$cache/db/index/db.json" ] && [ ! -f "$cache/db/index/db.json.gz" ]; then
	src=$(GOFLAGS=-mod=mod $GO mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
	if [ -z "$src" ] || [ ! -d "$src/data/osv" ]; then
		echo "vulncheck: golang.org/x/vulndb@$VULNDB_VERSION has no data/osv; set VULNDB_VERSION to a version the module proxy serves" >&2
		exit 1
	fi
	rm -rf "$cache/db.tmp"
	mkdir -p "$cache"
	$GO run "golang.org/x/vulndb/cmd/indexdb@$VULNDB_VERSION" -vulns "$src/data/osv" -out "$cache/db.tmp"
	mv "$cache/db.tmp" "$cache/db"
fi
echo "vulncheck: database golang.org/x/vulndb@$VULNDB_VERSION, $($GO version)" >&2
exec $GO run "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION" -db "file://$cache/db" "${@:-./...}"
