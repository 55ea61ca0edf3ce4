package protocol

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"lookout/crypto"
)

// gov makes a governance message (or any alert) as the validator would
// hand it over, without signing.
func gov(t testing.TB, a *Alert, from crypto.MemberID, role Role, sent time.Time) *Message {
	t.Helper()
	a.Sender, a.Sent, a.Expires = from, sent, sent.Add(MaxLifetime)
	return msg(t, a, role)
}

func announce(t testing.TB, from crypto.MemberID, role Role, name string, kem []byte, sent time.Time) *Message {
	a := newMember()
	a.Name, a.KEM = name, kem
	return gov(t, a, from, role, sent)
}

func grant(t testing.TB, by *crypto.Identity, role Role, subject *crypto.Identity, granted Role, sent time.Time) *Message {
	a := newRole()
	a.Cert = bytes.Clone(mustCert(by, testZone, subject.Public(), granted, certIssued, certExpires).Bytes())
	return gov(t, a, by.ID(), role, sent)
}

func remove(t testing.TB, by crypto.MemberID, role Role, subject crypto.MemberID, sent time.Time) *Message {
	a := newRemove()
	a.Subject = subject
	return gov(t, a, by, role, sent)
}

func setSettings(t testing.TB, by crypto.MemberID, role Role, s Settings, sent time.Time) *Message {
	a := newSettings()
	a.Settings = s.Wire()
	return gov(t, a, by, role, sent)
}

// rosterWorld is a zone of n members for benchmarks and the order test.
type rosterWorld struct {
	root crypto.MemberID
	msgs []*Message
}

func newRosterWorld(tb testing.TB, n, grants int) rosterWorld {
	f := fx(tb)
	kem := f.memberKEM.PublicBytes()
	w := rosterWorld{root: f.founder.ID()}
	base := t0.Add(-2 * time.Hour)
	for i := range n {
		var id crypto.MemberID
		if i < grants {
			subject := mustIdentity(byte(0x40 + i))
			id = subject.ID()
			w.msgs = append(w.msgs, grant(tb, f.org, RoleOrganizer, subject, RoleVerifier, t0.Add(-time.Hour+time.Duration(i)*time.Second)))
		} else {
			id = crypto.MemberID{0xe0, byte(i >> 8), byte(i)}
		}
		w.msgs = append(w.msgs, announce(tb, id, RoleMember, fmt.Sprintf("member %03d", i), kem, base.Add(time.Duration(i)*time.Millisecond)))
		s := newSighting()
		s.Sender, s.Sent, s.Expires = id, t0.Add(time.Duration(i)*time.Second), t0.Add(time.Hour)
		w.msgs = append(w.msgs, msg(tb, s, RoleMember))
	}
	for i := range 5 {
		w.msgs = append(w.msgs, remove(tb, f.org.ID(), RoleOrganizer, crypto.MemberID{0xe0, 0, byte(100 + i)}, t0.Add(-30*time.Minute)))
	}
	for i, q := range []int{5, 4, 3} {
		w.msgs = append(w.msgs, setSettings(tb, f.founder.ID(), RoleOrganizer, Settings{Corroborations: q, CorroborationWindow: time.Minute,
			Expiry: time.Hour, MaxReports: 1, MaxConfirms: 1}, t0.Add(time.Duration(i-3)*10*time.Minute)))
	}
	return w
}

