package zone

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"lookout/crypto"
	"lookout/protocol"
)

func cardSetJSON(lang, id string) []byte {
	return []byte(fmt.Sprintf(`{"lang":%q,"language":"L","title":"T","written":"2026-12-02","notice":"N","check":"C",`+
		`"cards":[{"id":%q,"title":"Title","intro":"Intro","points":["Point"]}]}`, lang, id))
}

// docFixture adds an organizer, a verifier and two members to fixture.
type docFixture struct {
	*fixture
	org, ver, mem, mem2 *crypto.Identity
	orgC, verC, memC    *protocol.Cert
	mem2C               *protocol.Cert
}

func newDocFixture(t *testing.T) *docFixture {
	f := &docFixture{fixture: newFixture(t)}
	f.org, f.ver, f.mem, f.mem2 = f.identity(2), f.identity(3), f.identity(4), f.identity(5)
	f.orgC = f.cert(f.founder, f.org, protocol.RoleOrganizer)
	f.verC = f.cert(f.founder, f.ver, protocol.RoleVerifier)
	f.memC = f.cert(f.founder, f.mem, protocol.RoleMember)
	f.mem2C = f.cert(f.founder, f.mem2, protocol.RoleMember)
	return f
}

func (f *docFixture) cards(lang string, rev uint32, mode protocol.CardMode, id string, sent time.Time) *protocol.Message {
	m := f.msg(protocol.KindCards, f.org, f.orgC, protocol.RoleOrganizer, 0, sent)
	m.Alert.Cards = &protocol.CardsDoc{Lang: lang, Revision: rev, Mode: mode}
	if mode != protocol.CardsWithdraw {
		m.Alert.Cards.Set = cardSetJSON(lang, id)
	}
	return m
}

// place is an op on entry id by who (org, ver or mem) sent at sent.
func (f *docFixture) place(who string, op protocol.PlaceOpKind, id byte, name string, sent time.Time) *protocol.Message {
	sender, leaf, role := map[string]*crypto.Identity{"org": f.org, "ver": f.ver, "mem": f.mem, "mem2": f.mem2}[who],
		map[string]*protocol.Cert{"org": f.orgC, "ver": f.verC, "mem": f.memC, "mem2": f.mem2C}[who],
		map[string]protocol.Role{"org": protocol.RoleOrganizer, "ver": protocol.RoleVerifier, "mem": protocol.RoleMember, "mem2": protocol.RoleMember}[who]
	m := f.msg(protocol.KindPlace, sender, leaf, role, 0, sent)
	m.Alert.Place = &protocol.PlaceOp{ID: protocol.PlaceID{id}, Op: op}
	if op != protocol.PlaceRetire {
		m.Alert.Place.Kind, m.Alert.Place.Name, m.Alert.Place.Languages = protocol.PlaceFood, name, []string{"fr"}
	}
	return m
}

func TestFoldCards(t *testing.T) {
	f := newDocFixture(t)
	t0 := f.now
	r1 := f.cards("fr", 1, protocol.CardsAdd, "un", t0)
	r3 := f.cards("fr", 3, protocol.CardsReplace, "trois", t0.Add(-time.Hour)) // older sent, higher revision: wins
	r2 := f.cards("fr", 2, protocol.CardsAdd, "deux", t0.Add(time.Hour))
	es := f.cards("es", 1, protocol.CardsAdd, "uno", t0)
	memberSet := f.cards("en", 9, protocol.CardsAdd, "forged", t0)
	memberSet.Role = protocol.RoleMember // as if a member's: never counts
	exercise := f.cards("es", 5, protocol.CardsReplace, "practice", t0)
	exercise.Alert.Status = protocol.StatusExercise

	var d Docs
	d.Fold([]*protocol.Message{r1, r3, r2, es, memberSet, exercise})
	fr, ok := d.Cards("fr")
	if !ok || fr.Revision != 3 || fr.Mode != protocol.CardsReplace || fr.Set.Cards[0].ID != "trois" {
		t.Errorf("fr = %+v, want revision 3", fr)
	}
	if c, ok := d.Cards("es"); !ok || c.Revision != 1 {
		t.Errorf("es = %+v, want revision 1 (exercise ignored)", c)
	}
	if _, ok := d.Cards("en"); ok {
		t.Errorf("a member's set counted")
	}
	// A withdrawal with a higher revision leaves no set.
	d.Fold([]*protocol.Message{r1, r3, f.cards("fr", 4, protocol.CardsWithdraw, "", t0)})
	if c, ok := d.Cards("fr"); !ok || c.Set != nil || c.Mode != protocol.CardsWithdraw {
		t.Errorf("withdrawn fr = %+v", c)
	}
	// Same revision: the lower alert ID wins, in any order.
	a, b := f.cards("en", 5, protocol.CardsAdd, "a", t0), f.cards("en", 5, protocol.CardsAdd, "b", t0)
	for _, order := range [][]*protocol.Message{{a, b}, {b, a}} {
		d.Fold(order)
		if c, _ := d.Cards("en"); c.ID != a.ID {
			t.Errorf("tie: winner %v, want the lower ID %v", c.ID, a.ID)
		}
	}
}

