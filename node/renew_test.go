package node_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"lookout/node"
	"lookout/node/api"
	"lookout/node/sim"
	lp "lookout/protocol"
)

// A member whose certificate in one zone expired still starts: that zone
// is read but refuses to send, with the date and what to do; its other
// zones work.
func TestExpiredZoneDoesNotStopStart(t *testing.T) {
	ctx := testContext(t)
	clk := newClock()
	nw := startNet(t, ctx, 2, clk)
	za := formZone(t, ctx, nw, "alpha", map[int]string{1: "organizer"})
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
	// An expired organizer invites nobody: the joiner's chain would
	// hold its expired certificate.
	if _, err := n.Invite(ctx, api.InviteRequest{Zone: za.ID, Role: "member", TTL: time.Hour}); !errors.As(err, &p) || p.ID != "zone.expired" {
		t.Errorf("invite in the expired zone: err = %v, want problem zone.expired", err)
	}
	if _, err := n.Report(ctx, api.ReportRequest{Zone: zb.ID, What: "van", Where: "Elm St"}); err != nil {
		t.Errorf("report in the other zone: %v", err)
	}
}

// An organizer renews members within 60 days of expiry, once: not before,
// not a removed member, not again once a fresher certificate was seen;
// the renewed member keeps sending past its first certificate's expiry.
func TestOrganizerRenewsMembers(t *testing.T) {
	ctx := testContext(t)
	clk := newClock()
	nw, err := sim.Start(ctx, sim.Config{Nodes: 3, Dir: t.TempDir(), Now: clk.Now, RedialInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeNet(t, nw) })
	node.NoCertifyTimer(nw.Nodes[0]) // only the renewals below certify
	z := formZone(t, ctx, nw, "renewals", nil)
	n0, n1 := nw.Nodes[0], nw.Nodes[1]
	// The rekey reaches node 1 only once its announcement did (no redial
	// catch-up within the hour).
	waitKnows(t, ctx, n0, z.ID, n1.MemberID().String())
	var removeErr error
	if err := sim.WaitFor(ctx, func() bool {
		_, removeErr = n0.Remove(ctx, z.ID, nw.Nodes[2].Status().MemberID)
		return removeErr == nil
	}); err != nil {
		t.Fatalf("remove node 2: %v (last: %v)", err, removeErr)
	}
	// Node 1 follows the rekey before the clock moves on.
	if err := sim.WaitFor(ctx, func() bool {
		e0, err0 := node.Epoch(n0, z.ID)
		e1, err1 := node.Epoch(n1, z.ID)
		return err0 == nil && err1 == nil && e0 == e1
	}); err != nil {
		t.Fatalf("node 1 did not follow the rekey: %v", err)
	}
	renew := func(want int, when string) {
		t.Helper()
		got, err := node.RenewMembers(ctx, n0, z.ID)
		if err != nil || got != want {
			t.Fatalf("%s: renewed %d (err %v), want %d", when, got, err, want)
		}
	}
	// Node 1 joined by invite: certified by the invite key, it is
	// certified directly at the first upkeep, and only once.
	renew(1, "invited member")
	if err := sim.WaitFor(ctx, func() bool {
		via, err := node.CertifiedByInvite(n1, z.ID)
		return err == nil && !via
	}); err != nil {
		t.Fatalf("node 1 did not install its direct certificate: %v", err)
	}
	renew(0, "a year ahead")
	first, err := node.ChainExpiry(n1, z.ID)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(lp.DefaultCertTTL - 30*24*time.Hour)
	renew(1, "30 days ahead") // node 1; node 2 was removed
	if err := sim.WaitFor(ctx, func() bool {
		exp, err := node.ChainExpiry(n1, z.ID)
		return err == nil && exp.After(first)
	}); err != nil {
		t.Fatalf("node 1 did not install its renewed certificate: %v", err)
	}
	renew(0, "right after renewing") // a fresher certificate was seen
	clk.Advance(60 * 24 * time.Hour)
	a, err := n1.Report(ctx, api.ReportRequest{Zone: z.ID, What: "van", Where: "Elm St"})
	if err != nil {
		t.Fatalf("renewed member sends past its first expiry: %v", err)
	}
	if err := sim.WaitFor(ctx, func() bool {
		as, err := n0.Alerts(z.ID)
		return err == nil && hasAlert(as, a.ID)
	}); err != nil {
		t.Fatalf("the founder did not receive the renewed member's sighting: %v", err)
	}
}

