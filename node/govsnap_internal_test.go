package node

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"lookout/crypto"
	core "lookout/node/internal/zone"
	"lookout/protocol"
)

// latestGrants is, per subject, the ID of the latest actual grant sent with
// the organizer role (what core.Rules.FoldGrants keeps).
func latestGrants(gs []*GovMsg) map[crypto.MemberID]protocol.AlertID {
	latest := map[crypto.MemberID]*GovMsg{}
	for _, g := range gs {
		m := g.Msg
		if m.Alert.Kind != protocol.KindRole || m.Role != protocol.RoleOrganizer || m.Alert.Exercise() {
			continue
		}
		c, err := protocol.ParseCert(m.Alert.Cert)
		if err != nil {
			continue
		}
		if s := c.Subject.ID(); newer(g, latest[s]) {
			latest[s] = g
		}
	}
	out := map[crypto.MemberID]protocol.AlertID{}
	for s, g := range latest {
		out[s] = g.Msg.ID
	}
	return out
}

// TestCoverableKeepsFold: leaving out what a snapshot may cover never
// changes the roster or the latest grant per member, with grants from
// the founder, from an organizer removed half-way (its later grants do not
// count) and from an organizer that sends nothing but grants, grants for
// the founder, exercise grants and settings changes, in random orders.
func TestCoverableKeepsFold(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newGovFixture(t, 8, start)
	for _, i := range []int{0, 1} { // organizers besides the founder
		c, err := protocol.IssueCert(f.root, f.zone, f.ids[i].Public(), protocol.RoleOrganizer, start, start.Add(protocol.DefaultCertTTL*4))
		if err != nil {
			t.Fatal(err)
		}
		f.chains[i][protocol.RoleOrganizer] = protocol.Chain{c, f.rootC[0]}
	}
	roles := []protocol.Role{protocol.RoleMember, protocol.RoleVerifier, protocol.RoleOrganizer}
	for seed := range uint64(4) {
		r := rand.New(rand.NewPCG(seed, 12))
		sent := func() time.Time { return start.Add(time.Duration(r.IntN(300*24)) * time.Hour) }
		all := []*GovMsg{
			f.announce(0, protocol.RoleOrganizer, start, "zero", false), // organizer 1 announces nothing
			f.remove(0, start.Add(150*24*time.Hour)),
			f.msg(-1, protocol.RoleOrganizer, &protocol.Alert{Kind: protocol.KindSettings, Sent: sent(), Settings: protocol.DefaultSettings().Wire(), Status: protocol.StatusActual}),
		}
		for i := 2; i < len(f.ids); i++ {
			all = append(all, f.announce(i, protocol.RoleMember, sent(), "m", false))
		}
		for range 60 {
			issuer := r.IntN(3) - 1 // the founder, organizer 0 or organizer 1
			subject := f.ids[2+r.IntN(len(f.ids)-2)].Public()
			if r.IntN(15) == 0 {
				subject = f.root.Public()
			}
			id := f.root
			if issuer >= 0 {
				id = f.ids[issuer]
			}
			c, err := protocol.IssueCert(id, f.zone, subject, roles[r.IntN(len(roles))], start, start.Add(protocol.DefaultCertTTL*4))
			if err != nil {
				t.Fatal(err)
			}
			role := protocol.RoleOrganizer
			a := &protocol.Alert{Kind: protocol.KindRole, Sent: sent(), Cert: c.Bytes(), Status: protocol.StatusActual}
			if r.IntN(10) == 0 {
				a.Status = protocol.StatusExercise
			}
			all = append(all, f.msg(issuer, role, a))
		}
		r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		want := foldOf(all, f.root.ID())
		z := &zone{State: core.State{Gov: map[protocol.AlertID]*GovMsg{}, Fold: core.Folded{Roster: want}}, root: f.root.Public()}
		for _, g := range all {
			z.Gov[g.Msg.ID] = g
		}
		cov := z.coverableLocked()
		var rest []*GovMsg
		for _, g := range all {
			if _, ok := cov[g.Msg.ID]; !ok {
				rest = append(rest, g)
			} else if g.Msg.Alert.Kind != protocol.KindRole {
				t.Fatalf("seed %d: a %s is coverable", seed, g.Msg.Alert.Kind)
			}
		}
		if len(cov) < 20 {
			t.Fatalf("seed %d: only %d of 60 grants coverable", seed, len(cov))
		}
		if got := foldOf(rest, f.root.ID()); !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: roster changed by leaving out %d coverable grants:\n got %+v\nwant %+v", seed, len(cov), got.Members, want.Members)
		}
		if got, want := latestGrants(rest), latestGrants(all); !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: latest grants changed:\n got %v\nwant %v", seed, got, want)
		}
		// An organizer that sends only grants keeps at least one.
		kept := 0
		for _, g := range rest {
			if g.Msg.Alert.Sender == f.ids[1].ID() {
				kept++
			}
		}
		if kept == 0 {
			t.Fatalf("seed %d: every grant of an organizer known only from its grants is coverable", seed)
		}
	}
}

