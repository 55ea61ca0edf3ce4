// Package node is Lookout's embeddable node: a libp2p host, a gossipsub
// router with one encrypted topic per zone, the validator pipeline every
// message passes through, the zone and invite logic, and the local control
// API. cmd/lookout and the desktop app drive it; nothing here knows about
// flags or widgets.
//
// A Node is configured through its exported fields, then Start-ed and
// Close-d:
//
//	n := &node.Node{Home: dir}
//	if err := n.Start(ctx); err != nil { ... }
//	defer n.Close()
package node

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"

	"lookout/crypto"
	"lookout/node/api"
	"lookout/node/discovery"
	"lookout/node/membership"
	"lookout/node/reach"
	"lookout/node/store"
	"lookout/protocol"
)

// DefaultPort is the TCP and UDP (QUIC) port a node listens on by default.
const DefaultPort = 4719

// DefaultListenAddrs are used when Node.ListenAddrs is empty.
var DefaultListenAddrs = []string{
	fmt.Sprintf("/ip4/0.0.0.0/tcp/%d", DefaultPort),
	fmt.Sprintf("/ip4/0.0.0.0/udp/%d/quic-v1", DefaultPort),
	fmt.Sprintf("/ip6/::/tcp/%d", DefaultPort),
	fmt.Sprintf("/ip6/::/udp/%d/quic-v1", DefaultPort),
}

// Gossipsub settings.
const (
	// maxRPCSize bounds one gossipsub RPC; each message in it is further
	// bounded by protocol.MaxEnvelopeSize in the validator.
	maxRPCSize = 2 * protocol.MaxEnvelopeSize
	// validateTimeout bounds one validation.
	validateTimeout = 5 * time.Second
	// redialInterval is how often known zone peers that are not connected
	// are dialled again.
	redialInterval = 20 * time.Second
)

// Node is a Lookout node. Set the exported fields, then call Start.
type Node struct {
	// Home is the directory holding the encrypted store and the control
	// socket.
	Home string
	// Secret unlocks the store: the passphrase or key file given to Init.
	Secret store.Secret
	// StoreOptions tune unlocking (tests use tiny key-derivation costs).
	StoreOptions store.Options
	// ListenAddrs are multiaddrs to listen on; empty means DefaultListenAddrs.
	ListenAddrs []string
	// MDNS turns on private local-network discovery.
	MDNS bool
	// NoPortMapping turns off UPnP / NAT-PMP port mapping on the router.
	NoPortMapping bool
	// Logger receives the node's logs; nil discards them.
	Logger *slog.Logger

	// Host, if set, is used instead of a host built from ListenAddrs (tests
	// use mocknet hosts). The node closes it on Close.
	Host host.Host
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand is the randomness source; nil means crypto/rand.
	Rand io.Reader
	// PubsubOptions are appended to the node's gossipsub options (tuning,
	// tracing).
	PubsubOptions []pubsub.Option
	// LatencyBlind turns off the latency-aware mesh: the library's mesh
	// parameters and no preference for near peers (benchmark baseline).
	LatencyBlind bool
	// FloodPeers is how many connections an alert this node publishes is
	// sent to at once: its mesh peers, then others at random (floodset.go); 0
	// means floodPeers (12), negative means every connection (benchmark
	// baseline).
	FloodPeers int
	// RedialInterval is how often the node redials remembered zone peers
	// and pulls missed governance messages from a zone peer; 0 means 20 s.
	RedialInterval time.Duration
	// Observer, if set, is told about validations and catch-up (node/metrics).
	Observer Observer
	// MetricsRegisterer, if set, receives go-libp2p's metrics.
	MetricsRegisterer prometheus.Registerer

	log  *slog.Logger
	id   *crypto.Identity
	kem  *crypto.KEMKey // loaded or made once at start: every announcement carries the same key
	name string
	st   *store.Store
	h    host.Host
	gate *membership.Gate // proves membership on every connection (gate.go)
	// gateReady is gate, for what libp2p may call before Start sets it.
	gateReady  atomic.Pointer[membership.Gate]
	reach      *reach.Tracker // nil on a host given in Host
	ps         *pubsub.PubSub
	near       *nearness          // round trips to peers, for the mesh (nearness.go)
	mesh       *meshPeers         // the gossipsub mesh, for publishing (floodset.go)
	pubMu      sync.Mutex         // held while handing a batch to gossipsub (floodset.go)
	pubStopped bool               // gossipsub is stopping; guarded by pubMu
	psStop     context.CancelFunc // cancels gossipsub's context (Close)
	replay     *replayCache
	ctx        context.Context
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	mu         sync.Mutex // guards zones and their files
	zones      map[protocol.ZoneID]*zone
	stale      map[string]zoneRecord // zones made by an older Lookout, by ID (not joined)
	started    bool
	closed     bool
	wiped      chan struct{} // closed once Wipe destroyed the store
	wipeOnce   sync.Once

	// The node's parts, each reaching the node through an interface
	// declared in its own file; set by Start or startGate.
	records   *records    // the zones' records in the store (records.go)
	mon       *monitor    // health: clock estimate, rejections, counters (health.go)
	admission *admission  // follows every connection: gate, stranger budget, member addresses (admission.go)
	dialer    *dialer     // dials members within the budget (upkeep.go)
	sweeper   *sweeper    // deletes what ended (upkeep.go)
	desk      *joinDesk   // answers joiners, counts join streams (join_serve.go)
	sync      *catchUp    // pulls and serves catch-up (sync.go)
	links     *linkEnds   // this node's ends of its zones' links (links.go)
	gov       *governor   // sends this member's governance messages (govsend.go)
	renewer   *renewer    // keeps certificates from expiring (renew.go)
	forks     *forkMender // merges forked epochs (fork.go)

	// inboundSlots and rcmgrOptions: tests' resource limits (zero: the
	// defaults).
	inboundSlots reach.Slots
	rcmgrOptions []rcmgr.Option

	life     sync.RWMutex // guards stopping; never held across blocking calls
	stopping bool

	pad discovery.Pool // pads mDNS announcements to hide the zone count (mdns.go)

}

