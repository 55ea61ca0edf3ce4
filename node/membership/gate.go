// Package membership closes a node's zones to strangers: on every new
// connection the two nodes prove to each other which zones they share
// (protocol.MembershipProtocol, docs/protocol.md "Membership proof"), and
// gossipsub announces a zone topic to, and accepts it from, only the peers
// that proved it.
//
// What pubsub v0.19.0 does, and how the gate fits it: pubsub opens its
// outbound stream to a peer once identify completes and writes, as the first
// RPC, the hello packet with every topic it is subscribed to, unfiltered (the
// peer and subscription filters do not apply to it); later joins and leaves
// are pushed to every peer. Nothing is ever re-sent. So the gate hands pubsub
// a wrapped host (Gate.Host) whose NewStream for pubsub protocols waits for
// the proof's verdict, and whose pubsub streams strip, RPC by RPC, every
// subscription, message and control entry about a topic the peer has not
// proved; when a later proof (a new zone, a new epoch) widens what a peer
// shares, the gate writes the missing subscriptions itself. Inbound pubsub
// streams are read only after the verdict, and incoming RPCs about topics
// the peer has not proved are dropped (Gate.PubsubOptions).
//
// Flood publishing and gossip emission pick peers from a topic's subscriber
// list without asking the peer filter: the subscription filter, which drops
// unproven subscriptions, keeps strangers off that list, and the stream
// filter is the backstop. The stream filter relies on pubsub writing each
// RPC in one Write (comm.go, writeRpc); anything else is refused, so a
// pubsub upgrade that changes it fails closed, and this package's tests
// show it. Re-run them on every pubsub upgrade.
package membership

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"

	"lookout/crypto"
	"lookout/protocol"
)

// ZoneKey is one zone epoch this node can prove: the gossipsub topic it
// opens and the epoch's proof key (crypto.ZoneSecret.ProofKey). A zone in
// rotation gives two, one per epoch.
type ZoneKey struct {
	Topic string
	Key   [crypto.ProofKeySize]byte
}

// Keyring gives the zone epochs the node holds now. It is called once per
// proof run and must be safe for concurrent use.
type Keyring interface {
	Keys() []ZoneKey
}

// KeyringFunc adapts a function to Keyring.
type KeyringFunc func() []ZoneKey

// Keys calls f.
func (f KeyringFunc) Keys() []ZoneKey { return f() }

// Defaults.
const (
	// DefaultTimeout bounds one proof run (hello, proof, ack) on a stream.
	DefaultTimeout = 5 * time.Second
	// DefaultWindow bounds the time from a connection to its first verdict;
	// a peer with none by then is disconnected.
	DefaultWindow = 3 * DefaultTimeout
	// DefaultMaxRunning caps proof streams served at once, over all peers.
	DefaultMaxRunning = 64
	// maxRunningPerPeer caps proof streams served at once for one peer.
	maxRunningPerPeer = 1
	// retryBase is the first pause before an initiator retries a run the
	// other side refused (it was busy); pauses double up to retryMax.
	retryBase = 100 * time.Millisecond
	retryMax  = time.Second
)

// UserAgent is what identify announces: go-libp2p's own fallback (used
// when a program carries no main-module version), so a node does not
// stand out. Pass HostOption to libp2p.New.
const UserAgent = "github.com/libp2p/go-libp2p"

// HostOption makes identify announce UserAgent instead of the main module's
// path and version or VCS revision ("lookout@…").
func HostOption() libp2p.Option { return libp2p.UserAgent(UserAgent) }

// ErrNotProven is returned for a peer that failed, or never completed, the
// membership proof.
var ErrNotProven = errors.New("peer did not complete the membership proof")

type config struct {
	timeout    time.Duration
	window     time.Duration
	maxRunning int
	log        *slog.Logger
	rand       io.Reader
	onGain     func(p peer.ID, topics []string)
}

// Option tunes a Gate.
type Option func(*config)

// WithTimeout bounds each proof run (default DefaultTimeout).
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithWindow bounds the time from a connection to its first verdict
// (default DefaultWindow).
func WithWindow(d time.Duration) Option { return func(c *config) { c.window = d } }

