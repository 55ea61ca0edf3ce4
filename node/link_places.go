package node

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"time"

	"lookout/protocol"
)

// Safe places across links (version 4, docs/protocol.md "Kind 16: safe
// place"). An organizer's share (kind 16, op share) marks one of the
// zone's own entries, or all of them, shared; this zone's link end sends
// each shared entry as it is now (an add) and, when it is retired or no
// longer shareable, a retire, over every active link it ends. The other
// end publishes them in its zone under the ID the digest gives, read-only
// there, and passes them on while hops remain.

// maxPlaceFrames is how many place endorsements a link end sends per
// link per protocol.RateWindow: a third of what the other end accepts
// (protocol.MaxLinkMessages), so a large directory never holds up alerts.
// What does not fit waits for the next window (redialLoop).
const maxPlaceFrames = protocol.MaxLinkMessages / 3

// sentPlace is what crossed one link for one entry: a hash of the fields
// last sent, and whether its retire was sent.
type sentPlace struct {
	content [32]byte
	retired bool
}

func (s *linkState) place(l protocol.LinkID, d protocol.Digest) *sentPlace {
	if s.places == nil {
		s.places = map[protocol.LinkID]map[protocol.Digest]*sentPlace{}
	}
	m := s.places[l]
	if m == nil {
		m = map[protocol.Digest]*sentPlace{}
		s.places[l] = m
	}
	if m[d] == nil {
		m[d] = &sentPlace{}
	}
	return m[d]
}

// allowPlaceOut records a place endorsement about to be sent on link l at
// t and reports whether it is within maxPlaceFrames per
// protocol.RateWindow. Callers hold s.mu.
func (s *linkState) allowPlaceOut(l protocol.LinkID, t time.Time) bool {
	if s.placeOut == nil {
		s.placeOut = map[protocol.LinkID][]time.Time{}
	}
	from := t.Add(-protocol.RateWindow)
	list := slices.DeleteFunc(s.placeOut[l], func(x time.Time) bool { return !x.After(from) })
	if len(list) >= maxPlaceFrames {
		s.placeOut[l] = list
		return false
	}
	s.placeOut[l] = append(list, t)
	return true
}

// placeHash hashes the fields of an entry that cross a link, and how
// far it may go.
func placeHash(p protocol.PlaceOp, hops uint8) [32]byte {
	return sha256.Sum256(fmt.Appendf(nil, "%d\x00%d\x00%s\x00%s\x00%s\x00%s\x00%d\x00%s\x00%s", hops, p.Kind, p.Name, p.Where, p.Hours,
		strings.Join(p.Languages, ","), p.Flags, p.Contact, p.Notes))
}

// reconcilePlaces brings what this node's link ends sent about the zone's
// shared entries (and those that came over a link with hops left) up to
// date. What the pace does not allow now is left for redialLoop.
func (e *linkEnds) reconcilePlaces(ctx context.Context, z *zone) {
	e.state.mu.Lock()
	defer e.state.mu.Unlock()
	st := z.SharedPlaces(e.id.ID())
	mine, entries, gone := st.Mine, st.Entries, st.Gone // gone: links entries came over that are no longer active
	behind := false
	for _, l := range mine {
		for _, p := range entries {
			hops, origin := p.Hops, l.Name
			if p.Linked() {
				if p.Link == l.ID || p.Via.Hops <= 1 {
					continue // not back where it came from; no hops left
				}
				hops, origin = p.Via.Hops-1, p.Via.Origin
			}
			d := p.Digest()
			s := e.state.place(l.ID, d)
			// An entry whose link ended is withdrawn further on too.
			if !p.Retired && hops > 0 && !gone[p.Link] {
				h := placeHash(p.PlaceOp, hops)
				if s.content == h && !s.retired {
					continue
				}
				if !e.state.allowPlaceOut(l.ID, e.node.now()) {
					behind = true
					continue
				}
				op := p.PlaceOp
				op.Op, op.Share, op.Hops = protocol.PlaceAdd, false, 0
				if e.sendEndorsement(ctx, z, l, &protocol.Alert{Kind: protocol.KindPlace, Status: protocol.StatusActual, Place: &op}, d, hops, origin) {
					s.content, s.retired = h, false
				}
				continue
			}
			// Retired, or no longer shared: the copy over there ends.
			if s.retired {
				continue
			}
			if !e.state.allowPlaceOut(l.ID, e.node.now()) {
				behind = true
				continue
			}
			op := &protocol.PlaceOp{ID: p.ID, Op: protocol.PlaceRetire}
			if e.sendEndorsement(ctx, z, l, &protocol.Alert{Kind: protocol.KindPlace, Status: protocol.StatusActual, Place: op}, d, max(hops, 1), origin) {
				s.retired = true
			}
		}
	}
	if e.state.placesBehind == nil {
		e.state.placesBehind = map[*zone]bool{}
	}
	e.state.placesBehind[z] = behind
}

// placesBehind lists the zones whose shared entries wait for the pace.
func (e *linkEnds) placesBehind() []*zone {
	e.state.mu.Lock()
	defer e.state.mu.Unlock()
	var out []*zone
	for z, b := range e.state.placesBehind {
		if b {
			out = append(out, z)
		}
	}
	return out
}

// relayPlace publishes in this zone an entry (or its retirement) that the
// other end of l sent, under the ID its digest gives. An entry enters a
// zone once: none that is the zone's own or came over another link, no
// add not signed later than the one applied or that changes nothing, no
// retire of what is not here.
func (e *linkEnds) relayPlace(ctx context.Context, z *zone, l *protocol.Link, t *protocol.Alert) error {
	d := t.Via.Digest
	id := d.LinkedPlaceID()
	cur, exists, own := z.LinkedEntry(d)
	if own || (exists && cur.Link != l.ID) {
		return nil // already here, as the zone's own or from another link
	}
	if t.Status != protocol.StatusActual {
		return fmt.Errorf("%w: a safe place crosses a link as actual, never as an exercise", protocol.ErrEnum)
	}
	switch t.Place.Op {
	case protocol.PlaceAdd:
		if exists && (cur.Retired || !t.Via.At.After(cur.Via.At) || placeHash(cur.PlaceOp, cur.Via.Hops) == placeHash(*t.Place, t.Via.Hops)) {
			return nil
		}
	case protocol.PlaceRetire:
		if !exists || cur.Retired {
			return nil
		}
	default:
		return fmt.Errorf("%w: only an add or a retire of a place crosses a link", protocol.ErrEnum)
	}
	a := e.node.newAlert(protocol.KindPlace, false, protocol.MaxLifetime)
	op := *t.Place
	op.ID = id
	a.Place, a.Via = &op, t.Via
	err := z.CheckDoc(a)
	if err != nil {
		return fmt.Errorf("%w: %w", protocol.ErrLink, err)
	}
	if _, err := e.node.publish(ctx, z, a); err != nil {
		return fmt.Errorf("relay place into zone: %w", err)
	}
	return nil
}
