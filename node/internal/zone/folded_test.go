package zone

import (
	"errors"
	"testing"
	"time"

	"lookout/crypto"
	"lookout/protocol"
)

// TestFoldedInvites: one invite redeemed by two members. Before any
// announcement is held, both are admitted; once the first redeemer's is,
// the second may still announce itself (organizers must see it) but
// nothing else it sends passes; Refold counts the invite as redeemed
// twice once, however often it refolds.
func TestFoldedInvites(t *testing.T) {
	f := newFixture(t)
	key, err := protocol.InviteIdentity([protocol.InviteSecretSize]byte{7})
	if err != nil {
		t.Fatal(err)
	}
	invCert, err := protocol.IssueCert(f.founder, f.zone, key.Public(), protocol.InviteRole(protocol.RoleMember), f.now.Add(-time.Hour), f.now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	invite := f.grant(invCert, f.now.Add(-time.Hour), false)
	under := func(joiner *crypto.Identity, issued time.Time) protocol.Chain {
		c, err := protocol.IssueCert(key, f.zone, joiner.Public(), protocol.RoleMember, issued, issued.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return protocol.Chain{c, invCert, f.rootCrt}
	}
	first, second := f.identity(0x54), f.identity(0x55)
	firstChain, secondChain := under(first, f.now), under(second, f.now.Add(time.Minute))
	announce := func(who *crypto.Identity, chain protocol.Chain, sent time.Time) *protocol.Message {
		m := f.msg(protocol.KindMember, who, chain.Leaf(), protocol.RoleMember, 0, sent)
		m.Chain, m.Alert.Name = chain, "j"
		return m
	}
	report := func(who *crypto.Identity, chain protocol.Chain) *protocol.Message {
		m := f.sighting(who, chain.Leaf(), "Main St", f.now.Add(2*time.Minute))
		m.Chain = chain
		return m
	}
	arrival := f.now.Add(2 * time.Minute)
	fold := NewFolded(f.founder.ID())
	if fold.Settings() != protocol.DefaultSettings() {
		t.Errorf("a new zone's settings: %+v", fold.Settings())
	}
	if n := fold.Refold([]*protocol.Message{invite}, f.founder.ID()); n != 0 {
		t.Errorf("an unredeemed invite counted as redeemed twice")
	}
	for _, c := range []struct {
		who   *crypto.Identity
		chain protocol.Chain
	}{{first, firstChain}, {second, secondChain}} {
		if err := fold.Check(report(c.who, c.chain), arrival, 0, nil); err != nil {
			t.Errorf("before any redemption is known: %v", err)
		}
	}
	gov := []*protocol.Message{invite, announce(first, firstChain, f.now), announce(second, secondChain, f.now.Add(time.Minute))}
	if n := fold.Refold(gov, f.founder.ID()); n != 1 || !fold.Twice[protocol.InviteIDOf(key.Public())] {
		t.Fatalf("two redemptions: %d newly redeemed twice, want 1", n)
	}
	if n := fold.Refold(gov, f.founder.ID()); n != 0 {
		t.Errorf("refolding counted the same invite again (%d)", n)
	}
	if err := fold.Check(report(first, firstChain), arrival, 0, nil); err != nil {
		t.Errorf("the first redeemer: %v", err)
	}
	if err := fold.Check(report(second, secondChain), arrival, 0, nil); !errors.Is(err, ErrInviteRedeemed) {
		t.Errorf("the second redeemer's report: %v, want ErrInviteRedeemed", err)
	}
	if err := fold.Check(announce(second, secondChain, f.now.Add(2*time.Minute)), arrival, 0, nil); err != nil {
		t.Errorf("the second redeemer's announcement: %v, want admitted", err)
	}
}

// TestFoldedRoster: settings and role grants fold into the roster, and
// Check refuses a message signed under a grant that was superseded and
// gave more power.
func TestFoldedRoster(t *testing.T) {
	f := newFixture(t)
	vi := f.identity(6)
	viC := f.cert(f.founder, vi, protocol.RoleVerifier)
	grant := f.grant(viC, f.now, false)
	settings := f.msg(protocol.KindSettings, f.founder, f.rootCrt, protocol.RoleOrganizer, 0, f.now.Add(time.Minute))
	s := protocol.DefaultSettings()
	s.Corroborations = 5
	settings.Alert.Settings = s.Wire()
	fold := NewFolded(f.founder.ID())
	fold.Refold([]*protocol.Message{settings, grant}, f.founder.ID())
	if fold.Settings().Corroborations != 5 {
		t.Errorf("settings in force: %+v, want 5 corroborations", fold.Settings())
	}
	if mi := fold.Roster.Members[vi.ID()]; mi == nil || mi.Role != protocol.RoleVerifier {
		t.Errorf("granted verifier: %+v", mi)
	}
	// A verifier's old member certificate gives no more power: it passes;
	// a message signed as organizer under a superseded grant does not.
	old := f.cert(f.founder, vi, protocol.RoleOrganizer)
	m := f.msg(protocol.KindSighting, vi, old, protocol.RoleOrganizer, 0, f.now.Add(2*time.Minute))
	if err := fold.Check(m, f.now.Add(2*time.Minute), 0, nil); !errors.Is(err, ErrSuperseded) {
		t.Errorf("signed with a superseded organizer certificate: %v, want ErrSuperseded", err)
	}
}
