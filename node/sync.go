package node

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	core "lookout/node/internal/zone"
	"lookout/node/membership"
	"lookout/protocol"
)

// syncProtocol lets two members' nodes hand each other what one of them
// missed while offline: the governance messages (member announcements,
// roles, removals, rekeys, settings), so a returning member learns of a
// new epoch from any member it reconnects to, and the alerts and updates
// of its active alerts, so it sees every one with its current state.
// Digests first: only what the initiator lacks crosses. The frames are in
// protocol/sync.go and docs/protocol.md ("Catch-up sync"):
//
//  1. the initiator sends a hello: per zone, an epoch, a token proving
//     membership and a digest of what it holds from that epoch on;
//  2. the responder offers the IDs of its messages of every zone whose
//     token it can check and whose digest differs (governance by epoch
//     and time, then unexpired alerts and updates by time);
//  3. the initiator asks for those it has not accepted yet;
//  4. the responder sends them, in offer order.
//
// To anyone not in a zone a token and a digest are random bytes, and the
// offer is empty. Every envelope received goes through the same door as
// gossip (admit). Each side serves a peer at most syncBurst times at once,
// then once per syncRefill, and at most maxSyncServing peers at a time.
const syncProtocol = "/sync/4.0.0"

// syncProtocolVersion is the major version in syncProtocol, what
// node/health reads from peers' protocol lists.
const syncProtocolVersion = 4

const (
	syncTimeout    = 30 * time.Second
	syncBurst      = 8               // requests a peer may make at once
	syncRefill     = 2 * time.Second // then one more per syncRefill
	maxSyncRounds  = 4               // rounds per reconciliation (16 MiB each)
	maxSyncServing = 8
	maxSyncPeers   = 1024 // peers whose sync rate is tracked
)

// catchUp runs syncProtocol for its node: it answers members' pulls
// (handleSync) and pulls from them (syncPeer, syncWith). A node pulls from
// a peer each time the peer proves a zone it did not prove before on that
// connection (the gate's WithOnGain, admission.go): on connect, and again
// once a joiner holds its new zone, so what it announced before its mesh
// formed still arrives at once; upkeep (upkeep.go) and fork merges
// (fork.go) pull too. It owns the limits on whom it serves (limit) and the
// message IDs it is fetching (asked), under their own locks, never held
// with z.mu or the zone's State lock. What a zone offers is worked out by
// the zone core (core.State.SyncSet, SyncAnswer). It reaches its node only
// through node and the values it was made with.
type catchUp struct {
	node   nodeForSync
	ctx    context.Context  // the node's: done once it closes
	h      host.Host        // opens sync streams; this node's peer ID in tokens
	gate   *membership.Gate // which zone epochs each peer proved
	replay *replayCache     // what the door accepted, not asked again
	mon    *monitor         // told of each answer sent (health.go)
	log    *slog.Logger

	limit syncLimiter // peers served at once and how often
	asked inflight    // message IDs being fetched by sync
}

// nodeForSync is what catch-up uses of its node: its live zones, the door
// every received envelope passes (admit) and the store it then goes to,
// clock and randomness.
type nodeForSync interface {
	liveZones() []*zone
	admit(zones []*zone, env []byte) (admitted, error)
	store(z *zone, msg *protocol.Message, env []byte) error
	storeBatch(batch []admitted)
	now() time.Time
	rand() io.Reader
}

// newCatchUp makes n's catch-up once startGate has started the gate,
// before connections are followed (a proof starts a pull). Start serves
// syncProtocol with its handleSync.
func newCatchUp(n *Node) *catchUp {
	return &catchUp{node: n, ctx: n.ctx, h: n.h, gate: n.gate, replay: n.replay, mon: n.mon, log: n.log}
}

// syncPeer reconciles with p (catchUp.syncPeer): what admission's gate
// callback calls through nodeForAdmission.
func (n *Node) syncPeer(p peer.ID) { n.sync.syncPeer(p) }

// syncPeer reconciles with p, logging a failure: upkeep tries again.
func (c *catchUp) syncPeer(p peer.ID) {
	if err := c.syncWith(c.ctx, p); err != nil {
		c.log.Debug("sync", "peer", p, "err", err)
	}
}

// liveZones returns the zones this node is still in, by ID.
func (n *Node) liveZones() []*zone {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]*zone, 0, len(n.zones))
	for _, z := range n.zones {
		if !z.snapshot().removed {
			out = append(out, z)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Label().ID < out[j].Label().ID })
	return out
}

