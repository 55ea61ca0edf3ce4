//go:build linux

package store

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// swapDirs exchanges the directories a and b atomically (renameat2
// RENAME_EXCHANGE); where the file system cannot, it falls back to two
// renames.
func swapDirs(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
		return swapByRename(a, b)
	}
	if err != nil {
		return &os.LinkError{Op: "exchange", Old: a, New: b, Err: err}
	}
	return nil
}
