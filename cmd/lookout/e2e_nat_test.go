package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	ma "github.com/multiformats/go-multiaddr"

	"lookout/node/reach"
	"lookout/node/reach/netbed"
)

// envStranger makes the test binary act as a stranger's libp2p host that
// asks the relay at the given /p2p/ address for a reservation (run inside
// a test bed namespace; see strangerMain).
const envStranger = "LOOKOUT_TEST_STRANGER"

// strangerMain prints "reserved" or "refused: <why>".
func strangerMain(relayAddr string) int {
	a, err := ma.NewMultiaddr(relayAddr)
	if err != nil {
		fmt.Println("bad address:", err)
		return 2
	}
	ai, err := peer.AddrInfoFromP2pAddr(a)
	if err != nil {
		fmt.Println("bad address:", err)
		return 2
	}
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/0.0.0.0/tcp/0"))
	if err != nil {
		fmt.Println("host:", err)
		return 2
	}
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.Connect(ctx, *ai); err != nil {
		fmt.Println("connect:", err)
		return 2
	}
	if _, err := client.Reserve(ctx, h, *ai); err != nil {
		fmt.Println("refused:", err)
		return 0
	}
	fmt.Println("reserved")
	return 0
}

// natNode is a lookout node running in a test bed namespace.
type natNode struct {
	host, home, peer string
	p                *proc
}

func startNAT(t *testing.T, e *e2e, bed *netbed.Bed, host, home string) *natNode {
	t.Helper()
	p := e.startCmd("node "+host, bed.Command(host, e.bin, "--home", home, "node"))
	line := p.waitLine(t, time.Minute, "peer ID", func(l string) bool { return strings.HasPrefix(l, "12D3") })
	return &natNode{host: host, home: home, peer: strings.TrimSpace(line), p: p}
}

func (e *e2e) via(home, peerID string) string {
	for _, c := range e.status(home).Connections {
		if c.Peer == peerID {
			return c.Via
		}
	}
	return ""
}

func (e *e2e) hasAlert(home, zone, id string) bool {
	_, ok := e.alert(home, zone, id)
	return ok
}

// TestNATHomes runs real lookout nodes in a network of home routers: a
// public node founds a zone, an organizer at home (cone NAT) invites
// neighbours at two other homes (cone, symmetric) through the public
// member's relay; a sighting reaches everyone; the two cone homes punch a
// direct connection and keep exchanging alerts once the public node is
// stopped; a stranger gets no relay reservation.
func TestNATHomes(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test runs four nodes in network namespaces")
	}
	bed := netbed.Up(t, netbed.Spec{Name: "pub"}, netbed.Spec{Name: "a", Kind: netbed.Cone},
		netbed.Spec{Name: "b", Kind: netbed.Cone}, netbed.Spec{Name: "c", Kind: netbed.Symmetric},
		netbed.Spec{Name: "x"})
	e := &e2e{t: t, bin: lookoutBinary(t), env: []string{"GOLOG_LOG_LEVEL=" + os.Getenv("LOOKOUT_TEST_P2P_LOG")}}
	root, err := os.MkdirTemp("", "lknat")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	home := func(h string) string { return filepath.Join(root, h) }
	for _, h := range []string{"pub", "a", "b", "c"} {
		e.ok(home(h), "init", "--name", h)
	}
	n := map[string]*natNode{}
	for _, h := range []string{"pub", "a"} {
		n[h] = startNAT(t, e, bed, h, home(h))
	}
	n["a"].p.waitStderr(t, time.Minute, "reachability unknown yet")

	e.ok(home("pub"), "zone", "create", "north")
	e.ok(home("a"), "zone", "join", e.ok(home("pub"), "zone", "invite", "north", "--role", "organizer"))
	eventually(t, 2*time.Minute, "pub public and a private", func() bool {
		return e.status(home("pub")).Reachability == reach.Public && e.status(home("a")).Reachability == reach.Private
	})
	if st := e.status(home("pub")); !slices.ContainsFunc(st.PublicAddrs, func(s string) bool { return strings.Contains(s, bed.Hosts["pub"].IP) }) {
		t.Errorf("pub public_addrs %v lack %s", st.PublicAddrs, bed.Hosts["pub"].IP)
	}
	n["pub"].p.waitStderr(t, time.Minute, "reachable from the internet")
	n["a"].p.waitStderr(t, time.Minute, "behind a router")
	eventually(t, 2*time.Minute, "a relay address for a through pub", func() bool {
		return slices.ContainsFunc(e.status(home("a")).Addrs, func(s string) bool {
			return strings.Contains(s, "/p2p-circuit") && strings.Contains(s, n["pub"].peer)
		})
	})

	// The organizer at home invites neighbours at other homes.
	for _, h := range []string{"b", "c"} {
		n[h] = startNAT(t, e, bed, h, home(h))
		code := e.ok(home("a"), "zone", "invite", "north")
		joined := time.Now()
		e.ok(home(h), "zone", "join", code)
		t.Logf("%s (%s router) joined through a's invite in %v", h, bed.Hosts[h].Kind, time.Since(joined).Round(time.Millisecond))
	}

	sent := time.Now()
	id := e.ok(home("b"), "report", "north", "--what", "2 vans", "--where", "corner store")
	for _, h := range []string{"pub", "a", "c"} {
		eventually(t, time.Minute, "the sighting at "+h, func() bool { return e.hasAlert(home(h), "north", id) })
		t.Logf("sighting from b reached %s after %v", h, time.Since(sent).Round(time.Millisecond))
	}

	t.Cleanup(func() {
		if t.Failed() {
			logStatus(t, e, home("a"))
			logStatus(t, e, home("b"))
		}
	})
	eventually(t, 2*time.Minute, "a direct connection between the cone homes a and b", func() bool {
		return e.via(home("a"), n["b"].peer) == reach.Direct
	})

	// A stranger who knows pub's address gets no relay reservation.
	pubAddr := "/ip4/" + bed.Hosts["pub"].IP + "/tcp/4719/p2p/" + n["pub"].peer
	cmd := bed.Command("x", os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envStranger+"="+pubAddr)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "refused:") {
		t.Errorf("stranger asking pub's relay: %v, output %q; want refused", err, out)
	}

	// The public node goes away: the cone homes still exchange alerts,
	// over their direct connection.
	n["pub"].p.stop(t)
	id = e.ok(home("a"), "report", "north", "--what", "checkpoint", "--where", "bridge")
	eventually(t, time.Minute, "a's sighting at b without pub", func() bool { return e.hasAlert(home("b"), "north", id) })
	if via := e.via(home("b"), n["a"].peer); via != reach.Direct {
		t.Errorf("b reaches a %q after pub stopped, want direct", via)
	}
	logStatus(t, e, home("a"))
}

func logStatus(t *testing.T, e *e2e, home string) {
	b, _ := json.Marshal(e.status(home))
	t.Logf("status %s: %s", filepath.Base(home), b)
}

// waitStderr waits for a line of stderr containing s.
func (p *proc) waitStderr(t *testing.T, timeout time.Duration, s string) {
	t.Helper()
	deadline := time.After(timeout)
	for !strings.Contains(p.stderr.String(), s) {
		select {
		case <-p.stderr.changed:
		case <-p.exited:
			t.Fatalf("%s exited while waiting for %q on stderr", p.name, s)
		case <-deadline:
			t.Fatalf("%s: no %q on stderr after %v:\n%s", p.name, s, timeout, p.stderr)
		}
	}
}
