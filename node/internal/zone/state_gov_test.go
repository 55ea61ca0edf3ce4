package zone

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"lookout/crypto"
	"lookout/node/internal/zone/zonetest"
	"lookout/protocol"
)

// logFixture is a zone's root and members (zonetest.Members), for
// building governance messages without a node.
type logFixture struct{ *zonetest.Members }

func newLogFixture(t testing.TB, members int, start time.Time) *logFixture {
	t.Helper()
	return &logFixture{zonetest.New(t, members, start)}
}

// msg signs a governance message; i < 0 is the root.
func (f *logFixture) msg(i int, role protocol.Role, a *protocol.Alert) *GovMsg {
	f.T.Helper()
	return &GovMsg{Msg: f.Sign(i, role, a)}
}

func (f *logFixture) announce(i int, role protocol.Role, sent time.Time, name string, exercise bool) *GovMsg {
	return f.msg(i, role, f.Announcement(sent, name, exercise))
}

func (f *logFixture) remove(i int, sent time.Time) *GovMsg {
	return f.msg(-1, protocol.RoleOrganizer, &protocol.Alert{Kind: protocol.KindRemove, Sent: sent, Subject: f.IDs[i].ID(), Status: protocol.StatusActual})
}

func foldOf(gs []*GovMsg, root crypto.MemberID) protocol.Roster {
	msgs := make([]*protocol.Message, len(gs))
	for i, g := range gs {
		msgs[i] = g.Msg
	}
	return protocol.FoldRoster(msgs, root, protocol.DefaultSettings())
}

// TestCompactionKeepsFold: dropping what compaction drops never changes
// the roster, with announcements of several roles, exercise ones, and
// members removed between two of their announcements (issue 12, finding 2).
func TestCompactionKeepsFold(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newLogFixture(t, 6, start)
	r := rand.New(rand.NewPCG(1, 2))
	var all []*GovMsg
	for k := range 120 {
		i := r.IntN(len(f.IDs))
		role := protocol.RoleMember
		if i%2 == 1 && r.IntN(3) == 0 {
			role = protocol.RoleVerifier
		}
		sent := start.Add(time.Duration(r.IntN(90*24)) * time.Hour)
		all = append(all, f.announce(i, role, sent, "m"+string(rune('a'+k%26)), r.IntN(10) == 0))
	}
	// Members 0 and 1 removed in the middle of their announcements.
	all = append(all, f.remove(0, start.Add(30*24*time.Hour)), f.remove(1, start.Add(60*24*time.Hour)))
	want := foldOf(all, f.Root.ID())

	z := &State{gov: map[protocol.AlertID]*GovMsg{}, rootID: f.Root.ID()}
	for _, g := range all {
		z.gov[g.Msg.ID] = g
	}
	z.fold.Roster = want
	drop := z.compactGovLocked(nil)
	for _, id := range drop {
		delete(z.gov, id)
	}
	var kept []*GovMsg
	announcements := 0
	for _, g := range z.gov {
		kept = append(kept, g)
		if g.Msg.Alert.Kind == protocol.KindMember {
			announcements++
		}
	}
	if got := foldOf(kept, f.Root.ID()); !reflect.DeepEqual(got, want) {
		t.Fatalf("roster changed by compaction:\n got %+v\nwant %+v", got.Members, want.Members)
	}
	// At most one per (role, status) and one more for a removed member.
	if max := len(f.IDs)*4 + 2; announcements > max || len(drop) == 0 {
		t.Errorf("kept %d announcements (dropped %d), want at most %d", announcements, len(drop), max)
	}
	for _, id := range []int{0, 1} {
		if want.Members[f.IDs[id].ID()].Name == "" {
			t.Errorf("removed member %d lost the name it had before its removal", id)
		}
	}

	// One by one, in sent order with the removals known first (as a node
	// that holds the zone's history), AdmitGov keeps the same fold.
	inc := &State{gov: map[protocol.AlertID]*GovMsg{}, rootID: f.Root.ID()}
	for _, g := range all[len(all)-2:] {
		inc.gov[g.Msg.ID] = g
	}
	inc.fold.Roster = foldOf(all[len(all)-2:], f.Root.ID())
	for _, g := range all[:len(all)-2] {
		keep, drop := inc.AdmitGov(g.Msg, nil, 4096)
		if !keep {
			continue
		}
		inc.gov[g.Msg.ID] = g
		for _, id := range drop {
			delete(inc.gov, id)
		}
	}
	var incKept []*GovMsg
	for _, g := range inc.gov {
		incKept = append(incKept, g)
	}
	if got := foldOf(incKept, f.Root.ID()); !reflect.DeepEqual(got, want) {
		t.Fatalf("roster after one-by-one admission:\n got %+v\nwant %+v", got.Members, want.Members)
	}
}

