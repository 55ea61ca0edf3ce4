package node

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	core "lookout/node/internal/zone"
	"lookout/node/store"
	"lookout/protocol"
)

// records is what the node writes to and reads from its encrypted store
// for its zones: zone records (bucketZones), governance messages
// (bucketGov, govlog.go) and alerts and updates (bucketMessages). Its own
// state is only the test write fault; writes that must stay in order
// (zone records, governance) are made under Node.mu, which its callers
// hold where a method says so. It reaches its node only through node and
// the values it was made with.
type records struct {
	node   nodeForRecords
	st     *store.Store
	replay *replayCache // restored messages' IDs (loadMessages)
	log    *slog.Logger

	// writeFault, if set, fails put (tests: FailWrites).
	writeFault atomic.Pointer[func() error]
}

// nodeForRecords is what the records use of their node: its clock,
// applying a restored message (apply), and acting on a governance change
// (keysChanged, moveTopicLocked).
type nodeForRecords interface {
	now() time.Time
	apply(z *zone, msg *protocol.Message, env []byte, mode applyMode)
	keysChanged()
	moveTopicLocked(z *zone, prev switchedFrom)
}

// newRecords makes n's records, once Start has opened its store, before
// the renewer (which writes through them) and before zones are loaded.
func newRecords(n *Node) *records {
	return &records{node: n, st: n.st, replay: n.replay, log: n.log}
}

// A stored governance message (bucketGov) is
//
//	16-byte zone ID | 16-byte message ID | envelope
//
// keyed by zone ID and message ID in hex. It never expires.
const govHeaderSize = protocol.ZoneIDSize + protocol.AlertIDSize

// A stored message (bucketMessages) is an alert or update as received:
//
//	16-byte zone ID | envelope
//
// keyed by its message ID in hex and kept until core.PruneGrace after it
// expires, when the store deletes it. Governance messages have records of
// their own (bucketGov).
const storedZoneSize = protocol.ZoneIDSize

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

// messageRecord is the store record of an accepted alert or update.
func messageRecord(z *zone, msg *protocol.Message, env []byte) store.Record {
	id := z.ID()
	v := make([]byte, 0, storedZoneSize+len(env))
	v = append(v, id[:]...)
	v = append(v, env...)
	return store.Record{Bucket: bucketMessages, Key: hex.EncodeToString(msg.ID[:]), Value: v, Expires: msg.Alert.Expires.Add(core.PruneGrace)}
}

// put writes records in one transaction (the fault hook lets tests fail
// it).
func (r *records) put(recs []store.Record) error {
	if f := r.writeFault.Load(); f != nil {
		if err := (*f)(); err != nil {
			return err
		}
	}
	return r.st.PutMany(recs)
}

// errGovSave is a governance message or epoch that could not be written:
// nothing of it changed in memory.
var errGovSave = errors.New("could not save to this device's store")

// commitGov writes governance messages, the deletion of the announcements
// in drop and, if ch.Dirty, the zone record ch.Record in one transaction
// (put); then, and only then, it applies them in memory (applyGov): the
// roster, this member's chain, removal and epoch; then it acts on what
// changed (logs, keysChanged, the new epoch's topic: moveTopicLocked). A
// failed write changes nothing and returns an error wrapping errGovSave.
// Callers hold Node.mu (and not z.mu or the State's lock: applyGov and
// moveTopicLocked take them).
func (r *records) commitGov(z *zone, msgs []*GovMsg, drop []protocol.AlertID, ch core.GovChange) error {
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
	if err := r.put(recs); err != nil {
		return fmt.Errorf("%w: %w", errGovSave, err)
	}
	got := z.applyGov(msgs, drop, ch)
	if got.twice {
		r.log.Warn("an invite was used by two people (a copied code, or two members answering while the network was split): check the member list and remove whoever you did not invite")
	}
	if got.newRole {
		r.log.Info("new role", "role", ch.Role)
	}
	if got.removed {
		r.node.keysChanged()
		r.log.Warn("this member was removed from a zone")
		r.log.Debug("removed from zone", "zone", z.Name())
	}
	if got.moved != nil {
		r.node.moveTopicLocked(z, *got.moved)
	}
	return nil
}

