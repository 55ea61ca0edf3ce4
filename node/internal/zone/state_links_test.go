package zone

import (
	"errors"
	"slices"
	"testing"
	"time"

	"lookout/crypto"
	"lookout/node/api"
	"lookout/protocol"
)

// A zone's links and documents asked of its State: what the node's link
// ends and control API verbs read, each under the State's lock.

// newLinkState is an empty zone state founded by f's founder.
func newLinkState(f *fixture) *State {
	s := NewStateFrom(Membership{Root: f.founder.Public()}, Record{})
	return &s
}

// linkSet is a zone's links: la and lz active with me as their end, lb
// active with another end, lc ended (same peer name as la), ld an offer
// me made, lp an offer made by another.
type linkSet struct {
	me, other              crypto.MemberID
	key                    *crypto.PublicKey
	la, lz, lb, lc, ld, lp *protocol.Link
}

func newLinkSet(f *fixture) linkSet {
	me, other, key := f.identity(2).ID(), f.identity(3).ID(), f.identity(9).Public()
	at := f.now.Add(-time.Hour)
	active := func(id protocol.LinkID, peer string, end crypto.MemberID) *protocol.Link {
		return &protocol.Link{ID: id, Name: "North", Peer: peer, PeerKey: key, Endpoint: end, Since: at, Accepted: true}
	}
	ls := linkSet{me: me, other: other, key: key,
		la: active(protocol.LinkID{0xa1, 0, 0, 0, 1}, "Villeray", me),
		lz: active(protocol.LinkID{0x0f}, "Anjou", me),
		lb: active(protocol.LinkID{0xa1, 0, 0, 0, 2}, "Rosemont", other),
		ld: &protocol.Link{ID: protocol.LinkID{0xd4}, Name: "North", OfferedBy: me, Offered: at, Until: f.now.Add(time.Hour)},
		lp: &protocol.Link{ID: protocol.LinkID{0xe5}, Name: "North", OfferedBy: other, Offered: at, Until: f.now.Add(time.Hour)},
	}
	ls.lc = active(protocol.LinkID{0xc1}, "Villeray", me)
	ls.lc.Ended, ls.lc.EndedAt = true, at.Add(time.Minute)
	return ls
}

func (ls linkSet) install(s *State, links ...*protocol.Link) {
	s.fold.Links = map[protocol.LinkID]*protocol.Link{}
	for _, l := range links {
		s.fold.Links[l.ID] = l
	}
}

