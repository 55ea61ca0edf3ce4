package zone

import (
	"slices"
	"testing"
	"time"

	"lookout/crypto"
	"lookout/protocol"
)

// viewsFixture is a zone's state as opened from its record, with three
// members' certificates for their alerts and updates.
type viewsFixture struct {
	*fixture
	s     *State
	l     Label
	who   []*crypto.Identity
	certs []*protocol.Cert
}

func newViewsFixture(t *testing.T) *viewsFixture {
	t.Helper()
	f := &viewsFixture{fixture: newFixture(t), l: Label{ID: "z", Name: "north"}}
	f.s = &State{}
	*f.s = NewStateFrom(Membership{Zone: f.zone, Root: f.founder.Public(), Epoch: 2,
		Epochs: map[uint32]crypto.ZoneSecret{1: {1}, 2: {2}},
		Chain:  protocol.Chain{f.rootCrt}, Role: protocol.RoleOrganizer}, Record{ID: f.l.ID, Name: f.l.Name})
	for i := range 3 {
		id := f.identity(byte(10 + i))
		f.who = append(f.who, id)
		f.certs = append(f.certs, f.cert(f.founder, id, protocol.RoleMember))
	}
	return f
}

func (f *viewsFixture) sightingOf(i int, area string, sent time.Time) *protocol.Message {
	return f.sighting(f.who[i], f.certs[i], area, sent)
}

func (f *viewsFixture) confirm(i int, ref protocol.AlertID, sent time.Time) *protocol.Message {
	return f.update(protocol.KindConfirm, f.who[i], f.certs[i], protocol.RoleMember, ref, sent)
}

// anEnv stands for the envelope a message arrived in.
var anEnv = []byte("envelope")

// TestStateFrom: a state opened from a record has its epochs, this
// member's standing, the founder's roster, and nothing held.
func TestStateFrom(t *testing.T) {
	f := newViewsFixture(t)
	st := f.s.Standing()
	if st.Epoch != 2 || st.Role != protocol.RoleOrganizer || st.Removed || len(st.Chain) != 1 || st.Secret[0] != 2 || st.RedeemedTwice != 0 {
		t.Errorf("standing %+v; want epoch 2's, an organizer's", st)
	}
	if e, sec := f.s.Current(); e != 2 || sec[0] != 2 {
		t.Errorf("current %d, %x; want epoch 2", e, sec[:1])
	}
	k1, ok1 := f.s.AlertKey(1)
	k2, ok2 := f.s.AlertKey(2)
	if !ok1 || !ok2 || k1 == nil || k2 == nil {
		t.Error("a known epoch's key is missing")
	}
	if _, ok := f.s.AlertKey(3); ok {
		t.Error("an unknown epoch has a key")
	}
	if len(f.s.msgs.Roots) != 0 || len(f.s.gov) != 0 || len(f.s.pubkeys) != 0 || len(f.s.Active(f.now)) != 0 {
		t.Error("a new state holds messages")
	}
	if f.s.Active(f.now) == nil {
		t.Error("no active alerts is nil, not empty")
	}
}

// TestStateMemberRemoved: the validator's hook follows the folded roster.
func TestStateMemberRemoved(t *testing.T) {
	f := newViewsFixture(t)
	gone := f.who[1].ID()
	if f.s.MemberRemoved(gone) {
		t.Fatal("removed before any removal")
	}
	rm := f.msg(protocol.KindRemove, f.founder, f.rootCrt, protocol.RoleOrganizer, 2, f.now)
	rm.Alert.Subject = gone
	f.s.fold.Refold([]*protocol.Message{rm}, f.founder.ID())
	if !f.s.MemberRemoved(gone) || f.s.MemberRemoved(f.who[0].ID()) {
		t.Error("the removal is not what MemberRemoved reports")
	}
}

