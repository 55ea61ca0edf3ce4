//go:build linux

package harden_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"lookout/node/harden"
)

// The protections are process-wide, so they are checked in a child
// process: the test binary run again with childEnv set.
const childEnv = "LOOKOUT_HARDEN_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(child())
	}
	os.Exit(m.Run())
}

func child() int {
	if d, err := harden.Dumpable(); err != nil || !d {
		os.Stderr.WriteString("child started non-dumpable or unreadable\n")
		return 3
	}
	if err := harden.Process(); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 2
	}
	d, err := harden.Dumpable()
	if err != nil || d {
		os.Stderr.WriteString("still dumpable after Process\n")
		return 1
	}
	soft, hard, err := harden.CoreLimit()
	if err != nil || soft != 0 || hard != 0 {
		os.Stderr.WriteString("core limit not zero after Process\n")
		return 1
	}
	os.Stdout.WriteString("hardened\n")
	return 0
}

func TestProcess(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	if !strings.Contains(string(out), "hardened") {
		t.Fatalf("child printed %q, want it to report the protections in place", out)
	}
}
