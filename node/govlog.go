package node

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	pubsub "github.com/libp2p/go-libp2p-pubsub"

	core "lookout/node/internal/zone"
	"lookout/node/store"
	"lookout/protocol"
)

// Governance as a durable, compacted log. Each admitted governance message
// (member announcements, roles, removals, rekeys, settings, links) is its
// own store record in bucketGov, written once and never rewritten; the
// roster, settings, links and grants are folded from them (in the zone
// core, node/internal/zone: core.State.ApplyGov, RestoreGov), and the zone
// record (epoch, secrets, this member's chain) is written in the same
// transaction as the message that changes it (commitGovLocked). Only what
// can change the fold is kept (core.State.AdmitGov, RestoreGov). A stored
// governance message is
//
//	16-byte zone ID | 16-byte message ID | envelope
//
// keyed by zone ID and message ID in hex. It never expires.
const govHeaderSize = protocol.ZoneIDSize + protocol.AlertIDSize

// maxAnnouncements caps the member announcements a zone keeps
// (core.State.AdmitGov): a safety cap on announcements only (compaction
// keeps at most a few per member). No cap ever drops a removal, rekey,
// role, settings or link message.
var maxAnnouncements = 4096 // tests shorten it

func govKey(zid protocol.ZoneID, id protocol.AlertID) string {
	return hex.EncodeToString(zid[:]) + hex.EncodeToString(id[:])
}

// govRecord is the store record of an admitted governance message.
func govRecord(zid protocol.ZoneID, id protocol.AlertID, env []byte) store.Record {
	v := make([]byte, 0, govHeaderSize+len(env))
	v = append(v, zid[:]...)
	v = append(v, id[:]...)
	v = append(v, env...)
	return store.Record{Bucket: bucketGov, Key: govKey(zid, id), Value: v}
}

// govDeletion deletes a stored governance message.
func govDeletion(zid protocol.ZoneID, id protocol.AlertID) store.Record {
	return store.Record{Bucket: bucketGov, Key: govKey(zid, id), Delete: true}
}

// zoneRecordWrite is the store record of a zone record.
func zoneRecordWrite(rec zoneRecord) (store.Record, error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return store.Record{}, fmt.Errorf("encode zone record: %w", err)
	}
	return store.Record{Bucket: bucketZones, Key: rec.ID, Value: b}, nil
}

