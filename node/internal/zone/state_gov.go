package zone

import (
	"bytes"
	"crypto/hmac"
	"io"
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
// Methods named ...Locked are called with s.Mu held; the others take it.
// The founder's ID (root), which State does not hold, is passed in.

// Newer reports whether a comes after b in the roster's order (sent time,
// then ID); a nil b comes before everything.
func Newer(a, b *GovMsg) bool {
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
// (Coverable, Skipped). It reports how many invites were newly seen
// redeemed twice. Callers hold s.Mu (or own s).
func (s *State) refoldLocked(root crypto.MemberID) (newTwice int) {
	msgs := make([]*protocol.Message, 0, len(s.Gov))
	for _, g := range s.Gov {
		msgs = append(msgs, g.Msg)
	}
	s.Coverable, s.Skipped = nil, nil // computed again when asked
	return s.Fold.Refold(msgs, root)
}

// CheckMessage applies the zone's stateful rules after protocol checks
// (Folded.Check) to msg arriving at arrival, at the current epoch, and
// records it against the limits if it passes. It takes s.Mu.
func (s *State) CheckMessage(msg *protocol.Message, arrival time.Time) error {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	return s.Fold.Check(msg, arrival, s.Epoch, s.SharedLocked)
}

// RateHeadroom returns the error every node would reject a message of
// member of kind sent at t with, for exceeding the zone's rate limits
// (Rules.Headroom), or nil. It takes s.Mu.
func (s *State) RateHeadroom(member crypto.MemberID, kind protocol.Kind, t time.Time) error {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	return s.Fold.Rules.Headroom(member, kind, t, s.Fold.Settings())
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

// compactGovLocked returns the IDs of the announcements, among s.Gov and
// extra (if not nil), that the fold does not need: every one but the
// latest of its annGroup and, for a removed member, the latest actual one
// sent at or before the removal (the one whose name the roster shows).
// Messages of every other kind are always kept. protocol.FoldRoster gives
// the same roster with or without the dropped ones (removals depend on no
// announcement, so s.Fold.Roster's removal times hold). Callers hold s.Mu.
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
		if Newer(g, latest[k]) {
			latest[k] = g
		}
		if mi := s.Fold.Roster.Members[a.Sender]; mi != nil && mi.Removed && a.Status == protocol.StatusActual && !mi.RemovedAt.Before(a.Sent) && Newer(g, named[a.Sender]) {
			named[a.Sender] = g
		}
	}
	for _, g := range s.Gov {
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
// changes: the caller writes, then applies (ApplyGov). It takes s.Mu.
func (s *State) AdmitGov(msg *protocol.Message, env []byte, maxAnnouncements int) (keep bool, drop []protocol.AlertID) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	if _, ok := s.Gov[msg.ID]; ok {
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
		for _, h := range s.Gov {
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
// kept and the IDs compaction dropped. It takes s.Mu.
func (s *State) RestoreGov(opened []*GovMsg, root crypto.MemberID) (kept []*GovMsg, drop []protocol.AlertID) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	for _, g := range opened {
		if _, dup := s.Gov[g.Msg.ID]; dup {
			continue
		}
		s.Gov[g.Msg.ID] = g
		s.Pubkeys[g.Msg.Alert.Sender] = g.Msg.Chain.Leaf().Subject
	}
	s.refoldLocked(root)
	drop = s.compactGovLocked(nil)
	for _, id := range drop {
		delete(s.Gov, id)
	}
	for _, g := range s.Gov {
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
// messages held and seen, senders' keys, the fold, this member's chain
// and role, its removal and the move to the next epoch (the previous one
// straggling). It returns what changed. It takes s.Mu.
func (s *State) ApplyGov(msgs []*GovMsg, drop []protocol.AlertID, ch GovChange, root crypto.MemberID) GovApplied {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	for _, g := range msgs {
		s.Gov[g.Msg.ID] = g
		s.Msgs.MarkSeen(g.Msg.ID)
		s.Pubkeys[g.Msg.Alert.Sender] = g.Msg.Chain.Leaf().Subject
	}
	for _, id := range drop {
		delete(s.Gov, id)
	}
	var got GovApplied
	got.Twice = s.refoldLocked(root) > 0 && s.Role == protocol.RoleOrganizer
	if ch.Chain != nil {
		s.Chain, s.Role = ch.Chain, ch.Role
		got.NewRole = true
	}
	if ch.Removed && !s.Removed {
		s.Removed = true
		got.Removed = true
	}
	if ch.Next != nil {
		got.Moved, got.From = true, s.Epoch
		s.Epochs[ch.Next.Epoch] = ch.Next.Secret
		s.Epoch = ch.Next.Epoch
		e := got.From
		s.Straggle = &e
	}
	return got
}

// ForgetSeen undoes the mark ApplyGov or delivery set on message id
// (Messages.Forget), so catch-up offers it again. It takes s.Mu.
func (s *State) ForgetSeen(id protocol.AlertID) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	s.Msgs.Forget(id)
}

// GovState is what planning a governance message reads (PlanGov): zone,
// root and rec from the caller, the rest from s. Epochs is lent, not
// copied: it is written only by ApplyGov, which the caller's own lock
// keeps from running until the plan is committed. It takes s.Mu.
func (s *State) GovState(zone protocol.ZoneID, root *crypto.PublicKey, rec Record) GovState {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	return GovState{Zone: zone, Root: root, Record: rec, Epoch: s.Epoch, Epochs: s.Epochs, Chain: s.Chain, Role: s.Role}
}

// EndStraggle stops proving epoch, if it is the one straggling. It takes
// s.Mu.
func (s *State) EndStraggle(epoch uint32) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	if s.Straggle != nil && *s.Straggle == epoch {
		s.Straggle = nil
	}
}

// Straggling reports whether a previous epoch is still proven. It takes
// s.Mu.
func (s *State) Straggling() bool {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	return s.Straggle != nil
}

// Settings returns the zone's settings in force. It takes s.Mu.
func (s *State) Settings() protocol.Settings {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	return s.Fold.Settings()
}

// RosterSorted returns the roster's members (protocol.Roster.Sorted). It
// takes s.Mu.
func (s *State) RosterSorted() []*protocol.MemberInfo {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	return s.Fold.Roster.Sorted()
}

// Secrets returns a copy of every epoch's secret held. It takes s.Mu.
func (s *State) Secrets() map[uint32]crypto.ZoneSecret {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	out := make(map[uint32]crypto.ZoneSecret, len(s.Epochs))
	for e, k := range s.Epochs {
		out[e] = k
	}
	return out
}

// GovMessages returns the governance messages held, in no order (the
// messages themselves are shared, never changed). It takes s.Mu.
func (s *State) GovMessages() []*GovMsg {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	out := make([]*GovMsg, 0, len(s.Gov))
	for _, g := range s.Gov {
		out = append(out, g)
	}
	return out
}

// Members lists the zone's members as MembersLocked does. It takes s.Mu.
func (s *State) Members() []*protocol.MemberInfo {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	return s.MembersLocked()
}

// FoundMember is a member a governance verb acts on, read under one lock
// with its key (nil if unknown) and the length of this member's chain.
type FoundMember struct {
	Info     *protocol.MemberInfo
	Key      *crypto.PublicKey
	ChainLen int
}

// FindMember returns the member pick chooses among the zone's members
// (MembersLocked), with its key and this member's chain length, or pick's
// error. It takes s.Mu; pick must only read the list it is given.
func (s *State) FindMember(pick func([]*protocol.MemberInfo) (*protocol.MemberInfo, error)) (FoundMember, error) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	m, err := pick(s.MembersLocked())
	if err != nil {
		return FoundMember{}, err
	}
	return FoundMember{Info: m, Key: s.Pubkeys[m.ID], ChainLen: len(s.Chain)}, nil
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
// sent, a certificate it issued, for a member other than the founder
// (root). It returns the subject. Callers hold s.Mu.
func (s *State) countedGrant(m *protocol.Message, root crypto.MemberID) (crypto.MemberID, bool) {
	a := m.Alert
	if a.Kind != protocol.KindRole || a.Status != protocol.StatusActual || m.Role != protocol.RoleOrganizer {
		return crypto.MemberID{}, false
	}
	if mi := s.Fold.Roster.Members[a.Sender]; mi != nil && mi.Removed && mi.RemovedAt.Before(a.Sent) {
		return crypto.MemberID{}, false
	}
	c, err := protocol.ParseCert(a.Cert)
	if err != nil || c.Issuer != a.Sender {
		return crypto.MemberID{}, false
	}
	subject := c.Subject.ID()
	if subject == root {
		return crypto.MemberID{}, false
	}
	return subject, true
}

// coverableLocked returns the kept messages a snapshot may cover: the role
// grants for which a later (by sent, then ID) counted grant for the same
// member is kept, so neither FoldRoster nor Rules.FoldGrants reads them,
// and whose sender has another message with the organizer role that is
// not coverable, so the roster still counts it an organizer. The result
// is kept in s.Coverable until the next refold and must not be changed.
// Callers hold s.Mu.
func (s *State) coverableLocked(root crypto.MemberID) map[protocol.AlertID]*GovMsg {
	if s.Coverable == nil {
		s.Coverable = s.foldCoverable(root)
	}
	return s.Coverable
}

// foldCoverable computes coverableLocked. Callers hold s.Mu.
func (s *State) foldCoverable(root crypto.MemberID) map[protocol.AlertID]*GovMsg {
	latest := map[crypto.MemberID]*GovMsg{}
	for _, g := range s.Gov {
		if sub, ok := s.countedGrant(g.Msg, root); ok && Newer(g, latest[sub]) {
			latest[sub] = g
		}
	}
	out := map[protocol.AlertID]*GovMsg{}
	for _, g := range s.Gov {
		m := g.Msg
		if m.Alert.Kind != protocol.KindRole || m.Alert.Status != protocol.StatusActual || m.Role != protocol.RoleOrganizer {
			continue
		}
		c, err := protocol.ParseCert(m.Alert.Cert)
		if err != nil {
			continue
		}
		if l := latest[c.Subject.ID()]; l != nil && l != g && Newer(l, g) {
			out[m.ID] = g
		}
	}
	// A sender the roster knows as an organizer only from coverable
	// grants keeps them all.
	organizer := map[crypto.MemberID]bool{}
	for _, g := range s.Gov {
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
// (coverableLocked), in no order. It takes s.Mu.
func (s *State) CoverableIDs(root crypto.MemberID) []protocol.AlertID {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	var out []protocol.AlertID
	for id := range s.coverableLocked(root) {
		out = append(out, id)
	}
	return out
}

// countedSnapshot reports whether a kept snapshot counts: actual, from an
// organizer not removed before it was sent. Callers hold s.Mu.
func (s *State) countedSnapshot(m *protocol.Message) bool {
	a := m.Alert
	if a.Kind != protocol.KindSnapshot || a.Status != protocol.StatusActual || m.Role != protocol.RoleOrganizer {
		return false
	}
	mi := s.Fold.Roster.Members[a.Sender]
	return mi == nil || !mi.Removed || !mi.RemovedAt.Before(a.Sent)
}

// countedSnapshotsLocked returns the counted snapshots kept of epoch or
// earlier, and the newest of them (by sent, then ID), or nil. Callers hold
// s.Mu.
func (s *State) countedSnapshotsLocked(epoch uint32) (all []*GovMsg, newest *GovMsg) {
	for _, g := range s.Gov {
		if g.Msg.Epoch <= epoch && s.countedSnapshot(g.Msg) {
			all = append(all, g)
			if Newer(g, newest) {
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
// s.Skipped until the next refold and must not be changed. Callers hold
// s.Mu.
func (s *State) skippedLocked(epoch uint32, root crypto.MemberID) map[protocol.AlertID]bool {
	if skip, ok := s.Skipped[epoch]; ok {
		return skip
	}
	skip := s.foldSkipped(epoch, root)
	if s.Skipped == nil {
		s.Skipped = map[uint32]map[protocol.AlertID]bool{}
	}
	s.Skipped[epoch] = skip
	return skip
}

// foldSkipped computes skippedLocked. Callers hold s.Mu.
func (s *State) foldSkipped(epoch uint32, root crypto.MemberID) map[protocol.AlertID]bool {
	snaps, newest := s.countedSnapshotsLocked(epoch)
	if newest == nil {
		return nil
	}
	skip := map[protocol.AlertID]bool{}
	for id := range s.coverableLocked(root) {
		if coveredBy(snaps, id) {
			skip[id] = true
		}
	}
	organizer := map[crypto.MemberID]bool{newest.Msg.Alert.Sender: true}
	for _, g := range s.Gov {
		if m := g.Msg; m.Role == protocol.RoleOrganizer && m.Alert.Kind != protocol.KindSnapshot && !skip[m.ID] {
			organizer[m.Alert.Sender] = true
		}
	}
	for _, g := range s.Gov {
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
// IDs, the oldest grants first. It takes s.Mu.
func (s *State) SnapshotDue(self, root crypto.MemberID, now time.Time, minCovered int) []protocol.AlertID {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	if s.Role != protocol.RoleOrganizer || s.Removed || !now.Before(s.Chain.Expires()) {
		return nil
	}
	snaps, _ := s.countedSnapshotsLocked(s.Epoch)
	for _, g := range snaps {
		if g.Msg.Alert.Sender == self && now.Sub(g.Msg.Alert.Sent) < snapshotEvery {
			return nil
		}
	}
	cov := s.coverableLocked(root)
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
// of the traffic after its removal, not even how much. Callers hold s.Mu.
func (s *State) syncSetLocked(epoch uint32, now time.Time, root crypto.MemberID) []SyncItem {
	gov := make([]*GovMsg, 0, len(s.Gov))
	skip := s.skippedLocked(epoch, root) // what snapshots cover
	for _, g := range s.Gov {
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
	cards := Alerts{Roots: s.Msgs.Roots, Updates: s.Msgs.Updates, Settings: s.Fold.Settings(), Roster: &s.Fold.Roster, Links: s.Fold.Links}.Cards(now)
	live := map[protocol.AlertID]bool{}
	for _, c := range cards {
		if c.View.State == string(protocol.StateCleared) || c.View.State == string(protocol.StateExpired) {
			continue
		}
		for _, r := range c.Roots {
			live[r] = true
			for _, u := range s.Msgs.Updates[r] {
				live[u.ID] = true
			}
		}
	}
	alerts := s.Msgs.Enveloped(func(e Enveloped) bool {
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
// takes s.Mu.
func (s *State) SyncSet(epoch uint32, now time.Time, root crypto.MemberID) (crypto.ZoneSecret, []SyncItem) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	return s.Epochs[epoch], s.syncSetLocked(epoch, now, root)
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
// if its digest differs from the asker's. It takes s.Mu once for every
// zone of the hello.
func (s *State) SyncAnswer(hello *protocol.SyncHello, from, to string, now time.Time, root crypto.MemberID) []SyncOffered {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	var offer []SyncOffered
	for _, a := range hello.Zones {
		secret, ok := s.Epochs[a.Epoch]
		if !ok {
			continue
		}
		key := secret.SyncKey(a.Epoch)
		if token := protocol.SyncToken(key, hello.Nonce[:], from, to); !hmac.Equal(a.Token[:], token[:]) {
			continue
		}
		set := s.syncSetLocked(a.Epoch, now, root)
		if digest := protocol.SyncDigest(key, hello.Nonce[:], SyncIDs(set)); !hmac.Equal(a.Digest[:], digest[:]) {
			ak := secret.AlertKey(a.Epoch)
			for _, it := range set {
				offer = append(offer, SyncOffered{it, a.Epoch, ak})
			}
		}
	}
	return offer
}
