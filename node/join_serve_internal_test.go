package node

import (
	"sync"
	"testing"

	"lookout/crypto"
	core "lookout/node/internal/zone"
	"lookout/protocol"
)

// deskFixture is a join desk without a node or store, and a zone whose
// roster holds one published invite.
func deskFixture(t *testing.T) (*joinDesk, *zone, [protocol.InviteIDSize]byte, *protocol.InviteInfo) {
	t.Helper()
	var root crypto.MemberID
	root[0] = 0xff
	z := &zone{rec: zoneRecord{ID: "z", Name: "north"}, State: core.State{Fold: core.NewFolded(root)}}
	z.id[0] = 1
	var id [protocol.InviteIDSize]byte
	id[0] = 7
	inv := &protocol.InviteInfo{Cert: &protocol.Cert{Issuer: root}, Chain: protocol.Chain{&protocol.Cert{Issuer: root}}}
	z.Fold.Roster.Invites[id] = inv
	return &joinDesk{}, z, id, inv
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
			firsts[i], errs[i] = d.take(z, id, inv, memberNo(i+1), false)
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
	first, err := d.take(z, id, inv, memberNo(granted+1), false)
	if err != nil || first {
		t.Errorf("the taker asking again: first %v, %v; want false, nil", first, err)
	}
}

// TestDeskTakeRefusals: what the roster says refuses before served is
// touched, in the order the wire reasons are given.
func TestDeskTakeRefusals(t *testing.T) {
	d, z, id, inv := deskFixture(t)
	a, b := memberNo(1), memberNo(2)
	if _, err := d.take(z, id, inv, a, true); err == nil || err.Error() != refuseUnknown {
		t.Errorf("removed from the zone: %v, want %q", err, refuseUnknown)
	}
	z.Fold.Roster.Members[a] = &protocol.MemberInfo{}
	if _, err := d.take(z, id, inv, a, false); err == nil || err.Error() != refuseMember {
		t.Errorf("already a member: %v, want %q", err, refuseMember)
	}
	inv.Redeemers = []crypto.MemberID{b}
	if _, err := d.take(z, id, inv, a, false); err == nil || err.Error() != refuseUsed {
		t.Errorf("redeemed by another: %v, want %q", err, refuseUsed)
	}
	if first, err := d.take(z, id, inv, b, false); err != nil || !first {
		t.Errorf("the redeemer asking: first %v, %v; want true, nil", first, err)
	}
	if d.served[z.id][id] != b {
		t.Error("the invite is not served to its redeemer")
	}
}
