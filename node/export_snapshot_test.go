package node

import (
	"context"

	"lookout/protocol"
)

// Test access to governance snapshots (govsnap.go).

// SetSnapshotMinCovered sets how many new coverable messages make a
// snapshot due; it returns the old value.
func SetSnapshotMinCovered(v int) int {
	old := snapshotMinCovered
	snapshotMinCovered = v
	return old
}

// MakeSnapshot sends a snapshot of a zone if one is due (makeSnapshot).
func MakeSnapshot(ctx context.Context, n *Node, zoneRef string) (bool, error) {
	z, err := n.zone(zoneRef)
	if err != nil {
		return false, err
	}
	return n.gov.makeSnapshot(ctx, z)
}

// GovIDs returns the IDs of the governance messages n keeps for a zone,
// with their kinds.
func GovIDs(n *Node, zoneRef string) (map[protocol.AlertID]protocol.Kind, error) {
	z, err := n.zone(zoneRef)
	if err != nil {
		return nil, err
	}
	out := map[protocol.AlertID]protocol.Kind{}
	for _, g := range z.GovMessages() {
		out[g.Msg.ID] = g.Msg.Alert.Kind
	}
	return out, nil
}

// Coverable returns the IDs of the messages n would let a snapshot cover
// in a zone (core.State.CoverableIDs).
func Coverable(n *Node, zoneRef string) ([]protocol.AlertID, error) {
	z, err := n.zone(zoneRef)
	if err != nil {
		return nil, err
	}
	return z.CoverableIDs(), nil
}
