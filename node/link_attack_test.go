package node_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"lookout/node"
	"lookout/node/api"
	"lookout/protocol"
)

// linkBetween returns the ID of zone z's link to the zone named peer, as
// node i knows it.
func linkBetween(t *testing.T, n *node.Node, z api.Zone, peer string) string {
	t.Helper()
	ls, err := n.Links(z.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		if l.Peer == peer && l.State == "active" {
			return l.ID
		}
	}
	t.Fatalf("zone %s has no active link to %s: %+v", z.Name, peer, ls)
	return ""
}

// TestLinkFramesOnlyFromLinkEnd (issue 18, point 1): a plain member of
// zone B holds the A–B link secret (it is in B's governance) and sends
// more junk frames than the link's limit to A's end; B's own end sends as
// many frames whose endorsements do not verify. Neither is counted: a real
// callout B's end shares afterwards still reaches every member of A.
func TestLinkFramesOnlyFromLinkEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node mocknet test; skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	l := startLinked(t, ctx)
	n := l.nw.Nodes
	id := linkBetween(t, n[b2], l.B, "Parkdale")
	junk := []byte("not an endorsement")
	for i := 0; i <= protocol.MaxLinkMessages; i++ {
		if err := node.SendLinkFrameForTest(ctx, n[b2], l.B.ID, id, protocol.FrameEndorse, junk); err == nil {
			t.Fatalf("frame %d from a plain member was accepted", i)
		}
		if err := node.SendLinkFrameForTest(ctx, n[b1], l.B.ID, id, protocol.FrameEndorse, junk); err == nil {
			t.Fatalf("junk frame %d from the link end was accepted", i)
		}
	}
	co, err := n[b1].Callout(ctx, api.CalloutRequest{Zone: l.B.ID, Title: "Accompany to court", Where: "Old City Hall", Need: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n[b1].Share(ctx, api.ShareRequest{Alert: co.ID}); err != nil {
		t.Fatalf("share after the junk frames: %v", err)
	}
	l.waitZone(t, ctx, l.A, "callout arrives in A", func(i int) bool { return len(byText(n[i], l.A.ID, co.Title)) == 1 })
}

// TestLinkOfferVoidedByRemoval (issue 18, point 1): every member reads a
// link offer's secret in governance, so once a member is removed the
// offers made before cannot be accepted; a new offer can.
func TestLinkOfferVoidedByRemoval(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node mocknet test; skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	l := startLinked(t, ctx)
	n := l.nw.Nodes
	old, err := n[a1].LinkOffer(ctx, api.LinkOfferRequest{Zone: l.A.ID})
	if err != nil {
		t.Fatal(err)
	}
	l.clk.Advance(time.Second)
	if _, err := n[a1].Remove(ctx, l.A.ID, linkNames[a3]); err != nil {
		t.Fatalf("remove: %v", err)
	}
	l.clk.Advance(time.Second)
	if _, err := n[c1].AcceptLink(ctx, api.AcceptLinkRequest{Zone: l.C.ID, Code: old.Code}); err == nil || !strings.Contains(err.Error(), "removed") {
		t.Fatalf("accept an offer made before a removal = %v, want refused", err)
	}
	fresh, err := n[a1].LinkOffer(ctx, api.LinkOfferRequest{Zone: l.A.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n[c1].AcceptLink(ctx, api.AcceptLinkRequest{Zone: l.C.ID, Code: fresh.Code}); err != nil {
		t.Fatalf("accept a new offer: %v", err)
	}
}
