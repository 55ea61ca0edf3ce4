package node

import (
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"lookout/node/api"
	"lookout/node/reach"
)

// RelayCandidates lists connected zone members with their direct
// addresses, for AutoRelay (reach.Peers).
func (n *Node) RelayCandidates() []peer.AddrInfo {
	var out []peer.AddrInfo
	for _, p := range n.h.Network().Peers() {
		if reach.ConnKind(n.h.Network(), p) != reach.Direct || !n.Member(p) {
			continue
		}
		var addrs []ma.Multiaddr
		for _, a := range n.h.Peerstore().Addrs(p) {
			if !reach.IsRelayed(a) {
				addrs = append(addrs, a)
			}
		}
		out = append(out, peer.AddrInfo{ID: p, Addrs: addrs})
	}
	return out
}

// Reach follows the node's reachability; nil for nodes on a host given in
// Node.Host.
func (n *Node) Reach() *reach.Tracker { return n.reach }

// addReach fills the reachability fields of a status.
func (n *Node) addReach(s *api.Status) {
	s.Reachability, s.PublicAddrs = reach.Unknown, []string{}
	if n.reach != nil {
		s.Reachability, s.PublicAddrs = n.reach.Reachability(), n.reach.PublicAddrs()
	}
	s.Connections = []api.Connection{}
	for _, p := range n.h.Network().Peers() {
		if n.h.Network().Connectedness(p) != network.Connected {
			continue
		}
		if kind := reach.ConnKind(n.h.Network(), p); kind != "" {
			s.Connections = append(s.Connections, api.Connection{Peer: p.String(), Via: kind})
		}
	}
}

// relayHop is circuit relay v2's hop protocol, which a member's node
// offers once it knows it is publicly reachable.
const relayHop = "/libp2p/circuit/relay/0.2.0/hop"

// viaRelays returns relay addresses for p through every directly
// connected member that offers a relay: a member at home who keeps a
// reservation on one of them is reached through it (and hole punching
// may then make the connection direct).
func (n *Node) viaRelays(p peer.ID) []ma.Multiaddr {
	var out []ma.Multiaddr
	for _, r := range n.h.Network().Peers() {
		if r == p || reach.ConnKind(n.h.Network(), r) != reach.Direct {
			continue
		}
		if ok, err := n.h.Peerstore().SupportsProtocols(r, relayHop); err != nil || len(ok) == 0 || !n.Member(r) {
			continue
		}
		suffix, err := ma.NewMultiaddr("/p2p/" + r.String() + "/p2p-circuit")
		if err != nil {
			continue
		}
		for _, c := range n.h.Network().ConnsToPeer(r) {
			if !reach.IsRelayed(c.RemoteMultiaddr()) {
				out = append(out, c.RemoteMultiaddr().Encapsulate(suffix))
			}
		}
	}
	return out
}