// threeYears builds the governance a 200-member zone holds after three
// years: with compaction, one announcement per member; without, one per
// member per day (copies of the signed ones with other sent times and IDs:
// folding verifies nothing). Both have ~50 role grants, ~40 removals and
// ~12 settings changes.
func threeYears(b *testing.B) (compacted, full []*GovMsg, root *crypto.PublicKey) {
	const members, days = 200, 3 * 365
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newLogFixture(b, members, start)
	var org []*GovMsg
	for k := range 50 {
		c, err := protocol.IssueCert(f.Root, f.Zone, f.IDs[k*3].Public(), protocol.RoleVerifier, start, start.Add(protocol.DefaultCertTTL))
		if err != nil {
			b.Fatal(err)
		}
		org = append(org, f.msg(-1, protocol.RoleOrganizer, &protocol.Alert{Kind: protocol.KindRole, Sent: start.Add(time.Duration(k*22) * 24 * time.Hour), Cert: c.Bytes(), Status: protocol.StatusActual}))
	}
	for k := range 40 {
		org = append(org, f.remove(members-1-k, start.Add(time.Duration(13+k*27)*24*time.Hour)))
	}
	for k := range 12 {
		s := protocol.DefaultSettings()
		s.MaxReports = 5 + k%3
		org = append(org, f.msg(-1, protocol.RoleOrganizer, &protocol.Alert{Kind: protocol.KindSettings, Sent: start.Add(time.Duration(45+k*91) * 24 * time.Hour), Settings: s.Wire(), Status: protocol.StatusActual}))
	}
	compacted = append(compacted, org...)
	full = append(full, org...)
	for i := range members {
		g := f.announce(i, protocol.RoleMember, start, "m", false)
		for d := range days {
			a := *g.Msg.Alert
			a.Sent = start.Add(time.Duration(d) * 24 * time.Hour)
			s := *g.Msg.Signed
			s.Alert = &a
			s.ID[0], s.ID[1], s.ID[2] = byte(d), byte(d>>8), byte(i)
			m := &GovMsg{Msg: &protocol.Message{Signed: &s, Role: g.Msg.Role}}
			full = append(full, m)
			if d == days-1 {
				compacted = append(compacted, m)
			}
		}
	}
	return compacted, full, f.Root.Public()
}

// BenchmarkFoldThreeYears is the cost of folding a zone's governance after
// three years of a 200-member zone (what a node does for each governance
// message it admits, and at start), with latest-only announcements and
// without (docs/perf.md "Governance after three years").
func BenchmarkFoldThreeYears(b *testing.B) {
	compacted, full, root := threeYears(b)
	for _, c := range []struct {
		name string
		gov  []*GovMsg
	}{{"compacted", compacted}, {"all", full}} {
		b.Run(c.name, func(b *testing.B) {
			z := &State{gov: map[protocol.AlertID]*GovMsg{}, rootID: root.ID()}
			for _, g := range c.gov {
				z.gov[g.Msg.ID] = g
			}
			for b.Loop() {
				z.refoldLocked()
			}
			b.ReportMetric(float64(len(z.gov)), "messages")
		})
	}
}

