package zone

import (
	"reflect"
	"testing"
	"time"

	"lookout/crypto"
	"lookout/node/api"
	"lookout/protocol"
)

// alertsOf builds the state views fold from: roots, and updates by ref.
func alertsOf(s protocol.Settings, roster *protocol.Roster, msgs ...*protocol.Message) Alerts {
	a := Alerts{ZoneID: "z", ZoneName: "north", Roots: map[protocol.AlertID]*protocol.Message{},
		Updates: map[protocol.AlertID][]*protocol.Message{}, Settings: s, Roster: roster,
		Links: map[protocol.LinkID]*protocol.Link{}}
	for _, m := range msgs {
		if m.Alert.IsRoot() {
			a.Roots[m.ID] = m
		} else {
			a.Updates[m.Alert.Ref] = append(a.Updates[m.Alert.Ref], m)
		}
	}
	return a
}

func (f *fixture) sighting(who *crypto.Identity, leaf *protocol.Cert, area string, sent time.Time) *protocol.Message {
	m := f.msg(protocol.KindSighting, who, leaf, protocol.RoleMember, 0, sent)
	m.Alert.Area, m.Alert.What = area, "two vans"
	return m
}

func (f *fixture) update(kind protocol.Kind, who *crypto.Identity, leaf *protocol.Cert, role protocol.Role, ref protocol.AlertID, sent time.Time) *protocol.Message {
	m := f.msg(kind, who, leaf, role, 0, sent)
	m.Alert.Ref = ref
	return m
}

// TestCardsFold: incidents group reports of one place, confirmations count
// towards the quorum, a verifier's confirm verifies.
func TestCardsFold(t *testing.T) {
	f := newFixture(t)
	ada, bo, vi := f.identity(2), f.identity(3), f.identity(6)
	adaC, boC, viC := f.cert(f.founder, ada, protocol.RoleMember), f.cert(f.founder, bo, protocol.RoleMember), f.cert(f.founder, vi, protocol.RoleVerifier)
	s := protocol.DefaultSettings()
	s.Corroborations = 2
	first := f.sighting(ada, adaC, "Main St", f.now)
	second := f.sighting(bo, boC, "Main St", f.now.Add(time.Minute))
	elsewhere := f.sighting(bo, boC, "Harbour Rd", f.now.Add(time.Minute))
	now := f.now.Add(2 * time.Minute)

	cards := alertsOf(s, nil, first).Cards(now)
	if len(cards) != 1 || cards[0].View.State != string(protocol.StateUnconfirmed) || *cards[0].View.Confirmations != 1 {
		t.Fatalf("one report: %+v", cards)
	}
	cards = alertsOf(s, nil, first, second, elsewhere).Cards(now)
	if len(cards) != 2 {
		t.Fatalf("three reports in two places: %d cards, want 2", len(cards))
	}
	c, ok := alertsOf(s, nil, first, second, elsewhere).CardOf(second.ID, now)
	if !ok || len(c.Roots) != 2 || c.View.State != string(protocol.StateCorroborated) || *c.View.Confirmations != 2 {
		t.Errorf("two witnesses of Main St: roots %d, state %s, confirmations %d; want 2, corroborated, 2", len(c.Roots), c.View.State, *c.View.Confirmations)
	}
	confirm := f.update(protocol.KindConfirm, vi, viC, protocol.RoleVerifier, first.ID, f.now.Add(90*time.Second))
	c, _ = alertsOf(s, nil, first, confirm).CardOf(first.ID, now)
	if c.View.State != string(protocol.StateVerified) || !c.View.Verified || len(c.View.VerifiedBy) != 1 {
		t.Errorf("confirmed by a verifier: %s verified=%v by %v", c.View.State, c.View.Verified, c.View.VerifiedBy)
	}
	clear := f.update(protocol.KindClear, ada, adaC, protocol.RoleMember, first.ID, f.now.Add(100*time.Second))
	clear.Alert.Reason = protocol.ClearRetracted
	c, _ = alertsOf(s, nil, first, clear).CardOf(first.ID, now)
	if c.View.State != string(protocol.StateCleared) {
		t.Errorf("cleared by its reporter: %s", c.View.State)
	}
	if _, ok := alertsOf(s, nil, first).CardOf(elsewhere.ID, now); ok {
		t.Error("CardOf found an alert the zone does not hold")
	}
}

