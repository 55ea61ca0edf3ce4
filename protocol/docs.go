package protocol

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Zone documents (version 3): a zone's own know-your-rights cards (kind
// 15) and its safe-services directory (kind 16). Both are governance
// messages (Kind.IsGovernance): kept by every member and carried by
// catch-up, with an empty area and a zero ref. Folds are in
// node/internal/zone (cards.go, places.go).

// Limits of zone documents.
const (
	// MaxCardSetSize bounds a kind 15 message's card set.
	MaxCardSetSize = 16384
	// MaxPlaces bounds the live entries of a zone's directory: an add or
	// suggest of a new entry beyond it is refused by every node.
	MaxPlaces = 500
	// MaxPlaceBodySize bounds a kind 16 body.
	MaxPlaceBodySize = 2048
	// PlaceIDSize is the size of a directory entry's random ID.
	PlaceIDSize = 16
	// Field limits of a directory entry, in bytes.
	MaxPlaceNameLen    = 120
	MaxPlaceWhereLen   = 200
	MaxPlaceHoursLen   = 120
	MaxPlaceContactLen = 200
	MaxPlaceNotesLen   = 500
	// MaxPlaceLangs bounds the two-letter language codes of an entry.
	MaxPlaceLangs = 8
)

// placeDigestLabel prefixes the hash of a shared entry's digest.
const placeDigestLabel = "lookout place digest v4"

// CardMode says what a zone's card set does with the built-in cards.
type CardMode uint8

const (
	CardsAdd      CardMode = 1 // add to the built-in cards; a card with a built-in ID replaces it
	CardsReplace  CardMode = 2 // replace the built-in cards
	CardsWithdraw CardMode = 3 // back to the built-in cards; no set
)

var cardModeNames = map[CardMode]string{CardsAdd: "add", CardsReplace: "replace", CardsWithdraw: "withdraw"}

func (m CardMode) String() string { return cardModeNames[m] }

// ParseCardMode parses "add", "replace" or "withdraw".
func ParseCardMode(s string) (CardMode, error) {
	for m, n := range cardModeNames {
		if n == strings.ToLower(strings.TrimSpace(s)) {
			return m, nil
		}
	}
	return 0, fmt.Errorf("%w: card mode %q (use add, replace or withdraw)", ErrEnum, s)
}

// CardsDoc is the body of a kind 15 message: an organizer's card set for
// one language.
type CardsDoc struct {
	Lang     string // en, fr or es
	Revision uint32 // ≥ 1; per language the highest wins
	Mode     CardMode
	Set      []byte // UTF-8 JSON as ParseCardSet reads it; empty to withdraw
}

func (d *CardsDoc) validate() error {
	switch {
	case !slices.Contains(CardLangs, d.Lang):
		return &FieldError{Field: "lang", Err: fmt.Errorf("%w: %q (use %s)", ErrEnum, d.Lang, strings.Join(CardLangs, ", "))}
	case d.Revision == 0:
		return &FieldError{Field: "revision", Err: fmt.Errorf("%w: at least 1", ErrEnum)}
	case d.Mode < CardsAdd || d.Mode > CardsWithdraw:
		return &FieldError{Field: "mode", Err: ErrEnum}
	case len(d.Set) > MaxCardSetSize:
		return &FieldError{Field: "set", Err: fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(d.Set), MaxCardSetSize)}
	case d.Mode == CardsWithdraw && len(d.Set) != 0:
		return &FieldError{Field: "set", Err: fmt.Errorf("%w: a withdrawal has no set", ErrEnum)}
	case d.Mode == CardsWithdraw:
		return nil
	case len(d.Set) == 0:
		return &FieldError{Field: "set", Err: ErrMissing}
	}
	s, err := ParseCardSet(d.Set, MaxCardSetSize)
	if err != nil {
		return &FieldError{Field: "set", Err: fmt.Errorf("%w: %v", ErrCardSet, err)}
	}
	if s.Lang != d.Lang {
		return &FieldError{Field: "set", Err: fmt.Errorf("%w: set is in %q, message in %q", ErrCardSet, s.Lang, d.Lang)}
	}
	return nil
}

func (d *CardsDoc) encode(w *writer) {
	w.str(d.Lang)
	w.u32(d.Revision)
	w.u8(uint8(d.Mode))
	w.bytes16(d.Set)
}

func parseCardsDoc(r *reader) *CardsDoc {
	d := &CardsDoc{}
	d.Lang = r.str("lang", 2)
	d.Revision = r.u32("revision")
	d.Mode = CardMode(r.u8("mode"))
	if set := r.bytes16("set", MaxCardSetSize); len(set) > 0 {
		d.Set = set
	}
	return d
}

