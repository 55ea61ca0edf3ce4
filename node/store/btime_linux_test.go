//go:build linux

package store

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// birthTime returns path's birth time where the file system records it.
func birthTime(t *testing.T, path string) (time.Time, bool) {
	t.Helper()
	var st unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, path, 0, unix.STATX_BTIME, &st); err != nil || st.Mask&unix.STATX_BTIME == 0 {
		return time.Time{}, false
	}
	return time.Unix(st.Btime.Sec, int64(st.Btime.Nsec)), true
}