func TestStateLinks(t *testing.T) {
	f := newFixture(t)
	s := newLinkState(f)
	ls := newLinkSet(f)
	if s.Link(ls.la.ID) != nil || len(s.Links()) != 0 || s.ActiveLinks() != 0 || s.EndsLink(ls.me) || len(s.LinksAt(ls.me)) != 0 {
		t.Fatal("a zone with no links has some")
	}
	ls.install(s, ls.la, ls.lz, ls.lb, ls.lc, ls.ld, ls.lp)

	if got := s.Links(); !slices.Equal(got, []*protocol.Link{ls.lz, ls.la, ls.lb, ls.lc, ls.ld, ls.lp}) {
		t.Errorf("Links() = %v, want every link by ID", got)
	}
	if s.Link(ls.lc.ID) != ls.lc || s.Link(protocol.LinkID{0x99}) != nil {
		t.Error("Link: the ended link not found, or an unknown one found")
	}
	if n := s.ActiveLinks(); n != 3 {
		t.Errorf("ActiveLinks() = %d, want 3", n)
	}
	if got := s.LinksAt(ls.me); !slices.Equal(got, []*protocol.Link{ls.lz, ls.la}) {
		t.Errorf("LinksAt(me) = %v, want the active links me ends, by ID", got)
	}
	if got := s.LinksAt(ls.other); !slices.Equal(got, []*protocol.Link{ls.lb}) {
		t.Errorf("LinksAt(other) = %v", got)
	}

	// LinkPeer: the zero ID names none; an unknown link shows its ID.
	for id, want := range map[protocol.LinkID]string{{}: "", ls.la.ID: "Villeray", ls.ld.ID: ls.ld.ID.String()[:8], {0x77}: "77000000"} {
		if got := s.LinkPeer(id); got != want {
			t.Errorf("LinkPeer(%s) = %q, want %q", id, got, want)
		}
	}

	// FindLink: by ID, 8+ character prefix, or the peer name of a link
	// not ended.
	for ref, want := range map[string]*protocol.Link{
		ls.lb.ID.String(): ls.lb, " " + ls.lb.ID.String() + " ": ls.lb, "A1000000010": ls.la, "0f000000": ls.lz,
		"Villeray": ls.la, "Rosemont": ls.lb,
	} {
		if got, err := s.FindLink(ref, "North"); err != nil || got != want {
			t.Errorf("FindLink(%q) = %v, %v; want %s", ref, got, err, want.ID)
		}
	}
	for ref, want := range map[string]error{"a1000000": api.ErrInvalid, "a1": api.ErrNotFound, "Outremont": api.ErrNotFound, "": api.ErrNotFound} {
		if _, err := s.FindLink(ref, "North"); !errors.Is(err, want) {
			t.Errorf("FindLink(%q) = %v, want %v", ref, err, want)
		}
	}

	// EndsLink: an offer not ended, or the end of an active link.
	if !s.EndsLink(ls.me) || !s.EndsLink(ls.other) {
		t.Error("EndsLink: a link end not seen")
	}
	ls.install(s, ls.lc, ls.lp)
	if s.EndsLink(ls.me) {
		t.Error("EndsLink: an ended link, or another's offer, counted")
	}
	ended := *ls.ld
	ended.Ended = true
	ls.install(s, &ended)
	if s.EndsLink(ls.me) {
		t.Error("EndsLink: a withdrawn offer counted")
	}
}

// TestStateEndorser: only the key of an active link, relayed by its end.
func TestStateEndorser(t *testing.T) {
	f := newFixture(t)
	s := newLinkState(f)
	ls := newLinkSet(f)
	ls.install(s, ls.la, ls.lc, ls.ld)
	if k, err := s.Endorser(ls.la.ID, ls.me); err != nil || k != ls.key {
		t.Errorf("Endorser(active, its end) = %v, %v", k, err)
	}
	if _, err := s.Endorser(ls.la.ID, ls.other); !errors.Is(err, protocol.ErrNotAllowed) {
		t.Errorf("relayed by another member: %v, want ErrNotAllowed", err)
	}
	for _, id := range []protocol.LinkID{ls.lc.ID, ls.ld.ID, {0x99}} {
		if _, err := s.Endorser(id, ls.me); !errors.Is(err, protocol.ErrLink) {
			t.Errorf("Endorser(%s) = %v, want ErrLink (ended, offered or unknown)", id, err)
		}
	}
}

// TestStateLinkRecorded: the roots held are listed for the new end of a
// link just accepted, for nothing else.
func TestStateLinkRecorded(t *testing.T) {
	f := newFixture(t)
	s := newLinkState(f)
	ls := newLinkSet(f)
	ls.install(s, ls.la, ls.lb, ls.lc)
	ada := f.identity(4)
	adaC := f.cert(f.founder, ada, protocol.RoleMember)
	r1, r2 := f.sighting(ada, adaC, "Main St", f.now), f.sighting(ada, adaC, "Harbour Rd", f.now)
	s.msgs.Add(r1, nil)
	s.msgs.Add(r2, nil)
	s.msgs.Add(f.update(protocol.KindConfirm, ada, adaC, protocol.RoleMember, r1.ID, f.now), nil)

	l, roots := s.LinkRecorded(&protocol.LinkRecord{Op: protocol.LinkAccept, ID: ls.la.ID}, ls.me)
	slices.SortFunc(roots, func(a, b protocol.AlertID) int { return slices.Compare(a[:], b[:]) })
	if l != ls.la || !slices.Equal(roots, []protocol.AlertID{r1.ID, r2.ID}) {
		t.Errorf("accept of my link: %v, roots %v; want la and both roots", l, roots)
	}
	for name, c := range map[string]struct {
		r  *protocol.LinkRecord
		me crypto.MemberID
		l  *protocol.Link
	}{
		"another's end":         {&protocol.LinkRecord{Op: protocol.LinkAccept, ID: ls.lb.ID}, ls.me, ls.lb},
		"not my end":            {&protocol.LinkRecord{Op: protocol.LinkAccept, ID: ls.la.ID}, ls.other, ls.la},
		"ended":                 {&protocol.LinkRecord{Op: protocol.LinkAccept, ID: ls.lc.ID}, ls.me, ls.lc},
		"an end, not an accept": {&protocol.LinkRecord{Op: protocol.LinkEnd, ID: ls.la.ID}, ls.me, ls.la},
		"unknown link":          {&protocol.LinkRecord{Op: protocol.LinkAccept, ID: protocol.LinkID{0x99}}, ls.me, nil},
	} {
		if l, roots := s.LinkRecorded(c.r, c.me); l != c.l || roots != nil {
			t.Errorf("%s: %v, roots %v; want %v and none", name, l, roots, c.l)
		}
	}
}

