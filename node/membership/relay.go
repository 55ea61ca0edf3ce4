package membership

import (
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	ma "github.com/multiformats/go-multiaddr"
)

// RelayACL admits to this node's circuit relay only proven members: a
// reservation from a peer that proved a zone it shares with this node, and
// a relayed connection between two peers that proved the same zone epoch.
// Pass it with relay.WithACL.
func (g *Gate) RelayACL() relay.ACLFilter { return relayACL{g} }

type relayACL struct{ g *Gate }

var _ relay.ACLFilter = relayACL{}

func (a relayACL) AllowReserve(p peer.ID, _ ma.Multiaddr) bool { return a.g.Member(p) }

func (a relayACL) AllowConnect(src peer.ID, _ ma.Multiaddr, dest peer.ID) bool {
	a.g.mu.Lock()
	defer a.g.mu.Unlock()
	s, d := a.g.peers[src], a.g.peers[dest]
	if s == nil || d == nil || s.failed || d.failed {
		return false
	}
	for t := range s.shared {
		if d.shared[t] {
			return true
		}
	}
	return false
}
