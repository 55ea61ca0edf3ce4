package reach

import (
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	relay "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
)

// A peer that keeps asking this node's relay for what the ACL refuses
// (reservations as a stranger, connections beyond the newcomer budget) is
// cut off by the resource manager: every connection and stream of that
// peer is refused for CutOffFor.
const (
	// FloodAttempts is how many refused relay requests a peer may make
	// per FloodWindow; one more cuts it off.
	FloodAttempts = 8
	// FloodWindow is the window FloodAttempts counts in.
	FloodWindow = time.Minute
	// CutOffFor is how long a flooding peer stays cut off.
	CutOffFor = 10 * time.Minute
	// maxGuarded bounds the peers the guard keeps counts for; past it the
	// oldest counts are forgotten (a flood from many identities still
	// meets the resource manager's per-service limits).
	maxGuarded = 4096
)

// Per-peer stream limits of the relay and hole-punching services: how
// many streams one peer may hold open at once. A member needs one
// reservation stream and a few circuits; a hole punch is one stream.
const (
	relayStreamsPerPeer     = 4
	holePunchStreamsPerPeer = 2
	// relayStreamsTotal bounds the relay service's streams on this node.
	relayStreamsTotal    = 4 * MaxReservations
	serviceMemoryPerPeer = 1 << 20
)

// Guard counts refused relay requests per peer and cuts off the peers
// that flood them, through the resource manager it builds
// (ResourceManager). It is safe for concurrent use.
type Guard struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	cut     func(peer.ID) // SetCut
	refused map[peer.ID][]time.Time
	blocked map[peer.ID]time.Time // until when
	rm      network.ResourceManager
}

// NewGuard returns a guard with no peer cut off.
func NewGuard() *Guard {
	return &Guard{refused: map[peer.ID][]time.Time{}, blocked: map[peer.ID]time.Time{}}
}

func (g *Guard) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

// SetCut sets the function called, in its own goroutine, when a peer is
// cut off, to close its connections.
func (g *Guard) SetCut(f func(peer.ID)) {
	g.mu.Lock()
	g.cut = f
	g.mu.Unlock()
}

// Blocked reports whether p is cut off now.
func (g *Guard) Blocked(p peer.ID) bool {
	if g == nil {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	until, ok := g.blocked[p]
	if ok && !g.now().Before(until) {
		delete(g.blocked, p)
		return false
	}
	return ok
}

// Refused records a relay request refused to p and cuts p off once it
// made more than FloodAttempts in FloodWindow.
func (g *Guard) Refused(p peer.ID) {
	if g == nil {
		return
	}
	now := g.now()
	g.mu.Lock()
	recent := g.refused[p][:0]
	for _, t := range g.refused[p] {
		if now.Sub(t) < FloodWindow {
			recent = append(recent, t)
		}
	}
	recent = append(recent, now)
	if len(g.refused) >= maxGuarded && g.refused[p] == nil {
		clear(g.refused)
	}
	g.refused[p] = recent
	cut := len(recent) > FloodAttempts
	if cut {
		delete(g.refused, p)
		g.blocked[p] = now.Add(CutOffFor)
	}
	rm, closeConns := g.rm, g.cut
	g.mu.Unlock()
	if !cut {
		return
	}
	if rm != nil {
		// The peer's scope exists while it is connected: take its limits
		// away now; new scopes get none from the limiter until CutOffFor.
		_ = rm.ViewPeer(p, func(s network.PeerScope) error {
			if l, ok := s.(rcmgr.ResourceScopeLimiter); ok {
				l.SetLimit(&rcmgr.BaseLimit{})
			}
			return nil
		})
	}
	if closeConns != nil {
		go closeConns(p)
	}
}

// guardedLimiter gives a cut-off peer no resources at all.
type guardedLimiter struct {
	rcmgr.Limiter
	g *Guard
}

func (l guardedLimiter) GetPeerLimits(p peer.ID) rcmgr.Limit {
	if l.g.Blocked(p) {
		return &rcmgr.BaseLimit{}
	}
	return l.Limiter.GetPeerLimits(p)
}

// Slots divides the node's inbound connections. The node's gate keeps
// at most Strangers of them for peers that have not proven a zone and are
// not joining (closing the oldest when a new one comes); connections still
// in their handshake (the resource manager's transient scope) take at most
// Handshakes; what remains, Members, is for proven members, so a flood of
// strangers never takes the slots of the members it keeps out.
type Slots struct {
	Strangers  int
	Handshakes int
	Members    int
}

// DefaultSlots: 32 strangers (enough for several joiners at once, well
// under the 64 to 200 inbound connections go-libp2p's defaults allow);
// 32 handshakes (go-libp2p's transient base); 128 members (the connection
// manager's high mark, node.ConnHigh). Inbound total: 192.
var DefaultSlots = Slots{Strangers: 32, Handshakes: 32, Members: 128}

// Inbound is the resource manager's system-wide inbound connection limit.
func (s Slots) Inbound() int { return s.Strangers + s.Handshakes + s.Members }

// Limits are go-libp2p's default limits, scaled to the machine, with the
// relay and hole-punching services bounded per peer for a small node and
// the inbound connections sized by s: the system inbound limit is exactly
// s.Inbound() (not scaled, so that the member share holds on every
// machine), the transient inbound limit s.Handshakes, and the system total
// at least s.Inbound() plus s.Members for this node's own dials.
func Limits(s Slots) rcmgr.ConcreteLimitConfig {
	limits := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&limits)
	limits.AddServiceLimit(relay.ServiceName,
		rcmgr.BaseLimit{StreamsInbound: relayStreamsTotal, StreamsOutbound: relayStreamsTotal, Streams: relayStreamsTotal, Memory: 16 << 20},
		rcmgr.BaseLimitIncrease{})
	limits.AddServicePeerLimit(relay.ServiceName,
		rcmgr.BaseLimit{StreamsInbound: relayStreamsPerPeer, StreamsOutbound: relayStreamsPerPeer, Streams: relayStreamsPerPeer, Memory: serviceMemoryPerPeer},
		rcmgr.BaseLimitIncrease{})
	limits.AddServicePeerLimit(holepunch.ServiceName,
		rcmgr.BaseLimit{StreamsInbound: holePunchStreamsPerPeer, StreamsOutbound: holePunchStreamsPerPeer, Streams: holePunchStreamsPerPeer, Memory: serviceMemoryPerPeer},
		rcmgr.BaseLimitIncrease{})
	scaled := limits.AutoScale()
	p := scaled.ToPartialLimitConfig()
	in := s.Inbound()
	p.System.ConnsInbound = rcmgr.LimitVal(in)
	if total := int(p.System.Conns); total > 0 && total < in+s.Members { // not unlimited
		p.System.Conns = rcmgr.LimitVal(in + s.Members)
	}
	p.Transient.ConnsInbound = rcmgr.LimitVal(s.Handshakes)
	return p.Build(scaled)
}

// ResourceManager builds the node's resource manager: Limits(s), with the
// peers g cut off given nothing; opts are the resource manager's (tests).
func (g *Guard) ResourceManager(s Slots, opts ...rcmgr.Option) (network.ResourceManager, error) {
	rm, err := rcmgr.NewResourceManager(guardedLimiter{rcmgr.NewFixedLimiter(Limits(s)), g}, opts...)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	g.rm = rm
	g.mu.Unlock()
	return rm, nil
}
