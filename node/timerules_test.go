package node_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"lookout/node"
	core "lookout/node/internal/zone"
	"lookout/node/sim"
	lp "lookout/protocol"
)

// Time cannot be chosen by the sender (issue 12, findings 3 and 6): each
// message below is delivered through the door as catch-up would deliver it,
// where no live window applies, so only the arrival-time rules stand.

// startTimeRules forms a zone of a founder (node 0), an organizer (node 1)
// and a member (node 2) on a shared test clock.
func startTimeRules(t *testing.T, ctx context.Context, clk *clock) (*sim.Network, string) {
	t.Helper()
	nw, err := sim.Start(ctx, sim.Config{Nodes: 3, Dir: t.TempDir(), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nw.Close() })
	z, err := nw.FormZone(ctx, "time", map[int]string{1: "organizer"})
	if err != nil {
		t.Fatal(err)
	}
	return nw, z.ID
}

func signSeal(t *testing.T, m member, a *lp.Alert) ([]byte, *lp.Signed) {
	t.Helper()
	s, err := lp.Sign(m.id, m.chain, a)
	if err != nil {
		t.Fatal(err)
	}
	return m.seal(t, s), s
}

// TestBackdatedDemotedOrganizer: once a node knows an organizer was
// demoted, the old organizer certificate gains nothing, whatever sent time
// its messages claim, and still after a restart.
func TestBackdatedDemotedOrganizer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var clk clock
	nw, _ := startTimeRules(t, ctx, &clk)
	founder, org, mem := loadMember(t, nw.Nodes[0]), loadMember(t, nw.Nodes[1]), loadMember(t, nw.Nodes[2])
	clk.Advance(2 * time.Hour)
	now := clk.Now()
	callout := func(sent time.Time, title string) []byte {
		a := org.alert(lp.KindCallout, sent, sent.Add(2*time.Hour))
		a.Title = title
		env, _ := signSeal(t, org, a)
		return env
	}
	// Before the demotion, a callout of an hour ago passes.
	if err := node.Deliver(nw.Nodes[2], callout(now.Add(-time.Hour), "before")); err != nil {
		t.Fatalf("callout before any demotion: %v", err)
	}
	// The founder demotes the organizer to member.
	c, err := lp.IssueCert(founder.id, founder.zone, org.id.Public(), lp.RoleMember, now, now.Add(lp.DefaultCertTTL))
	if err != nil {
		t.Fatal(err)
	}
	g := founder.alert(lp.KindRole, now, now.Add(lp.MaxLifetime))
	g.Cert, g.Area = c.Bytes(), ""
	genv, _ := signSeal(t, founder, g)
	if err := node.Deliver(nw.Nodes[2], genv); err != nil {
		t.Fatalf("demotion: %v", err)
	}
	remove := func(sent time.Time) []byte {
		a := org.alert(lp.KindRemove, sent, sent.Add(lp.MaxLifetime))
		a.Subject, a.Area = mem.id.ID(), ""
		env, _ := signSeal(t, org, a)
		return env
	}
	attempts := map[string][]byte{
		"callout back-dated before the demotion": callout(now.Add(-30*time.Minute), "back-dated"),
		"callout sent after the demotion":        callout(now.Add(time.Second), "after"),
		"removal back-dated a day":               remove(now.Add(-90 * time.Minute)),
	}
	check := func(when string) {
		t.Helper()
		for name, env := range attempts {
			if err := node.Deliver(nw.Nodes[2], env); !errors.Is(err, core.ErrSuperseded) {
				t.Errorf("%s, %s: %v, want ErrSuperseded", name, when, err)
			}
		}
		as, err := nw.Nodes[2].Alerts("time")
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			if a.Title != "before" && a.Kind == "callout" {
				t.Errorf("%s: callout %q shown", when, a.Title)
			}
		}
		if zs := nw.Nodes[2].Zones(); len(zs) != 1 || zs[0].Epoch != 0 {
			t.Errorf("%s: the demoted organizer's removal took effect: %+v", when, zs)
		}
	}
	check("live")
	if err := nw.Restart(ctx, 2); err != nil {
		t.Fatal(err)
	}
	check("after a restart")
}

