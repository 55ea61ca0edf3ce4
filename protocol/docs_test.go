package protocol

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// testCardSet is a small valid French card set.
const testCardSet = `{"lang":"fr","language":"Français","title":"Connaître ses droits","written":"2026-12-02",` +
	`"notice":"Information générale, pas un avis juridique.","check":"Vérifié par la clinique du quartier.",` +
	`"cards":[{"id":"clinique","title":"La clinique juridique","intro":"Consultations gratuites le mardi.","points":["Apportez vos papiers si vous en avez."]}]}`

// newCalloutCard is alert_callout pointing to the door card.
func newCalloutCard() *Alert {
	a := newCallout()
	a.Card = "door"
	return a
}

// newCards is the organizer's French zone cards, revision 2, added to
// the built-in ones.
func newCards() *Alert {
	a := governance(KindCards, fixtureOnce().org.ID())
	a.Cards = &CardsDoc{Lang: "fr", Revision: 2, Mode: CardsAdd, Set: []byte(testCardSet)}
	return a
}

// newPlace is a verifier's op on a food bank entry.
func newPlace(op PlaceOpKind) *Alert {
	a := governance(KindPlace, fixtureOnce().verifier.ID())
	a.Place = &PlaceOp{ID: PlaceID{0x50, 0x1a}, Op: op, Kind: PlaceFood, Name: "Banque alimentaire Saint-Michel",
		Where: "Jarry & Saint-Michel, church basement", Hours: "Tue, Thu 10:00-14:00", Languages: []string{"fr", "es", "en"},
		Flags: PlaceNoID | PlaceWalkIn, Contact: "514 555 0100", Notes: "Bring a bag.", Share: true}
	if op == PlaceRetire {
		a.Place = &PlaceOp{ID: a.Place.ID, Op: PlaceRetire}
	}
	return a
}

// testPlaceID is newPlace's entry.
var testPlaceID = PlaceID{0x50, 0x1a}

// newPlaceShare is an organizer sharing newPlace's entry hops links far.
func newPlaceShare(hops uint8) *Alert {
	a := governance(KindPlace, fixtureOnce().org.ID())
	a.Place = &PlaceOp{ID: testPlaceID, Op: PlaceShare, Hops: hops}
	return a
}

// newLinkedPlace is the relay's copy of a linked zone's entry: newPlace's
// fields under the ID the digest gives, endorsed by the other end.
func newLinkedPlace(t testing.TB, op PlaceOpKind) *Alert {
	a := newPlace(op)
	a.Sender = fixtureOnce().org.ID()
	a.Place.ID, a.Place.Share = testDigest.LinkedPlaceID(), false
	a.Via = &Forward{Link: testLink, Digest: testDigest, Hops: 1, Origin: "Roncesvalles", At: t0.Add(-time.Minute)}
	if _, err := Endorse(peerEnd(), a); err != nil {
		t.Fatal(err)
	}
	return a
}

// newPlaceShareAll shares every shareable entry, one link far.
func newPlaceShareAll() *Alert {
	a := newPlaceShare(1)
	a.Place.ID = PlaceID{}
	return a
}

// newForwardedCallout is a callout from a linked zone naming its card.
func newForwardedCallout(t testing.TB) *Alert {
	a := newCalloutCard()
	a.Sender = fixtureOnce().org.ID()
	a.Via = &Forward{Link: testLink, Digest: testDigest, Hops: 1, Origin: "Roncesvalles", At: t0.Add(-time.Minute)}
	if _, err := Endorse(peerEnd(), a); err != nil {
		t.Fatal(err)
	}
	return a
}

// newPlaceSuggest is a member suggesting a legal clinic.
func newPlaceSuggest() *Alert {
	a := governance(KindPlace, fixtureOnce().member.ID())
	a.Place = &PlaceOp{ID: PlaceID{0x50, 0x2b}, Op: PlaceSuggest, Kind: PlaceLegal, Name: "Clínica legal del barrio",
		Where: "Bélanger metro", Flags: PlaceNoStatus}
	return a
}

