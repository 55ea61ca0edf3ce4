package node

import (
	"context"
	"fmt"

	"lookout/protocol"
)

// Governance snapshots (kind 17). An organizer's node names, once a day at
// most, the role grants of a zone that a later grant for the same member
// has superseded; catch-up then offers the newest snapshot and every
// governance message no snapshot covers, so a member joining a zone years
// old does not fetch every renewal ever sent. The snapshot carries no
// state: the roster folded from the rest is the roster folded from
// everything, because every covered grant is one the fold overrides. A
// node skips a covered message only if its own log shows it coverable, so
// a hostile organizer's snapshot can hide nothing that changes a fold: no
// removal, rekey, settings change, announcement, link or zone document,
// and no grant still in force. Every node keeps its full log (nothing a
// snapshot covers is deleted). What is coverable, due and left out is
// worked out in the zone core (node/internal/zone: core.State.SnapshotDue,
// SyncSet).

// snapshotMinCovered is how many coverable messages beyond those of the
// zone's newest snapshot make a new one worth sending (tests lower it).
var snapshotMinCovered = 64

// makeSnapshot sends a snapshot of the zone if one is due
// (core.State.SnapshotDue). It runs in an organizer's daily upkeep, after
// its renewals and the same random wait (renewLater), so the organizers
// of a zone do not all send one at once: the first one's reaches the
// others, which then find nothing left to cover. It reports whether it
// sent one.
func (g *governor) makeSnapshot(ctx context.Context, z *zone) (bool, error) {
	now := g.node.now()
	ids := z.SnapshotDue(g.id.ID(), now, snapshotMinCovered)
	if len(ids) == 0 {
		return false, nil
	}
	a := g.node.newAlert(protocol.KindSnapshot, false, protocol.MaxLifetime)
	a.Snapshot = protocol.NewSnapshotDoc(ids)
	if _, err := g.node.publish(ctx, z, a); err != nil {
		return false, fmt.Errorf("send a governance snapshot: %w", err)
	}
	g.log.Info("sent a governance snapshot", "covered", len(ids))
	return true, nil
}
