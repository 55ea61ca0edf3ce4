package zone

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"lookout/crypto"
	"lookout/protocol"
)

// lifeState is a zone state holding gov as its governance messages, folded,
// at epoch with the secrets of epochs 0 to epoch.
func lifeState(f *fixture, epoch uint32, gov ...*protocol.Message) *State {
	s := NewStateFrom(Membership{Root: f.founder.Public()}, Record{})
	s.epoch, s.epochs = epoch, map[uint32]crypto.ZoneSecret{}
	for e := range epoch + 1 {
		s.epochs[e] = crypto.ZoneSecret(bytes.Repeat([]byte{byte(0xa0 + e)}, crypto.ZoneSecretSize))
	}
	for _, m := range gov {
		s.gov[m.ID] = &GovMsg{Msg: m}
	}
	s.fold = NewFolded(f.founder.ID())
	lifeRefold(f, &s)
	return &s
}

// lifeRefold refolds a state's governance messages.
func lifeRefold(f *fixture, s *State) {
	msgs := make([]*protocol.Message, 0, len(s.gov))
	for _, g := range s.gov {
		msgs = append(msgs, g.Msg)
	}
	s.fold.Refold(msgs, f.founder.ID())
}

// lifeRekey is a rekey part from an organizer moving from parent to epoch,
// with an entry for each member, its message ID id.
func (f *fixture) lifeRekey(sender *crypto.Identity, parent, epoch uint32, id byte, sent time.Time, members ...crypto.MemberID) *protocol.Message {
	m := f.msg(protocol.KindRekey, sender, f.cert(f.founder, sender, protocol.RoleOrganizer), protocol.RoleOrganizer, parent, sent)
	m.ID = protocol.AlertID{0x7e, id}
	m.Alert.Epoch = epoch
	for _, mb := range members {
		m.Alert.Rekey = append(m.Alert.Rekey, protocol.RekeyEntry{Member: mb})
	}
	return m
}

// lifeRemove is an organizer's removal of subject.
func (f *fixture) lifeRemove(sender *crypto.Identity, subject crypto.MemberID, sent time.Time) *protocol.Message {
	m := f.msg(protocol.KindRemove, sender, f.cert(f.founder, sender, protocol.RoleOrganizer), protocol.RoleOrganizer, 0, sent)
	m.Alert.Subject = subject
	return m
}

