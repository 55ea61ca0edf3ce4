package node

import (
	"math/rand/v2"
	"testing"
	"time"

	"lookout/crypto"
	"lookout/protocol"
)

// govFixture is a zone's root and members, each with a chain per role, for
// building governance messages without a node (the tests of what the zone
// core does with them are in node/internal/zone, state_gov_test.go).
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
