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

func TestRateLimits(t *testing.T) {
	f := newFixture(t)
	ada, bo := f.identity(2), f.identity(3)
	adaCrt, boCrt := f.cert(f.founder, ada, protocol.RoleMember), f.cert(f.founder, bo, protocol.RoleMember)
	s := settings(2, 1)
	var r Rules
	w := protocol.RateWindow
	steps := []struct {
		name string
		m    *protocol.Message
		want error
	}{
		{"first sighting", f.msg(protocol.KindSighting, ada, adaCrt, protocol.RoleMember, 0, f.now), nil},
		{"second sighting", f.msg(protocol.KindSighting, ada, adaCrt, protocol.RoleMember, 0, f.now.Add(time.Second)), nil},
		{"third sighting in the window", f.msg(protocol.KindSighting, ada, adaCrt, protocol.RoleMember, 0, f.now.Add(2*time.Second)), ErrRateLimit},
		{"another member", f.msg(protocol.KindSighting, bo, boCrt, protocol.RoleMember, 0, f.now.Add(2*time.Second)), nil},
		{"a confirm counts apart", f.msg(protocol.KindConfirm, ada, adaCrt, protocol.RoleMember, 0, f.now.Add(3*time.Second)), nil},
		{"second confirm", f.msg(protocol.KindConfirm, ada, adaCrt, protocol.RoleMember, 0, f.now.Add(4*time.Second)), ErrRateLimit},
		{"clears are not limited", f.msg(protocol.KindClear, ada, adaCrt, protocol.RoleMember, 0, f.now.Add(5*time.Second)), nil},
		{"after the window", f.msg(protocol.KindSighting, ada, adaCrt, protocol.RoleMember, 0, f.now.Add(w+time.Second)), nil},
		// A sender choosing an old timestamp lands in the old window, still full.
		{"back-dated into the full window", f.msg(protocol.KindSighting, ada, adaCrt, protocol.RoleMember, 0, f.now.Add(1500*time.Millisecond)), ErrRateLimit},
	}
	for _, st := range steps {
		if err := r.Check(st.m, 0, s, nil); !errors.Is(err, st.want) {
			t.Errorf("%s: %v, want %v", st.name, err, st.want)
		}
	}
	// Headroom warns a local sender and records nothing.
	at := f.now.Add(w + 2*time.Second)
	if err := r.Headroom(ada.ID(), protocol.KindSighting, at, s); err != nil {
		t.Errorf("headroom with one report in the window: %v", err)
	}
	if err := r.Check(f.msg(protocol.KindSighting, ada, adaCrt, protocol.RoleMember, 0, at), 0, s, nil); err != nil {
		t.Fatalf("second report of the new window: %v", err)
	}
	for range 2 {
		if err := r.Headroom(ada.ID(), protocol.KindSighting, at, s); !errors.Is(err, api.ErrForbidden) {
			t.Errorf("headroom at the limit: %v, want ErrForbidden", err)
		}
	}
	if err := r.Headroom(f.identity(9).ID(), protocol.KindSighting, at, s); err != nil {
		t.Errorf("headroom of a member who sent nothing: %v", err)
	}
}

func TestStaleEpoch(t *testing.T) {
	f := newFixture(t)
	ada := f.identity(2)
	crt := f.cert(f.founder, ada, protocol.RoleMember)
	var r Rules
	s := protocol.DefaultSettings()
	if err := r.Check(f.msg(protocol.KindSighting, ada, crt, protocol.RoleMember, 2, f.now), 3, s, nil); !errors.Is(err, protocol.ErrUnknownEpoch) {
		t.Errorf("sighting of an old epoch: %v, want ErrUnknownEpoch", err)
	}
	if err := r.Check(f.msg(protocol.KindMember, ada, crt, protocol.RoleMember, 2, f.now), 3, s, nil); err != nil {
		t.Errorf("governance of an old epoch: %v", err)
	}
	if err := r.Check(f.msg(protocol.KindSighting, ada, crt, protocol.RoleMember, 3, f.now), 3, s, nil); err != nil {
		t.Errorf("sighting of the current epoch: %v", err)
	}
}

// TestSuperseded: a thief with an organizer's old certificate is refused
// once a newer grant for that member exists.
func TestSuperseded(t *testing.T) {
	f := newFixture(t)
	cy := f.identity(4)
	old := f.cert(f.founder, cy, protocol.RoleOrganizer)
	demoted := f.cert(f.founder, cy, protocol.RoleMember)
	g := f.grant(demoted, f.now, false)
	var r Rules
	r.FoldGrants([]*protocol.Message{g, f.grant(old, f.now.Add(time.Hour), true)}) // an exercise grant does not count
	s := protocol.DefaultSettings()
	tests := []struct {
		name string
		leaf *protocol.Cert
		sent time.Time
		want error
	}{
		{"old certificate after the grant", old, f.now.Add(time.Minute), ErrSuperseded},
		{"old certificate at the grant", old, f.now, ErrSuperseded},
		{"old certificate before the grant", old, f.now.Add(-time.Minute), nil},
		{"granted certificate", demoted, f.now.Add(time.Minute), nil},
	}
	for _, tc := range tests {
		if err := r.Check(f.msg(protocol.KindCallout, cy, tc.leaf, protocol.RoleOrganizer, 0, tc.sent), 0, s, nil); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// A later grant wins whatever the order of the messages.
	again := f.grant(old, f.now.Add(2*time.Minute), false)
	for _, msgs := range [][]*protocol.Message{{g, again}, {again, g}} {
		var r Rules
		r.FoldGrants(msgs)
		if err := r.Check(f.msg(protocol.KindCallout, cy, old, protocol.RoleOrganizer, 0, f.now.Add(3*time.Minute)), 0, s, nil); err != nil {
			t.Errorf("re-granted certificate: %v", err)
		}
		if err := r.Check(f.msg(protocol.KindCallout, cy, demoted, protocol.RoleMember, 0, f.now.Add(3*time.Minute)), 0, s, nil); !errors.Is(err, ErrSuperseded) {
			t.Errorf("certificate superseded by the re-grant: %v", err)
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
	if err := r.Check(forwarded(0, known), 0, s, shared); !errors.Is(err, ErrDuplicateShare) {
		t.Errorf("alert that already crossed: %v, want ErrDuplicateShare", err)
	}
	for i := range protocol.MaxLinkMessages {
		if err := r.Check(forwarded(i+1, protocol.Digest{byte(i), 1}), 0, s, shared); err != nil {
			t.Fatalf("forwarded message %d: %v (the relay's own limit of 1 must not apply)", i, err)
		}
	}
	if err := r.Check(forwarded(protocol.MaxLinkMessages+1, protocol.Digest{0xbb}), 0, s, shared); !errors.Is(err, ErrRateLimit) {
		t.Errorf("message over the link's limit: %v, want ErrRateLimit", err)
	}
	if err := r.Check(f.msg(protocol.KindSighting, relay, crt, protocol.RoleOrganizer, 0, f.now), 0, s, shared); err != nil {
		t.Errorf("the relay's own sighting: %v", err)
	}
}