// WithMaxRunning caps proof streams served at once (default DefaultMaxRunning).
func WithMaxRunning(n int) Option { return func(c *config) { c.maxRunning = n } }

// WithLogger sets the logger (default: discard). Peer IDs are logged at
// debug level only; topics never.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithOnGain sets a function called, which must not block, when a peer's
// released verdict gains topics it did not have: a peer that proved a
// zone for the first time on this connection, or after joining one.
func WithOnGain(f func(p peer.ID, topics []string)) Option {
	return func(c *config) { c.onGain = f }
}

// WithRand sets the random source for nonces and padding (default crypto/rand).
func WithRand(r io.Reader) Option { return func(c *config) { c.rand = r } }

// Gate runs the membership proof on every connection of a host and answers
// who shares what. Create it before gossipsub and start gossipsub on
// Gate.Host() with Gate.PubsubOptions().
type Gate struct {
	h    host.Host
	keys Keyring
	cfg  config
	log  *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	notif  network.Notifiee

	mu      sync.Mutex
	peers   map[peer.ID]*peerState
	running int  // inbound proof streams being served
	closed  bool // no new work after Close
	stats   stats
}

type stats struct {
	refused     int // proof streams refused: caps reached
	failed      int // peers disconnected for a failed or stalled proof
	droppedSubs int // incoming subscriptions to topics the peer did not prove
	droppedRPCs int // incoming RPCs about topics the peer did not prove
}

type peerState struct {
	ready    chan struct{} // closed at the first verdict
	decided  bool
	failed   bool
	shared   map[string]bool // recorded: judges incoming traffic
	released map[string]bool // after p's ack: judges outgoing traffic
	serving  int             // inbound proof streams being served
	proving  bool            // an outbound run is in progress
	again    bool            // the keys changed during the outbound run: run again
	active   int             // runs in progress, either direction
	overlap  bool            // two runs overlapped since active was last 0
	timer    *time.Timer
	streams  map[*filterStream]struct{}
}

// New starts the gate on h: it serves protocol.MembershipProtocol and proves
// membership on every new connection. Existing connections are not proven.
func New(h host.Host, keys Keyring, opts ...Option) (*Gate, error) {
	if h == nil || keys == nil {
		return nil, errors.New("new membership gate: host and keyring are required")
	}
	cfg := config{timeout: DefaultTimeout, window: DefaultWindow, maxRunning: DefaultMaxRunning, rand: rand.Reader}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.timeout <= 0 || cfg.window < cfg.timeout || cfg.maxRunning < 1 {
		return nil, fmt.Errorf("new membership gate: timeout %v, window %v, max running %d: want timeout > 0, window ≥ timeout, max running ≥ 1", cfg.timeout, cfg.window, cfg.maxRunning)
	}
	log := cfg.log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &Gate{h: h, keys: keys, cfg: cfg, log: log, ctx: ctx, cancel: cancel, peers: make(map[peer.ID]*peerState)}
	h.SetStreamHandler(protocol.MembershipProtocol, g.handle)
	g.notif = &network.NotifyBundle{
		ConnectedF: func(_ network.Network, c network.Conn) {
			// Called synchronously under libp2p's locks: never block.
			g.connected(c.RemotePeer(), c.Stat().Direction == network.DirOutbound)
		},
		DisconnectedF: func(_ network.Network, c network.Conn) {
			g.spawn(func() { g.disconnected(c.RemotePeer()) })
		},
	}
	h.Network().Notify(g.notif)
	return g, nil
}

// Close stops the gate and waits for its goroutines. It does not close
// the host.
func (g *Gate) Close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	for _, st := range g.peers {
		st.timer.Stop()
	}
	g.mu.Unlock()
	g.h.Network().StopNotify(g.notif)
	g.h.RemoveStreamHandler(protocol.MembershipProtocol)
	g.cancel()
	g.wg.Wait()
	return nil
}

func (g *Gate) spawn(f func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		f()
	}()
}

