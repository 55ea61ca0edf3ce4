//go:build unix

package node_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lookout/node"
	"lookout/node/sim"
)

// TestUnsafeHomeRefused: a home other users may write to is refused by
// Start and Init with one line saying what to do, and left as it is.
func TestUnsafeHomeRefused(t *testing.T) {
	ctx := testContext(t)
	for _, mode := range []os.FileMode{0o777, 0o770, 0o702, 0o720} {
		t.Run(mode.String(), func(t *testing.T) {
			home := filepath.Join(t.TempDir(), "home")
			if _, err := node.Init(home, testInit("Ada")); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(home, mode); err != nil {
				t.Fatal(err)
			}
			n := &node.Node{Home: home, Secret: sim.Secret, StoreOptions: sim.StoreOptions, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}}
			err := n.Start(ctx)
			n.Close()
			if !errors.Is(err, node.ErrUnsafeHome) || !strings.Contains(err.Error(), "chmod 700 "+home) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Start in a home of mode %v: %v; want ErrUnsafeHome with the fix", mode, err)
			}
			if m := mode2(t, home); m != mode {
				t.Errorf("refused Start changed the home's mode to %v", m)
			}
			fresh := filepath.Join(t.TempDir(), "fresh")
			if err := os.Mkdir(fresh, 0o700); err != nil {
				t.Fatal(err)
			}
			os.Chmod(fresh, mode)
			if _, err := node.Init(fresh, testInit("Ada")); !errors.Is(err, node.ErrUnsafeHome) {
				t.Errorf("Init in a home of mode %v: %v; want ErrUnsafeHome", mode, err)
			}
		})
	}
}

// TestForeignHomeRefused: a home owned by another user is refused (the
// test runs as root to hand the directory to another user).
func TestForeignHomeRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a directory to another user")
	}
	home := filepath.Join(t.TempDir(), "home")
	if _, err := node.Init(home, testInit("Ada")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(home, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	n := &node.Node{Home: home, Secret: sim.Secret, StoreOptions: sim.StoreOptions}
	err := n.Start(testContext(t))
	n.Close()
	if !errors.Is(err, node.ErrUnsafeHome) || !strings.Contains(err.Error(), "belongs to user 4242") {
		t.Errorf("Start in another user's home: %v", err)
	}
}

func mode2(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}
