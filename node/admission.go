package node

import (
	"context"
	"log/slog"
	"sync"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"lookout/node/membership"
	"lookout/node/reach"
)

// admission decides which connections stay and what they are told before
// they prove a zone: the membership gate on the host and what follows each
// connection (gate.go: protecting members, closing strangers, mesh
// repair), the stranger budget (slots.go) and the member-address exchange
// (peers.go). Its state is its own, under its own locks; it reaches its
// node only through node and the values it was made with.
type admission struct {
	node  nodeForAdmission
	ctx   context.Context // the node's: done once it closes
	h     host.Host
	gate  *membership.Gate // proves membership on every connection
	log   *slog.Logger
	joins *joinSet // join streams under way (the join desk's, join_serve.go)
	dials *dialer  // dials the members it learns of (upkeep.go)
	// budget is how many inbound connections of peers neither proven nor
	// joining stay (reach.Slots.Strangers).
	budget int

	strangers  strangerSlots  // the stranger budget's connections (slots.go)
	records    *reach.Records // peers' signed records from identify (peers.go)
	peersLimit syncLimiter    // member addresses served (peers.go)

	meshMu  sync.Mutex          // guards missing
	missing map[peer.ID]meshGap // peers missing from a zone topic, since when (repairMesh)
}

// nodeForAdmission is what admission uses of its node: which peers proved
// a live epoch, the gate's keyring, the live zones, catching up with a new
// member, remembering members' addresses, and its goroutines.
type nodeForAdmission interface {
	Member(p peer.ID) bool
	proofKeys() []membership.ZoneKey
	liveZones() []*zone
	syncPeer(p peer.ID)
	rememberPeers(z *zone, addrs []ma.Multiaddr)
	spawn(f func())
}

// newAdmission starts the membership gate and the peer-record book on h,
// before any dial. Connections are followed once follow is called. slots
// divides the inbound connections (zero: reach.DefaultSlots).
func newAdmission(n nodeForAdmission, ctx context.Context, h host.Host, log *slog.Logger, joins *joinSet, dials *dialer, slots reach.Slots) (*admission, error) {
	if slots == (reach.Slots{}) {
		slots = reach.DefaultSlots
	}
	a := &admission{node: n, ctx: ctx, h: h, log: log, joins: joins, dials: dials, budget: slots.Strangers}
	var err error
	if a.records, err = reach.NewRecords(h); err != nil {
		return nil, err
	}
	a.gate, err = membership.New(h, membership.KeyringFunc(n.proofKeys), membership.WithLogger(log),
		membership.WithOnGain(func(p peer.ID, _ []string) { n.spawn(func() { a.askPeersLogged(p); n.syncPeer(p) }) }))
	if err != nil {
		a.records.Close()
		return nil, err
	}
	return a, nil
}

// follow follows every new connection: its proof (admitPeer) and the
// stranger budget.
func (a *admission) follow() {
	a.h.Network().Notify(&network.NotifyBundle{
		ConnectedF: func(_ network.Network, c network.Conn) {
			// Called under libp2p's locks: never block here.
			p := c.RemotePeer()
			a.node.spawn(func() { a.admitPeer(p) })
			a.connected(c)
		},
		DisconnectedF: func(_ network.Network, c network.Conn) { a.strangers.remove(c) },
	})
}

// close releases the peer-record book.
func (a *admission) close() {
	a.records.Close()
}