func TestStateRemovedSince(t *testing.T) {
	f := newFixture(t)
	s := newLinkState(f)
	if s.RemovedSince(f.now.Add(-time.Hour)) {
		t.Fatal("nobody removed")
	}
	bo := f.identity(3).ID()
	s.fold.Roster.Members[bo] = &protocol.MemberInfo{ID: bo, Removed: true, RemovedAt: f.now}
	for at, want := range map[time.Time]bool{f.now.Add(-time.Minute): true, f.now: true, f.now.Add(time.Minute): false} {
		if got := s.RemovedSince(at); got != want {
			t.Errorf("RemovedSince(%s) = %v, want %v", at, got, want)
		}
	}
}

// TestStateCrossing: what relaying an endorsement needs: the root by
// digest, whether its card is cleared, the newest link time of its kind
// over that link.
func TestStateCrossing(t *testing.T) {
	f := newFixture(t)
	s := newLinkState(f)
	ls := newLinkSet(f)
	ls.install(s, ls.la, ls.lb)
	ada := f.identity(4)
	adaC := f.cert(f.founder, ada, protocol.RoleMember)
	now := f.now.Add(time.Hour)

	own := f.sighting(ada, adaC, "Main St", f.now)
	dg := protocol.Digest{0xd1}
	came := f.msg(protocol.KindCallout, f.founder, f.rootCrt, protocol.RoleOrganizer, 0, f.now)
	came.Alert.Title, came.Alert.Area, came.Alert.Need = "Vigil", "Main St", 5
	came.Alert.Via = &protocol.Forward{Link: ls.la.ID, Digest: dg, Hops: 1, At: f.now.Add(-time.Minute)}
	via := func(kind protocol.Kind, link protocol.LinkID, at time.Time) *protocol.Message {
		m := f.update(kind, f.founder, f.rootCrt, protocol.RoleOrganizer, came.ID, f.now.Add(time.Minute))
		m.Alert.Via = &protocol.Forward{Link: link, Digest: dg, Hops: 1, At: at}
		return m
	}
	for _, m := range []*protocol.Message{own, came,
		via(protocol.KindCallout, ls.la.ID, f.now.Add(2*time.Minute)),
		via(protocol.KindTally, ls.la.ID, f.now.Add(3*time.Minute)),
		via(protocol.KindCallout, ls.lb.ID, f.now.Add(9*time.Minute)), // another link
		f.update(protocol.KindCallout, f.founder, f.rootCrt, protocol.RoleOrganizer, came.ID, f.now.Add(8*time.Minute)),
	} {
		s.msgs.Add(m, nil)
	}

	if got := DigestOf(own); got != protocol.ShareDigest(own.ID) {
		t.Errorf("DigestOf(own root) = %s, want its share digest", got)
	}
	if got := DigestOf(came); got != dg {
		t.Errorf("DigestOf(root from a link) = %s, want the digest it came with", got)
	}
	s.mu.Lock()
	shared := s.sharedLocked(dg) && s.sharedLocked(protocol.ShareDigest(own.ID)) && !s.sharedLocked(protocol.Digest{0xd2})
	s.mu.Unlock()
	if !shared {
		t.Error("sharedLocked: a held root not found, or one not held found")
	}

	c := s.CrossingOf(dg, ls.la.ID, protocol.KindCallout, now)
	if c.Root != came || c.Cleared || !c.Latest.Equal(f.now.Add(2*time.Minute)) {
		t.Errorf("callout over la: root %v, cleared %v, latest %s; want the callout, not cleared, its update's link time", c.Root, c.Cleared, c.Latest)
	}
	if c := s.CrossingOf(dg, ls.la.ID, protocol.KindTally, now); !c.Latest.Equal(f.now.Add(3 * time.Minute)) {
		t.Errorf("tally over la: latest %s, want the tally's link time", c.Latest)
	}
	if c := s.CrossingOf(dg, ls.lb.ID, protocol.KindTally, now); !c.Latest.Equal(f.now.Add(-time.Minute)) {
		t.Errorf("tally over lb: latest %s, want the root's own link time", c.Latest)
	}
	c = s.CrossingOf(protocol.ShareDigest(own.ID), ls.la.ID, protocol.KindClear, now)
	if c.Root != own || c.Cleared || !c.Latest.IsZero() {
		t.Errorf("own root: %+v", c)
	}
	if c := s.CrossingOf(protocol.Digest{0xd2}, ls.la.ID, protocol.KindSighting, now); c != (Crossing{}) {
		t.Errorf("unknown digest: %+v, want nothing", c)
	}
	clear := f.update(protocol.KindClear, ada, adaC, protocol.RoleMember, own.ID, f.now.Add(time.Minute))
	clear.Alert.Reason = protocol.ClearRetracted
	s.msgs.Add(clear, nil)
	if c := s.CrossingOf(protocol.ShareDigest(own.ID), ls.la.ID, protocol.KindClear, now); c.Root != own || !c.Cleared {
		t.Errorf("cleared root: %+v, want cleared", c)
	}
}

