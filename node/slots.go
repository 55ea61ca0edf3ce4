package node

import (
	"net"
	"sync"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// The stranger budget: inbound connections from peers that have not
// proven a zone and are not joining are at most slots.Strangers
// (reach.Slots, admission.budget). When one more arrives, the oldest is closed, so a new
// peer (a joiner, or a member back online) always has the time its proof
// or join stream needs; unless the newcomer's address already holds
// strangersPerIP such connections, then the newcomer is closed. Proven
// members and joiners never count and are never closed here.

// strangersPerIP is how many of the budget's connections one IPv4
// address or IPv6 /56 may hold before its newcomers are the ones closed.
// Loopback and relayed connections are not counted per address (as in
// go-libp2p's own per-address limits): every local process shares
// loopback, every peer behind a relay shares the relay's address.
const strangersPerIP = 4

// ipv6PrefixBits is the IPv6 prefix counted as one address (go-libp2p's
// resource manager counts IPv6 per /56 too).
const ipv6PrefixBits = 56

// strangerSlots tracks the inbound connections of the budget.
type strangerSlots struct {
	mu    sync.Mutex
	next  uint64 // arrival order
	conns map[network.Conn]strangerConn
}

type strangerConn struct {
	peer peer.ID
	ip   string // "" for loopback and relayed connections
	seq  uint64
}

// add records a new inbound connection.
func (s *strangerSlots) add(c network.Conn, p peer.ID, ip string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns == nil {
		s.conns = make(map[network.Conn]strangerConn)
	}
	s.next++
	s.conns[c] = strangerConn{peer: p, ip: ip, seq: s.next}
}

// remove forgets a closed connection.
func (s *strangerSlots) remove(c network.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}

// peers returns the peers of the tracked connections.
func (s *strangerSlots) peers() map[peer.ID]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[peer.ID]bool, len(s.conns))
	for _, e := range s.conns {
		out[e.peer] = true
	}
	return out
}

// trim returns the connections to close so that at most budget tracked
// connections belong to peers that are not exempt (exempt[p]: a proven
// member or a joiner), and stops tracking them. Members' connections are
// forgotten (they never count again); joiners' stay tracked, as a joiner
// proves nothing until its zone is added. newest is the connection that
// just arrived.
func (s *strangerSlots) trim(newest network.Conn, member, joining map[peer.ID]bool, budget, perIP int) []network.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	counted := 0
	byIP := make(map[string]int)
	for c, e := range s.conns {
		switch {
		case member[e.peer]:
			delete(s.conns, c)
		case !joining[e.peer]:
			counted++
			if e.ip != "" {
				byIP[e.ip]++
			}
		}
	}
	var out []network.Conn
	for counted > budget {
		victim, ok := s.conns[newest]
		vc := newest
		if !ok || joining[victim.peer] || victim.ip == "" || byIP[victim.ip] <= perIP {
			vc, victim, ok = s.oldestLocked(joining)
			if !ok {
				break
			}
		}
		delete(s.conns, vc)
		counted--
		if victim.ip != "" {
			byIP[victim.ip]--
		}
		out = append(out, vc)
	}
	return out
}

// oldestLocked returns the oldest tracked connection of a peer not
// joining. s.mu is held.
func (s *strangerSlots) oldestLocked(joining map[peer.ID]bool) (network.Conn, strangerConn, bool) {
	var oc network.Conn
	var oldest strangerConn
	for c, e := range s.conns {
		if !joining[e.peer] && (oc == nil || e.seq < oldest.seq) {
			oc, oldest = c, e
		}
	}
	return oc, oldest, oc != nil
}

// ipKey is the address a connection's budget share is counted under: the
// IPv4 address or IPv6 /56, "" for loopback, relayed or unknown.
func ipKey(a ma.Multiaddr) string {
	if a == nil {
		return ""
	}
	if _, err := a.ValueForProtocol(ma.P_CIRCUIT); err == nil {
		return ""
	}
	ip, err := manet.ToIP(a)
	if err != nil || ip.IsLoopback() {
		return ""
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return ip.Mask(net.CIDRMask(ipv6PrefixBits, 128)).String() + "/56"
}

// connected follows a new connection for the budget. It is called under
// libp2p's locks: it takes only the budget's own lock.
func (a *admission) connected(c network.Conn) {
	if c.Stat().Direction != network.DirInbound {
		return
	}
	a.strangers.add(c, c.RemotePeer(), ipKey(c.RemoteMultiaddr()))
	a.node.spawn(func() { a.trimStrangers(c) })
}

// trimStrangers closes the connections over the stranger budget.
func (a *admission) trimStrangers(newest network.Conn) {
	member, joining := make(map[peer.ID]bool), make(map[peer.ID]bool)
	// Asked outside the budget's lock: Member takes the gate's and the
	// zones' locks.
	for p := range a.strangers.peers() {
		switch {
		case a.node.Member(p):
			member[p] = true
		case a.joins.active(p):
			joining[p] = true
		}
	}
	for _, c := range a.strangers.trim(newest, member, joining, a.budget, strangersPerIP) {
		a.log.Debug("closing a connection over the stranger budget", "peer", c.RemotePeer())
		c.Close()
	}
}