// TestStateAddShows: a new alert returns its card's view; its sender's
// key is recorded; adding it again changes nothing; without a view asked
// for, none is computed.
func TestStateAddShows(t *testing.T) {
	f := newViewsFixture(t)
	root := f.sightingOf(0, "Main St", f.now)
	if seen, held, dropped := f.s.Take(root, anEnv, f.now); seen || held || dropped {
		t.Fatalf("a new alert: seen %v, held %v, dropped %v", seen, held, dropped)
	}
	got := f.s.Add(root, anEnv, f.now, true)
	if !got.OK || got.Target != root.ID || !got.Shown {
		t.Fatalf("added %+v; want new, shown, its own target", got)
	}
	if got.View.ID != root.ID.String() || got.View.Where != "Main St" || got.View.Kind != protocol.KindSighting.String() ||
		got.View.Zone != "z" || got.View.ZoneName != "north" {
		t.Errorf("view %+v; want the sighting's card in zone north", got.View)
	}
	if !f.s.pubkeys[root.Alert.Sender].Equal(root.Chain.Leaf().Subject) {
		t.Error("the sender's key was not recorded")
	}
	if again := f.s.Add(root, anEnv, f.now, true); again.OK || again.Shown {
		t.Errorf("a repeat: %+v; want nothing changed", again)
	}
	quiet := f.s.Add(f.sightingOf(1, "Harbour Rd", f.now), anEnv, f.now, false)
	if !quiet.OK || quiet.Shown {
		t.Errorf("batch add: %+v; want new, no view", quiet)
	}
	if v, ok := f.s.View(root.ID, f.now); !ok || v.ID != root.ID.String() {
		t.Errorf("View = %+v, %v; want the sighting's card", v, ok)
	}
	if _, ok := f.s.View(protocol.AlertID{0x99}, f.now); ok {
		t.Error("an alert not held has a view")
	}
}

// TestStateTakeSeen: a message applied before is seen; governance never
// is (the governance log dedupes it), and Add only marks it, once, with no
// view.
func TestStateTakeSeen(t *testing.T) {
	f := newViewsFixture(t)
	root := f.sightingOf(0, "Main St", f.now)
	f.s.Add(root, anEnv, f.now, false)
	if seen, held, _ := f.s.Take(root, anEnv, f.now); !seen || held {
		t.Errorf("a duplicate alert: seen %v, held %v; want seen", seen, held)
	}
	own := f.confirm(1, root.ID, f.now.Add(time.Minute))
	f.s.Add(own, nil, f.now, false)
	if seen, _, _ := f.s.Take(own, nil, f.now); !seen {
		t.Error("a duplicate update was not seen")
	}
	g := f.grant(f.certs[1], f.now, false)
	first := f.s.Add(g, anEnv, f.now, true)
	if !first.OK || first.Shown || !first.Target.IsZero() {
		t.Errorf("governance added: %+v; want new, no card", first)
	}
	if !f.s.msgs.Seen(g.ID) || len(f.s.msgs.Roots) != 1 || !f.s.pubkeys[f.founder.ID()].Equal(f.founder.Public()) {
		t.Error("governance was not only marked seen, its sender's key recorded")
	}
	if seen, held, _ := f.s.Take(g, anEnv, f.now); seen || held {
		t.Errorf("governance applied before: seen %v, held %v; want neither", seen, held)
	}
	if again := f.s.Add(g, anEnv, f.now, true); again.OK {
		t.Error("governance added twice was new twice")
	}
}