// TestStateShareOf: the card of an alert, its named root and the hops its
// counted shares ask for, with the links this member ends.
func TestStateShareOf(t *testing.T) {
	f := newFixture(t)
	s := newLinkState(f)
	ls := newLinkSet(f)
	ls.install(s, ls.la, ls.lz, ls.lb)
	s.fold.Roster.Settings.AutoShare = protocol.AutoShareAll
	ada, bo := f.identity(4), f.identity(5)
	adaC, boC := f.cert(f.founder, ada, protocol.RoleMember), f.cert(f.founder, bo, protocol.RoleOrganizer)
	s.fold.Roster.Members[bo.ID()] = &protocol.MemberInfo{ID: bo.ID(), Removed: true, RemovedAt: f.now.Add(time.Hour)}
	first := f.sighting(ada, adaC, "Main St", f.now)
	second := f.sighting(ada, adaC, "Main St", f.now.Add(time.Minute))
	share := func(who *crypto.Identity, leaf *protocol.Cert, ref protocol.AlertID, hops uint8, status protocol.Status) *protocol.Message {
		m := f.update(protocol.KindShare, who, leaf, protocol.RoleOrganizer, ref, f.now.Add(2*time.Minute))
		m.Alert.Hops, m.Alert.Status = hops, status
		return m
	}
	for _, m := range []*protocol.Message{first, second,
		share(f.founder, f.rootCrt, second.ID, 2, protocol.StatusActual),
		share(f.founder, f.rootCrt, first.ID, 1, protocol.StatusActual),
		share(bo, boC, first.ID, 3, protocol.StatusActual),                // removed since
		share(f.founder, f.rootCrt, first.ID, 4, protocol.StatusExercise), // not its root's status
	} {
		s.msgs.Add(m, nil)
	}
	now := f.now.Add(3 * time.Minute)
	st, ok := s.ShareOf(second.ID, ls.me, now)
	if !ok || st.Root != first || len(st.Card.Roots) != 2 || st.Hops != 2 || st.Policy != protocol.AutoShareAll {
		t.Errorf("ShareOf(second) = root %v, %d roots, hops %d, policy %v, %v; want the incident's first, 2, 2, all", st.Root, len(st.Card.Roots), st.Hops, st.Policy, ok)
	}
	if !slices.Equal(st.Mine, []*protocol.Link{ls.lz, ls.la}) {
		t.Errorf("Mine = %v, want the active links me ends, by ID", st.Mine)
	}
	if st.Card.View.ID != first.ID.String() || st.Card.View.Zone != "" || st.Card.View.ZoneName != "" {
		t.Errorf("view: ID %s, zone %q %q; want the incident's first, no zone", st.Card.View.ID, st.Card.View.Zone, st.Card.View.ZoneName)
	}
	st, ok = s.ShareOf(protocol.AlertID{0x99}, ls.other, now)
	if ok || st.Root != nil || st.Hops != 0 || !slices.Equal(st.Mine, []*protocol.Link{ls.lb}) {
		t.Errorf("ShareOf(unknown) = %+v, %v; want no card, the links still listed", st, ok)
	}
}

