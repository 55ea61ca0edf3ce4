// Package reach lets Lookout nodes find each other across home routers
// with go-libp2p's own parts and no third-party infrastructure: AutoNAT
// (v1 for the overall verdict, v2 per address) against zone peers, circuit
// relay v2 offered only to zone members, AutoRelay fed only from zone
// peers, hole punching (DCUtR, retried) and UPnP / NAT-PMP port mapping.
//
// The node builds its host with Options and watches it with a Tracker.
package reach

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/autorelay"
	"github.com/libp2p/go-libp2p/p2p/host/observedaddrs"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	relay "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// Members tells whether a peer is a known member of a zone this node is
// in. The relay ACL takes every decision from it; node/membership's proven
// members plug in here.
type Members interface {
	Member(peer.ID) bool
}

// Peers lists zone peers that may serve as relays: connected members
// with their addresses.
type Peers interface {
	RelayCandidates() []peer.AddrInfo
}

// Relay service limits. A member's always-on node may be a small machine:
// these bound what the zone can ask of it.
const (
	// MaxReservations bounds relay slots in total.
	MaxReservations = 64
	// MaxCircuits bounds relayed connections per peer.
	MaxCircuits = 8
	// MaxReservationsPerIP bounds reservations from one address (one home).
	MaxReservationsPerIP = 4
	// ReservationTTL is how long one reservation lasts before renewal.
	ReservationTTL = time.Hour
	// relayBuffer is the relay's copy buffer per relayed connection.
	relayBuffer = 4096
)

// AutoRelay tuning.
const (
	// NumRelays is how many members' relays a node behind NAT keeps a
	// reservation on.
	NumRelays = 2
	// candidateInterval is how often AutoRelay asks for zone peers when it
	// needs relays.
	candidateInterval = 10 * time.Second
	// relayBackoff is how long a relay that refused or failed is left alone.
	relayBackoff = 30 * time.Second
)

// ObservedAddrThreshold is how many peers (in distinct networks) must see
// this node at the same public address before it advertises that address.
// go-libp2p's default of 4 suits the IPFS network; a zone is a handful of
// nodes, often with a single public member, so one observer suffices. A
// lying peer can make the node advertise a wrong address; dials to it fail
// and the relay addresses still work.
const ObservedAddrThreshold = 1

var thresholdOnce sync.Once

// Config configures Options.
type Config struct {
	// Members decides who may reserve and connect through this node's
	// relay (both ends must be members).
	Members Members
	// Peers supplies relay candidates to AutoRelay.
	Peers Peers
	// PortMapping turns on UPnP / NAT-PMP port mapping on the home router.
	PortMapping bool
	// Guard, if set, cuts off peers that flood the relay (and the
	// resource manager it builds becomes the host's).
	Guard *Guard
	// Slots divides the inbound connections (zero: DefaultSlots).
	Slots Slots
	// RcmgrOptions are passed to the resource manager (tests).
	RcmgrOptions []rcmgr.Option
}

// Options returns the libp2p options that make a host reachable across
// home routers. It lowers go-libp2p's process-wide observed-address
// threshold to ObservedAddrThreshold.
func Options(c Config) ([]libp2p.Option, error) {
	thresholdOnce.Do(func() { observedaddrs.ActivationThresh = ObservedAddrThreshold })
	var opts []libp2p.Option
	if c.Guard != nil {
		slots := c.Slots
		if slots == (Slots{}) {
			slots = DefaultSlots
		}
		rm, err := c.Guard.ResourceManager(slots, c.RcmgrOptions...)
		if err != nil {
			return nil, fmt.Errorf("resource manager: %w", err)
		}
		opts = append(opts, libp2p.ResourceManager(rm))
	}
	opts = append(opts, []libp2p.Option{
		// AutoNAT v1 service and client: the verdict that turns on the
		// relay service (public) or AutoRelay (private). Peers asked are
		// whoever we are connected to: zone peers only, as the node dials
		// nothing else.
		libp2p.EnableNATService(),
		// AutoNAT v2: which of our addresses are reachable, one by one.
		libp2p.EnableAutoNATv2(),
		libp2p.EnableRelayService(RelayOptions(c.Members, c.Guard)...),
		libp2p.EnableAutoRelayWithPeerSource(PeerSource(c.Peers),
			autorelay.WithNumRelays(NumRelays),
			autorelay.WithMinCandidates(1),
			autorelay.WithBootDelay(0),
			autorelay.WithBackoff(relayBackoff),
			autorelay.WithMinInterval(candidateInterval),
		),
		// Hole punching (DCUtR) runs in the Tracker, which retries it.
	}...)
	if c.PortMapping {
		opts = append(opts, libp2p.NATPortMap())
	}
	return opts, nil
}

