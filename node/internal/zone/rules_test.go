package zone

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"lookout/crypto"
	"lookout/node/api"
	"lookout/protocol"
)

// fixture is a zone with a founder (organizer) and two members, made from
// a fixed seed.
type fixture struct {
	t       *testing.T
	zone    protocol.ZoneID
	founder *crypto.Identity
	rootCrt *protocol.Cert
	now     time.Time
	next    byte // message ID counter
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, zone: protocol.ZoneID{1, 2, 3}, now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	f.founder = f.identity(1)
	f.rootCrt = f.cert(f.founder, f.founder, protocol.RoleOrganizer)
	return f
}

func (f *fixture) identity(seed byte) *crypto.Identity {
	id, err := crypto.NewIdentity(rand.NewChaCha8([32]byte{seed}))
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fixture) cert(issuer, subject *crypto.Identity, role protocol.Role) *protocol.Cert {
	c, err := protocol.IssueCert(issuer, f.zone, subject.Public(), role, f.now.Add(-time.Hour), f.now.Add(24*time.Hour))
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// msg is a decoded message as protocol.Validator would return it.
func (f *fixture) msg(kind protocol.Kind, sender *crypto.Identity, leaf *protocol.Cert, role protocol.Role, epoch uint32, sent time.Time) *protocol.Message {
	f.next++
	a := &protocol.Alert{Kind: kind, Zone: f.zone, Sender: sender.ID(), Sent: sent, Expires: sent.Add(time.Hour), Status: protocol.StatusActual}
	return &protocol.Message{Signed: &protocol.Signed{Chain: protocol.Chain{leaf}, Alert: a, ID: protocol.AlertID{0xee, f.next}}, Epoch: epoch, Role: role}
}

// grant is a role message from the founder giving leaf's subject leaf's role.
func (f *fixture) grant(leaf *protocol.Cert, sent time.Time, exercise bool) *protocol.Message {
	m := f.msg(protocol.KindRole, f.founder, f.rootCrt, protocol.RoleOrganizer, 0, sent)
	m.Alert.Cert = leaf.Bytes()
	if exercise {
		m.Alert.Status = protocol.StatusExercise
	}
	return m
}

func settings(reports, confirms int) protocol.Settings {
	s := protocol.DefaultSettings()
	s.MaxReports, s.MaxConfirms = reports, confirms
	return s
}

// at is a message with its arrival time at this node.
type at struct {
	name    string
	m       *protocol.Message
	arrival time.Time
	want    error
}

func TestRateLimits(t *testing.T) {
	f := newFixture(t)
	ada, bo := f.identity(2), f.identity(3)
	adaCrt, boCrt := f.cert(f.founder, ada, protocol.RoleMember), f.cert(f.founder, bo, protocol.RoleMember)
	s := settings(2, 1)
	var r Rules
	w := protocol.RateWindow
	sight := func(sent time.Time) *protocol.Message {
		return f.msg(protocol.KindSighting, ada, adaCrt, protocol.RoleMember, 0, sent)
	}
	steps := []at{
		{"first sighting", sight(f.now), f.now, nil},
		{"second sighting", sight(f.now.Add(time.Second)), f.now.Add(time.Second), nil},
		{"third sighting in the window", sight(f.now.Add(2 * time.Second)), f.now.Add(2 * time.Second), ErrRateLimit},
		{"another member", f.msg(protocol.KindSighting, bo, boCrt, protocol.RoleMember, 0, f.now), f.now.Add(2 * time.Second), nil},
		{"a confirm counts apart", f.msg(protocol.KindConfirm, ada, adaCrt, protocol.RoleMember, 0, f.now), f.now.Add(3 * time.Second), nil},
		{"second confirm", f.msg(protocol.KindConfirm, ada, adaCrt, protocol.RoleMember, 0, f.now), f.now.Add(4 * time.Second), ErrRateLimit},
		// Sent times are the sender's choice: only arrival counts.
		{"back-dated a window earlier", sight(f.now.Add(-w - time.Minute)), f.now.Add(5 * time.Second), ErrRateLimit},
		{"back-dated by hours", sight(f.now.Add(-3 * time.Hour)), f.now.Add(6 * time.Second), ErrRateLimit},
		{"sent later but arrived in the window", sight(f.now.Add(w + time.Minute)), f.now.Add(7 * time.Second), ErrRateLimit},
		{"arrived after the window", sight(f.now.Add(-time.Hour)), f.now.Add(w + time.Second), nil},
	}
	for _, st := range steps {
		if err := r.Check(st.m, st.arrival, 0, s, nil); !errors.Is(err, st.want) {
			t.Errorf("%s: %v, want %v", st.name, err, st.want)
		}
	}
	// Headroom warns a local sender and records nothing.
	now := f.now.Add(w + 2*time.Second)
	if err := r.Headroom(ada.ID(), protocol.KindSighting, now, s); err != nil {
		t.Errorf("headroom with one report in the window: %v", err)
	}
	if err := r.Check(sight(now), now, 0, s, nil); err != nil {
		t.Fatalf("second report of the new window: %v", err)
	}
	for range 2 {
		if err := r.Headroom(ada.ID(), protocol.KindSighting, now, s); !errors.Is(err, api.ErrForbidden) {
			t.Errorf("headroom at the limit: %v, want ErrForbidden", err)
		}
	}
	if err := r.Headroom(f.identity(9).ID(), protocol.KindSighting, now, s); err != nil {
		t.Errorf("headroom of a member who sent nothing: %v", err)
	}
}

// TestBackdatedBurst: 60 sightings from one member, each sent time in a
// different past window, arriving within a minute: only the zone's budget
// passes.
func TestBackdatedBurst(t *testing.T) {
	f := newFixture(t)
	ada := f.identity(2)
	crt := f.cert(f.founder, ada, protocol.RoleMember)
	s := protocol.DefaultSettings()
	var r Rules
	passed := 0
	for i := range 60 {
		sent := f.now.Add(-time.Duration(i) * protocol.RateWindow)
		if r.Check(f.msg(protocol.KindSighting, ada, crt, protocol.RoleMember, 0, sent), f.now.Add(time.Duration(i)*time.Second), 0, s, nil) == nil {
			passed++
		}
	}
	if passed != s.MaxReports {
		t.Errorf("%d of 60 back-dated sightings passed, want the budget %d", passed, s.MaxReports)
	}
}

// TestEveryKindLimited: every kind but removals and rekeys has a budget
// per member, counted by arrival, and one kind's budget does not use up
// another's.
func TestEveryKindLimited(t *testing.T) {
	f := newFixture(t)
	org := f.identity(2)
	crt := f.cert(f.founder, org, protocol.RoleOrganizer)
	s := protocol.DefaultSettings()
	kinds := []protocol.Kind{protocol.KindSighting, protocol.KindCallout, protocol.KindConfirm, protocol.KindRespond, protocol.KindClear,
		protocol.KindCosign, protocol.KindMember, protocol.KindRole, protocol.KindRemove, protocol.KindRekey, protocol.KindSettings,
		protocol.KindLink, protocol.KindShare, protocol.KindTally, protocol.KindSnapshot}
	var r Rules
	for _, k := range kinds {
		budget := Budget(&protocol.Alert{Kind: k}, s)
		n := budget
		if budget < 0 {
			n = 500 // unlimited: far more than any budget
		}
		for i := range n {
			if err := r.Check(f.msg(k, org, crt, protocol.RoleOrganizer, 0, f.now.Add(-time.Hour)), f.now, 0, s, nil); err != nil {
				t.Fatalf("%s %d of %d: %v", k, i+1, n, err)
			}
		}
		err := r.Check(f.msg(k, org, crt, protocol.RoleOrganizer, 0, f.now), f.now, 0, s, nil)
		switch {
		case budget < 0 && err != nil:
			t.Errorf("%s is never limited: %v", k, err)
		case budget >= 0 && !errors.Is(err, ErrRateLimit):
			t.Errorf("%s over its budget of %d: %v, want ErrRateLimit", k, budget, err)
		}
		if budget >= 0 {
			if err := r.Check(f.msg(k, org, crt, protocol.RoleOrganizer, 0, f.now), f.now.Add(protocol.RateWindow+time.Second), 0, s, nil); err != nil {
				t.Errorf("%s in the next window: %v", k, err)
			}
		}
	}
	if got := Budget(&protocol.Alert{Kind: protocol.KindRemove}, s); got != -1 {
		t.Errorf("removals limited to %d: a removal must never be dropped", got)
	}
	// A zone that raises its report and confirm limits raises the budgets
	// that go with them; announcements and grants stay.
	busy := settings(500, 700)
	for k, want := range map[protocol.Kind]int{protocol.KindCallout: 500, protocol.KindClear: 500, protocol.KindCosign: 500,
		protocol.KindShare: 500, protocol.KindRespond: 700, protocol.KindTally: 700, protocol.KindMember: MaxAnnouncements,
		protocol.KindRole: MaxOrganizerGov, protocol.KindSnapshot: MaxSnapshots} {
		if got := Budget(&protocol.Alert{Kind: k}, busy); got != want {
			t.Errorf("%s budget in a busy zone = %d, want %d", k, got, want)
		}
	}
}

// TestCheckLive: a gossip message may say it was sent up to LiveWindow
// before it arrived; older ones only come by catch-up.
func TestCheckLive(t *testing.T) {
	f := newFixture(t)
	ada := f.identity(2)
	crt := f.cert(f.founder, ada, protocol.RoleMember)
	for _, tc := range []struct {
		name string
		sent time.Time
		want error
	}{
		{"now", f.now, nil},
		{"a clock 5 minutes behind", f.now.Add(-5 * time.Minute), nil},
		{"at the window", f.now.Add(-LiveWindow), nil},
		{"just over the window", f.now.Add(-LiveWindow - time.Second), ErrBackdated},
		{"hours back", f.now.Add(-3 * time.Hour), ErrBackdated},
		{"ahead (protocol.Validator bounds it)", f.now.Add(time.Minute), nil},
	} {
		if err := CheckLive(f.msg(protocol.KindSighting, ada, crt, protocol.RoleMember, 0, tc.sent), f.now); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestStaleEpoch(t *testing.T) {
	f := newFixture(t)
	ada := f.identity(2)
	crt := f.cert(f.founder, ada, protocol.RoleMember)
	var r Rules
	s := protocol.DefaultSettings()
	if err := r.Check(f.msg(protocol.KindSighting, ada, crt, protocol.RoleMember, 2, f.now), f.now, 3, s, nil); !errors.Is(err, protocol.ErrUnknownEpoch) {
		t.Errorf("sighting of an old epoch: %v, want ErrUnknownEpoch", err)
	}
	if err := r.Check(f.msg(protocol.KindMember, ada, crt, protocol.RoleMember, 2, f.now), f.now, 3, s, nil); err != nil {
		t.Errorf("governance of an old epoch: %v", err)
	}
	if err := r.Check(f.msg(protocol.KindSighting, ada, crt, protocol.RoleMember, 3, f.now), f.now, 3, s, nil); err != nil {
		t.Errorf("sighting of the current epoch: %v", err)
	}
}

// TestSuperseded: once a demotion is known, a demoted organizer's old
// certificate buys nothing, whatever sent time its messages carry; an old
// certificate with no more power than the current grant still passes.
func TestSuperseded(t *testing.T) {
	f := newFixture(t)
	cy := f.identity(4)
	old := f.cert(f.founder, cy, protocol.RoleOrganizer)
	demoted := f.cert(f.founder, cy, protocol.RoleMember)
	g := f.grant(demoted, f.now, false)
	var r Rules
	r.FoldGrants([]*protocol.Message{g, f.grant(old, f.now.Add(time.Hour), true)}) // an exercise grant does not count
	s := protocol.DefaultSettings()
	later := f.now.Add(time.Minute) // arrival, after the demotion is known
	tests := []struct {
		name string
		kind protocol.Kind
		leaf *protocol.Cert
		role protocol.Role
		sent time.Time
		want error
	}{
		{"callout after the grant", protocol.KindCallout, old, protocol.RoleOrganizer, f.now.Add(time.Minute), ErrSuperseded},
		{"callout at the grant", protocol.KindCallout, old, protocol.RoleOrganizer, f.now, ErrSuperseded},
		{"callout back-dated before the grant", protocol.KindCallout, old, protocol.RoleOrganizer, f.now.Add(-time.Minute), ErrSuperseded},
		{"removal back-dated a day", protocol.KindRemove, old, protocol.RoleOrganizer, f.now.Add(-24 * time.Hour), ErrSuperseded},
		{"role grant back-dated", protocol.KindRole, old, protocol.RoleOrganizer, f.now.Add(-time.Hour), ErrSuperseded},
		{"granted certificate", protocol.KindSighting, demoted, protocol.RoleMember, f.now.Add(time.Minute), nil},
	}
	for _, tc := range tests {
		if err := r.Check(f.msg(tc.kind, cy, tc.leaf, tc.role, 0, tc.sent), later, 0, s, nil); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// A later grant wins whatever the order of the messages; a promoted
	// member's old certificate gains nothing and passes.
	again := f.grant(old, f.now.Add(2*time.Minute), false)
	for _, msgs := range [][]*protocol.Message{{g, again}, {again, g}} {
		var r Rules
		r.FoldGrants(msgs)
		if err := r.Check(f.msg(protocol.KindCallout, cy, old, protocol.RoleOrganizer, 0, f.now.Add(3*time.Minute)), later, 0, s, nil); err != nil {
			t.Errorf("re-granted certificate: %v", err)
		}
		if err := r.Check(f.msg(protocol.KindSighting, cy, demoted, protocol.RoleMember, 0, f.now.Add(-time.Hour)), later, 0, s, nil); err != nil {
			t.Errorf("lower certificate superseded by a promotion: %v", err)
		}
	}
}

// TestForwardLimits: a message that crossed a link counts against the
// link, not its relay, and a shared alert crosses once.
func TestForwardLimits(t *testing.T) {
	f := newFixture(t)
	relay := f.identity(5)
	crt := f.cert(f.founder, relay, protocol.RoleOrganizer)
	link := protocol.LinkID{7}
	s := settings(1, 1)
	var r Rules
	forwarded := func(i int, d protocol.Digest) *protocol.Message {
		m := f.msg(protocol.KindSighting, relay, crt, protocol.RoleOrganizer, 0, f.now.Add(time.Duration(i)*time.Millisecond))
		m.Alert.Via = &protocol.Forward{Link: link, Digest: d, Hops: 1}
		return m
	}
	known := protocol.Digest{0xaa}
	shared := func(d protocol.Digest) bool { return d == known }
	if err := r.Check(forwarded(0, known), f.now, 0, s, shared); !errors.Is(err, ErrDuplicateShare) {
		t.Errorf("alert that already crossed: %v, want ErrDuplicateShare", err)
	}
	for i := range protocol.MaxLinkMessages {
		if err := r.Check(forwarded(i+1, protocol.Digest{byte(i), 1}), f.now, 0, s, shared); err != nil {
			t.Fatalf("forwarded message %d: %v (the relay's own limit of 1 must not apply)", i, err)
		}
	}
	if err := r.Check(forwarded(protocol.MaxLinkMessages+1, protocol.Digest{0xbb}), f.now, 0, s, shared); !errors.Is(err, ErrRateLimit) {
		t.Errorf("message over the link's limit: %v, want ErrRateLimit", err)
	}
	if err := r.Check(f.msg(protocol.KindSighting, relay, crt, protocol.RoleOrganizer, 0, f.now), f.now, 0, s, shared); err != nil {
		t.Errorf("the relay's own sighting: %v", err)
	}
}
