package controltest

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"lookout/node/api"
	"lookout/node/control"
	"lookout/protocol"
)

// Zone cards and safe places, as a node keeps them (node/docs.go): the
// same roles, limits and refusals, without signatures or sync.

type zoneDocs struct {
	cards  map[string]api.ZoneCards // by language
	places []*fakePlace
}

type fakePlace struct {
	api.Place
	share   bool
	retired bool
}

func (f *Fake) zoneDocs(z *zone) *zoneDocs {
	if f.docs == nil {
		f.docs = map[string]*zoneDocs{}
	}
	d := f.docs[z.ID]
	if d == nil {
		d = &zoneDocs{cards: map[string]api.ZoneCards{}}
		f.docs[z.ID] = d
	}
	return d
}

func calloutCard(card string) (string, error) {
	card = strings.ToLower(strings.TrimSpace(card))
	if card != "" && !protocol.ValidCardID(card) {
		return "", fmt.Errorf("%w: card %q: a card's topic is 1 to %d lower-case letters, digits or '-'", control.ErrInvalid, card, protocol.MaxCardIDLen)
	}
	return card, nil
}

func (f *Fake) ZoneCards(zoneRef, lang string) (api.ZoneCards, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	z := f.zone(zoneRef)
	if z == nil {
		return api.ZoneCards{}, fmt.Errorf("%w: no zone %q; see lookout zone list", control.ErrNotFound, zoneRef)
	}
	l := api.Lang(lang)
	if l == "" {
		return api.ZoneCards{}, fmt.Errorf("%w: language: use %s", control.ErrInvalid, strings.Join(api.Languages, ", "))
	}
	if c, ok := f.zoneDocs(z).cards[l]; ok {
		return c, nil
	}
	return api.ZoneCards{Zone: z.Name, Lang: l}, nil
}

func (f *Fake) PublishCards(ctx context.Context, req api.PublishCardsRequest) (api.ZoneCards, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	z, err := f.organizerZone(req.Zone, "publish the zone's cards")
	if err != nil {
		return api.ZoneCards{}, err
	}
	mode := protocol.CardsAdd
	if req.Mode != "" {
		if mode, err = protocol.ParseCardMode(req.Mode); err != nil {
			return api.ZoneCards{}, fmt.Errorf("%w: mode %q: use add, replace or withdraw", control.ErrInvalid, req.Mode)
		}
	}
	lang := api.Lang(req.Lang)
	var set json.RawMessage
	if mode == protocol.CardsWithdraw {
		if lang == "" {
			return api.ZoneCards{}, fmt.Errorf("%w: say which language's cards to withdraw", control.ErrInvalid)
		}
	} else {
		s, err := protocol.ParseCardSet(req.Set, protocol.MaxCardSetSize)
		if err != nil {
			return api.ZoneCards{}, fmt.Errorf("%w: %w", control.ErrInvalid, err)
		}
		if req.Lang != "" && lang != s.Lang {
			return api.ZoneCards{}, fmt.Errorf("%w: the card set is in %q, not %q", control.ErrInvalid, s.Lang, req.Lang)
		}
		lang, set = s.Lang, slices.Clone(req.Set)
	}
	d := f.zoneDocs(z)
	now := f.now()
	c := api.ZoneCards{Zone: z.Name, Lang: lang, Revision: d.cards[lang].Revision + 1, Mode: mode.String(), Set: set, Sender: f.self().MemberID, Sent: &now}
	d.cards[lang] = c
	return c, nil
}

