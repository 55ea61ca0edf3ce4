package zone

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"lookout/protocol"
)

// Safe places across links (version 4): shares by organizers, entries
// from linked zones, and what a linked zone's organizer cannot do.

var (
	linkA = protocol.LinkID{0xa1}
	linkC = protocol.LinkID{0xc1}
)

// linked is the relay's (org's) copy of an entry from link l with digest
// dg: op add or retire, signed over there at at.
func (f *docFixture) linked(l protocol.LinkID, dg protocol.Digest, op protocol.PlaceOpKind, name string, at, sent time.Time) *protocol.Message {
	m := f.place("org", op, 0, name, sent)
	m.Alert.Place.ID = dg.LinkedPlaceID()
	m.Alert.Via = &protocol.Forward{Link: l, Digest: dg, Hops: 1, Origin: "Villeray", Endorser: f.identity(9).ID(), At: at}
	return m
}

func (f *docFixture) share(who string, id byte, hops uint8, sent time.Time) *protocol.Message {
	m := f.place(who, protocol.PlaceShare, id, "", sent)
	m.Alert.Place = &protocol.PlaceOp{ID: protocol.PlaceID{id}, Op: protocol.PlaceShare, Hops: hops}
	return m
}

func digestN(i int) protocol.Digest { return protocol.Digest{0xd0, byte(i >> 8), byte(i)} }

// TestFoldPlaceShares: only an organizer's share of a confirmed entry
// marked shareable counts; share-all marks the shareable entries of the
// moment; an update that makes an entry unshareable withdraws it.
func TestFoldPlaceShares(t *testing.T) {
	f := newDocFixture(t)
	t0 := f.now
	shareable := func(m *protocol.Message) *protocol.Message { m.Alert.Place.Share = true; return m }
	a := shareable(f.place("ver", protocol.PlaceAdd, 1, "Food bank", t0))
	b := f.place("ver", protocol.PlaceAdd, 2, "This zone only", t0)
	s := shareable(f.place("mem", protocol.PlaceSuggest, 3, "Suggested", t0))
	later := shareable(f.place("ver", protocol.PlaceAdd, 4, "Added after", t0.Add(3*time.Minute)))

	var d Docs
	d.Fold([]*protocol.Message{a, b, s, later, f.share("ver", 1, 3, t0.Add(time.Minute))})
	if p, _ := d.Place(protocol.PlaceID{1}); p.Hops != 0 || p.Shared {
		t.Errorf("a verifier's share counted: %+v", p)
	}
	d.Fold([]*protocol.Message{a, b, s, later, f.share("org", 1, 3, t0.Add(time.Minute)), f.share("org", 2, 3, t0.Add(time.Minute)), f.share("org", 3, 3, t0.Add(time.Minute))})
	if p, _ := d.Place(protocol.PlaceID{1}); p.Hops != 3 || !p.Shared {
		t.Errorf("organizer's share: %+v", p)
	}
	for _, id := range []byte{2, 3} {
		if p, _ := d.Place(protocol.PlaceID{id}); p.Hops != 0 || p.Shared {
			t.Errorf("entry %d (not shareable) shared: %+v", id, p)
		}
	}
	all := f.share("org", 0, 1, t0.Add(2*time.Minute))
	d.Fold([]*protocol.Message{a, b, s, later, all})
	for id, want := range map[byte]uint8{1: 1, 2: 0, 3: 0, 4: 0} {
		if p, _ := d.Place(protocol.PlaceID{id}); p.Hops != want {
			t.Errorf("share all: entry %d hops %d, want %d", id, p.Hops, want)
		}
	}
	off := f.place("ver", protocol.PlaceUpdate, 1, "Food bank", t0.Add(5*time.Minute)) // share flag cleared
	d.Fold([]*protocol.Message{a, all, off})
	if p, _ := d.Place(protocol.PlaceID{1}); p.Hops != 0 || !p.Shared {
		t.Errorf("unshareable update: %+v, want withdrawn (hops 0, shared before)", p)
	}
	ret := f.place("ver", protocol.PlaceRetire, 1, "", t0.Add(5*time.Minute))
	d.Fold([]*protocol.Message{a, all, ret})
	if got := d.Shared(); len(got) != 1 || !got[0].Retired {
		t.Errorf("Shared() after a retire = %+v, want the retired entry (its retirement follows it)", got)
	}
}