func TestDocsRoundTrip(t *testing.T) {
	for _, a := range []*Alert{newCalloutCard(), newCards(), newPlace(PlaceAdd), newPlace(PlaceUpdate), newPlace(PlaceRetire),
		newPlace(PlaceConfirm), newPlaceSuggest(), newPlaceShare(2), newPlaceShareAll(), newLinkedPlace(t, PlaceAdd), newLinkedPlace(t, PlaceRetire),
		newForwardedCallout(t)} {
		b := mustBody(t, a)
		got, err := ParseAlert(b)
		if err != nil {
			t.Fatalf("%s: ParseAlert: %v", a.Kind, err)
		}
		if !sameAlert(got, a) {
			t.Errorf("%s: round trip = %+v, want %+v", a.Kind, got, a)
		}
	}
	w := newCards()
	w.Cards = &CardsDoc{Lang: "es", Revision: 3, Mode: CardsWithdraw}
	if got, err := ParseAlert(mustBody(t, w)); err != nil || !sameAlert(got, w) {
		t.Errorf("withdrawal: %v", err)
	}
}

// TestDocsLayout pins the variable parts of kinds 15 and 16 given in
// docs/protocol.md.
func TestDocsLayout(t *testing.T) {
	b := mustBody(t, newCards())
	if Kind(b[1]) != KindCards || !bytes.Equal(b[86:88], []byte{0, 0}) {
		t.Fatalf("kind/area: % x", b[:88])
	}
	if !bytes.Equal(b[88:92], []byte{0, 2, 'f', 'r'}) || !bytes.Equal(b[92:96], []byte{0, 0, 0, 2}) || b[96] != byte(CardsAdd) {
		t.Errorf("lang/revision/mode: % x", b[88:97])
	}
	if n := int(b[97])<<8 | int(b[98]); n != len(testCardSet) || string(b[99:]) != testCardSet {
		t.Errorf("set: length %d", n)
	}
	p := newPlace(PlaceAdd)
	b = mustBody(t, p)
	if !bytes.Equal(b[88:104], p.Place.ID[:]) || b[104] != byte(PlaceAdd) || b[105] != byte(PlaceFood) {
		t.Errorf("id/op/kind: % x", b[88:106])
	}
	if b[len(b)-2] != 1 || b[len(b)-1] != 0 {
		t.Errorf("share is not the byte before via: % x", b[len(b)-2:])
	}
	s := mustBody(t, newPlaceShare(3))
	if !bytes.Equal(s[88:104], testPlaceID[:]) || s[104] != byte(PlaceShare) || s[len(s)-2] != 3 || s[len(s)-1] != 0 {
		t.Errorf("share: % x", s[88:])
	}
	c := mustBody(t, newCalloutCard())
	if !bytes.HasSuffix(c, []byte{0, 4, 'd', 'o', 'o', 'r', 0}) {
		t.Errorf("callout card is not before via: % x", c[len(c)-8:])
	}
}

