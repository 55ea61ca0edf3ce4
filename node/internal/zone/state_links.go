package zone

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"lookout/crypto"
	"lookout/node/api"
	"lookout/protocol"
)

// A zone's links and documents as the node asks for them: each method
// takes the State's lock itself (methods named ...Locked expect it held).
// The links returned are the fold's own (protocol.FoldLinks): never
// changed once folded, a refold makes new ones; callers must not change
// them.

// ZoneCards returns the zone's folded card set for lang, if it has one
// (Docs.Cards), under s.mu.
func (s *State) ZoneCards(lang string) (ZoneCards, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fold.Docs.Cards(lang)
}

// CheckCards checks a card set a (kind 15) against the zone's documents
// (Docs.CheckDoc) and returns, from the same state, the zone's current
// set in a's language (zero if none), under s.mu.
func (s *State) CheckCards(a *protocol.Alert) (ZoneCards, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, _ := s.fold.Docs.Cards(a.Cards.Lang)
	return cur, s.fold.Docs.CheckDoc(a)
}

// CheckDoc checks a zone document a against the zone's documents
// (Docs.CheckDoc), under s.mu.
func (s *State) CheckDoc(a *protocol.Alert) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fold.Docs.CheckDoc(a)
}

// Place returns a live directory entry (Docs.Place), under s.mu.
func (s *State) Place(id protocol.PlaceID) (Place, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fold.Docs.Place(id)
}

// Places lists the live directory entries f selects, confirmed ones
// first (Docs.Places), under s.mu.
func (s *State) Places(f PlaceFilter) []Place {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fold.Docs.Places(f)
}

// PlaceFrom is a directory entry with the name of the linked zone it came
// from ("" for the zone's own).
type PlaceFrom struct {
	Place
	From string
}

// PlacesFrom lists the live directory entries f selects, as Places, but
// without those of a link that is no longer active (the zone ended the
// link: its entries go with it), each with the name of the linked zone it
// came from (LinkPeer), under s.mu.
func (s *State) PlacesFrom(f PlaceFilter) []PlaceFrom {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.fold.Docs.Places(f)
	out := make([]PlaceFrom, 0, len(ps))
	for _, p := range ps {
		if p.Linked() && !s.fold.Links[p.Link].Active() {
			continue
		}
		out = append(out, PlaceFrom{Place: p, From: s.linkPeerLocked(p.Link)})
	}
	return out
}

// FirstShareable returns the first live entry, in Places order, that can
// be shared over links (Place.Shareable), under s.mu.
func (s *State) FirstShareable() (Place, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.fold.Docs.Places(PlaceFilter{}) {
		if p.Shareable() {
			return p, true
		}
	}
	return Place{}, false
}

// LinkedEntry returns what the zone holds of an entry that crosses links
// with digest d: the entry (live or retired) under the ID the digest gives
// (protocol.Digest.LinkedPlaceID) and whether there is one, and whether d
// is the digest of one of the zone's own entries; under s.mu.
func (s *State) LinkedEntry(d protocol.Digest) (cur Place, exists, own bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, exists = s.fold.Docs.Entry(d.LinkedPlaceID())
	return cur, exists, s.fold.Docs.Own(d)
}

// LinkPeer returns the name of the zone at the other end of link id, as
// this zone's link state has it: "" for the zero ID, the link ID's first
// 8 characters for a link the zone no longer knows; under s.mu.
func (s *State) LinkPeer(id protocol.LinkID) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.linkPeerLocked(id)
}

// linkPeerLocked is LinkPeer for callers holding s.mu.
func (s *State) linkPeerLocked(id protocol.LinkID) string {
	if id.IsZero() {
		return ""
	}
	if l := s.fold.Links[id]; l != nil && l.Peer != "" {
		return l.Peer
	}
	return id.String()[:8] // a link this node no longer knows: its ID
}

// Link returns the zone's link id (offered, active or ended), nil if the
// zone has none, under s.mu.
func (s *State) Link(id protocol.LinkID) *protocol.Link {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fold.Links[id]
}

// Links lists the zone's links, ended ones included, ordered by ID, under
// s.mu.
func (s *State) Links() []*protocol.Link {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*protocol.Link, 0, len(s.fold.Links))
	for _, l := range s.fold.Links {
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b *protocol.Link) int { return strings.Compare(a.ID.String(), b.ID.String()) })
	return out
}