// PlaceID names a directory entry: random, chosen by whoever adds or
// suggests it.
type PlaceID [PlaceIDSize]byte

func (p PlaceID) String() string { return hex.EncodeToString(p[:]) }
func (p PlaceID) IsZero() bool   { return p == PlaceID{} }

// NewPlaceID draws a random place ID from r (crypto/rand if nil).
func NewPlaceID(r io.Reader) (PlaceID, error) {
	if r == nil {
		r = rand.Reader
	}
	var p PlaceID
	_, err := io.ReadFull(r, p[:])
	return p, err
}

// ParsePlaceID parses 32 hex characters.
func ParsePlaceID(s string) (PlaceID, error) {
	var p PlaceID
	if len(s) != 2*PlaceIDSize {
		return p, fmt.Errorf("place ID must be %d hex characters", 2*PlaceIDSize)
	}
	if _, err := hex.Decode(p[:], []byte(s)); err != nil {
		return p, fmt.Errorf("place ID is not hex")
	}
	return p, nil
}

// PlaceOpKind is what a kind 16 message does to its entry.
type PlaceOpKind uint8

const (
	PlaceAdd     PlaceOpKind = 1 // verifiers and organizers
	PlaceUpdate  PlaceOpKind = 2 // verifiers and organizers
	PlaceRetire  PlaceOpKind = 3 // verifiers and organizers
	PlaceSuggest PlaceOpKind = 4 // any member
	PlaceConfirm PlaceOpKind = 5 // verifiers and organizers: a suggestion becomes an entry
	// PlaceShare (version 4, organizers) shares a confirmed entry marked
	// Share with the zone's linked zones, Hops links far; the zero place
	// ID shares every such entry the zone has at that moment.
	PlaceShare PlaceOpKind = 6
)

var placeOpNames = map[PlaceOpKind]string{PlaceAdd: "add", PlaceUpdate: "update", PlaceRetire: "retire", PlaceSuggest: "suggest", PlaceConfirm: "confirm", PlaceShare: "share"}

func (o PlaceOpKind) String() string { return placeOpNames[o] }

// PlaceKind is the kind of service an entry offers.
type PlaceKind uint8

const (
	PlaceShelter PlaceKind = 1
	PlaceFood    PlaceKind = 2
	PlaceHealth  PlaceKind = 3
	PlaceLegal   PlaceKind = 4
	PlaceSchool  PlaceKind = 5
	PlaceWork    PlaceKind = 6
	PlaceOther   PlaceKind = 7
)

// PlaceKinds lists the kinds in the order interfaces offer them.
var PlaceKinds = []PlaceKind{PlaceShelter, PlaceFood, PlaceHealth, PlaceLegal, PlaceSchool, PlaceWork, PlaceOther}

var placeKindNames = map[PlaceKind]string{PlaceShelter: "shelter", PlaceFood: "food", PlaceHealth: "health", PlaceLegal: "legal",
	PlaceSchool: "school", PlaceWork: "work", PlaceOther: "other"}

// String is the kind's stable name ("shelter", …), or "" for 0.
func (k PlaceKind) String() string { return placeKindNames[k] }

