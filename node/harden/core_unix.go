//go:build unix

package harden

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// noCore sets the soft and hard core-file size limits to zero, so neither
// this process nor its children can write a core file.
func noCore() error {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0}); err != nil {
		return fmt.Errorf("set core size limit to zero: %w", err)
	}
	return nil
}

// CoreLimit returns the soft and hard core-file size limits.
func CoreLimit() (soft, hard uint64, err error) {
	var r unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &r); err != nil {
		return 0, 0, fmt.Errorf("read core size limit: %w", err)
	}
	return r.Cur, r.Max, nil
}