// ActiveLinks counts the zone's active links, under s.mu.
func (s *State) ActiveLinks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, l := range s.fold.Links {
		if l.Active() {
			n++
		}
	}
	return n
}

// FindLink resolves a link of the zone named zone (for the error) by ID,
// unique ID prefix (8+ hex characters) or unique peer name of a link not
// ended, under s.mu. It fails with api.ErrInvalid (link.ambiguous) or
// api.ErrNotFound (link.notfound).
func (s *State) FindLink(ref, zone string) (*protocol.Link, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ref = strings.TrimSpace(ref)
	var found *protocol.Link
	for _, l := range s.fold.Links {
		id := l.ID.String()
		if id == ref || (len(ref) >= 8 && strings.HasPrefix(id, strings.ToLower(ref))) || (l.Peer != "" && l.Peer == ref && !l.Ended) {
			if found != nil && found != l {
				return nil, api.Fail(api.ErrInvalid, "link.ambiguous", "Ref", api.Quote(ref))
			}
			found = l
		}
	}
	if found == nil {
		return nil, api.Fail(api.ErrNotFound, "link.notfound", "Ref", api.Quote(ref), "Zone", api.Quote(zone))
	}
	return found, nil
}

// Endorser is the zone validator's hook (protocol.Validator.Endorser):
// the key this zone accepted for the other end of active link id, if
// relay is this zone's end of it; under s.mu.
func (s *State) Endorser(id protocol.LinkID, relay crypto.MemberID) (*crypto.PublicKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.fold.Links[id]
	switch {
	case !l.Active():
		return nil, fmt.Errorf("%w: %s", protocol.ErrLink, id)
	case l.Endpoint != relay:
		return nil, fmt.Errorf("%w: relayed by %s, not this zone's end of the link", protocol.ErrNotAllowed, relay)
	}
	return l.PeerKey, nil
}

// sharedLocked reports whether a root with share digest d (DigestOf) is
// in the zone (Rules.Check refuses a second crossing). Callers hold s.mu.
func (s *State) sharedLocked(d protocol.Digest) bool { return s.rootOfLocked(d) != nil }

// rootOfLocked returns the root with share digest d (DigestOf), nil if the
// zone holds none (it holds at most one: sharedLocked). Callers hold s.mu.
func (s *State) rootOfLocked(d protocol.Digest) *protocol.Message {
	for _, r := range s.msgs.Roots {
		if DigestOf(r) == d {
			return r
		}
	}
	return nil
}

// DigestOf names a root on every link: the digest it came with, or the
// digest of its own ID.
func DigestOf(m *protocol.Message) protocol.Digest {
	if m.Alert.Via != nil {
		return m.Alert.Via.Digest
	}
	return protocol.ShareDigest(m.ID)
}

// RemovedSince reports whether a member of the roster was removed at or
// after t, under s.mu.
func (s *State) RemovedSince(t time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.fold.Roster.Members {
		if m.Removed && !m.RemovedAt.Before(t) {
			return true
		}
	}
	return false
}

// EndsLink reports whether member me offered a link of the zone that has
// not ended, or is the end of an active one, under s.mu.
func (s *State) EndsLink(me crypto.MemberID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.fold.Links {
		if l.OfferedBy == me && !l.Ended || l.Active() && l.Endpoint == me {
			return true
		}
	}
	return false
}

// LinksAt returns the zone's active links whose end is member me, ordered
// by ID, under s.mu.
func (s *State) LinksAt(me crypto.MemberID) []*protocol.Link {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.linksAtLocked(me)
}

// linksAtLocked is LinksAt for callers holding s.mu.
func (s *State) linksAtLocked(me crypto.MemberID) []*protocol.Link {
	var out []*protocol.Link
	for _, l := range s.fold.Links {
		if l.Active() && l.Endpoint == me {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b *protocol.Link) int { return strings.Compare(a.ID.String(), b.ID.String()) })
	return out
}

// LinkRecorded returns, once a link record r is stored, the zone's link
// r.ID (nil if none) and, if r is an accept that made the link active
// with member me as its end, the IDs of every root the zone holds (what
// that end may now have to share); under s.mu.
func (s *State) LinkRecorded(r *protocol.LinkRecord, me crypto.MemberID) (*protocol.Link, []protocol.AlertID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.fold.Links[r.ID]
	var roots []protocol.AlertID
	if r.Op == protocol.LinkAccept && l.Active() && l.Endpoint == me {
		for id := range s.msgs.Roots {
			roots = append(roots, id)
		}
	}
	return l, roots
}

