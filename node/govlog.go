package node

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	pubsub "github.com/libp2p/go-libp2p-pubsub"

	"lookout/crypto"
	core "lookout/node/internal/zone"
	"lookout/node/store"
	"lookout/protocol"
)

// Governance as a durable, compacted log. Each admitted governance message
// (member announcements, roles, removals, rekeys, settings, links) is its
// own store record in bucketGov, written once and never rewritten; the
// roster, settings, links and grants are folded from them (refoldRoster),
// and the zone record (epoch, secrets, this member's chain) is written in
// the same transaction as the message that changes it (commitGovLocked).
// Only what can change the fold is kept (compactGovLocked). A stored
// governance message is
//
//	16-byte zone ID | 16-byte message ID | envelope
//
// keyed by zone ID and message ID in hex. It never expires.
const govHeaderSize = protocol.ZoneIDSize + protocol.AlertIDSize

// maxAnnouncements caps the member announcements a zone keeps: a safety cap
// on announcements only (compaction keeps at most a few per member). No
// cap ever drops a removal, rekey, role, settings or link message.
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
	legacy := z.rec.Gov
	kept, drop := z.restoreGov(append(slices.Clip(envs), legacy...))
	var recs []store.Record
	if len(legacy) > 0 {
		for _, g := range kept {
			recs = append(recs, govRecord(z.id, g.Msg.ID, g.Env))
		}
		rec := z.rec
		rec.Gov = nil
		zr, err := zoneRecordWrite(rec)
		if err != nil {
			return err
		}
		recs = append(recs, zr)
	}
	for _, id := range drop {
		recs = append(recs, govDeletion(z.id, id))
	}
	if len(recs) == 0 {
		return nil
	}
	if err := n.putRecords(recs); err != nil {
		if len(legacy) > 0 {
			return fmt.Errorf("zone %q: move governance to its own records: %w", z.rec.Name, err)
		}
		n.log.Warn("could not delete superseded announcements; will try at next start", "err", err)
		return nil
	}
	z.rec.Gov = nil
	return nil
}

// restoreGov rebuilds the roster from stored governance envelopes,
// checking each as of the time it was sent, then compacts. It returns the
// messages kept and the IDs compaction dropped.
func (z *zone) restoreGov(envs [][]byte) (kept []*GovMsg, drop []protocol.AlertID) {
	var opened []*GovMsg
	for _, env := range envs {
		if msg, err := z.reopen(env); err == nil { // takes z.mu
			opened = append(opened, &GovMsg{Msg: msg, Env: env})
		}
	}
	z.Mu.Lock()
	defer z.Mu.Unlock()
	for _, g := range opened {
		if _, dup := z.Gov[g.Msg.ID]; dup {
			continue
		}
		z.Gov[g.Msg.ID] = g
		z.Pubkeys[g.Msg.Alert.Sender] = g.Msg.Chain.Leaf().Subject
	}
	z.refoldRoster()
	drop = z.compactGovLocked(nil)
	for _, id := range drop {
		delete(z.Gov, id)
	}
	for _, g := range z.Gov {
		kept = append(kept, g)
	}
	return kept, drop
}

// annGroup is a set of announcements of which compaction keeps the latest:
// one member's, signed with one role, actual or exercise. Keeping one per
// role keeps the highest role a member has sent with, which the roster
// falls back on.
type annGroup struct {
	member crypto.MemberID
	role   protocol.Role
	status protocol.Status
}

// newer reports whether a comes after b in the roster's order (sent time,
// then ID); a nil b comes before everything.
func newer(a, b *GovMsg) bool {
	if b == nil {
		return true
	}
	if c := a.Msg.Alert.Sent.Compare(b.Msg.Alert.Sent); c != 0 {
		return c > 0
	}
	return bytes.Compare(a.Msg.ID[:], b.Msg.ID[:]) > 0
}

// compactGovLocked returns the IDs of the announcements, among z.gov and
// extra (if not nil), that the fold does not need: every one but the
// latest of its annGroup and, for a removed member, the latest actual one
// sent at or before the removal (the one whose name the roster shows).
// Messages of every other kind are always kept. protocol.FoldRoster gives
// the same roster with or without the dropped ones (removals depend on no
// announcement, so z.fold.Roster's removal times hold). Callers hold z.mu.
func (z *zone) compactGovLocked(extra *GovMsg) []protocol.AlertID {
	latest := map[annGroup]*GovMsg{}
	named := map[crypto.MemberID]*GovMsg{}
	var all []*GovMsg
	consider := func(g *GovMsg) {
		a := g.Msg.Alert
		if a.Kind != protocol.KindMember {
			return
		}
		all = append(all, g)
		k := annGroup{a.Sender, g.Msg.Role, a.Status}
		if newer(g, latest[k]) {
			latest[k] = g
		}
		if mi := z.Fold.Roster.Members[a.Sender]; mi != nil && mi.Removed && a.Status == protocol.StatusActual && !mi.RemovedAt.Before(a.Sent) && newer(g, named[a.Sender]) {
			named[a.Sender] = g
		}
	}
	for _, g := range z.Gov {
		consider(g)
	}
	if extra != nil {
		consider(extra)
	}
	keep := map[protocol.AlertID]bool{}
	for _, g := range latest {
		keep[g.Msg.ID] = true
	}
	for _, g := range named {
		keep[g.Msg.ID] = true
	}
	var drop []protocol.AlertID
	for _, g := range all {
		if !keep[g.Msg.ID] {
			drop = append(drop, g.Msg.ID)
		}
	}
	return drop
}

