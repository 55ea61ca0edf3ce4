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
	// Entries from linked zones (version 4).
	ErrPlaceLinked       = errors.New("that directory entry comes from a linked zone and is read-only here")
	ErrPlaceNotLinked    = errors.New("that directory entry did not come over this link")
	ErrPlaceLooped       = errors.New("that directory entry is this zone's own or came over another link")
	ErrTooManyLinked     = fmt.Errorf("the zone holds %d entries from this link, the most it takes", MaxLinkedPlaces)
	ErrLinkedDocsFull    = fmt.Errorf("the zone holds %d place messages from this link, the most it keeps", MaxLinkedPlaceMessages)
	ErrPlaceNotShareable = errors.New("only a confirmed entry marked shareable can be shared with linked zones")
)

// Caps on what one link brings into a zone's directory, apart from the
// zone's own MaxPlaces and MaxDocMessages, so a linked zone can neither
// fill the directory nor the store that the zone's own entries need.
const (
	MaxLinkedPlaces        = 100 // live entries per link
	MaxLinkedPlaceMessages = 512 // place messages kept per link
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

	// Sharing with linked zones (version 4). For the zone's own entries:
	// Hops is how far an organizer's share lets it cross (0: not shared,
	// or no longer shareable); Shared says it was shared at some point, so
	// its retirement follows it.
	Hops   uint8
	Shared bool
	// For an entry from a linked zone (Link not zero): the link it came
	// over, the via of its latest operation (digest, hops left, origin,
	// endorser and when it signed).
	Link protocol.LinkID
	Via  *protocol.Forward
}

// Linked reports whether the entry came over a link.
func (p *Place) Linked() bool { return !p.Link.IsZero() }

// Shareable reports whether an organizer may share the entry: one of the
// zone's own, confirmed, marked shareable.
func (p *Place) Shareable() bool { return !p.Linked() && !p.Suggested && !p.Retired && p.Share }

