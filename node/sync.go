package node

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"lookout/protocol"
)

// syncProtocol lets two members' nodes hand each other what one of them
// missed while offline: the governance messages (member announcements,
// roles, removals, rekeys, settings), so a returning member learns of a
// new epoch from any member it reconnects to, and the alerts and updates
// of its active alerts, so it sees every one with its current state.
// Digests first: only what the initiator lacks crosses.
//
// 1. The initiator writes a hello, one entry per zone it is in:
//
//	u8 version | 16-byte nonce | u8 n | n × (u32 epoch | 16-byte token | 16-byte digest)
//
// token = HMAC-SHA256(sync key of the zone's current epoch, "lookout sync
// token v1" | nonce | initiator peer ID | responder peer ID)[:16], and
// digest = HMAC-SHA256(same key, "lookout sync digest v2" | nonce | the
// sorted IDs of the messages it holds of that zone from that epoch on)[:16].
//
// 2. The responder finds the zones whose token it can recompute with an
// epoch secret it holds; for those whose digest differs from its own, it
// offers the IDs of its messages from that epoch on (governance by epoch
// and time, then unexpired alerts and updates by time):
//
//	u32 m | m × 16-byte message ID
//
// 3. The initiator asks for the ones it has not accepted yet:
//
//	u32 k | k × 16-byte message ID        (k ≤ m, each one offered)
//
// 4. The responder sends them, in offer order:
//
//	u32 k | k × (u32 len | envelope)
//
// To anyone not in a zone a token and a digest are random bytes, and the
// offer is empty. Every envelope received goes through the zone's
// validator like gossip. Each side serves a peer at most syncBurst times
// at once, then once per syncRefill, and at most maxSyncServing peers at a
// time.
const syncProtocol = "/lookout/sync/2"

const (
	syncVersion     = 2
	syncNonceSize   = 16
	syncTokenSize   = 16
	syncDigestSize  = 16
	maxSyncZones    = 64
	maxSyncMessages = 4096
	maxSyncBytes    = 16 << 20
	syncTimeout     = 30 * time.Second
	syncTokenLabel  = "lookout sync token v1"
	syncDigestLabel = "lookout sync digest v2"
	syncBurst       = 8               // requests a peer may make at once
	syncRefill      = 2 * time.Second // then one more per syncRefill
	maxSyncRounds   = 4               // rounds per reconciliation (16 MiB each)
	maxSyncServing  = 8
	maxSyncPeers    = 1024 // peers whose sync rate is tracked
)

func syncToken(key [32]byte, nonce []byte, from, to peer.ID) []byte {
	m := hmac.New(sha256.New, key[:])
	m.Write([]byte(syncTokenLabel))
	m.Write(nonce)
	m.Write([]byte(from))
	m.Write([]byte(to))
	return m.Sum(nil)[:syncTokenSize]
}

// startSync hands missed governance messages back and forth with every
// newly connected peer that shares a zone.
func (n *Node) startSync() {
	n.h.SetStreamHandler(syncProtocol, n.handleSync)
	n.h.Network().Notify(&network.NotifyBundle{
		ConnectedF: func(_ network.Network, c network.Conn) {
			if c.Stat().Direction != network.DirOutbound && c.Stat().Direction != network.DirInbound {
				return
			}
			// libp2p calls this synchronously while holding its own locks:
			// never block here.
			p := c.RemotePeer()
			n.spawn(func() {
				if err := n.syncWith(n.ctx, p); err != nil {
					n.log.Debug("sync", "peer", p, "err", err)
				}
			})
		},
	})
}

func (n *Node) liveZones() []*zone {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]*zone, 0, len(n.zones))
	for _, z := range n.zones {
		if !z.snapshot().removed {
			out = append(out, z)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rec.ID < out[j].rec.ID })
	return out
}

