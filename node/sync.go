package node

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"lookout/protocol"
)

// syncProtocol lets two members' nodes hand each other what one of them
// missed while offline: the governance messages (member announcements,
// roles, removals, rekeys, settings), so a returning member learns of a
// new epoch from any member it reconnects to, and the alerts and updates
// that have not expired, so it sees every active alert with its state.
//
// The initiator writes
//
//	u8 version | 16-byte nonce | u8 n | n × (u32 epoch | 16-byte token)
//
// with one entry per zone it is in, token = HMAC-SHA256(sync key of the
// zone's current epoch, "lookout sync token v1" | nonce | initiator peer ID |
// responder peer ID)[:16]. The responder answers, for the zones whose token
// it can recompute with an epoch secret it holds,
//
//	u32 m | m × (u32 len | envelope)
//
// the governance envelopes of those zones from that epoch on, then their
// unexpired alerts and updates, oldest first. To anyone
// not in a zone a token is random bytes, and the answer is empty. Every
// envelope received goes through the zone's validator like gossip.
const syncProtocol = "/lookout/sync/1"

const (
	syncNonceSize   = 16
	syncTokenSize   = 16
	maxSyncZones    = 64
	maxSyncMessages = 4096
	maxSyncBytes    = 16 << 20
	syncTimeout     = 30 * time.Second
	syncTokenLabel  = "lookout sync token v1"
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

// syncWith asks p for the governance messages of shared zones.
func (n *Node) syncWith(ctx context.Context, p peer.ID) error {
	zones := n.liveZones()
	if len(zones) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	s, err := n.h.NewStream(network.WithAllowLimitedConn(ctx, "sync"), p, syncProtocol)
	if err != nil {
		return err // not a Lookout peer, or gone
	}
	defer s.Close()
	if dl, ok := ctx.Deadline(); ok {
		s.SetDeadline(dl)
	}
	nonce := make([]byte, syncNonceSize)
	if _, err := io.ReadFull(n.rand(), nonce); err != nil {
		return err
	}
	req := []byte{protocol.Version}
	req = append(req, nonce...)
	zones = zones[:min(len(zones), maxSyncZones)]
	req = append(req, uint8(len(zones)))
	for _, z := range zones {
		epoch, secret := z.current()
		req = binary.BigEndian.AppendUint32(req, epoch)
		req = append(req, syncToken(secret.SyncKey(epoch), nonce, n.h.ID(), p)...)
	}
	if _, err := s.Write(req); err != nil {
		return err
	}
	s.CloseWrite()
	envs, err := readEnvelopes(bufio.NewReader(s))
	if err != nil {
		return err
	}
	n.acceptSynced(zones, envs)
	return nil
}

func readEnvelopes(r io.Reader) ([][]byte, error) {
	var b4 [4]byte
	if _, err := io.ReadFull(r, b4[:]); err != nil {
		return nil, err
	}
	count := binary.BigEndian.Uint32(b4[:])
	if count > maxSyncMessages {
		return nil, errors.New("sync: too many messages")
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
			return nil, errors.New("sync: too large")
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
// passes, since a rekey opens the envelopes of the next epoch.
func (n *Node) acceptSynced(zones []*zone, envs [][]byte) {
	pending := envs
	for len(pending) > 0 {
		var rest [][]byte
		for _, env := range pending {
			if !n.acceptOne(zones, env) {
				rest = append(rest, env)
			}
		}
		if len(rest) == len(pending) {
			return
		}
		pending = rest
	}
}

// acceptOne validates a synced envelope as gossip would and
// stores it. It reports whether some zone could open it.
func (n *Node) acceptOne(zones []*zone, env []byte) bool {
	_, err := n.accept(zones, env, func(protocol.Kind) bool { return true })
	return !errors.Is(err, errNoZone)
}

var errNoZone = errors.New("no zone of this node can open it")

// accept runs env through the validator of the zone it belongs to, the
// node's checks and the replay cache, then stores it: the same door as
// gossip. kinds limits what is accepted.
func (n *Node) accept(zones []*zone, env []byte, kinds func(protocol.Kind) bool) (*protocol.Message, error) {
	now := n.now()
	for _, z := range zones {
		msg, err := z.val.Validate(env, now)
		if errors.Is(err, protocol.ErrUnknownEpoch) || errors.Is(err, protocol.ErrDecrypt) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !kinds(msg.Alert.Kind) {
			return nil, fmt.Errorf("%s not accepted here", msg.Alert.Kind)
		}
		if n.replay.Has(msg.ID) {
			return msg, errDuplicate
		}
		z.mu.Lock()
		err = z.checkMessage(msg)
		z.mu.Unlock()
		if err != nil {
			return nil, err
		}
		if !n.replay.Add(msg.ID, msg.Alert.Expires, now) {
			return msg, errDuplicate
		}
		n.store(z, msg, env)
		return msg, nil
	}
	return nil, errNoZone
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

// handleSync answers a sync request.
func (n *Node) handleSync(s network.Stream) {
	defer s.Close()
	s.SetDeadline(time.Now().Add(syncTimeout))
	r := bufio.NewReader(s)
	head := make([]byte, 1+syncNonceSize+1)
	if _, err := io.ReadFull(r, head); err != nil || head[0] != protocol.Version {
		s.Reset()
		return
	}
	nonce, count := head[1:1+syncNonceSize], int(head[1+syncNonceSize])
	if count > maxSyncZones {
		s.Reset()
		return
	}
	type ask struct {
		epoch uint32
		token []byte
	}
	asks := make([]ask, count)
	for i := range asks {
		b := make([]byte, 4+syncTokenSize)
		if _, err := io.ReadFull(r, b); err != nil {
			s.Reset()
			return
		}
		asks[i] = ask{binary.BigEndian.Uint32(b), b[4:]}
	}
	from := s.Conn().RemotePeer()
	var out [][]byte
	for _, z := range n.liveZones() {
		z.mu.Lock()
		for _, a := range asks {
			secret, ok := z.epochs[a.epoch]
			if !ok || !hmac.Equal(a.token, syncToken(secret.SyncKey(a.epoch), nonce, from, n.h.ID())) {
				continue
			}
			var msgs []*govMsg
			for _, g := range z.gov {
				if g.msg.Epoch >= a.epoch {
					msgs = append(msgs, g)
				}
			}
			sort.Slice(msgs, func(i, j int) bool {
				if msgs[i].msg.Epoch != msgs[j].msg.Epoch {
					return msgs[i].msg.Epoch < msgs[j].msg.Epoch
				}
				return msgs[i].msg.Alert.Sent.Before(msgs[j].msg.Alert.Sent)
			})
			for _, g := range msgs {
				out = append(out, g.env)
			}
			var alerts []stored
			now := n.now()
			for _, st := range z.envs {
				if st.msg.Epoch >= a.epoch && now.Before(st.msg.Alert.Expires) {
					alerts = append(alerts, st)
				}
			}
			sort.Slice(alerts, func(i, j int) bool { return alerts[i].msg.Alert.Sent.Before(alerts[j].msg.Alert.Sent) })
			for _, st := range alerts {
				out = append(out, st.env)
			}
		}
		z.mu.Unlock()
	}
	if len(out) > maxSyncMessages {
		out = out[:maxSyncMessages]
	}
	w := bufio.NewWriter(s)
	var b4 [4]byte
	binary.BigEndian.PutUint32(b4[:], uint32(len(out)))
	w.Write(b4[:])
	for _, env := range out {
		binary.BigEndian.PutUint32(b4[:], uint32(len(env)))
		w.Write(b4[:])
		w.Write(env)
	}
	if err := w.Flush(); err != nil {
		n.log.Debug("sync: answer", "peer", from, "err", fmt.Errorf("write: %w", err))
	}
}
