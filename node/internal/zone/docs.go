package zone

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"lookout/crypto"
	"lookout/protocol"
)

// Zone documents: a zone's own know-your-rights cards (kind 15) and its
// safe-services directory (kind 16), folded from the governance messages
// a zone holds, with the same result for the same set of messages
// whatever their order (docs/protocol.md "Zone cards and safe places").

// Reasons CheckDoc refuses a zone document at the door.
var (
	ErrTooManyPlaces = fmt.Errorf("the zone's directory is full (%d entries)", protocol.MaxPlaces)
	ErrPlaceRetired  = errors.New("that directory entry was retired")
	ErrDocsFull      = fmt.Errorf("the zone holds %d card and place messages, the most it keeps", MaxDocMessages)
)

// MaxDocMessages bounds the card and place messages a zone keeps (each is
// a governance record, node/govlog.go): beyond it, new ones are refused at
// the door, so a member's suggestions cannot grow the store without end.
const MaxDocMessages = 2048

// Per-sender budgets of zone documents per protocol.RateWindow.
const (
	MaxCardMessages  = 10 // card sets, per organizer
	MaxPlaceMessages = 20 // directory operations, per member
)

// StaleAfter is how long after its last confirmation a directory entry
// is shown as "not checked recently".
const StaleAfter = 183 * 24 * time.Hour // six months

// ZoneCards is a zone's card set for one language as folded: the
// message with the highest revision.
type ZoneCards struct {
	Lang     string
	Revision uint32
	Mode     protocol.CardMode
	Set      *protocol.CardSet // nil when withdrawn
	Raw      []byte            // the set as sent
	Sender   crypto.MemberID
	Sent     time.Time
	ID       protocol.AlertID
}

// Place is a directory entry as folded.
type Place struct {
	protocol.PlaceOp
	Suggested   bool            // a member's suggestion, not yet confirmed
	SuggestedBy crypto.MemberID // who suggested it (set while Suggested)
	ConfirmedBy crypto.MemberID // sender of the latest add, update or confirm
	ConfirmedAt time.Time       // its sent time
	Retired     bool
}

// Stale reports whether the entry was last confirmed more than
// StaleAfter before now (a suggestion is never confirmed: not stale,
// shown as a suggestion instead).
func (p *Place) Stale(now time.Time) bool {
	return !p.Suggested && now.Sub(p.ConfirmedAt) > StaleAfter
}

// Docs is a zone's documents as folded. The zero value is empty; the
// zone's lock guards it.
type Docs struct {
	cards  map[string]ZoneCards
	places map[protocol.PlaceID]*Place
	live   int // entries neither retired nor refused
	held   int // card and place messages folded, counted or not
}

// counts reports whether msg may change the zone's documents: actual (an
// exercise never changes the zone) and from a role allowed to send it.
func counts(m *protocol.Message) bool {
	return !m.Alert.Exercise() && protocol.CheckRole(m.Alert, m.Role) == nil
}

// Fold recomputes the documents from a zone's governance messages.
//   - Cards: per language, the set with the highest revision wins, ties
//     broken by the lower alert ID. Sets of removed organizers stay.
//   - Places: operations in order of (sent, alert ID); the latest wins, so
//     back-dating only loses and forward-dating is bounded by
//     protocol.MaxClockSkew. A retired entry stays retired. A suggestion
//     creates an entry only if its ID is new, and only its own suggester
//     may change it until a verifier or organizer confirms (or updates)
//     it. Update and confirm need an existing entry. An add or suggest of
//     a new entry while MaxPlaces entries are live is ignored.
func (d *Docs) Fold(msgs []*protocol.Message) {
	d.cards = map[string]ZoneCards{}
	d.places = map[protocol.PlaceID]*Place{}
	d.live, d.held = 0, 0
	var ops []*protocol.Message
	for _, m := range msgs {
		if m.Alert.Kind.IsZoneDoc() {
			d.held++
		}
		switch {
		case !counts(m):
		case m.Alert.Kind == protocol.KindCards:
			d.foldCards(m)
		case m.Alert.Kind == protocol.KindPlace:
			ops = append(ops, m)
		}
	}
	slices.SortFunc(ops, func(a, b *protocol.Message) int {
		if c := a.Alert.Sent.Compare(b.Alert.Sent); c != 0 {
			return c
		}
		return slices.Compare(a.ID[:], b.ID[:])
	})
	for _, m := range ops {
		d.foldPlace(m)
	}
}

