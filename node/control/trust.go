package control

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
)

// ErrUntrusted means the control socket, its directory or the process
// answering on it may belong to another local user, who could then read
// what the client sends (invite codes, alert texts) and answer with forged
// alerts. The client refuses to talk.
var ErrUntrusted = errors.New("control socket cannot be trusted")

// checkSocket checks, before dialling, that socketPath is a socket (not a
// symbolic link) owned by this user that no other user may write to, in a
// directory owned by this user that no other user may write to (so it
// cannot be swapped between this check and the dial).
func checkSocket(socketPath string) error {
	dir := filepath.Dir(socketPath)
	di, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: nothing listens on %s", ErrNoNode, socketPath)
	}
	if err != nil {
		return fmt.Errorf("check control socket directory: %w", err)
	}
	if err := ownedPrivate(di, dir, "directory"); err != nil {
		return err
	}
	fi, err := os.Lstat(socketPath)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: nothing listens on %s", ErrNoNode, socketPath)
	}
	if err != nil {
		return fmt.Errorf("check control socket: %w", err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%w: %s is a symbolic link, not the node's socket; remove it and restart the node", ErrUntrusted, socketPath)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%w: %s is not a socket; remove it and restart the node", ErrUntrusted, socketPath)
	}
	return ownedPrivate(fi, socketPath, "socket")
}

// ownedPrivate refuses a file or directory another user owns or that its
// group or everyone may write to.
func ownedPrivate(fi fs.FileInfo, path, what string) error {
	if uid, ok := fileOwner(fi); ok && uid != os.Geteuid() {
		return fmt.Errorf("%w: the %s %s belongs to user %d, not to you (%d)", ErrUntrusted, what, path, uid, os.Geteuid())
	}
	if m := fi.Mode().Perm(); m&0o022 != 0 {
		return fmt.Errorf("%w: other users may write to the %s %s (mode %#o); run: chmod go-w %s", ErrUntrusted, what, path, m, path)
	}
	return nil
}

// checkPeer checks that the process at the other end of conn runs as this
// user, where the platform tells (SO_PEERCRED on Linux, LOCAL_PEERCRED on
// macOS and FreeBSD).
func checkPeer(conn net.Conn) error {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return nil
	}
	uid, ok, err := peerUID(uc)
	if err != nil {
		return fmt.Errorf("check control socket peer: %w", err)
	}
	if ok && uid != os.Geteuid() {
		return fmt.Errorf("%w: the process answering on the control socket runs as user %d, not as you (%d)", ErrUntrusted, uid, os.Geteuid())
	}
	return nil
}
