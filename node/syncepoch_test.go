package node_test

import (
	"slices"
	"testing"
	"time"

	"lookout/node"
	"lookout/node/api"
	"lookout/node/sim"
	"lookout/protocol"
)

// Catch-up across a removal (issue 12, findings 4 and 8): a member who
// joins after a removal gets the alerts still active from before it
// (sealed again under its epoch), and a removed member proving its old
// epoch is offered nothing sent after its removal but the rekey.
func TestCatchUpAcrossRemoval(t *testing.T) {
	ctx := testContext(t)
	nw, err := sim.Start(ctx, sim.Config{Nodes: 4, Dir: t.TempDir(), RedialInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeNet(t, nw) })
	n0 := nw.Nodes[0]
	z, err := n0.CreateZone(ctx, "across")
	if err != nil {
		t.Fatal(err)
	}
	joinZone(t, ctx, nw, z.ID, 1, "member")
	joinZone(t, ctx, nw, z.ID, 2, "member")
	removed := nw.Nodes[2].MemberID().String()
	waitKnows(t, ctx, n0, z.ID, nw.Nodes[1].MemberID().String())
	waitKnows(t, ctx, n0, z.ID, removed)
	before, err := nw.Nodes[1].Report(ctx, api.ReportRequest{Zone: z.ID, What: "van at the school", Where: "Oak & Main"})
	if err != nil {
		t.Fatal(err)
	}
	has := func(n *node.Node, id string) bool {
		as, _ := n.Alerts(z.ID)
		return slices.ContainsFunc(as, func(a api.Alert) bool { return a.ID == id })
	}
	if err := sim.WaitFor(ctx, func() bool { return has(n0, before.ID) }); err != nil {
		t.Fatal("the first sighting never reached the founder")
	}
	if _, err := n0.Remove(ctx, z.ID, removed); err != nil {
		t.Fatal(err)
	}
	after, err := n0.Report(ctx, api.ReportRequest{Zone: z.ID, What: "checkpoint", Where: "Elm & 3rd"})
	if err != nil {
		t.Fatal(err)
	}

	// What the removed member's old epoch is offered: epoch 0 only, and
	// the rekey to epoch 1 (whose entries it has no part of).
	offer, err := node.SyncOffer(n0, z.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range offer {
		if it.Epoch > 0 && it.Kind != protocol.KindRekey {
			t.Errorf("offered to epoch 0: a %v message of epoch %d", it.Kind, it.Epoch)
		}
	}
	// At epoch 1 the sighting of epoch 0 is offered (resealed).
	offer, err = node.SyncOffer(n0, z.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(offer, node.SyncItem{Epoch: 0, Kind: protocol.KindSighting}) {
		t.Errorf("epoch 1 is not offered the sighting of epoch 0: %+v", offer)
	}

	joinZone(t, ctx, nw, z.ID, 3, "member")
	n3 := nw.Nodes[3]
	if err := sim.WaitFor(ctx, func() bool { return has(n3, before.ID) && has(n3, after.ID) }); err != nil {
		as, _ := n3.Alerts(z.ID)
		t.Fatalf("the member who joined after the removal has %d alerts, want the sightings from before and after it", len(as))
	}
}