// TestStateUpdateWaits: an update from another node before its alert is
// held, not applied; the alert's arrival hands it back (Adopt) and it then
// changes the alert's card. The node's own updates never wait.
func TestStateUpdateWaits(t *testing.T) {
	f := newViewsFixture(t)
	root := f.sightingOf(0, "Main St", f.now)
	early := f.confirm(1, root.ID, f.now.Add(time.Minute))
	if seen, held, dropped := f.s.Take(early, anEnv, f.now); seen || !held || dropped {
		t.Fatalf("an update before its alert: seen %v, held %v, dropped %v; want held", seen, held, dropped)
	}
	if f.s.msgs.Seen(early.ID) || len(f.s.msgs.Updates) != 0 {
		t.Error("a held update was applied")
	}
	if _, held, _ := f.s.Take(f.confirm(2, root.ID, f.now), nil, f.now); held {
		t.Error("this node's own update waited")
	}
	if got := f.s.Adopt(protocol.AlertID{0x99}, f.now); len(got) != 0 {
		t.Errorf("another alert adopted %d updates", len(got))
	}
	f.s.Add(root, anEnv, f.now, true)
	held := f.s.Adopt(root.ID, f.now.Add(time.Minute))
	if len(held) != 1 || held[0].Msg != early || string(held[0].Env) != string(anEnv) {
		t.Fatalf("adopted %+v; want the early confirm with its envelope", held)
	}
	if again := f.s.Adopt(root.ID, f.now.Add(time.Minute)); len(again) != 0 {
		t.Errorf("adopted %d a second time", len(again))
	}
	if seen, waits, _ := f.s.Take(early, anEnv, f.now); seen || waits {
		t.Fatalf("the adopted update: seen %v, held %v; want it taken", seen, waits)
	}
	got := f.s.Add(early, anEnv, f.now.Add(2*time.Minute), true)
	if !got.OK || got.Target != root.ID || !got.Shown || got.View.ID != root.ID.String() {
		t.Fatalf("the adopted update: %+v; want the alert's card", got)
	}
	// The reporter and the confirmer.
	if c := got.View.Confirmations; c == nil || *c != 2 {
		t.Errorf("view %+v; want 2 confirmations", got.View)
	}
}

// TestStateTooManyWaiting: past MaxPending waiting updates, one more is
// held by nobody: dropped, and still not applied.
func TestStateTooManyWaiting(t *testing.T) {
	f := newViewsFixture(t)
	for i := range MaxPending {
		u := f.confirm(1, protocol.AlertID{0x77, byte(i), byte(i >> 8)}, f.now)
		u.ID = protocol.AlertID{0xdd, byte(i), byte(i >> 8)}
		if _, held, dropped := f.s.Take(u, anEnv, f.now); !held || dropped {
			t.Fatalf("update %d: held %v, dropped %v", i, held, dropped)
		}
	}
	u := f.confirm(1, protocol.AlertID{0x78}, f.now)
	u.ID = protocol.AlertID{0xdc}
	seen, held, dropped := f.s.Take(u, anEnv, f.now)
	if seen || !held || !dropped {
		t.Fatalf("one too many: seen %v, held %v, dropped %v; want dropped", seen, held, dropped)
	}
	if f.s.msgs.Seen(u.ID) || f.s.msgs.Waiting() != MaxPending {
		t.Errorf("%d waiting, dropped one seen %v", f.s.msgs.Waiting(), f.s.msgs.Seen(u.ID))
	}
	if got := f.s.Adopt(protocol.AlertID{0x78}, f.now); len(got) != 0 {
		t.Errorf("a dropped update was adopted")
	}
}

// TestStateChangedViews: a batch's touched alerts give each card they
// touch once (two reports of one incident and an update of it: one view),
// and no card they do not touch.
func TestStateChangedViews(t *testing.T) {
	f := newViewsFixture(t)
	first := f.sightingOf(0, "Main St", f.now)
	second := f.sightingOf(1, "main st", f.now.Add(time.Minute))
	confirm := f.confirm(2, first.ID, f.now.Add(2*time.Minute))
	other := f.sightingOf(2, "Harbour Rd", f.now)
	for _, m := range []*protocol.Message{first, second, confirm, other} {
		f.s.Add(m, anEnv, f.now, false)
	}
	views := f.s.ChangedViews(map[protocol.AlertID]bool{first.ID: true, second.ID: true}, f.now.Add(3*time.Minute))
	if len(views) != 1 || views[0].ID != first.ID.String() || len(views[0].Reports) != 2 {
		t.Fatalf("views %+v; want the one incident of two reports", views)
	}
	views = f.s.ChangedViews(map[protocol.AlertID]bool{first.ID: true, other.ID: true}, f.now.Add(3*time.Minute))
	ids := []string{}
	for _, v := range views {
		ids = append(ids, v.ID)
	}
	slices.Sort(ids)
	want := []string{first.ID.String(), other.ID.String()}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("views %v; want %v", ids, want)
	}
	if views := f.s.ChangedViews(map[protocol.AlertID]bool{{0x99}: true}, f.now); len(views) != 0 {
		t.Errorf("an alert not held gave %d views", len(views))
	}
}

