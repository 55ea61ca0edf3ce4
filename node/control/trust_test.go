//go:build unix

package control_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lookout/node/api"
	"lookout/node/control"
	"lookout/node/control/controltest"
)

// attacker listens on a socket in a directory of its own and tells whether
// anyone connected.
type attacker struct {
	ln   *net.UnixListener
	sock string
}

func newAttacker(t *testing.T) *attacker {
	t.Helper()
	sock := filepath.Join(controltest.Home(t), "evil.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &attacker{ln: ln, sock: sock}
}

// connected reports whether a client connected: a completed connect waits
// in the listen queue, so an Accept that times out at once means none.
func (a *attacker) connected() bool {
	a.ln.SetDeadline(time.Now())
	c, err := a.ln.Accept()
	if err == nil {
		c.Close()
		return true
	}
	return false
}

func wantUntrusted(t *testing.T, c *control.Client, contains string) {
	t.Helper()
	_, err := c.Report(t.Context(), api.ReportRequest{Zone: "north", What: "an invite code or alert text"})
	if !errors.Is(err, control.ErrUntrusted) || !strings.Contains(err.Error(), contains) || strings.Contains(err.Error(), "\n") {
		t.Errorf("call: %v; want ErrUntrusted saying %q", err, contains)
	}
	err = c.Watch(t.Context(), "north", func(api.Alert) error { return nil })
	if !errors.Is(err, control.ErrUntrusted) {
		t.Errorf("watch: %v; want ErrUntrusted", err)
	}
}

// TestClientRefusesPlantedSymlink: a local user who can write to the home
// plants lookout.sock as a link to their own socket; the client sends
// nothing there.
func TestClientRefusesPlantedSymlink(t *testing.T) {
	a := newAttacker(t)
	home := controltest.Home(t)
	sock := filepath.Join(home, "lookout.sock")
	if err := os.Symlink(a.sock, sock); err != nil {
		t.Fatal(err)
	}
	wantUntrusted(t, control.NewClient(sock), "symbolic link")
	if a.connected() {
		t.Error("the client connected to the planted socket")
	}
}

func TestClientRefusesWritableHome(t *testing.T) {
	_, _, sock := serve(t)
	home := filepath.Dir(sock)
	if err := os.Chmod(home, 0o777); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(home, 0o700) })
	wantUntrusted(t, control.NewClient(sock), "chmod go-w "+home)
}

func TestClientRefusesWritableSocket(t *testing.T) {
	_, _, sock := serve(t)
	if err := os.Chmod(sock, 0o666); err != nil {
		t.Fatal(err)
	}
	wantUntrusted(t, control.NewClient(sock), "mode 0666")
}

func TestClientRefusesForeignSocket(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a socket to another user")
	}
	_, _, sock := serve(t)
	if err := os.Lchown(sock, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	wantUntrusted(t, control.NewClient(sock), "belongs to user 4242")
}