func TestFoldRoster(t *testing.T) {
	f := fx(t)
	root := f.founder
	org, org2 := f.org, chainWorldOnce().org2
	amara, ben := f.member, f.member2
	kemA, kemB := f.memberKEM.PublicBytes(), f.member2KEM.PublicBytes()
	m := time.Minute
	custom := Settings{Corroborations: 3, CorroborationWindow: 5 * m, Expiry: time.Hour, Cosign: true, MaxReports: 2, MaxConfirms: 4}
	other := Settings{Corroborations: 4, CorroborationWindow: 6 * m, Expiry: 2 * time.Hour, MaxReports: 3, MaxConfirms: 5}
	sighting := func(from crypto.MemberID, role Role, sent time.Time) *Message {
		a := newSighting()
		a.Sender, a.Sent, a.Expires = from, sent, sent.Add(time.Hour)
		return msg(t, a, role)
	}
	exercise := func(m *Message) *Message {
		a := *m.Alert
		a.Status = StatusExercise
		return msg(t, &a, m.Role)
	}

	type member struct {
		name      string
		kem       []byte
		role      Role
		removedAt time.Time // zero: not removed
	}
	cases := []struct {
		name     string
		msgs     []*Message
		settings Settings
		members  map[crypto.MemberID]member // checked members (the root is always checked)
		count    int                        // number of members, root included
	}{
		{name: "empty: the root only", count: 1, settings: DefaultSettings()},
		{name: "senders are members with their highest role", msgs: []*Message{
			sighting(amara.ID(), RoleMember, t0), sighting(ben.ID(), RoleVerifier, t0), sighting(ben.ID(), RoleMember, at(m))},
			count: 3, settings: DefaultSettings(),
			members: map[crypto.MemberID]member{amara.ID(): {role: RoleMember}, ben.ID(): {role: RoleVerifier}}},
		{name: "the latest announcement wins", msgs: []*Message{
			announce(t, amara.ID(), RoleMember, "Amara K", kemB, at(2*m)), announce(t, amara.ID(), RoleMember, "Amara", kemA, at(m))},
			count: 2, settings: DefaultSettings(),
			members: map[crypto.MemberID]member{amara.ID(): {name: "Amara K", kem: kemB, role: RoleMember}}},
		{name: "an exercise announcement does not count", msgs: []*Message{
			announce(t, amara.ID(), RoleMember, "Amara", kemA, at(m)), exercise(announce(t, amara.ID(), RoleMember, "Drill", kemB, at(2*m)))},
			count: 2, settings: DefaultSettings(),
			members: map[crypto.MemberID]member{amara.ID(): {name: "Amara", kem: kemA, role: RoleMember}}},
		{name: "an organizer grants a role", msgs: []*Message{
			grant(t, org, RoleOrganizer, ben, RoleVerifier, at(m)), sighting(ben.ID(), RoleMember, at(2*m))},
			count: 3, settings: DefaultSettings(),
			members: map[crypto.MemberID]member{ben.ID(): {role: RoleVerifier}, org.ID(): {role: RoleOrganizer}}},
		{name: "the latest grant wins, even over a higher role seen", msgs: []*Message{
			grant(t, org, RoleOrganizer, ben, RoleOrganizer, at(m)), grant(t, root, RoleOrganizer, ben, RoleMember, at(3*m)),
			sighting(ben.ID(), RoleOrganizer, at(2*m))},
			count: 3, settings: DefaultSettings(),
			members: map[crypto.MemberID]member{ben.ID(): {role: RoleMember}}},
		{name: "a grant by a verifier does not count", msgs: []*Message{grant(t, org, RoleVerifier, ben, RoleOrganizer, at(m))},
			count: 2, settings: DefaultSettings(),
			members: map[crypto.MemberID]member{org.ID(): {role: RoleVerifier}}},
		{name: "a grant of a certificate another organizer issued does not count", msgs: []*Message{func() *Message {
			g := grant(t, org, RoleOrganizer, ben, RoleOrganizer, at(m))
			a := *g.Alert
			return gov(t, &a, org2.ID(), RoleOrganizer, at(m))
		}()}, count: 2, settings: DefaultSettings(),
			members: map[crypto.MemberID]member{org2.ID(): {role: RoleOrganizer}}},
		{name: "the root is not re-granted", msgs: []*Message{grant(t, org, RoleOrganizer, root, RoleMember, at(m))},
			count: 2, settings: DefaultSettings()},
		{name: "an organizer removes a member", msgs: []*Message{
			sighting(amara.ID(), RoleMember, t0), remove(t, org.ID(), RoleOrganizer, amara.ID(), at(m)), remove(t, root.ID(), RoleOrganizer, amara.ID(), at(2*m))},
			count: 3, settings: DefaultSettings(),
			members: map[crypto.MemberID]member{amara.ID(): {role: RoleMember, removedAt: at(m)}}},
		{name: "removing someone never seen lists them", msgs: []*Message{remove(t, org.ID(), RoleOrganizer, mallory, at(m))},
			count: 3, settings: DefaultSettings(),
			members: map[crypto.MemberID]member{mallory: {removedAt: at(m)}}},
		{name: "the root cannot be removed", msgs: []*Message{remove(t, org.ID(), RoleOrganizer, root.ID(), at(m))},
			count: 2, settings: DefaultSettings()},
		{name: "a removal by a member or verifier does not count", msgs: []*Message{
			remove(t, amara.ID(), RoleMember, ben.ID(), at(m)), remove(t, org.ID(), RoleVerifier, ben.ID(), at(m))},
			count: 3, settings: DefaultSettings(),
			members: map[crypto.MemberID]member{amara.ID(): {role: RoleMember}, org.ID(): {role: RoleVerifier}}},
		{name: "an exercise removal does not count", msgs: []*Message{exercise(remove(t, org.ID(), RoleOrganizer, ben.ID(), at(m)))},
			count: 2, settings: DefaultSettings(),
			members: map[crypto.MemberID]member{org.ID(): {role: RoleOrganizer}}},
		{name: "a removed organizer's earlier actions stand, later ones do not", msgs: []*Message{
			grant(t, org, RoleOrganizer, ben, RoleVerifier, at(m)),
			remove(t, root.ID(), RoleOrganizer, org.ID(), at(5*m)),
			remove(t, org.ID(), RoleOrganizer, amara.ID(), at(5*m)), // the same millisecond: not before, counts
			remove(t, org.ID(), RoleOrganizer, mallory, at(6*m)),
			setSettings(t, org.ID(), RoleOrganizer, custom, at(7*m)),
			announce(t, org.ID(), RoleOrganizer, "Org", kemA, at(8*m))},
			count: 4, settings: DefaultSettings(),
			members: map[crypto.MemberID]member{ben.ID(): {role: RoleVerifier}, org.ID(): {role: RoleOrganizer, removedAt: at(5 * m)},
				amara.ID(): {removedAt: at(5 * m)}}},
		{name: "two organizers remove each other in one millisecond: both", msgs: []*Message{
			remove(t, org.ID(), RoleOrganizer, org2.ID(), at(m)), remove(t, org2.ID(), RoleOrganizer, org.ID(), at(m))},
			count: 3, settings: DefaultSettings(),
			members: map[crypto.MemberID]member{org.ID(): {role: RoleOrganizer, removedAt: at(m)}, org2.ID(): {role: RoleOrganizer, removedAt: at(m)}}},
		{name: "a grant does not undo a removal", msgs: []*Message{
			remove(t, org.ID(), RoleOrganizer, ben.ID(), at(m)), grant(t, org, RoleOrganizer, ben, RoleVerifier, at(2*m))},
			count: 3, settings: DefaultSettings(),
			members: map[crypto.MemberID]member{ben.ID(): {role: RoleVerifier, removedAt: at(m)}}},
		{name: "a removed member's later announcement does not count", msgs: []*Message{
			announce(t, amara.ID(), RoleMember, "Amara", kemA, at(m)), remove(t, org.ID(), RoleOrganizer, amara.ID(), at(2*m)),
			announce(t, amara.ID(), RoleMember, "Not Amara", kemB, at(3*m))},
			count: 3, settings: DefaultSettings(),
			members: map[crypto.MemberID]member{amara.ID(): {name: "Amara", kem: kemA, role: RoleMember, removedAt: at(2 * m)}}},
		{name: "the latest settings win, but one organizer cannot turn co-signing off", msgs: []*Message{setSettings(t, org.ID(), RoleOrganizer, other, at(2*m)), setSettings(t, root.ID(), RoleOrganizer, custom, at(m))},
			count: 2, settings: withCosign(other)},
		{name: "two organizers turn co-signing off", msgs: []*Message{setSettings(t, root.ID(), RoleOrganizer, custom, at(m)),
			setSettings(t, org.ID(), RoleOrganizer, other, at(2*m)), setSettings(t, root.ID(), RoleOrganizer, other, at(3*m))},
			count: 2, settings: other},
		{name: "the same organizer twice does not turn co-signing off", msgs: []*Message{setSettings(t, root.ID(), RoleOrganizer, custom, at(m)),
			setSettings(t, org.ID(), RoleOrganizer, other, at(2*m)), setSettings(t, org.ID(), RoleOrganizer, other, at(3*m))},
			count: 2, settings: withCosign(other)},
		{name: "turning it on again restarts the count", msgs: []*Message{setSettings(t, root.ID(), RoleOrganizer, custom, at(m)),
			setSettings(t, org.ID(), RoleOrganizer, other, at(2*m)), setSettings(t, root.ID(), RoleOrganizer, custom, at(3*m)),
			setSettings(t, root.ID(), RoleOrganizer, other, at(4*m))},
			count: 2, settings: withCosign(other)},
		{name: "settings by a verifier do not count", msgs: []*Message{setSettings(t, org.ID(), RoleVerifier, custom, at(m))},
			count: 2, settings: DefaultSettings()},
		{name: "exercise settings do not count", msgs: []*Message{exercise(setSettings(t, org.ID(), RoleOrganizer, custom, at(m)))},
			count: 2, settings: DefaultSettings()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for i := range 2 {
				msgs := slices.Clone(c.msgs)
				if i == 1 {
					slices.Reverse(msgs)
					msgs = append(msgs, c.msgs...) // and every message twice
				}
				r := FoldRoster(msgs, root.ID(), DefaultSettings())
				if len(r.Members) != c.count || r.Settings != c.settings {
					t.Fatalf("%d members, settings %+v; want %d, %+v", len(r.Members), r.Settings, c.count, c.settings)
				}
				if ri := r.Members[root.ID()]; ri == nil || ri.Role != RoleOrganizer || ri.Removed || r.Removed(root.ID()) {
					t.Errorf("root: %+v", ri)
				}
				for id, want := range c.members {
					mi := r.Members[id]
					if mi == nil {
						t.Fatalf("member %x missing", id[:4])
					}
					removed := !want.removedAt.IsZero()
					if mi.ID != id || mi.Name != want.name || !bytes.Equal(mi.KEM, want.kem) || mi.Role != want.role ||
						mi.Removed != removed || !mi.RemovedAt.Equal(want.removedAt) || r.Removed(id) != removed {
						t.Errorf("member %x: %+v, want %+v", id[:4], *mi, want)
					}
				}
			}
		})
	}

	var nilRoster *Roster
	if nilRoster.Removed(amara.ID()) {
		t.Errorf("a nil roster removes")
	}
	// Base settings are kept without a KindSettings message.
	if r := FoldRoster(nil, root.ID(), custom); r.Settings != custom {
		t.Errorf("base settings not kept: %+v", r.Settings)
	}
}

