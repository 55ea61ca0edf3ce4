package protocol

import (
	"errors"
	"testing"
	"time"

	"lookout/crypto"
)

// inviteWorld is a joiner certified by testInvite's key under the founder.
type inviteWorld struct {
	key    *crypto.Identity
	kcert  *Cert // invite(member) by the founder, t0 .. t0+48h
	joiner *crypto.Identity
}

func newInviteWorld(t testing.TB) inviteWorld {
	return inviteWorld{key: testInviteKey(), kcert: testInviteCert(t), joiner: mustIdentity(0x51)}
}

// leaf is the joiner's certificate issued by the invite key.
func (w inviteWorld) leaf(role Role, issued, expires time.Time) *Cert {
	return mustCert(w.key, testZone, w.joiner.Public(), role, issued, expires)
}

func TestInviteChain(t *testing.T) {
	f := fx(t)
	w := newInviteWorld(t)
	joined := t0.Add(time.Hour)
	good := w.leaf(RoleMember, joined, joined.Add(DefaultCertTTL))
	orgInvite := mustCert(f.founder, testZone, w.key.Public(), InviteRole(RoleOrganizer), t0, testInvite().Expires)
	joinedOrg := w.leaf(RoleOrganizer, joined, joined.Add(DefaultCertTTL))
	byJoinedOrg := mustCert(w.joiner, testZone, f.member2.Public(), RoleMember, joined, joined.Add(DefaultCertTTL))
	byMember := mustCert(f.member, testZone, w.key.Public(), InviteRole(RoleMember), t0, testInvite().Expires)
	other := mustIdentity(0x52)
	cases := []struct {
		name  string
		chain Chain
		now   time.Time
		want  error
		role  Role
	}{
		{"joiner under the invite", Chain{good, w.kcert, f.founderCert}, joined, nil, RoleMember},
		{"long after the invite expired", Chain{good, w.kcert, f.founderCert}, joined.Add(200 * 24 * time.Hour), nil, RoleMember},
		{"invited organizer certifies a member", Chain{byJoinedOrg, joinedOrg, orgInvite, f.founderCert}, joined, nil, RoleMember},
		{"the invite key signs an alert", Chain{w.kcert, f.founderCert}, joined, ErrChain, 0},
		{"joiner raises its role", Chain{w.leaf(RoleVerifier, joined, joined.Add(time.Hour)), w.kcert, f.founderCert}, joined, ErrChain, 0},
		{"joiner lowers its role", Chain{w.leaf(RoleMember, joined, joined.Add(time.Hour)), orgInvite, f.founderCert}, joined, ErrChain, 0},
		{"certified after the invite expired", Chain{w.leaf(RoleMember, testInvite().Expires, testInvite().Expires.Add(time.Hour)), w.kcert, f.founderCert}, testInvite().Expires.Add(time.Minute), ErrChain, 0},
		{"certified before the invite", Chain{w.leaf(RoleMember, t0.Add(-time.Hour), t0.Add(time.Hour)), w.kcert, f.founderCert}, t0, ErrChain, 0},
		{"valid too long", Chain{w.leaf(RoleMember, joined, testInvite().Expires.Add(InvitedCertTTL+time.Millisecond)), w.kcert, f.founderCert}, joined, ErrChain, 0},
		{"invite certified by a member", Chain{good, byMember, f.memberCert, f.founderCert}, joined, ErrChain, 0},
		{"invite key certifying an invite key", Chain{mustCert(w.key, testZone, other.Public(), InviteRole(RoleMember), joined, joined.Add(time.Hour)), w.kcert, f.founderCert}, joined, ErrChain, 0},
		{"joiner's certificate expired", Chain{w.leaf(RoleMember, joined, joined.Add(time.Hour)), w.kcert, f.founderCert}, joined.Add(2 * time.Hour), ErrChain, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := &ChainVerifier{Zone: testZone, Root: f.founder.Public()}
			role, err := v.Verify(c.chain, c.now)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
			if err == nil && role != c.role {
				t.Errorf("role %s, want %s", role, c.role)
			}
		})
	}
	ch := Chain{good, w.kcert, f.founderCert}
	if want := f.founderCert.Expires; !ch.Expires().Equal(want) {
		t.Errorf("Expires = %s, want the founder's %s (not the invite's)", ch.Expires(), want)
	}
	if short := (Chain{w.leaf(RoleMember, joined, joined.Add(time.Hour)), w.kcert, f.founderCert}); !short.Expires().Equal(joined.Add(time.Hour)) {
		t.Errorf("Expires = %s, want the joiner's", short.Expires())
	}
	if k, ok := ch.InviteKey(); !ok || k != w.kcert {
		t.Errorf("InviteKey = %v, %v", k, ok)
	}
	if _, ok := f.member2Chain.InviteKey(); ok {
		t.Errorf("an ordinary chain has an invite key")
	}
}

