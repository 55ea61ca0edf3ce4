package node_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"lookout/node"
	"lookout/node/api"
	"lookout/node/sim"
	lp "lookout/protocol"
)

// Governance as a durable, compacted log (issue 12, findings 2 and 4).

// members returns a node's view of a zone's members, sorted by ID.
func members(t testing.TB, n *node.Node, zone string) []api.Member {
	t.Helper()
	ms, err := n.Members(zone)
	if err != nil {
		t.Fatalf("members: %v", err)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
	return ms
}

func memberOf(ms []api.Member, id string) (api.Member, bool) {
	for _, m := range ms {
		if m.ID == id {
			return m, true
		}
	}
	return api.Member{}, false
}

func govStats(t testing.TB, n *node.Node, zone string) node.GovStats {
	t.Helper()
	s, err := node.Gov(n, zone)
	if err != nil {
		t.Fatalf("governance stats: %v", err)
	}
	return s
}

// waitKnows waits until node n lists member id with a KEM key (its
// announcement arrived).
func waitKnows(t *testing.T, ctx context.Context, n *node.Node, zone, id string) {
	t.Helper()
	err := sim.WaitFor(ctx, func() bool {
		m, ok := memberOf(members(t, n, zone), id)
		return ok && m.CanRekey
	})
	if err != nil {
		t.Fatalf("member %.8s never announced: %v", id, err)
	}
}

// TestGovMigratesOldRecord: a zone record written before governance had
// records of its own (the list inside the record) is moved at start: the
// messages become records, the zone record loses the list, the roster and
// settings stay the same.
func TestGovMigratesOldRecord(t *testing.T) {
	ctx := testContext(t)
	nw := startNet(t, ctx, 2, newClock())
	z := formZone(t, ctx, nw, "old", nil)
	n0 := nw.Nodes[0]
	waitKnows(t, ctx, n0, z.ID, nw.Nodes[1].MemberID().String())
	if _, err := n0.Promote(ctx, z.ID, nw.Nodes[1].MemberID().String(), "verifier"); err != nil {
		t.Fatal(err)
	}
	quorum := 3
	if _, err := n0.SetSettings(ctx, api.SettingsRequest{Zone: z.ID, Quorum: &quorum}); err != nil {
		t.Fatal(err)
	}
	wantMembers, wantSettings := members(t, n0, z.ID), mustSettings(t, n0, z.ID)
	before := govStats(t, n0, z.ID)
	if err := node.MakeLegacyGov(n0); err != nil {
		t.Fatal(err)
	}
	if s := govStats(t, n0, z.ID); s.Stored != 0 || !strings.Contains(string(storedZone(t, n0)), `"gov":`) {
		t.Fatalf("legacy form not written: %d records, zone record %d bytes", s.Stored, s.RecordBytes)
	}
	if err := nw.Restart(ctx, 0); err != nil {
		t.Fatal(err)
	}
	n0 = nw.Nodes[0]
	after := govStats(t, n0, z.ID)
	if after.Stored != before.Messages || after.Messages != before.Messages {
		t.Errorf("after migration: %d records, %d in memory; want %d", after.Stored, after.Messages, before.Messages)
	}
	if strings.Contains(string(storedZone(t, n0)), `"gov":`) {
		t.Error("zone record still carries the governance list")
	}
	if got := members(t, n0, z.ID); !reflect.DeepEqual(got, wantMembers) {
		t.Errorf("members after migration %+v, want %+v", got, wantMembers)
	}
	if got := mustSettings(t, n0, z.ID); got != wantSettings {
		t.Errorf("settings after migration %+v, want %+v", got, wantSettings)
	}
	// A second start finds nothing left to move.
	if err := nw.Restart(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if s := govStats(t, nw.Nodes[0], z.ID); s.Stored != before.Messages {
		t.Errorf("after a second start: %d records, want %d", s.Stored, before.Messages)
	}
}

func mustSettings(t testing.TB, n *node.Node, zone string) api.Settings {
	t.Helper()
	s, err := n.Settings(zone)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func storedZone(t testing.TB, n *node.Node) []byte {
	t.Helper()
	raw, err := node.StoredZones(n)
	if err != nil || len(raw) != 1 {
		t.Fatalf("stored zones: %v (%d)", err, len(raw))
	}
	return raw[0]
}

// TestGovAnnouncementsLatestOnly: re-announcing (each start, each day)
// replaces a member's announcement in memory and on disk; the zone record
// never grows with governance.
func TestGovAnnouncementsLatestOnly(t *testing.T) {
	ctx := testContext(t)
	clk := newClock()
	nw := startNet(t, ctx, 2, clk)
	z := formZone(t, ctx, nw, "daily", nil)
	waitKnows(t, ctx, nw.Nodes[0], z.ID, nw.Nodes[1].MemberID().String())
	first := govStats(t, nw.Nodes[0], z.ID)
	for day := range 5 {
		clk.Advance(25 * time.Hour)
		if err := nw.Restart(ctx, 1); err != nil { // announces on start
			t.Fatalf("day %d: %v", day, err)
		}
	}
	// The last restart's announcement has reached node 0 once node 1's
	// latest name and key are there and no older one is kept.
	err := sim.WaitFor(ctx, func() bool {
		s := govStats(t, nw.Nodes[1], z.ID)
		return s.Announcements == first.Announcements && s.Stored == s.Messages
	})
	if err != nil {
		t.Fatalf("announcements kept: %+v, want %d", govStats(t, nw.Nodes[1], z.ID), first.Announcements)
	}
	s := govStats(t, nw.Nodes[0], z.ID)
	if s.Announcements != first.Announcements || s.Stored != s.Messages || s.RecordBytes > first.RecordBytes+1024 {
		t.Errorf("after 5 days of announcements: %+v; first %+v", s, first)
	}
	t.Logf("kept %d governance messages (%d bytes), zone record %d bytes", s.Messages, s.Bytes, s.RecordBytes)
}

// TestGovCapSparesRemoval: past the cap on kept announcements, further
// announcements are dropped but a removal (and its rekey) still lands.
func TestGovCapSparesRemoval(t *testing.T) {
	old := node.SetMaxAnnouncements(2)
	t.Cleanup(func() { node.SetMaxAnnouncements(old) })
	ctx := testContext(t)
	nw := startNet(t, ctx, 4, newClock())
	z := formZone(t, ctx, nw, "capped", nil)
	victim := nw.Nodes[3].MemberID().String()
	// Node 3 is listed (as a sender) even if its announcement did not fit.
	if _, err := nw.Nodes[3].Report(ctx, api.ReportRequest{Zone: z.ID, What: "seen", Where: "here"}); err != nil {
		t.Fatal(err)
	}
	err := sim.WaitFor(ctx, func() bool {
		_, ok := memberOf(members(t, nw.Nodes[0], z.ID), victim)
		return ok
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range nw.Nodes {
		if s := govStats(t, n, z.ID); s.Announcements > 2 {
			t.Errorf("node %d keeps %d announcements, cap 2", i, s.Announcements)
		}
	}
	if _, err := nw.Nodes[0].Remove(ctx, z.ID, victim); err != nil {
		t.Fatal(err)
	}
	err = sim.WaitFor(ctx, func() bool {
		m, ok := memberOf(members(t, nw.Nodes[1], z.ID), victim)
		return ok && m.Removed
	})
	if err != nil {
		t.Fatalf("removal past the announcement cap never landed on node 1: %v", err)
	}
}

// TestRemoveAtomic: a removal whose write fails changes nothing, in memory
// or on disk, sends nothing, and says so; once the disk works it goes
// through, and a restart keeps the member removed and the new epoch. A
// member whose own write of the rekey fails stays at the old epoch in
// memory and on disk and gets it again by catch-up.
func TestRemoveAtomic(t *testing.T) {
	ctx := testContext(t)
	nw, err := sim.Start(ctx, sim.Config{Nodes: 3, Dir: t.TempDir(), Now: newClock().Now, RedialInterval: 200 * time.Millisecond, Logger: debugLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeNet(t, nw) })
	z := formZone(t, ctx, nw, "atomic", nil)
	n0, n1 := nw.Nodes[0], nw.Nodes[1]
	victim := nw.Nodes[2].MemberID().String()
	waitKnows(t, ctx, n0, z.ID, n1.MemberID().String())
	waitKnows(t, ctx, n0, z.ID, victim)

	node.FailWrites(n0, errors.New("disk full"))
	_, err = n0.Remove(ctx, z.ID, victim)
	wantErr(t, err, nil, "nothing was changed", "disk full")
	node.FailWrites(n0, nil)
	if m, _ := memberOf(members(t, n0, z.ID), victim); m.Removed {
		t.Error("failed removal: member removed in memory")
	}
	if e, _ := node.Epoch(n0, z.ID); e != 0 || readZones(t, n0)[0].Epoch != 0 {
		t.Errorf("failed removal: epoch %d in memory, %d on disk; want 0", e, readZones(t, n0)[0].Epoch)
	}
	barrier(t, ctx, nw, z.ID, 0, "after the failed removal")
	if m, _ := memberOf(members(t, n1, z.ID), victim); m.Removed {
		t.Error("failed removal reached another member")
	}

	// Node 1's disk fails while the removal arrives.
	node.FailWrites(n1, errors.New("disk full"))
	res, err := n0.Remove(ctx, z.ID, victim)
	if err != nil {
		t.Fatal(err)
	}
	if res.Epoch != 1 || readZones(t, n0)[0].Epoch != 1 {
		t.Fatalf("removal: epoch %d, on disk %d; want 1", res.Epoch, readZones(t, n0)[0].Epoch)
	}
	// Whatever node 1 received meanwhile, memory and disk agree.
	e1, _ := node.Epoch(n1, z.ID)
	if d := readZones(t, n1)[0].Epoch; e1 != d {
		t.Errorf("node 1 with a failing disk: epoch %d in memory, %d on disk", e1, d)
	}
	node.FailWrites(n1, nil)
	err = sim.WaitFor(ctx, func() bool {
		e, _ := node.Epoch(n1, z.ID)
		m, _ := memberOf(members(t, n1, z.ID), victim)
		return e == 1 && m.Removed
	})
	if err != nil {
		e, _ := node.Epoch(n1, z.ID)
		m, _ := memberOf(members(t, n1, z.ID), victim)
		t.Fatalf("node 1 never caught up the removal once its disk worked: %v (epoch %d, victim removed %v)", err, e, m.Removed)
	}
	for _, i := range []int{0, 1} {
		if err := nw.Restart(ctx, i); err != nil {
			t.Fatal(err)
		}
		n := nw.Nodes[i]
		e, _ := node.Epoch(n, z.ID)
		m, _ := memberOf(members(t, n, z.ID), victim)
		if e != 1 || !m.Removed || readZones(t, n)[0].Epoch != 1 {
			t.Errorf("node %d after restart: epoch %d, removed %v", i, e, m.Removed)
		}
	}
}

// TestLateJoinerGetsOldGovernance (finding 4): a member who joins more than
// 7 days (protocol.MaxLifetime) after co-signing was turned on, a member
// was promoted and another removed gets all three by catch-up, though
// every one of those messages has expired.
func TestLateJoinerGetsOldGovernance(t *testing.T) {
	ctx := testContext(t)
	clk := newClock()
	nw, err := sim.Start(ctx, sim.Config{Nodes: 4, Dir: t.TempDir(), Now: clk.Now, RedialInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeNet(t, nw) })
	n0 := nw.Nodes[0]
	z, err := n0.CreateZone(ctx, "late")
	if err != nil {
		t.Fatal(err)
	}
	joinZone(t, ctx, nw, z.ID, 1, "member")
	joinZone(t, ctx, nw, z.ID, 2, "member")
	verifier, removed := nw.Nodes[1].MemberID().String(), nw.Nodes[2].MemberID().String()
	waitKnows(t, ctx, n0, z.ID, verifier)
	waitKnows(t, ctx, n0, z.ID, removed)
	on := true
	if _, err := n0.SetSettings(ctx, api.SettingsRequest{Zone: z.ID, Cosign: &on}); err != nil {
		t.Fatal(err)
	}
	if _, err := n0.Promote(ctx, z.ID, verifier, "verifier"); err != nil {
		t.Fatal(err)
	}
	if _, err := n0.Remove(ctx, z.ID, removed); err != nil {
		t.Fatal(err)
	}
	want := members(t, n0, z.ID)
	clk.Advance(lp.MaxLifetime + 24*time.Hour) // every message above has expired
	joinZone(t, ctx, nw, z.ID, 3, "member")
	n3 := nw.Nodes[3]
	err = sim.WaitFor(ctx, func() bool {
		v, _ := memberOf(members(t, n3, z.ID), verifier)
		r, _ := memberOf(members(t, n3, z.ID), removed)
		e, _ := node.Epoch(n3, z.ID)
		return mustSettings(t, n3, z.ID).Cosign && v.Role == "verifier" && v.Name != "" && r.Removed && r.Name != "" && e == 1
	})
	if err != nil {
		t.Fatalf("late joiner: settings %+v, members %+v", mustSettings(t, n3, z.ID), members(t, n3, z.ID))
	}
	// The joiner's roster becomes the founder's, plus the joiner itself.
	differ := func() string {
		got := members(t, n3, z.ID)
		for _, w := range want {
			g, ok := memberOf(got, w.ID)
			if !ok || g.Role != w.Role || g.Removed != w.Removed || g.Name != w.Name {
				return fmt.Sprintf("member %.8s: joiner has %+v, founder %+v", w.ID, g, w)
			}
		}
		return ""
	}
	if err := sim.WaitFor(ctx, func() bool { return differ() == "" }); err != nil {
		t.Fatal(differ())
	}
}

// TestKEMKeyMadeOnceAtStart: a fresh member's KEM key is made when its node
// starts, not lazily by whichever announcement comes first. Two
// announcements racing (the join's and upkeep's, at a 200 ms redial) once
// made two keys: organizers sealed new epochs to the announced one, the
// store kept the other, and the member could never open a rekey.
func TestKEMKeyMadeOnceAtStart(t *testing.T) {
	ctx := testContext(t)
	nw, err := sim.Start(ctx, sim.Config{Nodes: 3, Dir: t.TempDir(), Now: newClock().Now, RedialInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeNet(t, nw) })
	before := make([][]byte, len(nw.Nodes))
	for i, n := range nw.Nodes {
		a, s, err := node.KEMKeys(n)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, s) {
			t.Fatalf("node %d at start: announces one KEM key, stores another", i)
		}
		before[i] = a
	}
	z := formZone(t, ctx, nw, "kem", nil)
	for i, n := range nw.Nodes {
		waitKnows(t, ctx, nw.Nodes[0], z.ID, n.MemberID().String())
		a, s, err := node.KEMKeys(n)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, before[i]) || !bytes.Equal(s, before[i]) {
			t.Errorf("node %d: KEM key changed after joining", i)
		}
	}
	// Every member opens the rekey of a removal.
	if _, err := nw.Nodes[0].Remove(ctx, z.ID, nw.Nodes[2].MemberID().String()); err != nil {
		t.Fatal(err)
	}
	err = sim.WaitFor(ctx, func() bool {
		e, _ := node.Epoch(nw.Nodes[1], z.ID)
		return e == 1
	})
	if err != nil {
		t.Fatalf("node 1 never opened the rekey: %v", err)
	}
}