// TestCoverableKeepsSoleOrganizerGrant: an organizer whose only message
// is a grant since superseded keeps it (the roster counts it an organizer
// from that grant alone).
func TestCoverableKeepsSoleOrganizerGrant(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newGovFixture(t, 3, start)
	oc, err := protocol.IssueCert(f.root, f.zone, f.ids[0].Public(), protocol.RoleOrganizer, start, start.Add(protocol.DefaultCertTTL))
	if err != nil {
		t.Fatal(err)
	}
	f.chains[0][protocol.RoleOrganizer] = protocol.Chain{oc, f.rootC[0]}
	grant := func(issuer int, by *crypto.Identity, at time.Time) *GovMsg {
		c, err := protocol.IssueCert(by, f.zone, f.ids[1].Public(), protocol.RoleVerifier, at, at.Add(protocol.DefaultCertTTL))
		if err != nil {
			t.Fatal(err)
		}
		return f.msg(issuer, protocol.RoleOrganizer, &protocol.Alert{Kind: protocol.KindRole, Sent: at, Cert: c.Bytes(), Status: protocol.StatusActual})
	}
	first := grant(0, f.ids[0], start.Add(time.Hour))
	all := []*GovMsg{first, grant(-1, f.root, start.Add(2*time.Hour)), grant(-1, f.root, start.Add(3*time.Hour))}
	want := foldOf(all, f.root.ID())
	z := &zone{State: core.State{Gov: map[protocol.AlertID]*GovMsg{}, Fold: core.Folded{Roster: want}}, root: f.root.Public()}
	for _, g := range all {
		z.Gov[g.Msg.ID] = g
	}
	cov := z.coverableLocked()
	if _, ok := cov[first.Msg.ID]; ok || len(cov) != 1 {
		t.Fatalf("coverable %d grants, the sole organizer's among them: %v", len(cov), ok)
	}
	if want.Members[f.ids[0].ID()].Role != protocol.RoleOrganizer {
		t.Fatal("set-up: the sender is not an organizer in the roster")
	}
}

// BenchmarkSnapshotThreeYears is the cost a serving node adds to each
// catch-up for snapshots (skippedLocked: what to leave out), for the
// three-year zone of BenchmarkFoldThreeYears with two renewals of every
// member on top, and how many governance messages it still offers
// (docs/perf.md "Governance after three years").
func BenchmarkSnapshotThreeYears(b *testing.B) {
	compacted, _, _ := threeYears(b)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newGovFixture(b, 200, start) // the same seed: the same identities as threeYears
	gov := append([]*GovMsg(nil), compacted...)
	for year := 1; year <= 2; year++ {
		for i := range f.ids {
			at := start.Add(time.Duration(year*365)*24*time.Hour + time.Duration(i)*time.Minute)
			c, err := protocol.IssueCert(f.root, f.zone, f.ids[i].Public(), protocol.RoleMember, at, at.Add(protocol.DefaultCertTTL))
			if err != nil {
				b.Fatal(err)
			}
			gov = append(gov, f.msg(-1, protocol.RoleOrganizer, &protocol.Alert{Kind: protocol.KindRole, Sent: at, Cert: c.Bytes(), Status: protocol.StatusActual}))
		}
	}
	z := &zone{State: core.State{Gov: map[protocol.AlertID]*GovMsg{}}, root: f.root.Public()}
	for _, g := range gov {
		z.Gov[g.Msg.ID] = g
	}
	z.refoldRoster()
	var ids []protocol.AlertID
	for id := range z.coverableLocked() {
		ids = append(ids, id)
	}
	snap := f.msg(-1, protocol.RoleOrganizer, &protocol.Alert{Kind: protocol.KindSnapshot, Sent: start.Add(3 * 365 * 24 * time.Hour),
		Snapshot: protocol.NewSnapshotDoc(ids), Status: protocol.StatusActual})
	z.Gov[snap.Msg.ID] = snap
	z.refoldRoster()
	for _, c := range []struct {
		name  string
		reset func()
	}{
		{"answer", func() {}}, // what each catch-up answer costs
		{"after-change", func() { z.Coverable, z.Skipped = nil, nil }}, // the first answer after governance changed
	} {
		b.Run(c.name, func(b *testing.B) {
			var skipped int
			for b.Loop() {
				c.reset()
				skipped = len(z.skippedLocked(0))
			}
			b.ReportMetric(float64(len(z.Gov)), "kept")
			b.ReportMetric(float64(len(z.Gov)-skipped), "offered")
			b.ReportMetric(float64(len(snap.Msg.Body)), "snapshot-body-bytes")
		})
	}
}