// stateLocked returns p's state, creating it (and its window timer) if
// needed. g.mu is held.
func (g *Gate) stateLocked(p peer.ID) *peerState {
	st, ok := g.peers[p]
	if !ok {
		st = &peerState{ready: make(chan struct{}), streams: make(map[*filterStream]struct{})}
		st.timer = time.AfterFunc(g.cfg.window, func() { g.expire(p, st) })
		g.peers[p] = st
	}
	return st
}

// freshLocked is stateLocked for a new connection or proof stream: a peer
// cut for a failed proof that comes back starts afresh. g.mu is held.
func (g *Gate) freshLocked(p peer.ID) *peerState {
	if old, ok := g.peers[p]; ok && old.failed {
		old.timer.Stop()
		delete(g.peers, p)
	}
	return g.stateLocked(p)
}

// enter counts a run with p.
func (g *Gate) enter(st *peerState) {
	g.mu.Lock()
	defer g.mu.Unlock()
	st.active++
	if st.active > 1 {
		st.overlap = true
	}
}

// leave ends a run with p. Two runs that overlapped (both sides' keys
// changed at once, or both dialed) may leave a verdict taken from keys
// that changed meanwhile, and the one that ends last wins: so after an
// overlap the side with the smaller peer ID runs once more.
func (g *Gate) leave(p peer.ID, st *peerState) {
	g.mu.Lock()
	st.active--
	rerun := st.active == 0 && st.overlap && g.h.ID() < p && !st.failed && g.peers[p] == st
	if st.active == 0 {
		st.overlap = false
	}
	g.mu.Unlock()
	if rerun {
		g.spawn(func() { g.prove(p, st) })
	}
}

func (g *Gate) connected(p peer.ID, outbound bool) {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return
	}
	st := g.freshLocked(p)
	g.mu.Unlock()
	if outbound {
		g.spawn(func() { g.prove(p, st) })
	}
}

func (g *Gate) disconnected(p peer.ID) {
	if g.h.Network().Connectedness(p) == network.Connected {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if st, ok := g.peers[p]; ok {
		st.timer.Stop()
		if !st.decided {
			st.decided, st.failed = true, true
			close(st.ready)
		}
		delete(g.peers, p)
	}
}

// expire cuts a peer with no verdict at the end of its window.
func (g *Gate) expire(p peer.ID, st *peerState) {
	g.mu.Lock()
	stalled := !g.closed && g.peers[p] == st && !st.decided
	g.mu.Unlock()
	if stalled {
		g.fail(p, st, errors.New("no membership proof within the window"))
	}
}

// fail records a failed proof and disconnects p.
func (g *Gate) fail(p peer.ID, st *peerState, err error) {
	g.mu.Lock()
	if g.peers[p] == st {
		st.timer.Stop()
		st.failed, st.shared, st.released = true, nil, nil
		if !st.decided {
			st.decided = true
			close(st.ready)
		}
		g.stats.failed++
	}
	g.mu.Unlock()
	g.log.Debug("membership proof failed; disconnecting", "peer", p, "err", err)
	g.h.Network().ClosePeer(p)
}

// record stores a verdict: from now on incoming traffic from p is judged
// by it. It is called before this side sends its ack.
func (g *Gate) record(p peer.ID, st *peerState, shared map[string]bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.peers[p] == st && !st.failed {
		st.shared = shared
	}
}

// release makes the recorded verdict govern what is sent to p, once p's
// ack says p has recorded its own, and re-announces subscriptions on p's
// pubsub streams when what they may carry changed.
func (g *Gate) release(p peer.ID, st *peerState) {
	g.mu.Lock()
	if g.peers[p] != st || st.failed {
		g.mu.Unlock()
		return
	}
	st.timer.Stop()
	var gained []string
	for t := range st.shared {
		if !st.released[t] {
			gained = append(gained, t)
		}
	}
	st.released = st.shared
	if !st.decided {
		st.decided = true
		close(st.ready)
	}
	streams := make([]*filterStream, 0, len(st.streams))
	for fs := range st.streams {
		streams = append(streams, fs)
	}
	n := len(st.released)
	g.mu.Unlock()
	g.log.Debug("membership proven", "peer", p, "zones", n)
	for _, fs := range streams {
		fs.reannounce()
	}
	if len(gained) > 0 && g.cfg.onGain != nil {
		slices.Sort(gained)
		g.cfg.onGain(p, gained)
	}
}

// sends reports whether traffic about topic may be sent to p.
func (g *Gate) sends(p peer.ID, topic string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	st, ok := g.peers[p]
	return ok && !st.failed && st.released[topic]
}

// Shares reports whether p proved the zone epoch whose topic is topic. It
// is gossipsub's peer filter.
func (g *Gate) Shares(p peer.ID, topic string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	st, ok := g.peers[p]
	return ok && !st.failed && st.shared[topic]
}

// Member reports whether p proved at least one zone epoch this node holds:
// what a relay ACL, the sync and link handlers and the connection manager
// ask.
func (g *Gate) Member(p peer.ID) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	st, ok := g.peers[p]
	return ok && !st.failed && len(st.shared) > 0
}