func TestDocsRejects(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	for name, c := range map[string]struct {
		edit func(a *Alert) *Alert
		want error
	}{
		"cards lang":          {func(a *Alert) *Alert { a.Cards.Lang = "de"; return a }, ErrEnum},
		"cards revision 0":    {func(a *Alert) *Alert { a.Cards.Revision = 0; return a }, ErrEnum},
		"cards mode 4":        {func(a *Alert) *Alert { a.Cards.Mode = 4; return a }, ErrEnum},
		"cards no set":        {func(a *Alert) *Alert { a.Cards.Set = nil; return a }, ErrMissing},
		"cards bad set":       {func(a *Alert) *Alert { a.Cards.Set = []byte(`{"lang":"fr"}`); return a }, ErrCardSet},
		"cards other lang":    {func(a *Alert) *Alert { a.Cards.Lang = "es"; return a }, ErrCardSet},
		"cards withdraw set":  {func(a *Alert) *Alert { a.Cards.Mode = CardsWithdraw; return a }, ErrEnum},
		"cards too large":     {func(a *Alert) *Alert { a.Cards.Set = bytes.Repeat([]byte(" "), MaxCardSetSize+1); return a }, ErrTooLarge},
		"cards missing":       {func(a *Alert) *Alert { a.Cards = nil; return a }, ErrMissing},
		"cards area":          {func(a *Alert) *Alert { a.Area = "here"; return a }, ErrEnum},
		"cards ref":           {func(a *Alert) *Alert { a.Ref = refA; return a }, ErrEnum},
		"cards on a sighting": {func(a *Alert) *Alert { s := newSighting(); s.Cards = a.Cards; return s }, ErrEnum},
		"place on cards":      {func(a *Alert) *Alert { a.Place = newPlace(PlaceAdd).Place; return a }, ErrEnum},
		"card on a sighting":  {func(*Alert) *Alert { s := newSighting(); s.Card = "door"; return s }, ErrEnum},
		"callout card":        {func(*Alert) *Alert { c := newCallout(); c.Card = "Door!"; return c }, ErrEnum},
		"callout card long":   {func(*Alert) *Alert { c := newCallout(); c.Card = long(MaxCardIDLen + 1); return c }, ErrEnum},
		"place id":            {func(*Alert) *Alert { p := newPlace(PlaceAdd); p.Place.ID = PlaceID{}; return p }, ErrMissing},
		"place op":            {func(*Alert) *Alert { p := newPlace(PlaceAdd); p.Place.Op = 7; return p }, ErrEnum},
		"place share hops 0":  {func(*Alert) *Alert { return newPlaceShare(0) }, ErrHops},
		"place share hops 9":  {func(*Alert) *Alert { return newPlaceShare(MaxShareHops + 1) }, ErrHops},
		"place share a name":  {func(*Alert) *Alert { p := newPlaceShare(1); p.Place.Name = "x"; return p }, ErrEnum},
		"place share flag":    {func(*Alert) *Alert { p := newPlaceShare(1); p.Place.Share = true; return p }, ErrEnum},
		"hops on an add":      {func(*Alert) *Alert { p := newPlace(PlaceAdd); p.Place.Hops = 1; return p }, ErrHops},
		"place kind":          {func(*Alert) *Alert { p := newPlace(PlaceAdd); p.Place.Kind = 8; return p }, ErrEnum},
		"place no name":       {func(*Alert) *Alert { p := newPlace(PlaceAdd); p.Place.Name = " "; return p }, ErrMissing},
		"place name long":     {func(*Alert) *Alert { p := newPlace(PlaceAdd); p.Place.Name = long(MaxPlaceNameLen + 1); return p }, ErrTooLong},
		"place where long":    {func(*Alert) *Alert { p := newPlace(PlaceAdd); p.Place.Where = long(MaxPlaceWhereLen + 1); return p }, ErrTooLong},
		"place notes long":    {func(*Alert) *Alert { p := newPlace(PlaceAdd); p.Place.Notes = long(MaxPlaceNotesLen + 1); return p }, ErrTooLong},
		"place escape":        {func(*Alert) *Alert { p := newPlace(PlaceAdd); p.Place.Contact = "\x1b[2J"; return p }, ErrBadText},
		"place flags":         {func(*Alert) *Alert { p := newPlace(PlaceAdd); p.Place.Flags = 8; return p }, ErrEnum},
		"place lang":          {func(*Alert) *Alert { p := newPlace(PlaceAdd); p.Place.Languages = []string{"FR"}; return p }, ErrEnum},
		"place lang twice":    {func(*Alert) *Alert { p := newPlace(PlaceAdd); p.Place.Languages = []string{"fr", "fr"}; return p }, ErrEnum},
		"place 9 langs": {func(*Alert) *Alert {
			p := newPlace(PlaceAdd)
			p.Place.Languages = []string{"aa", "bb", "cc", "dd", "ee", "ff", "gg", "hh", "ii"}
			return p
		}, ErrTooLarge},
		"retire with a name": {func(*Alert) *Alert { p := newPlace(PlaceRetire); p.Place.Name = "x"; return p }, ErrEnum},
		"place missing":      {func(*Alert) *Alert { p := newPlace(PlaceAdd); p.Place = nil; return p }, ErrMissing},
		"linked place, own ID": {func(*Alert) *Alert {
			p := newLinkedPlace(t, PlaceAdd)
			p.Place.ID = testPlaceID // one of the receiving zone's own entries
			return p
		}, ErrEnum},
		"linked place update": {func(*Alert) *Alert {
			p := newLinkedPlace(t, PlaceAdd)
			p.Place.Op = PlaceUpdate
			return p
		}, ErrEnum},
		"linked place shared on": {func(*Alert) *Alert {
			p := newLinkedPlace(t, PlaceAdd)
			p.Place.Share = true
			return p
		}, ErrEnum},
		"linked place suggest": {func(*Alert) *Alert {
			p := newLinkedPlace(t, PlaceAdd)
			p.Place.Op = PlaceSuggest
			return p
		}, ErrEnum},
	} {
		a := c.edit(newCards())
		if _, err := a.MarshalBinary(); !errors.Is(err, c.want) {
			t.Errorf("%s: MarshalBinary = %v, want %v", name, err, c.want)
		}
	}
}

