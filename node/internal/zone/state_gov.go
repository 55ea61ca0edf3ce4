package zone

import (
	"bytes"
	"crypto/hmac"
	"io"
	"maps"
	"slices"
	"sort"
	"time"

	"lookout/crypto"
	"lookout/protocol"
)

// Governance held by a zone's State: the compacted log (AdmitGov,
// RestoreGov, ApplyGov), what it folds to (refoldLocked), the snapshots
// (SnapshotDue, and what catch-up leaves out), what catch-up offers
// (SyncSet, SyncAnswer), and the door's stateful check (CheckMessage).
// Methods named ...Locked are called with s.mu held; the others take it.

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

// refoldLocked recomputes what the zone's governance messages say
// (Folded.Refold) and drops what was derived from the last fold
// (coverable, skipped). It reports how many invites were newly seen
// redeemed twice. Callers hold s.mu (or own s).
func (s *State) refoldLocked() (newTwice int) {
	msgs := make([]*protocol.Message, 0, len(s.gov))
	for _, g := range s.gov {
		msgs = append(msgs, g.Msg)
	}
	s.coverable, s.skipped = nil, nil // computed again when asked
	return s.fold.Refold(msgs, s.rootID)
}

// CheckMessage applies the zone's stateful rules after protocol checks
// (Folded.Check) to msg arriving at arrival, at the current epoch, and
// records it against the limits if it passes. It takes s.mu.
func (s *State) CheckMessage(msg *protocol.Message, arrival time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fold.Check(msg, arrival, s.epoch, s.sharedLocked)
}