// ParsePlaceKind parses a kind's stable name.
func ParsePlaceKind(s string) (PlaceKind, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, k := range PlaceKinds {
		if placeKindNames[k] == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("%w: place kind %q (use shelter, food, health, legal, school, work or other)", ErrEnum, s)
}

// PlaceFlags are an entry's yes/no facts.
type PlaceFlags uint8

const (
	PlaceNoID     PlaceFlags = 1 << 0 // no ID asked
	PlaceNoStatus PlaceFlags = 1 << 1 // no status questions
	PlaceWalkIn   PlaceFlags = 1 << 2 // walk-in
	placeFlagsAll            = PlaceNoID | PlaceNoStatus | PlaceWalkIn
)

// PlaceOp is the body of a kind 16 message: one operation on one entry.
// Entries describe services, never people.
type PlaceOp struct {
	ID        PlaceID
	Op        PlaceOpKind
	Kind      PlaceKind // 0 only in a retire
	Name      string
	Where     string // a coarse place: a landmark or an intersection, never coordinates
	Hours     string
	Languages []string // two-letter ISO 639-1 codes, lower case
	Flags     PlaceFlags
	Contact   string
	Notes     string
	Share     bool // an organizer may share it with linked zones
	// Hops is how many links a PlaceShare lets the entry cross (1 to
	// MaxShareHops); it takes the share byte's place on the wire and is 0
	// in every other operation.
	Hops uint8
}

// bare reports whether the operation carries nothing but its place ID
// (and a share's hops).
func (p *PlaceOp) bare() bool {
	return p.Kind == 0 && p.Name == "" && p.Where == "" && p.Hours == "" && len(p.Languages) == 0 && p.Flags == 0 && p.Contact == "" && p.Notes == "" && !p.Share
}

func (p *PlaceOp) validate() error {
	if p.Op < PlaceAdd || p.Op > PlaceShare {
		return &FieldError{Field: "op", Err: fmt.Errorf("%w: %d", ErrEnum, p.Op)}
	}
	if p.ID.IsZero() && p.Op != PlaceShare {
		return &FieldError{Field: "place id", Err: ErrMissing}
	}
	if (p.Hops != 0) != (p.Op == PlaceShare) || p.Hops > MaxShareHops {
		return &FieldError{Field: "hops", Err: fmt.Errorf("%w: 1 to %d, shares only", ErrHops, MaxShareHops)}
	}
	if p.Op == PlaceRetire || p.Op == PlaceShare {
		// A retire names only its entry; a share its entry and hops.
		if !p.bare() {
			return &FieldError{Field: "place", Err: fmt.Errorf("%w: a %s carries only the place ID", ErrEnum, p.Op)}
		}
		return nil
	}
	if p.Kind < PlaceShelter || p.Kind > PlaceOther {
		return &FieldError{Field: "place kind", Err: fmt.Errorf("%w: %d", ErrEnum, p.Kind)}
	}
	if p.Flags&^placeFlagsAll != 0 {
		return &FieldError{Field: "flags", Err: fmt.Errorf("%w: unknown bits %#x", ErrEnum, uint8(p.Flags&^placeFlagsAll))}
	}
	if len(p.Languages) > MaxPlaceLangs {
		return &FieldError{Field: "languages", Err: fmt.Errorf("%w: %d, at most %d", ErrTooLarge, len(p.Languages), MaxPlaceLangs)}
	}
	for i, l := range p.Languages {
		if len(l) != 2 || l[0] < 'a' || l[0] > 'z' || l[1] < 'a' || l[1] > 'z' {
			return &FieldError{Field: "languages", Err: fmt.Errorf("%w: %q is not a two-letter lower-case code", ErrEnum, l)}
		}
		if slices.Contains(p.Languages[:i], l) {
			return &FieldError{Field: "languages", Err: fmt.Errorf("%w: %q twice", ErrEnum, l)}
		}
	}
	for _, t := range []struct {
		name     string
		v        string
		max      int
		required bool
	}{
		{"name", p.Name, MaxPlaceNameLen, true},
		{"where", p.Where, MaxPlaceWhereLen, false},
		{"hours", p.Hours, MaxPlaceHoursLen, false},
		{"contact", p.Contact, MaxPlaceContactLen, false},
		{"notes", p.Notes, MaxPlaceNotesLen, false},
	} {
		switch {
		case len(t.v) > t.max:
			return &FieldError{Field: t.name, Err: fmt.Errorf("%w: %d bytes, at most %d", ErrTooLong, len(t.v), t.max)}
		case t.required && strings.TrimSpace(t.v) == "":
			return &FieldError{Field: t.name, Err: ErrMissing}
		}
		if err := checkText(t.v); err != nil {
			return &FieldError{Field: t.name, Err: err}
		}
	}
	return nil
}

func (p *PlaceOp) encode(w *writer) {
	w.raw(p.ID[:])
	p.encodeContent(w)
	switch {
	case p.Op == PlaceShare:
		w.u8(p.Hops)
	case p.Share:
		w.u8(1)
	default:
		w.u8(0)
	}
}

// encodeContent writes what an endorsement carries of an entry: the
// operation and the fields, not the place ID (the receiving zone derives
// its own from the digest).
func (p *PlaceOp) encodeContent(w *writer) {
	w.u8(uint8(p.Op))
	w.u8(uint8(p.Kind))
	w.str(p.Name)
	w.str(p.Where)
	w.str(p.Hours)
	w.bytes8([]byte(strings.Join(p.Languages, "")))
	w.u8(uint8(p.Flags))
	w.str(p.Contact)
	w.str(p.Notes)
}

func parsePlaceContent(r *reader, p *PlaceOp) {
	p.Op = PlaceOpKind(r.u8("op"))
	p.Kind = PlaceKind(r.u8("place kind"))
	p.Name = r.str("name", MaxPlaceNameLen)
	p.Where = r.str("where", MaxPlaceWhereLen)
	p.Hours = r.str("hours", MaxPlaceHoursLen)
	p.Languages = parseLangs(r)
	p.Flags = PlaceFlags(r.u8("flags"))
	p.Contact = r.str("contact", MaxPlaceContactLen)
	p.Notes = r.str("notes", MaxPlaceNotesLen)
}

func parseLangs(r *reader) []string {
	langs := r.bytes8("languages", 2*MaxPlaceLangs)
	if len(langs)%2 != 0 {
		r.fail(&FieldError{Field: "languages", Err: fmt.Errorf("%w: odd length", ErrEnum)})
	}
	var out []string
	for i := 0; i+1 < len(langs); i += 2 {
		out = append(out, string(langs[i:i+2]))
	}
	return out
}

func parsePlaceOp(r *reader) *PlaceOp {
	p := &PlaceOp{}
	r.fixed(p.ID[:], "place id")
	p.Op = PlaceOpKind(r.u8("op"))
	p.Kind = PlaceKind(r.u8("place kind"))
	p.Name = r.str("name", MaxPlaceNameLen)
	p.Where = r.str("where", MaxPlaceWhereLen)
	p.Hours = r.str("hours", MaxPlaceHoursLen)
	p.Languages = parseLangs(r)
	p.Flags = PlaceFlags(r.u8("flags"))
	p.Contact = r.str("contact", MaxPlaceContactLen)
	p.Notes = r.str("notes", MaxPlaceNotesLen)
	switch v := r.u8("share"); {
	case p.Op == PlaceShare:
		p.Hops = v
	case v == 0:
	case v == 1:
		p.Share = true
	default:
		r.fail(&FieldError{Field: "share", Err: ErrEnum})
	}
	return p
}

// validateLinked checks an entry's operation that came over a link: an
// add (the entry as its zone shows it now) or a retire, naming the ID the
// digest gives, never marked shareable (it travels on by hops only).
func (p *PlaceOp) validateLinked(via *Forward) error {
	switch {
	case p.Op != PlaceAdd && p.Op != PlaceRetire:
		return &FieldError{Field: "op", Err: fmt.Errorf("%w: only an add or a retire crosses a link", ErrEnum)}
	case p.ID != via.Digest.LinkedPlaceID():
		return &FieldError{Field: "place id", Err: fmt.Errorf("%w: an entry from a linked zone has the ID its digest gives", ErrEnum)}
	case p.Share:
		return &FieldError{Field: "share", Err: fmt.Errorf("%w: an entry from a linked zone is not shared on by its flag", ErrEnum)}
	}
	return nil
}

// PlaceDigest names an entry on every link it crosses:
// SHA-256(label || place ID) of the entry in the zone it was first shared
// from.
func PlaceDigest(id PlaceID) Digest {
	h := sha256.New()
	h.Write([]byte(placeDigestLabel))
	h.Write(id[:])
	var d Digest
	copy(d[:], h.Sum(nil))
	return d
}

// LinkedPlaceID is the ID an entry that came over a link has in the
// receiving zone: the first PlaceIDSize bytes of its digest. A relayed
// operation can only name that ID, never one of the zone's own entries.
func (d Digest) LinkedPlaceID() PlaceID {
	var p PlaceID
	copy(p[:], d[:PlaceIDSize])
	return p
}

// validateDocs checks the zone-document fields: Cards only in kind 15,
// Place only in kind 16, a callout's card a topic ID or empty.
func (a *Alert) validateDocs() error {
	if (a.Cards != nil) != (a.Kind == KindCards) {
		if a.Cards != nil {
			return &FieldError{Field: "cards", Err: fmt.Errorf("%w: not used by %s", ErrEnum, a.Kind)}
		}
		return &FieldError{Field: "cards", Err: ErrMissing}
	}
	if (a.Place != nil) != (a.Kind == KindPlace) {
		if a.Place != nil {
			return &FieldError{Field: "place", Err: fmt.Errorf("%w: not used by %s", ErrEnum, a.Kind)}
		}
		return &FieldError{Field: "place", Err: ErrMissing}
	}
	if a.Card != "" && (a.Kind != KindCallout || !ValidCardID(a.Card)) {
		return &FieldError{Field: "card", Err: fmt.Errorf("%w: a callout's card is 1 to %d lower-case letters, digits or '-'", ErrEnum, MaxCardIDLen)}
	}
	if a.Cards != nil {
		return a.Cards.validate()
	}
	if a.Place != nil {
		return a.Place.validate()
	}
	return nil
}

// ValidatePlace checks a kind 16 alert's entry alone, so a sender can
// name the field that is wrong before signing.
func (a *Alert) ValidatePlace() error {
	if a.Place == nil {
		return &FieldError{Field: "place", Err: ErrMissing}
	}
	return a.Place.validate()
}