// TestForkPlan: which epoch a merge is sealed under and moves to, and who
// merges at once, from the rekeys and removals held.
func TestForkPlan(t *testing.T) {
	f := newFixture(t)
	ann, bea, cy, dee := f.identity(0x21), f.identity(0x22), f.identity(0x23), f.identity(0x24)
	t0 := f.now
	everyone := []crypto.MemberID{ann.ID(), bea.ID(), cy.ID(), dee.ID()}
	without := func(gone crypto.MemberID) []crypto.MemberID {
		return slices.DeleteFunc(slices.Clone(everyone), func(m crypto.MemberID) bool { return m == gone })
	}
	// During a split ann removes cy and bea removes dee: both rekey 0 → 1.
	annRm, beaRm := f.lifeRemove(ann, cy.ID(), t0), f.lifeRemove(bea, dee.ID(), t0.Add(time.Second))
	annRk := f.lifeRekey(ann, 0, 1, 0x20, t0.Add(time.Minute), without(cy.ID())...)
	beaRk := f.lifeRekey(bea, 0, 1, 0x10, t0.Add(time.Minute), without(dee.ID())...)
	for _, c := range []struct {
		name  string
		epoch uint32
		gov   []*protocol.Message
		want  ForkPlan
	}{
		{"no rekey", 0, nil, ForkPlan{}},
		{"one rekey, its removal held", 1, []*protocol.Message{annRm, annRk}, ForkPlan{}},
		{"a fork at 1: the lowest rekey ID's sender merges from 0 to 2", 1,
			[]*protocol.Message{annRm, beaRm, annRk, beaRk}, ForkPlan{Need: true, Parent: 0, Target: 2, Merger: bea.ID()}},
		{"a fork, rekeys alone", 1, []*protocol.Message{annRk, beaRk}, ForkPlan{Need: true, Parent: 0, Target: 2, Merger: bea.ID()}},
		{"the other side's removal before its rekey: the remover merges", 1,
			[]*protocol.Message{annRm, annRk, beaRm}, ForkPlan{Need: true, Parent: 1, Target: 2, Merger: bea.ID()}},
		{"a fork while behind a later rekey: follow it", 1,
			[]*protocol.Message{annRk, beaRk, f.lifeRekey(ann, 1, 2, 0x30, t0.Add(time.Hour), everyone...)}, ForkPlan{}},
		{"a fork spanned by a merge", 2,
			[]*protocol.Message{annRk, beaRk, f.lifeRekey(bea, 0, 2, 0x30, t0.Add(time.Hour), without(cy.ID())...)}, ForkPlan{}},
		{"a fork at 2 over a fork at 1 unresolved: merge from 0", 2,
			[]*protocol.Message{annRk, beaRk, f.lifeRekey(ann, 1, 2, 0x05, t0.Add(time.Hour)), f.lifeRekey(cy, 1, 2, 0x40, t0.Add(time.Hour))},
			ForkPlan{Need: true, Parent: 0, Target: 3, Merger: bea.ID()}},
	} {
		s := lifeState(f, c.epoch, c.gov...)
		s.role = protocol.RoleMember
		if got := s.ForkPlan(); got != c.want {
			t.Errorf("%s: plan %+v, want %+v", c.name, got, c.want)
		}
	}

	// The first counted removal names the merger, whatever the IDs.
	late := f.lifeRemove(ann, dee.ID(), t0.Add(time.Hour))
	late.ID = protocol.AlertID{0x01}
	s := lifeState(f, 1, annRk, beaRm, late)
	s.role = protocol.RoleOrganizer
	if got, want := s.ForkPlan(), (ForkPlan{Need: true, Parent: 1, Target: 2, Merger: bea.ID(), Organizer: true}); got != want {
		t.Errorf("two removals of one member: plan %+v, want %+v", got, want)
	}

	// No plan without the parent's secret, or once removed.
	s = lifeState(f, 1, annRk, beaRk)
	delete(s.epochs, 0)
	if got := s.ForkPlan(); got.Need {
		t.Errorf("a fork whose parent secret is not held: %+v", got)
	}
	s = lifeState(f, 1, annRk, beaRk)
	s.removed = true
	if got := s.ForkPlan(); got.Need {
		t.Errorf("a fork seen by a removed member: %+v", got)
	}
}

// TestRekeySets: a rekey's parts form one set per sender and epochs, its
// lowest part ID and the members with an entry in any part; a message
// that does not move forward is none.
func TestRekeySets(t *testing.T) {
	f := newFixture(t)
	ann, bea := f.identity(0x21), f.identity(0x22)
	p0 := f.lifeRekey(ann, 0, 1, 0x20, f.now, bea.ID())
	p1 := f.lifeRekey(ann, 0, 1, 0x08, f.now, ann.ID())
	p1.Alert.Part = 1
	back := f.lifeRekey(bea, 1, 1, 0x01, f.now, ann.ID())
	sets := lifeState(f, 1, p0, p1, back).RekeySets()
	if len(sets) != 1 {
		t.Fatalf("%d sets, want 1: %v", len(sets), sets)
	}
	rs := sets[RekeySetKey{Sender: ann.ID(), Epoch: 1, Parent: 0}]
	if rs == nil || rs.Lowest != p1.ID || len(rs.Parts) != 2 || !rs.Members[ann.ID()] || !rs.Members[bea.ID()] {
		t.Errorf("ann's set: %+v", rs)
	}
}