// RateHeadroom returns the error every node would reject a message of
// member of kind sent at t with, for exceeding the zone's rate limits
// (Rules.Headroom), or nil. It takes s.mu.
func (s *State) RateHeadroom(member crypto.MemberID, kind protocol.Kind, t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fold.Rules.Headroom(member, kind, t, s.fold.Settings())
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

// compactGovLocked returns the IDs of the announcements, among s.gov and
// extra (if not nil), that the fold does not need: every one but the
// latest of its annGroup and, for a removed member, the latest actual one
// sent at or before the removal (the one whose name the roster shows).
// Messages of every other kind are always kept. protocol.FoldRoster gives
// the same roster with or without the dropped ones (removals depend on no
// announcement, so s.fold.Roster's removal times hold). Callers hold s.mu.
func (s *State) compactGovLocked(extra *GovMsg) []protocol.AlertID {
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
		if mi := s.fold.Roster.Members[a.Sender]; mi != nil && mi.Removed && a.Status == protocol.StatusActual && !mi.RemovedAt.Before(a.Sent) && newer(g, named[a.Sender]) {
			named[a.Sender] = g
		}
	}
	for _, g := range s.gov {
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

// AdmitGov decides whether a governance message that passed the door is
// kept, and returns the kept announcements it makes unneeded. An
// announcement is not kept when a later one of its group is held, or when
// the zone holds maxAnnouncements and it starts a new group. Nothing
// changes: the caller writes, then applies (ApplyGov). It takes s.mu.
func (s *State) AdmitGov(msg *protocol.Message, env []byte, maxAnnouncements int) (keep bool, drop []protocol.AlertID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.gov[msg.ID]; ok {
		return false, nil
	}
	if msg.Alert.Kind != protocol.KindMember {
		return true, nil
	}
	g := &GovMsg{Msg: msg, Env: env}
	drop = s.compactGovLocked(g)
	if slices.Contains(drop, msg.ID) {
		return false, nil
	}
	if len(drop) == 0 { // a new group, not a replacement
		count := 0
		for _, h := range s.gov {
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

// RestoreGov rebuilds the governance log at start from opened messages
// (duplicates skipped), refolds and compacts it. It returns the messages
// kept and the IDs compaction dropped. It takes s.mu.
func (s *State) RestoreGov(opened []*GovMsg) (kept []*GovMsg, drop []protocol.AlertID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range opened {
		if _, dup := s.gov[g.Msg.ID]; dup {
			continue
		}
		s.gov[g.Msg.ID] = g
		s.pubkeys[g.Msg.Alert.Sender] = g.Msg.Chain.Leaf().Subject
	}
	s.refoldLocked()
	drop = s.compactGovLocked(nil)
	for _, id := range drop {
		delete(s.gov, id)
	}
	for _, g := range s.gov {
		kept = append(kept, g)
	}
	return kept, drop
}

// GovApplied is what ApplyGov changed, for the node to act on.
type GovApplied struct {
	Twice   bool   // an invite newly seen redeemed twice, in a zone this member organizes
	NewRole bool   // this member has a new chain and role
	Removed bool   // this member was removed, and was not before
	Moved   bool   // this member moved to the epoch ch.Next names
	From    uint32 // if Moved, the epoch it left (now straggling)
}

// ApplyGov applies governance messages that are written, the deletion of
// the announcements in drop and what ch plans for this member: the
// messages held and seen, senders' keys, the fold, the zone record (if
// ch.Dirty), this member's chain and role, its removal and the move to the
// next epoch (the previous one straggling). It returns what changed. It
// takes s.mu.
func (s *State) ApplyGov(msgs []*GovMsg, drop []protocol.AlertID, ch GovChange) GovApplied {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch.Dirty {
		s.setGovernedLocked(ch.Record)
	}
	for _, g := range msgs {
		s.gov[g.Msg.ID] = g
		s.msgs.MarkSeen(g.Msg.ID)
		s.pubkeys[g.Msg.Alert.Sender] = g.Msg.Chain.Leaf().Subject
	}
	for _, id := range drop {
		delete(s.gov, id)
	}
	var got GovApplied
	got.Twice = s.refoldLocked() > 0 && s.role == protocol.RoleOrganizer
	if ch.Chain != nil {
		s.chain, s.role = ch.Chain, ch.Role
		got.NewRole = true
	}
	if ch.Removed && !s.removed {
		s.removed = true
		got.Removed = true
	}
	if ch.Next != nil {
		got.Moved, got.From = true, s.epoch
		s.epochs[ch.Next.Epoch] = ch.Next.Secret
		s.epoch = ch.Next.Epoch
		e := got.From
		s.straggle = &e
	}
	return got
}

// ForgetSeen undoes the mark ApplyGov or delivery set on message id
// (Messages.Forget), so catch-up offers it again. It takes s.mu.
func (s *State) ForgetSeen(id protocol.AlertID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs.Forget(id)
}

// GovState is what planning a governance message reads (PlanGov). Epochs
// is lent, not copied: it is written only by ApplyGov, which the caller's
// own lock keeps from running until the plan is committed. It takes s.mu.
func (s *State) GovState() GovState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return GovState{Zone: s.id, Root: s.root, Record: s.rec.clone(), Epoch: s.epoch, Epochs: s.epochs, Chain: s.chain, Role: s.role}
}

// EndStraggle stops proving epoch, if it is the one straggling. It takes
// s.mu.
func (s *State) EndStraggle(epoch uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.straggle != nil && *s.straggle == epoch {
		s.straggle = nil
	}
}

// Straggling reports whether a previous epoch is still proven. It takes
// s.mu.
func (s *State) Straggling() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.straggle != nil
}

// Settings returns the zone's settings in force. It takes s.mu.
func (s *State) Settings() protocol.Settings {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fold.Settings()
}

// RosterSorted returns the roster's members (protocol.Roster.Sorted). It
// takes s.mu.
func (s *State) RosterSorted() []*protocol.MemberInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fold.Roster.Sorted()
}

// Secrets returns a copy of every epoch's secret held. It takes s.mu.
func (s *State) Secrets() map[uint32]crypto.ZoneSecret {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.epochs)
}

// GovMessages returns the governance messages held, in no order (the
// messages themselves are shared, never changed). It takes s.mu.
func (s *State) GovMessages() []*GovMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Collect(maps.Values(s.gov))
}

