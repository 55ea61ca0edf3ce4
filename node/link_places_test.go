package node_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"lookout/node"
	"lookout/node/api"
	"lookout/protocol"
)

// placeNamed finds a live directory entry of zone by name, as node n
// folds it.
func placeNamed(n interface {
	Places(string, api.PlaceFilter) ([]api.Place, error)
}, zone, name string) (api.Place, bool) {
	ps, _ := n.Places(zone, api.PlaceFilter{})
	for _, p := range ps {
		if p.Name == name {
			return p, true
		}
	}
	return api.Place{}, false
}

// TestLinkedPlaces (issue 16): safe places cross links only when an
// organizer shares them, as far as the share's hops allow; updates and
// retirement follow; over there they are marked with the zone they came
// from and read-only; members and verifiers cannot share; a hostile link
// end cannot reach the receiving zone's own entries. A callout's card
// crosses with it. Ending the link takes the entries away.
func TestLinkedPlaces(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node mocknet test; skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	l := startLinked(t, ctx)
	n := l.nw.Nodes
	yes, no := true, false

	food, err := n[a2].Place(ctx, api.PlaceRequest{Zone: l.A.ID, Op: "add", Kind: "food", Name: "Parkdale food bank", Where: "Queen & Cowan",
		Hours: "Tue 10-14", Languages: []string{"en", "es"}, NoID: &yes, Share: &yes})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n[a2].Place(ctx, api.PlaceRequest{Zone: l.A.ID, Op: "add", Kind: "health", Name: "Parkdale clinic", Share: &no}); err != nil {
		t.Fatal(err)
	}
	if _, err := n[a3].Place(ctx, api.PlaceRequest{Zone: l.A.ID, Op: "suggest", Kind: "legal", Name: "Suggested clinic", Share: &yes}); err != nil {
		t.Fatal(err)
	}
	own, err := n[b2].Place(ctx, api.PlaceRequest{Zone: l.B.ID, Op: "suggest", Kind: "shelter", Name: "Roncesvalles shelter"})
	if err != nil {
		t.Fatal(err)
	}
	l.waitZone(t, ctx, l.A, "A's entries", func(i int) bool {
		_, x := placeNamed(n[i], l.A.ID, "Parkdale clinic")
		_, y := placeNamed(n[i], l.A.ID, "Suggested clinic")
		_, z := placeNamed(n[i], l.A.ID, food.Name)
		return x && y && z
	})

	// Only organizers share; only confirmed entries marked shareable.
	for who, want := range map[int]error{a3: api.ErrForbidden, a2: api.ErrForbidden} {
		if _, err := n[who].Place(ctx, api.PlaceRequest{Zone: l.A.ID, Op: "share", Place: food.ID}); !errors.Is(err, want) {
			t.Errorf("node %d shares: %v, want %v", who, err, want)
		}
	}
	for _, name := range []string{"Parkdale clinic", "Suggested clinic"} {
		if _, err := n[a1].Place(ctx, api.PlaceRequest{Zone: l.A.ID, Op: "share", Place: name}); !errors.Is(err, api.ErrInvalid) {
			t.Errorf("share %q: %v, want invalid", name, err)
		}
	}

	// Shared one link far: B sees it, marked as Parkdale's.
	if _, err := n[a1].Place(ctx, api.PlaceRequest{Zone: l.A.ID, Op: "share", Place: food.ID}); err != nil {
		t.Fatalf("share: %v", err)
	}
	l.waitZone(t, ctx, l.B, "shared place arrives in B", func(i int) bool {
		p, ok := placeNamed(n[i], l.B.ID, food.Name)
		return ok && p.From == "Parkdale" && p.Origin == "Parkdale" && p.Hours == "Tue 10-14" && p.NoID && p.ConfirmedAt != nil
	})
	inB, _ := placeNamed(n[b1], l.B.ID, food.Name)
	for _, op := range []string{"update", "retire"} {
		if _, err := n[b1].Place(ctx, api.PlaceRequest{Zone: l.B.ID, Op: op, Place: inB.ID, Hours: "never"}); !errors.Is(err, api.ErrForbidden) {
			t.Errorf("B's organizer %ss an entry from A: %v, want forbidden", op, err)
		}
	}

	// An update in A follows.
	if _, err := n[a2].Place(ctx, api.PlaceRequest{Zone: l.A.ID, Op: "update", Place: food.ID, Hours: "Tue, Thu 10-14"}); err != nil {
		t.Fatal(err)
	}
	l.waitZone(t, ctx, l.B, "update follows", func(i int) bool {
		p, ok := placeNamed(n[i], l.B.ID, food.Name)
		return ok && p.Hours == "Tue, Thu 10-14"
	})

	// Share all, two links far, after the clinic is marked shareable:
	// both reach C through B; the suggestion does not.
	if _, err := n[a2].Place(ctx, api.PlaceRequest{Zone: l.A.ID, Op: "update", Place: "Parkdale clinic", Share: &yes}); err != nil {
		t.Fatal(err)
	}
	l.waitZone(t, ctx, l.A, "clinic shareable", func(i int) bool { p, _ := placeNamed(n[i], l.A.ID, "Parkdale clinic"); return p.Share })
	if _, err := n[a1].Place(ctx, api.PlaceRequest{Zone: l.A.ID, Op: "share", All: true, Hops: 2}); err != nil {
		t.Fatalf("share all: %v", err)
	}
	l.waitZone(t, ctx, l.C, "shared places reach C", func(i int) bool {
		p, ok := placeNamed(n[i], l.C.ID, food.Name)
		q, ok2 := placeNamed(n[i], l.C.ID, "Parkdale clinic")
		return ok && ok2 && p.From == "Roncesvalles" && p.Origin == "Parkdale" && q.From == "Roncesvalles"
	}, func() string {
		b, _ := n[b1].Places(l.B.ID, api.PlaceFilter{})
		c, _ := n[c1].Places(l.C.ID, api.PlaceFilter{})
		return fmt.Sprintf("B: %+v\nC: %+v", b, c)
	})
	for _, z := range []api.Zone{l.B, l.C} {
		for _, i := range l.members(z) {
			if _, ok := placeNamed(n[i], z.ID, "Suggested clinic"); ok {
				t.Errorf("node %d: a suggestion crossed into %s", i, z.Name)
			}
		}
	}

	// A hostile organizer at A's end: a retire and an add naming B's own
	// entry (a digest chosen to give its ID) change nothing in B.
	ownID, err := protocol.ParsePlaceID(own.ID)
	if err != nil {
		t.Fatal(err)
	}
	var d protocol.Digest
	copy(d[:], ownID[:])
	ab := linkBetween(t, n[a1], l.A, "Roncesvalles")
	if err := node.SendPlaceForTest(ctx, n[a1], l.A.ID, ab, d, &protocol.PlaceOp{Op: protocol.PlaceRetire}); err != nil {
		t.Logf("forged retire answered: %v", err)
	}
	forged := &protocol.PlaceOp{Op: protocol.PlaceAdd, Kind: protocol.PlaceShelter, Name: "Roncesvalles shelter (moved)"}
	if err := node.SendPlaceForTest(ctx, n[a1], l.A.ID, ab, d, forged); err != nil {
		t.Logf("forged add answered: %v", err)
	}
	// The relay answered (synchronously, after publishing anything it
	// published): B's end holds its own entry unchanged.
	if p, ok := placeNamed(n[b1], l.B.ID, own.Name); !ok || p.From != "" || p.ID != own.ID {
		t.Errorf("B's own entry after forged frames: %+v, %v", p, ok)
	}
	if _, ok := placeNamed(n[b1], l.B.ID, forged.Name); ok {
		t.Errorf("a forged entry naming B's own ID was published")
	}

	// Retired in A: gone in B and C.
	if _, err := n[a2].Place(ctx, api.PlaceRequest{Zone: l.A.ID, Op: "retire", Place: food.ID}); err != nil {
		t.Fatal(err)
	}
	for _, z := range []api.Zone{l.B, l.C} {
		l.waitZone(t, ctx, z, "retirement follows", func(i int) bool { _, ok := placeNamed(n[i], z.ID, food.Name); return !ok })
	}
	// Every entry B holds from A says so.
	for _, i := range l.members(l.B) {
		ps, _ := n[i].Places(l.B.ID, api.PlaceFilter{})
		for _, p := range ps {
			if p.Name != own.Name && p.From != "Parkdale" {
				t.Errorf("node %d: entry %q in B does not say where it came from", i, p.Name)
			}
		}
	}

	// A callout's card crosses with it.
	co, err := n[a1].Callout(ctx, api.CalloutRequest{Zone: l.A.ID, Title: "Witness at the door", Where: "Dunn & King", Need: 2, Card: "witness"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n[a1].Share(ctx, api.ShareRequest{Alert: co.ID}); err != nil {
		t.Fatal(err)
	}
	l.waitZone(t, ctx, l.B, "callout with its card", func(i int) bool {
		got := byText(n[i], l.B.ID, co.Title)
		return len(got) == 1 && got[0].Card == "witness" && got[0].Via == "Parkdale"
	})

	// B ends its link to A: A's entries leave B, and C, which had them
	// through B.
	if _, err := n[b1].Unlink(ctx, l.B.ID, "Parkdale"); err != nil {
		t.Fatal(err)
	}
	for _, z := range []api.Zone{l.B, l.C} {
		l.waitZone(t, ctx, z, "entries of the ended link leave", func(i int) bool { _, ok := placeNamed(n[i], z.ID, "Parkdale clinic"); return !ok })
	}
	if _, ok := placeNamed(n[b1], l.B.ID, own.Name); !ok {
		t.Errorf("B's own entry left with the link")
	}
}

// TestLinkedPlacesPaced: sharing a whole directory sends at most a third
// of the link's limit per window, so alerts keep room; the rest follows
// in the next window.
func TestLinkedPlacesPaced(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node mocknet test; skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	l := startLinked(t, ctx)
	n := l.nw.Nodes
	yes := true
	const total = protocol.MaxLinkMessages/3 + 5
	for i := range total {
		who := a1
		if i%2 == 1 {
			who = a2 // two senders: each stays within its own budget
		}
		if _, err := n[who].Place(ctx, api.PlaceRequest{Zone: l.A.ID, Op: "add", Kind: "food", Name: fmt.Sprint("Pantry ", i), Share: &yes}); err != nil {
			t.Fatal(err)
		}
	}
	count := func(i int) int {
		ps, _ := n[i].Places(l.B.ID, api.PlaceFilter{})
		return len(ps)
	}
	l.waitZone(t, ctx, l.A, "A's entries", func(i int) bool { ps, _ := n[i].Places(l.A.ID, api.PlaceFilter{}); return len(ps) == total })
	if _, err := n[a1].Place(ctx, api.PlaceRequest{Zone: l.A.ID, Op: "share", All: true}); err != nil {
		t.Fatal(err)
	}
	l.waitZone(t, ctx, l.B, "the first window's entries", func(i int) bool { return count(i) == protocol.MaxLinkMessages/3 })
	// A callout shared now still crosses.
	co, err := n[a1].Callout(ctx, api.CalloutRequest{Zone: l.A.ID, Title: "Court support", Where: "Old City Hall", Need: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n[a1].Share(ctx, api.ShareRequest{Alert: co.ID}); err != nil {
		t.Fatal(err)
	}
	l.waitZone(t, ctx, l.B, "callout crosses while places wait", func(i int) bool { return len(byText(n[i], l.B.ID, co.Title)) == 1 })
	if got := count(b1); got != protocol.MaxLinkMessages/3 {
		t.Fatalf("B's end holds %d entries before the next window, want %d", got, protocol.MaxLinkMessages/3)
	}
	l.clk.Advance(protocol.RateWindow + time.Minute)
	l.waitZone(t, ctx, l.B, "the rest in the next window", func(i int) bool { return count(i) == total })
}
