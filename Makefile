# Lookout build, run and test entry points. See README.md.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# Go lives at /usr/local/go on the project's machines but may be missing
# from PATH (e.g. in a non-login shell or CI).
ifeq ($(shell command -v go 2>/dev/null),)
export PATH := /usr/local/go/bin:$(PATH)
endif

GO ?= go
BIN := bin/lookout
APP := bin/lookout-app

# Home directory of the app started by `make run` and the node started by
# `make node`: identity, zone secrets, replay cache and the control socket
# live here. Override with `make run LOOKOUT_HOME=/path` or the
# LOOKOUT_HOME environment variable.
LOOKOUT_HOME ?= $(CURDIR)/.lookout-home
HOME_DIR := $(LOOKOUT_HOME)
# Display name given to `lookout init` on the first `make node`.
NAME ?= $(or $(USER),$(shell id -un 2>/dev/null),lookout)

FUZZTIME_TEST ?= 5s
FUZZTIME ?= 60s
TEST_TIMEOUT ?= 25m

.PHONY: all build app run node deps test vet test-go test-nat fuzz-short fuzz bench bench-micro bench-full screenshots release test-release vulncheck clean

# Binaries are built with the Go named by go.mod's toolchain line: later
# 1.26 point releases fix standard-library vulnerabilities. The go command
# fetches it from the module proxy once (about 76 MB) when it is not the
# machine's own Go.
GO_TOOLCHAIN := $(shell sed -n 's/^toolchain //p' go.mod)
RELEASE := GOTOOLCHAIN=$(or $(GO_TOOLCHAIN),local)

all: build

build:
	$(RELEASE) CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/lookout

# The desktop app (Fyne) needs cgo and the OpenGL/X11 headers, hence deps.
app: deps
	$(RELEASE) CGO_ENABLED=1 $(GO) build -o $(APP) ./cmd/lookout-app

# Build and open the app; the first run asks for a name and a passphrase.
run: app
	./$(APP) --home "$(HOME_DIR)"

# A headless always-on node (no window), as `lookout node`.
node: build
	@if [ ! -f "$(HOME_DIR)/store.keys" ]; then \
		echo "make node: no identity in $(HOME_DIR); creating one"; \
		./$(BIN) --home "$(HOME_DIR)" init --name "$(NAME)"; \
	fi
	./$(BIN) --home "$(HOME_DIR)" node

deps:
	bash scripts/install-deps.sh

# The full suite: vet, race-enabled tests, then a short run of every fuzzer.
# -race needs cgo and a C toolchain (gcc, libc6-dev), the app needs the
# OpenGL/X11 headers and its smoke test Xvfb and ImageMagick, hence deps.
test: deps
	$(MAKE) --no-print-directory vet
	$(MAKE) --no-print-directory test-go
	$(MAKE) --no-print-directory fuzz-short

vet:
	$(GO) vet ./...

# Every package, then the app's UI tests again in Fyne's test driver's
# mobile mode (phone layouts, touch).
test-go:
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) -tags mobile ./app

# The longer NAT matrix in the network-namespace test bed (root, ip, nft):
# join-to-first-alert per router kind, direct pairs after 60 s, traffic
# per alert, a symmetric-NAT home reached again. The short NAT test
# (TestNATHomes) is part of test-go and skips without root.
test-nat: deps
	bash scripts/install-deps.sh --nat
	LOOKOUT_TEST_NAT_LONG=1 CGO_ENABLED=0 $(GO) test -count=1 -v -timeout $(TEST_TIMEOUT) -run 'TestNAT|TestBed' ./cmd/lookout ./node/reach/...

fuzz-short:
	bash scripts/fuzz.sh $(FUZZTIME_TEST)

fuzz:
	bash scripts/fuzz.sh $(FUZZTIME)

# PNGs of the app's main screens in docs/screenshots, drawn by Fyne's test
# driver (no display needed).
screenshots:
	LOOKOUT_SCREENSHOTS=$(CURDIR)/docs/screenshots CGO_ENABLED=1 $(GO) test -count=1 -run '^(TestScreenshots|TestRightsScreenshots|TestPlacesScreenshots)$$' ./app

# Micro-benchmarks (go test -bench), saved to bench.txt. The mocknet
# delivery benchmark gets a fixed count: every iteration is a report, and a
# member may send only 10 per 10 minutes.
bench-micro:
	{ $(GO) test -run '^$$' -bench . -benchmem ./crypto/... ./protocol/... ./node/store/... && \
	  $(GO) test -run '^$$' -bench MeshDelivery -benchtime 100x -benchmem ./node; } 2>&1 | tee bench.txt

# Simulated-network scenarios (node/bench, cmd/lookout-bench): the reduced
# set (50–100 nodes, with 20 and 5 Mbit/s uplinks and Sybils; about 10
# minutes on an idle 2-core machine) rewrites docs/perf.md, docs/perf.json
# and docs/perf/*.png; bench-full runs every scenario, up to 1000 nodes,
# and the tuning comparison (hours; GOGC=60 keeps a 1000-node run's memory
# down).
BENCH_FLAGS ?=
bench: bench-micro
	$(GO) run ./cmd/lookout-bench --set reduced --out docs $(BENCH_FLAGS)

bench-full: bench-micro
	GOGC=60 $(GO) run ./cmd/lookout-bench --set full --out docs $(BENCH_FLAGS)
	GOGC=60 $(GO) run ./cmd/lookout-bench --set tune --out docs $(BENCH_FLAGS)

# Release files in bin/release: static `lookout` binaries for every target
# (reproducible), the Linux app package and SHA256SUMS; see
# docs/operations.md. VERSION=v1.2.3 stamps a version (default: git describe).
release: deps
	$(RELEASE) bash scripts/release.sh

# Cross-builds every release target once (without the app) and checks each
# binary's OS, CPU, static build, stamp and checksum (TestReleaseAllTargets;
# minutes per target with a cold build cache), and builds the Linux app
# package twice: same bytes, its files, the app starting under Xvfb
# (TestReleaseApp; cgo, several minutes, hence deps). test-go runs only the
# quick release tests: one target built twice, and the default target list.
RELEASE_TEST_TIMEOUT ?= 60m
test-release: deps
	LOOKOUT_TEST_RELEASE=1 $(RELEASE) CGO_ENABLED=0 $(GO) test -count=1 -v -timeout $(RELEASE_TEST_TIMEOUT) -run '^TestRelease' ./cmd/lookout

# Known vulnerabilities reachable from Lookout's code (govulncheck), with a
# database built locally from the golang.org/x/vulndb module: works with
# only the module proxy reachable. See scripts/vulncheck.sh.
vulncheck:
	$(RELEASE) bash scripts/vulncheck.sh

clean:
	rm -rf bin bench.txt