// Members lists the zone's members as membersLocked does. It takes s.mu.
func (s *State) Members() []*protocol.MemberInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.membersLocked()
}

// FoundMember is a member a governance verb acts on, read under one lock
// with its key (nil if unknown) and the length of this member's chain.
type FoundMember struct {
	Info     *protocol.MemberInfo
	Key      *crypto.PublicKey
	ChainLen int
}

// FindMember returns the member pick chooses among the zone's members
// (membersLocked), with its key and this member's chain length, or pick's
// error. It takes s.mu; pick must only read the list it is given.
func (s *State) FindMember(pick func([]*protocol.MemberInfo) (*protocol.MemberInfo, error)) (FoundMember, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := pick(s.membersLocked())
	if err != nil {
		return FoundMember{}, err
	}
	return FoundMember{Info: m, Key: s.pubkeys[m.ID], ChainLen: len(s.chain)}, nil
}

// Governance snapshots (kind 17). A snapshot names role grants that a
// later grant for the same member superseded (coverableLocked); catch-up
// then offers the newest snapshot and every governance message no
// snapshot covers (skippedLocked). A node skips a covered message only if
// its own log shows it coverable, so a hostile organizer's snapshot can
// hide nothing that changes a fold.

// snapshotEvery is the least time between two snapshots of a zone from
// one organizer.
const snapshotEvery = 24 * time.Hour

// countedGrant reports whether the role grant m sets its subject's role in
// protocol.FoldRoster: actual, from an organizer not removed before it was
// sent, a certificate it issued, for a member other than the founder.
// It returns the subject. Callers hold s.mu.
func (s *State) countedGrant(m *protocol.Message) (crypto.MemberID, bool) {
	a := m.Alert
	if a.Kind != protocol.KindRole || a.Status != protocol.StatusActual || m.Role != protocol.RoleOrganizer {
		return crypto.MemberID{}, false
	}
	if mi := s.fold.Roster.Members[a.Sender]; mi != nil && mi.Removed && mi.RemovedAt.Before(a.Sent) {
		return crypto.MemberID{}, false
	}
	c, err := protocol.ParseCert(a.Cert)
	if err != nil || c.Issuer != a.Sender {
		return crypto.MemberID{}, false
	}
	subject := c.Subject.ID()
	if subject == s.rootID {
		return crypto.MemberID{}, false
	}
	return subject, true
}

// coverableLocked returns the kept messages a snapshot may cover: the role
// grants for which a later (by sent, then ID) counted grant for the same
// member is kept, so neither FoldRoster nor Rules.FoldGrants reads them,
// and whose sender has another message with the organizer role that is
// not coverable, so the roster still counts it an organizer. The result
// is kept in s.coverable until the next refold and must not be changed.
// Callers hold s.mu.
func (s *State) coverableLocked() map[protocol.AlertID]*GovMsg {
	if s.coverable == nil {
		s.coverable = s.foldCoverable()
	}
	return s.coverable
}

// foldCoverable computes coverableLocked. Callers hold s.mu.
func (s *State) foldCoverable() map[protocol.AlertID]*GovMsg {
	latest := map[crypto.MemberID]*GovMsg{}
	for _, g := range s.gov {
		if sub, ok := s.countedGrant(g.Msg); ok && newer(g, latest[sub]) {
			latest[sub] = g
		}
	}
	out := map[protocol.AlertID]*GovMsg{}
	for _, g := range s.gov {
		m := g.Msg
		if m.Alert.Kind != protocol.KindRole || m.Alert.Status != protocol.StatusActual || m.Role != protocol.RoleOrganizer {
			continue
		}
		c, err := protocol.ParseCert(m.Alert.Cert)
		if err != nil {
			continue
		}
		if l := latest[c.Subject.ID()]; l != nil && l != g && newer(l, g) {
			out[m.ID] = g
		}
	}
	// A sender the roster knows as an organizer only from coverable
	// grants keeps them all.
	organizer := map[crypto.MemberID]bool{}
	for _, g := range s.gov {
		if _, ok := out[g.Msg.ID]; !ok && g.Msg.Role == protocol.RoleOrganizer {
			organizer[g.Msg.Alert.Sender] = true
		}
	}
	for id, g := range out {
		if !organizer[g.Msg.Alert.Sender] {
			delete(out, id)
		}
	}
	return out
}