// TestPlaceBodySize: a place body over MaxPlaceBodySize is refused both
// ways, though each field is within its own limit.
func TestPlaceBodySize(t *testing.T) {
	p := newPlace(PlaceAdd)
	p.Place.Name, p.Place.Where, p.Place.Hours = strings.Repeat("n", MaxPlaceNameLen), strings.Repeat("w", MaxPlaceWhereLen), strings.Repeat("h", MaxPlaceHoursLen)
	p.Place.Contact, p.Place.Notes = strings.Repeat("c", MaxPlaceContactLen), strings.Repeat("é", MaxPlaceNotesLen/2)
	b := mustBody(t, p)
	if len(b) > MaxPlaceBodySize {
		t.Fatalf("a place at every limit is %d bytes, over %d", len(b), MaxPlaceBodySize)
	}
	// A body padded past the limit and a via (by a crafted set of fields) fails to
	// decode with ErrTooLarge before any field is read.
	big := append(bytes.Clone(b), make([]byte, MaxPlaceBodySize+MaxForwardSize)...)
	if _, err := ParseAlert(big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ParseAlert(oversize place) = %v, want ErrTooLarge", err)
	}
	// A decoder refuses an odd-length language list and a share byte of 2.
	odd := bytes.Clone(b)
	i := bytes.Index(odd, []byte{6, 'f', 'r', 'e', 's', 'e', 'n'})
	odd[i] = 5
	if _, err := ParseAlert(odd); err == nil {
		t.Errorf("odd language list accepted")
	}
	share := bytes.Clone(b)
	share[len(share)-1] = 2
	if _, err := ParseAlert(share); !errors.Is(err, ErrEnum) {
		t.Errorf("share 2: %v, want ErrEnum", err)
	}
}

func TestCheckRoleDocs(t *testing.T) {
	for _, c := range []struct {
		a    *Alert
		role Role
		want error
	}{
		{newCards(), RoleMember, ErrNotAllowed},
		{newCards(), RoleVerifier, ErrNotAllowed},
		{newCards(), RoleOrganizer, nil},
		{newPlaceSuggest(), RoleMember, nil},
		{newPlaceSuggest(), RoleVerifier, nil},
		{newPlace(PlaceAdd), RoleMember, ErrNotAllowed},
		{newPlace(PlaceUpdate), RoleMember, ErrNotAllowed},
		{newPlace(PlaceRetire), RoleMember, ErrNotAllowed},
		{newPlace(PlaceConfirm), RoleMember, ErrNotAllowed},
		{newPlace(PlaceAdd), RoleVerifier, nil},
		{newPlace(PlaceRetire), RoleVerifier, nil},
		{newPlace(PlaceConfirm), RoleOrganizer, nil},
		{newCalloutCard(), RoleOrganizer, nil},
	} {
		if err := CheckRole(c.a, c.role); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("CheckRole(%s, %s) = %v, want %v", c.a.Kind, c.role, err, c.want)
		}
	}
	for _, k := range []Kind{KindCards, KindPlace} {
		if !k.IsGovernance() || !k.IsZoneDoc() {
			t.Errorf("%s is not a governance zone document", k)
		}
	}
}

// TestDocsValidator: signed zone documents pass the validator from the
// right roles only.
func TestDocsValidator(t *testing.T) {
	f := fx(t)
	now := t0
	for _, c := range []struct {
		name  string
		s     *Signed
		allow bool
	}{
		{"organizer cards", mustSign(t, f.org, f.orgChain, newCards()), true},
		{"member cards", mustSign(t, f.member, f.memberChain, newCards()), false},
		{"verifier add", mustSign(t, f.verifier, f.verifierChain, newPlace(PlaceAdd)), true},
		{"member add", mustSign(t, f.member, f.memberChain, newPlace(PlaceAdd)), false},
		{"member suggest", mustSign(t, f.member, f.memberChain, newPlaceSuggest()), true},
	} {
		_, err := f.validator().Check(c.s, now)
		if c.allow != (err == nil) || (!c.allow && !errors.Is(err, ErrNotAllowed)) {
			t.Errorf("%s: Check = %v", c.name, err)
		}
	}
}

