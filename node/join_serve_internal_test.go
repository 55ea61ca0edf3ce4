package node

import (
	"sync"
	"testing"

	"lookout/crypto"
	core "lookout/node/internal/zone"
	"lookout/protocol"
)

// deskFixture is a join desk without a node or store, a zone ID, and one
// published invite of the founder's.
func deskFixture(t *testing.T) (*joinDesk, protocol.ZoneID, [protocol.InviteIDSize]byte, *protocol.InviteInfo) {
	t.Helper()
	var root crypto.MemberID
	root[0] = 0xff
	var zone protocol.ZoneID
	zone[0] = 1
	var id [protocol.InviteIDSize]byte
	id[0] = 7
	inv := &protocol.InviteInfo{Cert: &protocol.Cert{Issuer: root}, Chain: protocol.Chain{&protocol.Cert{Issuer: root}}}
	return &joinDesk{}, zone, id, inv
}

func memberNo(i int) crypto.MemberID {
	var m crypto.MemberID
	m[0], m[1] = byte(i), byte(i>>8)
	return m
}

// TestDeskTakeOnce: joiners asking at once for the same invite with
// different member keys get it once; the others are told it was used.
func TestDeskTakeOnce(t *testing.T) {
	const joiners = 32
	d, z, id, inv := deskFixture(t)
	var wg sync.WaitGroup
	errs := make([]error, joiners)
	firsts := make([]bool, joiners)
	for i := range joiners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			firsts[i], errs[i] = d.takeStanding(z, id, inv, memberNo(i+1), core.InviteStanding{}, false)
		}()
	}
	wg.Wait()
	granted := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if granted >= 0 {
				t.Fatalf("joiners %d and %d both took the invite", granted, i)
			}
			if !firsts[i] {
				t.Errorf("joiner %d took the invite but it is not reported first", i)
			}
			granted = i
		case err.Error() != refuseUsed:
			t.Errorf("joiner %d: %v, want %q", i, err, refuseUsed)
		}
	}
	if granted < 0 {
		t.Fatal("nobody took the invite")
	}
	// The same member asking again (its answer lost) is answered again,
	// not first: nothing more to store.
	first, err := d.takeStanding(z, id, inv, memberNo(granted+1), core.InviteStanding{}, false)
	if err != nil || first {
		t.Errorf("the taker asking again: first %v, %v; want false, nil", first, err)
	}
}

// TestDeskTakeRefusals: what the roster says (core.State.InviteStanding)
// refuses before served is touched, in the order the wire reasons are
// given.
func TestDeskTakeRefusals(t *testing.T) {
	d, z, id, inv := deskFixture(t)
	a, b := memberNo(1), memberNo(2)
	for _, c := range []struct {
		name    string
		roster  core.InviteStanding
		removed bool
		want    string
	}{
		{"removed from the zone", core.InviteStanding{}, true, refuseUnknown},
		{"its issuer removed", core.InviteStanding{IssuerRemoved: true}, false, refuseUnknown},
		{"redeemed by another", core.InviteStanding{Redeemed: true, Redeemer: b}, false, refuseUsed},
		{"already a member", core.InviteStanding{Member: true}, false, refuseMember},
	} {
		if _, err := d.takeStanding(z, id, inv, a, c.roster, c.removed); err == nil || err.Error() != c.want {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	if len(d.served) != 0 {
		t.Errorf("a refusal touched served: %v", d.served)
	}
	if first, err := d.takeStanding(z, id, inv, b, core.InviteStanding{Redeemed: true, Redeemer: b, Member: true}, false); err != nil || !first {
		t.Errorf("the redeemer asking: first %v, %v; want true, nil", first, err)
	}
	if d.served[z][id] != b {
		t.Error("the invite is not served to its redeemer")
	}
	long, other := *inv, id
	long.Chain, other[0] = make(protocol.Chain, protocol.MaxChainLen), 8
	if _, err := d.takeStanding(z, other, &long, memberNo(3), core.InviteStanding{}, false); err == nil || err.Error() != refuseUnknown {
		t.Errorf("a chain too long to extend: %v, want %q", err, refuseUnknown)
	}
}