func (f *Fake) Places(zoneRef string, pf api.PlaceFilter) ([]api.Place, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	z := f.zone(zoneRef)
	if z == nil {
		return nil, fmt.Errorf("%w: no zone %q; see lookout zone list", control.ErrNotFound, zoneRef)
	}
	if pf.Kind != "" {
		if _, err := protocol.ParsePlaceKind(pf.Kind); err != nil {
			return nil, fmt.Errorf("%w: kind %q: use %s", control.ErrInvalid, pf.Kind, strings.Join(api.PlaceKinds, ", "))
		}
	}
	text := protocol.NormalizePlace(pf.Text)
	out := []api.Place{}
	for _, p := range f.zoneDocs(z).places {
		switch {
		case p.retired:
		case pf.Kind != "" && p.Kind != strings.ToLower(pf.Kind):
		case pf.Lang != "" && !slices.Contains(p.Languages, strings.ToLower(pf.Lang)):
		case text != "" && !strings.Contains(protocol.NormalizePlace(strings.Join([]string{p.Name, p.Where, p.Hours, p.Notes}, " ")), text):
		default:
			out = append(out, p.Place)
		}
	}
	slices.SortStableFunc(out, func(a, b api.Place) int {
		if a.Suggested() != b.Suggested() {
			if a.Suggested() {
				return 1
			}
			return -1
		}
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

func (f *Fake) Place(ctx context.Context, req api.PlaceRequest) (api.Place, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	z := f.zone(req.Zone)
	if z == nil {
		return api.Place{}, fmt.Errorf("%w: no zone %q; see lookout zone list", control.ErrNotFound, req.Zone)
	}
	op := strings.ToLower(strings.TrimSpace(req.Op))
	if !slices.Contains(api.PlaceOps, op) {
		return api.Place{}, fmt.Errorf("%w: operation %q: use %s", control.ErrInvalid, req.Op, strings.Join(api.PlaceOps, ", "))
	}
	if op == "share" {
		return f.sharePlace(z, req)
	}
	if op != "suggest" && z.Role == "member" {
		return api.Place{}, fmt.Errorf("%w: only verifiers and organizers can change the directory; use lookout place suggest", control.ErrForbidden)
	}
	d := f.zoneDocs(z)
	now := f.now()
	var cur *fakePlace
	switch op {
	case "add", "suggest":
		live := 0
		for _, p := range d.places {
			if !p.retired {
				live++
			}
		}
		if live >= protocol.MaxPlaces {
			return api.Place{}, fmt.Errorf("%w: the zone's directory is full (%d entries); retire one first", control.ErrForbidden, protocol.MaxPlaces)
		}
		cur = &fakePlace{Place: api.Place{ID: newID(protocol.PlaceIDSize)}}
	default:
		var err error
		if cur, err = d.find(req.Place, z.Name); err != nil {
			return api.Place{}, err
		}
		if cur.From != "" {
			return api.Place{}, api.Fail(api.ErrForbidden, "place.linked", "Name", api.Quote(cur.Name), "From", api.Quote(cur.From))
		}
		if op == "confirm" && !cur.Suggested() {
			return api.Place{}, fmt.Errorf("%w: %q is already confirmed; use lookout place update to change it", control.ErrInvalid, cur.Name)
		}
	}
	if op == "retire" {
		cur.retired = true
		return cur.Place, nil
	}
	next, share, err := fillPlace(*cur, req)
	if err != nil {
		return api.Place{}, err
	}
	next.ConfirmedBy, next.ConfirmedAt = f.self().MemberID, &now
	if op == "suggest" {
		next.ConfirmedBy, next.ConfirmedAt = "", nil
	}
	if op == "add" || op == "suggest" {
		d.places = append(d.places, cur)
	}
	next.Share = share
	if !share || next.Suggested() {
		next.Shared = 0 // no longer shareable: withdrawn from links
	}
	cur.Place, cur.share = next, share
	return cur.Place, nil
}

// sharePlace marks one entry, or every shareable one, shared with the
// zone's linked zones, with a node's refusals. Callers hold f.mu.
func (f *Fake) sharePlace(z *zone, req api.PlaceRequest) (api.Place, error) {
	hops := cmp.Or(req.Hops, protocol.DefaultShareHops)
	if hops < 1 || hops > protocol.MaxShareHops {
		return api.Place{}, api.Fail(api.ErrInvalid, "share.hops", "Max", protocol.MaxShareHops)
	}
	if z.Role != "organizer" {
		return api.Place{}, api.Fail(api.ErrForbidden, "place.share.role", "Role", z.Role, "Zone", api.Quote(z.Name))
	}
	active := 0
	for _, l := range f.links[z.ID] {
		if l.State == "active" {
			active++
		}
	}
	if active == 0 {
		return api.Place{}, api.Fail(api.ErrInvalid, "share.nolinks", "Zone", api.Quote(z.Name))
	}
	d := f.zoneDocs(z)
	shareable := func(p *fakePlace) bool { return !p.retired && p.share && !p.Suggested() && p.From == "" }
	if req.All {
		var first *fakePlace
		for _, p := range d.places {
			if shareable(p) {
				p.Shared = max(p.Shared, hops)
				if first == nil {
					first = p
				}
			}
		}
		if first == nil {
			return api.Place{}, api.Fail(api.ErrInvalid, "place.share.none", "Zone", api.Quote(z.Name))
		}
		return first.Place, nil
	}
	cur, err := d.find(req.Place, z.Name)
	if err != nil {
		return api.Place{}, err
	}
	switch {
	case cur.From != "":
		return api.Place{}, api.Fail(api.ErrInvalid, "place.share.linked", "Name", api.Quote(cur.Name), "From", api.Quote(cur.From))
	case cur.Suggested():
		return api.Place{}, api.Fail(api.ErrInvalid, "place.share.suggested", "Name", api.Quote(cur.Name))
	case !cur.share:
		return api.Place{}, api.Fail(api.ErrInvalid, "place.share.local", "Name", api.Quote(cur.Name))
	}
	cur.Shared = max(cur.Shared, hops)
	return cur.Place, nil
}

// find resolves a live entry by ID, unique ID prefix (8 characters or
// more) or unique name, as a node does.
func (d *zoneDocs) find(ref, zoneName string) (*fakePlace, error) {
	ref = strings.TrimSpace(ref)
	var live []*fakePlace
	for _, p := range d.places {
		if !p.retired {
			live = append(live, p)
		}
	}
	for _, match := range []func(p *fakePlace) bool{
		func(p *fakePlace) bool { return p.ID == strings.ToLower(ref) },
		func(p *fakePlace) bool { return len(ref) >= 8 && strings.HasPrefix(p.ID, strings.ToLower(ref)) },
		func(p *fakePlace) bool { return p.Name == ref },
		func(p *fakePlace) bool { return strings.EqualFold(p.Name, ref) },
	} {
		var found []*fakePlace
		for _, p := range live {
			if match(p) {
				found = append(found, p)
			}
		}
		switch {
		case len(found) == 1:
			return found[0], nil
		case len(found) > 1:
			return nil, fmt.Errorf("%w: %q names %d places; use the ID", control.ErrInvalid, ref, len(found))
		}
	}
	return nil, fmt.Errorf("%w: no place %q; see lookout places %s", control.ErrNotFound, ref, zoneName)
}

// fillPlace is the entry req makes of cur, checked by the protocol's
// rules.
func fillPlace(cur fakePlace, req api.PlaceRequest) (api.Place, bool, error) {
	p := cur.Place
	pick := func(v, old string) string {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
		return old
	}
	if req.Kind != "" {
		k, err := protocol.ParsePlaceKind(req.Kind)
		if err != nil {
			return p, false, fmt.Errorf("%w: kind %q: use %s", control.ErrInvalid, req.Kind, strings.Join(api.PlaceKinds, ", "))
		}
		p.Kind = k.String()
	}
	if p.Kind == "" {
		return p, false, fmt.Errorf("%w: say what kind of place it is: %s", control.ErrInvalid, strings.Join(api.PlaceKinds, ", "))
	}
	p.Name, p.Where, p.Hours = pick(req.Name, p.Name), pick(req.Where, p.Where), pick(req.Hours, p.Hours)
	p.Contact, p.Notes = pick(req.Contact, p.Contact), pick(req.Notes, p.Notes)
	if p.Name == "" {
		return p, false, fmt.Errorf("%w: a place needs a name", control.ErrInvalid)
	}
	if req.Languages != nil {
		p.Languages = []string{}
		for _, l := range req.Languages {
			if l = strings.ToLower(strings.TrimSpace(l)); l != "" && !slices.Contains(p.Languages, l) {
				p.Languages = append(p.Languages, l)
			}
		}
	}
	if p.Languages == nil {
		p.Languages = []string{}
	}
	for _, f := range []struct {
		v   *bool
		dst *bool
	}{{req.NoID, &p.NoID}, {req.NoStatusQuestions, &p.NoStatusQuestions}, {req.WalkIn, &p.WalkIn}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	share := cur.share
	if req.Share != nil {
		share = *req.Share
	}
	k, _ := protocol.ParsePlaceKind(p.Kind)
	op := &protocol.PlaceOp{ID: protocol.PlaceID{1}, Op: protocol.PlaceAdd, Kind: k, Name: p.Name, Where: p.Where, Hours: p.Hours,
		Languages: p.Languages, Contact: p.Contact, Notes: p.Notes}
	if err := (&protocol.Alert{Kind: protocol.KindPlace, Place: op}).ValidatePlace(); err != nil {
		return p, false, fmt.Errorf("%w: %w", control.ErrInvalid, err)
	}
	return p, share, nil
}

// ReceivePlace adds an entry as if it came over a link from the zone
// named p.From: read-only here, as a node keeps it.
func (f *Fake) ReceivePlace(zoneRef string, p api.Place) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	z := f.zone(zoneRef)
	if z == nil {
		return fmt.Errorf("%w: no zone %q", control.ErrNotFound, zoneRef)
	}
	if p.From == "" {
		return fmt.Errorf("%w: a linked entry names the zone it came from", control.ErrInvalid)
	}
	if p.ID == "" {
		p.ID = newID(protocol.PlaceIDSize)
	}
	if p.Languages == nil {
		p.Languages = []string{}
	}
	d := f.zoneDocs(z)
	d.places = append(d.places, &fakePlace{Place: p})
	return nil
}