// Wait blocks until p has a verdict (or ctx ends) and returns nil if p
// completed the proof, whatever it shares.
func (g *Gate) Wait(ctx context.Context, p peer.ID) error {
	g.mu.Lock()
	if g.closed || g.h.Network().Connectedness(p) != network.Connected {
		g.mu.Unlock()
		return fmt.Errorf("wait for membership proof: %w", ErrNotProven)
	}
	st := g.stateLocked(p)
	g.mu.Unlock()
	select {
	case <-st.ready:
	case <-ctx.Done():
		return fmt.Errorf("wait for membership proof: %w", ctx.Err())
	case <-g.ctx.Done():
		return fmt.Errorf("wait for membership proof: %w", ErrNotProven)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if st.failed {
		return fmt.Errorf("wait for membership proof: %w", ErrNotProven)
	}
	return nil
}

// KeysChanged proves membership again with every connected peer; call it
// when the keyring's answer changes (a zone joined or left, an epoch
// switched).
func (g *Gate) KeysChanged() {
	g.mu.Lock()
	peers := make(map[peer.ID]*peerState, len(g.peers))
	for p, st := range g.peers {
		if !st.failed {
			peers[p] = st
		}
	}
	g.mu.Unlock()
	for p, st := range peers {
		g.spawn(func() { g.prove(p, st) })
	}
}

// prove runs the proof as initiator, retrying while the other side is busy,
// and runs it again if the keys changed meanwhile.
func (g *Gate) prove(p peer.ID, st *peerState) {
	g.mu.Lock()
	if st.proving {
		st.again = true
		g.mu.Unlock()
		return
	}
	st.proving = true
	g.mu.Unlock()
	for {
		g.proveOnce(p, st)
		g.mu.Lock()
		again := st.again && !st.failed && g.peers[p] == st
		st.again = false
		if !again {
			st.proving = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
	}
}

func (g *Gate) proveOnce(p peer.ID, st *peerState) {
	ctx, cancel := context.WithTimeout(g.ctx, g.cfg.window)
	defer cancel()
	pause := retryBase
	for {
		started, err := g.initiate(ctx, p, st)
		if err == nil {
			return
		}
		g.mu.Lock()
		gone := g.peers[p] != st
		g.mu.Unlock()
		if g.ctx.Err() != nil || gone {
			return
		}
		// Refused before any byte came back (the other side was at its
		// cap): try again until the window ends.
		if !started && ctx.Err() == nil {
			t := time.NewTimer(pause)
			select {
			case <-t.C:
				pause = min(2*pause, retryMax)
				continue
			case <-ctx.Done():
				t.Stop()
			}
		}
		g.fail(p, st, err)
		return
	}
}

// initiate opens a proof stream to p and runs it. started reports whether
// p's hello arrived (a refusal before that is a busy signal).
func (g *Gate) initiate(ctx context.Context, p peer.ID, st *peerState) (started bool, err error) {
	s, err := g.h.NewStream(network.WithAllowLimitedConn(ctx, "membership"), p, protocol.MembershipProtocol)
	if err != nil {
		return false, fmt.Errorf("open membership stream: %w", err)
	}
	defer s.Close()
	g.enter(st)
	defer g.leave(p, st)
	started, err = g.run(s, func(shared map[string]bool) { g.record(p, st, shared) })
	if err == nil {
		g.release(p, st)
	}
	return started, err
}

// handle serves a proof stream opened by the other side.
func (g *Gate) handle(s network.Stream) {
	p := s.Conn().RemotePeer()
	g.mu.Lock()
	if g.closed || g.running >= g.cfg.maxRunning {
		g.stats.refused++
		g.mu.Unlock()
		s.Reset()
		return
	}
	st := g.freshLocked(p)
	if st.serving >= maxRunningPerPeer {
		g.stats.refused++
		g.mu.Unlock()
		s.Reset()
		return
	}
	st.serving++
	g.running++
	g.wg.Add(1)
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		st.serving--
		g.running--
		g.mu.Unlock()
		g.wg.Done()
	}()
	defer s.Close()
	g.enter(st)
	defer g.leave(p, st)
	if _, err := g.run(s, func(shared map[string]bool) { g.record(p, st, shared) }); err != nil {
		g.fail(p, st, err)
		return
	}
	g.release(p, st)
}

// run is the exchange, the same on both sides: hello, proof, ack. It
// records the verdict with record before sending the ack.
func (g *Gate) run(s network.Stream, record func(shared map[string]bool)) (started bool, err error) {
	if err := s.SetDeadline(time.Now().Add(g.cfg.timeout)); err != nil {
		s.Reset()
		return false, fmt.Errorf("membership proof: set deadline: %w", err)
	}
	stop := context.AfterFunc(g.ctx, func() { s.Reset() })
	defer stop()
	self, remote := g.h.ID(), s.Conn().RemotePeer()

	var mine [protocol.MembershipNonceSize]byte
	if _, err := io.ReadFull(g.cfg.rand, mine[:]); err != nil {
		s.Reset()
		return false, fmt.Errorf("membership proof: read random: %w", err)
	}
	if _, err := s.Write(protocol.AppendMembershipHello(nil, mine)); err != nil {
		s.Reset()
		return false, fmt.Errorf("membership proof: send hello: %w", err)
	}
	r := bufio.NewReaderSize(s, protocol.MembershipProofSize)
	buf := make([]byte, protocol.MembershipProofSize)
	if _, err := io.ReadFull(r, buf[:protocol.MembershipHelloSize]); err != nil {
		s.Reset()
		return false, fmt.Errorf("membership proof: read hello: %w", err)
	}
	theirs, err := protocol.ParseMembershipHello(buf[:protocol.MembershipHelloSize])
	if err != nil {
		s.Reset()
		return true, err
	}

	keys := g.keyset()
	// A tag for every slot, the ones past len(keys) thrown away: the time
	// to the proof says nothing of how many zone epochs this node holds.
	tags := make([][protocol.MembershipTagSize]byte, protocol.MembershipSlots)
	for i := range tags {
		k := ZoneKey{}
		if i < len(keys) {
			k = keys[i]
		}
		tags[i] = protocol.MembershipTag(k.Key, []byte(self), []byte(remote), mine, theirs)
	}
	proof, err := protocol.NewMembershipProof(tags[:len(keys)], g.cfg.rand)
	if err != nil {
		s.Reset()
		return true, err
	}
	if _, err := s.Write(proof.MarshalBinary()); err != nil {
		s.Reset()
		return true, fmt.Errorf("membership proof: send proof: %w", err)
	}
	if _, err := io.ReadFull(r, buf); err != nil {
		s.Reset()
		return true, fmt.Errorf("membership proof: read proof: %w", err)
	}
	got, err := protocol.ParseMembershipProof(buf)
	if err != nil {
		s.Reset()
		return true, err
	}
	shared := make(map[string]bool)
	for i := range protocol.MembershipSlots {
		// As much work for one zone epoch as for the most a proof holds,
		// so the time to the ack says nothing of how many this node holds.
		k := ZoneKey{}
		if i < len(keys) {
			k = keys[i]
		}
		found := got.Contains(protocol.MembershipTag(k.Key, []byte(remote), []byte(self), theirs, mine))
		if i < len(keys) && found {
			shared[k.Topic] = true
		}
	}
	// The ack says "I have recorded my verdict": once a side has read the
	// other's ack, it knows the other filters pubsub traffic by it.
	record(shared)
	if _, err := s.Write([]byte{protocol.MembershipAck}); err != nil {
		s.Reset()
		return true, fmt.Errorf("membership proof: send ack: %w", err)
	}
	if _, err := io.ReadFull(r, buf[:protocol.MembershipAckSize]); err != nil {
		s.Reset()
		return true, fmt.Errorf("membership proof: read ack: %w", err)
	}
	if err := protocol.CheckMembershipAck(buf[0]); err != nil {
		s.Reset()
		return true, err
	}
	return true, nil
}

// keyset returns the keyring's keys, distinct, at most MembershipSlots.
func (g *Gate) keyset() []ZoneKey {
	all := g.keys.Keys()
	out := make([]ZoneKey, 0, min(len(all), protocol.MembershipSlots))
	seen := make(map[ZoneKey]bool, len(all))
	for _, k := range all {
		if seen[k] || len(out) == protocol.MembershipSlots {
			continue
		}
		seen[k] = true
		out = append(out, k)
	}
	if len(all) > len(out) && len(seen) > protocol.MembershipSlots {
		g.log.Warn("more zone epochs than a membership proof can carry; the rest are not proven", "max", protocol.MembershipSlots)
	}
	return out
}

// Host returns h wrapped for gossipsub: pass it to pubsub.NewGossipSub.
func (g *Gate) Host() host.Host { return &gatedHost{Host: g.h, g: g} }

var _ host.Host = (*gatedHost)(nil)

// PubsubOptions are the gossipsub options that close zone topics to peers
// that did not prove them: a peer filter (mesh, gossip, fanout, peer
// exchange records), a subscription filter and an RPC inspector (incoming
// subscriptions, messages and control about unproven topics are dropped).
func (g *Gate) PubsubOptions() []pubsub.Option {
	return []pubsub.Option{
		pubsub.WithPeerFilter(g.Shares),
		pubsub.WithSubscriptionFilter(subscriptionFilter{g}),
		pubsub.WithAppSpecificRpcInspector(g.inspect),
	}
}

type subscriptionFilter struct{ g *Gate }

var _ pubsub.SubscriptionFilter = subscriptionFilter{}

func (subscriptionFilter) CanSubscribe(string) bool { return true }

// FilterIncomingSubscriptions keeps the subscriptions to topics from
// proved and every unsubscription (it only takes a peer out).
func (f subscriptionFilter) FilterIncomingSubscriptions(from peer.ID, subs []*pubsubpb.RPC_SubOpts) ([]*pubsubpb.RPC_SubOpts, error) {
	out := subs[:0:0]
	for _, s := range subs {
		if !s.GetSubscribe() || f.g.Shares(from, s.GetTopicid()) {
			out = append(out, s)
			continue
		}
		f.g.mu.Lock()
		f.g.stats.droppedSubs++
		f.g.mu.Unlock()
	}
	return out, nil
}

// inspect drops an incoming RPC that carries a message or control entry
// about a topic its sender has not proved.
func (g *Gate) inspect(from peer.ID, rpc *pubsub.RPC) error {
	bad := ""
	check := func(topic string) {
		if bad == "" && !g.Shares(from, topic) {
			bad = "topic not proven"
		}
	}
	for _, m := range rpc.GetPublish() {
		check(m.GetTopic())
	}
	c := rpc.GetControl()
	for _, x := range c.GetIhave() {
		check(x.GetTopicID())
	}
	for _, x := range c.GetGraft() {
		check(x.GetTopicID())
	}
	for _, x := range c.GetPrune() {
		check(x.GetTopicID())
	}
	if x := rpc.GetPartial(); x != nil {
		check(x.GetTopicID())
	}
	if bad == "" {
		return nil
	}
	g.mu.Lock()
	g.stats.droppedRPCs++
	g.mu.Unlock()
	return errors.New("membership: rpc about a " + bad)
}

// pubsubProtocol reports whether id is one of gossipsub's (or floodsub's).
func pubsubProtocol(id libp2pproto.ID) bool {
	for _, p := range pubsub.GossipSubDefaultProtocols {
		if id == p {
			return true
		}
	}
	return false
}
