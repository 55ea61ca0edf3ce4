// Package zonetest builds a zone's founder and members, each with a
// certificate chain per role, and signs their governance messages, for
// tests of the zone core and of the node's zone without a network. Keys
// come from a fixed seed, so every run builds the same zone.
package zonetest

import (
	"math/rand/v2"
	"testing"
	"time"

	"lookout/crypto"
	"lookout/protocol"
)

// Members is a zone's founder (Root) and members.
type Members struct {
	T     testing.TB
	Zone  protocol.ZoneID
	Root  *crypto.Identity
	RootC protocol.Chain // the founder's self-issued chain
	IDs   []*crypto.Identity
	// Chains[i][role] is member i's chain with a certificate of that role
	// (member or verifier), issued by the founder.
	Chains []map[protocol.Role]protocol.Chain
	KEM    []byte // a KEM public key for announcements
	Rand   *rand.ChaCha8
}

// New makes a zone of the founder and members members, whose
// certificates are valid from start for four default certificate
// lifetimes.
func New(t testing.TB, members int, start time.Time) *Members {
	t.Helper()
	var seed [32]byte
	f := &Members{T: t, Rand: rand.NewChaCha8(seed)}
	f.Zone[0] = 1
	var err error
	if f.Root, err = crypto.NewIdentity(f.Rand); err != nil {
		t.Fatal(err)
	}
	rc, err := protocol.IssueCert(f.Root, f.Zone, f.Root.Public(), protocol.RoleOrganizer, start, start.Add(protocol.DefaultCertTTL*4))
	if err != nil {
		t.Fatal(err)
	}
	f.RootC = protocol.Chain{rc}
	k, err := crypto.NewKEMKey(f.Rand)
	if err != nil {
		t.Fatal(err)
	}
	f.KEM = k.PublicBytes()
	for range members {
		id, err := crypto.NewIdentity(f.Rand)
		if err != nil {
			t.Fatal(err)
		}
		cs := map[protocol.Role]protocol.Chain{}
		for _, r := range []protocol.Role{protocol.RoleMember, protocol.RoleVerifier} {
			c, err := protocol.IssueCert(f.Root, f.Zone, id.Public(), r, start, start.Add(protocol.DefaultCertTTL*4))
			if err != nil {
				t.Fatal(err)
			}
			cs[r] = protocol.Chain{c, rc}
		}
		f.IDs = append(f.IDs, id)
		f.Chains = append(f.Chains, cs)
	}
	return f
}

// Sign signs a, for f's zone and expiring at its longest lifetime, as
// member i with its chain of role; i < 0 is the founder.
func (f *Members) Sign(i int, role protocol.Role, a *protocol.Alert) *protocol.Message {
	f.T.Helper()
	id, chain := f.Root, f.RootC
	if i >= 0 {
		id, chain = f.IDs[i], f.Chains[i][role]
	}
	a.Zone = f.Zone
	a.Urgency, a.Severity, a.Certainty = protocol.UrgencyImmediate, protocol.SeveritySevere, protocol.CertaintyObserved
	a.Expires = a.Sent.Add(protocol.MaxLifetime)
	s, err := protocol.Sign(id, chain, a)
	if err != nil {
		f.T.Fatal(err)
	}
	return &protocol.Message{Signed: s, Role: chain.Leaf().Role}
}

// Announcement is an announcement of name with f's KEM key, sent at
// sent, an exercise if exercise, for Sign to sign as a member.
func (f *Members) Announcement(sent time.Time, name string, exercise bool) *protocol.Alert {
	a := &protocol.Alert{Kind: protocol.KindMember, Sent: sent, Name: name, KEM: f.KEM, Status: protocol.StatusActual}
	if exercise {
		a.Status = protocol.StatusExercise
	}
	return a
}