// loadGovRecords reads every stored governance envelope, by zone.
func (n *Node) loadGovRecords() (map[protocol.ZoneID][][]byte, error) {
	out := map[protocol.ZoneID][][]byte{}
	err := n.st.ForEach(bucketGov, func(v []byte) error {
		if len(v) < govHeaderSize {
			return fmt.Errorf("read governance: %w", store.ErrCorrupt)
		}
		var zid protocol.ZoneID
		copy(zid[:], v)
		out[zid] = append(out[zid], v[govHeaderSize:])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load governance: %w", err)
	}
	return out, nil
}

// restoreZoneGov rebuilds a zone's governance at start from its stored
// messages and, for a record written before governance had records of its
// own, the list inside the zone record, which it moves to bucketGov in one
// transaction with the zone record without it. Announcements that
// compaction no longer needs are deleted. Callers hold n.mu.
func (n *Node) restoreZoneGov(z *zone, envs [][]byte) error {
	legacy := z.LegacyGov()
	kept, drop := z.restoreGov(append(slices.Clip(envs), legacy...))
	var recs []store.Record
	if len(legacy) > 0 {
		for _, g := range kept {
			recs = append(recs, govRecord(z.ID(), g.Msg.ID, g.Env))
		}
		rec := z.Record()
		rec.Gov = nil
		zr, err := zoneRecordWrite(rec)
		if err != nil {
			return err
		}
		recs = append(recs, zr)
	}
	for _, id := range drop {
		recs = append(recs, govDeletion(z.ID(), id))
	}
	if len(recs) == 0 {
		return nil
	}
	if err := n.putRecords(recs); err != nil {
		if len(legacy) > 0 {
			return fmt.Errorf("zone %q: move governance to its own records: %w", z.Name(), err)
		}
		n.log.Warn("could not delete superseded announcements; will try at next start", "err", err)
		return nil
	}
	z.DropLegacyGov()
	return nil
}

// restoreGov rebuilds the roster from stored governance envelopes,
// checking each as of the time it was sent, then compacts
// (core.State.RestoreGov). It returns the messages kept and the IDs
// compaction dropped.
func (z *zone) restoreGov(envs [][]byte) (kept []*GovMsg, drop []protocol.AlertID) {
	var opened []*GovMsg
	for _, env := range envs {
		if msg, err := z.reopen(env); err == nil { // takes the State's lock (AlertKey)
			opened = append(opened, &GovMsg{Msg: msg, Env: env})
		}
	}
	return z.RestoreGov(opened)
}

// newer reports whether a comes after b in the roster's order (core.Newer).
func newer(a, b *GovMsg) bool { return core.Newer(a, b) }

// errGovSave is a governance message or epoch that could not be written:
// nothing of it changed in memory.
var errGovSave = errors.New("could not save to this device's store")

// putRecords writes records in one transaction (the fault hook lets tests
// fail it).
func (n *Node) putRecords(recs []store.Record) error {
	if f := n.writeFault.Load(); f != nil {
		if err := (*f)(); err != nil {
			return err
		}
	}
	return n.st.PutMany(recs)
}

// commitGovLocked writes governance messages, the deletion of the
// announcements in drop and, if ch.Dirty, the zone record ch.Record in one
// transaction; then, and only then, it applies them in memory (applyGov):
// the roster, this member's chain, removal and epoch; then it acts on what
// changed (logs, keysChanged, the new epoch's topic). A failed write
// changes nothing and returns an error wrapping errGovSave. Callers hold
// n.mu (and not z.mu or the State's lock: applyGov and moveTopicLocked
// take them).
func (n *Node) commitGovLocked(z *zone, msgs []*GovMsg, drop []protocol.AlertID, ch core.GovChange) error {
	recs := make([]store.Record, 0, len(msgs)+len(drop)+1)
	for _, g := range msgs {
		recs = append(recs, govRecord(z.ID(), g.Msg.ID, g.Env))
	}
	for _, id := range drop {
		recs = append(recs, govDeletion(z.ID(), id))
	}
	if ch.Dirty {
		zr, err := zoneRecordWrite(ch.Record)
		if err != nil {
			return err
		}
		recs = append(recs, zr)
	}
	if err := n.putRecords(recs); err != nil {
		return fmt.Errorf("%w: %w", errGovSave, err)
	}
	got := z.applyGov(msgs, drop, ch)
	if got.twice {
		n.log.Warn("an invite was used by two people (a copied code, or two members answering while the network was split): check the member list and remove whoever you did not invite")
	}
	if got.newRole {
		n.log.Info("new role", "role", ch.Role)
	}
	if got.removed {
		n.keysChanged()
		n.log.Warn("this member was removed from a zone")
		n.log.Debug("removed from zone", "zone", z.Name())
	}
	if got.moved != nil {
		n.moveTopicLocked(z, *got.moved)
	}
	return nil
}

// govApplied is what applying governance changed in memory (applyGov),
// for the node to act on.
type govApplied struct {
	twice   bool          // an invite newly seen redeemed twice, in a zone this member organizes
	newRole bool          // this member has a new chain and role
	removed bool          // this member was removed, and was not before
	moved   *switchedFrom // this member moved to a new epoch, leaving this one
}

// applyGov applies in memory governance messages that are written, the
// deletion of the announcements in drop and what ch plans for this
// member: the State's part at once (core.State.ApplyGov: the messages
// held and seen, senders' keys, the fold, the zone record, this member's
// chain and role, its removal, the move to the next epoch), then, under
// z.mu, the topic and subscription left and z.gone closed on removal.
// Lock order: callers hold n.mu (which keeps governance writes in order);
// applyGov takes z.mu, then the State's lock.
func (z *zone) applyGov(msgs []*GovMsg, drop []protocol.AlertID, ch core.GovChange) govApplied {
	z.mu.Lock()
	defer z.mu.Unlock()
	st := z.ApplyGov(msgs, drop, ch)
	got := govApplied{twice: st.Twice, newRole: st.NewRole, removed: st.Removed}
	if st.Removed {
		close(z.gone) // ends watch streams
	}
	if st.Moved {
		got.moved = &switchedFrom{epoch: st.From, topic: z.topic, sub: z.sub}
	}
	return got
}

// switchedFrom is the epoch, topic and subscription a zone left.
type switchedFrom struct {
	epoch uint32
	topic *pubsub.Topic
	sub   *pubsub.Subscription
}
