//go:build linux || darwin || freebsd

package control

import (
	"net"
	"os"
	"path/filepath"
	"testing"
)

// TestPeerUIDKnown: where the system reports a Unix socket's peer
// credentials (SO_PEERCRED, LOCAL_PEERCRED), peerUID reads them: the
// client's check of the server's user is not silently skipped there.
func TestPeerUIDKnown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if s, ok := <-accepted; ok {
		defer s.Close()
	}
	uid, ok, err := peerUID(c.(*net.UnixConn))
	if err != nil || !ok {
		t.Fatalf("peerUID = %d, %v, %v; want the listener's user", uid, ok, err)
	}
	if uid != os.Geteuid() {
		t.Errorf("peerUID = %d, want %d", uid, os.Geteuid())
	}
}
