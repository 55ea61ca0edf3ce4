//go:build linux

package main

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY returns the two ends of a new pseudo-terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

func echoing(t *testing.T, f *os.File) bool {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return tio.Lflag&unix.ECHO != 0
}

// TestHushKeepsEchoOff: between passphrase prompts (the pause after a
// wrong one) the terminal does not echo, and it echoes again after.
func TestHushKeepsEchoOff(t *testing.T) {
	_, slave := openPTY(t)
	if !echoing(t, slave) {
		t.Fatal("a new terminal does not echo")
	}
	c := &ttyConsole{in: slave, out: os.Stderr}
	if !c.Interactive() {
		t.Fatal("the pty is not seen as a terminal")
	}
	restore := c.Hush()
	if echoing(t, slave) {
		t.Error("the terminal echoes while hushed: text typed during the pause after a wrong passphrase would show")
	}
	restore()
	if !echoing(t, slave) {
		t.Error("the terminal does not echo after the prompts ended")
	}
}