// lifeCert is a certificate from f.now-1h until expires.
func lifeCert(f *fixture, issuer *crypto.Identity, subject *crypto.PublicKey, role protocol.Role, expires time.Time) *protocol.Cert {
	c, err := protocol.IssueCert(issuer, f.zone, subject, role, f.now.Add(-time.Hour), expires)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// lifeAnnounce is who's announcement under chain, as role.
func (f *fixture) lifeAnnounce(who *crypto.Identity, chain protocol.Chain, role protocol.Role, name string) *protocol.Message {
	m := f.msg(protocol.KindMember, who, chain.Leaf(), role, 0, f.now.Add(-time.Minute))
	m.Chain, m.Alert.Name = chain, name
	return m
}

// TestDueRenewals: whom an organizer re-issues a certificate to, from the
// chains seen in announcements and grants and the invites redeemed.
func TestDueRenewals(t *testing.T) {
	f := newFixture(t)
	day := 24 * time.Hour
	root := lifeCert(f, f.founder, f.founder.Public(), protocol.RoleOrganizer, f.now.Add(800*day))
	ada, bo, cy, dee, eve, fay, gus := f.identity(0x31), f.identity(0x32), f.identity(0x33), f.identity(0x34), f.identity(0x35), f.identity(0x36), f.identity(0x37)
	under := func(who *crypto.Identity, role protocol.Role, days int) protocol.Chain {
		return protocol.Chain{lifeCert(f, f.founder, who.Public(), role, f.now.Add(time.Duration(days)*day)), root}
	}
	adaChain := under(ada, protocol.RoleOrganizer, 365)
	// gus joined with an invite ada issued.
	key, err := protocol.InviteIdentity([protocol.InviteSecretSize]byte{9})
	if err != nil {
		t.Fatal(err)
	}
	invCert := lifeCert(f, ada, key.Public(), protocol.InviteRole(protocol.RoleMember), f.now.Add(day))
	gusChain := append(protocol.Chain{lifeCert(f, key, gus.Public(), protocol.RoleMember, f.now.Add(5*day)), invCert}, adaChain...)
	invite := f.msg(protocol.KindRole, ada, adaChain.Leaf(), protocol.RoleOrganizer, 0, f.now.Add(-time.Hour))
	invite.Chain, invite.Alert.Cert = adaChain, invCert.Bytes()
	founderShort := protocol.Chain{lifeCert(f, f.founder, f.founder.Public(), protocol.RoleOrganizer, f.now.Add(10*day))}
	gov := []*protocol.Message{
		f.lifeAnnounce(f.founder, founderShort, protocol.RoleOrganizer, "founder"), // the founder renews itself
		f.lifeAnnounce(ada, adaChain, protocol.RoleOrganizer, "ada"),
		f.lifeAnnounce(bo, under(bo, protocol.RoleVerifier, 30), protocol.RoleVerifier, "bo"), // due
		f.lifeAnnounce(cy, under(cy, protocol.RoleMember, 100), protocol.RoleMember, "cy"),    // not yet
		f.lifeAnnounce(dee, under(dee, protocol.RoleMember, 400), protocol.RoleMember, "dee"), // would gain nothing
		f.lifeAnnounce(eve, under(eve, protocol.RoleMember, 30), protocol.RoleMember, "eve"),  // removed
		f.lifeAnnounce(fay, under(fay, protocol.RoleMember, 30), protocol.RoleMember, "fay"),  // key unknown
		f.lifeRemove(ada, eve.ID(), f.now.Add(-time.Second)),
		invite,
		f.lifeAnnounce(gus, gusChain, protocol.RoleMember, "gus"), // invited: due at once
	}
	s := lifeState(f, 0, gov...)
	s.role, s.chain = protocol.RoleOrganizer, adaChain
	for _, id := range []*crypto.Identity{f.founder, ada, bo, cy, dee, eve, gus} {
		s.pubkeys[id.ID()] = id.Public()
	}
	names := func(rs []Renewal) []string {
		var out []string
		for _, r := range rs {
			out = append(out, s.fold.Roster.Members[r.Member].Name+":"+r.Role.String())
			if !r.Key.Equal(s.pubkeys[r.Member]) {
				t.Errorf("%x renewed with another key", r.Member[:4])
			}
		}
		return out
	}
	if got, want := names(s.DueRenewals(ada.ID(), f.now)), []string{"bo:verifier", "gus:member"}; !slices.Equal(got, want) {
		t.Errorf("due: %q, want %q", got, want)
	}
	if got, want := names(s.DueRenewals(bo.ID(), f.now)), []string{"gus:member"}; !slices.Equal(got, want) {
		t.Errorf("due but for bo itself: %q, want %q", got, want)
	}
	if got := s.DueRenewals(ada.ID(), f.now.Add(70*day)); len(got) != 3 {
		t.Errorf("70 days on: %q, want bo, cy and gus", names(got))
	}
	if !s.CertifiesInvited(gus.ID()) || s.CertifiesInvited(bo.ID()) {
		t.Errorf("certify directly: gus %v, bo %v; want true, false", s.CertifiesInvited(gus.ID()), s.CertifiesInvited(bo.ID()))
	}
	if got := s.LatestChains(); !got[bo.ID()].Equal(f.now.Add(30*day)) || !got[gus.ID()].Equal(f.now.Add(5*day)) {
		t.Errorf("latest chains: bo %v, gus %v", got[bo.ID()], got[gus.ID()])
	}

	// A grant through ada renews bo and certifies gus directly.
	for _, who := range []*crypto.Identity{bo, gus} {
		g := f.msg(protocol.KindRole, ada, adaChain.Leaf(), protocol.RoleOrganizer, 0, f.now)
		g.Chain, g.Alert.Cert = adaChain, lifeCert(f, ada, who.Public(), protocol.RoleMember, f.now.Add(200*day)).Bytes()
		s.gov[g.ID] = &GovMsg{Msg: g}
	}
	lifeRefold(f, s)
	if got := s.DueRenewals(ada.ID(), f.now); len(got) != 0 {
		t.Errorf("due after the grants: %q", names(got))
	}
	if got := s.LatestChains()[bo.ID()]; !got.Equal(f.now.Add(200 * day)) {
		t.Errorf("bo's latest chain after a grant: %v", got)
	}
	if s.CertifiesInvited(gus.ID()) {
		t.Error("gus certified directly is still to certify")
	}

	// Nothing is due from a member, a removed organizer, an expired one, or
	// one whose chain is too long to issue under.
	s = lifeState(f, 0, gov...)
	s.role, s.chain = protocol.RoleOrganizer, adaChain
	s.pubkeys[bo.ID()], s.pubkeys[gus.ID()] = bo.Public(), gus.Public()
	for name, change := range map[string]func(){
		"a member":   func() { s.role = protocol.RoleMember },
		"removed":    func() { s.removed = true },
		"expired":    func() { s.chain = under(ada, protocol.RoleOrganizer, 0) },
		"long chain": func() { s.chain = slices.Repeat(adaChain[:1], protocol.MaxChainLen) },
	} {
		role, removed, chain := s.role, s.removed, s.chain
		change()
		if got := s.DueRenewals(ada.ID(), f.now); len(got) != 0 {
			t.Errorf("%s: due %q", name, names(got))
		}
		if name != "expired" && name != "long chain" && s.CertifiesInvited(gus.ID()) {
			t.Errorf("%s: certifies gus", name)
		}
		s.role, s.removed, s.chain = role, removed, chain
	}
	if got := s.DueRenewals(ada.ID(), f.now); len(got) != 2 {
		t.Errorf("restored: due %q, want bo and gus", names(got))
	}
	// An organizer whose own chain ends before bo's gives bo nothing.
	s.chain = under(ada, protocol.RoleOrganizer, 20)
	if got, want := names(s.DueRenewals(ada.ID(), f.now)), []string{"gus:member"}; !slices.Equal(got, want) {
		t.Errorf("from a chain ending first: due %q, want %q", got, want)
	}
}

// TestInviteStanding: an invite copied out of the roster, and what the
// roster says of a joiner asking for it.
func TestInviteStanding(t *testing.T) {
	f := newFixture(t)
	key, err := protocol.InviteIdentity([protocol.InviteSecretSize]byte{7})
	if err != nil {
		t.Fatal(err)
	}
	invCert := lifeCert(f, f.founder, key.Public(), protocol.InviteRole(protocol.RoleMember), f.now.Add(time.Hour))
	invite := f.grant(invCert, f.now.Add(-time.Hour), false)
	id := protocol.InviteIDOf(key.Public())
	joiner, other, old := f.identity(0x54), f.identity(0x55), f.identity(0x56)
	oldCrt := f.cert(f.founder, old, protocol.RoleMember)
	s := lifeState(f, 0, invite, f.lifeAnnounce(old, protocol.Chain{oldCrt, f.rootCrt}, protocol.RoleMember, "old"))
	inv, ok := s.Invite(id)
	if !ok || inv.Cert.Subject.ID() != key.Public().ID() || len(inv.Chain) != 2 || len(inv.Redeemers) != 0 {
		t.Fatalf("invite: %+v, %v", inv, ok)
	}
	if _, ok := s.Invite([protocol.InviteIDSize]byte{1}); ok {
		t.Error("an unknown invite found")
	}
	if got, want := s.InviteStanding(id, f.founder.ID(), joiner.ID()), (InviteStanding{}); got != want {
		t.Errorf("a new joiner: %+v", got)
	}
	if got := s.InviteStanding(id, f.founder.ID(), old.ID()); !got.Member {
		t.Errorf("a member asking: %+v", got)
	}
	c, err := protocol.IssueCert(key, f.zone, joiner.Public(), protocol.RoleMember, f.now, f.now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	redeem := f.lifeAnnounce(joiner, protocol.Chain{c, invCert, f.rootCrt}, protocol.RoleMember, "j")
	rm := f.lifeRemove(f.founder, old.ID(), f.now)
	rm.Chain = protocol.Chain{f.rootCrt}
	s = lifeState(f, 0, invite, redeem, rm)
	if got, want := s.InviteStanding(id, other.ID(), other.ID()), (InviteStanding{Redeemed: true, Redeemer: joiner.ID()}); got != want {
		t.Errorf("redeemed, another asking: %+v, want %+v", got, want)
	}
	if got := s.InviteStanding(id, old.ID(), old.ID()); !got.IssuerRemoved || got.Member {
		t.Errorf("issuer removed, a removed member asking: %+v", got)
	}
	inv, _ = s.Invite(id)
	inv.Redeemers[0] = other.ID()
	if r, _ := s.fold.Roster.Redeemer(id); r != joiner.ID() {
		t.Error("the copy of an invite shares its redeemers with the roster")
	}
}

// TestHeldEpochs: the epochs whose secrets are held, newest first, the
// current and straggling ones live; the live topics' epochs in order.
func TestHeldEpochs(t *testing.T) {
	f := newFixture(t)
	s := lifeState(f, 3)
	delete(s.epochs, 1)
	epochs := func(hs []HeldEpoch) (out []uint32, live []bool) {
		for _, h := range hs {
			if h.Secret != s.epochs[h.Epoch] {
				t.Errorf("epoch %d with another secret", h.Epoch)
			}
			out, live = append(out, h.Epoch), append(live, h.Live)
		}
		return out, live
	}
	e, l := epochs(s.HeldEpochs())
	if !slices.Equal(e, []uint32{3, 2, 0}) || !slices.Equal(l, []bool{true, false, false}) {
		t.Errorf("held %v live %v", e, l)
	}
	two := uint32(2)
	s.straggle = &two
	if e, l = epochs(s.HeldEpochs()); !slices.Equal(l, []bool{true, true, false}) {
		t.Errorf("straggling: held %v live %v", e, l)
	}
	if e, _ = epochs(s.LiveEpochs()); !slices.Equal(e, []uint32{3, 2}) {
		t.Errorf("live %v, want 3 2", e)
	}
	one := uint32(1)
	s.straggle = &one
	if e, _ = epochs(s.LiveEpochs()); !slices.Equal(e, []uint32{3}) {
		t.Errorf("live with the straggling secret lost: %v, want 3", e)
	}
}

// TestRootsByPrefix and GovExpiries: alerts found by ID prefix, at most
// as many as asked; every governance message's expiry.
func TestRootsByPrefix(t *testing.T) {
	f := newFixture(t)
	ada := f.identity(2)
	adaCrt := f.cert(f.founder, ada, protocol.RoleMember)
	s := lifeState(f, 0, f.lifeAnnounce(ada, protocol.Chain{adaCrt, f.rootCrt}, protocol.RoleMember, "ada"))
	for i := range 3 {
		m := f.sighting(ada, adaCrt, "Main St", f.now)
		m.ID = protocol.AlertID{0xab, 0xcd, byte(i)}
		s.msgs.Roots[m.ID] = m
	}
	if got := s.RootsByPrefix("abcd01", 2); len(got) != 1 || got[0].ID[2] != 1 {
		t.Errorf("one match: %v", got)
	}
	if got := s.RootsByPrefix("abcd", 2); len(got) != 2 {
		t.Errorf("three matches, two asked: %d", len(got))
	}
	if got := s.RootsByPrefix("abce", 2); len(got) != 0 {
		t.Errorf("no match: %v", got)
	}
	exp := s.GovExpiries()
	if len(exp) != len(s.gov) {
		t.Errorf("%d expiries for %d messages", len(exp), len(s.gov))
	}
	for id, g := range s.gov {
		if !exp[id].Equal(g.Msg.Alert.Expires) {
			t.Errorf("expiry of %v: %v, want %v", id, exp[id], g.Msg.Alert.Expires)
		}
	}
}