// latestGrants is, per subject, the ID of the latest actual grant sent with
// the organizer role (what Rules.FoldGrants keeps).
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
	f := newLogFixture(t, 8, start)
	for _, i := range []int{0, 1} { // organizers besides the founder
		c, err := protocol.IssueCert(f.Root, f.Zone, f.IDs[i].Public(), protocol.RoleOrganizer, start, start.Add(protocol.DefaultCertTTL*4))
		if err != nil {
			t.Fatal(err)
		}
		f.Chains[i][protocol.RoleOrganizer] = protocol.Chain{c, f.RootC[0]}
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
		for i := 2; i < len(f.IDs); i++ {
			all = append(all, f.announce(i, protocol.RoleMember, sent(), "m", false))
		}
		for range 60 {
			issuer := r.IntN(3) - 1 // the founder, organizer 0 or organizer 1
			subject := f.IDs[2+r.IntN(len(f.IDs)-2)].Public()
			if r.IntN(15) == 0 {
				subject = f.Root.Public()
			}
			id := f.Root
			if issuer >= 0 {
				id = f.IDs[issuer]
			}
			c, err := protocol.IssueCert(id, f.Zone, subject, roles[r.IntN(len(roles))], start, start.Add(protocol.DefaultCertTTL*4))
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
		want := foldOf(all, f.Root.ID())
		z := &State{gov: map[protocol.AlertID]*GovMsg{}, fold: Folded{Roster: want}, rootID: f.Root.ID()}
		for _, g := range all {
			z.gov[g.Msg.ID] = g
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
		if got := foldOf(rest, f.Root.ID()); !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: roster changed by leaving out %d coverable grants:\n got %+v\nwant %+v", seed, len(cov), got.Members, want.Members)
		}
		if got, want := latestGrants(rest), latestGrants(all); !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: latest grants changed:\n got %v\nwant %v", seed, got, want)
		}
		// An organizer that sends only grants keeps at least one.
		kept := 0
		for _, g := range rest {
			if g.Msg.Alert.Sender == f.IDs[1].ID() {
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
	f := newLogFixture(t, 3, start)
	oc, err := protocol.IssueCert(f.Root, f.Zone, f.IDs[0].Public(), protocol.RoleOrganizer, start, start.Add(protocol.DefaultCertTTL))
	if err != nil {
		t.Fatal(err)
	}
	f.Chains[0][protocol.RoleOrganizer] = protocol.Chain{oc, f.RootC[0]}
	grant := func(issuer int, by *crypto.Identity, at time.Time) *GovMsg {
		c, err := protocol.IssueCert(by, f.Zone, f.IDs[1].Public(), protocol.RoleVerifier, at, at.Add(protocol.DefaultCertTTL))
		if err != nil {
			t.Fatal(err)
		}
		return f.msg(issuer, protocol.RoleOrganizer, &protocol.Alert{Kind: protocol.KindRole, Sent: at, Cert: c.Bytes(), Status: protocol.StatusActual})
	}
	first := grant(0, f.IDs[0], start.Add(time.Hour))
	all := []*GovMsg{first, grant(-1, f.Root, start.Add(2*time.Hour)), grant(-1, f.Root, start.Add(3*time.Hour))}
	want := foldOf(all, f.Root.ID())
	z := &State{gov: map[protocol.AlertID]*GovMsg{}, fold: Folded{Roster: want}, rootID: f.Root.ID()}
	for _, g := range all {
		z.gov[g.Msg.ID] = g
	}
	cov := z.coverableLocked()
	if _, ok := cov[first.Msg.ID]; ok || len(cov) != 1 {
		t.Fatalf("coverable %d grants, the sole organizer's among them: %v", len(cov), ok)
	}
	if want.Members[f.IDs[0].ID()].Role != protocol.RoleOrganizer {
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
	f := newLogFixture(b, 200, start) // the same seed: the same identities as threeYears
	gov := append([]*GovMsg(nil), compacted...)
	for year := 1; year <= 2; year++ {
		for i := range f.IDs {
			at := start.Add(time.Duration(year*365)*24*time.Hour + time.Duration(i)*time.Minute)
			c, err := protocol.IssueCert(f.Root, f.Zone, f.IDs[i].Public(), protocol.RoleMember, at, at.Add(protocol.DefaultCertTTL))
			if err != nil {
				b.Fatal(err)
			}
			gov = append(gov, f.msg(-1, protocol.RoleOrganizer, &protocol.Alert{Kind: protocol.KindRole, Sent: at, Cert: c.Bytes(), Status: protocol.StatusActual}))
		}
	}
	root := f.Root.Public()
	z := &State{gov: map[protocol.AlertID]*GovMsg{}, rootID: root.ID()}
	for _, g := range gov {
		z.gov[g.Msg.ID] = g
	}
	z.refoldLocked()
	var ids []protocol.AlertID
	for id := range z.coverableLocked() {
		ids = append(ids, id)
	}
	snap := f.msg(-1, protocol.RoleOrganizer, &protocol.Alert{Kind: protocol.KindSnapshot, Sent: start.Add(3 * 365 * 24 * time.Hour),
		Snapshot: protocol.NewSnapshotDoc(ids), Status: protocol.StatusActual})
	z.gov[snap.Msg.ID] = snap
	z.refoldLocked()
	for _, c := range []struct {
		name  string
		reset func()
	}{
		{"answer", func() {}}, // what each catch-up answer costs
		{"after-change", func() { z.coverable, z.skipped = nil, nil }}, // the first answer after governance changed
	} {
		b.Run(c.name, func(b *testing.B) {
			var skipped int
			for b.Loop() {
				c.reset()
				skipped = len(z.skippedLocked(0))
			}
			b.ReportMetric(float64(len(z.gov)), "kept")
			b.ReportMetric(float64(len(z.gov)-skipped), "offered")
			b.ReportMetric(float64(len(snap.Msg.Body)), "snapshot-body-bytes")
		})
	}
}

// grantFor is a role grant from the founder to member i's key, sent at.
func (f *logFixture) grantFor(i int, role protocol.Role, at time.Time) *GovMsg {
	f.T.Helper()
	c, err := protocol.IssueCert(f.Root, f.Zone, f.IDs[i].Public(), role, at, at.Add(protocol.DefaultCertTTL))
	if err != nil {
		f.T.Fatal(err)
	}
	return f.msg(-1, protocol.RoleOrganizer, &protocol.Alert{Kind: protocol.KindRole, Sent: at, Cert: c.Bytes(), Status: protocol.StatusActual})
}

// stateOf is a State holding gs as governance, folded, at epoch 0 with
// secret.
func (f *logFixture) stateOf(secret crypto.ZoneSecret, gs ...*GovMsg) *State {
	s := NewStateFrom(Membership{Root: f.Root.Public(), Epochs: map[uint32]crypto.ZoneSecret{0: secret}}, Record{})
	for _, g := range gs {
		s.gov[g.Msg.ID] = g
	}
	s.refoldLocked()
	return &s
}

// TestAdmitGov: a message held is not kept again; a message of another
// kind is kept; a later announcement of a group is kept and drops the
// earlier, an earlier one is not kept; a new group is refused at the cap,
// a replacement is not.
func TestAdmitGov(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newLogFixture(t, 3, start)
	first := f.announce(0, protocol.RoleMember, start.Add(time.Hour), "a", false)
	s := f.stateOf(crypto.ZoneSecret{}, first)
	if keep, _ := s.AdmitGov(first.Msg, nil, 10); keep {
		t.Error("a message held is kept again")
	}
	if keep, drop := s.AdmitGov(f.grantFor(1, protocol.RoleVerifier, start).Msg, nil, 0); !keep || drop != nil {
		t.Errorf("a role grant at the cap: keep %v, drop %v", keep, drop)
	}
	later := f.announce(0, protocol.RoleMember, start.Add(2*time.Hour), "a2", false)
	if keep, drop := s.AdmitGov(later.Msg, nil, 1); !keep || len(drop) != 1 || drop[0] != first.Msg.ID {
		t.Errorf("a later announcement at the cap: keep %v, drop %v; want kept, dropping the first", keep, drop)
	}
	if keep, _ := s.AdmitGov(f.announce(0, protocol.RoleMember, start, "a0", false).Msg, nil, 10); keep {
		t.Error("an announcement older than the one held is kept")
	}
	other := f.announce(1, protocol.RoleMember, start, "b", false)
	if keep, _ := s.AdmitGov(other.Msg, nil, 1); keep {
		t.Error("a new group is kept at the cap")
	}
	if keep, drop := s.AdmitGov(other.Msg, nil, 2); !keep || drop != nil {
		t.Errorf("a new group under the cap: keep %v, drop %v", keep, drop)
	}
	if len(s.gov) != 1 {
		t.Errorf("AdmitGov changed what is held: %d messages", len(s.gov))
	}
}

// TestApplyGov: what is written is held, seen and folded, senders' keys
// known; a new chain, a removal (once) and a move to the next epoch are
// reported, the epoch left straggling until EndStraggle names it.
func TestApplyGov(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newLogFixture(t, 2, start)
	s := f.stateOf(crypto.ZoneSecret{1})
	ann := f.announce(0, protocol.RoleMember, start, "ana", false)
	got := s.ApplyGov([]*GovMsg{ann}, nil, GovChange{})
	if got != (GovApplied{}) {
		t.Errorf("an announcement changed %+v for this member", got)
	}
	if s.gov[ann.Msg.ID] != ann || !s.msgs.Seen(ann.Msg.ID) || s.pubkeys[f.IDs[0].ID()] == nil {
		t.Error("the announcement is not held, seen and its sender's key known")
	}
	if mi := s.fold.Roster.Members[f.IDs[0].ID()]; mi == nil || mi.Name != "ana" {
		t.Errorf("roster not refolded: %+v", mi)
	}
	next := &EpochSwitch{Epoch: 1, Secret: crypto.ZoneSecret{2}}
	chain := f.Chains[0][protocol.RoleVerifier]
	got = s.ApplyGov(nil, []protocol.AlertID{ann.Msg.ID}, GovChange{Chain: chain, Role: protocol.RoleVerifier, Removed: true, Next: next})
	if want := (GovApplied{NewRole: true, Removed: true, Moved: true, From: 0}); got != want {
		t.Errorf("ApplyGov = %+v, want %+v", got, want)
	}
	if _, ok := s.gov[ann.Msg.ID]; ok {
		t.Error("a dropped announcement is still held")
	}
	if st := s.Standing(); st.Role != protocol.RoleVerifier || !st.Removed || s.epoch != 1 || s.Secrets()[1] != next.Secret {
		t.Errorf("role %v removed %v epoch %d", st.Role, st.Removed, s.epoch)
	}
	if got := s.ApplyGov(nil, nil, GovChange{Removed: true}); got.Removed {
		t.Error("a second removal is reported")
	}
	s.EndStraggle(1)
	if !s.Straggling() {
		t.Error("EndStraggle of another epoch ended the straggling one")
	}
	s.EndStraggle(0)
	if s.Straggling() {
		t.Error("epoch 0 still straggling")
	}
}

// TestSyncAnswer: a member proving an epoch held, with a digest of other
// messages, is offered the set of that epoch, in order (rekeys to later
// epochs included, other messages of later epochs left out; removals
// after what was sent at the same time), with the epoch's alert key; one
// holding the same set, one with a wrong token or an epoch not held, is
// offered nothing.
func TestSyncAnswer(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newLogFixture(t, 2, start)
	rm := f.remove(1, start)
	ann := f.announce(0, protocol.RoleMember, start, "ana", false)
	later := f.announce(0, protocol.RoleVerifier, start.Add(time.Hour), "ana", false)
	later.Msg.Epoch = 1
	// A rekey to epoch 1 (its entries do not matter here: made from a
	// settings message, as folding verifies nothing).
	rk := f.msg(-1, protocol.RoleOrganizer, &protocol.Alert{Kind: protocol.KindSettings, Sent: start.Add(time.Minute), Settings: protocol.DefaultSettings().Wire(), Status: protocol.StatusActual})
	rk.Msg.Alert.Kind, rk.Msg.Alert.Epoch = protocol.KindRekey, 1
	secret := crypto.ZoneSecret{7}
	s := f.stateOf(secret, rm, ann, later, rk)
	secret0, set := s.SyncSet(0, start)
	if secret0 != secret {
		t.Error("SyncSet returns another secret")
	}
	ids := SyncIDs(set)
	if want := []protocol.AlertID{ann.Msg.ID, rm.Msg.ID, rk.Msg.ID}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("sync set of epoch 0 = %v, want %v", ids, want)
	}
	key := secret.SyncKey(0)
	hello := &protocol.SyncHello{Nonce: [protocol.SyncNonceSize]byte{9}}
	zone := func(epoch uint32, token [protocol.SyncTokenSize]byte, held []protocol.AlertID) {
		hello.Zones = []protocol.SyncZone{{Epoch: epoch, Token: token, Digest: protocol.SyncDigest(key, hello.Nonce[:], held)}}
	}
	token := protocol.SyncToken(key, hello.Nonce[:], "asker", "me")
	zone(0, token, nil)
	offer := s.SyncAnswer(hello, "asker", "me", start)
	if len(offer) != len(set) {
		t.Fatalf("offered %d, want %d", len(offer), len(set))
	}
	for i, o := range offer {
		if o.ID != ids[i] || o.Epoch != 0 || o.Key == nil {
			t.Errorf("offer %d = %v at epoch %d", i, o.ID, o.Epoch)
		}
	}
	zone(0, token, ids)
	if offer := s.SyncAnswer(hello, "asker", "me", start); len(offer) != 0 {
		t.Errorf("a member holding the set is offered %d", len(offer))
	}
	zone(0, protocol.SyncToken(key, hello.Nonce[:], "me", "asker"), nil)
	if offer := s.SyncAnswer(hello, "asker", "me", start); len(offer) != 0 {
		t.Errorf("a wrong token is offered %d", len(offer))
	}
	zone(3, token, nil)
	if offer := s.SyncAnswer(hello, "asker", "me", start); len(offer) != 0 {
		t.Errorf("an epoch not held is offered %d", len(offer))
	}
}

// TestSnapshotDue: an organizer with superseded grants is due a snapshot
// of them, oldest first, once at least minCovered are covered by no
// snapshot, and not again within snapshotEvery of its own; a member, or
// an expired chain, is never due one.
func TestSnapshotDue(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newLogFixture(t, 2, start)
	g1, g2 := f.grantFor(0, protocol.RoleMember, start), f.grantFor(1, protocol.RoleMember, start.Add(time.Hour))
	gs := []*GovMsg{g1, g2, f.grantFor(0, protocol.RoleMember, start.Add(2*time.Hour)), f.grantFor(1, protocol.RoleMember, start.Add(3*time.Hour))}
	s := f.stateOf(crypto.ZoneSecret{}, gs...)
	s.role, s.chain = protocol.RoleOrganizer, f.RootC
	self, now := f.Root.ID(), start.Add(48*time.Hour)
	want := []protocol.AlertID{g1.Msg.ID, g2.Msg.ID}
	if ids := s.SnapshotDue(self, now, 2); !reflect.DeepEqual(ids, want) {
		t.Fatalf("SnapshotDue = %v, want %v", ids, want)
	}
	if ids := s.SnapshotDue(self, now, 3); ids != nil {
		t.Errorf("due with fewer than minCovered: %v", ids)
	}
	if ids := s.SnapshotDue(self, f.RootC.Expires(), 1); ids != nil {
		t.Errorf("due with an expired chain: %v", ids)
	}
	snap := f.msg(-1, protocol.RoleOrganizer, &protocol.Alert{Kind: protocol.KindSnapshot, Sent: now.Add(-time.Hour), Snapshot: protocol.NewSnapshotDoc(want[:1]), Status: protocol.StatusActual})
	s.ApplyGov([]*GovMsg{snap}, nil, GovChange{})
	if ids := s.SnapshotDue(self, now, 1); ids != nil {
		t.Errorf("due again within snapshotEvery: %v", ids)
	}
	later := now.Add(snapshotEvery)
	if ids := s.SnapshotDue(self, later, 1); !reflect.DeepEqual(ids, want) {
		t.Errorf("a day later = %v, want %v", ids, want)
	}
	if ids := s.SnapshotDue(self, later, 2); ids != nil {
		t.Errorf("due with one grant left uncovered, minCovered 2: %v", ids)
	}
	s.role = protocol.RoleMember
	if ids := s.SnapshotDue(self, later, 1); ids != nil {
		t.Errorf("a member is due a snapshot: %v", ids)
	}
}

// TestFindMember: the member pick chooses among the zone's members comes
// with its key and this member's chain length, read under the state's
// lock; pick's error is returned as is.
func TestFindMember(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newLogFixture(t, 1, start)
	s := f.stateOf(crypto.ZoneSecret{}, f.announce(0, protocol.RoleMember, start, "ana", false))
	s.chain = f.RootC
	s.pubkeys[f.IDs[0].ID()] = f.IDs[0].Public()
	got, err := s.FindMember(func(ms []*protocol.MemberInfo) (*protocol.MemberInfo, error) {
		if s.mu.TryLock() {
			t.Error("pick called without the state's lock")
		}
		for _, m := range ms {
			if m.Name == "ana" {
				return m, nil
			}
		}
		return nil, errors.New("ana not listed")
	})
	if err != nil || got.Info.Name != "ana" || !got.Key.Equal(f.IDs[0].Public()) || got.ChainLen != 1 {
		t.Errorf("FindMember = %+v, %v", got, err)
	}
	bad := errors.New("no such member")
	if _, err := s.FindMember(func([]*protocol.MemberInfo) (*protocol.MemberInfo, error) { return nil, bad }); err != bad {
		t.Errorf("FindMember error = %v", err)
	}
}