// saveZone writes a zone's record to the store. Callers hold Node.mu.
// Changes that come with governance messages are written with them
// instead (commitGov).
func (r *records) saveZone(z *zone) error {
	rec, err := zoneRecordWrite(z.Record())
	if err != nil {
		return err
	}
	if err := r.st.Put(rec.Bucket, rec.Key, rec.Value); err != nil {
		return fmt.Errorf("store zones: %w", err)
	}
	return nil
}

// deleteZone deletes the record of the zone with ID id (hex).
func (r *records) deleteZone(id string) error {
	return r.st.Delete(bucketZones, id)
}

// saveMessage writes an accepted alert or update to the store.
func (r *records) saveMessage(z *zone, msg *protocol.Message, env []byte) error {
	rec := messageRecord(z, msg, env)
	if err := r.st.PutExpiring(rec.Bucket, rec.Key, rec.Value, rec.Expires); err != nil {
		return fmt.Errorf("store alert: %w", err)
	}
	return nil
}

// saveMessages writes accepted alerts and updates to the store in one
// transaction.
func (r *records) saveMessages(batch []admitted) error {
	recs := make([]store.Record, 0, len(batch))
	for _, a := range batch {
		recs = append(recs, messageRecord(a.z, a.msg, a.env))
	}
	return r.st.PutMany(recs)
}

// loadZoneRecords reads every stored zone record, oldest first.
func (r *records) loadZoneRecords() ([]zoneRecord, error) {
	var recs []zoneRecord
	err := r.st.ForEach(bucketZones, func(b []byte) error {
		var rec zoneRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			return fmt.Errorf("read zones: %w", store.ErrCorrupt)
		}
		recs = append(recs, rec)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load zones: %w", err)
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Created.Before(recs[j].Created) })
	return recs, nil
}

// loadGovRecords reads every stored governance envelope, by zone.
func (r *records) loadGovRecords() (map[protocol.ZoneID][][]byte, error) {
	out := map[protocol.ZoneID][][]byte{}
	err := r.st.ForEach(bucketGov, func(v []byte) error {
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
// compaction no longer needs are deleted. Callers hold Node.mu.
func (r *records) restoreZoneGov(z *zone, envs [][]byte) error {
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
	if err := r.put(recs); err != nil {
		if len(legacy) > 0 {
			return fmt.Errorf("zone %q: move governance to its own records: %w", z.Name(), err)
		}
		r.log.Warn("could not delete superseded announcements; will try at next start", "err", err)
		return nil
	}
	z.DropLegacyGov()
	return nil
}

// loadMessages restores the stored alerts and updates of zones (the
// node's, by ID) and their IDs in the replay cache. A message that no
// longer opens or checks (its zone left, its sender's chain broken) is
// skipped. Callers hold Node.mu, before the zones' topics are joined.
func (r *records) loadMessages(zones map[protocol.ZoneID]*zone) error {
	now := r.node.now()
	err := r.st.ForEach(bucketMessages, func(v []byte) error {
		if len(v) < storedZoneSize {
			return store.ErrCorrupt
		}
		var id protocol.ZoneID
		copy(id[:], v)
		z, ok := zones[id]
		if !ok {
			return nil
		}
		env := v[storedZoneSize:]
		msg, err := z.reopen(env)
		if err != nil {
			r.log.Debug("stored alert skipped", "zone", z.Name(), "err", err)
			return nil
		}
		if msg.Alert.Kind.IsGovernance() || msg.Alert.Expires.Add(core.PruneGrace).Before(now) {
			return nil
		}
		r.replay.Add(msg.ID, msg.Alert.Expires, now)
		r.node.apply(z, msg, env, applyRestore)
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
