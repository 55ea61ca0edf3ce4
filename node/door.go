package node

import (
	"context"
	"errors"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"lookout/node/health"
	core "lookout/node/internal/zone"
	"lookout/protocol"
)

// The door: every message a node keeps, from gossip, catch-up or its own
// publishing, is admitted by admitZone first.

// validator is the gossipsub face of the door (admitZone). Anything wrong
// is rejected: not delivered, not forwarded, and the forwarding peer is
// penalised. A duplicate is ignored without penalty, since honest peers
// forward duplicates too.
func (n *Node) validator(z *zone) pubsub.ValidatorEx {
	return func(_ context.Context, from peer.ID, m *pubsub.Message) pubsub.ValidationResult {
		start := time.Now()
		msg, err := n.admitZone(z, m.Data, true)
		if errors.Is(err, errDuplicate) {
			n.mon.observeValidation(z, from, m.Data, msg, health.ErrDuplicate, start)
		} else {
			n.mon.observeValidation(z, from, m.Data, msg, err, start)
		}
		switch {
		case errors.Is(err, errDuplicate):
			return pubsub.ValidationIgnore
		case err != nil:
			n.log.Debug("rejected message", "zone", z.Name(), "from", from, "err", err)
			return pubsub.ValidationReject
		}
		m.ValidatorData = msg
		return pubsub.ValidationAccept
	}
}

// admitted is a message that passed a zone's door, not yet stored.
type admitted struct {
	z   *zone
	msg *protocol.Message
	env []byte
}

var errNoZone = errors.New("no zone of this node can open it")

// admitZone is the one door for a zone's messages, from gossip (validator,
// live) and from catch-up (admit): size, decrypt, decode, chain, signature,
// role rules and time window (protocol.Validator), then for a live message
// a sent time no earlier than its arrival minus core.LiveWindow, then the
// replay cache, then the zone's own checks by arrival time (stale epoch,
// superseded certificate, rate limits), then the message is marked seen in
// the replay cache. A replay, or the same alert sealed again, is
// errDuplicate: checked before the rate limits so duplicates are not
// counted. The decoded message is returned once it was opened, with or
// without an error.
func (n *Node) admitZone(z *zone, env []byte, live bool) (*protocol.Message, error) {
	now := n.now()
	msg, err := z.val.Validate(env, now)
	if err != nil && !live && (errors.Is(err, protocol.ErrExpired) || errors.Is(err, protocol.ErrChain)) {
		msg, err = z.admitPast(env, now, err)
	}
	if err != nil {
		return nil, err
	}
	if live {
		if err := core.CheckLive(msg, now); err != nil {
			return msg, err
		}
	}
	if n.replay.Has(msg.ID) {
		return msg, errDuplicate
	}
	if err := z.CheckMessage(msg, now); err != nil {
		return msg, err
	}
	if !n.replay.Add(msg.ID, msg.Alert.Expires, now) {
		return msg, errDuplicate
	}
	return msg, nil
}

// admitPast is the door's rule for governance by catch-up, whatever its
// age: a governance message that is expired, or whose certificate chain
// has expired since, is admitted if it checks as of its sent time (chain
// valid and not revoked then, signature, roles), and that sent time is not
// in the future. Anything else keeps the error failed. Members who join
// long after a settings change, a removal or a role grant still get it.
// Live gossip keeps the time rules (protocol.Validator, core.CheckLive).
func (z *zone) admitPast(env []byte, now time.Time, failed error) (*protocol.Message, error) {
	msg, err := z.reopen(env)
	if err != nil || !msg.Alert.Kind.IsGovernance() || msg.Alert.Sent.After(now.Add(protocol.MaxClockSkew)) {
		return nil, failed
	}
	return msg, nil
}

// admit runs env through the door of the zone that can open it; another
// zone is tried only when this one could not open it (a stale epoch of a
// zone that opened it is a rejection).
func (n *Node) admit(zones []*zone, env []byte) (admitted, error) {
	for _, z := range zones {
		msg, err := n.admitZone(z, env, false)
		if msg == nil && (errors.Is(err, protocol.ErrUnknownEpoch) || errors.Is(err, protocol.ErrDecrypt)) {
			continue
		}
		if err != nil {
			return admitted{msg: msg}, err
		}
		return admitted{z, msg, env}, nil
	}
	return admitted{}, errNoZone
}

var errDuplicate = errors.New("already received")