func names(ps []Place) []string {
	out := []string{}
	for _, p := range ps {
		s := p.Name
		if p.Suggested {
			s += "?"
		}
		out = append(out, s)
	}
	return out
}

func TestFoldPlaces(t *testing.T) {
	f := newDocFixture(t)
	t0 := f.now
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	cases := []struct {
		name string
		msgs []*protocol.Message
		want string
	}{
		{"add", []*protocol.Message{f.place("ver", protocol.PlaceAdd, 1, "Food bank", at(0))}, "[Food bank]"},
		{"update wins by sent", []*protocol.Message{f.place("ver", protocol.PlaceUpdate, 1, "New", at(2)), f.place("org", protocol.PlaceAdd, 1, "Old", at(1))}, "[New]"},
		{"back-dated update loses", []*protocol.Message{f.place("org", protocol.PlaceAdd, 1, "Current", at(5)), f.place("ver", protocol.PlaceUpdate, 1, "Backdated", at(1))}, "[Current]"},
		{"update of nothing", []*protocol.Message{f.place("ver", protocol.PlaceUpdate, 1, "Ghost", at(0))}, "[]"},
		{"retire", []*protocol.Message{f.place("ver", protocol.PlaceAdd, 1, "Gone", at(0)), f.place("ver", protocol.PlaceRetire, 1, "", at(1))}, "[]"},
		{"add after retire refused", []*protocol.Message{f.place("ver", protocol.PlaceAdd, 1, "A", at(0)), f.place("ver", protocol.PlaceRetire, 1, "", at(1)), f.place("org", protocol.PlaceAdd, 1, "Again", at(2))}, "[]"},
		{"suggest", []*protocol.Message{f.place("mem", protocol.PlaceSuggest, 2, "Clinic", at(0))}, "[Clinic?]"},
		{"suggester edits", []*protocol.Message{f.place("mem", protocol.PlaceSuggest, 2, "Clinc", at(0)), f.place("mem", protocol.PlaceSuggest, 2, "Clinic", at(1))}, "[Clinic?]"},
		{"another member cannot take over a suggestion", []*protocol.Message{f.place("mem", protocol.PlaceSuggest, 2, "Clinic", at(0)), f.place("mem2", protocol.PlaceSuggest, 2, "Vandal", at(1))}, "[Clinic?]"},
		{"a member cannot overwrite an entry", []*protocol.Message{f.place("ver", protocol.PlaceAdd, 1, "Shelter", at(0)), f.place("mem", protocol.PlaceSuggest, 1, "Vandal", at(1))}, "[Shelter]"},
		{"confirm", []*protocol.Message{f.place("mem", protocol.PlaceSuggest, 2, "Clinic", at(0)), f.place("ver", protocol.PlaceConfirm, 2, "Clinic", at(1))}, "[Clinic]"},
		{"suggester cannot edit after confirm", []*protocol.Message{f.place("mem", protocol.PlaceSuggest, 2, "Clinic", at(0)), f.place("ver", protocol.PlaceConfirm, 2, "Clinic", at(1)), f.place("mem", protocol.PlaceSuggest, 2, "Mine", at(2))}, "[Clinic]"},
	}
	for _, c := range cases {
		var d Docs
		d.Fold(c.msgs)
		if got := fmt.Sprint(names(d.Places(PlaceFilter{}))); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	// A member's add (only a validator bug could let one through) never counts.
	forged := f.place("mem", protocol.PlaceAdd, 3, "Forged", at(0))
	var d Docs
	d.Fold([]*protocol.Message{forged})
	if len(d.Places(PlaceFilter{})) != 0 {
		t.Errorf("a member's add counted")
	}
	// confirmed_by and confirmed_at are the latest add, update or confirm.
	d.Fold([]*protocol.Message{f.place("mem", protocol.PlaceSuggest, 2, "Clinic", at(0)), f.place("ver", protocol.PlaceConfirm, 2, "Clinic", at(3))})
	p, ok := d.Place(protocol.PlaceID{2})
	if !ok || p.ConfirmedBy != f.ver.ID() || !p.ConfirmedAt.Equal(at(3)) || p.Suggested || p.Stale(at(4)) || !p.Stale(at(3).Add(StaleAfter+time.Minute)) {
		t.Errorf("confirmed entry = %+v", p)
	}
}

// TestFoldPlacesOrder: the fold is the same for every order of the same
// messages.
func TestFoldPlacesOrder(t *testing.T) {
	f := newDocFixture(t)
	at := func(m int) time.Time { return f.now.Add(time.Duration(m) * time.Minute) }
	msgs := []*protocol.Message{
		f.place("ver", protocol.PlaceAdd, 1, "A", at(0)), f.place("org", protocol.PlaceUpdate, 1, "A2", at(3)),
		f.place("mem", protocol.PlaceSuggest, 2, "B", at(1)), f.place("ver", protocol.PlaceConfirm, 2, "B2", at(2)),
		f.place("mem2", protocol.PlaceSuggest, 2, "X", at(4)), f.place("ver", protocol.PlaceRetire, 3, "", at(1)),
		f.place("ver", protocol.PlaceAdd, 3, "C", at(2)), f.place("ver", protocol.PlaceAdd, 4, "D", at(2)),
		f.place("org", protocol.PlaceAdd, 4, "D2", at(2)),
	}
	var d Docs
	d.Fold(msgs)
	want := fmt.Sprint(names(d.Places(PlaceFilter{})))
	r := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		r.Shuffle(len(msgs), func(i, j int) { msgs[i], msgs[j] = msgs[j], msgs[i] })
		d.Fold(msgs)
		if got := fmt.Sprint(names(d.Places(PlaceFilter{}))); got != want {
			t.Fatalf("order changed the fold: %s, want %s", got, want)
		}
	}
	if want != "[A2 B2 D2]" && want != "[A2 B2 D]" {
		t.Errorf("fold = %s", want)
	}
}