// TestBackdatedTraffic: back-dated sightings count by arrival; updates for
// alerts this node does not hold are not stored; a message back-dated
// before its sender's certificate is refused, live as after a restart.
func TestBackdatedTraffic(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var clk clock
	nw, zone := startTimeRules(t, ctx, &clk)
	founder, mem := loadMember(t, nw.Nodes[0]), loadMember(t, nw.Nodes[2])
	n := nw.Nodes[1]
	clk.Advance(11 * time.Hour) // room to back-date within the certificates
	now := clk.Now()

	// By gossip, a sighting claiming to be older than the live window is
	// refused; the same message may still come by catch-up.
	la := founder.alert(lp.KindSighting, now.Add(-core.LiveWindow-time.Minute), now.Add(time.Hour))
	la.Area = "by gossip, back-dated"
	lenv, _ := signSeal(t, founder, la)
	if err := node.DeliverLive(n, lenv); !errors.Is(err, core.ErrBackdated) {
		t.Errorf("back-dated sighting by gossip: %v, want ErrBackdated", err)
	}
	fresh := founder.alert(lp.KindSighting, now.Add(-time.Minute), now.Add(time.Hour))
	fresh.Area = "by gossip, a minute old"
	if fenv, _ := signSeal(t, founder, fresh); node.DeliverLive(n, fenv) != nil {
		t.Error("a sighting a minute old refused by gossip")
	}
	if err := node.Deliver(n, lenv); err != nil {
		t.Errorf("back-dated sighting by catch-up: %v", err)
	}
	base, err := node.StoredMessageIDs(n)
	if err != nil {
		t.Fatal(err)
	}

	// 60 sightings, each claiming a different past window, arrive at once.
	var ids []string
	for i := range 60 {
		sent := now.Add(-time.Duration(i) * lp.RateWindow)
		a := mem.alert(lp.KindSighting, sent, now.Add(time.Hour))
		a.Area = fmt.Sprintf("corner %d", i)
		env, s := signSeal(t, mem, a)
		_ = node.Deliver(n, env)
		ids = append(ids, s.ID.String())
	}
	stored, err := node.StoredMessageIDs(n)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(base)+lp.DefaultSettings().MaxReports {
		t.Errorf("store holds %d messages, want %d", len(stored), len(base)+lp.DefaultSettings().MaxReports)
	}
	kept := 0
	for _, id := range ids {
		if slices.Contains(stored, id) {
			kept++
		}
	}
	if want := lp.DefaultSettings().MaxReports; kept != want {
		t.Errorf("%d of 60 back-dated sightings kept, want the budget %d", kept, want)
	}

	// 20 answers to alerts that do not exist are not stored; an answer that
	// arrives before its alert is stored with it.
	ref := func(kind lp.Kind, r lp.AlertID) []byte {
		a := founder.alert(kind, now, now.Add(time.Hour))
		a.Ref = r
		env, _ := signSeal(t, founder, a)
		return env
	}
	for i := range 20 {
		if err := node.Deliver(n, ref(lp.KindConfirm, lp.AlertID{0xbd, byte(i)})); err != nil {
			t.Fatalf("bogus confirm %d: %v", i, err)
		}
	}
	clk.Advance(lp.RateWindow) // a fresh budget for the member's next sighting
	now = clk.Now()
	sa := mem.alert(lp.KindSighting, now, now.Add(time.Hour))
	sa.Area = "late root"
	senv, s := signSeal(t, mem, sa)
	early := founder.alert(lp.KindConfirm, now, now.Add(time.Hour))
	early.Ref = s.ID
	cenv, cs := signSeal(t, founder, early)
	if err := node.Deliver(n, cenv); err != nil {
		t.Fatalf("confirm before its alert: %v", err)
	}
	if stored, _ := node.StoredMessageIDs(n); len(stored) != len(base)+kept {
		t.Errorf("store holds %d messages after the answers to nothing, want %d", len(stored), len(base)+kept)
	}
	if err := node.Deliver(n, senv); err != nil {
		t.Fatalf("the alert: %v", err)
	}
	stored, _ = node.StoredMessageIDs(n)
	if !slices.Contains(stored, cs.ID.String()) || !slices.Contains(stored, s.ID.String()) {
		t.Error("the alert and its early confirm are not both stored")
	}
	if a, ok := card(n, zone, s.ID.String()); !ok || a.State != "verified" || len(a.VerifiedBy) != 1 {
		t.Errorf("alert with its early confirm: %+v, %v", a, ok)
	}

	// Back-dated before the member's certificate: refused, and so not shown
	// after a restart either.
	old := mem.alert(lp.KindSighting, mem.chain[0].Issued.Add(-time.Hour), now.Add(time.Hour))
	old.Area = "before my certificate"
	oenv, os := signSeal(t, mem, old)
	if err := node.Deliver(n, oenv); !errors.Is(err, lp.ErrChain) {
		t.Errorf("sighting sent before its certificate: %v, want ErrChain", err)
	}
	if err := nw.Restart(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, ok := card(nw.Nodes[1], zone, os.ID.String()); ok {
		t.Error("sighting sent before its certificate shown after a restart")
	}
	if _, ok := card(nw.Nodes[1], zone, s.ID.String()); !ok {
		t.Error("the honest sighting is gone after a restart")
	}
}
