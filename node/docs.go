package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"lookout/node/api"
	core "lookout/node/internal/zone"
	"lookout/protocol"
)

// Zone documents: a zone's own know-your-rights cards (kind 15) and its
// safe-services directory (kind 16). They ride on governance (stored by
// storeGov, synced by catch-up) and are folded in the zone core
// (core.Docs, folded with the roster in core.Folded); this file has the control API verbs.

// calloutCard checks a callout's card: a topic ID or "".
func calloutCard(card string) (string, error) {
	card = strings.ToLower(strings.TrimSpace(card))
	if card != "" && !protocol.ValidCardID(card) {
		return "", fmt.Errorf("%w: card %q: a card's topic is 1 to %d lower-case letters, digits or '-' (see lookout rights)", api.ErrInvalid, card, protocol.MaxCardIDLen)
	}
	return card, nil
}

// ZoneCards returns a zone's own card set in lang (control API); Revision
// 0 if it has none.
func (n *Node) ZoneCards(zoneRef, lang string) (api.ZoneCards, error) {
	z, err := n.zone(zoneRef)
	if err != nil {
		return api.ZoneCards{}, err
	}
	lang = api.Lang(lang)
	if lang == "" {
		return api.ZoneCards{}, fmt.Errorf("%w: language: use %s", api.ErrInvalid, strings.Join(api.Languages, ", "))
	}
	c, ok := z.ZoneCards(lang)
	out := api.ZoneCards{Zone: z.Name(), Lang: lang}
	if ok {
		out = zoneCardsView(z.Name(), c)
	}
	return out, nil
}

func zoneCardsView(zone string, c core.ZoneCards) api.ZoneCards {
	sent := c.Sent
	out := api.ZoneCards{Zone: zone, Lang: c.Lang, Revision: int(c.Revision), Mode: c.Mode.String(), Sender: c.Sender.String(), Sent: &sent}
	if c.Set != nil {
		out.Set = json.RawMessage(c.Raw)
	}
	return out
}

// PublishCards publishes a zone's card set for the set's language, one
// revision above the zone's current one (control API; organizers only).
func (n *Node) PublishCards(ctx context.Context, req api.PublishCardsRequest) (api.ZoneCards, error) {
	z, err := n.zone(req.Zone)
	if err != nil {
		return api.ZoneCards{}, err
	}
	if err := z.requireOrganizer("publish the zone's cards"); err != nil {
		return api.ZoneCards{}, err
	}
	mode := protocol.CardsAdd
	if req.Mode != "" {
		if mode, err = protocol.ParseCardMode(req.Mode); err != nil {
			return api.ZoneCards{}, fmt.Errorf("%w: mode %q: use add, replace or withdraw", api.ErrInvalid, req.Mode)
		}
	}
	doc := &protocol.CardsDoc{Mode: mode, Lang: api.Lang(req.Lang)}
	if mode == protocol.CardsWithdraw {
		if doc.Lang == "" {
			return api.ZoneCards{}, fmt.Errorf("%w: say which language's cards to withdraw: %s", api.ErrInvalid, strings.Join(api.Languages, ", "))
		}
	} else {
		set, err := protocol.ParseCardSet(req.Set, protocol.MaxCardSetSize)
		if err != nil {
			return api.ZoneCards{}, fmt.Errorf("%w: %w", api.ErrInvalid, err)
		}
		if req.Lang != "" && doc.Lang != set.Lang {
			return api.ZoneCards{}, fmt.Errorf("%w: the card set is in %q, not %q", api.ErrInvalid, set.Lang, req.Lang)
		}
		doc.Lang, doc.Set = set.Lang, []byte(req.Set)
	}
	a := n.newAlert(protocol.KindCards, false, protocol.MaxLifetime)
	a.Cards = doc
	cur, err := z.CheckCards(a)
	if err != nil {
		return api.ZoneCards{}, fmt.Errorf("%w: %w", api.ErrForbidden, err)
	}
	doc.Revision = cur.Revision + 1
	if _, err := n.publish(ctx, z, a); err != nil {
		return api.ZoneCards{}, err
	}
	return n.ZoneCards(z.Label().ID, doc.Lang)
}

// Places lists a zone's directory entries the filter selects (control
// API): confirmed ones first, then suggestions.
func (n *Node) Places(zoneRef string, f api.PlaceFilter) ([]api.Place, error) {
	z, err := n.zone(zoneRef)
	if err != nil {
		return nil, err
	}
	cf := core.PlaceFilter{Text: strings.TrimSpace(f.Text), Lang: strings.ToLower(strings.TrimSpace(f.Lang))}
	if f.Kind != "" {
		if cf.Kind, err = protocol.ParsePlaceKind(f.Kind); err != nil {
			return nil, fmt.Errorf("%w: kind %q: use %s", api.ErrInvalid, f.Kind, strings.Join(api.PlaceKinds, ", "))
		}
	}
	ps := z.PlacesFrom(cf) // without the entries of links the zone ended
	out := make([]api.Place, 0, len(ps))
	for _, p := range ps {
		out = append(out, placeView(p.Place, p.From))
	}
	return out, nil
}

