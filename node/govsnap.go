package node

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	"lookout/crypto"
	"lookout/protocol"
)

// Governance snapshots (kind 17). An organizer's node names, once a day at
// most, the role grants of a zone that a later grant for the same member
// has superseded (coverableLocked); catch-up then offers the newest
// snapshot and every governance message no snapshot covers
// (syncSetLocked), so a member joining a zone years old does not fetch
// every renewal ever sent. The snapshot carries no state: the roster
// folded from the rest is the roster folded from everything, because
// every covered grant is one the fold overrides. A node skips a covered
// message only if its own log shows it coverable, so a hostile
// organizer's snapshot can hide nothing that changes a fold: no removal,
// rekey, settings change, announcement, link or zone document, and no
// grant still in force. Every node keeps its full log (nothing a snapshot
// covers is deleted).

const (
	// snapshotEvery is the least time between two snapshots of a zone
	// from one organizer.
	snapshotEvery = 24 * time.Hour
)

// snapshotMinCovered is how many coverable messages beyond those of the
// zone's newest snapshot make a new one worth sending (tests lower it).
var snapshotMinCovered = 64

// countedGrant reports whether the role grant m sets its subject's role in
// protocol.FoldRoster: actual, from an organizer not removed before it was
// sent, a certificate it issued, for a member other than the founder. It
// returns the subject.
func (z *zone) countedGrant(m *protocol.Message) (crypto.MemberID, bool) {
	a := m.Alert
	if a.Kind != protocol.KindRole || a.Status != protocol.StatusActual || m.Role != protocol.RoleOrganizer {
		return crypto.MemberID{}, false
	}
	if mi := z.Fold.Roster.Members[a.Sender]; mi != nil && mi.Removed && mi.RemovedAt.Before(a.Sent) {
		return crypto.MemberID{}, false
	}
	c, err := protocol.ParseCert(a.Cert)
	if err != nil || c.Issuer != a.Sender {
		return crypto.MemberID{}, false
	}
	subject := c.Subject.ID()
	if subject == z.root.ID() {
		return crypto.MemberID{}, false
	}
	return subject, true
}

// coverableLocked returns the kept messages a snapshot may cover: the role
// grants for which a later (by sent, then ID) counted grant for the same
// member is kept, so neither FoldRoster nor Rules.FoldGrants reads them,
// and whose sender has another message with the organizer role that is
// not coverable, so the roster still counts it an organizer. The result
// is kept until the next refold (refoldRoster) and must not be changed.
// Callers hold z.mu.
func (z *zone) coverableLocked() map[protocol.AlertID]*GovMsg {
	if z.Coverable == nil {
		z.Coverable = z.foldCoverable()
	}
	return z.Coverable
}