// TestFoldLinkedPlaces: an entry from a link is created by its first add,
// replaced by later-signed adds from the same link, ended by a retire, and
// kept apart from the zone's own entries.
func TestFoldLinkedPlaces(t *testing.T) {
	f := newDocFixture(t)
	t0 := f.now
	dg := digestN(1)
	add := f.linked(linkA, dg, protocol.PlaceAdd, "Their food bank", t0, t0)
	newer := f.linked(linkA, dg, protocol.PlaceAdd, "Their food bank, new hours", t0.Add(time.Hour), t0.Add(time.Hour))
	replayed := f.linked(linkA, dg, protocol.PlaceAdd, "Old copy", t0.Add(-time.Hour), t0.Add(2*time.Hour)) // relayed late, signed early
	other := f.linked(linkC, dg, protocol.PlaceAdd, "Same entry over another link", t0.Add(3*time.Hour), t0.Add(3*time.Hour))
	own := f.place("ver", protocol.PlaceAdd, 7, "Our clinic", t0)

	var d Docs
	d.Fold([]*protocol.Message{own, add, newer, replayed, other})
	p, ok := d.Place(dg.LinkedPlaceID())
	if !ok || p.Name != "Their food bank, new hours" || p.Link != linkA || !p.Linked() || p.Via.Origin != "Villeray" {
		t.Fatalf("linked entry = %+v", p)
	}
	if p.ConfirmedAt != t0.Add(time.Hour) || p.ConfirmedBy != f.identity(9).ID() {
		t.Errorf("confirmed = %s by %s, want the endorser's signing time", p.ConfirmedAt, p.ConfirmedBy)
	}
	if d.Live() != 1 {
		t.Errorf("own live = %d: a linked entry counts against the zone's own limit", d.Live())
	}
	// A linked zone's organizer cannot touch the zone's own entries, nor
	// its members those from a link.
	for name, c := range map[string]struct {
		a    *protocol.Alert
		want error
	}{
		"local update of a linked entry": {func() *protocol.Alert {
			m := f.place("ver", protocol.PlaceUpdate, 0, "hijack", t0)
			m.Alert.Place.ID = dg.LinkedPlaceID()
			return m.Alert
		}(), ErrPlaceLinked},
		"local retire of a linked entry": {func() *protocol.Alert {
			m := f.place("ver", protocol.PlaceRetire, 0, "", t0)
			m.Alert.Place.ID = dg.LinkedPlaceID()
			return m.Alert
		}(), ErrPlaceLinked},
		"linked retire of an own entry": {func() *protocol.Alert {
			looks := protocol.Digest{7} // a digest whose ID is the zone's own entry
			return f.linked(linkA, looks, protocol.PlaceRetire, "", t0.Add(time.Hour), t0).Alert
		}(), ErrPlaceLooped},
		"own entry back round a loop":  {f.linked(linkA, protocol.PlaceDigest(protocol.PlaceID{7}), protocol.PlaceAdd, "Our clinic", t0, t0).Alert, ErrPlaceLooped},
		"same entry over another link": {other.Alert, ErrPlaceLooped},
		"retire of an unknown entry":   {f.linked(linkA, digestN(2), protocol.PlaceRetire, "", t0, t0).Alert, ErrPlaceNotLinked},
	} {
		if err := d.CheckDoc(c.a); !errors.Is(err, c.want) {
			t.Errorf("%s: CheckDoc = %v, want %v", name, err, c.want)
		}
	}
	// The fold ignores them too, whatever reached it.
	looks := protocol.Digest{7}
	hostile := f.linked(linkA, looks, protocol.PlaceRetire, "", t0.Add(time.Hour), t0)
	loop := f.linked(linkA, protocol.PlaceDigest(protocol.PlaceID{7}), protocol.PlaceAdd, "Our clinic", t0, t0.Add(-time.Hour))
	d.Fold([]*protocol.Message{hostile, loop, own, add})
	if p, ok := d.Place(protocol.PlaceID{7}); !ok || p.Linked() || p.Name != "Our clinic" {
		t.Errorf("own entry after a hostile retire = %+v, %v", p, ok)
	}
	if n := len(d.Places(PlaceFilter{})); n != 2 {
		t.Errorf("%d entries, want the own one and one linked copy", n)
	}
	ret := f.linked(linkA, dg, protocol.PlaceRetire, "", t0.Add(4*time.Hour), t0.Add(4*time.Hour))
	d.Fold([]*protocol.Message{own, add, newer, ret})
	if _, ok := d.Place(dg.LinkedPlaceID()); ok {
		t.Errorf("retired linked entry still shown")
	}
	if err := d.CheckDoc(newer.Alert); !errors.Is(err, ErrPlaceRetired) {
		t.Errorf("add after the retire: %v", err)
	}
	// Same result in any order.
	msgs := []*protocol.Message{own, add, newer, replayed, other, hostile, loop}
	d.Fold(msgs)
	want := fmt.Sprint(d.Places(PlaceFilter{}))
	rng := rand.New(rand.NewPCG(16, 4))
	for range 50 {
		rng.Shuffle(len(msgs), func(i, j int) { msgs[i], msgs[j] = msgs[j], msgs[i] })
		d.Fold(msgs)
		if got := fmt.Sprint(d.Places(PlaceFilter{})); got != want {
			t.Fatalf("order changed the fold:\n%s\nwant\n%s", got, want)
		}
	}
}

