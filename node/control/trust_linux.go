//go:build linux

package control

import "golang.org/x/sys/unix"

// sockPeerUID reads the socket's peer credentials (SO_PEERCRED).
func sockPeerUID(fd int) (int, bool, error) {
	cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return 0, false, err
	}
	return int(cred.Uid), true, nil
}