// TestCardsRemoval: nothing a removed member sent counts: their report is
// not shown and their confirm does not corroborate.
func TestCardsRemoval(t *testing.T) {
	f := newFixture(t)
	ada, bo := f.identity(2), f.identity(3)
	adaC, boC := f.cert(f.founder, ada, protocol.RoleMember), f.cert(f.founder, bo, protocol.RoleMember)
	s := protocol.DefaultSettings()
	s.Corroborations = 2
	roster := &protocol.Roster{Members: map[crypto.MemberID]*protocol.MemberInfo{bo.ID(): {ID: bo.ID(), Removed: true, RemovedAt: f.now}}}
	mine := f.sighting(ada, adaC, "Main St", f.now)
	theirs := f.sighting(bo, boC, "Harbour Rd", f.now)
	confirm := f.update(protocol.KindConfirm, bo, boC, protocol.RoleMember, mine.ID, f.now.Add(time.Second))
	cards := alertsOf(s, roster, mine, theirs, confirm).Cards(f.now.Add(time.Minute))
	if len(cards) != 1 || cards[0].Roots[0] != mine.ID {
		t.Fatalf("cards with a removed member's report: %+v", cards)
	}
	if v := cards[0].View; v.State != string(protocol.StateUnconfirmed) || *v.Confirmations != 1 {
		t.Errorf("confirmed only by a removed member: %s, %d confirmations", v.State, *v.Confirmations)
	}
}

// TestCalloutTallies: a callout's responders add each link's latest tally.
func TestCalloutTallies(t *testing.T) {
	f := newFixture(t)
	ada := f.identity(2)
	adaC := f.cert(f.founder, ada, protocol.RoleMember)
	call := f.msg(protocol.KindCallout, f.founder, f.rootCrt, protocol.RoleOrganizer, 0, f.now)
	call.Alert.Title, call.Alert.Area, call.Alert.Need = "court watch", "County court", 3
	resp := f.update(protocol.KindRespond, ada, adaC, protocol.RoleMember, call.ID, f.now.Add(time.Second))
	resp.Alert.Response = protocol.ResponseEnRoute
	tally := func(link byte, at time.Duration, enroute uint16) *protocol.Message {
		m := f.update(protocol.KindTally, f.founder, f.rootCrt, protocol.RoleOrganizer, call.ID, f.now.Add(at))
		m.Alert.Via = &protocol.Forward{Link: protocol.LinkID{link}, At: f.now.Add(at), Hops: 1}
		m.Alert.Tally = protocol.Tally{EnRoute: enroute}
		return m
	}
	a := alertsOf(protocol.DefaultSettings(), nil, call, resp, tally(1, 2*time.Second, 5), tally(1, 3*time.Second, 2), tally(2, 2*time.Second, 4))
	a.Links[protocol.LinkID{1}] = &protocol.Link{Peer: "south"}
	c, ok := a.CardOf(call.ID, f.now.Add(time.Minute))
	if !ok {
		t.Fatal("callout not shown")
	}
	if r := c.View.Responders; r == nil || r.EnRoute != 1 {
		t.Errorf("own responders %+v, want 1 en route (linked ones apart)", r)
	}
	// Link 2 reported 4 for a need of 3: capped; the sum is capped too.
	want := []api.LinkedTally{
		{Zone: "south", Reporter: f.founder.ID().String(), Responders: api.Responders{EnRoute: 2}},
		{Zone: "", Reporter: f.founder.ID().String(), Responders: api.Responders{EnRoute: 3}, Capped: true},
	}
	if !reflect.DeepEqual(c.View.Linked, want) {
		t.Errorf("linked %+v, want %+v", c.View.Linked, want)
	}
	if l := c.View.LinkedResponders; l == nil || l.EnRoute != 3 {
		t.Errorf("linked sum %+v, want 3 en route (the need)", l)
	}
}

// TestHostileTally (issue 18, point 2): a linked zone that reports 10000
// responders for a callout without a need shows at most
// api.MaxLinkedResponders, apart from the zone's own and marked capped.
func TestHostileTally(t *testing.T) {
	f := newFixture(t)
	call := f.msg(protocol.KindCallout, f.founder, f.rootCrt, protocol.RoleOrganizer, 0, f.now)
	call.Alert.Title, call.Alert.Area = "court watch", "County court"
	tally := f.update(protocol.KindTally, f.founder, f.rootCrt, protocol.RoleOrganizer, call.ID, f.now.Add(time.Second))
	tally.Alert.Via = &protocol.Forward{Link: protocol.LinkID{9}, At: f.now.Add(time.Second), Hops: 1}
	tally.Alert.Tally = protocol.Tally{EnRoute: 10000, OnScene: 10000}
	a := alertsOf(protocol.DefaultSettings(), nil, call, tally)
	a.Links[protocol.LinkID{9}] = &protocol.Link{Peer: "Junction"}
	c, ok := a.CardOf(call.ID, f.now.Add(time.Minute))
	if !ok {
		t.Fatal("callout not shown")
	}
	v := c.View
	if v.Responders == nil || v.Responders.EnRoute != 0 || v.Responders.OnScene != 0 {
		t.Errorf("own responders %+v, want none", v.Responders)
	}
	if len(v.Linked) != 1 || v.Linked[0].Zone != "Junction" || !v.Linked[0].Capped ||
		v.Linked[0].EnRoute != api.MaxLinkedResponders || v.Linked[0].OnScene != api.MaxLinkedResponders {
		t.Errorf("linked %+v, want Junction capped at %d", v.Linked, api.MaxLinkedResponders)
	}
}