func TestRosterSorted(t *testing.T) {
	id := func(b byte) crypto.MemberID { return crypto.MemberID{b} }
	r := Roster{Members: map[crypto.MemberID]*MemberInfo{}}
	for _, mi := range []*MemberInfo{
		{ID: id(1), Name: "zoe", Role: RoleMember},
		{ID: id(2), Name: "Yusuf", Role: RoleOrganizer},
		{ID: id(3), Name: "amara", Role: RoleMember},
		{ID: id(4), Name: "Amara", Role: RoleMember},
		{ID: id(5), Name: "Amara", Role: RoleMember},
		{ID: id(6), Name: "Victor", Role: RoleVerifier},
		{ID: id(7), Name: "", Role: RoleMember, Removed: true},
		{ID: id(8), Name: "ada", Role: RoleOrganizer},
	} {
		r.Members[mi.ID] = mi
	}
	var got []byte
	for _, mi := range r.Sorted() {
		got = append(got, mi.ID[0])
	}
	if want := []byte{8, 2, 6, 7, 4, 5, 3, 1}; !bytes.Equal(got, want) {
		t.Errorf("Sorted = %v, want %v", got, want)
	}
}

// FoldRoster depends only on the set of messages.
func TestFoldRosterOrderIndependent(t *testing.T) {
	f := fx(t)
	w := newRosterWorld(t, 40, 4)
	// Add conflicts: removals of organizers racing their own actions.
	org2 := chainWorldOnce().org2
	w.msgs = append(w.msgs,
		remove(t, f.founder.ID(), RoleOrganizer, f.org.ID(), t0.Add(-time.Hour+2*time.Second)),
		remove(t, org2.ID(), RoleOrganizer, f.org.ID(), t0.Add(-time.Hour+2*time.Second)),
		remove(t, f.org.ID(), RoleOrganizer, org2.ID(), t0.Add(-time.Hour+2*time.Second)),
		setSettings(t, f.org.ID(), RoleOrganizer, Settings{Corroborations: 9, CorroborationWindow: time.Minute, Expiry: time.Hour, MaxReports: 1, MaxConfirms: 1},
			t0.Add(-time.Hour+3*time.Second)),
	)
	render := func(r Roster) string {
		var out string
		for _, mi := range r.Sorted() {
			out += fmt.Sprintf("%x %q %d %s %v %s|", mi.ID[:4], mi.Name, len(mi.KEM), mi.Role, mi.Removed, mi.RemovedAt.Sub(t0))
		}
		return out + fmt.Sprintf("%+v", r.Settings)
	}
	want := render(FoldRoster(w.msgs, w.root, DefaultSettings()))
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 50 {
		msgs := slices.Clone(w.msgs)
		msgs = append(msgs, msgs[rng.IntN(len(msgs))], msgs[rng.IntN(len(msgs))])
		rng.Shuffle(len(msgs), func(a, b int) { msgs[a], msgs[b] = msgs[b], msgs[a] })
		if got := render(FoldRoster(msgs, w.root, DefaultSettings())); got != want {
			t.Fatalf("shuffle %d:\n%s\nwant\n%s", i, got, want)
		}
	}
	r := FoldRoster(w.msgs, w.root, DefaultSettings())
	// The org was removed 2s after its first grant, in the millisecond of
	// its third, so 3 of its 4 grants stand, and its later settings change
	// does not; org2's removal of the org counts (org2 was not removed
	// before), and so does the org's of org2.
	if !r.Removed(f.org.ID()) || !r.Removed(org2.ID()) || r.Settings.Corroborations != 3 {
		t.Errorf("removed org %v org2 %v, settings %+v", r.Removed(f.org.ID()), r.Removed(org2.ID()), r.Settings)
	}
	verifiers := 0
	for _, mi := range r.Members {
		if mi.Role == RoleVerifier {
			verifiers++
		}
	}
	// 40 members, the root, the org and org2. The world's 5 removals, by
	// the org after its removal, do not count.
	if verifiers != 3 || len(r.Members) != 43 {
		t.Errorf("%d verifiers, %d members", verifiers, len(r.Members))
	}
}

func withCosign(s Settings) Settings {
	s.Cosign = true
	return s
}
