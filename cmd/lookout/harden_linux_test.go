//go:build linux

package main

import (
	"testing"

	"lookout/node/harden"
)

// checkHardened checks that a command that unlocked a store left this
// process non-dumpable with no core file allowed.
func checkHardened(t *testing.T) {
	t.Helper()
	if d, err := harden.Dumpable(); err != nil || d {
		t.Errorf("process still dumpable (%v) after `lookout node` unlocked the store", err)
	}
	if soft, hard, err := harden.CoreLimit(); err != nil || soft != 0 || hard != 0 {
		t.Errorf("core limit %d/%d (%v) after `lookout node`, want 0/0", soft, hard, err)
	}
}
