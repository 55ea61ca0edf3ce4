//go:build unix

package control

import (
	"io/fs"
	"net"
	"syscall"
)

func fileOwner(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}

// peerUID returns the user of the process that created the socket's other
// end (taken when it called listen), where the system tells it
// (sockPeerUID); ok is false where it does not.
func peerUID(c *net.UnixConn) (uid int, ok bool, err error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, false, err
	}
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		uid, ok, cerr = sockPeerUID(int(fd))
	}); err != nil {
		return 0, false, err
	}
	if cerr != nil {
		return 0, false, cerr
	}
	return uid, ok, nil
}