// CoverableIDs returns the IDs of the messages a snapshot may cover
// (coverableLocked), in no order. It takes s.mu.
func (s *State) CoverableIDs() []protocol.AlertID {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []protocol.AlertID
	for id := range s.coverableLocked() {
		out = append(out, id)
	}
	return out
}

// countedSnapshot reports whether a kept snapshot counts: actual, from an
// organizer not removed before it was sent. Callers hold s.mu.
func (s *State) countedSnapshot(m *protocol.Message) bool {
	a := m.Alert
	if a.Kind != protocol.KindSnapshot || a.Status != protocol.StatusActual || m.Role != protocol.RoleOrganizer {
		return false
	}
	mi := s.fold.Roster.Members[a.Sender]
	return mi == nil || !mi.Removed || !mi.RemovedAt.Before(a.Sent)
}

// countedSnapshotsLocked returns the counted snapshots kept of epoch or
// earlier, and the newest of them (by sent, then ID), or nil. Callers hold
// s.mu.
func (s *State) countedSnapshotsLocked(epoch uint32) (all []*GovMsg, newest *GovMsg) {
	for _, g := range s.gov {
		if g.Msg.Epoch <= epoch && s.countedSnapshot(g.Msg) {
			all = append(all, g)
			if newer(g, newest) {
				newest = g
			}
		}
	}
	return all, newest
}

// coveredBy reports whether any of snaps covers id.
func coveredBy(snaps []*GovMsg, id protocol.AlertID) bool {
	for _, g := range snaps {
		if g.Msg.Alert.Snapshot.Covers(id) {
			return true
		}
	}
	return false
}

// skippedLocked returns what catch-up at epoch leaves out: the messages
// that any counted snapshot covers and this node's own log shows
// coverable (so a newer snapshot covering less cannot bring back what an
// older one left out), and every snapshot but the newest whose sender has
// a message left in with the organizer role (a sender is a member of the
// roster, and an organizer, by its messages). The result is kept in
// s.skipped until the next refold and must not be changed. Callers hold
// s.mu.
func (s *State) skippedLocked(epoch uint32) map[protocol.AlertID]bool {
	if skip, ok := s.skipped[epoch]; ok {
		return skip
	}
	skip := s.foldSkipped(epoch)
	if s.skipped == nil {
		s.skipped = map[uint32]map[protocol.AlertID]bool{}
	}
	s.skipped[epoch] = skip
	return skip
}

// foldSkipped computes skippedLocked. Callers hold s.mu.
func (s *State) foldSkipped(epoch uint32) map[protocol.AlertID]bool {
	snaps, newest := s.countedSnapshotsLocked(epoch)
	if newest == nil {
		return nil
	}
	skip := map[protocol.AlertID]bool{}
	for id := range s.coverableLocked() {
		if coveredBy(snaps, id) {
			skip[id] = true
		}
	}
	organizer := map[crypto.MemberID]bool{newest.Msg.Alert.Sender: true}
	for _, g := range s.gov {
		if m := g.Msg; m.Role == protocol.RoleOrganizer && m.Alert.Kind != protocol.KindSnapshot && !skip[m.ID] {
			organizer[m.Alert.Sender] = true
		}
	}
	for _, g := range s.gov {
		if m := g.Msg; m.Alert.Kind == protocol.KindSnapshot && g != newest && organizer[m.Alert.Sender] {
			skip[m.ID] = true
		}
	}
	return skip
}

