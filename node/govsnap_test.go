package node_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"lookout/crypto"
	"lookout/node"
	"lookout/node/api"
	"lookout/node/sim"
	lp "lookout/protocol"
)

// Governance snapshots (issue 12): a late joiner to a zone with a long
// history gets the newest snapshot and the messages it does not cover,
// and ends with the roster, settings, removals and epoch of an old member.

const (
	snapMembers     = 12
	snapDays        = 60
	snapPromoted    = 3  // members promoted over and over (their old grants are superseded)
	snapRoleEvery   = 2  // days between promotions: 30 grants on 3 members
	snapRemoveEvery = 15 // days between removals (each with a rekey)
	snapSettings    = 20 // days between settings changes
	snapMinCovered  = 8
)

// snapZone is a zone played for snapDays on its founder's node n0, with
// simulated members (as in TestThreeYearsOfGovernance, smaller).
type snapZone struct {
	nw      *sim.Network
	clk     *fakeClock
	zone    string
	zid     lp.ZoneID
	ms      []*yearsMember
	seed    *rand.ChaCha8
	founder *crypto.Identity
}

// seal signs a as id with chain and seals it under n0's current epoch.
func (s *snapZone) seal(t *testing.T, id *crypto.Identity, chain lp.Chain, a *lp.Alert) []byte {
	t.Helper()
	sg, err := lp.Sign(id, chain, a)
	if err != nil {
		t.Fatal(err)
	}
	epoch, secret, err := node.ZoneKey(s.nw.Nodes[0], s.zone)
	if err != nil {
		t.Fatal(err)
	}
	env, err := lp.Seal(secret.AlertKey(epoch), epoch, sg, s.seed)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// alert is a governance alert of kind sent now.
func (s *snapZone) alert(kind lp.Kind, sender crypto.MemberID) *lp.Alert {
	now := s.clk.Now().Truncate(time.Millisecond).UTC()
	return &lp.Alert{Kind: kind, Zone: s.zid, Sender: sender, Sent: now, Expires: now.Add(lp.MaxLifetime), Status: lp.StatusActual,
		Urgency: lp.UrgencyImmediate, Severity: lp.SeveritySevere, Certainty: lp.CertaintyObserved}
}

func playSnapZone(t *testing.T, ctx context.Context) *snapZone {
	t.Helper()
	old := node.SetSnapshotMinCovered(snapMinCovered)
	t.Cleanup(func() { node.SetSnapshotMinCovered(old) })
	clk := newClock()
	nw, err := sim.Start(ctx, sim.Config{Nodes: 2, Dir: memDir(t), Now: clk.Now, Logger: slog.New(&errorLog{}), RedialInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeNet(t, nw) })
	n0 := nw.Nodes[0]
	z, err := n0.CreateZone(ctx, "snapshots")
	if err != nil {
		t.Fatal(err)
	}
	s := &snapZone{nw: nw, clk: clk, zone: z.ID, seed: rand.NewChaCha8([32]byte{17}), founder: node.Identity(n0)}
	s.zid, _ = lp.ParseZoneID(z.ID)
	for range snapMembers {
		id, err := crypto.NewIdentity(s.seed)
		if err != nil {
			t.Fatal(err)
		}
		k, err := crypto.NewKEMKey(s.seed)
		if err != nil {
			t.Fatal(err)
		}
		c, err := lp.IssueCert(s.founder, s.zid, id.Public(), lp.RoleMember, clk.Now(), clk.Now().Add(365*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		s.ms = append(s.ms, &yearsMember{id: id, chain: lp.Chain{c}, kem: k.PublicBytes(), role: "member"})
	}
	for i, m := range s.ms {
		m.name = fmt.Sprintf("m%d", i)
		a := s.alert(lp.KindMember, m.id.ID())
		a.Name, a.KEM = m.name, m.kem
		if err := node.Deliver(n0, s.seal(t, m.id, m.chain, a)); err != nil {
			t.Fatalf("announcement of member %d: %v", i, err)
		}
	}
	next := snapPromoted
	for day := 1; day <= snapDays; day++ {
		clk.Advance(24 * time.Hour)
		if day%snapRoleEvery == 0 {
			m := s.ms[day/snapRoleEvery%snapPromoted]
			role := map[string]string{"member": "verifier", "verifier": "organizer", "organizer": "verifier"}[m.role]
			if _, err := n0.Promote(ctx, z.ID, m.id.ID().String(), role); err != nil {
				t.Fatalf("day %d: promote: %v", day, err)
			}
			m.role = role
		}
		if day%snapRemoveEvery == 7 {
			if _, err := n0.Remove(ctx, z.ID, s.ms[next].id.ID().String()); err != nil {
				t.Fatalf("day %d: remove: %v", day, err)
			}
			s.ms[next].removed = true
			next++
		}
		if day%snapSettings == 10 {
			reports := 4 + day/snapSettings
			if _, err := n0.SetSettings(ctx, api.SettingsRequest{Zone: z.ID, MaxReports: &reports}); err != nil {
				t.Fatalf("day %d: settings: %v", day, err)
			}
		}
	}
	return s
}

// offerCount counts what n offers a member at n's current epoch, by kind.
func offerCount(t *testing.T, n *node.Node, zone string) map[lp.Kind]int {
	t.Helper()
	e, err := node.Epoch(n, zone)
	if err != nil {
		t.Fatal(err)
	}
	items, err := node.SyncOffer(n, zone, e)
	if err != nil {
		t.Fatal(err)
	}
	out := map[lp.Kind]int{}
	for _, it := range items {
		out[it.Kind]++
	}
	return out
}

// sameZone reports how the joiner's zone differs from the founder's:
// roster (names, roles, removals), settings and epoch.
func sameZone(t *testing.T, n0, n1 *node.Node, zone string) (string, bool) {
	self := n1.MemberID().String()
	got, want := members(t, n1, zone), members(t, n0, zone)
	for _, w := range want {
		if w.ID == self {
			continue
		}
		m, ok := memberOf(got, w.ID)
		if !ok || m.Name != w.Name || m.Role != w.Role || m.Removed != w.Removed {
			return fmt.Sprintf("member %.8s: joiner has %+v, founder %+v", w.ID, m, w), false
		}
	}
	if len(got) != len(want) {
		return fmt.Sprintf("joiner lists %d members, founder %d", len(got), len(want)), false
	}
	e0, _ := node.Epoch(n0, zone)
	e1, _ := node.Epoch(n1, zone)
	if s0, s1 := mustSettings(t, n0, zone), mustSettings(t, n1, zone); s0 != s1 || e0 != e1 {
		return fmt.Sprintf("joiner: settings %+v epoch %d; founder %+v epoch %d", s1, e1, s0, e0), false
	}
	return "", true
}

// TestSnapshotLateJoiner: the founder's node snapshots a zone with a long
// history in its upkeep (once a day at most); the offer to a member drops
// the superseded grants; a member joining then gets the snapshot and the
// rest, and ends with the founder's roster, settings, removals and epoch.
func TestSnapshotLateJoiner(t *testing.T) {
	ctx := testContext(t)
	s := playSnapZone(t, ctx)
	n0, n1 := s.nw.Nodes[0], s.nw.Nodes[1]

	before := offerCount(t, n0, s.zone)
	cov, err := node.Coverable(n0, s.zone)
	if err != nil {
		t.Fatal(err)
	}
	// 30 grants on 3 members: all but the latest per member are superseded.
	if want := snapDays/snapRoleEvery - snapPromoted; len(cov) != want {
		t.Fatalf("%d coverable grants, want %d", len(cov), want)
	}
	// Another organizer's node sent a snapshot covering them all first:
	// the founder's node finds nothing left to cover (the storm guard).
	other := s.ms[snapMembers-1]
	oc, err := lp.IssueCert(s.founder, s.zid, other.id.Public(), lp.RoleOrganizer, s.clk.Now().Add(-time.Hour), s.clk.Now().Add(365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	otherSnap := func(ids []lp.AlertID) {
		t.Helper()
		a := s.alert(lp.KindSnapshot, other.id.ID())
		a.Snapshot = lp.NewSnapshotDoc(ids)
		if err := node.Deliver(n0, s.seal(t, other.id, lp.Chain{oc}, a)); err != nil {
			t.Fatalf("another organizer's snapshot: %v", err)
		}
	}
	otherSnap(cov)
	if sent, err := node.MakeSnapshot(ctx, n0, s.zone); err != nil || sent {
		t.Fatalf("a snapshot right after another organizer's: sent %v, %v", sent, err)
	}
	if o := offerCount(t, n0, s.zone); o[lp.KindRole] != before[lp.KindRole]-len(cov) || o[lp.KindSnapshot] != 1 {
		t.Errorf("after another organizer's snapshot: %v", o)
	}
	// Ten more promotions of the same members: ten more superseded grants,
	// which the founder's node covers; not again within a day.
	for i := range 10 {
		s.clk.Advance(24 * time.Hour)
		m := s.ms[i%snapPromoted]
		m.role = map[string]string{"member": "verifier", "verifier": "organizer", "organizer": "verifier"}[m.role]
		if _, err := n0.Promote(ctx, s.zone, m.id.ID().String(), m.role); err != nil {
			t.Fatalf("promote: %v", err)
		}
	}
	cov, err = node.Coverable(n0, s.zone)
	if err != nil {
		t.Fatal(err)
	}
	if sent, err := node.MakeSnapshot(ctx, n0, s.zone); err != nil || !sent {
		t.Fatalf("snapshot: sent %v, %v", sent, err)
	}
	s.clk.Advance(time.Hour)
	if again, err := node.MakeSnapshot(ctx, n0, s.zone); err != nil || again {
		t.Fatalf("a second snapshot within a day: sent %v, %v", again, err)
	}
	// A newer snapshot covering one grant does not bring the others back.
	otherSnap(cov[:1])
	before[lp.KindRole] += 10
	after := offerCount(t, n0, s.zone)
	t.Logf("offer before the snapshots %v, after %v", before, after)
	if after[lp.KindRole] != before[lp.KindRole]-len(cov) || after[lp.KindSnapshot] != 1 {
		t.Errorf("role grants offered: %d before, %d after (want %d fewer), %d snapshots", before[lp.KindRole], after[lp.KindRole], len(cov), after[lp.KindSnapshot])
	}
	for _, k := range []lp.Kind{lp.KindMember, lp.KindRemove, lp.KindSettings} {
		if after[k] != before[k] {
			t.Errorf("%s offered: %d before, %d after", k, before[k], after[k])
		}
	}

	// The member joins after the snapshot expired: it comes by catch-up,
	// checked as of its sent time.
	s.clk.Advance(lp.MaxLifetime + 24*time.Hour)
	joinZone(t, ctx, s.nw, s.zone, 1, "member")
	if err := sim.WaitFor(ctx, func() bool { _, ok := sameZone(t, n0, n1, s.zone); return ok }); err != nil {
		why, _ := sameZone(t, n0, n1, s.zone)
		t.Fatalf("the late joiner's zone differs: %s", why)
	}
	// Everything the founder offers arrives (some after the roster is
	// already the same): the joiner's own offer becomes the founder's.
	// The founder's offer is read again: the invite added its grant.
	err = sim.WaitFor(ctx, func() bool {
		o, want := offerCount(t, n1, s.zone), offerCount(t, n0, s.zone)
		for k, v := range want {
			if k != lp.KindMember && o[k] != v { // the joiner adds its own announcement
				return false
			}
		}
		return true
	})
	if err != nil {
		t.Fatalf("the joiner's offer %v never matched the founder's %v", offerCount(t, n1, s.zone), offerCount(t, n0, s.zone))
	}
	g0, g1 := govStats(t, n0, s.zone), govStats(t, n1, s.zone)
	t.Logf("founder keeps %d governance messages (%d KiB), the late joiner %d (%d KiB)", g0.Messages, g0.Bytes>>10, g1.Messages, g1.Bytes>>10)
	ids, err := node.GovIDs(n1, s.zone)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range cov {
		if _, ok := ids[id]; ok {
			t.Errorf("the late joiner fetched covered grant %s", id)
		}
	}
	snaps := 0
	for _, k := range ids {
		if k == lp.KindSnapshot {
			snaps++
		}
	}
	if snaps != 1 || g1.Messages > g0.Messages-len(cov) {
		t.Errorf("late joiner holds %d snapshots and %d messages; founder %d, %d covered", snaps, g1.Messages, g0.Messages, len(cov))
	}
	// The joiner serves what it holds: its offer leaves nothing out it has.
	if o, want := offerCount(t, n1, s.zone), offerCount(t, n0, s.zone); o[lp.KindRole] != want[lp.KindRole] {
		t.Errorf("the joiner offers %d role grants, the founder %d", o[lp.KindRole], want[lp.KindRole])
	}
}

// TestSnapshotCannotHide: a hostile organizer's snapshot that covers a
// removal, a settings change, an announcement and grants still in force
// hides none of them: the offer keeps them, and a member joining after it
// sees the removed member removed, the same settings and roles.
func TestSnapshotCannotHide(t *testing.T) {
	ctx := testContext(t)
	s := playSnapZone(t, ctx)
	n0, n1 := s.nw.Nodes[0], s.nw.Nodes[1]
	if sent, err := node.MakeSnapshot(ctx, n0, s.zone); err != nil || !sent {
		t.Fatalf("snapshot: sent %v, %v", sent, err)
	}
	cov, err := node.Coverable(n0, s.zone)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := node.GovIDs(n0, s.zone)
	if err != nil {
		t.Fatal(err)
	}
	covered := map[lp.AlertID]bool{}
	for _, id := range cov {
		covered[id] = true
	}
	hide := append([]lp.AlertID(nil), cov...)
	hidden := map[lp.Kind]int{}
	for id, k := range ids {
		if !covered[id] && (k == lp.KindRemove || k == lp.KindSettings || k == lp.KindMember || k == lp.KindRole || k == lp.KindRekey) {
			hide = append(hide, id)
			hidden[k]++
		}
	}
	before := offerCount(t, n0, s.zone)

	// A member promoted to organizer by the founder, a day later.
	s.clk.Advance(25 * time.Hour)
	hostile := s.ms[len(s.ms)-1]
	c, err := lp.IssueCert(s.founder, s.zid, hostile.id.Public(), lp.RoleOrganizer, s.clk.Now().Add(-time.Hour), s.clk.Now().Add(365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	a := s.alert(lp.KindSnapshot, hostile.id.ID())
	a.Snapshot = lp.NewSnapshotDoc(hide)
	if err := node.Deliver(n0, s.seal(t, hostile.id, lp.Chain{c}, a)); err != nil {
		t.Fatalf("the hostile organizer's snapshot: %v", err)
	}
	after := offerCount(t, n0, s.zone)
	t.Logf("hostile snapshot covers %d IDs (%v beyond the coverable %d); offer before %v, after %v", len(hide), hidden, len(cov), before, after)
	for k := range hidden {
		if after[k] != before[k] {
			t.Errorf("%s offered: %d before the hostile snapshot, %d after", k, before[k], after[k])
		}
	}

	joinZone(t, ctx, s.nw, s.zone, 1, "member")
	if err := sim.WaitFor(ctx, func() bool { _, ok := sameZone(t, n0, n1, s.zone); return ok }); err != nil {
		why, _ := sameZone(t, n0, n1, s.zone)
		t.Fatalf("the late joiner's zone differs: %s", why)
	}
	got := members(t, n1, s.zone)
	for i, m := range s.ms {
		if g, ok := memberOf(got, m.id.ID().String()); !ok || g.Removed != m.removed {
			t.Errorf("member %d: joiner has %+v, want removed %v", i, g, m.removed)
		}
	}
}

// TestSnapshotRejected: a snapshot from a member or a verifier, one signed
// by an outsider, one whose signature was tampered with and one from a
// removed organizer sent after its removal are all refused.
func TestSnapshotRejected(t *testing.T) {
	ctx := testContext(t)
	s := playSnapZone(t, ctx)
	n0 := s.nw.Nodes[0]
	ids, err := node.GovIDs(n0, s.zone)
	if err != nil {
		t.Fatal(err)
	}
	var some []lp.AlertID
	for id := range ids {
		some = append(some, id)
	}
	doc := lp.NewSnapshotDoc(some)
	snap := func(sender crypto.MemberID) *lp.Alert {
		a := s.alert(lp.KindSnapshot, sender)
		a.Snapshot = doc
		return a
	}
	check := func(name string, env []byte, want error) {
		t.Helper()
		if err := node.Deliver(n0, env); !errors.Is(err, want) {
			t.Errorf("%s: Deliver = %v, want %v", name, err, want)
		}
	}
	plain := s.ms[snapPromoted+snapDays/snapRemoveEvery+1] // neither promoted nor removed
	check("member", s.seal(t, plain.id, plain.chain, snap(plain.id.ID())), lp.ErrNotAllowed)

	verifier := s.ms[snapPromoted+snapDays/snapRemoveEvery+2]
	vc, err := lp.IssueCert(s.founder, s.zid, verifier.id.Public(), lp.RoleVerifier, s.clk.Now().Add(-time.Hour), s.clk.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	check("verifier", s.seal(t, verifier.id, lp.Chain{vc}, snap(verifier.id.ID())), lp.ErrNotAllowed)

	outsider, err := crypto.NewIdentity(s.seed)
	if err != nil {
		t.Fatal(err)
	}
	oc, err := lp.IssueCert(outsider, s.zid, outsider.Public(), lp.RoleOrganizer, s.clk.Now().Add(-time.Hour), s.clk.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	check("outsider", s.seal(t, outsider, lp.Chain{oc}, snap(outsider.ID())), lp.ErrChain)

	// The founder's organizer-certified member signs; one byte of its
	// signature is then changed.
	org := s.ms[snapMembers-1]
	orgc, err := lp.IssueCert(s.founder, s.zid, org.id.Public(), lp.RoleOrganizer, s.clk.Now().Add(-time.Hour), s.clk.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	sg, err := lp.Sign(org.id, lp.Chain{orgc}, snap(org.id.ID()))
	if err != nil {
		t.Fatal(err)
	}
	sg.Sig[len(sg.Sig)/2] ^= 1
	epoch, secret, err := node.ZoneKey(n0, s.zone)
	if err != nil {
		t.Fatal(err)
	}
	env, err := lp.Seal(secret.AlertKey(epoch), epoch, sg, s.seed)
	if err != nil {
		t.Fatal(err)
	}
	check("tampered signature", env, lp.ErrBadSignature)

	// A body changed after signing (one covered ID replaced).
	sg, err = lp.Sign(org.id, lp.Chain{orgc}, snap(org.id.ID()))
	if err != nil {
		t.Fatal(err)
	}
	sg.Body[len(sg.Body)-1] ^= 1
	env, err = lp.Seal(secret.AlertKey(epoch), epoch, sg, s.seed)
	if err != nil {
		t.Fatal(err)
	}
	check("tampered body", env, lp.ErrBadSignature)

	// A removed organizer's snapshot sent after its removal.
	removed := s.ms[snapPromoted]
	if !removed.removed {
		t.Fatal("set-up: member not removed")
	}
	rc, err := lp.IssueCert(s.founder, s.zid, removed.id.Public(), lp.RoleOrganizer, s.clk.Now().Add(-time.Hour), s.clk.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Deliver(n0, s.seal(t, removed.id, lp.Chain{rc}, snap(removed.id.ID()))); err == nil {
		t.Error("a removed organizer's snapshot was admitted")
	}
	if o := offerCount(t, n0, s.zone); o[lp.KindSnapshot] != 0 {
		t.Errorf("%d snapshots offered after only refused ones", o[lp.KindSnapshot])
	}
}