// TestPlacesLimit: the directory holds at most MaxPlaces live entries; the
// door refuses an add or suggest of a new one beyond it, and any op on a
// retired entry; a retirement makes room.
func TestPlacesLimit(t *testing.T) {
	f := newDocFixture(t)
	var msgs []*protocol.Message
	for i := range protocol.MaxPlaces + 1 {
		m := f.place("ver", protocol.PlaceAdd, 0, fmt.Sprint("P", i), f.now.Add(time.Duration(i)*time.Second))
		m.Alert.Place.ID = protocol.PlaceID{byte(i >> 8), byte(i), 0xff}
		m.ID = protocol.AlertID{byte(i >> 8), byte(i), 0xaa}
		msgs = append(msgs, m)
	}
	var d Docs
	d.Fold(msgs)
	if d.Live() != protocol.MaxPlaces {
		t.Fatalf("live = %d, want %d", d.Live(), protocol.MaxPlaces)
	}
	last := msgs[protocol.MaxPlaces]
	if _, ok := d.Place(last.Alert.Place.ID); ok {
		t.Errorf("the entry beyond the limit is shown")
	}
	if err := d.CheckDoc(last.Alert); !errors.Is(err, ErrTooManyPlaces) {
		t.Errorf("CheckDoc(add beyond the limit) = %v", err)
	}
	suggest := f.place("mem", protocol.PlaceSuggest, 0xee, "S", f.now)
	if err := d.CheckDoc(suggest.Alert); !errors.Is(err, ErrTooManyPlaces) {
		t.Errorf("CheckDoc(suggest beyond the limit) = %v", err)
	}
	upd := f.place("ver", protocol.PlaceUpdate, 0, "P0 new", f.now.Add(time.Hour))
	upd.Alert.Place.ID = msgs[0].Alert.Place.ID
	if err := d.CheckDoc(upd.Alert); err != nil {
		t.Errorf("CheckDoc(update when full) = %v", err)
	}
	retire := f.place("ver", protocol.PlaceRetire, 0, "", f.now.Add(time.Hour))
	retire.Alert.Place.ID = msgs[0].Alert.Place.ID
	d.Fold(append(msgs, retire))
	if d.Live() != protocol.MaxPlaces-1 {
		t.Errorf("live after a retire = %d", d.Live())
	}
	if err := d.CheckDoc(upd.Alert); !errors.Is(err, ErrPlaceRetired) {
		t.Errorf("CheckDoc(update of a retired entry) = %v", err)
	}
	if err := d.CheckDoc(suggest.Alert); err != nil {
		t.Errorf("CheckDoc(suggest after a retire made room) = %v", err)
	}
}

