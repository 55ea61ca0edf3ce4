//go:build darwin || freebsd

package control

import "golang.org/x/sys/unix"

// sockPeerUID reads the effective user of the socket's peer
// (LOCAL_PEERCRED).
func sockPeerUID(fd int) (int, bool, error) {
	cred, err := unix.GetsockoptXucred(fd, unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	if err != nil {
		return 0, false, err
	}
	return int(cred.Uid), true, nil
}
