package node

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// TestFloodOrder: a publish goes to the mesh peers first, nearest first,
// then to other peers in the shuffle's order, floodPeers copies in all,
// but never leaves out a mesh peer.
func TestFloodOrder(t *testing.T) {
	const topic = "t"
	id := func(i int) peer.ID { return peer.ID(rune('a' + i)) }
	reverse := func(n int, swap func(i, j int)) { // a fixed "shuffle"
		for i := range n / 2 {
			swap(i, n-1-i)
		}
	}
	tests := []struct {
		name  string
		peers int   // peers a..; peer i has round trip (peers-i) ms
		mesh  []int // mesh peers
		max   int
		noRTT []int // peers never measured
		want  []int
	}{
		{name: "fewer than max", peers: 4, mesh: []int{0}, max: 12, want: []int{0, 3, 2, 1}},
		{name: "capped", peers: 6, mesh: []int{1}, max: 3, want: []int{1, 5, 4}},
		{name: "mesh by round trip", peers: 5, mesh: []int{0, 2, 4}, max: 4, want: []int{4, 2, 0, 3}},
		{name: "mesh larger than max", peers: 6, mesh: []int{0, 1, 2, 3}, max: 2, want: []int{3, 2, 1, 0}},
		{name: "unmeasured mesh peer last of the mesh", peers: 4, mesh: []int{2, 3}, max: 3, noRTT: []int{3}, want: []int{2, 3, 1}},
		{name: "max zero sends mesh only", peers: 3, mesh: []int{2}, max: 0, want: []int{2}},
		{name: "no mesh", peers: 3, max: 2, want: []int{2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMeshPeers()
			for _, i := range tt.mesh {
				m.Graft(id(i), topic)
			}
			m.Graft(id(9), "other topic")
			rtt := func(p peer.ID) time.Duration {
				i := int(p[0] - 'a')
				if slices.Contains(tt.noRTT, i) {
					return 0
				}
				return time.Duration(tt.peers-i) * time.Millisecond
			}
			o := &floodOrder{topic: topic, max: tt.max, mesh: m, rtt: rtt, shuffle: reverse}
			rpc := &pubsub.RPC{}
			for i := range tt.peers {
				o.AddRPC(id(i), "msg", rpc)
			}
			var got []int
			for p, r := range o.All() {
				if r != rpc {
					t.Fatalf("peer %s: a different RPC", p)
				}
				got = append(got, int(p[0]-'a'))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("sent to %v, want %v", got, tt.want)
			}
		})
	}
}

// TestFloodOrderRandom: the copies beyond the mesh go to different peers
// from one publish to the next, whatever their round trips.
func TestFloodOrderRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	chosen := map[peer.ID]int{}
	for range 200 {
		o := &floodOrder{topic: "t", max: 3, mesh: newMeshPeers(), shuffle: r.Shuffle,
			rtt: func(p peer.ID) time.Duration { return time.Duration(p[0]) * time.Millisecond }}
		for i := range 12 {
			o.AddRPC(peer.ID(rune('a'+i)), "msg", &pubsub.RPC{})
		}
		for p := range o.All() {
			chosen[p]++
		}
	}
	if len(chosen) != 12 {
		t.Errorf("%d of 12 peers ever chosen: %v", len(chosen), chosen)
	}
	for p, c := range chosen {
		if c < 20 { // 50 expected
			t.Errorf("peer %s chosen %d times in 200", p, c)
		}
	}
}

// TestMeshPeers follows grafts, prunes, a peer going away and leaving a
// topic.
func TestMeshPeers(t *testing.T) {
	m := newMeshPeers()
	a, b := peer.ID("a"), peer.ID("b")
	m.Graft(a, "t1")
	m.Graft(b, "t1")
	m.Graft(a, "t2")
	if !m.in("t1", a) || !m.in("t1", b) || !m.in("t2", a) || m.in("t2", b) {
		t.Fatal("grafts not followed")
	}
	m.Prune(b, "t1")
	if m.in("t1", b) {
		t.Error("prune not followed")
	}
	m.OnClosedOutboundStream(a)
	if m.in("t1", a) || m.in("t2", a) {
		t.Error("a peer that went away is still in a mesh")
	}
	m.Graft(b, "t2")
	m.Leave("t2")
	if m.in("t2", b) {
		t.Error("leaving a topic kept its mesh")
	}
	m.Prune(b, "unknown") // no panic on a topic never grafted
}