// TestStatePlaces: the directory as the control API and the link ends
// read it.
func TestStatePlaces(t *testing.T) {
	f := newDocFixture(t)
	s := newLinkState(f.fixture)
	me := f.org.ID()
	t0 := f.now
	s.fold.Links = map[protocol.LinkID]*protocol.Link{
		linkA: {ID: linkA, Peer: "Villeray", Endpoint: me, Accepted: true},
		linkC: {ID: linkC, Peer: "Rosemont", Endpoint: me, Accepted: true, Ended: true},
	}
	shareable := func(m *protocol.Message) *protocol.Message { m.Alert.Place.Share = true; return m }
	dgA, dgC := digestN(1), digestN(2)
	msgs := []*protocol.Message{
		f.place("ver", protocol.PlaceAdd, 2, "Local clinic", t0),
		shareable(f.place("ver", protocol.PlaceAdd, 1, "Food bank", t0)),
		shareable(f.place("mem", protocol.PlaceSuggest, 3, "A suggestion", t0)),
		f.place("ver", protocol.PlaceAdd, 4, "Gone", t0),
		f.place("ver", protocol.PlaceRetire, 4, "", t0.Add(time.Minute)),
		f.share("org", 1, 2, t0.Add(time.Minute)),
		f.linked(linkA, dgA, protocol.PlaceAdd, "Their food bank", t0, t0),
		f.linked(linkC, dgC, protocol.PlaceAdd, "Ended link's", t0, t0),
		f.cards("fr", 3, protocol.CardsAdd, "trois", t0),
	}
	s.fold.Docs.Fold(msgs)

	from := map[string]string{}
	for _, p := range s.PlacesFrom(PlaceFilter{}) {
		from[p.Name] = p.From
	}
	want := map[string]string{"Food bank": "", "Local clinic": "", "A suggestion": "", "Their food bank": "Villeray"}
	if len(from) != len(want) {
		t.Errorf("PlacesFrom = %v, want %v (not the ended link's entry, not the retired one)", from, want)
	}
	for name, w := range want {
		if got, ok := from[name]; !ok || got != w {
			t.Errorf("PlacesFrom: %q from %q (%v), want from %q", name, got, ok, w)
		}
	}
	if got := names(s.Places(PlaceFilter{Text: "food"})); !slices.Equal(got, []string{"Food bank", "Their food bank"}) {
		t.Errorf("Places(food) = %v", got)
	}
	if p, ok := s.FirstShareable(); !ok || p.ID != (protocol.PlaceID{1}) {
		t.Errorf("FirstShareable() = %v, %v; want the food bank", p.Name, ok)
	}
	if p, ok := s.Place(protocol.PlaceID{2}); !ok || p.Name != "Local clinic" {
		t.Errorf("Place(2) = %+v, %v", p, ok)
	}
	if _, ok := s.Place(protocol.PlaceID{4}); ok {
		t.Error("Place: a retired entry found")
	}

	if cur, exists, own := s.LinkedEntry(dgA); !exists || own || cur.Name != "Their food bank" || cur.Link != linkA {
		t.Errorf("LinkedEntry(from la) = %+v, %v, %v", cur.Name, exists, own)
	}
	if _, exists, own := s.LinkedEntry(protocol.PlaceDigest(protocol.PlaceID{1})); exists || !own {
		t.Errorf("LinkedEntry(own digest) = exists %v, own %v; want the zone's own", exists, own)
	}
	if _, exists, own := s.LinkedEntry(digestN(3)); exists || own {
		t.Error("LinkedEntry: an unknown digest found")
	}

	ps := s.SharedPlaces(me)
	if len(ps.Mine) != 1 || ps.Mine[0].ID != linkA {
		t.Errorf("SharedPlaces: mine %v, want la", ps.Mine)
	}
	if !slices.EqualFunc(ps.Entries, s.fold.Docs.Shared(), func(a, b Place) bool { return a.ID == b.ID }) || len(ps.Entries) != 3 {
		t.Errorf("SharedPlaces: entries %v, want Docs.Shared (the food bank, both linked)", names(ps.Entries))
	}
	if len(ps.Gone) != 1 || !ps.Gone[linkC] {
		t.Errorf("SharedPlaces: gone %v, want the ended link", ps.Gone)
	}

	if c, ok := s.ZoneCards("fr"); !ok || c.Revision != 3 {
		t.Errorf("ZoneCards(fr) = %+v, %v", c, ok)
	}
	if _, ok := s.ZoneCards("es"); ok {
		t.Error("ZoneCards: a language the zone has none in")
	}
	next := f.cards("fr", 4, protocol.CardsReplace, "quatre", t0.Add(time.Hour))
	if cur, err := s.CheckCards(next.Alert); err != nil || cur.Revision != 3 {
		t.Errorf("CheckCards = revision %d, %v; want the current 3, allowed", cur.Revision, err)
	}
	if cur, err := s.CheckCards(f.cards("es", 1, protocol.CardsAdd, "uno", t0).Alert); err != nil || cur.Revision != 0 {
		t.Errorf("CheckCards(new language) = revision %d, %v", cur.Revision, err)
	}
	if err := s.CheckDoc(f.linked(linkA, protocol.PlaceDigest(protocol.PlaceID{1}), protocol.PlaceAdd, "Food bank", t0, t0).Alert); !errors.Is(err, ErrPlaceLooped) {
		t.Errorf("CheckDoc(own entry back over a link) = %v, want ErrPlaceLooped", err)
	}
}

