package node_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"lookout/node/api"
	lp "lookout/protocol"
)

// A member whose certificate in one zone expired still starts: that zone
// is read but refuses to send, with the date and what to do; its other
// zones work.
func TestExpiredZoneDoesNotStopStart(t *testing.T) {
	ctx := testContext(t)
	clk := newClock()
	nw := startNet(t, ctx, 2, clk)
	za := formZone(t, ctx, nw, "alpha", map[int]string{1: "member"})
	zb, err := nw.Nodes[1].CreateZone(ctx, "beta")
	if err != nil {
		t.Fatal(err)
	}
	// The founder of alpha stays away: nobody renews node 1 there.
	if err := nw.Stop(ctx, 0); err != nil {
		t.Fatal(err)
	}
	clk.Advance(lp.DefaultCertTTL + 24*time.Hour)
	if err := nw.Restart(ctx, 1); err != nil {
		t.Fatalf("a node with an expired zone membership did not start: %v", err)
	}
	n := nw.Nodes[1]
	want := t0.Add(lp.DefaultCertTTL).UTC().Format(time.DateOnly)
	var seen bool
	for _, z := range zonesOf(t, n) {
		switch z.ID {
		case za.ID:
			seen = true
			if z.Expired != want {
				t.Errorf("alpha: Expired = %q, want %q", z.Expired, want)
			}
		case zb.ID:
			if z.Expired != "" {
				t.Errorf("beta (founded by this node): Expired = %q, want none", z.Expired)
			}
		}
	}
	if !seen {
		t.Fatal("the expired zone is not listed")
	}
	if h := n.Status().Health; h == nil || h.ExpiredZones != 1 {
		t.Errorf("health = %+v, want 1 expired zone", h)
	}
	_, err = n.Report(ctx, api.ReportRequest{Zone: za.ID, What: "van", Where: "Elm St"})
	var p *api.Problem
	if !errors.As(err, &p) || p.ID != "zone.expired" || !errors.Is(err, api.ErrForbidden) {
		t.Fatalf("report in the expired zone: err = %v, want problem zone.expired", err)
	}
	if msg := err.Error(); !strings.Contains(msg, want) || !strings.Contains(msg, "organizer") {
		t.Errorf("error %q does not give the date and what to do", msg)
	}
	if _, err := n.Report(ctx, api.ReportRequest{Zone: zb.ID, What: "van", Where: "Elm St"}); err != nil {
		t.Errorf("report in the other zone: %v", err)
	}
}