func (d *Docs) foldCards(m *protocol.Message) {
	c := m.Alert.Cards
	cur, ok := d.cards[c.Lang]
	if ok && (c.Revision < cur.Revision || (c.Revision == cur.Revision && slices.Compare(m.ID[:], cur.ID[:]) > 0)) {
		return
	}
	z := ZoneCards{Lang: c.Lang, Revision: c.Revision, Mode: c.Mode, Raw: c.Set, Sender: m.Alert.Sender, Sent: m.Alert.Sent, ID: m.ID}
	if c.Mode != protocol.CardsWithdraw {
		s, err := protocol.ParseCardSet(c.Set, protocol.MaxCardSetSize)
		if err != nil {
			return // validated before; a set that no longer parses is not shown
		}
		z.Set = s
	}
	d.cards[c.Lang] = z
}

func (d *Docs) foldPlace(m *protocol.Message) {
	op, a := m.Alert.Place, m.Alert
	cur := d.places[op.ID]
	if cur != nil && cur.Retired {
		return
	}
	switch op.Op {
	case protocol.PlaceRetire:
		if cur == nil {
			d.places[op.ID] = &Place{PlaceOp: protocol.PlaceOp{ID: op.ID}, Retired: true}
			return
		}
		cur.Retired = true
		d.live--
	case protocol.PlaceAdd, protocol.PlaceSuggest:
		suggest := op.Op == protocol.PlaceSuggest
		if cur == nil {
			if d.live >= protocol.MaxPlaces {
				return
			}
			cur = &Place{}
			d.places[op.ID] = cur
			d.live++
		} else if suggest && (!cur.Suggested || cur.SuggestedBy != a.Sender) {
			return
		}
		cur.PlaceOp = *op
		if suggest {
			cur.Suggested, cur.SuggestedBy = true, a.Sender
		} else {
			cur.confirm(a)
		}
	case protocol.PlaceUpdate, protocol.PlaceConfirm:
		if cur == nil {
			return
		}
		cur.PlaceOp = *op
		cur.confirm(a)
	}
}

func (p *Place) confirm(a *protocol.Alert) {
	p.Suggested, p.SuggestedBy = false, crypto.MemberID{}
	p.ConfirmedBy, p.ConfirmedAt = a.Sender, a.Sent
}

// CheckDoc is the door's check of a zone document against what the zone
// holds: any card or place message once the zone holds MaxDocMessages of
// them, an operation on a retired entry, and an add or suggest of a new
// entry while the directory is full are refused. It changes nothing.
func (d *Docs) CheckDoc(a *protocol.Alert) error {
	if a.Kind.IsZoneDoc() && d.held >= MaxDocMessages {
		return ErrDocsFull
	}
	if a.Kind != protocol.KindPlace || a.Place == nil {
		return nil
	}
	cur := d.places[a.Place.ID]
	switch {
	case cur != nil && cur.Retired:
		return fmt.Errorf("%w: %s", ErrPlaceRetired, a.Place.ID)
	case cur == nil && (a.Place.Op == protocol.PlaceAdd || a.Place.Op == protocol.PlaceSuggest) && d.live >= protocol.MaxPlaces:
		return ErrTooManyPlaces
	}
	return nil
}

// Cards returns the zone's folded card set for lang, if it has one
// (withdrawn sets included: Set is nil).
func (d *Docs) Cards(lang string) (ZoneCards, bool) {
	c, ok := d.cards[lang]
	return c, ok
}

// Place returns a live entry.
func (d *Docs) Place(id protocol.PlaceID) (Place, bool) {
	p := d.places[id]
	if p == nil || p.Retired {
		return Place{}, false
	}
	return *p, true
}

// PlaceFilter selects directory entries; zero fields select all.
type PlaceFilter struct {
	Kind protocol.PlaceKind
	Lang string // a two-letter code the entry lists
	Text string // found, ignoring case and accents, in the name, place, hours or notes
}

// Places lists the live entries the filter selects, confirmed ones first,
// then by name and ID.
func (d *Docs) Places(f PlaceFilter) []Place {
	text := protocol.NormalizePlace(f.Text)
	var out []Place
	for _, p := range d.places {
		switch {
		case p.Retired:
		case f.Kind != 0 && p.Kind != f.Kind:
		case f.Lang != "" && !slices.Contains(p.Languages, strings.ToLower(f.Lang)):
		case text != "" && !strings.Contains(protocol.NormalizePlace(strings.Join([]string{p.Name, p.Where, p.Hours, p.Notes}, " ")), text):
		default:
			out = append(out, *p)
		}
	}
	slices.SortFunc(out, func(a, b Place) int {
		if a.Suggested != b.Suggested {
			if a.Suggested {
				return 1
			}
			return -1
		}
		if c := cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return slices.Compare(a.ID[:], b.ID[:])
	})
	return out
}

// Live is the number of live entries.
func (d *Docs) Live() int { return d.live }