func TestPlacesFilter(t *testing.T) {
	f := newDocFixture(t)
	a := f.place("ver", protocol.PlaceAdd, 1, "Banque alimentaire", f.now)
	a.Alert.Place.Where = "Rue Saint-Denis"
	b := f.place("ver", protocol.PlaceAdd, 2, "Clinic", f.now)
	b.Alert.Place.Kind, b.Alert.Place.Languages = protocol.PlaceHealth, []string{"en", "es"}
	var d Docs
	d.Fold([]*protocol.Message{a, b})
	for _, c := range []struct {
		f    PlaceFilter
		want string
	}{
		{PlaceFilter{Kind: protocol.PlaceHealth}, "[Clinic]"},
		{PlaceFilter{Lang: "ES"}, "[Clinic]"},
		{PlaceFilter{Lang: "fr"}, "[Banque alimentaire]"},
		{PlaceFilter{Text: "st denis"}, "[Banque alimentaire]"},
		{PlaceFilter{Text: "ALIMENTAIRE"}, "[Banque alimentaire]"},
		{PlaceFilter{}, "[Banque alimentaire Clinic]"},
	} {
		if got := fmt.Sprint(names(d.Places(c.f))); got != c.want {
			t.Errorf("%+v: %s, want %s", c.f, got, c.want)
		}
	}
}

// TestDocBudgets: zone documents have their own budgets by arrival.
func TestDocBudgets(t *testing.T) {
	f := newDocFixture(t)
	var r Rules
	s := protocol.DefaultSettings()
	for i := range MaxPlaceMessages + 1 {
		m := f.place("mem", protocol.PlaceSuggest, byte(i), "S", f.now.Add(-time.Hour)) // sent long ago: never used
		err := r.Check(m, f.now.Add(time.Duration(i)*time.Second), 0, s, nil)
		if (i < MaxPlaceMessages) != (err == nil) {
			t.Fatalf("place message %d: %v", i, err)
		}
	}
	for i := range MaxCardMessages + 1 {
		err := r.Check(f.cards("fr", uint32(i+1), protocol.CardsAdd, "x", f.now), f.now.Add(time.Duration(i)*time.Second), 0, s, nil)
		if (i < MaxCardMessages) != (err == nil) {
			t.Fatalf("card message %d: %v", i, err)
		}
	}
}

// TestDocMessagesBound: a zone keeps at most MaxDocMessages card and place
// messages, so a member re-suggesting an entry over and over cannot crowd
// out role grants, removals and rekeys.
func TestDocMessagesBound(t *testing.T) {
	f := newDocFixture(t)
	msgs := make([]*protocol.Message, 0, MaxDocMessages)
	for i := range MaxDocMessages {
		m := f.place("mem", protocol.PlaceSuggest, 7, fmt.Sprint("edit ", i), f.now.Add(time.Duration(i)*time.Millisecond))
		m.ID = protocol.AlertID{byte(i >> 8), byte(i), 0xbb}
		msgs = append(msgs, m)
	}
	var d Docs
	d.Fold(msgs[:MaxDocMessages-1])
	next := f.place("mem", protocol.PlaceSuggest, 7, "one more", f.now.Add(time.Hour))
	if err := d.CheckDoc(next.Alert); err != nil {
		t.Fatalf("below the bound: %v", err)
	}
	d.Fold(msgs)
	for _, a := range []*protocol.Alert{next.Alert, f.cards("fr", 1, protocol.CardsAdd, "x", f.now).Alert} {
		if err := d.CheckDoc(a); !errors.Is(err, ErrDocsFull) {
			t.Errorf("CheckDoc(%s) at the bound = %v, want ErrDocsFull", a.Kind, err)
		}
	}
	if err := d.CheckDoc(f.msg(protocol.KindRole, f.founder, f.rootCrt, protocol.RoleOrganizer, 0, f.now).Alert); err != nil {
		t.Errorf("a role grant at the bound: %v", err)
	}
	if p, _ := d.Place(protocol.PlaceID{7}); p.Name != fmt.Sprint("edit ", MaxDocMessages-1) {
		t.Errorf("the suggester's latest edit: %q", p.Name)
	}
}