// admitGovLocked decides whether a governance message that passed the door
// is kept, and which kept announcements it makes unneeded. An announcement
// is not kept when a later one of its group is held, or when the zone
// holds maxAnnouncements and it starts a new group. Callers hold z.mu.
func (z *zone) admitGovLocked(msg *protocol.Message, env []byte) (keep bool, drop []protocol.AlertID) {
	if _, ok := z.Gov[msg.ID]; ok {
		return false, nil
	}
	if msg.Alert.Kind != protocol.KindMember {
		return true, nil
	}
	g := &GovMsg{Msg: msg, Env: env}
	drop = z.compactGovLocked(g)
	if slices.Contains(drop, msg.ID) {
		return false, nil
	}
	if len(drop) == 0 { // a new group, not a replacement
		count := 0
		for _, h := range z.Gov {
			if h.Msg.Alert.Kind == protocol.KindMember {
				count++
			}
		}
		if count >= maxAnnouncements {
			return false, nil
		}
	}
	return true, drop
}

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
// n.mu (and not z.mu: applyGov and moveTopicLocked take it).
func (n *Node) commitGovLocked(z *zone, msgs []*GovMsg, drop []protocol.AlertID, ch core.GovChange) error {
	recs := make([]store.Record, 0, len(msgs)+len(drop)+1)
	for _, g := range msgs {
		recs = append(recs, govRecord(z.id, g.Msg.ID, g.Env))
	}
	for _, id := range drop {
		recs = append(recs, govDeletion(z.id, id))
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
		n.log.Debug("removed from zone", "zone", z.rec.Name)
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
// member: the zone record's fields, the messages held and seen, senders'
// keys, the fold, this member's chain and role, its removal (closing
// z.gone) and the move to the next epoch (the previous one straggling).
// Lock order: callers hold n.mu (it guards z.rec); applyGov takes z.mu.
func (z *zone) applyGov(msgs []*GovMsg, drop []protocol.AlertID, ch core.GovChange) govApplied {
	if ch.Dirty {
		z.setRecord(ch.Record)
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	z.Mu.Lock()
	defer z.Mu.Unlock()
	for _, g := range msgs {
		z.Gov[g.Msg.ID] = g
		z.Msgs.MarkSeen(g.Msg.ID)
		z.Pubkeys[g.Msg.Alert.Sender] = g.Msg.Chain.Leaf().Subject
	}
	for _, id := range drop {
		delete(z.Gov, id)
	}
	var got govApplied
	got.twice = z.refoldRoster() > 0 && z.Role == protocol.RoleOrganizer
	if ch.Chain != nil {
		z.Chain, z.Role = ch.Chain, ch.Role
		got.newRole = true
	}
	if ch.Removed && !z.Removed {
		z.Removed = true
		close(z.gone) // ends watch streams
		got.removed = true
	}
	if ch.Next != nil {
		got.moved = &switchedFrom{epoch: z.Epoch, topic: z.topic, sub: z.sub}
		z.Epochs[ch.Next.Epoch] = ch.Next.Secret
		z.Epoch = ch.Next.Epoch
		e := got.moved.epoch
		z.Straggle = &e
	}
	return got
}

// govStateLocked is what planning a governance message reads of z
// (core.PlanGov). Callers hold n.mu, which keeps z.rec and z.epochs
// (written only under it, by applyGov) as lent until the plan is
// committed; it takes z.mu.
func (z *zone) govStateLocked() core.GovState {
	z.Mu.Lock()
	defer z.Mu.Unlock()
	return core.GovState{Zone: z.id, Root: z.root, Record: z.rec, Epoch: z.Epoch, Epochs: z.Epochs, Chain: z.Chain, Role: z.Role}
}

// setRecord takes the fields of rec that governance changes (this member's
// chain and removal, the epochs): the rest (ID, name) is read without
// locks. Callers hold n.mu.
func (z *zone) setRecord(rec zoneRecord) {
	z.rec.Chain, z.rec.Removed = rec.Chain, rec.Removed
	z.rec.Epoch, z.rec.Secret, z.rec.EpochFrom, z.rec.Old = rec.Epoch, rec.Secret, rec.EpochFrom, rec.Old
}

// switchedFrom is the epoch, topic and subscription a zone left.
type switchedFrom struct {
	epoch uint32
	topic *pubsub.Topic
	sub   *pubsub.Subscription
}