// SnapshotDue returns the IDs a new snapshot of the zone would cover, if
// self should send one at now: it is an organizer, sent no snapshot in the
// last snapshotEvery, and at least minCovered of those IDs are covered by
// no counted snapshot (the storm guard: once another organizer's snapshot
// arrives, nothing is left to cover). At most protocol.MaxSnapshotCovered
// IDs, the oldest grants first. It takes s.mu.
func (s *State) SnapshotDue(self crypto.MemberID, now time.Time, minCovered int) []protocol.AlertID {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.role != protocol.RoleOrganizer || s.removed || !now.Before(s.chain.Expires()) {
		return nil
	}
	snaps, _ := s.countedSnapshotsLocked(s.epoch)
	for _, g := range snaps {
		if g.Msg.Alert.Sender == self && now.Sub(g.Msg.Alert.Sent) < snapshotEvery {
			return nil
		}
	}
	cov := s.coverableLocked()
	all := make([]*GovMsg, 0, len(cov))
	for _, g := range cov {
		all = append(all, g)
	}
	slices.SortFunc(all, func(a, b *GovMsg) int {
		if c := a.Msg.Alert.Sent.Compare(b.Msg.Alert.Sent); c != 0 {
			return c
		}
		return bytes.Compare(a.Msg.ID[:], b.Msg.ID[:])
	})
	if len(all) > protocol.MaxSnapshotCovered {
		all = all[:protocol.MaxSnapshotCovered]
	}
	fresh := 0
	ids := make([]protocol.AlertID, len(all))
	for i, g := range all {
		ids[i] = g.Msg.ID
		if !coveredBy(snaps, g.Msg.ID) {
			fresh++
		}
	}
	if fresh < minCovered {
		return nil // counted among what the new one would cover, so a full one is not sent again daily
	}
	return ids
}

// SyncItem is a message as catch-up offers it: its envelope as stored and
// the message it opens to.
type SyncItem struct {
	ID  protocol.AlertID
	Env []byte
	Msg *protocol.Message
}

// Resealed is an item's envelope for a member at epoch, whose key is key:
// a message sealed under an earlier epoch, which that member may not hold,
// is sealed again under epoch (same signed message, same ID). Nothing is
// ever sealed to an earlier epoch than its own. A rekey to a later epoch
// is never sealed again: the epoch it is sealed under is its entries' PSK
// and names its fork's parent.
func (it SyncItem) Resealed(epoch uint32, key *crypto.AEADKey, rand io.Reader) ([]byte, error) {
	if it.Msg == nil || it.Msg.Epoch >= epoch || it.Msg.Alert.Kind == protocol.KindRekey && it.Msg.Alert.Epoch > epoch {
		return it.Env, nil
	}
	return protocol.Seal(key, epoch, it.Msg.Signed, rand)
}

// SyncIDs returns the IDs of a sync set.
func SyncIDs(set []SyncItem) []protocol.AlertID {
	ids := make([]protocol.AlertID, len(set))
	for i, it := range set {
		ids[i] = it.ID
	}
	return ids
}