// foldCoverable computes coverableLocked. Callers hold z.mu.
func (z *zone) foldCoverable() map[protocol.AlertID]*GovMsg {
	latest := map[crypto.MemberID]*GovMsg{}
	for _, g := range z.Gov {
		if s, ok := z.countedGrant(g.Msg); ok && newer(g, latest[s]) {
			latest[s] = g
		}
	}
	out := map[protocol.AlertID]*GovMsg{}
	for _, g := range z.Gov {
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
	for _, g := range z.Gov {
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

// countedSnapshot reports whether a kept snapshot counts: actual, from an
// organizer not removed before it was sent.
func (z *zone) countedSnapshot(m *protocol.Message) bool {
	a := m.Alert
	if a.Kind != protocol.KindSnapshot || a.Status != protocol.StatusActual || m.Role != protocol.RoleOrganizer {
		return false
	}
	mi := z.Fold.Roster.Members[a.Sender]
	return mi == nil || !mi.Removed || !mi.RemovedAt.Before(a.Sent)
}

// countedSnapshotsLocked returns the counted snapshots kept of epoch or
// earlier, and the newest of them (by sent, then ID), or nil. Callers hold
// z.mu.
func (z *zone) countedSnapshotsLocked(epoch uint32) (all []*GovMsg, newest *GovMsg) {
	for _, g := range z.Gov {
		if g.Msg.Epoch <= epoch && z.countedSnapshot(g.Msg) {
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
// roster, and an organizer, by its messages). The result is kept until
// the next refold and must not be changed. Callers hold z.mu.
func (z *zone) skippedLocked(epoch uint32) map[protocol.AlertID]bool {
	if skip, ok := z.Skipped[epoch]; ok {
		return skip
	}
	skip := z.foldSkipped(epoch)
	if z.Skipped == nil {
		z.Skipped = map[uint32]map[protocol.AlertID]bool{}
	}
	z.Skipped[epoch] = skip
	return skip
}

// foldSkipped computes skippedLocked. Callers hold z.mu.
func (z *zone) foldSkipped(epoch uint32) map[protocol.AlertID]bool {
	snaps, newest := z.countedSnapshotsLocked(epoch)
	if newest == nil {
		return nil
	}
	skip := map[protocol.AlertID]bool{}
	for id := range z.coverableLocked() {
		if coveredBy(snaps, id) {
			skip[id] = true
		}
	}
	organizer := map[crypto.MemberID]bool{newest.Msg.Alert.Sender: true}
	for _, g := range z.Gov {
		if m := g.Msg; m.Role == protocol.RoleOrganizer && m.Alert.Kind != protocol.KindSnapshot && !skip[m.ID] {
			organizer[m.Alert.Sender] = true
		}
	}
	for _, g := range z.Gov {
		if m := g.Msg; m.Alert.Kind == protocol.KindSnapshot && g != newest && organizer[m.Alert.Sender] {
			skip[m.ID] = true
		}
	}
	return skip
}

// snapshotDueLocked returns the IDs a new snapshot of the zone would
// cover, if self should send one at now: it is an organizer, sent no
// snapshot in the last snapshotEvery, and at least snapshotMinCovered of
// those IDs are covered by no counted snapshot (the storm guard: once
// another organizer's snapshot arrives, nothing is left to cover). At most
// protocol.MaxSnapshotCovered IDs, the oldest grants first. Callers hold
// z.mu.
func (z *zone) snapshotDueLocked(self crypto.MemberID, now time.Time) []protocol.AlertID {
	if z.Role != protocol.RoleOrganizer || z.Removed || !now.Before(z.Chain.Expires()) {
		return nil
	}
	snaps, _ := z.countedSnapshotsLocked(z.Epoch)
	for _, g := range snaps {
		if g.Msg.Alert.Sender == self && now.Sub(g.Msg.Alert.Sent) < snapshotEvery {
			return nil
		}
	}
	cov := z.coverableLocked()
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
	if fresh < snapshotMinCovered {
		return nil // counted among what the new one would cover, so a full one is not sent again daily
	}
	return ids
}

// makeSnapshot sends a snapshot of the zone if one is due
// (snapshotDueLocked). It runs in an organizer's daily upkeep, after its
// renewals and the same random wait (renewLater), so the organizers of a
// zone do not all send one at once: the first one's reaches the others,
// which then find nothing left to cover. It reports whether it sent one.
func (n *Node) makeSnapshot(ctx context.Context, z *zone) (bool, error) {
	now := n.now()
	z.Mu.Lock()
	ids := z.snapshotDueLocked(n.id.ID(), now)
	z.Mu.Unlock()
	if len(ids) == 0 {
		return false, nil
	}
	a := n.newAlert(protocol.KindSnapshot, false, protocol.MaxLifetime)
	a.Snapshot = protocol.NewSnapshotDoc(ids)
	if _, err := n.publish(ctx, z, a); err != nil {
		return false, fmt.Errorf("send a governance snapshot: %w", err)
	}
	n.log.Info("sent a governance snapshot", "covered", len(ids))
	return true, nil
}