// TestGrantsTakeEffectInOrder: an organizer's role grants take effect on
// every node in the order it made them, even within one millisecond (the
// clock is frozen here): a promotion asked for while a renewal is under
// way is not undone by it, and promotions made back to back end at the
// last. TestLateJoinerGetsOldGovernance once failed this way: an invited
// member's direct certification and its promotion had the same sent time,
// and the tie went to the certification by message ID.
func TestGrantsTakeEffectInOrder(t *testing.T) {
	ctx := testContext(t)
	clk := newClock()
	nw, err := sim.Start(ctx, sim.Config{Nodes: 3, Dir: t.TempDir(), Now: clk.Now, RedialInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeNet(t, nw) })
	node.NoCertifyTimer(nw.Nodes[0]) // only the renewal below certifies
	z := formZone(t, ctx, nw, "order", nil)
	n0 := nw.Nodes[0]
	target := nw.Nodes[1].MemberID().String()
	for _, n := range nw.Nodes[1:] {
		waitKnows(t, ctx, n0, z.ID, n.MemberID().String())
	}
	clk.Advance(lp.DefaultCertTTL - 30*24*time.Hour) // both members are due
	promoted := make(chan error, 1)
	node.OnRenewDue(n0, func() {
		go func() {
			_, err := n0.Promote(ctx, z.ID, target, "verifier")
			promoted <- err
		}()
	})
	if got, err := node.RenewMembers(ctx, n0, z.ID); err != nil || got != 2 {
		t.Fatalf("renewed %d (err %v), want 2", got, err)
	}
	node.OnRenewDue(n0, nil)
	if err := <-promoted; err != nil {
		t.Fatalf("promote during a renewal: %v", err)
	}
	roleEverywhere := func(want string) {
		t.Helper()
		err := sim.WaitFor(ctx, func() bool {
			for _, n := range nw.Nodes {
				if m, _ := memberOf(members(t, n, z.ID), target); m.Role != want {
					return false
				}
			}
			return true
		})
		if err != nil {
			var got []string
			for _, n := range nw.Nodes {
				m, _ := memberOf(members(t, n, z.ID), target)
				got = append(got, m.Role)
			}
			t.Fatalf("role on each node %v, want %s everywhere", got, want)
		}
	}
	roleEverywhere("verifier")
	for _, r := range []string{"organizer", "organizer", "organizer", "organizer", "verifier"} {
		if _, err := n0.Promote(ctx, z.ID, target, r); err != nil {
			t.Fatalf("promote to %s: %v", r, err)
		}
	}
	roleEverywhere("verifier")
}

// TestFounderRenewsAfterEveryoneExpired: a zone left alone past every
// certificate's expiry (a summer without alerts, a founder's laptop in a
// drawer) comes back: the founder's node, stopped all that time, rejoins
// the mesh, renews itself, then its members, and they send again.
func TestFounderRenewsAfterEveryoneExpired(t *testing.T) {
	ctx := testContext(t)
	clk := newClock()
	nw, err := sim.Start(ctx, sim.Config{Nodes: 3, Dir: t.TempDir(), Now: clk.Now, RedialInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeNet(t, nw) })
	z := formZone(t, ctx, nw, "dormant", nil)
	n0, n1 := nw.Nodes[0], nw.Nodes[1]
	waitKnows(t, ctx, n0, z.ID, n1.MemberID().String())
	waitKnows(t, ctx, n0, z.ID, nw.Nodes[2].MemberID().String())
	if err := nw.Stop(ctx, 0); err != nil {
		t.Fatal(err)
	}
	clk.Advance(lp.DefaultCertTTL + 24*time.Hour)
	if err := nw.Resume(ctx, 0); err != nil {
		t.Fatal(err)
	}
	n0 = nw.Nodes[0]
	if err := nw.WaitMesh(ctx, z.ID, 2); err != nil {
		t.Fatalf("the founder came back to no mesh: %v", err)
	}
	if _, err := n1.Report(ctx, api.ReportRequest{Zone: z.ID, What: "van", Where: "Elm St"}); err == nil {
		t.Fatal("an expired member sent a report")
	}
	// The founder's node renews both, by this call or by its own timer
	// for invited members (certifyInvitedSoon), whichever comes first.
	var renewErr error
	if err := sim.WaitFor(ctx, func() bool {
		if _, renewErr = node.RenewMembers(ctx, n0, z.ID); renewErr != nil {
			return false
		}
		for _, n := range nw.Nodes[1:] {
			if exp, err := node.ChainExpiry(n, z.ID); err != nil || !exp.After(clk.Now()) {
				return false
			}
		}
		return true
	}); err != nil {
		t.Fatalf("the founder did not renew both members (last error %v): %v", renewErr, err)
	}
	var a api.Alert
	if err := sim.WaitFor(ctx, func() bool {
		var err error
		a, err = n1.Report(ctx, api.ReportRequest{Zone: z.ID, What: "van", Where: "Elm St"})
		return err == nil
	}); err != nil {
		t.Fatalf("renewed member still cannot send: %v", err)
	}
	if err := sim.WaitFor(ctx, func() bool {
		as, err := n0.Alerts(z.ID)
		return err == nil && hasAlert(as, a.ID)
	}); err != nil {
		t.Fatalf("the founder did not receive the renewed member's sighting: %v", err)
	}
}
