package node

import (
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
)

// TestDialBudget checks that member dials stop at memberDialTarget
// connections and dials under way: answers from several members arriving
// together cannot make a node dial every member it hears of.
func TestDialBudget(t *testing.T) {
	mn := mocknet.New()
	defer mn.Close()
	const connected = 3
	var ids []peer.ID
	for range connected + 1 {
		h, err := mn.GenPeer()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, h.ID())
	}
	if err := mn.LinkAll(); err != nil {
		t.Fatal(err)
	}
	for _, p := range ids[1:] {
		if _, err := mn.ConnectPeers(ids[0], p); err != nil {
			t.Fatal(err)
		}
	}
	d := &dialer{h: mn.Host(ids[0])}
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