func TestParseCardMode(t *testing.T) {
	for _, m := range []CardMode{CardsAdd, CardsReplace, CardsWithdraw} {
		if got, err := ParseCardMode(m.String()); err != nil || got != m {
			t.Errorf("ParseCardMode(%s) = %v, %v", m, got, err)
		}
	}
	if _, err := ParseCardMode("merge"); !errors.Is(err, ErrEnum) {
		t.Errorf("ParseCardMode(merge) = %v", err)
	}
	for _, k := range PlaceKinds {
		if got, err := ParsePlaceKind(k.String()); err != nil || got != k {
			t.Errorf("ParsePlaceKind(%s) = %v, %v", k, got, err)
		}
	}
}

// FuzzParseCardSet: a card set from a zone never panics the parser, and
// whatever parses passes its checks and keeps within its limits.
func FuzzParseCardSet(f *testing.F) {
	f.Add([]byte(testCardSet))
	f.Add([]byte(testCardSet[:len(testCardSet)/2]))
	f.Add([]byte(`{"lang":"es","cards":[{"id":"x"}]}`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseCardSet(b, MaxCardSetSize)
		if err != nil {
			if s != nil {
				t.Fatalf("set with an error")
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("parsed set fails its checks: %v", err)
		}
		if len(s.Cards) > MaxCards {
			t.Fatalf("%d cards", len(s.Cards))
		}
	})
}

// FuzzParsePlace: kind 16 bodies never panic the decoder, and whatever
// decodes re-encodes to the same bytes within MaxPlaceBodySize.
func FuzzParsePlace(f *testing.F) {
	for _, a := range []*Alert{newPlace(PlaceAdd), newPlace(PlaceRetire), newPlaceSuggest(), newCards()} {
		b := mustBody(f, a)
		f.Add(b)
		f.Add(b[:len(b)-3])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseAlert(b)
		if err != nil {
			checkSentinel(t, err)
			return
		}
		again, err := a.MarshalBinary()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs: %v", err)
		}
		if a.Kind == KindPlace && len(b) > MaxPlaceBodySize {
			t.Fatalf("place body of %d bytes accepted", len(b))
		}
	})
}

// TestPlaceShareRoles: only organizers share entries; only a link end
// relays one.
func TestPlaceShareRoles(t *testing.T) {
	for role, want := range map[Role]error{RoleOrganizer: nil, RoleVerifier: ErrNotAllowed, RoleMember: ErrNotAllowed} {
		if err := CheckRole(newPlaceShare(1), role); !errors.Is(err, want) {
			t.Errorf("share by %s: %v, want %v", role, err, want)
		}
	}
	if err := CheckRole(newLinkedPlace(t, PlaceAdd), RoleVerifier); !errors.Is(err, ErrNotAllowed) {
		t.Errorf("linked place relayed by a verifier: %v", err)
	}
}

// TestPlaceEndorsementRejects: an endorsement of a place carries an add
// or a retire with valid fields; the ID is the digest's.
func TestPlaceEndorsementRejects(t *testing.T) {
	good := newLinkedPlace(t, PlaceAdd)
	b, err := EndorsementBody(good)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseEndorsement(b)
	if err != nil || got.Place.ID != testDigest.LinkedPlaceID() || got.Place.Name != good.Place.Name {
		t.Fatalf("ParseEndorsement = %+v, %v", got, err)
	}
	for name, edit := range map[string]func(p *PlaceOp){
		"update":     func(p *PlaceOp) { p.Op = PlaceUpdate },
		"suggest":    func(p *PlaceOp) { p.Op = PlaceSuggest },
		"no name":    func(p *PlaceOp) { p.Name = "" },
		"kind 9":     func(p *PlaceOp) { p.Kind = 9 },
		"bad flags":  func(p *PlaceOp) { p.Flags = 0x80 },
		"escape":     func(p *PlaceOp) { p.Notes = "\x1b[2J" },
		"retire+tag": func(p *PlaceOp) { p.Op = PlaceRetire },
	} {
		a := newLinkedPlace(t, PlaceAdd)
		edit(a.Place)
		w := writer{}
		w.u8(Version)
		w.u8(uint8(KindPlace))
		w.u8(uint8(StatusActual))
		a.Via.encodeBody(&w)
		a.Place.encodeContent(&w)
		if _, err := ParseEndorsement(w.b); err == nil {
			t.Errorf("%s: endorsement accepted", name)
		}
	}
}
