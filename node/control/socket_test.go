package control_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"lookout/node/control"
	"lookout/node/control/controltest"
)

// TestServeSocket: the socket a program serves answers, refuses a second
// server on the same path, and is gone (file included) once closed.
func TestServeSocket(t *testing.T) {
	path := filepath.Join(controltest.Home(t), "lookout.sock")
	sock, err := control.ServeSocket(path, new(controltest.Fake), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := control.ServeSocket(path, new(controltest.Fake), nil); err == nil {
		t.Error("a second ServeSocket on a live socket succeeded")
	}
	c := control.NewClient(path)
	if _, err := c.Status(context.Background()); err != nil {
		t.Fatalf("status over the socket: %v", err)
	}
	if err := sock.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sock.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	select {
	case <-sock.Done():
	default:
		t.Error("Done is open after Close")
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket file after close: %v", err)
	}
	if _, err := c.Status(context.Background()); !errors.Is(err, control.ErrNoNode) {
		t.Errorf("status after close: %v, want ErrNoNode", err)
	}
}
