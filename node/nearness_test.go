package node

import (
	"context"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
)

// TestMeshParamsKeepRandomSlots checks the latency-aware mesh's bounds:
// gossipsub accepts them, and at least two mesh slots stay random (the
// defence against Sybils that sit near everyone, docs/threat-model.md).
func TestMeshParamsKeepRandomSlots(t *testing.T) {
	p := meshParams()
	if p.D-p.Dscore < 2 {
		t.Errorf("D %d − Dscore %d leaves fewer than two random slots", p.D, p.Dscore)
	}
	if p.Dscore != nearSlots || p.D != meshD {
		t.Errorf("Dscore %d, D %d: want %d, %d", p.Dscore, p.D, nearSlots, meshD)
	}
	mn := mocknet.New()
	defer mn.Close()
	h, err := mn.GenPeer()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := pubsub.NewGossipSub(ctx, h, pubsub.WithGossipSubParams(p),
		pubsub.WithPeerScore(peerScoreParams(func(peer.ID) float64 { return 0 }), peerScoreThresholds(true))); err != nil {
		t.Fatalf("gossipsub refuses the node's parameters: %v", err)
	}
}

// TestNearnessRanks checks that the nearSlots nearest connected members,
// by the peerstore's round-trip average, get the bonus, and that
// non-members, peers never measured and farther members do not.
func TestNearnessRanks(t *testing.T) {
	mn := mocknet.New()
	defer mn.Close()
	const n = 8
	var hosts []peer.ID
	for range n {
		h, err := mn.GenPeer()
		if err != nil {
			t.Fatal(err)
		}
		hosts = append(hosts, h.ID())
	}
	if err := mn.LinkAll(); err != nil {
		t.Fatal(err)
	}
	if err := mn.ConnectAllButSelf(); err != nil {
		t.Fatal(err)
	}
	self := mn.Host(hosts[0])
	// Peer i has a round trip of i ms; 1 is nearest but not a member; 7 is
	// never measured.
	for i := 1; i < n-1; i++ {
		self.Peerstore().RecordLatency(hosts[i], time.Duration(i)*time.Millisecond)
	}
	nonMember := hosts[1]
	nr := newNearness(self, func(p peer.ID) bool { return p != nonMember })
	if got := nr.score(hosts[2]); got != 0 {
		t.Errorf("score before any ranking = %v, want 0", got)
	}
	nr.rank()
	for i := 1; i < n; i++ {
		want := 0.0
		if i >= 2 && i < 2+nearSlots {
			want = nearBonus
		}
		if got := nr.score(hosts[i]); got != want {
			t.Errorf("peer %d (rtt %d ms): score %v, want %v", i, i, got, want)
		}
	}
	// A nearer peer appears: the farthest near one loses its bonus.
	self.Peerstore().RecordLatency(hosts[n-1], 0)
	for range 50 { // the EWMA moves towards 0 µs from its first sample
		self.Peerstore().RecordLatency(hosts[n-1], time.Microsecond)
	}
	nr.rank()
	if nr.score(hosts[n-1]) != nearBonus || nr.score(hosts[1+nearSlots]) != 0 {
		t.Errorf("after a nearer peer: scores %v (new) and %v (was the farthest near one)",
			nr.score(hosts[n-1]), nr.score(hosts[1+nearSlots]))
	}
}