// placeView is an entry as the API shows it; from names the linked zone
// it came from.
func placeView(p core.Place, from string) api.Place {
	out := api.Place{ID: p.ID.String(), Kind: p.Kind.String(), Name: p.Name, Where: p.Where, Hours: p.Hours,
		Languages: slices.Clone(p.Languages), NoID: p.Flags&protocol.PlaceNoID != 0, NoStatusQuestions: p.Flags&protocol.PlaceNoStatus != 0,
		WalkIn: p.Flags&protocol.PlaceWalkIn != 0, Contact: p.Contact, Notes: p.Notes}
	if out.Languages == nil {
		out.Languages = []string{}
	}
	if !p.Suggested {
		at := p.ConfirmedAt
		out.ConfirmedBy, out.ConfirmedAt = p.ConfirmedBy.String(), &at
	}
	out.Share, out.Shared = p.Share, int(p.Hops)
	if p.Linked() {
		out.From, out.Origin = from, p.Via.Origin
	}
	return out
}

// errPlaceRole is the one-line refusal of a member's directory change.
var errPlaceRole = fmt.Errorf("%w: only verifiers and organizers can change the directory; use lookout place suggest", api.ErrForbidden)

// Place applies one operation to a zone's directory (control API): add,
// update, retire and confirm by verifiers and organizers, suggest by any
// member. It returns the entry as this node folds it after the change.
func (n *Node) Place(ctx context.Context, req api.PlaceRequest) (api.Place, error) {
	z, err := n.zone(req.Zone)
	if err != nil {
		return api.Place{}, err
	}
	opNames := map[string]protocol.PlaceOpKind{"add": protocol.PlaceAdd, "update": protocol.PlaceUpdate, "retire": protocol.PlaceRetire,
		"suggest": protocol.PlaceSuggest, "confirm": protocol.PlaceConfirm, "share": protocol.PlaceShare}
	opKind, ok := opNames[strings.ToLower(strings.TrimSpace(req.Op))]
	if !ok {
		return api.Place{}, fmt.Errorf("%w: operation %q: use %s", api.ErrInvalid, req.Op, strings.Join(api.PlaceOps, ", "))
	}
	st := z.snapshot()
	if st.removed {
		return api.Place{}, fmt.Errorf("%w: you were removed from zone %q", api.ErrForbidden, z.Name())
	}
	if opKind == protocol.PlaceShare {
		return n.sharePlace(ctx, z, st.role, req)
	}
	if opKind != protocol.PlaceSuggest && st.role == protocol.RoleMember {
		return api.Place{}, errPlaceRole
	}
	op := &protocol.PlaceOp{Op: opKind}
	var cur core.Place
	switch opKind {
	case protocol.PlaceAdd, protocol.PlaceSuggest:
		if op.ID, err = protocol.NewPlaceID(n.rand()); err != nil {
			return api.Place{}, fmt.Errorf("place ID: %w", err)
		}
	default:
		if cur, err = z.findPlace(req.Place); err != nil {
			return api.Place{}, err
		}
		op.ID = cur.ID
		if cur.Linked() {
			from := z.LinkPeer(cur.Link)
			return api.Place{}, api.Fail(api.ErrForbidden, "place.linked", "Name", api.Quote(cur.Name), "From", api.Quote(from))
		}
		if opKind == protocol.PlaceConfirm && !cur.Suggested {
			return api.Place{}, fmt.Errorf("%w: %q is already confirmed; use lookout place update to change it", api.ErrInvalid, cur.Name)
		}
	}
	if opKind != protocol.PlaceRetire {
		if err := fillPlace(op, cur.PlaceOp, req); err != nil {
			return api.Place{}, err
		}
	}
	a := n.newAlert(protocol.KindPlace, false, protocol.MaxLifetime)
	a.Place = op
	err = z.CheckDoc(a)
	switch {
	case errors.Is(err, core.ErrTooManyPlaces):
		return api.Place{}, fmt.Errorf("%w: the zone's directory is full (%d entries); retire one first", api.ErrForbidden, protocol.MaxPlaces)
	case errors.Is(err, core.ErrDocsFull):
		return api.Place{}, fmt.Errorf("%w: %w", api.ErrForbidden, err)
	case err != nil:
		return api.Place{}, fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	if _, err := n.publish(ctx, z, a); err != nil {
		return api.Place{}, err
	}
	p, ok := z.Place(op.ID)
	if !ok {
		p = core.Place{PlaceOp: *op, Retired: opKind == protocol.PlaceRetire}
	}
	return placeView(p, ""), nil
}

// sharePlace shares one entry, or every shareable one (req.All), with
// the zone's linked zones (organizers only): a kind 16 share that this
// zone's link ends act on (link_places.go). It returns the entry shared,
// or for All the first one.
func (n *Node) sharePlace(ctx context.Context, z *zone, role protocol.Role, req api.PlaceRequest) (api.Place, error) {
	hops := req.Hops
	if hops == 0 {
		hops = protocol.DefaultShareHops
	}
	if hops < 1 || hops > protocol.MaxShareHops {
		return api.Place{}, api.Fail(api.ErrInvalid, "share.hops", "Max", protocol.MaxShareHops)
	}
	if role != protocol.RoleOrganizer {
		return api.Place{}, api.Fail(api.ErrForbidden, "place.share.role", "Role", role, "Zone", api.Quote(z.Name()))
	}
	if z.ActiveLinks() == 0 {
		return api.Place{}, api.Fail(api.ErrInvalid, "share.nolinks", "Zone", api.Quote(z.Name()))
	}
	op := &protocol.PlaceOp{Op: protocol.PlaceShare, Hops: uint8(hops)}
	var cur core.Place
	if req.All {
		cur, _ = z.FirstShareable()
		if cur.ID.IsZero() {
			return api.Place{}, api.Fail(api.ErrInvalid, "place.share.none", "Zone", api.Quote(z.Name()))
		}
	} else {
		var err error
		if cur, err = z.findPlace(req.Place); err != nil {
			return api.Place{}, err
		}
		from := z.LinkPeer(cur.Link)
		switch {
		case cur.Linked():
			return api.Place{}, api.Fail(api.ErrInvalid, "place.share.linked", "Name", api.Quote(cur.Name), "From", api.Quote(from))
		case cur.Suggested:
			return api.Place{}, api.Fail(api.ErrInvalid, "place.share.suggested", "Name", api.Quote(cur.Name))
		case !cur.Share:
			return api.Place{}, api.Fail(api.ErrInvalid, "place.share.local", "Name", api.Quote(cur.Name))
		}
		op.ID = cur.ID
	}
	a := n.newAlert(protocol.KindPlace, false, protocol.MaxLifetime)
	a.Place = op
	err := z.CheckDoc(a)
	if err != nil {
		return api.Place{}, fmt.Errorf("%w: %w", api.ErrForbidden, err)
	}
	if _, err := n.publish(ctx, z, a); err != nil {
		return api.Place{}, err
	}
	p, _ := z.Place(cur.ID)
	return placeView(p, ""), nil
}

// fillPlace sets op's fields from req, keeping those of cur where req
// gives none (update, confirm).
func fillPlace(op *protocol.PlaceOp, cur protocol.PlaceOp, req api.PlaceRequest) error {
	pick := func(v, old string) string {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
		return old
	}
	op.Kind = cur.Kind
	if req.Kind != "" {
		k, err := protocol.ParsePlaceKind(req.Kind)
		if err != nil {
			return fmt.Errorf("%w: kind %q: use %s", api.ErrInvalid, req.Kind, strings.Join(api.PlaceKinds, ", "))
		}
		op.Kind = k
	}
	if op.Kind == 0 {
		return fmt.Errorf("%w: say what kind of place it is: %s", api.ErrInvalid, strings.Join(api.PlaceKinds, ", "))
	}
	op.Name, op.Where, op.Hours = pick(req.Name, cur.Name), pick(req.Where, cur.Where), pick(req.Hours, cur.Hours)
	op.Contact, op.Notes = pick(req.Contact, cur.Contact), pick(req.Notes, cur.Notes)
	if op.Name == "" {
		return fmt.Errorf("%w: a place needs a name", api.ErrInvalid)
	}
	op.Languages = cur.Languages
	if req.Languages != nil {
		op.Languages = nil
		for _, l := range req.Languages {
			if l = strings.ToLower(strings.TrimSpace(l)); l != "" && !slices.Contains(op.Languages, l) {
				op.Languages = append(op.Languages, l)
			}
		}
	}
	op.Flags, op.Share = cur.Flags, cur.Share
	for _, f := range []struct {
		v   *bool
		bit protocol.PlaceFlags
	}{{req.NoID, protocol.PlaceNoID}, {req.NoStatusQuestions, protocol.PlaceNoStatus}, {req.WalkIn, protocol.PlaceWalkIn}} {
		if f.v != nil {
			op.Flags &^= f.bit
			if *f.v {
				op.Flags |= f.bit
			}
		}
	}
	if req.Share != nil {
		op.Share = *req.Share
	}
	if err := (&protocol.Alert{Kind: protocol.KindPlace, Place: op}).ValidatePlace(); err != nil {
		return fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	return nil
}

// findPlace resolves a live entry by ID, unique ID prefix or name.
func (z *zone) findPlace(ref string) (core.Place, error) {
	ps := z.Places(core.PlaceFilter{})
	cs := make([]candidate[core.Place], len(ps))
	for i, p := range ps {
		cs[i] = candidate[core.Place]{id: p.ID.String(), name: p.Name, v: p}
	}
	return resolve("place", ref, cs, z.Name())
}
