//go:build linux

package harden

import (
	"fmt"

	"golang.org/x/sys/unix"
)

func process() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("mark process non-dumpable: %w", err)
	}
	return noCore()
}

// Dumpable reports whether the process may be dumped or traced by its
// user (prctl PR_GET_DUMPABLE).
func Dumpable() (bool, error) {
	v, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	if err != nil {
		return false, fmt.Errorf("read dumpable flag: %w", err)
	}
	return v != 0, nil
}
