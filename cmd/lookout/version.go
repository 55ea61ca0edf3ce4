package main

import (
	"context"
	"fmt"
	"runtime"

	"lookout/protocol"
)

// Stamped at release time with -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = "unknown"
)

// opsCommands are the commands for running a node as a service: version,
// service install and doctor.
func opsCommands() []*command {
	return []*command{
		{"version", "", "print this program's version, commit and wire protocol version", runVersion},
		{"service", "install [--name NAME] [--key-file FILE] [--metrics ADDR] [--listen MULTIADDR]... [--bin PATH] [--root DIR] [--force]", "install the hardened systemd unit for an always-on node, with a key file", runService},
		{"doctor", "[--json]", "check the running node in plain words: store, zones, reach, clock, disk, peers' versions", runDoctor},
	}
}

func runVersion(ctx context.Context, e *env, args []string) error {
	if _, err := e.parse("version", e.flags(), args); err != nil {
		return err
	}
	_, err := fmt.Fprintln(e.stdout, e.tr.T("cli.version", "Version", version, "Commit", commit, "Protocol", protocol.Version,
		"Go", runtime.Version(), "OS", runtime.GOOS, "Arch", runtime.GOARCH))
	return err
}