// LinkShare is what a link end needs, from one state, to bring what it
// sent about one alert up to date (ShareOf).
type LinkShare struct {
	Mine []*protocol.Link // the zone's active links this member ends, by ID (LinksAt)
	// Card is the card the alert belongs to, as of now.
	Card Card
	Root *protocol.Message // the card's named root (its ID on every link); nil if not held
	// Hops is the most hops any counted share of the card's roots asks
	// for: a share (kind 14) whose sender is not removed and whose status
	// is its root's.
	Hops   uint8
	Policy protocol.AutoShare // the zone's setting
}

// ShareOf returns what member me's link ends need to reconcile alert
// target as of now, and whether target belongs to a card; under s.mu.
func (s *State) ShareOf(target protocol.AlertID, me crypto.MemberID, now time.Time) (LinkShare, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := LinkShare{Mine: s.linksAtLocked(me), Policy: s.fold.Roster.Settings.AutoShare}
	c, ok := s.alertsLocked().CardOf(target, now)
	if !ok {
		return out, false
	}
	out.Card = c
	// The card's ID (its incident's first sighting, or the callout)
	// names it on every link.
	if id, err := protocol.ParseAlertID(c.View.ID); err == nil {
		out.Root = s.msgs.Roots[id]
	}
	for _, id := range c.Roots {
		m := s.msgs.Roots[id]
		for _, u := range s.msgs.Updates[id] {
			if u.Alert.Kind == protocol.KindShare && !s.fold.Roster.Removed(u.Alert.Sender) && u.Alert.Status == m.Alert.Status {
				out.Hops = max(out.Hops, u.Alert.Hops)
			}
		}
	}
	return out, true
}

// Crossing is what a zone holds of an alert crossing into it over a link
// (CrossingOf).
type Crossing struct {
	Root    *protocol.Message // the root with the crossing's digest, nil if none
	Cleared bool              // the root's card is cleared as of now
	// Latest is the newest link time (Forward.At) of the root, if it came
	// over a link, and of its updates of the crossing's kind that came
	// over the same link.
	Latest time.Time
}

// CrossingOf returns what the zone holds of an endorsement of kind kind
// with digest d from the other end of link: the root with that digest
// (DigestOf), whether its card is cleared, and the newest link time seen;
// under s.mu.
func (s *State) CrossingOf(d protocol.Digest, link protocol.LinkID, kind protocol.Kind, now time.Time) Crossing {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Crossing{Root: s.rootOfLocked(d)}
	root := out.Root
	if root == nil {
		return out
	}
	if c, ok := s.alertsLocked().CardOf(root.ID, now); ok {
		out.Cleared = c.View.State == string(protocol.StateCleared)
	}
	if root.Alert.Via != nil {
		out.Latest = root.Alert.Via.At
	}
	for _, u := range s.msgs.Updates[root.ID] {
		if u.Alert.Via != nil && u.Alert.Via.Link == link && u.Alert.Kind == kind && u.Alert.Via.At.After(out.Latest) {
			out.Latest = u.Alert.Via.At
		}
	}
	return out
}

// PlaceShares is what a link end needs, from one state, to bring what it
// sent about the zone's shared entries up to date (SharedPlaces).
type PlaceShares struct {
	Mine    []*protocol.Link         // the zone's active links this member ends, by ID (LinksAt)
	Entries []Place                  // Docs.Shared
	Gone    map[protocol.LinkID]bool // links entries came over that are no longer active
}

// SharedPlaces returns what member me's link ends need to reconcile the
// zone's shared entries, under s.mu.
func (s *State) SharedPlaces(me crypto.MemberID) PlaceShares {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := PlaceShares{Mine: s.linksAtLocked(me), Entries: s.fold.Docs.Shared(), Gone: map[protocol.LinkID]bool{}}
	for _, p := range out.Entries {
		if p.Linked() && !s.fold.Links[p.Link].Active() {
			out.Gone[p.Link] = true
		}
	}
	return out
}

// Envelopes returns the envelope of every message the zone holds: alerts
// and updates (Messages.Enveloped), then governance; under s.mu.
func (s *State) Envelopes() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][]byte
	for _, e := range s.msgs.Enveloped(func(Enveloped) bool { return true }) {
		out = append(out, e.Env)
	}
	for _, g := range s.gov {
		out = append(out, g.Env)
	}
	return out
}