// spawn runs f in a goroutine that Close waits for, unless the node is
// closing. It never waits on the node's other locks, so libp2p callbacks
// may call it.
func (n *Node) spawn(f func()) {
	n.life.RLock()
	defer n.life.RUnlock()
	if n.stopping {
		return
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
}

func (n *Node) now() time.Time {
	if n.Now != nil {
		return n.Now()
	}
	return time.Now()
}

func (n *Node) rand() io.Reader {
	if n.Rand != nil {
		return n.Rand
	}
	return rand.Reader
}

// Start loads the identity and zones from Home, starts the libp2p host and
// gossipsub and joins every zone's topic. It serves no control API: a
// program that wants the socket serves one with control.ServeSocket.
func (n *Node) Start(ctx context.Context) (err error) {
	if n.started {
		return errors.New("node already started")
	}
	n.started = true
	n.log = n.Logger
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	if n.Home == "" {
		n.Home = DefaultHome()
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.wiped = make(chan struct{})
	n.replay = newReplayCache()
	started := n.now() // for the uptime (newMonitor)
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	n.st, err = openStore(n.Home, n.Secret, n.StoreOptions)
	n.Secret = store.Secret{} // the caller zeroes its bytes; the node keeps no reference
	if err != nil {
		return err
	}
	if err := os.Chmod(n.Home, 0o700); err != nil {
		return fmt.Errorf("secure home: %w", err)
	}
	if n.id, n.name, err = loadIdentity(n.st); err != nil {
		return err
	}
	if n.kem, err = loadKEMKey(n.st); err != nil {
		return err
	}
	n.records = newRecords(n) // before the renewer and the zones
	if err := n.startHost(); err != nil {
		return err
	}
	// The monitor before the validator and catch-up report to it.
	n.mon = newMonitor(n, started)
	n.dialer = newDialer(n)   // before connections are admitted (startGate)
	n.desk = newJoinDesk(n)   // before connections are admitted (startGate)
	n.gov = newGovernor(n)    // before the renewer and the fork mender, which send through it
	n.renewer = newRenewer(n) // before connections are admitted (startGate)
	if err := n.startGate(); err != nil {
		return err
	}
	if err := n.startPubsub(); err != nil {
		return err
	}
	n.links = newLinkEnds(n) // before anything that may store a message
	n.h.SetStreamHandler(joinProtocol, n.desk.handleJoin)
	n.h.SetStreamHandler(linkProtocol, n.links.handleLink) // linked zones (link_stream.go)
	n.h.SetStreamHandler(syncProtocol, n.sync.handleSync)  // catch-up (sync.go)
	n.admission.servePeers()
	if err := n.loadZones(); err != nil {
		return err
	}
	// Which member this node handed each invite's zone to, for the zones
	// it holds (join_serve.go).
	held := map[protocol.ZoneID]bool{}
	for _, z := range n.allZones() {
		held[z.ID()] = true
	}
	if err := n.desk.loadServed(func(id protocol.ZoneID) bool { return held[id] }); err != nil {
		return fmt.Errorf("load invites handed out: %w", err)
	}
	n.sweeper = newSweeper(n)
	n.sweeper.sweep(true)
	n.wg.Add(1)
	go n.redialLoop()
	n.log.Info("node started", "zones", len(n.zones))
	n.log.Debug("node started", "peer", n.h.ID(), "member", n.id.ID())
	return nil
}

func (n *Node) startHost() error {
	if n.Host != nil {
		n.h = n.Host
		return nil
	}
	key, err := loadPeerKey(n.st)
	if err != nil {
		return err
	}
	addrs := n.ListenAddrs
	if len(addrs) == 0 {
		addrs = DefaultListenAddrs
	}
	for _, a := range addrs {
		if _, err := ma.NewMultiaddr(a); err != nil {
			return fmt.Errorf("listen address %q is not a multiaddr (example: /ip4/0.0.0.0/tcp/4719): %w", a, err)
		}
	}
	cm, err := NewConnManager()
	if err != nil {
		return fmt.Errorf("connection manager: %w", err)
	}
	opts := []libp2p.Option{
		libp2p.Identity(key),
		libp2p.ListenAddrStrings(addrs...),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.Security(libp2ptls.ID, libp2ptls.New), // TLS 1.3 only: nothing weaker to negotiate down to
		libp2p.ConnectionManager(cm),
		membership.HostOption(), // identify names no Lookout version
	}
	if n.MetricsRegisterer != nil {
		opts = append(opts, libp2p.PrometheusRegisterer(n.MetricsRegisterer))
	}
	// No router can forward to loopback: port mapping would only send
	// discovery traffic to the local network for nothing.
	portMap := !n.NoPortMapping && !reach.LoopbackOnly(addrs)
	guard := reach.NewGuard()
	reachOpts, err := reach.Options(reach.Config{Members: n, Peers: n, PortMapping: portMap, Guard: guard, Slots: n.inboundSlots, RcmgrOptions: n.rcmgrOptions})
	if err != nil {
		return err
	}
	opts = append(opts, reachOpts...)
	h, err := libp2p.New(opts...)
	if err != nil {
		return fmt.Errorf("start libp2p host (is another node using the port? try --listen /ip4/0.0.0.0/tcp/0): %w", err)
	}
	n.h = h
	guard.SetCut(func(p peer.ID) {
		n.log.Warn("cut off a peer that flooded this node's relay")
		n.log.Debug("cut off a peer that flooded the relay", "peer", p)
		_ = h.Network().ClosePeer(p)
	})
	if n.reach, err = reach.NewTracker(h, n); err != nil {
		return err
	}
	return nil
}

// Connection manager bounds: above ConnHigh connections the node trims
// to ConnLow, sparing connections younger than ConnGrace and protected
// ones (members).
const (
	ConnLow   = 32
	ConnHigh  = 128
	ConnGrace = time.Minute
)

// NewConnManager returns the node's connection manager (the benchmark
// gives its simulated hosts the same one).
func NewConnManager() (*connmgr.BasicConnMgr, error) {
	return connmgr.NewConnManager(ConnLow, ConnHigh, connmgr.WithGracePeriod(ConnGrace))
}

// messageID is the content hash of the envelope: who sent it is known only
// inside the ciphertext.
func messageID(m *pb.Message) string {
	h := sha256.Sum256(m.Data)
	return string(h[:])
}

func (n *Node) startPubsub() error {
	ctx, stop := context.WithCancel(n.ctx)
	n.psStop = stop
	app := func(peer.ID) float64 { return 0 }
	params := pubsub.DefaultGossipSubParams()
	if !n.LatencyBlind {
		n.near = newNearness(n.h, n.gate.Member)
		if err := n.near.start(ctx); err != nil {
			return fmt.Errorf("start round-trip measurement: %w", err)
		}
		app, params = n.near.score, meshParams()
		n.mesh = newMeshPeers()
	}
	// Peer exchange is off: a node's connections are the ones it chose
	// (members it dialled or that dialled it), not ones a pruning peer
	// suggested (docs/perf.md "Tuning").
	opts := []pubsub.Option{
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(messageID),
		pubsub.WithFloodPublish(true),
		pubsub.WithPeerExchange(false),
		pubsub.WithGossipSubParams(params),
		pubsub.WithMaxMessageSize(maxRPCSize),
		pubsub.WithPeerScore(peerScoreParams(app), peerScoreThresholds(!n.LatencyBlind)),
	}
	if n.mesh != nil {
		opts = append(opts, pubsub.WithRawTracer(n.mesh))
	}
	opts = append(opts, n.PubsubOptions...)
	opts = append(opts, n.gate.PubsubOptions()...)
	ps, err := pubsub.NewGossipSub(ctx, n.gate.Host(), opts...)
	if err != nil {
		return fmt.Errorf("start gossipsub: %w", err)
	}
	n.ps = ps
	return nil
}

// Close stops the node and releases everything it holds.
func (n *Node) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	n.mu.Unlock()
	n.life.Lock()
	n.stopping = true
	n.life.Unlock()
	// No batch is handed to gossipsub once its context may end (floodset.go).
	n.pubMu.Lock()
	n.pubStopped = true
	n.pubMu.Unlock()
	if n.cancel != nil {
		n.cancel()
	}
	n.mu.Lock()
	for _, z := range n.zones {
		z.close()
	}
	n.mu.Unlock()
	if n.admission != nil {
		n.admission.close()
	}
	if n.reach != nil {
		n.reach.Close()
	}
	// Gossipsub stops (its context is a child of n.ctx, cancelled above),
	// then the gate, then the host.
	if n.psStop != nil {
		n.psStop()
	}
	if n.near != nil {
		n.near.wait()
	}
	if n.gate != nil {
		n.gate.Close()
	}
	var err error
	if n.h != nil {
		err = n.h.Close()
	}
	n.wg.Wait()
	if n.st != nil {
		if cerr := n.st.Close(); err == nil && !errors.Is(cerr, store.ErrClosed) {
			err = cerr
		}
	}
	return err
}

// Wipe destroys the node's keys and store (see the function Wipe) and
// stops the node in the background; Wiped is closed once the store is
// gone. Control API clients get their answer before the node stops.
func (n *Node) Wipe() error {
	err := Wipe(n.Home)
	n.wipeOnce.Do(func() { close(n.wiped) })
	if err != nil {
		n.log.Error("wipe", "err", err)
	}
	go n.Close()
	return err
}

// Wiped is closed once Wipe has destroyed the store; a program running
// the node should then exit.
func (n *Node) Wiped() <-chan struct{} { return n.wiped }

// PeerID returns the libp2p peer ID.
func (n *Node) PeerID() peer.ID { return n.h.ID() }

// MemberID returns the member identity's ID.
func (n *Node) MemberID() crypto.MemberID { return n.id.ID() }

// Addrs returns the host's addresses as full multiaddrs ending in /p2p/.
func (n *Node) Addrs() []ma.Multiaddr {
	out, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: n.h.ID(), Addrs: n.h.Addrs()})
	if err != nil {
		return nil
	}
	return out
}

// Status describes the node (control API).
func (n *Node) Status() api.Status {
	s := api.Status{MemberID: n.id.ID().String(), Name: n.name, PeerID: n.h.ID().String(), Addrs: []string{}, Peers: []string{}}
	for _, a := range n.Addrs() {
		s.Addrs = append(s.Addrs, a.String())
	}
	for _, p := range n.h.Network().Peers() {
		if n.h.Network().Connectedness(p) == network.Connected {
			s.Peers = append(s.Peers, p.String())
		}
	}
	s.Health = n.mon.health()
	n.addReach(&s)
	switch s.Reachability {
	case reach.Public:
		s.Health.Reachable = "yes"
	case reach.Private:
		s.Health.Reachable = "no"
	}
	return s
}