// RelayOptions are the relay service's ACL and limits. Relayed
// connections get no time or data limit: go-libp2p marks a limited
// circuit as such and gossipsub will not open streams on it, so a member
// behind a symmetric NAT would get no alerts. The ACL, the per-peer
// circuit bound and the resource manager bound the cost instead.
// Refused requests count against the requester in g (nil: not counted).
func RelayOptions(m Members, g *Guard) []relay.Option {
	acl := NewACL(m)
	acl.Guard = g
	return []relay.Option{
		relay.WithACL(acl),
		relay.WithResources(relay.Resources{
			ReservationTTL:         ReservationTTL,
			MaxReservations:        MaxReservations,
			MaxCircuits:            MaxCircuits,
			BufferSize:             relayBuffer,
			MaxReservationsPerPeer: 1,
			MaxReservationsPerIP:   MaxReservationsPerIP,
			MaxReservationsPerASN:  MaxReservations,
		}),
		relay.WithInfiniteLimits(),
	}
}

// ACL admits reservations from zone members only, relayed connections
// between two members, and a few relayed connections from newcomers to
// members: someone redeeming an invite is not a member yet and must reach
// the inviter's node, which may be at home behind a router. Newcomers
// share NewcomerCircuits per NewcomerWindow on this relay.
type ACL struct {
	Members Members
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Guard, if set, counts every refusal against the requester.
	Guard *Guard

	mu        *sync.Mutex
	newcomers *[]time.Time
}

// Newcomer budget of one relay.
const (
	NewcomerCircuits = 8
	NewcomerWindow   = time.Minute
)

// NewACL returns an ACL deciding with m.
func NewACL(m Members) ACL {
	return ACL{Members: m, mu: new(sync.Mutex), newcomers: new([]time.Time)}
}

var _ relay.ACLFilter = ACL{}

// AllowReserve reports whether p may hold a relay slot here.
func (a ACL) AllowReserve(p peer.ID, _ ma.Multiaddr) bool {
	ok := a.Members != nil && a.Members.Member(p)
	if !ok {
		a.Guard.Refused(p)
	}
	return ok
}

// AllowConnect reports whether src may reach dest through this relay:
// dest must be a member, so nobody reaches strangers through it; src must
// be a member too, or a newcomer within the newcomer budget.
func (a ACL) AllowConnect(src peer.ID, _ ma.Multiaddr, dest peer.ID) bool {
	ok := a.allowConnect(src, dest)
	if !ok {
		a.Guard.Refused(src)
	}
	return ok
}

func (a ACL) allowConnect(src peer.ID, dest peer.ID) bool {
	if a.Members == nil || !a.Members.Member(dest) {
		return false
	}
	if a.Members.Member(src) {
		return true
	}
	if a.mu == nil {
		return false
	}
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	recent := (*a.newcomers)[:0]
	for _, t := range *a.newcomers {
		if now.Sub(t) < NewcomerWindow {
			recent = append(recent, t)
		}
	}
	*a.newcomers = recent
	if len(recent) >= NewcomerCircuits {
		return false
	}
	*a.newcomers = append(recent, now)
	return true
}

// PeerSource adapts Peers to AutoRelay: it offers zone peers only, never
// a DHT or public relays.
func PeerSource(ps Peers) autorelay.PeerSource {
	return func(ctx context.Context, num int) <-chan peer.AddrInfo {
		var cands []peer.AddrInfo
		if ps != nil {
			cands = ps.RelayCandidates()
		}
		if len(cands) > num {
			cands = cands[:num]
		}
		out := make(chan peer.AddrInfo, len(cands))
		for _, c := range cands {
			out <- c
		}
		close(out)
		return out
	}
}

// ConnKind is "direct" if some connection to p is not through a relay,
// "relayed" if all are, and "" if there is none.
func ConnKind(nw network.Network, p peer.ID) string {
	kind := ""
	for _, c := range nw.ConnsToPeer(p) {
		if IsRelayed(c.RemoteMultiaddr()) {
			kind = Relayed
			continue
		}
		return Direct
	}
	return kind
}

// Connection kinds.
const (
	Direct  = "direct"
	Relayed = "relayed"
)

// IsRelayed reports whether a is a relay (p2p-circuit) address.
func IsRelayed(a ma.Multiaddr) bool {
	_, err := a.ValueForProtocol(ma.P_CIRCUIT)
	return err == nil
}

// Dialable orders a node's addresses for another home to dial: public
// direct addresses (confirmed or port-mapped) first, then relay addresses
// through members' nodes, then private ones (useful on the same network),
// loopback last. It returns at most max addresses.
func Dialable(addrs []ma.Multiaddr, max int) []ma.Multiaddr {
	var public, relayed, private, loopback []ma.Multiaddr
	for _, a := range addrs {
		switch {
		case IsRelayed(a):
			relayed = append(relayed, a)
		case manet.IsIPLoopback(a):
			loopback = append(loopback, a)
		case manet.IsPublicAddr(a):
			public = append(public, a)
		default:
			private = append(private, a)
		}
	}
	out := append(append(append(public, relayed...), private...), loopback...)
	if len(out) > max {
		out = out[:max]
	}
	return out
}

// LoopbackOnly reports whether every listen address (multiaddr strings)
// is a loopback address; unparsable ones count as not loopback.
func LoopbackOnly(listen []string) bool {
	for _, s := range listen {
		a, err := ma.NewMultiaddr(s)
		if err != nil || !manet.IsIPLoopback(a) {
			return false
		}
	}
	return len(listen) > 0
}
