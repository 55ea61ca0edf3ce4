package netbed

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain doubles as a helper run inside the bed's namespaces:
// NETBED_HELPER=listen:<addr> accepts one TCP connection and prints its
// peer address; NETBED_HELPER=dial:<addr> connects once.
func TestMain(m *testing.M) {
	if mode, arg, ok := strings.Cut(os.Getenv("NETBED_HELPER"), ":"); ok {
		os.Exit(helper(mode, arg))
	}
	os.Exit(m.Run())
}

func helper(mode, addr string) int {
	switch mode {
	case "listen":
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			fmt.Println(err)
			return 1
		}
		fmt.Println("listening")
		c, err := ln.Accept()
		if err != nil {
			return 1
		}
		fmt.Println("from", c.RemoteAddr())
		c.Close()
		return 0
	case "dial":
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			fmt.Println(err)
			return 1
		}
		c.Close()
		return 0
	}
	return 2
}

func (b *Bed) helper(t *testing.T, host, mode, addr string) *bufio.Scanner {
	t.Helper()
	cmd := b.Command(host, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "NETBED_HELPER="+mode+":"+addr)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return bufio.NewScanner(out)
}

func (b *Bed) dials(host, addr string) bool {
	cmd := b.Command(host, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "NETBED_HELPER=dial:"+addr)
	return cmd.Run() == nil
}

// TestBed: homes reach the public host, appearing with their router's
// address; nobody reaches into a home or its router unsolicited.
func TestBed(t *testing.T) {
	b := Up(t, Spec{Name: "pub"}, Spec{Name: "a", Kind: Cone}, Spec{Name: "c", Kind: Symmetric})
	pub, a, c := b.Hosts["pub"], b.Hosts["a"], b.Hosts["c"]
	ln := b.helper(t, "pub", "listen", pub.IP+":4719")
	if !ln.Scan() || ln.Text() != "listening" {
		t.Fatalf("listener in the public host did not start: %q", ln.Text())
	}
	if !b.dials("a", pub.IP+":4719") {
		t.Fatal("home a cannot reach the public host")
	}
	if !ln.Scan() || !strings.HasPrefix(ln.Text(), "from "+a.PublicIP+":") {
		t.Fatalf("public host saw %q, want a connection from router address %s", ln.Text(), a.PublicIP)
	}
	ln2 := b.helper(t, "c", "listen", "0.0.0.0:4719")
	if !ln2.Scan() {
		t.Fatal("listener at home c did not start")
	}
	if b.dials("pub", c.PublicIP+":4719") {
		t.Error("the public host reached into home c unsolicited")
	}
	if b.dials("pub", c.IP+":4719") {
		t.Error("the public host reached a home's private address")
	}
}

func TestUnknownKind(t *testing.T) {
	if why := Available(); why != "" {
		t.Skip(why)
	}
	b := &Bed{Prefix: "lkbad", Hosts: map[string]*Host{}}
	t.Cleanup(func() { b.Down() })
	if err := b.up([]Spec{{Name: "x", Kind: "fullcone"}}); err == nil || !strings.Contains(err.Error(), "unknown router kind") {
		t.Fatalf("unknown router kind: err %v", err)
	}
}