// syncSetLocked returns what a zone offers to a member at epoch: its
// governance of epoch and every earlier one, by epoch and time (leaving
// out older snapshots and what snapshots cover that this node finds
// coverable: skippedLocked), and the rekeys to later epochs (so a member
// behind moves on, then asks again at its new epoch), then the messages
// of its active alerts (not expired, not cleared) of epoch and every
// earlier one, by time. What was sealed under an earlier epoch is sealed
// again under epoch when sent (Resealed), so a member who joined after a
// removal still gets the alerts active before it. Nothing else of a later
// epoch is offered: a removed member proving its old epoch learns nothing
// of the traffic after its removal, not even how much. Callers hold s.mu.
func (s *State) syncSetLocked(epoch uint32, now time.Time) []SyncItem {
	gov := make([]*GovMsg, 0, len(s.gov))
	skip := s.skippedLocked(epoch) // what snapshots cover
	for _, g := range s.gov {
		if skip[g.Msg.ID] {
			continue
		}
		if a := g.Msg.Alert; (a.Kind == protocol.KindRekey && a.Epoch > epoch) || (a.Kind != protocol.KindRekey && g.Msg.Epoch <= epoch) {
			gov = append(gov, g)
		}
	}
	// Removals last among messages sent at the same time: a removed
	// member's earlier messages are refused once its removal is known.
	last := func(g *GovMsg) bool {
		return g.Msg.Alert.Kind == protocol.KindRemove || g.Msg.Alert.Kind == protocol.KindRekey
	}
	sort.Slice(gov, func(i, j int) bool {
		a, b := gov[i].Msg, gov[j].Msg
		if a.Epoch != b.Epoch {
			return a.Epoch < b.Epoch
		}
		if !a.Alert.Sent.Equal(b.Alert.Sent) {
			return a.Alert.Sent.Before(b.Alert.Sent)
		}
		return !last(gov[i]) && last(gov[j])
	})
	// Which alerts are active: the cards' states (the zone's ID and name,
	// which only label a view, are not needed).
	cards := Alerts{Roots: s.msgs.Roots, Updates: s.msgs.Updates, Settings: s.fold.Settings(), Roster: &s.fold.Roster, Links: s.fold.Links}.Cards(now)
	live := map[protocol.AlertID]bool{}
	for _, c := range cards {
		if c.View.State == string(protocol.StateCleared) || c.View.State == string(protocol.StateExpired) {
			continue
		}
		for _, r := range c.Roots {
			live[r] = true
			for _, u := range s.msgs.Updates[r] {
				live[u.ID] = true
			}
		}
	}
	alerts := s.msgs.Enveloped(func(e Enveloped) bool {
		return live[e.Msg.ID] && e.Msg.Epoch <= epoch && now.Before(e.Msg.Alert.Expires)
	})
	sort.Slice(alerts, func(i, j int) bool { return alerts[i].Msg.Alert.Sent.Before(alerts[j].Msg.Alert.Sent) })
	out := make([]SyncItem, 0, len(gov)+len(alerts))
	for _, g := range gov {
		out = append(out, SyncItem{ID: g.Msg.ID, Env: g.Env, Msg: g.Msg})
	}
	for _, e := range alerts {
		out = append(out, SyncItem{ID: e.Msg.ID, Env: e.Env, Msg: e.Msg})
	}
	return out
}

// SyncSet returns the secret of epoch (zero if not held) and what the zone
// offers to a member at epoch (syncSetLocked), read under one lock. It
// takes s.mu.
func (s *State) SyncSet(epoch uint32, now time.Time) (crypto.ZoneSecret, []SyncItem) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.epochs[epoch], s.syncSetLocked(epoch, now)
}

// SyncOffered is an item offered in catch-up, with the epoch and alert
// key of the member it goes to (Resealed).
type SyncOffered struct {
	SyncItem
	Epoch uint32
	Key   *crypto.AEADKey
}

// SyncAnswer returns what this zone offers to the asker of hello, in
// offer order: for each zone of the hello at an epoch whose secret is
// held and whose token proves the asker (from, to: the asker's and this
// node's peer IDs) a member, the sync set of that epoch (syncSetLocked)
// if its digest differs from the asker's. It takes s.mu once for every
// zone of the hello.
func (s *State) SyncAnswer(hello *protocol.SyncHello, from, to string, now time.Time) []SyncOffered {
	s.mu.Lock()
	defer s.mu.Unlock()
	var offer []SyncOffered
	for _, a := range hello.Zones {
		secret, ok := s.epochs[a.Epoch]
		if !ok {
			continue
		}
		key := secret.SyncKey(a.Epoch)
		if token := protocol.SyncToken(key, hello.Nonce[:], from, to); !hmac.Equal(a.Token[:], token[:]) {
			continue
		}
		set := s.syncSetLocked(a.Epoch, now)
		if digest := protocol.SyncDigest(key, hello.Nonce[:], SyncIDs(set)); !hmac.Equal(a.Digest[:], digest[:]) {
			ak := secret.AlertKey(a.Epoch)
			for _, it := range set {
				offer = append(offer, SyncOffered{it, a.Epoch, ak})
			}
		}
	}
	return offer
}
