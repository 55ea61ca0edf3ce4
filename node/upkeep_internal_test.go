package node

import (
	"log/slog"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/test"
	ma "github.com/multiformats/go-multiaddr"
)

// TestDialBudget checks that member dials stop at memberDialTarget
// connections and dials under way: answers from several members arriving
// together cannot make a node dial every member it hears of.
func TestDialBudget(t *testing.T) {
	const connected = 3
	hs := mockHosts(t, connected+1, connected)
	d := &dialer{h: hs[0]}
	got := 0
	for range 2 * memberDialTarget {
		if d.reserveDial() {
			got++
		}
	}
	if got != memberDialTarget-connected {
		t.Errorf("%d dials reserved with %d connections, want %d", got, connected, memberDialTarget-connected)
	}
	d.releaseDial()
	if !d.reserveDial() || d.reserveDial() {
		t.Error("a released dial is not available again exactly once")
	}
}

// dialsNode is a node for the dialer alone: no relays, and spawn keeps
// the dials instead of running them, so they stay under way until the
// test runs them.
type dialsNode struct {
	spawned []func()
}

func (f *dialsNode) viaRelays(peer.ID) []ma.Multiaddr { return nil }
func (f *dialsNode) spawn(g func())                   { f.spawned = append(f.spawned, g) }

// TestDialerMembers: the dialer, through its node interface alone, skips
// what names no peer, this node and connected peers, dials the others
// until the budget is spent, and dials one more once a dial has ended.
func TestDialerMembers(t *testing.T) {
	hs := mockHosts(t, 2, 1)
	self, other := hs[0], hs[1]
	f := &dialsNode{}
	d := &dialer{node: f, ctx: t.Context(), h: self, log: slog.New(slog.DiscardHandler)}
	p2p := func(p peer.ID) string { return "/p2p/" + p.String() }
	skipped := []string{"", "not a multiaddr", "/ip4/192.0.2.1/tcp/4719", p2p(self.ID()), p2p(other.ID())}
	for _, s := range skipped {
		if d.dialNeeded(s) {
			t.Errorf("dial needed for %q", s)
		}
	}
	// Members that are neither this node nor connected: more than the
	// budget, after the ones skipped.
	var members []string
	for range memberDialTarget + 4 {
		members = append(members, p2p(test.RandPeerIDFatal(t)))
	}
	if !d.dialNeeded(members[0]) {
		t.Fatalf("no dial needed for %s", members[0])
	}
	d.dialMembers(append(skipped, members...))
	if want := memberDialTarget - 1; len(f.spawned) != want || d.dialing != want {
		t.Fatalf("%d dials started, %d under way with one connection; want %d", len(f.spawned), d.dialing, want)
	}
	d.dialMembers(members)
	if len(f.spawned) != memberDialTarget-1 {
		t.Fatalf("%d dials started past the budget", len(f.spawned)-(memberDialTarget-1))
	}
	// The first dial fails at once (mocknet has no link to a made-up
	// peer) and gives its place back.
	f.spawned[0]()
	if d.dialing != memberDialTarget-2 {
		t.Fatalf("%d dials under way after one ended, want %d", d.dialing, memberDialTarget-2)
	}
	d.dialMembers(members)
	if len(f.spawned) != memberDialTarget {
		t.Fatalf("%d dials started after one ended, want %d", len(f.spawned), memberDialTarget)
	}
}