// TestStateActive: active cards newest first; a cleared one is left out,
// then pruned once ended for PruneGrace; Confirmed sees a member's
// confirm.
func TestStateActive(t *testing.T) {
	f := newViewsFixture(t)
	older := f.sightingOf(0, "Main St", f.now)
	newer := f.sightingOf(1, "Harbour Rd", f.now.Add(time.Minute))
	newer.Alert.Expires = f.now.Add(48 * time.Hour)
	cleared := f.sightingOf(2, "Oak Ave", f.now)
	clear := f.update(protocol.KindClear, f.who[2], f.certs[2], protocol.RoleMember, cleared.ID, f.now.Add(time.Minute))
	clear.Alert.Reason = protocol.ClearRetracted
	confirm := f.confirm(1, older.ID, f.now.Add(time.Minute))
	for _, m := range []*protocol.Message{older, newer, cleared, clear, confirm} {
		f.s.Add(m, anEnv, f.now, false)
	}
	at := f.now.Add(2 * time.Minute)
	got := f.s.Active(at)
	if len(got) != 2 || got[0].ID != newer.ID.String() || got[1].ID != older.ID.String() {
		t.Errorf("active %+v; want the newer sighting, then the older", got)
	}
	if !f.s.Confirmed(older.ID, f.who[1].ID()) || f.s.Confirmed(older.ID, f.who[2].ID()) || f.s.Confirmed(newer.ID, f.who[1].ID()) {
		t.Error("Confirmed does not match the confirms held")
	}
	if gone := f.s.Prune(at, true); len(gone) != 0 {
		t.Errorf("pruned %x within the grace", gone)
	}
	at = f.now.Add(time.Minute + PruneGrace + time.Second)
	if gone := f.s.Prune(at, false); len(gone) != 0 {
		t.Errorf("pruned %x by expiry before anything expired", gone)
	}
	gone := f.s.Prune(at, true)
	want := []protocol.AlertID{cleared.ID, clear.ID}
	slices.SortFunc(gone, func(a, b protocol.AlertID) int { return slices.Compare(a[:], b[:]) })
	slices.SortFunc(want, func(a, b protocol.AlertID) int { return slices.Compare(a[:], b[:]) })
	if !slices.Equal(gone, want) {
		t.Errorf("pruned %x; want the cleared incident and its clear %x", gone, want)
	}
}

// TestMembersLocked: a member who never announced (so is not on the
// roster) but sent a sighting is listed after the roster; others not on
// it follow by role, highest first.
func TestMembersLocked(t *testing.T) {
	var named, silent, verifier crypto.MemberID
	named[0], silent[0], verifier[0] = 0xaa, 0xbb, 0xcc
	r := protocol.Roster{Members: map[crypto.MemberID]*protocol.MemberInfo{named: {ID: named, Name: "Ana", Role: protocol.RoleOrganizer}}}
	sent := func(who crypto.MemberID, role protocol.Role, kind protocol.Kind, id byte) *protocol.Message {
		return &protocol.Message{Signed: &protocol.Signed{ID: protocol.AlertID{id}, Alert: &protocol.Alert{Kind: kind, Sender: who, Ref: protocol.AlertID{1}}}, Role: role}
	}
	s := &State{fold: Folded{Roster: r}, msgs: NewMessages()}
	s.msgs.Add(sent(silent, protocol.RoleMember, protocol.KindSighting, 1), nil)
	s.msgs.Add(sent(named, protocol.RoleOrganizer, protocol.KindSighting, 2), nil)
	s.msgs.Add(sent(verifier, protocol.RoleVerifier, protocol.KindConfirm, 3), nil)
	ms := s.membersLocked()
	if len(ms) != 3 || ms[0].ID != named || ms[1].ID != verifier || ms[1].Role != protocol.RoleVerifier || ms[2].ID != silent || ms[2].Role != protocol.RoleMember {
		t.Fatalf("membersLocked = %+v, want Ana, then the verifier, then the silent sender", ms)
	}
}