// TestLinkedPlaceCaps: one link fills at most its own caps; the zone's
// own entries and other links are not crowded out.
func TestLinkedPlaceCaps(t *testing.T) {
	f := newDocFixture(t)
	var msgs []*protocol.Message
	for i := range MaxLinkedPlaces + 1 {
		m := f.linked(linkA, digestN(i), protocol.PlaceAdd, fmt.Sprint("L", i), f.now, f.now.Add(time.Duration(i)*time.Second))
		m.ID = protocol.AlertID{0xab, byte(i >> 8), byte(i)}
		msgs = append(msgs, m)
	}
	var d Docs
	d.Fold(msgs[:MaxLinkedPlaces])
	if err := d.CheckDoc(msgs[MaxLinkedPlaces].Alert); !errors.Is(err, ErrTooManyLinked) {
		t.Errorf("entry beyond the link's cap: %v", err)
	}
	d.Fold(msgs)
	if n := len(d.Places(PlaceFilter{})); n != MaxLinkedPlaces {
		t.Errorf("%d linked entries shown, want %d", n, MaxLinkedPlaces)
	}
	if err := d.CheckDoc(f.place("ver", protocol.PlaceAdd, 1, "Ours", f.now).Alert); err != nil {
		t.Errorf("own add with a full link: %v", err)
	}
	if err := d.CheckDoc(f.linked(linkC, digestN(5000), protocol.PlaceAdd, "C", f.now, f.now).Alert); err != nil {
		t.Errorf("another link's add with a full link: %v", err)
	}
	// Messages: a link that keeps updating one entry stops at its own cap.
	msgs = msgs[:0]
	for i := range MaxLinkedPlaceMessages {
		m := f.linked(linkA, digestN(1), protocol.PlaceAdd, fmt.Sprint("v", i), f.now.Add(time.Duration(i)*time.Second), f.now.Add(time.Duration(i)*time.Second))
		m.ID = protocol.AlertID{0xac, byte(i >> 8), byte(i)}
		msgs = append(msgs, m)
	}
	d.Fold(msgs)
	next := f.linked(linkA, digestN(1), protocol.PlaceAdd, "more", f.now.Add(time.Hour), f.now.Add(time.Hour))
	if err := d.CheckDoc(next.Alert); !errors.Is(err, ErrLinkedDocsFull) {
		t.Errorf("message beyond the link's cap: %v", err)
	}
	if err := d.CheckDoc(f.place("mem", protocol.PlaceSuggest, 9, "S", f.now).Alert); err != nil {
		t.Errorf("own suggestion with a full link: %v", err)
	}
}

// TestLinkedPlaceRate: operations from a link count against the link's
// limit (protocol.MaxLinkMessages per window), not the relay's budget.
func TestLinkedPlaceRate(t *testing.T) {
	f := newDocFixture(t)
	var r Rules
	s := protocol.DefaultSettings()
	for i := range protocol.MaxLinkMessages + 1 {
		m := f.linked(linkA, digestN(i), protocol.PlaceAdd, "L", f.now, f.now)
		err := r.Check(m, f.now.Add(time.Duration(i)*time.Second), 0, s, func(protocol.Digest) bool { return false })
		if (i < protocol.MaxLinkMessages) != (err == nil) {
			t.Fatalf("linked place %d: %v", i, err)
		}
	}
	if err := r.Check(f.place("org", protocol.PlaceAdd, 1, "Own", f.now), f.now, 0, s, nil); err != nil {
		t.Errorf("the relay's own place after the link's limit: %v", err)
	}
}
