//go:build unix

package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// ErrUnsafeHome means the home directory could be changed by another local
// user, who could then plant a control socket or files the node trusts.
var ErrUnsafeHome = errors.New("unsafe home directory")

// checkHome refuses a home that another user owns or that its group or
// everyone may write to. A missing home is fine (Init creates it 0700);
// other permission bits are tightened by the caller. The node does not
// fix a writable home silently: whatever was planted there is already
// there.
func checkHome(home string) error {
	fi, err := os.Stat(home)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check home: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: %s is not a directory", ErrUnsafeHome, home)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%w: %s belongs to user %d, not to you (%d); use a home of your own", ErrUnsafeHome, home, st.Uid, os.Geteuid())
	}
	if m := fi.Mode().Perm(); m&0o022 != 0 {
		return fmt.Errorf("%w: other users may write to %s (mode %#o); check nothing was planted there, then run: chmod 700 %s", ErrUnsafeHome, home, m, home)
	}
	return nil
}