func TestCertifyInvited(t *testing.T) {
	f := fx(t)
	w := newInviteWorld(t)
	g := &Grant{Zone: testZone, Chain: Chain{w.kcert, f.founderCert}}
	now := t0.Add(time.Hour)
	ch, err := CertifyInvited(w.key, g, w.joiner.Public(), now)
	if err != nil {
		t.Fatal(err)
	}
	v := &ChainVerifier{Zone: testZone, Root: f.founder.Public()}
	if role, err := v.Verify(ch, now); err != nil || role != RoleMember {
		t.Fatalf("Verify = %s, %v", role, err)
	}
	// The certificate is issued at the invite's issued time, whatever the
	// joiner's clock: never in the future for the zone.
	if c := ch.Leaf(); !c.Issued.Equal(w.kcert.Issued) || !c.Expires.Equal(w.kcert.Issued.Add(DefaultCertTTL)) {
		t.Errorf("certificate issued %v, expires %v; want the invite's issued time and a year after", c.Issued, c.Expires)
	}
	if _, err := CertifyInvited(w.key, g, w.joiner.Public(), testInvite().Expires); !errors.Is(err, ErrInviteExpired) {
		t.Errorf("certified with an expired invite: %v", err)
	}
	otherKey := mustIdentity(0x53)
	if _, err := CertifyInvited(otherKey, g, w.joiner.Public(), now); !errors.Is(err, ErrChain) {
		t.Errorf("another key certified under the invite: %v", err)
	}
	if _, err := CertifyInvited(w.key, &Grant{Zone: testZone, Chain: f.memberChain}, w.joiner.Public(), now); !errors.Is(err, ErrChain) {
		t.Errorf("certified under a grant without an invite: %v", err)
	}
}

// TestRosterInvites: an invite grant publishes the invite without making
// its key a member; announcements under the invite key record redeemers,
// the earliest certified first, whatever the order of the messages.
func TestRosterInvites(t *testing.T) {
	f := fx(t)
	w := newInviteWorld(t)
	a := newRole()
	a.Cert = w.kcert.Bytes()
	inv := gov(t, a, f.founder.ID(), RoleOrganizer, t0)
	id := InviteIDOf(w.key.Public())

	announceUnder := func(joiner *crypto.Identity, issued time.Time) *Message {
		m := announce(t, joiner.ID(), RoleMember, "j", f.memberKEM.PublicBytes(), issued.Add(time.Second))
		m.Chain = Chain{mustCert(w.key, testZone, joiner.Public(), RoleMember, issued, issued.Add(time.Hour)), w.kcert, f.founderCert}
		return m
	}
	first, second := mustIdentity(0x54), mustIdentity(0x55)
	a1 := announceUnder(first, t0.Add(time.Minute))
	a2 := announceUnder(second, t0.Add(2*time.Minute))

	r := FoldRoster([]*Message{inv}, f.founder.ID(), DefaultSettings())
	if r.Invites[id] == nil || r.Members[w.key.ID()] != nil {
		t.Fatalf("invite not published, or its key listed as a member: %+v", r.Invites)
	}
	if _, ok := r.Redeemer(id); ok {
		t.Errorf("a fresh invite has a redeemer")
	}
	for _, order := range [][]*Message{{inv, a1, a2}, {a2, inv, a1}, {a2, a1}} {
		r := FoldRoster(order, f.founder.ID(), DefaultSettings())
		got, ok := r.Redeemer(id)
		if !ok || got != first.ID() || len(r.Invites[id].Redeemers) != 2 {
			t.Errorf("redeemer %x (%v), redeemers %d; want the first certified of two", got[:4], ok, len(r.Invites[id].Redeemers))
		}
		if r.Members[first.ID()] == nil || r.Members[first.ID()].Role != RoleMember {
			t.Errorf("the redeemer is not a member")
		}
	}
	// An invite grant from a non-organizer publishes nothing.
	if r := FoldRoster([]*Message{gov(t, a, f.member.ID(), RoleMember, t0)}, f.founder.ID(), DefaultSettings()); len(r.Invites) != 0 {
		t.Errorf("a member's invite grant was published")
	}
}