// Digest names the entry on every link: the digest it came with, or that
// of its own ID.
func (p *Place) Digest() protocol.Digest {
	if p.Via != nil {
		return p.Via.Digest
	}
	return protocol.PlaceDigest(p.ID)
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
	live   int // the zone's own entries neither retired nor refused
	held   int // card and place messages folded, counted or not, except those from links
	// Per link: live entries and place messages from it.
	linkedLive map[protocol.LinkID]int
	linkedHeld map[protocol.LinkID]int
	// own holds the digests of the zone's own entries, retired ones too,
	// so an entry that comes back round a loop of links is refused.
	own map[protocol.Digest]bool
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
	d.linkedLive, d.linkedHeld, d.own = map[protocol.LinkID]int{}, map[protocol.LinkID]int{}, map[protocol.Digest]bool{}
	var ops []*protocol.Message
	for _, m := range msgs {
		switch {
		case m.Alert.Kind == protocol.KindPlace && m.Alert.Via != nil:
			d.linkedHeld[m.Alert.Via.Link]++
		case m.Alert.Kind.IsZoneDoc():
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
		if m.Alert.Via == nil {
			d.foldPlace(m)
		}
	}
	// Own entries first, so that a linked copy of one (come back round a
	// loop of links) is ignored whatever the order of sent times.
	for _, m := range ops {
		if m.Alert.Via != nil {
			d.foldLinked(m)
		}
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
	if op.Op == protocol.PlaceShare {
		d.foldShare(op)
		return
	}
	cur := d.places[op.ID]
	if cur == nil {
		d.own[protocol.PlaceDigest(op.ID)] = true
	}
	if cur != nil && cur.Retired {
		return
	}
	defer func() {
		if cur := d.places[op.ID]; cur != nil && !cur.Shareable() {
			cur.Hops = 0 // no longer shareable: withdrawn from links until shared again
		}
	}()
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

// foldShare marks one entry, or every shareable entry (the zero ID),
// shared hops links far. Entries that are not shareable at that moment
// are not marked.
func (d *Docs) foldShare(op *protocol.PlaceOp) {
	mark := func(p *Place) {
		if p.Shareable() {
			p.Hops, p.Shared = max(p.Hops, op.Hops), true
		}
	}
	if !op.ID.IsZero() {
		if p := d.places[op.ID]; p != nil {
			mark(p)
		}
		return
	}
	for _, p := range d.places {
		mark(p)
	}
}

// foldLinked applies an operation that came over a link: the entry it
// names (the ID its digest gives) is created by its first add, unless it
// is one of the zone's own or came over another link; later operations
// from the same link apply if the other zone signed them later; a retire
// ends it for good.
func (d *Docs) foldLinked(m *protocol.Message) {
	op, via := m.Alert.Place, m.Alert.Via
	if d.own[via.Digest] {
		return
	}
	cur := d.places[op.ID]
	switch {
	case cur == nil:
		if op.Op != protocol.PlaceAdd || d.linkedLive[via.Link] >= MaxLinkedPlaces {
			return
		}
		cur = &Place{Link: via.Link}
		d.places[op.ID] = cur
		d.linkedLive[via.Link]++
	case cur.Link != via.Link || cur.Retired || !via.At.After(cur.Via.At):
		return
	}
	if op.Op == protocol.PlaceRetire {
		cur.Retired = true
		d.linkedLive[via.Link]--
		return
	}
	cur.PlaceOp, cur.Via = *op, via
	// Vouched for by the linked zone's end, when it signed.
	cur.ConfirmedBy, cur.ConfirmedAt = via.Endorser, via.At
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
	if a.Kind == protocol.KindPlace && a.Place != nil && a.Via != nil {
		return d.checkLinked(a)
	}
	if a.Kind.IsZoneDoc() && d.held >= MaxDocMessages {
		return ErrDocsFull
	}
	if a.Kind != protocol.KindPlace || a.Place == nil {
		return nil
	}
	cur := d.places[a.Place.ID]
	switch {
	case cur != nil && cur.Linked():
		return fmt.Errorf("%w: %s", ErrPlaceLinked, a.Place.ID)
	case cur != nil && cur.Retired:
		return fmt.Errorf("%w: %s", ErrPlaceRetired, a.Place.ID)
	case cur == nil && (a.Place.Op == protocol.PlaceAdd || a.Place.Op == protocol.PlaceSuggest) && d.live >= protocol.MaxPlaces:
		return ErrTooManyPlaces
	}
	return nil
}

// checkLinked is CheckDoc for an operation that came over a link: it is
// counted against the link's own caps, never the zone's, and it may name
// only an entry that came over the same link.
func (d *Docs) checkLinked(a *protocol.Alert) error {
	via := a.Via
	cur := d.places[a.Place.ID]
	switch {
	case d.linkedHeld[via.Link] >= MaxLinkedPlaceMessages:
		return ErrLinkedDocsFull
	case d.own[via.Digest] || (cur != nil && !cur.Linked()):
		return ErrPlaceLooped
	case cur != nil && cur.Link != via.Link:
		return fmt.Errorf("%w: %s", ErrPlaceLooped, a.Place.ID)
	case cur != nil && cur.Retired:
		return fmt.Errorf("%w: %s", ErrPlaceRetired, a.Place.ID)
	case cur == nil && a.Place.Op != protocol.PlaceAdd:
		return fmt.Errorf("%w: %s", ErrPlaceNotLinked, a.Place.ID)
	case cur == nil && d.linkedLive[via.Link] >= MaxLinkedPlaces:
		return ErrTooManyLinked
	}
	return nil
}

// Linked returns the entry (live or retired) with a digest that came over
// link l, if any.
func (d *Docs) Linked(dg protocol.Digest) (Place, bool) {
	p := d.places[dg.LinkedPlaceID()]
	if p == nil || !p.Linked() || p.Via.Digest != dg {
		return Place{}, false
	}
	return *p, true
}

// Own reports whether dg is the digest of one of the zone's own entries.
func (d *Docs) Own(dg protocol.Digest) bool { return d.own[dg] }

// Entry returns an entry, live or retired.
func (d *Docs) Entry(id protocol.PlaceID) (Place, bool) {
	p := d.places[id]
	if p == nil {
		return Place{}, false
	}
	return *p, true
}

// Shared lists the entries a link end has to keep its links up to date
// on: the zone's own entries that were shared at some point, and entries
// from links, live or retired, ordered by ID.
func (d *Docs) Shared() []Place {
	var out []Place
	for _, p := range d.places {
		if p.Shared || p.Linked() {
			out = append(out, *p)
		}
	}
	slices.SortFunc(out, func(a, b Place) int { return slices.Compare(a.ID[:], b.ID[:]) })
	return out
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