// syncWith reconciles the shared zones with p: it pulls what it lacks, in
// up to maxSyncRounds rounds while answers are cut short by the limits.
func (n *Node) syncWith(ctx context.Context, p peer.ID) error {
	for range maxSyncRounds {
		more, err := n.syncRound(ctx, p)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// syncRound runs one exchange with p and reports whether p has more to
// send than one answer may carry.
func (n *Node) syncRound(ctx context.Context, p peer.ID) (more bool, err error) {
	zones := n.liveZones()
	if len(zones) == 0 {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	s, err := n.h.NewStream(network.WithAllowLimitedConn(ctx, "sync"), p, syncProtocol)
	if err != nil {
		return false, err // not a Lookout peer, or gone
	}
	defer s.Close()
	if dl, ok := ctx.Deadline(); ok {
		s.SetDeadline(dl)
	}
	nonce := make([]byte, syncNonceSize)
	if _, err := io.ReadFull(n.rand(), nonce); err != nil {
		return false, err
	}
	req := []byte{syncVersion}
	req = append(req, nonce...)
	zones = zones[:min(len(zones), maxSyncZones)]
	req = append(req, uint8(len(zones)))
	now := n.now()
	for _, z := range zones {
		epoch, secret := z.current()
		key := secret.SyncKey(epoch)
		req = binary.BigEndian.AppendUint32(req, epoch)
		req = append(req, syncToken(key, nonce, n.h.ID(), p)...)
		z.mu.Lock()
		set := n.syncSetLocked(z, epoch, now)
		z.mu.Unlock()
		req = append(req, syncDigest(key, nonce, set)...)
	}
	if _, err := s.Write(req); err != nil {
		return false, err
	}
	r := bufio.NewReader(s)
	offer, err := readIDs(r, maxSyncMessages)
	if err != nil {
		return false, fmt.Errorf("read offer: %w", err)
	}
	want := n.claim(offer)
	defer n.release(want)
	if _, err := s.Write(appendIDs(nil, want)); err != nil {
		return false, err
	}
	s.CloseWrite()
	if len(want) == 0 {
		return false, nil
	}
	envs, err := readEnvelopes(r, len(want))
	if err != nil {
		return false, fmt.Errorf("read envelopes: %w", err)
	}
	n.acceptSynced(zones, envs)
	return len(envs) > 0 && (len(envs) < len(want) || len(offer) == maxSyncMessages), nil
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
func (n *Node) claim(offer []protocol.AlertID) []protocol.AlertID {
	n.asked.mu.Lock()
	defer n.asked.mu.Unlock()
	if n.asked.ids == nil {
		n.asked.ids = map[protocol.AlertID]struct{}{}
	}
	var want []protocol.AlertID
	for _, id := range offer {
		if _, busy := n.asked.ids[id]; busy || n.replay.Has(id) {
			continue
		}
		n.asked.ids[id] = struct{}{}
		want = append(want, id)
	}
	return want
}

// release ends a claim: what was accepted is in the replay cache now, and
// the rest may be asked of another peer.
func (n *Node) release(ids []protocol.AlertID) {
	n.asked.mu.Lock()
	defer n.asked.mu.Unlock()
	for _, id := range ids {
		delete(n.asked.ids, id)
	}
}

// syncItem is a message as sync offers it.
type syncItem struct {
	id  protocol.AlertID
	env []byte
}

// syncSetLocked returns what a zone offers from epoch on: governance by
// epoch and time, then the messages of its active alerts (not expired, not
// cleared) by time. Callers hold z.mu.
func (n *Node) syncSetLocked(z *zone, epoch uint32, now time.Time) []syncItem {
	var gov []*govMsg
	for _, g := range z.gov {
		if g.msg.Epoch >= epoch {
			gov = append(gov, g)
		}
	}
	sort.Slice(gov, func(i, j int) bool {
		if gov[i].msg.Epoch != gov[j].msg.Epoch {
			return gov[i].msg.Epoch < gov[j].msg.Epoch
		}
		return gov[i].msg.Alert.Sent.Before(gov[j].msg.Alert.Sent)
	})
	live := map[protocol.AlertID]bool{}
	for _, c := range n.cardsLocked(z) {
		if c.view.State == string(protocol.StateCleared) || c.view.State == string(protocol.StateExpired) {
			continue
		}
		for _, r := range c.roots {
			live[r] = true
			for _, u := range z.updates[r] {
				live[u.ID] = true
			}
		}
	}
	var alerts []stored
	for id, st := range z.envs {
		if live[id] && st.msg.Epoch >= epoch && now.Before(st.msg.Alert.Expires) {
			alerts = append(alerts, st)
		}
	}
	sort.Slice(alerts, func(i, j int) bool { return alerts[i].msg.Alert.Sent.Before(alerts[j].msg.Alert.Sent) })
	out := make([]syncItem, 0, len(gov)+len(alerts))
	for _, g := range gov {
		out = append(out, syncItem{g.msg.ID, g.env})
	}
	for _, st := range alerts {
		out = append(out, syncItem{st.msg.ID, st.env})
	}
	return out
}

// syncDigest is the keyed digest of a set of message IDs, in any order.
func syncDigest(key [32]byte, nonce []byte, set []syncItem) []byte {
	ids := make([]protocol.AlertID, len(set))
	for i, it := range set {
		ids[i] = it.id
	}
	slices.SortFunc(ids, func(a, b protocol.AlertID) int { return bytes.Compare(a[:], b[:]) })
	m := hmac.New(sha256.New, key[:])
	m.Write([]byte(syncDigestLabel))
	m.Write(nonce)
	for _, id := range ids {
		m.Write(id[:])
	}
	return m.Sum(nil)[:syncDigestSize]
}

func appendIDs(b []byte, ids []protocol.AlertID) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(ids)))
	for _, id := range ids {
		b = append(b, id[:]...)
	}
	return b
}

// readIDs reads a count-prefixed list of at most limit message IDs.
func readIDs(r io.Reader, limit int) ([]protocol.AlertID, error) {
	var b4 [4]byte
	if _, err := io.ReadFull(r, b4[:]); err != nil {
		return nil, err
	}
	count := binary.BigEndian.Uint32(b4[:])
	if count > uint32(limit) {
		return nil, fmt.Errorf("%d message IDs, more than the %d allowed", count, limit)
	}
	ids := make([]protocol.AlertID, count)
	for i := range ids {
		if _, err := io.ReadFull(r, ids[i][:]); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// readEnvelopes reads a count-prefixed list of at most limit envelopes.
func readEnvelopes(r io.Reader, limit int) ([][]byte, error) {
	var b4 [4]byte
	if _, err := io.ReadFull(r, b4[:]); err != nil {
		return nil, err
	}
	count := binary.BigEndian.Uint32(b4[:])
	if count > uint32(limit) {
		return nil, errors.New("more messages than asked for")
	}
	total := 0
	envs := make([][]byte, 0, count)
	for range count {
		if _, err := io.ReadFull(r, b4[:]); err != nil {
			return nil, err
		}
		l := int(binary.BigEndian.Uint32(b4[:]))
		total += l
		if l > protocol.MaxEnvelopeSize || total > maxSyncBytes {
			return nil, errors.New("messages too large")
		}
		env := make([]byte, l)
		if _, err := io.ReadFull(r, env); err != nil {
			return nil, err
		}
		envs = append(envs, env)
	}
	return envs, nil
}

// acceptSynced runs received envelopes through the zones' validators, in
// passes, since a rekey opens the envelopes of the next epoch. Governance
// messages are stored one by one, as they change what the next message
// may do; alerts and updates are saved in one transaction per pass and
// shown once.
func (n *Node) acceptSynced(zones []*zone, envs [][]byte) {
	pending := envs
	for len(pending) > 0 {
		var rest [][]byte
		var batch []admitted
		for _, env := range pending {
			a, err := n.admit(zones, env, func(protocol.Kind) bool { return true })
			switch {
			case errors.Is(err, errNoZone):
				rest = append(rest, env)
			case err != nil:
			case a.msg.Alert.Kind.IsGovernance():
				n.store(a.z, a.msg, env)
			default:
				batch = append(batch, a)
			}
		}
		n.storeBatch(batch)
		if len(rest) == len(pending) {
			return
		}
		pending = rest
	}
}

// admitted is a message that passed a zone's door, not yet stored.
type admitted struct {
	z   *zone
	msg *protocol.Message
	env []byte
}

var errNoZone = errors.New("no zone of this node can open it")

// admit runs env through the validator of the zone it belongs to, the
// node's checks and the replay cache: the same door as gossip. kinds
// limits what is accepted.
func (n *Node) admit(zones []*zone, env []byte, kinds func(protocol.Kind) bool) (admitted, error) {
	now := n.now()
	for _, z := range zones {
		msg, err := z.val.Validate(env, now)
		if errors.Is(err, protocol.ErrUnknownEpoch) || errors.Is(err, protocol.ErrDecrypt) {
			continue
		}
		if err != nil {
			return admitted{}, err
		}
		if !kinds(msg.Alert.Kind) {
			return admitted{}, fmt.Errorf("%s not accepted here", msg.Alert.Kind)
		}
		if n.replay.Has(msg.ID) {
			return admitted{msg: msg}, errDuplicate
		}
		z.mu.Lock()
		err = z.checkMessage(msg)
		z.mu.Unlock()
		if err != nil {
			return admitted{}, err
		}
		if !n.replay.Add(msg.ID, msg.Alert.Expires, now) {
			return admitted{msg: msg}, errDuplicate
		}
		return admitted{z, msg, env}, nil
	}
	return admitted{}, errNoZone
}

// accept admits env and stores it.
func (n *Node) accept(zones []*zone, env []byte, kinds func(protocol.Kind) bool) (*protocol.Message, error) {
	a, err := n.admit(zones, env, kinds)
	if err != nil {
		return a.msg, err
	}
	return a.msg, n.store(a.z, a.msg, env)
}

var errDuplicate = errors.New("already received")

// Deliver validates an envelope exactly as if it had arrived by gossip on
// one of the node's zones, and stores it. Catch-up feeds the node through
// it; tests use it to replay traffic in any order. A duplicate is not an
// error.
func (n *Node) Deliver(env []byte) error {
	_, err := n.accept(n.liveZones(), env, func(protocol.Kind) bool { return true })
	if errors.Is(err, errDuplicate) {
		return nil
	}
	return err
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
func (n *Node) handleSync(s network.Stream) {
	defer s.Close()
	from := s.Conn().RemotePeer()
	if !n.syncLimit.acquire(from, time.Now()) {
		s.Reset()
		return
	}
	defer n.syncLimit.release()
	s.SetDeadline(time.Now().Add(syncTimeout))
	r := bufio.NewReader(s)
	head := make([]byte, 1+syncNonceSize+1)
	if _, err := io.ReadFull(r, head); err != nil || head[0] != syncVersion {
		s.Reset()
		return
	}
	nonce, count := head[1:1+syncNonceSize], int(head[1+syncNonceSize])
	if count > maxSyncZones {
		s.Reset()
		return
	}
	type ask struct {
		epoch  uint32
		token  []byte
		digest []byte
	}
	asks := make([]ask, count)
	for i := range asks {
		b := make([]byte, 4+syncTokenSize+syncDigestSize)
		if _, err := io.ReadFull(r, b); err != nil {
			s.Reset()
			return
		}
		asks[i] = ask{binary.BigEndian.Uint32(b), b[4 : 4+syncTokenSize], b[4+syncTokenSize:]}
	}
	now := n.now()
	var offer []syncItem
	for _, z := range n.liveZones() {
		z.mu.Lock()
		for _, a := range asks {
			secret, ok := z.epochs[a.epoch]
			if !ok {
				continue
			}
			key := secret.SyncKey(a.epoch)
			if !hmac.Equal(a.token, syncToken(key, nonce, from, n.h.ID())) {
				continue
			}
			set := n.syncSetLocked(z, a.epoch, now)
			if !hmac.Equal(a.digest, syncDigest(key, nonce, set)) {
				offer = append(offer, set...)
			}
		}
		z.mu.Unlock()
	}
	if len(offer) > maxSyncMessages {
		offer = offer[:maxSyncMessages]
	}
	ids := make([]protocol.AlertID, len(offer))
	byID := make(map[protocol.AlertID][]byte, len(offer))
	for i, it := range offer {
		ids[i] = it.id
		byID[it.id] = it.env
	}
	if _, err := s.Write(appendIDs(nil, ids)); err != nil {
		s.Reset()
		return
	}
	want, err := readIDs(r, len(offer))
	if err != nil {
		s.Reset()
		return
	}
	w := bufio.NewWriter(s)
	var envs [][]byte
	total := 0
	for _, id := range want {
		env, ok := byID[id]
		if !ok || total+len(env) > maxSyncBytes {
			continue
		}
		delete(byID, id) // each at most once
		total += len(env)
		envs = append(envs, env)
	}
	var b4 [4]byte
	binary.BigEndian.PutUint32(b4[:], uint32(len(envs)))
	w.Write(b4[:])
	for _, env := range envs {
		binary.BigEndian.PutUint32(b4[:], uint32(len(env)))
		w.Write(b4[:])
		w.Write(env)
	}
	if err := w.Flush(); err != nil {
		n.log.Debug("sync: answer", "peer", from, "err", fmt.Errorf("write: %w", err))
		return
	}
	n.catchUpServed(len(envs))
}
