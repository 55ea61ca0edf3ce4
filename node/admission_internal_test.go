package node

import (
	"log/slog"
	"sync"
	"testing"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// admissionNode is a node for admission alone: members is who proved a
// live epoch, and spawn runs at once.
type admissionNode struct {
	nodeForAdmission // the rest is not used by the stranger budget
	members          map[peer.ID]bool
}

func (f *admissionNode) Member(p peer.ID) bool { return f.members[p] }
func (f *admissionNode) spawn(g func())        { g() }

// budgetConn is a connection with a direction, an address and a close
// that is counted.
type budgetConn struct {
	network.Conn
	p      peer.ID
	dir    network.Direction
	addr   ma.Multiaddr
	mu     sync.Mutex
	closed int
}

func (c *budgetConn) RemotePeer() peer.ID           { return c.p }
func (c *budgetConn) RemoteMultiaddr() ma.Multiaddr { return c.addr }
func (c *budgetConn) Stat() network.ConnStats {
	return network.ConnStats{Stats: network.Stats{Direction: c.dir}}
}
func (c *budgetConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed++
	return nil
}
func (c *budgetConn) closes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// TestAdmissionStrangerBudget: admission keeps its budget through its node
// interface alone. A member's and a joiner's inbound connections are never
// closed, outbound connections never counted, and each stranger over the
// budget closes the oldest stranger's connection, once.
func TestAdmissionStrangerBudget(t *testing.T) {
	const budget = 2
	member, joiner := peer.ID("member"), peer.ID("joiner")
	joins := &joinSet{}
	joins.add(joiner)
	a := &admission{
		node:   &admissionNode{members: map[peer.ID]bool{member: true}},
		log:    slog.New(slog.DiscardHandler),
		joins:  joins,
		budget: budget,
	}
	addr := ma.StringCast("/ip4/192.0.2.1/tcp/4719")
	conn := func(p string, dir network.Direction) *budgetConn {
		c := &budgetConn{p: peer.ID(p), dir: dir, addr: addr}
		a.connected(c)
		return c
	}
	m := conn(string(member), network.DirInbound)
	j := conn(string(joiner), network.DirInbound)
	out := conn("dialled", network.DirOutbound)
	s1 := conn("s1", network.DirInbound)
	s2 := conn("s2", network.DirInbound)
	for _, c := range []*budgetConn{m, j, out, s1, s2} {
		if c.closes() != 0 {
			t.Fatalf("%s closed within the budget", c.p)
		}
	}
	s3 := conn("s3", network.DirInbound)
	if s1.closes() != 1 || s2.closes() != 0 || s3.closes() != 0 {
		t.Fatalf("closes s1 %d s2 %d s3 %d, want the oldest stranger (s1) once", s1.closes(), s2.closes(), s3.closes())
	}
	conn("s4", network.DirInbound)
	if s1.closes() != 1 || s2.closes() != 1 || m.closes()+j.closes()+out.closes() != 0 {
		t.Fatalf("closes s1 %d s2 %d member %d joiner %d outbound %d", s1.closes(), s2.closes(), m.closes(), j.closes(), out.closes())
	}
	// The member's connection was forgotten by the first trim; the
	// joiner's stays tracked, uncounted, until its join ends.
	if got := len(a.strangers.peers()); got != 3 {
		t.Fatalf("%d peers tracked, want the joiner and two strangers", got)
	}
}