// syncWith reconciles the shared zones with p: it pulls what it lacks, in
// up to maxSyncRounds rounds while answers are cut short by the limits.
func (c *catchUp) syncWith(ctx context.Context, p peer.ID) error {
	for range maxSyncRounds {
		more, err := c.syncRound(ctx, p)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// syncRound runs one exchange with p and reports whether p has more to
// send than one answer may carry.
func (c *catchUp) syncRound(ctx context.Context, p peer.ID) (more bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	// The hello names only zones p proved, on this connection, to share.
	if err := c.gate.Wait(ctx, p); err != nil {
		return false, err
	}
	var zones []*zone
	var epochs []uint32
	for _, z := range c.node.liveZones() {
		if e, ok := c.sharedEpoch(z, p); ok {
			zones, epochs = append(zones, z), append(epochs, e)
		}
	}
	if len(zones) == 0 {
		return false, nil
	}
	s, err := c.h.NewStream(network.WithAllowLimitedConn(ctx, "sync"), p, syncProtocol)
	if err != nil {
		return false, err // not a Lookout peer, or gone
	}
	defer s.Close()
	if dl, ok := ctx.Deadline(); ok {
		s.SetDeadline(dl)
	}
	var hello protocol.SyncHello
	if _, err := io.ReadFull(c.node.rand(), hello.Nonce[:]); err != nil {
		return false, err
	}
	zones = zones[:min(len(zones), protocol.MaxSyncZones)]
	now := c.node.now()
	for i, z := range zones {
		epoch := epochs[i]
		secret, set := z.SyncSet(epoch, now)
		key := secret.SyncKey(epoch)
		hello.Zones = append(hello.Zones, protocol.SyncZone{
			Epoch:  epoch,
			Token:  protocol.SyncToken(key, hello.Nonce[:], string(c.h.ID()), string(p)),
			Digest: protocol.SyncDigest(key, hello.Nonce[:], core.SyncIDs(set)),
		})
	}
	if _, err := s.Write(hello.Bytes()); err != nil {
		return false, err
	}
	r := bufio.NewReader(s)
	offer, err := protocol.ReadSyncIDs(r, protocol.MaxSyncMessages)
	if err != nil {
		return false, fmt.Errorf("read offer: %w", err)
	}
	want := c.claim(offer)
	defer c.release(want)
	if _, err := s.Write(protocol.AppendSyncIDs(nil, want)); err != nil {
		return false, err
	}
	s.CloseWrite()
	if len(want) == 0 {
		return false, nil
	}
	envs, err := protocol.ReadSyncEnvelopes(r, len(want))
	if err != nil {
		return false, fmt.Errorf("read envelopes: %w", err)
	}
	c.acceptSynced(zones, envs)
	return len(envs) > 0 && (len(envs) < len(want) || len(offer) == protocol.MaxSyncMessages), nil
}

// sharedEpoch returns the newest epoch of z that p proved: the current one
// for a member on the same epoch; an older one for a member behind, or on
// the other side of a fork (fork.go), whose rekeys and removals the set
// of that epoch carries.
func (c *catchUp) sharedEpoch(z *zone, p peer.ID) (uint32, bool) {
	secrets := z.Secrets()
	epochs := make([]uint32, 0, len(secrets))
	names := make(map[uint32]string, len(secrets))
	for e, s := range secrets {
		epochs = append(epochs, e)
		names[e] = s.TopicName(e)
	}
	sort.Slice(epochs, func(i, j int) bool { return epochs[i] > epochs[j] })
	for _, e := range epochs {
		if c.gate.Shares(p, names[e]) {
			return e, true
		}
	}
	return 0, false
}

// inflight is the set of message IDs asked of some peer and not yet
// accepted: when several members reconnect at once, each missed message is
// asked of one of them only.
type inflight struct {
	mu  sync.Mutex
	ids map[protocol.AlertID]struct{}
}

// claim returns the offered IDs that are neither accepted nor asked of
// another peer, and marks them asked.
func (c *catchUp) claim(offer []protocol.AlertID) []protocol.AlertID {
	c.asked.mu.Lock()
	defer c.asked.mu.Unlock()
	if c.asked.ids == nil {
		c.asked.ids = map[protocol.AlertID]struct{}{}
	}
	var want []protocol.AlertID
	for _, id := range offer {
		if _, busy := c.asked.ids[id]; busy || c.replay.Has(id) {
			continue
		}
		c.asked.ids[id] = struct{}{}
		want = append(want, id)
	}
	return want
}

// release ends a claim: what was accepted is in the replay cache now, and
// the rest may be asked of another peer.
func (c *catchUp) release(ids []protocol.AlertID) {
	c.asked.mu.Lock()
	defer c.asked.mu.Unlock()
	for _, id := range ids {
		delete(c.asked.ids, id)
	}
}

// acceptSynced runs received envelopes through the zones' validators, in
// passes, since a rekey opens the envelopes of the next epoch. Governance
// messages are stored one by one, as they change what the next message
// may do; alerts and updates are saved in one transaction per pass and
// shown once.
func (c *catchUp) acceptSynced(zones []*zone, envs [][]byte) {
	pending := envs
	for len(pending) > 0 {
		var rest [][]byte
		var batch []admitted
		for _, env := range pending {
			a, err := c.node.admit(zones, env)
			switch {
			case errors.Is(err, errNoZone):
				rest = append(rest, env)
			case err != nil:
			case a.msg.Alert.Kind.IsGovernance():
				c.node.store(a.z, a.msg, env)
			default:
				batch = append(batch, a)
			}
		}
		c.node.storeBatch(batch)
		if len(rest) == len(pending) {
			return
		}
		pending = rest
	}
}

// syncLimiter bounds how often and how many peers are served.
type syncLimiter struct {
	mu      sync.Mutex
	serving int
	peers   map[peer.ID]*syncBucket
}

type syncBucket struct {
	tokens float64
	last   time.Time
}

// acquire reports whether p may be served now; release must follow.
func (l *syncLimiter) acquire(p peer.ID, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.serving >= maxSyncServing {
		return false
	}
	if l.peers == nil || len(l.peers) >= maxSyncPeers {
		l.peers = map[peer.ID]*syncBucket{}
	}
	b, ok := l.peers[p]
	if !ok {
		b = &syncBucket{tokens: syncBurst, last: now}
		l.peers[p] = b
	}
	b.tokens = min(syncBurst, b.tokens+float64(now.Sub(b.last))/float64(syncRefill))
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	l.serving++
	return true
}

func (l *syncLimiter) release() {
	l.mu.Lock()
	l.serving--
	l.mu.Unlock()
}

// handleSync answers a sync request.
func (c *catchUp) handleSync(s network.Stream) {
	defer s.Close()
	from := s.Conn().RemotePeer()
	// Proven members only, before they take a slot; a member that proved
	// only an older epoch is served too, so it can catch up the rekey.
	ctx, cancel := context.WithTimeout(c.ctx, membership.DefaultTimeout)
	err := c.gate.Wait(ctx, from)
	cancel()
	if err != nil || !c.gate.Member(from) {
		s.Reset()
		return
	}
	if !c.limit.acquire(from, time.Now()) {
		s.Reset()
		return
	}
	defer c.limit.release()
	s.SetDeadline(time.Now().Add(syncTimeout))
	r := bufio.NewReader(s)
	hello, err := protocol.ReadSyncHello(r)
	if err != nil {
		s.Reset()
		return
	}
	now := c.node.now()
	// Each item with the epoch and key of the member it goes to.
	var offer []core.SyncOffered
	for _, z := range c.node.liveZones() {
		offer = append(offer, z.SyncAnswer(&hello, string(from), string(c.h.ID()), now)...)
	}
	if len(offer) > protocol.MaxSyncMessages {
		offer = offer[:protocol.MaxSyncMessages]
	}
	ids := make([]protocol.AlertID, len(offer))
	byID := make(map[protocol.AlertID]core.SyncOffered, len(offer))
	for i, it := range offer {
		ids[i] = it.ID
		byID[it.ID] = it
	}
	if _, err := s.Write(protocol.AppendSyncIDs(nil, ids)); err != nil {
		s.Reset()
		return
	}
	want, err := protocol.ReadSyncIDs(r, len(offer))
	if err != nil {
		s.Reset()
		return
	}
	var envs [][]byte
	total := 0
	for _, id := range want {
		it, ok := byID[id]
		if !ok {
			continue
		}
		env, err := it.Resealed(it.Epoch, it.Key, c.node.rand())
		if err != nil {
			continue
		}
		if total+len(env) > protocol.MaxSyncBytes {
			break // the rest next round, in order: removals after what they revoke
		}
		delete(byID, id) // each at most once
		total += len(env)
		envs = append(envs, env)
	}
	w := bufio.NewWriter(s)
	err = protocol.WriteSyncEnvelopes(w, envs)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		c.log.Debug("sync: answer", "peer", from, "err", fmt.Errorf("write: %w", err))
		return
	}
	c.mon.catchUpServed(len(envs))
}
