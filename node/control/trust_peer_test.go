//go:build linux || darwin || freebsd

package control_test

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"lookout/node/control"
)

// foreignEnv makes the test binary a listener for TestClientChecksPeer.
const foreignEnv = "LOOKOUT_CONTROL_FOREIGN_SOCKET"

func init() {
	if path := os.Getenv(foreignEnv); path != "" {
		ln, err := net.Listen("unix", path)
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(2)
		}
		os.Stdout.WriteString("listening\n")
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		io.Copy(io.Discard, os.Stdin) // until the test closes stdin
		os.Exit(0)
	}
}

// TestClientChecksPeer: a socket whose file looks right (this user's, mode
// 0600, in a private directory) but on which another user's process
// listens is refused by its peer credentials.
func TestClientChecksPeer(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a listener as another user")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// A directory the other user can reach: a copy of the test binary and
	// the socket's first home.
	dir, err := os.MkdirTemp("", "lkpeer")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o777)
	bin := filepath.Join(dir, "control.test")
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	theirs := filepath.Join(dir, "their.sock")
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), foreignEnv+"="+theirs)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 4242, Gid: 4242}}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.Contains(line, "listening") {
		t.Fatalf("foreign listener did not start: %q, %v", line, err)
	}
	// Move the socket into a private home and make its file look like ours.
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(home, "lookout.sock")
	if err := os.Rename(theirs, sock); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(sock, os.Geteuid(), os.Getegid()); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		t.Fatal(err)
	}
	wantUntrusted(t, control.NewClient(sock), "runs as user 4242")
}
