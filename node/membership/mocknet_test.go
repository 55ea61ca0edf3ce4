package membership

import (
	"testing"

	"github.com/libp2p/go-libp2p/core/host"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
)

// The gate works the same on mocknet, the network of node/sim and the
// node's tests: two members prove each other and exchange messages, and a
// third host with another zone's key is shown nothing of the zone.
func TestGateOnMocknet(t *testing.T) {
	ctx := testContext(t)
	mn := mocknet.New()
	t.Cleanup(func() { mn.Close() })
	z := zone(4, 2)
	mk := func(keys ...ZoneKey) *member {
		h, err := mn.GenPeer()
		if err != nil {
			t.Fatal(err)
		}
		return newMemberOn(t, ctx, h, nil, keys...)
	}
	a, b, s := mk(z), mk(z), mk(zone(5, 0))
	if err := mn.LinkAll(); err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]host.Host{{b.h, a.h}, {s.h, a.h}} {
		if _, err := mn.ConnectPeers(pair[0].ID(), pair[1].ID()); err != nil {
			t.Fatal(err)
		}
	}
	s.join(t, ctx, z.Topic) // it knows the topic name, not the key
	a.publishUntil(t, ctx, z.Topic, b, "mocknet")
	if err := a.gate.Wait(ctx, s.h.ID()); err != nil {
		t.Fatal(err)
	}
	if a.gate.Member(s.h.ID()) {
		t.Fatal("stranger is a member")
	}
	for _, p := range a.ps.ListPeers(z.Topic) {
		if p == s.h.ID() {
			t.Fatal("stranger is a peer of the zone topic")
		}
	}
	for _, p := range s.ps.ListPeers(z.Topic) {
		if p == a.h.ID() {
			t.Fatal("the member's subscription reached the stranger")
		}
	}
	select {
	case m := <-s.got[z.Topic]:
		t.Fatalf("stranger received %q", m)
	default:
	}
}
