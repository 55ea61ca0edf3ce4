package node

import (
	"encoding/hex"
	"fmt"

	core "lookout/node/internal/zone"
	"lookout/node/store"
	"lookout/protocol"
)

// A stored message (bucketMessages) is an alert or update as received:
//
//	16-byte zone ID | envelope
//
// keyed by its message ID in hex and kept until core.PruneGrace after it
// expires, when the store deletes it. Governance messages have records of
// their own (bucketGov, govlog.go).
const storedZoneSize = protocol.ZoneIDSize

// saveMessage writes an accepted alert or update to the store.
func (n *Node) saveMessage(z *zone, msg *protocol.Message, env []byte) error {
	r := messageRecord(z, msg, env)
	if err := n.st.PutExpiring(r.Bucket, r.Key, r.Value, r.Expires); err != nil {
		return fmt.Errorf("store alert: %w", err)
	}
	return nil
}

// messageRecord is the store record of an accepted alert or update.
func messageRecord(z *zone, msg *protocol.Message, env []byte) store.Record {
	id := z.ID()
	v := make([]byte, 0, storedZoneSize+len(env))
	v = append(v, id[:]...)
	v = append(v, env...)
	return store.Record{Bucket: bucketMessages, Key: hex.EncodeToString(msg.ID[:]), Value: v, Expires: msg.Alert.Expires.Add(core.PruneGrace)}
}

// loadMessages restores the stored alerts and updates of the node's zones
// and their IDs in the replay cache. A message that no longer opens or
// checks (its zone left, its sender's chain broken) is skipped. Callers
// hold n.mu, before the zones' topics are joined.
func (n *Node) loadMessages() error {
	now := n.now()
	err := n.st.ForEach(bucketMessages, func(v []byte) error {
		if len(v) < storedZoneSize {
			return store.ErrCorrupt
		}
		var id protocol.ZoneID
		copy(id[:], v)
		z, ok := n.zones[id]
		if !ok {
			return nil
		}
		env := v[storedZoneSize:]
		msg, err := z.reopen(env)
		if err != nil {
			n.log.Debug("stored alert skipped", "zone", z.Name(), "err", err)
			return nil
		}
		if msg.Alert.Kind.IsGovernance() || msg.Alert.Expires.Add(core.PruneGrace).Before(now) {
			return nil
		}
		n.replay.Add(msg.ID, msg.Alert.Expires, now)
		n.apply(z, msg, env, applyRestore)
		return nil
	})
	if err != nil {
		return fmt.Errorf("load alerts: %w", err)
	}
	return nil
}

// reopen decrypts and checks a stored envelope as of when it was sent:
// it was fully validated on arrival.
func (z *zone) reopen(env []byte) (*protocol.Message, error) {
	return z.val.Reopen(env)
}