func TestStateEnvelopes(t *testing.T) {
	f := newFixture(t)
	s := newLinkState(f)
	ada := f.identity(4)
	adaC := f.cert(f.founder, ada, protocol.RoleMember)
	s.msgs.Add(f.sighting(ada, adaC, "Main St", f.now), []byte("alert"))
	s.msgs.Add(f.sighting(ada, adaC, "Harbour Rd", f.now), nil) // this node's own, no envelope
	g := f.grant(adaC, f.now, false)
	s.gov[g.ID] = &GovMsg{Msg: g, Env: []byte("gov")}
	got := []string{}
	for _, e := range s.Envelopes() {
		got = append(got, string(e))
	}
	if !slices.Equal(got, []string{"alert", "gov"}) {
		t.Errorf("Envelopes() = %q, want the alert's then the governance message's", got)
	}
}

// TestStateLinksLock: the methods take the State's lock (run with -race).
func TestStateLinksLock(t *testing.T) {
	f := newFixture(t)
	s := newLinkState(f)
	ls := newLinkSet(f)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 200 {
			s.mu.Lock()
			ls.install(s, ls.la, ls.lb, ls.lc)
			s.fold.Docs.Fold(nil)
			s.mu.Unlock()
		}
	}()
	for range 200 {
		s.Links()
		s.LinksAt(ls.me)
		s.EndsLink(ls.me)
		s.ActiveLinks()
		s.LinkPeer(ls.la.ID)
		s.FindLink("Villeray", "North")
		s.Endorser(ls.la.ID, ls.me)
		s.SharedPlaces(ls.me)
		s.PlacesFrom(PlaceFilter{})
	}
	<-done
}
