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

// govFixture is a zone's root and members, each with a chain per role, for
// building governance messages without a node.
type govFixture struct {
	t     testing.TB
	zone  protocol.ZoneID
	root  *crypto.Identity
	rootC protocol.Chain
	ids   []*crypto.Identity
	// chains[i][role] is member i's chain with a certificate of that role.
	chains []map[protocol.Role]protocol.Chain
	kem    []byte
	rng    *rand.ChaCha8
}

func newGovFixture(t testing.TB, members int, start time.Time) *govFixture {
	t.Helper()
	var seed [32]byte
	f := &govFixture{t: t, rng: rand.NewChaCha8(seed)}
	f.zone[0] = 1
	var err error
	if f.root, err = crypto.NewIdentity(f.rng); err != nil {
		t.Fatal(err)
	}
	rc, err := protocol.IssueCert(f.root, f.zone, f.root.Public(), protocol.RoleOrganizer, start, start.Add(protocol.DefaultCertTTL*4))
	if err != nil {
		t.Fatal(err)
	}
	f.rootC = protocol.Chain{rc}
	k, err := crypto.NewKEMKey(f.rng)
	if err != nil {
		t.Fatal(err)
	}
	f.kem = k.PublicBytes()
	for range members {
		id, err := crypto.NewIdentity(f.rng)
		if err != nil {
			t.Fatal(err)
		}
		cs := map[protocol.Role]protocol.Chain{}
		for _, r := range []protocol.Role{protocol.RoleMember, protocol.RoleVerifier} {
			c, err := protocol.IssueCert(f.root, f.zone, id.Public(), r, start, start.Add(protocol.DefaultCertTTL*4))
			if err != nil {
				t.Fatal(err)
			}
			cs[r] = protocol.Chain{c, rc}
		}
		f.ids = append(f.ids, id)
		f.chains = append(f.chains, cs)
	}
	return f
}

// msg signs a governance message; i < 0 is the root.
func (f *govFixture) msg(i int, role protocol.Role, a *protocol.Alert) *GovMsg {
	f.t.Helper()
	id, chain := f.root, f.rootC
	if i >= 0 {
		id, chain = f.ids[i], f.chains[i][role]
	}
	a.Zone = f.zone
	a.Urgency, a.Severity, a.Certainty = protocol.UrgencyImmediate, protocol.SeveritySevere, protocol.CertaintyObserved
	a.Expires = a.Sent.Add(protocol.MaxLifetime)
	s, err := protocol.Sign(id, chain, a)
	if err != nil {
		f.t.Fatal(err)
	}
	return &GovMsg{Msg: &protocol.Message{Signed: s, Role: chain.Leaf().Role}}
}

func (f *govFixture) announce(i int, role protocol.Role, sent time.Time, name string, exercise bool) *GovMsg {
	a := &protocol.Alert{Kind: protocol.KindMember, Sent: sent, Name: name, KEM: f.kem, Status: protocol.StatusActual}
	if exercise {
		a.Status = protocol.StatusExercise
	}
	return f.msg(i, role, a)
}

func (f *govFixture) remove(i int, sent time.Time) *GovMsg {
	return f.msg(-1, protocol.RoleOrganizer, &protocol.Alert{Kind: protocol.KindRemove, Sent: sent, Subject: f.ids[i].ID(), Status: protocol.StatusActual})
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
	f := newGovFixture(t, 6, start)
	r := rand.New(rand.NewPCG(1, 2))
	var all []*GovMsg
	for k := range 120 {
		i := r.IntN(len(f.ids))
		role := protocol.RoleMember
		if i%2 == 1 && r.IntN(3) == 0 {
			role = protocol.RoleVerifier
		}
		sent := start.Add(time.Duration(r.IntN(90*24)) * time.Hour)
		all = append(all, f.announce(i, role, sent, "m"+string(rune('a'+k%26)), r.IntN(10) == 0))
	}
	// Members 0 and 1 removed in the middle of their announcements.
	all = append(all, f.remove(0, start.Add(30*24*time.Hour)), f.remove(1, start.Add(60*24*time.Hour)))
	want := foldOf(all, f.root.ID())

	z := &zone{State: core.State{Gov: map[protocol.AlertID]*GovMsg{}}}
	for _, g := range all {
		z.Gov[g.Msg.ID] = g
	}
	z.Fold.Roster = want
	drop := z.compactGovLocked(nil)
	for _, id := range drop {
		delete(z.Gov, id)
	}
	var kept []*GovMsg
	announcements := 0
	for _, g := range z.Gov {
		kept = append(kept, g)
		if g.Msg.Alert.Kind == protocol.KindMember {
			announcements++
		}
	}
	if got := foldOf(kept, f.root.ID()); !reflect.DeepEqual(got, want) {
		t.Fatalf("roster changed by compaction:\n got %+v\nwant %+v", got.Members, want.Members)
	}
	// At most one per (role, status) and one more for a removed member.
	if max := len(f.ids)*4 + 2; announcements > max || len(drop) == 0 {
		t.Errorf("kept %d announcements (dropped %d), want at most %d", announcements, len(drop), max)
	}
	for _, id := range []int{0, 1} {
		if want.Members[f.ids[id].ID()].Name == "" {
			t.Errorf("removed member %d lost the name it had before its removal", id)
		}
	}

	// One by one, in sent order with the removals known first (as a node
	// that holds the zone's history), admitGovLocked keeps the same fold.
	inc := &zone{State: core.State{Gov: map[protocol.AlertID]*GovMsg{}}}
	for _, g := range all[len(all)-2:] {
		inc.Gov[g.Msg.ID] = g
	}
	inc.Fold.Roster = foldOf(all[len(all)-2:], f.root.ID())
	for _, g := range all[:len(all)-2] {
		keep, drop := inc.admitGovLocked(g.Msg, nil)
		if !keep {
			continue
		}
		inc.Gov[g.Msg.ID] = g
		for _, id := range drop {
			delete(inc.Gov, id)
		}
	}
	var incKept []*GovMsg
	for _, g := range inc.Gov {
		incKept = append(incKept, g)
	}
	if got := foldOf(incKept, f.root.ID()); !reflect.DeepEqual(got, want) {
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
	f := newGovFixture(b, members, start)
	var org []*GovMsg
	for k := range 50 {
		c, err := protocol.IssueCert(f.root, f.zone, f.ids[k*3].Public(), protocol.RoleVerifier, start, start.Add(protocol.DefaultCertTTL))
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
	return compacted, full, f.root.Public()
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
			z := &zone{State: core.State{Gov: map[protocol.AlertID]*GovMsg{}}, root: root}
			for _, g := range c.gov {
				z.Gov[g.Msg.ID] = g
			}
			for b.Loop() {
				z.refoldRoster()
			}
			b.ReportMetric(float64(len(z.Gov)), "messages")
		})
	}
}
