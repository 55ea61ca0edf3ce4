//go:build linux || darwin

package main

import (
	"fmt"
	"syscall"
)

// freeSpace returns the bytes free for unprivileged use and the size of
// the file system holding path.
func freeSpace(path string) (free, total uint64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, 0, fmt.Errorf("statfs %s: %w", path, err)
	}
	return uint64(st.Bavail) * uint64(st.Bsize), uint64(st.Blocks) * uint64(st.Bsize), nil
}
