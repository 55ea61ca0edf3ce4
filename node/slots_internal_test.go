package node

import (
	"testing"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"lookout/node/reach"
)

// fakeConn is a distinct map key standing for a connection.
type fakeConn struct {
	network.Conn
	id int
}

// TestStrangerSlotsTrim: over the budget the oldest stranger connection
// is closed, or the newcomer when its address already holds
// strangersPerIP; members and joiners are never closed nor counted.
func TestStrangerSlotsTrim(t *testing.T) {
	const budget = 3
	var s strangerSlots
	conns := make([]network.Conn, 10)
	for i := range conns {
		conns[i] = &fakeConn{id: i}
	}
	pid := func(i int) peer.ID { return peer.ID(rune('a' + i)) }
	none := map[peer.ID]bool{}

	// A member (0) and a joiner (1) arrive first, then strangers 2..4.
	for i := range 5 {
		s.add(conns[i], pid(i), "")
	}
	member, joining := map[peer.ID]bool{pid(0): true}, map[peer.ID]bool{pid(1): true}
	if got := s.trim(conns[4], member, joining, budget, strangersPerIP); len(got) != 0 {
		t.Fatalf("at the budget: closed %v, want none", got)
	}
	if _, ok := s.conns[conns[0]]; ok {
		t.Error("a member's connection is still counted")
	}
	// Stranger 5: the oldest stranger (2) goes, not the joiner (1).
	s.add(conns[5], pid(5), "")
	if got := s.trim(conns[5], member, joining, budget, strangersPerIP); len(got) != 1 || got[0] != conns[2] {
		t.Fatalf("over the budget: closed %v, want the oldest stranger %v", got, conns[2])
	}
	// The joiner's join ends without a proof yet: it counts again, and
	// being the oldest it goes first.
	s.add(conns[6], pid(6), "")
	if got := s.trim(conns[6], member, none, budget, strangersPerIP); len(got) != 2 || !(got[0] == conns[1] && got[1] == conns[3]) {
		t.Fatalf("closed %v, want the former joiner then the oldest stranger", got)
	}

	// Per address: a newcomer from an address that already holds
	// strangersPerIP connections is the one closed.
	var p strangerSlots
	ip := ipKey(ma.StringCast("/ip4/203.0.113.7/tcp/4001"))
	many := make([]network.Conn, strangersPerIP+2)
	for i := range many {
		many[i] = &fakeConn{id: 100 + i}
	}
	p.add(conns[0], pid(0), ipKey(ma.StringCast("/ip4/198.51.100.1/tcp/4001")))
	for i := range strangersPerIP {
		p.add(many[i], pid(i+1), ip)
	}
	if got := p.trim(many[strangersPerIP-1], none, none, strangersPerIP+1, strangersPerIP); len(got) != 0 {
		t.Fatalf("within the budget: closed %v", got)
	}
	p.add(many[strangersPerIP], pid(9), ip)
	if got := p.trim(many[strangersPerIP], none, none, strangersPerIP+1, strangersPerIP); len(got) != 1 || got[0] != many[strangersPerIP] {
		t.Fatalf("closed %v, want the newcomer from the crowded address", got)
	}
	if _, ok := p.conns[conns[0]]; !ok {
		t.Error("the oldest connection, from another address, was closed")
	}
}

func TestIPKey(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"/ip4/203.0.113.7/tcp/4001", "203.0.113.7"},
		{"/ip4/127.0.0.1/tcp/4001", ""},
		{"/ip6/::1/tcp/4001", ""},
		{"/ip6/2001:db8:aa:bbcc:1::1/udp/4001/quic-v1", "2001:db8:aa:bb00::/56"},
		{"/ip4/203.0.113.7/tcp/4001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN/p2p-circuit", ""},
	} {
		if got := ipKey(ma.StringCast(tc.addr)); got != tc.want {
			t.Errorf("ipKey(%s) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}

// TestMemberSlotsMatchConnManager: the member slots are the connection
// manager's high mark, as reach.DefaultSlots says.
func TestMemberSlotsMatchConnManager(t *testing.T) {
	if reach.DefaultSlots.Members != ConnHigh {
		t.Errorf("member slots %d, connection manager high mark %d", reach.DefaultSlots.Members, ConnHigh)
	}
}
